//! Server-sent events: a workspace's state pushed to its page as it changes.

use crate::startup::AppState;
use app::domain::CurrentUser;
use app::error::AppError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::time::Duration;

/// Sends the workspace (as JSON) now and whenever its state or events change. The check is a
/// cheap query each second; the stream ends when the browser goes away.
pub async fn workspace_events(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(id): Path<String>,
) -> Response {
    let Some(Extension(user)) = user else { return StatusCode::UNAUTHORIZED.into_response() };
    let workspaces = state.services.workspaces.clone();
    // The same check as the page: owner or admin.
    if let Err(error) = workspaces.workspace(&user, &id).await {
        return super::error_page::for_error(&error);
    }
    let stream = futures::stream::unfold((None::<String>, true), move |(last, first)| {
        let (workspaces, user, id) = (workspaces.clone(), user.clone(), id.clone());
        async move {
            loop {
                if !first {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                let current = match workspaces.workspace(&user, &id).await {
                    Ok(view) => serde_json::to_string(&view).ok(),
                    Err(AppError::Unavailable(_)) => {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    Err(_) => return None,
                };
                if current.is_some() && current != last {
                    let event = Event::default().data(current.clone().unwrap_or_default());
                    return Some((Ok::<_, std::convert::Infallible>(event), (current, false)));
                }
                if first {
                    return Some((Ok(Event::default().comment("no change")), (last, false)));
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}
