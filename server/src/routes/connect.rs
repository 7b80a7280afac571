//! "Connect": a plain form POST answered with a redirect to the workspace, so the presigned
//! URL goes straight to the browser and nowhere else (not stored, not logged, not cached).

use crate::http::error_page::for_error;
use crate::state::AppState;
use app::domain::CurrentUser;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

pub async fn connect(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Path(id): Path<String>) -> Response {
    match state.services.workspaces.connect(&user, &id).await {
        Ok(connection) => Redirect::to(&connection.url).into_response(),
        Err(error) => for_error(&error),
    }
}
