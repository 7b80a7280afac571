//! The catalog as code: export, a dry run that changes nothing, apply in one audited change
//! set, idempotence, and a file with problems (each with its line) that changes nothing.

use crate::helpers::{TestApp, audit_rows, call, spawn_app};
use serde_json::Value;
use sqlx::PgPool;

async fn admin_token(app: &TestApp) -> String {
    let grace = app.client_signed_in_as("grace").await;
    let (status, created) = call(app, &grace, "create_token", &[("name", "catalog"), ("days", "1"), ("scope_admin", "on")]).await;
    assert_eq!(status, 200, "{created}");
    created["secret"].as_str().expect("secret").to_owned()
}

async fn export(app: &TestApp, token: &str) -> String {
    let response =
        reqwest::Client::new().get(format!("{}/api/v1/catalog/export", app.address)).bearer_auth(token).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.expect("yaml")
}

async fn apply(app: &TestApp, token: &str, yaml: &str, dry_run: bool) -> (u16, Value) {
    let query = if dry_run { "?dry_run=true" } else { "" };
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/catalog/apply{query}", app.address))
        .bearer_auth(token)
        .header("content-type", "application/yaml")
        .body(yaml.to_owned())
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

/// (name, cost in cents, teams, retired) of every configuration.
async fn catalog_rows(app: &TestApp) -> Vec<(String, i32, Vec<String>, bool)> {
    sqlx::query_as(
        "SELECT name, estimated_hourly_cost_cents, allowed_teams, retired_at IS NOT NULL FROM workspace_configurations ORDER BY name",
    )
    .fetch_all(&app.db)
    .await
    .expect("rows")
}

fn summary(changes: &Value) -> Vec<String> {
    changes["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            format!("{} {} {}", c["action"].as_str().unwrap_or(""), c["kind"].as_str().unwrap_or(""), c["name"].as_str().unwrap_or(""))
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_changed_file_is_previewed_then_applied_once_in_one_change_set(db: PgPool) {
    let app = spawn_app(db).await;
    app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    let token = admin_token(&app).await;
    let exported = export(&app, &token).await;
    assert!(exported.contains("product: Linux workstation (EC2)") && exported.contains("name: Standard"), "{exported}");
    let (status, same) = apply(&app, &token, &exported, false).await;
    assert_eq!((status, same["changes"].as_array().map(Vec::len)), (200, Some(0)), "the export applies as no changes: {same}");

    let changed = exported.replace("estimated_hourly_cost: \"0.20\"", "estimated_hourly_cost: \"0.35\"").replacen(
        "- genomics\n",
        "- genomics\n          - climate\n",
        1,
    ) + "  - product: Linux workstation (EC2)\n    version: v2\n    configurations:\n      - name: Big workstation\n        estimated_hourly_cost: \"0.80\"\n        allowed_roles: [researcher]\n        allowed_teams: [genomics]\n";
    let before = catalog_rows(&app).await;
    let (status, preview) = apply(&app, &token, &changed, true).await;
    assert_eq!(status, 200, "{preview}\n{changed}");
    assert_eq!(
        summary(&preview),
        ["add type Linux workstation (EC2) v2", "change configuration Standard", "add configuration Big workstation"]
    );
    let fields: Vec<(String, String, String)> = preview["changes"][1]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| (f["field"].as_str().unwrap_or("").into(), f["from"].as_str().unwrap_or("").into(), f["to"].as_str().unwrap_or("").into()))
        .collect();
    assert_eq!(
        fields,
        [
            ("estimated_hourly_cost".to_owned(), "0.20".to_owned(), "0.35".to_owned()),
            ("allowed_teams".to_owned(), "genomics".to_owned(), "climate, genomics".to_owned())
        ]
    );
    assert_eq!(preview["applied"], false);
    assert_eq!(catalog_rows(&app).await, before, "a dry run changes nothing");
    assert_eq!(audit_rows(&app.db, "grace", "catalog.apply", "success").await, 0);

    let (status, applied) = apply(&app, &token, &changed, false).await;
    assert_eq!((status, applied["applied"].as_bool()), (200, Some(true)), "{applied}");
    let rows = catalog_rows(&app).await;
    assert_eq!(rows[0], ("Big workstation".into(), 80, vec!["genomics".into()], false));
    assert_eq!(rows[1], ("Standard".into(), 35, vec!["climate".into(), "genomics".into()], false));
    assert_eq!(audit_rows(&app.db, "grace", "catalog.apply", "success").await, 1, "one change set");

    let (_, again) = apply(&app, &token, &changed, false).await;
    assert_eq!((again["applied"].as_bool(), again["changes"].as_array().map(Vec::len)), (Some(false), Some(0)), "idempotent: {again}");
    assert_eq!(audit_rows(&app.db, "grace", "catalog.apply", "success").await, 1);

    // Leaving v1 out retires it and its configuration; launches of it stop at once.
    let only_v2 = "types:\n  - product: Linux workstation (EC2)\n    version: v2\n    configurations:\n      - name: Big workstation\n        estimated_hourly_cost: \"0.80\"\n        allowed_roles: [researcher]\n        allowed_teams: [genomics]\n";
    let (_, retired) = apply(&app, &token, only_v2, false).await;
    assert_eq!(summary(&retired), ["retire type Linux workstation (EC2) v1", "retire configuration Standard"]);
    let ada = app.client_signed_in_as("ada").await;
    let (_, offered) = call(&app, &ada, "team_catalog", &[("slug", "genomics")]).await;
    assert!(!offered.to_string().contains("\"Standard\""), "{offered}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_file_with_problems_names_each_line_and_field_and_changes_nothing(db: PgPool) {
    let app = spawn_app(db).await;
    app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    let token = admin_token(&app).await;
    let before = catalog_rows(&app).await;
    let bad = "\
types:
  - product: Linux workstation (EC2)
    version: v1
    configurations:
      - name: Standard
        estimated_hourly_cost: \"0.20\"
        allowed_roles: [researcher, wizard]
        allowed_teams: [genomics, atlantis]
        parameters:
          InstanceType: t3.enormous
  - product: No such product
    version: v1
";
    let (status, body) = apply(&app, &token, bad, false).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<(String, String)> = body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| (f["field"].as_str().unwrap_or("").into(), f["message"].as_str().unwrap_or("").into()))
        .collect();
    assert_eq!(fields.len(), 1, "Service Catalog is asked first: {fields:?}");
    assert_eq!(fields[0].0, "types[1].product");
    assert!(fields[0].1.starts_with("line 11: Service Catalog has no product"), "{fields:?}");

    let (status, body) = apply(&app, &token, &bad.replace("  - product: No such product\n    version: v1\n", ""), false).await;
    assert_eq!(status, 422, "{body}");
    let messages: Vec<String> = body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| format!("{} {}", f["field"].as_str().unwrap_or(""), f["message"].as_str().unwrap_or("")))
        .collect();
    let has = |prefix: &str| messages.iter().any(|m| m.starts_with(prefix));
    assert!(has("types[0].configurations[0].allowed_roles line 7:"), "{messages:?}");
    assert!(has("types[0].configurations[0].parameters.InstanceType line 10:"), "{messages:?}");
    assert!(has("types[0].configurations[0].allowed_teams[1] line 8: There is no team \"atlantis\""), "{messages:?}");

    let (status, body) = apply(&app, &token, "types:\n  - product: x\n    colour: red\n", false).await;
    assert_eq!(status, 422);
    assert!(body["error"]["fields"][0]["message"].as_str().unwrap_or("").starts_with("line 3: unknown field `colour`"), "{body}");
    assert_eq!(catalog_rows(&app).await, before, "nothing was applied");

    let researcher = {
        let ada = app.client_signed_in_as("ada").await;
        let (_, created) = call(&app, &ada, "create_token", &[("name", "x"), ("days", "1"), ("scope_read", "on")]).await;
        created["secret"].as_str().expect("secret").to_owned()
    };
    assert_eq!(apply(&app, &researcher, "types: []\n", false).await.0, 403);
}
