//! SageMaker presigned URLs, minted in the team's account for one click. They are returned
//! to the browser as a redirect and never stored or logged.

use super::provisioning::{classify, team_account, ProvisionError};

#[async_trait::async_trait]
pub trait Presigner: Send + Sync {
    async fn notebook_url(&self, role_arn: &str, session_name: &str, notebook: &str) -> Result<String, ProvisionError>;
    async fn studio_url(&self, role_arn: &str, session_name: &str, domain_id: &str, user_profile: &str) -> Result<String, ProvisionError>;
}

pub struct SageMakerPresigner {
    base: aws_config::SdkConfig,
}

impl SageMakerPresigner {
    pub fn new(base: aws_config::SdkConfig) -> Self {
        SageMakerPresigner { base }
    }

    async fn client(&self, role_arn: &str, session_name: &str) -> Result<aws_sdk_sagemaker::Client, ProvisionError> {
        Ok(crate::aws::call_metrics::client!(aws_sdk_sagemaker, &team_account(&self.base, role_arn, session_name).await?))
    }
}

/// How long a presigned URL may be opened (notebook URLs are valid five minutes at AWS too).
pub const PRESIGNED_URL_SECONDS: u32 = 300;

#[async_trait::async_trait]
impl Presigner for SageMakerPresigner {
    #[tracing::instrument(skip_all)]
    async fn notebook_url(&self, role_arn: &str, session_name: &str, notebook: &str) -> Result<String, ProvisionError> {
        self.client(role_arn, session_name)
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
    async fn studio_url(&self, role_arn: &str, session_name: &str, domain_id: &str, user_profile: &str) -> Result<String, ProvisionError> {
        self.client(role_arn, session_name)
            .await?
            .create_presigned_domain_url()
            .domain_id(domain_id)
            .user_profile_name(user_profile)
            .expires_in_seconds(PRESIGNED_URL_SECONDS as i32)
            .send()
            .await
            .map_err(classify)?
            .authorized_url
            .ok_or_else(|| ProvisionError::Retryable(anyhow::anyhow!("SageMaker returned no URL")))
    }
}
