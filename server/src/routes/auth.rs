//! The sign-in, new-password and sign-out forms. Plain form POSTs answered with redirects, so
//! they work without JavaScript; errors come back as a code the page turns into a message.

use crate::auth::service::{AuthError, SignInResult};
use crate::auth::session::{PendingChallenge, UserSession};
use crate::http::client::ClientAddress;
use crate::http::error_page::unavailable;
use crate::state::AppState;
use app::domain::{CurrentUser, Username, safe_next_path};
use axum::Extension;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: Option<SecretString>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    new_password: Option<SecretString>,
    #[serde(default)]
    confirm_password: Option<SecretString>,
}

fn back_to_sign_in(error: &str, next: Option<&str>) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("error", error);
    if let Some(next) = next {
        query.append_pair("next", next);
    }
    Redirect::to(&format!("/?{}", query.finish())).into_response()
}

/// Where a freshly signed-in user goes: where they were heading, else straight to their only
/// team, else the team list.
pub(crate) fn landing_for(user: &CurrentUser, next: Option<String>) -> String {
    next.unwrap_or_else(|| match user.teams.as_slice() {
        [only] if !user.is_admin() => format!("/teams/{only}"),
        _ => "/teams".to_owned(),
    })
}

pub(crate) fn failure(error: AuthError, next: Option<&str>) -> Response {
    match error {
        AuthError::InvalidCredentials => back_to_sign_in("signin", next),
        AuthError::ChallengeExpired => back_to_sign_in("challenge", next),
        AuthError::TooManyAttempts => back_to_sign_in("throttled", next),
        AuthError::Disabled => back_to_sign_in("disabled", next),
        AuthError::InvalidPassword => Redirect::to("/new-password?error=policy").into_response(),
        AuthError::Unavailable(what, source) => {
            tracing::warn!(error = ?source, "{what} is unavailable during sign-in");
            unavailable(what)
        }
        AuthError::Unexpected(source) => {
            tracing::error!(error = ?source, "Sign-in failed unexpectedly");
            crate::http::error_page::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in failed",
                "Something went wrong on our side while signing you in. It has been logged.",
            )
        }
    }
}

/// The cookie of a browser that signed in before: sign-in failures from elsewhere (the same
/// NAT address included) do not hold it back.
const DEVICE_COOKIE: &str = "atrium_device";

/// The browser's device cookie, if it has a well-formed one (64 hex digits, as made here).
fn device_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == DEVICE_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn set_device_cookie(response: &mut Response, token: &str, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{DEVICE_COOKIE}={token}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

pub(crate) fn session_failure(error: tower_sessions::session::Error) -> Response {
    tracing::warn!(%error, "Failed to write the session");
    unavailable("The database")
}

fn password_sign_in_off() -> Response {
    crate::http::error_page::error_page(
        StatusCode::FORBIDDEN,
        "Password sign-in is turned off",
        "This portal signs people in through their organisation's account. Use the sign-in button on the first page.",
    )
}

#[tracing::instrument(skip_all)]
pub async fn sign_in(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddress>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Response {
    if !state.password_sign_in {
        return password_sign_in_off();
    }
    let next = safe_next_path(form.next.as_deref());
    let (username, password) = match (Username::parse(&form.username), form.password) {
        (Ok(username), Some(password)) if !password.expose_secret().is_empty() => (username, password),
        _ => return back_to_sign_in("missing", next.as_deref()),
    };
    let session = UserSession(session);
    let device = device_cookie(&headers);
    match state.auth.sign_in(&username, &password, &client.to_string(), device.as_deref()).await {
        Ok(SignInResult::SignedIn { user, tokens }) => {
            if let Err(error) = session.sign_in(&user, &tokens).await {
                return session_failure(error);
            }
            tracing::info!(username = %user.username, "Signed in");
            let mut response = Redirect::to(&landing_for(&user, next)).into_response();
            match state.auth.remember_device(user.username.as_str(), device.as_deref()).await {
                Ok(Some(token)) => set_device_cookie(&mut response, &token, state.secure_cookies),
                Ok(None) => {}
                // Only throttling is easier with it: the sign-in itself stands.
                Err(error) => tracing::warn!(%error, "Failed to remember the browser"),
            }
            response
        }
        Ok(SignInResult::NewPasswordRequired { challenge_session }) => {
            let pending = PendingChallenge { username, challenge_session, next };
            match session.set_pending_challenge(&pending).await {
                Ok(()) => Redirect::to("/new-password").into_response(),
                Err(error) => session_failure(error),
            }
        }
        Err(error) => failure(error, next.as_deref()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn new_password(State(state): State<AppState>, session: Session, Form(form): Form<NewPasswordForm>) -> Response {
    if !state.password_sign_in {
        return password_sign_in_off();
    }
    let session = UserSession(session);
    let pending = match session.pending_challenge().await {
        Ok(Some(pending)) => pending,
        Ok(None) => return back_to_sign_in("challenge", None),
        Err(error) => return session_failure(error),
    };
    let (Some(new_password), Some(confirm)) = (form.new_password, form.confirm_password) else {
        return Redirect::to("/new-password?error=policy").into_response();
    };
    if new_password.expose_secret() != confirm.expose_secret() {
        return Redirect::to("/new-password?error=mismatch").into_response();
    }
    // Check locally first for a precise message; Cognito enforces the policy regardless.
    if let Ok(policy) = state.auth.password_policy().await
        && !policy.violations(new_password.expose_secret()).is_empty()
    {
        return Redirect::to("/new-password?error=policy").into_response();
    }
    let result = state.auth.complete_new_password(&pending.username, &pending.challenge_session, &new_password).await;
    match result {
        Ok(SignInResult::SignedIn { user, tokens }) => {
            if let Err(error) = session.sign_in(&user, &tokens).await {
                return session_failure(error);
            }
            tracing::info!(username = %user.username, "Signed in after choosing a new password");
            Redirect::to(&landing_for(&user, pending.next)).into_response()
        }
        Ok(SignInResult::NewPasswordRequired { .. }) => Redirect::to("/new-password?error=retry").into_response(),
        Err(error) => failure(error, pending.next.as_deref()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn sign_out(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    user: Option<axum::Extension<CurrentUser>>,
    session: Session,
) -> Response {
    let session = UserSession(session);
    let mut stopped = 0;
    if let Some(axum::Extension(user)) = user {
        state.auth.record_sign_out(&user).await;
        // Failing to stop them must not keep anyone signed in: logged, and the page says nothing.
        stopped = state.services.workspaces.stop_for_sign_out(&user).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "Could not stop the workspaces of a user signing out");
            0
        });
    }
    if let Ok(Some((access, refresh))) = session.tokens().await {
        state.auth.sign_out(&access, refresh.as_deref()).await;
    }
    let sso_id_token = session.sso_id_token().await.ok().flatten();
    if let Err(error) = session.end().await {
        return session_failure(error);
    }
    // A session from single sign-on also ends at the provider, which then sends the browser back.
    match sso_id_token {
        Some(id_token) => {
            let portal = super::sso::portal_url(&state, &headers);
            Redirect::to(&super::sso::provider_sign_out(state.sso.as_ref(), &id_token, &portal).await).into_response()
        }
        None if stopped > 0 => Redirect::to(&format!("/?stopped={stopped}")).into_response(),
        None => Redirect::to("/").into_response(),
    }
}
