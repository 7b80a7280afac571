//! The airlock: imports into a study and exports out of a controlled one, as requests that are
//! scanned for malware, reviewed by one or two people (never their requester), and audited.
//! An import's files go up by presigned URL into the request's inbox, as a study's uploads do.

use super::auth::Caller;
use super::extract::{Json as JsonBody, Path, Query};
use super::studies::{CompleteUploadRequest, DownloadUrl, NoStore, UploadRequest, UploadTicket, no_store};
use super::team_slug;
use crate::http::api_error::{ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::airlock::{AirlockList, AirlockRequestView};
use app::domain::tokens::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

const TEAM: &str = "The team's slug";
const STUDY: &str = "The study's id";
const REQUEST: &str = "The request's id";

/// The team's requests the caller sees: their own; everyone's for the team's reviewers.
#[utoipa::path(get, path = "/teams/{team}/requests", tag = "airlock",
    params(("team" = String, Path, description = TEAM)),
    responses(
        (status = 200, description = "Newest first (at most 200)", body = AirlockList),
        (status = 403, description = "Not a member of the team", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<AirlockList>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.airlock.requests(user, &team_slug(&team)?).await?))
}

/// One request: its files with their scan results, its reviews and its history.
#[utoipa::path(get, path = "/teams/{team}/requests/{id}", tag = "airlock",
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST)),
    responses(
        (status = 200, description = "The request, and what the caller may do with it now", body = AirlockRequestView),
        (status = 403, description = "Not a member of the team", body = ErrorBody),
        (status = 404, description = "No such request, or neither its requester nor one of its reviewers", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
) -> ApiResult<Json<AirlockRequestView>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.airlock.request(user, &team_slug(&team)?, id).await?))
}

/// Why the files should come in or go out, for those who review it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewImport {
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Starts an import into a study the caller may write: a draft, whose files then go up
/// (`/requests/{id}/uploads`) before it is submitted.
#[utoipa::path(post, path = "/teams/{team}/studies/{id}/imports", tag = "airlock", request_body = NewImport,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = STUDY)),
    responses(
        (status = 201, description = "A draft (audited)", body = AirlockRequestView),
        (status = 403, description = "May read the study but not write it, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such study seen from this team", body = ErrorBody),
        (status = 422, description = "No reason, or one too long", body = ErrorBody),
    ))]
pub async fn start_import(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<NewImport>,
) -> ApiResult<(StatusCode, Json<AirlockRequestView>)> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    let airlock = &state.services.airlock;
    let request_id = airlock.start_import(user, &team, id, &request.reason).await?;
    Ok((StatusCode::CREATED, Json(airlock.request(user, &team, request_id).await?)))
}

/// Starts an upload of one file into a draft import's inbox: where to send its bytes.
#[utoipa::path(post, path = "/teams/{team}/requests/{id}/uploads", tag = "airlock", request_body = UploadRequest,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST)),
    responses(
        (status = 200, description = "A presigned POST form, or part URLs for a large file, minted now (audited)", body = UploadTicket),
        (status = 403, description = "Not the request's requester, not an import, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such request seen by the caller", body = ErrorBody),
        (status = 409, description = "Submitted already", body = ErrorBody),
        (status = 422, description = "A bad path, size or content type, or too many files", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<UploadRequest>,
) -> ApiResult<Json<UploadTicket>> {
    let user = caller.with(Scope::Studies)?;
    let ticket =
        state.services.airlock.import_upload(user, &team_slug(&team)?, id, &request.path, request.size, &request.content_type).await?;
    Ok(Json(ticket.into()))
}

/// Completes a multipart upload into a draft import's inbox.
#[utoipa::path(post, path = "/teams/{team}/requests/{id}/uploads/complete", tag = "airlock", request_body = CompleteUploadRequest,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST)),
    responses(
        (status = 204, description = "The file is whole (audited)"),
        (status = 400, description = "S3 refused, or an upload that cannot be completed", body = ErrorBody),
        (status = 403, description = "Not the request's requester, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such request seen by the caller", body = ErrorBody),
        (status = 409, description = "Submitted already", body = ErrorBody),
        (status = 422, description = "The whole is over the limit (removed)", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn complete_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<CompleteUploadRequest>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Studies)?;
    state.services.airlock.complete_import_upload(user, &team_slug(&team)?, id, &request.path, &request.upload_id, request.etags).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submits a draft import with the files in its inbox: they are scanned, then reviewed.
#[utoipa::path(post, path = "/teams/{team}/requests/{id}/submit", tag = "airlock",
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST)),
    responses(
        (status = 200, description = "Scanning (audited); in review when the portal does not scan", body = AirlockRequestView),
        (status = 403, description = "Not the request's requester, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such request seen by the caller", body = ErrorBody),
        (status = 409, description = "Submitted already", body = ErrorBody),
        (status = 422, description = "No files uploaded, or too many", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
) -> ApiResult<Json<AirlockRequestView>> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    state.services.airlock.submit(user, &team, id).await?;
    Ok(Json(state.services.airlock.request(user, &team, id).await?))
}

/// Files to export from a controlled study's egress folder.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExport {
    /// Paths in the egress folder (the study's folder listing, `exports.files`).
    #[schema(min_items = 1, max_items = 100)]
    pub files: Vec<String>,
    /// Why they should leave, for those who review it.
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Asks to export files out of a controlled study: they are scanned, then reviewed.
#[utoipa::path(post, path = "/teams/{team}/studies/{id}/exports", tag = "airlock", request_body = NewExport,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = STUDY)),
    responses(
        (status = 201, description = "Requested (audited): scanning, or in review when the portal does not scan", body = AirlockRequestView),
        (status = 400, description = "Not a controlled study: download its files directly", body = ErrorBody),
        (status = 403, description = "May read the study but not write it, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such study seen from this team", body = ErrorBody),
        (status = 422, description = "Files not in the egress folder, or no reason", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn request_export(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<NewExport>,
) -> ApiResult<(StatusCode, Json<AirlockRequestView>)> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    let airlock = &state.services.airlock;
    let request_id = airlock.request_export(user, &team, id, request.files, &request.reason).await?;
    Ok((StatusCode::CREATED, Json(airlock.request(user, &team, request_id).await?)))
}

/// A reviewer's note: optional on an approval, the reason on a rejection.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewNote {
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

async fn review(state: &AppState, caller: &Caller, team: &str, id: i64, approve: bool, note: &str) -> ApiResult<Json<AirlockRequestView>> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(team)?;
    state.services.airlock.review(user, &team, id, approve, note).await?;
    Ok(Json(state.services.airlock.request(user, &team, id).await?))
}

/// Approves a request in review. The last approval needed copies an import into its study, or
/// releases an export to its requester.
#[utoipa::path(post, path = "/teams/{team}/requests/{id}/approve", tag = "airlock", request_body = ReviewNote,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST)),
    responses(
        (status = 200, description = "Approved (audited): completed, or approved with `status_note` when a copy failed (retry)", body = AirlockRequestView),
        (status = 403, description = "No studies scope", body = ErrorBody),
        (status = 404, description = "No such request, or neither its requester nor one of its reviewers", body = ErrorBody),
        (status = 409, description = "Its requester, a second decision by the same person, or not in review", body = ErrorBody),
        (status = 422, description = "A note too long", body = ErrorBody),
    ))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<ReviewNote>,
) -> ApiResult<Json<AirlockRequestView>> {
    review(&state, &caller, &team, id, true, &request.note).await
}

/// Rejects a request in review, saying why.
#[utoipa::path(post, path = "/teams/{team}/requests/{id}/reject", tag = "airlock", request_body = ReviewNote,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST)),
    responses(
        (status = 200, description = "Rejected (audited): its files stay where they are", body = AirlockRequestView),
        (status = 403, description = "No studies scope", body = ErrorBody),
        (status = 404, description = "No such request, or neither its requester nor one of its reviewers", body = ErrorBody),
        (status = 409, description = "Its requester, a second decision by the same person, or not in review", body = ErrorBody),
        (status = 422, description = "No reason, or one too long", body = ErrorBody),
    ))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<ReviewNote>,
) -> ApiResult<Json<AirlockRequestView>> {
    review(&state, &caller, &team, id, false, &request.note).await
}

/// Tries an approved request's copy into its study again.
#[utoipa::path(post, path = "/teams/{team}/requests/{id}/retry", tag = "airlock",
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST)),
    responses(
        (status = 200, description = "Tried (audited): completed, or still approved with why", body = AirlockRequestView),
        (status = 403, description = "No studies scope", body = ErrorBody),
        (status = 404, description = "No such request, or neither its requester nor one of its reviewers", body = ErrorBody),
        (status = 409, description = "Not approved", body = ErrorBody),
    ))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
) -> ApiResult<Json<AirlockRequestView>> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    state.services.airlock.retry(user, &team, id).await?;
    Ok(Json(state.services.airlock.request(user, &team, id).await?))
}

/// Withdraws a request still on its way (its requester).
#[utoipa::path(post, path = "/teams/{team}/requests/{id}/cancel", tag = "airlock",
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST)),
    responses(
        (status = 200, description = "Cancelled (audited)", body = AirlockRequestView),
        (status = 403, description = "Not its requester, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such request seen by the caller", body = ErrorBody),
        (status = 409, description = "Approved or finished already", body = ErrorBody),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
) -> ApiResult<Json<AirlockRequestView>> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    state.services.airlock.cancel(user, &team, id).await?;
    Ok(Json(state.services.airlock.request(user, &team, id).await?))
}

/// Gives up on a scan that never came (an admin): the request is blocked, saying why.
#[utoipa::path(post, path = "/teams/{team}/requests/{id}/fail-scan", tag = "airlock", request_body = ReviewNote,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST)),
    responses(
        (status = 200, description = "Blocked (audited)", body = AirlockRequestView),
        (status = 403, description = "Not an admin, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Its scan is not overdue", body = ErrorBody),
    ))]
pub async fn fail_scan(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<ReviewNote>,
) -> ApiResult<Json<AirlockRequestView>> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    state.services.airlock.fail_scan(user, &team, id, &request.note).await?;
    Ok(Json(state.services.airlock.request(user, &team, id).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RequestFileQuery {
    /// One of the request's `files[].path`.
    #[param(min_length = 1, max_length = 1024)]
    pub file: String,
}

/// A read-only link to one file of a request: for its reviewers while they decide, and for
/// the requester of a completed export.
#[utoipa::path(get, path = "/teams/{team}/requests/{id}/file", tag = "airlock",
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = REQUEST), RequestFileQuery),
    responses(
        (status = 200, description = "A presigned GET of the file, minted now (audited)", body = DownloadUrl),
        (status = 403, description = "Not a reviewer of a request in review, nor the requester of a completed export", body = ErrorBody),
        (status = 404, description = "No such request seen by the caller, or a file it does not carry", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn file(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    Query(query): Query<RequestFileQuery>,
) -> ApiResult<NoStore<DownloadUrl>> {
    let user = caller.with(Scope::Read)?;
    Ok(no_store(state.services.airlock.file_url(user, &team_slug(&team)?, id, &query.file).await?))
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(list))
        .routes(utoipa_axum::routes!(show))
        .routes(utoipa_axum::routes!(start_import))
        .routes(utoipa_axum::routes!(upload))
        .routes(utoipa_axum::routes!(complete_upload))
        .routes(utoipa_axum::routes!(submit))
        .routes(utoipa_axum::routes!(request_export))
        .routes(utoipa_axum::routes!(approve))
        .routes(utoipa_axum::routes!(reject))
        .routes(utoipa_axum::routes!(retry))
        .routes(utoipa_axum::routes!(cancel))
        .routes(utoipa_axum::routes!(fail_scan))
        .routes(utoipa_axum::routes!(file))
}
