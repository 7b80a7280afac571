//! Studies: data, uploads, downloads and writers (imports and exports: `api::airlock`).
//!
//! Bytes never pass through Atrium: uploads and downloads are presigned S3 URLs minted per
//! request (audited), as for the pages. Every study is seen through a team: the services check
//! the caller's access from that team (404 for a study they may not see, 403 for one they may
//! see but not change).

use super::auth::Caller;
use super::extract::{Json as JsonBody, Path, Query};
use super::team_slug;
use crate::http::api_error::{ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::studies::{self as domain, Access};
use app::domain::tokens::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

mod views;
pub use views::*;

// --- Studies ---

const TEAM: &str = "The team's slug";
const STUDY: &str = "The study's id";

/// The studies the caller sees from a team.
#[utoipa::path(get, path = "/teams/{team}/studies", tag = "studies",
    params(("team" = String, Path, description = TEAM)),
    responses(
        (status = 200, description = "The studies the caller may see from the team", body = StudyList),
        (status = 403, description = "Not a member of the team", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<StudyList>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.studies.studies(user, &team_slug(&team)?).await?.into()))
}

/// A new study, as the "new study" form takes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStudyRequest {
    /// Organisation studies and open data are for admins.
    pub scope: StudyScope,
    /// Unique among the studies seen from the team.
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    /// My, team and organisation studies: its folder, made of letters, digits, `.`, `_` and
    /// `-` (not starting with a dot), `/` between parts; the name's slug when absent. It may not
    /// hold, or lie inside, another study's folder.
    #[serde(default)]
    pub folder: String,
    /// Controlled data: mounted read-only, never downloaded, exported only once approved. Not for open data.
    #[serde(default)]
    pub controlled: bool,
    /// Organisation studies: the teams that may read it (at least one).
    #[serde(default)]
    pub teams: Vec<String>,
    /// Open data: where it is, `s3://bucket/prefix/`.
    #[serde(default)]
    pub location: String,
}

impl From<NewStudyRequest> for domain::StudyForm {
    fn from(request: NewStudyRequest) -> Self {
        domain::StudyForm {
            scope: request.scope.form_value().to_owned(),
            name: request.name,
            description: request.description,
            folder: request.folder,
            controlled: request.controlled,
            teams: request.teams,
            location: request.location,
        }
    }
}

/// Creates a study.
#[utoipa::path(post, path = "/teams/{team}/studies", tag = "studies", request_body = NewStudyRequest,
    params(("team" = String, Path, description = TEAM)),
    responses(
        (status = 201, description = "Created, its folder made in S3 (audited)", body = StudyView),
        (status = 400, description = "The team has no bucket for studies, or S3 refused", body = ErrorBody),
        (status = 403, description = "Not a member, a guest, a scope only admins create, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named (a taken name, an overlapping folder)", body = ErrorBody),
        (status = 503, description = "S3 unreachable: no study was created", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    JsonBody(request): JsonBody<NewStudyRequest>,
) -> ApiResult<(StatusCode, Json<StudyView>)> {
    let user = caller.with(Scope::Studies)?;
    let study = state.services.studies.create(user, &team_slug(&team)?, request.into()).await?;
    Ok((StatusCode::CREATED, Json(study.into())))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FolderQuery {
    /// A folder of the study, relative to it (`results/2026/`); its top when absent.
    #[serde(default)]
    pub folder: String,
    /// From the previous page's `next_cursor`.
    #[param(max_length = 1024)]
    pub cursor: Option<String>,
}

/// One page of a folder of a study.
#[utoipa::path(get, path = "/teams/{team}/studies/{id}/files", tag = "studies",
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = STUDY), FolderQuery),
    responses(
        (status = 200, description = "One page of the folder: its sub-folders and files (and a controlled study's exports)", body = FolderListing),
        (status = 400, description = "A cursor S3 did not give", body = ErrorBody),
        (status = 403, description = "Not a member of the team", body = ErrorBody),
        (status = 404, description = "No such study seen from this team", body = ErrorBody),
        (status = 422, description = "A folder that is not one", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn files(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    Query(query): Query<FolderQuery>,
) -> ApiResult<Json<FolderListing>> {
    let user = caller.with(Scope::Read)?;
    let listing = state.services.studies.files(user, &team_slug(&team)?, id, &query.folder, query.cursor).await?;
    Ok(Json(listing.into()))
}

/// A file to upload.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// Where in the study (`calls/variants.csv`): no leading `/`, no empty, `.` or `..` part.
    #[schema(min_length = 1, max_length = 512)]
    pub path: String,
    /// Its size in bytes, at most the folder listing's `max_file_bytes`.
    #[schema(minimum = 1)]
    pub size: u64,
    /// `type/subtype`; `application/octet-stream` when absent. Types that would run script
    /// when opened from the bucket (`text/html`, …) are refused.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub content_type: String,
}

/// Starts an upload of one file to a study: where to send its bytes.
#[utoipa::path(post, path = "/teams/{team}/studies/{id}/uploads", tag = "studies", request_body = UploadRequest,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = STUDY)),
    responses(
        (status = 200, description = "A presigned POST form, or part URLs for a large file, minted now (audited)", body = UploadTicket),
        (status = 400, description = "S3 refused", body = ErrorBody),
        (status = 403, description = "May read the study but not write it, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such study seen from this team", body = ErrorBody),
        (status = 422, description = "A bad path, size or content type, named", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<UploadRequest>,
) -> ApiResult<Json<UploadTicket>> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    let ticket = state.services.studies.upload(user, &team, id, &request.path, request.size, &request.content_type).await?;
    Ok(Json(ticket.into()))
}

/// A multipart upload whose parts are all sent.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteUploadRequest {
    /// The ticket's `path`.
    #[schema(min_length = 1, max_length = 512)]
    pub path: String,
    /// The ticket's `upload_id`.
    #[schema(min_length = 1, max_length = 1024)]
    pub upload_id: String,
    /// The `ETag` S3 answered each part's PUT with, in the parts' order.
    #[schema(min_items = 1, max_items = 10000)]
    pub etags: Vec<String>,
}

/// Completes a multipart upload from its parts' ETags.
#[utoipa::path(post, path = "/teams/{team}/studies/{id}/uploads/complete", tag = "studies", request_body = CompleteUploadRequest,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = STUDY)),
    responses(
        (status = 204, description = "The file is whole in the study (audited)"),
        (status = 400, description = "Not an upload S3 can complete: start again", body = ErrorBody),
        (status = 403, description = "May read the study but not write it, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such study seen from this team", body = ErrorBody),
        (status = 422, description = "A bad path, or the whole came to more than a study takes (it was removed)", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn complete_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<CompleteUploadRequest>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Studies)?;
    let team = team_slug(&team)?;
    state.services.studies.complete_upload(user, &team, id, &request.path, &request.upload_id, request.etags).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// The file's path in the study (`calls/variants.csv`).
    #[param(min_length = 1, max_length = 512)]
    pub path: String,
}

/// The URL answered with: never cached, as the pages' download redirects.
pub(crate) type NoStore<T> = ([(header::HeaderName, &'static str); 1], Json<T>);

pub(crate) fn no_store(url: String) -> NoStore<DownloadUrl> {
    ([(header::CACHE_CONTROL, "no-store")], Json(DownloadUrl { url }))
}

/// A download URL for one file of a study.
#[utoipa::path(get, path = "/teams/{team}/studies/{id}/download", tag = "studies",
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = STUDY), FileQuery),
    responses(
        (status = 200, description = "A presigned GET of the file, minted now (audited)", body = DownloadUrl),
        (status = 403, description = "A controlled study (its data leaves only through an approved export), or not a member", body = ErrorBody),
        (status = 404, description = "No such study seen from this team, or no such file", body = ErrorBody),
        (status = 422, description = "A path that is not one", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    Query(query): Query<FileQuery>,
) -> ApiResult<NoStore<DownloadUrl>> {
    let user = caller.with(Scope::Read)?;
    Ok(no_store(state.services.studies.download_url(user, &team_slug(&team)?, id, &query.path).await?))
}

/// Deletes one file of a study.
#[utoipa::path(delete, path = "/teams/{team}/studies/{id}/files", tag = "studies",
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = STUDY), FileQuery),
    responses(
        (status = 204, description = "Deleted (audited)"),
        (status = 403, description = "May read the study but not write it, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such study seen from this team, or no such file", body = ErrorBody),
        (status = 422, description = "A path that is not one", body = ErrorBody),
        (status = 503, description = "S3 unreachable", body = ErrorBody),
    ))]
pub async fn delete_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    Query(query): Query<FileQuery>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Studies)?;
    state.services.studies.delete_file(user, &team_slug(&team)?, id, &query.path).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A team study's writers, besides its owner and the team's admins.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WritersRequest {
    /// Usernames of members of the team (guests among them still only read); empty for none.
    pub writers: Vec<String>,
}

/// Sets a team study's writers.
#[utoipa::path(put, path = "/teams/{team}/studies/{id}/writers", tag = "studies", request_body = WritersRequest,
    params(("team" = String, Path, description = TEAM), ("id" = i64, Path, description = STUDY)),
    responses(
        (status = 204, description = "The study's writers are these (audited)"),
        (status = 403, description = "Neither the study's owner nor a team admin, not a team study, or no studies scope", body = ErrorBody),
        (status = 404, description = "No such study seen from this team", body = ErrorBody),
        (status = 422, description = "Someone who is not a member of the team", body = ErrorBody),
    ))]
pub async fn set_writers(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, id)): Path<(String, i64)>,
    JsonBody(request): JsonBody<WritersRequest>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Studies)?;
    state.services.studies.set_writers(user, &team_slug(&team)?, id, request.writers).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(list, create))
        .routes(utoipa_axum::routes!(files, delete_file))
        .routes(utoipa_axum::routes!(upload))
        .routes(utoipa_axum::routes!(complete_upload))
        .routes(utoipa_axum::routes!(download))
        .routes(utoipa_axum::routes!(set_writers))
}
