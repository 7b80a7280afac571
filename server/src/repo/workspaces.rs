//! Workspaces and their events. Every change of state goes through `transition`, which checks
//! it against the lifecycle and records it in `workspace_events` in the caller's transaction.

use super::dates;
use app::domain::TeamSlug;
use app::domain::configurations::SizeOption;
use app::domain::workspace::{WorkspaceEvent, WorkspaceEventView, WorkspaceState, WorkspaceView};
use sqlx::types::Json;
use sqlx::{PgExecutor, Postgres, Transaction};
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime, Time};

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
pub async fn lock_owner(tx: &mut Transaction<'_, Postgres>, owner: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT username FROM users WHERE username = $1 FOR UPDATE", owner).fetch_optional(&mut **tx).await?;
    Ok(())
}

pub async fn count_active(db: impl PgExecutor<'_>, owner: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM workspaces WHERE owner = $1 AND state NOT IN ('terminated', 'failed')"#, owner)
        .fetch_one(db)
        .await
}

pub async fn find_by_key(db: impl PgExecutor<'_>, owner: &str, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM workspaces WHERE owner = $1 AND idempotency_key = $2", owner, key).fetch_optional(db).await
}

/// Inserts a requested workspace and its first event.
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
pub async fn add_event(db: impl PgExecutor<'_>, id: &str, state: &str, message: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("INSERT INTO workspace_events (workspace_id, from_state, to_state, message) VALUES ($1, $2, $2, $3)", id, state, message)
        .execute(db)
        .await?;
    Ok(())
}

/// Clears the health alarms: they belong to the run that raised them.
pub async fn clear_health_alarms(db: impl PgExecutor<'_>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET health_alarms = '{}' WHERE id = $1", id).execute(db).await?;
    Ok(())
}

/// A fresh random token (a UUID) for a worker's job.
pub async fn new_request_token(db: impl PgExecutor<'_>) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT gen_random_uuid()::text AS "token!""#).fetch_one(db).await
}

/// (team, name, state, owner) of a workspace.
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
pub async fn drop_update(db: impl PgExecutor<'_>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET pending_update = NULL WHERE id = $1", id).execute(db).await?;
    Ok(())
}

pub async fn work_context(db: impl PgExecutor<'_>, id: &str) -> Result<Option<WorkContext>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT w.id, w.name, w.owner, w.team_slug, w.state, w.record_id, w.provisioned_product_id, t.has_stop_start,
                  tm.role_arn, t.product_id, t.version_id,
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
        role_arn: row.role_arn,
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

/// A workspace as its views read it (`WorkspaceView` without events and studies).
struct ViewRow {
    /// How many of the owner's workspaces on the team have ended (`live_for_owner` only).
    ended: Option<i64>,
    id: String,
    name: String,
    team_slug: String,
    owner: String,
    state: String,
    configuration_name: String,
    type_label: String,
    estimated_hourly_cost_cents: i32,
    has_stop_start: bool,
    cost_so_far_cents: i32,
    age: String,
    created_at: OffsetDateTime,
    failure_message: Option<String>,
    outputs: Json<BTreeMap<String, String>>,
    stops_at: Option<OffsetDateTime>,
    kept_running: Option<bool>,
    health_alarms: Vec<String>,
    upgrade_type_id: Option<i64>,
    upgrade_label: Option<String>,
    upgrade_by: Option<Date>,
    sizes: Option<Json<Vec<SizeOption>>>,
    size: Option<String>,
}

/// The statement every view of workspaces reads, with `$ended` (the `ended` column: a count, or
/// NULL) and `$tail` (WHERE, ORDER BY…) put in: one text for all of them, each checked on its own.
macro_rules! view_query {
    ($ended:tt, $tail:tt, $($arg:expr),+ $(,)?) => {
        sqlx::query_as!(
            ViewRow,
            "SELECT " + $ended + r#" AS "ended?", w.id, w.name, w.team_slug, w.owner, w.state, c.name AS configuration_name,
    t.product_name || ' ' || t.version_name AS "type_label!",
    COALESCE(w.estimated_hourly_cost_cents, c.estimated_hourly_cost_cents) AS "estimated_hourly_cost_cents!", t.has_stop_start,
    (COALESCE(w.estimated_hourly_cost_cents, c.estimated_hourly_cost_cents) * ceil(extract(epoch FROM (CASE WHEN w.state IN ('terminated', 'failed')
        THEN w.updated_at ELSE now() END) - w.created_at) / 3600.0))::int AS "cost_so_far_cents!",
    CASE WHEN now() - w.created_at < interval '1 hour' THEN (extract(epoch FROM now() - w.created_at)::int / 60) || ' min'
         WHEN now() - w.created_at < interval '2 days' THEN (extract(epoch FROM now() - w.created_at)::int / 3600) || ' h'
         ELSE (extract(epoch FROM now() - w.created_at)::int / 86400) || ' d' END AS "age!",
    w.created_at, w.failure_message, w.outputs AS "outputs: Json<BTreeMap<String, String>>",
    CASE WHEN w.state = 'available' AND (t.has_stop_start OR w.outputs ? 'ClusterId') THEN workspace_stop_due(w.id, now()) END AS "stops_at?",
    w.keep_running_until > now() AS "kept_running?", CASE WHEN w.state = 'available' THEN w.health_alarms ELSE '{}' END AS "health_alarms!",
    newer.id AS "upgrade_type_id?", newer.product_name || ' ' || newer.version_name AS "upgrade_label?",
    CASE WHEN newer.id IS NOT NULL THEN t.upgrade_by END AS "upgrade_by?",
    c.sizes->'options' AS "sizes?: Json<Vec<SizeOption>>", w.parameter_values->>(c.sizes->>'parameter') AS "size?"
    FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id JOIN workspace_types t ON t.id = w.workspace_type_id
    LEFT JOIN LATERAL (SELECT n.id, n.product_name, n.version_name FROM workspace_types n
        WHERE n.product_id = t.product_id AND n.status = 'approved' AND n.id > t.id AND w.state NOT IN ('terminated', 'failed')
        ORDER BY n.id DESC LIMIT 1) newer ON true "# + $tail,
            $($arg),+
        )
    };
}

/// "18:40 UTC"
fn clock_utc(at: OffsetDateTime) -> String {
    format!("{} UTC", dates::clock(at.to_offset(time::UtcOffset::UTC).time()))
}

impl ViewRow {
    fn into_view(self) -> Result<WorkspaceView, sqlx::Error> {
        Ok(WorkspaceView {
            id: self.id,
            name: self.name,
            team: TeamSlug::parse(&self.team_slug).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            owner: self.owner,
            state: parse_state(&self.state)?,
            configuration_name: self.configuration_name,
            type_label: self.type_label,
            estimated_hourly_cost_cents: u32::try_from(self.estimated_hourly_cost_cents).unwrap_or(0),
            cost_so_far_cents: u32::try_from(self.cost_so_far_cents).unwrap_or(0),
            age: self.age,
            created_at: dates::minute_utc(self.created_at),
            failure_message: self.failure_message,
            outputs: self.outputs.0,
            events: Vec::new(),
            has_stop_start: self.has_stop_start,
            stops_at: self.stops_at.map(clock_utc),
            kept_running: self.kept_running.unwrap_or(false),
            health_alarms: self.health_alarms.iter().filter_map(|a| app::domain::health::Alarm::parse(a)).collect(),
            studies: Vec::new(),
            upgrade: self
                .upgrade_type_id
                .zip(self.upgrade_label)
                .map(|(type_id, type_label)| app::domain::workspace::UpgradeOffer { type_id, type_label }),
            upgrade_by: self.upgrade_by.map(dates::day),
            sizes: self.sizes.map(|s| s.0).unwrap_or_default(),
            size: self.size,
        })
    }
}

/// One workspace with its events, oldest first.
pub async fn view(db: &sqlx::PgPool, id: &str) -> Result<Option<WorkspaceView>, sqlx::Error> {
    let Some(row) = view_query!("NULL::int8", "WHERE w.id = $1", id).fetch_optional(db).await? else {
        return Ok(None);
    };
    let mut view = row.into_view()?;
    let events =
        sqlx::query!("SELECT to_state, message, at FROM workspace_events WHERE workspace_id = $1 ORDER BY id", id).fetch_all(db).await?;
    for event in events {
        if let Some(to_state) = WorkspaceState::parse(&event.to_state) {
            view.events.push(WorkspaceEventView { to_state, message: event.message, at: dates::clock_seconds(event.at) });
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
    let rows = view_query!(
        "(SELECT count(*) FROM workspaces e WHERE e.owner = $1 AND e.team_slug = $2 AND e.state IN ('terminated', 'failed'))",
        "WHERE w.owner = $1 AND w.team_slug = $2 AND w.state NOT IN ('terminated', 'failed') ORDER BY w.created_at DESC",
        owner,
        team.as_str(),
    )
    .fetch_all(db)
    .await?;
    let ended = rows.first().map(|row| row.ended.unwrap_or(0));
    Ok((rows.into_iter().map(ViewRow::into_view).collect::<Result<_, _>>()?, ended))
}

/// How many of the owner's workspaces on a team have ended (terminated or failed).
pub async fn count_ended_for_owner(db: impl PgExecutor<'_>, owner: &str, team: &TeamSlug) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM workspaces WHERE owner = $1 AND team_slug = $2 AND state IN ('terminated', 'failed')"#,
        owner,
        team.as_str(),
    )
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
    view_query!(
        "NULL::int8",
        "WHERE w.owner = $1 AND w.team_slug = $2 AND w.state IN ('terminated', 'failed') \
         ORDER BY w.created_at DESC, w.id LIMIT $3 OFFSET $4",
        owner,
        team.as_str(),
        limit,
        offset,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(ViewRow::into_view)
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
    use app::domain::team_admin::LiveWorkspace;
    match of {
        LiveOf::Team(team) => {
            sqlx::query_as!(
                LiveWorkspace,
                "SELECT id, name, owner, state FROM workspaces WHERE team_slug = $1 AND state NOT IN ('terminated', 'failed') ORDER BY created_at",
                team.as_str()
            )
            .fetch_all(db)
            .await
        }
        LiveOf::Owner(owner) => {
            sqlx::query_as!(
                LiveWorkspace,
                "SELECT id, name, owner, state FROM workspaces WHERE owner = $1 AND state NOT IN ('terminated', 'failed') ORDER BY created_at",
                owner
            )
            .fetch_all(db)
            .await
        }
    }
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

/// An idle candidate as the statement reads it.
struct IdleRow {
    id: String,
    name: String,
    owner: String,
    configuration_name: String,
    team_slug: String,
    role_arn: String,
    instance_id: Option<String>,
    idle_stop_minutes: Option<i32>,
    idle_cpu_percent: i32,
    cluster_id: Option<String>,
    notebook: Option<String>,
    has_stop_start: bool,
    max_running_hours: Option<i32>,
    nightly_stop_at: Option<Time>,
    time_zone: String,
    last_nightly_stop: Option<OffsetDateTime>,
    available_since: Option<OffsetDateTime>,
    last_connect_at: Option<OffsetDateTime>,
    last_busy_at: Option<OffsetDateTime>,
    keep_running_until: Option<OffsetDateTime>,
    stop_due: Option<OffsetDateTime>,
    stop_warned_at: Option<OffsetDateTime>,
}

impl IdleRow {
    fn into_candidate(self) -> Option<IdleCandidate> {
        let whole = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok());
        // Available without an "available" event cannot happen; skip it rather than guess.
        let available_since = self.available_since?;
        // "20:00 Europe/Berlin"
        let nightly_label = self.nightly_stop_at.map(|at| format!("{} {}", dates::clock(at), self.time_zone));
        Some(IdleCandidate {
            id: self.id,
            name: self.name,
            owner: self.owner,
            configuration_name: self.configuration_name,
            team: self.team_slug,
            role_arn: self.role_arn,
            instance_id: self.instance_id,
            cluster_id: self.cluster_id,
            notebook: self.notebook,
            can_stop: self.has_stop_start,
            stop_after_minutes: whole(self.idle_stop_minutes),
            cpu_percent: whole(Some(self.idle_cpu_percent)).unwrap_or(5),
            max_running_hours: whole(self.max_running_hours),
            last_nightly_stop: nightly_label.zip(self.last_nightly_stop),
            available_since,
            last_connect_at: self.last_connect_at,
            last_busy_at: self.last_busy_at,
            keep_running_until: self.keep_running_until,
            stop_due: self.stop_due,
            stop_warned_at: self.stop_warned_at,
        })
    }
}

/// Available workspaces of types that can stop whose configuration stops them on its own, as
/// of `now`.
pub async fn idle_candidates(db: impl PgExecutor<'_>, now: time::OffsetDateTime) -> Result<Vec<IdleCandidate>, sqlx::Error> {
    let rows = sqlx::query_as!(
        IdleRow,
        r#"SELECT w.id, w.name, w.owner, c.name AS configuration_name, w.team_slug, tm.role_arn,
                  w.outputs->>'InstanceId' AS "instance_id?", c.idle_stop_minutes, c.idle_cpu_percent,
                  w.outputs->>'ClusterId' AS "cluster_id?", w.outputs->>'NotebookInstanceName' AS "notebook?", t.has_stop_start,
                  c.max_running_hours, c.nightly_stop_at, tm.time_zone,
                  last_local_time($1, tm.time_zone, c.nightly_stop_at) AS "last_nightly_stop?",
                  workspace_available_since(w.id) AS "available_since?", w.last_connect_at, w.last_busy_at, w.keep_running_until,
                  workspace_stop_due(w.id, $1) AS "stop_due?", w.stop_warned_at
           FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id
           JOIN workspace_types t ON t.id = w.workspace_type_id JOIN teams tm ON tm.slug = w.team_slug
           WHERE w.state = 'available' AND (
             (t.has_stop_start AND ((c.idle_stop_minutes IS NOT NULL AND w.outputs ?| ARRAY['InstanceId', 'NotebookInstanceName'])
                OR c.max_running_hours IS NOT NULL OR c.nightly_stop_at IS NOT NULL))
             OR (NOT t.has_stop_start AND c.idle_stop_minutes IS NOT NULL AND w.outputs ? 'ClusterId'))
           ORDER BY w.created_at"#,
        now
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().filter_map(IdleRow::into_candidate).collect())
}

/// A warning of the coming stop went out at `at`.
pub async fn record_stop_warning(db: impl PgExecutor<'_>, id: &str, at: time::OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET stop_warned_at = $2 WHERE id = $1", id, at).execute(db).await?;
    Ok(())
}

/// Locks the workspace and says whether it is still due to stop now: a Keep running or a
/// Connect since the check read it puts the stop off.
pub async fn still_due(tx: &mut Transaction<'_, Postgres>, id: &str) -> Result<bool, sqlx::Error> {
    let due: Option<Option<bool>> = sqlx::query_scalar!(
        r#"SELECT workspace_stop_due(id, now()) <= now() AS "due?" FROM workspaces WHERE id = $1 AND state = 'available' FOR UPDATE"#,
        id
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(due.flatten().unwrap_or(false))
}

/// The idle check saw the workspace busy at `at`.
pub async fn record_busy(db: impl PgExecutor<'_>, id: &str, at: time::OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET last_busy_at = GREATEST(last_busy_at, $2) WHERE id = $1", id, at).execute(db).await?;
    Ok(())
}

/// Someone connected to the workspace just now.
pub async fn record_connect(db: impl PgExecutor<'_>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET last_connect_at = now() WHERE id = $1", id).execute(db).await?;
    Ok(())
}

/// "Keep running": not stopped for being idle for `hours` from now.
pub async fn keep_running(db: impl PgExecutor<'_>, id: &str, hours: u32) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE workspaces w SET keep_running_until = LEAST(now() + make_interval(hours => $2), \
         CASE WHEN t.has_stop_start THEN workspace_available_since(w.id) + make_interval(hours => c.max_running_hours) END) \
         FROM workspace_configurations c, workspace_types t \
         WHERE c.id = w.configuration_id AND t.id = w.workspace_type_id AND w.id = $1",
        id,
        hours as i32,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The owner's available workspaces that stop when they sign out: by their own setting, else
/// by each configuration's default; (id, team).
pub async fn to_stop_on_sign_out(db: impl PgExecutor<'_>, owner: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT w.id, w.team_slug FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id \
         JOIN workspace_types t ON t.id = w.workspace_type_id LEFT JOIN users u ON u.username = w.owner \
         WHERE w.owner = $1 AND w.state = 'available' AND t.has_stop_start AND COALESCE(u.stop_on_sign_out, c.stop_on_sign_out) \
         ORDER BY w.created_at",
        owner
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.team_slug)).collect())
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
    let rows = sqlx::query!(
        r#"SELECT w.id, w.name, w.owner, c.name AS configuration_name, w.team_slug, tm.role_arn,
                  w.outputs->>'InstanceId' AS "instance_id!", w.health_alarms
           FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id JOIN teams tm ON tm.slug = w.team_slug
           WHERE w.state = 'available' AND w.outputs ? 'InstanceId' ORDER BY w.created_at"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| HealthCandidate {
            id: row.id,
            name: row.name,
            owner: row.owner,
            configuration_name: row.configuration_name,
            team: row.team_slug,
            role_arn: row.role_arn,
            instance_id: row.instance_id,
            alarms: row.health_alarms.iter().filter_map(|a| app::domain::health::Alarm::parse(a)).collect(),
        })
        .collect())
}

/// Records the alarms a workspace has now, with an event (in its unchanged state) for each
/// one raised or cleared; `false` if it is no longer available.
pub async fn record_alarms(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
    alarms: &[app::domain::health::Alarm],
    messages: &[String],
) -> Result<bool, sqlx::Error> {
    let names: Vec<String> = alarms.iter().map(|a| a.as_str().to_owned()).collect();
    let updated = sqlx::query!("UPDATE workspaces SET health_alarms = $2 WHERE id = $1 AND state = 'available'", id, &names)
        .execute(&mut **tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    for message in messages {
        sqlx::query!(
            "INSERT INTO workspace_events (workspace_id, from_state, to_state, message) VALUES ($1, 'available', 'available', $2)",
            id,
            message
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(true)
}

/// Everyone on the workspace's team, as a share's grantee.
pub const WHOLE_TEAM: &str = "*";

/// Whom the workspace is shared with (usernames, or `WHOLE_TEAM`).
pub async fn shares_of(db: impl PgExecutor<'_>, id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT grantee FROM workspace_shares WHERE workspace_id = $1 ORDER BY grantee", id).fetch_all(db).await
}

/// Whether the workspace is shared with this user, by name or with the whole team.
pub async fn is_shared_with(db: impl PgExecutor<'_>, id: &str, username: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM workspace_shares WHERE workspace_id = $1 AND grantee IN ($2, '*')) AS "shared!""#,
        id,
        username
    )
    .fetch_one(db)
    .await
}

/// Shares the workspace with exactly these grantees.
pub async fn set_shares(conn: &mut sqlx::PgConnection, id: &str, grantees: &[String], by: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM workspace_shares WHERE workspace_id = $1 AND NOT (grantee = ANY ($2::text[]))", id, grantees)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "INSERT INTO workspace_shares (workspace_id, grantee, shared_by) SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING",
        id,
        grantees,
        by
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Others' live workspaces on the team shared with this user.
pub async fn shared_with(db: impl PgExecutor<'_>, username: &str, team: &TeamSlug) -> Result<Vec<WorkspaceView>, sqlx::Error> {
    view_query!(
        "NULL::int8",
        "WHERE w.team_slug = $2 AND w.owner <> $1 AND w.state NOT IN ('terminated', 'failed') \
         AND EXISTS (SELECT 1 FROM workspace_shares s WHERE s.workspace_id = w.id AND s.grantee IN ($1, '*')) ORDER BY w.name",
        username,
        team.as_str(),
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(ViewRow::into_view)
    .collect()
}

/// What a workspace was launched with: its configuration and parameter values.
pub async fn launch_inputs(db: impl PgExecutor<'_>, id: &str) -> Result<Option<(i64, BTreeMap<String, String>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT configuration_id, parameter_values AS "parameter_values: Json<BTreeMap<String, String>>" FROM workspaces WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| (row.configuration_id, row.parameter_values.0)))
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
    let row = sqlx::query!(
        r#"SELECT w.state, w.owner, tm.role_arn, w.outputs AS "outputs: Json<BTreeMap<String, String>>",
                  (extract(epoch FROM now() - w.created_at) / 60)::bigint AS "age_minutes!"
           FROM workspaces w JOIN teams tm ON tm.slug = w.team_slug WHERE w.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(ReconcileContext {
        state: parse_state(&row.state)?,
        owner: row.owner,
        role_arn: row.role_arn,
        outputs: row.outputs.0,
        age_minutes: row.age_minutes,
    }))
}

/// Records what the reconcile found (`None`: nothing wrong). A new finding is also an event
/// on the workspace's page, once.
pub async fn set_drift(db: impl PgExecutor<'_>, id: &str, state: WorkspaceState, drift: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH changed AS ( \
             UPDATE workspaces w SET drift = $3, reconciled_at = now() FROM (SELECT drift AS before FROM workspaces WHERE id = $1) old \
             WHERE w.id = $1 RETURNING old.before) \
         INSERT INTO workspace_events (workspace_id, from_state, to_state, message) \
         SELECT $1, $2, $2, 'Drift: ' || $3 FROM changed WHERE $3 IS NOT NULL AND changed.before IS DISTINCT FROM $3",
        id,
        state.as_str(),
        drift,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Live workspaces, those checked longest ago (or never) first.
pub async fn due_for_reconcile(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM workspaces WHERE state NOT IN ('terminated', 'failed') ORDER BY reconciled_at NULLS FIRST, created_at LIMIT $1",
        limit
    )
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
    let rows = sqlx::query!(
        r#"SELECT w.id, w.name, w.team_slug, w.owner, t.product_name || ' ' || t.version_name AS "type_label!", w.state, w.drift,
                  w.reconciled_at, w.created_at, count(*) OVER () AS "total!"
           FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id JOIN workspace_types t ON t.id = w.workspace_type_id
           WHERE ($1::text IS NULL OR w.team_slug = $1) AND ($2::text IS NULL OR w.owner = $2)
             AND ($3::text IS NULL OR t.product_name || ' ' || t.version_name = $3) AND ($4::text IS NULL OR w.state = $4)
             AND (NOT $5 OR w.drift IS NOT NULL)
             AND NOT (w.state = 'terminated' AND w.updated_at < now() - make_interval(days => $6))
           ORDER BY w.drift IS NULL, w.created_at DESC, w.id LIMIT $7 OFFSET $8"#,
        filter.team.as_deref(),
        filter.owner.as_deref(),
        filter.type_label.as_deref(),
        filter.state.as_deref(),
        filter.drift_only,
        app::domain::workspace::ARCHIVE_AFTER_DAYS as i32,
        limit,
        offset,
    )
    .fetch_all(db)
    .await?;
    let total = rows.first().map(|row| row.total).unwrap_or(0);
    let rows = rows
        .into_iter()
        .map(|row| {
            Ok(app::domain::workspace::AdminWorkspaceRow {
                id: row.id,
                name: row.name,
                team: row.team_slug,
                owner: row.owner,
                type_label: row.type_label,
                state: parse_state(&row.state)?,
                drift: row.drift,
                reconciled_at: row.reconciled_at.map(dates::minute_utc),
                created_at: dates::minute_utc(row.created_at),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((rows, total))
}

/// Every workspace type's label ("Linux workstation (EC2) v2"), for filters.
pub async fn type_labels(db: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT DISTINCT product_name || ' ' || version_name AS "label!" FROM workspace_types ORDER BY 1"#)
        .fetch_all(db)
        .await
}

/// Marks live workspaces whose owner has left the team (or is disabled) and clears those whose
/// owner is back; the newly marked ones (id, name, team, owner, state).
pub async fn mark_leavers(conn: &mut sqlx::PgConnection) -> Result<Vec<(String, String, String, String, String)>, sqlx::Error> {
    // "Left": not a member of the workspace's team any more, or disabled (the same in both).
    sqlx::query!(
        "UPDATE workspaces w SET owner_left_at = NULL WHERE owner_left_at IS NOT NULL AND NOT \
         (NOT EXISTS (SELECT 1 FROM team_memberships m WHERE m.team_slug = w.team_slug AND m.username = w.owner) \
          OR EXISTS (SELECT 1 FROM users u WHERE u.username = w.owner AND u.disabled_at IS NOT NULL))"
    )
    .execute(&mut *conn)
    .await?;
    let marked = sqlx::query!(
        "UPDATE workspaces w SET owner_left_at = now() WHERE owner_left_at IS NULL AND state NOT IN ('terminated', 'failed') AND \
         (NOT EXISTS (SELECT 1 FROM team_memberships m WHERE m.team_slug = w.team_slug AND m.username = w.owner) \
          OR EXISTS (SELECT 1 FROM users u WHERE u.username = w.owner AND u.disabled_at IS NOT NULL)) \
         RETURNING id, name, team_slug, owner, state"
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(marked.into_iter().map(|r| (r.id, r.name, r.team_slug, r.owner, r.state)).collect())
}

/// Running workspaces whose owner left their team more than `grace_days` ago and that can
/// be stopped: (id, team).
pub async fn leavers_to_stop(db: impl PgExecutor<'_>, grace_days: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT w.id, w.team_slug FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id \
         JOIN workspace_types t ON t.id = w.workspace_type_id \
         WHERE w.state = 'available' AND t.has_stop_start AND w.owner_left_at < now() - make_interval(days => $1::int8::int4)",
        grace_days
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.team_slug)).collect())
}

/// Gives a live workspace to another owner; false when it is not live any more.
pub async fn transfer(db: impl PgExecutor<'_>, id: &str, to: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE workspaces SET owner = $2, owner_left_at = NULL WHERE id = $1 AND state NOT IN ('terminated', 'failed')",
        id,
        to
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
