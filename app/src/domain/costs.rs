//! Spend, budgets and forecasts as the cost pages show them. Every amount is whole cents,
//! rounded once per synced row, so that tables, chart and CSV add up to the same totals.

use super::csv_cell;
use serde::{Deserialize, Serialize};

/// The ranges `/costs` offers, in days ending today.
pub const RANGES: [u32; 4] = [7, 30, 60, 90];
pub const DEFAULT_RANGE: u32 = 30;
/// Users and workspaces the cost page lists unless asked for all of them.
pub const TOP_SPENDERS: usize = 25;

/// Thresholds a budget alerts at unless the admin chooses others.
pub const DEFAULT_THRESHOLDS: [u32; 3] = [50, 80, 100];

/// The range from a query string: one of `RANGES`, 30 when absent.
pub fn parse_range(raw: Option<&str>) -> Result<u32, String> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(DEFAULT_RANGE),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|days| RANGES.contains(days))
            .ok_or_else(|| format!("\"{raw}\" is not a range on offer: choose 7, 30, 60 or 90 days.")),
    }
}

/// Cents from Cost Explorer's millionths of a dollar, rounded half away from zero.
pub fn micros_to_cents(micros: i64) -> i64 {
    let cents = micros / 10_000;
    let rest = micros % 10_000;
    if rest >= 5_000 {
        cents + 1
    } else if rest <= -5_000 {
        cents - 1
    } else {
        cents
    }
}

/// The month's spend so far plus the average of the last days, once per day left.
/// `recent_daily` are the last complete days' totals (usually seven).
pub fn month_end_forecast(spent_so_far: i64, recent_daily: &[i64], days_left: u32) -> i64 {
    if recent_daily.is_empty() {
        return spent_so_far;
    }
    let average = recent_daily.iter().sum::<i64>() as f64 / recent_daily.len() as f64;
    spent_so_far + (average * f64::from(days_left)).round() as i64
}

/// A team's month: what it spent so far, where it is heading, and its budget if it has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MonthBudget {
    pub team: String,
    pub team_name: String,
    /// "November 2026".
    pub month: String,
    pub spent_cents: i64,
    pub forecast_cents: i64,
    pub budget_cents: Option<i64>,
    pub thresholds: Vec<u32>,
}

impl MonthBudget {
    /// What is left of the budget after the forecast spend (negative when over).
    pub fn remaining_cents(&self) -> Option<i64> {
        self.budget_cents.map(|budget| budget - self.forecast_cents)
    }

    /// Forecast spend as a percentage of the budget.
    pub fn forecast_percent(&self) -> Option<i64> {
        self.budget_cents.filter(|b| *b > 0).map(|budget| self.forecast_cents * 100 / budget)
    }

    /// Whether adding `extra_cents` of spend this month takes the team over its budget.
    pub fn would_exceed(&self, extra_cents: i64) -> bool {
        self.budget_cents.is_some_and(|budget| self.forecast_cents + extra_cents > budget)
    }
}

/// What a workspace of `hourly_cents` costs running for a month (730 hours).
pub fn monthly_estimate(hourly_cents: u32) -> i64 {
    i64::from(hourly_cents) * 730
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamSpend {
    pub total_cents: i64,
    /// One amount per day of the dashboard's range.
    pub daily_cents: Vec<i64>,
    pub month: MonthBudget,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSpend {
    /// Empty for spend not tagged with a user.
    pub username: String,
    pub total_cents: i64,
}

impl UserSpend {
    pub fn label(&self) -> String {
        if self.username.is_empty() { "(not tagged with a user)".to_owned() } else { self.username.clone() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceSpend {
    /// Empty for the team's spend not tagged with a workspace.
    pub workspace_id: String,
    pub name: String,
    pub team: String,
    pub owner: String,
    pub total_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BudgetAlert {
    /// The team's name.
    pub team: String,
    pub threshold: u32,
    pub forecast_cents: i64,
    pub budget_cents: i64,
    pub at: String,
}

/// Everything `/costs` shows for a range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CostDashboard {
    pub days: u32,
    /// Each day of the range, oldest first, as YYYY-MM-DD.
    pub day_labels: Vec<String>,
    pub teams: Vec<TeamSpend>,
    /// The top spenders (all of them in the CSV), and how many there are in all.
    pub users: Vec<UserSpend>,
    pub users_count: usize,
    pub workspaces: Vec<WorkspaceSpend>,
    pub workspaces_count: usize,
    pub total_cents: i64,
    /// Thresholds crossed this month.
    pub alerts: Vec<BudgetAlert>,
    /// When costs were last synced from AWS, if ever.
    pub synced_at: Option<String>,
    /// This month: the hours workspaces stood stopped after stopping on their own (idle, their
    /// maximum, the nightly stop, sign-out) times their configuration's hourly estimate.
    #[serde(default)]
    pub auto_stop_saved_cents: i64,
}

impl CostDashboard {
    /// The CSV of exactly what the page shows: the chart's daily amounts per team, the team,
    /// user and workspace tables with the same labels, and the total. Cells that a spreadsheet
    /// would run as a formula are neutralised.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("section,day,team,user,workspace,spend_usd,this_month_usd,month_end_forecast_usd,budget_usd\n");
        let mut row = |cells: [&str; 5], cents: i64, month: Option<&MonthBudget>| {
            let mut line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            line.push(csv_amount(cents));
            match month {
                Some(m) => line.extend([
                    csv_amount(m.spent_cents),
                    csv_amount(m.forecast_cents),
                    m.budget_cents.map(csv_amount).unwrap_or_default(),
                ]),
                None => line.extend([String::new(), String::new(), String::new()]),
            }
            out.push_str(&line.join(","));
            out.push('\n');
        };
        for team in &self.teams {
            for (day, cents) in self.day_labels.iter().zip(&team.daily_cents) {
                row(["daily", day, &team.month.team_name, "", ""], *cents, None);
            }
        }
        for team in &self.teams {
            row(["team", "", &team.month.team_name, "", ""], team.total_cents, Some(&team.month));
        }
        for user in &self.users {
            row(["user", "", "", &user.label(), ""], user.total_cents, None);
        }
        for workspace in &self.workspaces {
            row(["workspace", "", &workspace.team, &workspace.owner, &workspace.name], workspace.total_cents, None);
        }
        row(["total", "", "", "", ""], self.total_cents, None);
        out
    }
}

/// Dollars without symbol or grouping, as spreadsheets read them: `-0.05`, `1234.50`.
fn csv_amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

/// An admin's budget form: dollars a month and the alert percentages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BudgetForm {
    pub team: String,
    pub amount: String,
    pub thresholds: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidBudget {
    pub amount_cents: i64,
    pub thresholds: Vec<u32>,
}

impl BudgetForm {
    pub fn parse(&self) -> Result<ValidBudget, String> {
        // Budgets are large enough to be written with thousands separators.
        let amount_cents = super::parse_cents(&self.amount.replace(',', ""))
            .filter(|c| *c > 0 && *c <= 100_000_000_000)
            .ok_or_else(|| format!("\"{}\" is not a budget: give dollars a month, such as 2500.", self.amount.trim()))?;
        let mut thresholds = Vec::new();
        for part in self.thresholds.split([',', ' ']).map(|p| p.trim().trim_end_matches('%')).filter(|p| !p.is_empty()) {
            let percent = part
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=500).contains(p))
                .ok_or_else(|| format!("\"{part}\" is not a threshold: give percentages from 1 to 500, such as 50, 80, 100."))?;
            thresholds.push(percent);
        }
        if thresholds.is_empty() {
            thresholds = DEFAULT_THRESHOLDS.to_vec();
        }
        thresholds.sort_unstable();
        thresholds.dedup();
        Ok(ValidBudget { amount_cents, thresholds })
    }
}

/// A researcher's own spend on a team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MySpend {
    pub days: u32,
    pub total_cents: i64,
    pub workspaces: Vec<WorkspaceSpend>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(micros_to_cents(1_234_999), 123);
        assert_eq!(micros_to_cents(1_235_000), 124);
        assert_eq!(micros_to_cents(-1_235_000), -124);
        assert_eq!(micros_to_cents(4_999), 0);
    }

    #[test]
    fn dollars_group_thousands() {
        assert_eq!(super::super::dollars(123_456_789), "$1,234,567.89");
        assert_eq!(super::super::dollars(5), "$0.05");
        assert_eq!(super::super::dollars(-300), "-$3.00");
    }

    #[test]
    fn forecast_adds_the_recent_average_for_each_day_left() {
        assert_eq!(month_end_forecast(10_000, &[100, 200, 300], 10), 12_000);
        assert_eq!(month_end_forecast(10_000, &[], 10), 10_000);
    }

    #[test]
    fn ranges_outside_the_offer_are_refused() {
        assert_eq!(parse_range(None), Ok(30));
        assert_eq!(parse_range(Some("60")), Ok(60));
        assert!(parse_range(Some("31")).is_err());
        assert!(parse_range(Some("all")).is_err());
    }

    #[test]
    fn a_budget_needs_dollars_and_sane_thresholds() {
        let form = |amount: &str, thresholds: &str| BudgetForm { team: "t".into(), amount: amount.into(), thresholds: thresholds.into() };
        assert_eq!(form("$2,500", "").parse(), Ok(ValidBudget { amount_cents: 250_000, thresholds: vec![50, 80, 100] }));
        assert_eq!(form("12.5", "100, 80%").parse(), Ok(ValidBudget { amount_cents: 1_250, thresholds: vec![80, 100] }));
        assert!(form("0", "").parse().is_err());
        assert!(form("ten", "").parse().is_err());
        assert!(form("10", "0").parse().is_err());
        assert!(form("10", "fifty").parse().is_err());
    }

    #[test]
    fn a_budget_is_exceeded_by_what_the_forecast_leaves_no_room_for() {
        let month = MonthBudget {
            team: "t".into(),
            team_name: "T".into(),
            month: "m".into(),
            spent_cents: 500,
            forecast_cents: 800,
            budget_cents: Some(1_000),
            thresholds: vec![],
        };
        assert!(!month.would_exceed(200));
        assert!(month.would_exceed(201));
        assert_eq!(month.remaining_cents(), Some(200));
        let unbudgeted = MonthBudget { budget_cents: None, ..month };
        assert!(!unbudgeted.would_exceed(1_000_000));
    }

    #[test]
    fn the_csv_has_the_chart_the_tables_and_the_total() {
        let month = MonthBudget {
            team: "genomics".into(),
            team_name: "Genomics, Lab".into(),
            month: "m".into(),
            spent_cents: 700,
            forecast_cents: 900,
            budget_cents: Some(1_000),
            thresholds: vec![],
        };
        let dashboard = CostDashboard {
            days: 2,
            day_labels: vec!["2026-11-22".into(), "2026-11-23".into()],
            teams: vec![TeamSpend { total_cents: 1_050, daily_cents: vec![50, 1_000], month }],
            users: vec![UserSpend { username: "=ada".into(), total_cents: 1_000 }, UserSpend { username: String::new(), total_cents: 50 }],
            users_count: 2,
            workspaces: vec![WorkspaceSpend {
                workspace_id: "w".into(),
                name: "a,b".into(),
                team: "genomics".into(),
                owner: "ada".into(),
                total_cents: 1_050,
            }],
            workspaces_count: 1,
            total_cents: 1_050,
            alerts: vec![],
            synced_at: None,
            auto_stop_saved_cents: 0,
        };
        assert_eq!(
            dashboard.to_csv(),
            "section,day,team,user,workspace,spend_usd,this_month_usd,month_end_forecast_usd,budget_usd\n\
             daily,2026-11-22,\"Genomics, Lab\",,,0.50,,,\n\
             daily,2026-11-23,\"Genomics, Lab\",,,10.00,,,\n\
             team,,\"Genomics, Lab\",,,10.50,7.00,9.00,10.00\n\
             user,,,'=ada,,10.00,,,\n\
             user,,,(not tagged with a user),,0.50,,,\n\
             workspace,,genomics,ada,\"a,b\",10.50,,,\n\
             total,,,,,10.50,,,\n"
        );
    }
}
