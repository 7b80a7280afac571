use super::dates;
use app::domain::parameters::ParameterSpec;
use app::domain::workspace_types::{TypeStatus, WorkspaceType};
use sqlx::PgExecutor;
use sqlx::types::Json;

/// A type's columns as the queries select them.
struct TypeRow {
    id: i64,
    product_id: String,
    product_name: String,
    version_id: String,
    version_name: String,
    description: String,
    status: String,
    parameters: Json<Vec<ParameterSpec>>,
    has_stop_start: bool,
    upgrade_by: Option<time::Date>,
}

impl TryFrom<TypeRow> for WorkspaceType {
    type Error = sqlx::Error;

    fn try_from(row: TypeRow) -> Result<WorkspaceType, sqlx::Error> {
        let status = row.status;
        Ok(WorkspaceType {
            id: row.id,
            product_id: row.product_id,
            product_name: row.product_name,
            version_id: row.version_id,
            version_name: row.version_name,
            description: row.description,
            status: TypeStatus::parse(&status).ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status}").into()))?,
            parameters: row.parameters.0,
            has_stop_start: row.has_stop_start,
            upgrade_by: row.upgrade_by.map(dates::day),
        })
    }
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
    sqlx::query_as!(
        TypeRow,
        r#"INSERT INTO workspace_types (product_id, product_name, version_id, version_name, description, parameters, has_stop_start, imported_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT ON CONSTRAINT workspace_types_one_per_version DO UPDATE SET product_id = EXCLUDED.product_id
           RETURNING id, product_id, product_name, version_id, version_name, description, status,
             parameters AS "parameters: Json<Vec<ParameterSpec>>", has_stop_start, upgrade_by"#,
        new.product_id,
        new.product_name,
        new.version_id,
        new.version_name,
        new.description,
        Json(new.parameters) as _,
        new.has_stop_start,
        new.imported_by,
    )
    .fetch_one(db)
    .await?
    .try_into()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<WorkspaceType>, sqlx::Error> {
    sqlx::query_as!(
        TypeRow,
        r#"SELECT id, product_id, product_name, version_id, version_name, description, status,
             parameters AS "parameters: Json<Vec<ParameterSpec>>", has_stop_start, upgrade_by
           FROM workspace_types ORDER BY product_name, version_name"#
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(WorkspaceType::try_from)
    .collect()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<WorkspaceType>, sqlx::Error> {
    sqlx::query_as!(
        TypeRow,
        r#"SELECT id, product_id, product_name, version_id, version_name, description, status,
             parameters AS "parameters: Json<Vec<ParameterSpec>>", has_stop_start, upgrade_by
           FROM workspace_types WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await?
    .map(WorkspaceType::try_from)
    .transpose()
}

/// Moves a type to `next` only if it is still in `from` (a concurrent change wins once).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn change_status(
    db: impl PgExecutor<'_>,
    id: i64,
    from: TypeStatus,
    next: TypeStatus,
) -> Result<Option<WorkspaceType>, sqlx::Error> {
    sqlx::query_as!(
        TypeRow,
        r#"UPDATE workspace_types SET status = $3, status_changed_at = now() WHERE id = $1 AND status = $2
           RETURNING id, product_id, product_name, version_id, version_name, description, status,
             parameters AS "parameters: Json<Vec<ParameterSpec>>", has_stop_start, upgrade_by"#,
        id,
        from.as_str(),
        next.as_str(),
    )
    .fetch_optional(db)
    .await?
    .map(WorkspaceType::try_from)
    .transpose()
}

/// "Must upgrade by": the date by which this version's workspaces must move on (`None`
/// clears it); false when there is no such type.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_upgrade_by(db: impl PgExecutor<'_>, id: i64, by: Option<time::Date>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("UPDATE workspace_types SET upgrade_by = $2 WHERE id = $1", id, by).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Serialises catalog applies until the transaction ends: each plans against what the one
/// before it left.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_catalog(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('atrium.catalog.apply'))").execute(db).await?;
    Ok(())
}
