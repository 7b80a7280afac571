use app::domain::configurations::{Configuration, ConfigurationDraft};
use app::domain::idle::IdlePolicy;
use app::domain::{Role, TeamSlug};
use sqlx::types::Json;
use sqlx::{PgExecutor, Row};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("a configuration with this name exists")]
    NameTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

const SELECT: &str = "SELECT c.id, c.workspace_type_id, t.product_name || ' ' || t.version_name AS type_label, t.has_stop_start, \
    t.parameters @> '[{\"key\": \"Studies\"}]'::jsonb AS mounts_studies, c.name, c.description, \
    c.parameter_values, c.allowed_roles, c.allowed_teams, c.tags, c.estimated_hourly_cost_cents, c.idle_stop_minutes, c.idle_cpu_percent, \
    c.max_running_hours, to_char(c.nightly_stop_at, 'HH24:MI') AS nightly_stop, c.stop_on_sign_out, c.retired_at, c.sizes \
    FROM workspace_configurations c JOIN workspace_types t ON t.id = c.workspace_type_id";

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Configuration, sqlx::Error> {
    let decode = |what: &str| sqlx::Error::Decode(format!("a stored configuration has an invalid {what}").into());
    let roles: Vec<String> = row.try_get("allowed_roles")?;
    let teams: Vec<String> = row.try_get("allowed_teams")?;
    let cents: i32 = row.try_get("estimated_hourly_cost_cents")?;
    let parameters: Json<BTreeMap<String, String>> = row.try_get("parameter_values")?;
    let tags: Json<BTreeMap<String, String>> = row.try_get("tags")?;
    let sizes: Option<Json<app::domain::configurations::Sizes>> = row.try_get("sizes")?;
    Ok(Configuration {
        id: row.try_get("id")?,
        workspace_type_id: row.try_get("workspace_type_id")?,
        type_label: row.try_get("type_label")?,
        has_stop_start: row.try_get("has_stop_start")?,
        mounts_studies: row.try_get("mounts_studies")?,
        draft: ConfigurationDraft {
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            parameter_values: parameters.0,
            allowed_roles: roles.iter().map(|r| Role::parse(r).ok_or_else(|| decode("role"))).collect::<Result<_, _>>()?,
            allowed_teams: teams.iter().map(|t| TeamSlug::parse(t).map_err(|_| decode("team"))).collect::<Result<_, _>>()?,
            tags: tags.0,
            estimated_hourly_cost_cents: u32::try_from(cents).map_err(|_| decode("cost"))?,
            idle: IdlePolicy {
                stop_after_minutes: row
                    .try_get::<Option<i32>, _>("idle_stop_minutes")?
                    .map(|m| u32::try_from(m).map_err(|_| decode("idle window")))
                    .transpose()?,
                cpu_percent: u32::try_from(row.try_get::<i32, _>("idle_cpu_percent")?).map_err(|_| decode("idle threshold"))?,
                max_running_hours: row
                    .try_get::<Option<i32>, _>("max_running_hours")?
                    .map(|h| u32::try_from(h).map_err(|_| decode("maximum")))
                    .transpose()?,
                nightly_stop: row.try_get("nightly_stop")?,
                stop_on_sign_out: row.try_get("stop_on_sign_out")?,
            },
            sizes: sizes.map(|s| s.0),
        },
    })
}

pub async fn insert(db: impl PgExecutor<'_>, type_id: i64, draft: &ConfigurationDraft, created_by: &str) -> Result<i64, SaveError> {
    let roles: Vec<&str> = draft.allowed_roles.iter().map(|r| r.as_str()).collect();
    let teams: Vec<&str> = draft.allowed_teams.iter().map(|t| t.as_str()).collect();
    let cents = i32::try_from(draft.estimated_hourly_cost_cents).unwrap_or(i32::MAX);
    sqlx::query_scalar(
        "INSERT INTO workspace_configurations \
         (workspace_type_id, name, description, parameter_values, allowed_roles, allowed_teams, tags, estimated_hourly_cost_cents, created_by, \
          idle_stop_minutes, idle_cpu_percent, max_running_hours, nightly_stop_at, stop_on_sign_out, sizes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::time, $14, $15) RETURNING id",
    )
    .bind(type_id)
    .bind(&draft.name)
    .bind(&draft.description)
    .bind(Json(&draft.parameter_values))
    .bind(&roles)
    .bind(&teams)
    .bind(Json(&draft.tags))
    .bind(cents)
    .bind(created_by)
    .bind(draft.idle.stop_after_minutes.map(|m| m as i32))
    .bind(draft.idle.cpu_percent as i32)
    .bind(draft.idle.max_running_hours.map(|h| h as i32))
    .bind(draft.idle.nightly_stop.as_deref())
    .bind(draft.idle.stop_on_sign_out)
    .bind(draft.sizes.as_ref().map(Json))
    .fetch_one(db)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.constraint() == Some("workspace_configurations_unique_name") => SaveError::NameTaken,
        _ => SaveError::Database(error),
    })
}

/// Changes a configuration's idle policy; `false` if there is no such configuration.
pub async fn set_idle_policy(db: impl PgExecutor<'_>, id: i64, policy: &IdlePolicy) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE workspace_configurations SET idle_stop_minutes = $2, idle_cpu_percent = $3, max_running_hours = $4, nightly_stop_at = $5::time, \
         stop_on_sign_out = $6 \
         WHERE id = $1",
    )
        .bind(id)
        .bind(policy.stop_after_minutes.map(|m| m as i32))
        .bind(policy.cpu_percent as i32)
        .bind(policy.max_running_hours.map(|h| h as i32))
        .bind(policy.nightly_stop.as_deref())
        .bind(policy.stop_on_sign_out)
        .execute(db)
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// Every configuration that is not retired.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<Configuration>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} WHERE c.retired_at IS NULL ORDER BY c.name")).fetch_all(db).await?.iter().map(from_row).collect()
}

/// Every configuration, and whether it is retired.
pub async fn list_with_retired(db: impl PgExecutor<'_>) -> Result<Vec<(Configuration, bool)>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} ORDER BY c.name"))
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| Ok((from_row(row)?, row.try_get::<Option<time::OffsetDateTime>, _>("retired_at")?.is_some())))
        .collect()
}

/// Rewrites a configuration (and brings it back if it was retired).
pub async fn update(db: impl PgExecutor<'_>, id: i64, type_id: i64, draft: &ConfigurationDraft) -> Result<(), sqlx::Error> {
    let roles: Vec<&str> = draft.allowed_roles.iter().map(|r| r.as_str()).collect();
    let teams: Vec<&str> = draft.allowed_teams.iter().map(|t| t.as_str()).collect();
    sqlx::query(
        "UPDATE workspace_configurations SET workspace_type_id = $2, description = $3, parameter_values = $4, allowed_roles = $5, \
         allowed_teams = $6, tags = $7, estimated_hourly_cost_cents = $8, idle_stop_minutes = $9, idle_cpu_percent = $10, \
         max_running_hours = $11, nightly_stop_at = $12::time, stop_on_sign_out = $13, sizes = $14, retired_at = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(type_id)
    .bind(&draft.description)
    .bind(Json(&draft.parameter_values))
    .bind(&roles)
    .bind(&teams)
    .bind(Json(&draft.tags))
    .bind(i32::try_from(draft.estimated_hourly_cost_cents).unwrap_or(i32::MAX))
    .bind(draft.idle.stop_after_minutes.map(|m| m as i32))
    .bind(draft.idle.cpu_percent as i32)
    .bind(draft.idle.max_running_hours.map(|h| h as i32))
    .bind(draft.idle.nightly_stop.as_deref())
    .bind(draft.idle.stop_on_sign_out)
    .bind(draft.sizes.as_ref().map(Json))
    .execute(db)
    .await?;
    Ok(())
}

/// No new launches of it; its workspaces are untouched.
pub async fn retire(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspace_configurations SET retired_at = now() WHERE id = $1 AND retired_at IS NULL").bind(id).execute(db).await?;
    Ok(())
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Configuration>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} WHERE c.id = $1")).bind(id).fetch_optional(db).await?.as_ref().map(from_row).transpose()
}

/// Configurations of approved types that `team` may use (roles are checked by the caller).
pub async fn launchable_on_team(db: impl PgExecutor<'_>, team: &TeamSlug) -> Result<Vec<Configuration>, sqlx::Error> {
    sqlx::query(&format!("{SELECT} WHERE t.status = 'approved' AND c.retired_at IS NULL AND $1 = ANY (c.allowed_teams) ORDER BY c.name"))
        .bind(team.as_str())
        .fetch_all(db)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
