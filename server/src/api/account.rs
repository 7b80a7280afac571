//! The caller's account: settings, and their tokens (list and revoke). A token never makes
//! tokens: those are created on /settings/tokens only.

use super::auth::Caller;
use super::extract::{Json as JsonBody, Path};
use crate::http::api_error::{ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::settings::{SettingsForm, SignOutStop, UserSettings};
use app::domain::tokens::{Scope, TokenList};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

/// The caller's settings: stopping workspaces on sign-out, and the e-mail they want.
#[utoipa::path(get, path = "/me/settings", tag = "account", responses(
    (status = 200, description = "The caller's settings", body = UserSettings),
    (status = 401, description = "No valid token", body = ErrorBody),
))]
pub async fn settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<UserSettings>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.settings.settings(user).await?))
}

/// Every setting, as `/settings` saves them all at once.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    pub stop_on_sign_out: SignOutStop,
    /// Idle warnings and stop notices of their workspaces.
    pub mail_workspace: bool,
    /// Health alarms of their workspaces.
    pub mail_health: bool,
    /// Budget alerts (for team admins and admins).
    pub mail_budget: bool,
}

impl From<SettingsChange> for SettingsForm {
    fn from(settings: SettingsChange) -> SettingsForm {
        let checkbox = |checked: bool| if checked { "on".to_owned() } else { String::new() };
        SettingsForm {
            stop_on_sign_out: settings.stop_on_sign_out.as_str().to_owned(),
            mail_workspace: checkbox(settings.mail_workspace),
            mail_health: checkbox(settings.mail_health),
            mail_budget: checkbox(settings.mail_budget),
        }
    }
}

/// Saves the caller's settings (audited).
#[utoipa::path(put, path = "/me/settings", tag = "account", request_body = SettingsChange, responses(
    (status = 200, description = "The settings as saved", body = UserSettings),
    (status = 403, description = "No account scope", body = ErrorBody),
))]
pub async fn save_settings(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<SettingsChange>,
) -> ApiResult<Json<UserSettings>> {
    let user = caller.with(Scope::Account)?;
    Ok(Json(state.services.settings.save(user, request.into()).await?))
}

/// The caller's tokens, and every user's active tokens for an admin.
#[utoipa::path(get, path = "/me/tokens", tag = "account", responses(
    (status = 200, description = "The caller's tokens (never their secrets); everyone's active ones for an admin", body = TokenList),
    (status = 401, description = "No valid token", body = ErrorBody),
))]
pub async fn tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TokenList>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.tokens.tokens(user).await?))
}

/// Revokes one of the caller's tokens, or any token for an admin (audited).
#[utoipa::path(delete, path = "/tokens/{id}", tag = "account",
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked: it is refused from now on"),
        (status = 403, description = "No account scope", body = ErrorBody),
        (status = 404, description = "No such token of the caller's (any user's, for an admin), or revoked already", body = ErrorBody),
    ))]
pub async fn revoke_token(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Account)?;
    state.services.tokens.revoke(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(settings, save_settings))
        .routes(utoipa_axum::routes!(tokens))
        .routes(utoipa_axum::routes!(revoke_token))
}
