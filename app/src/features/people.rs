//! People (admins): search, invite, change access, disable and enable.

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use crate::caller::as_admin;
#[cfg(feature = "ssr")]
use crate::domain::CurrentUser;
#[cfg(feature = "ssr")]
use crate::domain::TeamSlug;
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// People: the user pool as admins manage it, and a team's members as its team admins do.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait PeopleService: Send + Sync {
    /// One page of users (admins only); `search` is a username or e-mail prefix.
    async fn people(
        &self,
        admin: &CurrentUser,
        search: Option<String>,
        page: Option<String>,
    ) -> Result<crate::domain::people::PeoplePage, AppError>;
    /// AdminCreateUser with roles and teams (admins only).
    async fn invite(&self, admin: &CurrentUser, form: crate::domain::people::InviteForm) -> Result<(), AppError>;
    /// Sets a user's roles, teams and team-admin memberships to exactly these (admins only).
    async fn set_access(&self, admin: &CurrentUser, form: crate::domain::people::AccessForm) -> Result<(), AppError>;
    /// Disables the user and ends every session of theirs (admins only, not oneself).
    async fn disable(&self, admin: &CurrentUser, username: &str) -> Result<crate::domain::people::Disabled, AppError>;
    async fn enable(&self, admin: &CurrentUser, username: &str) -> Result<(), AppError>;
    /// The team's members, for admins and the team's admins.
    async fn members(&self, user: &CurrentUser, team: &TeamSlug) -> Result<crate::domain::people::TeamMembers, AppError>;
    async fn add_member(&self, user: &CurrentUser, team: &TeamSlug, username: &str) -> Result<(), AppError>;
    async fn remove_member(&self, user: &CurrentUser, team: &TeamSlug, username: &str) -> Result<(), AppError>;
}

#[server(endpoint = "admin/people")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_people(
    #[server(default)] search: Option<String>,
    #[server(default)] page: Option<String>,
) -> Result<crate::domain::people::PeoplePage, AppError> {
    as_admin(|admin| async move { services()?.people.people(&admin, search, page).await }).await
}

#[server(endpoint = "admin/invite_user")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn invite_user(
    username: String,
    email: String,
    #[server(default)] roles: Option<BTreeMap<String, String>>,
    #[server(default)] teams: Option<BTreeMap<String, String>>,
    #[server(default)] temporary_password: String,
) -> Result<(), AppError> {
    as_admin(|admin| async move {
        let form = crate::domain::people::InviteForm {
            username,
            email,
            roles: roles.unwrap_or_default(),
            teams: teams.unwrap_or_default(),
            temporary_password,
        };
        services()?.people.invite(&admin, form).await
    })
    .await
}

#[server(endpoint = "admin/set_access")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_user_access(
    username: String,
    #[server(default)] roles: Option<BTreeMap<String, String>>,
    #[server(default)] teams: Option<BTreeMap<String, String>>,
    #[server(default)] team_admin: Option<BTreeMap<String, String>>,
) -> Result<(), AppError> {
    as_admin(|admin| async move {
        let form = crate::domain::people::AccessForm {
            username,
            roles: roles.unwrap_or_default(),
            teams: teams.unwrap_or_default(),
            team_admin: team_admin.unwrap_or_default(),
        };
        services()?.people.set_access(&admin, form).await
    })
    .await
}

#[server(endpoint = "admin/disable_user")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn disable_user(username: String) -> Result<crate::domain::people::Disabled, AppError> {
    as_admin(|admin| async move { services()?.people.disable(&admin, &username).await }).await
}

#[server(endpoint = "admin/enable_user")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn enable_user(username: String) -> Result<(), AppError> {
    as_admin(|admin| async move { services()?.people.enable(&admin, &username).await }).await
}
