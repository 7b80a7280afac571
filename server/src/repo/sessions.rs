//! `user_sessions`: whose signed-in session is whose (beside tower-sessions' own table), so
//! that disabling a user can end every session of theirs at once.

use sqlx::PgExecutor;

#[tracing::instrument(level = "debug", skip_all)]
pub async fn note_owner(
    db: impl PgExecutor<'_>,
    session_id: &str,
    username: &str,
    expires_at: time::OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO user_sessions (session_id, username, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (session_id) DO UPDATE SET username = EXCLUDED.username, expires_at = EXCLUDED.expires_at",
        session_id,
        username,
        expires_at,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget(db: impl PgExecutor<'_>, session_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM user_sessions WHERE session_id = $1", session_id).execute(db).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget_expired(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM user_sessions WHERE expires_at < now()").execute(db).await?;
    Ok(())
}

/// Deletes every session of the user (they are signed out on their next request); how many.
#[tracing::instrument(skip(tx))]
pub async fn end_sessions_of(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, username: &str) -> Result<u64, sqlx::Error> {
    let ended =
        sqlx::query!("DELETE FROM tower_sessions.session WHERE id IN (SELECT session_id FROM user_sessions WHERE username = $1)", username)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    sqlx::query!("DELETE FROM user_sessions WHERE username = $1", username).execute(&mut **tx).await?;
    Ok(ended)
}

/// The sessions not yet expired.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn live_count(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM user_sessions WHERE expires_at > now()"#).fetch_one(db).await
}
