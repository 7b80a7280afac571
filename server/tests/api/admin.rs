//! Teams and people managed from the portal: /admin/teams, /admin/people, team members.

use crate::helpers::{PASSWORD, TestApp, audit_rows, call, invalid_fields, spawn_app};
use sqlx::PgPool;

const ROLE_444: &str = "arn:aws:iam::444444444444:role/AtriumPortalAccess";

fn neuroscience<'a>() -> Vec<(&'a str, &'a str)> {
    vec![("slug", "neuroscience"), ("name", "Neuroscience"), ("aws_account_id", "444444444444"), ("role_arn", ROLE_444)]
}

fn with<'a>(form: &[(&'a str, &'a str)], key: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    form.iter().map(|&(k, v)| if k == key { (k, value) } else { (k, v) }).collect()
}

async fn status_of(app: &TestApp, client: &reqwest::Client, path: &str) -> u16 {
    client.get(format!("{}{path}", app.address)).send().await.expect("sent").status().as_u16()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_creates_a_team_with_its_cognito_group_and_bad_fields_are_named(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let grace = app.client_signed_in_as("grace").await;

    let (status, body) = call(&app, &grace, "admin/create_team", &neuroscience()).await;
    assert_eq!(status, 200, "{body}");
    let group = app.cognito().get_group().user_pool_id(&app.identity.user_pool_id).group_name("team-neuroscience").send().await;
    assert!(group.is_ok(), "the team's Cognito group exists");
    let ssm_path: String = sqlx::query_scalar("SELECT ssm_path FROM teams WHERE slug = 'neuroscience'").fetch_one(&db).await.expect("row");
    assert_eq!(ssm_path, "/atrium/teams/neuroscience");
    assert_eq!(audit_rows(&db, "grace", "team.create", "success").await, 1);

    let base = neuroscience();
    let cases: [(Vec<(&str, &str)>, &str); 5] = [
        (base.clone(), "slug"),
        (with(&base, "slug", "Neuro Science"), "slug"),
        (with(&with(&base, "slug", "neuro2"), "aws_account_id", "44444444444"), "aws_account_id"),
        (with(&with(&base, "slug", "neuro3"), "role_arn", "not-an-arn"), "role_arn"),
        (with(&with(&base, "slug", "neuro4"), "role_arn", "arn:aws:iam::111111111111:role/AtriumPortalAccess"), "role_arn"),
    ];
    for (form, field) in cases {
        let (status, body) = call(&app, &grace, "admin/create_team", &form).await;
        assert_eq!(status, 400, "{form:?}: {body}");
        assert_eq!(invalid_fields(&body), [field], "{form:?}");
    }
    let teams: i64 = sqlx::query_scalar("SELECT count(*) FROM teams WHERE slug LIKE 'neuro%'").fetch_one(&db).await.expect("count");
    assert_eq!(teams, 1, "no refused form left a team behind");

    let ada = app.client_signed_in_as("ada").await;
    let (status, _) = call(&app, &ada, "admin/create_team", &with(&base, "slug", "adas-team")).await;
    assert_eq!(status, 403);
    assert_eq!(status_of(&app, &ada, "/admin/teams").await, 403);
}

#[sqlx::test(migrations = "../migrations")]
async fn test_connection_passes_then_names_the_missing_permission(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let grace = app.client_signed_in_as("grace").await;
    call(&app, &grace, "admin/create_team", &neuroscience()).await;

    let (status, check) = call(&app, &grace, "admin/test_connection", &[("slug", "neuroscience")]).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["ok"], true, "{check}");
    let steps: Vec<&str> = check["steps"].as_array().expect("steps").iter().filter_map(|s| s["step"].as_str()).collect();
    assert_eq!(
        steps,
        [
            "Assume the portal's role in the account",
            "Launch workspaces (Service Catalog)",
            "Stop and start workspaces",
            "Upgrade and resize workspaces",
            "Terminate workspaces",
            "Connect to notebooks (SageMaker)",
            "Open SageMaker Studio",
            "Session Manager",
            "Reconcile workspaces with AWS (EC2)",
            "Idle metrics (CloudWatch)",
            "Read the team's parameters under /atrium/teams/neuroscience",
            "Studies (S3)",
            "Costs (Cost Explorer)",
            "The account's Atrium stack",
        ],
        "each capability in words: {check}"
    );
    assert!(check["steps"][13]["detail"].as_str().unwrap_or_default().contains("made by hand"), "no stack in this account: {check}");

    // The only caller of ListPortfolios in the suite is this test: the fault is ours.
    app.emulator_fault(serde_json::json!({ "operation": "ListPortfolios", "fault": "access_denied" })).await;
    let (_, check) = call(&app, &grace, "admin/test_connection", &[("slug", "neuroscience")]).await;
    assert_eq!(check["ok"], false, "{check}");
    let failed: Vec<&serde_json::Value> = check["steps"].as_array().expect("steps").iter().filter(|s| s["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "{check}");
    let detail = failed[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("servicecatalog:ListPortfolios") && detail.contains("missing the permission"), "{detail}");

    let (_, teams) = call(&app, &grace, "admin/teams", &[]).await;
    let row = teams.as_array().expect("rows").iter().find(|t| t["slug"] == "neuroscience").cloned().expect("listed");
    assert_eq!(row["last_check"]["ok"], false, "the list marks the failed test");
    assert_eq!(audit_rows(&db, "grace", "team.test_connection", "success").await, 1);
    assert_eq!(audit_rows(&db, "grace", "team.test_connection", "failure").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn archiving_is_refused_while_workspaces_live_and_then_hides_the_team(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Archive test").await;
    let ada = app.client_signed_in_as("ada").await;
    let (status, id) = call(
        &app,
        &ada,
        "launch_workspace",
        &[
            ("team", "genomics"),
            ("configuration_id", &configuration.to_string()),
            ("name", "before-archive"),
            ("launch_key", "archive-test-key-1"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{id}");
    let grace = app.client_signed_in_as("grace").await;

    let (status, body) = call(&app, &grace, "admin/archive_team", &[("slug", "genomics")]).await;
    assert_eq!(status, 409, "{body}");
    let message = body["Conflict"].as_str().unwrap_or_default();
    assert!(message.contains("1 workspace") && message.contains("before-archive"), "{message}");
    assert_eq!(audit_rows(&db, "grace", "team.archive", "refused").await, 1);

    sqlx::query("UPDATE workspaces SET state = 'terminated'").execute(&db).await.expect("terminated");
    let (status, body) = call(&app, &grace, "admin/archive_team", &[("slug", "genomics")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(status_of(&app, &ada, "/teams/genomics").await, 404);
    let (_, teams) = call(&app, &ada, "my_teams", &[]).await;
    assert!(!teams.to_string().contains("genomics"), "{teams}");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM workspaces WHERE team_slug = 'genomics'").fetch_one(&db).await.expect("count");
    assert_eq!(kept, 1, "history stays");
    let (_, costs) = call(&app, &grace, "costs", &[("days", "30")]).await;
    assert!(costs.to_string().contains("Genomics Lab"), "the archived team's costs stay on the dashboard: {costs}");
    let (_, again) = call(&app, &grace, "admin/archive_team", &[("slug", "genomics")]).await;
    assert!(again["Conflict"].as_str().is_some_and(|m| m.contains("archived already")), "{again}");
}

#[sqlx::test(migrations = "../migrations")]
async fn removing_ada_from_a_team_is_a_403_on_her_next_request(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let ada = app.client_signed_in_as("ada").await;
    assert_eq!(status_of(&app, &ada, "/teams/climate").await, 200);
    let grace = app.client_signed_in_as("grace").await;

    let (status, body) =
        call(&app, &grace, "admin/set_access", &[("username", "ada"), ("roles[researcher]", "on"), ("teams[genomics]", "on")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(status_of(&app, &ada, "/teams/climate").await, 403, "still signed in, no longer a member");
    assert_eq!(status_of(&app, &ada, "/teams/genomics").await, 200);
    let (status, _) = call(&app, &ada, "team_catalog", &[("slug", "climate")]).await;
    assert_eq!(status, 403);
    assert!(!app.groups_of("ada").await.contains(&"team-climate".to_string()));
    let row: (String, String) =
        sqlx::query_as("SELECT team_slug, detail FROM audit_log WHERE action = 'team.member.remove' AND object_id = 'ada'")
            .fetch_one(&db)
            .await
            .expect("audited");
    assert_eq!(row, ("climate".to_string(), "team-climate".to_string()));

    let (status, body) = call(&app, &grace, "admin/set_access", &[("username", "ada"), ("roles[wizard]", "on")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["roles".to_string()]));
    let (status, body) = call(&app, &grace, "admin/set_access", &[("username", "ada"), ("teams[atlantis]", "on")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["teams".to_string()]));
    let (status, _) = call(&app, &grace, "admin/set_access", &[("username", "nobody-here"), ("roles[guest]", "on")]).await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_last_admin_keeps_the_role_and_provider_managed_people_are_read_only(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let grace = app.client_signed_in_as("grace").await;
    let (status, body) = call(&app, &grace, "admin/set_access", &[("username", "grace"), ("roles[researcher]", "on")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["roles".to_string()]), "{body}");
    assert!(app.groups_of("grace").await.contains(&"role-admin".to_string()));
    assert_eq!(audit_rows(&db, "grace", "user.role.remove", "refused").await, 1);

    app.client_signed_in_as("alan").await;
    sqlx::query("UPDATE users SET memberships_from = 'provider' WHERE username = 'alan'").execute(&db).await.expect("updated");
    let (status, body) = call(&app, &grace, "admin/set_access", &[("username", "alan"), ("roles[researcher]", "on")]).await;
    assert_eq!(status, 409, "{body}");
    let (_, people) = call(&app, &grace, "admin/people", &[("search", "alan")]).await;
    assert_eq!(people["people"][0]["managed_by_provider"], true, "{people}");
}

#[sqlx::test(migrations = "../migrations")]
async fn disabling_gus_ends_his_sessions_at_once_and_keeps_him_out(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let gus = app.client_signed_in_as("gus").await;
    let gus_elsewhere = app.client_signed_in_as("gus").await;
    assert_eq!(status_of(&app, &gus, "/teams").await, 200);
    let grace = app.client_signed_in_as("grace").await;

    let (status, body) = call(&app, &grace, "admin/disable_user", &[("username", "gus")]).await;
    assert_eq!(status, 200, "{body}");
    let sessions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM user_sessions WHERE username = 'gus'").fetch_one(&db).await.expect("count");
    assert_eq!(sessions, 0);
    for client in [&gus, &gus_elsewhere] {
        let response = client.get(format!("{}/teams", app.address)).send().await.expect("sent");
        assert_eq!(response.status().as_u16(), 303, "signed out on the next request");
    }
    let refused = app.sign_in("gus", PASSWORD).await;
    assert!(crate::helpers::location(&refused).contains("error"), "a disabled user cannot sign in again");
    let user = app.cognito().admin_get_user().user_pool_id(&app.identity.user_pool_id).username("gus").send().await.expect("user");
    assert!(!user.enabled());
    assert_eq!(audit_rows(&db, "grace", "user.disable", "success").await, 1);

    let (status, body) = call(&app, &grace, "admin/disable_user", &[("username", "grace")]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(audit_rows(&db, "grace", "user.disable", "refused").await, 1);
    let (status, _) = call(&app, &grace, "admin/disable_user", &[("username", "nobody-here")]).await;
    assert_eq!(status, 404);

    let (status, _) = call(&app, &grace, "admin/enable_user", &[("username", "gus")]).await;
    assert_eq!(status, 200);
    app.client_signed_in_as("gus").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_invited_user_gets_a_temporary_password_roles_and_teams(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let grace = app.client_signed_in_as("grace").await;
    let invite = [
        ("username", "lin"),
        ("email", "lin@example.edu"),
        ("roles[researcher]", "on"),
        ("teams[physics]", "on"),
        ("temporary_password", "Welcome-2026x"),
    ];
    let (status, body) = call(&app, &grace, "admin/invite_user", &invite).await;
    assert_eq!(status, 200, "{body}");
    let mut groups = app.groups_of("lin").await;
    groups.sort();
    assert_eq!(groups, ["role-researcher", "team-physics"]);
    let signed_in = app.sign_in("lin", "Welcome-2026x").await;
    assert!(crate::helpers::location(&signed_in).starts_with("/new-password"), "{}", crate::helpers::location(&signed_in));
    assert_eq!(audit_rows(&db, "grace", "user.invite", "success").await, 1);

    let (status, body) = call(&app, &grace, "admin/invite_user", &invite).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["username".to_string()]), "{body}");
    let bad_email = [("username", "lin2"), ("email", "lin-at-example"), ("roles[researcher]", "on")];
    let (status, body) = call(&app, &grace, "admin/invite_user", &bad_email).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["email".to_string()]));

    let (_, people) = call(&app, &grace, "admin/people", &[("search", "lin")]).await;
    let lin = &people["people"][0];
    assert_eq!(
        (lin["username"].as_str(), lin["status"].as_str(), lin["last_sign_in"].as_str()),
        (Some("lin"), Some("MustChangePassword"), None),
        "{people}"
    );
    let (_, by_email) = call(&app, &grace, "admin/people", &[("search", "gus@")]).await;
    assert_eq!(
        by_email["people"].as_array().map(|p| p.iter().map(|p| p["username"].clone()).collect::<Vec<_>>()),
        Some(vec![serde_json::json!("gus")])
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_team_admin_manages_her_own_teams_researchers_and_nothing_else(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let rosalind = app.client_signed_in_as("rosalind").await;
    let alan = app.client_signed_in_as("alan").await;
    assert_eq!(status_of(&app, &alan, "/teams/genomics").await, 403);

    let (status, body) = call(&app, &rosalind, "add_team_member", &[("team", "genomics"), ("username", "alan")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(status_of(&app, &alan, "/teams/genomics").await, 200, "alan is in on his next request");
    assert_eq!(audit_rows(&db, "rosalind", "team.member.add", "success").await, 1);
    let (_, members) = call(&app, &rosalind, "team_members", &[("team", "genomics")]).await;
    let names: Vec<&str> = members["members"].as_array().expect("members").iter().filter_map(|m| m["username"].as_str()).collect();
    assert_eq!(names, ["ada", "alan", "gus", "rosalind"]);

    let (status, body) = call(&app, &rosalind, "add_team_member", &[("team", "genomics"), ("username", "nobody-here")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["username".to_string()]));
    let (status, _) = call(&app, &rosalind, "add_team_member", &[("team", "genomics"), ("username", "grace")]).await;
    assert_eq!(status, 403, "admins are the admins' business");
    let (status, _) = call(&app, &rosalind, "add_team_member", &[("team", "climate"), ("username", "gus")]).await;
    assert_eq!(status, 403, "another team");
    assert_eq!(status_of(&app, &rosalind, "/teams/climate/members").await, 403);
    assert_eq!(status_of(&app, &rosalind, "/admin/teams").await, 403);
    assert_eq!(status_of(&app, &rosalind, "/teams/genomics/members").await, 200);

    let (status, _) = call(&app, &rosalind, "remove_team_member", &[("team", "genomics"), ("username", "gus")]).await;
    assert_eq!(status, 200);
    assert!(!app.groups_of("gus").await.contains(&"team-genomics".to_string()));

    let ada = app.client_signed_in_as("ada").await;
    let (status, _) = call(&app, &ada, "add_team_member", &[("team", "genomics"), ("username", "gus")]).await;
    assert_eq!(status, 403, "members who are not team admins");
    assert_eq!(status_of(&app, &ada, "/teams/genomics/members").await, 403);
}
