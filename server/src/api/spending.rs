//! Spend controls (admins): budgets and notification targets. Each needs a token with the
//! `admin` scope, and the services check the user is an admin.

use super::auth::Caller;
use super::extract::{Json as JsonBody, Path};
use super::people::{TeamSlugText, ticked};
use super::team_slug;
use crate::http::api_error::{ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::costs::{BudgetForm, MonthBudget};
use app::domain::notifications::{NotificationEvent, NotificationTarget, Platform, TargetForm};
use app::domain::tokens::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Every team's month: spend so far, forecast, budget and alert thresholds (admins only).
#[utoipa::path(get, path = "/admin/budgets", tag = "budgets", responses(
    (status = 200, description = "Every team's month against its budget", body = Vec<MonthBudget>),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
))]
pub async fn budgets(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<MonthBudget>>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(state.services.costs.budgets(user).await?))
}

/// An alert threshold: a percentage of the budget, 1 to 500.
pub struct Percent;

impl utoipa::PartialSchema for Percent {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(500)).into()
    }
}

impl ToSchema for Percent {}

/// A team's monthly budget.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetChange {
    /// Dollars a month, in cents.
    #[schema(minimum = 1, maximum = 100_000_000_000_i64)]
    pub amount_cents: i64,
    /// Percentages of the budget to alert at; empty or absent: 50, 80 and 100.
    #[serde(default)]
    #[schema(value_type = Vec<Percent>)]
    pub thresholds: Vec<u32>,
}

impl BudgetChange {
    /// The page's form for `team`: dollars and a list of percentages, as typed there.
    fn form(self, team: String) -> BudgetForm {
        let amount = format!("{}.{:02}", self.amount_cents / 100, self.amount_cents % 100);
        let thresholds = self.thresholds.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        BudgetForm { team, amount, thresholds }
    }
}

/// Sets a team's monthly budget and alert thresholds (admins only; audited).
#[utoipa::path(put, path = "/admin/budgets/{team}", tag = "budgets", request_body = BudgetChange,
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 204, description = "Saved; a lower budget already crossed alerts at once"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 422, description = "An amount or threshold out of range", body = ErrorBody),
    ))]
pub async fn set_budget(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    JsonBody(request): JsonBody<BudgetChange>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Admin)?;
    state.services.costs.set_budget(user, request.form(team_slug(&team)?.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every notification target, without its webhook URL (admins only).
#[utoipa::path(get, path = "/admin/notification-targets", tag = "notifications", responses(
    (status = 200, description = "Every target, with a hint of its URL, never the URL", body = Vec<NotificationTarget>),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
))]
pub async fn targets(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<NotificationTarget>>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(state.services.notifications.targets(user).await?))
}

/// A Slack or Microsoft Teams incoming webhook, for one team or every team.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTarget {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub platform: Platform,
    /// Absent: every team.
    #[serde(default)]
    #[schema(value_type = Option<TeamSlugText>)]
    pub team: Option<String>,
    /// The platform's https URL; kept in SSM as a SecureString, never shown again.
    pub webhook_url: String,
    #[schema(min_items = 1)]
    pub events: Vec<NotificationEvent>,
}

impl From<NewTarget> for TargetForm {
    fn from(target: NewTarget) -> TargetForm {
        TargetForm {
            name: target.name,
            platform: target.platform.as_str().to_owned(),
            team: target.team.unwrap_or_default(),
            webhook_url: target.webhook_url,
            events: ticked(target.events.iter().map(|e| e.as_str())),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedTarget {
    pub id: i64,
}

/// Registers a webhook (admins only; audited).
#[utoipa::path(post, path = "/admin/notification-targets", tag = "notifications", request_body = NewTarget, responses(
    (status = 201, description = "Registered", body = CreatedTarget),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
    (status = 404, description = "No such team", body = ErrorBody),
    (status = 422, description = "Invalid fields, each named (a URL not of the platform's hosts)", body = ErrorBody),
))]
pub async fn add_target(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<NewTarget>,
) -> ApiResult<(StatusCode, Json<CreatedTarget>)> {
    let user = caller.with(Scope::Admin)?;
    let id = state.services.notifications.add_target(user, request.into()).await?;
    Ok((StatusCode::CREATED, Json(CreatedTarget { id })))
}

/// Removes a target and its secret (admins only; audited).
#[utoipa::path(delete, path = "/admin/notification-targets/{id}", tag = "notifications",
    params(("id" = i64, Path, description = "The target's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such target", body = ErrorBody),
    ))]
pub async fn remove_target(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Admin)?;
    state.services.notifications.remove_target(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How a test message went.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TestOutcome {
    pub message: String,
}

/// Posts a test message to a target now (admins only; audited).
#[utoipa::path(post, path = "/admin/notification-targets/{id}/test", tag = "notifications",
    params(("id" = i64, Path, description = "The target's id")),
    responses(
        (status = 200, description = "Sent: whether it was delivered, in words (a target that fails is marked so)", body = TestOutcome),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such target", body = ErrorBody),
    ))]
pub async fn test_target(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<TestOutcome>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(TestOutcome { message: state.services.notifications.send_test(user, id).await? }))
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(budgets))
        .routes(utoipa_axum::routes!(set_budget))
        .routes(utoipa_axum::routes!(targets, add_target))
        .routes(utoipa_axum::routes!(remove_target))
        .routes(utoipa_axum::routes!(test_target))
}
