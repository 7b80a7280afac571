//! Admin endpoints: the audit log and the catalog (import, approve, retire, configure).
//! Each needs a token with the `admin` scope, and the services check the user is an admin.

use super::Cursor;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Body, Json as JsonBody, Path, Query};
use crate::catalog_file::{CatalogFile, ConfigurationEntry};
use crate::services::catalog_code::ChangeSet;
use crate::startup::AppState;
use app::domain::audit::{AuditFilter, AuditRow};
use app::domain::configurations::Configuration;
use app::domain::team_admin::TeamAdminRow;
use app::domain::tokens::Scope;
use app::domain::workspace_types::{CatalogOverview, TypeStatus, WorkspaceType};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub team: Option<String>,
    /// An action such as `workspace.launch`.
    pub action: Option<String>,
    /// `YYYY-MM-DD`, inclusive, UTC.
    pub from: Option<String>,
    pub to: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One page of audit rows, newest first.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditRows {
    pub items: Vec<AuditRow>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/audit", tag = "admin", params(AuditQuery), responses(
    (status = 200, description = "Audit rows matching the filter", body = AuditRows),
    (status = 400, description = "A bad date or cursor", body = ErrorBody),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
))]
pub async fn audit(State(state): State<AppState>, caller: Caller, Query(query): Query<AuditQuery>) -> ApiResult<Json<AuditRows>> {
    let user = caller.with(Scope::Admin)?;
    let page = Cursor::page(query.cursor.as_deref())?;
    let filter = AuditFilter { actor: query.actor, team: query.team, action: query.action, from: query.from, to: query.to };
    let found = state.services.audit.search(user, filter, page).await?;
    let next_cursor = (found.page * found.per_page < found.total).then(|| Cursor::for_page(found.page + 1));
    Ok(Json(AuditRows { items: found.rows, next_cursor }))
}

#[utoipa::path(get, path = "/catalog", tag = "admin", responses(
    (status = 200, description = "Service Catalog's products, the imported types and their configurations", body = CatalogOverview),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
))]
pub async fn catalog(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CatalogOverview>> {
    // The one catalog method that takes no user: the pages check the same way.
    app::services::must_be_admin(caller.with(Scope::Admin)?)?;
    Ok(Json(state.services.catalog_admin.overview().await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    pub product_id: String,
    pub version_id: String,
}

#[utoipa::path(post, path = "/catalog/types", tag = "admin", request_body = ImportRequest, responses(
    (status = 201, description = "Imported (or the type imported before)", body = WorkspaceType),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
    (status = 404, description = "No such product version", body = ErrorBody),
))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<ImportRequest>,
) -> ApiResult<(StatusCode, Json<WorkspaceType>)> {
    let user = caller.with(Scope::Admin)?;
    let imported = state.services.catalog_admin.import(user, &request.product_id, &request.version_id).await?;
    Ok((StatusCode::CREATED, Json(imported)))
}

async fn set_status(state: &AppState, caller: &Caller, id: i64, status: TypeStatus) -> ApiResult<Json<WorkspaceType>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(state.services.catalog_admin.set_status(user, id, status).await?))
}

#[utoipa::path(post, path = "/catalog/types/{id}/approve", tag = "admin",
    params(("id" = i64, Path, description = "The workspace type's id")),
    responses(
        (status = 200, description = "Approved: its configurations may be launched", body = WorkspaceType),
        (status = 400, description = "Approved already", body = ErrorBody),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such type", body = ErrorBody),
    ))]
pub async fn approve(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<WorkspaceType>> {
    set_status(&state, &caller, id, TypeStatus::Approved).await
}

#[utoipa::path(post, path = "/catalog/types/{id}/retire", tag = "admin",
    params(("id" = i64, Path, description = "The workspace type's id")),
    responses(
        (status = 200, description = "Retired: no new launches", body = WorkspaceType),
        (status = 400, description = "Retired already", body = ErrorBody),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such type", body = ErrorBody),
    ))]
pub async fn retire(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<WorkspaceType>> {
    set_status(&state, &caller, id, TypeStatus::Retired).await
}

#[utoipa::path(post, path = "/catalog/types/{id}/configurations", tag = "admin", request_body = ConfigurationEntry,
    params(("id" = i64, Path, description = "The approved workspace type's id")),
    responses(
        (status = 201, description = "Created", body = Configuration),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such type", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody),
    ))]
pub async fn create_configuration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    JsonBody(request): JsonBody<ConfigurationEntry>,
) -> ApiResult<(StatusCode, Json<Configuration>)> {
    let user = caller.with(Scope::Admin)?;
    // The same fields as a configuration in the catalog file, checked by the same form rules.
    let created = state.services.catalog_admin.create_configuration(user, id, request.form()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/catalog/export", tag = "admin", responses(
    (status = 200, description = "The approved types and their configurations as one YAML file", body = CatalogFile, content_type = "application/yaml"),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
))]
pub async fn export(State(state): State<AppState>, caller: Caller) -> ApiResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    let user = caller.with(Scope::Admin)?;
    let yaml = state.catalog_code.export(user).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/yaml; charset=utf-8")], yaml))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApplyQuery {
    /// Only say what would change; change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[utoipa::path(post, path = "/catalog/apply", tag = "admin", params(ApplyQuery),
    request_body(content = CatalogFile, content_type = "application/yaml", description = "A catalog file, as export writes it"),
    responses(
        (status = 200, description = "The changes, made in one transaction unless a dry run (none: the catalog is as the file says)", body = ChangeSet),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 422, description = "Every problem of the file, each naming its line and field; nothing was changed", body = ErrorBody),
    ))]
pub async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ApplyQuery>,
    Body(body): Body,
) -> ApiResult<Json<ChangeSet>> {
    let user = caller.with(Scope::Admin)?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("The catalog file must be UTF-8 text."))?;
    Ok(Json(state.catalog_code.apply(user, text, query.dry_run).await?))
}

#[utoipa::path(get, path = "/admin/teams", tag = "admin", responses(
    (status = 200, description = "Every team with its members, live workspaces (whose ever they are), month and budget", body = Vec<TeamAdminRow>),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
))]
pub async fn teams(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<TeamAdminRow>>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(state.services.team_admin.teams(user).await?))
}
