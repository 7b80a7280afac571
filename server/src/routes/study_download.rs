//! Study, airlock and scratch downloads: a plain link answered with a redirect to a presigned GET minted for this
//! click (audited), so the bytes go from S3 to the browser and the URL is never stored.

use crate::http::error_page::for_error;
use crate::state::AppState;
use app::domain::{CurrentUser, TeamSlug};
use app::error::AppError;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

fn redirect(result: Result<String, AppError>) -> Response {
    match result {
        // The URL is a credential for a minute: not for caches.
        Ok(url) => ([(header::CACHE_CONTROL, "no-store")], Redirect::to(&url)).into_response(),
        Err(error) => for_error(&error),
    }
}

/// The signed-in caller, and the team and id of the path (`what` names the missing thing).
// The error is the page to answer with at once, not a value passed along.
#[allow(clippy::result_large_err)]
fn caller_team_and_id(
    user: Option<Extension<CurrentUser>>,
    team: &str,
    id: &str,
    what: &str,
) -> Result<(CurrentUser, TeamSlug, i64), Response> {
    let Some(Extension(user)) = user else { return Err(for_error(&AppError::NotSignedIn)) };
    match (app::features::team_slug(team), id.parse::<i64>()) {
        (Ok(team), Ok(id)) => Ok((user, team, id)),
        _ => Err(for_error(&AppError::NotFound(what.into()))),
    }
}

/// `/teams/{team}/studies/{id}/download?path=…`
pub async fn study_file(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path((team, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (user, team, id) = match caller_team_and_id(user, &team, &id, "This study") {
        Ok(found) => found,
        Err(page) => return page,
    };
    let path = query.get("path").map(String::as_str).unwrap_or_default();
    redirect(state.services.studies.download_url(&user, &team, id, path).await)
}

/// `/teams/{team}/requests/{id}/file?file=…`: a file of an airlock request, read-only for a
/// reviewer, or a completed export's for its requester.
pub async fn request_file(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path((team, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (user, team, id) = match caller_team_and_id(user, &team, &id, "This request") {
        Ok(found) => found,
        Err(page) => return page,
    };
    let file = query.get("file").map(String::as_str).unwrap_or_default();
    redirect(state.services.airlock.file_url(&user, &team, id, file).await)
}

/// `/teams/{team}/scratch/download?path=…`: a file of the team's scratch space.
pub async fn scratch_file(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(team): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(Extension(user)) = user else { return for_error(&AppError::NotSignedIn) };
    let Ok(team) = app::features::team_slug(&team) else { return for_error(&AppError::NotFound("This team".into())) };
    let path = query.get("path").map(String::as_str).unwrap_or_default();
    redirect(state.services.scratch.scratch_download_url(&user, &team, path).await)
}
