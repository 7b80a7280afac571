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
use app::domain::studies::{Access, STUDIES_PARAMETER, set_at_launch, studies_parameter};
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

mod connect;
mod launch;

use connect::*;
pub(crate) use launch::*;

pub struct Workspaces {
    db: PgPool,
    /// For the team's profiles, when a launch starts from one.
    teams: Arc<dyn TeamService>,
    /// Active (not terminated or failed) workspaces a user may have at once.
    quota: i64,
    presigner: Arc<dyn Presigner>,
    sessions: Arc<dyn SessionStarter>,
    /// People's homes on the team's file system, passed at launch.
    homes: Arc<crate::services::homes::Homes>,
}

impl Workspaces {
    pub fn new(
        db: PgPool,
        teams: Arc<dyn TeamService>,
        quota: i64,
        presigner: Arc<dyn Presigner>,
        sessions: Arc<dyn SessionStarter>,
        homes: Arc<crate::services::homes::Homes>,
    ) -> Self {
        Workspaces { db, teams, quota, presigner, sessions, homes }
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
                    (self.presigner.notebook_url(&team.role(), &session, notebook).await, ConnectionKind::SagemakerNotebook)
                }
                // Studio: each person in a user profile of their own, named after them, and
                // the calls made in their name (CloudTrail says who created which profile).
                (None, Some(domain)) => {
                    let session = crate::aws::provisioning::role_session_name(user.username.as_str());
                    let profile = outputs.get("UserProfileName").cloned().unwrap_or_else(|| studio_profile_name(user.username.as_str()));
                    (self.presigner.studio_url(&team.role(), &session, domain, &profile).await, ConnectionKind::SagemakerStudio)
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
            self.sessions.forward_port(&team.role(), &session_name, &instance_id, remote_port, local_port).await.map_err(|error| {
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
