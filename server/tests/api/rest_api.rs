//! `/api/v1` with personal access tokens: tokens (hash only, shown once, expiry, revocation,
//! scopes, disabled users, rate limits), the JSON error shape, and the same answers as the pages.

use crate::helpers::{api, audit_rows, call, error_code, spawn_app, spawn_app_with, token_for};
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn a_token_is_shown_once_kept_as_a_hash_and_acts_for_its_user(db: PgPool) {
    let app = spawn_app(db).await;
    let secret = token_for(&app, "ada", &["read"]).await;
    assert!(secret.starts_with("atr_") && secret.len() > 60, "{secret}");

    let stored: Vec<String> = sqlx::query_scalar("SELECT row_to_json(t)::text FROM api_tokens t").fetch_all(&app.db).await.expect("rows");
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&secret[4..]), "the secret is not stored: {}", stored[0]);
    let hash: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_one(&app.db).await.expect("hash");
    assert_eq!(hash, atrium::services::tokens::hash(&secret));
    let browser = app.client_signed_in_as("ada").await;
    let (_, list) = call(&app, &browser, "tokens", &[]).await;
    assert!(!list.to_string().contains(&secret), "listing never shows it again");
    assert_eq!(list["mine"][0]["last_used_at"], Value::Null);

    let (status, me) = api(&app, "GET", "/me", Some(&secret), None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "ada");
    assert_eq!(me["teams"], json!(["climate", "genomics"]));
    let (_, list) = call(&app, &browser, "tokens", &[]).await;
    assert!(list["mine"][0]["last_used_at"].is_string(), "its use is noted: {list}");
    assert_eq!(audit_rows(&app.db, "ada", "token.create", "success").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_expired_revoked_and_disabled_users_tokens_get_401(db: PgPool) {
    let app = spawn_app(db).await;
    for (token, why) in [(None, "no token"), (Some("atr_0000"), "unknown"), (Some("not-even-ours"), "malformed")] {
        let (status, body) = api(&app, "GET", "/teams", token, None).await;
        assert_eq!((status, error_code(&body)), (401, "unauthorized"), "{why}");
    }
    let basic = reqwest::Client::new()
        .get(format!("{}/api/v1/teams", app.address))
        .header("authorization", "Basic YWRhOng=")
        .send()
        .await
        .expect("sent");
    assert_eq!(basic.status().as_u16(), 401);

    let expiring = token_for(&app, "ada", &["read"]).await;
    assert_eq!(api(&app, "GET", "/teams", Some(&expiring), None).await.0, 200);
    sqlx::query("UPDATE api_tokens SET expires_at = now() - interval '1 second'").execute(&app.db).await.expect("expired");
    assert_eq!(api(&app, "GET", "/teams", Some(&expiring), None).await.0, 401, "expired");

    let revoked = token_for(&app, "ada", &["read"]).await;
    let browser = app.client_signed_in_as("ada").await;
    let (_, list) = call(&app, &browser, "tokens", &[]).await;
    let id = list["mine"][0]["id"].as_i64().expect("the newest token").to_string();
    let alan = app.client_signed_in_as("alan").await;
    let (status, _) = call(&app, &alan, "revoke_token", &[("id", &id)]).await;
    assert_eq!(status, 404, "nobody but its owner or an admin revokes a token");
    assert_eq!(api(&app, "GET", "/teams", Some(&revoked), None).await.0, 200);
    let (status, _) = call(&app, &browser, "revoke_token", &[("id", &id)]).await;
    assert_eq!(status, 200);
    assert_eq!(api(&app, "GET", "/teams", Some(&revoked), None).await.0, 401, "revoked");
    assert_eq!(audit_rows(&app.db, "ada", "token.revoke", "success").await, 1);

    let before_disable = token_for(&app, "ada", &["read"]).await;
    let grace = app.client_signed_in_as("grace").await;
    let (status, body) = call(&app, &grace, "admin/disable_user", &[("username", "ada")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api(&app, "GET", "/teams", Some(&before_disable), None).await.0, 401, "the tokens of a disabled user stop working");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_does_only_what_its_scopes_allow_and_admin_is_for_admins(db: PgPool) {
    let app = spawn_app(db).await;
    let reader = token_for(&app, "ada", &["read"]).await;
    let body = json!({"team": "genomics", "configuration_id": 1, "name": "x-1"});
    let (status, refused) = api(&app, "POST", "/workspaces", Some(&reader), Some(body)).await;
    assert_eq!((status, error_code(&refused)), (403, "forbidden"), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap_or_default().contains("workspaces scope"));
    assert_eq!(api(&app, "GET", "/audit", Some(&reader), None).await.0, 403);
    let launcher = token_for(&app, "ada", &["workspaces"]).await;
    assert_eq!(api(&app, "GET", "/me", Some(&launcher), None).await.0, 200, "every token may read");

    let browser = app.client_signed_in_as("ada").await;
    let (status, body) = call(&app, &browser, "create_token", &[("name", "x"), ("days", "7"), ("scope_admin", "on")]).await;
    assert_eq!(status, 400, "a researcher cannot ask for the admin scope: {body}");
    let (status, _) = call(&app, &browser, "create_token", &[("name", "x"), ("days", "91"), ("scope_read", "on")]).await;
    assert_eq!(status, 400, "at most 90 days");

    let admin = token_for(&app, "grace", &["read", "admin"]).await;
    let (status, rows) = api(&app, "GET", "/audit?action=token.create", Some(&admin), None).await;
    assert_eq!(status, 200, "{rows}");
    assert!(rows["items"].as_array().is_some_and(|r| r.len() >= 2), "{rows}");
    let (status, _) = api(&app, "GET", "/audit?cursor=not-ours", Some(&admin), None).await;
    assert_eq!(status, 400, "a cursor the API did not give");
    let (status, teams) = api(&app, "GET", "/admin/teams", Some(&admin), None).await;
    assert_eq!(status, 200, "{teams}");
    assert!(teams.as_array().is_some_and(|t| t.iter().any(|t| t["slug"] == "genomics" && t["live_workspaces"].is_array())), "{teams}");
    let (status, body) = api(&app, "POST", "/catalog/types", Some(&admin), Some(json!({"product_id": "", "version_id": ""}))).await;
    assert_eq!(status, 404, "ids that cannot be Service Catalog's name nothing (found by schemathesis as a 500): {body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_over_its_rate_limit_gets_429_with_retry_after(db: PgPool) {
    let app = spawn_app_with(db, |settings| {
        settings.api.burst = 3.0;
        settings.api.rate = 0.2;
    })
    .await;
    let token = token_for(&app, "ada", &["read"]).await;
    for _ in 0..3 {
        assert_eq!(api(&app, "GET", "/me", Some(&token), None).await.0, 200);
    }
    let response = reqwest::Client::new().get(format!("{}/api/v1/me", app.address)).bearer_auth(&token).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().ok().and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=5).contains(&retry_after), "{retry_after}");
    let other = token_for(&app, "alan", &["read"]).await;
    assert_eq!(api(&app, "GET", "/me", Some(&other), None).await.0, 200, "the limit is per token");
}

#[sqlx::test(migrations = "../migrations")]
async fn launch_connect_and_terminate_through_the_api(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("SageMaker notebook", "v1", "Notebook").await;
    let token = token_for(&app, "ada", &["read", "workspaces"]).await;
    let launch = json!({"team": "genomics", "configuration_id": configuration, "name": "api-notebook"});
    let (status, first) = api(&app, "POST", "/workspaces", Some(&token), Some(launch.clone())).await;
    assert_eq!(status, 201, "{first}");
    let (_, again) = api(&app, "POST", "/workspaces", Some(&token), Some(launch)).await;
    assert_eq!(first["id"], again["id"], "the same idempotency key launches once");
    let id = first["id"].as_str().expect("id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");

    let (status, listed) = api(&app, "GET", "/workspaces?team=genomics", Some(&token), None).await;
    assert_eq!(status, 200);
    assert!(listed.as_array().is_some_and(|l| l.iter().any(|w| w["id"] == id.as_str())), "{listed}");
    let (status, events) = api(&app, "GET", &format!("/workspaces/{id}/events"), Some(&token), None).await;
    assert_eq!(status, 200);
    assert!(events.as_array().is_some_and(|e| e.iter().any(|e| e["to_state"] == "available")), "{events}");

    let (status, connection) = api(&app, "POST", &format!("/workspaces/{id}/connect"), Some(&token), None).await;
    assert_eq!(status, 200, "{connection}");
    let url = connection["url"].as_str().expect("url");
    assert!(url.contains("/sagemaker/presigned?token="), "{url}");
    assert_eq!(connection["kind"], "sagemaker-notebook");
    assert_eq!(connection["expires_in_seconds"], 300, "a notebook URL lasts five minutes at AWS");
    let detail: String = sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'workspace.connect' AND actor = 'ada'")
        .fetch_one(&app.db)
        .await
        .expect("a connect is audited");
    assert_eq!(detail, "sagemaker-notebook in account 111111111111");
    let leaked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE detail LIKE '%presigned%'").fetch_one(&app.db).await.expect("count");
    assert_eq!(leaked, 0, "never the URL");

    let alans = token_for(&app, "alan", &["read", "workspaces"]).await;
    let (status, body) = api(&app, "POST", &format!("/workspaces/{id}/connect"), Some(&alans), None).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "another team's workspace");

    let (status, terminating) = api(&app, "POST", &format!("/workspaces/{id}/terminate"), Some(&token), None).await;
    assert_eq!(status, 202, "{terminating}");
    assert_eq!(terminating["state"], "terminating");
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "terminated");
    assert!(audit_rows(&app.db, "ada", "token.use", "success").await >= 3, "mutations with a token are audited");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_gets_a_json_4xx_never_a_page(db: PgPool) {
    let app = spawn_app(db).await;
    let token = token_for(&app, "ada", &["read", "workspaces"]).await;
    let send = |body: &'static str, key: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .post(format!("{}/api/v1/workspaces", app.address))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        async move {
            let response = request.send().await.expect("sent");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("JSON"))
        }
    };
    let valid = r#"{"team": "genomics", "configuration_id": 1, "name": "x-1"}"#;
    assert_eq!(send("{not json", Some("key-00000001")).await.0, 400, "malformed JSON");
    assert_eq!(send(r#"{"team": 7, "configuration_id": 1, "name": "x"}"#, Some("key-00000001")).await.0, 422, "a wrong type");
    let (status, body) = send(r#"{"team": "genomics", "configuration_id": 1, "name": "x", "admin": true}"#, Some("key-00000001")).await;
    assert_eq!(status, 422, "an unknown field: {body}");
    assert_eq!(send(valid, None).await.0, 400, "no idempotency key");
    let (status, body) = send(valid, Some("short")).await;
    assert_eq!(status, 400, "a bad idempotency key: {body}");
    let (status, body) = send(r#"{"team": "genomics", "name": "x"}"#, Some("key-00000001")).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("configuration_id")), "{body}");

    let huge = format!(r#"{{"team": "genomics", "configuration_id": 1, "name": "{}"}}"#, "x".repeat(300_000));
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/workspaces", app.address))
        .bearer_auth(&token)
        .header("idempotency-key", "key-00000001")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 413, "a huge body");

    let (status, body) = api(&app, "GET", "/no/such/thing", Some(&token), None).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = api(&app, "DELETE", "/teams", Some(&token), None).await;
    assert_eq!((status, error_code(&body)), (405, "method_not_allowed"));
    let (status, _) = api(&app, "GET", "/costs?days=12", Some(&token), None).await;
    assert_eq!(status, 403, "ada sees no costs (a researcher), whatever the range");
}

/// The same authorization cases through a page and through the API: the same answer.
#[sqlx::test(migrations = "../migrations")]
async fn the_api_answers_as_the_pages_do(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    let ada = app.client_signed_in_as("ada").await;
    let (_, id) = call(
        &app,
        &ada,
        "launch_workspace",
        &[("team", "genomics"), ("configuration_id", &configuration.to_string()), ("name", "parity-1"), ("launch_key", "parity-key-0001")],
    )
    .await;
    let id = id.as_str().expect("launched").to_owned();

    // (user, page, API path): what each may and may not see.
    let cases = [
        ("ada", format!("/workspaces/{id}"), format!("/workspaces/{id}")),
        ("alan", format!("/workspaces/{id}"), format!("/workspaces/{id}")),
        ("grace", format!("/workspaces/{id}"), format!("/workspaces/{id}")),
        ("ada", "/workspaces/no-such-workspace".into(), "/workspaces/no-such-workspace".into()),
        ("ada", "/teams/genomics/profiles".into(), "/teams/genomics/profiles".into()),
        ("alan", "/teams/genomics/profiles".into(), "/teams/genomics/profiles".into()),
        ("alan", "/teams/genomics/catalog".into(), "/teams/genomics/catalog".into()),
        ("ada", "/teams/no-such-team/catalog".into(), "/teams/no-such-team/catalog".into()),
        ("ada", "/costs".into(), "/costs".into()),
        ("grace", "/costs".into(), "/costs".into()),
    ];
    let mut tokens = std::collections::HashMap::new();
    for user in ["ada", "alan", "grace"] {
        tokens.insert(user, token_for(&app, user, &["read"]).await);
    }
    for (user, page, path) in cases {
        let browser = app.client_signed_in_as(user).await;
        let page_status = browser.get(format!("{}{page}", app.address)).send().await.expect("sent").status().as_u16();
        let (api_status, body) = api(&app, "GET", &path, Some(&tokens[user]), None).await;
        assert_eq!(page_status, api_status, "{user}: page {page} and API {path} answer alike ({body})");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_describes_every_endpoint(db: PgPool) {
    let app = spawn_app(db).await;
    let (status, document) = api(&app, "GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", document["openapi"]);
    for path in ["/me", "/teams", "/workspaces", "/workspaces/{id}/connect", "/costs", "/audit", "/catalog/types/{id}/approve"] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
    assert_eq!(document["components"]["securitySchemes"]["token"]["scheme"], "bearer");
    let docs = reqwest::get(format!("{}/api/docs", app.address)).await.expect("sent");
    assert_eq!(docs.status().as_u16(), 200);
    assert!(docs.text().await.expect("page").contains("/vendor/swagger-ui/swagger-ui-bundle.js"));
}

/// The seed's flow: a user with a token asks for Studio in their team's account and gets a
/// presigned URL for a user profile of their own; another team's member gets 403; an old URL
/// fails as expired.
#[sqlx::test(migrations = "../migrations")]
async fn studio_through_the_api_opens_the_callers_own_profile_with_a_url_that_expires(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.presigned_url_seconds = 5).await;
    let configuration = app.configuration_for_genomics("SageMaker Studio", "v1", "Studio").await;
    let token = token_for(&app, "ada", &["read", "workspaces"]).await;
    let launch = json!({"team": "genomics", "configuration_id": configuration, "name": "ada-studio"});
    let (status, launched) = api(&app, "POST", "/workspaces", Some(&token), Some(launch)).await;
    assert_eq!(status, 201, "{launched}");
    let id = launched["id"].as_str().expect("id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    let (_, workspace) = api(&app, "GET", &format!("/workspaces/{id}"), Some(&token), None).await;
    assert_eq!(workspace["outputs"]["DomainId"], "d-111111111111", "the genomics account's domain");

    let (status, connection) = api(&app, "POST", &format!("/workspaces/{id}/connect"), Some(&token), None).await;
    assert_eq!(status, 200, "{connection}");
    assert_eq!((connection["kind"].as_str(), connection["expires_in_seconds"].as_u64()), (Some("sagemaker-studio"), Some(5)));
    let url = connection["url"].as_str().expect("url").to_owned();
    let landing = reqwest::get(&url).await.expect("opened").text().await.expect("page");
    assert!(landing.contains(">ada<") && landing.contains("domain d-111111111111") && landing.contains("111111111111"), "{landing}");
    let (status, again) = api(&app, "POST", &format!("/workspaces/{id}/connect"), Some(&token), None).await;
    assert_eq!(status, 200, "the profile exists now, and that is fine: {again}");

    let graces = token_for(&app, "grace", &["read", "workspaces"]).await;
    let (status, admin) = api(&app, "POST", &format!("/workspaces/{id}/connect"), Some(&graces), None).await;
    assert_eq!(status, 200, "{admin}");
    let landing = reqwest::get(admin["url"].as_str().expect("url")).await.expect("opened").text().await.expect("page");
    assert!(landing.contains(">grace<"), "an admin connects as herself, in a profile of her own: {landing}");

    let alans = token_for(&app, "alan", &["read", "workspaces"]).await;
    assert_eq!(api(&app, "POST", &format!("/workspaces/{id}/connect"), Some(&alans), None).await.0, 403, "another team's Studio");

    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let expired = reqwest::get(&url).await.expect("opened").text().await.expect("page");
    assert!(expired.contains("This link is expired"), "{expired}");
    let connects: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'workspace.connect' AND detail = 'sagemaker-studio in account 111111111111'",
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(connects, 3);
}
