//! `/admin/workspaces`: every workspace, with "Resync" (the reconcile, now) and "Force
//! terminate" (for a workspace AWS no longer knows, or that is stuck).

use super::database_error;
use super::reconcile::{ReconcileError, Reconciler};
use crate::repo::{audit, workspaces};
use app::caller::must_be_admin;
use app::domain::CurrentUser;
use app::domain::workspace::{AdminWorkspaceFilter, AdminWorkspacePage, WorkspaceEvent, WorkspaceState};
use app::error::AppError;
use app::features::admin_workspaces::AdminWorkspaceService;
use sqlx::PgPool;

const PER_PAGE: i64 = 50;

pub struct AdminWorkspaces {
    db: PgPool,
    reconciler: Reconciler,
}

impl AdminWorkspaces {
    pub fn new(db: PgPool, reconciler: Reconciler) -> Self {
        AdminWorkspaces { db, reconciler }
    }

    /// (team, name, state, owner)
    #[tracing::instrument(skip_all)]
    async fn team_of(&self, id: &str) -> Result<(String, String, WorkspaceState, String), AppError> {
        let found = workspaces::team_name_state_owner(&self.db, id).await.map_err(database_error)?;
        let (team, name, state, owner) = found.ok_or_else(|| AppError::NotFound("This workspace".into()))?;
        Ok((team, name, WorkspaceState::parse(&state).ok_or(AppError::Internal)?, owner))
    }
}

#[async_trait::async_trait]
impl AdminWorkspaceService for AdminWorkspaces {
    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn workspaces(&self, admin: &CurrentUser, filter: AdminWorkspaceFilter, page: i64) -> Result<AdminWorkspacePage, AppError> {
        must_be_admin(admin)?;
        let filter = filter.normalised();
        if let Some(state) = filter.state.as_deref().filter(|s| WorkspaceState::parse(s).is_none()) {
            return Err(AppError::invalid("state", format!("\"{state}\" is not a workspace state.")));
        }
        let page = page.max(1);
        let (rows, total) =
            workspaces::admin_page(&self.db, &filter, PER_PAGE, (page - 1).saturating_mul(PER_PAGE)).await.map_err(database_error)?;
        let type_labels = workspaces::type_labels(&self.db).await.map_err(database_error)?;
        Ok(AdminWorkspacePage { rows, total, page, per_page: PER_PAGE, type_labels })
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn resync(&self, admin: &CurrentUser, id: &str) -> Result<String, AppError> {
        must_be_admin(admin)?;
        let (team, name, ..) = self.team_of(id).await?;
        let finding = self.reconciler.reconcile(id).await.map_err(|error| match error {
            ReconcileError::Unavailable(cause) => {
                tracing::warn!(error = ?cause, "AWS is unavailable for a resync");
                AppError::Unavailable("AWS".into())
            }
            ReconcileError::Database(e) => database_error(e),
        })?;
        let said = finding.describe();
        let detail = format!("{name}: {said}");
        audit::record(&self.db, &audit::Entry::by(admin, "workspace.resync").object("workspace", id).team(&team).detail(&detail))
            .await
            .map_err(database_error)?;
        Ok(said)
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn force_terminate(&self, admin: &CurrentUser, id: &str) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let (team, name, state, _) = self.team_of(id).await?;
        if state == WorkspaceState::Terminated {
            return Err(AppError::Conflict("The workspace is terminated already.".into()));
        }
        let message = format!("Force terminated by {} (Atrium did not ask AWS)", admin.username);
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let changes = workspaces::Changes { message: Some(&message), ..workspaces::Changes::default() };
        match workspaces::transition(&mut tx, id, state, WorkspaceEvent::ForceTerminated, changes).await {
            Ok(_) => {}
            Err(workspaces::TransitionError::Database(e)) => return Err(database_error(e)),
            Err(_) => return Err(AppError::Conflict("The workspace changed just now; look again and retry.".into())),
        }
        workspaces::set_drift(&mut *tx, id, WorkspaceState::Terminated, None).await.map_err(database_error)?;
        let detail = format!("{name} (was {state})");
        audit::record(&mut *tx, &audit::Entry::by(admin, "workspace.force_terminate").object("workspace", id).team(&team).detail(&detail))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn transfer(&self, admin: &CurrentUser, id: &str, to: &str) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let (team, name, state, owner) = self.team_of(id).await?;
        if matches!(state, WorkspaceState::Terminated | WorkspaceState::Failed) {
            return Err(AppError::Conflict(format!("The workspace is {state}: there is nothing to hand over.")));
        }
        let to = to.trim();
        if to == owner {
            return Err(AppError::invalid("to", format!("{to} owns it already.")));
        }
        let members = crate::repo::teams::team_members(&self.db, &team).await.map_err(database_error)?;
        if !members.iter().any(|m| m == to) {
            return Err(AppError::invalid("to", format!("\"{to}\" is not a member of {team}: a workspace stays on its team.")));
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let moved = workspaces::transfer(&mut *tx, id, to).await.map_err(|error| match &error {
            sqlx::Error::Database(e) if e.code().as_deref() == Some("23505") => {
                AppError::Conflict(format!("{to} already has a workspace named \"{name}\" on {team}."))
            }
            _ => database_error(error),
        })?;
        if !moved {
            return Err(AppError::Conflict("The workspace changed just now; look again and retry.".into()));
        }
        let detail = format!("{name}: from {owner} to {to} (its costs stay with it)");
        audit::record(&mut *tx, &audit::Entry::by(admin, "workspace.transfer").object("workspace", id).team(&team).detail(&detail))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)
    }
}
