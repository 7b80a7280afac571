//! /api/v1 at parity with the pages: api_admin. Team members (team admins), team onboarding,
//! people, budgets and notification targets (admins), and the caller's settings and tokens:
//! each endpoint has the page's effect, needs its scope, and keeps the services' checks.

use crate::helpers::{api, api_as, audit_rows, call, error_code, spawn_app, token_for};
use serde_json::{Value, json};
use sqlx::PgPool;

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array().expect("a list").iter().filter_map(|item| item[field].as_str().map(str::to_owned)).collect()
}

fn invalid(body: &Value) -> Vec<String> {
    assert_eq!(error_code(body), "invalid", "{body}");
    names(&body["error"]["fields"], "field")
}

#[sqlx::test(migrations = "../migrations")]
async fn a_team_admin_adds_and_removes_members_of_her_team_only_with_the_teams_scope(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let rosalind = token_for(&app, "rosalind", &["teams"]).await;
    let (status, members) = api(&app, "GET", "/teams/genomics/members", Some(&rosalind), None).await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(names(&members["members"], "username"), ["ada", "gus", "rosalind"]);
    let page = app.client_signed_in_as("rosalind").await;
    let (_, on_page) = call(&app, &page, "team_members", &[("team", "genomics")]).await;
    assert_eq!(members, on_page, "the page's list, field for field");

    let reader = token_for(&app, "rosalind", &["read"]).await;
    let (status, body) = api_as(&app, "POST", "/teams/genomics/members", &reader, Some(json!({"username": "alan"}))).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "a read-only token changes nothing");
    assert!(!app.groups_of("alan").await.contains(&"team-genomics".to_string()));

    let (status, body) = api_as(&app, "POST", "/teams/genomics/members", &rosalind, Some(json!({"username": "alan"}))).await;
    assert_eq!(status, 204, "{body}");
    assert!(app.groups_of("alan").await.contains(&"team-genomics".to_string()));
    assert_eq!(audit_rows(&db, "rosalind", "team.member.add", "success").await, 1);
    let (_, on_page) = call(&app, &page, "team_members", &[("team", "genomics")]).await;
    assert_eq!(names(&on_page["members"], "username"), ["ada", "alan", "gus", "rosalind"], "the page sees the new member");

    let (status, body) = api_as(&app, "POST", "/teams/genomics/members", &rosalind, Some(json!({"username": "alan"}))).await;
    assert_eq!((status, invalid(&body)), (422, vec!["username".to_owned()]), "a member already");
    let (status, body) = api_as(&app, "POST", "/teams/genomics/members", &rosalind, Some(json!({"username": "nobody-here"}))).await;
    assert_eq!((status, invalid(&body)), (422, vec!["username".to_owned()]), "no such user");
    let (status, _) = api_as(&app, "POST", "/teams/genomics/members", &rosalind, Some(json!({"username": "grace"}))).await;
    assert_eq!(status, 403, "admins are the admins' business");
    let (status, _) = api_as(&app, "POST", "/teams/climate/members", &rosalind, Some(json!({"username": "gus"}))).await;
    assert_eq!(status, 403, "another team");
    assert_eq!(api(&app, "GET", "/teams/climate/members", Some(&rosalind), None).await.0, 403);
    assert_eq!(api(&app, "GET", "/teams/atlantis/members", Some(&rosalind), None).await.0, 404);

    let (status, _) = api_as(&app, "DELETE", "/teams/genomics/members/gus", &reader, None).await;
    assert_eq!(status, 403, "removing needs the teams scope too");
    let (status, body) = api_as(&app, "DELETE", "/teams/genomics/members/gus", &rosalind, None).await;
    assert_eq!(status, 204, "{body}");
    assert!(!app.groups_of("gus").await.contains(&"team-genomics".to_string()));
    let (status, _) = api_as(&app, "DELETE", "/teams/genomics/members/gus", &rosalind, None).await;
    assert_eq!(status, 404, "not a member any more");

    let ada = token_for(&app, "ada", &["teams"]).await;
    assert_eq!(api(&app, "GET", "/teams/genomics/members", Some(&ada), None).await.0, 403, "a member who is not its admin");
    let (status, _) = api_as(&app, "POST", "/teams/genomics/members", &ada, Some(json!({"username": "gus"}))).await;
    assert_eq!(status, 403);
    let (status, _) = api_as(&app, "DELETE", "/teams/genomics/members/alan", &ada, None).await;
    assert_eq!(status, 403);
    assert!(app.groups_of("alan").await.contains(&"team-genomics".to_string()));
}

const ROLE_444: &str = "arn:aws:iam::444444444444:role/AtriumPortalAccess";

fn neuroscience() -> Value {
    json!({"slug": "neuroscience", "name": "Neuroscience", "aws_account_id": "444444444444", "role_arn": ROLE_444})
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_onboards_edits_tests_and_archives_a_team_with_the_admin_scope(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let grace = token_for(&app, "grace", &["admin"]).await;
    let reader = token_for(&app, "grace", &["read"]).await;
    let (status, body) = api(&app, "POST", "/admin/teams", Some(&reader), Some(neuroscience())).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    assert_eq!(api(&app, "GET", "/admin/teams", Some(&reader), None).await.0, 403);

    let (status, created) = api(&app, "POST", "/admin/teams", Some(&grace), Some(neuroscience())).await;
    assert_eq!((status, &created), (201, &json!({"slug": "neuroscience"})));
    let group = app.cognito().get_group().user_pool_id(&app.identity.user_pool_id).group_name("team-neuroscience").send().await;
    assert!(group.is_ok(), "the team's Cognito group exists, as from the page");
    let ssm_path: String = sqlx::query_scalar("SELECT ssm_path FROM teams WHERE slug = 'neuroscience'").fetch_one(&db).await.expect("row");
    assert_eq!(ssm_path, "/atrium/teams/neuroscience");
    assert_eq!(audit_rows(&db, "grace", "team.create", "success").await, 1);

    let (status, body) = api(&app, "POST", "/admin/teams", Some(&grace), Some(neuroscience())).await;
    assert_eq!((status, invalid(&body)), (422, vec!["slug".to_owned()]), "taken");
    let mut elsewhere = neuroscience();
    elsewhere["slug"] = json!("neuro2");
    elsewhere["role_arn"] = json!("arn:aws:iam::111111111111:role/AtriumPortalAccess");
    let (status, body) = api(&app, "POST", "/admin/teams", Some(&grace), Some(elsewhere)).await;
    assert_eq!((status, invalid(&body)), (422, vec!["role_arn".to_owned()]), "a role in another account");

    let mut change = neuroscience();
    change.as_object_mut().expect("an object").remove("slug");
    change["name"] = json!("Neuroscience Lab");
    change["time_zone"] = json!("Europe/Berlin");
    let (status, body) = api_as(&app, "PUT", "/admin/teams/neuroscience", &grace, Some(change.clone())).await;
    assert_eq!(status, 204, "{body}");
    let (name, zone): (String, String) =
        sqlx::query_as("SELECT name, time_zone FROM teams WHERE slug = 'neuroscience'").fetch_one(&db).await.expect("row");
    assert_eq!((name.as_str(), zone.as_str()), ("Neuroscience Lab", "Europe/Berlin"));
    let (status, _) = api_as(&app, "PUT", "/admin/teams/atlantis", &grace, Some(change.clone())).await;
    assert_eq!(status, 404);
    change["time_zone"] = json!("Mars/Olympus");
    let (status, body) = api_as(&app, "PUT", "/admin/teams/neuroscience", &grace, Some(change)).await;
    assert_eq!((status, invalid(&body)), (422, vec!["time_zone".to_owned()]));

    let (status, check) = api(&app, "POST", "/admin/teams/neuroscience/test-connection", Some(&grace), None).await;
    assert_eq!(status, 200, "{check}");
    // Whether it passes is admin.rs's to test: its fault on ListPortfolios may be taken by this call.
    assert_eq!(check["steps"].as_array().map(Vec::len), Some(14), "the role, twelve capabilities and the stack: {check}");
    let checks = audit_rows(&db, "grace", "team.test_connection", "success").await
        + audit_rows(&db, "grace", "team.test_connection", "failure").await;
    assert_eq!(checks, 1, "audited as from the page");

    let (status, body) = api_as(&app, "POST", "/admin/teams/neuroscience/archive", &grace, None).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = api_as(&app, "POST", "/admin/teams/neuroscience/archive", &grace, None).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"), "archived already");

    let (status, teams) = api(&app, "GET", "/admin/teams", Some(&grace), None).await;
    assert_eq!(status, 200, "{teams}");
    let page = app.client_signed_in_as("grace").await;
    let (_, on_page) = call(&app, &page, "admin/teams", &[]).await;
    assert_eq!(teams, on_page, "the page's list, field for field");
    let row = teams.as_array().expect("rows").iter().find(|t| t["slug"] == "neuroscience").cloned().expect("listed");
    assert_eq!((&row["archived"], &row["last_check"]), (&json!(true), &check), "{row}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_non_admins_token_given_the_admin_scope_behind_the_pages_back_is_still_refused(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let ada = token_for(&app, "ada", &["read"]).await;
    sqlx::query("UPDATE api_tokens SET scopes = ARRAY['read', 'admin'] WHERE username = 'ada'").execute(&db).await.expect("scoped");
    for (method, path, body) in [
        ("GET", "/admin/teams", None),
        ("POST", "/admin/teams", Some(neuroscience())),
        ("GET", "/admin/people", None),
        ("POST", "/admin/people/alan/disable", None),
        ("GET", "/admin/budgets", None),
        ("PUT", "/admin/budgets/genomics", Some(json!({"amount_cents": 100}))),
        ("GET", "/admin/notification-targets", None),
    ] {
        let (status, refused) = api_as(&app, method, path, &ada, body).await;
        assert_eq!((status, error_code(&refused)), (403, "forbidden"), "{method} {path}: the services check the role");
    }
    let teams: i64 = sqlx::query_scalar("SELECT count(*) FROM teams WHERE slug = 'neuroscience'").fetch_one(&db).await.expect("count");
    assert_eq!(teams, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_lists_invites_sets_access_disables_and_enables_people(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let grace = token_for(&app, "grace", &["admin"]).await;
    let reader = token_for(&app, "grace", &["read"]).await;
    assert_eq!(api(&app, "GET", "/admin/people", Some(&reader), None).await.0, 403);

    let (status, people) = api(&app, "GET", "/admin/people?q=gus", Some(&grace), None).await;
    assert_eq!(status, 200, "{people}");
    assert_eq!(names(&people["people"], "username"), ["gus"]);
    let page = app.client_signed_in_as("grace").await;
    let (_, on_page) = call(&app, &page, "admin/people", &[("search", "gus")]).await;
    assert_eq!(people["people"], on_page["people"], "the page's search, person for person");
    let (status, body) = api(&app, "GET", "/admin/people?page=not-cognitos", Some(&grace), None).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"));

    let lin = json!({"username": "lin", "email": "lin@example.edu", "roles": ["researcher"], "teams": ["genomics"]});
    let (status, _) = api(&app, "POST", "/admin/people", Some(&reader), Some(lin.clone())).await;
    assert_eq!(status, 403);
    let (status, invited) = api(&app, "POST", "/admin/people", Some(&grace), Some(lin.clone())).await;
    assert_eq!((status, &invited), (201, &json!({"username": "lin"})));
    let mut groups = app.groups_of("lin").await;
    groups.sort();
    assert_eq!(groups, ["role-researcher", "team-genomics"]);
    assert_eq!(audit_rows(&db, "grace", "user.invite", "success").await, 1);
    let (status, body) = api(&app, "POST", "/admin/people", Some(&grace), Some(lin)).await;
    assert_eq!((status, invalid(&body)), (422, vec!["username".to_owned()]), "taken");
    let atlantis = json!({"username": "lin2", "email": "lin2@example.edu", "roles": ["researcher"], "teams": ["atlantis"]});
    let (status, body) = api(&app, "POST", "/admin/people", Some(&grace), Some(atlantis)).await;
    assert_eq!((status, invalid(&body)), (422, vec!["teams".to_owned()]), "no such team");
    let wizard = json!({"username": "lin3", "email": "lin3@example.edu", "roles": ["wizard"]});
    assert_eq!(api(&app, "POST", "/admin/people", Some(&grace), Some(wizard)).await.0, 422, "not a role");

    let access = json!({"roles": ["researcher"], "teams": ["genomics"]});
    let (status, body) = api_as(&app, "PUT", "/admin/people/ada/access", &grace, Some(access.clone())).await;
    assert_eq!(status, 204, "{body}");
    let groups = app.groups_of("ada").await;
    assert!(groups.contains(&"team-genomics".to_string()) && !groups.contains(&"team-climate".to_string()), "{groups:?}");
    let (status, body) = api_as(&app, "PUT", "/admin/people/grace/access", &grace, Some(access.clone())).await;
    assert_eq!((status, invalid(&body)), (422, vec!["roles".to_owned()]), "the last admin keeps the role");
    let (status, _) = api_as(&app, "PUT", "/admin/people/nobody-here/access", &grace, Some(access)).await;
    assert_eq!(status, 404);

    let (status, disabled) = api(&app, "POST", "/admin/people/gus/disable", Some(&grace), None).await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!((&disabled["username"], &disabled["live_workspaces"]), (&json!("gus"), &json!([])));
    let refused = app.sign_in("gus", crate::helpers::PASSWORD).await;
    assert!(crate::helpers::location(&refused).contains("error"), "gus is kept out");
    let (status, body) = api(&app, "POST", "/admin/people/grace/disable", Some(&grace), None).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"), "not oneself");
    let (status, body) = api_as(&app, "POST", "/admin/people/gus/enable", &grace, None).await;
    assert_eq!(status, 204, "{body}");
    app.client_signed_in_as("gus").await;
    assert_eq!(audit_rows(&db, "grace", "user.enable", "success").await, 1);
}

/// A webhook receiver on 127.0.0.1 that counts what it is sent.
async fn receiver() -> (std::sync::Arc<std::sync::atomic::AtomicUsize>, String) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let received = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "ok" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().expect("address").port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (received, url)
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_sets_budgets_and_keeps_notification_targets(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let grace = token_for(&app, "grace", &["admin"]).await;
    let reader = token_for(&app, "grace", &["read"]).await;
    let budget = json!({"amount_cents": 250_000, "thresholds": [100, 80, 80]});
    let (status, _) = api_as(&app, "PUT", "/admin/budgets/genomics", &reader, Some(budget.clone())).await;
    assert_eq!(status, 403);
    let (status, body) = api_as(&app, "PUT", "/admin/budgets/genomics", &grace, Some(budget)).await;
    assert_eq!(status, 204, "{body}");
    let (status, budgets) = api(&app, "GET", "/admin/budgets", Some(&grace), None).await;
    assert_eq!(status, 200, "{budgets}");
    let genomics = budgets.as_array().expect("rows").iter().find(|b| b["team"] == "genomics").cloned().expect("listed");
    assert_eq!((genomics["budget_cents"].clone(), genomics["thresholds"].clone()), (json!(250_000), json!([80, 100])));
    let page = app.client_signed_in_as("grace").await;
    let (_, on_page) = call(&app, &page, "admin/budgets", &[]).await;
    assert_eq!(budgets, on_page, "the page's budgets, team for team");
    assert_eq!(audit_rows(&db, "grace", "budget.set", "success").await, 1);
    for bad in
        [json!({"amount_cents": 0}), json!({"amount_cents": 100, "thresholds": [501]}), json!({"amount_cents": 100, "thresholds": [0]})]
    {
        let (status, body) = api_as(&app, "PUT", "/admin/budgets/genomics", &grace, Some(bad.clone())).await;
        assert_eq!((status, error_code(&body)), (422, "invalid"), "{bad}");
    }
    assert_eq!(api_as(&app, "PUT", "/admin/budgets/atlantis", &grace, Some(json!({"amount_cents": 100}))).await.0, 404);

    let (received, url) = receiver().await;
    let target = json!({"name": "Genomics channel", "platform": "Slack", "team": "genomics", "webhook_url": url,
                        "events": ["WorkspaceLaunched", "BudgetThreshold"]});
    assert_eq!(api(&app, "POST", "/admin/notification-targets", Some(&reader), Some(target.clone())).await.0, 403);
    let (status, created) = api(&app, "POST", "/admin/notification-targets", Some(&grace), Some(target)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("its id");
    let (status, targets) = api(&app, "GET", "/admin/notification-targets", Some(&grace), None).await;
    assert_eq!(status, 200, "{targets}");
    assert!(!targets.to_string().contains(&url), "the URL is never shown back: {targets}");
    assert_eq!((targets[0]["id"].as_i64(), targets[0]["events"].clone()), (Some(id), json!(["BudgetThreshold", "WorkspaceLaunched"])));
    let (_, on_page) = call(&app, &page, "admin/notifications", &[]).await;
    assert_eq!(targets, on_page, "the page's targets, field for field");

    let (status, tested) = api(&app, "POST", &format!("/admin/notification-targets/{id}/test"), Some(&grace), None).await;
    assert_eq!(status, 200, "{tested}");
    assert!(tested["message"].as_str().unwrap_or_default().contains("was delivered"), "{tested}");
    assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst), 1);

    let plain = json!({"name": "Plain", "platform": "Slack", "webhook_url": "http://hooks.example.com/x", "events": ["WorkspaceLaunched"]});
    let (status, body) = api(&app, "POST", "/admin/notification-targets", Some(&grace), Some(plain)).await;
    assert_eq!((status, invalid(&body)), (422, vec!["webhook_url".to_owned()]));
    let silent = json!({"name": "Silent", "platform": "Teams", "webhook_url": "https://example.webhook.office.com/x", "events": []});
    let (status, body) = api(&app, "POST", "/admin/notification-targets", Some(&grace), Some(silent)).await;
    assert_eq!((status, invalid(&body)), (422, vec!["events".to_owned()]));

    let path = format!("/admin/notification-targets/{id}");
    assert_eq!(api_as(&app, "DELETE", &path, &reader, None).await.0, 403);
    assert_eq!(api_as(&app, "DELETE", &path, &grace, None).await.0, 204);
    assert_eq!(api_as(&app, "DELETE", &path, &grace, None).await.0, 404, "removed already");
    assert_eq!(api(&app, "POST", &format!("{path}/test"), Some(&grace), None).await.0, 404);
    assert_eq!(api(&app, "GET", "/admin/notification-targets", Some(&grace), None).await.1, json!([]));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_callers_settings_are_the_pages_and_saving_them_needs_the_account_scope(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let account = token_for(&app, "ada", &["account"]).await;
    let reader = token_for(&app, "ada", &["read"]).await;
    let page = app.client_signed_in_as("ada").await;
    let (status, settings) = api(&app, "GET", "/me/settings", Some(&reader), None).await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(settings, call(&app, &page, "settings", &[]).await.1);

    let wanted = json!({"stop_on_sign_out": "Never", "mail_workspace": false, "mail_health": true, "mail_budget": false});
    let (status, body) = api(&app, "PUT", "/me/settings", Some(&reader), Some(wanted.clone())).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    assert_eq!(call(&app, &page, "settings", &[]).await.1, settings, "nothing changed");
    let (status, saved) = api(&app, "PUT", "/me/settings", Some(&account), Some(wanted)).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        (&saved["stop_on_sign_out"], &saved["mail_workspace"], &saved["mail_health"], &saved["mail_budget"]),
        (&json!("Never"), &json!(false), &json!(true), &json!(false))
    );
    assert_eq!(call(&app, &page, "settings", &[]).await.1, saved, "the page shows what the API saved");
    assert_eq!(audit_rows(&db, "ada", "settings.save", "success").await, 1);
    let sometimes = json!({"stop_on_sign_out": "Sometimes", "mail_workspace": false, "mail_health": true, "mail_budget": false});
    assert_eq!(api(&app, "PUT", "/me/settings", Some(&account), Some(sometimes)).await.0, 422);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_token_lists_and_revokes_its_users_tokens_and_an_admins_anyones_but_makes_none(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let account = token_for(&app, "ada", &["account"]).await;
    let reader = token_for(&app, "ada", &["read"]).await;
    let alans = token_for(&app, "alan", &["read"]).await;
    let id_of = |user: &'static str, scope: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT id FROM api_tokens WHERE username = $1 AND scopes = ARRAY[$2::text]")
                .bind(user)
                .bind(scope)
                .fetch_one(&db)
                .await
                .expect("the token")
        }
    };
    let (readers, alans_id) = (id_of("ada", "read").await, id_of("alan", "read").await);

    let (status, tokens) = api(&app, "GET", "/me/tokens", Some(&reader), None).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["mine"].as_array().map(Vec::len), Some(2));
    assert_eq!(tokens["everyone"], json!([]), "only admins see everyone's");
    assert!(!tokens.to_string().contains(&reader[4..]), "never a secret");
    let page = app.client_signed_in_as("ada").await;
    assert_eq!(tokens, call(&app, &page, "tokens", &[]).await.1, "the page's list");

    let (status, body) = api_as(&app, "DELETE", &format!("/tokens/{readers}"), &reader, None).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "revoking needs the account scope");
    let (status, _) = api_as(&app, "DELETE", &format!("/tokens/{alans_id}"), &account, None).await;
    assert_eq!(status, 404, "someone else's token is not hers to revoke");
    assert_eq!(api(&app, "GET", "/me", Some(&alans), None).await.0, 200);
    let (status, body) = api_as(&app, "DELETE", &format!("/tokens/{readers}"), &account, None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(api(&app, "GET", "/me", Some(&reader), None).await.0, 401, "revoked");
    assert_eq!(audit_rows(&db, "ada", "token.revoke", "success").await, 1);

    let grace = token_for(&app, "grace", &["account"]).await;
    let (status, everyone) = api(&app, "GET", "/me/tokens", Some(&grace), None).await;
    assert_eq!(status, 200);
    assert!(everyone["everyone"].as_array().is_some_and(|all| all.iter().any(|t| t["id"] == alans_id)), "{everyone}");
    assert_eq!(api_as(&app, "DELETE", &format!("/tokens/{alans_id}"), &grace, None).await.0, 204, "an admin revokes anyone's");
    assert_eq!(api(&app, "GET", "/me", Some(&alans), None).await.0, 401);

    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens").fetch_one(&db).await.expect("count");
    let ask = json!({"name": "more", "days": "7", "scopes": ["read"]});
    for path in ["/me/tokens", "/tokens"] {
        let (status, _) = api_as(&app, "POST", path, &account, Some(ask.clone())).await;
        assert!([404, 405].contains(&status), "POST {path}: a token never makes tokens ({status})");
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens").fetch_one(&db).await.expect("count");
    assert_eq!(before, after);
}
