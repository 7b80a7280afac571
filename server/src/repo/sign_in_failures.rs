//! Failed sign-ins, for throttling guesses per (username, address) and per address, and the
//! browsers that signed in before (their device cookie's hash), to which other people's
//! failures do not apply.

use sqlx::{PgExecutor, PgPool};
use std::time::Duration;

/// Where an attempt comes from: a browser that signed in as this user before is throttled on
/// its own; anyone else by the address.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub client_ip: &'a str,
    /// The hash of a device cookie already known for this username.
    pub known_device: Option<&'a str>,
}

#[derive(Debug)]
pub struct Recent {
    /// Failures of this username from this source within the pair window.
    pub pair_failures: i64,
    pub seconds_since_last_pair_failure: Option<f64>,
    /// Failures of any username from this address within the address window.
    pub address_failures: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn recent(
    db: impl PgExecutor<'_>,
    username: &str,
    source: Source<'_>,
    pair_window: Duration,
    address_window: Duration,
) -> Result<Recent, sqlx::Error> {
    // A failure's row came from `source` ($2 the address, $3 the known device's hash): from that
    // browser, else from that address without a known device (as in `clear`).
    sqlx::query_as!(
        Recent,
        r#"WITH pair AS (
             SELECT failed_at FROM sign_in_failures
             WHERE username = $1 AND failed_at > now() - make_interval(secs => $4)
             AND CASE WHEN $3::text IS NULL THEN client_ip = $2 AND device IS NULL ELSE device = $3 END)
         SELECT (SELECT count(*) FROM pair) AS "pair_failures!",
                (SELECT extract(epoch FROM now() - max(failed_at))::float8 FROM pair) AS "seconds_since_last_pair_failure?",
                (SELECT count(*) FROM sign_in_failures
                 WHERE client_ip = $2 AND failed_at > now() - make_interval(secs => $5)) AS "address_failures!""#,
        username,
        source.client_ip,
        source.known_device,
        pair_window.as_secs_f64(),
        address_window.as_secs_f64(),
    )
    .fetch_one(db)
    .await
}

/// Records a failure, and forgets this username's and this address's failures older than a day.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record(db: &PgPool, username: &str, source: Source<'_>) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query!(
        "DELETE FROM sign_in_failures WHERE (username = $1 OR client_ip = $2) AND failed_at < now() - interval '1 day'",
        username,
        source.client_ip,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO sign_in_failures (username, client_ip, device) VALUES ($1, $2, $3)",
        username,
        source.client_ip,
        source.known_device,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A successful sign-in clears the failures of its own (username, source) pair only: it proves
/// nothing about guesses made elsewhere.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn clear(db: impl PgExecutor<'_>, username: &str, source: Source<'_>) -> Result<(), sqlx::Error> {
    // From `source` ($2 the address, $3 the known device's hash): from that browser, else from
    // that address without a known device (as in `recent`).
    sqlx::query!(
        "DELETE FROM sign_in_failures WHERE username = $1 \
         AND CASE WHEN $3::text IS NULL THEN client_ip = $2 AND device IS NULL ELSE device = $3 END",
        username,
        source.client_ip,
        source.known_device,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the browser with this device cookie hash signed in as `username` before.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_known_device(db: impl PgExecutor<'_>, token_hash: &str, username: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM sign_in_devices WHERE token_hash = $1 AND username = $2) AS "known!""#,
        token_hash,
        username,
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn remember_device(db: impl PgExecutor<'_>, token_hash: &str, username: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sign_in_devices (token_hash, username) VALUES ($1, $2) \
         ON CONFLICT (token_hash, username) DO UPDATE SET last_signed_in_at = now()",
        token_hash,
        username,
    )
    .execute(db)
    .await?;
    Ok(())
}
