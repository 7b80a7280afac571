//! The sign-in logic, independent of HTTP: talk to the identity provider, verify what it
//! returns, mirror the user's teams into Postgres.

use super::jwks::{TokenError, TokenVerifier};
use super::sso::SsoIdentity;
use crate::aws::cognito::{IdentityError, IdentityProvider, SignInOutcome, Tokens};
use crate::changes::AccessCache;
use crate::repo;
use crate::repo::audit::{self, Outcome};
use crate::repo::users::MembershipSource;
use app::domain::{CurrentUser, PasswordPolicy, Username};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

pub enum SignInResult {
    SignedIn { user: CurrentUser, tokens: Tokens },
    NewPasswordRequired { challenge_session: String },
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("the new password breaks the policy")]
    InvalidPassword,
    #[error("the challenge has expired")]
    ChallengeExpired,
    #[error("too many failed sign-ins")]
    TooManyAttempts,
    /// An admin disabled the account (Cognito refuses its password; this covers SSO).
    #[error("the account is disabled")]
    Disabled,
    #[error("{0} is unavailable")]
    Unavailable(&'static str, #[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<IdentityError> for AuthError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::InvalidCredentials => AuthError::InvalidCredentials,
            IdentityError::InvalidPassword(_) => AuthError::InvalidPassword,
            IdentityError::ChallengeExpired => AuthError::ChallengeExpired,
            IdentityError::Unavailable(e) => AuthError::Unavailable("The identity provider", e),
            IdentityError::Unexpected(e) => AuthError::Unexpected(e),
        }
    }
}

/// Sign-in throttling. Guesses are slowed per (username, address): after a few failures each
/// further try waits twice as long as the last, up to a quarter of an hour, so guessing stays
/// slow while nobody else (another address, or this user's own browser that signed in before)
/// is held back. An address with very many failures (a script trying many usernames) is slowed
/// down, never refused: a university behind one NAT address shares it.
const PAIR_WINDOW: Duration = Duration::from_secs(24 * 3600);
const FREE_FAILURES: i64 = 3;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
const ADDRESS_WINDOW: Duration = Duration::from_secs(15 * 60);
const ADDRESS_SLOWDOWN_AFTER: i64 = 100;
const ADDRESS_SLOWDOWN: Duration = Duration::from_secs(2);

/// How long after its last failure a (username, address) pair with `failures` may try again.
pub fn wait_after(failures: i64) -> Duration {
    match failures - FREE_FAILURES {
        ..0 => Duration::ZERO,
        extra => Duration::from_secs(1u64 << extra.min(20)).min(MAX_WAIT),
    }
}

/// The device cookie's value as stored: its SHA-256, so that the table does not hold cookies.
pub fn device_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// How long the pool's password policy is reused before it is read again.
const POLICY_TTL: Duration = Duration::from_secs(600);

pub struct AuthService {
    identity: Arc<dyn IdentityProvider>,
    verifier: Arc<TokenVerifier>,
    db: PgPool,
    policy: RwLock<Option<(Instant, PasswordPolicy)>>,
    /// Forgets the user after a sign-in refreshed their access (see `mirror`).
    access_cache: AccessCache,
}

impl AuthService {
    pub fn new(identity: Arc<dyn IdentityProvider>, verifier: Arc<TokenVerifier>, db: PgPool, access_cache: AccessCache) -> Self {
        AuthService { identity, verifier, db, policy: RwLock::new(None), access_cache }
    }

    /// Signs in with a password. `device` is the browser's device cookie, if it has one.
    #[tracing::instrument(skip(self, password, device), fields(username = %username))]
    pub async fn sign_in(
        &self,
        username: &Username,
        password: &SecretString,
        client_ip: &str,
        device: Option<&str>,
    ) -> Result<SignInResult, AuthError> {
        let device = match device.map(device_hash) {
            Some(hash)
                if repo::sign_in_failures::is_known_device(&self.db, &hash, username.as_str()).await.map_err(database_failure)? =>
            {
                Some(hash)
            }
            _ => None,
        };
        let source = repo::sign_in_failures::Source { client_ip, known_device: device.as_deref() };
        let recent = repo::sign_in_failures::recent(&self.db, username.as_str(), source, PAIR_WINDOW, ADDRESS_WINDOW)
            .await
            .map_err(database_failure)?;
        let attempt = |outcome: Outcome, detail: &'static str| {
            let entry = audit::Entry::anonymous(username.as_str(), "auth.sign_in", Some(client_ip)).outcome(outcome).detail(detail);
            async move { audit::record(&self.db, &entry).await.map_err(database_failure) }
        };
        let wait = wait_after(recent.pair_failures);
        if recent.seconds_since_last_pair_failure.is_some_and(|since| since < wait.as_secs_f64()) {
            tracing::warn!(%client_ip, failures = recent.pair_failures, "Sign-in refused: too many recent failures");
            attempt(Outcome::Refused, "too many failed sign-ins").await?;
            return Err(AuthError::TooManyAttempts);
        }
        if device.is_none() && recent.address_failures >= ADDRESS_SLOWDOWN_AFTER {
            tracing::warn!(%client_ip, failures = recent.address_failures, "Sign-in slowed down: many failures from this address");
            tokio::time::sleep(ADDRESS_SLOWDOWN).await;
        }
        match self.identity.sign_in(username, password).await {
            Err(IdentityError::InvalidCredentials) => {
                repo::sign_in_failures::record(&self.db, username.as_str(), source).await.map_err(database_failure)?;
                attempt(Outcome::Failure, "credentials not accepted").await?;
                Err(AuthError::InvalidCredentials)
            }
            Err(other) => Err(other.into()),
            Ok(outcome) => {
                repo::sign_in_failures::clear(&self.db, username.as_str(), source).await.map_err(database_failure)?;
                self.finish(outcome, Some(client_ip)).await
            }
        }
    }

    /// Notes that this browser signed in as `username`, so that failures elsewhere do not hold
    /// it back next time. Returns a new device cookie value when the browser has none.
    pub async fn remember_device(&self, username: &str, device: Option<&str>) -> Result<Option<String>, AuthError> {
        let (token, new) = match device {
            Some(token) => (token.to_owned(), None),
            None => {
                let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
                (token.clone(), Some(token))
            }
        };
        repo::sign_in_failures::remember_device(&self.db, &device_hash(&token), username).await.map_err(database_failure)?;
        Ok(new)
    }

    #[tracing::instrument(skip(self, challenge_session, new_password), fields(username = %username))]
    pub async fn complete_new_password(
        &self,
        username: &Username,
        challenge_session: &str,
        new_password: &SecretString,
    ) -> Result<SignInResult, AuthError> {
        let outcome = self.identity.complete_new_password(username, challenge_session, new_password).await?;
        self.finish(outcome, None).await
    }

    /// The pool's password policy, cached: the page asking for it is open to anyone.
    pub async fn password_policy(&self) -> Result<PasswordPolicy, AuthError> {
        if let Some((read_at, policy)) = self.policy.read().await.as_ref()
            && read_at.elapsed() < POLICY_TTL
        {
            return Ok(policy.clone());
        }
        let policy = self.identity.password_policy().await?;
        *self.policy.write().await = Some((Instant::now(), policy.clone()));
        Ok(policy)
    }

    /// Records a sign-out in the audit log.
    pub async fn record_sign_out(&self, user: &CurrentUser) {
        if let Err(error) = audit::record(&self.db, &audit::Entry::by(user, "auth.sign_out")).await {
            tracing::warn!(%error, "Failed to record a sign-out");
        }
    }

    /// Ends the user's sessions at the identity provider. Failure is logged, not fatal:
    /// the local session is deleted either way.
    pub async fn sign_out(&self, access_token: &str, refresh_token: Option<&str>) {
        let access = SecretString::from(access_token.to_owned());
        let refresh = refresh_token.map(|t| SecretString::from(t.to_owned()));
        if let Err(error) = self.identity.sign_out(&access, refresh.as_ref()).await {
            tracing::warn!(error = %error, "Failed to sign the user out at the identity provider");
        }
    }

    /// Signs in the user an OpenID provider vouched for: the same person as a password
    /// sign-in with that username, roles and teams from the provider's groups.
    pub async fn sso_sign_in(&self, identity: &SsoIdentity, client_ip: &str) -> Result<CurrentUser, AuthError> {
        let mut user = CurrentUser::from_groups(identity.username.clone(), identity.groups.iter().map(String::as_str));
        user.client_ip = Some(client_ip.to_owned());
        self.mirror(&user, identity.email.as_deref(), "auth.sso.sign_in", MembershipSource::Provider).await?;
        Ok(user)
    }

    /// Records a single sign-on that did not end signed in, with the reason.
    pub async fn record_sso_failure(&self, username: Option<&str>, outcome: Outcome, reason: &str, client_ip: &str) {
        let entry =
            audit::Entry::anonymous(username.unwrap_or("unknown"), "auth.sso.sign_in", Some(client_ip)).outcome(outcome).detail(reason);
        if let Err(error) = audit::record(&self.db, &entry).await {
            tracing::warn!(%error, "Failed to record a failed single sign-on");
        }
    }

    async fn finish(&self, outcome: SignInOutcome, client_ip: Option<&str>) -> Result<SignInResult, AuthError> {
        match outcome {
            SignInOutcome::NewPasswordRequired { challenge_session } => Ok(SignInResult::NewPasswordRequired { challenge_session }),
            SignInOutcome::SignedIn(tokens) => {
                let (mut user, email) = self.verified_user(&tokens).await?;
                user.client_ip = client_ip.map(str::to_owned);
                self.mirror(&user, email.as_deref(), "auth.sign_in", MembershipSource::Cognito).await?;
                Ok(SignInResult::SignedIn { user, tokens })
            }
        }
    }

    /// The user named by the verified ID token, with roles and teams from its groups.
    /// The user named by the verified ID token, with their e-mail address if it has one.
    pub async fn verified_user(&self, tokens: &Tokens) -> Result<(CurrentUser, Option<String>), AuthError> {
        let claims = self.verifier.verify_id_token(tokens.id_token.expose_secret()).await.map_err(|e| match e {
            TokenError::KeysUnavailable(source) => AuthError::Unavailable("The identity provider", source),
            // Signed with a key the JWKS does not (yet) list: rotation in progress, retry shortly.
            TokenError::UnknownKey => AuthError::Unavailable("The identity provider", anyhow::anyhow!("unknown signing key")),
            other => AuthError::Unexpected(anyhow::Error::new(other).context("The identity provider's ID token was rejected")),
        })?;
        let username = Username::parse(&claims.username).map_err(|e| anyhow::anyhow!("The ID token names an unusable username: {e}"))?;
        Ok((CurrentUser::from_groups(username, claims.groups.iter().map(String::as_str)), claims.email))
    }

    /// Mirrors the user's roles and teams into Postgres and audits the sign-in, together. A
    /// user an admin disabled is refused here whichever way they signed in.
    async fn mirror(&self, user: &CurrentUser, email: Option<&str>, action: &str, source: MembershipSource) -> Result<(), AuthError> {
        let mut tx = self.db.begin().await.map_err(database_failure)?;
        if repo::users::is_disabled(&mut *tx, user.username.as_str()).await.map_err(database_failure)? {
            return Err(AuthError::Disabled);
        }
        repo::users::record_sign_in(&mut tx, user, source).await.map_err(database_failure)?;
        if let Some(email) = email {
            repo::users::set_email(&mut *tx, user.username.as_str(), email).await.map_err(database_failure)?;
        }
        audit::record(&mut *tx, &audit::Entry::by(user, action)).await.map_err(database_failure)?;
        tx.commit().await.map_err(database_failure)?;
        // This process applies the fresh mirror from the next request on; others hear of it.
        self.access_cache.forget(user.username.as_str());
        Ok(())
    }
}

fn database_failure(error: sqlx::Error) -> AuthError {
    if crate::services::is_outage(&error) {
        AuthError::Unavailable("The database", error.into())
    } else {
        AuthError::Unexpected(anyhow::Error::new(error).context("Failed to record the sign-in"))
    }
}
