//! The team's scratch space (`s3-scratch-prefix`): listed, uploaded to and downloaded from by
//! presigned URL like a study's files. Members read; researchers and admins upload; a file's
//! uploader or the team's admins delete it.

use super::auth::Caller;
use super::extract::{Json as JsonBody, Path, Query};
use super::studies::{
    CompleteUploadRequest, DownloadUrl, FileEntry, FileQuery, FolderQuery, NoStore, UploadRequest, UploadTicket, no_store,
};
use super::team_slug;
use crate::http::api_error::{ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::studies as domain;
use app::domain::tokens::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

const TEAM: &str = "The team's slug";

/// One page of a folder of the team's scratch space.
#[derive(Serialize, ToSchema)]
pub struct ScratchListing {
    /// `s3://bucket/prefix/`.
    pub location: String,
    /// Relative to the scratch space, ending with `/`; empty at its top.
    pub folder: String,
    pub folders: Vec<String>,
    pub files: Vec<ScratchFile>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// The largest file an upload may be, in bytes.
    pub max_file_bytes: u64,
    /// Whether the caller may upload (guests may not).
    pub may_upload: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ScratchFile {
    #[serde(flatten)]
    pub file: FileEntry,
    /// Who uploaded it through the portal; absent for files workspaces wrote.
    pub uploader: Option<String>,
    /// Whether the caller may delete it (its uploader, the team's admins).
    pub may_delete: bool,
}

impl From<domain::ScratchListing> for ScratchListing {
    fn from(listing: domain::ScratchListing) -> Self {
        ScratchListing {
            location: listing.location,
            folder: listing.folder,
            folders: listing.folders,
            files: listing
                .files
                .into_iter()
                .map(|file| ScratchFile { file: file.file.into(), uploader: file.uploader, may_delete: file.may_delete })
                .collect(),
            next_cursor: listing.next_page,
            max_file_bytes: listing.max_file_bytes,
            may_upload: listing.may_upload,
        }
    }
}

/// One page of a folder of the team's scratch space.
#[utoipa::path(get, path = "/teams/{team}/scratch/files", tag = "scratch",
    params(("team" = String, Path, description = TEAM), FolderQuery),
    responses(
        (status = 200, description = "One page of the folder: its sub-folders and files", body = ScratchListing),
        (status = 400, description = "A cursor S3 did not give, or a scratch space that overlaps the team's studies", body = ErrorBody),
        (status = 403, description = "Not a member of the team", body = ErrorBody),
        (status = 404, description = "No such team, or the team has no scratch space", body = ErrorBody),
        (status = 422, description = "A folder that is not one", body = ErrorBody),
        (status = 503, description = "S3 or Parameter Store unreachable", body = ErrorBody),
    ))]
pub async fn files(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    Query(query): Query<FolderQuery>,
) -> ApiResult<Json<ScratchListing>> {
    let user = caller.with(Scope::Read)?;
    let listing = state.services.scratch.scratch_files(user, &team_slug(&team)?, &query.folder, query.cursor).await?;
    Ok(Json(listing.into()))
}

/// Starts an upload of one file to the scratch space: where to send its bytes.
#[utoipa::path(post, path = "/teams/{team}/scratch/uploads", tag = "scratch", request_body = UploadRequest,
    params(("team" = String, Path, description = TEAM)),
    responses(
        (status = 200, description = "A presigned POST form, or part URLs for a large file, minted now (audited)", body = UploadTicket),
        (status = 400, description = "S3 refused", body = ErrorBody),
        (status = 403, description = "A guest, not a member, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such team, or no scratch space", body = ErrorBody),
        (status = 422, description = "A bad path, size or content type, or another member's file, named", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    JsonBody(request): JsonBody<UploadRequest>,
) -> ApiResult<Json<UploadTicket>> {
    let user = caller.with(Scope::Studies)?;
    let ticket =
        state.services.scratch.scratch_upload(user, &team_slug(&team)?, &request.path, request.size, &request.content_type).await?;
    Ok(Json(ticket.into()))
}

/// Completes a multipart upload to the scratch space from its parts' ETags.
#[utoipa::path(post, path = "/teams/{team}/scratch/uploads/complete", tag = "scratch", request_body = CompleteUploadRequest,
    params(("team" = String, Path, description = TEAM)),
    responses(
        (status = 204, description = "The file is whole (audited)"),
        (status = 400, description = "Not an upload S3 can complete: start again", body = ErrorBody),
        (status = 403, description = "A guest, not a member, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such team, or no scratch space", body = ErrorBody),
        (status = 422, description = "A bad path, or the whole came to more than allowed (it was removed)", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn complete_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    JsonBody(request): JsonBody<CompleteUploadRequest>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    state.services.scratch.complete_scratch_upload(user, &team, &request.path, &request.upload_id, request.etags).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A download URL for one file of the scratch space.
#[utoipa::path(get, path = "/teams/{team}/scratch/download", tag = "scratch",
    params(("team" = String, Path, description = TEAM), FileQuery),
    responses(
        (status = 200, description = "A presigned GET of the file, minted now (audited)", body = DownloadUrl),
        (status = 403, description = "Not a member of the team", body = ErrorBody),
        (status = 404, description = "No such team, scratch space or file", body = ErrorBody),
        (status = 422, description = "A path that is not one", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    Query(query): Query<FileQuery>,
) -> ApiResult<NoStore<DownloadUrl>> {
    let user = caller.with(Scope::Read)?;
    Ok(no_store(state.services.scratch.scratch_download_url(user, &team_slug(&team)?, &query.path).await?))
}

/// Deletes one file of the scratch space.
#[utoipa::path(delete, path = "/teams/{team}/scratch/files", tag = "scratch",
    params(("team" = String, Path, description = TEAM), FileQuery),
    responses(
        (status = 204, description = "Deleted (audited)"),
        (status = 403, description = "Neither the file's uploader nor a team admin, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such team, scratch space or file", body = ErrorBody),
        (status = 422, description = "A path that is not one", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn delete_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    Query(query): Query<FileQuery>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Studies)?;
    state.services.scratch.delete_scratch_file(user, &team_slug(&team)?, &query.path).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(files, delete_file))
        .routes(utoipa_axum::routes!(upload))
        .routes(utoipa_axum::routes!(complete_upload))
        .routes(utoipa_axum::routes!(download))
}
