//! A typed wrapper over the tower-sessions session: what Atrium keeps there and nothing else.

use app::domain::{CurrentUser, Username};
use serde::{Deserialize, Serialize};
use tower_sessions::{session, Session};

const USER: &str = "user";
const ACCESS_TOKEN: &str = "access_token";
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
    pub async fn sign_in(&self, user: &CurrentUser, access_token: &str) -> Result<(), session::Error> {
        self.0.cycle_id().await?;
        self.0.remove_value(PENDING_CHALLENGE).await?;
        self.0.insert(USER, user).await?;
        self.0.insert(ACCESS_TOKEN, access_token).await
    }

    pub async fn access_token(&self) -> Result<Option<String>, session::Error> {
        self.0.get(ACCESS_TOKEN).await
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
