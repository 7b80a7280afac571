//! Synced daily costs, team budgets and the alerts sent for them.

use super::dates;
use crate::aws::cost_explorer::DailyCost;
use app::domain::costs::WorkspaceSpend;
use sqlx::{PgExecutor, Postgres, Transaction};

/// Replaces the team's costs for each of `days` with `costs`: a day synced again is replaced,
/// never added to, and a day Cost Explorer did not report on is left as it was.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replace_days(
    tx: &mut Transaction<'_, Postgres>,
    team: &str,
    days: &[time::Date],
    costs: &[DailyCost],
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM daily_costs WHERE team_slug = $1 AND day = ANY($2)", team, days).execute(&mut **tx).await?;
    // Cost Explorer can split one (day, workspace, user) over pages; the sum is the day's.
    let cost_days: Vec<time::Date> = costs.iter().map(|c| c.day).collect();
    let workspaces: Vec<String> = costs.iter().map(|c| c.workspace_id.clone()).collect();
    let users: Vec<String> = costs.iter().map(|c| c.username.clone()).collect();
    let amounts: Vec<i64> = costs.iter().map(|c| c.amount_micros).collect();
    sqlx::query!(
        "INSERT INTO daily_costs (team_slug, day, workspace_id, username, amount_micros) \
         SELECT $1, day, workspace_id, username, sum(amount) FROM unnest($2::date[], $3::text[], $4::text[], $5::bigint[]) \
           AS c(day, workspace_id, username, amount) \
         WHERE day = ANY($6) GROUP BY day, workspace_id, username",
        team,
        &cost_days[..],
        &workspaces[..],
        &users[..],
        &amounts[..],
        days,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A user's spend per workspace on a team over a range of days, in cents (each day rounded as
/// `micros_to_cents` does), highest first: what was tagged with the user, and what was tagged
/// only with a workspace of theirs.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn user_spend_by_workspace(
    db: impl PgExecutor<'_>,
    team: &str,
    username: &str,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<WorkspaceSpend>, sqlx::Error> {
    sqlx::query_as!(
        SpendRow,
        r#"SELECT $1::text AS "team_slug!", s.workspace_id AS "workspace_id!", w.name AS "workspace_name?", $2::text AS "username!",
                sum(micros_to_cents(s.amount_micros))::bigint AS "cents!"
         FROM (SELECT workspace_id, amount_micros FROM daily_costs
                 WHERE team_slug = $1 AND username = $2 AND day BETWEEN $3 AND $4
               UNION ALL
               SELECT c.workspace_id, c.amount_micros FROM workspaces o JOIN daily_costs c ON c.workspace_id = o.id
                 WHERE o.owner = $2 AND o.team_slug = $1 AND c.team_slug = $1 AND c.username = '' AND c.day BETWEEN $3 AND $4) s
         LEFT JOIN workspaces w ON w.id = s.workspace_id
         GROUP BY s.workspace_id, w.name ORDER BY "cents!" DESC, w.name"#,
        team,
        username,
        first,
        last,
    )
    .fetch_all(db)
    .await
    .map(|rows| rows.into_iter().map(SpendRow::into_spend).collect())
}

/// A workspace's spend as the statements return it.
struct SpendRow {
    team_slug: String,
    workspace_id: String,
    workspace_name: Option<String>,
    username: String,
    cents: i64,
}

impl SpendRow {
    fn into_spend(self) -> WorkspaceSpend {
        WorkspaceSpend {
            name: workspace_label(self.workspace_name.as_deref(), &self.workspace_id),
            workspace_id: self.workspace_id,
            team: self.team_slug,
            owner: self.username,
            total_cents: self.cents,
        }
    }
}

/// How a workspace is named on cost pages, also when it is gone or was never tagged.
pub fn workspace_label(name: Option<&str>, workspace_id: &str) -> String {
    match (name, workspace_id) {
        (Some(name), _) => name.to_owned(),
        (None, "") => "(not tagged with a workspace)".into(),
        (None, id) => format!("(unknown {})", id.chars().take(8).collect::<String>()),
    }
}

/// A team's spend on one day, in cents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamDay {
    pub team: String,
    pub day: time::Date,
    pub cents: i64,
}

/// Spend per team and day over a range (each synced row rounded to cents, then summed), for
/// one team or all.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn team_days(
    db: impl PgExecutor<'_>,
    first: time::Date,
    last: time::Date,
    team: Option<&str>,
) -> Result<Vec<TeamDay>, sqlx::Error> {
    // One statement for one team and one for all, not `$3 IS NULL OR team_slug = $3`: a
    // prepared statement's generic plan for that scans every row; this way one team's days
    // come through the primary key.
    match team {
        Some(team) => {
            sqlx::query_as!(
                TeamDay,
                r#"SELECT team_slug AS "team!", day AS "day!", sum(micros_to_cents(amount_micros))::bigint AS "cents!" FROM daily_costs
                   WHERE day BETWEEN $1 AND $2 AND team_slug = $3 GROUP BY team_slug, day ORDER BY day"#,
                first,
                last,
                team,
            )
            .fetch_all(db)
            .await
        }
        None => {
            sqlx::query_as!(
                TeamDay,
                r#"SELECT team_slug AS "team!", day AS "day!", sum(micros_to_cents(amount_micros))::bigint AS "cents!" FROM daily_costs
                   WHERE day BETWEEN $1 AND $2 GROUP BY team_slug, day ORDER BY day"#,
                first,
                last,
            )
            .fetch_all(db)
            .await
        }
    }
}

/// Spend per workspace and user over a range: one row per (team, workspace, user), whose
/// count grows with the workspaces that spent, not with the days or rows synced. A row
/// without a user counts for the owner of its workspace.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn spend_by_workspace_and_user(
    db: impl PgExecutor<'_>,
    first: time::Date,
    last: time::Date,
) -> Result<Vec<WorkspaceSpend>, sqlx::Error> {
    sqlx::query_as!(
        SpendRow,
        r#"WITH per AS (
           SELECT team_slug, workspace_id, username, sum(micros_to_cents(amount_micros))::bigint AS cents FROM daily_costs
           WHERE day BETWEEN $1 AND $2 GROUP BY team_slug, workspace_id, username)
         SELECT p.team_slug AS "team_slug!", p.workspace_id AS "workspace_id!", w.name AS "workspace_name?",
                CASE WHEN p.username = '' THEN COALESCE(w.owner, '') ELSE p.username END AS "username!", p.cents AS "cents!"
         FROM per p LEFT JOIN workspaces w ON w.id = p.workspace_id"#,
        first,
        last,
    )
    .fetch_all(db)
    .await
    .map(|rows| rows.into_iter().map(SpendRow::into_spend).collect())
}

// The running workspaces Cost Explorer has not reported on for every day of `[$1, $2)`
// (launched since, or not synced yet): the recent average undercounts them, so forecasts add
// their hourly estimate instead. The two statements below share this condition word for word:
//   FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id
//   WHERE w.state NOT IN ('stopped', 'terminated', 'failed')
//     AND (SELECT count(DISTINCT d.day) FROM daily_costs d
//          WHERE d.team_slug = w.team_slug AND d.workspace_id = w.id AND d.day >= $1 AND d.day < $2) < $2 - $1

/// The hourly estimates of the team's unsynced running workspaces (see above) over `[since, until)`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unsynced_hourly_cents(db: impl PgExecutor<'_>, team: &str, since: time::Date, until: time::Date) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE(sum(c.estimated_hourly_cost_cents), 0)::bigint AS "cents!"
           FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id
           WHERE w.state NOT IN ('stopped', 'terminated', 'failed')
             AND (SELECT count(DISTINCT d.day) FROM daily_costs d
                  WHERE d.team_slug = w.team_slug AND d.workspace_id = w.id AND d.day >= $1 AND d.day < $2) < $2 - $1
             AND w.team_slug = $3"#,
        since,
        until,
        team,
    )
    .fetch_one(db)
    .await
}

/// `unsynced_hourly_cents` of every team at once (teams without such workspaces left out).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unsynced_hourly_cents_by_team(
    db: impl PgExecutor<'_>,
    since: time::Date,
    until: time::Date,
) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT w.team_slug AS "team_slug!", sum(c.estimated_hourly_cost_cents)::bigint AS "cents!"
           FROM workspaces w JOIN workspace_configurations c ON c.id = w.configuration_id
           WHERE w.state NOT IN ('stopped', 'terminated', 'failed')
             AND (SELECT count(DISTINCT d.day) FROM daily_costs d
                  WHERE d.team_slug = w.team_slug AND d.workspace_id = w.id AND d.day >= $1 AND d.day < $2) < $2 - $1
           GROUP BY w.team_slug"#,
        since,
        until,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| (row.team_slug, row.cents)).collect())
}

/// Every team's budget.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn budgets(db: impl PgExecutor<'_>) -> Result<std::collections::HashMap<String, Budget>, sqlx::Error> {
    let rows = sqlx::query!("SELECT team_slug, amount_cents, thresholds FROM team_budgets").fetch_all(db).await?;
    Ok(rows.into_iter().map(|row| (row.team_slug, budget_from(row.amount_cents, row.thresholds))).collect())
}

/// Serialises launches on one team until the transaction ends, so that two launches cannot
/// both fit in the budget that only one of them fits in.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_team_budget(tx: &mut Transaction<'_, Postgres>, team: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('atrium-budget:' || $1))", team).execute(&mut **tx).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn last_synced_at(db: impl PgExecutor<'_>) -> Result<Option<String>, sqlx::Error> {
    let at = sqlx::query_scalar!(r#"SELECT max(synced_at) AS "at?" FROM daily_costs"#).fetch_one(db).await?;
    Ok(at.map(dates::minute_utc))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub amount_cents: i64,
    pub thresholds: Vec<u32>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn budget(db: impl PgExecutor<'_>, team: &str) -> Result<Option<Budget>, sqlx::Error> {
    let row = sqlx::query!("SELECT amount_cents, thresholds FROM team_budgets WHERE team_slug = $1", team).fetch_optional(db).await?;
    Ok(row.map(|row| budget_from(row.amount_cents, row.thresholds)))
}

fn budget_from(amount_cents: i64, thresholds: Vec<i32>) -> Budget {
    Budget { amount_cents, thresholds: thresholds.into_iter().filter_map(|t| u32::try_from(t).ok()).collect() }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_budget(db: impl PgExecutor<'_>, team: &str, budget: &Budget, by: &str) -> Result<(), sqlx::Error> {
    let thresholds: Vec<i32> = budget.thresholds.iter().filter_map(|t| i32::try_from(*t).ok()).collect();
    sqlx::query!(
        "INSERT INTO team_budgets (team_slug, amount_cents, thresholds, updated_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (team_slug) DO UPDATE SET amount_cents = EXCLUDED.amount_cents, thresholds = EXCLUDED.thresholds, \
         updated_by = EXCLUDED.updated_by, updated_at = now()",
        team,
        budget.amount_cents,
        &thresholds[..],
        by,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records that `threshold` was crossed this month; false when it already was (no new alert).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_alert(
    db: impl PgExecutor<'_>,
    team: &str,
    month: time::Date,
    threshold: u32,
    figures: (i64, i64, i64),
) -> Result<bool, sqlx::Error> {
    let (spent, forecast, budget) = figures;
    let inserted = sqlx::query!(
        "INSERT INTO budget_alerts (team_slug, month, threshold, spent_cents, forecast_cents, budget_cents) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        team,
        month,
        i32::try_from(threshold).unwrap_or(i32::MAX),
        spent,
        forecast,
        budget,
    )
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn alerts_since(db: impl PgExecutor<'_>, month: time::Date) -> Result<Vec<app::domain::costs::BudgetAlert>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT t.name AS team, a.threshold, a.forecast_cents, a.budget_cents, a.alerted_at \
         FROM budget_alerts a JOIN teams t ON t.slug = a.team_slug WHERE a.month >= $1 ORDER BY a.alerted_at DESC, a.threshold DESC",
        month,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| app::domain::costs::BudgetAlert {
            team: row.team,
            threshold: u32::try_from(row.threshold).unwrap_or_default(),
            forecast_cents: row.forecast_cents,
            budget_cents: row.budget_cents,
            at: dates::minute(row.alerted_at),
        })
        .collect())
}

/// Since `month_start`: each stop the portal made on its own (its event says "stopped: …"),
/// for as long as the workspace then stood stopped, times its configuration's hourly estimate.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn auto_stop_savings(db: impl PgExecutor<'_>, month_start: time::Date) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH stops AS (
           SELECT e.workspace_id, e.at AS stopped_at,
             (SELECT min(n.at) FROM workspace_events n WHERE n.workspace_id = e.workspace_id AND n.at > e.at
                AND n.to_state IN ('starting', 'terminating', 'terminated')) AS ended_at
           FROM workspace_events e WHERE e.to_state = 'stopping' AND e.message LIKE 'stopped:%')
         SELECT COALESCE(round(sum(extract(epoch FROM COALESCE(s.ended_at, now()) - GREATEST(s.stopped_at, $1::date::timestamptz)) / 3600.0
           * c.estimated_hourly_cost_cents)), 0)::bigint AS "cents!"
         FROM stops s JOIN workspaces w ON w.id = s.workspace_id JOIN workspace_configurations c ON c.id = w.configuration_id
         WHERE COALESCE(s.ended_at, now()) > $1::date::timestamptz"#,
        month_start,
    )
    .fetch_one(db)
    .await
}
