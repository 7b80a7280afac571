//! `/admin/workspaces`: every workspace, with "Resync" (the reconcile, now) and "Force
//! terminate" (for a workspace AWS no longer knows, or that is stuck).

use super::database_error;
use super::reconcile::{ReconcileError, Reconciler};
use crate::repo::{audit, workspaces};
use app::domain::workspace::{AdminWorkspaceFilter, AdminWorkspacePage, WorkspaceEvent, WorkspaceState};
use app::domain::CurrentUser;
use app::error::AppError;
use app::services::{must_be_admin, AdminWorkspaceService};
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

    async fn team_of(&self, id: &str) -> Result<(String, String, WorkspaceState), AppError> {
        let found: Option<(String, String, String)> =
            sqlx::query_as("SELECT team_slug, name, state FROM workspaces WHERE id = $1").bind(id).fetch_optional(&self.db).await.map_err(database_error)?;
        let (team, name, state) = found.ok_or_else(|| AppError::NotFound("This workspace".into()))?;
        Ok((team, name, WorkspaceState::parse(&state).ok_or(AppError::Internal)?))
    }
}

#[async_trait::async_trait]
impl AdminWorkspaceService for AdminWorkspaces {
    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn workspaces(&self, admin: &CurrentUser, filter: AdminWorkspaceFilter, page: i64) -> Result<AdminWorkspacePage, AppError> {
        must_be_admin(admin)?;
        if let Some(state) = filter.state.as_deref().filter(|s| WorkspaceState::parse(s).is_none()) {
            return Err(AppError::invalid("state", format!("\"{state}\" is not a workspace state.")));
        }
        let page = page.max(1);
        let (rows, total) = workspaces::admin_page(&self.db, &filter, PER_PAGE, (page - 1).saturating_mul(PER_PAGE)).await.map_err(database_error)?;
        let type_labels = workspaces::type_labels(&self.db).await.map_err(database_error)?;
        Ok(AdminWorkspacePage { rows, total, page, per_page: PER_PAGE, type_labels })
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn resync(&self, admin: &CurrentUser, id: &str) -> Result<String, AppError> {
        must_be_admin(admin)?;
        let (team, name, _) = self.team_of(id).await?;
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
        let (team, name, state) = self.team_of(id).await?;
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
}
