//! The reconcile with AWS, the admin list, leavers and transfers.

use super::*;

/// What the reconcile needs of a workspace.
pub struct ReconcileContext {
    pub state: WorkspaceState,
    pub owner: String,
    pub role: TeamRole,
    pub outputs: BTreeMap<String, String>,
    /// Since the launch was requested.
    pub age_minutes: i64,
}

impl ReconcileContext {
    pub fn state_after(&self, event: WorkspaceEvent) -> WorkspaceState {
        self.state.transition(event).unwrap_or(self.state)
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn reconcile_context(db: impl PgExecutor<'_>, id: &str) -> Result<Option<ReconcileContext>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT w.state, w.owner, tm.role_arn, tm.external_id, w.outputs AS "outputs: Json<BTreeMap<String, String>>",
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
        role: TeamRole::new(row.role_arn, row.external_id),
        outputs: row.outputs.0,
        age_minutes: row.age_minutes,
    }))
}

/// Records what the reconcile found (`None`: nothing wrong). A new finding is also an event
/// on the workspace's page, once.
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn type_labels(db: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT DISTINCT product_name || ' ' || version_name AS "label!" FROM workspace_types ORDER BY 1"#)
        .fetch_all(db)
        .await
}

/// A live workspace whose owner has left its team (or is disabled).
pub struct LeaversWorkspace {
    pub id: String,
    pub name: String,
    pub team_slug: String,
    pub owner: String,
    pub state: String,
}

/// Marks live workspaces whose owner has left the team (or is disabled) and clears those whose
/// owner is back; the newly marked ones.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_leavers(conn: &mut sqlx::PgConnection) -> Result<Vec<LeaversWorkspace>, sqlx::Error> {
    // "Left": not a member of the workspace's team any more, or disabled (the same in both).
    sqlx::query!(
        "UPDATE workspaces w SET owner_left_at = NULL WHERE owner_left_at IS NOT NULL AND NOT \
         (NOT EXISTS (SELECT 1 FROM team_memberships m WHERE m.team_slug = w.team_slug AND m.username = w.owner) \
          OR EXISTS (SELECT 1 FROM users u WHERE u.username = w.owner AND u.disabled_at IS NOT NULL))"
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_as!(
        LeaversWorkspace,
        "UPDATE workspaces w SET owner_left_at = now() WHERE owner_left_at IS NULL AND state NOT IN ('terminated', 'failed') AND \
         (NOT EXISTS (SELECT 1 FROM team_memberships m WHERE m.team_slug = w.team_slug AND m.username = w.owner) \
          OR EXISTS (SELECT 1 FROM users u WHERE u.username = w.owner AND u.disabled_at IS NOT NULL)) \
         RETURNING id, name, team_slug, owner, state"
    )
    .fetch_all(&mut *conn)
    .await
}

/// Running workspaces whose owner left their team more than `grace_days` ago and that can
/// be stopped: (id, team).
#[tracing::instrument(level = "debug", skip_all)]
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
#[tracing::instrument(level = "debug", skip_all)]
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

/// The EC2 instance of the owner's available workspace of this name, and its team's role.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn available_instance(db: impl PgExecutor<'_>, owner: &str, name: &str) -> Result<Option<(String, TeamRole)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT w.outputs->>'InstanceId' AS "instance!", t.role_arn, t.external_id FROM workspaces w JOIN teams t ON t.slug = w.team_slug
           WHERE w.owner = $1 AND w.name = $2 AND w.state = 'available' AND w.outputs ? 'InstanceId'"#,
        owner,
        name,
    )
    .fetch_optional(db)
    .await?
    .map(|row| (row.instance, TeamRole::new(row.role_arn, row.external_id))))
}
