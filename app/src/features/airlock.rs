//! The airlock: imports into a study and exports out of a controlled one, as requests that
//! are scanned, reviewed by one or two people, and audited at every step.

// The browser's half of a form's server function takes one argument per field.
#![cfg_attr(feature = "hydrate", allow(clippy::too_many_arguments))]

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use super::team_slug;
#[cfg(feature = "ssr")]
use super::ticked;
#[cfg(feature = "ssr")]
use crate::caller::as_user;
use crate::domain::airlock::{AirlockList, AirlockRequestView};
use crate::domain::studies::UploadTicket;
#[cfg(feature = "ssr")]
use crate::domain::{CurrentUser, TeamSlug};
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// Every method checks the caller against the request: its requester and its reviewers see
/// it (`NotFound` for anyone else, so ids reveal nothing); each step says who may take it.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AirlockService: Send + Sync {
    /// The team's requests the caller sees: their own, and everyone's for its reviewers.
    async fn requests(&self, user: &CurrentUser, team: &TeamSlug) -> Result<AirlockList, AppError>;
    async fn request(&self, user: &CurrentUser, team: &TeamSlug, id: i64) -> Result<AirlockRequestView, AppError>;
    /// Starts an import into a study the caller may write: a draft whose files go up into its
    /// inbox, not into the study. Audited.
    async fn start_import(&self, user: &CurrentUser, team: &TeamSlug, study_id: i64, reason: &str) -> Result<i64, AppError>;
    /// A presigned upload of one file into a draft's inbox (its requester).
    async fn import_upload(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        id: i64,
        path: &str,
        size: u64,
        content_type: &str,
    ) -> Result<UploadTicket, AppError>;
    async fn complete_import_upload(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        id: i64,
        path: &str,
        upload_id: &str,
        etags: Vec<String>,
    ) -> Result<(), AppError>;
    /// Submits a draft with the files in its inbox: scanning, then review. Audited.
    async fn submit(&self, user: &CurrentUser, team: &TeamSlug, id: i64) -> Result<(), AppError>;
    /// Asks to export files from a controlled study's egress folder: scanning, then review.
    async fn request_export(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        study_id: i64,
        files: Vec<String>,
        reason: &str,
    ) -> Result<i64, AppError>;
    /// A reviewer's decision (a rejection says why). The last approval needed copies an
    /// import's files into its study, or releases an export. Audited, and announced.
    async fn review(&self, user: &CurrentUser, team: &TeamSlug, id: i64, approve: bool, note: &str) -> Result<(), AppError>;
    /// Tries an approved request's copy again (its reviewers or requester).
    async fn retry(&self, user: &CurrentUser, team: &TeamSlug, id: i64) -> Result<(), AppError>;
    /// Its requester withdraws a request still on its way. Audited.
    async fn cancel(&self, user: &CurrentUser, team: &TeamSlug, id: i64) -> Result<(), AppError>;
    /// An admin gives up on a scan that never came: blocked, saying why. Audited.
    async fn fail_scan(&self, user: &CurrentUser, team: &TeamSlug, id: i64, note: &str) -> Result<(), AppError>;
    /// A presigned, read-only link to one file, minted now: for reviewers, and for the
    /// requester of a completed export. Audited.
    async fn file_url(&self, user: &CurrentUser, team: &TeamSlug, id: i64, file: &str) -> Result<String, AppError>;
}

#[server(endpoint = "airlock_requests")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_airlock_requests(team: String) -> Result<AirlockList, AppError> {
    as_user(|user| async move { services()?.airlock.requests(&user, &team_slug(&team)?).await }).await
}

#[server(endpoint = "airlock_request")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_airlock_request(team: String, id: i64) -> Result<AirlockRequestView, AppError> {
    as_user(|user| async move { services()?.airlock.request(&user, &team_slug(&team)?, id).await }).await
}

#[server(endpoint = "start_import")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn start_import(team: String, id: i64, #[server(default)] reason: String) -> Result<i64, AppError> {
    as_user(|user| async move {
        let slug = team_slug(&team)?;
        let request = services()?.airlock.start_import(&user, &slug, id, &reason).await?;
        leptos_axum::redirect(&format!("/teams/{slug}/requests/{request}"));
        Ok(request)
    })
    .await
}

#[server(endpoint = "import_upload")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn import_upload(
    team: String,
    id: i64,
    path: String,
    size: u64,
    #[server(default)] content_type: String,
) -> Result<UploadTicket, AppError> {
    as_user(|user| async move { services()?.airlock.import_upload(&user, &team_slug(&team)?, id, &path, size, &content_type).await }).await
}

#[server(endpoint = "import_upload_complete")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn complete_import_upload(
    team: String,
    id: i64,
    path: String,
    upload_id: String,
    #[server(default)] etags: Vec<String>,
) -> Result<(), AppError> {
    as_user(|user| async move { services()?.airlock.complete_import_upload(&user, &team_slug(&team)?, id, &path, &upload_id, etags).await })
        .await
}

#[server(endpoint = "submit_request")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn submit_request(team: String, id: i64) -> Result<(), AppError> {
    as_user(|user| async move { services()?.airlock.submit(&user, &team_slug(&team)?, id).await }).await
}

#[server(endpoint = "request_export")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn request_export(
    team: String,
    id: i64,
    #[server(default)] files: Option<BTreeMap<String, String>>,
    #[server(default)] reason: String,
) -> Result<i64, AppError> {
    as_user(|user| async move {
        let slug = team_slug(&team)?;
        let request = services()?.airlock.request_export(&user, &slug, id, ticked(files), &reason).await?;
        leptos_axum::redirect(&format!("/teams/{slug}/requests/{request}"));
        Ok(request)
    })
    .await
}

/// The request page's buttons: `approve`, `reject`, `retry`, `cancel` or `fail_scan`.
#[server(endpoint = "act_on_request")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn act_on_request(team: String, id: i64, action: String, #[server(default)] note: String) -> Result<(), AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        let airlock = &services()?.airlock;
        match action.as_str() {
            "approve" => airlock.review(&user, &team, id, true, &note).await,
            "reject" => airlock.review(&user, &team, id, false, &note).await,
            "retry" => airlock.retry(&user, &team, id).await,
            "cancel" => airlock.cancel(&user, &team, id).await,
            "fail_scan" => airlock.fail_scan(&user, &team, id, &note).await,
            _ => Err(AppError::invalid("action", "Approve, reject, retry, cancel or fail the scan.")),
        }
    })
    .await
}
