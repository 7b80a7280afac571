//! Failed sign-ins, counted over a sliding window to rate-limit guessing.

use sqlx::PgExecutor;
use std::time::Duration;

/// (failures for this username, failures from this address) within `window`.
pub async fn recent(db: impl PgExecutor<'_>, username: &str, client_ip: &str, window: Duration) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE username = $1), count(*) FILTER (WHERE client_ip = $2) \
         FROM sign_in_failures \
         WHERE (username = $1 OR client_ip = $2) AND failed_at > now() - make_interval(secs => $3)",
    )
    .bind(username)
    .bind(client_ip)
    .bind(window.as_secs_f64())
    .fetch_one(db)
    .await
}

/// Records a failure and forgets this username's failures older than a day.
pub async fn record(db: &sqlx::PgPool, username: &str, client_ip: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM sign_in_failures WHERE username = $1 AND failed_at < now() - interval '1 day'")
        .bind(username)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO sign_in_failures (username, client_ip) VALUES ($1, $2)")
        .bind(username)
        .bind(client_ip)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// A successful sign-in clears the username's failures.
pub async fn clear(db: impl PgExecutor<'_>, username: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sign_in_failures WHERE username = $1").bind(username).execute(db).await?;
    Ok(())
}
