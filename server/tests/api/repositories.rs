use app::domain::{CurrentUser, TeamSlug, Username};
use atrium::demo::{TEAMS, team_row};
use atrium::repo::{teams, users};
use sqlx::PgPool;

async fn with_demo_teams(db: &PgPool) {
    for team in &TEAMS {
        teams::upsert(db, &team_row(team).expect("valid")).await.expect("team written");
    }
}

fn user(name: &str, groups: &[&str]) -> CurrentUser {
    CurrentUser::from_groups(Username::parse(name).expect("valid"), groups.iter().copied())
}

#[sqlx::test(migrations = "../migrations")]
async fn upserting_a_team_twice_updates_it(db: PgPool) {
    with_demo_teams(&db).await;
    let mut genomics = team_row(&TEAMS[0]).expect("valid");
    genomics.description = "Renamed".into();
    teams::upsert(&db, &genomics).await.expect("updated");
    let found = teams::find(&db, &genomics.slug).await.expect("query").expect("exists");
    assert_eq!(found.external_id.len(), 32, "the database made the team an external id: {found:?}");
    assert_eq!(found, teams::Team { external_id: found.external_id.clone(), ..genomics });
    assert_eq!(teams::list_all(&db).await.expect("query").len(), 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn finding_an_unknown_team_gives_none(db: PgPool) {
    with_demo_teams(&db).await;
    let missing = TeamSlug::parse("astronomy").expect("valid");
    assert_eq!(teams::find(&db, &missing).await.expect("query"), None);
}

#[sqlx::test(migrations = "../migrations")]
async fn teams_are_listed_by_name(db: PgPool) {
    with_demo_teams(&db).await;
    let names: Vec<String> = teams::list_all(&db).await.expect("query").into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec!["Climate Modelling", "Genomics Lab", "Particle Physics"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sign_in_mirrors_memberships_and_drops_old_ones(db: PgPool) {
    with_demo_teams(&db).await;
    let mut tx = db.begin().await.expect("tx");
    users::record_sign_in(
        &mut tx,
        &user("ada", &["role-researcher", "team-genomics", "team-climate", "team-unknown"]),
        users::MembershipSource::Cognito,
    )
    .await
    .expect("recorded");
    tx.commit().await.expect("commit");
    let slugs = |teams: Vec<teams::Team>| teams.into_iter().map(|t| t.slug.to_string()).collect::<Vec<_>>();
    assert_eq!(slugs(teams::list_for_member(&db, "ada").await.expect("query")), vec!["climate", "genomics"], "unknown teams are ignored");

    let mut tx = db.begin().await.expect("tx");
    users::record_sign_in(&mut tx, &user("ada", &["role-admin", "team-physics"]), users::MembershipSource::Cognito)
        .await
        .expect("recorded");
    tx.commit().await.expect("commit");
    assert_eq!(slugs(teams::list_for_member(&db, "ada").await.expect("query")), vec!["physics"]);
    assert_eq!(users::roles_of(&db, "ada").await.expect("query"), Some(vec!["admin".to_string()]));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rolled_back_sign_in_leaves_nothing_behind(db: PgPool) {
    with_demo_teams(&db).await;
    let mut tx = db.begin().await.expect("tx");
    users::record_sign_in(&mut tx, &user("alan", &["team-physics"]), users::MembershipSource::Cognito).await.expect("recorded");
    tx.rollback().await.expect("rollback");
    assert_eq!(users::roles_of(&db, "alan").await.expect("query"), None);
    assert!(teams::list_for_member(&db, "alan").await.expect("query").is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn sql_rounds_micros_to_cents_as_the_pages_always_did(db: PgPool) {
    for micros in [0_i64, 4_999, 5_000, 1_234_999, 1_235_000, -4_999, -5_000, -1_235_000, 9_999_999_999] {
        let cents: i64 = sqlx::query_scalar("SELECT micros_to_cents($1)").bind(micros).fetch_one(&db).await.expect("query");
        assert_eq!(cents, app::domain::costs::micros_to_cents(micros), "{micros} micros");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_users_spend_counts_their_rows_and_their_workspaces_untagged_rows_only(db: PgPool) {
    use atrium::repo::costs::user_spend_by_workspace;
    with_demo_teams(&db).await;
    sqlx::raw_sql(
        "INSERT INTO users (username) VALUES ('ada'), ('alan');
         INSERT INTO workspace_types (product_id, product_name, version_id, version_name, status, imported_by)
           VALUES ('p', 'Linux', 'v', 'v1', 'approved', 'grace');
         INSERT INTO workspace_configurations (workspace_type_id, name, allowed_roles, allowed_teams, estimated_hourly_cost_cents, created_by)
           SELECT id, 'Small', '{researcher}', '{genomics}', 10, 'grace' FROM workspace_types;
         INSERT INTO workspaces (id, team_slug, owner, name, configuration_id, idempotency_key)
           SELECT w.id, 'genomics', w.owner, w.id, (SELECT id FROM workspace_configurations), 'key-' || w.id
           FROM (VALUES ('ada-one', 'ada'), ('ada-two', 'ada'), ('alan-one', 'alan')) w(id, owner);
         INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros) VALUES
           ('genomics', current_date, 'ada-one', 'ada', 1004999),       -- 1.00 $
           ('genomics', current_date - 1, 'ada-one', 'ada', 1005000),   -- 1.01 $
           ('genomics', current_date, 'ada-two', '', 2000000),          -- hers, untagged user
           ('genomics', current_date, 'alan-one', 'alan', 9000000),     -- someone else's
           ('genomics', current_date, 'alan-one', '', 9000000),         -- someone else's, untagged
           ('genomics', current_date, '', '', 7000000),                 -- the team's untagged spend
           ('genomics', current_date - 40, 'ada-one', 'ada', 5000000),  -- before the range
           ('climate', current_date, 'ada-one', 'ada', 3000000);        -- another team",
    )
    .execute(&db)
    .await
    .expect("seeded");
    let today = time::OffsetDateTime::now_utc().date();
    let spend = user_spend_by_workspace(&db, "genomics", "ada", today - time::Duration::days(29), today).await.expect("query");
    let found: Vec<(&str, i64)> = spend.iter().map(|w| (w.workspace_id.as_str(), w.total_cents)).collect();
    assert_eq!(found, vec![("ada-one", 201), ("ada-two", 200)], "highest first, each day rounded");
}
