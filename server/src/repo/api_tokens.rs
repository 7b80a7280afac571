//! Personal access tokens: the row of each (the secret's SHA-256 only) and the rate-limit
//! bucket kept in it.

use super::dates;
use app::domain::tokens::{Scope, TokenView};
use sqlx::PgExecutor;
use time::OffsetDateTime;

/// A token's row as the queries select it: `id, username, name, scopes, created_at, expires_at,
/// last_used_at`, and its status, `CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN
/// expires_at <= now() THEN 'expired' ELSE 'active' END AS "status!"`.
struct ViewRow {
    id: i64,
    username: String,
    name: String,
    scopes: Vec<String>,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    last_used_at: Option<OffsetDateTime>,
    status: String,
}

impl From<ViewRow> for TokenView {
    fn from(row: ViewRow) -> TokenView {
        TokenView {
            id: row.id,
            owner: row.username,
            name: row.name,
            scopes: row.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
            created_at: dates::rfc3339(row.created_at),
            expires_at: dates::rfc3339(row.expires_at),
            last_used_at: row.last_used_at.map(dates::rfc3339),
            status: row.status,
        }
    }
}

pub struct NewToken<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub scopes: &'a [Scope],
    pub days: u32,
    /// Requests the token may make at once (the bucket starts full).
    pub burst: f64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, token: &NewToken<'_>) -> Result<TokenView, sqlx::Error> {
    let scopes: Vec<String> = token.scopes.iter().map(|s| s.as_str().to_owned()).collect();
    let row = sqlx::query_as!(
        ViewRow,
        r#"INSERT INTO api_tokens (username, name, token_hash, scopes, expires_at, bucket)
         VALUES ($1, $2, $3, $4, now() + make_interval(days => $5), $6)
         RETURNING id, username, name, scopes, created_at, expires_at, last_used_at,
         CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at <= now() THEN 'expired' ELSE 'active' END AS "status!""#,
        token.username,
        token.name,
        token.token_hash,
        &scopes[..],
        i32::try_from(token.days).unwrap_or(i32::MAX),
        token.burst,
    )
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

/// The user's tokens, newest first (revoked and expired ones too, for a while).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn of_user(db: impl PgExecutor<'_>, username: &str) -> Result<Vec<TokenView>, sqlx::Error> {
    let rows = sqlx::query_as!(
        ViewRow,
        r#"SELECT id, username, name, scopes, created_at, expires_at, last_used_at,
         CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at <= now() THEN 'expired' ELSE 'active' END AS "status!"
         FROM api_tokens WHERE username = $1
         AND coalesce(revoked_at, expires_at) > now() - interval '30 days' ORDER BY created_at DESC, id DESC"#,
        username,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(TokenView::from).collect())
}

/// Every active token, for admins.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn active(db: impl PgExecutor<'_>) -> Result<Vec<TokenView>, sqlx::Error> {
    let rows = sqlx::query_as!(
        ViewRow,
        r#"SELECT id, username, name, scopes, created_at, expires_at, last_used_at,
         CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at <= now() THEN 'expired' ELSE 'active' END AS "status!"
         FROM api_tokens WHERE revoked_at IS NULL AND expires_at > now() ORDER BY username, created_at DESC"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(TokenView::from).collect())
}

/// Revokes a token that is still active; its owner, or `None` when there is no such token
/// (or it was revoked already). `owner`: only a token of this user.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke(db: impl PgExecutor<'_>, id: i64, owner: Option<&str>, by: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE api_tokens SET revoked_at = now(), revoked_by = $3 \
         WHERE id = $1 AND revoked_at IS NULL AND ($2::text IS NULL OR username = $2) RETURNING username",
        id,
        owner,
        by,
    )
    .fetch_optional(db)
    .await
}

/// A token found by its hash and charged one request.
pub struct Charged {
    pub id: i64,
    pub username: String,
    pub scopes: Vec<Scope>,
    /// Requests left before this one; below 1, the request is refused.
    pub available: f64,
}

/// Finds an active (not revoked, not expired) token by its hash and takes one request from its
/// bucket, refilled at `per_second` up to `burst` since it was last used; notes the use when the
/// bucket allowed it. One statement, with the row locked, so that replicas share the limit.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn charge(db: impl PgExecutor<'_>, token_hash: &str, burst: f64, per_second: f64) -> Result<Option<Charged>, sqlx::Error> {
    // $2 and $3 are cast to float8 as the f64s they are bound from always made them.
    let row = sqlx::query!(
        r#"WITH t AS (
           SELECT id, LEAST($2::float8, bucket + EXTRACT(EPOCH FROM (clock_timestamp() - bucket_at)) * $3::float8) AS available
           FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() FOR UPDATE)
         UPDATE api_tokens a SET
           bucket = CASE WHEN t.available >= 1 THEN t.available - 1 ELSE t.available END,
           bucket_at = clock_timestamp(),
           last_used_at = CASE WHEN t.available >= 1 THEN now() ELSE a.last_used_at END
         FROM t WHERE a.id = t.id RETURNING a.id, a.username, a.scopes, t.available::float8 AS "available!""#,
        token_hash,
        burst,
        per_second,
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Charged {
        id: row.id,
        username: row.username,
        scopes: row.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        available: row.available,
    }))
}
