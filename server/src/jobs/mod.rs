//! A PostgreSQL job queue (DESIGN.md, "Where things run"). Jobs are rows; a worker claims the
//! oldest due one with `FOR UPDATE SKIP LOCKED` and keeps the row locked, in an open
//! transaction, while it runs. So any number of workers can run side by side, each job runs
//! once at a time, and a worker that dies mid-job rolls its claim back for another to take.
//! Long waits (polling AWS) are not held in a job: the job reschedules itself instead.
//!
//! The kinds of job are one type, [`Job`], here below both the services that queue jobs and
//! the worker that runs them (which calls those services), with no arrow back.

use crate::repo::jobs as table;
use app::domain::notifications::Notice;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::{PgExecutor, PgPool, Postgres, Transaction};
use std::time::Duration;

/// A job: its kind is the `jobs.kind` column, its fields the `jobs.payload` JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "kebab-case")]
pub enum Job {
    /// Carries a workspace through a transitional state (provisioning, stopping, starting,
    /// updating, terminating) to the next stable one.
    Workspace(WorkspaceStep),
    /// Syncs every team's costs from Cost Explorer, then reschedules itself.
    CostSync {},
    /// Stops idle workspaces (`services::idle`), raises health alarms (`services::health`),
    /// then reschedules itself.
    IdleCheck {},
    /// Compares live workspaces with AWS (`services::reconcile`), then reschedules itself.
    Reconcile {},
    /// Checks each team's forecast against its budget's thresholds.
    BudgetCheck {},
    /// Posts one notice to one notification target.
    Notification { target_id: i64, notice: Notice },
    /// Sends one e-mail.
    Mail(QueuedMail),
    /// Reads an airlock request's scan results until they settle it (`services::studies::scan_step`).
    AirlockScan {
        request_id: i64,
        /// Looks so far, for the backoff between them.
        #[serde(default)]
        polls: i32,
    },
    /// Copies an approved airlock request's files where they go (`services::studies::transfer`).
    AirlockCopy { request_id: i64 },
}

/// Where a workspace's job is in its transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceStep {
    pub workspace_id: String,
    /// Tells one stop (or start) request from the next, so each gets its own AWS idempotency
    /// token.
    pub requested_at: String,
    /// The record of the action, once AWS has accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// How many times the record has been polled.
    #[serde(default)]
    pub polls: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl Job {
    /// The kind of [`Job::Notification`], for the statement that queues one per target.
    pub const NOTIFICATION: &'static str = "notification";
    /// The kind of [`Job::Mail`], for the statements that queue one per recipient.
    pub const MAIL: &'static str = "mail";

    /// The job for the workspace's current transition.
    pub fn workspace(workspace_id: &str, requested_at: &str) -> Job {
        Job::Workspace(WorkspaceStep {
            workspace_id: workspace_id.to_owned(),
            requested_at: requested_at.to_owned(),
            record_id: None,
            polls: 0,
        })
    }

    /// The kind and payload columns.
    pub fn to_row(&self) -> Result<(String, Value), serde_json::Error> {
        let mut encoded = serde_json::to_value(self)?;
        let kind = encoded["kind"].as_str().unwrap_or_default().to_owned();
        Ok((kind, encoded["payload"].take()))
    }

    pub fn from_row(kind: &str, payload: Value) -> Result<Job, serde_json::Error> {
        serde_json::from_value(json!({ "kind": kind, "payload": payload }))
    }
}

fn encode(job: &Job) -> Result<(String, Value), sqlx::Error> {
    job.to_row().map_err(|error| sqlx::Error::Encode(error.into()))
}

/// Adds a job. Pass the caller's transaction so the job commits with the change that needs it.
pub async fn enqueue(db: impl PgExecutor<'_>, job: &Job, delay: Duration) -> Result<i64, sqlx::Error> {
    let (kind, payload) = encode(job)?;
    table::insert(db, &kind, &payload, delay).await
}

/// For a job that reschedules itself for ever and must exist once (a unique index on its
/// kind, see the migrations): adds it, or makes the queued one due now.
pub async fn ensure_one_due_now(db: impl PgExecutor<'_>, job: &Job) -> Result<(), sqlx::Error> {
    let (kind, payload) = encode(job)?;
    table::ensure_one_due_now(db, &kind, &payload).await
}

/// A job this worker holds. Finish it with `complete`, `retry_later` or `reschedule`;
/// dropping it unfinished rolls the claim back, as a crash would.
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    /// Its fields, as stored; [`ClaimedJob::job`] reads them as their kind's.
    pub payload: Value,
    /// How many times it has been tried before this run.
    pub attempts: i32,
    tx: Transaction<'static, Postgres>,
}

/// Claims the oldest due job no other worker holds, if any.
pub async fn claim_next(db: &PgPool) -> Result<Option<ClaimedJob>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let Some(row) = table::lock_next_due(&mut tx).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    Ok(Some(ClaimedJob { id: row.id, kind: row.kind, payload: row.payload, attempts: row.attempts, tx }))
}

impl ClaimedJob {
    /// The job, read from its kind and payload; an error for a kind or payload this version
    /// does not know.
    pub fn job(&self) -> Result<Job, serde_json::Error> {
        Job::from_row(&self.kind, self.payload.clone())
    }

    /// The claim's transaction: changes made here commit together with the job's outcome.
    pub fn transaction(&mut self) -> &mut Transaction<'static, Postgres> {
        &mut self.tx
    }

    /// Done: the job is deleted, with whatever else was written in its transaction.
    pub async fn complete(mut self) -> Result<(), sqlx::Error> {
        table::delete(&mut *self.tx, self.id).await?;
        self.tx.commit().await
    }

    /// Failed for a reason worth another try (throttling, a 5xx): counts an attempt and waits.
    pub async fn retry_later(mut self, delay: Duration, error: &str) -> Result<(), sqlx::Error> {
        table::put_off(&mut *self.tx, self.id, delay, error).await?;
        self.tx.commit().await
    }

    /// Done for now (a recurring job): runs again, as it is, after `delay`.
    pub async fn reschedule(mut self, delay: Duration) -> Result<(), sqlx::Error> {
        table::reschedule(&mut *self.tx, self.id, delay, None).await?;
        self.tx.commit().await
    }

    /// Not done yet (e.g. AWS still provisioning): runs again after `delay` as `next`. A step
    /// that got this far succeeded, so failed attempts start counting afresh.
    pub async fn continue_as(mut self, next: &Job, delay: Duration) -> Result<(), sqlx::Error> {
        let (_, payload) = encode(next)?;
        table::reschedule(&mut *self.tx, self.id, delay, Some(&payload)).await?;
        self.tx.commit().await
    }
}

/// Puts back a job whose run broke off (its claim rolled back): counts an attempt and waits,
/// so that one broken job cannot hold up the queue.
pub async fn defer(db: &PgPool, id: i64, delay: Duration, error: &str) -> Result<(), sqlx::Error> {
    table::put_off(db, id, delay, error).await
}

/// Exponential backoff with full jitter: a random wait up to `base * 2^attempt`, capped.
pub fn backoff(attempt: i32, base: Duration, cap: Duration) -> Duration {
    let exponent = attempt.clamp(0, 20) as u32;
    let ceiling = base.saturating_mul(2u32.saturating_pow(exponent)).min(cap);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    // Full jitter; subsecond nanos are random enough to spread retries apart.
    ceiling.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::{Job, QueuedMail, backoff};
    use app::domain::notifications::{Notice, NotificationEvent};
    use std::time::Duration;

    #[test]
    fn every_kind_reads_back_from_its_row() {
        let notice = Notice { event: NotificationEvent::CatalogApproved, team: None, title: "t".into(), text: "x".into() };
        let mail = QueuedMail { to: "a@example.org".into(), subject: "s".into(), text: "t".into() };
        for (job, kind) in [
            (Job::workspace("w-1", "launch"), "workspace"),
            (Job::CostSync {}, "cost-sync"),
            (Job::IdleCheck {}, "idle-check"),
            (Job::Reconcile {}, "reconcile"),
            (Job::BudgetCheck {}, "budget-check"),
            (Job::Notification { target_id: 7, notice }, Job::NOTIFICATION),
            (Job::Mail(mail), Job::MAIL),
        ] {
            let (stored_kind, payload) = job.to_row().expect("encodes");
            assert_eq!(stored_kind, kind, "{job:?}");
            assert_eq!(Job::from_row(&stored_kind, payload).expect("decodes"), job);
        }
    }

    #[test]
    fn the_recurring_jobs_read_rows_queued_before_they_were_typed() {
        assert_eq!(Job::from_row("cost-sync", serde_json::json!({})).expect("decodes"), Job::CostSync {});
        assert!(Job::from_row("no-such-kind", serde_json::json!({})).is_err());
    }

    #[test]
    fn backoff_grows_but_never_passes_the_cap() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(5);
        for attempt in 0..30 {
            let wait = backoff(attempt, base, cap);
            assert!(wait <= cap, "attempt {attempt}: {wait:?}");
            assert!(wait <= base * 2u32.pow(attempt.min(20) as u32), "attempt {attempt}: {wait:?}");
        }
    }
}
