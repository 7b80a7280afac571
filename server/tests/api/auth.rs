use crate::helpers::{PASSWORD, client, location, session_cookie, spawn_app, spawn_app_with};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn a_researcher_signs_in_and_sees_exactly_her_teams(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.sign_in("ada", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/teams");
    assert!(session_cookie(&response).is_some(), "a signed-in user has a session cookie");

    let (status, page) = app.get_text("/teams").await;
    assert_eq!(status, 200);
    assert!(page.contains("Genomics Lab"));
    assert!(page.contains("Climate Modelling"));
    assert!(!page.contains("Particle Physics"));
}

#[sqlx::test(migrations = "../migrations")]
async fn wrong_password_unknown_user_and_disabled_user_get_the_same_answer_and_no_session(db: PgPool) {
    let app = spawn_app(db).await;
    app.cognito().admin_disable_user().user_pool_id(&app.identity.user_pool_id).username("gus").send().await.expect("gus is disabled");

    let mut answers = Vec::new();
    for (username, password) in [("ada", "wrong-password-1A!"), ("nobody", PASSWORD), ("gus", PASSWORD)] {
        let response = app.sign_in(username, password).await;
        assert_eq!(response.status().as_u16(), 303, "{username}");
        assert!(session_cookie(&response).is_none(), "{username} must not get a session cookie");
        answers.push(location(&response));
    }
    assert_eq!(answers, vec!["/?error=signin"; 3]);

    let (status, page) = app.get_text("/?error=signin").await;
    assert_eq!(status, 200);
    assert!(page.contains("We could not sign you in with that username and password"));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_empty_form_is_answered_with_a_message_not_an_error(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.post_form("/auth/sign-in", &[("username", " "), ("next", "/teams/climate")]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/?error=missing&next=%2Fteams%2Fclimate");
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_returns_to_the_page_asked_for_but_never_to_another_site(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.post_form("/auth/sign-in", &[("username", "ada"), ("password", PASSWORD), ("next", "/teams/climate")]).await;
    assert_eq!(location(&response), "/teams/climate");

    let other = crate::helpers::client();
    let response = other
        .post(format!("{}/auth/sign-in", app.address))
        .form(&[("username", "ada"), ("password", PASSWORD), ("next", "//evil.example/")])
        .send()
        .await
        .expect("request is sent");
    assert_eq!(location(&response), "/teams");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_temporary_password_must_be_replaced_following_the_policy(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.sign_in("newbie", "TempPass-2026").await;
    assert_eq!(location(&response), "/new-password");
    let challenge_cookie = session_cookie(&response).expect("the challenge is kept in a session");

    let response = app.post_form("/auth/new-password", &[("new_password", "short"), ("confirm_password", "short")]).await;
    assert_eq!(location(&response), "/new-password?error=policy");
    let (_, page) = app.get_text("/new-password?error=policy").await;
    assert!(page.contains("at least 12 characters"), "the policy is explained");
    assert!(page.contains("a symbol"));

    let response =
        app.post_form("/auth/new-password", &[("new_password", "Newbie-Chosen-2026"), ("confirm_password", "Other-2026-xx")]).await;
    assert_eq!(location(&response), "/new-password?error=mismatch");

    let response =
        app.post_form("/auth/new-password", &[("new_password", "Newbie-Chosen-2026"), ("confirm_password", "Newbie-Chosen-2026")]).await;
    assert_eq!(location(&response), "/teams/climate", "a user with one team goes straight to it");
    let signed_in_cookie = session_cookie(&response).expect("a new session id is issued");
    assert_ne!(signed_in_cookie, challenge_cookie, "the session id is rotated at sign-in");

    let (status, page) = app.get_text("/teams/climate").await;
    assert_eq!(status, 200);
    assert!(page.contains("Climate Modelling"));

    let fresh = crate::helpers::client();
    let response = fresh
        .post(format!("{}/auth/sign-in", app.address))
        .form(&[("username", "newbie"), ("password", "Newbie-Chosen-2026")])
        .send()
        .await
        .expect("request is sent");
    assert_eq!(location(&response), "/teams/climate", "the new password works");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_new_password_form_without_a_pending_challenge_goes_back_to_sign_in(db: PgPool) {
    let app = spawn_app(db).await;
    let response =
        app.post_form("/auth/new-password", &[("new_password", "Whatever-2026-x"), ("confirm_password", "Whatever-2026-x")]).await;
    assert_eq!(location(&response), "/?error=challenge");
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_out_deletes_the_session_and_ends_the_cognito_session(db: PgPool) {
    let app = spawn_app(db).await;
    // Another Cognito session of ada's (another device): global sign-out ends it too.
    let elsewhere = app
        .cognito()
        .initiate_auth()
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .client_id(&app.identity.client_id)
        .auth_parameters("USERNAME", "ada")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("signed in elsewhere")
        .authentication_result
        .and_then(|r| r.access_token)
        .expect("access token");
    app.cognito().get_user().access_token(&elsewhere).send().await.expect("the token works before sign-out");

    let response = app.sign_in("ada", PASSWORD).await;
    assert_eq!(response.status().as_u16(), 303);
    let sessions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session").fetch_one(&app.db).await.expect("sessions are counted");
    assert_eq!(sessions, 1);

    let response = app.post_form("/auth/sign-out", &[]).await;
    assert_eq!(location(&response), "/");
    let sessions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session").fetch_one(&app.db).await.expect("sessions are counted");
    assert_eq!(sessions, 0, "the session row is deleted");

    let response = app.get("/teams").await;
    assert_eq!(location(&response), "/?next=%2Fteams");
    assert!(app.cognito().get_user().access_token(&elsewhere).send().await.is_err(), "Cognito no longer accepts ada's tokens");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_cookie_is_http_only_and_same_site_lax(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.sign_in("ada", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("atrium_session="))
        .expect("a session cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-HTTP development turns Secure off: {cookie}");
}

#[sqlx::test(migrations = "../migrations")]
async fn team_membership_is_mirrored_into_postgres_at_each_sign_in(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("ada", PASSWORD).await;
    let teams_of_ada = || async {
        sqlx::query_scalar::<_, String>("SELECT team_slug FROM team_memberships WHERE username = 'ada' ORDER BY 1")
            .fetch_all(&app.db)
            .await
            .expect("memberships load")
    };
    assert_eq!(teams_of_ada().await, vec!["climate", "genomics"]);

    app.cognito()
        .admin_remove_user_from_group()
        .user_pool_id(&app.identity.user_pool_id)
        .username("ada")
        .group_name("team-climate")
        .send()
        .await
        .expect("ada leaves climate");
    app.sign_in("ada", PASSWORD).await;
    assert_eq!(teams_of_ada().await, vec!["genomics"]);
    let (status, _) = app.get_text("/teams/climate").await;
    assert_eq!(status, 403, "a former member is refused");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_form_posted_from_another_site_is_refused(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app
        .http
        .post(format!("{}/auth/sign-in", app.address))
        .header("origin", "https://evil.example")
        .form(&[("username", "ada"), ("password", PASSWORD)])
        .send()
        .await
        .expect("request is sent");
    assert_eq!(response.status().as_u16(), 403);
    assert!(session_cookie(&response).is_none());
}

/// A test app behind a "load balancer" on 127.0.0.1, so that each request can say which
/// client address it comes from.
async fn behind_a_proxy(db: PgPool) -> crate::helpers::TestApp {
    spawn_app_with(db, |settings| settings.http.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a network")]).await
}

/// Signs in from `address` with `device` as the browser's device cookie; answers where the
/// portal sends the browser, and the response.
async fn sign_in_from(
    app: &crate::helpers::TestApp,
    address: &str,
    username: &str,
    password: &str,
    device: Option<&str>,
) -> (String, reqwest::Response) {
    let mut request = client()
        .post(format!("{}/auth/sign-in", app.address))
        .header("x-forwarded-for", address)
        .form(&[("username", username), ("password", password)]);
    if let Some(token) = device {
        request = request.header("cookie", format!("atrium_device={token}"));
    }
    let response = request.send().await.expect("sent");
    (location(&response), response)
}

/// Failed sign-ins of `username` from `address` a moment ago.
async fn earlier_failures(app: &crate::helpers::TestApp, username: &str, address: &str, count: i32) {
    sqlx::query("INSERT INTO sign_in_failures (username, client_ip) SELECT $1, $2 FROM generate_series(1, $3)")
        .bind(username)
        .bind(address)
        .bind(count)
        .execute(&app.db)
        .await
        .expect("failures recorded");
}

fn device_cookie(response: &reqwest::Response) -> Option<String> {
    response.cookies().find(|c| c.name() == "atrium_device").map(|c| c.value().to_owned())
}

#[sqlx::test(migrations = "../migrations")]
async fn guesses_slow_down_their_own_username_and_address_and_lock_out_no_one_else(db: PgPool) {
    let app = behind_a_proxy(db).await;
    let attacker = "198.51.100.66";
    for _ in 0..3 {
        assert_eq!(sign_in_from(&app, attacker, "ada", "guess-Wrong-2026", None).await.0, "/?error=signin");
    }
    // Three more guesses (recorded directly, so that the test does not race the clock): the
    // next try must wait 8 s. Even the right password, at once, is refused.
    earlier_failures(&app, "ada", attacker, 3).await;
    assert_eq!(sign_in_from(&app, attacker, "ada", "guess-Wrong-2026", None).await.0, "/?error=throttled");
    let (landing, response) = sign_in_from(&app, attacker, "ada", PASSWORD, None).await;
    assert_eq!(landing, "/?error=throttled", "guessing stays slow");
    assert!(session_cookie(&response).is_none());
    let (_, page) = app.get_text("/?error=throttled").await;
    assert!(page.contains("Too many failed sign-ins"));

    assert_eq!(sign_in_from(&app, "203.0.113.5", "ada", PASSWORD, None).await.0, "/teams", "ada elsewhere is not held back");
    assert_eq!(sign_in_from(&app, attacker, "alan", PASSWORD, None).await.0, "/teams/physics", "nor is another user from that address");

    // The audit log names the client the proxy saw, not the proxy.
    let refused: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.sign_in' AND result = 'refused' AND client_ip = $1")
            .bind(attacker)
            .fetch_one(&app.db)
            .await
            .expect("audit log read");
    assert_eq!(refused, 2);
}

#[test]
fn each_guess_after_the_first_few_waits_twice_as_long_up_to_a_quarter_of_an_hour() {
    use atrium::auth::service::wait_after;
    use std::time::Duration;
    assert_eq!(wait_after(0), Duration::ZERO);
    assert_eq!(wait_after(2), Duration::ZERO);
    assert_eq!(wait_after(3), Duration::from_secs(1));
    assert_eq!(wait_after(4), Duration::from_secs(2));
    assert_eq!(wait_after(12), Duration::from_secs(512));
    assert_eq!(wait_after(13), Duration::from_secs(900));
    assert_eq!(wait_after(i64::MAX), Duration::from_secs(900));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_browser_that_signed_in_before_is_not_held_back_by_guesses_from_its_address(db: PgPool) {
    let app = behind_a_proxy(db).await;
    let campus = "192.0.2.10";
    let (landing, response) = sign_in_from(&app, campus, "ada", PASSWORD, None).await;
    assert_eq!(landing, "/teams");
    let device = device_cookie(&response).expect("a browser that signed in gets a device cookie");

    // Someone on the same campus address guesses ada's password.
    assert_eq!(sign_in_from(&app, campus, "ada", "guess-Wrong-2026", None).await.0, "/?error=signin");
    earlier_failures(&app, "ada", campus, 5).await;
    assert_eq!(sign_in_from(&app, campus, "ada", PASSWORD, None).await.0, "/?error=throttled");
    // A forged device cookie is just another stranger.
    assert_eq!(sign_in_from(&app, campus, "ada", PASSWORD, Some(&"ab".repeat(32))).await.0, "/?error=throttled");

    let (landing, response) = sign_in_from(&app, campus, "ada", PASSWORD, Some(&device)).await;
    assert_eq!(landing, "/teams", "ada's own browser signs in");
    assert!(device_cookie(&response).is_none(), "and keeps its cookie");
}

#[sqlx::test(migrations = "../migrations")]
async fn many_usernames_from_one_address_slow_it_down_but_never_refuse_the_right_password(db: PgPool) {
    let app = behind_a_proxy(db).await;
    let nat = "198.51.100.9";
    for n in 0..20 {
        assert_eq!(sign_in_from(&app, nat, &format!("made-up-{n}"), "guess-Wrong-2026", None).await.0, "/?error=signin");
    }
    assert_eq!(sign_in_from(&app, nat, "alan", PASSWORD, None).await.0, "/teams/physics");

    // A script behind the same address tried hundreds of names: slower, still not refused.
    sqlx::query("INSERT INTO sign_in_failures (username, client_ip) SELECT 'script-' || n, $1 FROM generate_series(1, 150) n")
        .bind(nat)
        .execute(&app.db)
        .await
        .expect("failures recorded");
    let started = std::time::Instant::now();
    assert_eq!(sign_in_from(&app, nat, "grace", PASSWORD, None).await.0, "/teams");
    assert!(started.elapsed() >= std::time::Duration::from_millis(1900), "slowed down: {:?}", started.elapsed());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_allow_list_turns_away_other_networks_but_not_health_checks(db: PgPool) {
    let app = spawn_app_with(db, |settings| {
        settings.http.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a network")];
        settings.http.allowed_cidrs = vec!["192.0.2.0/24".parse().expect("a network")];
    })
    .await;
    let get = |path: &'static str, from: &'static str| {
        let request = app.http.get(format!("{}{path}", app.address)).header("x-forwarded-for", from);
        async move { request.send().await.expect("sent") }
    };
    let refused = get("/", "203.0.113.1").await;
    assert_eq!(refused.status().as_u16(), 403);
    let id = refused.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned).expect("a request id");
    let page = refused.text().await.unwrap_or_default();
    assert!(page.contains("only available from your institution"));
    assert!(page.contains(&format!("Reference: <code data-testid=\"request-id\">{id}</code>")), "the page quotes the request id");
    assert_eq!(get("/", "192.0.2.77").await.status().as_u16(), 200);
    assert_eq!(get("/healthz", "203.0.113.1").await.status().as_u16(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn forwarded_addresses_count_only_from_trusted_proxies(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.http.allowed_cidrs = vec!["192.0.2.0/24".parse().expect("a network")]).await;
    let response = app.http.get(format!("{}/", app.address)).header("x-forwarded-for", "192.0.2.77").send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 403, "a client cannot claim an allowed address");
}
