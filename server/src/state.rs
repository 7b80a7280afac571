//! The state every handler and middleware reads. It holds no logic: the router is built in
//! `startup`, and everything here points down to services, repositories and AWS adapters.

use crate::auth::jwks::TokenVerifier;
use crate::auth::service::AuthService;
use crate::auth::sso::SsoProvider;
use app::features::Services;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use std::sync::Arc;

/// What every handler reads, behind one `Arc`: axum clones the state for each extractor and
/// middleware of every request, and a profile of `/` showed those clones (and their drops).
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

pub struct SharedState {
    pub leptos_options: LeptosOptions,
    pub db: PgPool,
    pub auth: Arc<AuthService>,
    pub verifier: Arc<TokenVerifier>,
    /// Single sign-on, when an OpenID provider is configured.
    pub sso: Option<Arc<SsoProvider>>,
    pub password_sign_in: bool,
    /// The configured public URL; otherwise the request's Host is used.
    pub public_url: Option<String>,
    pub secure_cookies: bool,
    pub services: Arc<Services>,
    /// Turns `/api/v1` bearer tokens into users.
    pub tokens: Arc<crate::services::tokens::ApiTokens>,
    /// The catalog as one YAML file (`/api/v1/catalog/export` and `apply`).
    pub catalog_code: Arc<crate::services::catalog_code::CatalogCode>,
    /// Changes made by any process (cache invalidation, live workspace pages).
    pub changes: crate::changes::Changes,
    /// Turns true when the process starts shutting down: live streams end with a retry hint.
    pub shutting_down: tokio::sync::watch::Receiver<bool>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
