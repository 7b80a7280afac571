//! Bearer tokens on `/api/v1`: the middleware that turns one into its user (or answers 401/429),
//! and the extractor handlers ask for the caller with.

use crate::http::api_error::ApiError;
use crate::http::client::ClientAddress;
use crate::repo::audit;
use crate::services::tokens::{TokenCaller, TokenRefusal};
use crate::state::AppState;
use app::domain::CurrentUser;
use app::domain::tokens::Scope;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Checks the request's bearer token, if it has one, and puts its `TokenCaller` into the
/// request; handlers refuse requests without one (`Caller`). A mutation made with a token is
/// audited as the token's use, besides the service's own row for the change.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return next.run(request).await;
    };
    let Some(secret) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim) else {
        return ApiError::unauthorized("The Authorization header must be `Bearer <token>`.").into_response();
    };
    let mut caller = match state.tokens.authenticate(secret).await {
        Ok(caller) => caller,
        Err(TokenRefusal::Invalid) => {
            return ApiError::unauthorized("This token is unknown, expired or revoked, or its user is disabled.").into_response();
        }
        Err(TokenRefusal::Limited { retry_after_seconds }) => return ApiError::rate_limited(retry_after_seconds).into_response(),
        Err(TokenRefusal::Failed(error)) => return ApiError::from(error).into_response(),
    };
    caller.user.client_ip = request.extensions().get::<ClientAddress>().map(ToString::to_string);
    let mutation = !matches!(*request.method(), Method::GET | Method::HEAD);
    let what = format!("{} {}", request.method(), request.uri().path());
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;
    if mutation {
        let detail = format!("{what} → {}", response.status().as_u16());
        let token = caller.token_id.to_string();
        let entry = audit::Entry::by(&caller.user, "token.use").object("token", &token).detail(&detail);
        if let Err(error) = audit::record(&state.db, &entry).await {
            tracing::warn!(%error, "Failed to audit a token's use");
        }
    }
    response
}

/// The user a request's token acts for; 401 without a token.
pub struct Caller(TokenCaller);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<TokenCaller>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::unauthorized("Send a token: Authorization: Bearer <token>. Create one on /settings/tokens."))
    }
}

impl Caller {
    pub fn scopes(&self) -> &[Scope] {
        &self.0.scopes
    }

    /// The user, if the token has `scope`; 403 otherwise. Every token may read (a token for
    /// launching must follow what it launched); what the user may see and do is the services'
    /// to check, as for the pages.
    pub fn with(&self, scope: Scope) -> Result<&CurrentUser, ApiError> {
        if scope == Scope::Read || self.0.scopes.contains(&scope) {
            Ok(&self.0.user)
        } else {
            Err(ApiError::forbidden(format!("This token does not have the {} scope.", scope.as_str())))
        }
    }
}
