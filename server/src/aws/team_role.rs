//! The role the portal assumes in a team's AWS account, and the sessions it holds there.
//!
//! Every AssumeRole carries the team's external id, which the role's trust policy requires
//! (`deploy/team-account.yaml`): a portal that acts in many accounts must not be usable as a
//! confused deputy. A session is reused per (team role, caller) until shortly before its
//! credentials expire, so an action costs no AssumeRole of its own.

use super::provisioning::{ProvisionError, classify};
use std::sync::Arc;
use std::time::Duration;

/// How long a role session's credentials last (the default maximum of an IAM role).
pub const SESSION_SECONDS: i32 = 3600;
/// A session is put down this long before its credentials expire, so that no call starts
/// with credentials about to lapse.
const SESSION_MARGIN: Duration = Duration::from_secs(300);

/// A team's role and the external id its trust policy requires.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TeamRole {
    pub arn: String,
    pub external_id: String,
}

impl TeamRole {
    pub fn new(arn: impl Into<String>, external_id: impl Into<String>) -> Self {
        TeamRole { arn: arn.into(), external_id: external_id.into() }
    }
}

/// The external id is not a secret, but it is no business of the logs either.
impl std::fmt::Debug for TeamRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamRole").field("arn", &self.arn).finish_non_exhaustive()
    }
}

/// Role sessions in team accounts, shared by every adapter that acts there (clones share
/// the sessions).
#[derive(Clone)]
pub struct TeamSessions {
    base: aws_config::SdkConfig,
    sessions: moka::future::Cache<(TeamRole, String), aws_config::SdkConfig>,
}

impl From<aws_config::SdkConfig> for TeamSessions {
    fn from(base: aws_config::SdkConfig) -> Self {
        TeamSessions::new(base)
    }
}

impl From<&aws_config::SdkConfig> for TeamSessions {
    fn from(base: &aws_config::SdkConfig) -> Self {
        TeamSessions::new(base.clone())
    }
}

impl TeamSessions {
    pub fn new(base: aws_config::SdkConfig) -> Self {
        let reuse = Duration::from_secs(SESSION_SECONDS.unsigned_abs().into()).saturating_sub(SESSION_MARGIN);
        TeamSessions { base, sessions: moka::future::Cache::builder().max_capacity(10_000).time_to_live(reuse).build() }
    }

    /// The portal's own configuration, outside any team account.
    pub fn base(&self) -> &aws_config::SdkConfig {
        &self.base
    }

    /// A configuration acting in the team's account as `session_name` (which names the caller
    /// in the account's CloudTrail): the live session, or a new one. Callers that miss at once
    /// share one AssumeRole.
    pub async fn config(&self, role: &TeamRole, session_name: &str) -> Result<aws_config::SdkConfig, ProvisionError> {
        self.sessions.try_get_with((role.clone(), session_name.to_owned()), assume(&self.base, role, session_name)).await.map_err(
            |error: Arc<ProvisionError>| match error.as_ref() {
                ProvisionError::Retryable(cause) => ProvisionError::Retryable(anyhow::anyhow!("{cause:#}")),
                ProvisionError::Rejected(message) => ProvisionError::Rejected(message.clone()),
            },
        )
    }

    /// A new session, not reused and not kept: for checking that the role can be assumed now.
    pub async fn fresh(&self, role: &TeamRole, session_name: &str) -> Result<aws_config::SdkConfig, ProvisionError> {
        assume(&self.base, role, session_name).await
    }
}

#[tracing::instrument(skip(base, role), fields(role = %role.arn))]
async fn assume(base: &aws_config::SdkConfig, role: &TeamRole, session_name: &str) -> Result<aws_config::SdkConfig, ProvisionError> {
    let assumed = crate::aws::call_metrics::client!(aws_sdk_sts, base)
        .assume_role()
        .role_arn(&role.arn)
        .external_id(&role.external_id)
        .role_session_name(session_name)
        .duration_seconds(SESSION_SECONDS)
        .send()
        .await
        .map_err(classify)?;
    let credentials =
        assumed.credentials.ok_or_else(|| ProvisionError::Retryable(anyhow::anyhow!("AssumeRole returned no credentials")))?;
    let expiry = std::time::SystemTime::try_from(credentials.expiration).ok();
    let provider = aws_credential_types::Credentials::new(
        credentials.access_key_id,
        credentials.secret_access_key,
        Some(credentials.session_token),
        expiry,
        "atrium-team-role",
    );
    Ok(base.to_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider)).build())
}
