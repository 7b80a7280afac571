use app::domain::parameters::ParameterSpec;
use app::domain::workspace_types::{TypeStatus, WorkspaceType};
use sqlx::{PgExecutor, Row};

const COLUMNS: &str = "id, product_id, product_name, version_id, version_name, description, status, parameters, has_stop_start, \
    to_char(upgrade_by, 'YYYY-MM-DD') AS upgrade_by";

fn from_row(row: &sqlx::postgres::PgRow) -> Result<WorkspaceType, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let parameters: sqlx::types::Json<Vec<ParameterSpec>> = row.try_get("parameters")?;
    Ok(WorkspaceType {
        id: row.try_get("id")?,
        product_id: row.try_get("product_id")?,
        product_name: row.try_get("product_name")?,
        version_id: row.try_get("version_id")?,
        version_name: row.try_get("version_name")?,
        description: row.try_get("description")?,
        status: TypeStatus::parse(&status).ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status}").into()))?,
        parameters: parameters.0,
        has_stop_start: row.try_get("has_stop_start")?,
        upgrade_by: row.try_get("upgrade_by")?,
    })
}

pub struct NewWorkspaceType<'a> {
    pub product_id: &'a str,
    pub product_name: &'a str,
    pub version_id: &'a str,
    pub version_name: &'a str,
    pub description: &'a str,
    pub parameters: &'a [ParameterSpec],
    pub has_stop_start: bool,
    pub imported_by: &'a str,
}

/// Imports a version, or returns the existing type when it was imported before.
#[tracing::instrument(skip(db, new), fields(product_id = new.product_id, version_id = new.version_id))]
pub async fn import(db: impl PgExecutor<'_>, new: &NewWorkspaceType<'_>) -> Result<WorkspaceType, sqlx::Error> {
    let row = sqlx::query(&format!(
        "INSERT INTO workspace_types (product_id, product_name, version_id, version_name, description, parameters, has_stop_start, imported_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT ON CONSTRAINT workspace_types_one_per_version DO UPDATE SET product_id = EXCLUDED.product_id \
         RETURNING {COLUMNS}"
    ))
    .bind(new.product_id)
    .bind(new.product_name)
    .bind(new.version_id)
    .bind(new.version_name)
    .bind(new.description)
    .bind(sqlx::types::Json(new.parameters))
    .bind(new.has_stop_start)
    .bind(new.imported_by)
    .fetch_one(db)
    .await?;
    from_row(&row)
}

pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<WorkspaceType>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM workspace_types ORDER BY product_name, version_name"))
        .fetch_all(db)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<WorkspaceType>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM workspace_types WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Moves a type to `next` only if it is still in `from` (a concurrent change wins once).
pub async fn change_status(
    db: impl PgExecutor<'_>,
    id: i64,
    from: TypeStatus,
    next: TypeStatus,
) -> Result<Option<WorkspaceType>, sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE workspace_types SET status = $3, status_changed_at = now() WHERE id = $1 AND status = $2 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(from.as_str())
    .bind(next.as_str())
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// "Must upgrade by": the date by which this version's workspaces must move on (`None`
/// clears it); false when there is no such type.
pub async fn set_upgrade_by(db: impl PgExecutor<'_>, id: i64, by: Option<time::Date>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE workspace_types SET upgrade_by = $2 WHERE id = $1").bind(id).bind(by).execute(db).await?;
    Ok(done.rows_affected() == 1)
}
