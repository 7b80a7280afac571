//! Idle auto-stop through the real CloudWatch API (moto): metrics are put into the team's
//! account for the workstation's instance, and the idle check reads them back.

use crate::helpers::{audit_rows, call, invalid_fields, spawn_app, TestApp};
use atrium::aws::cloudwatch::CloudWatchMetrics;
use atrium::services::idle::check_idle_workspaces;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

const GENOMICS_ROLE: &str = "arn:aws:iam::111111111111:role/AtriumPortalAccess";

/// An available workstation of ada's on genomics (idle policy: 60 min, CPU < 5 %) that
/// became available three hours ago; (workspace id, instance id).
async fn idle_candidate(app: &TestApp, name: &str) -> (String, String) {
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", &format!("Idle {name}")).await;
    let ada = app.client_signed_in_as("ada").await;
    let (status, id) = call(app, &ada, "launch_workspace", &[
        ("team", "genomics"),
        ("configuration_id", &configuration.to_string()),
        ("name", name),
        ("launch_key", &format!("idle-test-{name}")),
    ])
    .await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_str().expect("an id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    sqlx::query("UPDATE workspace_events SET at = at - interval '3 hours' WHERE workspace_id = $1").bind(&id).execute(&app.db).await.expect("backdated");
    let instance: String = sqlx::query_scalar("SELECT outputs->>'InstanceId' FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db).await.expect("instance");
    (id, instance)
}

/// CPU datapoints every five minutes over the last `minutes`, in the team's account.
async fn put_cpu(app: &TestApp, instance: &str, minutes: i64, percent: f64) {
    let account = atrium::aws::provisioning::team_account(&app.sdk, GENOMICS_ROLE, "test-metrics").await.expect("role assumed");
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&account);
    let now = OffsetDateTime::now_utc();
    let data: Vec<MetricDatum> = (0..=minutes / 5)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(Dimension::builder().name("InstanceId").value(instance).build())
                .timestamp(DateTime::from_secs((now - Duration::minutes(i * 5)).unix_timestamp()))
                .value(percent)
                .build()
        })
        .collect();
    cloudwatch.put_metric_data().namespace("AWS/EC2").set_metric_data(Some(data)).send().await.expect("metrics put");
}

async fn state(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT state FROM workspaces WHERE id = $1").bind(id).fetch_one(&app.db).await.expect("state")
}

#[sqlx::test(migrations = "../migrations")]
async fn an_idle_workstation_is_stopped_exactly_once_and_says_why(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let (id, instance) = idle_candidate(&app, "idle-one").await;
    put_cpu(&app, &instance, 65, 2.0).await;
    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    let now = OffsetDateTime::now_utc();

    // Two checks at once (two workers): one stop.
    let (first, second) = tokio::join!(check_idle_workspaces(&db, &metrics, now), check_idle_workspaces(&db, &metrics, now));
    let stopped = [first.expect("check runs"), second.expect("check runs")].concat();
    assert_eq!(stopped, [id.clone()]);
    assert_eq!(state(&app, &id).await, "stopping");
    let message: String = sqlx::query_scalar("SELECT message FROM workspace_events WHERE workspace_id = $1 AND to_state = 'stopping'")
        .bind(&id)
        .fetch_one(&db)
        .await
        .expect("one stopping event");
    assert_eq!(message, "stopped: idle 60 min, CPU < 5 %");
    assert_eq!(audit_rows(&db, "atrium", "workspace.stop", "success").await, 1);
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "stopped", "the stop runs through Service Catalog");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_recent_connect_missing_metrics_or_a_busy_cpu_keep_it_running(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let metrics = CloudWatchMetrics::new(app.sdk.clone());

    let (connected, instance) = idle_candidate(&app, "connected").await;
    put_cpu(&app, &instance, 65, 2.0).await;
    sqlx::query("UPDATE workspaces SET last_connect_at = now() - interval '10 minutes' WHERE id = $1").bind(&connected).execute(&db).await.expect("connected");

    let (unmeasured, _) = idle_candidate(&app, "unmeasured").await;

    let (busy, instance) = idle_candidate(&app, "busy").await;
    put_cpu(&app, &instance, 65, 40.0).await;

    let stopped = check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check runs");
    assert!(stopped.is_empty(), "{stopped:?}");
    for id in [&connected, &unmeasured, &busy] {
        assert_eq!(state(&app, id).await, "available");
    }
    let last_busy: Option<OffsetDateTime> = sqlx::query_scalar("SELECT last_busy_at FROM workspaces WHERE id = $1").bind(&busy).fetch_one(&db).await.expect("row");
    assert!(last_busy.is_some(), "the busy minute is remembered");
}

#[sqlx::test(migrations = "../migrations")]
async fn keep_running_holds_off_the_stop_until_it_ends(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let (id, instance) = idle_candidate(&app, "snoozed").await;
    put_cpu(&app, &instance, 65, 2.0).await;
    let metrics = CloudWatchMetrics::new(app.sdk.clone());
    let ada = app.client_signed_in_as("ada").await;

    let (status, _) = call(&app, &ada, "keep_running", &[("id", &id), ("hours", "3")]).await;
    assert_eq!(status, 400, "1, 4 or 8 hours only");
    let alan = app.client_signed_in_as("alan").await;
    let (status, _) = call(&app, &alan, "keep_running", &[("id", &id), ("hours", "4")]).await;
    assert_eq!(status, 403, "not alan's workspace");
    let (status, body) = call(&app, &ada, "keep_running", &[("id", &id), ("hours", "4")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audit_rows(&db, "ada", "workspace.keep_running", "success").await, 1);
    let (_, view) = call(&app, &ada, "workspace", &[("id", &id)]).await;
    assert_eq!(view["kept_running"], true, "{view}");
    assert!(view["stops_at"].as_str().is_some_and(|at| at.ends_with("UTC")), "{view}");

    assert!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check").is_empty());
    assert_eq!(state(&app, &id).await, "available");

    sqlx::query("UPDATE workspaces SET keep_running_until = now() - interval '1 minute' WHERE id = $1").bind(&id).execute(&db).await.expect("ended");
    assert_eq!(check_idle_workspaces(&db, &metrics, OffsetDateTime::now_utc()).await.expect("check"), [id.clone()]);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_sets_a_configurations_idle_policy_with_field_errors_for_bad_values(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Policy test").await.to_string();
    let grace = app.client_signed_in_as("grace").await;

    let (status, body) = call(&app, &grace, "admin/set_idle_policy", &[("configuration_id", &configuration), ("idle_stop_after", "5"), ("idle_cpu_percent", "95")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["idle_stop_after".to_string(), "idle_cpu_percent".to_string()]), "{body}");
    let (status, body) = call(&app, &grace, "admin/set_idle_policy", &[("configuration_id", &configuration), ("idle_stop_after", "120"), ("idle_cpu_percent", "10")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["draft"]["idle"], serde_json::json!({ "stop_after_minutes": 120, "cpu_percent": 10 }));
    let (status, _) = call(&app, &grace, "admin/set_idle_policy", &[("configuration_id", "999999"), ("idle_stop_after", "never")]).await;
    assert_eq!(status, 404);
    assert_eq!(audit_rows(&db, "grace", "catalog.idle_policy", "success").await, 1);

    let ada = app.client_signed_in_as("ada").await;
    let (status, _) = call(&app, &ada, "admin/set_idle_policy", &[("configuration_id", &configuration), ("idle_stop_after", "never")]).await;
    assert_eq!(status, 403);
    let (_, catalog) = call(&app, &ada, "team_catalog", &[("slug", "genomics")]).await;
    let item = catalog["items"].as_array().expect("items").iter().find(|c| c["id"].to_string() == configuration).cloned().expect("offered");
    assert_eq!(item["draft"]["idle"]["stop_after_minutes"], 120, "the launch form shows the new policy");
}
