//! Launching (a launch checked against the catalog, the team and the caller's quota, and
//! recorded with its job) and beginning a stop, start or termination.

use super::*;

impl Workspaces {
    /// The configuration a launch names: given, or the one of the named profile.
    #[tracing::instrument(skip_all)]
    pub(super) async fn configuration_to_launch(
        &self,
        user: &CurrentUser,
        team: &TeamSlug,
        request: &LaunchRequest,
    ) -> Result<i64, AppError> {
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
    pub(super) async fn studies_to_mount(&self, team: &TeamSlug, mounts: &[StudyMount]) -> Result<Vec<(i64, Access)>, AppError> {
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
    pub(super) async fn parameter_values(
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
pub(crate) enum BudgetCheck {
    Fits,
    /// Over budget, but an admin chose to launch anyway: the reason for the audit log.
    Overridden(String),
    /// Over budget: the message for the user.
    Refused(String),
}

/// Checks `hourly_cents` more to the end of the month against the team's month, on the
/// caller's connection (a launch's transaction holds the team's budget lock).
#[tracing::instrument(skip_all)]
pub(crate) async fn check_budget(
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
pub(crate) fn check_launch_key(key: &str) -> Result<(), AppError> {
    let fine = (8..=200).contains(&key.len()) && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if fine { Ok(()) } else { Err(AppError::BadRequest("The launch form is out of date; reload the page and try again.".into())) }
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid(vec![FieldError { field: field.into(), message: message.into() }])
}

/// A launch whose caller, team, name, key and configuration have been checked.
pub(crate) struct Launch<'a> {
    pub(super) team: &'a teams::Team,
    pub(super) configuration: &'a Configuration,
    pub(super) name: &'a WorkspaceName,
    pub(super) key: &'a str,
    pub(super) parameter_values: BTreeMap<String, String>,
    pub(super) studies: &'a [(i64, Access)],
    pub(super) override_budget: bool,
    /// "Launch again": the workspace launched again.
    pub(super) again_from: Option<&'a str>,
}

/// The owner, while still on the team, or an admin: those who act on a workspace.
pub(crate) fn manages(user: &CurrentUser, view: &WorkspaceView) -> bool {
    (view.owner == user.username.as_str() && user.may_enter_team(&view.team)) || user.is_admin()
}

impl Workspaces {
    /// The workspace, for those who act on it (not those it is only shared with).
    #[tracing::instrument(skip_all)]
    pub(super) async fn managed(&self, user: &CurrentUser, id: &str) -> Result<WorkspaceView, AppError> {
        let view = self.workspace(user, id).await?;
        if manages(user, &view) { Ok(view) } else { Err(AppError::Forbidden) }
    }

    /// A connect is use (the idle check counts from here) and an audit row in the caller's name;
    /// `detail` says how, never with the URL or token (credentials while they last).
    #[tracing::instrument(skip_all)]
    pub(super) async fn record_connect(&self, user: &CurrentUser, view: &WorkspaceView, detail: &str) -> Result<(), AppError> {
        let mut tx = self.db.begin().await.map_err(database_error)?;
        workspaces::record_connect(&mut *tx, &view.id).await.map_err(database_error)?;
        let entry = audit::Entry::by(user, "workspace.connect").object("workspace", &view.id).team(view.team.as_str()).detail(detail);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)
    }

    /// Mounts, quota, budget, then the workspace and its provisioning job in one transaction.
    #[tracing::instrument(skip_all)]
    pub(super) async fn launch_checked(&self, user: &CurrentUser, launch: Launch<'_>) -> Result<String, AppError> {
        let Launch { team: team_row, configuration, name, key, mut parameter_values, studies, override_budget, again_from } = launch;
        let team = &team_row.slug;
        let owner = user.username.as_str();
        let configuration_id = configuration.id;
        // Only the studies checked here are mounted, and the home and drive are the launching
        // person's and the team's: never a value a configuration or profile set.
        parameter_values.retain(|key, _| !set_at_launch(key));
        let mounts = crate::services::studies::mounts_for_launch(&self.db, user, team, studies).await?;
        let specs = workspace_types::find(&self.db, configuration.workspace_type_id)
            .await
            .map_err(database_error)?
            .ok_or(AppError::Internal)?
            .parameters;
        let keys: Vec<&str> = specs.iter().map(|spec| spec.key.as_str()).collect();
        parameter_values.extend(self.homes.launch_parameters(user, team_row, &keys).await?);
        if !mounts.is_empty() {
            if !keys.contains(&STUDIES_PARAMETER) {
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
pub(crate) async fn queue_work(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, id: &str) -> Result<(), sqlx::Error> {
    let requested_at = workspaces::new_request_token(&mut **tx).await?;
    crate::jobs::enqueue(&mut **tx, &Job::workspace(id, &requested_at), Duration::ZERO).await?;
    Ok(())
}
