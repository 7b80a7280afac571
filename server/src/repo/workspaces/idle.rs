//! What the idle, nightly and health checks read and record.

use super::*;

/// A running workspace that stops on its own: idle, after a maximum running time, or nightly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleCandidate {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub configuration_name: String,
    pub team: String,
    pub role: TeamRole,
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
    external_id: String,
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
            role: TeamRole::new(self.role_arn, self.external_id),
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn idle_candidates(db: impl PgExecutor<'_>, now: time::OffsetDateTime) -> Result<Vec<IdleCandidate>, sqlx::Error> {
    let rows = sqlx::query_as!(
        IdleRow,
        r#"SELECT w.id, w.name, w.owner, c.name AS configuration_name, w.team_slug, tm.role_arn, tm.external_id,
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_stop_warning(db: impl PgExecutor<'_>, id: &str, at: time::OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET stop_warned_at = $2 WHERE id = $1", id, at).execute(db).await?;
    Ok(())
}

/// Locks the workspace and says whether it is still due to stop now: a Keep running or a
/// Connect since the check read it puts the stop off.
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_busy(db: impl PgExecutor<'_>, id: &str, at: time::OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET last_busy_at = GREATEST(last_busy_at, $2) WHERE id = $1", id, at).execute(db).await?;
    Ok(())
}

/// Someone connected to the workspace just now.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_connect(db: impl PgExecutor<'_>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspaces SET last_connect_at = now() WHERE id = $1", id).execute(db).await?;
    Ok(())
}

/// "Keep running": not stopped for being idle for `hours` from now.
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
    pub role: TeamRole,
    pub instance_id: String,
    /// The alarms raised and not cleared yet.
    pub alarms: Vec<app::domain::health::Alarm>,
}

/// Available workspaces with an instance to measure.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn health_candidates(db: impl PgExecutor<'_>) -> Result<Vec<HealthCandidate>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT w.id, w.name, w.owner, c.name AS configuration_name, w.team_slug, tm.role_arn, tm.external_id,
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
            role: TeamRole::new(row.role_arn, row.external_id),
            instance_id: row.instance_id,
            alarms: row.health_alarms.iter().filter_map(|a| app::domain::health::Alarm::parse(a)).collect(),
        })
        .collect())
}

/// Records the alarms a workspace has now, with an event (in its unchanged state) for each
/// one raised or cleared; `false` if it is no longer available.
#[tracing::instrument(level = "debug", skip_all)]
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
