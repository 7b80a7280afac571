use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use std::time::Duration;

/// 200 when the database answers and the identity provider's keys can be fetched; 503 naming
/// what is down otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let database = tokio::time::timeout(Duration::from_secs(3), sqlx::query("SELECT 1").execute(&state.db)).await;
    let database_ok = matches!(database, Ok(Ok(_)));
    let identity_ok = state.verifier.fetch_keys().await.is_ok_and(|keys| !keys.is_empty());
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let status = if database_ok && identity_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (
        status,
        Json(json!({
            "status": word(database_ok && identity_ok),
            "database": word(database_ok),
            "identity_provider": word(identity_ok),
        })),
    )
}
