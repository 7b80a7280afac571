//! Server functions: find the caller, call one service method, return its typed result.

use crate::domain::{CurrentUser, PasswordPolicy, TeamHome, TeamSummary};
use crate::error::AppError;
use leptos::prelude::*;

use crate::domain::configurations::Configuration;
use crate::domain::workspace_types::{CatalogOverview, WorkspaceType};
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
use crate::domain::workspace_types::TypeStatus;
#[cfg(feature = "ssr")]
use crate::services::{require_admin, require_user, services, signed_in_user, with_status};

/// A team slug from a request: one that cannot be a slug names no team. (The REST API reads
/// its slugs this way too.)
#[cfg(feature = "ssr")]
pub fn team_slug(raw: &str) -> Result<crate::domain::TeamSlug, AppError> {
    crate::domain::TeamSlug::parse(raw).map_err(|_| AppError::NotFound("This team".into()))
}

#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    Ok(signed_in_user())
}

/// The sign-in methods the landing page offers (anyone may ask).
#[server(endpoint = "sign_in_methods")]
pub async fn sign_in_methods() -> Result<crate::domain::SignInMethods, AppError> {
    Ok(services()?.sign_in_methods.clone())
}

#[server(endpoint = "my_teams")]
pub async fn my_teams() -> Result<Vec<TeamSummary>, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            services()?.teams.teams_for(&user).await
        }
        .await,
    )
}

#[server(endpoint = "team_home")]
pub async fn load_team_home(slug: String) -> Result<TeamHome, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let slug = team_slug(&slug)?;
            services()?.teams.team_home(&user, &slug).await
        }
        .await,
    )
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
pub async fn load_team_page(slug: String) -> Result<TeamPage, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let slug = team_slug(&slug)?;
            let services = services()?;
            let home = services.teams.team_home(&user, &slug).await?;
            let workspaces = services.workspaces.my_workspaces(&user, &slug).await?;
            let spend = services.costs.my_spend(&user, &slug).await?;
            Ok(TeamPage { home, workspaces, spend })
        }
        .await,
    )
}

#[server(endpoint = "password_policy")]
pub async fn load_password_policy() -> Result<PasswordPolicy, AppError> {
    with_status(async move { services()?.password_policy.password_policy().await }.await)
}

#[server(endpoint = "admin/catalog")]
pub async fn load_catalog_overview() -> Result<CatalogOverview, AppError> {
    with_status(
        async move {
            require_admin()?;
            services()?.catalog_admin.overview().await
        }
        .await,
    )
}

#[server(endpoint = "admin/import_version")]
pub async fn import_version(product_id: String, version_id: String) -> Result<WorkspaceType, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.catalog_admin.import(&admin, &product_id, &version_id).await
        }
        .await,
    )
}

#[server(endpoint = "admin/approve_type")]
pub async fn approve_type(type_id: i64) -> Result<WorkspaceType, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.catalog_admin.set_status(&admin, type_id, TypeStatus::Approved).await
        }
        .await,
    )
}

/// "Must upgrade by": `by` is `YYYY-MM-DD`, or empty to clear it.
#[server(endpoint = "admin/set_upgrade_by")]
pub async fn set_upgrade_by(type_id: i64, #[server(default)] by: String) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.catalog_admin.set_upgrade_by(&admin, type_id, &by).await
        }
        .await,
    )
}

#[server(endpoint = "admin/retire_type")]
pub async fn retire_type(type_id: i64) -> Result<WorkspaceType, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.catalog_admin.set_status(&admin, type_id, TypeStatus::Retired).await
        }
        .await,
    )
}

#[server(endpoint = "admin/create_configuration")]
#[allow(clippy::too_many_arguments)] // one argument per form field
pub async fn create_configuration(
    type_id: i64,
    name: String,
    #[server(default)] description: String,
    #[server(default)] parameters: Option<BTreeMap<String, String>>,
    #[server(default)] allowed_roles: Option<BTreeMap<String, String>>,
    #[server(default)] allowed_teams: Option<BTreeMap<String, String>>,
    #[server(default)] tags: String,
    #[server(default)] estimated_hourly_cost: String,
    #[server(default)] idle_stop_after: String,
    #[server(default)] idle_cpu_percent: String,
    #[server(default)] idle_max_running_hours: String,
    #[server(default)] idle_nightly_stop: String,
    #[server(default)] idle_stop_on_sign_out: String,
    #[server(default)] size_parameter: String,
    #[server(default)] sizes: String,
) -> Result<Configuration, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let form = crate::domain::configurations::ConfigurationForm {
                name,
                description,
                parameters: parameters.unwrap_or_default(),
                allowed_roles: allowed_roles.unwrap_or_default(),
                allowed_teams: allowed_teams.unwrap_or_default(),
                tags,
                estimated_hourly_cost,
                idle_stop_after,
                idle_cpu_percent,
                idle_max_running_hours,
                idle_nightly_stop,
                idle_stop_on_sign_out,
                size_parameter,
                sizes,
            };
            services()?.catalog_admin.create_configuration(&admin, type_id, form).await
        }
        .await,
    )
}

#[server(endpoint = "admin/set_idle_policy")]
pub async fn set_idle_policy(
    configuration_id: i64,
    #[server(default)] idle_stop_after: String,
    #[server(default)] idle_cpu_percent: String,
    #[server(default)] idle_max_running_hours: String,
    #[server(default)] idle_nightly_stop: String,
    #[server(default)] idle_stop_on_sign_out: String,
) -> Result<Configuration, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let form = crate::domain::idle::IdlePolicyForm {
                stop_after: idle_stop_after,
                cpu_percent: idle_cpu_percent,
                max_running_hours: idle_max_running_hours,
                nightly_stop: idle_nightly_stop,
                stop_on_sign_out: idle_stop_on_sign_out,
            };
            services()?.catalog_admin.set_idle_policy(&admin, configuration_id, form).await
        }
        .await,
    )
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
async fn launch_context(
    services: &crate::services::Services,
    user: &CurrentUser,
    team: &crate::domain::TeamSlug,
) -> Result<LaunchContext, AppError> {
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
pub async fn load_team_catalog(slug: String) -> Result<TeamCatalog, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let slug = team_slug(&slug)?;
            let services = services()?;
            let items = services.teams.launchable_configurations(&user, &slug).await?;
            let launch = launch_context(&services, &user, &slug).await?;
            Ok(TeamCatalog { items, launch })
        }
        .await,
    )
}

#[server(endpoint = "launch_workspace")]
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
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            let profile = profile.filter(|p| !p.is_empty());
            let override_budget = override_budget.is_some_and(|v| !v.is_empty());
            let mut mounts = Vec::new();
            for (id, access) in studies.unwrap_or_default().into_iter().filter(|(_, access)| !access.is_empty()) {
                match (id.parse::<i64>(), crate::domain::studies::Access::parse(&access)) {
                    (Ok(id), Some(access)) => mounts.push((id, access)),
                    _ => return Err(AppError::invalid("studies", format!("\"{access}\" for study {id} is not read-only or read-write."))),
                }
            }
            let id = services()?
                .workspaces
                .launch_with_studies(&user, &team, configuration_id, &name, &launch_key, profile.as_deref(), override_budget, &mounts)
                .await?;
            leptos_axum::redirect(&format!("/workspaces/{id}"));
            Ok(id)
        }
        .await,
    )
}

#[server(endpoint = "workspace")]
pub async fn load_workspace(id: String) -> Result<crate::domain::workspace::WorkspaceView, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            services()?.workspaces.workspace(&user, &id).await
        }
        .await,
    )
}

#[server(endpoint = "ended_workspaces")]
pub async fn load_ended_workspaces(team: String, page: i64) -> Result<crate::domain::workspace::EndedWorkspaces, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.workspaces.ended_workspaces(&user, &team, page).await
        }
        .await,
    )
}

#[server(endpoint = "workspace_action")]
pub async fn workspace_action(id: String, action: String) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let action = crate::domain::workspace::WorkspaceAction::parse(&action)
                .ok_or_else(|| AppError::BadRequest(format!("\"{action}\" is not something a workspace can do.")))?;
            services()?.workspaces.request_action(&user, &id, action).await
        }
        .await,
    )
}

#[server(endpoint = "keep_running")]
pub async fn keep_workspace_running(id: String, hours: u32) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            services()?.workspaces.keep_running(&user, &id, hours).await
        }
        .await,
    )
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
pub async fn load_team_profiles(slug: String) -> Result<TeamProfiles, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let slug = team_slug(&slug)?;
            let services = services()?;
            let list = services.teams.profiles(&user, &slug).await?;
            let launch = launch_context(&services, &user, &slug).await?;
            Ok(TeamProfiles { profiles: list.profiles, stale_note: list.stale_note, launch })
        }
        .await,
    )
}

#[server(endpoint = "admin/audit")]
pub async fn load_audit_log(filter: crate::domain::audit::AuditFilter, page: i64) -> Result<crate::domain::audit::AuditPage, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.audit.search(&admin, filter, page).await
        }
        .await,
    )
}

/// The cost dashboard; `all`: every user and workspace, not just the top spenders.
#[server(endpoint = "costs")]
pub async fn load_costs(days: u32, #[server(default)] all: bool) -> Result<crate::domain::costs::CostDashboard, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let top = (!all).then_some(crate::domain::costs::TOP_SPENDERS);
            services()?.costs.dashboard(&user, days, top).await
        }
        .await,
    )
}

#[server(endpoint = "admin/budgets")]
pub async fn load_budgets() -> Result<Vec<crate::domain::costs::MonthBudget>, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.costs.budgets(&admin).await
        }
        .await,
    )
}

#[server(endpoint = "admin/set_budget")]
pub async fn set_budget(team: String, amount: String, #[server(default)] thresholds: String) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.costs.set_budget(&admin, crate::domain::costs::BudgetForm { team, amount, thresholds }).await
        }
        .await,
    )
}

#[server(endpoint = "admin/notifications")]
pub async fn load_notification_targets() -> Result<Vec<crate::domain::notifications::NotificationTarget>, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.notifications.targets(&admin).await
        }
        .await,
    )
}

#[server(endpoint = "admin/add_notification_target")]
pub async fn add_notification_target(
    name: String,
    platform: String,
    #[server(default)] team: String,
    webhook_url: String,
    #[server(default)] events: Option<BTreeMap<String, String>>,
) -> Result<i64, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let form = crate::domain::notifications::TargetForm { name, platform, team, webhook_url, events: events.unwrap_or_default() };
            services()?.notifications.add_target(&admin, form).await
        }
        .await,
    )
}

#[server(endpoint = "admin/remove_notification_target")]
pub async fn remove_notification_target(id: i64) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.notifications.remove_target(&admin, id).await
        }
        .await,
    )
}

#[server(endpoint = "admin/test_notification_target")]
pub async fn test_notification_target(id: i64) -> Result<String, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.notifications.send_test(&admin, id).await
        }
        .await,
    )
}

#[server(endpoint = "admin/teams")]
pub async fn load_admin_teams() -> Result<Vec<crate::domain::team_admin::TeamAdminRow>, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.team_admin.teams(&admin).await
        }
        .await,
    )
}

#[server(endpoint = "admin/create_team")]
pub async fn create_team(
    slug: String,
    name: String,
    #[server(default)] description: String,
    aws_account_id: String,
    role_arn: String,
    #[server(default)] ssm_path: String,
    #[server(default)] time_zone: String,
) -> Result<crate::domain::TeamSlug, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let form = crate::domain::team_admin::TeamForm { slug, name, description, aws_account_id, role_arn, ssm_path, time_zone };
            services()?.team_admin.create_team(&admin, form).await
        }
        .await,
    )
}

#[server(endpoint = "admin/update_team")]
pub async fn update_team(
    slug: String,
    name: String,
    #[server(default)] description: String,
    aws_account_id: String,
    role_arn: String,
    #[server(default)] ssm_path: String,
    #[server(default)] time_zone: String,
) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let form = crate::domain::team_admin::TeamForm { slug, name, description, aws_account_id, role_arn, ssm_path, time_zone };
            services()?.team_admin.update_team(&admin, form).await
        }
        .await,
    )
}

#[server(endpoint = "admin/test_connection")]
pub async fn test_team_connection(slug: String) -> Result<crate::domain::team_admin::ConnectionCheck, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let slug = team_slug(&slug)?;
            services()?.team_admin.test_connection(&admin, &slug).await
        }
        .await,
    )
}

#[server(endpoint = "admin/archive_team")]
pub async fn archive_team(slug: String) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let slug = team_slug(&slug)?;
            services()?.team_admin.archive_team(&admin, &slug).await
        }
        .await,
    )
}

#[server(endpoint = "admin/people")]
pub async fn load_people(
    #[server(default)] search: Option<String>,
    #[server(default)] page: Option<String>,
) -> Result<crate::domain::people::PeoplePage, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.people.people(&admin, search, page).await
        }
        .await,
    )
}

#[server(endpoint = "admin/invite_user")]
pub async fn invite_user(
    username: String,
    email: String,
    #[server(default)] roles: Option<BTreeMap<String, String>>,
    #[server(default)] teams: Option<BTreeMap<String, String>>,
    #[server(default)] temporary_password: String,
) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let form = crate::domain::people::InviteForm {
                username,
                email,
                roles: roles.unwrap_or_default(),
                teams: teams.unwrap_or_default(),
                temporary_password,
            };
            services()?.people.invite(&admin, form).await
        }
        .await,
    )
}

#[server(endpoint = "admin/set_access")]
pub async fn set_user_access(
    username: String,
    #[server(default)] roles: Option<BTreeMap<String, String>>,
    #[server(default)] teams: Option<BTreeMap<String, String>>,
    #[server(default)] team_admin: Option<BTreeMap<String, String>>,
) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let form = crate::domain::people::AccessForm {
                username,
                roles: roles.unwrap_or_default(),
                teams: teams.unwrap_or_default(),
                team_admin: team_admin.unwrap_or_default(),
            };
            services()?.people.set_access(&admin, form).await
        }
        .await,
    )
}

#[server(endpoint = "admin/disable_user")]
pub async fn disable_user(username: String) -> Result<crate::domain::people::Disabled, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.people.disable(&admin, &username).await
        }
        .await,
    )
}

#[server(endpoint = "admin/enable_user")]
pub async fn enable_user(username: String) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.people.enable(&admin, &username).await
        }
        .await,
    )
}

#[server(endpoint = "team_members")]
pub async fn load_team_members(team: String) -> Result<crate::domain::people::TeamMembers, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.people.members(&user, &team).await
        }
        .await,
    )
}

#[server(endpoint = "add_team_member")]
pub async fn add_team_member(team: String, username: String) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.people.add_member(&user, &team, &username).await
        }
        .await,
    )
}

#[server(endpoint = "remove_team_member")]
pub async fn remove_team_member(team: String, username: String) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.people.remove_member(&user, &team, &username).await
        }
        .await,
    )
}

#[server(endpoint = "settings")]
pub async fn load_settings() -> Result<crate::domain::settings::UserSettings, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            services()?.settings.settings(&user).await
        }
        .await,
    )
}

#[server(endpoint = "save_settings")]
pub async fn save_settings(
    stop_on_sign_out: String,
    #[server(default)] mail_workspace: String,
    #[server(default)] mail_health: String,
    #[server(default)] mail_budget: String,
) -> Result<crate::domain::settings::UserSettings, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let form = crate::domain::settings::SettingsForm { stop_on_sign_out, mail_workspace, mail_health, mail_budget };
            services()?.settings.save(&user, form).await
        }
        .await,
    )
}

#[server(endpoint = "tokens")]
pub async fn load_tokens() -> Result<crate::domain::tokens::TokenList, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            services()?.tokens.tokens(&user).await
        }
        .await,
    )
}

/// The "new token" form: one checkbox per scope.
#[server(endpoint = "create_token")]
pub async fn create_token(
    name: String,
    days: String,
    #[server(default)] scope_read: String,
    #[server(default)] scope_workspaces: String,
    #[server(default)] scope_admin: String,
) -> Result<crate::domain::tokens::CreatedToken, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let scopes = [("read", scope_read), ("workspaces", scope_workspaces), ("admin", scope_admin)]
                .into_iter()
                .filter(|(_, checked)| !checked.trim().is_empty())
                .map(|(scope, _)| scope.to_owned())
                .collect();
            let form = crate::domain::tokens::TokenForm { name, days, scopes };
            services()?.tokens.create(&user, form).await
        }
        .await,
    )
}

#[server(endpoint = "revoke_token")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            services()?.tokens.revoke(&user, id).await
        }
        .await,
    )
}

/// The names of ticked checkboxes named `field[name]`.
#[cfg(feature = "ssr")]
fn ticked(boxes: Option<BTreeMap<String, String>>) -> Vec<String> {
    boxes.unwrap_or_default().into_iter().filter(|(_, value)| !value.is_empty()).map(|(name, _)| name).collect()
}

#[server(endpoint = "studies")]
pub async fn load_studies(team: String) -> Result<crate::domain::studies::StudyList, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.studies.studies(&user, &team).await
        }
        .await,
    )
}

#[server(endpoint = "create_study")]
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
    with_status(
        async move {
            let user = require_user()?;
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
        }
        .await,
    )
}

#[server(endpoint = "study_files")]
pub async fn load_study_files(
    team: String,
    id: i64,
    #[server(default)] folder: String,
    #[server(default)] page: Option<String>,
) -> Result<crate::domain::studies::FolderListing, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.studies.files(&user, &team, id, &folder, page).await
        }
        .await,
    )
}

#[server(endpoint = "study_upload")]
pub async fn study_upload(
    team: String,
    id: i64,
    path: String,
    size: u64,
    #[server(default)] content_type: String,
) -> Result<crate::domain::studies::UploadTicket, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.studies.upload(&user, &team, id, &path, size, &content_type).await
        }
        .await,
    )
}

#[server(endpoint = "study_upload_complete")]
pub async fn complete_study_upload(
    team: String,
    id: i64,
    path: String,
    upload_id: String,
    #[server(default)] etags: Vec<String>,
) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.studies.complete_upload(&user, &team, id, &path, &upload_id, etags).await
        }
        .await,
    )
}

#[server(endpoint = "study_delete_file")]
pub async fn delete_study_file(team: String, id: i64, path: String) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.studies.delete_file(&user, &team, id, &path).await
        }
        .await,
    )
}

#[server(endpoint = "study_writers")]
pub async fn set_study_writers(
    team: String,
    id: i64,
    #[server(default)] writers: Option<BTreeMap<String, String>>,
) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.studies.set_writers(&user, &team, id, ticked(writers)).await
        }
        .await,
    )
}

#[server(endpoint = "request_egress")]
pub async fn request_egress(
    team: String,
    id: i64,
    #[server(default)] files: Option<BTreeMap<String, String>>,
    #[server(default)] reason: String,
) -> Result<i64, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let slug = team_slug(&team)?;
            let request = services()?.studies.request_egress(&user, &slug, id, ticked(files), &reason).await?;
            leptos_axum::redirect(&format!("/teams/{slug}/egress/{request}"));
            Ok(request)
        }
        .await,
    )
}

#[server(endpoint = "egress_request")]
pub async fn load_egress_request(team: String, id: i64) -> Result<crate::domain::studies::EgressRequestView, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            services()?.studies.egress_request(&user, &team, id).await
        }
        .await,
    )
}

#[server(endpoint = "decide_egress")]
pub async fn decide_egress(team: String, id: i64, decision: String, #[server(default)] note: String) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let team = team_slug(&team)?;
            let approve = match decision.as_str() {
                "approve" => true,
                "reject" => false,
                _ => return Err(AppError::invalid("decision", "Approve or reject.")),
            };
            services()?.studies.decide_egress(&user, &team, id, approve, &note).await
        }
        .await,
    )
}

#[server(endpoint = "workspace_sharing")]
pub async fn load_workspace_sharing(id: String) -> Result<crate::domain::workspace::WorkspaceSharing, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            services()?.workspaces.sharing(&user, &id).await
        }
        .await,
    )
}

/// `people[<username>]` ticked for each member; `whole_team` for everyone on the team.
#[server(endpoint = "share_workspace")]
pub async fn share_workspace(
    id: String,
    #[server(default)] people: Option<BTreeMap<String, String>>,
    #[server(default)] whole_team: Option<String>,
) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let whole_team = whole_team.is_some_and(|v| !v.is_empty());
            services()?.workspaces.share(&user, &id, ticked(people), whole_team).await
        }
        .await,
    )
}

/// A Session Manager session (`protocol`: `ssh` or `rdp`) to an EC2 workstation.
#[server(endpoint = "start_workspace_session")]
pub async fn start_workspace_session(id: String, protocol: String) -> Result<crate::domain::workspace::ShellSession, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let protocol = crate::domain::workspace::RemoteProtocol::parse(&protocol)
                .ok_or_else(|| AppError::invalid("protocol", "Choose ssh or rdp."))?;
            services()?.workspaces.start_session(&user, &id, protocol).await
        }
        .await,
    )
}

#[server(endpoint = "upgrade_workspace")]
pub async fn upgrade_workspace(id: String, to_type_id: i64) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            services()?.workspaces.upgrade(&user, &id, to_type_id).await
        }
        .await,
    )
}

#[server(endpoint = "resize_workspace")]
pub async fn resize_workspace(id: String, size: String) -> Result<(), AppError> {
    with_status(
        async move {
            let user = require_user()?;
            services()?.workspaces.resize(&user, &id, &size).await
        }
        .await,
    )
}

#[server(endpoint = "launch_again")]
pub async fn launch_again(id: String, launch_key: String) -> Result<String, AppError> {
    with_status(
        async move {
            let user = require_user()?;
            let again = services()?.workspaces.launch_again(&user, &id, &launch_key).await?;
            leptos_axum::redirect(&format!("/workspaces/{again}"));
            Ok(again)
        }
        .await,
    )
}

#[server(endpoint = "admin/workspaces")]
pub async fn load_admin_workspaces(
    #[server(default)] team: String,
    #[server(default)] owner: String,
    #[server(default)] type_label: String,
    #[server(default)] state: String,
    #[server(default)] drift_only: bool,
    #[server(default)] page: i64,
) -> Result<crate::domain::workspace::AdminWorkspacePage, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            let given = |value: String| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
            let filter = crate::domain::workspace::AdminWorkspaceFilter {
                team: given(team),
                owner: given(owner),
                type_label: given(type_label),
                state: given(state),
                drift_only,
            };
            services()?.admin_workspaces.workspaces(&admin, filter, page).await
        }
        .await,
    )
}

#[server(endpoint = "admin/resync_workspace")]
pub async fn resync_workspace(id: String) -> Result<String, AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.admin_workspaces.resync(&admin, &id).await
        }
        .await,
    )
}

#[server(endpoint = "admin/force_terminate_workspace")]
pub async fn force_terminate_workspace(id: String) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.admin_workspaces.force_terminate(&admin, &id).await
        }
        .await,
    )
}

#[server(endpoint = "admin/transfer_workspace")]
pub async fn transfer_workspace(id: String, to: String) -> Result<(), AppError> {
    with_status(
        async move {
            let admin = require_admin()?;
            services()?.admin_workspaces.transfer(&admin, &id, &to).await
        }
        .await,
    )
}
