//! Workspaces as their pages and the API read them.

use super::*;

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
#[tracing::instrument(level = "debug", skip_all)]
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
    view.studies = crate::repo::studies::mounts_of(db, id).await?;
    Ok(Some(view))
}

/// The owner's live workspaces on a team (not terminated or failed), newest first, without
/// their events; and how many have ended, when there is a live one (`None` otherwise: ask
/// `count_ended_for_owner`). One query for the usual team home.
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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

/// Others' live workspaces on the team shared with this user.
#[tracing::instrument(level = "debug", skip_all)]
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
