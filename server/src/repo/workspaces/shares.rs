//! Whom a workspace is shared with, and launching one again.

use super::*;

/// Everyone on the workspace's team, as a share's grantee.
pub const WHOLE_TEAM: &str = "*";

/// Whom the workspace is shared with (usernames, or `WHOLE_TEAM`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn shares_of(db: impl PgExecutor<'_>, id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT grantee FROM workspace_shares WHERE workspace_id = $1 ORDER BY grantee", id).fetch_all(db).await
}

/// Whether the workspace is shared with this user, by name or with the whole team.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_shared_with(db: impl PgExecutor<'_>, id: &str, username: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM workspace_shares WHERE workspace_id = $1 AND grantee IN ($2, '*')) AS "shared!""#,
        id,
        username
    )
    .fetch_one(db)
    .await
}

/// Shares the workspace with exactly these grantees.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_shares(conn: &mut sqlx::PgConnection, id: &str, grantees: &[String], by: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM workspace_shares WHERE workspace_id = $1 AND NOT (grantee = ANY ($2::text[]))", id, grantees)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "INSERT INTO workspace_shares (workspace_id, grantee, shared_by) SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING",
        id,
        grantees,
        by
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a workspace was launched with: its configuration and parameter values.
pub struct LaunchInputs {
    pub configuration_id: i64,
    pub parameter_values: BTreeMap<String, String>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn launch_inputs(db: impl PgExecutor<'_>, id: &str) -> Result<Option<LaunchInputs>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT configuration_id, parameter_values AS "parameter_values: Json<BTreeMap<String, String>>" FROM workspaces WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| LaunchInputs { configuration_id: row.configuration_id, parameter_values: row.parameter_values.0 }))
}
