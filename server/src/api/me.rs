//! Who the caller is, their teams and what they may launch there, and costs.

use super::auth::Caller;
use super::extract::{Path, Query};
use super::team_slug;
use crate::http::api_error::{ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::configurations::{Configuration, ProfileList};
use app::domain::costs::{CostDashboard, MySpend};
use app::domain::tokens::Scope;
use app::domain::{Role, TeamHome, TeamSlug, TeamSummary};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The caller, as of now.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub roles: Vec<Role>,
    pub teams: Vec<TeamSlug>,
    /// Teams whose members the caller manages.
    pub team_admin_of: Vec<TeamSlug>,
    /// The token's scopes.
    pub scopes: Vec<Scope>,
}

#[utoipa::path(get, path = "/me", tag = "me", responses(
    (status = 200, description = "The caller", body = Me),
    (status = 401, description = "No valid token", body = ErrorBody),
))]
pub async fn me(caller: Caller) -> ApiResult<Json<Me>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(Me {
        username: user.username.to_string(),
        roles: user.roles.clone(),
        teams: user.teams.clone(),
        team_admin_of: user.team_admin_of.clone(),
        scopes: caller.scopes().to_vec(),
    }))
}

#[utoipa::path(get, path = "/teams", tag = "teams", responses(
    (status = 200, description = "The caller's teams (every team, for an admin)", body = Vec<TeamSummary>),
    (status = 401, description = "No valid token", body = ErrorBody),
))]
pub async fn teams(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<TeamSummary>>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.teams.teams_for(user).await?))
}

#[utoipa::path(get, path = "/teams/{team}", tag = "teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "The team as its home page shows it: its name, links and the caller's part in it", body = TeamHome),
        (status = 403, description = "Not a member", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ))]
pub async fn team(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<TeamHome>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.teams.team_home(user, &team_slug(&team)?).await?))
}

#[utoipa::path(get, path = "/teams/{team}/spend", tag = "teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "The caller's own spend on the team, as the team home shows it", body = MySpend),
        (status = 403, description = "Not a member", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ))]
pub async fn spend(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<MySpend>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.costs.my_spend(user, &team_slug(&team)?).await?))
}

#[utoipa::path(get, path = "/teams/{team}/profiles", tag = "teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "The team's profiles the caller may launch", body = ProfileList),
        (status = 403, description = "Not a member", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ))]
pub async fn profiles(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<ProfileList>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.teams.profiles(user, &team_slug(&team)?).await?))
}

#[utoipa::path(get, path = "/teams/{team}/catalog", tag = "teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "The configurations the caller may launch on the team", body = Vec<Configuration>),
        (status = 403, description = "Not a member", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ))]
pub async fn catalog(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<Vec<Configuration>>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.teams.launchable_configurations(user, &team_slug(&team)?).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CostRange {
    /// 7, 30, 60 or 90 (default 30).
    pub days: Option<u32>,
}

#[utoipa::path(get, path = "/costs", tag = "costs", params(CostRange), responses(
    (status = 200, description = "Spend per team, user and workspace against budgets", body = CostDashboard),
    (status = 400, description = "A range not on offer", body = ErrorBody),
    (status = 403, description = "Not a cost viewer or admin", body = ErrorBody),
))]
pub async fn costs(State(state): State<AppState>, caller: Caller, Query(range): Query<CostRange>) -> ApiResult<Json<CostDashboard>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.costs.dashboard(user, range.days.unwrap_or(30), None).await?))
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(me))
        .routes(utoipa_axum::routes!(teams))
        .routes(utoipa_axum::routes!(team))
        .routes(utoipa_axum::routes!(spend))
        .routes(utoipa_axum::routes!(profiles))
        .routes(utoipa_axum::routes!(catalog))
        .routes(utoipa_axum::routes!(costs))
}
