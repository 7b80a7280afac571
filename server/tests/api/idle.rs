//! Idle auto-stop through the real CloudWatch API (moto): metrics are put into the team's
//! account for the workstation's instance, and the idle check reads them back.

use crate::helpers::{TestApp, audit_rows, call, invalid_fields, spawn_app};
use atrium::aws::cloudwatch::CloudWatchMetrics;
use atrium::services::idle::check_idle_workspaces;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

const GENOMICS_ROLE: &str = "arn:aws:iam::111111111111:role/AtriumPortalAccess";

/// An available workstation of ada's on genomics (idle policy: 60 min, CPU < 5 %) that
/// became available three hours ago; (workspace id, instance id).
async fn idle_candidate(app: &TestApp, name: &str) -> (String, String) {
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", &format!("Idle {name}")).await;
    launched_idle(app, configuration, name, "InstanceId").await
}

/// Ada's workspace of `configuration` on genomics, available for three hours and warned about
/// twenty minutes ago (a stop never comes without a warning); (workspace id, its `output`).
async fn launched_idle(app: &TestApp, configuration: i64, name: &str, output: &str) -> (String, String) {
    let ada = app.client_signed_in_as("ada").await;
    let (status, id) = call(
        app,
        &ada,
        "launch_workspace",
        &[
            ("team", "genomics"),
            ("configuration_id", &configuration.to_string()),
            ("name", name),
            ("launch_key", &format!("idle-test-{name}")),
        ],
    )
    .await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_str().expect("an id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    sqlx::query("UPDATE workspace_events SET at = at - interval '3 hours' WHERE workspace_id = $1")
        .bind(&id)
        .execute(&app.db)
        .await
        .expect("backdated");
    sqlx::query("UPDATE workspaces SET stop_warned_at = now() - interval '20 minutes' WHERE id = $1")
        .bind(&id)
        .execute(&app.db)
        .await
        .expect("warned");
    let value: String = sqlx::query_scalar("SELECT outputs->>$2 FROM workspaces WHERE id = $1")
        .bind(&id)
        .bind(output)
        .fetch_one(&app.db)
        .await
        .expect("output");
    (id, value)
}

/// CPU datapoints every five minutes over the last `minutes`, in the team's account.
async fn put_cpu(app: &TestApp, instance: &str, minutes: i64, percent: f64) {
    let account = crate::helpers::in_team_account(&app.sdk, GENOMICS_ROLE, "test-metrics").await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&account);
    let now = OffsetDateTime::now_utc();
    let data: Vec<MetricDatum> = (0..=minutes / 5)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(Dimension::builder().name("InstanceId").value(instance).build())
                .timestamp(DateTime::from_secs((now - Duration::minutes(i * 5)).unix_timestamp()))
                .value(percent)
                .build()
        })
        .collect();
    cloudwatch.put_metric_data().namespace("AWS/EC2").set_metric_data(Some(data)).send().await.expect("metrics put");
}

async fn state(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT state FROM workspaces WHERE id = $1").bind(id).fetch_one(&app.db).await.expect("state")
}

#[sqlx::test(migrations = "../migrations")]
async fn an_idle_workstation_is_stopped_exactly_once_and_says_why(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let (id, instance) = idle_candidate(&app, "idle-one").await;
    put_cpu(&app, &instance, 65, 2.0).await;
    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    let now = OffsetDateTime::now_utc();

    // Two checks at once (two workers): one stop.
    let (first, second) = tokio::join!(check_idle_workspaces(&db, &metrics, now), check_idle_workspaces(&db, &metrics, now));
    let stopped = [first.expect("check runs"), second.expect("check runs")].concat();
    assert_eq!(stopped, std::slice::from_ref(&id));
    assert_eq!(state(&app, &id).await, "stopping");
    let message: String = sqlx::query_scalar("SELECT message FROM workspace_events WHERE workspace_id = $1 AND to_state = 'stopping'")
        .bind(&id)
        .fetch_one(&db)
        .await
        .expect("one stopping event");
    assert_eq!(message, "stopped: idle 60 min, CPU < 5 %");
    assert_eq!(audit_rows(&db, "atrium", "workspace.stop", "success").await, 1);
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "stopped", "the stop runs through Service Catalog");

    // Stopped ten hours at the configuration's $0.20 an hour: $2.00 saved this month.
    sqlx::query("UPDATE workspace_events SET at = now() - interval '10 hours' WHERE workspace_id = $1 AND to_state = 'stopping'")
        .bind(&id)
        .execute(&db)
        .await
        .expect("backdated");
    let grace = app.client_signed_in_as("grace").await;
    let (_, costs) = call(&app, &grace, "costs", &[("days", "30")]).await;
    let saved = costs["auto_stop_saved_cents"].as_i64().expect("savings");
    let into_month = OffsetDateTime::now_utc() - OffsetDateTime::now_utc().replace_day(1).expect("day").replace_time(time::Time::MIDNIGHT);
    if into_month >= Duration::hours(11) {
        assert_eq!(saved, 200, "{costs}");
    } else {
        assert!((1..=200).contains(&saved), "only this month's part counts: {costs}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_recent_connect_missing_metrics_or_a_busy_cpu_keep_it_running(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let metrics = CloudWatchMetrics::new(app.sdk.clone());

    let (connected, instance) = idle_candidate(&app, "connected").await;
    put_cpu(&app, &instance, 65, 2.0).await;
    let ada = app.client_signed_in_as("ada").await;
    let response = ada.post(format!("{}/workspaces/{connected}/connect", app.address)).send().await.expect("connect");
    assert_eq!(response.status().as_u16(), 303, "Connect leads to the workstation's URL");

    let (unmeasured, _) = idle_candidate(&app, "unmeasured").await;

    let (busy, instance) = idle_candidate(&app, "busy").await;
    put_cpu(&app, &instance, 65, 40.0).await;

    let stopped = check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check runs");
    assert!(stopped.is_empty(), "{stopped:?}");
    for id in [&connected, &unmeasured, &busy] {
        assert_eq!(state(&app, id).await, "available");
    }
    let last_busy: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT last_busy_at FROM workspaces WHERE id = $1").bind(&busy).fetch_one(&db).await.expect("row");
    assert!(last_busy.is_some(), "the busy minute is remembered");
}

#[sqlx::test(migrations = "../migrations")]
async fn keep_running_holds_off_the_stop_until_it_ends(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let (id, instance) = idle_candidate(&app, "snoozed").await;
    put_cpu(&app, &instance, 65, 2.0).await;
    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    let ada = app.client_signed_in_as("ada").await;

    let (status, _) = call(&app, &ada, "keep_running", &[("id", &id), ("hours", "3")]).await;
    assert_eq!(status, 400, "1, 4 or 8 hours only");
    let alan = app.client_signed_in_as("alan").await;
    let (status, _) = call(&app, &alan, "keep_running", &[("id", &id), ("hours", "4")]).await;
    assert_eq!(status, 403, "not alan's workspace");
    let (status, body) = call(&app, &ada, "keep_running", &[("id", &id), ("hours", "4")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audit_rows(&db, "ada", "workspace.keep_running", "success").await, 1);
    let (_, view) = call(&app, &ada, "workspace", &[("id", &id)]).await;
    assert_eq!(view["kept_running"], true, "{view}");
    assert!(view["stops_at"].as_str().is_some_and(|at| at.ends_with("UTC")), "{view}");

    assert!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check").is_empty());
    assert_eq!(state(&app, &id).await, "available");

    // Kept running until half an hour ago, and warned again since: now it stops.
    sqlx::query("UPDATE workspaces SET keep_running_until = now() - interval '30 minutes', stop_warned_at = now() - interval '20 minutes' WHERE id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("ended");
    assert_eq!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check"), std::slice::from_ref(&id));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_sets_a_configurations_idle_policy_with_field_errors_for_bad_values(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Policy test").await.to_string();
    let grace = app.client_signed_in_as("grace").await;

    let (status, body) = call(
        &app,
        &grace,
        "admin/set_idle_policy",
        &[("configuration_id", &configuration), ("idle_stop_after", "5"), ("idle_cpu_percent", "95")],
    )
    .await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["idle_stop_after".to_string(), "idle_cpu_percent".to_string()]), "{body}");
    let (status, body) = call(
        &app,
        &grace,
        "admin/set_idle_policy",
        &[("configuration_id", &configuration), ("idle_stop_after", "120"), ("idle_cpu_percent", "10")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let idle = &body["draft"]["idle"];
    assert_eq!((idle["stop_after_minutes"].as_u64(), idle["cpu_percent"].as_u64()), (Some(120), Some(10)), "{body}");
    let (status, _) = call(&app, &grace, "admin/set_idle_policy", &[("configuration_id", "999999"), ("idle_stop_after", "never")]).await;
    assert_eq!(status, 404);
    assert_eq!(audit_rows(&db, "grace", "catalog.idle_policy", "success").await, 1);

    let ada = app.client_signed_in_as("ada").await;
    let (status, _) =
        call(&app, &ada, "admin/set_idle_policy", &[("configuration_id", &configuration), ("idle_stop_after", "never")]).await;
    assert_eq!(status, 403);
    let (_, catalog) = call(&app, &ada, "team_catalog", &[("slug", "genomics")]).await;
    let item = catalog["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["id"].as_i64() == configuration.parse().ok())
        .cloned()
        .expect("offered");
    assert_eq!(item["draft"]["idle"]["stop_after_minutes"], 120, "the launch form shows the new policy");
}

fn at(rfc3339: &str) -> OffsetDateTime {
    OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).expect("a time")
}

#[sqlx::test(migrations = "../migrations")]
async fn the_nightly_stop_fires_at_the_teams_local_time_across_a_dst_change(db: PgPool) {
    // Berlin is UTC+1 until 29 March 2026 02:00, then UTC+2: 20:00 there is 19:00Z, then 18:00Z.
    for (now, last) in [
        ("2026-03-28T19:30:00Z", "2026-03-28T19:00:00Z"),
        ("2026-03-29T18:30:00Z", "2026-03-29T18:00:00Z"),
        ("2026-03-29T17:30:00Z", "2026-03-28T19:00:00Z"),
        ("2026-10-25T19:30:00Z", "2026-10-25T19:00:00Z"),
    ] {
        let computed: OffsetDateTime = sqlx::query_scalar("SELECT last_local_time($1, 'Europe/Berlin', '20:00')")
            .bind(at(now))
            .fetch_one(&db)
            .await
            .expect("computed");
        assert_eq!(computed, at(last), "at {now}");
    }

    let app = spawn_app(db.clone()).await;
    let grace = app.client_signed_in_as("grace").await;
    let team = |zone: &'static str| {
        vec![
            ("slug", "genomics"),
            ("name", "Genomics Lab"),
            ("aws_account_id", "111111111111"),
            ("role_arn", GENOMICS_ROLE),
            ("time_zone", zone),
        ]
    };
    let (status, body) = call(&app, &grace, "admin/update_team", &team("Mars/Olympus_Mons")).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["time_zone".to_string()]), "{body}");
    let (status, body) = call(&app, &grace, "admin/update_team", &team("Europe/Berlin")).await;
    assert_eq!(status, 200, "{body}");

    let (id, _) = idle_candidate(&app, "nightly").await;
    let configuration: i64 =
        sqlx::query_scalar("SELECT configuration_id FROM workspaces WHERE id = $1").bind(&id).fetch_one(&db).await.expect("row");
    let (status, body) = call(
        &app,
        &grace,
        "admin/set_idle_policy",
        &[("configuration_id", &configuration.to_string()), ("idle_stop_after", "never"), ("idle_nightly_stop", "20:00")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    sqlx::query("UPDATE workspace_events SET at = '2026-03-29T10:00:00Z' WHERE workspace_id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("backdated");
    sqlx::query("UPDATE workspaces SET stop_warned_at = '2026-03-29T17:40:00Z' WHERE id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("warned");
    let metrics = CloudWatchMetrics::new(app.sdk.clone());

    // 19:30 in Berlin on the day the clocks went forward: not yet.
    assert!(check_idle_workspaces(&db, &metrics, at("2026-03-29T17:30:00Z")).await.expect("check").is_empty());
    // 20:05 in Berlin, which is 18:05Z now, not 19:05Z.
    assert_eq!(check_idle_workspaces(&db, &metrics, at("2026-03-29T18:05:00Z")).await.expect("check"), std::slice::from_ref(&id));
    let message: String = sqlx::query_scalar("SELECT message FROM workspace_events WHERE workspace_id = $1 AND to_state = 'stopping'")
        .bind(&id)
        .fetch_one(&db)
        .await
        .expect("stopping event");
    assert_eq!(message, "stopped: nightly stop at 20:00 Europe/Berlin");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_maximum_running_time_stops_a_busy_workspace_and_caps_keep_running(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let (id, instance) = idle_candidate(&app, "marathon").await;
    put_cpu(&app, &instance, 65, 80.0).await;
    let configuration: i64 =
        sqlx::query_scalar("SELECT configuration_id FROM workspaces WHERE id = $1").bind(&id).fetch_one(&db).await.expect("row");
    let grace = app.client_signed_in_as("grace").await;
    let policy = |max: &'static str| {
        let configuration = configuration.to_string();
        let grace = grace.clone();
        let app = &app;
        async move {
            call(
                app,
                &grace,
                "admin/set_idle_policy",
                &[("configuration_id", &configuration), ("idle_stop_after", "180"), ("idle_max_running_hours", max)],
            )
            .await
        }
    };
    let (status, body) = policy("2").await;
    assert_eq!(
        (status, invalid_fields(&body)),
        (400, vec!["idle_max_running_hours".to_string()]),
        "a maximum below the idle window: {body}"
    );
    let (status, body) = policy("4").await;
    assert_eq!(status, 200, "{body}");

    // Available for 3 h of 4: "Keep running 4 hours" ends at the maximum, an hour from now.
    let ada = app.client_signed_in_as("ada").await;
    call(&app, &ada, "keep_running", &[("id", &id), ("hours", "4")]).await;
    let capped: bool = sqlx::query_scalar("SELECT keep_running_until < now() + interval '61 minutes' FROM workspaces WHERE id = $1")
        .bind(&id)
        .fetch_one(&db)
        .await
        .expect("row");
    assert!(capped, "keep running stops at the maximum");

    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    sqlx::query("UPDATE workspaces SET keep_running_until = NULL WHERE id = $1").bind(&id).execute(&db).await.expect("reset");
    assert!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check").is_empty(), "busy, under the maximum");
    sqlx::query("UPDATE workspace_events SET at = at - interval '2 hours' WHERE workspace_id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("older");
    assert_eq!(
        check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check"),
        std::slice::from_ref(&id),
        "busy, but 5 h > 4 h"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_teams_channels_hear_of_a_stop_once_twenty_minutes_ahead(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let grace = app.client_signed_in_as("grace").await;
    let (status, body) = call(
        &app,
        &grace,
        "admin/add_notification_target",
        &[
            ("name", "Genomics channel"),
            ("platform", "slack"),
            ("team", "genomics"),
            ("webhook_url", "http://127.0.0.1:9/hooks/genomics"),
            ("events[workspace.idle_warning]", "on"),
            ("events[workspace.auto_stopped]", "on"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (id, instance) = idle_candidate(&app, "warned").await;
    put_cpu(&app, &instance, 65, 2.0).await;
    // Busy 50 minutes ago: the 60-minute window ends in 10 minutes. Not warned yet.
    sqlx::query("UPDATE workspaces SET last_busy_at = now() - interval '50 minutes', stop_warned_at = NULL WHERE id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("busy");
    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    let queued = |event: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM jobs WHERE kind = $1 AND payload->'notice'->>'event' = $2")
                .bind(atrium::jobs::Job::NOTIFICATION)
                .bind(event)
                .fetch_one(&db)
                .await
                .expect("jobs readable")
        }
    };

    for _ in 0..2 {
        assert!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check").is_empty());
    }
    assert_eq!(queued("WorkspaceIdleWarning").await, 1, "one warning for one stop");
    assert_eq!(queued("WorkspaceAutoStopped").await, 0);

    sqlx::query("UPDATE workspaces SET last_busy_at = now() - interval '70 minutes' WHERE id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("idle");
    assert!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check").is_empty(), "the warning is minutes old");
    sqlx::query("UPDATE workspaces SET stop_warned_at = now() - interval '16 minutes' WHERE id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("older");
    assert_eq!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check"), [id]);
    assert_eq!(queued("WorkspaceAutoStopped").await, 1, "the stop itself is announced");
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_out_stops_the_workspaces_the_settings_and_configuration_say(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let (first, _) = idle_candidate(&app, "sign-out-one").await;
    let configuration: i64 =
        sqlx::query_scalar("SELECT configuration_id FROM workspaces WHERE id = $1").bind(&first).fetch_one(&db).await.expect("row");
    let grace = app.client_signed_in_as("grace").await;
    let (status, body) = call(
        &app,
        &grace,
        "admin/set_idle_policy",
        &[("configuration_id", &configuration.to_string()), ("idle_stop_after", "never"), ("idle_stop_on_sign_out", "on")],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let sign_out = |client: reqwest::Client| {
        let address = app.address.clone();
        async move {
            let response = client.post(format!("{address}/auth/sign-out")).send().await.expect("sent");
            crate::helpers::location(&response)
        }
    };
    // As configured: stopped, and the signed-out page says so.
    let ada = app.client_signed_in_as("ada").await;
    assert_eq!(sign_out(ada).await, "/?stopped=1");
    assert_eq!(state(&app, &first).await, "stopping");
    assert_eq!(audit_rows(&db, "ada", "workspace.stop", "success").await, 1);

    // Her own "never" wins over the configuration.
    sqlx::query("UPDATE workspaces SET state = 'available' WHERE id = $1").bind(&first).execute(&db).await.expect("running again");
    let ada = app.client_signed_in_as("ada").await;
    let (status, body) = call(&app, &ada, "save_settings", &[("stop_on_sign_out", "sometimes")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["stop_on_sign_out".to_string()]));
    let (status, body) = call(&app, &ada, "save_settings", &[("stop_on_sign_out", "never")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sign_out(ada).await, "/");
    assert_eq!(state(&app, &first).await, "available");
}

/// Datapoints of `namespace`/`metric`, one per minute ending now, oldest first; that now.
async fn put_minutes(app: &TestApp, instance: &str, namespace: &str, metric: &str, values: &[f64]) -> OffsetDateTime {
    let account = crate::helpers::in_team_account(&app.sdk, GENOMICS_ROLE, "test-metrics").await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&account);
    let now = OffsetDateTime::now_utc();
    let n = values.len() as i64;
    let data: Vec<MetricDatum> = values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            MetricDatum::builder()
                .metric_name(metric)
                .dimensions(Dimension::builder().name("InstanceId").value(instance).build())
                .timestamp(DateTime::from_secs((now - Duration::minutes(n - 1 - i as i64) - Duration::seconds(5)).unix_timestamp()))
                .value(*value)
                .build()
        })
        .collect();
    cloudwatch.put_metric_data().namespace(namespace).set_metric_data(Some(data)).send().await.expect("metrics put");
    now
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cpu_alarm_is_raised_once_shown_and_notified_again_only_after_it_cleared(db: PgPool) {
    use atrium::services::health::check_health;
    let app = spawn_app(db.clone()).await;
    let grace = app.client_signed_in_as("grace").await;
    call(
        &app,
        &grace,
        "admin/add_notification_target",
        &[
            ("name", "Genomics health"),
            ("platform", "slack"),
            ("team", "genomics"),
            ("webhook_url", "http://127.0.0.1:9/hooks/health"),
            ("events[workspace.health]", "on"),
        ],
    )
    .await;
    let (id, instance) = idle_candidate(&app, "hot").await;
    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    let notices = || {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM jobs WHERE kind = 'notification' AND payload->'notice'->>'event' = 'WorkspaceHealth'",
            )
            .fetch_one(&db)
            .await
            .expect("jobs readable")
        }
    };

    // Hot for three minutes, a calm minute, hot for three more: checked as of each point.
    let end = put_minutes(&app, &instance, "AWS/EC2", "CPUUtilization", &[40.0, 99.0, 99.0, 99.0, 10.0, 99.0, 99.0, 99.0]).await;
    let as_of = |minutes_before_end: i64| end - Duration::minutes(minutes_before_end) + Duration::seconds(1);
    for _ in 0..2 {
        check_health(&db, &metrics, as_of(4)).await.expect("check");
    }
    assert_eq!(notices().await, 1, "raised once");
    let ada = app.client_signed_in_as("ada").await;
    let (_, view) = call(&app, &ada, "workspace", &[("id", &id)]).await;
    assert_eq!(view["health_alarms"], serde_json::json!(["Cpu"]), "{view}");
    let page = ada.get(format!("{}/workspaces/{id}", app.address)).send().await.expect("page").text().await.expect("text");
    assert!(page.contains("CPU above 95 %"), "the badge is on the page");

    check_health(&db, &metrics, as_of(3)).await.expect("check");
    let (_, view) = call(&app, &ada, "workspace", &[("id", &id)]).await;
    assert_eq!(view["health_alarms"], serde_json::json!([]), "cleared by the calm minute: {view}");
    check_health(&db, &metrics, as_of(0)).await.expect("check");
    let messages: Vec<String> =
        sqlx::query_scalar("SELECT message FROM workspace_events WHERE workspace_id = $1 AND from_state = to_state ORDER BY id")
            .bind(&id)
            .fetch_all(&db)
            .await
            .expect("events");
    assert_eq!(messages, ["alarm: CPU above 95 % for 3 min", "cleared: CPU back under 95 %", "alarm: CPU above 95 % for 3 min"]);
    assert_eq!(notices().await, 2, "raised again after it cleared");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_idle_emr_cluster_is_terminated_and_a_working_one_is_not(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let configuration = app.configuration_for_genomics("EMR cluster", "v1", "Idle Spark").await;
    let mut clusters = Vec::new();
    for name in ["idle-spark", "busy-spark"] {
        clusters.push(launched_idle(&app, configuration, name, "ClusterId").await);
    }
    let ada = app.client_signed_in_as("ada").await;
    let account = crate::helpers::in_team_account(&app.sdk, GENOMICS_ROLE, "test-metrics").await;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&account);
    let now = OffsetDateTime::now_utc();
    for ((_, cluster), busy_minute) in clusters.iter().zip([None, Some(20)]) {
        let data: Vec<MetricDatum> = (0..=13)
            .map(|i| {
                let idle = if Some(i * 5) == busy_minute { 0.0 } else { 1.0 };
                MetricDatum::builder()
                    .metric_name("IsIdle")
                    .dimensions(Dimension::builder().name("JobFlowId").value(cluster).build())
                    .timestamp(DateTime::from_secs((now - Duration::minutes(i * 5)).unix_timestamp()))
                    .value(idle)
                    .build()
            })
            .collect();
        cloudwatch.put_metric_data().namespace("AWS/ElasticMapReduce").set_metric_data(Some(data)).send().await.expect("metrics put");
    }
    let (_, view) = call(&app, &ada, "workspace", &[("id", &clusters[0].0)]).await;
    assert!(view["stops_at"].as_str().is_some(), "the page says when it goes: {view}");

    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    let stopped = check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check");
    assert_eq!(stopped, [clusters[0].0.clone()], "only the idle cluster");
    assert_eq!(state(&app, &clusters[0].0).await, "terminating");
    assert_eq!(state(&app, &clusters[1].0).await, "available");
    assert_eq!(audit_rows(&db, "atrium", "workspace.terminate", "success").await, 1);
    assert_eq!(app.work_until_settled(&app.worker(), &clusters[0].0).await, "terminated");
}

#[sqlx::test(migrations = "../migrations")]
async fn no_workspace_stops_without_a_warning_a_quarter_of_an_hour_before(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let (id, instance) = idle_candidate(&app, "unwarned").await;
    put_cpu(&app, &instance, 65, 2.0).await;
    // Idle for hours, say because its policy just changed, but never warned.
    sqlx::query("UPDATE workspaces SET stop_warned_at = NULL WHERE id = $1").bind(&id).execute(&db).await.expect("unwarned");
    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    assert!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check").is_empty(), "warned first");
    let warned: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT stop_warned_at FROM workspaces WHERE id = $1").bind(&id).fetch_one(&db).await.expect("row");
    assert!(warned.is_some());
    assert!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check").is_empty(), "too soon after the warning");
    sqlx::query("UPDATE workspaces SET stop_warned_at = now() - interval '16 minutes' WHERE id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("older");
    assert_eq!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check"), [id]);
}

/// How many e-mails moto's SES has taken in the last day (SES' `GetSendQuota`, asked over its
/// query protocol: moto does not check signatures). Only this test sends mail while it runs.
async fn sent_by_ses() -> u64 {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("moto");
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    let authorization = format!("AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/ses/aws4_request, SignedHeaders=host, Signature=0");
    let xml = reqwest::Client::new()
        .post(&endpoint)
        .header("authorization", authorization)
        .form(&[("Action", "GetSendQuota"), ("Version", "2010-12-01")])
        .send()
        .await
        .expect("moto answers")
        .text()
        .await
        .expect("text");
    let count =
        xml.split("<SentLast24Hours>").nth(1).and_then(|rest| rest.split('<').next()).unwrap_or_else(|| panic!("no count in {xml}"));
    count.trim().parse::<f64>().unwrap_or_else(|_| panic!("not a count: {count}")) as u64
}

/// Addresses of the e-mails queued so far whose subject contains `subject_has`.
async fn mailed(db: &PgPool, subject_has: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT payload->>'to' FROM jobs WHERE kind = 'mail' AND payload->>'subject' LIKE '%' || $1 || '%' ORDER BY id")
        .bind(subject_has)
        .fetch_all(db)
        .await
        .expect("jobs readable")
}

#[sqlx::test(migrations = "../migrations")]
async fn an_idle_warning_and_a_budget_alert_each_mail_the_right_person_once(db: PgPool) {
    const FROM: &str = "atrium@example.edu";
    let app = spawn_app(db.clone()).await;
    atrium::demo::verify_sender(&app.sdk, FROM).await.expect("sender verified");
    let worker = app.worker().with_mail_from(&app.sdk, Some(FROM.to_owned()));
    let send_all = || async { while worker.run_next_job().await.expect("the worker runs") == atrium::worker::Tick::Ran {} };
    app.client_signed_in_as("rosalind").await;
    let (id, instance) = idle_candidate(&app, "mailed-ws").await;
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE username = 'ada'").fetch_one(&db).await.expect("row");
    assert_eq!(email.as_deref(), Some("ada@example.edu"), "the address comes from her ID token");
    put_cpu(&app, &instance, 65, 2.0).await;
    let metrics = CloudWatchMetrics::new(app.sdk.clone());

    // The window ends in ten minutes: one warning, to ada, however often the check runs.
    sqlx::query("UPDATE workspaces SET last_busy_at = now() - interval '50 minutes', stop_warned_at = NULL WHERE id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("busy");
    for _ in 0..2 {
        check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check");
    }
    assert_eq!(mailed(&db, "mailed-ws stops at").await, ["ada@example.edu"]);
    let before = sent_by_ses().await;
    send_all().await;
    assert_eq!(sent_by_ses().await - before, 1, "SES took it");

    // A budget alert for genomics goes to its team admin, rosalind.
    let grace = app.client_signed_in_as("grace").await;
    let (status, body) = call(&app, &grace, "admin/set_budget", &[("team", "genomics"), ("amount", "0.01"), ("thresholds", "50")]).await;
    assert_eq!(status, 200, "{body}");
    atrium::services::costs::check_budgets(&db, atrium::services::costs::today()).await.expect("budgets checked");
    assert_eq!(mailed(&db, "Genomics Lab crossed 50%").await, ["rosalind@example.edu"]);
    let before = sent_by_ses().await;
    send_all().await;
    assert_eq!(sent_by_ses().await - before, 1, "SES took it");

    // ada turns workspace mail off: the next warning reaches the channels, not her inbox.
    let ada = app.client_signed_in_as("ada").await;
    let (status, body) = call(&app, &ada, "save_settings", &[("stop_on_sign_out", "as-configured"), ("mail_health", "on")]).await;
    assert_eq!(status, 200, "{body}");
    sqlx::query("UPDATE workspaces SET last_connect_at = now() - interval '50 minutes', last_busy_at = NULL WHERE id = $1")
        .bind(&id)
        .execute(&db)
        .await
        .expect("a new stretch");
    check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check");
    let warned_again: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT stop_warned_at FROM workspaces WHERE id = $1").bind(&id).fetch_one(&db).await.expect("row");
    assert!(warned_again.is_some_and(|at| at > OffsetDateTime::now_utc() - Duration::minutes(1)), "warned again");
    assert!(mailed(&db, "mailed-ws stops at").await.is_empty(), "no second e-mail for ada");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_idle_notebook_is_stopped_like_a_workstation(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let configuration = app.configuration_for_genomics("SageMaker notebook", "v1", "Idle notebook").await;
    let (id, notebook) = launched_idle(&app, configuration, "idle-notebook", "NotebookInstanceName").await;
    let account = crate::helpers::in_team_account(&app.sdk, GENOMICS_ROLE, "test-metrics").await;
    let now = OffsetDateTime::now_utc();
    let data: Vec<MetricDatum> = (0..=13)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(Dimension::builder().name("NotebookInstanceName").value(&notebook).build())
                .timestamp(DateTime::from_secs((now - Duration::minutes(i * 5)).unix_timestamp()))
                .value(1.0)
                .build()
        })
        .collect();
    aws_sdk_cloudwatch::Client::new(&account)
        .put_metric_data()
        .namespace("/aws/sagemaker/NotebookInstances")
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("metrics put");

    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    assert_eq!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check"), std::slice::from_ref(&id));
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "stopped", "through the notebook's own Stop action");
}
