//! Personal access tokens: created on `/settings/tokens`, shown once, kept as a SHA-256, and
//! turned back into the user they act for on every `/api/v1` request.

use super::database_error;
use crate::changes::AccessCache;
use crate::repo::{api_tokens, audit, users};
use app::domain::tokens::{CreatedToken, Scope, TokenForm, TokenList};
use app::domain::{CurrentUser, Username};
use app::error::AppError;
use app::features::account::TokenService;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// Every token starts so, which makes one easy to recognise in a leaked file or a log.
const PREFIX: &str = "atr_";

/// How many requests a token may make: `burst` at once, then `per_second`.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    pub burst: f64,
    pub per_second: f64,
}

pub struct ApiTokens {
    db: PgPool,
    access: AccessCache,
    limit: RateLimit,
}

/// The user a token acts for, with what the token allows.
#[derive(Clone, Debug)]
pub struct TokenCaller {
    pub user: CurrentUser,
    pub token_id: i64,
    pub scopes: Vec<Scope>,
}

/// Why a bearer token was not accepted.
#[derive(Debug)]
pub enum TokenRefusal {
    /// Unknown, revoked or expired, or its user is disabled: 401.
    Invalid,
    /// Over its rate limit: 429, try again after this many seconds.
    Limited {
        retry_after_seconds: u64,
    },
    Failed(AppError),
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl ApiTokens {
    pub fn new(db: PgPool, access: AccessCache, limit: RateLimit) -> Self {
        ApiTokens { db, access, limit }
    }

    /// The user `secret` acts for, as of now (roles and teams from Postgres, as for a session),
    /// charging one request to the token's rate limit.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, secret: &str) -> Result<TokenCaller, TokenRefusal> {
        if !secret.starts_with(PREFIX) || secret.len() > 200 {
            return Err(TokenRefusal::Invalid);
        }
        let charged = api_tokens::charge(&self.db, &hash(secret), self.limit.burst, self.limit.per_second)
            .await
            .map_err(|e| TokenRefusal::Failed(database_error(e)))?
            .ok_or(TokenRefusal::Invalid)?;
        let access = self
            .access
            .get_or_load(&charged.username, users::access(&self.db, &charged.username))
            .await
            .map_err(|e| TokenRefusal::Failed(database_error(e)))?;
        let (Some(access), Ok(username)) = (access, Username::parse(&charged.username)) else {
            return Err(TokenRefusal::Invalid);
        };
        if access.disabled {
            return Err(TokenRefusal::Invalid);
        }
        if charged.available < 1.0 {
            let seconds = ((1.0 - charged.available) / self.limit.per_second).ceil();
            return Err(TokenRefusal::Limited { retry_after_seconds: (seconds as u64).max(1) });
        }
        let mut user = CurrentUser { username, roles: Vec::new(), teams: Vec::new(), team_admin_of: Vec::new(), client_ip: None };
        access.apply_to(&mut user);
        Ok(TokenCaller { user, token_id: charged.id, scopes: charged.scopes })
    }
}

/// A token for `username` made outside a session (`server issue-token`), with the same checks
/// and audit row as one made on `/settings/tokens`.
#[tracing::instrument(skip_all)]
pub async fn issue(db: &PgPool, username: &str, name: &str, scopes: &str, days: u32) -> anyhow::Result<String> {
    let access =
        users::access(db, username).await?.ok_or_else(|| anyhow::anyhow!("Atrium has no user {username} (they sign in once first)"))?;
    anyhow::ensure!(!access.disabled, "{username} is disabled");
    let mut user = CurrentUser {
        username: Username::parse(username)?,
        roles: Vec::new(),
        teams: Vec::new(),
        team_admin_of: Vec::new(),
        client_ip: None,
    };
    access.apply_to(&mut user);
    let tokens = ApiTokens::new(db.clone(), crate::changes::Changes::new().access.clone(), RateLimit { burst: 60.0, per_second: 5.0 });
    let form = TokenForm { name: name.to_owned(), days: days.to_string(), scopes: scopes.split(',').map(str::to_owned).collect() };
    let created = tokens.create(&user, form).await.map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(created.secret)
}

/// A new secret: `atr_` and 244 random bits (two version-4 UUIDs), in hex.
fn new_secret() -> String {
    format!("{PREFIX}{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

#[async_trait::async_trait]
impl TokenService for ApiTokens {
    #[tracing::instrument(skip_all)]
    async fn tokens(&self, user: &CurrentUser) -> Result<TokenList, AppError> {
        let mine = api_tokens::of_user(&self.db, user.username.as_str()).await.map_err(database_error)?;
        let everyone = if user.is_admin() { api_tokens::active(&self.db).await.map_err(database_error)? } else { Vec::new() };
        Ok(TokenList { mine, everyone })
    }

    #[tracing::instrument(skip(self, user, form), fields(username = %user.username))]
    async fn create(&self, user: &CurrentUser, form: TokenForm) -> Result<CreatedToken, AppError> {
        let valid = form.validate(user.is_admin()).map_err(AppError::Invalid)?;
        let secret = new_secret();
        let token_hash = hash(&secret);
        let new = api_tokens::NewToken {
            username: user.username.as_str(),
            name: &valid.name,
            token_hash: &token_hash,
            scopes: &valid.scopes,
            days: valid.days,
            burst: self.limit.burst,
        };
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let token = api_tokens::insert(&mut *tx, &new).await.map_err(database_error)?;
        let scopes: Vec<&str> = valid.scopes.iter().map(|s| s.as_str()).collect();
        let detail = format!("\"{}\", scopes {}, expires {}", token.name, scopes.join(" "), token.expires_at);
        let id = token.id.to_string();
        audit::record(&mut *tx, &audit::Entry::by(user, "token.create").object("token", &id).detail(&detail))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(CreatedToken { token, secret })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn revoke(&self, user: &CurrentUser, id: i64) -> Result<(), AppError> {
        let only_own = (!user.is_admin()).then(|| user.username.as_str());
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let owner = api_tokens::revoke(&mut *tx, id, only_own, user.username.as_str())
            .await
            .map_err(database_error)?
            .ok_or_else(|| AppError::NotFound("This token".into()))?;
        let detail = format!("a token of {owner}");
        let id = id.to_string();
        audit::record(&mut *tx, &audit::Entry::by(user, "token.revoke").object("token", &id).detail(&detail))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(())
    }
}
