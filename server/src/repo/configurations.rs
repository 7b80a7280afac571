use super::dates;
use app::domain::configurations::{Configuration, ConfigurationDraft, Sizes};
use app::domain::idle::IdlePolicy;
use app::domain::{Role, TeamSlug};
use sqlx::PgExecutor;
use sqlx::types::Json;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("a configuration with this name exists")]
    NameTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A configuration as the select returns it, with its type's label and whether it is retired.
struct ConfigurationRow {
    id: i64,
    workspace_type_id: i64,
    type_label: String,
    has_stop_start: bool,
    mounts_studies: bool,
    name: String,
    description: String,
    parameter_values: Json<BTreeMap<String, String>>,
    allowed_roles: Vec<String>,
    allowed_teams: Vec<String>,
    tags: Json<BTreeMap<String, String>>,
    estimated_hourly_cost_cents: i32,
    idle_stop_minutes: Option<i32>,
    idle_cpu_percent: i32,
    max_running_hours: Option<i32>,
    nightly_stop_at: Option<time::Time>,
    stop_on_sign_out: bool,
    retired_at: Option<time::OffsetDateTime>,
    sizes: Option<Json<Sizes>>,
}

impl TryFrom<ConfigurationRow> for Configuration {
    type Error = sqlx::Error;

    fn try_from(row: ConfigurationRow) -> Result<Configuration, sqlx::Error> {
        let decode = |what: &str| sqlx::Error::Decode(format!("a stored configuration has an invalid {what}").into());
        Ok(Configuration {
            id: row.id,
            workspace_type_id: row.workspace_type_id,
            type_label: row.type_label,
            has_stop_start: row.has_stop_start,
            mounts_studies: row.mounts_studies,
            draft: ConfigurationDraft {
                name: row.name,
                description: row.description,
                parameter_values: row.parameter_values.0,
                allowed_roles: row.allowed_roles.iter().map(|r| Role::parse(r).ok_or_else(|| decode("role"))).collect::<Result<_, _>>()?,
                allowed_teams: row
                    .allowed_teams
                    .iter()
                    .map(|t| TeamSlug::parse(t).map_err(|_| decode("team")))
                    .collect::<Result<_, _>>()?,
                tags: row.tags.0,
                estimated_hourly_cost_cents: u32::try_from(row.estimated_hourly_cost_cents).map_err(|_| decode("cost"))?,
                idle: IdlePolicy {
                    stop_after_minutes: row.idle_stop_minutes.map(|m| u32::try_from(m).map_err(|_| decode("idle window"))).transpose()?,
                    cpu_percent: u32::try_from(row.idle_cpu_percent).map_err(|_| decode("idle threshold"))?,
                    max_running_hours: row.max_running_hours.map(|h| u32::try_from(h).map_err(|_| decode("maximum"))).transpose()?,
                    nightly_stop: row.nightly_stop_at.map(dates::clock),
                    stop_on_sign_out: row.stop_on_sign_out,
                },
                sizes: row.sizes.map(|s| s.0),
            },
        })
    }
}

/// The configurations matching the filters, by name: `id` one of them, `with_retired` retired
/// ones too, `launchable_on` those of approved types that team may use (and not retired).
#[tracing::instrument(level = "debug", skip_all)]
async fn select(
    db: impl PgExecutor<'_>,
    id: Option<i64>,
    with_retired: bool,
    launchable_on: Option<&str>,
) -> Result<Vec<ConfigurationRow>, sqlx::Error> {
    sqlx::query_as!(
        ConfigurationRow,
        r#"SELECT c.id, c.workspace_type_id, t.product_name || ' ' || t.version_name AS "type_label!", t.has_stop_start,
             t.parameters @> '[{"key": "Studies"}]'::jsonb AS "mounts_studies!", c.name, c.description,
             c.parameter_values AS "parameter_values: Json<BTreeMap<String, String>>", c.allowed_roles, c.allowed_teams,
             c.tags AS "tags: Json<BTreeMap<String, String>>", c.estimated_hourly_cost_cents, c.idle_stop_minutes, c.idle_cpu_percent,
             c.max_running_hours, c.nightly_stop_at, c.stop_on_sign_out, c.retired_at, c.sizes AS "sizes: Json<Sizes>"
           FROM workspace_configurations c JOIN workspace_types t ON t.id = c.workspace_type_id
           WHERE ($1::bigint IS NULL OR c.id = $1) AND ($2 OR c.retired_at IS NULL)
             AND ($3::text IS NULL OR (t.status = 'approved' AND $3 = ANY (c.allowed_teams)))
           ORDER BY c.name"#,
        id,
        with_retired,
        launchable_on,
    )
    .fetch_all(db)
    .await
}

fn configurations(rows: Vec<ConfigurationRow>) -> Result<Vec<Configuration>, sqlx::Error> {
    rows.into_iter().map(Configuration::try_from).collect()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, type_id: i64, draft: &ConfigurationDraft, created_by: &str) -> Result<i64, SaveError> {
    let roles: Vec<String> = draft.allowed_roles.iter().map(|r| r.as_str().to_owned()).collect();
    let teams: Vec<String> = draft.allowed_teams.iter().map(|t| t.as_str().to_owned()).collect();
    let cents = i32::try_from(draft.estimated_hourly_cost_cents).unwrap_or(i32::MAX);
    sqlx::query_scalar!(
        "INSERT INTO workspace_configurations \
         (workspace_type_id, name, description, parameter_values, allowed_roles, allowed_teams, tags, estimated_hourly_cost_cents, created_by, \
          idle_stop_minutes, idle_cpu_percent, max_running_hours, nightly_stop_at, stop_on_sign_out, sizes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::time, $14, $15) RETURNING id",
        type_id,
        draft.name,
        draft.description,
        Json(&draft.parameter_values) as _,
        &roles,
        &teams,
        Json(&draft.tags) as _,
        cents,
        created_by,
        draft.idle.stop_after_minutes.map(|m| m as i32),
        draft.idle.cpu_percent as i32,
        draft.idle.max_running_hours.map(|h| h as i32),
        draft.idle.nightly_stop.as_deref(),
        draft.idle.stop_on_sign_out,
        draft.sizes.as_ref().map(Json) as _,
    )
    .fetch_one(db)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.constraint() == Some("workspace_configurations_unique_name") => SaveError::NameTaken,
        _ => SaveError::Database(error),
    })
}

/// Changes a configuration's idle policy; `false` if there is no such configuration.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_idle_policy(db: impl PgExecutor<'_>, id: i64, policy: &IdlePolicy) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "UPDATE workspace_configurations SET idle_stop_minutes = $2, idle_cpu_percent = $3, max_running_hours = $4, \
         nightly_stop_at = $5::text::time, stop_on_sign_out = $6 \
         WHERE id = $1",
        id,
        policy.stop_after_minutes.map(|m| m as i32),
        policy.cpu_percent as i32,
        policy.max_running_hours.map(|h| h as i32),
        policy.nightly_stop.as_deref(),
        policy.stop_on_sign_out,
    )
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Every configuration that is not retired.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<Configuration>, sqlx::Error> {
    configurations(select(db, None, false, None).await?)
}

/// Every configuration, and whether it is retired.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_with_retired(db: impl PgExecutor<'_>) -> Result<Vec<(Configuration, bool)>, sqlx::Error> {
    select(db, None, true, None)
        .await?
        .into_iter()
        .map(|row| {
            let retired = row.retired_at.is_some();
            Ok((Configuration::try_from(row)?, retired))
        })
        .collect()
}

/// Rewrites a configuration (and brings it back if it was retired).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(db: impl PgExecutor<'_>, id: i64, type_id: i64, draft: &ConfigurationDraft) -> Result<(), sqlx::Error> {
    let roles: Vec<String> = draft.allowed_roles.iter().map(|r| r.as_str().to_owned()).collect();
    let teams: Vec<String> = draft.allowed_teams.iter().map(|t| t.as_str().to_owned()).collect();
    sqlx::query!(
        "UPDATE workspace_configurations SET workspace_type_id = $2, description = $3, parameter_values = $4, allowed_roles = $5, \
         allowed_teams = $6, tags = $7, estimated_hourly_cost_cents = $8, idle_stop_minutes = $9, idle_cpu_percent = $10, \
         max_running_hours = $11, nightly_stop_at = $12::text::time, stop_on_sign_out = $13, sizes = $14, retired_at = NULL WHERE id = $1",
        id,
        type_id,
        draft.description,
        Json(&draft.parameter_values) as _,
        &roles,
        &teams,
        Json(&draft.tags) as _,
        i32::try_from(draft.estimated_hourly_cost_cents).unwrap_or(i32::MAX),
        draft.idle.stop_after_minutes.map(|m| m as i32),
        draft.idle.cpu_percent as i32,
        draft.idle.max_running_hours.map(|h| h as i32),
        draft.idle.nightly_stop.as_deref(),
        draft.idle.stop_on_sign_out,
        draft.sizes.as_ref().map(Json) as _,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// No new launches of it; its workspaces are untouched.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn retire(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE workspace_configurations SET retired_at = now() WHERE id = $1 AND retired_at IS NULL", id).execute(db).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Configuration>, sqlx::Error> {
    select(db, Some(id), true, None).await?.into_iter().next().map(Configuration::try_from).transpose()
}

/// Configurations of approved types that `team` may use (roles are checked by the caller).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn launchable_on_team(db: impl PgExecutor<'_>, team: &TeamSlug) -> Result<Vec<Configuration>, sqlx::Error> {
    configurations(select(db, None, false, Some(team.as_str())).await?)
}
