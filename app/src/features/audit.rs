//! The audit log (admins).

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use crate::caller::as_admin;
#[cfg(feature = "ssr")]
use crate::domain::CurrentUser;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AuditService: Send + Sync {
    /// One page (from 1) of audit rows matching the filter, newest first. Admins only.
    async fn search(
        &self,
        admin: &CurrentUser,
        filter: crate::domain::audit::AuditFilter,
        page: i64,
    ) -> Result<crate::domain::audit::AuditPage, AppError>;
}

#[server(endpoint = "admin/audit")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_audit_log(filter: crate::domain::audit::AuditFilter, page: i64) -> Result<crate::domain::audit::AuditPage, AppError> {
    as_admin(|admin| async move { services()?.audit.search(&admin, filter, page).await }).await
}
