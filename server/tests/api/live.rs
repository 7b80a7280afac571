//! Several processes on one database, as replicas behind a load balancer are: what one writes,
//! the others apply at once (Postgres LISTEN/NOTIFY), although they cache sessions and access.

use crate::helpers::{PASSWORD, TestApp, client, session_cookie, settings_for, spawn_app};
use atrium::startup::Application;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::time::{Duration, Instant};

/// A pool of its own on the test's database: what another process would have.
async fn another_pool(db: &PgPool) -> PgPool {
    PgPoolOptions::new().max_connections(4).connect_with(db.connect_options().as_ref().clone()).await.expect("connects")
}

/// A second replica of the app: the same settings and user pool, its own pool, caches and
/// LISTEN connection.
async fn second_replica(app: &TestApp) -> String {
    let replica = Application::build_with(settings_for(&app.identity), another_pool(&app.db).await, &app.sdk).await.expect("builds");
    let address = format!("http://127.0.0.1:{}", replica.port());
    tokio::spawn(replica.run());
    address
}

/// GET with this session cookie only (no cookie store): (status, redirect target).
async fn get_with_session(address: &str, path: &str, session: &str) -> (u16, String) {
    let response =
        client().get(format!("{address}{path}")).header("cookie", format!("atrium_session={session}")).send().await.expect("sent");
    (response.status().as_u16(), crate::helpers::location(&response))
}

/// Retries `check` for up to a second: notifications arrive a moment after the commit.
async fn within_a_second(mut check: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[sqlx::test(migrations = "../migrations")]
async fn a_change_the_worker_writes_reaches_an_open_workspace_page_within_a_second(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-live-feed", "key-live-feed-01").await;
    let id = id.as_str().expect("an id").to_owned();

    let mut stream = app.get(&format!("/events/workspaces/{id}")).await;
    assert_eq!(stream.status().as_u16(), 200);
    let mut received = String::new();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.expect("the current state at once");
    received.push_str(&String::from_utf8_lossy(&first.expect("bytes").expect("a chunk")));
    assert!(received.contains("requested"), "{received}");

    // The worker of another process (its own pool) provisions the workspace.
    let worker = atrium::startup::worker(another_pool(&app.db).await, &app.sdk).expect("the worker builds");
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");
    let settled = Instant::now();
    while !received.contains("\"available\"") {
        let left = Duration::from_secs(1).saturating_sub(settled.elapsed());
        let chunk = tokio::time::timeout(left, stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no event within a second of the change; got {received}"));
        received.push_str(&String::from_utf8_lossy(&chunk.expect("bytes").expect("a chunk")));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_out_on_one_replica_ends_the_session_on_the_other(db: PgPool) {
    let app = spawn_app(db).await;
    let other = second_replica(&app).await;
    let response = app.sign_in("ada", PASSWORD).await;
    let session = session_cookie(&response).expect("a session cookie");

    // Both replicas have now read (and cached) the session.
    assert_eq!(get_with_session(&app.address, "/teams", &session).await.0, 200);
    assert_eq!(get_with_session(&other, "/teams", &session).await.0, 200);

    let signed_out =
        client().post(format!("{other}/auth/sign-out")).header("cookie", format!("atrium_session={session}")).send().await.expect("sent");
    assert!(signed_out.status().is_redirection());
    let ended = within_a_second(async || get_with_session(&app.address, "/teams", &session).await.1.starts_with("/?next=")).await;
    assert!(ended, "the first replica still honours a session signed out on the second");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_access_change_written_elsewhere_applies_to_the_next_request(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.sign_in("ada", PASSWORD).await;
    let session = session_cookie(&response).expect("a session cookie");
    assert_eq!(get_with_session(&app.address, "/teams/climate", &session).await.0, 200);

    // Another process (an admin on another replica, say) takes ada off Climate Modelling.
    let elsewhere = another_pool(&app.db).await;
    sqlx::query("DELETE FROM team_memberships WHERE username = 'ada' AND team_slug = 'climate'")
        .execute(&elsewhere)
        .await
        .expect("deleted");
    let refused = within_a_second(async || get_with_session(&app.address, "/teams/climate", &session).await.0 == 403).await;
    assert!(refused, "ada still enters a team she was taken off");
    assert_eq!(get_with_session(&app.address, "/teams/genomics", &session).await.0, 200, "her other team is untouched");
}

#[sqlx::test(migrations = "../migrations")]
async fn reading_pages_does_not_write_the_session_but_activity_keeps_it_alive(db: PgPool) {
    // An idle timeout of 8 s: the session is written at most every 2 s of activity.
    let app = crate::helpers::spawn_app_with(db, |settings| settings.http.session_idle_seconds = 8).await;
    let response = app.sign_in("ada", PASSWORD).await;
    let session = session_cookie(&response).expect("a session cookie");
    let expiry = async || -> time::OffsetDateTime {
        sqlx::query_scalar("SELECT expiry_date FROM tower_sessions.session WHERE id = $1")
            .bind(&session)
            .fetch_one(&app.db)
            .await
            .expect("the session is stored")
    };
    let signed_in = expiry().await;
    for _ in 0..5 {
        assert_eq!(get_with_session(&app.address, "/teams", &session).await.0, 200);
    }
    assert_eq!(expiry().await, signed_in, "reading pages straight after sign-in writes nothing");

    // Active for longer than the idle timeout: still signed in, the expiry pushed back.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(get_with_session(&app.address, "/teams", &session).await.0, 200, "an active user stays signed in");
    }
    assert!(expiry().await > signed_in + time::Duration::seconds(8), "activity pushes the expiry back");

    // Idle for longer than the timeout: signed out.
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert!(get_with_session(&app.address, "/teams", &session).await.1.starts_with("/?next="), "an idle session ends");
}

#[sqlx::test(migrations = "../migrations")]
async fn costs_synced_by_another_process_reach_the_cached_dashboard(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("carol", PASSWORD).await;
    let (status, before) = app.get_text("/costs?days=7").await;
    assert_eq!(status, 200);
    assert!(!before.contains("$1,234.00"));

    // The worker of another process syncs $1,234 of spend for Genomics Lab.
    let elsewhere = another_pool(&app.db).await;
    sqlx::query("INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros) VALUES ('genomics', current_date, '', '', 1234000000)")
        .execute(&elsewhere)
        .await
        .expect("synced");
    let shown = within_a_second(async || app.get_text("/costs?days=7").await.1.contains("$1,234.00")).await;
    assert!(shown, "the dashboard still shows what it cached before the sync");
}

#[sqlx::test(migrations = "../migrations")]
async fn spend_synced_by_another_process_reaches_the_cached_team_pages(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-spender", "key-spender-0001").await;
    let id = id.as_str().expect("an id").to_owned();
    // Both pages as cached before the sync.
    let (_, home) = app.get_text("/teams/genomics").await;
    let (_, catalog) = app.get_text("/teams/genomics/catalog").await;
    assert!(!home.contains("$1,234.00") && catalog.contains("has no budget set"), "{catalog}");

    // The worker of another process syncs $1,234 of spend for ada's workspace.
    let elsewhere = another_pool(&app.db).await;
    sqlx::query("INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros) VALUES ('genomics', current_date, $1, 'ada', 1234000000)")
        .bind(&id)
        .execute(&elsewhere)
        .await
        .expect("synced");
    let my_spend = within_a_second(async || app.get_text("/teams/genomics").await.1.contains("$1,234.00")).await;
    assert!(my_spend, "the team home still shows the spend it cached before the sync");
    let month = within_a_second(async || app.get_text("/teams/genomics/catalog").await.1.contains("it has spent $1,234.00")).await;
    assert!(month, "the launch form still shows the month it cached before the sync");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_replica_told_to_stop_ends_its_live_streams_with_a_retry_hint_and_exits(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    let response = app.sign_in("ada", PASSWORD).await;
    let session = session_cookie(&response).expect("a session cookie");
    let (_, id) = app.launch("genomics", configuration, "ada-shutdown", "key-shutdown-001").await;
    let id = id.as_str().expect("an id").to_owned();

    // A replica of its own, stopped by a signal the test sends (SIGTERM in production).
    let replica = Application::build_with(settings_for(&app.identity), another_pool(&app.db).await, &app.sdk).await.expect("builds");
    let address = format!("http://127.0.0.1:{}", replica.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(replica.run_until(async move {
        let _ = stopped.await;
    }));
    let mut stream = client()
        .get(format!("{address}/events/workspaces/{id}"))
        .header("cookie", format!("atrium_session={session}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(stream.status().as_u16(), 200);
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await.expect("the current state at once");
    assert!(String::from_utf8_lossy(&first.expect("bytes").expect("a chunk")).contains("requested"));

    let _ = stop.send(());
    let mut rest = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(chunk)) = stream.chunk().await {
            rest.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends on shutdown; got {rest}");
    assert!(rest.contains("retry: 500"), "with a hint to reconnect: {rest}");
    let exited = tokio::time::timeout(Duration::from_secs(5), running).await;
    assert!(matches!(exited, Ok(Ok(Ok(())))), "the replica exits once its requests are done");
    assert!(client().get(format!("{address}/healthz")).send().await.is_err(), "and accepts no more connections");
}
