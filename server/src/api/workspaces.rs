//! Workspaces: list, launch (with an idempotency key), act on, follow and connect to.

use super::auth::Caller;
use super::extract::{Json as JsonBody, Path, Query};
use super::{Cursor, team_slug};
use crate::http::api_error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::idle::SNOOZE_HOURS;
use app::domain::tokens::Scope;
use app::domain::workspace::{
    Connection, LaunchRequest, RemoteProtocol, ShellSession, WorkspaceAction, WorkspaceEventView, WorkspaceSharing, WorkspaceView,
};
use app::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TeamFilter {
    /// Only this team's.
    pub team: Option<String>,
}

/// The caller's live workspaces (not terminated or failed).
#[utoipa::path(get, path = "/workspaces", tag = "workspaces", params(TeamFilter), responses(
    (status = 200, description = "The caller's live workspaces, on every team of theirs or on one", body = Vec<WorkspaceView>),
    (status = 403, description = "Not a member of that team", body = ErrorBody),
))]
pub async fn list(State(state): State<AppState>, caller: Caller, Query(filter): Query<TeamFilter>) -> ApiResult<Json<Vec<WorkspaceView>>> {
    let user = caller.with(Scope::Read)?;
    let teams = match filter.team {
        Some(team) => vec![team_slug(&team)?],
        None => user.teams.clone(),
    };
    let mut live = Vec::new();
    for team in &teams {
        live.extend(state.services.workspaces.my_workspaces(user, team).await?.live);
    }
    Ok(Json(live))
}

/// One page of ended workspaces, newest first.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct EndedPage {
    pub items: Vec<WorkspaceView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/teams/{team}/workspaces/ended", tag = "workspaces",
    params(("team" = String, Path, description = "The team's slug"), PageQuery),
    responses(
        (status = 200, description = "The caller's terminated and failed workspaces on the team", body = EndedPage),
        (status = 400, description = "A cursor the API did not give", body = ErrorBody),
        (status = 403, description = "Not a member", body = ErrorBody),
    ))]
pub async fn ended(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<EndedPage>> {
    let user = caller.with(Scope::Read)?;
    let page = Cursor::page(query.cursor.as_deref())?;
    let ended = state.services.workspaces.ended_workspaces(user, &team_slug(&team)?, page).await?;
    let next_cursor = (ended.page * ended.per_page < ended.total).then(|| Cursor::for_page(ended.page + 1));
    Ok(Json(EndedPage { items: ended.workspaces, next_cursor }))
}

#[utoipa::path(get, path = "/workspaces/{id}", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 200, description = "The workspace", body = WorkspaceView),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
    ))]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<WorkspaceView>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.workspaces.workspace(user, &id).await?))
}

#[utoipa::path(get, path = "/workspaces/{id}/events", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 200, description = "Its changes of state, oldest first", body = Vec<WorkspaceEventView>),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
    ))]
pub async fn events(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Vec<WorkspaceEventView>>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.workspaces.workspace(user, &id).await?.events))
}

/// The header that makes a launch safe to retry: the same key again gives the same workspace.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[utoipa::path(post, path = "/workspaces", tag = "workspaces", request_body = LaunchRequest,
    params(("Idempotency-Key" = String, Header, description = "8 to 200 of A-Z a-z 0-9 - _ . ; the same key launches once")),
    responses(
        (status = 201, description = "Launched (or launched before with this key): the workspace, provisioning", body = WorkspaceView),
        (status = 400, description = "No or a malformed key, or the quota is reached", body = ErrorBody),
        (status = 403, description = "Not allowed on this team or configuration", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody),
    ))]
pub async fn launch(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(request): JsonBody<LaunchRequest>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let user = caller.with(Scope::Workspaces)?;
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::bad_request("Send an Idempotency-Key header (8 to 200 of A-Z a-z 0-9 - _ .), new for each launch."))?;
    let services = &state.services;
    let id = services.workspaces.launch(user, request, key).await?;
    Ok((StatusCode::CREATED, Json(services.workspaces.workspace(user, &id).await?)))
}

async fn act(state: &AppState, caller: &Caller, id: &str, action: WorkspaceAction) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let user = caller.with(Scope::Workspaces)?;
    state.services.workspaces.request_action(user, id, action).await?;
    Ok((StatusCode::ACCEPTED, Json(state.services.workspaces.workspace(user, id).await?)))
}

#[utoipa::path(post, path = "/workspaces/{id}/stop", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 202, description = "Stopping", body = WorkspaceView),
        (status = 400, description = "Not in a state that can stop, or its type cannot", body = ErrorBody),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
    ))]
pub async fn stop(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    act(&state, &caller, &id, WorkspaceAction::Stop).await
}

#[utoipa::path(post, path = "/workspaces/{id}/start", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 202, description = "Starting", body = WorkspaceView),
        (status = 400, description = "Not stopped", body = ErrorBody),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
    ))]
pub async fn start(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    act(&state, &caller, &id, WorkspaceAction::Start).await
}

#[utoipa::path(post, path = "/workspaces/{id}/terminate", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 202, description = "Terminating", body = WorkspaceView),
        (status = 400, description = "Ended already or changing state", body = ErrorBody),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
    ))]
pub async fn terminate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    act(&state, &caller, &id, WorkspaceAction::Terminate).await
}

#[utoipa::path(post, path = "/workspaces/{id}/connect", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 200, description = "Where to connect, minted for the caller; audited, never stored", body = Connection),
        (status = 400, description = "Not available yet", body = ErrorBody),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 503, description = "SageMaker unreachable", body = ErrorBody),
    ))]
pub async fn connect(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Connection>> {
    let user = caller.with(Scope::Workspaces)?;
    Ok(Json(state.services.workspaces.connect(user, &id).await?))
}

/// `?protocol=ssh` (the default) or `rdp`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct SessionQuery {
    #[serde(default)]
    pub protocol: Option<String>,
}

#[utoipa::path(post, path = "/workspaces/{id}/session", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id"), SessionQuery),
    responses(
        (status = 200, description = "A Session Manager session forwarding SSH or RDP, started in the caller's name; audited, the token never stored", body = ShellSession),
        (status = 400, description = "Not available, not an EC2 workstation, or refused by AWS", body = ErrorBody),
        (status = 403, description = "Not its owner, an admin, or someone it is shared with", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 503, description = "Session Manager unreachable", body = ErrorBody),
    ))]
pub async fn start_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<SessionQuery>,
) -> ApiResult<Json<ShellSession>> {
    let user = caller.with(Scope::Workspaces)?;
    let raw = query.protocol.as_deref().unwrap_or("ssh");
    let protocol = RemoteProtocol::parse(raw).ok_or_else(|| AppError::invalid("protocol", "Choose ssh or rdp."))?;
    Ok(Json(state.services.workspaces.start_session(user, &id, protocol).await?))
}

/// Who may manage the workspace and whom it is shared with.
#[utoipa::path(get, path = "/workspaces/{id}/sharing", tag = "workspaces",
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 200, description = "Who may manage it and whom it is shared with", body = WorkspaceSharing),
        (status = 403, description = "Not its owner, an admin, or someone it is shared with", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
    ))]
pub async fn sharing(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<WorkspaceSharing>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.workspaces.sharing(user, &id).await?))
}

/// Whom to share a workspace with, for connecting: exactly these, replacing the shares before.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// Members of the workspace's team, by username; an empty list shares it with nobody by name.
    pub people: Vec<String>,
    /// Shared with everyone on its team as well.
    pub whole_team: bool,
}

/// Shares the workspace, for connecting, with exactly these members of its team.
#[utoipa::path(put, path = "/workspaces/{id}/sharing", tag = "workspaces", request_body = ShareRequest,
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 204, description = "Shared with exactly these (audited)"),
        (status = 400, description = "The workspace has ended", body = ErrorBody),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 422, description = "Someone who is not a member of its team (`people`)", body = ErrorBody),
    ))]
pub async fn share(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ShareRequest>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Workspaces)?;
    state.services.workspaces.share(user, &id, request.people, request.whole_team).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Keep running": how long the idle check leaves the workspace alone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeepRunningRequest {
    #[schema(schema_with = snooze_hours)]
    pub hours: u32,
}

/// `hours` as the page offers it: one of `SNOOZE_HOURS`.
fn snooze_hours() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some(SNOOZE_HOURS))
        .description(Some("Hours, one of those the page offers"))
        .build()
}

/// "Keep running": the idle check leaves the workspace alone for 1, 4 or 8 hours.
#[utoipa::path(post, path = "/workspaces/{id}/keep-running", tag = "workspaces", request_body = KeepRunningRequest,
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 204, description = "Not stopped for being idle for that long (audited)"),
        (status = 400, description = "Hours not offered, or not a running workspace that stops when idle", body = ErrorBody),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
    ))]
pub async fn keep_running(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<KeepRunningRequest>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Workspaces)?;
    state.services.workspaces.keep_running(user, &id, request.hours).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The newer approved version of its product to move a running workspace to (the
/// workspace's `upgrade.type_id`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeRequest {
    pub to_type_id: i64,
}

/// Moves a running workspace to a newer approved version of its product, in place.
#[utoipa::path(post, path = "/workspaces/{id}/upgrade", tag = "workspaces", request_body = UpgradeRequest,
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 202, description = "Updating: the same workspace moves to that version (audited)", body = WorkspaceView),
        (status = 400, description = "Not available (start it first)", body = ErrorBody),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace or version", body = ErrorBody),
        (status = 422, description = "Not an approved newer version of its product (`version`)", body = ErrorBody),
    ))]
pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<UpgradeRequest>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let user = caller.with(Scope::Workspaces)?;
    state.services.workspaces.upgrade(user, &id, request.to_type_id).await?;
    Ok((StatusCode::ACCEPTED, Json(state.services.workspaces.workspace(user, &id).await?)))
}

/// Another size its configuration lists (the workspace's `sizes`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResizeRequest {
    pub size: String,
}

/// Changes a running workspace to another size its configuration lists.
#[utoipa::path(post, path = "/workspaces/{id}/resize", tag = "workspaces", request_body = ResizeRequest,
    params(("id" = String, Path, description = "The workspace's id")),
    responses(
        (status = 202, description = "Updating to that size (audited)", body = WorkspaceView),
        (status = 400, description = "Not available (start it first), or the team's budget does not hold it", body = ErrorBody),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 422, description = "Not a size its configuration lists, or the size it has (`size`)", body = ErrorBody),
    ))]
pub async fn resize(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<ResizeRequest>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let user = caller.with(Scope::Workspaces)?;
    state.services.workspaces.resize(user, &id, &request.size).await?;
    Ok((StatusCode::ACCEPTED, Json(state.services.workspaces.workspace(user, &id).await?)))
}

/// The request's Idempotency-Key; 400 without one.
fn idempotency_key(headers: &HeaderMap) -> ApiResult<&str> {
    headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::bad_request("Send an Idempotency-Key header (8 to 200 of A-Z a-z 0-9 - _ .), new for each launch."))
}

/// Launches an ended workspace again: its configuration, parameters and studies, under its name.
#[utoipa::path(post, path = "/workspaces/{id}/launch-again", tag = "workspaces",
    params(
        ("id" = String, Path, description = "The ended workspace's id"),
        ("Idempotency-Key" = String, Header, description = "8 to 200 of A-Z a-z 0-9 - _ . ; the same key launches once"),
    ),
    responses(
        (status = 201, description = "A new workspace of its configuration, parameters and studies, under its name (or the one launched before with this key)", body = WorkspaceView),
        (status = 400, description = "No or a malformed key, not ended, not the caller's, no longer offered, or the quota is reached", body = ErrorBody),
        (status = 403, description = "Neither its owner nor an admin", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
    ))]
pub async fn launch_again(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let user = caller.with(Scope::Workspaces)?;
    let again = state.services.workspaces.launch_again(user, &id, idempotency_key(&headers)?).await?;
    Ok((StatusCode::CREATED, Json(state.services.workspaces.workspace(user, &again).await?)))
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(list, launch))
        .routes(utoipa_axum::routes!(ended))
        .routes(utoipa_axum::routes!(get))
        .routes(utoipa_axum::routes!(events))
        .routes(utoipa_axum::routes!(stop))
        .routes(utoipa_axum::routes!(start))
        .routes(utoipa_axum::routes!(terminate))
        .routes(utoipa_axum::routes!(connect))
        .routes(utoipa_axum::routes!(start_session))
        .routes(utoipa_axum::routes!(sharing, share))
        .routes(utoipa_axum::routes!(keep_running))
        .routes(utoipa_axum::routes!(upgrade))
        .routes(utoipa_axum::routes!(resize))
        .routes(utoipa_axum::routes!(launch_again))
}
