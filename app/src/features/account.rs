//! The signed-in person: who they are, how they sign in, their settings and their API tokens.

// The browser's half of a form's server function takes one argument per field (the
// `#[allow]` on the function reaches only the server's half).
#![cfg_attr(feature = "hydrate", allow(clippy::too_many_arguments))]

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use crate::caller::as_user;
#[cfg(feature = "ssr")]
use crate::caller::signed_in_user;
#[cfg(feature = "ssr")]
use crate::caller::with_status;
use crate::domain::CurrentUser;
use crate::domain::PasswordPolicy;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait PasswordPolicyService: Send + Sync {
    async fn password_policy(&self) -> Result<PasswordPolicy, AppError>;
}

/// Each user's own settings.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SettingsService: Send + Sync {
    async fn settings(&self, user: &CurrentUser) -> Result<crate::domain::settings::UserSettings, AppError>;
    async fn save(
        &self,
        user: &CurrentUser,
        form: crate::domain::settings::SettingsForm,
    ) -> Result<crate::domain::settings::UserSettings, AppError>;
}

/// Personal access tokens for the REST API. Each method acts for the caller only, but
/// admins may revoke anyone's.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait TokenService: Send + Sync {
    async fn tokens(&self, user: &CurrentUser) -> Result<crate::domain::tokens::TokenList, AppError>;
    /// A new token; its secret is in the answer and nowhere else. Audited.
    async fn create(
        &self,
        user: &CurrentUser,
        form: crate::domain::tokens::TokenForm,
    ) -> Result<crate::domain::tokens::CreatedToken, AppError>;
    /// Revokes one of the user's tokens (any token, for an admin). Audited.
    async fn revoke(&self, user: &CurrentUser, id: i64) -> Result<(), AppError>;
}

#[server(endpoint = "whoami")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    Ok(signed_in_user())
}

/// The sign-in methods the landing page offers (anyone may ask).
#[server(endpoint = "sign_in_methods")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn sign_in_methods() -> Result<crate::domain::SignInMethods, AppError> {
    Ok(services()?.sign_in_methods.clone())
}

#[server(endpoint = "password_policy")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_password_policy() -> Result<PasswordPolicy, AppError> {
    with_status(async move { services()?.password_policy.password_policy().await }.await)
}

#[server(endpoint = "settings")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_settings() -> Result<crate::domain::settings::UserSettings, AppError> {
    as_user(|user| async move { services()?.settings.settings(&user).await }).await
}

#[server(endpoint = "save_settings")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn save_settings(
    stop_on_sign_out: String,
    #[server(default)] mail_workspace: String,
    #[server(default)] mail_health: String,
    #[server(default)] mail_budget: String,
) -> Result<crate::domain::settings::UserSettings, AppError> {
    as_user(|user| async move {
        let form = crate::domain::settings::SettingsForm { stop_on_sign_out, mail_workspace, mail_health, mail_budget };
        services()?.settings.save(&user, form).await
    })
    .await
}

#[server(endpoint = "tokens")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_tokens() -> Result<crate::domain::tokens::TokenList, AppError> {
    as_user(|user| async move { services()?.tokens.tokens(&user).await }).await
}

/// The "new token" form: one checkbox per scope.
#[server(endpoint = "create_token")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
#[allow(clippy::too_many_arguments)] // one argument per form field
pub async fn create_token(
    name: String,
    days: String,
    #[server(default)] scope_read: String,
    #[server(default)] scope_workspaces: String,
    #[server(default)] scope_studies: String,
    #[server(default)] scope_teams: String,
    #[server(default)] scope_account: String,
    #[server(default)] scope_admin: String,
) -> Result<crate::domain::tokens::CreatedToken, AppError> {
    as_user(|user| async move {
        let scopes = [
            ("read", scope_read),
            ("workspaces", scope_workspaces),
            ("studies", scope_studies),
            ("teams", scope_teams),
            ("account", scope_account),
            ("admin", scope_admin),
        ]
        .into_iter()
        .filter(|(_, checked)| !checked.trim().is_empty())
        .map(|(scope, _)| scope.to_owned())
        .collect();
        let form = crate::domain::tokens::TokenForm { name, days, scopes };
        services()?.tokens.create(&user, form).await
    })
    .await
}

#[server(endpoint = "revoke_token")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    as_user(|user| async move { services()?.tokens.revoke(&user, id).await }).await
}
