//! Spend against budgets: the cost dashboard and the team budgets (admins).

#[cfg(feature = "ssr")]
use super::services;
#[cfg(feature = "ssr")]
use crate::caller::as_admin;
#[cfg(feature = "ssr")]
use crate::caller::as_user;
#[cfg(feature = "ssr")]
use crate::domain::CurrentUser;
#[cfg(feature = "ssr")]
use crate::domain::TeamSlug;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait CostService: Send + Sync {
    /// Spend over the last `days` per team, user and workspace, against budgets. Cost viewers
    /// and admins only.
    /// `top`: at most this many users and workspaces, the highest spenders (`None`: all).
    async fn dashboard(&self, user: &CurrentUser, days: u32, top: Option<usize>) -> Result<crate::domain::costs::CostDashboard, AppError>;
    /// The user's own workspaces' spend on a team over the last 30 days.
    async fn my_spend(&self, user: &CurrentUser, team: &TeamSlug) -> Result<crate::domain::costs::MySpend, AppError>;
    /// The team's month against its budget (members and admins), shown before a launch.
    async fn team_month(&self, user: &CurrentUser, team: &TeamSlug) -> Result<crate::domain::costs::MonthBudget, AppError>;
    /// Every team's month and budget. Admins only.
    async fn budgets(&self, admin: &CurrentUser) -> Result<Vec<crate::domain::costs::MonthBudget>, AppError>;
    /// Sets a team's monthly budget and alert thresholds. Admins only; audited.
    async fn set_budget(&self, admin: &CurrentUser, form: crate::domain::costs::BudgetForm) -> Result<(), AppError>;
}

/// The cost dashboard; `all`: every user and workspace, not just the top spenders.
#[server(endpoint = "costs")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_costs(days: u32, #[server(default)] all: bool) -> Result<crate::domain::costs::CostDashboard, AppError> {
    as_user(|user| async move {
        let top = (!all).then_some(crate::domain::costs::TOP_SPENDERS);
        services()?.costs.dashboard(&user, days, top).await
    })
    .await
}

#[server(endpoint = "admin/budgets")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_budgets() -> Result<Vec<crate::domain::costs::MonthBudget>, AppError> {
    as_admin(|admin| async move { services()?.costs.budgets(&admin).await }).await
}

#[server(endpoint = "admin/set_budget")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_budget(team: String, amount: String, #[server(default)] thresholds: String) -> Result<(), AppError> {
    as_admin(
        |admin| async move { services()?.costs.set_budget(&admin, crate::domain::costs::BudgetForm { team, amount, thresholds }).await },
    )
    .await
}
