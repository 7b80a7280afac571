//! Sign-in through a Cognito user pool (USER_PASSWORD_AUTH, NEW_PASSWORD_REQUIRED, sign-out).

use super::is_unreachable;
use app::domain::{PasswordPolicy, Username};
use aws_sdk_cognitoidentityprovider::{
    Client,
    operation::{initiate_auth::InitiateAuthError, respond_to_auth_challenge::RespondToAuthChallengeError},
    types::{AuthFlowType, AuthenticationResultType, ChallengeNameType},
};
use secrecy::{ExposeSecret, SecretString};

/// Tokens from a successful sign-in. They never leave the server.
#[derive(Clone)]
pub struct Tokens {
    pub id_token: SecretString,
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
}

pub enum SignInOutcome {
    SignedIn(Tokens),
    /// The user signed in with a temporary password and must choose a new one.
    NewPasswordRequired {
        challenge_session: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Unknown user, wrong password and disabled user alike: the caller must not tell them apart.
    #[error("the credentials were not accepted")]
    InvalidCredentials,
    #[error("the new password does not meet the pool's policy: {0}")]
    InvalidPassword(String),
    #[error("the sign-in challenge has expired")]
    ChallengeExpired,
    #[error("the identity provider is unreachable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[async_trait::async_trait]
pub trait IdentityProvider: Send + Sync {
    async fn sign_in(&self, username: &Username, password: &SecretString) -> Result<SignInOutcome, IdentityError>;
    async fn complete_new_password(
        &self,
        username: &Username,
        challenge_session: &str,
        new_password: &SecretString,
    ) -> Result<SignInOutcome, IdentityError>;
    /// Ends every session of the user at the identity provider (their refresh tokens stop
    /// working). The access token may have expired by then: the refresh token gets a new one.
    async fn sign_out(&self, access_token: &SecretString, refresh_token: Option<&SecretString>) -> Result<(), IdentityError>;
    async fn password_policy(&self) -> Result<PasswordPolicy, IdentityError>;
}

pub struct CognitoIdentityProvider {
    client: Client,
    user_pool_id: String,
    client_id: String,
}

impl CognitoIdentityProvider {
    pub fn new(sdk: &aws_config::SdkConfig, user_pool_id: String, client_id: String) -> Self {
        CognitoIdentityProvider { client: crate::aws::call_metrics::client!(aws_sdk_cognitoidentityprovider, sdk), user_pool_id, client_id }
    }
}

fn outcome(
    result: Option<AuthenticationResultType>,
    challenge: Option<ChallengeNameType>,
    session: Option<String>,
) -> Result<SignInOutcome, IdentityError> {
    if let Some(result) = result {
        let (Some(id), Some(access)) = (result.id_token, result.access_token) else {
            return Err(anyhow::anyhow!("Cognito returned an authentication result without tokens").into());
        };
        return Ok(SignInOutcome::SignedIn(Tokens {
            id_token: id.into(),
            access_token: access.into(),
            refresh_token: result.refresh_token.map(Into::into),
        }));
    }
    match (challenge, session) {
        (Some(ChallengeNameType::NewPasswordRequired), Some(challenge_session)) => {
            Ok(SignInOutcome::NewPasswordRequired { challenge_session })
        }
        (other, _) => Err(anyhow::anyhow!("Cognito asked for a challenge Atrium does not support: {other:?}").into()),
    }
}

#[async_trait::async_trait]
impl IdentityProvider for CognitoIdentityProvider {
    #[tracing::instrument(skip(self, password), fields(username = %username))]
    async fn sign_in(&self, username: &Username, password: &SecretString) -> Result<SignInOutcome, IdentityError> {
        let response = self
            .client
            .initiate_auth()
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .client_id(&self.client_id)
            .auth_parameters("USERNAME", username.as_str())
            .auth_parameters("PASSWORD", password.expose_secret())
            .send()
            .await
            .map_err(|error| {
                if is_unreachable(&error) {
                    return IdentityError::Unavailable(anyhow::Error::new(error).context("Failed to call InitiateAuth"));
                }
                match error.into_service_error() {
                    InitiateAuthError::NotAuthorizedException(_)
                    | InitiateAuthError::UserNotFoundException(_)
                    | InitiateAuthError::UserNotConfirmedException(_)
                    | InitiateAuthError::PasswordResetRequiredException(_)
                    | InitiateAuthError::InvalidParameterException(_) => IdentityError::InvalidCredentials,
                    InitiateAuthError::TooManyRequestsException(e) => IdentityError::Unavailable(anyhow::Error::new(e)),
                    InitiateAuthError::InternalErrorException(e) => IdentityError::Unavailable(anyhow::Error::new(e)),
                    other => IdentityError::Unexpected(anyhow::Error::new(other).context("InitiateAuth failed")),
                }
            })?;
        outcome(response.authentication_result, response.challenge_name, response.session)
    }

    #[tracing::instrument(skip(self, challenge_session, new_password), fields(username = %username))]
    async fn complete_new_password(
        &self,
        username: &Username,
        challenge_session: &str,
        new_password: &SecretString,
    ) -> Result<SignInOutcome, IdentityError> {
        let response = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(challenge_session)
            .challenge_responses("USERNAME", username.as_str())
            .challenge_responses("NEW_PASSWORD", new_password.expose_secret())
            .send()
            .await
            .map_err(|error| {
                if is_unreachable(&error) {
                    return IdentityError::Unavailable(anyhow::Error::new(error).context("Failed to call RespondToAuthChallenge"));
                }
                match error.into_service_error() {
                    RespondToAuthChallengeError::InvalidPasswordException(e) => {
                        IdentityError::InvalidPassword(e.message().unwrap_or("rejected by the pool").to_owned())
                    }
                    RespondToAuthChallengeError::InvalidParameterException(e) => {
                        IdentityError::InvalidPassword(e.message().unwrap_or("rejected by the pool").to_owned())
                    }
                    RespondToAuthChallengeError::TooManyRequestsException(e) => IdentityError::Unavailable(anyhow::Error::new(e)),
                    RespondToAuthChallengeError::InternalErrorException(e) => IdentityError::Unavailable(anyhow::Error::new(e)),
                    RespondToAuthChallengeError::ExpiredCodeException(_)
                    | RespondToAuthChallengeError::ResourceNotFoundException(_)
                    | RespondToAuthChallengeError::CodeMismatchException(_) => IdentityError::ChallengeExpired,
                    RespondToAuthChallengeError::NotAuthorizedException(_) | RespondToAuthChallengeError::UserNotFoundException(_) => {
                        IdentityError::InvalidCredentials
                    }
                    other => IdentityError::Unexpected(anyhow::Error::new(other).context("RespondToAuthChallenge failed")),
                }
            })?;
        outcome(response.authentication_result, response.challenge_name, response.session)
    }

    #[tracing::instrument(skip_all)]
    async fn sign_out(&self, access_token: &SecretString, refresh_token: Option<&SecretString>) -> Result<(), IdentityError> {
        let global_sign_out = |token: String| async move {
            self.client.global_sign_out().access_token(token).send().await.map_err(|error| {
                let expired = error.as_service_error().is_some_and(|e| e.is_not_authorized_exception());
                let failure = if is_unreachable(&error) {
                    IdentityError::Unavailable(anyhow::Error::new(error).context("Failed to call GlobalSignOut"))
                } else {
                    IdentityError::Unexpected(anyhow::Error::new(error).context("GlobalSignOut failed"))
                };
                (expired, failure)
            })
        };
        match (global_sign_out(access_token.expose_secret().to_owned()).await, refresh_token) {
            (Ok(_), _) => Ok(()),
            (Err((true, _)), Some(refresh)) => {
                let refreshed = self
                    .client
                    .initiate_auth()
                    .auth_flow(AuthFlowType::RefreshTokenAuth)
                    .client_id(&self.client_id)
                    .auth_parameters("REFRESH_TOKEN", refresh.expose_secret())
                    .send()
                    .await
                    .map_err(|e| {
                        IdentityError::Unexpected(anyhow::Error::new(e).context("Failed to refresh the access token to sign out"))
                    })?;
                let token = refreshed
                    .authentication_result
                    .and_then(|r| r.access_token)
                    .ok_or_else(|| IdentityError::Unexpected(anyhow::anyhow!("The refresh returned no access token")))?;
                global_sign_out(token).await.map(|_| ()).map_err(|(_, failure)| failure)
            }
            (Err((_, failure)), _) => Err(failure),
        }
    }

    #[tracing::instrument(skip(self))]
    async fn password_policy(&self) -> Result<PasswordPolicy, IdentityError> {
        let response = self.client.describe_user_pool().user_pool_id(&self.user_pool_id).send().await.map_err(|error| {
            if is_unreachable(&error) {
                IdentityError::Unavailable(anyhow::Error::new(error).context("Failed to call DescribeUserPool"))
            } else {
                IdentityError::Unexpected(anyhow::Error::new(error).context("DescribeUserPool failed"))
            }
        })?;
        let policy = response.user_pool.and_then(|pool| pool.policies).and_then(|policies| policies.password_policy);
        // Cognito's documented defaults apply when the pool states no policy.
        Ok(match policy {
            Some(p) => PasswordPolicy {
                minimum_length: p.minimum_length.map_or(8, |n| n.max(0) as u32),
                require_uppercase: p.require_uppercase,
                require_lowercase: p.require_lowercase,
                require_numbers: p.require_numbers,
                require_symbols: p.require_symbols,
            },
            None => PasswordPolicy {
                minimum_length: 8,
                require_uppercase: true,
                require_lowercase: true,
                require_numbers: true,
                require_symbols: true,
            },
        })
    }
}
