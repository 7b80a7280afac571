//! People's homes on their teams' file systems (EFS access points), and their POSIX uids.

use super::dates;
use sqlx::PgExecutor;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Home {
    pub username: String,
    pub file_system_id: String,
    pub access_point_id: String,
    pub path: String,
    pub created_at: String,
}

/// The person's POSIX uid, given on first asking and theirs for good (the same in every team).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn uid_of(db: impl PgExecutor<'_>, username: &str) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"UPDATE users SET posix_uid = coalesce(posix_uid, nextval('posix_uids')::integer) WHERE username = $1 RETURNING posix_uid AS "uid!""#,
        username,
    )
    .fetch_optional(db)
    .await
}

/// Waits for any other launch making the same person's home in the team (until the caller's
/// transaction ends), so that only one makes it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock(db: impl PgExecutor<'_>, team: &str, username: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended('home:' || $1 || ':' || $2, 0))", team, username).fetch_one(db).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(db: impl PgExecutor<'_>, team: &str, username: &str) -> Result<Option<Home>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT username, file_system_id, access_point_id, path, created_at FROM user_homes WHERE team_slug = $1 AND username = $2",
        team,
        username,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| Home {
        username: row.username,
        file_system_id: row.file_system_id,
        access_point_id: row.access_point_id,
        path: row.path,
        created_at: dates::minute_utc(row.created_at),
    }))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    team: &str,
    username: &str,
    (file_system, access_point, path): (&str, &str, &str),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO user_homes (team_slug, username, file_system_id, access_point_id, path) VALUES ($1, $2, $3, $4, $5)",
        team,
        username,
        file_system,
        access_point,
        path,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The homes in the team of people who are disabled: theirs to remove, when an admin decides.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_disabled(db: impl PgExecutor<'_>, team: &str) -> Result<Vec<Home>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT h.username, h.file_system_id, h.access_point_id, h.path, h.created_at FROM user_homes h JOIN users u ON u.username = h.username \
         WHERE h.team_slug = $1 AND u.disabled_at IS NOT NULL ORDER BY h.username",
        team,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Home {
            username: row.username,
            file_system_id: row.file_system_id,
            access_point_id: row.access_point_id,
            path: row.path,
            created_at: dates::minute_utc(row.created_at),
        })
        .collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, team: &str, username: &str) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!("DELETE FROM user_homes WHERE team_slug = $1 AND username = $2", team, username).execute(db).await?;
    Ok(deleted.rows_affected() == 1)
}
