//! Implementations of the service traits the app's server functions call.

pub mod admin_workspaces;
pub mod audit;
pub mod catalog;
pub mod catalog_code;
pub mod costs;
pub mod health;
pub mod homes;
pub mod idle;
pub mod notifications;
pub mod people;
pub mod reconcile;
pub mod settings;
pub mod studies;
pub mod team_accounts;
pub mod team_admin;
pub mod teams;
pub mod tokens;
pub mod workspace_updates;
pub mod workspaces;

use crate::changes::TeamCache;
use app::domain::{CurrentUser, TeamSlug};
use app::error::AppError;

/// The team, if it exists and is not archived (`NotFound`) and the user may enter it
/// (`Forbidden`): members, and admins everywhere.
#[tracing::instrument(skip_all)]
pub async fn enter_team(db: &sqlx::PgPool, user: &CurrentUser, slug: &TeamSlug) -> Result<crate::repo::teams::Team, AppError> {
    admit(crate::repo::teams::find(db, slug).await.map_err(database_error)?, user, slug)
}

/// `enter_team` with the team row from the cache: pages read it on every view, and every
/// process forgets the cached teams as soon as one changes.
#[tracing::instrument(skip_all)]
pub async fn enter_cached_team(
    db: &sqlx::PgPool,
    cache: &TeamCache,
    user: &CurrentUser,
    slug: &TeamSlug,
) -> Result<crate::repo::teams::Team, AppError> {
    let found = cache.get_or_load(slug.as_str(), crate::repo::teams::find(db, slug)).await.map_err(database_error)?;
    admit(found, user, slug)
}

fn admit(found: Option<crate::repo::teams::Team>, user: &CurrentUser, slug: &TeamSlug) -> Result<crate::repo::teams::Team, AppError> {
    let team = found.filter(|team| !team.archived).ok_or_else(|| AppError::NotFound(format!("The team \"{slug}\"")))?;
    if !user.may_enter_team(slug) {
        return Err(AppError::Forbidden);
    }
    Ok(team)
}

/// Whether the database is away (unreachable, shutting down) rather than refusing a query.
pub fn is_outage(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Class 08: connection exceptions; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
        sqlx::Error::Database(e) => {
            e.code().is_some_and(|code| code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}

/// Database failures as users see them: a value it refused is a 400, an outage a 503,
/// anything else a logged 500.
pub fn database_error(error: sqlx::Error) -> AppError {
    match error {
        // Data exceptions a value from the request causes: too long (22001), out of range
        // (22003), a date that is not one (22007, 22008), a character Postgres does not store
        // (22021, 22P05). The request's fault, not ours; other data exceptions stay 500s.
        sqlx::Error::Database(e)
            if e.code().is_some_and(|code| ["22001", "22003", "22007", "22008", "22021", "22P05"].contains(&code.as_ref())) =>
        {
            tracing::info!(error = %e, "The database refused a value from the request");
            AppError::BadRequest(
                "A value in the request is not one Atrium can take (too long, out of range, or with a character it cannot store).".into(),
            )
        }
        error if is_outage(&error) => {
            tracing::warn!(error = %error, "The database is unreachable");
            AppError::Unavailable("The database".into())
        }
        other => {
            tracing::error!(error = %other, "Database query failed");
            AppError::Internal
        }
    }
}

/// The user pool's answers as users see them: Cognito's own refusal in plain words, an outage
/// as a 503, anything else a logged 500.
pub fn directory_error(error: crate::aws::directory::DirectoryError) -> AppError {
    use crate::aws::directory::DirectoryError;
    match error {
        DirectoryError::UnknownUser => AppError::NotFound("This user".into()),
        DirectoryError::UsernameTaken => AppError::invalid("username", "There is already a user with this username."),
        DirectoryError::Refused(message) => AppError::BadRequest(format!("Cognito refused: {message}")),
        DirectoryError::Unavailable(source) => {
            tracing::warn!(error = ?source, "The user pool is unreachable");
            AppError::Unavailable("The user directory (Cognito)".into())
        }
        DirectoryError::Unexpected(source) => {
            tracing::error!(error = ?source, "A user pool call failed");
            AppError::Internal
        }
    }
}
