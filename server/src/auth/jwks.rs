//! Verifies Cognito ID tokens against the pool's published signing keys (JWKS).
//!
//! Keys are cached; an unknown `kid` (key rotation) triggers one refetch, at most once per
//! `MIN_REFRESH_INTERVAL`, so a flood of forged tokens cannot turn into a flood of fetches.

use super::probe::Probe;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, RwLock};

const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// How long a health check's answer about the provider is reused.
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(5);
/// Clock skew tolerated on `exp`.
const LEEWAY_SECONDS: u64 = 30;

#[derive(Debug, Deserialize)]
pub struct IdTokenClaims {
    #[serde(rename = "cognito:username")]
    pub username: String,
    #[serde(rename = "cognito:groups", default)]
    pub groups: Vec<String>,
    /// The user's `email` attribute, when the pool puts it in the token.
    #[serde(default)]
    pub email: Option<String>,
    pub token_use: String,
    pub exp: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or its signature, issuer or audience is wrong: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token is a {0} token, not an ID token")]
    WrongUse(String),
    #[error("the signing keys could not be fetched")]
    KeysUnavailable(#[source] anyhow::Error),
}

/// Seconds since the epoch; injectable so tests can move time forward.
pub type Clock = fn() -> u64;

fn system_clock() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub struct TokenVerifier {
    jwks_url: String,
    issuer: String,
    client_id: String,
    http: reqwest::Client,
    clock: Clock,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_fetch: Mutex<Option<Instant>>,
    /// The health check: whether keys can be fetched.
    health: Probe,
}

impl TokenVerifier {
    pub fn new(jwks_url: String, issuer: String, client_id: String) -> Self {
        Self::with_clock(jwks_url, issuer, client_id, system_clock)
    }

    pub fn with_clock(jwks_url: String, issuer: String, client_id: String, clock: Clock) -> Self {
        let http =
            reqwest::Client::builder().connect_timeout(Duration::from_secs(3)).timeout(Duration::from_secs(10)).build().unwrap_or_default();
        TokenVerifier {
            jwks_url,
            issuer,
            client_id,
            http,
            clock,
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
            health: Probe::every(HEALTH_CHECK_INTERVAL),
        }
    }

    /// Checks signature, `iss`, `aud` (our client id), `exp` and `token_use`.
    pub async fn verify_id_token(&self, token: &str) -> Result<IdTokenClaims, TokenError> {
        let header = decode_header(token)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.key(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        // Expiry is checked below against our clock.
        validation.validate_exp = false;
        let claims = decode::<IdTokenClaims>(token, &key, &validation)?.claims;

        if claims.exp + LEEWAY_SECONDS < (self.clock)() {
            return Err(TokenError::Expired);
        }
        if claims.token_use != "id" {
            return Err(TokenError::WrongUse(claims.token_use));
        }
        Ok(claims)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have refreshed the keys while this one waited for the lock.
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        if last_fetch.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL) {
            return Err(TokenError::UnknownKey);
        }
        let fetched = self.fetch_keys().await.map_err(TokenError::KeysUnavailable)?;
        *last_fetch = Some(Instant::now());
        let key = fetched.get(kid).cloned();
        *self.keys.write().await = fetched;
        key.ok_or(TokenError::UnknownKey)
    }

    /// The health check: whether the key set can be fetched, asked of the provider at most
    /// once per `HEALTH_CHECK_INTERVAL` however often it is asked here. Fresh keys are kept.
    pub async fn keys_available(&self) -> bool {
        self.health
            .answer(async {
                match self.fetch_keys().await {
                    Ok(keys) if !keys.is_empty() => {
                        *self.keys.write().await = keys;
                        true
                    }
                    _ => false,
                }
            })
            .await
    }

    /// Fetches the key set.
    pub async fn fetch_keys(&self) -> anyhow::Result<HashMap<String, DecodingKey>> {
        use anyhow::Context;
        let set: JwkSet = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .context("Failed to fetch the JWKS")?
            .json()
            .await
            .context("Failed to parse the JWKS")?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            if let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) {
                keys.insert(kid, key);
            }
        }
        Ok(keys)
    }
}
