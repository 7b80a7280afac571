//! The services server functions call. The server crate implements them over Postgres and
//! AWS; server functions only find the caller, call one method and return its result.

use crate::domain::configurations::{Configuration, ConfigurationForm};
use crate::domain::workspace_types::{CatalogOverview, TypeStatus, WorkspaceType};
use crate::domain::{CurrentUser, PasswordPolicy, TeamHome, TeamSlug, TeamSummary};
use crate::error::AppError;
use std::sync::Arc;

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

#[async_trait::async_trait]
pub trait PasswordPolicyService: Send + Sync {
    async fn password_policy(&self) -> Result<PasswordPolicy, AppError>;
}

/// The admin's side of the catalog. Callers have checked that the user is an admin.
#[async_trait::async_trait]
pub trait CatalogAdminService: Send + Sync {
    async fn overview(&self) -> Result<CatalogOverview, AppError>;
    /// Imports a product version as a workspace type (again: the existing type).
    async fn import(&self, admin: &CurrentUser, product_id: &str, version_id: &str) -> Result<WorkspaceType, AppError>;
    async fn set_status(&self, admin: &CurrentUser, type_id: i64, status: TypeStatus) -> Result<WorkspaceType, AppError>;
    /// "Must upgrade by" (`YYYY-MM-DD`, today or later; empty clears it): the date its
    /// workspaces' owners are asked to upgrade by once a newer version is approved. Audited.
    async fn set_upgrade_by(&self, admin: &CurrentUser, type_id: i64, by: &str) -> Result<(), AppError>;
    /// A configuration for an approved type; `Invalid` names each bad field.
    async fn create_configuration(&self, admin: &CurrentUser, type_id: i64, form: ConfigurationForm) -> Result<Configuration, AppError>;
    /// Changes how long a configuration's workspaces may stay idle (audited).
    async fn set_idle_policy(
        &self,
        admin: &CurrentUser,
        configuration_id: i64,
        form: crate::domain::idle::IdlePolicyForm,
    ) -> Result<Configuration, AppError>;
}

#[async_trait::async_trait]
pub trait WorkspaceService: Send + Sync {
    /// Launches a configuration on a team: checks role, team, name and quota, then writes the
    /// workspace and its provisioning job together. The same key again gives the same id.
    /// `profile` names the team profile launched from, whose parameter values apply on top.
    /// A launch that would take the team over its monthly budget is refused, unless an admin
    /// sets `override_budget` (audited).
    #[allow(clippy::too_many_arguments)]
    async fn launch(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        configuration_id: i64,
        name: &str,
        key: &str,
        profile: Option<&str>,
        override_budget: bool,
    ) -> Result<String, AppError> {
        self.launch_with_studies(user, team, configuration_id, name, key, profile, override_budget, &[]).await
    }
    /// `launch`, mounting studies with the access chosen for each (checked again now): passed
    /// to the product as its `Studies` parameter and recorded with the workspace.
    #[allow(clippy::too_many_arguments)]
    async fn launch_with_studies(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        configuration_id: i64,
        name: &str,
        key: &str,
        profile: Option<&str>,
        override_budget: bool,
        studies: &[(i64, crate::domain::studies::Access)],
    ) -> Result<String, AppError>;
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

#[async_trait::async_trait]
pub trait AuditService: Send + Sync {
    /// One page (from 1) of audit rows matching the filter, newest first. Admins only.
    async fn search(
        &self,
        admin: &CurrentUser,
        filter: crate::domain::audit::AuditFilter,
        page: i64,
    ) -> Result<crate::domain::audit::AuditPage, AppError>;
}

#[async_trait::async_trait]
pub trait CostService: Send + Sync {
    /// Spend over the last `days` per team, user and workspace, against budgets. Cost viewers
    /// and admins only.
    /// `top`: at most this many users and workspaces, the highest spenders (`None`: all).
    async fn dashboard(&self, user: &CurrentUser, days: u32, top: Option<usize>) -> Result<crate::domain::costs::CostDashboard, AppError>;
    /// The user's own workspaces' spend on a team over the last 30 days.
    async fn my_spend(&self, user: &CurrentUser, team: &TeamSlug) -> Result<crate::domain::costs::MySpend, AppError>;
    /// The team's month against its budget (members and admins), shown before a launch.
    async fn team_month(&self, user: &CurrentUser, team: &TeamSlug) -> Result<crate::domain::costs::MonthBudget, AppError>;
    /// Every team's month and budget. Admins only.
    async fn budgets(&self, admin: &CurrentUser) -> Result<Vec<crate::domain::costs::MonthBudget>, AppError>;
    /// Sets a team's monthly budget and alert thresholds. Admins only; audited.
    async fn set_budget(&self, admin: &CurrentUser, form: crate::domain::costs::BudgetForm) -> Result<(), AppError>;
}

#[async_trait::async_trait]
pub trait NotificationService: Send + Sync {
    /// Every notification target. Admins only.
    async fn targets(&self, admin: &CurrentUser) -> Result<Vec<crate::domain::notifications::NotificationTarget>, AppError>;
    /// Registers a webhook: its URL goes to SSM as a SecureString. Audited.
    async fn add_target(&self, admin: &CurrentUser, form: crate::domain::notifications::TargetForm) -> Result<i64, AppError>;
    /// Removes a target and its secret. Audited.
    async fn remove_target(&self, admin: &CurrentUser, id: i64) -> Result<(), AppError>;
    /// Posts a test message now and says how it went.
    async fn send_test(&self, admin: &CurrentUser, id: i64) -> Result<String, AppError>;
}

/// Teams as admins manage them. Every method checks that the caller is an admin.
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
}

/// People: the user pool as admins manage it, and a team's members as its team admins do.
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

/// Each user's own settings.
#[async_trait::async_trait]
pub trait SettingsService: Send + Sync {
    async fn settings(&self, user: &CurrentUser) -> Result<crate::domain::settings::UserSettings, AppError>;
    async fn save(
        &self,
        user: &CurrentUser,
        form: crate::domain::settings::SettingsForm,
    ) -> Result<crate::domain::settings::UserSettings, AppError>;
}

/// Personal access tokens for the REST API. Each method acts for the caller only, but
/// admins may revoke anyone's.
#[async_trait::async_trait]
pub trait TokenService: Send + Sync {
    async fn tokens(&self, user: &CurrentUser) -> Result<crate::domain::tokens::TokenList, AppError>;
    /// A new token; its secret is in the answer and nowhere else. Audited.
    async fn create(
        &self,
        user: &CurrentUser,
        form: crate::domain::tokens::TokenForm,
    ) -> Result<crate::domain::tokens::CreatedToken, AppError>;
    /// Revokes one of the user's tokens (any token, for an admin). Audited.
    async fn revoke(&self, user: &CurrentUser, id: i64) -> Result<(), AppError>;
}

/// Studies: research data in S3 seen through a team. Every method checks the caller's access
/// to the study from that team (`NotFound` for a study they may not see, so ids reveal
/// nothing; `Forbidden` for one they may see but not change).
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
    /// Asks to export files from a controlled study's egress folder. Audited.
    async fn request_egress(&self, user: &CurrentUser, team: &TeamSlug, id: i64, files: Vec<String>, reason: &str)
    -> Result<i64, AppError>;
    async fn egress_request(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        request_id: i64,
    ) -> Result<crate::domain::studies::EgressRequestView, AppError>;
    /// Approves or rejects a pending request (team admins and admins, not the requester). Audited.
    async fn decide_egress(&self, user: &CurrentUser, team: &TeamSlug, request_id: i64, approve: bool, note: &str) -> Result<(), AppError>;
    /// A presigned download of one file of an approved request, for its requester. Audited.
    async fn egress_download_url(&self, user: &CurrentUser, team: &TeamSlug, request_id: i64, file: &str) -> Result<String, AppError>;
}

/// Every workspace, as admins look after them. Every method checks that the caller is an admin.
#[async_trait::async_trait]
pub trait AdminWorkspaceService: Send + Sync {
    async fn workspaces(
        &self,
        admin: &CurrentUser,
        filter: crate::domain::workspace::AdminWorkspaceFilter,
        page: i64,
    ) -> Result<crate::domain::workspace::AdminWorkspacePage, AppError>;
    /// Compares the workspace with AWS now; what was found, in words. Audited.
    async fn resync(&self, admin: &CurrentUser, id: &str) -> Result<String, AppError>;
    /// Ends a workspace AWS no longer knows, or that is stuck, without asking AWS. Audited.
    async fn force_terminate(&self, admin: &CurrentUser, id: &str) -> Result<(), AppError>;
    /// Gives a live workspace to another member of its team (a leaver's, say). Audited.
    async fn transfer(&self, admin: &CurrentUser, id: &str, to: &str) -> Result<(), AppError>;
}

/// Provided as Leptos context to every request, behind one `Arc` (cloned per request).
pub struct Services {
    pub teams: Arc<dyn TeamService>,
    pub password_policy: Arc<dyn PasswordPolicyService>,
    pub catalog_admin: Arc<dyn CatalogAdminService>,
    pub workspaces: Arc<dyn WorkspaceService>,
    pub audit: Arc<dyn AuditService>,
    pub costs: Arc<dyn CostService>,
    pub notifications: Arc<dyn NotificationService>,
    pub team_admin: Arc<dyn TeamAdminService>,
    pub people: Arc<dyn PeopleService>,
    pub settings: Arc<dyn SettingsService>,
    pub tokens: Arc<dyn TokenService>,
    pub studies: Arc<dyn StudyService>,
    pub admin_workspaces: Arc<dyn AdminWorkspaceService>,
    pub sign_in_methods: crate::domain::SignInMethods,
    pub content_security_policy: ContentSecurityPolicy,
}

/// The pages' Content-Security-Policy: scripts only from this site or carrying the response's
/// nonce (Leptos puts it on each of its inline scripts), never other inline scripts.
#[derive(Clone, Debug)]
pub struct ContentSecurityPolicy {
    /// Every directive but `script-src`.
    other_directives: String,
}

impl ContentSecurityPolicy {
    pub fn new(other_directives: impl Into<String>) -> Self {
        ContentSecurityPolicy { other_directives: other_directives.into() }
    }

    /// For a page whose inline scripts carry `nonce`.
    pub fn with_nonce(&self, nonce: &str) -> String {
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; {}", self.other_directives)
    }

    /// For every other response: no inline script runs.
    pub fn without_inline_scripts(&self) -> String {
        format!("script-src 'self' 'wasm-unsafe-eval'; {}", self.other_directives)
    }
}

/// The services from context. Missing context is a wiring bug, reported as `Internal`.
pub fn services() -> Result<std::sync::Arc<Services>, AppError> {
    leptos::prelude::use_context::<std::sync::Arc<Services>>().ok_or_else(|| {
        tracing::error!("Services were not provided as Leptos context");
        AppError::Internal
    })
}

/// The signed-in user, put into the request's extensions by the server's session middleware.
pub fn signed_in_user() -> Option<CurrentUser> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    parts.extensions.get::<CurrentUser>().cloned()
}

pub fn require_user() -> Result<CurrentUser, AppError> {
    signed_in_user().ok_or(AppError::NotSignedIn)
}

/// The signed-in user if they are an admin; `Forbidden` for everyone else.
pub fn require_admin() -> Result<CurrentUser, AppError> {
    let user = require_user()?;
    must_be_admin(&user)?;
    Ok(user)
}

/// Services check again what server functions checked, so that no other caller can skip it.
pub fn must_be_admin(user: &CurrentUser) -> Result<(), AppError> {
    if user.is_admin() { Ok(()) } else { Err(AppError::Forbidden) }
}

/// A server function's result, with the HTTP status of its error set on the response
/// (403 for Forbidden, 503 for Unavailable…) instead of a blanket 500.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result {
        set_page_status(error.status());
    }
    result
}

/// Sets the status of the page being rendered on the server.
pub fn set_page_status(status: u16) {
    if let (Some(options), Ok(code)) = (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status))
    {
        options.set_status(code);
    }
}
