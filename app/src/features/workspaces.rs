//! Workspaces: what a team may launch, launching, following, acting on, sharing and updating a workspace.

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
use crate::domain::configurations::Configuration;
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait WorkspaceService: Send + Sync {
    /// Launches what `request` names on its team: resolves the profile's configuration and the
    /// studies, checks role, team, name, quota and each study's access, then writes the
    /// workspace and its provisioning job together. The same key again gives the same id. The
    /// profile's parameter values apply on top of the configuration's. A launch that would take
    /// the team over its monthly budget is refused, unless an admin sets `override_budget`
    /// (audited).
    async fn launch(&self, user: &CurrentUser, request: crate::domain::workspace::LaunchRequest, key: &str) -> Result<String, AppError>;
    /// One workspace, for its owner or an admin, and for the team members it is shared with.
    async fn workspace(&self, user: &CurrentUser, id: &str) -> Result<crate::domain::workspace::WorkspaceView, AppError>;
    /// The user's live workspaces on a team and how many ended (member or admin).
    async fn my_workspaces(&self, user: &CurrentUser, team: &TeamSlug) -> Result<crate::domain::workspace::MyWorkspaces, AppError>;
    /// One page (from 1) of the user's ended workspaces on a team (member or admin).
    async fn ended_workspaces(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        page: i64,
    ) -> Result<crate::domain::workspace::EndedWorkspaces, AppError>;
    /// Stop, start or terminate, for the owner or an admin, if the state and type allow it.
    async fn request_action(&self, user: &CurrentUser, id: &str, action: crate::domain::workspace::WorkspaceAction)
    -> Result<(), AppError>;
    /// Where to connect to an available workspace: its URL output, or a SageMaker presigned
    /// URL minted now in the team's account. Never stored; each connect is an audit row
    /// (`workspace.connect`, with the kind of URL, never the URL).
    async fn connect(&self, user: &CurrentUser, id: &str) -> Result<crate::domain::workspace::Connection, AppError>;
    /// A Session Manager session forwarding SSH or RDP of an available EC2 workstation to the
    /// caller's machine, started in the team's account in the caller's name (its owner, an
    /// admin, or someone it is shared with). Audited as a connect, without the token.
    async fn start_session(
        &self,
        user: &CurrentUser,
        id: &str,
        protocol: crate::domain::workspace::RemoteProtocol,
    ) -> Result<crate::domain::workspace::ShellSession, AppError>;
    /// "Keep running": the idle check leaves it alone for `hours` (one of `SNOOZE_HOURS`).
    async fn keep_running(&self, user: &CurrentUser, id: &str, hours: u32) -> Result<(), AppError>;
    /// Stops the user's running workspaces that stop on sign-out (their settings, else each
    /// configuration's default), as they sign out; how many.
    async fn stop_for_sign_out(&self, user: &CurrentUser) -> Result<usize, AppError>;
    /// A fresh key for a launch form, so that submitting it twice launches once.
    async fn new_launch_key(&self) -> Result<String, AppError>;
    /// Who may do what with the workspace, and whom it is shared with (anyone who may see it).
    async fn sharing(&self, user: &CurrentUser, id: &str) -> Result<crate::domain::workspace::WorkspaceSharing, AppError>;
    /// Shares the workspace, for connecting, with exactly these members of its team (and the
    /// whole team, if asked). Its owner or an admin; audited.
    async fn share(&self, user: &CurrentUser, id: &str, people: Vec<String>, whole_team: bool) -> Result<(), AppError>;
    /// Moves a running workspace to a newer approved version of its product (`to_type_id`),
    /// keeping its id, name, parameters and costs. Its owner or an admin; audited.
    async fn upgrade(&self, user: &CurrentUser, id: &str, to_type_id: i64) -> Result<(), AppError>;
    /// Changes a running workspace to another size its configuration lists, if the team's
    /// budget holds the new estimate. Its owner or an admin; audited.
    async fn resize(&self, user: &CurrentUser, id: &str, size: &str) -> Result<(), AppError>;
    /// "Launch again": a new workspace of an ended one's configuration, parameters and studies
    /// (checked again), under the same name. The same key again gives the same id.
    async fn launch_again(&self, user: &CurrentUser, id: &str, key: &str) -> Result<String, AppError>;
}

/// What every launch form on a team page needs: a fresh key (so a form submitted twice
/// launches once), the team's month against its budget, and whether this user may launch over
/// it (admins, when there is a budget).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LaunchContext {
    pub key: String,
    pub month: crate::domain::costs::MonthBudget,
    pub may_override_budget: bool,
}

#[cfg(feature = "ssr")]
async fn launch_context(services: &super::Services, user: &CurrentUser, team: &crate::domain::TeamSlug) -> Result<LaunchContext, AppError> {
    let key = services.workspaces.new_launch_key().await?;
    let month = services.costs.team_month(user, team).await?;
    let may_override_budget = user.is_admin() && month.budget_cents.is_some();
    Ok(LaunchContext { key, month, may_override_budget })
}

/// The team's catalog, and what its launch forms need.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TeamCatalog {
    pub items: Vec<Configuration>,
    pub launch: LaunchContext,
}

#[server(endpoint = "team_catalog")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_team_catalog(slug: String) -> Result<TeamCatalog, AppError> {
    as_user(|user| async move {
        let slug = team_slug(&slug)?;
        let services = services()?;
        let items = services.teams.launchable_configurations(&user, &slug).await?;
        let launch = launch_context(&services, &user, &slug).await?;
        Ok(TeamCatalog { items, launch })
    })
    .await
}

#[server(endpoint = "launch_workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn launch_workspace(
    team: String,
    configuration_id: i64,
    name: String,
    launch_key: String,
    #[server(default)] profile: Option<String>,
    /// An admin's "Launch over budget" checkbox.
    #[server(default)]
    override_budget: Option<String>,
    /// `studies[<id>]` = `ro` or `rw` (empty: not mounted).
    #[server(default)]
    studies: Option<BTreeMap<String, String>>,
) -> Result<String, AppError> {
    as_user(|user| async move {
        let request = crate::domain::workspace::LaunchRequest {
            team,
            configuration_id: Some(configuration_id),
            profile: profile.filter(|p| !p.is_empty()),
            name,
            override_budget: override_budget.is_some_and(|v| !v.is_empty()),
            studies: crate::domain::workspace::StudyMount::from_form(studies.unwrap_or_default())?,
        };
        let id = services()?.workspaces.launch(&user, request, &launch_key).await?;
        leptos_axum::redirect(&format!("/workspaces/{id}"));
        Ok(id)
    })
    .await
}

#[server(endpoint = "workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_workspace(id: String) -> Result<crate::domain::workspace::WorkspaceView, AppError> {
    as_user(|user| async move { services()?.workspaces.workspace(&user, &id).await }).await
}

#[server(endpoint = "ended_workspaces")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_ended_workspaces(team: String, page: i64) -> Result<crate::domain::workspace::EndedWorkspaces, AppError> {
    as_user(|user| async move {
        let team = team_slug(&team)?;
        services()?.workspaces.ended_workspaces(&user, &team, page).await
    })
    .await
}

#[server(endpoint = "workspace_action")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn workspace_action(id: String, action: String) -> Result<(), AppError> {
    as_user(|user| async move {
        let action = crate::domain::workspace::WorkspaceAction::parse(&action)
            .ok_or_else(|| AppError::BadRequest(format!("\"{action}\" is not something a workspace can do.")))?;
        services()?.workspaces.request_action(&user, &id, action).await
    })
    .await
}

#[server(endpoint = "keep_running")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn keep_workspace_running(id: String, hours: u32) -> Result<(), AppError> {
    as_user(|user| async move { services()?.workspaces.keep_running(&user, &id, hours).await }).await
}

/// The team's profiles, and what their launch forms need.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TeamProfiles {
    pub profiles: Vec<crate::domain::configurations::Profile>,
    /// Said when Parameter Store could not be reached and the profiles are as it last said.
    pub stale_note: Option<String>,
    pub launch: LaunchContext,
}

#[server(endpoint = "team_profiles")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_team_profiles(slug: String) -> Result<TeamProfiles, AppError> {
    as_user(|user| async move {
        let slug = team_slug(&slug)?;
        let services = services()?;
        let list = services.teams.profiles(&user, &slug).await?;
        let launch = launch_context(&services, &user, &slug).await?;
        Ok(TeamProfiles { profiles: list.profiles, stale_note: list.stale_note, launch })
    })
    .await
}

#[server(endpoint = "workspace_sharing")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_workspace_sharing(id: String) -> Result<crate::domain::workspace::WorkspaceSharing, AppError> {
    as_user(|user| async move { services()?.workspaces.sharing(&user, &id).await }).await
}

/// `people[<username>]` ticked for each member; `whole_team` for everyone on the team.
#[server(endpoint = "share_workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn share_workspace(
    id: String,
    #[server(default)] people: Option<BTreeMap<String, String>>,
    #[server(default)] whole_team: Option<String>,
) -> Result<(), AppError> {
    as_user(|user| async move {
        let whole_team = whole_team.is_some_and(|v| !v.is_empty());
        services()?.workspaces.share(&user, &id, ticked(people), whole_team).await
    })
    .await
}

/// A Session Manager session (`protocol`: `ssh` or `rdp`) to an EC2 workstation.
#[server(endpoint = "start_workspace_session")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn start_workspace_session(id: String, protocol: String) -> Result<crate::domain::workspace::ShellSession, AppError> {
    as_user(|user| async move {
        let protocol = crate::domain::workspace::RemoteProtocol::parse(&protocol)
            .ok_or_else(|| AppError::invalid("protocol", "Choose ssh or rdp."))?;
        services()?.workspaces.start_session(&user, &id, protocol).await
    })
    .await
}

#[server(endpoint = "upgrade_workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn upgrade_workspace(id: String, to_type_id: i64) -> Result<(), AppError> {
    as_user(|user| async move { services()?.workspaces.upgrade(&user, &id, to_type_id).await }).await
}

#[server(endpoint = "resize_workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn resize_workspace(id: String, size: String) -> Result<(), AppError> {
    as_user(|user| async move { services()?.workspaces.resize(&user, &id, &size).await }).await
}

#[server(endpoint = "launch_again")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn launch_again(id: String, launch_key: String) -> Result<String, AppError> {
    as_user(|user| async move {
        let again = services()?.workspaces.launch_again(&user, &id, &launch_key).await?;
        leptos_axum::redirect(&format!("/workspaces/{again}"));
        Ok(again)
    })
    .await
}
