//! Admin endpoints: the audit log and the catalog (import, approve, retire, configure).
//! Each needs a token with the `admin` scope, and the services check the user is an admin.

use super::Cursor;
use super::auth::Caller;
use super::extract::{Body, Json as JsonBody, Path, Query};
use crate::catalog_file::{CatalogFile, ConfigurationEntry};
use crate::http::api_error::{ApiError, ApiResult, ErrorBody};
use crate::services::catalog_code::ChangeSet;
use crate::state::AppState;
use app::domain::audit::{AuditFilter, AuditRow};
use app::domain::configurations::Configuration;
use app::domain::idle::IdlePolicyForm;
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
    app::caller::must_be_admin(caller.with(Scope::Admin)?)?;
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

/// "Must upgrade by" of a workspace type.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeByRequest {
    /// `YYYY-MM-DD`, today or later (UTC): the date its workspaces' owners are asked to upgrade
    /// by once a newer version is approved; null clears it.
    #[serde(deserialize_with = "Option::deserialize")]
    #[schema(required = true, format = Date, pattern = r"^\d{4}-\d{2}-\d{2}$")]
    pub by: Option<String>,
}

/// Sets or clears the date a workspace type's workspaces must be upgraded by.
#[utoipa::path(put, path = "/catalog/types/{id}/upgrade-by", tag = "admin", request_body = UpgradeByRequest,
    params(("id" = i64, Path, description = "The workspace type's id")),
    responses(
        (status = 204, description = "Set, or cleared (audited)"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such type", body = ErrorBody),
        (status = 422, description = "Not a date, or one in the past (`by`)", body = ErrorBody),
    ))]
pub async fn set_upgrade_by(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    JsonBody(request): JsonBody<UpgradeByRequest>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Admin)?;
    // Null clears the date. An empty string is no date: the document says so (its pattern), and
    // only the page's empty field means "clear".
    let by = match request.by.as_deref() {
        Some("") => return Err(app::error::AppError::invalid("by", "Give a date as YYYY-MM-DD, or null to clear it.").into()),
        by => by.unwrap_or_default(),
    };
    state.services.catalog_admin.set_upgrade_by(user, id, by).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A configuration's idle policy, in the fields of its `draft.idle`; an absent field takes the
/// default, as on the admin's form.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdlePolicyRequest {
    /// Stop after this many minutes idle; null: never stopped for being idle; absent: 60.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 10, maximum = 1440)]
    pub stop_after_minutes: Option<Option<u32>>,
    /// Below this average CPU (percent) a workstation counts as idle; absent: 5.
    #[schema(minimum = 1, maximum = 90)]
    pub cpu_percent: Option<u32>,
    /// Stop after running this many hours, idle or not; absent: no maximum. At least the idle window.
    #[schema(minimum = 1, maximum = 168)]
    pub max_running_hours: Option<u32>,
    /// Stop every day at this time (`HH:MM`) in the team's time zone; absent: never.
    #[schema(pattern = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")]
    pub nightly_stop: Option<String>,
    /// Stop its owner's running workspaces when they sign out, unless their settings say else.
    #[serde(default)]
    pub stop_on_sign_out: bool,
}

/// A field given, even as null: `Some(None)`; absent (with `default`): `None`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

impl IdlePolicyRequest {
    /// The admin's form with these values, for the form's own checks.
    fn form(self) -> IdlePolicyForm {
        let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        IdlePolicyForm {
            stop_after: match self.stop_after_minutes {
                None => String::new(),
                Some(None) => "never".to_owned(),
                Some(Some(minutes)) => minutes.to_string(),
            },
            cpu_percent: number(self.cpu_percent),
            max_running_hours: number(self.max_running_hours),
            nightly_stop: self.nightly_stop.unwrap_or_default(),
            stop_on_sign_out: if self.stop_on_sign_out { "on".to_owned() } else { String::new() },
        }
    }
}

/// Sets when a configuration's running workspaces are stopped without anyone asking.
#[utoipa::path(put, path = "/catalog/configurations/{id}/idle-policy", tag = "admin", request_body = IdlePolicyRequest,
    params(("id" = i64, Path, description = "The configuration's id")),
    responses(
        (status = 200, description = "Changed for its workspaces from now on (audited)", body = Configuration),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such configuration", body = ErrorBody),
        (status = 422, description = "Each invalid field, named as on the admin's form (`idle_stop_after`, `idle_cpu_percent`, `idle_max_running_hours`, `idle_nightly_stop`)", body = ErrorBody),
    ))]
pub async fn set_idle_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    JsonBody(request): JsonBody<IdlePolicyRequest>,
) -> ApiResult<Json<Configuration>> {
    let user = caller.with(Scope::Admin)?;
    // Absent means never; an empty string is no time (the document's pattern says so).
    if request.nightly_stop.as_deref() == Some("") {
        return Err(app::error::AppError::invalid("idle_nightly_stop", "Give a time as HH:MM, or leave nightly_stop out for never.").into());
    }
    Ok(Json(state.services.catalog_admin.set_idle_policy(user, id, request.form()).await?))
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(audit))
        .routes(utoipa_axum::routes!(catalog))
        .routes(utoipa_axum::routes!(import))
        .routes(utoipa_axum::routes!(approve))
        .routes(utoipa_axum::routes!(retire))
        .routes(utoipa_axum::routes!(create_configuration))
        .routes(utoipa_axum::routes!(export))
        .routes(utoipa_axum::routes!(apply))
        .routes(utoipa_axum::routes!(set_upgrade_by))
        .routes(utoipa_axum::routes!(set_idle_policy))
}
