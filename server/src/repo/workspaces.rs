//! Workspaces and their events. Every change of state goes through `transition`, which checks
//! it against the lifecycle and records it in `workspace_events` in the caller's transaction.

use app::domain::TeamSlug;
use app::domain::workspace::{WorkspaceEvent, WorkspaceEventView, WorkspaceState, WorkspaceView};
use sqlx::types::Json;
use sqlx::{PgExecutor, Postgres, Row, Transaction};
use std::collections::BTreeMap;

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

/// Serialises launches by one user, so the quota check and the insert cannot interleave.
pub async fn lock_owner(tx: &mut Transaction<'_, Postgres>, owner: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM users WHERE username = $1 FOR UPDATE").bind(owner).execute(&mut **tx).await?;
    Ok(())
}

pub async fn count_active(db: impl PgExecutor<'_>, owner: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM workspaces WHERE owner = $1 AND state NOT IN ('terminated', 'failed')")
        .bind(owner)
        .fetch_one(db)
        .await
}

pub async fn find_by_key(db: impl PgExecutor<'_>, owner: &str, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM workspaces WHERE owner = $1 AND idempotency_key = $2").bind(owner).bind(key).fetch_optional(db).await
}

/// Inserts a requested workspace and its first event.
pub async fn insert(tx: &mut Transaction<'_, Postgres>, new: &NewWorkspace<'_>) -> Result<String, LaunchError> {
    let id: String = sqlx::query_scalar(
        "INSERT INTO workspaces (team_slug, owner, name, configuration_id, idempotency_key, parameter_values) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(new.team.as_str())
    .bind(new.owner)
    .bind(new.name)
    .bind(new.configuration_id)
    .bind(new.idempotency_key)
    .bind(Json(new.parameter_values))
    .fetch_one(&mut **tx)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.constraint() == Some("workspaces_live_name") => LaunchError::NameTaken,
        _ => LaunchError::Database(error),
    })?;
    sqlx::query(
        "INSERT INTO workspace_events (workspace_id, from_state, to_state, message) VALUES ($1, NULL, 'requested', 'Launch requested')",
    )
    .bind(&id)
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
pub async fn transition(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
    from: WorkspaceState,
    event: WorkspaceEvent,
    changes: Changes<'_>,
) -> Result<WorkspaceState, TransitionError> {
    let to = from.transition(event)?;
    let updated = sqlx::query(
        "UPDATE workspaces SET state = $3, updated_at = now(), \
         record_id = COALESCE($4, record_id), provisioned_product_id = COALESCE($5, provisioned_product_id), \
         outputs = COALESCE($6, outputs), failure_message = COALESCE($7, failure_message) \
         WHERE id = $1 AND state = $2",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(changes.record_id)
    .bind(changes.provisioned_product_id)
    .bind(changes.outputs.map(Json))
    .bind(changes.failure_message)
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(TransitionError::Moved(from));
    }
    sqlx::query("INSERT INTO workspace_events (workspace_id, from_state, to_state, message) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(changes.message.or(changes.failure_message))
        .execute(&mut **tx)
        .await?;
    Ok(to)
}

/// Everything the worker needs to act on a workspace in its team's account.
#[derive(Debug, Clone)]
pub struct WorkContext {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub team: String,
    pub state: WorkspaceState,
    pub role_arn: String,
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
    sqlx::query("UPDATE workspaces SET pending_update = $2 WHERE id = $1").bind(id).bind(Json(update)).execute(&mut **tx).await?;
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

pub async fn update_inputs(db: impl PgExecutor<'_>, id: &str) -> Result<Option<UpdateInputs>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT w.workspace_type_id, t.version_id, w.configuration_id, w.parameter_values \
         FROM workspaces w JOIN workspace_types t ON t.id = w.workspace_type_id WHERE w.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(UpdateInputs {
        type_id: row.try_get("workspace_type_id")?,
        version_id: row.try_get("version_id")?,
        configuration_id: row.try_get("configuration_id")?,
        parameters: row.try_get::<Json<BTreeMap<String, String>>, _>("parameter_values")?.0,
    }))
}

/// AWS made the change: the workspace now runs the new version, parameters and estimate.
pub async fn apply_update(db: impl PgExecutor<'_>, id: &str, update: &PendingUpdate) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE workspaces SET workspace_type_id = $2, parameter_values = $3,          estimated_hourly_cost_cents = COALESCE($4, estimated_hourly_cost_cents), pending_update = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(update.type_id)
    .bind(Json(&update.parameters))
    .bind(update.hourly_cost_cents.map(|c| i32::try_from(c).unwrap_or(i32::MAX)))
    .execute(db)
    .await?;
    Ok(())
}

/// AWS did not make the change: the workspace stays as it was.
pub async fn drop_update(db: impl PgExecutor<'_>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspaces SET pending_update = NULL WHERE id = $1").bind(id).execute(db).await?;
    Ok(())
}

pub async fn work_context(db: impl PgExecutor<'_>, id: &str) -> Result<Option<WorkContext>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT w.id, w.name, w.owner, w.team_slug, w.state, w.record_id, w.provisioned_product_id, t.has_stop_start, \
                tm.role_arn, t.product_id, t.version_id, \
                c.name AS configuration_name, w.parameter_values, c.tags, \
                t.product_name || ' ' || t.version_name AS type_label, \
                extract(epoch FROM now() - w.created_at)::float8 AS age_seconds, w.pending_update \
         FROM workspaces w JOIN teams tm ON tm.slug = w.team_slug \
         JOIN workspace_configurations c ON c.id = w.configuration_id JOIN workspace_types t ON t.id = w.workspace_type_id \
         WHERE w.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let state: String = row.try_get("state")?;
    let parameters: Json<BTreeMap<String, String>> = row.try_get("parameter_values")?;
    let tags: Json<BTreeMap<String, String>> = row.try_get("tags")?;
    Ok(Some(WorkContext {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        owner: row.try_get("owner")?,
        team: row.try_get("team_slug")?,
        state: WorkspaceState::parse(&state).ok_or_else(|| sqlx::Error::Decode(format!("unknown state {state}").into()))?,
        role_arn: row.try_get("role_arn")?,
        product_id: row.try_get("product_id")?,
        version_id: row.try_get("version_id")?,
        configuration_name: row.try_get("configuration_name")?,
        parameter_values: parameters.0,
        tags: tags.0,
        record_id: row.try_get("record_id")?,
        provisioned_product_id: row.try_get("provisioned_product_id")?,
        has_stop_start: row.try_get("has_stop_start")?,
        type_label: row.try_get("type_label")?,
        age_seconds: row.try_get("age_seconds")?,
        pending_update: row.try_get::<Option<Json<PendingUpdate>>, _>("pending_update")?.map(|p| p.0),
    }))
}

const VIEW: &str = "SELECT w.id, w.name, w.team_slug, w.owner, w.state, c.name AS configuration_name, \
    t.product_name || ' ' || t.version_name AS type_label, \
    COALESCE(w.estimated_hourly_cost_cents, c.estimated_hourly_cost_cents) AS estimated_hourly_cost_cents, t.has_stop_start, \
    (COALESCE(w.estimated_hourly_cost_cents, c.estimated_hourly_cost_cents) * ceil(extract(epoch FROM (CASE WHEN w.state IN ('terminated', 'failed') \
        THEN w.updated_at ELSE now() END) - w.created_at) / 3600.0))::int AS cost_so_far_cents, \
    CASE WHEN now() - w.created_at < interval '1 hour' THEN (extract(epoch FROM now() - w.created_at)::int / 60) || ' min' \
         WHEN now() - w.created_at < interval '2 days' THEN (extract(epoch FROM now() - w.created_at)::int / 3600) || ' h' \
         ELSE (extract(epoch FROM now() - w.created_at)::int / 86400) || ' d' END AS age, \
    to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' AS created_at, w.failure_message, w.outputs, \
    CASE WHEN w.state = 'available' AND (t.has_stop_start OR w.outputs ? 'ClusterId') THEN \
      to_char(workspace_stop_due(w.id, now()) AT TIME ZONE 'UTC', 'HH24:MI') || ' UTC' END AS stops_at, \
    w.keep_running_until > now() AS kept_running, CASE WHEN w.state = 'available' THEN w.health_alarms ELSE '{}' END AS health_alarms, \
    newer.id AS upgrade_type_id, newer.product_name || ' ' || newer.version_name AS upgrade_label, \
    CASE WHEN newer.id IS NOT NULL THEN to_char(t.upgrade_by, 'YYYY-MM-DD') END AS upgrade_by, \
    c.sizes->'options' AS sizes, w.parameter_values->>(c.sizes->>'parameter') AS size \
    FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id JOIN workspace_types t ON t.id = w.workspace_type_id \
    LEFT JOIN LATERAL (SELECT n.id, n.product_name, n.version_name FROM workspace_types n \
        WHERE n.product_id = t.product_id AND n.status = 'approved' AND n.id > t.id AND w.state NOT IN ('terminated', 'failed') \
        ORDER BY n.id DESC LIMIT 1) newer ON true";

fn view_from_row(row: &sqlx::postgres::PgRow) -> Result<WorkspaceView, sqlx::Error> {
    let state: String = row.try_get("state")?;
    let team: String = row.try_get("team_slug")?;
    let cents: i32 = row.try_get("estimated_hourly_cost_cents")?;
    let outputs: Json<BTreeMap<String, String>> = row.try_get("outputs")?;
    Ok(WorkspaceView {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        team: TeamSlug::parse(&team).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        owner: row.try_get("owner")?,
        state: WorkspaceState::parse(&state).ok_or_else(|| sqlx::Error::Decode(format!("unknown state {state}").into()))?,
        configuration_name: row.try_get("configuration_name")?,
        type_label: row.try_get("type_label")?,
        estimated_hourly_cost_cents: u32::try_from(cents).unwrap_or(0),
        cost_so_far_cents: u32::try_from(row.try_get::<i32, _>("cost_so_far_cents")?).unwrap_or(0),
        age: row.try_get("age")?,
        created_at: row.try_get("created_at")?,
        failure_message: row.try_get("failure_message")?,
        outputs: outputs.0,
        events: Vec::new(),
        has_stop_start: row.try_get("has_stop_start")?,
        stops_at: row.try_get("stops_at")?,
        kept_running: row.try_get::<Option<bool>, _>("kept_running")?.unwrap_or(false),
        health_alarms: row
            .try_get::<Vec<String>, _>("health_alarms")?
            .iter()
            .filter_map(|a| app::domain::health::Alarm::parse(a))
            .collect(),
        studies: Vec::new(),
        upgrade: row
            .try_get::<Option<i64>, _>("upgrade_type_id")?
            .zip(row.try_get::<Option<String>, _>("upgrade_label")?)
            .map(|(type_id, type_label)| app::domain::workspace::UpgradeOffer { type_id, type_label }),
        upgrade_by: row.try_get("upgrade_by")?,
        sizes: row.try_get::<Option<Json<Vec<app::domain::configurations::SizeOption>>>, _>("sizes")?.map(|s| s.0).unwrap_or_default(),
        size: row.try_get("size")?,
    })
}

/// One workspace with its events, oldest first.
pub async fn view(db: &sqlx::PgPool, id: &str) -> Result<Option<WorkspaceView>, sqlx::Error> {
    let Some(row) = sqlx::query(&format!("{VIEW} WHERE w.id = $1")).bind(id).fetch_optional(db).await? else {
        return Ok(None);
    };
    let mut view = view_from_row(&row)?;
    let events = sqlx::query(
        "SELECT to_state, message, to_char(at AT TIME ZONE 'UTC', 'HH24:MI:SS') AS at FROM workspace_events WHERE workspace_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    for event in events {
        let state: String = event.try_get("to_state")?;
        if let Some(to_state) = WorkspaceState::parse(&state) {
            view.events.push(WorkspaceEventView { to_state, message: event.try_get("message")?, at: event.try_get("at")? });
        }
    }
    view.studies = super::studies::mounts_of(db, id).await?;
    Ok(Some(view))
}

/// The owner's live workspaces on a team (not terminated or failed), newest first, without
/// their events; and how many have ended, when there is a live one (`None` otherwise: ask
/// `count_ended_for_owner`). One query for the usual team home.
pub async fn live_for_owner(
    db: impl PgExecutor<'_>,
    owner: &str,
    team: &TeamSlug,
) -> Result<(Vec<WorkspaceView>, Option<i64>), sqlx::Error> {
    // The count is an uncorrelated subquery: Postgres computes it once for all rows.
    let with_ended = VIEW.replacen(
        "SELECT ",
        "SELECT (SELECT count(*) FROM workspaces e WHERE e.owner = $1 AND e.team_slug = $2 AND e.state IN ('terminated', 'failed')) AS ended, ",
        1,
    );
    let rows = sqlx::query(&format!(
        "{with_ended} WHERE w.owner = $1 AND w.team_slug = $2 AND w.state NOT IN ('terminated', 'failed') ORDER BY w.created_at DESC"
    ))
    .bind(owner)
    .bind(team.as_str())
    .fetch_all(db)
    .await?;
    let ended = rows.first().map(|row| row.try_get("ended")).transpose()?;
    Ok((rows.iter().map(view_from_row).collect::<Result<_, _>>()?, ended))
}

/// How many of the owner's workspaces on a team have ended (terminated or failed).
pub async fn count_ended_for_owner(db: impl PgExecutor<'_>, owner: &str, team: &TeamSlug) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM workspaces WHERE owner = $1 AND team_slug = $2 AND state IN ('terminated', 'failed')")
        .bind(owner)
        .bind(team.as_str())
        .fetch_one(db)
        .await
}

/// One page of the owner's ended workspaces on a team, newest first.
pub async fn ended_for_owner(
    db: impl PgExecutor<'_>,
    owner: &str,
    team: &TeamSlug,
    limit: i64,
    offset: i64,
) -> Result<Vec<WorkspaceView>, sqlx::Error> {
    sqlx::query(&format!(
        "{VIEW} WHERE w.owner = $1 AND w.team_slug = $2 AND w.state IN ('terminated', 'failed') \
         ORDER BY w.created_at DESC, w.id LIMIT $3 OFFSET $4"
    ))
    .bind(owner)
    .bind(team.as_str())
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?
    .iter()
    .map(view_from_row)
    .collect()
}

/// Which live workspaces (not terminated, not failed) to list: a team's or an owner's.
pub enum LiveOf<'a> {
    Team(&'a TeamSlug),
    Owner(&'a str),
}

/// Live workspaces, oldest first: what stands in the way of archiving a team, or what a
/// disabled user leaves running.
pub async fn live(db: impl PgExecutor<'_>, of: LiveOf<'_>) -> Result<Vec<app::domain::team_admin::LiveWorkspace>, sqlx::Error> {
    let (column, value) = match of {
        LiveOf::Team(team) => ("team_slug", team.as_str()),
        LiveOf::Owner(owner) => ("owner", owner),
    };
    sqlx::query(&format!(
        "SELECT id, name, owner, state FROM workspaces WHERE {column} = $1 AND state NOT IN ('terminated', 'failed') ORDER BY created_at"
    ))
    .bind(value)
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| {
        Ok(app::domain::team_admin::LiveWorkspace {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            owner: row.try_get("owner")?,
            state: row.try_get("state")?,
        })
    })
    .collect()
}

/// A running workspace that stops on its own: idle, after a maximum running time, or nightly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleCandidate {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub configuration_name: String,
    pub team: String,
    pub role_arn: String,
    /// The instance whose CPU tells whether it is idle; `None` for types without one.
    pub instance_id: Option<String>,
    /// The EMR cluster whose `IsIdle` tells whether it is idle (types that can only terminate).
    pub cluster_id: Option<String>,
    /// The SageMaker notebook instance whose CPU tells whether it is idle.
    pub notebook: Option<String>,
    /// Its type can stop; a cluster that cannot is terminated instead, when idle only.
    pub can_stop: bool,
    pub stop_after_minutes: Option<u32>,
    pub cpu_percent: u32,
    pub max_running_hours: Option<u32>,
    /// The last nightly stop time at or before the check ("20:00 Europe/Berlin", the instant).
    pub last_nightly_stop: Option<(String, time::OffsetDateTime)>,
    /// When it last became available (launch or start).
    pub available_since: time::OffsetDateTime,
    pub last_connect_at: Option<time::OffsetDateTime>,
    pub last_busy_at: Option<time::OffsetDateTime>,
    pub keep_running_until: Option<time::OffsetDateTime>,
    /// When it will stop unless used (as the pages say).
    pub stop_due: Option<time::OffsetDateTime>,
    /// When the last warning went out.
    pub stop_warned_at: Option<time::OffsetDateTime>,
}

fn candidate_from_row(row: &sqlx::postgres::PgRow) -> Result<Option<IdleCandidate>, sqlx::Error> {
    let whole = |column: &str| -> Result<Option<u32>, sqlx::Error> {
        Ok(row.try_get::<Option<i32>, _>(column)?.and_then(|n| u32::try_from(n).ok()))
    };
    // Available without an "available" event cannot happen; skip it rather than guess.
    let Some(available_since) = row.try_get("available_since")? else { return Ok(None) };
    let nightly_label: Option<String> = row.try_get("nightly_label")?;
    let nightly_at: Option<time::OffsetDateTime> = row.try_get("last_nightly_stop")?;
    Ok(Some(IdleCandidate {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        owner: row.try_get("owner")?,
        configuration_name: row.try_get("configuration_name")?,
        team: row.try_get("team_slug")?,
        role_arn: row.try_get("role_arn")?,
        instance_id: row.try_get("instance_id")?,
        cluster_id: row.try_get("cluster_id")?,
        notebook: row.try_get("notebook")?,
        can_stop: row.try_get("has_stop_start")?,
        stop_after_minutes: whole("idle_stop_minutes")?,
        cpu_percent: whole("idle_cpu_percent")?.unwrap_or(5),
        max_running_hours: whole("max_running_hours")?,
        last_nightly_stop: nightly_label.zip(nightly_at),
        available_since,
        last_connect_at: row.try_get("last_connect_at")?,
        last_busy_at: row.try_get("last_busy_at")?,
        keep_running_until: row.try_get("keep_running_until")?,
        stop_due: row.try_get("stop_due")?,
        stop_warned_at: row.try_get("stop_warned_at")?,
    }))
}

/// Available workspaces of types that can stop whose configuration stops them on its own, as
/// of `now`.
pub async fn idle_candidates(db: impl PgExecutor<'_>, now: time::OffsetDateTime) -> Result<Vec<IdleCandidate>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT w.id, w.name, w.owner, c.name AS configuration_name, w.team_slug, tm.role_arn, w.outputs->>'InstanceId' AS instance_id, c.idle_stop_minutes, c.idle_cpu_percent, \
         w.outputs->>'ClusterId' AS cluster_id, w.outputs->>'NotebookInstanceName' AS notebook, t.has_stop_start, c.max_running_hours, to_char(c.nightly_stop_at, 'HH24:MI') || ' ' || tm.time_zone AS nightly_label, \
         last_local_time($1, tm.time_zone, c.nightly_stop_at) AS last_nightly_stop, \
         workspace_available_since(w.id) AS available_since, w.last_connect_at, w.last_busy_at, w.keep_running_until, \
         workspace_stop_due(w.id, $1) AS stop_due, w.stop_warned_at \
         FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id \
         JOIN workspace_types t ON t.id = w.workspace_type_id JOIN teams tm ON tm.slug = w.team_slug \
         WHERE w.state = 'available' AND ( \
           (t.has_stop_start AND ((c.idle_stop_minutes IS NOT NULL AND w.outputs ?| ARRAY['InstanceId', 'NotebookInstanceName']) \
              OR c.max_running_hours IS NOT NULL OR c.nightly_stop_at IS NOT NULL)) \
           OR (NOT t.has_stop_start AND c.idle_stop_minutes IS NOT NULL AND w.outputs ? 'ClusterId')) \
         ORDER BY w.created_at",
    )
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().map(candidate_from_row).collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect())
}

/// A warning of the coming stop went out at `at`.
pub async fn record_stop_warning(db: impl PgExecutor<'_>, id: &str, at: time::OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspaces SET stop_warned_at = $2 WHERE id = $1").bind(id).bind(at).execute(db).await?;
    Ok(())
}

/// Locks the workspace and says whether it is still due to stop now: a Keep running or a
/// Connect since the check read it puts the stop off.
pub async fn still_due(tx: &mut Transaction<'_, Postgres>, id: &str) -> Result<bool, sqlx::Error> {
    let due: Option<Option<bool>> = sqlx::query_scalar(
        "SELECT workspace_stop_due(id, now()) <= now() FROM workspaces WHERE id = $1 AND state = 'available' FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(due.flatten().unwrap_or(false))
}

/// The idle check saw the workspace busy at `at`.
pub async fn record_busy(db: impl PgExecutor<'_>, id: &str, at: time::OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspaces SET last_busy_at = GREATEST(last_busy_at, $2) WHERE id = $1").bind(id).bind(at).execute(db).await?;
    Ok(())
}

/// Someone connected to the workspace just now.
pub async fn record_connect(db: impl PgExecutor<'_>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspaces SET last_connect_at = now() WHERE id = $1").bind(id).execute(db).await?;
    Ok(())
}

/// "Keep running": not stopped for being idle for `hours` from now.
pub async fn keep_running(db: impl PgExecutor<'_>, id: &str, hours: u32) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE workspaces w SET keep_running_until = LEAST(now() + make_interval(hours => $2), \
         CASE WHEN t.has_stop_start THEN workspace_available_since(w.id) + make_interval(hours => c.max_running_hours) END) \
         FROM workspace_configurations c, workspace_types t \
         WHERE c.id = w.configuration_id AND t.id = w.workspace_type_id AND w.id = $1",
    )
    .bind(id)
    .bind(hours as i32)
    .execute(db)
    .await?;
    Ok(())
}

/// The owner's available workspaces that stop when they sign out: by their own setting, else
/// by each configuration's default; (id, team).
pub async fn to_stop_on_sign_out(db: impl PgExecutor<'_>, owner: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT w.id, w.team_slug FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id \
         JOIN workspace_types t ON t.id = w.workspace_type_id LEFT JOIN users u ON u.username = w.owner \
         WHERE w.owner = $1 AND w.state = 'available' AND t.has_stop_start AND COALESCE(u.stop_on_sign_out, c.stop_on_sign_out) \
         ORDER BY w.created_at",
    )
    .bind(owner)
    .fetch_all(db)
    .await
}

/// A running workstation the health check looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCandidate {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub configuration_name: String,
    pub team: String,
    pub role_arn: String,
    pub instance_id: String,
    /// The alarms raised and not cleared yet.
    pub alarms: Vec<app::domain::health::Alarm>,
}

/// Available workspaces with an instance to measure.
pub async fn health_candidates(db: impl PgExecutor<'_>) -> Result<Vec<HealthCandidate>, sqlx::Error> {
    sqlx::query(
        "SELECT w.id, w.name, w.owner, c.name AS configuration_name, w.team_slug, tm.role_arn, w.outputs->>'InstanceId' AS instance_id, w.health_alarms \
         FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id JOIN teams tm ON tm.slug = w.team_slug \
         WHERE w.state = 'available' AND w.outputs ? 'InstanceId' ORDER BY w.created_at",
    )
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| {
        Ok(HealthCandidate {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            owner: row.try_get("owner")?,
            configuration_name: row.try_get("configuration_name")?,
            team: row.try_get("team_slug")?,
            role_arn: row.try_get("role_arn")?,
            instance_id: row.try_get("instance_id")?,
            alarms: row.try_get::<Vec<String>, _>("health_alarms")?.iter().filter_map(|a| app::domain::health::Alarm::parse(a)).collect(),
        })
    })
    .collect()
}

/// Records the alarms a workspace has now, with an event (in its unchanged state) for each
/// one raised or cleared; `false` if it is no longer available.
pub async fn record_alarms(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
    alarms: &[app::domain::health::Alarm],
    messages: &[String],
) -> Result<bool, sqlx::Error> {
    let names: Vec<&str> = alarms.iter().map(|a| a.as_str()).collect();
    let updated = sqlx::query("UPDATE workspaces SET health_alarms = $2 WHERE id = $1 AND state = 'available'")
        .bind(id)
        .bind(&names)
        .execute(&mut **tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    for message in messages {
        sqlx::query("INSERT INTO workspace_events (workspace_id, from_state, to_state, message) VALUES ($1, 'available', 'available', $2)")
            .bind(id)
            .bind(message)
            .execute(&mut **tx)
            .await?;
    }
    Ok(true)
}

/// Everyone on the workspace's team, as a share's grantee.
pub const WHOLE_TEAM: &str = "*";

/// Whom the workspace is shared with (usernames, or `WHOLE_TEAM`).
pub async fn shares_of(db: impl PgExecutor<'_>, id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT grantee FROM workspace_shares WHERE workspace_id = $1 ORDER BY grantee").bind(id).fetch_all(db).await
}

/// Whether the workspace is shared with this user, by name or with the whole team.
pub async fn is_shared_with(db: impl PgExecutor<'_>, id: &str, username: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM workspace_shares WHERE workspace_id = $1 AND grantee IN ($2, '*'))")
        .bind(id)
        .bind(username)
        .fetch_one(db)
        .await
}

/// Shares the workspace with exactly these grantees.
pub async fn set_shares(conn: &mut sqlx::PgConnection, id: &str, grantees: &[String], by: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM workspace_shares WHERE workspace_id = $1 AND NOT (grantee = ANY ($2))")
        .bind(id)
        .bind(grantees)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO workspace_shares (workspace_id, grantee, shared_by) SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING")
        .bind(id)
        .bind(grantees)
        .bind(by)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Others' live workspaces on the team shared with this user.
pub async fn shared_with(db: impl PgExecutor<'_>, username: &str, team: &TeamSlug) -> Result<Vec<WorkspaceView>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "{VIEW} WHERE w.team_slug = $2 AND w.owner <> $1 AND w.state NOT IN ('terminated', 'failed') \
         AND EXISTS (SELECT 1 FROM workspace_shares s WHERE s.workspace_id = w.id AND s.grantee IN ($1, '*')) ORDER BY w.name"
    ))
    .bind(username)
    .bind(team.as_str())
    .fetch_all(db)
    .await?;
    rows.iter().map(view_from_row).collect()
}

/// What a workspace was launched with: its configuration and parameter values.
pub async fn launch_inputs(db: impl PgExecutor<'_>, id: &str) -> Result<Option<(i64, BTreeMap<String, String>)>, sqlx::Error> {
    let row: Option<(i64, Json<BTreeMap<String, String>>)> =
        sqlx::query_as("SELECT configuration_id, parameter_values FROM workspaces WHERE id = $1").bind(id).fetch_optional(db).await?;
    Ok(row.map(|(configuration, values)| (configuration, values.0)))
}

/// What the reconcile needs of a workspace.
pub struct ReconcileContext {
    pub state: WorkspaceState,
    pub owner: String,
    pub role_arn: String,
    pub outputs: BTreeMap<String, String>,
    /// Since the launch was requested.
    pub age_minutes: i64,
}

impl ReconcileContext {
    pub fn state_after(&self, event: WorkspaceEvent) -> WorkspaceState {
        self.state.transition(event).unwrap_or(self.state)
    }
}

pub async fn reconcile_context(db: impl PgExecutor<'_>, id: &str) -> Result<Option<ReconcileContext>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT w.state, w.owner, tm.role_arn, w.outputs, (extract(epoch FROM now() - w.created_at) / 60)::bigint AS age_minutes \
         FROM workspaces w JOIN teams tm ON tm.slug = w.team_slug WHERE w.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let state: String = row.try_get("state")?;
    let outputs: Json<BTreeMap<String, String>> = row.try_get("outputs")?;
    Ok(Some(ReconcileContext {
        state: WorkspaceState::parse(&state).ok_or_else(|| sqlx::Error::Decode(format!("unknown state {state}").into()))?,
        owner: row.try_get("owner")?,
        role_arn: row.try_get("role_arn")?,
        outputs: outputs.0,
        age_minutes: row.try_get("age_minutes")?,
    }))
}

/// Records what the reconcile found (`None`: nothing wrong). A new finding is also an event
/// on the workspace's page, once.
pub async fn set_drift(db: impl PgExecutor<'_>, id: &str, state: WorkspaceState, drift: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH changed AS ( \
             UPDATE workspaces w SET drift = $3, reconciled_at = now() FROM (SELECT drift AS before FROM workspaces WHERE id = $1) old \
             WHERE w.id = $1 RETURNING old.before) \
         INSERT INTO workspace_events (workspace_id, from_state, to_state, message) \
         SELECT $1, $2, $2, 'Drift: ' || $3 FROM changed WHERE $3 IS NOT NULL AND changed.before IS DISTINCT FROM $3",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(drift)
    .execute(db)
    .await?;
    Ok(())
}

/// Live workspaces, those checked longest ago (or never) first.
pub async fn due_for_reconcile(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM workspaces WHERE state NOT IN ('terminated', 'failed') ORDER BY reconciled_at NULLS FIRST, created_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One page of every workspace matching the filter (terminated ones archived after
/// `ARCHIVE_AFTER_DAYS`), newest first, and how many match.
pub async fn admin_page(
    db: &sqlx::PgPool,
    filter: &app::domain::workspace::AdminWorkspaceFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<app::domain::workspace::AdminWorkspaceRow>, i64), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT w.id, w.name, w.team_slug, w.owner, t.product_name || ' ' || t.version_name AS type_label, w.state, w.drift, \
                to_char(w.reconciled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' AS reconciled_at, \
                to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' AS created_at, count(*) OVER () AS total \
         FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id JOIN workspace_types t ON t.id = w.workspace_type_id \
         WHERE ($1::text IS NULL OR w.team_slug = $1) AND ($2::text IS NULL OR w.owner = $2) \
           AND ($3::text IS NULL OR t.product_name || ' ' || t.version_name = $3) AND ($4::text IS NULL OR w.state = $4) \
           AND (NOT $5 OR w.drift IS NOT NULL) \
           AND NOT (w.state = 'terminated' AND w.updated_at < now() - make_interval(days => $6)) \
         ORDER BY w.drift IS NULL, w.created_at DESC, w.id LIMIT $7 OFFSET $8",
    )
    .bind(filter.team.as_deref())
    .bind(filter.owner.as_deref())
    .bind(filter.type_label.as_deref())
    .bind(filter.state.as_deref())
    .bind(filter.drift_only)
    .bind(app::domain::workspace::ARCHIVE_AFTER_DAYS as i32)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    let total = rows.first().map(|row| row.try_get("total")).transpose()?.unwrap_or(0);
    let rows = rows
        .iter()
        .map(|row| {
            let state: String = row.try_get("state")?;
            Ok(app::domain::workspace::AdminWorkspaceRow {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                team: row.try_get("team_slug")?,
                owner: row.try_get("owner")?,
                type_label: row.try_get("type_label")?,
                state: WorkspaceState::parse(&state).ok_or_else(|| sqlx::Error::Decode(format!("unknown state {state}").into()))?,
                drift: row.try_get("drift")?,
                reconciled_at: row.try_get("reconciled_at")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((rows, total))
}

/// Every workspace type's label ("Linux workstation (EC2) v2"), for filters.
pub async fn type_labels(db: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT product_name || ' ' || version_name AS label FROM workspace_types ORDER BY label")
        .fetch_all(db)
        .await
}

/// Marks live workspaces whose owner has left the team (or is disabled) and clears those whose
/// owner is back; the newly marked ones (id, name, team, owner, state).
pub async fn mark_leavers(conn: &mut sqlx::PgConnection) -> Result<Vec<(String, String, String, String, String)>, sqlx::Error> {
    const LEFT: &str = "(NOT EXISTS (SELECT 1 FROM team_memberships m WHERE m.team_slug = w.team_slug AND m.username = w.owner) \
        OR EXISTS (SELECT 1 FROM users u WHERE u.username = w.owner AND u.disabled_at IS NOT NULL))";
    sqlx::query(&format!("UPDATE workspaces w SET owner_left_at = NULL WHERE owner_left_at IS NOT NULL AND NOT {LEFT}"))
        .execute(&mut *conn)
        .await?;
    sqlx::query_as(&format!(
        "UPDATE workspaces w SET owner_left_at = now() WHERE owner_left_at IS NULL AND state NOT IN ('terminated', 'failed') AND {LEFT} \
         RETURNING id, name, team_slug, owner, state"
    ))
    .fetch_all(&mut *conn)
    .await
}

/// Running workspaces whose owner left their team more than `grace_days` ago and that can
/// be stopped: (id, team).
pub async fn leavers_to_stop(db: impl PgExecutor<'_>, grace_days: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT w.id, w.team_slug FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id \
         JOIN workspace_types t ON t.id = w.workspace_type_id \
         WHERE w.state = 'available' AND t.has_stop_start AND w.owner_left_at < now() - make_interval(days => $1::int)",
    )
    .bind(grace_days)
    .fetch_all(db)
    .await
}

/// Gives a live workspace to another owner; false when it is not live any more.
pub async fn transfer(db: impl PgExecutor<'_>, id: &str, to: &str) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE workspaces SET owner = $2, owner_left_at = NULL WHERE id = $1 AND state NOT IN ('terminated', 'failed')")
            .bind(id)
            .bind(to)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}
