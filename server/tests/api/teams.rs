use crate::helpers::{PASSWORD, location, spawn_app};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn a_member_sees_the_team_home_with_its_metadata_from_ssm(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("ada", PASSWORD).await;
    let (status, page) = app.get_text("/teams/genomics").await;
    assert_eq!(status, 200);
    assert!(page.contains("Genomics Lab"));
    assert!(page.contains("s3://atrium-scratch-111111111111/genomics/"));
    assert!(page.contains("Team drive (EFS)") && page.contains("fsap-"), "the team drive's access point");
    assert!(page.contains("Made on the team drive at your first launch here."), "no home yet");
    assert!(page.contains("Genomics Lab wiki"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_non_member_gets_403_and_no_team_data(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("ada", PASSWORD).await;
    let (status, page) = app.get_text("/teams/physics").await;
    assert_eq!(status, 403);
    assert!(page.contains("do not have access"));
    assert!(!page.contains("333333333333"));
    assert!(!page.contains("atrium-scratch"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_server_function_refuses_a_non_member_too(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("ada", PASSWORD).await;
    let response = app.post_form("/api/team_home", &[("slug", "physics")]).await;
    assert!(!response.status().is_success());
    let body = response.text().await.unwrap_or_default();
    assert!(body.contains("Forbidden"), "{body}");
    assert!(!body.contains("333333333333"));

    let response = app.post_form("/api/team_home", &[("slug", "genomics")]).await;
    assert!(response.status().is_success());
    assert!(response.text().await.unwrap_or_default().contains("111111111111"));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unknown_team_is_404(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("ada", PASSWORD).await;
    let (status, page) = app.get_text("/teams/astronomy").await;
    assert_eq!(status, 404);
    assert!(page.contains("Not found"));
    let (status, _) = app.get_text("/teams/NOT_A_SLUG").await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_anonymous_visitor_is_sent_to_sign_in_and_back(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.get("/teams/genomics").await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/?next=%2Fteams%2Fgenomics");

    let response = app.post_form("/auth/sign-in", &[("username", "ada"), ("password", PASSWORD), ("next", "/teams/genomics")]).await;
    assert_eq!(location(&response), "/teams/genomics");
}

#[sqlx::test(migrations = "../migrations")]
async fn anonymous_server_function_calls_are_refused(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.post_form("/api/my_teams", &[]).await;
    assert!(!response.status().is_success());
    assert!(response.text().await.unwrap_or_default().contains("NotSignedIn"));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_sees_every_team_without_being_a_member(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.sign_in("grace", PASSWORD).await;
    assert_eq!(location(&response), "/teams");
    let (_, page) = app.get_text("/teams").await;
    for name in ["Genomics Lab", "Climate Modelling", "Particle Physics"] {
        assert!(page.contains(name), "grace sees {name}");
    }
    let (status, _) = app.get_text("/teams/physics").await;
    assert_eq!(status, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn signed_in_pages_are_not_cached_and_carry_security_headers(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_in("ada", PASSWORD).await;
    let response = app.get("/teams").await;
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("cache-control"), "no-store");
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header("x-content-type-options"), "nosniff");
}

#[sqlx::test(migrations = "../migrations")]
async fn server_functions_answer_with_the_status_of_their_error(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.post_form("/api/my_teams", &[]).await;
    assert_eq!(response.status().as_u16(), 401);
    app.sign_in("ada", PASSWORD).await;
    let response = app.post_form("/api/team_home", &[("slug", "physics")]).await;
    assert_eq!(response.status().as_u16(), 403);
    let response = app.post_form("/api/team_home", &[("slug", "astronomy")]).await;
    assert_eq!(response.status().as_u16(), 404);
}
