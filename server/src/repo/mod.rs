//! Postgres repositories. Functions take an executor (a pool or a transaction) so callers
//! decide what commits together.

pub mod airlock;
pub mod api_tokens;
pub mod audit;
pub mod configurations;
pub mod costs;
pub mod dates;
pub mod homes;
pub mod jobs;
pub mod notification_targets;
pub mod scratch;
pub mod sessions;
pub mod sign_in_failures;
pub mod studies;
pub mod teams;
pub mod users;
pub mod workspace_types;
pub mod workspaces;
