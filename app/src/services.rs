//! The services server functions call. The server crate implements them over Postgres and
//! AWS; server functions only find the caller, call one method and return its result.

use crate::domain::{CurrentUser, PasswordPolicy, TeamHome, TeamSlug, TeamSummary};
use crate::error::AppError;
use std::sync::Arc;

#[async_trait::async_trait]
pub trait TeamService: Send + Sync {
    /// The teams `user` belongs to; every team for an admin.
    async fn teams_for(&self, user: &CurrentUser) -> Result<Vec<TeamSummary>, AppError>;
    /// One team's home. `NotFound` for an unknown team, `Forbidden` for a non-member.
    async fn team_home(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<TeamHome, AppError>;
}

#[async_trait::async_trait]
pub trait PasswordPolicyService: Send + Sync {
    async fn password_policy(&self) -> Result<PasswordPolicy, AppError>;
}

/// Provided once as Leptos context by the server at start-up.
#[derive(Clone)]
pub struct Services {
    pub teams: Arc<dyn TeamService>,
    pub password_policy: Arc<dyn PasswordPolicyService>,
}

/// The services from context. Missing context is a wiring bug, reported as `Internal`.
pub fn services() -> Result<Services, AppError> {
    leptos::prelude::use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services were not provided as Leptos context");
        AppError::Internal
    })
}

/// The signed-in user, put into the request's extensions by the server's session middleware.
pub fn signed_in_user() -> Option<CurrentUser> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    parts.extensions.get::<CurrentUser>().cloned()
}

pub fn require_user() -> Result<CurrentUser, AppError> {
    signed_in_user().ok_or(AppError::NotSignedIn)
}

/// Sets the status of the page being rendered on the server.
pub fn set_page_status(status: u16) {
    if let (Some(options), Ok(code)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        options.set_status(code);
    }
}
