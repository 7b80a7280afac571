//! Export requests out of controlled studies, and their review.

use super::*;

pub(super) const EXPORT: &str = "The export request's id";

/// Files to export from a controlled study's egress folder.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExportRequest {
    /// Paths in the egress folder (the folder listing's `exports.files`).
    #[schema(min_items = 1, max_items = 100)]
    pub files: Vec<String>,
    /// Why they should leave, for those who decide.
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Asks to export files out of a controlled study.
#[utoipa::path(post, path = "/teams/{team}/studies/{id}/exports", tag = "studies", request_body = NewExportRequest,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = STUDY)),
    responses(
        (status = 201, description = "Requested, pending a team admin's decision (audited)", body = ExportRequest),
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
    JsonBody(request): JsonBody<NewExportRequest>,
) -> ApiResult<(StatusCode, Json<ExportRequest>)> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    let studies = &state.services.studies;
    let request_id = studies.request_egress(user, &team, id, request.files, &request.reason).await?;
    Ok((StatusCode::CREATED, Json(studies.egress_request(user, &team, request_id).await?.into())))
}

/// One export request.
#[utoipa::path(get, path = "/teams/{team}/exports/{request_id}", tag = "studies",
    params(("team" = String, Path, description = TEAM), ("request_id" = i64, Path, description = EXPORT)),
    responses(
        (status = 200, description = "The request and its history", body = ExportRequest),
        (status = 403, description = "Not a member of the team", body = ErrorBody),
        (status = 404, description = "No such request, or neither its requester nor one who decides it", body = ErrorBody),
    ))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, request_id)): Path<(String, i64)>,
) -> ApiResult<Json<ExportRequest>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.studies.egress_request(user, &team_slug(&team)?, request_id).await?.into()))
}

/// A decision's note, for the requester.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

pub(super) async fn decide(
    state: &AppState,
    caller: &Caller,
    team: &str,
    request_id: i64,
    approve: bool,
    note: &str,
) -> ApiResult<Json<ExportRequest>> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(team)?;
    let studies = &state.services.studies;
    studies.decide_egress(user, &team, request_id, approve, note).await?;
    Ok(Json(studies.egress_request(user, &team, request_id).await?.into()))
}

/// Approves a pending export request.
#[utoipa::path(post, path = "/teams/{team}/exports/{request_id}/approve", tag = "studies", request_body = DecisionRequest,
    params(("team" = String, Path, description = TEAM), ("request_id" = i64, Path, description = EXPORT)),
    responses(
        (status = 200, description = "Approved (audited): its requester may download its files", body = ExportRequest),
        (status = 403, description = "The requester (someone else decides), or no studies scope", body = ErrorBody),
        (status = 404, description = "No such request, or neither its requester nor one who decides it", body = ErrorBody),
        (status = 409, description = "Decided already", body = ErrorBody),
        (status = 422, description = "A note too long", body = ErrorBody),
    ))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, request_id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<DecisionRequest>,
) -> ApiResult<Json<ExportRequest>> {
    decide(&state, &caller, &team, request_id, true, &request.note).await
}

/// Rejects a pending export request.
#[utoipa::path(post, path = "/teams/{team}/exports/{request_id}/reject", tag = "studies", request_body = DecisionRequest,
    params(("team" = String, Path, description = TEAM), ("request_id" = i64, Path, description = EXPORT)),
    responses(
        (status = 200, description = "Rejected (audited): its files stay", body = ExportRequest),
        (status = 403, description = "The requester (someone else decides), or no studies scope", body = ErrorBody),
        (status = 404, description = "No such request, or neither its requester nor one who decides it", body = ErrorBody),
        (status = 409, description = "Decided already", body = ErrorBody),
        (status = 422, description = "A note too long", body = ErrorBody),
    ))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, request_id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<DecisionRequest>,
) -> ApiResult<Json<ExportRequest>> {
    decide(&state, &caller, &team, request_id, false, &request.note).await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportFileQuery {
    /// One of the request's `files`.
    #[param(min_length = 1, max_length = 512)]
    pub file: String,
}

/// A download URL for one file of an approved export, for its requester.
#[utoipa::path(get, path = "/teams/{team}/exports/{request_id}/download", tag = "studies",
    params(("team" = String, Path, description = TEAM), ("request_id" = i64, Path, description = EXPORT), ExportFileQuery),
    responses(
        (status = 200, description = "A presigned GET of the file, minted now (audited)", body = DownloadUrl),
        (status = 403, description = "Not approved, or not its requester", body = ErrorBody),
        (status = 404, description = "No such request seen by the caller, or a file it does not name", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn export_download(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, request_id)): Path<(String, i64)>,
    Query(query): Query<ExportFileQuery>,
) -> ApiResult<NoStore<DownloadUrl>> {
    let user = caller.with(Scope::Read)?;
    Ok(no_store(state.services.studies.egress_download_url(user, &team_slug(&team)?, request_id, &query.file).await?))
}
