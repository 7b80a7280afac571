//! Studies, who may write them, the teams they are shared with, and the workspaces that mount
//! them.

use app::domain::studies::{Access, MountedStudy, StudyFacts, StudyScope};
use sqlx::{PgConnection, PgExecutor};

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

/// A study as the statements return it (`scope` as stored).
struct StudyRecord {
    id: i64,
    scope: String,
    team_slug: Option<String>,
    name: String,
    description: String,
    owner: String,
    bucket: String,
    prefix: String,
    controlled: bool,
    writers: Vec<String>,
    teams: Vec<String>,
}

fn study(row: StudyRecord) -> Result<StudyRow, sqlx::Error> {
    let scope = StudyScope::parse(&row.scope).ok_or_else(|| sqlx::Error::Decode(format!("unknown study scope {}", row.scope).into()))?;
    Ok(StudyRow {
        id: row.id,
        scope,
        team_slug: row.team_slug,
        name: row.name,
        description: row.description,
        owner: row.owner,
        bucket: row.bucket,
        prefix: row.prefix,
        controlled: row.controlled,
        writers: row.writers,
        teams: row.teams,
    })
}

// The two statements below read a study with the same columns:
//   SELECT s.id, s.scope, s.team_slug, s.name, s.description, s.owner, s.bucket, s.prefix, s.controlled,
//     coalesce((SELECT array_agg(w.username ORDER BY w.username) FROM study_writers w WHERE w.study_id = s.id), '{}') AS writers,
//     coalesce((SELECT array_agg(t.team_slug ORDER BY t.team_slug) FROM study_teams t WHERE t.study_id = s.id), '{}') AS teams
//   FROM studies s

/// The studies that could be seen from a team: its own, and every organisation study and
/// open data (the access rule then picks).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn seen_from_team(db: impl PgExecutor<'_>, team: &str) -> Result<Vec<StudyRow>, sqlx::Error> {
    let rows = sqlx::query_as!(
        StudyRecord,
        r#"SELECT s.id, s.scope, s.team_slug, s.name, s.description, s.owner, s.bucket, s.prefix, s.controlled,
             coalesce((SELECT array_agg(w.username ORDER BY w.username) FROM study_writers w WHERE w.study_id = s.id), '{}') AS "writers!",
             coalesce((SELECT array_agg(t.team_slug ORDER BY t.team_slug) FROM study_teams t WHERE t.study_id = s.id), '{}') AS "teams!"
           FROM studies s
           WHERE s.team_slug = $1 OR s.team_slug IS NULL
           ORDER BY array_position(ARRAY['team', 'my', 'organisation', 'open-data'], s.scope), lower(s.name)"#,
        team,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(study).collect()
}

/// The study kept at this bucket and prefix, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn at_location(db: impl PgExecutor<'_>, bucket: &str, prefix: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM studies WHERE bucket = $1 AND prefix = $2", bucket, prefix).fetch_optional(db).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<StudyRow>, sqlx::Error> {
    let row = sqlx::query_as!(
        StudyRecord,
        r#"SELECT s.id, s.scope, s.team_slug, s.name, s.description, s.owner, s.bucket, s.prefix, s.controlled,
             coalesce((SELECT array_agg(w.username ORDER BY w.username) FROM study_writers w WHERE w.study_id = s.id), '{}') AS "writers!",
             coalesce((SELECT array_agg(t.team_slug ORDER BY t.team_slug) FROM study_teams t WHERE t.study_id = s.id), '{}') AS "teams!"
           FROM studies s
           WHERE s.id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await?;
    row.map(study).transpose()
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

/// Whether a study's prefix in `bucket` holds `prefix`, or is held by it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn overlapping(db: impl PgExecutor<'_>, bucket: &str, prefix: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM studies WHERE bucket = $1 AND (starts_with($2, prefix) OR starts_with(prefix, $2))) AS "overlapping!""#,
        bucket,
        prefix,
    )
    .fetch_one(db)
    .await
}

/// Inserts a study unless its prefix holds, or is held by, another study's in the bucket.
/// Holds the bucket's lock until the transaction ends, so two creations cannot both pass.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut PgConnection, new: &NewStudyRow<'_>) -> Result<i64, InsertError> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('study-bucket:' || $1))", new.bucket).execute(&mut *conn).await?;
    if overlapping(&mut *conn, new.bucket, new.prefix).await? {
        return Err(InsertError::Overlaps);
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO studies (scope, team_slug, name, description, owner, bucket, prefix, controlled) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        new.scope.as_str(),
        new.team_slug,
        new.name,
        new.description,
        new.owner,
        new.bucket,
        new.prefix,
        new.controlled,
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.code().as_deref() == Some("23505") => InsertError::NameTaken,
        _ => InsertError::Database(error),
    })?;
    sqlx::query!("INSERT INTO study_teams (study_id, team_slug) SELECT $1, unnest($2::text[])", id, new.teams).execute(&mut *conn).await?;
    Ok(id)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_writers(conn: &mut PgConnection, id: i64, writers: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM study_writers WHERE study_id = $1", id).execute(&mut *conn).await?;
    sqlx::query!("INSERT INTO study_writers (study_id, username) SELECT $1, unnest($2::text[])", id, writers).execute(&mut *conn).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_mounts(conn: &mut PgConnection, workspace_id: &str, mounts: &[(i64, Access)]) -> Result<(), sqlx::Error> {
    let ids: Vec<i64> = mounts.iter().map(|(id, _)| *id).collect();
    let access: Vec<String> = mounts.iter().map(|(_, access)| access.as_str().to_owned()).collect();
    sqlx::query!(
        "INSERT INTO workspace_studies (workspace_id, study_id, access) SELECT $1, * FROM unnest($2::bigint[], $3::text[])",
        workspace_id,
        &ids[..],
        &access[..],
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn mounts_of(db: impl PgExecutor<'_>, workspace_id: &str) -> Result<Vec<MountedStudy>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT s.id, s.name, s.bucket, s.prefix, m.access FROM workspace_studies m JOIN studies s ON s.id = m.study_id \
         WHERE m.workspace_id = $1 ORDER BY lower(s.name)",
        workspace_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| MountedStudy {
            id: row.id,
            name: row.name,
            location: format!("s3://{}/{}", row.bucket, row.prefix),
            access: Access::parse(&row.access).unwrap_or(Access::Ro),
        })
        .collect())
}
