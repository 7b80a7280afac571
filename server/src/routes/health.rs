use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use std::time::Duration;

/// 200 when the database answers and the identity provider's keys can be fetched; 503 naming
/// what is down otherwise. Cheap enough to be asked often: a ping on a pooled connection, and
/// the providers asked at most every few seconds (their last answer is reused meanwhile). With single sign-on, `sso_provider` says whether the OpenID provider
/// answers; its outage fails the check only when it is the only way in (no password form).
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let ping = async {
        use sqlx::Connection;
        state.db.acquire().await?.ping().await
    };
    let database_ok = matches!(tokio::time::timeout(Duration::from_secs(3), ping).await, Ok(Ok(())));
    let identity_ok = state.verifier.keys_available().await;
    let sso_ok = match &state.sso {
        Some(sso) => Some(sso.reachable().await),
        None => None,
    };
    let sign_in_ok = state.password_sign_in || sso_ok == Some(true);
    let all_ok = database_ok && identity_ok && sign_in_ok;
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let overall = match (all_ok, sso_ok) {
        (true, Some(false)) => "degraded",
        (ok, _) => word(ok),
    };
    let mut body = json!({
        "status": overall,
        "database": word(database_ok),
        "identity_provider": word(identity_ok),
    });
    if let Some(ok) = sso_ok {
        body["sso_provider"] = json!(word(ok));
    }
    (status, Json(body))
}
