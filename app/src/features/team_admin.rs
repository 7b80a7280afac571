//! Onboarding teams (admins): their AWS accounts, connection checks, archiving.

// The browser's half of a form's server function takes one argument per field (the
// `#[allow]` on the function reaches only the server's half).
#![cfg_attr(feature = "hydrate", allow(clippy::too_many_arguments))]

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use super::team_slug;
#[cfg(feature = "ssr")]
use crate::caller::as_admin;
#[cfg(feature = "ssr")]
use crate::domain::CurrentUser;
#[cfg(feature = "ssr")]
use crate::domain::TeamSlug;
use crate::error::AppError;
use leptos::prelude::*;

/// Teams as admins manage them. Every method checks that the caller is an admin.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait TeamAdminService: Send + Sync {
    /// Every team (archived ones last) with members, live workspaces, month and last check.
    async fn teams(&self, admin: &CurrentUser) -> Result<Vec<crate::domain::team_admin::TeamAdminRow>, AppError>;
    /// Creates the team and its Cognito group `team-<slug>`. `Invalid` names each bad field.
    async fn create_team(&self, admin: &CurrentUser, form: crate::domain::team_admin::TeamForm) -> Result<TeamSlug, AppError>;
    /// Changes everything but the slug.
    async fn update_team(&self, admin: &CurrentUser, form: crate::domain::team_admin::TeamForm) -> Result<(), AppError>;
    /// Assumes the team's role and makes one read call of each kind the portal needs.
    async fn test_connection(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<crate::domain::team_admin::ConnectionCheck, AppError>;
    /// Archives the team; `Conflict` while it has live workspaces.
    async fn archive_team(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<(), AppError>;
    /// Gives the team a new external id (audited); the old one stops working at once, so the
    /// role's trust must be updated with the new one. The new id.
    async fn rotate_external_id(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<String, AppError>;
    /// How to connect the team's AWS account: the stack with the team's values.
    async fn account_setup(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<crate::domain::team_admin::TeamAccountSetup, AppError>;
    /// `deploy/team-account.yaml` with the team's values as its parameters' defaults.
    async fn account_template(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<String, AppError>;
    /// Removes a disabled person's home (their access point) from the team's file system; their
    /// files stay. Audited.
    async fn remove_home(&self, admin: &CurrentUser, slug: &TeamSlug, username: &str) -> Result<(), AppError>;
}

#[server(endpoint = "admin/teams")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_admin_teams() -> Result<Vec<crate::domain::team_admin::TeamAdminRow>, AppError> {
    as_admin(|admin| async move { services()?.team_admin.teams(&admin).await }).await
}

#[server(endpoint = "admin/create_team")]
#[allow(clippy::too_many_arguments)] // one argument per form field
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn create_team(
    slug: String,
    name: String,
    #[server(default)] description: String,
    aws_account_id: String,
    role_arn: String,
    #[server(default)] ssm_path: String,
    #[server(default)] time_zone: String,
    #[server(default)] reviewers: String,
) -> Result<crate::domain::TeamSlug, AppError> {
    as_admin(|admin| async move {
        let form =
            crate::domain::team_admin::TeamForm { slug, name, description, aws_account_id, role_arn, ssm_path, time_zone, reviewers };
        services()?.team_admin.create_team(&admin, form).await
    })
    .await
}

#[server(endpoint = "admin/update_team")]
#[allow(clippy::too_many_arguments)] // one argument per form field
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn update_team(
    slug: String,
    name: String,
    #[server(default)] description: String,
    aws_account_id: String,
    role_arn: String,
    #[server(default)] ssm_path: String,
    #[server(default)] time_zone: String,
    #[server(default)] reviewers: String,
) -> Result<(), AppError> {
    as_admin(|admin| async move {
        let form =
            crate::domain::team_admin::TeamForm { slug, name, description, aws_account_id, role_arn, ssm_path, time_zone, reviewers };
        services()?.team_admin.update_team(&admin, form).await
    })
    .await
}

#[server(endpoint = "admin/test_connection")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn test_team_connection(slug: String) -> Result<crate::domain::team_admin::ConnectionCheck, AppError> {
    as_admin(|admin| async move {
        let slug = team_slug(&slug)?;
        services()?.team_admin.test_connection(&admin, &slug).await
    })
    .await
}

#[server(endpoint = "admin/rotate_external_id")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn rotate_external_id(slug: String) -> Result<String, AppError> {
    as_admin(|admin| async move {
        let slug = team_slug(&slug)?;
        services()?.team_admin.rotate_external_id(&admin, &slug).await
    })
    .await
}

#[server(endpoint = "admin/team_account_setup")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_team_account_setup(slug: String) -> Result<crate::domain::team_admin::TeamAccountSetup, AppError> {
    as_admin(|admin| async move {
        let slug = team_slug(&slug)?;
        services()?.team_admin.account_setup(&admin, &slug).await
    })
    .await
}

#[server(endpoint = "admin/remove_home")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn remove_home(slug: String, username: String) -> Result<(), AppError> {
    as_admin(|admin| async move {
        let slug = team_slug(&slug)?;
        services()?.team_admin.remove_home(&admin, &slug, &username).await
    })
    .await
}

#[server(endpoint = "admin/archive_team")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn archive_team(slug: String) -> Result<(), AppError> {
    as_admin(|admin| async move {
        let slug = team_slug(&slug)?;
        services()?.team_admin.archive_team(&admin, &slug).await
    })
    .await
}
