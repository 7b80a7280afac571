//! The catalog (admins): import Service Catalog versions, approve or retire them, configurations and their idle policies.

// The browser's half of a form's server function takes one argument per field (the
// `#[allow]` on the function reaches only the server's half).
#![cfg_attr(feature = "hydrate", allow(clippy::too_many_arguments))]

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use crate::caller::as_admin;
#[cfg(feature = "ssr")]
use crate::domain::CurrentUser;
use crate::domain::configurations::Configuration;
#[cfg(feature = "ssr")]
use crate::domain::configurations::ConfigurationForm;
use crate::domain::workspace_types::CatalogOverview;
#[cfg(feature = "ssr")]
use crate::domain::workspace_types::TypeStatus;
use crate::domain::workspace_types::WorkspaceType;
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// The admin's side of the catalog. Callers have checked that the user is an admin.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait CatalogAdminService: Send + Sync {
    async fn overview(&self) -> Result<CatalogOverview, AppError>;
    /// Imports a product version as a workspace type (again: the existing type).
    async fn import(&self, admin: &CurrentUser, product_id: &str, version_id: &str) -> Result<WorkspaceType, AppError>;
    async fn set_status(&self, admin: &CurrentUser, type_id: i64, status: TypeStatus) -> Result<WorkspaceType, AppError>;
    /// "Must upgrade by" (`YYYY-MM-DD`, today or later; empty clears it): the date its
    /// workspaces' owners are asked to upgrade by once a newer version is approved. Audited.
    async fn set_upgrade_by(&self, admin: &CurrentUser, type_id: i64, by: &str) -> Result<(), AppError>;
    /// A configuration for an approved type; `Invalid` names each bad field.
    async fn create_configuration(&self, admin: &CurrentUser, type_id: i64, form: ConfigurationForm) -> Result<Configuration, AppError>;
    /// Changes how long a configuration's workspaces may stay idle (audited).
    async fn set_idle_policy(
        &self,
        admin: &CurrentUser,
        configuration_id: i64,
        form: crate::domain::idle::IdlePolicyForm,
    ) -> Result<Configuration, AppError>;
}

#[server(endpoint = "admin/catalog")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_catalog_overview() -> Result<CatalogOverview, AppError> {
    as_admin(|_| async move { services()?.catalog_admin.overview().await }).await
}

#[server(endpoint = "admin/import_version")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn import_version(product_id: String, version_id: String) -> Result<WorkspaceType, AppError> {
    as_admin(|admin| async move { services()?.catalog_admin.import(&admin, &product_id, &version_id).await }).await
}

#[server(endpoint = "admin/approve_type")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn approve_type(type_id: i64) -> Result<WorkspaceType, AppError> {
    as_admin(|admin| async move { services()?.catalog_admin.set_status(&admin, type_id, TypeStatus::Approved).await }).await
}

/// "Must upgrade by": `by` is `YYYY-MM-DD`, or empty to clear it.
#[server(endpoint = "admin/set_upgrade_by")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_upgrade_by(type_id: i64, #[server(default)] by: String) -> Result<(), AppError> {
    as_admin(|admin| async move { services()?.catalog_admin.set_upgrade_by(&admin, type_id, &by).await }).await
}

#[server(endpoint = "admin/retire_type")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn retire_type(type_id: i64) -> Result<WorkspaceType, AppError> {
    as_admin(|admin| async move { services()?.catalog_admin.set_status(&admin, type_id, TypeStatus::Retired).await }).await
}

#[server(endpoint = "admin/create_configuration")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
#[allow(clippy::too_many_arguments)] // one argument per form field
pub async fn create_configuration(
    type_id: i64,
    name: String,
    #[server(default)] description: String,
    #[server(default)] parameters: Option<BTreeMap<String, String>>,
    #[server(default)] allowed_roles: Option<BTreeMap<String, String>>,
    #[server(default)] allowed_teams: Option<BTreeMap<String, String>>,
    #[server(default)] tags: String,
    #[server(default)] estimated_hourly_cost: String,
    #[server(default)] idle_stop_after: String,
    #[server(default)] idle_cpu_percent: String,
    #[server(default)] idle_max_running_hours: String,
    #[server(default)] idle_nightly_stop: String,
    #[server(default)] idle_stop_on_sign_out: String,
    #[server(default)] size_parameter: String,
    #[server(default)] sizes: String,
) -> Result<Configuration, AppError> {
    as_admin(|admin| async move {
        let form = crate::domain::configurations::ConfigurationForm {
            name,
            description,
            parameters: parameters.unwrap_or_default(),
            allowed_roles: allowed_roles.unwrap_or_default(),
            allowed_teams: allowed_teams.unwrap_or_default(),
            tags,
            estimated_hourly_cost,
            idle_stop_after,
            idle_cpu_percent,
            idle_max_running_hours,
            idle_nightly_stop,
            idle_stop_on_sign_out,
            size_parameter,
            sizes,
        };
        services()?.catalog_admin.create_configuration(&admin, type_id, form).await
    })
    .await
}

#[server(endpoint = "admin/set_idle_policy")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_idle_policy(
    configuration_id: i64,
    #[server(default)] idle_stop_after: String,
    #[server(default)] idle_cpu_percent: String,
    #[server(default)] idle_max_running_hours: String,
    #[server(default)] idle_nightly_stop: String,
    #[server(default)] idle_stop_on_sign_out: String,
) -> Result<Configuration, AppError> {
    as_admin(|admin| async move {
        let form = crate::domain::idle::IdlePolicyForm {
            stop_after: idle_stop_after,
            cpu_percent: idle_cpu_percent,
            max_running_hours: idle_max_running_hours,
            nightly_stop: idle_nightly_stop,
            stop_on_sign_out: idle_stop_on_sign_out,
        };
        services()?.catalog_admin.set_idle_policy(&admin, configuration_id, form).await
    })
    .await
}
