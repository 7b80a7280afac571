//! SageMaker presigned URLs, and Studio user profiles. A URL carries a signed token naming the
//! user, the domain or notebook and the account it was minted in; it expires (5 minutes unless
//! asked otherwise). The emulator's landing page says whom it is for, or that it is expired or
//! invalid. Each account has one Studio domain, `d-<account id>`; a domain URL needs a user
//! profile created there first (`CreateUserProfile`, which refuses a second one of a name).

use crate::moto::Moto;
use crate::wire::{AwsError, Caller, required};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Serialize, Deserialize)]
pub struct PresignedClaims {
    pub user: String,
    /// "domain d-… " or "notebook …"
    pub resource: String,
    pub account: String,
    pub exp: u64,
}

/// What the emulator answers; moto answers the rest (notebook instances).
pub const OPERATIONS: [&str; 4] =
    ["CreateUserProfile", "DescribeUserProfile", "CreatePresignedDomainUrl", "CreatePresignedNotebookInstanceUrl"];

#[derive(Clone)]
pub struct SageMaker {
    moto: Moto,
    secret: Vec<u8>,
    public_url: String,
    /// (account, domain, user profile) created so far.
    profiles: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<(String, String, String)>>>,
}

impl SageMaker {
    pub fn new(moto: Moto, public_url: String) -> SageMaker {
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let secret = format!("{seed}-{}", std::process::id()).into_bytes();
        SageMaker { moto, secret, public_url, profiles: Default::default() }
    }

    /// The account's one domain; anything else is not found.
    fn check_domain(account: &str, domain: &str) -> Result<(), AwsError> {
        if domain == format!("d-{account}") {
            Ok(())
        } else {
            Err(AwsError::not_found(format!("Domain {domain} does not exist in account {account}")))
        }
    }

    async fn create_user_profile(&self, body: &Value, caller: Caller) -> Result<Value, AwsError> {
        let domain = required(body, "DomainId")?.to_owned();
        let profile = required(body, "UserProfileName")?.to_owned();
        let valid = !profile.is_empty() && profile.len() <= 63 && profile.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(AwsError {
                status: axum::http::StatusCode::BAD_REQUEST,
                code: "ValidationException",
                message: format!("UserProfileName {profile} is not valid"),
            });
        }
        let identity = self.moto.caller_identity(&caller).await?;
        Self::check_domain(&identity.account, &domain)?;
        let key = (identity.account.clone(), domain.clone(), profile.clone());
        let created = self.profiles.lock().map_err(|_| AwsError::internal(anyhow::anyhow!("poisoned")))?.insert(key);
        if !created {
            return Err(AwsError {
                status: axum::http::StatusCode::BAD_REQUEST,
                code: "ResourceInUse",
                message: format!("User profile {profile} already exists"),
            });
        }
        Ok(json!({ "UserProfileArn": format!("arn:aws:sagemaker:{}:{}:user-profile/{domain}/{profile}", caller.region, identity.account) }))
    }

    pub async fn handle(&self, operation: &str, body: Value, caller: Caller) -> Result<Value, AwsError> {
        if operation == "CreateUserProfile" {
            return self.create_user_profile(&body, caller).await;
        }
        if operation == "DescribeUserProfile" {
            let (domain, profile) = (required(&body, "DomainId")?, required(&body, "UserProfileName")?);
            let identity = self.moto.caller_identity(&caller).await?;
            let key = (identity.account, domain.to_owned(), profile.to_owned());
            let exists = self.profiles.lock().map_err(|_| AwsError::internal(anyhow::anyhow!("poisoned")))?.contains(&key);
            return if exists {
                Ok(json!({ "DomainId": domain, "UserProfileName": profile, "Status": "InService" }))
            } else {
                Err(AwsError::not_found(format!("User profile {profile} does not exist")))
            };
        }
        let (user, resource, expires_in) = match operation {
            "CreatePresignedDomainUrl" => (
                required(&body, "UserProfileName")?.to_owned(),
                format!("domain {}", required(&body, "DomainId")?),
                body.get("ExpiresInSeconds").and_then(Value::as_u64).unwrap_or(300),
            ),
            "CreatePresignedNotebookInstanceUrl" => (String::new(), format!("notebook {}", required(&body, "NotebookInstanceName")?), 300),
            other => return Err(AwsError::unknown_operation(other)),
        };
        if !(5..=300).contains(&expires_in) {
            return Err(AwsError {
                status: axum::http::StatusCode::BAD_REQUEST,
                code: "ValidationException",
                message: "ExpiresInSeconds must be between 5 and 300".into(),
            });
        }
        if let Some(session) = body.get("SessionExpirationDurationInSeconds").and_then(Value::as_u64)
            && !(1800..=43200).contains(&session)
        {
            return Err(AwsError {
                status: axum::http::StatusCode::BAD_REQUEST,
                code: "ValidationException",
                message: "SessionExpirationDurationInSeconds must be between 1800 and 43200".into(),
            });
        }
        let identity = self.moto.caller_identity(&caller).await?;
        if operation == "CreatePresignedDomainUrl" {
            let domain = required(&body, "DomainId")?;
            Self::check_domain(&identity.account, domain)?;
            let key = (identity.account.clone(), domain.to_owned(), user.clone());
            if !self.profiles.lock().map_err(|_| AwsError::internal(anyhow::anyhow!("poisoned")))?.contains(&key) {
                return Err(AwsError::not_found(format!("User profile {user} does not exist in domain {domain}")));
            }
        }
        // Notebook URLs name no user: the role session the caller assumed does.
        let user = if user.is_empty() { identity.session_name.unwrap_or_else(|| identity.arn.clone()) } else { user };
        let claims = PresignedClaims { user, resource, account: identity.account, exp: now() + expires_in };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&self.secret))
            .map_err(|e| AwsError::internal(e.into()))?;
        Ok(json!({ "AuthorizedUrl": format!("{}/sagemaker/presigned?token={token}", self.public_url) }))
    }

    /// The claims of a presigned URL's token, or why it is refused.
    pub fn open(&self, token: &str) -> Result<PresignedClaims, String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        decode::<PresignedClaims>(token, &DecodingKey::from_secret(&self.secret), &validation).map(|data| data.claims).map_err(|e| match e
            .kind()
        {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => "expired".to_owned(),
            _ => "invalid".to_owned(),
        })
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
