//! Single sign-on: `GET /auth/sso` sends the browser to the OpenID provider, `GET
//! /auth/callback` takes it back. Every way a callback can fail ends on a page with its
//! status, no session and an audit row.

use super::auth::{landing_for, session_failure};
use crate::auth::service::AuthError;
use crate::auth::session::UserSession;
use crate::auth::sso::{SsoError, SsoProvider};
use crate::http::client::ClientAddress;
use crate::http::error_page::{error_page, unavailable};
use crate::repo::audit::Outcome;
use crate::state::AppState;
use app::domain::safe_next_path;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;
use tower_sessions::Session;

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    next: Option<String>,
}

/// The provider's answer (OpenID Connect Core 3.1.2.5 and 3.1.2.6).
#[derive(Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn not_configured() -> Response {
    error_page(StatusCode::NOT_FOUND, "Single sign-on is not set up", "This portal signs people in with a username and password.")
}

/// The portal's own address as the browser sees it: the configured public URL, else the
/// request's Host (only letters, digits, dots, dashes, a colon and brackets are taken from it).
pub fn portal_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    let scheme = if state.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

#[tracing::instrument(skip_all)]
pub async fn start(State(state): State<AppState>, headers: HeaderMap, session: Session, Query(query): Query<StartQuery>) -> Response {
    let Some(sso) = state.sso.clone() else { return not_configured() };
    let next = safe_next_path(query.next.as_deref());
    let redirect_url = format!("{}/auth/callback", portal_url(&state, &headers));
    match sso.begin(&redirect_url, next, now()).await {
        Ok((authorize_url, pending)) => match UserSession(session).add_pending_sso(pending).await {
            Ok(()) => Redirect::to(&authorize_url).into_response(),
            Err(error) => session_failure(error),
        },
        Err(error) => {
            tracing::warn!(error = ?error, "Could not start single sign-on");
            failure_page(&sso, &error)
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn callback(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddress>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(sso) = state.sso.clone() else { return not_configured() };
    let client_ip = client.to_string();
    let session = UserSession(session);
    let pending = match query.state.as_deref() {
        Some(returned) => match session.take_pending_sso(returned, now()).await {
            Ok(pending) => pending,
            Err(error) => {
                state.auth.record_sso_failure(None, Outcome::Failure, "the session could not be read", &client_ip).await;
                return session_failure(error);
            }
        },
        None => None,
    };
    let outcome = match (pending, query.error, query.code) {
        (None, _, _) => Err(SsoError::UnknownState),
        (Some(_), Some(error), _) => Err(SsoError::Denied(query.error_description.map_or(error.clone(), |d| format!("{error}: {d}")))),
        (Some(_), None, None) => Err(SsoError::MissingCode),
        (Some(pending), None, Some(code)) => sso.finish(&pending, &code).await.map(|identity| (pending, identity)),
    };
    let (pending, identity) = match outcome {
        Ok(signed_in) => signed_in,
        Err(error) => return refuse(&state, &sso, &session, error, &client_ip).await,
    };
    let user = match state.auth.sso_sign_in(&identity, &client_ip).await {
        Ok(user) => user,
        Err(error) => {
            let reason = error.to_string();
            let outcome = if matches!(error, AuthError::Disabled) { Outcome::Refused } else { Outcome::Failure };
            state.auth.record_sso_failure(Some(identity.username.as_str()), outcome, &reason, &client_ip).await;
            end_unless_signed_in(&session).await;
            return super::auth::failure(error, None);
        }
    };
    if let Err(error) = session.sign_in_with_sso(&user, &identity.id_token).await {
        let reason = "the signed-in session could not be written";
        state.auth.record_sso_failure(Some(user.username.as_str()), Outcome::Failure, reason, &client_ip).await;
        return session_failure(error);
    }
    tracing::info!(username = %user.username, "Signed in through single sign-on");
    Redirect::to(&landing_for(&user, pending.next)).into_response()
}

/// Deletes a pre-sign-in session; a signed-in one (a stale callback link, "back" onto a used
/// one) stays signed in: a link from elsewhere must not be able to sign anyone out.
async fn end_unless_signed_in(session: &UserSession) {
    if matches!(session.current_user().await, Ok(None)) {
        let _ = session.end().await;
    }
}

/// Audits a failed callback, ends the pre-sign-in session, and explains.
async fn refuse(state: &AppState, sso: &SsoProvider, session: &UserSession, error: SsoError, client_ip: &str) -> Response {
    tracing::warn!(error = ?error, "Single sign-on failed");
    let outcome = if matches!(error, SsoError::Denied(_)) { Outcome::Refused } else { Outcome::Failure };
    state.auth.record_sso_failure(None, outcome, &error.to_string(), client_ip).await;
    end_unless_signed_in(session).await;
    failure_page(sso, &error)
}

fn failure_page(sso: &SsoProvider, error: &SsoError) -> Response {
    let provider = sso.display_name();
    let again = "Please sign in again.";
    match error {
        SsoError::Unavailable(what, _) => unavailable(what),
        SsoError::Denied(reason) => {
            error_page(StatusCode::FORBIDDEN, "Sign-in was not completed", &format!("{provider} did not sign you in ({reason}). {again}"))
        }
        SsoError::UnknownState => error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in could not be completed",
            &format!("This sign-in was not started in this browser, has expired, or was already completed. {again}"),
        ),
        SsoError::MissingCode => error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in could not be completed",
            &format!("The answer from {provider} did not include a sign-in code. {again}"),
        ),
        SsoError::CodeRejected(reason) => error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in could not be completed",
            &format!("{provider} did not accept this sign-in ({reason}); a sign-in link works once and for a few minutes. {again}"),
        ),
        SsoError::InvalidToken(reason) => error_page(
            StatusCode::UNAUTHORIZED,
            "Sign-in could not be trusted",
            &format!(
                "Atrium could not trust the answer from {provider}: {reason}. {again} If this keeps happening, tell your administrator."
            ),
        ),
    }
}

/// Where sign-out sends the browser for a session that came through SSO: the provider's
/// sign-out, coming back to the landing page; the landing page when it has none.
pub async fn provider_sign_out(sso: Option<&Arc<SsoProvider>>, id_token: &str, portal: &str) -> String {
    let Some(sso) = sso else { return "/".to_owned() };
    sso.logout_url(id_token, &format!("{portal}/")).await.unwrap_or_else(|| "/".to_owned())
}
