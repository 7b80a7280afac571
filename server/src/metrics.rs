//! Prometheus metrics: recorded with the `metrics` macros where things happen (requests,
//! launches, AWS calls), read from Postgres when scraped (jobs, sessions), and served on a
//! listen address of their own (`ATRIUM_METRICS_LISTEN`), not on the public port.

use crate::repo::jobs;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use std::sync::OnceLock;
use std::time::Instant;

/// Seconds: from a fast page (5 ms) to a slow provisioning (an hour).
const BUCKETS: [f64; 16] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

/// The process's recorder, installed on first use (a process has one; tests share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("seconds".into()), &BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(handle) => handle,
            Err(error) => {
                // Another recorder is installed: metrics go there, this one stays empty.
                tracing::warn!(%error, "Failed to install the Prometheus recorder");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// Counts each request and times it, by route pattern (`/teams/{team}`, not the team), method
/// and status.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "other".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [("route", route), ("method", method), ("status", response.status().as_u16().to_string())];
    metrics::counter!("atrium_http_requests_total", &labels).increment(1);
    metrics::histogram!("atrium_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// A launch's outcome: `requested`, `refused` (budget, quota), then `available` or `failed`.
pub fn launch(workspace_type: &str, outcome: &'static str) {
    metrics::counter!("atrium_launches_total", "workspace_type" => workspace_type.to_owned(), "outcome" => outcome).increment(1);
}

/// From the launch request to the workspace being available.
pub fn workspace_ready(workspace_type: &str, seconds: f64) {
    metrics::histogram!("atrium_workspace_ready_seconds", "workspace_type" => workspace_type.to_owned()).record(seconds);
}

/// One AWS API call, by the SDK's own service and operation names.
pub fn aws_call(service: &str, operation: &str, outcome: &'static str, seconds: f64) {
    let labels = [("service", service.to_owned()), ("operation", operation.to_owned()), ("outcome", outcome.to_owned())];
    metrics::counter!("atrium_aws_calls_total", &labels).increment(1);
    metrics::histogram!("atrium_aws_call_duration_seconds", &labels).record(seconds);
}

/// The metrics server's routes: `GET /metrics`.
pub fn router(db: PgPool) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(db)
}

async fn scrape(State(db): State<PgPool>) -> Response {
    if let Err(error) = record_database_gauges(&db).await {
        // The rest still tells something; the gauges keep their last values.
        tracing::warn!(%error, "Failed to read the job and session gauges");
    }
    let size = f64::from(db.size());
    let idle = db.num_idle() as f64;
    metrics::gauge!("atrium_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("atrium_db_pool_connections", "state" => "in_use").set(size - idle);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render()).into_response()
}

/// Jobs queued (due or waiting), running (claimed: their row is locked by a worker's
/// transaction) and failed (retried at least once) per kind, the age of the oldest due job, and
/// the sessions not yet expired.
async fn record_database_gauges(db: &PgPool) -> Result<(), sqlx::Error> {
    for row in jobs::counts_by_kind(db).await? {
        metrics::gauge!("atrium_jobs", "kind" => row.kind.clone(), "state" => "queued").set(row.queued as f64);
        metrics::gauge!("atrium_jobs", "kind" => row.kind.clone(), "state" => "running").set(row.running as f64);
        metrics::gauge!("atrium_jobs", "kind" => row.kind, "state" => "failed").set(row.failed as f64);
    }
    metrics::gauge!("atrium_oldest_due_job_age_seconds").set(jobs::oldest_due_age_seconds(db).await?.unwrap_or(0.0));
    let sessions = crate::repo::sessions::live_count(db).await?;
    metrics::gauge!("atrium_sessions").set(sessions as f64);
    Ok(())
}
