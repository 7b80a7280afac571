use super::database_error;
use crate::aws::service_catalog::{CatalogError, ServiceCatalog};
use crate::repo::configurations::{self, SaveError};
use crate::repo::workspace_types::{self, NewWorkspaceType};
use crate::repo::{audit, teams};
use app::caller::must_be_admin;
use app::domain::CurrentUser;
use app::domain::configurations::{Configuration, ConfigurationDraft, ConfigurationForm};
use app::domain::idle::{IdlePolicy, IdlePolicyForm};
use app::domain::notifications::Notice;
use app::domain::notifications::NotificationEvent;
use app::domain::workspace_types::{CatalogOverview, TypeStatus, WorkspaceType};
use app::error::AppError;
use app::error::FieldError;
use app::features::catalog::CatalogAdminService;
use sqlx::PgPool;
use std::sync::Arc;

pub struct CatalogAdmin {
    db: PgPool,
    catalog: Arc<dyn ServiceCatalog>,
}

impl CatalogAdmin {
    pub fn new(db: PgPool, catalog: Arc<dyn ServiceCatalog>) -> Self {
        CatalogAdmin { db, catalog }
    }
}

pub(crate) fn catalog_error(error: CatalogError) -> AppError {
    match error {
        CatalogError::NotFound(what) => AppError::NotFound(what),
        CatalogError::Unavailable(source) => {
            tracing::warn!(error = ?source, "Service Catalog is unreachable");
            AppError::Unavailable("Service Catalog".into())
        }
        CatalogError::Refused(permission) => {
            tracing::error!(%permission, "Service Catalog refused the portal's role");
            AppError::Unavailable(format!("Service Catalog (the portal's role is missing the permission {permission})"))
        }
        CatalogError::Unexpected(source) => {
            tracing::error!(error = ?source, "Service Catalog call failed");
            AppError::Internal
        }
    }
}

#[async_trait::async_trait]
impl CatalogAdminService for CatalogAdmin {
    #[tracing::instrument(skip(self))]
    async fn overview(&self) -> Result<CatalogOverview, AppError> {
        let products = self.catalog.products().await.map_err(catalog_error)?;
        let types = workspace_types::list(&self.db).await.map_err(database_error)?;
        let configurations = configurations::list(&self.db).await.map_err(database_error)?;
        let teams = teams::list_all(&self.db).await.map_err(database_error)?.iter().map(teams::Team::summary).collect();
        Ok(CatalogOverview { products, types, configurations, teams })
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn import(&self, admin: &CurrentUser, product_id: &str, version_id: &str) -> Result<WorkspaceType, AppError> {
        must_be_admin(admin)?;
        // Service Catalog's ids (`prod-…`, `pa-…`): anything else names no version, and would
        // fail in the SDK before reaching AWS.
        let is_id = |id: &str| (1..=100).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !is_id(product_id) || !is_id(version_id) {
            return Err(AppError::NotFound("This product version".into()));
        }
        let details = self.catalog.version_details(product_id, version_id).await.map_err(catalog_error)?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let imported = workspace_types::import(
            &mut *tx,
            &NewWorkspaceType {
                product_id,
                product_name: &details.product.name,
                version_id,
                version_name: &details.version.name,
                description: &details.version.description,
                parameters: &details.parameters,
                has_stop_start: details.has_stop_start,
                imported_by: admin.username.as_str(),
            },
        )
        .await
        .map_err(database_error)?;
        let (object, label) = (imported.id.to_string(), format!("{} {}", imported.product_name, imported.version_name));
        audit::record(&mut *tx, &audit::Entry::by(admin, "catalog.import").object("workspace_type", &object).detail(&label))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        tracing::info!(type_id = imported.id, "Imported a workspace type");
        Ok(imported)
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn set_upgrade_by(&self, admin: &CurrentUser, type_id: i64, by: &str) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let by = by.trim();
        let date = if by.is_empty() {
            None
        } else {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let date =
                time::Date::parse(by, &format).map_err(|_| AppError::invalid("by", "Give the date as YYYY-MM-DD, such as 2026-12-31."))?;
            if date < time::OffsetDateTime::now_utc().date() {
                return Err(AppError::invalid("by", "Choose today or a later date."));
            }
            Some(date)
        };
        let workspace_type = workspace_types::find(&self.db, type_id)
            .await
            .map_err(database_error)?
            .ok_or_else(|| AppError::NotFound("This workspace type".into()))?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        workspace_types::set_upgrade_by(&mut *tx, type_id, date).await.map_err(database_error)?;
        let detail =
            format!("{} {}: {}", workspace_type.product_name, workspace_type.version_name, if by.is_empty() { "no deadline" } else { by });
        audit::record(
            &mut *tx,
            &audit::Entry::by(admin, "catalog.upgrade_by").object("workspace_type", &type_id.to_string()).detail(&detail),
        )
        .await
        .map_err(database_error)?;
        tx.commit().await.map_err(database_error)
    }

    #[tracing::instrument(skip_all)]
    async fn set_status(&self, admin: &CurrentUser, type_id: i64, status: TypeStatus) -> Result<WorkspaceType, AppError> {
        must_be_admin(admin)?;
        let current = workspace_types::find(&self.db, type_id)
            .await
            .map_err(database_error)?
            .ok_or_else(|| AppError::NotFound("This workspace type".into()))?;
        if !current.status.can_become(status) {
            return Err(AppError::BadRequest(format!(
                "{} {} is {} and cannot become {}.",
                current.product_name,
                current.version_name,
                current.status.as_str(),
                status.as_str()
            )));
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let changed = workspace_types::change_status(&mut *tx, type_id, current.status, status)
            .await
            .map_err(database_error)?
            .ok_or_else(|| AppError::BadRequest("Someone else changed this workspace type just now; reload and try again.".into()))?;
        let action = if status == TypeStatus::Approved { "catalog.approve" } else { "catalog.retire" };
        let (object, label) = (type_id.to_string(), format!("{} {}", changed.product_name, changed.version_name));
        audit::record(&mut *tx, &audit::Entry::by(admin, action).object("workspace_type", &object).detail(&label))
            .await
            .map_err(database_error)?;
        let (event, verb) = match status {
            TypeStatus::Approved => (NotificationEvent::CatalogApproved, "approved"),
            _ => (NotificationEvent::CatalogRetired, "retired"),
        };
        let notice = Notice {
            event,
            team: None,
            title: format!("{label} was {verb}"),
            text: format!("{} {verb} {label} in the Atrium catalog.", admin.username),
        };
        crate::notifications::publish(&mut *tx, &notice).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(changed)
    }

    #[tracing::instrument(skip(self, admin, form), fields(admin = %admin.username))]
    async fn create_configuration(&self, admin: &CurrentUser, type_id: i64, form: ConfigurationForm) -> Result<Configuration, AppError> {
        must_be_admin(admin)?;
        let workspace_type = workspace_types::find(&self.db, type_id)
            .await
            .map_err(database_error)?
            .ok_or_else(|| AppError::NotFound("This workspace type".into()))?;
        if workspace_type.status != TypeStatus::Approved {
            return Err(AppError::BadRequest(format!(
                "{} {} is {}: approve it before writing configurations.",
                workspace_type.product_name,
                workspace_type.version_name,
                workspace_type.status.as_str()
            )));
        }
        let draft = ConfigurationDraft::parse(&form, &workspace_type.parameters).map_err(AppError::Invalid)?;
        let known = teams::list_all(&self.db).await.map_err(database_error)?;
        let unknown: Vec<FieldError> = draft
            .allowed_teams
            .iter()
            .filter(|slug| !known.iter().any(|team| &team.slug == *slug))
            .map(|slug| FieldError { field: "allowed_teams".into(), message: format!("There is no team \"{slug}\".") })
            .collect();
        if !unknown.is_empty() {
            return Err(AppError::Invalid(unknown));
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let id = configurations::insert(&mut *tx, type_id, &draft, admin.username.as_str()).await.map_err(|error| match error {
            SaveError::NameTaken => AppError::Invalid(vec![FieldError {
                field: "name".into(),
                message: format!(
                    "A configuration named \"{}\" exists already (perhaps retired by a catalog file; a file that lists it brings it back).",
                    draft.name
                ),
            }]),
            SaveError::Database(e) => database_error(e),
        })?;
        let object = id.to_string();
        audit::record(&mut *tx, &audit::Entry::by(admin, "catalog.configure").object("configuration", &object).detail(&draft.name))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        tracing::info!(configuration_id = id, "Created a configuration");
        Ok(Configuration {
            id,
            workspace_type_id: type_id,
            type_label: format!("{} {}", workspace_type.product_name, workspace_type.version_name),
            has_stop_start: workspace_type.has_stop_start,
            mounts_studies: workspace_type.parameters.iter().any(|p| p.key == app::domain::studies::STUDIES_PARAMETER),
            draft,
        })
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn set_idle_policy(&self, admin: &CurrentUser, configuration_id: i64, form: IdlePolicyForm) -> Result<Configuration, AppError> {
        must_be_admin(admin)?;
        let policy = IdlePolicy::parse(&form).map_err(AppError::Invalid)?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        if !configurations::set_idle_policy(&mut *tx, configuration_id, &policy).await.map_err(database_error)? {
            return Err(AppError::NotFound("This configuration".into()));
        }
        let changed = configurations::find(&mut *tx, configuration_id).await.map_err(database_error)?.ok_or(AppError::Internal)?;
        let (object, detail) = (configuration_id.to_string(), changed.draft.idle.describe_for(changed.has_stop_start));
        audit::record(&mut *tx, &audit::Entry::by(admin, "catalog.idle_policy").object("configuration", &object).detail(&detail))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(changed)
    }
}
