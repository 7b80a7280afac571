//! The `jobs` table: the queue's statements (`crate::jobs` gives them their types), the
//! fan-outs that queue one job per recipient in a single statement, and the queue's gauges.
//! Kinds and payloads arrive encoded (by the queue's `Job::to_row`), so this module does not
//! import the queue that imports it.

use serde_json::Value;
use sqlx::{PgExecutor, Postgres, Transaction};
use std::time::Duration;

#[tracing::instrument(skip(db, payload))]
pub async fn insert(db: impl PgExecutor<'_>, kind: &str, payload: &Value, delay: Duration) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO jobs (kind, payload, run_after) VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING id",
        kind,
        payload,
        delay.as_secs_f64(),
    )
    .fetch_one(db)
    .await
}

/// Adds the job of this kind, or makes the queued one due now; a job running right now (locked)
/// is left alone, and the unique index on recurring kinds stops a second one.
#[tracing::instrument(skip(db, payload))]
pub async fn ensure_one_due_now(db: impl PgExecutor<'_>, kind: &str, payload: &Value) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH due AS (UPDATE jobs SET run_after = LEAST(run_after, now()) \
                      WHERE id IN (SELECT id FROM jobs WHERE kind = $1 FOR UPDATE SKIP LOCKED) RETURNING id) \
         INSERT INTO jobs (kind, payload) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM due) ON CONFLICT DO NOTHING",
        kind,
        payload,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub struct DueJob {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub attempts: i32,
}

/// Locks the oldest due job no other transaction holds, in `tx`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_next_due(tx: &mut Transaction<'static, Postgres>) -> Result<Option<DueJob>, sqlx::Error> {
    sqlx::query_as!(
        DueJob,
        "SELECT id, kind, payload, attempts FROM jobs WHERE run_after <= now() \
         ORDER BY run_after, id FOR UPDATE SKIP LOCKED LIMIT 1"
    )
    .fetch_optional(&mut **tx)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM jobs WHERE id = $1", id).execute(db).await?;
    Ok(())
}

/// Counts a failed attempt and puts the job off by `delay`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn put_off(db: impl PgExecutor<'_>, id: i64, delay: Duration, error: &str) -> Result<(), sqlx::Error> {
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

/// Runs the job again after `delay`, with `payload` when given; not a failure, so the
/// attempts start afresh.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reschedule(db: impl PgExecutor<'_>, id: i64, delay: Duration, payload: Option<&Value>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE jobs SET payload = COALESCE($2, payload), attempts = 0, last_error = NULL, \
         run_after = now() + make_interval(secs => $3) WHERE id = $1",
        id,
        payload,
        delay.as_secs_f64(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Queues `notice` (its event and team given apart, to match targets by) as a job of `kind`
/// for every active target that wants the event: the team's targets and the global ones; a
/// portal-wide notice (no team) for every target that wants it. How many were queued.
#[tracing::instrument(skip(db, notice))]
pub async fn queue_for_targets(
    db: impl PgExecutor<'_>,
    kind: &str,
    notice: &Value,
    event: &str,
    team: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let queued = sqlx::query!(
        "INSERT INTO jobs (kind, payload) \
         SELECT $1, jsonb_build_object('target_id', id, 'notice', $2::jsonb) FROM notification_targets \
         WHERE status = 'active' AND $3 = ANY(events) AND ($4::text IS NULL OR team_slug IS NULL OR team_slug = $4)",
        kind,
        notice,
        event,
        team,
    )
    .execute(db)
    .await?;
    Ok(queued.rows_affected())
}

/// Queues a mail job of `kind` to `username`, if they have an address, are not disabled and
/// want mail of `mail_kind` (a `users` column without `mail_`); how many were queued (0 or 1).
#[tracing::instrument(skip(db, subject, text))]
pub async fn queue_mail_to_user(
    db: impl PgExecutor<'_>,
    kind: &str,
    username: &str,
    mail_kind: &str,
    subject: &str,
    text: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "INSERT INTO jobs (kind, payload) \
         SELECT $1, jsonb_build_object('to', email, 'subject', $3::text, 'text', $4::text) FROM users \
         WHERE username = $2 AND email IS NOT NULL AND disabled_at IS NULL \
         AND CASE $5::text WHEN 'workspace' THEN mail_workspace WHEN 'health' THEN mail_health WHEN 'budget' THEN mail_budget \
                   WHEN 'airlock' THEN true END",
        kind,
        username,
        subject,
        text,
        mail_kind,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Queues a mail job of `kind` to the team's admins, or to the portal's admins for a team
/// without one, who want budget mail; how many were queued.
#[tracing::instrument(skip(db, subject, text))]
pub async fn queue_mail_to_team_admins(
    db: impl PgExecutor<'_>,
    kind: &str,
    team: &str,
    subject: &str,
    text: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "WITH team_admins AS ( \
           SELECT u.* FROM users u JOIN team_memberships m ON m.username = u.username WHERE m.team_slug = $2 AND m.team_admin), \
         recipients AS ( \
           SELECT * FROM team_admins \
           UNION ALL SELECT * FROM users WHERE 'admin' = ANY(roles) AND NOT EXISTS (SELECT 1 FROM team_admins)) \
         INSERT INTO jobs (kind, payload) \
         SELECT $1, jsonb_build_object('to', email, 'subject', $3::text, 'text', $4::text) FROM recipients \
         WHERE email IS NOT NULL AND disabled_at IS NULL AND mail_budget",
        kind,
        team,
        subject,
        text,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Queues a mail job of `kind` to those who review a request: the team's admins (`team`:
/// the study's team, none for an organisation study) and the portal's admins, but not
/// `except` (its requester); how many were queued.
#[tracing::instrument(skip(db, subject, text))]
pub async fn queue_mail_to_reviewers(
    db: impl PgExecutor<'_>,
    kind: &str,
    team: Option<&str>,
    except: &str,
    subject: &str,
    text: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "INSERT INTO jobs (kind, payload) \
         SELECT $1, jsonb_build_object('to', email, 'subject', $4::text, 'text', $5::text) FROM users u \
         WHERE email IS NOT NULL AND disabled_at IS NULL AND username <> $3 \
         AND ('admin' = ANY(roles) OR EXISTS ( \
             SELECT 1 FROM team_memberships m WHERE m.username = u.username AND m.team_slug = $2 AND m.team_admin))",
        kind,
        team,
        except,
        subject,
        text,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Jobs of one kind: queued (due or not, unlocked), running (locked by a worker) and failed
/// (tried at least once).
pub struct KindCounts {
    pub kind: String,
    pub queued: i64,
    pub running: i64,
    pub failed: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn counts_by_kind(db: impl PgExecutor<'_>) -> Result<Vec<KindCounts>, sqlx::Error> {
    sqlx::query_as!(
        KindCounts,
        r#"WITH unlocked AS (SELECT id FROM jobs FOR UPDATE SKIP LOCKED)
           SELECT j.kind, count(*) FILTER (WHERE u.id IS NULL) AS "running!", count(u.id) AS "queued!",
             count(*) FILTER (WHERE j.attempts > 0) AS "failed!"
           FROM jobs j LEFT JOIN unlocked u ON u.id = j.id GROUP BY j.kind"#
    )
    .fetch_all(db)
    .await
}

/// How long the oldest due job has waited, in seconds; None when none is due.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn oldest_due_age_seconds(db: impl PgExecutor<'_>) -> Result<Option<f64>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT extract(epoch FROM now() - min(run_after))::float8 AS "age?" FROM jobs WHERE run_after <= now()"#)
        .fetch_one(db)
        .await
}
