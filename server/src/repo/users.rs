use app::domain::CurrentUser;
use sqlx::{Postgres, Row, Transaction};

/// Records a sign-in and mirrors the user's team memberships from their token: memberships
/// they no longer have are removed, new ones added. Groups naming teams the portal does not
/// know are ignored.
#[tracing::instrument(skip(tx, user), fields(username = %user.username))]
pub async fn record_sign_in(tx: &mut Transaction<'_, Postgres>, user: &CurrentUser) -> Result<(), sqlx::Error> {
    let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    let teams: Vec<&str> = user.teams.iter().map(|t| t.as_str()).collect();
    sqlx::query(
        "INSERT INTO users (username, roles, last_sign_in_at) VALUES ($1, $2, now()) \
         ON CONFLICT (username) DO UPDATE SET roles = EXCLUDED.roles, last_sign_in_at = now()",
    )
    .bind(user.username.as_str())
    .bind(&roles)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM team_memberships WHERE username = $1 AND NOT (team_slug = ANY($2))")
        .bind(user.username.as_str())
        .bind(&teams)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO team_memberships (team_slug, username) \
         SELECT slug, $1 FROM teams WHERE slug = ANY($2) \
         ON CONFLICT (team_slug, username) DO UPDATE SET mirrored_at = now()",
    )
    .bind(user.username.as_str())
    .bind(&teams)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The roles recorded at the user's last sign-in, if they ever signed in.
pub async fn roles_of(db: impl sqlx::PgExecutor<'_>, username: &str) -> Result<Option<Vec<String>>, sqlx::Error> {
    sqlx::query("SELECT roles FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(db)
        .await?
        .map(|row| row.try_get("roles"))
        .transpose()
}
