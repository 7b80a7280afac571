//! The reconcile: compares each live workspace with what AWS says and records the drift.
//! Safe drift is applied (an instance stopped in the console makes the workspace `stopped`);
//! the rest is flagged for an admin ("terminated outside Atrium", "stuck in provisioning").
//! Runs on a schedule (the worker) and on demand ("Resync" on `/admin/workspaces`).

use crate::aws::observe::{Observed, Observer};
use crate::aws::provisioning::{ProvisionError, role_session_name};
use crate::repo::workspaces::{self, Changes, TransitionError};
use app::domain::workspace::{WorkspaceEvent, WorkspaceState};
use sqlx::PgPool;
use std::sync::Arc;

/// How long a launch may take before it is flagged as stuck.
pub const STUCK_AFTER_MINUTES: i64 = 40;
/// Workspaces looked at per scheduled run (the least recently checked first).
const PER_RUN: i64 = 200;

/// What the reconcile found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// AWS agrees (or a job owns the workspace right now).
    InSync,
    /// Safe drift, applied: the message of the change.
    Applied(String),
    /// Drift left for an admin.
    Flagged(String),
    /// Ended: nothing to compare.
    Ended,
}

impl Finding {
    pub fn describe(&self) -> String {
        match self {
            Finding::InSync => "AWS agrees with Atrium.".into(),
            Finding::Applied(message) | Finding::Flagged(message) => format!("{message}."),
            Finding::Ended => "The workspace has ended: nothing to compare.".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("AWS could not be asked: {0:#}")]
    Unavailable(anyhow::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct Reconciler {
    db: PgPool,
    observer: Arc<dyn Observer>,
    /// Days before a leaver's running workspaces are stopped.
    leaver_grace_days: i64,
}

impl Reconciler {
    pub fn new(db: PgPool, observer: Arc<dyn Observer>) -> Self {
        Reconciler { db, observer, leaver_grace_days: crate::config::DEFAULT_LEAVER_GRACE_DAYS }
    }

    pub fn with_leaver_grace_days(mut self, days: i64) -> Self {
        self.leaver_grace_days = days;
        self
    }

    /// People who left: their live workspaces are marked (an event says what will happen),
    /// and stopped once the grace period is over, unless an admin transferred them. The
    /// stopped ones' ids.
    #[tracing::instrument(skip_all)]
    pub async fn handle_leavers(&self) -> Result<Vec<String>, sqlx::Error> {
        let mut tx = self.db.begin().await?;
        let days = self.leaver_grace_days;
        for left in workspaces::mark_leavers(&mut tx).await? {
            let (owner, team) = (&left.owner, &left.team_slug);
            let message = format!("Its owner {owner} left {team}: it is stopped in {days} days unless an admin transfers it");
            workspaces::add_event(&mut *tx, &left.id, &left.state, &message).await?;
            tracing::info!(workspace_id = %left.id, name = %left.name, %owner, "A workspace's owner left its team");
        }
        tx.commit().await?;
        let mut stopped = Vec::new();
        for (id, team) in workspaces::leavers_to_stop(&self.db, days).await? {
            let mut tx = self.db.begin().await?;
            let message = format!("stopped: its owner left the team more than {days} days ago");
            match crate::services::workspaces::begin_action(
                &mut tx,
                &id,
                WorkspaceState::Available,
                app::domain::workspace::WorkspaceAction::Stop,
                &message,
            )
            .await
            {
                Ok(()) => {}
                Err(TransitionError::Database(error)) => return Err(error),
                Err(_) => continue,
            }
            let entry = crate::repo::audit::Entry::anonymous("atrium", "workspace.stop", None)
                .object("workspace", &id)
                .team(&team)
                .detail("its owner left the team");
            crate::repo::audit::record(&mut *tx, &entry).await?;
            tx.commit().await?;
            stopped.push(id);
        }
        Ok(stopped)
    }

    /// Compares one workspace with AWS.
    #[tracing::instrument(skip(self))]
    pub async fn reconcile(&self, id: &str) -> Result<Finding, ReconcileError> {
        let Some(seen) = workspaces::reconcile_context(&self.db, id).await? else { return Ok(Finding::Ended) };
        let finding = match seen.state {
            WorkspaceState::Terminated | WorkspaceState::Failed => return Ok(Finding::Ended),
            WorkspaceState::Requested | WorkspaceState::Provisioning if seen.age_minutes >= STUCK_AFTER_MINUTES => {
                Finding::Flagged(format!("Stuck in {} for {} min", seen.state, seen.age_minutes))
            }
            // A job owns it and will move it on.
            state if state.is_transitional() => Finding::InSync,
            state => {
                let session = role_session_name(&seen.owner);
                let observed = match self.observer.observe(&seen.role, &session, &seen.outputs).await {
                    Ok(observed) => observed,
                    Err(ProvisionError::Retryable(cause)) => return Err(ReconcileError::Unavailable(cause)),
                    Err(ProvisionError::Rejected(message)) => Observed::Refused(message),
                };
                match (state, observed) {
                    (WorkspaceState::Available, Observed::Stopped) => {
                        Finding::Applied("AWS says stopped: it was stopped outside Atrium".into())
                    }
                    (WorkspaceState::Stopped, Observed::Running) => {
                        Finding::Applied("AWS says running: it was started outside Atrium".into())
                    }
                    (_, Observed::Gone) => Finding::Flagged("Terminated outside Atrium: AWS no longer has its instance".into()),
                    (_, Observed::Refused(message)) => Finding::Flagged(format!("AWS refused the check: {message}")),
                    _ => Finding::InSync,
                }
            }
        };
        match &finding {
            Finding::Applied(message) => {
                let event =
                    if seen.state == WorkspaceState::Available { WorkspaceEvent::ObservedStopped } else { WorkspaceEvent::ObservedRunning };
                let mut tx = self.db.begin().await?;
                match workspaces::transition(&mut tx, id, seen.state, event, Changes { message: Some(message), ..Changes::default() }).await
                {
                    Ok(_) => {}
                    // Moved meanwhile (its owner acted): the next run looks again.
                    Err(TransitionError::Moved(_) | TransitionError::Illegal(_)) => return Ok(Finding::InSync),
                    Err(TransitionError::Database(error)) => return Err(error.into()),
                }
                workspaces::set_drift(&mut *tx, id, seen.state_after(event), None).await?;
                tx.commit().await?;
            }
            Finding::Flagged(message) => workspaces::set_drift(&self.db, id, seen.state, Some(message)).await?,
            Finding::InSync => workspaces::set_drift(&self.db, id, seen.state, None).await?,
            Finding::Ended => {}
        }
        Ok(finding)
    }

    /// The scheduled run: the live workspaces checked longest ago. How many were looked at.
    #[tracing::instrument(skip_all)]
    pub async fn reconcile_due(&self) -> Result<usize, sqlx::Error> {
        let stopped = self.handle_leavers().await?;
        if !stopped.is_empty() {
            tracing::info!(?stopped, "Leavers' workspaces stopped");
        }
        let due = workspaces::due_for_reconcile(&self.db, PER_RUN).await?;
        for id in &due {
            match self.reconcile(id).await {
                Ok(finding) => tracing::debug!(workspace_id = %id, ?finding, "Reconciled"),
                Err(ReconcileError::Database(error)) => return Err(error),
                Err(error) => tracing::warn!(workspace_id = %id, %error, "Could not reconcile; next run"),
            }
        }
        Ok(due.len())
    }
}
