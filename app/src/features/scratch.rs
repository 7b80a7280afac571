//! The team's scratch space: the S3 prefix the team's stack names (`s3-scratch-prefix`),
//! browsed, uploaded to and downloaded from like a study. Members read, researchers upload,
//! and a file's uploader or the team's admins delete it.

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use super::team_slug;
#[cfg(feature = "ssr")]
use crate::caller::as_user;
use crate::domain::studies::{ScratchListing, UploadTicket};
#[cfg(feature = "ssr")]
use crate::domain::{CurrentUser, TeamSlug};
use crate::error::AppError;
use leptos::prelude::*;

/// Every method checks that the caller is a member of the team (`NotFound`/`Forbidden` as
/// for the team's other pages) and what they may do there.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait ScratchService: Send + Sync {
    /// One page of a folder (`page`: where the previous page ended).
    async fn scratch_files(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        folder: &str,
        page: Option<String>,
    ) -> Result<ScratchListing, AppError>;
    /// A presigned upload of one file (not guests; not over another's file unless a team
    /// admin). Audited.
    async fn scratch_upload(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        path: &str,
        size: u64,
        content_type: &str,
    ) -> Result<UploadTicket, AppError>;
    async fn complete_scratch_upload(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        path: &str,
        upload_id: &str,
        etags: Vec<String>,
    ) -> Result<(), AppError>;
    /// A presigned download of one file, minted now. Audited.
    async fn scratch_download_url(&self, user: &CurrentUser, team: &TeamSlug, path: &str) -> Result<String, AppError>;
    /// Deletes one file (its uploader or a team admin). Audited.
    async fn delete_scratch_file(&self, user: &CurrentUser, team: &TeamSlug, path: &str) -> Result<(), AppError>;
}

#[server(endpoint = "scratch_files")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_scratch_files(
    team: String,
    #[server(default)] folder: String,
    #[server(default)] page: Option<String>,
) -> Result<ScratchListing, AppError> {
    as_user(|user| async move { services()?.scratch.scratch_files(&user, &team_slug(&team)?, &folder, page).await }).await
}

#[server(endpoint = "scratch_upload")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn scratch_upload(
    team: String,
    path: String,
    size: u64,
    #[server(default)] content_type: String,
) -> Result<UploadTicket, AppError> {
    as_user(|user| async move { services()?.scratch.scratch_upload(&user, &team_slug(&team)?, &path, size, &content_type).await }).await
}

#[server(endpoint = "scratch_upload_complete")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn complete_scratch_upload(
    team: String,
    path: String,
    upload_id: String,
    #[server(default)] etags: Vec<String>,
) -> Result<(), AppError> {
    as_user(|user| async move { services()?.scratch.complete_scratch_upload(&user, &team_slug(&team)?, &path, &upload_id, etags).await })
        .await
}

#[server(endpoint = "scratch_delete_file")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn delete_scratch_file(team: String, path: String) -> Result<(), AppError> {
    as_user(|user| async move { services()?.scratch.delete_scratch_file(&user, &team_slug(&team)?, &path).await }).await
}
