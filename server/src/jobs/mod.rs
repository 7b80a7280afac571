//! A PostgreSQL job queue (DESIGN.md, "Where things run"). Jobs are rows; a worker claims the
//! oldest due one with `FOR UPDATE SKIP LOCKED` and keeps the row locked, in an open
//! transaction, while it runs. So any number of workers can run side by side, each job runs
//! once at a time, and a worker that dies mid-job rolls its claim back for another to take.
//! Long waits (polling AWS) are not held in a job: the job reschedules itself instead.

use sqlx::{PgExecutor, PgPool, Postgres, Transaction};
use std::time::Duration;

// The kinds of job the worker runs, and the jobs services queue: here, below both, so that
// services enqueue through the queue and the worker calls services, with no arrow back.

/// Carries a workspace through a transitional state (provisioning, stopping, starting,
/// terminating) to the next stable one.
pub const WORKSPACE_JOB: &str = "workspace";
/// Syncs every team's costs from Cost Explorer, then reschedules itself.
pub const COST_SYNC_JOB: &str = "cost-sync";
/// Stops idle workspaces (`services::idle`), raises health alarms (`services::health`), then
/// reschedules itself.
pub const IDLE_CHECK_JOB: &str = "idle-check";
/// Compares live workspaces with AWS (`services::reconcile`), then reschedules itself.
pub const RECONCILE_JOB: &str = "reconcile";
/// Checks each team's forecast against its budget's thresholds.
pub const BUDGET_CHECK_JOB: &str = "budget-check";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: serde_json::Value,
}

/// Adds a job. Pass the caller's transaction so the job commits with the change that needs it.
#[tracing::instrument(skip(db, job), fields(kind = job.kind))]
pub async fn enqueue(db: impl PgExecutor<'_>, job: &NewJob, delay: Duration) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO jobs (kind, payload, run_after) VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING id",
        job.kind,
        job.payload,
        delay.as_secs_f64(),
    )
    .fetch_one(db)
    .await
}

/// For a job that reschedules itself for ever and must exist once (a unique index on its
/// kind, see the migrations): adds it, or makes the queued one due now.
pub async fn ensure_one_due_now(db: impl PgExecutor<'_>, job: &NewJob) -> Result<(), sqlx::Error> {
    // A job running right now (locked) is left alone; the unique index stops a second one.
    sqlx::query!(
        "WITH due AS (UPDATE jobs SET run_after = LEAST(run_after, now()) \
                      WHERE id IN (SELECT id FROM jobs WHERE kind = $1 FOR UPDATE SKIP LOCKED) RETURNING id) \
         INSERT INTO jobs (kind, payload) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM due) ON CONFLICT DO NOTHING",
        job.kind,
        job.payload,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A job this worker holds. Finish it with `complete`, `retry_later` or `reschedule`;
/// dropping it unfinished rolls the claim back, as a crash would.
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    /// How many times it has been tried before this run.
    pub attempts: i32,
    tx: Transaction<'static, Postgres>,
}

/// Claims the oldest due job no other worker holds, if any.
pub async fn claim_next(db: &PgPool) -> Result<Option<ClaimedJob>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let row = sqlx::query!(
        "SELECT id, kind, payload, attempts FROM jobs WHERE run_after <= now() \
         ORDER BY run_after, id FOR UPDATE SKIP LOCKED LIMIT 1"
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    Ok(Some(ClaimedJob { id: row.id, kind: row.kind, payload: row.payload, attempts: row.attempts, tx }))
}

impl ClaimedJob {
    /// The claim's transaction: changes made here commit together with the job's outcome.
    pub fn transaction(&mut self) -> &mut Transaction<'static, Postgres> {
        &mut self.tx
    }

    /// Done: the job is deleted, with whatever else was written in its transaction.
    pub async fn complete(mut self) -> Result<(), sqlx::Error> {
        sqlx::query!("DELETE FROM jobs WHERE id = $1", self.id).execute(&mut *self.tx).await?;
        self.tx.commit().await
    }

    /// Failed for a reason worth another try (throttling, a 5xx): counts an attempt and waits.
    pub async fn retry_later(mut self, delay: Duration, error: &str) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "UPDATE jobs SET attempts = attempts + 1, last_error = $2, \
             run_after = now() + make_interval(secs => $3) WHERE id = $1",
            self.id,
            error,
            delay.as_secs_f64(),
        )
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await
    }

    /// Not done yet (e.g. AWS still provisioning), or done for now (a recurring job): run
    /// again after `delay` with a new payload. A step that got this far succeeded, so failed
    /// attempts start counting afresh.
    pub async fn reschedule(mut self, delay: Duration, payload: serde_json::Value) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "UPDATE jobs SET payload = $2, attempts = 0, last_error = NULL, run_after = now() + make_interval(secs => $3) WHERE id = $1",
            self.id,
            payload,
            delay.as_secs_f64(),
        )
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await
    }
}

/// Puts back a job whose run broke off (its claim rolled back): counts an attempt and waits,
/// so that one broken job cannot hold up the queue.
pub async fn defer(db: &PgPool, id: i64, delay: Duration, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE jobs SET attempts = attempts + 1, last_error = $2, run_after = now() + make_interval(secs => $3) WHERE id = $1",
        id,
        error,
        delay.as_secs_f64(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Exponential backoff with full jitter: a random wait up to `base * 2^attempt`, capped.
pub fn backoff(attempt: i32, base: Duration, cap: Duration) -> Duration {
    let exponent = attempt.clamp(0, 20) as u32;
    let ceiling = base.saturating_mul(2u32.saturating_pow(exponent)).min(cap);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    // Full jitter; subsecond nanos are random enough to spread retries apart.
    ceiling.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

pub fn budget_check_job() -> NewJob {
    NewJob { kind: BUDGET_CHECK_JOB, payload: serde_json::json!({}) }
}

/// The job for the workspace's current transition. `requested_at` tells one stop (or start)
/// request from the next, so each gets its own AWS idempotency token.
pub fn workspace_job(workspace_id: &str, requested_at: &str) -> NewJob {
    NewJob { kind: WORKSPACE_JOB, payload: serde_json::json!({ "workspace_id": workspace_id, "requested_at": requested_at }) }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

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
