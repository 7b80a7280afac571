use super::database_error;
use crate::aws::provisioning::ProvisionError;
use crate::aws::sagemaker::Presigner;
use crate::aws::sessions::{PORT_FORWARDING_DOCUMENT, SessionStarter, StartedSession};
use crate::jobs::Job;
use crate::notifications;
use crate::repo::workspaces::{self, LaunchError, NewWorkspace};
use crate::repo::{audit, workspace_types};
use crate::repo::{configurations, teams};
use app::domain::configurations::Configuration;
use app::domain::idle::SNOOZE_HOURS;
use app::domain::notifications::Notice;
use app::domain::parameters::validate_parameters;
use app::domain::studies::{Access, STUDIES_PARAMETER, studies_parameter};
use app::domain::workspace::{
    Connection, ConnectionKind, EndedWorkspaces, MyWorkspaces, WorkspaceAction, WorkspaceName, WorkspaceSharing, WorkspaceState,
    WorkspaceView,
};
use app::domain::workspace::{LaunchRequest, StudyMount};
use app::domain::workspace::{RemoteProtocol, ShellSession};
use app::domain::{CurrentUser, TeamSlug};
use app::error::AppError;
use app::error::FieldError;
use app::features::teams::TeamService;
use app::features::workspaces::WorkspaceService;
use sha2::Digest;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Ended workspaces listed per page.
const ENDED_PER_PAGE: i64 = 25;
use crate::services::costs;
use app::domain::notifications::NotificationEvent;

/// A SageMaker user profile name for a username (letters, digits and inner hyphens, at most
/// 63): the username itself when it is one, else a readable part of it and a hash of all of it,
/// so that two users never share a profile (`j.smith@x.org` and `j_smith@x.org` both read
/// `j-smith-x-org`).
fn studio_profile_name(username: &str) -> String {
    let usable = |name: &str| {
        (1..=63).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-')
    };
    if usable(username) {
        return username.to_owned();
    }
    let readable: String = username.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(40).collect();
    let readable = readable.trim_matches('-');
    let hash = hex::encode(sha2::Sha256::digest(username.as_bytes()));
    if readable.is_empty() { format!("u-{}", &hash[..20]) } else { format!("{readable}-{}", &hash[..12]) }
}

pub struct Workspaces {
    db: PgPool,
    /// For the team's profiles, when a launch starts from one.
    teams: Arc<dyn TeamService>,
    /// Active (not terminated or failed) workspaces a user may have at once.
    quota: i64,
    presigner: Arc<dyn Presigner>,
    sessions: Arc<dyn SessionStarter>,
}

impl Workspaces {
    pub fn new(
        db: PgPool,
        teams: Arc<dyn TeamService>,
        quota: i64,
        presigner: Arc<dyn Presigner>,
        sessions: Arc<dyn SessionStarter>,
    ) -> Self {
        Workspaces { db, teams, quota, presigner, sessions }
    }
}

impl Workspaces {
    /// The configuration a launch names: given, or the one of the named profile.
    #[tracing::instrument(skip_all)]
    async fn configuration_to_launch(&self, user: &CurrentUser, team: &TeamSlug, request: &LaunchRequest) -> Result<i64, AppError> {
        match (request.configuration_id, request.profile.as_deref()) {
            (Some(id), _) => Ok(id),
            (None, Some(profile)) => {
                let profiles = self.teams.profiles(user, team).await?;
                profiles
                    .profiles
                    .iter()
                    .find(|p| p.name == profile)
                    .map(|p| p.configuration.id)
                    .ok_or_else(|| invalid("profile", "The team has no profile of that name that you may launch."))
            }
            (None, None) => Err(invalid("configuration_id", "Give a configuration_id or a profile.")),
        }
    }

    /// The studies a launch names (by id or by name, among those the team sees), with their
    /// access; whether the user may mount each is checked with the launch.
    #[tracing::instrument(skip_all)]
    async fn studies_to_mount(&self, team: &TeamSlug, mounts: &[StudyMount]) -> Result<Vec<(i64, Access)>, AppError> {
        if mounts.is_empty() {
            return Ok(Vec::new());
        }
        let seen = crate::repo::studies::seen_from_team(&self.db, team.as_str()).await.map_err(database_error)?;
        mounts
            .iter()
            .map(|mount| {
                let wanted = mount.study.trim();
                seen.iter()
                    .find(|study| study.id.to_string() == wanted || study.name.eq_ignore_ascii_case(wanted))
                    .map(|study| (study.id, mount.access))
                    .ok_or_else(|| invalid("studies", format!("The team has no study \"{wanted}\".")))
            })
            .collect()
    }

    /// The configuration's parameter values, with the profile's on top, checked against the
    /// template's constraints (a profile in SSM is not trusted to be right).
    #[tracing::instrument(skip_all)]
    async fn parameter_values(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        configuration: &Configuration,
        profile: Option<&str>,
    ) -> Result<BTreeMap<String, String>, AppError> {
        let mut values = configuration.draft.parameter_values.clone();
        let Some(profile) = profile else { return Ok(values) };
        let profiles = self.teams.profiles(user, team).await?;
        let profile = profiles
            .profiles
            .into_iter()
            .find(|p| p.name == profile && p.configuration.id == configuration.id)
            .ok_or_else(|| AppError::NotFound(format!("The profile \"{profile}\"")))?;
        values.extend(profile.parameters);
        let specs = workspace_types::find(&self.db, configuration.workspace_type_id)
            .await
            .map_err(database_error)?
            .ok_or(AppError::Internal)?
            .parameters;
        validate_parameters(&specs, &values).map_err(|problems| {
            AppError::Invalid(
                problems
                    .into_iter()
                    .map(|p| FieldError { field: "profile".into(), message: format!("The profile's {}: {}", p.key, p.message) })
                    .collect(),
            )
        })?;
        Ok(values)
    }
}

/// Whether a launch (or a bigger size) fits in its team's budget.
pub(super) enum BudgetCheck {
    Fits,
    /// Over budget, but an admin chose to launch anyway: the reason for the audit log.
    Overridden(String),
    /// Over budget: the message for the user.
    Refused(String),
}

/// Checks `hourly_cents` more to the end of the month against the team's month, on the
/// caller's connection (a launch's transaction holds the team's budget lock).
#[tracing::instrument(skip_all)]
pub(super) async fn check_budget(
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    team: &teams::Team,
    hourly_cents: u32,
    override_budget: bool,
) -> Result<BudgetCheck, sqlx::Error> {
    let today = costs::today();
    let month = costs::month_budget(conn, team, today).await?;
    let extra = costs::cost_to_month_end(hourly_cents, today);
    if !month.would_exceed(extra) {
        return Ok(BudgetCheck::Fits);
    }
    let message = costs::over_budget_message(&month, extra);
    Ok(if override_budget && user.is_admin() { BudgetCheck::Overridden(message) } else { BudgetCheck::Refused(message) })
}

/// A launch form's idempotency key: 8 to 200 letters, digits, `-`, `_` and `.`.
fn check_launch_key(key: &str) -> Result<(), AppError> {
    let fine = (8..=200).contains(&key.len()) && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if fine { Ok(()) } else { Err(AppError::BadRequest("The launch form is out of date; reload the page and try again.".into())) }
}

pub(super) fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid(vec![FieldError { field: field.into(), message: message.into() }])
}

/// A launch whose caller, team, name, key and configuration have been checked.
struct Launch<'a> {
    team: &'a teams::Team,
    configuration: &'a Configuration,
    name: &'a WorkspaceName,
    key: &'a str,
    parameter_values: BTreeMap<String, String>,
    studies: &'a [(i64, Access)],
    override_budget: bool,
    /// "Launch again": the workspace launched again.
    again_from: Option<&'a str>,
}

/// The owner, while still on the team, or an admin: those who act on a workspace.
fn manages(user: &CurrentUser, view: &WorkspaceView) -> bool {
    (view.owner == user.username.as_str() && user.may_enter_team(&view.team)) || user.is_admin()
}

impl Workspaces {
    /// The workspace, for those who act on it (not those it is only shared with).
    #[tracing::instrument(skip_all)]
    async fn managed(&self, user: &CurrentUser, id: &str) -> Result<WorkspaceView, AppError> {
        let view = self.workspace(user, id).await?;
        if manages(user, &view) { Ok(view) } else { Err(AppError::Forbidden) }
    }

    /// A connect is use (the idle check counts from here) and an audit row in the caller's name;
    /// `detail` says how, never with the URL or token (credentials while they last).
    #[tracing::instrument(skip_all)]
    async fn record_connect(&self, user: &CurrentUser, view: &WorkspaceView, detail: &str) -> Result<(), AppError> {
        let mut tx = self.db.begin().await.map_err(database_error)?;
        workspaces::record_connect(&mut *tx, &view.id).await.map_err(database_error)?;
        let entry = audit::Entry::by(user, "workspace.connect").object("workspace", &view.id).team(view.team.as_str()).detail(detail);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)
    }

    /// Mounts, quota, budget, then the workspace and its provisioning job in one transaction.
    #[tracing::instrument(skip_all)]
    async fn launch_checked(&self, user: &CurrentUser, launch: Launch<'_>) -> Result<String, AppError> {
        let Launch { team: team_row, configuration, name, key, mut parameter_values, studies, override_budget, again_from } = launch;
        let team = &team_row.slug;
        let owner = user.username.as_str();
        let configuration_id = configuration.id;
        // Only the studies checked here are mounted: never a value a configuration or profile set.
        parameter_values.remove(STUDIES_PARAMETER);
        let mounts = crate::services::studies::mounts_for_launch(&self.db, user, team, studies).await?;
        if !mounts.is_empty() {
            let specs = workspace_types::find(&self.db, configuration.workspace_type_id)
                .await
                .map_err(database_error)?
                .ok_or(AppError::Internal)?
                .parameters;
            if !specs.iter().any(|spec| spec.key == STUDIES_PARAMETER) {
                return Err(invalid("studies", format!("{} cannot mount studies: launch it without them.", configuration.draft.name)));
            }
            let mut locations: Vec<(String, Access)> = mounts.iter().map(|(study, access)| (study.location(), *access)).collect();
            locations.sort();
            parameter_values.insert(STUDIES_PARAMETER.to_owned(), studies_parameter(&locations));
        }

        let mut tx = self.db.begin().await.map_err(database_error)?;
        workspaces::lock_owner(&mut tx, owner).await.map_err(database_error)?;
        if let Some(id) = workspaces::find_by_key(&mut *tx, owner, key).await.map_err(database_error)? {
            return Ok(id); // a concurrent submission of the same form won
        }
        let active = workspaces::count_active(&mut *tx, owner).await.map_err(database_error)?;
        if active >= self.quota {
            return Err(invalid(
                "name",
                format!("You have {active} active workspaces, the most allowed. Terminate one before launching another."),
            ));
        }
        crate::repo::costs::lock_team_budget(&mut tx, team.as_str()).await.map_err(database_error)?;
        // Archiving takes the same lock: a team archived while this launch waited is gone.
        if teams::find(&mut *tx, team).await.map_err(database_error)?.is_none_or(|t| t.archived) {
            return Err(AppError::NotFound(format!("The team \"{team}\"")));
        }
        let budget_override = match check_budget(&mut tx, user, team_row, configuration.draft.estimated_hourly_cost_cents, override_budget)
            .await
            .map_err(database_error)?
        {
            BudgetCheck::Fits => None,
            BudgetCheck::Overridden(reason) => Some(reason),
            BudgetCheck::Refused(message) => {
                drop(tx); // rolled back: its locks are released before the refusal is recorded
                let detail = format!("{} ({}): {message}", name.as_str(), configuration.draft.name);
                let entry = audit::Entry::by(user, "workspace.launch").team(team.as_str()).outcome(audit::Outcome::Refused).detail(&detail);
                audit::record(&self.db, &entry).await.map_err(database_error)?;
                crate::metrics::launch(&configuration.type_label, "refused");
                let hint = if user.is_admin() { " As an administrator you may tick \"Launch over budget\" to launch anyway." } else { "" };
                return Err(AppError::BadRequest(format!("{message}{hint}")));
            }
        };
        let new =
            NewWorkspace { team, owner, name: name.as_str(), configuration_id, idempotency_key: key, parameter_values: &parameter_values };
        let id = workspaces::insert(&mut tx, &new).await.map_err(|error| match error {
            LaunchError::NameTaken => invalid("name", format!("You already have a workspace named \"{}\" on this team.", name.as_str())),
            LaunchError::Database(e) => database_error(e),
        })?;
        let mounted: Vec<(i64, Access)> = mounts.iter().map(|(study, access)| (study.id, *access)).collect();
        crate::repo::studies::insert_mounts(&mut tx, &id, &mounted).await.map_err(database_error)?;
        crate::jobs::enqueue(&mut *tx, &Job::workspace(&id, "launch"), Duration::ZERO).await.map_err(database_error)?;
        let with_studies =
            mounts.iter().map(|(study, access)| format!("\"{}\" {}", study.name, access.as_str())).collect::<Vec<_>>().join(", ");
        let mut detail = format!("{} ({})", name.as_str(), configuration.draft.name);
        if !with_studies.is_empty() {
            detail.push_str(&format!(" with {with_studies}"));
        }
        if let Some(earlier) = again_from {
            detail.push_str(&format!(", launched again from {earlier}"));
        }
        let entry = audit::Entry::by(user, "workspace.launch").object("workspace", &id).team(team.as_str()).detail(&detail);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        if let Some(reason) = &budget_override {
            let entry =
                audit::Entry::by(user, "workspace.launch.budget_override").object("workspace", &id).team(team.as_str()).detail(reason);
            audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        }
        let title = format!("{} launched {}", user.username, name.as_str());
        let notice =
            Notice::workspace(NotificationEvent::WorkspaceLaunched, title, team.as_str(), name.as_str(), &configuration.draft.name, None);
        notifications::publish(&mut *tx, &notice).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        tracing::info!(workspace_id = %id, "Launch requested");
        crate::metrics::launch(&configuration.type_label, "requested");
        Ok(id)
    }
}

#[async_trait::async_trait]
impl WorkspaceService for Workspaces {
    #[tracing::instrument(skip(self, user, request, key), fields(username = %user.username, team = %request.team))]
    async fn launch(&self, user: &CurrentUser, request: LaunchRequest, key: &str) -> Result<String, AppError> {
        let team = app::features::team_slug(&request.team)?;
        let team_row = super::enter_team(&self.db, user, &team).await?;
        check_launch_key(key)?;
        let owner = user.username.as_str();
        // The same form submitted again: the workspace it already launched.
        if let Some(id) = workspaces::find_by_key(&self.db, owner, key).await.map_err(database_error)? {
            return Ok(id);
        }
        let configuration_id = self.configuration_to_launch(user, &team, &request).await?;
        let name = WorkspaceName::parse(&request.name).map_err(|e| invalid("name", e.0))?;
        let offered = configurations::launchable_on_team(&self.db, &team).await.map_err(database_error)?;
        let Some(configuration) =
            offered.into_iter().find(|c| c.id == configuration_id && (user.is_admin() || c.draft.allows(&user.roles, &team)))
        else {
            return Err(AppError::Forbidden);
        };
        let parameter_values = self.parameter_values(user, &team, &configuration, request.profile.as_deref()).await?;
        let studies = self.studies_to_mount(&team, &request.studies).await?;
        let launch = Launch {
            team: &team_row,
            configuration: &configuration,
            name: &name,
            key,
            parameter_values,
            studies: &studies,
            override_budget: request.override_budget,
            again_from: None,
        };
        self.launch_checked(user, launch).await
    }

    #[tracing::instrument(skip_all)]
    async fn workspace(&self, user: &CurrentUser, id: &str) -> Result<WorkspaceView, AppError> {
        let view =
            workspaces::view(&self.db, id).await.map_err(database_error)?.ok_or_else(|| AppError::NotFound("This workspace".into()))?;
        if manages(user, &view) {
            return Ok(view);
        }
        // Shared with them, while they are on its team (leaving it ends the share at once).
        if user.may_enter_team(&view.team)
            && workspaces::is_shared_with(&self.db, id, user.username.as_str()).await.map_err(database_error)?
        {
            return Ok(view);
        }
        Err(AppError::Forbidden)
    }

    #[tracing::instrument(skip_all)]
    async fn my_workspaces(&self, user: &CurrentUser, team: &TeamSlug) -> Result<MyWorkspaces, AppError> {
        if !user.may_enter_team(team) {
            return Err(AppError::Forbidden);
        }
        let owner = user.username.as_str();
        let (live, ended) = workspaces::live_for_owner(&self.db, owner, team).await.map_err(database_error)?;
        let ended = match ended {
            Some(ended) => ended,
            None => workspaces::count_ended_for_owner(&self.db, owner, team).await.map_err(database_error)?,
        };
        let shared = workspaces::shared_with(&self.db, owner, team).await.map_err(database_error)?;
        Ok(MyWorkspaces { live, ended, shared })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn ended_workspaces(&self, user: &CurrentUser, team: &TeamSlug, page: i64) -> Result<EndedWorkspaces, AppError> {
        if !user.may_enter_team(team) {
            return Err(AppError::Forbidden);
        }
        let owner = user.username.as_str();
        let per_page = ENDED_PER_PAGE;
        let page = page.max(1);
        let total = workspaces::count_ended_for_owner(&self.db, owner, team).await.map_err(database_error)?;
        let workspaces = workspaces::ended_for_owner(&self.db, owner, team, per_page, (page - 1).saturating_mul(per_page))
            .await
            .map_err(database_error)?;
        Ok(EndedWorkspaces { workspaces, total, page, per_page })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn request_action(&self, user: &CurrentUser, id: &str, action: WorkspaceAction) -> Result<(), AppError> {
        let view = self.managed(user, id).await?;
        if !view.available_actions().contains(&action) {
            let reason = if action != WorkspaceAction::Terminate && !view.has_stop_start {
                "This workspace type has no stop and start: it can only be terminated.".to_owned()
            } else {
                format!("A workspace that is {} cannot be {} now.", view.state.as_str(), action.past_tense())
            };
            return Err(AppError::BadRequest(reason));
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let message = format!("{} requested by {}", action.as_str(), user.username);
        match begin_action(&mut tx, id, view.state, action, &message).await {
            Ok(()) => {}
            Err(workspaces::TransitionError::Moved(_)) => {
                return Err(AppError::BadRequest("The workspace changed just now; look again and retry.".into()));
            }
            Err(workspaces::TransitionError::Illegal(e)) => return Err(AppError::BadRequest(e.to_string())),
            Err(workspaces::TransitionError::Database(e)) => return Err(database_error(e)),
        }
        let action_name = format!("workspace.{}", action.as_str());
        let entry = audit::Entry::by(user, &action_name).object("workspace", id).team(view.team.as_str());
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(())
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn connect(&self, user: &CurrentUser, id: &str) -> Result<Connection, AppError> {
        let view = self.workspace(user, id).await?;
        if view.state != app::domain::workspace::WorkspaceState::Available {
            return Err(AppError::BadRequest(format!("The workspace is {}: connect once it is available.", view.state.as_str())));
        }
        let outputs = &view.outputs;
        let team = teams::find(&self.db, &view.team).await.map_err(database_error)?.ok_or(AppError::Internal)?;
        let connection = if let Some(url) = outputs.get("ConnectionUrl") {
            Connection { url: url.clone(), kind: ConnectionKind::WorkspaceUrl, expires_in_seconds: None }
        } else {
            let (minted, kind) = match (outputs.get("NotebookInstanceName"), outputs.get("DomainId")) {
                // The owner's name, even when an admin clicks: the notebook is the owner's.
                (Some(notebook), _) => {
                    let session = crate::aws::provisioning::role_session_name(&view.owner);
                    (self.presigner.notebook_url(&team.role_arn, &session, notebook).await, ConnectionKind::SagemakerNotebook)
                }
                // Studio: each person in a user profile of their own, named after them, and
                // the calls made in their name (CloudTrail says who created which profile).
                (None, Some(domain)) => {
                    let session = crate::aws::provisioning::role_session_name(user.username.as_str());
                    let profile = outputs.get("UserProfileName").cloned().unwrap_or_else(|| studio_profile_name(user.username.as_str()));
                    (self.presigner.studio_url(&team.role_arn, &session, domain, &profile).await, ConnectionKind::SagemakerStudio)
                }
                _ => return Err(AppError::BadRequest("This workspace has nothing to connect to; see its details.".into())),
            };
            let url = minted.map_err(|error| match error {
                ProvisionError::Retryable(cause) => {
                    tracing::warn!(error = ?cause, "SageMaker is unavailable");
                    AppError::Unavailable("SageMaker".into())
                }
                ProvisionError::Rejected(message) => AppError::BadRequest(format!("AWS refused the connection: {message}")),
            })?;
            // A notebook instance's URL lasts five minutes, fixed by AWS; a domain URL as asked.
            let expires_in_seconds = if kind == ConnectionKind::SagemakerNotebook { 300 } else { self.presigner.url_seconds() };
            Connection { url, kind, expires_in_seconds: Some(expires_in_seconds) }
        };
        let detail = format!("{} in account {}", connection.kind.as_str(), team.aws_account_id);
        self.record_connect(user, &view, &detail).await?;
        Ok(connection)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn start_session(&self, user: &CurrentUser, id: &str, protocol: RemoteProtocol) -> Result<ShellSession, AppError> {
        let view = self.workspace(user, id).await?;
        if view.state != WorkspaceState::Available {
            return Err(AppError::BadRequest(format!("The workspace is {}: connect once it is available.", view.state.as_str())));
        }
        let Some(instance_id) = view.outputs.get("InstanceId").cloned() else {
            return Err(AppError::BadRequest("Session Manager reaches EC2 workstations; connect to this workspace with Connect.".into()));
        };
        let team = teams::find(&self.db, &view.team).await.map_err(database_error)?.ok_or(AppError::Internal)?;
        // In the caller's name: the account's CloudTrail and session history say who it was.
        let session_name = crate::aws::provisioning::role_session_name(user.username.as_str());
        let (remote_port, local_port) = protocol.ports();
        let started =
            self.sessions.forward_port(&team.role_arn, &session_name, &instance_id, remote_port, local_port).await.map_err(|error| {
                match error {
                    ProvisionError::Retryable(cause) => {
                        tracing::warn!(error = ?cause, "Session Manager is unavailable");
                        AppError::Unavailable("Session Manager".into())
                    }
                    ProvisionError::Rejected(message) => AppError::BadRequest(format!("AWS refused the session: {message}")),
                }
            })?;
        let session = shell_session(&started, &instance_id, protocol, &self.sessions.region());
        let detail = format!(
            "session-manager {} to {instance_id} in account {} (session {})",
            protocol.as_str(),
            team.aws_account_id,
            started.session_id
        );
        self.record_connect(user, &view, &detail).await?;
        Ok(session)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn stop_for_sign_out(&self, user: &CurrentUser) -> Result<usize, AppError> {
        let mut stopped = 0;
        for (id, team) in workspaces::to_stop_on_sign_out(&self.db, user.username.as_str()).await.map_err(database_error)? {
            let mut tx = self.db.begin().await.map_err(database_error)?;
            match begin_action(
                &mut tx,
                &id,
                app::domain::workspace::WorkspaceState::Available,
                WorkspaceAction::Stop,
                "stopped: its owner signed out",
            )
            .await
            {
                Ok(()) => {}
                Err(workspaces::TransitionError::Database(error)) => return Err(database_error(error)),
                // Changed meanwhile (stopping already, say): nothing to do.
                Err(_) => continue,
            }
            let entry = audit::Entry::by(user, "workspace.stop").object("workspace", &id).team(&team).detail("on sign-out");
            audit::record(&mut *tx, &entry).await.map_err(database_error)?;
            tx.commit().await.map_err(database_error)?;
            stopped += 1;
        }
        Ok(stopped)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn keep_running(&self, user: &CurrentUser, id: &str, hours: u32) -> Result<(), AppError> {
        let view = self.managed(user, id).await?;
        if !SNOOZE_HOURS.contains(&hours) {
            return Err(AppError::BadRequest(format!("Keep it running for {} hours.", SNOOZE_HOURS.map(|h| h.to_string()).join(", "))));
        }
        if view.state != app::domain::workspace::WorkspaceState::Available || view.stops_at.is_none() {
            return Err(AppError::BadRequest("Only a running workspace that stops when idle can be kept running.".into()));
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        workspaces::keep_running(&mut *tx, id, hours).await.map_err(database_error)?;
        let detail = format!("{hours} h");
        let entry = audit::Entry::by(user, "workspace.keep_running").object("workspace", id).team(view.team.as_str()).detail(&detail);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn new_launch_key(&self) -> Result<String, AppError> {
        Ok(uuid::Uuid::new_v4().to_string())
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn sharing(&self, user: &CurrentUser, id: &str) -> Result<WorkspaceSharing, AppError> {
        let view = self.workspace(user, id).await?;
        let may_manage = manages(user, &view);
        let mut people = workspaces::shares_of(&self.db, id).await.map_err(database_error)?;
        let whole_team = people.iter().any(|p| p == workspaces::WHOLE_TEAM);
        people.retain(|p| p != workspaces::WHOLE_TEAM);
        if !may_manage {
            return Ok(WorkspaceSharing { shared_by: Some(view.owner), whole_team, ..WorkspaceSharing::default() });
        }
        let mut members = crate::repo::teams::team_members(&self.db, view.team.as_str()).await.map_err(database_error)?;
        members.retain(|m| *m != view.owner);
        let ended = matches!(view.state, WorkspaceState::Terminated | WorkspaceState::Failed);
        let launch_again_key = ended.then(|| uuid::Uuid::new_v4().to_string());
        Ok(WorkspaceSharing { may_manage, shared_by: None, people, whole_team, members, launch_again_key })
    }

    #[tracing::instrument(skip(self, user, people), fields(username = %user.username))]
    async fn share(&self, user: &CurrentUser, id: &str, mut people: Vec<String>, whole_team: bool) -> Result<(), AppError> {
        let view = self.managed(user, id).await?;
        if matches!(view.state, WorkspaceState::Terminated | WorkspaceState::Failed) {
            return Err(AppError::BadRequest(format!("The workspace is {}: there is nothing to share.", view.state.as_str())));
        }
        people.retain(|p| *p != view.owner);
        people.sort();
        people.dedup();
        let members = crate::repo::teams::team_members(&self.db, view.team.as_str()).await.map_err(database_error)?;
        if let Some(stranger) = people.iter().find(|p| !members.contains(p)) {
            return Err(invalid(
                "people",
                format!("{stranger} is not a member of {}: a workspace is shared within its team only.", view.team),
            ));
        }
        let mut grantees = people;
        if whole_team {
            grantees.push(workspaces::WHOLE_TEAM.to_owned());
        }
        let before = workspaces::shares_of(&self.db, id).await.map_err(database_error)?;
        let named = |list: Vec<&String>| {
            list.iter()
                .map(|g| if g.as_str() == workspaces::WHOLE_TEAM { "everyone on the team".to_owned() } else { (*g).clone() })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let added = named(grantees.iter().filter(|g| !before.contains(g)).collect());
        let removed = named(before.iter().filter(|g| !grantees.contains(g)).collect());
        let mut tx = self.db.begin().await.map_err(database_error)?;
        workspaces::set_shares(&mut tx, id, &grantees, user.username.as_str()).await.map_err(database_error)?;
        for (action, who) in [("workspace.share", added), ("workspace.unshare", removed)] {
            if !who.is_empty() {
                let detail = format!("{}: {who}", view.name);
                audit::record(&mut *tx, &audit::Entry::by(user, action).object("workspace", id).team(view.team.as_str()).detail(&detail))
                    .await
                    .map_err(database_error)?;
            }
        }
        tx.commit().await.map_err(database_error)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn upgrade(&self, user: &CurrentUser, id: &str, to_type_id: i64) -> Result<(), AppError> {
        let view = self.managed(user, id).await?;
        super::workspace_updates::upgrade(&self.db, user, view, to_type_id).await
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn resize(&self, user: &CurrentUser, id: &str, size: &str) -> Result<(), AppError> {
        let view = self.managed(user, id).await?;
        super::workspace_updates::resize(&self.db, user, view, size).await
    }

    #[tracing::instrument(skip(self, user, key), fields(username = %user.username))]
    async fn launch_again(&self, user: &CurrentUser, id: &str, key: &str) -> Result<String, AppError> {
        let earlier = self.managed(user, id).await?;
        check_launch_key(key)?;
        if let Some(again) = workspaces::find_by_key(&self.db, user.username.as_str(), key).await.map_err(database_error)? {
            return Ok(again);
        }
        if !matches!(earlier.state, WorkspaceState::Terminated | WorkspaceState::Failed) {
            return Err(AppError::BadRequest(format!(
                "The workspace is {}: only an ended one can be launched again.",
                earlier.state.as_str()
            )));
        }
        if earlier.owner != user.username.as_str() {
            return Err(AppError::BadRequest(format!("Only its owner, {}, can launch it again.", earlier.owner)));
        }
        let team_row = super::enter_team(&self.db, user, &earlier.team).await?;
        let workspaces::LaunchInputs { configuration_id, parameter_values } =
            workspaces::launch_inputs(&self.db, id).await.map_err(database_error)?.ok_or(AppError::Internal)?;
        let offered = configurations::launchable_on_team(&self.db, &earlier.team).await.map_err(database_error)?;
        let Some(configuration) =
            offered.into_iter().find(|c| c.id == configuration_id && (user.is_admin() || c.draft.allows(&user.roles, &earlier.team)))
        else {
            return Err(AppError::BadRequest(format!(
                "\"{}\" is no longer offered to you on this team: launch another configuration.",
                earlier.configuration_name
            )));
        };
        let name = WorkspaceName::parse(&earlier.name).map_err(|e| invalid("name", e.0))?;
        let studies: Vec<(i64, Access)> = earlier.studies.iter().map(|s| (s.id, s.access)).collect();
        let launch = Launch {
            team: &team_row,
            configuration: &configuration,
            name: &name,
            key,
            parameter_values,
            studies: &studies,
            override_budget: false,
            again_from: Some(id),
        };
        self.launch_checked(user, launch).await
    }
}

/// The commands that use a started session: the plugin with its token, the AWS CLI's
/// equivalent, and the client to point at the forwarded port.
fn shell_session(started: &StartedSession, instance_id: &str, protocol: RemoteProtocol, region: &str) -> ShellSession {
    let (remote_port, local_port) = protocol.ports();
    let response =
        serde_json::json!({ "SessionId": started.session_id, "TokenValue": started.token_value, "StreamUrl": started.stream_url });
    let parameters = serde_json::json!({ "portNumber": [remote_port.to_string()], "localPortNumber": [local_port.to_string()] });
    let request = serde_json::json!({ "Target": instance_id, "DocumentName": PORT_FORWARDING_DOCUMENT, "Parameters": parameters });
    let plugin_arguments = vec![
        response.to_string(),
        region.to_owned(),
        "StartSession".into(),
        String::new(),
        request.to_string(),
        format!("https://ssm.{region}.amazonaws.com"),
    ];
    ShellSession {
        session_id: started.session_id.clone(),
        instance_id: instance_id.to_owned(),
        protocol,
        local_port,
        // The JSON has no single quotes (ids, a URL, a token of base64 characters).
        plugin_command: format!(
            "session-manager-plugin {}",
            plugin_arguments.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(" ")
        ),
        plugin_arguments,
        aws_cli_command: format!(
            "aws ssm start-session --region {region} --target {instance_id} --document-name {PORT_FORWARDING_DOCUMENT} --parameters '{parameters}'"
        ),
        client_command: match protocol {
            RemoteProtocol::Ssh => format!("ssh -p {local_port} ec2-user@localhost"),
            RemoteProtocol::Rdp => format!("Point your RDP client at localhost:{local_port}"),
        },
    }
}

/// Moves the workspace from `from` into the action's transitional state and queues the job that
/// carries it out: one step for the owner's "Stop" and for the idle check's alike.
#[tracing::instrument(skip_all)]
pub(crate) async fn begin_action(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: &str,
    from: app::domain::workspace::WorkspaceState,
    action: WorkspaceAction,
    message: &str,
) -> Result<(), workspaces::TransitionError> {
    let changes = workspaces::Changes { message: Some(message), ..workspaces::Changes::default() };
    workspaces::transition(tx, id, from, action.event(), changes).await?;
    // Alarms belong to the run that raised them.
    workspaces::clear_health_alarms(&mut **tx, id).await?;
    queue_work(tx, id).await?;
    Ok(())
}

/// The worker's job that carries out the workspace's new transitional state, with a token of
/// its own (AWS does a repeated request once).
#[tracing::instrument(skip_all)]
pub(super) async fn queue_work(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, id: &str) -> Result<(), sqlx::Error> {
    let requested_at = workspaces::new_request_token(&mut **tx).await?;
    crate::jobs::enqueue(&mut **tx, &Job::workspace(id, &requested_at), Duration::ZERO).await?;
    Ok(())
}

#[cfg(test)]
mod studio_tests {
    use super::studio_profile_name;

    #[test]
    fn every_user_gets_a_studio_profile_of_their_own() {
        assert_eq!(studio_profile_name("ada"), "ada");
        let names: Vec<String> =
            ["j.smith@x.org", "j_smith@x.org", "j-smith@x.org", "zoë", "zo", "___"].iter().map(|u| studio_profile_name(u)).collect();
        for (i, a) in names.iter().enumerate() {
            assert!(a.len() <= 63 && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !a.starts_with('-'), "{a}");
            assert!(names.iter().skip(i + 1).all(|b| a != b), "{names:?}");
        }
        assert!(studio_profile_name("j.smith@x.org").starts_with("j-smith-x-org-"));
    }
}
