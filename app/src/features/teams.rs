//! Teams as their members see them: the team list, the team home, and team membership (team admins).

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use super::team_slug;
#[cfg(feature = "ssr")]
use crate::caller::as_user;
#[cfg(feature = "ssr")]
use crate::domain::CurrentUser;
use crate::domain::TeamHome;
#[cfg(feature = "ssr")]
use crate::domain::TeamSlug;
use crate::domain::TeamSummary;
#[cfg(feature = "ssr")]
use crate::domain::configurations::Configuration;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait TeamService: Send + Sync {
    /// The teams `user` belongs to; every team for an admin.
    async fn teams_for(&self, user: &CurrentUser) -> Result<Vec<TeamSummary>, AppError>;
    /// One team's home. `NotFound` for an unknown team, `Forbidden` for a non-member.
    async fn team_home(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<TeamHome, AppError>;
    /// The configurations `user` may launch on the team: approved types, allowed for the team
    /// and for one of the user's roles. Same `NotFound`/`Forbidden` rules as `team_home`.
    async fn launchable_configurations(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<Vec<Configuration>, AppError>;
    /// The team's SSM profiles whose configuration this user may launch.
    async fn profiles(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<crate::domain::configurations::ProfileList, AppError>;
}

#[server(endpoint = "my_teams")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn my_teams() -> Result<Vec<TeamSummary>, AppError> {
    as_user(|user| async move { services()?.teams.teams_for(&user).await }).await
}

#[server(endpoint = "team_home")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_team_home(slug: String) -> Result<TeamHome, AppError> {
    as_user(|user| async move {
        let slug = team_slug(&slug)?;
        services()?.teams.team_home(&user, &slug).await
    })
    .await
}

/// Everything the team home shows, in one call: one resource for the page, so it renders once
/// its data is there (no second round of resources created inside the first).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TeamPage {
    pub home: TeamHome,
    pub workspaces: crate::domain::workspace::MyWorkspaces,
    pub spend: crate::domain::costs::MySpend,
}

#[server(endpoint = "team_page")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_team_page(slug: String) -> Result<TeamPage, AppError> {
    as_user(|user| async move {
        let slug = team_slug(&slug)?;
        let services = services()?;
        let home = services.teams.team_home(&user, &slug).await?;
        let workspaces = services.workspaces.my_workspaces(&user, &slug).await?;
        let spend = services.costs.my_spend(&user, &slug).await?;
        Ok(TeamPage { home, workspaces, spend })
    })
    .await
}

#[server(endpoint = "team_members")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_team_members(team: String) -> Result<crate::domain::people::TeamMembers, AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.people.members(&user, &team).await
    })
    .await
}

#[server(endpoint = "add_team_member")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn add_team_member(team: String, username: String) -> Result<(), AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.people.add_member(&user, &team, &username).await
    })
    .await
}

#[server(endpoint = "remove_team_member")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn remove_team_member(team: String, username: String) -> Result<(), AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.people.remove_member(&user, &team, &username).await
    })
    .await
}
