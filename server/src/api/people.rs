//! People: the user pool as admins manage it (list, invite, set access, disable, enable).
//! Each needs a token with the `admin` scope, and the services check the user is an admin.

use super::auth::Caller;
use super::extract::{Json as JsonBody, Path, Query};
use crate::http::api_error::{ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::Role;
use app::domain::people::{AccessForm, Disabled, InviteForm, PeoplePage};
use app::domain::tokens::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A team's slug in a list: lower-case letters, digits and dashes, starting alphanumeric.
#[derive(ToSchema)]
#[schema(pattern = r"^[a-z0-9][a-z0-9-]{0,62}$")]
pub struct TeamSlugText(pub String);

/// The page's checkbox map (`teams[genomics]=on`) for a list of names.
pub(super) fn ticked<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    names.into_iter().map(|name| (name.to_owned(), "on".to_owned())).collect()
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeopleQuery {
    /// A username or e-mail prefix.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// The previous answer's `next_page`.
    pub page: Option<String>,
}

/// One page of users with their status, roles and teams (admins only).
#[utoipa::path(get, path = "/admin/people", tag = "people", params(PeopleQuery), responses(
    (status = 200, description = "A page of users, the next page's token if there is one, and every team for the forms", body = PeoplePage),
    (status = 400, description = "A page token that expired or was never given", body = ErrorBody),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
    (status = 422, description = "A search over 100 characters", body = ErrorBody),
))]
pub async fn people(State(state): State<AppState>, caller: Caller, Query(query): Query<PeopleQuery>) -> ApiResult<Json<PeoplePage>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(state.services.people.people(user, query.q, query.page).await?))
}

/// An invitation: Cognito e-mails the user a temporary password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    /// 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit.
    #[schema(pattern = r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub username: String,
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    #[schema(min_items = 1)]
    pub roles: Vec<Role>,
    /// Teams that exist and are not archived.
    #[serde(default)]
    #[schema(value_type = Vec<TeamSlugText>)]
    pub teams: Vec<String>,
    /// Absent: Cognito makes one up. Either way Cognito e-mails it.
    #[serde(default)]
    pub temporary_password: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Invited {
    pub username: String,
}

/// Invites a user with roles and teams (admins only; audited).
#[utoipa::path(post, path = "/admin/people", tag = "people", request_body = Invitation, responses(
    (status = 201, description = "Invited: the user is in the pool and must change the temporary password", body = Invited),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
    (status = 422, description = "Invalid fields, each named (a username taken, an unknown team, an address Cognito refuses)", body = ErrorBody),
))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<Invitation>,
) -> ApiResult<(StatusCode, Json<Invited>)> {
    let user = caller.with(Scope::Admin)?;
    let form = InviteForm {
        roles: ticked(request.roles.iter().map(|r| r.as_str())),
        teams: ticked(request.teams.iter().map(String::as_str)),
        temporary_password: request.temporary_password.unwrap_or_default(),
        email: request.email,
        username: request.username.clone(),
    };
    state.services.people.invite(user, form).await?;
    Ok((StatusCode::CREATED, Json(Invited { username: request.username })))
}

/// A user's access: exactly these roles, teams and team-admin teams.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessChange {
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    #[schema(value_type = Vec<TeamSlugText>)]
    pub teams: Vec<String>,
    /// Teams whose members they manage (they become members too).
    #[serde(default)]
    #[schema(value_type = Vec<TeamSlugText>)]
    pub team_admin: Vec<String>,
}

/// Sets a user's roles, teams and team-admin teams to exactly these (admins only; audited).
#[utoipa::path(put, path = "/admin/people/{username}/access", tag = "people", request_body = AccessChange,
    params(("username" = String, Path, description = "The user's username")),
    responses(
        (status = 204, description = "Saved: their next request sees the new access"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Their roles and teams come from the SSO provider", body = ErrorBody),
        (status = 422, description = "Not a username, an unknown team, or the last admin losing the role", body = ErrorBody),
    ))]
pub async fn set_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    JsonBody(request): JsonBody<AccessChange>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Admin)?;
    let form = AccessForm {
        username,
        roles: ticked(request.roles.iter().map(|r| r.as_str())),
        teams: ticked(request.teams.iter().map(String::as_str)),
        team_admin: ticked(request.team_admin.iter().map(String::as_str)),
    };
    state.services.people.set_access(user, form).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables a user and ends every session of theirs (admins only, not oneself; audited).
#[utoipa::path(post, path = "/admin/people/{username}/disable", tag = "people",
    params(("username" = String, Path, description = "The user's username")),
    responses(
        (status = 200, description = "Disabled; their workspaces that still run, for the admin to decide on", body = Disabled),
        (status = 400, description = "The caller themselves", body = ErrorBody),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 422, description = "Not a username", body = ErrorBody),
    ))]
pub async fn disable(State(state): State<AppState>, caller: Caller, Path(username): Path<String>) -> ApiResult<Json<Disabled>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(state.services.people.disable(user, &username).await?))
}

/// Enables a disabled user again (admins only; audited).
#[utoipa::path(post, path = "/admin/people/{username}/enable", tag = "people",
    params(("username" = String, Path, description = "The user's username")),
    responses(
        (status = 204, description = "Enabled: they may sign in again"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 422, description = "Not a username", body = ErrorBody),
    ))]
pub async fn enable(State(state): State<AppState>, caller: Caller, Path(username): Path<String>) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Admin)?;
    state.services.people.enable(user, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(people, invite))
        .routes(utoipa_axum::routes!(set_access))
        .routes(utoipa_axum::routes!(disable))
        .routes(utoipa_axum::routes!(enable))
}
