//! Server-sent events: a workspace's state pushed to its page as it changes.

use crate::state::AppState;
use app::domain::CurrentUser;
use app::error::AppError;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How soon a browser reconnects when this process ends its stream on shutdown.
const RECONNECT_AFTER: Duration = Duration::from_millis(500);

/// Sends the workspace (as JSON) now and whenever it changes. Changes come from Postgres'
/// NOTIFY (`crate::changes`), whichever process made them: nothing is queried while nothing
/// changes. The stream ends when the browser goes away.
pub async fn workspace_events(State(state): State<AppState>, user: Option<Extension<CurrentUser>>, Path(id): Path<String>) -> Response {
    let Some(Extension(user)) = user else { return StatusCode::UNAUTHORIZED.into_response() };
    let workspaces = state.services.workspaces.clone();
    // Subscribed before the first read, so that no change falls between the two.
    let changes = state.changes.subscribe_workspaces();
    // The same check as the page: owner or admin.
    let first = match workspaces.workspace(&user, &id).await {
        Ok(view) => serde_json::to_string(&view).ok(),
        Err(error) => return crate::http::error_page::for_error(&error),
    };
    let initial = futures::stream::iter(first.clone().map(|json| Ok(Event::default().data(json))));
    let updates = futures::stream::unfold((changes, first), move |(mut changes, last)| {
        let (workspaces, user, id) = (workspaces.clone(), user.clone(), id.clone());
        async move {
            loop {
                match changes.recv().await {
                    Ok(Some(changed)) if *changed != *id => continue,
                    // This workspace, or any after lost notifications or a lagging reader.
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                }
                let current = match workspaces.workspace(&user, &id).await {
                    Ok(view) => serde_json::to_string(&view).ok(),
                    // Postgres away: the next change (or reconnection) tries again.
                    Err(AppError::Unavailable(_)) => continue,
                    Err(_) => return None,
                };
                if current.is_some() && current != last {
                    let event = Event::default().data(current.clone().unwrap_or_default());
                    return Some((Ok::<_, std::convert::Infallible>(event), (changes, current)));
                }
            }
        }
    });
    // When this process stops, the stream ends with a hint to reconnect soon (to another
    // replica, through the load balancer); the browser's EventSource does so by itself.
    let mut shutting_down = state.shutting_down.clone();
    let stopping = async move {
        let _ = shutting_down.wait_for(|stopping| *stopping).await;
    };
    let goodbye = futures::stream::once(async { Ok(Event::default().retry(RECONNECT_AFTER).comment("server shutting down")) });
    Sse::new(initial.chain(updates).take_until(stopping).chain(goodbye)).keep_alive(KeepAlive::default()).into_response()
}
