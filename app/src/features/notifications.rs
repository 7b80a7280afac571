//! Where notices go (admins): Slack, Teams and webhook targets.

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use crate::caller::as_admin;
#[cfg(feature = "ssr")]
use crate::domain::CurrentUser;
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait NotificationService: Send + Sync {
    /// Every notification target. Admins only.
    async fn targets(&self, admin: &CurrentUser) -> Result<Vec<crate::domain::notifications::NotificationTarget>, AppError>;
    /// Registers a webhook: its URL goes to SSM as a SecureString. Audited.
    async fn add_target(&self, admin: &CurrentUser, form: crate::domain::notifications::TargetForm) -> Result<i64, AppError>;
    /// Removes a target and its secret. Audited.
    async fn remove_target(&self, admin: &CurrentUser, id: i64) -> Result<(), AppError>;
    /// Posts a test message now and says how it went.
    async fn send_test(&self, admin: &CurrentUser, id: i64) -> Result<String, AppError>;
}

#[server(endpoint = "admin/notifications")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_notification_targets() -> Result<Vec<crate::domain::notifications::NotificationTarget>, AppError> {
    as_admin(|admin| async move { services()?.notifications.targets(&admin).await }).await
}

#[server(endpoint = "admin/add_notification_target")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn add_notification_target(
    name: String,
    platform: String,
    #[server(default)] team: String,
    webhook_url: String,
    #[server(default)] events: Option<BTreeMap<String, String>>,
) -> Result<i64, AppError> {
    as_admin(|admin| async move {
        let form = crate::domain::notifications::TargetForm { name, platform, team, webhook_url, events: events.unwrap_or_default() };
        services()?.notifications.add_target(&admin, form).await
    })
    .await
}

#[server(endpoint = "admin/remove_notification_target")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn remove_notification_target(id: i64) -> Result<(), AppError> {
    as_admin(|admin| async move { services()?.notifications.remove_target(&admin, id).await }).await
}

#[server(endpoint = "admin/test_notification_target")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn test_notification_target(id: i64) -> Result<String, AppError> {
    as_admin(|admin| async move { services()?.notifications.send_test(&admin, id).await }).await
}
