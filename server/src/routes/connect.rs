//! "Connect": a plain form POST answered with a redirect to the workspace, so the presigned
//! URL goes straight to the browser and nowhere else (not stored, not logged, not cached).

use super::error_page::error_page;
use crate::startup::AppState;
use app::domain::CurrentUser;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;

pub async fn connect(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Path(id): Path<String>) -> Response {
    match state.services.workspaces.connect_url(&user, &id).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error_page(status, error.title(), &error.to_string())
        }
    }
}
