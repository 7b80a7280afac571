//! Costs and budgets: the dashboard, a researcher's own spend, budgets, and the two worker
//! jobs behind them, the Cost Explorer sync and the budget check.

use super::database_error;
use crate::aws::cost_explorer::CostSource;
use crate::aws::provisioning::ProvisionError;
use crate::changes::{Changes, LiveCache, TeamCache};
use crate::notifications;
use crate::repo::costs::{self, Budget};
use crate::repo::{audit, teams};
use app::caller::must_be_admin;
use app::domain::costs::{BudgetForm, CostDashboard, MonthBudget, MySpend, TeamSpend, UserSpend, WorkspaceSpend, month_end_forecast};
use app::domain::dollars;
use app::domain::notifications::Notice;
use app::domain::notifications::NotificationEvent;
use app::domain::{CurrentUser, Role, TeamSlug};
use app::error::AppError;
use app::features::costs::CostService;
use sqlx::PgPool;
use std::collections::BTreeMap;
use time::{Date, Duration};

/// How far back each sync asks Cost Explorer: the longest range `/costs` offers. Recent days
/// change as AWS finalises them, so they are fetched again each time.
pub const SYNC_DAYS: i64 = 90;
/// The days whose average the forecast carries to the month's end.
const FORECAST_BASIS_DAYS: i64 = 7;

pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn first_of_month(day: Date) -> Date {
    day.replace_day(1).unwrap_or(day)
}

/// Full days of the month after `day`.
fn days_left_after(day: Date) -> u32 {
    u32::from(day.month().length(day.year()) - day.day())
}

/// The team's month as of `today`: spend so far, forecast to the month's end (including the
/// estimates of running workspaces Cost Explorer has not reported on yet), budget.
#[tracing::instrument(skip_all)]
pub async fn month_budget(conn: &mut sqlx::PgConnection, team: &teams::Team, today: Date) -> Result<MonthBudget, sqlx::Error> {
    let days = costs::team_days(&mut *conn, month_basis_start(today), today, Some(team.slug.as_str())).await?;
    month_with_budget(conn, team, &days.iter().map(|d| (d.day, d.cents)).collect(), today).await
}

/// Cents per day.
type Daily = BTreeMap<Date, i64>;

/// The first day the month's figures read: the month's first, or the forecast week's.
fn month_basis_start(today: Date) -> Date {
    first_of_month(today).min(today - Duration::days(FORECAST_BASIS_DAYS))
}

/// The month from the team's daily spend (from `month_basis_start` at least), with its budget
/// and the running workspaces Cost Explorer has not reported on yet.
#[tracing::instrument(skip_all)]
async fn month_with_budget(
    conn: &mut sqlx::PgConnection,
    team: &teams::Team,
    daily: &Daily,
    today: Date,
) -> Result<MonthBudget, sqlx::Error> {
    let budget = costs::budget(&mut *conn, team.slug.as_str()).await?;
    let unsynced = costs::unsynced_hourly_cents(&mut *conn, team.slug.as_str(), today - Duration::days(FORECAST_BASIS_DAYS), today).await?;
    Ok(month_forecast(team, daily, budget, unsynced, today))
}

/// The month from synced costs, plus what running workspaces not synced yet (`unsynced_hourly`
/// cents an hour) will add by the month's end.
fn month_forecast(team: &teams::Team, daily: &Daily, budget: Option<Budget>, unsynced_hourly: i64, today: Date) -> MonthBudget {
    let mut month = month_from_days(team, daily, budget, today);
    month.forecast_cents += cost_to_month_end(u32::try_from(unsynced_hourly).unwrap_or(u32::MAX), today);
    month
}

/// The month from synced costs alone.
fn month_from_days(team: &teams::Team, daily: &Daily, budget: Option<Budget>, today: Date) -> MonthBudget {
    let month_start = first_of_month(today);
    let spent_cents = daily.range(month_start..=today).map(|(_, cents)| cents).sum();
    let recent: Vec<i64> = (1..=FORECAST_BASIS_DAYS).map(|back| daily.get(&(today - Duration::days(back))).copied().unwrap_or(0)).collect();
    let month = format!("{} {}", today.month(), today.year());
    MonthBudget {
        team: team.slug.as_str().to_owned(),
        team_name: team.name.clone(),
        month,
        spent_cents,
        forecast_cents: month_end_forecast(spent_cents, &recent, days_left_after(today)),
        budget_cents: budget.as_ref().map(|b| b.amount_cents),
        thresholds: budget.map(|b| b.thresholds).unwrap_or_default(),
    }
}

/// Each team's spend per day of the `days` ending `today` (zero-filled), with its month.
fn teams_spend(
    all_teams: &[teams::Team],
    daily: &BTreeMap<&str, Daily>,
    months: Vec<MonthBudget>,
    days: u32,
    today: Date,
) -> (Vec<String>, Vec<TeamSpend>) {
    let first = today - Duration::days(i64::from(days) - 1);
    let day_list: Vec<Date> = (0..i64::from(days)).map(|i| first + Duration::days(i)).collect();
    let none = Daily::new();
    let teams = all_teams
        .iter()
        .zip(months)
        .map(|(team, month)| {
            let team_daily = daily.get(team.slug.as_str()).unwrap_or(&none);
            let daily_cents: Vec<i64> = day_list.iter().map(|day| team_daily.get(day).copied().unwrap_or(0)).collect();
            TeamSpend { total_cents: daily_cents.iter().sum(), daily_cents, month }
        })
        .collect();
    (day_list.iter().map(Date::to_string).collect(), teams)
}

/// Each user's spend, highest first.
fn users_spend(spend: &[WorkspaceSpend]) -> Vec<UserSpend> {
    let mut users: BTreeMap<&str, i64> = BTreeMap::new();
    for row in spend {
        *users.entry(row.owner.as_str()).or_default() += row.total_cents;
    }
    let mut users: Vec<UserSpend> =
        users.into_iter().map(|(username, total_cents)| UserSpend { username: username.to_owned(), total_cents }).collect();
    users.sort_by(|a, b| b.total_cents.cmp(&a.total_cents).then_with(|| a.username.cmp(&b.username)));
    users
}

/// Each workspace's spend (all its users together), highest first.
fn workspaces_spend(spend: Vec<WorkspaceSpend>) -> Vec<WorkspaceSpend> {
    let mut workspaces: BTreeMap<(String, String), WorkspaceSpend> = BTreeMap::new();
    for row in spend {
        match workspaces.entry((row.team.clone(), row.workspace_id.clone())) {
            std::collections::btree_map::Entry::Occupied(mut entry) => entry.get_mut().total_cents += row.total_cents,
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(row);
            }
        }
    }
    let mut workspaces: Vec<WorkspaceSpend> = workspaces.into_values().collect();
    workspaces.sort_by(|a, b| b.total_cents.cmp(&a.total_cents).then_with(|| a.name.cmp(&b.name)));
    workspaces
}

fn per_team(days: &[costs::TeamDay]) -> BTreeMap<&str, Daily> {
    let mut per_team: BTreeMap<&str, Daily> = BTreeMap::new();
    for day in days {
        per_team.entry(day.team.as_str()).or_default().insert(day.day, day.cents);
    }
    per_team
}

pub struct Costs {
    db: PgPool,
    /// Dashboards as last computed (each reads every synced row of its range).
    dashboards: LiveCache<String, CostDashboard>,
    /// Each team's month as shown beside its launch forms (a launch checks the budget afresh).
    team_months: LiveCache<String, MonthBudget>,
    my_spend: LiveCache<String, MySpend>,
    team_rows: TeamCache,
}

impl Costs {
    pub fn new(db: PgPool, changes: &Changes) -> Self {
        Costs {
            db,
            dashboards: changes.costs.clone(),
            team_months: changes.team_months.clone(),
            my_spend: changes.my_spend.clone(),
            team_rows: changes.teams.clone(),
        }
    }

    /// The dashboard as of now, aggregated in Postgres: what comes back grows with teams, days
    /// and the workspaces that spent, not with the rows synced.
    #[tracing::instrument(skip_all)]
    async fn compute_dashboard(&self, days: u32, top: Option<usize>) -> Result<CostDashboard, AppError> {
        let today = today();
        // Archived teams' spend is history and stays.
        let all_teams = teams::list_with_archived(&self.db).await.map_err(database_error)?;
        let range_start = today - Duration::days(i64::from(days) - 1);
        let team_days = costs::team_days(&self.db, range_start.min(month_basis_start(today)), today, None).await.map_err(database_error)?;
        let daily = per_team(&team_days);
        let months = self.months(&all_teams, &daily, today).await.map_err(database_error)?;
        let (day_labels, teams) = teams_spend(&all_teams, &daily, months, days, today);
        let spend = costs::spend_by_workspace_and_user(&self.db, range_start, today).await.map_err(database_error)?;
        let (mut users, mut workspaces) = (users_spend(&spend), workspaces_spend(spend));
        let (users_count, workspaces_count) = (users.len(), workspaces.len());
        users.truncate(top.unwrap_or(usize::MAX));
        workspaces.truncate(top.unwrap_or(usize::MAX));
        Ok(CostDashboard {
            days,
            day_labels,
            total_cents: teams.iter().map(|t| t.total_cents).sum(),
            teams,
            users,
            users_count,
            workspaces,
            workspaces_count,
            alerts: costs::alerts_since(&self.db, first_of_month(today)).await.map_err(database_error)?,
            synced_at: costs::last_synced_at(&self.db).await.map_err(database_error)?,
            auto_stop_saved_cents: costs::auto_stop_savings(&self.db, first_of_month(today)).await.map_err(database_error)?,
        })
    }

    /// Every team's month, from each team's daily spend since `month_basis_start` at least
    /// (the dashboard's, read once for the range and the months).
    /// Two queries whatever the number of teams: budgets, and running workspaces not synced yet.
    #[tracing::instrument(skip_all)]
    async fn months(&self, all_teams: &[teams::Team], daily: &BTreeMap<&str, Daily>, today: Date) -> Result<Vec<MonthBudget>, sqlx::Error> {
        let mut budgets = costs::budgets(&self.db).await?;
        let unsynced = costs::unsynced_hourly_cents_by_team(&self.db, today - Duration::days(FORECAST_BASIS_DAYS), today).await?;
        let none = Daily::new();
        Ok(all_teams
            .iter()
            .map(|team| {
                let slug = team.slug.as_str();
                let hourly = unsynced.get(slug).copied().unwrap_or(0);
                month_forecast(team, daily.get(slug).unwrap_or(&none), budgets.remove(slug), hourly, today)
            })
            .collect())
    }
}

fn may_see_costs(user: &CurrentUser) -> Result<(), AppError> {
    if user.is_admin() || user.has_role(Role::CostViewer) { Ok(()) } else { Err(AppError::Forbidden) }
}

#[async_trait::async_trait]
impl CostService for Costs {
    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn dashboard(&self, user: &CurrentUser, days: u32, top: Option<usize>) -> Result<CostDashboard, AppError> {
        may_see_costs(user)?;
        if !app::domain::costs::RANGES.contains(&days) {
            return Err(AppError::BadRequest("Choose a range of 7, 30, 60 or 90 days.".into()));
        }
        // The same for every cost viewer: computed once, until costs or budgets change.
        let key = format!("{days}:{top:?}");
        self.dashboards.get_or_load(&key, self.compute_dashboard(days, top)).await
    }

    #[tracing::instrument(skip_all)]
    async fn my_spend(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<MySpend, AppError> {
        if !user.may_enter_team(slug) {
            return Err(AppError::Forbidden);
        }
        let spend = async {
            let today = today();
            let days = 30;
            let first = today - Duration::days(days - 1);
            let workspaces = costs::user_spend_by_workspace(&self.db, slug.as_str(), user.username.as_str(), first, today).await?;
            Ok(MySpend { days: days as u32, total_cents: workspaces.iter().map(|w| w.total_cents).sum(), workspaces })
        };
        let key = format!("{slug}/{}", user.username);
        self.my_spend.get_or_load(&key, spend).await.map_err(database_error)
    }

    #[tracing::instrument(skip_all)]
    async fn team_month(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<MonthBudget, AppError> {
        let team = super::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        let month = async {
            let mut conn = self.db.acquire().await?;
            month_budget(&mut conn, &team, today()).await
        };
        self.team_months.get_or_load(slug.as_str(), month).await.map_err(database_error)
    }

    #[tracing::instrument(skip_all)]
    async fn budgets(&self, admin: &CurrentUser) -> Result<Vec<MonthBudget>, AppError> {
        must_be_admin(admin)?;
        let today = today();
        let all_teams = teams::list_all(&self.db).await.map_err(database_error)?;
        let team_days = costs::team_days(&self.db, month_basis_start(today), today, None).await.map_err(database_error)?;
        self.months(&all_teams, &per_team(&team_days), today).await.map_err(database_error)
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn set_budget(&self, admin: &CurrentUser, form: BudgetForm) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let slug = TeamSlug::parse(form.team.trim()).map_err(|_| AppError::NotFound("This team".into()))?;
        let team = super::enter_team(&self.db, admin, &slug).await?;
        let valid = form.parse().map_err(|message| AppError::Invalid(vec![app::error::FieldError::new("amount", message)]))?;
        let budget = Budget { amount_cents: valid.amount_cents, thresholds: valid.thresholds };
        let mut tx = self.db.begin().await.map_err(database_error)?;
        costs::set_budget(&mut *tx, team.slug.as_str(), &budget, admin.username.as_str()).await.map_err(database_error)?;
        let thresholds: Vec<String> = budget.thresholds.iter().map(|t| format!("{t}%")).collect();
        let detail = format!("{} a month, alerts at {}", dollars(budget.amount_cents), thresholds.join(", "));
        let entry = audit::Entry::by(admin, "budget.set").object("team", team.slug.as_str()).team(team.slug.as_str()).detail(&detail);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        // A lower budget may already be crossed: check now rather than after the next sync.
        crate::jobs::enqueue(&mut *tx, &crate::jobs::Job::BudgetCheck {}, std::time::Duration::ZERO).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        // This process shows the new budget from the next request on; others hear of it.
        self.dashboards.forget_all();
        self.team_months.forget(team.slug.as_str());
        Ok(())
    }
}

/// The cost sync job's work: each team's last `SYNC_DAYS` days from Cost Explorer, replacing
/// what was stored for those days. A team whose account fails does not stop the others; the
/// first failure is returned after all were tried. Returns how many rows were stored.
#[tracing::instrument(skip_all)]
pub async fn sync_costs(db: &PgPool, source: &dyn CostSource, today: Date) -> Result<usize, SyncError> {
    let start = today - Duration::days(SYNC_DAYS - 1);
    let end = today + Duration::days(1);
    let mut stored = 0;
    let mut first_failure = None;
    // Archived teams too: Cost Explorer reports the last days of their workspaces late.
    for team in teams::list_with_archived(db).await? {
        let report = match source.daily_costs(&team.role(), team.slug.as_str(), start, end).await {
            Ok(report) => report,
            Err(error) => {
                first_failure.get_or_insert(SyncError::Aws(team.slug.as_str().to_owned(), error));
                continue;
            }
        };
        let mut tx = db.begin().await?;
        costs::replace_days(&mut tx, team.slug.as_str(), &report.days, &report.costs).await?;
        tx.commit().await?;
        stored += report.costs.len();
        tracing::info!(team = %team.slug, days = report.days.len(), rows = report.costs.len(), "Costs synced");
    }
    first_failure.map_or(Ok(stored), Err)
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Cost Explorer for team {0}: {1}")]
    Aws(String, ProvisionError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The budget check job's work: for each budgeted team, each threshold its forecast has
/// reached this month is recorded and announced once. Returns the alerts sent.
#[tracing::instrument(skip_all)]
pub async fn check_budgets(db: &PgPool, today: Date) -> Result<Vec<(String, u32)>, sqlx::Error> {
    let mut sent = Vec::new();
    let mut conn = db.acquire().await?;
    for team in teams::list_all(&mut *conn).await? {
        let month = month_budget(&mut conn, &team, today).await?;
        let Some(budget) = month.budget_cents else { continue };
        let mut tx = db.begin().await?;
        for threshold in &month.thresholds {
            if month.forecast_cents * 100 < budget * i64::from(*threshold) {
                continue;
            }
            let figures = (month.spent_cents, month.forecast_cents, budget);
            if !costs::record_alert(&mut *tx, team.slug.as_str(), first_of_month(today), *threshold, figures).await? {
                continue; // announced already this month
            }
            let notice = Notice {
                event: NotificationEvent::BudgetThreshold,
                team: Some(team.slug.as_str().to_owned()),
                title: format!("{} crossed {threshold}% of its budget", team.name),
                text: format!(
                    "{} has spent {} in {} and is forecast to spend {} of its {} budget.",
                    team.name,
                    dollars(month.spent_cents),
                    month.month,
                    dollars(month.forecast_cents),
                    dollars(budget)
                ),
            };
            notifications::publish(&mut *tx, &notice).await?;
            crate::mail::to_team_admins(&mut *tx, team.slug.as_str(), &notice.title, &notice.text).await?;
            sent.push((team.slug.as_str().to_owned(), *threshold));
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// The cost of running `hourly_cents` from now to the end of the month containing `today`.
pub fn cost_to_month_end(hourly_cents: u32, today: Date) -> i64 {
    i64::from(hourly_cents) * 24 * (i64::from(days_left_after(today)) + 1)
}

/// A budget refusal, as the user reads it.
pub fn over_budget_message(month: &MonthBudget, extra_cents: i64) -> String {
    format!(
        "This launch would take {} over its {} budget for {}: it is forecast to spend {} and this workspace adds about {} by the end of the month. Ask an administrator to raise the budget.",
        month.team_name,
        dollars(month.budget_cents.unwrap_or_default()),
        month.month,
        dollars(month.forecast_cents),
        dollars(extra_cents),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn team(slug: &str) -> teams::Team {
        teams::Team {
            slug: TeamSlug::parse(slug).expect("slug"),
            name: slug.to_uppercase(),
            description: String::new(),
            aws_account_id: "111111111111".into(),
            role_arn: String::new(),
            external_id: String::new(),
            ssm_path: "/t".into(),
            time_zone: "UTC".into(),
            reviewers: 1,
            archived: false,
        }
    }

    #[test]
    fn the_month_forecast_carries_the_last_week_to_the_month_end() {
        let today = date!(2026 - 11 - 23);
        // $1 a day every day of November so far, and the week before.
        let daily: Daily = (0..30).map(|i| (today - Duration::days(i), 100)).collect();
        let month = month_from_days(&team("a"), &daily, Some(Budget { amount_cents: 2_500, thresholds: vec![80] }), today);
        assert_eq!(month.spent_cents, 2_300);
        assert_eq!(month.forecast_cents, 2_300 + 7 * 100);
        assert_eq!(month.month, "November 2026");
        assert_eq!(month.forecast_percent(), Some(120));
    }

    #[test]
    fn each_team_gets_every_day_of_the_range_and_nothing_outside_it() {
        let today = date!(2026 - 11 - 23);
        let day = |team: &str, back: i64, cents: i64| costs::TeamDay { team: team.into(), day: today - Duration::days(back), cents };
        let days = vec![day("a", 0, 101), day("a", 1, 200), day("b", 0, 33), day("b", 9, 900)];
        let teams = [team("a"), team("b"), team("c")];
        let months = teams.iter().map(|t| month_from_days(t, &Daily::new(), None, today)).collect();
        let (labels, spend) = teams_spend(&teams, &per_team(&days), months, 7, today);
        assert_eq!(labels.len(), 7);
        assert_eq!(labels.last().map(String::as_str), Some("2026-11-23"));
        assert_eq!(spend[0].daily_cents, vec![0, 0, 0, 0, 0, 200, 101]);
        assert_eq!(spend[0].total_cents, 301);
        assert_eq!(spend[1].total_cents, 33, "the day nine days back is outside a 7-day range");
        assert_eq!(spend[2].daily_cents, vec![0; 7], "a team without spend has zeros");
    }

    #[test]
    fn the_cost_to_month_end_counts_today() {
        assert_eq!(cost_to_month_end(10, date!(2026 - 11 - 30)), 240);
        assert_eq!(cost_to_month_end(10, date!(2026 - 11 - 29)), 480);
    }
}
