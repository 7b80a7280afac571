//! Single sign-on against the real local OpenID provider (`dev/oidc-provider`, started by
//! dev/test): the whole round trip through its own login page, and every way a callback can
//! go wrong. Tampered ID tokens come from the provider itself, re-signed on request
//! (`POST /_faults`), so they travel the real token endpoint.

use crate::helpers::{PASSWORD, TestApp, client, location, session_cookie, spawn_app_with};
use atrium::config::OidcSettings;
use sqlx::PgPool;

fn issuer() -> String {
    std::env::var("ATRIUM_OIDC_ISSUER").expect("dev/test starts the local OpenID provider and sets ATRIUM_OIDC_ISSUER")
}

fn sso_settings(client_id: &str, secret: Option<&str>) -> OidcSettings {
    OidcSettings {
        issuer: Some(issuer()),
        client_id: Some(client_id.into()),
        client_secret: secret.map(|s| s.to_owned().into()),
        display_name: "Demo University".into(),
        groups_claim: "cognito:groups".into(),
        username_claim: "cognito:username".into(),
    }
}

async fn spawn_sso_app(db: PgPool) -> TestApp {
    spawn_app_with(db, |settings| settings.oidc = sso_settings("atrium", None)).await
}

/// An app whose provider is a port on this machine nobody listens on.
async fn spawn_app_with_unreachable_provider(db: PgPool, password_sign_in: bool) -> TestApp {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    spawn_app_with(db, |settings| {
        settings.oidc = sso_settings("atrium", None);
        settings.oidc.issuer = Some(format!("http://127.0.0.1:{closed_port}"));
        settings.password_sign_in = password_sign_in;
    })
    .await
}

/// Starts single sign-on at the portal with `http` (its cookies); the provider URL it sends to.
async fn start(app: &TestApp, http: &reqwest::Client, next: Option<&str>) -> String {
    let mut url = url::Url::parse(&format!("{}/auth/sso", app.address)).expect("url");
    if let Some(next) = next {
        url.query_pairs_mut().append_pair("next", next);
    }
    let response = http.get(url).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 303, "/auth/sso redirects to the provider");
    let authorize = location(&response);
    assert!(authorize.starts_with(&issuer()), "to the provider: {authorize}");
    authorize
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> =
        parsed.query_pairs().map(|(k, v)| (k.to_string(), if k == name { value.to_owned() } else { v.into_owned() })).collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

enum AtProvider {
    SignIn(&'static str, &'static str),
    Cancel,
}

/// Plays the user at the provider: follows its redirects in a browser of its own, fills its
/// login page (or cancels), and returns the URL it finally sends back to the portal.
async fn at_provider(authorize_url: &str, action: AtProvider) -> String {
    let browser = client();
    let mut url = url::Url::parse(authorize_url).expect("authorize url");
    for _ in 0..12 {
        if url.path() == "/auth/callback" {
            return url.to_string();
        }
        let response = browser.get(url.clone()).send().await.expect("provider answers");
        if response.status().as_u16() == 200 {
            // The provider's login page, at /interaction/<uid>.
            let page = response.text().await.unwrap_or_default();
            assert!(page.contains("name=\"password\""), "the provider's login page: {page}");
            let submitted = match action {
                AtProvider::SignIn(username, password) => {
                    browser.post(format!("{url}/login")).form(&[("username", username), ("password", password)]).send()
                }
                AtProvider::Cancel => browser.post(format!("{url}/abort")).send(),
            };
            let submitted = submitted.await.expect("login posted");
            assert_eq!(submitted.status().as_u16(), 303, "the provider accepts the login");
            url = url.join(&location(&submitted)).expect("redirect");
            continue;
        }
        assert!(response.status().is_redirection(), "provider: {} at {url}", response.status());
        url = url.join(&location(&response)).expect("redirect");
    }
    panic!("the provider never sent the browser back to the portal");
}

/// The portal's answer to the provider's callback URL, with `http`'s cookies.
async fn callback(http: &reqwest::Client, url: &str) -> reqwest::Response {
    http.get(url).send().await.expect("callback sent")
}

/// The newest `auth.sso.sign_in` audit row: (actor, result, detail).
async fn last_sso_audit(app: &TestApp) -> (String, String, Option<String>) {
    sqlx::query_as("SELECT actor, result, detail FROM audit_log WHERE action = 'auth.sso.sign_in' ORDER BY id DESC LIMIT 1")
        .fetch_one(&app.db)
        .await
        .expect("an auth.sso.sign_in audit row")
}

/// Asserts that no session is left (the pre-sign-in one with state and nonce is deleted) and
/// that `http` is not signed in: /teams sends it to sign in.
async fn assert_signed_out(app: &TestApp, http: &reqwest::Client) {
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session").fetch_one(&app.db).await.expect("session table");
    assert_eq!(sessions, 0, "no session row is left");
    let response = http.get(format!("{}/teams", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 303);
    assert!(location(&response).starts_with("/?next="), "not signed in");
}

#[sqlx::test(migrations = "../migrations")]
async fn ada_signs_in_at_the_provider_and_comes_back_to_the_page_she_asked_for(db: PgPool) {
    let app = spawn_sso_app(db).await;
    let browser = client();
    let started = browser.get(format!("{}/auth/sso?next=%2Fteams%2Fgenomics%2Fcatalog", app.address)).send().await.expect("sent");
    let pre_sign_in_cookie = session_cookie(&started).expect("the pre-sign-in session holds state and nonce");
    let authorize = location(&started);
    for (param, expected) in [("code_challenge_method", "S256"), ("response_type", "code"), ("client_id", "atrium")] {
        assert_eq!(query_param(&authorize, param).as_deref(), Some(expected), "{param}");
    }
    assert!(query_param(&authorize, "nonce").is_some() && query_param(&authorize, "state").is_some());

    let back = at_provider(&authorize, AtProvider::SignIn("ada", PASSWORD)).await;
    let response = callback(&browser, &back).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/teams/genomics/catalog");
    let signed_in_cookie = session_cookie(&response).expect("a session cookie");
    assert_ne!(signed_in_cookie, pre_sign_in_cookie, "the session id is rotated at sign-in");

    let teams = browser.get(format!("{}/teams", app.address)).send().await.expect("sent");
    assert_eq!(teams.status().as_u16(), 200);
    let page = teams.text().await.expect("page");
    assert!(page.contains("Genomics Lab") && page.contains("Climate Modelling"));
    assert!(!page.contains("Particle Physics"));
    let physics = browser.get(format!("{}/teams/physics", app.address)).send().await.expect("sent");
    assert_eq!(physics.status().as_u16(), 403);

    let mut memberships: Vec<String> =
        sqlx::query_scalar("SELECT team_slug FROM team_memberships WHERE username = 'ada' ORDER BY team_slug")
            .fetch_all(&app.db)
            .await
            .expect("memberships");
    memberships.sort();
    assert_eq!(memberships, ["climate", "genomics"]);
    let (actor, result, _) = last_sso_audit(&app).await;
    assert_eq!((actor.as_str(), result.as_str()), ("ada", "success"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_password_user_and_the_same_username_through_sso_are_one_person(db: PgPool) {
    let app = spawn_sso_app(db).await;
    app.client_signed_in_as("alan").await;
    let first_seen =
        || sqlx::query_scalar::<_, time::OffsetDateTime>("SELECT first_seen_at FROM users WHERE username = 'alan'").fetch_one(&app.db);
    let seen_by_password = first_seen().await.expect("alan is known after his password sign-in");
    let browser = client();
    let authorize = start(&app, &browser, None).await;
    let response = callback(&browser, &at_provider(&authorize, AtProvider::SignIn("alan", PASSWORD)).await).await;
    assert_eq!(location(&response), "/teams/physics", "straight to his only team");
    assert_eq!(first_seen().await.expect("still known"), seen_by_password, "the same user row, not a new person");
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE actor = 'alan' AND result = 'success' ORDER BY id")
        .fetch_all(&app.db)
        .await
        .expect("audit");
    assert_eq!(actions, ["auth.sign_in", "auth.sso.sign_in"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_confidential_client_authenticates_with_its_secret_and_a_wrong_secret_is_refused(db: PgPool) {
    let good = spawn_app_with(db.clone(), |s| s.oidc = sso_settings("atrium-confidential", Some("atrium-dev-secret"))).await;
    let browser = client();
    let authorize = start(&good, &browser, None).await;
    let response = callback(&browser, &at_provider(&authorize, AtProvider::SignIn("ada", PASSWORD)).await).await;
    assert_eq!(location(&response), "/teams");

    let bad = spawn_app_with(db, |s| s.oidc = sso_settings("atrium-confidential", Some("not-the-secret"))).await;
    let browser = client();
    let authorize = start(&bad, &browser, None).await;
    let response = callback(&browser, &at_provider(&authorize, AtProvider::SignIn("ada", PASSWORD)).await).await;
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap_or_default().contains("did not accept this sign-in"));
    let (_, result, detail) = last_sso_audit(&bad).await;
    assert_eq!(result, "failure");
    assert!(detail.unwrap_or_default().contains("invalid_client"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_callback_without_a_code_or_with_an_unknown_state_is_refused_without_a_session(db: PgPool) {
    let app = spawn_sso_app(db).await;
    let browser = client();
    let authorize = start(&app, &browser, None).await;
    let state = query_param(&authorize, "state").expect("state");

    let no_code = callback(&browser, &format!("{}/auth/callback?state={state}", app.address)).await;
    assert_eq!(no_code.status().as_u16(), 400);
    assert!(no_code.text().await.unwrap_or_default().contains("did not include a sign-in code"));
    assert_eq!(last_sso_audit(&app).await.2.as_deref(), Some("the provider's answer has no authorization code"));
    assert_signed_out(&app, &browser).await;

    let unknown = callback(&browser, &format!("{}/auth/callback?code=abc&state=made-up", app.address)).await;
    assert_eq!(unknown.status().as_u16(), 400);
    assert!(unknown.text().await.unwrap_or_default().contains("was not started in this browser"));
    let (actor, result, detail) = last_sso_audit(&app).await;
    assert_eq!((actor.as_str(), result.as_str()), ("unknown", "failure"));
    assert!(detail.unwrap_or_default().contains("not started in this browser"));

    let nothing = callback(&browser, &format!("{}/auth/callback", app.address)).await;
    assert_eq!(nothing.status().as_u16(), 400);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_state_is_used_once_and_a_replayed_code_is_refused_by_the_provider(db: PgPool) {
    let app = spawn_sso_app(db).await;
    let browser = client();
    let authorize = start(&app, &browser, None).await;
    let back = at_provider(&authorize, AtProvider::SignIn("ada", PASSWORD)).await;
    assert_eq!(callback(&browser, &back).await.status().as_u16(), 303);

    // The same answer again ("back", or a link from elsewhere): its state was used up. It is
    // refused, and does not sign the user out either.
    let again = callback(&browser, &back).await;
    assert_eq!(again.status().as_u16(), 400);
    let teams = browser.get(format!("{}/teams", app.address)).send().await.expect("sent");
    assert_eq!(teams.status().as_u16(), 200, "still signed in");

    // The code from that answer, under a fresh sign-in's state: the provider refuses it.
    let other = client();
    let fresh = start(&app, &other, None).await;
    let code = query_param(&back, "code").expect("code");
    let state = query_param(&fresh, "state").expect("state");
    let replay = callback(&other, &format!("{}/auth/callback?code={code}&state={state}", app.address)).await;
    assert_eq!(replay.status().as_u16(), 400);
    let (_, result, detail) = last_sso_audit(&app).await;
    assert_eq!(result, "failure");
    assert!(detail.unwrap_or_default().contains("invalid_grant"));
    let teams = other.get(format!("{}/teams", app.address)).send().await.expect("sent");
    assert_eq!(teams.status().as_u16(), 303, "the replaying browser is not signed in");
}

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_at_the_provider_is_access_denied(db: PgPool) {
    let app = spawn_sso_app(db).await;
    let browser = client();
    let authorize = start(&app, &browser, None).await;
    let back = at_provider(&authorize, AtProvider::Cancel).await;
    assert_eq!(query_param(&back, "error").as_deref(), Some("access_denied"));
    let response = callback(&browser, &back).await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(response.text().await.unwrap_or_default().contains("Demo University did not sign you in"));
    let (_, result, detail) = last_sso_audit(&app).await;
    assert_eq!(result, "refused");
    assert!(detail.unwrap_or_default().contains("access_denied"));
    assert_signed_out(&app, &browser).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_id_token_for_another_sign_in_is_refused_for_its_nonce(db: PgPool) {
    let app = spawn_sso_app(db).await;
    let browser = client();
    let authorize = start(&app, &browser, None).await;
    // Someone swaps the nonce on the way to the provider; PKCE and state still match.
    let tampered = with_param(&authorize, "nonce", "a-nonce-of-someone-else");
    let response = callback(&browser, &at_provider(&tampered, AtProvider::SignIn("ada", PASSWORD)).await).await;
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.text().await.unwrap_or_default().contains("nonce mismatch"));
    assert!(last_sso_audit(&app).await.2.unwrap_or_default().contains("nonce mismatch"));
    assert_signed_out(&app, &browser).await;
}

/// Asks the provider to tamper with the ID token of the next sign-in and checks it is refused.
async fn refused_when_the_provider_sends(kind: &str, reason: &str, db: PgPool) {
    let app = spawn_sso_app(db).await;
    let browser = client();
    let authorize = start(&app, &browser, None).await;
    let nonce = query_param(&authorize, "nonce").expect("nonce");
    let fault = reqwest::Client::new()
        .post(format!("{}/_faults", issuer()))
        .json(&serde_json::json!({ "nonce": nonce, "id_token": kind }))
        .send()
        .await
        .expect("fault sent");
    assert_eq!(fault.status().as_u16(), 204);
    let response = callback(&browser, &at_provider(&authorize, AtProvider::SignIn("ada", PASSWORD)).await).await;
    assert_eq!(response.status().as_u16(), 401, "{kind}");
    let page = response.text().await.unwrap_or_default();
    assert!(page.contains(reason), "{kind}: {page}");
    let (_, result, detail) = last_sso_audit(&app).await;
    assert_eq!(result, "failure");
    assert!(detail.unwrap_or_default().contains(reason), "{kind}");
    assert_signed_out(&app, &browser).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_id_token_from_another_issuer_is_refused(db: PgPool) {
    refused_when_the_provider_sends("other-issuer", "issued by another provider", db).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_id_token_for_another_client_is_refused(db: PgPool) {
    refused_when_the_provider_sends("other-audience", "issued for another application", db).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_id_token_is_refused(db: PgPool) {
    refused_when_the_provider_sends("expired", "it has expired", db).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_id_token_signed_with_an_unknown_key_is_refused(db: PgPool) {
    refused_when_the_provider_sends("unknown-key", "a key the provider does not publish", db).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_without_teams_lands_on_the_no_teams_page(db: PgPool) {
    let app = spawn_sso_app(db).await;
    let browser = client();
    let authorize = start(&app, &browser, None).await;
    let response = callback(&browser, &at_provider(&authorize, AtProvider::SignIn("carol", PASSWORD)).await).await;
    assert_eq!(location(&response), "/teams");
    let teams = browser.get(format!("{}/teams", app.address)).send().await.expect("sent");
    assert_eq!(teams.status().as_u16(), 200);
    assert!(teams.text().await.unwrap_or_default().contains("not a member of any team yet"));
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_out_ends_the_session_and_sends_the_browser_to_the_providers_sign_out(db: PgPool) {
    let app = spawn_sso_app(db).await;
    let browser = client();
    let authorize = start(&app, &browser, None).await;
    callback(&browser, &at_provider(&authorize, AtProvider::SignIn("ada", PASSWORD)).await).await;
    let response = browser.post(format!("{}/auth/sign-out", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 303);
    let to = location(&response);
    assert!(to.starts_with(&format!("{}/session/end", issuer())), "the provider's end_session_endpoint: {to}");
    assert_eq!(query_param(&to, "post_logout_redirect_uri"), Some(format!("{}/", app.address)));
    assert!(query_param(&to, "id_token_hint").is_some());
    assert_signed_out(&app, &browser).await;
    // The provider accepts that request (client, hint and return address): it goes on to confirm
    // the sign-out instead of showing an error.
    let provider = client().get(&to).send().await.expect("provider answers");
    assert_eq!(provider.status().as_u16(), 200);
    let page = provider.text().await.unwrap_or_default();
    assert!(page.contains("/session/end/confirm"), "{page}");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unreachable_provider_is_a_503_naming_it_and_the_password_form_still_works(db: PgPool) {
    let app = spawn_app_with_unreachable_provider(db, true).await;
    let response = app.get("/auth/sso").await;
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.text().await.unwrap_or_default().contains("Demo University is unavailable"));

    app.client_signed_in_as("ada").await;

    // The password form still lets people in: degraded, not down.
    let health = app.get("/healthz").await;
    assert_eq!(health.status().as_u16(), 200);
    let body: serde_json::Value = health.json().await.expect("json");
    assert_eq!((body["status"].as_str(), body["sso_provider"].as_str()), (Some("degraded"), Some("unavailable")));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unreachable_provider_fails_the_health_check_when_it_is_the_only_way_in(db: PgPool) {
    let app = spawn_app_with_unreachable_provider(db, false).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status().as_u16(), 503);
    let body: serde_json::Value = health.json().await.expect("json");
    assert_eq!((body["status"].as_str(), body["sso_provider"].as_str()), (Some("unavailable"), Some("unavailable")));
    assert_eq!(body["database"], "ok");
}

#[sqlx::test(migrations = "../migrations")]
async fn health_reports_a_reachable_provider(db: PgPool) {
    let app = spawn_sso_app(db).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status().as_u16(), 200);
    let body: serde_json::Value = health.json().await.expect("json");
    assert_eq!(body["sso_provider"], "ok");
}

#[sqlx::test(migrations = "../migrations")]
async fn with_password_sign_in_off_the_button_is_the_only_way_in(db: PgPool) {
    let app = spawn_app_with(db, |settings| {
        settings.oidc = sso_settings("atrium", None);
        settings.password_sign_in = false;
    })
    .await;
    let (status, landing) = app.get_text("/?next=%2Fteams%2Fclimate").await;
    assert_eq!(status, 200);
    assert!(landing.contains("Sign in with Demo University"));
    assert!(landing.contains("/auth/sso?next=%2Fteams%2Fclimate"));
    assert!(!landing.contains("name=\"password\""), "no password form");

    let refused = app.sign_in("ada", PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 403);
    assert!(session_cookie(&refused).is_none());
}
