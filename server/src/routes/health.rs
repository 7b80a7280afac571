use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use std::time::Duration;

/// 200 when the database answers, the identity provider's keys can be fetched and (when single
/// sign-on is configured) the OpenID provider's metadata and keys can be read; 503 naming what
/// is down otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let database = tokio::time::timeout(Duration::from_secs(3), sqlx::query("SELECT 1").execute(&state.db)).await;
    let database_ok = matches!(database, Ok(Ok(_)));
    let identity_ok = state.verifier.fetch_keys().await.is_ok_and(|keys| !keys.is_empty());
    let sso_ok = match &state.sso {
        Some(sso) => Some(sso.check().await.is_ok()),
        None => None,
    };
    let all_ok = database_ok && identity_ok && sso_ok != Some(false);
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut body = json!({
        "status": word(all_ok),
        "database": word(database_ok),
        "identity_provider": word(identity_ok),
    });
    if let Some(ok) = sso_ok {
        body["sso_provider"] = json!(word(ok));
    }
    (status, Json(body))
}
