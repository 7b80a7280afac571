//! Workspaces and their events. Every change of state goes through `transition`, which checks
//! it against the lifecycle and records it in `workspace_events` in the caller's transaction.

use super::dates;
use crate::aws::team_role::TeamRole;
use app::domain::TeamSlug;
use app::domain::configurations::SizeOption;
use app::domain::workspace::{WorkspaceEvent, WorkspaceEventView, WorkspaceState, WorkspaceView};
use sqlx::types::Json;
use sqlx::{PgExecutor, Postgres, Transaction};
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime, Time};

mod admin;
mod idle;
mod shares;
mod views;

pub use admin::*;
pub use idle::*;
pub use shares::*;
pub use views::*;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("a live workspace has this name")]
    NameTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub struct NewWorkspace<'a> {
    pub team: &'a TeamSlug,
    pub owner: &'a str,
    pub name: &'a str,
    pub configuration_id: i64,
    pub idempotency_key: &'a str,
    pub parameter_values: &'a BTreeMap<String, String>,
}

/// A state as stored (text), read back.
fn parse_state(state: &str) -> Result<WorkspaceState, sqlx::Error> {
    WorkspaceState::parse(state).ok_or_else(|| sqlx::Error::Decode(format!("unknown state {state}").into()))
}

/// Serialises launches by one user, so the quota check and the insert cannot interleave.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_owner(tx: &mut Transaction<'_, Postgres>, owner: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT username FROM users WHERE username = $1 FOR UPDATE", owner).fetch_optional(&mut **tx).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_active(db: impl PgExecutor<'_>, owner: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM workspaces WHERE owner = $1 AND state NOT IN ('terminated', 'failed')"#, owner)
        .fetch_one(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_key(db: impl PgExecutor<'_>, owner: &str, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM workspaces WHERE owner = $1 AND idempotency_key = $2", owner, key).fetch_optional(db).await
}

/// Inserts a requested workspace and its first event.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(tx: &mut Transaction<'_, Postgres>, new: &NewWorkspace<'_>) -> Result<String, LaunchError> {
    let id = sqlx::query_scalar!(
        "INSERT INTO workspaces (team_slug, owner, name, configuration_id, idempotency_key, parameter_values) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        new.team.as_str(),
        new.owner,
        new.name,
        new.configuration_id,
        new.idempotency_key,
        Json(new.parameter_values) as _,
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.constraint() == Some("workspaces_live_name") => LaunchError::NameTaken,
        _ => LaunchError::Database(error),
    })?;
    sqlx::query!(
        "INSERT INTO workspace_events (workspace_id, from_state, to_state, message) VALUES ($1, NULL, 'requested', 'Launch requested')",
        id
    )
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error(transparent)]
    Illegal(#[from] app::domain::workspace::IllegalTransition),
    #[error("the workspace is no longer {0}")]
    Moved(WorkspaceState),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What a transition also records.
#[derive(Default)]
pub struct Changes<'a> {
    pub message: Option<&'a str>,
    pub record_id: Option<&'a str>,
    pub provisioned_product_id: Option<&'a str>,
    pub outputs: Option<&'a BTreeMap<String, String>>,
    pub failure_message: Option<&'a str>,
}

/// Moves the workspace from `from` by `event`, if it is still in `from`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn transition(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
    from: WorkspaceState,
    event: WorkspaceEvent,
    changes: Changes<'_>,
) -> Result<WorkspaceState, TransitionError> {
    let to = from.transition(event)?;
    let updated = sqlx::query!(
        "UPDATE workspaces SET state = $3, updated_at = now(), \
         record_id = COALESCE($4, record_id), provisioned_product_id = COALESCE($5, provisioned_product_id), \
         outputs = COALESCE($6, outputs), failure_message = COALESCE($7, failure_message) \
         WHERE id = $1 AND state = $2",
        id,
        from.as_str(),
        to.as_str(),
        changes.record_id,
        changes.provisioned_product_id,
        changes.outputs.map(Json) as _,
        changes.failure_message,
    )
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(TransitionError::Moved(from));
    }
    sqlx::query!(
        "INSERT INTO workspace_events (workspace_id, from_state, to_state, message) VALUES ($1, $2, $3, $4)",
        id,
        from.as_str(),
        to.as_str(),
        changes.message.or(changes.failure_message),
    )
    .execute(&mut **tx)
    .await?;
    Ok(to)
}

/// Records an event that leaves the workspace in `state` (a finding, a notice).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn add_event(db: impl PgExecutor<'_>, id: &str, state: &str, message: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("INSERT INTO workspace_events (workspace_id, from_state, to_state, message) VALUES ($1, $2, $2, $3)", id, state, message)
        .execute(db)
        .await?;
    Ok(())
}

/// Clears the health alarms: they belong to the run that raised them.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn clear_health_alarms(db: impl PgExecutor<'_>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET health_alarms = '{}' WHERE id = $1", id).execute(db).await?;
    Ok(())
}

/// A fresh random token (a UUID) for a worker's job.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn new_request_token(db: impl PgExecutor<'_>) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT gen_random_uuid()::text AS "token!""#).fetch_one(db).await
}

/// (team, name, state, owner) of a workspace.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn team_name_state_owner(db: impl PgExecutor<'_>, id: &str) -> Result<Option<(String, String, String, String)>, sqlx::Error> {
    let row = sqlx::query!("SELECT team_slug, name, state, owner FROM workspaces WHERE id = $1", id).fetch_optional(db).await?;
    Ok(row.map(|r| (r.team_slug, r.name, r.state, r.owner)))
}
/// Everything the worker needs to act on a workspace in its team's account.
#[derive(Debug, Clone)]
pub struct WorkContext {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub team: String,
    pub state: WorkspaceState,
    pub role: TeamRole,
    pub product_id: String,
    pub version_id: String,
    pub configuration_name: String,
    pub parameter_values: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub record_id: Option<String>,
    pub provisioned_product_id: Option<String>,
    pub has_stop_start: bool,
    /// "Linux workstation (EC2) v2": the workspace's type, for metrics.
    pub type_label: String,
    /// Since the launch was requested.
    pub age_seconds: f64,
    /// The version or size it is being moved to, while it is updating.
    pub pending_update: Option<PendingUpdate>,
}

/// An upgrade or resize AWS has not done yet: applied to the workspace only once it has.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingUpdate {
    /// "upgraded to Linux workstation (EC2) v2", "resized to t3.large", for its events.
    pub description: String,
    pub type_id: i64,
    pub version_id: String,
    /// Every parameter value it will have.
    pub parameters: BTreeMap<String, String>,
    /// The new size's estimate; `None`: unchanged.
    pub hourly_cost_cents: Option<u32>,
}

/// Moves an available workspace to `updating` with the change AWS is to make.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn begin_update(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
    update: &PendingUpdate,
    message: &str,
) -> Result<(), TransitionError> {
    transition(
        tx,
        id,
        WorkspaceState::Available,
        WorkspaceEvent::UpdateRequested,
        Changes { message: Some(message), ..Changes::default() },
    )
    .await?;
    sqlx::query!("UPDATE workspaces SET pending_update = $2 WHERE id = $1", id, Json(update) as _).execute(&mut **tx).await?;
    Ok(())
}

/// What an upgrade or resize starts from.
pub struct UpdateInputs {
    /// The version it runs.
    pub type_id: i64,
    pub version_id: String,
    pub configuration_id: i64,
    pub parameters: BTreeMap<String, String>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_inputs(db: impl PgExecutor<'_>, id: &str) -> Result<Option<UpdateInputs>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT w.workspace_type_id, t.version_id, w.configuration_id,
                  w.parameter_values AS "parameter_values: Json<BTreeMap<String, String>>"
           FROM workspaces w JOIN workspace_types t ON t.id = w.workspace_type_id WHERE w.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| UpdateInputs {
        type_id: row.workspace_type_id,
        version_id: row.version_id,
        configuration_id: row.configuration_id,
        parameters: row.parameter_values.0,
    }))
}

/// AWS made the change: the workspace now runs the new version, parameters and estimate.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn apply_update(db: impl PgExecutor<'_>, id: &str, update: &PendingUpdate) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE workspaces SET workspace_type_id = $2, parameter_values = $3, \
         estimated_hourly_cost_cents = COALESCE($4, estimated_hourly_cost_cents), pending_update = NULL WHERE id = $1",
        id,
        update.type_id,
        Json(&update.parameters) as _,
        update.hourly_cost_cents.map(|c| i32::try_from(c).unwrap_or(i32::MAX)),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// AWS did not make the change: the workspace stays as it was.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn drop_update(db: impl PgExecutor<'_>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET pending_update = NULL WHERE id = $1", id).execute(db).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn work_context(db: impl PgExecutor<'_>, id: &str) -> Result<Option<WorkContext>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT w.id, w.name, w.owner, w.team_slug, w.state, w.record_id, w.provisioned_product_id, t.has_stop_start,
                  tm.role_arn, tm.external_id, t.product_id, t.version_id,
                  c.name AS configuration_name, w.parameter_values AS "parameter_values: Json<BTreeMap<String, String>>",
                  c.tags AS "tags: Json<BTreeMap<String, String>>",
                  t.product_name || ' ' || t.version_name AS "type_label!",
                  extract(epoch FROM now() - w.created_at)::float8 AS "age_seconds!",
                  w.pending_update AS "pending_update: Json<PendingUpdate>"
           FROM workspaces w JOIN teams tm ON tm.slug = w.team_slug
           JOIN workspace_configurations c ON c.id = w.configuration_id JOIN workspace_types t ON t.id = w.workspace_type_id
           WHERE w.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(WorkContext {
        id: row.id,
        name: row.name,
        owner: row.owner,
        team: row.team_slug,
        state: parse_state(&row.state)?,
        role: TeamRole::new(row.role_arn, row.external_id),
        product_id: row.product_id,
        version_id: row.version_id,
        configuration_name: row.configuration_name,
        parameter_values: row.parameter_values.0,
        tags: row.tags.0,
        record_id: row.record_id,
        provisioned_product_id: row.provisioned_product_id,
        has_stop_start: row.has_stop_start,
        type_label: row.type_label,
        age_seconds: row.age_seconds,
        pending_update: row.pending_update.map(|p| p.0),
    }))
}
