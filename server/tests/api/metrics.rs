//! `/metrics` on its own port: requests, launches, time to available, AWS calls, jobs,
//! sessions and the pool, scraped after a launch.

use crate::helpers::{PASSWORD, spawn_app};
use sqlx::PgPool;

/// The value of the first series `name{…}` whose labels include every one of `labels`.
fn value(scrape: &str, name: &str, labels: &[&str]) -> Option<f64> {
    scrape
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} ")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|number| number.parse().ok())
}

#[sqlx::test(migrations = "../migrations")]
async fn a_launch_is_counted_and_its_time_to_available_observed(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (status, id) = app.launch("genomics", configuration, "ada-measured", "key-measured-0001").await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_str().expect("an id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    assert_eq!(app.get("/teams/genomics").await.status().as_u16(), 200);

    let response = reqwest::get(format!("{}/metrics", app.metrics_address)).await.expect("scraped");
    assert_eq!(response.status().as_u16(), 200);
    let scrape = response.text().await.expect("a body");
    let of_type = r#"workspace_type="Linux workstation (EC2) v1""#;
    assert!(value(&scrape, "atrium_launches_total", &[of_type, r#"outcome="requested""#]) >= Some(1.0), "{scrape}");
    assert!(value(&scrape, "atrium_launches_total", &[of_type, r#"outcome="available""#]) >= Some(1.0));
    assert!(value(&scrape, "atrium_workspace_ready_seconds_count", &[of_type]) >= Some(1.0), "time to available observed");
    assert!(value(&scrape, "atrium_workspace_ready_seconds_sum", &[of_type]) > Some(0.0));
    let team_home = [r#"route="/teams/{team}""#, r#"method="GET""#, r#"status="200""#];
    assert!(value(&scrape, "atrium_http_requests_total", &team_home) >= Some(1.0), "requests by route pattern");
    assert!(value(&scrape, "atrium_http_request_duration_seconds_count", &team_home) >= Some(1.0));
    assert!(value(&scrape, "atrium_aws_calls_total", &[r#"operation="ProvisionProduct""#, r#"outcome="ok""#]) >= Some(1.0));
    assert!(value(&scrape, "atrium_aws_call_duration_seconds_count", &[r#"operation="InitiateAuth""#]) >= Some(1.0));
    assert!(value(&scrape, "atrium_sessions", &[]) >= Some(1.0), "ada's session");
    assert!(value(&scrape, "atrium_oldest_due_job_age_seconds", &[]).is_some());
    assert!(value(&scrape, "atrium_db_pool_connections", &[r#"state="idle""#]).is_some());

    let public = app.get("/metrics").await;
    assert_eq!(public.status().as_u16(), 404, "not on the public port");
}
