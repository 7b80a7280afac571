//! Studies: research data, uploads, downloads and writers (exports go through the airlock).

// The browser's half of a form's server function takes one argument per field (the
// `#[allow]` on the function reaches only the server's half).
#![cfg_attr(feature = "hydrate", allow(clippy::too_many_arguments))]

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use super::team_slug;
#[cfg(feature = "ssr")]
use super::ticked;
#[cfg(feature = "ssr")]
use crate::caller::as_user;
#[cfg(feature = "ssr")]
use crate::domain::CurrentUser;
#[cfg(feature = "ssr")]
use crate::domain::TeamSlug;
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// Studies: research data in S3 seen through a team. Every method checks the caller's access
/// to the study from that team (`NotFound` for a study they may not see, so ids reveal
/// nothing; `Forbidden` for one they may see but not change).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait StudyService: Send + Sync {
    async fn studies(&self, user: &CurrentUser, team: &TeamSlug) -> Result<crate::domain::studies::StudyList, AppError>;
    /// Creates the study's prefix in S3, then its row: no row without a prefix. Audited.
    async fn create(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        form: crate::domain::studies::StudyForm,
    ) -> Result<crate::domain::studies::StudyView, AppError>;
    /// One page of a folder of the study (`page`: where the previous page ended).
    async fn files(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        id: i64,
        folder: &str,
        page: Option<String>,
    ) -> Result<crate::domain::studies::FolderListing, AppError>;
    /// A presigned upload of one file (writers only), within the size and type rules. Audited.
    async fn upload(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        id: i64,
        path: &str,
        size: u64,
        content_type: &str,
    ) -> Result<crate::domain::studies::UploadTicket, AppError>;
    /// Completes a multipart upload from its parts' ETags (in order).
    async fn complete_upload(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        id: i64,
        path: &str,
        upload_id: &str,
        etags: Vec<String>,
    ) -> Result<(), AppError>;
    /// A presigned download of one file, minted now. Audited; refused for controlled studies.
    async fn download_url(&self, user: &CurrentUser, team: &TeamSlug, id: i64, path: &str) -> Result<String, AppError>;
    /// Deletes one file (writers only). Audited.
    async fn delete_file(&self, user: &CurrentUser, team: &TeamSlug, id: i64, path: &str) -> Result<(), AppError>;
    /// Sets a team study's writers (its owner and the team's admins). Audited.
    async fn set_writers(&self, user: &CurrentUser, team: &TeamSlug, id: i64, writers: Vec<String>) -> Result<(), AppError>;
}

#[server(endpoint = "studies")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_studies(team: String) -> Result<crate::domain::studies::StudyList, AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.studies.studies(&user, &team).await
    })
    .await
}

#[server(endpoint = "create_study")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
#[allow(clippy::too_many_arguments)] // one argument per form field
pub async fn create_study(
    team: String,
    scope: String,
    name: String,
    #[server(default)] description: String,
    #[server(default)] folder: String,
    #[server(default)] controlled: Option<String>,
    #[server(default)] teams: Option<BTreeMap<String, String>>,
    #[server(default)] location: String,
) -> Result<crate::domain::studies::StudyView, AppError> {
    as_user(|user| async move {
        let slug = team_slug(&team)?;
        let form = crate::domain::studies::StudyForm {
            scope,
            name,
            description,
            folder,
            controlled: controlled.is_some_and(|v| !v.is_empty()),
            teams: ticked(teams),
            location,
        };
        let study = services()?.studies.create(&user, &slug, form).await?;
        leptos_axum::redirect(&format!("/teams/{slug}/studies/{}", study.id));
        Ok(study)
    })
    .await
}

#[server(endpoint = "study_files")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_study_files(
    team: String,
    id: i64,
    #[server(default)] folder: String,
    #[server(default)] page: Option<String>,
) -> Result<crate::domain::studies::FolderListing, AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.studies.files(&user, &team, id, &folder, page).await
    })
    .await
}

#[server(endpoint = "study_upload")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn study_upload(
    team: String,
    id: i64,
    path: String,
    size: u64,
    #[server(default)] content_type: String,
) -> Result<crate::domain::studies::UploadTicket, AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.studies.upload(&user, &team, id, &path, size, &content_type).await
    })
    .await
}

#[server(endpoint = "study_upload_complete")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn complete_study_upload(
    team: String,
    id: i64,
    path: String,
    upload_id: String,
    #[server(default)] etags: Vec<String>,
) -> Result<(), AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.studies.complete_upload(&user, &team, id, &path, &upload_id, etags).await
    })
    .await
}

#[server(endpoint = "study_delete_file")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn delete_study_file(team: String, id: i64, path: String) -> Result<(), AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.studies.delete_file(&user, &team, id, &path).await
    })
    .await
}

#[server(endpoint = "study_writers")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_study_writers(
    team: String,
    id: i64,
    #[server(default)] writers: Option<BTreeMap<String, String>>,
) -> Result<(), AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.studies.set_writers(&user, &team, id, ticked(writers)).await
    })
    .await
}
