//! Homes on the team drive: a person's first launch of a template that takes `HomeAccessPoint`
//! makes their EFS access point in the team's file system (moto's EFS, in the team's account,
//! through the team's role), once per person and team, with their own POSIX uid; the launch
//! passes it with the team drive and the file system. A disabled person's home stays until an
//! admin removes it.

use crate::helpers::{TestApp, api, call, in_team_account, spawn_app_with, token_for};
use serde_json::Value;
use sqlx::PgPool;

const GENOMICS_ROLE: &str = "arn:aws:iam::111111111111:role/AtriumPortalAccess";

async fn launch(app: &TestApp, client: &reqwest::Client, configuration: &str, name: &str) -> Value {
    let form = [("team", "genomics"), ("configuration_id", configuration), ("name", name), ("launch_key", name)];
    let response = client.post(format!("{}/api/launch_workspace", app.address)).form(&form).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 200, "{name}");
    let id: Value = response.json().await.expect("an id");
    sqlx::query_scalar("SELECT parameter_values FROM workspaces WHERE id = $1")
        .bind(id.as_str().expect("an id"))
        .fetch_one(&app.db)
        .await
        .expect("stored")
}

/// The team's access points, as EFS lists them: (id, root path, uid).
async fn access_points(app: &TestApp, file_system: &str) -> Vec<(String, String, i64)> {
    let efs = aws_sdk_efs::Client::new(&in_team_account(&app.sdk, GENOMICS_ROLE, "homes-test").await);
    let listed = efs.describe_access_points().file_system_id(file_system).send().await.expect("listed");
    listed
        .access_points()
        .iter()
        .map(|ap| {
            (
                ap.access_point_id().unwrap_or_default().to_owned(),
                ap.root_directory().and_then(|r| r.path()).unwrap_or_default().to_owned(),
                ap.posix_user().map_or(0, |p| p.uid()),
            )
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_home_is_made_once_per_person_and_team_passed_at_launch_and_removed_by_an_admin_once_they_left(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let plain = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await.to_string();
    let with_home = app.configuration_for_genomics("Linux workstation (EC2)", "v2", "Workstation with a home").await.to_string();
    let (ada, rosalind) = (app.client_signed_in_as("ada").await, app.client_signed_in_as("rosalind").await);
    let (_, team_home) = call(&app, &ada, "team_home", &[("slug", "genomics")]).await;
    let file_system = team_home["metadata"]["efs_file_system"].as_str().expect("the team's file system").to_owned();
    let drive = team_home["metadata"]["efs_access_point"].as_str().expect("the team drive").to_owned();
    assert_eq!(team_home["home"], Value::Null, "no home before a launch: {team_home}");

    // A template that takes no home makes none.
    let values = launch(&app, &ada, &plain, "ada-plain").await;
    assert!(values.get("HomeAccessPoint").is_none(), "{values}");
    let homes: i64 = sqlx::query_scalar("SELECT count(*) FROM user_homes").fetch_one(&app.db).await.expect("counted");
    assert_eq!(homes, 0);

    let first = launch(&app, &ada, &with_home, "ada-home-1").await;
    let second = launch(&app, &ada, &with_home, "ada-home-2").await;
    let home = first["HomeAccessPoint"].as_str().expect("her home is passed").to_owned();
    assert_eq!(second["HomeAccessPoint"], home.as_str(), "made once: {second}");
    assert_eq!((first["TeamFileSystem"].as_str(), first["TeamAccessPoint"].as_str()), (Some(file_system.as_str()), Some(drive.as_str())));
    let uid: i32 = sqlx::query_scalar("SELECT posix_uid FROM users WHERE username = 'ada'").fetch_one(&app.db).await.expect("a uid");
    assert!(uid >= 20_000, "{uid}");
    let made = access_points(&app, &file_system).await;
    assert!(made.contains(&(home.clone(), "/home/ada".to_owned(), i64::from(uid))), "{made:?}");
    assert_eq!(made.iter().filter(|(_, path, _)| path == "/home/ada").count(), 1, "one home: {made:?}");

    let theirs = launch(&app, &rosalind, &with_home, "rosalind-home").await;
    assert_ne!(theirs["HomeAccessPoint"], home.as_str(), "each person has their own");
    let uids: Vec<i32> =
        sqlx::query_scalar("SELECT posix_uid FROM users WHERE posix_uid IS NOT NULL ORDER BY 1").fetch_all(&app.db).await.expect("uids");
    assert_eq!(uids.len(), 2, "{uids:?}");
    let (_, team_home) = call(&app, &ada, "team_home", &[("slug", "genomics")]).await;
    assert_eq!(team_home["home"], "/home/ada", "{team_home}");
    assert_eq!(crate::helpers::audit_rows(&app.db, "ada", "home.create", "success").await, 1);

    // Disabled, her home stays (her files with it) until an admin removes it.
    let grace = token_for(&app, "grace", &["read", "admin"]).await;
    let (status, body) = api(&app, "DELETE", "/admin/teams/genomics/homes/ada", Some(&grace), None).await;
    assert_eq!(status, 404, "not while she is active: {body}");
    sqlx::query("UPDATE users SET disabled_at = now() WHERE username = 'ada'").execute(&app.db).await.expect("disabled");
    let (_, teams) = api(&app, "GET", "/admin/teams", Some(&grace), None).await;
    let genomics = teams.as_array().expect("teams").iter().find(|t| t["slug"] == "genomics").cloned().expect("genomics");
    assert_eq!(genomics["left_homes"][0]["username"], "ada", "{genomics}");
    assert_eq!(genomics["left_homes"][0]["access_point_id"], home.as_str());
    let rosalind_admin = token_for(&app, "rosalind", &["read"]).await;
    let (status, _) = api(&app, "DELETE", "/admin/teams/genomics/homes/ada", Some(&rosalind_admin), None).await;
    assert_eq!(status, 403, "a team admin is not an admin");
    let (status, body) = api(&app, "DELETE", "/admin/teams/genomics/homes/ada", Some(&grace), None).await;
    assert_eq!(status, 204, "{body}");
    assert!(!access_points(&app, &file_system).await.iter().any(|(id, ..)| *id == home), "the access point is gone");
    assert_eq!(api(&app, "DELETE", "/admin/teams/genomics/homes/ada", Some(&grace), None).await.0, 404, "removed once");
    assert_eq!(crate::helpers::audit_rows(&app.db, "grace", "home.remove", "success").await, 1);
}
