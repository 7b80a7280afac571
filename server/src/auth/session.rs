//! A typed wrapper over the tower-sessions session: what Atrium keeps there and nothing else.

use crate::auth::sso::{PENDING_TTL_SECONDS, PendingSso};
use crate::aws::cognito::Tokens;
use app::domain::{CurrentUser, Username};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tower_sessions::{Session, session};

/// The key of the signed-in user; the session store reads it to know whose session it is.
pub(crate) const USER: &str = "user";
const ACCESS_TOKEN: &str = "access_token";
const REFRESH_TOKEN: &str = "refresh_token";
const PENDING_CHALLENGE: &str = "pending_challenge";
const PENDING_SSO: &str = "pending_sso";
const SSO_ID_TOKEN: &str = "sso_id_token";
/// When the session was last written for activity (unix seconds); see `touch`.
const TOUCHED_AT: &str = "touched_at";
/// Sign-ins started at the provider and not yet back, per session (one per open tab, say).
const MAX_PENDING_SSO: usize = 5;

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

    /// Starts a signed-in session under a fresh id, so an id planted before sign-in is useless,
    /// and with nothing from before (pending sign-ins, another user's tokens).
    async fn start_fresh(&self, user: &CurrentUser) -> Result<(), session::Error> {
        self.0.clear().await;
        self.0.cycle_id().await?;
        self.0.insert(TOUCHED_AT, time::OffsetDateTime::now_utc().unix_timestamp()).await?;
        self.0.insert(USER, user).await
    }

    /// Notes activity. tower-sessions counts inactivity from the session's last write, so an
    /// active session must be written now and then; at most once per `every` seconds, so that
    /// reading pages does not write to Postgres.
    pub async fn touch(&self, now: i64, every: i64) -> Result<(), session::Error> {
        let touched: Option<i64> = self.0.get(TOUCHED_AT).await?;
        if touched.is_none_or(|at| now - at >= every) {
            self.0.insert(TOUCHED_AT, now).await?;
        }
        Ok(())
    }

    /// A password sign-in. The tokens stay on the server: they are only needed to sign the
    /// user out of Cognito.
    pub async fn sign_in(&self, user: &CurrentUser, tokens: &Tokens) -> Result<(), session::Error> {
        self.start_fresh(user).await?;
        self.0.insert(ACCESS_TOKEN, tokens.access_token.expose_secret()).await?;
        if let Some(refresh) = &tokens.refresh_token {
            self.0.insert(REFRESH_TOKEN, refresh.expose_secret()).await?;
        }
        Ok(())
    }

    /// Starts a signed-in session after single sign-on, under a fresh id. The ID token is kept
    /// for the provider's sign-out (`id_token_hint`).
    pub async fn sign_in_with_sso(&self, user: &CurrentUser, id_token: &str) -> Result<(), session::Error> {
        self.start_fresh(user).await?;
        self.0.insert(SSO_ID_TOKEN, id_token).await
    }

    /// Remembers a sign-in sent to the provider; the oldest is forgotten beyond a few.
    pub async fn add_pending_sso(&self, pending: PendingSso) -> Result<(), session::Error> {
        let mut all: Vec<PendingSso> = self.0.get(PENDING_SSO).await?.unwrap_or_default();
        all.push(pending);
        let excess = all.len().saturating_sub(MAX_PENDING_SSO);
        all.drain(..excess);
        self.0.insert(PENDING_SSO, all).await
    }

    /// Takes out the pending sign-in with this `state`, if it is there and not too old: a
    /// state can be used once.
    pub async fn take_pending_sso(&self, state: &str, now: i64) -> Result<Option<PendingSso>, session::Error> {
        let all: Vec<PendingSso> = self.0.get(PENDING_SSO).await?.unwrap_or_default();
        let (matching, rest): (Vec<_>, Vec<_>) = all.into_iter().partition(|p| p.state == state);
        self.0.insert(PENDING_SSO, rest).await?;
        Ok(matching.into_iter().next().filter(|p| now - p.started_at <= PENDING_TTL_SECONDS))
    }

    /// The ID token of a session signed in through SSO.
    pub async fn sso_id_token(&self) -> Result<Option<String>, session::Error> {
        self.0.get(SSO_ID_TOKEN).await
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
