use super::dates;
use app::domain::{CurrentUser, Role, TeamSlug};
use sqlx::{PgExecutor, Postgres, Transaction};
use std::collections::HashMap;

/// Where a user's roles and teams came from at their last sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipSource {
    /// The Cognito groups Atrium manages.
    Cognito,
    /// An SSO provider's groups claim: read-only in the portal.
    Provider,
}

impl MembershipSource {
    fn as_str(self) -> &'static str {
        match self {
            MembershipSource::Cognito => "cognito",
            MembershipSource::Provider => "provider",
        }
    }
}

/// Records a sign-in and mirrors the user's roles and team memberships from their token:
/// memberships they no longer have are removed, new ones added. Groups naming teams the portal
/// does not know are ignored.
#[tracing::instrument(skip(tx, user), fields(username = %user.username))]
pub async fn record_sign_in(tx: &mut Transaction<'_, Postgres>, user: &CurrentUser, source: MembershipSource) -> Result<(), sqlx::Error> {
    let roles: Vec<String> = user.roles.iter().map(|r| r.as_str().to_owned()).collect();
    let teams: Vec<String> = user.teams.iter().map(|t| t.as_str().to_owned()).collect();
    let team_admin_of: Vec<String> = user.team_admin_of.iter().map(|t| t.as_str().to_owned()).collect();
    sqlx::query!(
        "INSERT INTO users (username, roles, last_sign_in_at, memberships_from) VALUES ($1, $2, now(), $3) \
         ON CONFLICT (username) DO UPDATE SET roles = EXCLUDED.roles, last_sign_in_at = now(), memberships_from = EXCLUDED.memberships_from",
        user.username.as_str(),
        &roles[..],
        source.as_str(),
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!("DELETE FROM team_memberships WHERE username = $1 AND NOT (team_slug = ANY($2))", user.username.as_str(), &teams[..])
        .execute(&mut **tx)
        .await?;
    sqlx::query!(
        "INSERT INTO team_memberships (team_slug, username, team_admin) \
         SELECT slug, $1, slug = ANY($3) FROM teams WHERE slug = ANY($2) \
         ON CONFLICT (team_slug, username) DO UPDATE SET mirrored_at = now(), team_admin = EXCLUDED.team_admin",
        user.username.as_str(),
        &teams[..],
        &team_admin_of[..],
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a user may do right now: the mirror of their groups as the portal last changed or
/// saw them, and whether an admin disabled them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub roles: Vec<Role>,
    pub teams: Vec<TeamSlug>,
    pub team_admin_of: Vec<TeamSlug>,
    pub disabled: bool,
}

impl Access {
    /// The signed-in user with these roles and teams instead of the ones from sign-in.
    pub fn apply_to(self, user: &mut CurrentUser) {
        user.roles = self.roles;
        user.teams = self.teams;
        user.team_admin_of = self.team_admin_of;
    }
}

fn slugs(raw: Vec<String>) -> Vec<TeamSlug> {
    raw.iter().filter_map(|s| TeamSlug::parse(s).ok()).collect()
}

/// The user's access as of now (teams that are archived left out); `None` for a user the
/// portal has no row for.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn access(db: impl PgExecutor<'_>, username: &str) -> Result<Option<Access>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT u.roles, u.disabled_at IS NOT NULL AS "disabled!",
         ARRAY(SELECT m.team_slug FROM team_memberships m JOIN teams t ON t.slug = m.team_slug
               WHERE m.username = u.username AND t.archived_at IS NULL ORDER BY 1) AS "teams!",
         ARRAY(SELECT m.team_slug FROM team_memberships m JOIN teams t ON t.slug = m.team_slug
               WHERE m.username = u.username AND t.archived_at IS NULL AND m.team_admin ORDER BY 1) AS "team_admin_of!"
         FROM users u WHERE u.username = $1"#,
        username,
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut roles: Vec<Role> = row.roles.iter().filter_map(|r| Role::parse(r)).collect();
    roles.sort();
    Ok(Some(Access { roles, teams: slugs(row.teams), team_admin_of: slugs(row.team_admin_of), disabled: row.disabled }))
}

/// Whether an admin has disabled the user (a user without a row is not disabled).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_disabled(db: impl PgExecutor<'_>, username: &str) -> Result<bool, sqlx::Error> {
    let disabled: Option<bool> =
        sqlx::query_scalar!(r#"SELECT disabled_at IS NOT NULL AS "disabled!" FROM users WHERE username = $1"#, username)
            .fetch_optional(db)
            .await?;
    Ok(disabled.unwrap_or(false))
}

/// A row for a user who has not signed in yet (invited, or changed before their first
/// sign-in), so the portal's changes have somewhere to go. An existing row is left alone.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn ensure(tx: &mut Transaction<'_, Postgres>, username: &str, roles: &[Role]) -> Result<(), sqlx::Error> {
    let roles: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
    sqlx::query!(
        "INSERT INTO users (username, roles, last_sign_in_at) VALUES ($1, $2, NULL) ON CONFLICT (username) DO NOTHING",
        username,
        &roles[..],
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_roles(tx: &mut Transaction<'_, Postgres>, username: &str, roles: &[Role]) -> Result<(), sqlx::Error> {
    let roles: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
    sqlx::query!("UPDATE users SET roles = $2 WHERE username = $1", username, &roles[..]).execute(&mut **tx).await?;
    Ok(())
}

/// Adds the user to the team (as its team admin or not), or removes them (`None`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_membership(
    tx: &mut Transaction<'_, Postgres>,
    username: &str,
    team: &TeamSlug,
    team_admin: Option<bool>,
) -> Result<(), sqlx::Error> {
    match team_admin {
        Some(team_admin) => {
            sqlx::query!(
                "INSERT INTO team_memberships (team_slug, username, team_admin) VALUES ($1, $2, $3) \
                 ON CONFLICT (team_slug, username) DO UPDATE SET team_admin = EXCLUDED.team_admin, mirrored_at = now()",
                team.as_str(),
                username,
                team_admin,
            )
            .execute(&mut **tx)
            .await?
        }
        None => {
            sqlx::query!("DELETE FROM team_memberships WHERE team_slug = $1 AND username = $2", team.as_str(), username)
                .execute(&mut **tx)
                .await?
        }
    };
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_disabled(tx: &mut Transaction<'_, Postgres>, username: &str, disabled: bool) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET disabled_at = CASE WHEN $2 THEN now() END WHERE username = $1", username, disabled)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What the portal knows of each of these users: last sign-in ("2026-11-24 09:30 UTC") and
/// whether their memberships come from an SSO provider.
pub struct SignInRecord {
    pub last_sign_in: Option<String>,
    pub from_provider: bool,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn sign_in_records(db: impl PgExecutor<'_>, usernames: &[String]) -> Result<HashMap<String, SignInRecord>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT username, last_sign_in_at, memberships_from = 'provider' AS "from_provider!" FROM users WHERE username = ANY($1)"#,
        usernames,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let record = SignInRecord { last_sign_in: row.last_sign_in_at.map(dates::minute_utc), from_provider: row.from_provider };
            (row.username, record)
        })
        .collect())
}

/// The roles recorded at the user's last sign-in, if they ever signed in.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn roles_of(db: impl sqlx::PgExecutor<'_>, username: &str) -> Result<Option<Vec<String>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT roles FROM users WHERE username = $1", username).fetch_optional(db).await
}

/// What the user chose for themselves: stop at sign-out (`None`: as configured), and the
/// kinds of e-mail they want (workspace, health, budget), with their address.
pub struct Preferences {
    pub stop_on_sign_out: Option<bool>,
    pub mail: [bool; 3],
    pub email: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn preferences(db: impl PgExecutor<'_>, username: &str) -> Result<Preferences, sqlx::Error> {
    let row =
        sqlx::query!("SELECT stop_on_sign_out, mail_workspace, mail_health, mail_budget, email FROM users WHERE username = $1", username)
            .fetch_optional(db)
            .await?;
    match row {
        Some(row) => Ok(Preferences {
            stop_on_sign_out: row.stop_on_sign_out,
            mail: [row.mail_workspace, row.mail_health, row.mail_budget],
            email: row.email,
        }),
        None => Ok(Preferences { stop_on_sign_out: None, mail: [true; 3], email: None }),
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_preferences(
    db: impl PgExecutor<'_>,
    username: &str,
    stop_on_sign_out: Option<bool>,
    mail: [bool; 3],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET stop_on_sign_out = $2, mail_workspace = $3, mail_health = $4, mail_budget = $5 WHERE username = $1",
        username,
        stop_on_sign_out,
        mail[0],
        mail[1],
        mail[2],
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The address Atrium's e-mail goes to.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_email(db: impl PgExecutor<'_>, username: &str, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET email = $2 WHERE username = $1", username, email).execute(db).await?;
    Ok(())
}
