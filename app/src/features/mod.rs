//! The app's features, one module each: the feature's service trait (implemented by the server
//! crate over Postgres and AWS) and its server functions, which find the caller, call one
//! service method and return its typed result. The REST API (`server/src/api/<feature>.rs`)
//! calls the same service methods. Each server function runs in a tracing span of its name
//! (`skip_all`: no argument is logged, some are secrets).

pub mod account;
pub mod admin_workspaces;
pub mod airlock;
pub mod audit;
pub mod catalog;
pub mod costs;
pub mod notifications;
pub mod people;
pub mod scratch;
pub mod studies;
pub mod team_admin;
pub mod teams;
pub mod workspaces;

#[cfg(feature = "ssr")]
use crate::error::AppError;
#[cfg(feature = "ssr")]
use std::collections::BTreeMap;
#[cfg(feature = "ssr")]
use std::sync::Arc;

/// A team slug from a request: one that cannot be a slug names no team. (The REST API reads
/// its slugs this way too.)
#[cfg(feature = "ssr")]
pub fn team_slug(raw: &str) -> Result<crate::domain::TeamSlug, AppError> {
    crate::domain::TeamSlug::parse(raw).map_err(|_| AppError::NotFound("This team".into()))
}

/// The names of ticked checkboxes named `field[name]`.
#[cfg(feature = "ssr")]
pub(crate) fn ticked(boxes: Option<BTreeMap<String, String>>) -> Vec<String> {
    boxes.unwrap_or_default().into_iter().filter(|(_, value)| !value.is_empty()).map(|(name, _)| name).collect()
}

#[cfg(feature = "ssr")]
/// Provided as Leptos context to every request, behind one `Arc` (cloned per request).
pub struct Services {
    pub teams: Arc<dyn teams::TeamService>,
    pub password_policy: Arc<dyn account::PasswordPolicyService>,
    pub catalog_admin: Arc<dyn catalog::CatalogAdminService>,
    pub workspaces: Arc<dyn workspaces::WorkspaceService>,
    pub audit: Arc<dyn audit::AuditService>,
    pub costs: Arc<dyn costs::CostService>,
    pub notifications: Arc<dyn notifications::NotificationService>,
    pub team_admin: Arc<dyn team_admin::TeamAdminService>,
    pub people: Arc<dyn people::PeopleService>,
    pub settings: Arc<dyn account::SettingsService>,
    pub tokens: Arc<dyn account::TokenService>,
    pub studies: Arc<dyn studies::StudyService>,
    pub scratch: Arc<dyn scratch::ScratchService>,
    pub airlock: Arc<dyn airlock::AirlockService>,
    pub admin_workspaces: Arc<dyn admin_workspaces::AdminWorkspaceService>,
    pub sign_in_methods: crate::domain::SignInMethods,
    pub content_security_policy: crate::csp::ContentSecurityPolicy,
}

#[cfg(feature = "ssr")]
/// The services from context. Missing context is a wiring bug, reported as `Internal`.
pub fn services() -> Result<Arc<Services>, AppError> {
    leptos::prelude::use_context::<Arc<Services>>().ok_or_else(|| {
        tracing::error!("Services were not provided as Leptos context");
        AppError::Internal
    })
}
