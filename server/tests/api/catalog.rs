//! The admin catalog against the emulator's Service Catalog, seeded by dev/test.

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use sqlx::PgPool;

async fn json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_sees_the_service_catalog_products_and_their_versions(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("grace", PASSWORD).await;
    let (status, page) = app.get_text("/admin/catalog").await;
    assert_eq!(status, 200);
    for product in ["Linux workstation (EC2)", "SageMaker notebook", "EMR cluster"] {
        assert!(page.contains(product), "{product} is listed");
    }
    assert!(page.contains("Adds the size of the data volume."), "versions are listed with their description");
}

#[sqlx::test(migrations = "../migrations")]
async fn nobody_but_an_admin_reaches_the_catalog(db: PgPool) {
    let app = spawn_app(db).await;
    let (product_id, version_id) = app.version_of("Linux workstation (EC2)", "v2").await;
    let (status, _) = json(app.post_form("/api/admin/catalog", &[]).await).await;
    assert_eq!(status, 401, "anonymous");

    for user in ["ada", "carol", "gus"] {
        let app_user = app.client_signed_in_as(user).await;
        let page = app_user.get(format!("{}/admin/catalog", app.address)).send().await.expect("sent");
        assert_eq!(page.status().as_u16(), 403, "{user} on the page");
        let import = app_user
            .post(format!("{}/api/admin/import_version", app.address))
            .form(&[("product_id", product_id.as_str()), ("version_id", version_id.as_str())])
            .send()
            .await
            .expect("sent");
        assert_eq!(import.status().as_u16(), 403, "{user} importing");
        let approve =
            app_user.post(format!("{}/api/admin/approve_type", app.address)).form(&[("type_id", "1")]).send().await.expect("sent");
        assert_eq!(approve.status().as_u16(), 403, "{user} approving");
    }
    let imported: i64 = sqlx::query_scalar("SELECT count(*) FROM workspace_types").fetch_one(&app.db).await.expect("count");
    assert_eq!(imported, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_imports_approves_and_retires_a_version(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("grace", PASSWORD).await;
    let (product_id, version_id) = app.version_of("Linux workstation (EC2)", "v2").await;
    let form = [("product_id", product_id.as_str()), ("version_id", version_id.as_str())];

    let (status, imported) = json(app.post_form("/api/admin/import_version", &form).await).await;
    assert_eq!(status, 200, "{imported}");
    assert_eq!(imported["status"], "imported");
    assert_eq!(imported["version_name"], "v2");
    assert_eq!(imported["has_stop_start"], true);
    let keys: Vec<&str> = imported["parameters"].as_array().expect("list").iter().filter_map(|p| p["key"].as_str()).collect();
    assert!(keys.contains(&"VolumeSize"), "v2's parameters are kept: {keys:?}");
    let volume = imported["parameters"].as_array().expect("list").iter().find(|p| p["key"] == "VolumeSize").expect("VolumeSize");
    assert_eq!(volume["constraints"]["max_value"], 512.0);
    let id = imported["id"].as_i64().expect("id").to_string();

    let (_, again) = json(app.post_form("/api/admin/import_version", &form).await).await;
    assert_eq!(again["id"], imported["id"], "importing twice keeps one type");

    let (status, approved) = json(app.post_form("/api/admin/approve_type", &[("type_id", &id)]).await).await;
    assert_eq!((status, approved["status"].as_str()), (200, Some("approved")));
    let (status, refused) = json(app.post_form("/api/admin/approve_type", &[("type_id", &id)]).await).await;
    assert_eq!(status, 400, "already approved: {refused}");
    assert!(refused.to_string().contains("cannot become approved"), "{refused}");

    let (status, retired) = json(app.post_form("/api/admin/retire_type", &[("type_id", &id)]).await).await;
    assert_eq!((status, retired["status"].as_str()), (200, Some("retired")));

    let (_, page) = app.get_text("/admin/catalog").await;
    assert!(page.contains("retired"));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_emr_version_without_actions_is_terminate_only(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("grace", PASSWORD).await;
    let (product_id, version_id) = app.version_of("EMR cluster", "v1").await;
    let (status, imported) =
        json(app.post_form("/api/admin/import_version", &[("product_id", product_id.as_str()), ("version_id", version_id.as_str())]).await)
            .await;
    assert_eq!(status, 200);
    assert_eq!(imported["has_stop_start"], false);
}

#[sqlx::test(migrations = "../migrations")]
async fn importing_an_unknown_version_is_a_404_not_a_500(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("grace", PASSWORD).await;
    let (status, body) =
        json(app.post_form("/api/admin/import_version", &[("product_id", "prod-nope"), ("version_id", "pa-nope")]).await).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = json(app.post_form("/api/admin/approve_type", &[("type_id", "424242")]).await).await;
    assert_eq!(status, 404);
}

/// Imports and approves a version as grace; the type's id.
async fn approved_type(app: &TestApp, product: &str, version: &str) -> String {
    let (product_id, version_id) = app.version_of(product, version).await;
    let (_, imported) =
        json(app.post_form("/api/admin/import_version", &[("product_id", &product_id), ("version_id", &version_id)]).await).await;
    let id = imported["id"].as_i64().expect("imported").to_string();
    let (status, _) = json(app.post_form("/api/admin/approve_type", &[("type_id", &id)]).await).await;
    assert_eq!(status, 200);
    id
}

fn configuration_form<'a>(type_id: &'a str, name: &'a str, instance_type: &'a str, roles: &[&'a str]) -> Vec<(String, &'a str)> {
    let mut form = vec![
        ("type_id".to_string(), type_id),
        ("name".to_string(), name),
        ("description".to_string(), "Bigger workstation"),
        ("parameters[InstanceType]".to_string(), instance_type),
        ("parameters[VolumeSize]".to_string(), ""),
        ("allowed_teams[genomics]".to_string(), "on"),
        ("tags".to_string(), "project=imaging"),
        ("estimated_hourly_cost".to_string(), "0.42"),
    ];
    form.extend(roles.iter().map(|r| (format!("allowed_roles[{r}]"), "on")));
    form
}

async fn post(app: &TestApp, path: &str, form: &[(String, &str)]) -> (u16, serde_json::Value) {
    json(app.http.post(format!("{}{path}", app.address)).form(form).send().await.expect("sent")).await
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_writes_a_validated_configuration_that_researchers_of_the_team_then_see(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("grace", PASSWORD).await;
    let type_id = approved_type(&app, "Linux workstation (EC2)", "v2").await;

    let (status, refused) =
        post(&app, "/api/admin/create_configuration", &configuration_form(&type_id, "Large", "p4d.24xlarge", &["researcher"])).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("InstanceType: must be one of t3.medium, t3.large, m5.xlarge"), "{refused}");

    let (status, created) =
        post(&app, "/api/admin/create_configuration", &configuration_form(&type_id, "Large workstation", "t3.large", &["researcher"]))
            .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["draft"]["estimated_hourly_cost_cents"], 42);
    assert_eq!(created["draft"]["parameter_values"], serde_json::json!({ "InstanceType": "t3.large" }));

    let (status, taken) =
        post(&app, "/api/admin/create_configuration", &configuration_form(&type_id, "Large workstation", "t3.large", &["researcher"]))
            .await;
    assert_eq!(status, 400);
    assert!(taken.to_string().contains("exists already"), "{taken}");

    let researcher = app.client_signed_in_as("ada").await;
    let page = researcher.get(format!("{}/teams/genomics/catalog", app.address)).send().await.expect("sent");
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.expect("text");
    assert!(page.contains("Large workstation") && page.contains("$0.42"), "ada sees it with its cost");
    let climate = researcher.get(format!("{}/teams/climate/catalog", app.address)).send().await.expect("sent").text().await.expect("text");
    assert!(!climate.contains("Large workstation"), "not offered on a team it is not for");

    let guest = app.client_signed_in_as("gus").await;
    let page = guest.get(format!("{}/teams/genomics/catalog", app.address)).send().await.expect("sent").text().await.expect("text");
    assert!(!page.contains("Large workstation"), "a guest does not see a researcher-only configuration");

    let outsider = app.client_signed_in_as("alan").await;
    let page = outsider.get(format!("{}/teams/genomics/catalog", app.address)).send().await.expect("sent");
    assert_eq!(page.status().as_u16(), 403, "another team's catalog");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_retired_type_leaves_the_team_catalog_and_takes_no_new_configurations(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("grace", PASSWORD).await;
    let type_id = approved_type(&app, "Linux workstation (EC2)", "v2").await;
    let (status, _) =
        post(&app, "/api/admin/create_configuration", &configuration_form(&type_id, "Standard", "t3.medium", &["researcher", "guest"]))
            .await;
    assert_eq!(status, 200);
    let (_, page) = app.get_text("/teams/genomics/catalog").await;
    assert!(page.contains("Standard"), "an admin on the team sees it too");

    app.post_form("/api/admin/retire_type", &[("type_id", &type_id)]).await;
    let (_, page) = app.get_text("/teams/genomics/catalog").await;
    assert!(!page.contains("Standard"), "no new launches of a retired type");
    let (status, refused) =
        post(&app, "/api/admin/create_configuration", &configuration_form(&type_id, "Another", "t3.medium", &["researcher"])).await;
    assert_eq!(status, 400);
    assert!(refused.to_string().contains("approve it before"), "{refused}");
}
