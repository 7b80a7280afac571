//! Implementations of the service traits the app's server functions call.

pub mod audit;
pub mod catalog;
pub mod costs;
pub mod notifications;
pub mod teams;
pub mod workspaces;

use app::error::AppError;

/// Whether the database is away (unreachable, shutting down) rather than refusing a query.
pub fn is_outage(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Class 08: connection exceptions; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
        sqlx::Error::Database(e) => e.code().is_some_and(|code| code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// Database failures as users see them: an outage is a 503, anything else a logged 500.
pub fn database_error(error: sqlx::Error) -> AppError {
    match error {
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
