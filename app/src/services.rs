//! What every server function reads: the services (each feature's trait, in `features/`,
//! implemented by the server crate over Postgres and AWS), provided as Leptos context, and the
//! signed-in caller from the request.

use crate::domain::CurrentUser;
use crate::error::AppError;
use std::sync::Arc;

/// Provided as Leptos context to every request, behind one `Arc` (cloned per request).
pub struct Services {
    pub teams: Arc<dyn crate::features::teams::TeamService>,
    pub password_policy: Arc<dyn crate::features::account::PasswordPolicyService>,
    pub catalog_admin: Arc<dyn crate::features::catalog::CatalogAdminService>,
    pub workspaces: Arc<dyn crate::features::workspaces::WorkspaceService>,
    pub audit: Arc<dyn crate::features::audit::AuditService>,
    pub costs: Arc<dyn crate::features::costs::CostService>,
    pub notifications: Arc<dyn crate::features::notifications::NotificationService>,
    pub team_admin: Arc<dyn crate::features::team_admin::TeamAdminService>,
    pub people: Arc<dyn crate::features::people::PeopleService>,
    pub settings: Arc<dyn crate::features::account::SettingsService>,
    pub tokens: Arc<dyn crate::features::account::TokenService>,
    pub studies: Arc<dyn crate::features::studies::StudyService>,
    pub admin_workspaces: Arc<dyn crate::features::admin_workspaces::AdminWorkspaceService>,
    pub sign_in_methods: crate::domain::SignInMethods,
    pub content_security_policy: ContentSecurityPolicy,
}

/// The pages' Content-Security-Policy: scripts only from this site or carrying the response's
/// nonce (Leptos puts it on each of its inline scripts), never other inline scripts.
#[derive(Clone, Debug)]
pub struct ContentSecurityPolicy {
    /// Every directive but `script-src`.
    other_directives: String,
}

impl ContentSecurityPolicy {
    pub fn new(other_directives: impl Into<String>) -> Self {
        ContentSecurityPolicy { other_directives: other_directives.into() }
    }

    /// For a page whose inline scripts carry `nonce`.
    pub fn with_nonce(&self, nonce: &str) -> String {
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; {}", self.other_directives)
    }

    /// For every other response: no inline script runs.
    pub fn without_inline_scripts(&self) -> String {
        format!("script-src 'self' 'wasm-unsafe-eval'; {}", self.other_directives)
    }
}

/// The services from context. Missing context is a wiring bug, reported as `Internal`.
pub fn services() -> Result<std::sync::Arc<Services>, AppError> {
    leptos::prelude::use_context::<std::sync::Arc<Services>>().ok_or_else(|| {
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

/// The signed-in user if they are an admin; `Forbidden` for everyone else.
pub fn require_admin() -> Result<CurrentUser, AppError> {
    let user = require_user()?;
    must_be_admin(&user)?;
    Ok(user)
}

/// Services check again what server functions checked, so that no other caller can skip it.
pub fn must_be_admin(user: &CurrentUser) -> Result<(), AppError> {
    if user.is_admin() { Ok(()) } else { Err(AppError::Forbidden) }
}

/// The shape of a server function: the signed-in caller (or `NotSignedIn`), then its work,
/// with the status of an error set on the response.
pub async fn as_user<T, Work, Done>(work: Work) -> Result<T, AppError>
where
    Work: FnOnce(CurrentUser) -> Done,
    Done: std::future::Future<Output = Result<T, AppError>>,
{
    with_status(async { work(require_user()?).await }.await)
}

/// As [`as_user`], for admins only (`Forbidden` for everyone else).
pub async fn as_admin<T, Work, Done>(work: Work) -> Result<T, AppError>
where
    Work: FnOnce(CurrentUser) -> Done,
    Done: std::future::Future<Output = Result<T, AppError>>,
{
    with_status(async { work(require_admin()?).await }.await)
}

/// A server function's result, with the HTTP status of its error set on the response
/// (403 for Forbidden, 503 for Unavailable…) instead of a blanket 500.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result {
        set_page_status(error.status());
    }
    result
}

/// Sets the status of the page being rendered on the server.
pub fn set_page_status(status: u16) {
    if let (Some(options), Ok(code)) = (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status))
    {
        options.set_status(code);
    }
}
