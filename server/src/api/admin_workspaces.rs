//! Admin workspaces: every workspace with filters; resync, transfer and force terminate.
//! Each needs a token with the `admin` scope, and the service checks the user is an admin.

use super::Cursor;
use super::auth::Caller;
use super::extract::{Json as JsonBody, Path, Query};
use crate::http::api_error::{ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::tokens::Scope;
use app::domain::workspace::{AdminWorkspaceFilter, AdminWorkspaceRow, WorkspaceState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The filters of `/admin/workspaces`; each absent one: any.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AdminWorkspaceQuery {
    /// A team's slug.
    pub team: Option<String>,
    /// An owner's username.
    pub owner: Option<String>,
    /// A type label, one of the answer's `type_labels` (such as "Linux workstation (EC2) v1").
    pub type_label: Option<String>,
    #[param(inline)]
    pub state: Option<WorkspaceState>,
    /// Only those whose AWS state differs from Atrium's.
    #[serde(default)]
    pub drift_only: bool,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One page of every workspace, those with drift first, then newest first (terminated ones
/// leave the list after 30 days).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AdminWorkspaces {
    pub items: Vec<AdminWorkspaceRow>,
    /// How many match, on every page.
    pub total: i64,
    /// The type labels there are, for `type_label`.
    pub type_labels: Vec<String>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Every workspace, whose ever it is, filtered as on the admin's workspaces page.
#[utoipa::path(get, path = "/admin/workspaces", tag = "admin", params(AdminWorkspaceQuery), responses(
    (status = 200, description = "Every workspace matching the filters, whose ever it is", body = AdminWorkspaces),
    (status = 400, description = "A bad state or cursor", body = ErrorBody),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AdminWorkspaceQuery>,
) -> ApiResult<Json<AdminWorkspaces>> {
    let admin = caller.with(Scope::Admin)?;
    let page = Cursor::page(query.cursor.as_deref())?;
    let state_name = query.state.map(|s| s.as_str().to_owned());
    let filter = AdminWorkspaceFilter {
        team: query.team,
        owner: query.owner,
        type_label: query.type_label,
        state: state_name,
        drift_only: query.drift_only,
    };
    let found = state.services.admin_workspaces.workspaces(admin, filter, page).await?;
    let next_cursor = (found.page * found.per_page < found.total).then(|| Cursor::for_page(found.page + 1));
    Ok(Json(AdminWorkspaces { items: found.rows, total: found.total, type_labels: found.type_labels, next_cursor }))
}

/// What a resync found.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Resync {
    /// In words, such as "AWS agrees with Atrium.".
    pub finding: String,
}

/// Compares a workspace with AWS now.
#[utoipa::path(post, path = "/admin/workspaces/{id}/resync", tag = "admin",
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 200, description = "Compared with AWS now: safe drift applied, the rest flagged (audited)", body = Resync),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 503, description = "AWS unreachable", body = ErrorBody),
    ))]
pub async fn resync(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Resync>> {
    let admin = caller.with(Scope::Admin)?;
    Ok(Json(Resync { finding: state.services.admin_workspaces.resync(admin, &id).await? }))
}

/// Ends a workspace AWS no longer knows, or that is stuck, without asking AWS.
#[utoipa::path(post, path = "/admin/workspaces/{id}/force-terminate", tag = "admin",
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 204, description = "Terminated in Atrium without asking AWS, for one AWS no longer knows or that is stuck (audited)"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 409, description = "Terminated already, or changed just now", body = ErrorBody),
    ))]
pub async fn force_terminate(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let admin = caller.with(Scope::Admin)?;
    state.services.admin_workspaces.force_terminate(admin, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whom to give a live workspace to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// A member of the workspace's team, by username.
    pub to: String,
}

/// Gives a live workspace to another member of its team.
#[utoipa::path(post, path = "/admin/workspaces/{id}/transfer", tag = "admin", request_body = TransferRequest,
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 204, description = "Theirs now, with its costs (audited)"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 409, description = "Ended, changed just now, or they have a workspace of that name", body = ErrorBody),
        (status = 422, description = "Its owner already, or not a member of its team (`to`)", body = ErrorBody),
    ))]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<TransferRequest>,
) -> ApiResult<StatusCode> {
    let admin = caller.with(Scope::Admin)?;
    state.services.admin_workspaces.transfer(admin, &id, &request.to).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(list))
        .routes(utoipa_axum::routes!(resync))
        .routes(utoipa_axum::routes!(force_terminate))
        .routes(utoipa_axum::routes!(transfer))
}
