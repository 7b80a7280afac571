//! /api/v1 at parity with the pages: api_workspaces. Sharing, keep running, upgrade, resize and
//! launch again; the admin's workspaces (list, resync, force terminate, transfer); and the two
//! catalog settings (must upgrade by, idle policy). Each does what the page's server function
//! does, needs its scope, and is held to the service's checks.

use crate::helpers::{TestApp, audit_rows, call, error_code, spawn_app, spawn_app_with, token_for};
use serde_json::{Value, json};
use sqlx::PgPool;

/// (status, JSON body, `null` for none) of an API request with `token`, and with `key` as its
/// Idempotency-Key if given. Every answer with a body is JSON.
async fn send(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>, key: Option<&str>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = reqwest::Client::new().request(method, format!("{}/api/v1{path}", app.address)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = response.text().await.expect("body");
    if status == 204 {
        assert!(text.is_empty(), "{path}: 204 has no body: {text}");
        return (status, Value::Null);
    }
    assert!(content_type.starts_with("application/json"), "{path}: JSON, never a page ({status} {content_type}): {text}");
    (status, serde_json::from_str(&text).expect("JSON"))
}

/// The fields an `invalid` API answer names.
fn fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|f| f.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Launches `configuration` on genomics through the API with `token` and works it until
/// available: its id.
async fn launch_available(app: &TestApp, token: &str, configuration: i64, name: &str) -> String {
    let body = json!({"team": "genomics", "configuration_id": configuration, "name": name});
    let (status, launched) = send(app, "POST", "/workspaces", token, Some(body), Some(&format!("key-{name}"))).await;
    assert_eq!(status, 201, "{launched}");
    let id = launched["id"].as_str().expect("an id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    id
}

/// The workspace as its page reads it, for `username`.
async fn page_view(app: &TestApp, username: &str, id: &str) -> Value {
    let browser = app.client_signed_in_as(username).await;
    let (status, view) = call(app, &browser, "workspace", &[("id", id)]).await;
    assert_eq!(status, 200, "{view}");
    view
}

#[sqlx::test(migrations = "../migrations")]
async fn sharing_is_read_and_set_through_the_api_as_on_the_workspace_page(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await;
    let ada = token_for(&app, "ada", &["read", "workspaces"]).await;
    let id = launch_available(&app, &ada, configuration, "ada-api-shared").await;
    let path = format!("/workspaces/{id}/sharing");
    let gus_only = json!({"people": ["gus"], "whole_team": false});

    let reader = token_for(&app, "ada", &["read"]).await;
    let (status, body) = send(&app, "PUT", &path, &reader, Some(gus_only.clone()), None).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "sharing needs the workspaces scope: {body}");
    let gus = token_for(&app, "gus", &["read", "workspaces"]).await;
    let (status, body) = send(&app, "PUT", &path, &gus, Some(gus_only.clone()), None).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "only its owner or an admin shares it: {body}");
    let (status, body) = send(&app, "PUT", &path, &ada, Some(json!({"people": ["alan"], "whole_team": false})), None).await;
    assert_eq!((status, fields(&body)), (422, vec!["people".to_owned()]), "alan is not on genomics: {body}");
    let (status, body) = send(&app, "PUT", &path, &ada, Some(json!({"people": ["gus"]})), None).await;
    assert_eq!(status, 422, "whole_team is stated, as a PUT replaces every share: {body}");
    assert_eq!(audit_rows(&app.db, "ada", "workspace.share", "success").await, 0);

    let (status, body) = send(&app, "PUT", &path, &ada, Some(gus_only), None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(audit_rows(&app.db, "ada", "workspace.share", "success").await, 1);
    // The page reads what the API reads: shared with gus by name.
    let browser = app.client_signed_in_as("ada").await;
    let (_, on_page) = call(&app, &browser, "workspace_sharing", &[("id", &id)]).await;
    let (status, through_api) = send(&app, "GET", &path, &reader, None, None).await;
    assert_eq!(status, 200, "{through_api}");
    assert_eq!(through_api, on_page);
    assert_eq!((through_api["people"].clone(), through_api["may_manage"].clone()), (json!(["gus"]), json!(true)), "{through_api}");
    // gus sees whose it is; alan (not on genomics) nothing.
    let (status, his) = send(&app, "GET", &path, &gus, None, None).await;
    assert_eq!((status, his["shared_by"].as_str(), his["may_manage"].as_bool()), (200, Some("ada"), Some(false)), "{his}");
    let alan = token_for(&app, "alan", &["read"]).await;
    assert_eq!(send(&app, "GET", &path, &alan, None, None).await.0, 403);

    // The whole team instead of gus: unsharing him is audited too.
    let (status, _) = send(&app, "PUT", &path, &ada, Some(json!({"people": [], "whole_team": true})), None).await;
    assert_eq!(status, 204);
    let (_, on_page) = call(&app, &browser, "workspace_sharing", &[("id", &id)]).await;
    assert_eq!((on_page["people"].clone(), on_page["whole_team"].clone()), (json!([]), json!(true)), "{on_page}");
    assert_eq!(audit_rows(&app.db, "ada", "workspace.unshare", "success").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn keep_running_through_the_api_takes_only_the_hours_the_page_offers(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await;
    let ada = token_for(&app, "ada", &["read", "workspaces"]).await;
    let id = launch_available(&app, &ada, configuration, "ada-api-kept").await;
    let path = format!("/workspaces/{id}/keep-running");

    let (status, body) = send(&app, "POST", &path, &ada, Some(json!({"hours": 3})), None).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"), "1, 4 or 8 hours only: {body}");
    let reader = token_for(&app, "ada", &["read"]).await;
    assert_eq!(send(&app, "POST", &path, &reader, Some(json!({"hours": 4})), None).await.0, 403, "the workspaces scope");
    let alan = token_for(&app, "alan", &["read", "workspaces"]).await;
    assert_eq!(send(&app, "POST", &path, &alan, Some(json!({"hours": 4})), None).await.0, 403, "not alan's workspace");
    assert_eq!(send(&app, "POST", &path, &ada, Some(json!({"hours": -4})), None).await.0, 422, "not an hour count");
    assert_eq!(page_view(&app, "ada", &id).await["kept_running"], false);

    let (status, body) = send(&app, "POST", &path, &ada, Some(json!({"hours": 4})), None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(page_view(&app, "ada", &id).await["kept_running"], true, "the page shows it kept running");
    assert_eq!(audit_rows(&app.db, "ada", "workspace.keep_running", "success").await, 1);

    // The document offers exactly the page's choices.
    let (_, document) = send(&app, "GET", "/openapi.json", &reader, None, None).await;
    let hours = &document["components"]["schemas"]["KeepRunningRequest"]["properties"]["hours"];
    assert_eq!(hours["enum"], json!(app::domain::idle::SNOOZE_HOURS), "{hours}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_running_workspace_is_resized_and_upgraded_in_place_through_the_api(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let configuration = app.sized_workstation_configuration().await;
    let ada = token_for(&app, "ada", &["read", "workspaces"]).await;
    let id = launch_available(&app, &ada, configuration["id"].as_i64().expect("an id"), "ada-api-sized").await;
    let resize = format!("/workspaces/{id}/resize");

    let reader = token_for(&app, "ada", &["read"]).await;
    assert_eq!(send(&app, "POST", &resize, &reader, Some(json!({"size": "t3.large"})), None).await.0, 403, "the workspaces scope");
    let gus = token_for(&app, "gus", &["read", "workspaces"]).await;
    assert_eq!(send(&app, "POST", &resize, &gus, Some(json!({"size": "t3.large"})), None).await.0, 403, "not gus's workspace");
    let (status, body) = send(&app, "POST", &resize, &ada, Some(json!({"size": "p4d.24xlarge"})), None).await;
    assert_eq!((status, fields(&body)), (422, vec!["size".to_owned()]), "a size it does not list: {body}");

    let (status, updating) = send(&app, "POST", &resize, &ada, Some(json!({"size": "t3.large"})), None).await;
    assert_eq!((status, updating["state"].as_str()), (202, Some("updating")), "{updating}");
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    let resized = page_view(&app, "ada", &id).await;
    assert_eq!((resized["size"].as_str(), resized["estimated_hourly_cost_cents"].as_u64()), (Some("t3.large"), Some(17)), "{resized}");
    assert_eq!(audit_rows(&app.db, "ada", "workspace.resize", "success").await, 1);

    // Upgraded: the same workspace on v2.
    let upgrade = format!("/workspaces/{id}/upgrade");
    let (status, _) = send(&app, "POST", &upgrade, &ada, Some(json!({"to_type_id": 999_999})), None).await;
    assert_eq!(status, 404, "no such version");
    let v2 = app.approved_version("Linux workstation (EC2)", "v2").await;
    assert_eq!(page_view(&app, "ada", &id).await["upgrade"]["type_label"], "Linux workstation (EC2) v2", "offered on the page");
    assert_eq!(send(&app, "POST", &upgrade, &reader, Some(json!({"to_type_id": v2})), None).await.0, 403, "the workspaces scope");
    assert_eq!(send(&app, "POST", &upgrade, &gus, Some(json!({"to_type_id": v2})), None).await.0, 403, "not gus's workspace");
    let (status, updating) = send(&app, "POST", &upgrade, &ada, Some(json!({"to_type_id": v2})), None).await;
    assert_eq!((status, updating["state"].as_str()), (202, Some("updating")), "{updating}");
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    let upgraded = page_view(&app, "ada", &id).await;
    assert_eq!((upgraded["type_label"].as_str(), upgraded["name"].as_str()), (Some("Linux workstation (EC2) v2"), Some("ada-api-sized")));
    assert_eq!(audit_rows(&app.db, "ada", "workspace.upgrade", "success").await, 1);
    let (status, body) = send(&app, "POST", &upgrade, &ada, Some(json!({"to_type_id": v2})), None).await;
    assert_eq!((status, fields(&body)), (422, vec!["version".to_owned()]), "it runs v2 already: {body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_ended_workspace_is_launched_again_through_the_api_once_per_key(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await;
    let ada = token_for(&app, "ada", &["read", "workspaces"]).await;
    let first = launch_available(&app, &ada, configuration, "ada-api-again").await;
    let path = format!("/workspaces/{first}/launch-again");

    let (status, body) = send(&app, "POST", &path, &ada, None, Some("again-key-0001")).await;
    assert_eq!(status, 400, "a live workspace is not launched again: {body}");
    let (status, _) = send(&app, "POST", &format!("/workspaces/{first}/terminate"), &ada, None, None).await;
    assert_eq!(status, 202);
    assert_eq!(app.work_until_settled(&app.worker(), &first).await, "terminated");

    let (status, body) = send(&app, "POST", &path, &ada, None, None).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"), "no Idempotency-Key: {body}");
    let reader = token_for(&app, "ada", &["read"]).await;
    assert_eq!(send(&app, "POST", &path, &reader, None, Some("again-key-0002")).await.0, 403, "the workspaces scope");
    let alan = token_for(&app, "alan", &["read", "workspaces"]).await;
    assert_eq!(send(&app, "POST", &path, &alan, None, Some("again-key-0002")).await.0, 403, "not alan's workspace");

    let (status, again) = send(&app, "POST", &path, &ada, None, Some("again-key-0002")).await;
    assert_eq!(status, 201, "{again}");
    let (status, twice) = send(&app, "POST", &path, &ada, None, Some("again-key-0002")).await;
    assert_eq!((status, &twice["id"]), (201, &again["id"]), "the same key launches once");
    let again = again["id"].as_str().expect("an id").to_owned();
    assert_ne!(again, first);
    let view = page_view(&app, "ada", &again).await;
    assert_eq!((view["name"].as_str(), view["configuration_name"].as_str()), (Some("ada-api-again"), Some("Workstation")), "{view}");
    let detail: String = sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'workspace.launch' AND object_id = $1")
        .bind(&again)
        .fetch_one(&app.db)
        .await
        .expect("audited");
    assert!(detail.contains(&format!("launched again from {first}")), "{detail}");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_lists_resyncs_transfers_and_force_terminates_workspaces_through_the_api(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await;
    let ada = token_for(&app, "ada", &["read", "workspaces"]).await;
    let handed = launch_available(&app, &ada, configuration, "ada-api-handed").await;
    let stuck = launch_available(&app, &ada, configuration, "ada-api-stuck").await;
    let admin = token_for(&app, "grace", &["read", "admin"]).await;

    // The list: the page's filters, the page's rows.
    let (status, listed) = send(&app, "GET", "/admin/workspaces?owner=ada&state=available&team=genomics", &admin, None, None).await;
    assert_eq!(status, 200, "{listed}");
    let grace = app.client_signed_in_as("grace").await;
    let (_, on_page) = call(&app, &grace, "admin/workspaces", &[("owner", "ada"), ("state", "available"), ("team", "genomics")]).await;
    assert_eq!(listed["items"], on_page["rows"], "{listed}");
    let ids: Vec<&str> = listed["items"].as_array().expect("items").iter().filter_map(|w| w["id"].as_str()).collect();
    assert!(ids.contains(&handed.as_str()) && ids.contains(&stuck.as_str()), "{listed}");
    assert!(listed["type_labels"].as_array().is_some_and(|l| l.contains(&json!("Linux workstation (EC2) v1"))), "{listed}");
    assert!(listed["next_cursor"].is_null(), "one page: {listed}");
    let (status, none) = send(&app, "GET", "/admin/workspaces?owner=ada&state=stopped", &admin, None, None).await;
    assert_eq!((status, none["items"].clone()), (200, json!([])), "{none}");
    for bad in ["state=exploded", "colour=red", "cursor=not-ours"] {
        let (status, body) = send(&app, "GET", &format!("/admin/workspaces?{bad}"), &admin, None, None).await;
        assert_eq!((status, error_code(&body)), (400, "bad_request"), "{bad}: {body}");
    }
    let grace_reader = token_for(&app, "grace", &["read"]).await;
    assert_eq!(send(&app, "GET", "/admin/workspaces", &grace_reader, None, None).await.0, 403, "the admin scope");
    assert_eq!(send(&app, "GET", "/admin/workspaces", &ada, None, None).await.0, 403);

    // Resync: what AWS says, in words.
    let resync = format!("/admin/workspaces/{handed}/resync");
    let (status, found) = send(&app, "POST", &resync, &admin, None, None).await;
    assert_eq!((status, found["finding"].as_str()), (200, Some("AWS agrees with Atrium.")), "{found}");
    assert_eq!(send(&app, "POST", &resync, &grace_reader, None, None).await.0, 403);
    assert_eq!(send(&app, "POST", "/admin/workspaces/no-such-workspace/resync", &admin, None, None).await.0, 404);
    assert_eq!(audit_rows(&app.db, "grace", "workspace.resync", "success").await, 1);

    // Transfer: to a member of its team only (one Atrium knows: signed in once).
    app.client_signed_in_as("rosalind").await;
    let transfer = format!("/admin/workspaces/{handed}/transfer");
    let (status, body) = send(&app, "POST", &transfer, &admin, Some(json!({"to": "alan"})), None).await;
    assert_eq!((status, fields(&body)), (422, vec!["to".to_owned()]), "alan is not on genomics: {body}");
    assert_eq!(send(&app, "POST", &transfer, &grace_reader, Some(json!({"to": "rosalind"})), None).await.0, 403);
    let (status, body) = send(&app, "POST", &transfer, &admin, Some(json!({"to": "rosalind"})), None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(page_view(&app, "rosalind", &handed).await["owner"], "rosalind");
    assert_eq!(audit_rows(&app.db, "grace", "workspace.transfer", "success").await, 1);

    // Force terminate: ended without asking AWS, once.
    let force = format!("/admin/workspaces/{stuck}/force-terminate");
    assert_eq!(send(&app, "POST", &force, &grace_reader, None, None).await.0, 403);
    let (status, body) = send(&app, "POST", &force, &admin, None, None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(page_view(&app, "ada", &stuck).await["state"], "terminated");
    assert_eq!(audit_rows(&app.db, "grace", "workspace.force_terminate", "success").await, 1);
    let (status, body) = send(&app, "POST", &force, &admin, None, None).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"), "{body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_sets_must_upgrade_by_and_idle_policies_through_the_api(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Policy test").await;
    let type_id: i64 = sqlx::query_scalar("SELECT workspace_type_id FROM workspace_configurations WHERE id = $1")
        .bind(configuration)
        .fetch_one(&app.db)
        .await
        .expect("stored");
    let admin = token_for(&app, "grace", &["read", "admin"]).await;
    let grace_reader = token_for(&app, "grace", &["read"]).await;
    let upgrade_by = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>("SELECT to_char(upgrade_by, 'YYYY-MM-DD') FROM workspace_types WHERE id = $1")
                .bind(type_id)
                .fetch_one(&db)
                .await
                .expect("stored")
        }
    };

    // Must upgrade by: a date today or later, or null to clear it.
    let path = format!("/catalog/types/{type_id}/upgrade-by");
    assert_eq!(send(&app, "PUT", &path, &grace_reader, Some(json!({"by": "2999-12-31"})), None).await.0, 403, "the admin scope");
    for (bad, why) in [(json!({"by": "2001-01-01"}), "in the past"), (json!({"by": "soon"}), "not a date")] {
        let (status, body) = send(&app, "PUT", &path, &admin, Some(bad), None).await;
        assert_eq!((status, fields(&body)), (422, vec!["by".to_owned()]), "{why}: {body}");
    }
    let (status, body) = send(&app, "PUT", &path, &admin, Some(json!({})), None).await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "by is stated, even to clear it: {body}");
    assert_eq!(upgrade_by(&app).await, None);
    let (status, body) = send(&app, "PUT", &path, &admin, Some(json!({"by": "2999-12-31"})), None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(upgrade_by(&app).await.as_deref(), Some("2999-12-31"));
    let (_, catalog) = send(&app, "GET", "/catalog", &admin, None, None).await;
    let listed = catalog["types"].as_array().expect("types").iter().find(|t| t["id"] == type_id).cloned().expect("listed");
    assert_eq!(listed["upgrade_by"], "2999-12-31", "{listed}");
    assert_eq!(send(&app, "PUT", &path, &admin, Some(json!({"by": null})), None).await.0, 204);
    assert_eq!(upgrade_by(&app).await, None, "cleared");
    assert_eq!(send(&app, "PUT", "/catalog/types/999999/upgrade-by", &admin, Some(json!({"by": null})), None).await.0, 404);
    assert_eq!(audit_rows(&app.db, "grace", "catalog.upgrade_by", "success").await, 2);

    // The idle policy: the form's checks, each field named as on the form.
    let path = format!("/catalog/configurations/{configuration}/idle-policy");
    let scheduled =
        json!({"stop_after_minutes": 120, "cpu_percent": 10, "max_running_hours": 12, "nightly_stop": "20:00", "stop_on_sign_out": true});
    assert_eq!(send(&app, "PUT", &path, &grace_reader, Some(scheduled.clone()), None).await.0, 403, "the admin scope");
    let (status, body) = send(&app, "PUT", &path, &admin, Some(json!({"stop_after_minutes": 5, "cpu_percent": 95})), None).await;
    assert_eq!((status, fields(&body)), (422, vec!["idle_stop_after".to_owned(), "idle_cpu_percent".to_owned()]), "out of range: {body}");
    let (status, body) = send(&app, "PUT", &path, &admin, Some(json!({"stop_after": "never"})), None).await;
    assert_eq!(status, 422, "an unknown field: {body}");
    let (status, changed) = send(&app, "PUT", &path, &admin, Some(scheduled), None).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        changed["draft"]["idle"],
        json!({"stop_after_minutes": 120, "cpu_percent": 10, "max_running_hours": 12, "nightly_stop": "20:00", "stop_on_sign_out": true})
    );
    // The launch form shows what the API set.
    let ada = app.client_signed_in_as("ada").await;
    let (_, offered) = call(&app, &ada, "team_catalog", &[("slug", "genomics")]).await;
    let item = offered["items"].as_array().expect("items").iter().find(|c| c["id"] == configuration).cloned().expect("offered");
    assert_eq!(item["draft"]["idle"], changed["draft"]["idle"], "{item}");
    // null: never stopped for being idle; absent fields take the defaults, as on the form.
    let (status, never) = send(&app, "PUT", &path, &admin, Some(json!({"stop_after_minutes": null})), None).await;
    assert_eq!(status, 200, "{never}");
    assert_eq!(
        never["draft"]["idle"],
        json!({"stop_after_minutes": null, "cpu_percent": 5, "max_running_hours": null, "nightly_stop": null, "stop_on_sign_out": false})
    );
    let (_, defaults) = send(&app, "PUT", &path, &admin, Some(json!({})), None).await;
    assert_eq!(defaults["draft"]["idle"]["stop_after_minutes"], 60, "{defaults}");
    let (status, _) = send(&app, "PUT", "/catalog/configurations/999999/idle-policy", &admin, Some(json!({})), None).await;
    assert_eq!(status, 404);
    assert_eq!(audit_rows(&app.db, "grace", "catalog.idle_policy", "success").await, 3);
}
