//! Implementations of the service traits the app's server functions call.

pub mod teams;

use app::error::AppError;

/// Database failures as users see them: an outage is a 503, anything else a logged 500.
pub fn database_error(error: sqlx::Error) -> AppError {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            tracing::warn!(error = %error, "The database is unreachable");
            AppError::Unavailable("The database".into())
        }
        other => {
            tracing::error!(error = %other, "Database query failed");
            AppError::Internal
        }
    }
}
