//! Server functions: find the caller, call one service method, return its typed result.

use crate::domain::{CurrentUser, PasswordPolicy, TeamHome, TeamSummary};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::services::{require_user, services, signed_in_user};

#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    Ok(signed_in_user())
}

#[server(endpoint = "my_teams")]
pub async fn my_teams() -> Result<Vec<TeamSummary>, AppError> {
    let user = require_user()?;
    services()?.teams.teams_for(&user).await
}

#[server(endpoint = "team_home")]
pub async fn load_team_home(slug: String) -> Result<TeamHome, AppError> {
    let user = require_user()?;
    let slug = crate::domain::TeamSlug::parse(&slug).map_err(|_| AppError::NotFound("This team".into()))?;
    services()?.teams.team_home(&user, &slug).await
}

#[server(endpoint = "password_policy")]
pub async fn load_password_policy() -> Result<PasswordPolicy, AppError> {
    services()?.password_policy.password_policy().await
}
