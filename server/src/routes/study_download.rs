//! Study downloads: a plain link answered with a redirect to a presigned GET minted for this
//! click (audited), so the bytes go from S3 to the browser and the URL is never stored.

use super::error_page::for_error;
use crate::startup::AppState;
use app::domain::CurrentUser;
use app::error::AppError;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use std::collections::HashMap;

fn redirect(result: Result<String, AppError>) -> Response {
    match result {
        // The URL is a credential for a minute: not for caches.
        Ok(url) => ([(header::CACHE_CONTROL, "no-store")], Redirect::to(&url)).into_response(),
        Err(error) => for_error(&error),
    }
}

/// `/teams/{team}/studies/{id}/download?path=…`
pub async fn study_file(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path((team, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(Extension(user)) = user else { return for_error(&AppError::NotSignedIn) };
    let (Ok(team), Ok(id)) = (app::api::team_slug(&team), id.parse::<i64>()) else {
        return for_error(&AppError::NotFound("This study".into()));
    };
    let path = query.get("path").map(String::as_str).unwrap_or_default();
    redirect(state.services.studies.download_url(&user, &team, id, path).await)
}

/// `/teams/{team}/egress/{id}/download?file=…`: a file of an approved export, for its requester.
pub async fn egress_file(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path((team, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(Extension(user)) = user else { return for_error(&AppError::NotSignedIn) };
    let (Ok(team), Ok(id)) = (app::api::team_slug(&team), id.parse::<i64>()) else {
        return for_error(&AppError::NotFound("This export request".into()));
    };
    let file = query.get("file").map(String::as_str).unwrap_or_default();
    redirect(state.services.studies.egress_download_url(&user, &team, id, file).await)
}
