//! Teams: members (team admins) and the admin's team onboarding.

use super::auth::Caller;
use super::extract::{Json as JsonBody, Path};
use super::team_slug;
use crate::http::api_error::{ApiResult, ErrorBody};
use crate::state::AppState;
use app::domain::TeamSlug;
use app::domain::people::TeamMembers;
use app::domain::team_admin::{ConnectionCheck, TeamAccountSetup, TeamAdminRow, TeamForm};
use app::domain::tokens::Scope;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A team's members, for admins and the team's admins.
#[utoipa::path(get, path = "/teams/{team}/members", tag = "teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "The team's members, and which of them the caller may remove", body = TeamMembers),
        (status = 403, description = "Neither an admin nor the team's admin", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ))]
pub async fn members(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<TeamMembers>> {
    let user = caller.with(Scope::Read)?;
    Ok(Json(state.services.people.members(user, &team_slug(&team)?).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// An existing user's username.
    #[schema(min_length = 1, max_length = 128)]
    pub username: String,
}

/// Adds a user to a team (admins and the team's admins).
#[utoipa::path(post, path = "/teams/{team}/members", tag = "teams", request_body = NewMember,
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 204, description = "Added: they are a member from their next request on"),
        (status = 403, description = "Not the team's admin, no teams scope, or someone only admins may add (an admin, a cost viewer)", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 409, description = "Their teams come from the SSO provider", body = ErrorBody),
        (status = 422, description = "No such user, or a member already", body = ErrorBody),
    ))]
pub async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    JsonBody(request): JsonBody<NewMember>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Teams)?;
    state.services.people.add_member(user, &team_slug(&team)?, &request.username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member from a team (admins and the team's admins).
#[utoipa::path(delete, path = "/teams/{team}/members/{username}", tag = "teams",
    params(("team" = String, Path, description = "The team's slug"), ("username" = String, Path, description = "The member's username")),
    responses(
        (status = 204, description = "Removed, with their team-admin membership if they had one"),
        (status = 403, description = "Not the team's admin, no teams scope, or someone only admins may remove", body = ErrorBody),
        (status = 404, description = "No such team, user, or member", body = ErrorBody),
        (status = 409, description = "Their teams come from the SSO provider", body = ErrorBody),
        (status = 422, description = "Not a username", body = ErrorBody),
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Teams)?;
    state.services.people.remove_member(user, &team_slug(&team)?, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every team, archived ones last, as the admin's team list shows them.
#[utoipa::path(get, path = "/admin/teams", tag = "admin-teams", responses(
    (status = 200, description = "Every team with its members, live workspaces (whose ever they are), month and budget", body = Vec<TeamAdminRow>),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
))]
pub async fn teams(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<TeamAdminRow>>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(state.services.team_admin.teams(user).await?))
}

/// A new team: its slug names its Cognito group `team-<slug>` and cannot change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    /// 2 to 31 lower-case letters, digits and dashes, starting with a letter.
    #[schema(pattern = r"^[a-z][a-z0-9-]{1,30}$")]
    pub slug: String,
    /// The display name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    /// The team's AWS account: 12 digits.
    #[schema(pattern = r"^[0-9]{12}$")]
    pub aws_account_id: String,
    /// The IAM role the portal assumes, in the team's account.
    #[schema(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")]
    pub role_arn: String,
    /// Where the team's settings live in SSM; empty (the default) means `/atrium/teams/<slug>`.
    #[serde(default)]
    #[schema(max_length = 1000, pattern = r"^((/[A-Za-z0-9_.-]+)+/?)?$")]
    pub ssm_path: String,
    /// An IANA time zone (`Europe/Berlin`); empty (the default) means UTC.
    #[serde(default)]
    #[schema(max_length = 64, pattern = r"^[A-Za-z0-9/_+-]*$")]
    pub time_zone: String,
    /// Approvals, from different people, an import or export of the team needs (1 when absent).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2)]
    pub reviewers: Option<u8>,
}

impl From<NewTeam> for TeamForm {
    fn from(team: NewTeam) -> TeamForm {
        let NewTeam { slug, name, description, aws_account_id, role_arn, ssm_path, time_zone, reviewers } = team;
        TeamForm {
            slug,
            name,
            description,
            aws_account_id,
            role_arn,
            ssm_path,
            time_zone,
            reviewers: reviewers.map(|n| n.to_string()).unwrap_or_default(),
        }
    }
}

/// What an admin may change on a team: everything but its slug.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamChange {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    #[schema(pattern = r"^[0-9]{12}$")]
    pub aws_account_id: String,
    #[schema(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")]
    pub role_arn: String,
    /// Empty (the default) means `/atrium/teams/<slug>`.
    #[serde(default)]
    #[schema(max_length = 1000, pattern = r"^((/[A-Za-z0-9_.-]+)+/?)?$")]
    pub ssm_path: String,
    /// Empty (the default) means UTC.
    #[serde(default)]
    #[schema(max_length = 64, pattern = r"^[A-Za-z0-9/_+-]*$")]
    pub time_zone: String,
    /// Approvals, from different people, an import or export of the team needs (unchanged when absent).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2)]
    pub reviewers: Option<u8>,
}

impl TeamChange {
    /// The page's edit form for the team `slug`.
    fn form(self, slug: &TeamSlug) -> TeamForm {
        let TeamChange { name, description, aws_account_id, role_arn, ssm_path, time_zone, reviewers } = self;
        TeamForm {
            slug: slug.to_string(),
            name,
            description,
            aws_account_id,
            role_arn,
            ssm_path,
            time_zone,
            reviewers: reviewers.map(|n| n.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedTeam {
    pub slug: TeamSlug,
}

/// Onboards a team: its account, the role the portal assumes there, and its settings' path.
#[utoipa::path(post, path = "/admin/teams", tag = "admin-teams", request_body = NewTeam, responses(
    (status = 201, description = "Created, with its Cognito group", body = CreatedTeam),
    (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
    (status = 422, description = "Invalid fields, each named (a slug taken, a role in another account, an unknown time zone)", body = ErrorBody),
))]
pub async fn create_team(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<NewTeam>,
) -> ApiResult<(StatusCode, Json<CreatedTeam>)> {
    let user = caller.with(Scope::Admin)?;
    let slug = state.services.team_admin.create_team(user, request.into()).await?;
    Ok((StatusCode::CREATED, Json(CreatedTeam { slug })))
}

/// Changes a team's name, description, account, role, settings' path and time zone.
#[utoipa::path(put, path = "/admin/teams/{team}", tag = "admin-teams", request_body = TeamChange,
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 204, description = "Saved"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody),
    ))]
pub async fn update_team(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    JsonBody(request): JsonBody<TeamChange>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Admin)?;
    state.services.team_admin.update_team(user, request.form(&team_slug(&team)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assumes the team's role and makes one read call of each kind the portal needs.
#[utoipa::path(post, path = "/admin/teams/{team}/test-connection", tag = "admin-teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "Each step tried in the team's account, and whether it passed (audited)", body = ConnectionCheck),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ))]
pub async fn test_connection(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<ConnectionCheck>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(state.services.team_admin.test_connection(user, &team_slug(&team)?).await?))
}

/// Removes a disabled person's home from the team's file system (their EFS access point; the
/// files stay). The team's row (`GET /admin/teams`) lists them as `left_homes`.
#[utoipa::path(delete, path = "/admin/teams/{team}/homes/{username}", tag = "admin-teams",
    params(("team" = String, Path, description = "The team's slug"), ("username" = String, Path, description = "The disabled person's username")),
    responses(
        (status = 204, description = "Removed (audited)"),
        (status = 400, description = "EFS refused", body = ErrorBody),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such team, or no home of a disabled person of that name in it", body = ErrorBody),
        (status = 503, description = "EFS unreachable", body = ErrorBody),
    ))]
pub async fn remove_home(
    State(state): State<AppState>,
    caller: Caller,
    Path((team, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Admin)?;
    state.services.team_admin.remove_home(user, &team_slug(&team)?, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Archives a team once none of its workspaces live.
#[utoipa::path(post, path = "/admin/teams/{team}/archive", tag = "admin-teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 204, description = "Archived: no longer listed to members, nor launched on"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 409, description = "It still has live workspaces, or is archived already", body = ErrorBody),
    ))]
pub async fn archive_team(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<StatusCode> {
    let user = caller.with(Scope::Admin)?;
    state.services.team_admin.archive_team(user, &team_slug(&team)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The team's new external id.
#[derive(Serialize, ToSchema)]
pub struct ExternalId {
    pub external_id: String,
}

/// Gives the team a new external id (audited). The old one stops working at once: update the
/// role's trust policy (the team account's stack parameter `ExternalId`) with the new one.
#[utoipa::path(post, path = "/admin/teams/{team}/external-id", tag = "admin-teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "The new external id", body = ExternalId),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ))]
pub async fn rotate_external_id(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<ExternalId>> {
    let user = caller.with(Scope::Admin)?;
    let external_id = state.services.team_admin.rotate_external_id(user, &team_slug(&team)?).await?;
    Ok(Json(ExternalId { external_id }))
}

/// How to connect the team's AWS account: the stack to deploy there (a quick-create link when
/// the template has a public URL), its parameters with the team's values, the role it makes.
#[utoipa::path(get, path = "/admin/teams/{team}/account-setup", tag = "admin-teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "The team account's stack, with the team's values", body = TeamAccountSetup),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 503, description = "The portal could not ask AWS for its own account id", body = ErrorBody),
    ))]
pub async fn account_setup(State(state): State<AppState>, caller: Caller, Path(team): Path<String>) -> ApiResult<Json<TeamAccountSetup>> {
    let user = caller.with(Scope::Admin)?;
    Ok(Json(state.services.team_admin.account_setup(user, &team_slug(&team)?).await?))
}

/// `deploy/team-account.yaml` with the team's values as its parameters' defaults.
#[utoipa::path(get, path = "/admin/teams/{team}/account-template", tag = "admin-teams",
    params(("team" = String, Path, description = "The team's slug")),
    responses(
        (status = 200, description = "The CloudFormation template", body = String, content_type = "application/yaml"),
        (status = 403, description = "Not an admin, or no admin scope", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 503, description = "The portal could not ask AWS for its own account id", body = ErrorBody),
    ))]
pub async fn account_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
) -> ApiResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    let user = caller.with(Scope::Admin)?;
    let template = state.services.team_admin.account_template(user, &team_slug(&team)?).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/yaml; charset=utf-8")], template))
}

/// This feature's endpoints, for the API's router and its OpenAPI document.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(members, add_member))
        .routes(utoipa_axum::routes!(remove_member))
        .routes(utoipa_axum::routes!(teams, create_team))
        .routes(utoipa_axum::routes!(update_team))
        .routes(utoipa_axum::routes!(test_connection))
        .routes(utoipa_axum::routes!(archive_team))
        .routes(utoipa_axum::routes!(remove_home))
        .routes(utoipa_axum::routes!(rotate_external_id))
        .routes(utoipa_axum::routes!(account_setup))
        .routes(utoipa_axum::routes!(account_template))
}
