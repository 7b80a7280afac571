use super::database_error;
use crate::repo::audit;
use app::domain::CurrentUser;
use app::domain::audit::{AuditFilter, AuditPage};
use app::error::AppError;
use app::features::audit::AuditService;
use sqlx::PgPool;

pub const PER_PAGE: i64 = 50;

pub struct AuditLog {
    db: PgPool,
}

impl AuditLog {
    pub fn new(db: PgPool) -> Self {
        AuditLog { db }
    }

    /// Every row matching the filter (for CSV export), newest first, at most `limit`.
    #[tracing::instrument(skip_all)]
    pub async fn all(&self, admin: &CurrentUser, filter: AuditFilter, limit: i64) -> Result<Vec<app::domain::audit::AuditRow>, AppError> {
        let filter = checked(admin, filter)?;
        Ok(audit::search(&self.db, &filter, limit, 0).await.map_err(database_error)?.0)
    }
}

fn checked(admin: &CurrentUser, filter: AuditFilter) -> Result<AuditFilter, AppError> {
    app::caller::must_be_admin(admin)?;
    let filter = filter.normalised();
    if !filter.dates_are_valid() {
        return Err(AppError::BadRequest("Give dates as YYYY-MM-DD.".into()));
    }
    Ok(filter)
}

#[async_trait::async_trait]
impl AuditService for AuditLog {
    #[tracing::instrument(skip_all)]
    async fn search(&self, admin: &CurrentUser, filter: AuditFilter, page: i64) -> Result<AuditPage, AppError> {
        let filter = checked(admin, filter)?;
        let page = page.max(1);
        let (rows, total) = audit::search(&self.db, &filter, PER_PAGE, (page - 1) * PER_PAGE).await.map_err(database_error)?;
        Ok(AuditPage { rows, total, page, per_page: PER_PAGE })
    }
}
