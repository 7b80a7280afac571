//! The REST API, `/api/v1`: what the pages do, for scripts and the `atrium` CLI, through the
//! same services (so through the same checks). Callers authenticate with a personal access
//! token (`auth.rs`); every error is JSON of one shape (`error.rs`). The OpenAPI document is
//! generated from the handlers (utoipa) and served at `/api/v1/openapi.json`.

pub mod account;
pub mod admin;
pub mod admin_workspaces;
pub mod airlock;
pub mod auth;
pub mod extract;
pub mod me;
pub mod people;
pub mod scratch;
pub mod spending;
pub mod studies;
pub mod teams;
pub mod workspaces;

use crate::http::api_error::{ApiError, ApiResult};
use crate::state::AppState;
/// A team slug from a request, read as the pages read it.
use app::features::team_slug;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

/// The largest request body the API reads.
const BODY_LIMIT: usize = 256 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Atrium API",
        version = "1",
        description = "Teams, workspaces, costs and the catalog of the Atrium research workbench portal. \
                       Authenticate with a personal access token from /settings/tokens: `Authorization: Bearer <token>`."
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerToken),
    security(("token" = [])),
    tags(
        (name = "me", description = "The caller"),
        (name = "teams", description = "The caller's teams, what they may launch there, and their members (team admins)"),
        (name = "workspaces", description = "Launch, follow, stop, start, terminate and connect"),
        (name = "studies", description = "Study data (uploads and downloads by presigned URL) and writers"),
        (name = "airlock", description = "Imports into studies and exports out of controlled ones: scanned for malware, reviewed by one or two people, audited"),
        (name = "scratch", description = "The team's scratch space: working files outside every study (uploads and downloads by presigned URL)"),
        (name = "costs", description = "Spend against budgets (cost viewers and admins)"),
        (name = "admin", description = "The audit log and the catalog (admin scope)"),
        (name = "admin-teams", description = "Team onboarding: create, edit, test and archive teams (admin scope)"),
        (name = "people", description = "Invite people, set their roles and teams, disable and enable them (admin scope)"),
        (name = "budgets", description = "Each team's monthly budget and alert thresholds (admin scope)"),
        (name = "notifications", description = "Slack and Microsoft Teams webhooks for workspace, budget and catalog events (admin scope)"),
        (name = "account", description = "The caller's settings and tokens (tokens are created on /settings/tokens only)"),
    )
)]
struct ApiDoc;

struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

fn api() -> OpenApiRouter<AppState> {
    // Each feature's handlers register themselves in their own file.
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(me::routes())
        .merge(workspaces::routes())
        .merge(admin::routes())
        .merge(admin_workspaces::routes())
        .merge(studies::routes())
        .merge(airlock::routes())
        .merge(scratch::routes())
        .merge(teams::routes())
        .merge(people::routes())
        .merge(spending::routes())
        .merge(account::routes())
}

/// The API's routes, to be nested at `http::API_BASE`, and its OpenAPI document, made from the same
/// route list.
pub fn router(state: AppState) -> Router<AppState> {
    let (router, openapi) = api().split_for_parts();
    let document = openapi.to_pretty_json().unwrap_or_else(|error| {
        tracing::error!(%error, "Failed to write the OpenAPI document");
        "{}".to_owned()
    });
    router
        .route("/openapi.json", get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document.clone()) }))
        // A route, not a fallback: nested under /api/v1, it must win over the server functions'
        // `/api/{*fn_name}`, which would answer with a plain-text error.
        .route("/", any(|| async { ApiError::not_found("See /api/v1/openapi.json for the endpoints, or /api/docs.") }))
        .route("/{*unknown}", any(|| async { ApiError::not_found("There is no such API endpoint; see /api/v1/openapi.json.") }))
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "This endpoint does not take that method.").into_response()
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state, auth::authenticate))
}

/// Opaque page cursors: clients pass back what the API gave them.
struct Cursor;

impl Cursor {
    fn for_page(page: i64) -> String {
        hex::encode(format!("page:{page}"))
    }

    /// The page a cursor names; the first without one.
    fn page(cursor: Option<&str>) -> ApiResult<i64> {
        let Some(cursor) = cursor else { return Ok(1) };
        hex::decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.strip_prefix("page:").and_then(|n| n.parse::<i64>().ok()))
            .filter(|page| (2..=1_000_000).contains(page))
            .ok_or_else(|| ApiError::bad_request("This cursor is not one the API gave; start again without one."))
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_cursor_names_the_page_it_was_made_for_and_nothing_else_is_accepted() {
        assert_eq!(Cursor::page(Some(&Cursor::for_page(7))).ok(), Some(7));
        assert_eq!(Cursor::page(None).ok(), Some(1));
        for bad in ["", "zz", "7", &hex::encode("page:-1"), &hex::encode("page:1"), &hex::encode("p:2")] {
            assert!(Cursor::page(Some(bad)).is_err(), "{bad}");
        }
    }
}
