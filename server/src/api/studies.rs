//! Studies: data, uploads, downloads, writers, and export requests with their review.
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

// --- What the API answers: the pages' views, with their schema ---

/// Who a study is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StudyScope {
    /// Only its owner (researchers and admins create one).
    My,
    /// The team's members; its owner and the team's admins choose who writes.
    Team,
    /// Created by admins, readable by the teams it lists.
    Organisation,
    /// A registered public bucket or prefix (admins register one): read-only for everyone.
    OpenData,
}

impl From<domain::StudyScope> for StudyScope {
    fn from(scope: domain::StudyScope) -> Self {
        match scope {
            domain::StudyScope::My => StudyScope::My,
            domain::StudyScope::Team => StudyScope::Team,
            domain::StudyScope::Organisation => StudyScope::Organisation,
            domain::StudyScope::OpenData => StudyScope::OpenData,
        }
    }
}

impl StudyScope {
    /// As the page's form names it.
    fn form_value(self) -> &'static str {
        match self {
            StudyScope::My => domain::StudyScope::My.as_str(),
            StudyScope::Team => domain::StudyScope::Team.as_str(),
            StudyScope::Organisation => domain::StudyScope::Organisation.as_str(),
            StudyScope::OpenData => domain::StudyScope::OpenData.as_str(),
        }
    }
}

/// A study as the caller sees it from the team.
#[derive(Serialize, ToSchema)]
pub struct StudyView {
    pub id: i64,
    pub scope: StudyScope,
    pub name: String,
    pub description: String,
    pub owner: String,
    /// The team of a my or team study.
    pub team: Option<String>,
    /// `s3://bucket/prefix/`
    pub location: String,
    /// Controlled data: mounted read-only, never downloaded; it leaves only through an approved export.
    pub controlled: bool,
    /// What the caller may do: read, or read and write.
    pub access: Access,
    /// Whether the caller may set the writers of this team study.
    pub may_choose_writers: bool,
    /// Named writers of a team study.
    pub writers: Vec<String>,
    /// The teams an organisation study is shared with.
    pub teams: Vec<String>,
}

impl From<domain::StudyView> for StudyView {
    fn from(study: domain::StudyView) -> Self {
        StudyView {
            id: study.id,
            scope: study.scope.into(),
            name: study.name,
            description: study.description,
            owner: study.owner,
            team: study.team,
            location: study.location,
            controlled: study.controlled,
            access: study.access,
            may_choose_writers: study.may_choose_writers,
            writers: study.writers,
            teams: study.teams,
        }
    }
}

/// The studies seen from a team, as the studies page lists them.
#[derive(Serialize, ToSchema)]
pub struct StudyList {
    pub studies: Vec<StudyView>,
    /// Whether the caller may create my and team studies (researchers and admins).
    pub may_create: bool,
    /// Admins also create organisation studies and register open data.
    pub is_admin: bool,
    /// Every active team, for an admin's organisation study (empty for others).
    pub all_teams: Vec<String>,
}

impl From<domain::StudyList> for StudyList {
    fn from(list: domain::StudyList) -> Self {
        StudyList {
            studies: list.studies.into_iter().map(StudyView::from).collect(),
            may_create: list.may_create,
            is_admin: list.is_admin,
            all_teams: list.all_teams,
        }
    }
}

/// One file of a study (or of its egress folder).
#[derive(Serialize, ToSchema)]
pub struct FileEntry {
    /// Relative to the study (or to its egress folder).
    pub path: String,
    pub name: String,
    /// Bytes.
    pub size: i64,
    pub last_modified: String,
}

impl From<domain::FileEntry> for FileEntry {
    fn from(file: domain::FileEntry) -> Self {
        FileEntry { path: file.path, name: file.name, size: file.size, last_modified: file.last_modified }
    }
}

/// What an export request is at.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    Pending,
    Approved,
    Rejected,
}

/// An export request, as a controlled study's page lists it.
#[derive(Serialize, ToSchema)]
pub struct ExportSummary {
    pub id: i64,
    pub requester: String,
    pub files: Vec<String>,
    #[schema(value_type = ExportStatus)]
    pub status: String,
    pub created_at: String,
}

impl From<domain::EgressSummary> for ExportSummary {
    fn from(request: domain::EgressSummary) -> Self {
        ExportSummary {
            id: request.id,
            requester: request.requester,
            files: request.files,
            status: request.status,
            created_at: request.created_at,
        }
    }
}

/// A controlled study's exports: the files waiting to leave, and the requests.
#[derive(Serialize, ToSchema)]
pub struct ExportPanel {
    /// `s3://bucket/egress/<id>/`: where workspaces put results that are to leave.
    pub location: String,
    /// The files in the egress folder, which an export request may name (by `path`).
    pub files: Vec<FileEntry>,
    /// The caller's requests (every request, for the team's admins), newest first.
    pub requests: Vec<ExportSummary>,
    /// Whether the caller may request an export (writers).
    pub may_request: bool,
}

impl From<domain::EgressPanel> for ExportPanel {
    fn from(panel: domain::EgressPanel) -> Self {
        ExportPanel {
            location: panel.location,
            files: panel.files.into_iter().map(FileEntry::from).collect(),
            requests: panel.requests.into_iter().map(ExportSummary::from).collect(),
            may_request: panel.may_request,
        }
    }
}

/// One page of a folder of a study.
#[derive(Serialize, ToSchema)]
pub struct FolderListing {
    pub study: StudyView,
    /// Relative to the study, ending with `/`; empty at its top.
    pub folder: String,
    /// Its sub-folders (relative to the study, ending with `/`).
    pub folders: Vec<String>,
    pub files: Vec<FileEntry>,
    /// Pass as `cursor` for the next page of the folder; absent on the last.
    pub next_cursor: Option<String>,
    /// The largest file an upload may be, in bytes.
    pub max_file_bytes: u64,
    /// Controlled studies: the egress folder and the export requests.
    pub exports: Option<ExportPanel>,
    /// The team's members, who may be named writers (for those who choose them; else empty).
    pub team_members: Vec<String>,
}

impl From<domain::FolderListing> for FolderListing {
    fn from(listing: domain::FolderListing) -> Self {
        FolderListing {
            study: listing.study.into(),
            folder: listing.folder,
            folders: listing.folders,
            files: listing.files.into_iter().map(FileEntry::from).collect(),
            next_cursor: listing.next_page,
            max_file_bytes: listing.max_file_bytes,
            exports: listing.egress.map(ExportPanel::from),
            team_members: listing.team_members,
        }
    }
}

/// Where and how to upload one file, straight to S3.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UploadTicket {
    /// Files under 16 MiB: POST a `multipart/form-data` form to `url` with these fields, the
    /// file last, as `file`. It takes exactly this key, size and content type, until it expires.
    Post { url: String, fields: BTreeMap<String, String> },
    /// Larger files: PUT each part of `part_size` bytes (the last one shorter) to its URL, in
    /// order, then complete the upload with the parts' ETags (`/uploads/complete`).
    Multipart { path: String, upload_id: String, part_size: u64, part_urls: Vec<String> },
}

impl From<domain::UploadTicket> for UploadTicket {
    fn from(ticket: domain::UploadTicket) -> Self {
        match ticket {
            domain::UploadTicket::Post { url, fields } => UploadTicket::Post { url, fields: fields.into_iter().collect() },
            domain::UploadTicket::Multipart { path, upload_id, part_size, part_urls } => {
                UploadTicket::Multipart { path, upload_id, part_size, part_urls }
            }
        }
    }
}

/// A presigned URL minted for this request (audited, never stored): a credential for a short
/// while, so not to be cached or shared.
#[derive(Serialize, ToSchema)]
pub struct DownloadUrl {
    pub url: String,
}

/// One event of an export request's history.
#[derive(Serialize, ToSchema)]
pub struct ExportEvent {
    pub at: String,
    pub actor: String,
    /// `egress.request`, `egress.approve`, `egress.reject`, `egress.download_url`.
    pub action: String,
    pub detail: Option<String>,
}

/// An export request, as its page shows it.
#[derive(Serialize, ToSchema)]
pub struct ExportRequest {
    pub id: i64,
    pub study_id: i64,
    pub study_name: String,
    pub team: String,
    pub requester: String,
    /// Paths in the study's egress folder.
    pub files: Vec<String>,
    pub reason: String,
    #[schema(value_type = ExportStatus)]
    pub status: String,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub created_at: String,
    /// Whether the caller may approve or reject it: a team admin (an admin, for an
    /// organisation study) who is not the requester, while it is pending.
    pub may_decide: bool,
    /// Whether the caller may download its files: the requester, once approved.
    pub may_download: bool,
    /// Oldest first.
    pub history: Vec<ExportEvent>,
}

impl From<domain::EgressRequestView> for ExportRequest {
    fn from(request: domain::EgressRequestView) -> Self {
        ExportRequest {
            id: request.id,
            study_id: request.study_id,
            study_name: request.study_name,
            team: request.team,
            requester: request.requester,
            files: request.files,
            reason: request.reason,
            status: request.status,
            decided_by: request.decided_by,
            decision_note: request.decision_note,
            created_at: request.created_at,
            may_decide: request.may_decide,
            may_download: request.may_download,
            history: request
                .history
                .into_iter()
                .map(|event| ExportEvent { at: event.at, actor: event.actor, action: event.action, detail: event.detail })
                .collect(),
        }
    }
}

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
type NoStore<T> = ([(header::HeaderName, &'static str); 1], Json<T>);

fn no_store(url: String) -> NoStore<DownloadUrl> {
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

// --- Exports out of controlled studies ---

const EXPORT: &str = "The export request's id";

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

async fn decide(
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

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(list, create))
        .routes(utoipa_axum::routes!(files, delete_file))
        .routes(utoipa_axum::routes!(upload))
        .routes(utoipa_axum::routes!(complete_upload))
        .routes(utoipa_axum::routes!(download))
        .routes(utoipa_axum::routes!(set_writers))
        .routes(utoipa_axum::routes!(request_export))
        .routes(utoipa_axum::routes!(export))
        .routes(utoipa_axum::routes!(approve))
        .routes(utoipa_axum::routes!(reject))
        .routes(utoipa_axum::routes!(export_download))
}
