use app::domain::{CurrentUser, TeamSlug, Username};
use atrium::demo::{team_row, TEAMS};
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
    assert_eq!(found, genomics);
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
    users::record_sign_in(&mut tx, &user("ada", &["role-researcher", "team-genomics", "team-climate", "team-unknown"]), users::MembershipSource::Cognito)
        .await
        .expect("recorded");
    tx.commit().await.expect("commit");
    let slugs = |teams: Vec<teams::Team>| teams.into_iter().map(|t| t.slug.to_string()).collect::<Vec<_>>();
    assert_eq!(
        slugs(teams::list_for_member(&db, "ada").await.expect("query")),
        vec!["climate", "genomics"],
        "unknown teams are ignored"
    );

    let mut tx = db.begin().await.expect("tx");
    users::record_sign_in(&mut tx, &user("ada", &["role-admin", "team-physics"]), users::MembershipSource::Cognito).await.expect("recorded");
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
