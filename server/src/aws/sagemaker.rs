//! SageMaker presigned URLs, minted in the team's account for one click. They are returned
//! to the browser as a redirect (or to an API caller) and never stored or logged. A Studio URL
//! is for the caller's own user profile in the team's domain, created on first use.

use super::provisioning::{ProvisionError, classify};
use super::team_role::{TeamRole, TeamSessions};

#[async_trait::async_trait]
pub trait Presigner: Send + Sync {
    async fn notebook_url(&self, role: &TeamRole, session_name: &str, notebook: &str) -> Result<String, ProvisionError>;
    /// Creates the user profile if it is not there yet, then mints a URL for it.
    async fn studio_url(&self, role: &TeamRole, session_name: &str, domain_id: &str, user_profile: &str) -> Result<String, ProvisionError>;
    /// How long a URL may be opened.
    fn url_seconds(&self) -> u32;
}

/// How long presigned URLs and the Studio sessions they open last.
#[derive(Clone, Copy, Debug)]
pub struct PresignedUrlSettings {
    /// The URL itself: 5 to 300 seconds (AWS's range), short as it is a credential.
    pub url_seconds: u32,
    /// A Studio session opened with it: 1,800 to 43,200 seconds.
    pub studio_session_seconds: u32,
}

pub struct SageMakerPresigner {
    sessions: TeamSessions,
    settings: PresignedUrlSettings,
}

impl SageMakerPresigner {
    pub fn new(sessions: impl Into<TeamSessions>, settings: PresignedUrlSettings) -> Self {
        SageMakerPresigner { sessions: sessions.into(), settings }
    }

    async fn client(&self, role: &TeamRole, session_name: &str) -> Result<aws_sdk_sagemaker::Client, ProvisionError> {
        Ok(crate::aws::call_metrics::client!(aws_sdk_sagemaker, &self.sessions.config(role, session_name).await?))
    }
}

#[async_trait::async_trait]
impl Presigner for SageMakerPresigner {
    #[tracing::instrument(skip_all)]
    async fn notebook_url(&self, role: &TeamRole, session_name: &str, notebook: &str) -> Result<String, ProvisionError> {
        self.client(role, session_name)
            .await?
            .create_presigned_notebook_instance_url()
            .notebook_instance_name(notebook)
            .session_expiration_duration_in_seconds(1800)
            .send()
            .await
            .map_err(classify)?
            .authorized_url
            .ok_or_else(|| ProvisionError::Retryable(anyhow::anyhow!("SageMaker returned no URL")))
    }

    #[tracing::instrument(skip_all)]
    async fn studio_url(&self, role: &TeamRole, session_name: &str, domain_id: &str, user_profile: &str) -> Result<String, ProvisionError> {
        let client = self.client(role, session_name).await?;
        match client.create_user_profile().domain_id(domain_id).user_profile_name(user_profile).send().await {
            Ok(_) => {
                tracing::info!(user_profile, "Created a Studio user profile");
                // A new profile is Pending for a moment; a URL for it needs it InService.
                let mut ready = false;
                for _ in 0..15 {
                    let profile = client
                        .describe_user_profile()
                        .domain_id(domain_id)
                        .user_profile_name(user_profile)
                        .send()
                        .await
                        .map_err(classify)?;
                    if profile.status() == Some(&aws_sdk_sagemaker::types::UserProfileStatus::InService) {
                        ready = true;
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                if !ready {
                    return Err(ProvisionError::Retryable(anyhow::anyhow!(
                        "The Studio user profile {user_profile} is still being created"
                    )));
                }
            }
            // Created on an earlier connect: creating is idempotent this way.
            Err(error)
                if error.as_service_error().and_then(|e| aws_sdk_sagemaker::error::ProvideErrorMetadata::code(e))
                    == Some("ResourceInUse") => {}
            Err(error) => return Err(classify(error)),
        }
        client
            .create_presigned_domain_url()
            .domain_id(domain_id)
            .user_profile_name(user_profile)
            .expires_in_seconds(self.settings.url_seconds as i32)
            .session_expiration_duration_in_seconds(self.settings.studio_session_seconds as i32)
            .send()
            .await
            .map_err(classify)?
            .authorized_url
            .ok_or_else(|| ProvisionError::Retryable(anyhow::anyhow!("SageMaker returned no URL")))
    }

    fn url_seconds(&self) -> u32 {
        self.settings.url_seconds
    }
}
