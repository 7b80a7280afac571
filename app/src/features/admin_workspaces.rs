//! Every workspace (admins): filters, resync with AWS, transfer and force terminate.

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use crate::caller::as_admin;
#[cfg(feature = "ssr")]
use crate::domain::CurrentUser;
use crate::error::AppError;
use leptos::prelude::*;

/// Every workspace, as admins look after them. Every method checks that the caller is an admin.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AdminWorkspaceService: Send + Sync {
    async fn workspaces(
        &self,
        admin: &CurrentUser,
        filter: crate::domain::workspace::AdminWorkspaceFilter,
        page: i64,
    ) -> Result<crate::domain::workspace::AdminWorkspacePage, AppError>;
    /// Compares the workspace with AWS now; what was found, in words. Audited.
    async fn resync(&self, admin: &CurrentUser, id: &str) -> Result<String, AppError>;
    /// Ends a workspace AWS no longer knows, or that is stuck, without asking AWS. Audited.
    async fn force_terminate(&self, admin: &CurrentUser, id: &str) -> Result<(), AppError>;
    /// Gives a live workspace to another member of its team (a leaver's, say). Audited.
    async fn transfer(&self, admin: &CurrentUser, id: &str, to: &str) -> Result<(), AppError>;
}

#[server(endpoint = "admin/workspaces")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_admin_workspaces(
    #[server(default)] team: String,
    #[server(default)] owner: String,
    #[server(default)] type_label: String,
    #[server(default)] state: String,
    #[server(default)] drift_only: bool,
    #[server(default)] page: i64,
) -> Result<crate::domain::workspace::AdminWorkspacePage, AppError> {
    as_admin(|admin| async move {
        let filter = crate::domain::workspace::AdminWorkspaceFilter {
            team: Some(team),
            owner: Some(owner),
            type_label: Some(type_label),
            state: Some(state),
            drift_only,
        };
        services()?.admin_workspaces.workspaces(&admin, filter, page).await
    })
    .await
}

#[server(endpoint = "admin/resync_workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn resync_workspace(id: String) -> Result<String, AppError> {
    as_admin(|admin| async move { services()?.admin_workspaces.resync(&admin, &id).await }).await
}

#[server(endpoint = "admin/force_terminate_workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn force_terminate_workspace(id: String) -> Result<(), AppError> {
    as_admin(|admin| async move { services()?.admin_workspaces.force_terminate(&admin, &id).await }).await
}

#[server(endpoint = "admin/transfer_workspace")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn transfer_workspace(id: String, to: String) -> Result<(), AppError> {
    as_admin(|admin| async move { services()?.admin_workspaces.transfer(&admin, &id, &to).await }).await
}
