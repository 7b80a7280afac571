//! The airlock's requests, their files with each scan result, and their reviewers' decisions.

use super::dates;
use app::domain::airlock::{AirlockEvent, AirlockFile, AirlockSummary, Direction, RequestStatus, Review, ScanResult};
use sqlx::PgExecutor;

#[derive(Clone, Debug)]
pub struct RequestRow {
    pub id: i64,
    pub direction: Direction,
    pub study_id: i64,
    /// The team it was asked from.
    pub team_slug: Option<String>,
    pub requester: String,
    pub reason: String,
    pub status: RequestStatus,
    pub status_note: Option<String>,
    pub reviewers_needed: i16,
    pub created_at: String,
    /// Seconds since its status last changed.
    pub status_age_seconds: i64,
    /// Names its inbox and quarantine folders.
    pub folder: String,
}

pub struct NewRequest<'a> {
    pub direction: Direction,
    pub study_id: i64,
    pub team: &'a str,
    pub requester: &'a str,
    pub reason: &'a str,
    pub status: RequestStatus,
}

fn direction(raw: &str) -> Result<Direction, sqlx::Error> {
    Direction::parse(raw).ok_or_else(|| sqlx::Error::Decode(format!("unknown airlock direction {raw}").into()))
}

fn status(raw: &str) -> Result<RequestStatus, sqlx::Error> {
    RequestStatus::parse(raw).ok_or_else(|| sqlx::Error::Decode(format!("unknown airlock status {raw}").into()))
}

/// A new request; it needs as many reviewers as the study's team asks, or the team it is asked
/// from, whichever asks more (an organisation study has no team of its own). Its id and the
/// name of its folders.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, new: &NewRequest<'_>) -> Result<(i64, String), sqlx::Error> {
    let row = sqlx::query!(
        r#"INSERT INTO airlock_requests (direction, study_id, team_slug, requester, reason, status, reviewers_needed)
           SELECT $1, s.id, $3, $4, $5, $6,
                  GREATEST(coalesce(owner.reviewers, 1), coalesce(asking.reviewers, 1))
           FROM studies s LEFT JOIN teams owner ON owner.slug = s.team_slug LEFT JOIN teams asking ON asking.slug = $3
           WHERE s.id = $2
           RETURNING id, folder::text AS "folder!""#,
        new.direction.as_str(),
        new.study_id,
        new.team,
        new.requester,
        new.reason,
        new.status.as_str(),
    )
    .fetch_one(db)
    .await?;
    Ok((row.id, row.folder))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_files(db: impl PgExecutor<'_>, id: i64, files: &[(String, i64)]) -> Result<(), sqlx::Error> {
    let (paths, sizes): (Vec<String>, Vec<i64>) = files.iter().cloned().unzip();
    sqlx::query!(
        "INSERT INTO airlock_files (request_id, path, size) SELECT $1, * FROM unnest($2::text[], $3::bigint[])",
        id,
        &paths[..],
        &sizes[..],
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<RequestRow>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, direction, study_id, team_slug, requester, reason, status, status_note, reviewers_needed, created_at, folder::text AS "folder!",
                  extract(epoch FROM now() - status_at)::bigint AS "status_age_seconds!"
           FROM airlock_requests WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await?;
    row.map(|row| {
        Ok(RequestRow {
            id: row.id,
            direction: direction(&row.direction)?,
            study_id: row.study_id,
            team_slug: row.team_slug,
            requester: row.requester,
            reason: row.reason,
            status: status(&row.status)?,
            status_note: row.status_note,
            reviewers_needed: row.reviewers_needed,
            created_at: dates::minute_utc(row.created_at),
            status_age_seconds: row.status_age_seconds,
            folder: row.folder,
        })
    })
    .transpose()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn files(db: impl PgExecutor<'_>, id: i64) -> Result<Vec<AirlockFile>, sqlx::Error> {
    let rows = sqlx::query!("SELECT path, size, scan FROM airlock_files WHERE request_id = $1 ORDER BY path", id).fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| AirlockFile { path: row.path, size: row.size, scan: row.scan.as_deref().and_then(ScanResult::parse) })
        .collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn reviews(db: impl PgExecutor<'_>, id: i64) -> Result<Vec<Review>, sqlx::Error> {
    let rows =
        sqlx::query!("SELECT reviewer, approve, note, decided_at FROM airlock_reviews WHERE request_id = $1 ORDER BY decided_at", id)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|row| Review { reviewer: row.reviewer, approve: row.approve, note: row.note, at: dates::minute_utc(row.decided_at) })
        .collect())
}

/// A request's history: its audit rows, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn history(db: impl PgExecutor<'_>, id: i64) -> Result<Vec<AirlockEvent>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT at, actor, action, detail FROM audit_log WHERE object_type = 'airlock_request' AND object_id = $1 ORDER BY id",
        id.to_string(),
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| AirlockEvent { at: dates::second_utc(row.at), actor: row.actor, action: row.action, detail: row.detail })
        .collect())
}

/// Moves a request on, if it is still in one of `from` (another step may have moved it):
/// whether it moved.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn move_to(
    db: impl PgExecutor<'_>,
    id: i64,
    from: &[RequestStatus],
    to: RequestStatus,
    note: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let from: Vec<String> = from.iter().map(|s| s.as_str().to_owned()).collect();
    let moved = sqlx::query!(
        "UPDATE airlock_requests SET status = $3, status_note = $4, status_at = now() WHERE id = $1 AND status = ANY($2)",
        id,
        &from[..],
        to.as_str(),
        note,
    )
    .execute(db)
    .await?;
    Ok(moved.rows_affected() == 1)
}

/// Records one reviewer's decision; false if they had decided already.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_review(db: impl PgExecutor<'_>, id: i64, reviewer: &str, approve: bool, note: &str) -> Result<bool, sqlx::Error> {
    let added = sqlx::query!(
        "INSERT INTO airlock_reviews (request_id, reviewer, approve, note) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        id,
        reviewer,
        approve,
        note,
    )
    .execute(db)
    .await?;
    Ok(added.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_scan(db: impl PgExecutor<'_>, id: i64, path: &str, result: ScanResult) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE airlock_files SET scan = $3 WHERE request_id = $1 AND path = $2", id, path, result.as_str()).execute(db).await?;
    Ok(())
}

/// A request as lists show it, with its study's team (who reviews it).
pub struct Listed {
    pub summary: AirlockSummary,
    /// None: an organisation study, which the portal's admins review.
    pub study_team: Option<String>,
    pub reviewed_by_me: bool,
}

/// Requests as lists show them, newest first: the team's, or a study's. `me` is the caller:
/// whether they reviewed each already.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn summaries(db: impl PgExecutor<'_>, team: Option<&str>, study_id: Option<i64>, me: &str) -> Result<Vec<Listed>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT r.id, r.direction, r.study_id, s.name AS study_name, s.team_slug AS study_team, r.requester, r.status, r.created_at,
                  coalesce((SELECT array_agg(f.path ORDER BY f.path) FROM airlock_files f WHERE f.request_id = r.id), '{}') AS "files!",
                  EXISTS (SELECT 1 FROM airlock_reviews v WHERE v.request_id = r.id AND v.reviewer = $3) AS "reviewed_by_me!"
           FROM airlock_requests r JOIN studies s ON s.id = r.study_id
           WHERE ($1::text IS NULL OR r.team_slug = $1) AND ($2::bigint IS NULL OR r.study_id = $2)
           ORDER BY r.id DESC LIMIT 200"#,
        team,
        study_id,
        me,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Listed {
                summary: AirlockSummary {
                    id: row.id,
                    direction: direction(&row.direction)?,
                    study_id: row.study_id,
                    study_name: row.study_name,
                    requester: row.requester,
                    files: row.files,
                    status: status(&row.status)?,
                    created_at: dates::minute_utc(row.created_at),
                    awaits_you: false,
                },
                study_team: row.study_team,
                reviewed_by_me: row.reviewed_by_me,
            })
        })
        .collect()
}

/// Locks the request's row for the transaction (decisions on it wait their turn): its status.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock(db: impl PgExecutor<'_>, id: i64) -> Result<Option<RequestStatus>, sqlx::Error> {
    let row = sqlx::query_scalar!("SELECT status FROM airlock_requests WHERE id = $1 FOR UPDATE", id).fetch_optional(db).await?;
    row.map(|raw| status(&raw)).transpose()
}
