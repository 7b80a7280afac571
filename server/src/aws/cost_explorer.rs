//! Daily spend per workspace from Cost Explorer, in a team's own account: GetCostAndUsage,
//! DAILY, UnblendedCost, filtered to the team's `atrium:team` tag (or none: the account's
//! shared spend) and grouped by the cost-allocation tags `atrium:workspace` and `atrium:user`
//! that every launch puts on its resources. Cost Explorer groups by two keys at most.

use super::provisioning::{ProvisionError, classify};
use super::team_role::{TeamRole, TeamSessions};
use aws_sdk_costexplorer::types::{DateInterval, Expression, Granularity, GroupDefinition, GroupDefinitionType, MatchOption, TagValues};

pub const WORKSPACE_TAG: &str = "atrium:workspace";
pub const TEAM_TAG: &str = "atrium:team";
pub const USER_TAG: &str = "atrium:user";
const METRIC: &str = "UnblendedCost";

/// One day's spend of one workspace (or of untagged resources: empty ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCost {
    pub day: time::Date,
    pub workspace_id: String,
    pub username: String,
    /// Millionths of a dollar.
    pub amount_micros: i64,
}

/// What Cost Explorer answered for a period: the days it reported on (a day may have no
/// spend) and the spend. Days it left out are not known to be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CostReport {
    pub days: Vec<time::Date>,
    pub costs: Vec<DailyCost>,
}

#[async_trait::async_trait]
pub trait CostSource: Send + Sync {
    /// Spend per day in `[start, end)` of `team` (tagged for it, or not tagged for any team),
    /// in the account whose role is `role`.
    async fn daily_costs(&self, role: &TeamRole, team: &str, start: time::Date, end: time::Date) -> Result<CostReport, ProvisionError>;
}

pub struct CostExplorer {
    sessions: TeamSessions,
}

impl CostExplorer {
    pub fn new(sessions: impl Into<TeamSessions>) -> Self {
        CostExplorer { sessions: sessions.into() }
    }
}

const DAY: &[time::format_description::FormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");

#[async_trait::async_trait]
impl CostSource for CostExplorer {
    #[tracing::instrument(skip(self))]
    async fn daily_costs(&self, role: &TeamRole, team: &str, start: time::Date, end: time::Date) -> Result<CostReport, ProvisionError> {
        let client = crate::aws::call_metrics::client!(aws_sdk_costexplorer, &self.sessions.config(role, "atrium-cost-sync").await?);
        let format = |date: time::Date| date.format(DAY).map_err(|e| ProvisionError::Rejected(e.to_string()));
        let period =
            DateInterval::builder().start(format(start)?).end(format(end)?).build().map_err(|e| ProvisionError::Rejected(e.to_string()))?;
        let by_tag = |key: &str| GroupDefinition::builder().r#type(GroupDefinitionType::Tag).key(key).build();
        // Another team sharing the account has its own tagged spend; only this team's counts.
        let this_team = Expression::builder()
            .or(Expression::builder().tags(TagValues::builder().key(TEAM_TAG).values(team).build()).build())
            .or(Expression::builder().tags(TagValues::builder().key(TEAM_TAG).match_options(MatchOption::Absent).build()).build())
            .build();
        let mut report = CostReport::default();
        let mut page_token: Option<String> = None;
        loop {
            let page = client
                .get_cost_and_usage()
                .time_period(period.clone())
                .granularity(Granularity::Daily)
                .metrics(METRIC)
                .filter(this_team.clone())
                .group_by(by_tag(WORKSPACE_TAG))
                .group_by(by_tag(USER_TAG))
                .set_next_page_token(page_token.take())
                .send()
                .await
                .map_err(classify)?;
            for result in page.results_by_time() {
                let Some(day) = result.time_period().and_then(|p| time::Date::parse(p.start(), DAY).ok()) else {
                    tracing::warn!("Cost Explorer returned a result without a readable day; skipped");
                    continue;
                };
                if !report.days.contains(&day) {
                    report.days.push(day);
                }
                for group in result.groups() {
                    let amount = group.metrics().and_then(|m| m.get(METRIC)).and_then(|m| m.amount()).unwrap_or("0");
                    let Some(amount_micros) = micros(amount) else {
                        tracing::warn!(amount, "Cost Explorer returned an amount that is not a number; skipped");
                        continue;
                    };
                    report.costs.push(DailyCost {
                        day,
                        workspace_id: tag_value(group.keys(), WORKSPACE_TAG),
                        username: tag_value(group.keys(), USER_TAG),
                        amount_micros,
                    });
                }
            }
            match page.next_page_token {
                Some(token) if !token.is_empty() => page_token = Some(token),
                _ => break,
            }
        }
        Ok(report)
    }
}

/// A tag group key is `tag$value` (`tag$` when untagged).
fn tag_value(keys: &[String], tag: &str) -> String {
    let prefix = format!("{tag}$");
    keys.iter().find_map(|k| k.strip_prefix(&prefix)).unwrap_or_default().to_owned()
}

/// Millionths of a dollar; None for what is not a plausible daily amount (over a billion
/// dollars either way), which would overflow the sums.
fn micros(amount: &str) -> Option<i64> {
    let dollars: f64 = amount.trim().parse().ok()?;
    (dollars.is_finite() && dollars.abs() < 1e9).then(|| (dollars * 1_000_000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_keys_give_the_tag_values() {
        let keys = vec!["atrium:workspace$ws-1".to_owned(), "atrium:user$".to_owned()];
        assert_eq!(tag_value(&keys, WORKSPACE_TAG), "ws-1");
        assert_eq!(tag_value(&keys, USER_TAG), "");
    }

    #[test]
    fn amounts_become_micro_dollars() {
        assert_eq!(micros("0.0101516483"), Some(10_152));
        assert_eq!(micros("12"), Some(12_000_000));
        assert_eq!(micros("NaN"), None);
        assert_eq!(micros("1e300"), None);
        assert_eq!(micros("lots"), None);
    }
}
