use crate::auth::session::UserSession;
use crate::changes::Changes;
use crate::http::client::ClientAddress;
use crate::http::error_page::{error_page, unavailable};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgPool;
use tower_sessions::Session;

/// What the middleware needs to know who is signed in.
#[derive(Clone)]
pub struct SignedIn {
    pub db: PgPool,
    pub changes: Changes,
    /// How often an active session is written to push its expiry back.
    pub touch_every_seconds: i64,
}

impl SignedIn {
    async fn access(&self, username: &str) -> Result<Option<crate::repo::users::Access>, sqlx::Error> {
        self.changes.access.get_or_load(username, crate::repo::users::access(&self.db, username)).await
    }
}

/// Paths only a signed-in user may open; anyone else is sent to sign in and brought back.
const SIGNED_IN_PREFIXES: [&str; 5] = ["/teams", "/workspaces", "/admin", "/costs", "/settings"];

fn needs_sign_in(path: &str) -> bool {
    SIGNED_IN_PREFIXES.iter().any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// Puts the signed-in `CurrentUser` into the request's extensions (where server functions find
/// it), redirects anonymous visitors away from signed-in pages, and keeps signed-in pages out
/// of caches so that "back" after sign-out cannot show them.
///
/// Roles and teams come from Postgres (through a cache every process empties of a user whose
/// access changed anywhere), so that an admin's change applies to the user's next click; a
/// disabled user's session ends here.
pub async fn load_current_user(State(signed_in): State<SignedIn>, session: Session, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if let Some(file) = path.strip_prefix("/pkg/") {
        let hashed = file.matches('.').count() >= 2;
        let mut response = next.run(request).await;
        // Named by their content (`atrium.<hash>.wasm`): a new build is a new name.
        if hashed && response.status().is_success() {
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
        }
        return response;
    }
    let session = UserSession(session);
    let user = match session.current_user().await {
        Ok(user) => user,
        // A session written by an older release that no longer decodes: start afresh.
        Err(tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Decode(error))) => {
            tracing::warn!(%error, "Discarding a session that does not decode");
            let _ = session.end().await;
            None
        }
        Err(error) => {
            tracing::warn!(%error, "Failed to load the session");
            return unavailable("The database");
        }
    };
    let user = match user {
        Some(mut user) => match signed_in.access(user.username.as_str()).await {
            Ok(Some(access)) if !access.disabled => {
                access.apply_to(&mut user);
                Some(user)
            }
            Ok(_) => {
                tracing::info!(username = %user.username, "Ending the session of a disabled or removed user");
                let _ = session.end().await;
                if needs_sign_in(&path) {
                    return Redirect::to("/?error=disabled").into_response();
                }
                None
            }
            Err(error) => {
                tracing::warn!(%error, "Failed to read the user's access");
                return unavailable("The database");
            }
        },
        None => None,
    };
    if user.is_none() && needs_sign_in(&path) {
        let wanted = request.uri().path_and_query().map_or(path.as_str(), |pq| pq.as_str());
        let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("next", wanted).finish();
        return Redirect::to(&format!("/?{query}")).into_response();
    }
    if let Some(mut user) = user {
        if let Err(error) = session.touch(time::OffsetDateTime::now_utc().unix_timestamp(), signed_in.touch_every_seconds).await {
            tracing::warn!(%error, "Failed to note the session's activity");
        }
        user.client_ip = request.extensions().get::<ClientAddress>().map(ToString::to_string);
        request.extensions_mut().insert(user);
    }
    let mut response = next.run(request).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Refuses state-changing requests sent from another site (CSRF), in addition to the
/// SameSite=Lax session cookie: a browser always names the page's origin on a cross-site POST.
pub async fn reject_cross_site_posts(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let origin_host = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .map(|o| o.split_once("://").map_or(o, |(_, rest)| rest).to_owned());
        let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
        if let (Some(origin_host), Some(host)) = (origin_host, host)
            && origin_host != host
        {
            return error_page(StatusCode::FORBIDDEN, "Request refused", "This form was sent from another site.");
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::needs_sign_in;

    #[test]
    fn team_and_admin_pages_need_sign_in_but_the_landing_page_does_not() {
        assert!(needs_sign_in("/teams"));
        assert!(needs_sign_in("/teams/genomics"));
        assert!(needs_sign_in("/admin/audit"));
        assert!(!needs_sign_in("/"));
        assert!(!needs_sign_in("/teamsters"));
        assert!(!needs_sign_in("/healthz"));
    }
}
