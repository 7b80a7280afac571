//! Studies, who may write them, the teams they are shared with, the workspaces that mount
//! them, and export (egress) requests.

use app::domain::studies::{Access, EgressEvent, EgressSummary, MountedStudy, StudyFacts, StudyScope};
use sqlx::{PgConnection, PgExecutor, Row};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyRow {
    pub id: i64,
    pub scope: StudyScope,
    pub team_slug: Option<String>,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub bucket: String,
    pub prefix: String,
    pub controlled: bool,
    pub writers: Vec<String>,
    pub teams: Vec<String>,
}

impl StudyRow {
    pub fn facts(&self) -> StudyFacts<'_> {
        StudyFacts { scope: self.scope, team: self.team_slug.as_deref(), owner: &self.owner, writers: &self.writers, teams: &self.teams }
    }

    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// Where a controlled study's results wait to be exported: beside the studies, in the
    /// same bucket, never inside any study's prefix (studies live under `studies/`).
    pub fn egress_prefix(&self) -> String {
        format!("egress/{}/", self.id)
    }
}

const SELECT: &str = "SELECT s.id, s.scope, s.team_slug, s.name, s.description, s.owner, s.bucket, s.prefix, s.controlled, \
    coalesce((SELECT array_agg(w.username ORDER BY w.username) FROM study_writers w WHERE w.study_id = s.id), '{}') AS writers, \
    coalesce((SELECT array_agg(t.team_slug ORDER BY t.team_slug) FROM study_teams t WHERE t.study_id = s.id), '{}') AS teams \
    FROM studies s";

fn study(row: &sqlx::postgres::PgRow) -> Result<StudyRow, sqlx::Error> {
    let scope: String = row.try_get("scope")?;
    Ok(StudyRow {
        id: row.try_get("id")?,
        scope: StudyScope::parse(&scope).ok_or_else(|| sqlx::Error::Decode(format!("unknown study scope {scope}").into()))?,
        team_slug: row.try_get("team_slug")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        owner: row.try_get("owner")?,
        bucket: row.try_get("bucket")?,
        prefix: row.try_get("prefix")?,
        controlled: row.try_get("controlled")?,
        writers: row.try_get("writers")?,
        teams: row.try_get("teams")?,
    })
}

/// The studies that could be seen from a team: its own, and every organisation study and
/// open data (the access rule then picks).
pub async fn seen_from_team(db: impl PgExecutor<'_>, team: &str) -> Result<Vec<StudyRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE s.team_slug = $1 OR s.team_slug IS NULL \
         ORDER BY array_position(ARRAY['team', 'my', 'organisation', 'open-data'], s.scope), lower(s.name)"
    ))
    .bind(team)
    .fetch_all(db)
    .await?;
    rows.iter().map(study).collect()
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<StudyRow>, sqlx::Error> {
    let row = sqlx::query(&format!("{SELECT} WHERE s.id = $1")).bind(id).fetch_optional(db).await?;
    row.as_ref().map(study).transpose()
}

pub struct NewStudyRow<'a> {
    pub scope: StudyScope,
    pub team_slug: Option<&'a str>,
    pub name: &'a str,
    pub description: &'a str,
    pub owner: &'a str,
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub controlled: bool,
    pub teams: &'a [String],
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("the prefix overlaps another study's")]
    Overlaps,
    #[error("the name is taken")]
    NameTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Inserts a study unless its prefix holds, or is held by, another study's in the bucket.
/// Holds the bucket's lock until the transaction ends, so two creations cannot both pass.
pub async fn insert(conn: &mut PgConnection, new: &NewStudyRow<'_>) -> Result<i64, InsertError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('study-bucket:' || $1))").bind(new.bucket).execute(&mut *conn).await?;
    let overlapping: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM studies WHERE bucket = $1 AND (starts_with($2, prefix) OR starts_with(prefix, $2)))",
    )
    .bind(new.bucket)
    .bind(new.prefix)
    .fetch_one(&mut *conn)
    .await?;
    if overlapping {
        return Err(InsertError::Overlaps);
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO studies (scope, team_slug, name, description, owner, bucket, prefix, controlled) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.scope.as_str())
    .bind(new.team_slug)
    .bind(new.name)
    .bind(new.description)
    .bind(new.owner)
    .bind(new.bucket)
    .bind(new.prefix)
    .bind(new.controlled)
    .fetch_one(&mut *conn)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.code().as_deref() == Some("23505") => InsertError::NameTaken,
        _ => InsertError::Database(error),
    })?;
    sqlx::query("INSERT INTO study_teams (study_id, team_slug) SELECT $1, unnest($2::text[])")
        .bind(id)
        .bind(new.teams)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

pub async fn set_writers(conn: &mut PgConnection, id: i64, writers: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM study_writers WHERE study_id = $1").bind(id).execute(&mut *conn).await?;
    sqlx::query("INSERT INTO study_writers (study_id, username) SELECT $1, unnest($2::text[])")
        .bind(id)
        .bind(writers)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn insert_mounts(conn: &mut PgConnection, workspace_id: &str, mounts: &[(i64, Access)]) -> Result<(), sqlx::Error> {
    let ids: Vec<i64> = mounts.iter().map(|(id, _)| *id).collect();
    let access: Vec<&str> = mounts.iter().map(|(_, access)| access.as_str()).collect();
    sqlx::query("INSERT INTO workspace_studies (workspace_id, study_id, access) SELECT $1, * FROM unnest($2::bigint[], $3::text[])")
        .bind(workspace_id)
        .bind(&ids)
        .bind(&access)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mounts_of(db: impl PgExecutor<'_>, workspace_id: &str) -> Result<Vec<MountedStudy>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.id, s.name, s.bucket, s.prefix, m.access FROM workspace_studies m JOIN studies s ON s.id = m.study_id \
         WHERE m.workspace_id = $1 ORDER BY lower(s.name)",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            let (bucket, prefix, access): (String, String, String) =
                (row.try_get("bucket")?, row.try_get("prefix")?, row.try_get("access")?);
            Ok(MountedStudy {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                location: format!("s3://{bucket}/{prefix}"),
                access: Access::parse(&access).unwrap_or(Access::Ro),
            })
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EgressRow {
    pub id: i64,
    pub study_id: i64,
    pub requester: String,
    pub files: Vec<String>,
    pub reason: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub created_at: String,
}

const EGRESS_COLUMNS: &str = "id, study_id, requester, files, reason, status, decided_by, decision_note, \
    to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"') AS created";

fn egress(row: &sqlx::postgres::PgRow) -> Result<EgressRow, sqlx::Error> {
    Ok(EgressRow {
        id: row.try_get("id")?,
        study_id: row.try_get("study_id")?,
        requester: row.try_get("requester")?,
        files: row.try_get("files")?,
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
        decided_by: row.try_get("decided_by")?,
        decision_note: row.try_get("decision_note")?,
        created_at: row.try_get("created")?,
    })
}

pub async fn insert_egress(
    db: impl PgExecutor<'_>,
    study_id: i64,
    requester: &str,
    files: &[String],
    reason: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO egress_requests (study_id, requester, files, reason) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(study_id)
        .bind(requester)
        .bind(files)
        .bind(reason)
        .fetch_one(db)
        .await
}

pub async fn find_egress(db: impl PgExecutor<'_>, id: i64) -> Result<Option<EgressRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {EGRESS_COLUMNS} FROM egress_requests WHERE id = $1")).bind(id).fetch_optional(db).await?;
    row.as_ref().map(egress).transpose()
}

pub async fn egress_of_study(db: impl PgExecutor<'_>, study_id: i64) -> Result<Vec<EgressSummary>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {EGRESS_COLUMNS} FROM egress_requests WHERE study_id = $1 ORDER BY id DESC LIMIT 50"))
        .bind(study_id)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| {
            let request = egress(row)?;
            Ok(EgressSummary {
                id: request.id,
                requester: request.requester,
                files: request.files,
                status: request.status,
                created_at: request.created_at,
            })
        })
        .collect()
}

/// Decides a pending request; false when it was no longer pending.
pub async fn decide_egress(db: impl PgExecutor<'_>, id: i64, approve: bool, by: &str, note: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE egress_requests SET status = $2, decided_by = $3, decision_note = nullif($4, ''), decided_at = now() \
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(if approve { "approved" } else { "rejected" })
    .bind(by)
    .bind(note)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A request's history: its audit rows, oldest first.
pub async fn egress_history(db: impl PgExecutor<'_>, id: i64) -> Result<Vec<EgressEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"') AS at, actor, action, detail FROM audit_log \
         WHERE object_type = 'egress_request' AND object_id = $1 ORDER BY id",
    )
    .bind(id.to_string())
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(EgressEvent {
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect()
}
