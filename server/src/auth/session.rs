//! A typed wrapper over the tower-sessions session: what Atrium keeps there and nothing else.

use app::domain::{CurrentUser, Username};
use serde::{Deserialize, Serialize};
use crate::aws::cognito::Tokens;
use secrecy::ExposeSecret;
use tower_sessions::{session, Session};

const USER: &str = "user";
const ACCESS_TOKEN: &str = "access_token";
const REFRESH_TOKEN: &str = "refresh_token";
const PENDING_CHALLENGE: &str = "pending_challenge";

/// A sign-in waiting for the user to choose a new password.
#[derive(Serialize, Deserialize)]
pub struct PendingChallenge {
    pub username: Username,
    pub challenge_session: String,
    pub next: Option<String>,
}

pub struct UserSession(pub Session);

impl UserSession {
    pub async fn current_user(&self) -> Result<Option<CurrentUser>, session::Error> {
        self.0.get(USER).await
    }

    /// Starts a signed-in session under a fresh id, so an id planted before sign-in is useless.
    /// The tokens stay on the server: they are only needed to sign the user out of Cognito.
    pub async fn sign_in(&self, user: &CurrentUser, tokens: &Tokens) -> Result<(), session::Error> {
        self.0.cycle_id().await?;
        self.0.remove_value(PENDING_CHALLENGE).await?;
        self.0.insert(USER, user).await?;
        self.0.insert(ACCESS_TOKEN, tokens.access_token.expose_secret()).await?;
        if let Some(refresh) = &tokens.refresh_token {
            self.0.insert(REFRESH_TOKEN, refresh.expose_secret()).await?;
        }
        Ok(())
    }

    /// (access token, refresh token) of a signed-in session.
    pub async fn tokens(&self) -> Result<Option<(String, Option<String>)>, session::Error> {
        let Some(access) = self.0.get::<String>(ACCESS_TOKEN).await? else { return Ok(None) };
        Ok(Some((access, self.0.get(REFRESH_TOKEN).await?)))
    }

    pub async fn set_pending_challenge(&self, pending: &PendingChallenge) -> Result<(), session::Error> {
        self.0.insert(PENDING_CHALLENGE, pending).await
    }

    pub async fn pending_challenge(&self) -> Result<Option<PendingChallenge>, session::Error> {
        self.0.get(PENDING_CHALLENGE).await
    }

    /// Deletes the session from the store and expires the cookie.
    pub async fn end(&self) -> Result<(), session::Error> {
        self.0.flush().await
    }
}
