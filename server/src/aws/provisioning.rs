//! Provisioning in a team's own AWS account: assume the team's role (STS), then Service
//! Catalog ProvisionProduct / DescribeRecord there.

use super::is_unreachable;
use super::team_role::{TeamRole, TeamSessions};
use aws_sdk_servicecatalog::types::{ProvisioningParameter, RecordStatus, Tag, UpdateProvisioningParameter};
use std::collections::BTreeMap;

/// An STS role session name for `user`: AWS allows 2–64 characters of `[\w+=,.@-]`.
pub fn role_session_name(user: &str) -> String {
    let cleaned: String = user.chars().map(|c| if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) { c } else { '-' }).collect();
    let mut name = format!("atrium-{cleaned}");
    name.truncate(64);
    name
}

pub struct ProvisionRequest<'a> {
    pub role: &'a TeamRole,
    /// Names the user in the team account's CloudTrail (and in SageMaker presigned URLs).
    pub session_name: &'a str,
    pub product_id: &'a str,
    pub version_id: &'a str,
    pub provisioned_product_name: &'a str,
    pub parameters: &'a BTreeMap<String, String>,
    pub tags: &'a BTreeMap<String, String>,
    /// The same token twice gives the same record: a retried launch never provisions twice.
    pub token: &'a str,
}

/// A provisioned product moved to another version or other parameter values.
pub struct UpdateRequest<'a> {
    pub provisioned_product_id: &'a str,
    pub product_id: &'a str,
    pub version_id: &'a str,
    pub parameters: &'a BTreeMap<String, String>,
    /// The same token twice is one update.
    pub token: &'a str,
}

pub struct Started {
    pub record_id: String,
    pub provisioned_product_id: String,
}

pub enum RecordState {
    InProgress,
    Succeeded { outputs: BTreeMap<String, String> },
    Failed { message: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// Throttling, a 5xx, AWS unreachable: try again later.
    #[error("AWS is busy or unreachable: {0:#}")]
    Retryable(anyhow::Error),
    /// AWS said no; the message is AWS's, for the user.
    #[error("{0}")]
    Rejected(String),
}

/// Who acts, in which team account.
pub struct Actor<'a> {
    pub role: &'a TeamRole,
    pub session_name: &'a str,
}

#[async_trait::async_trait]
pub trait Provisioner: Send + Sync {
    async fn provision(&self, request: &ProvisionRequest<'_>) -> Result<Started, ProvisionError>;
    async fn record(&self, actor: &Actor<'_>, record_id: &str) -> Result<RecordState, ProvisionError>;
    /// Runs the version's self-service action named `action` ("Stop", "Start"); the record id.
    async fn execute_action(
        &self,
        actor: &Actor<'_>,
        product_id: &str,
        version_id: &str,
        provisioned_product_id: &str,
        action: &str,
        token: &str,
    ) -> Result<String, ProvisionError>;
    /// UpdateProvisionedProduct to `version_id` with exactly `parameters`; the record id.
    async fn update(&self, actor: &Actor<'_>, update: &UpdateRequest<'_>) -> Result<String, ProvisionError>;
    /// TerminateProvisionedProduct; the record id.
    async fn terminate(&self, actor: &Actor<'_>, provisioned_product_id: &str, token: &str) -> Result<String, ProvisionError>;
}

pub struct ServiceCatalogProvisioner {
    sessions: TeamSessions,
}

impl ServiceCatalogProvisioner {
    pub fn new(sessions: impl Into<TeamSessions>) -> Self {
        ServiceCatalogProvisioner { sessions: sessions.into() }
    }

    /// A Service Catalog client acting in the team's account as `session_name`.
    async fn in_team_account(&self, role: &TeamRole, session_name: &str) -> Result<aws_sdk_servicecatalog::Client, ProvisionError> {
        Ok(crate::aws::call_metrics::client!(aws_sdk_servicecatalog, &self.sessions.config(role, session_name).await?))
    }
}

/// Throttling, 5xx and network trouble are worth retrying; anything else is AWS's answer.
pub(crate) fn classify<E, R>(error: aws_sdk_servicecatalog::error::SdkError<E, R>) -> ProvisionError
where
    E: std::error::Error + Send + Sync + 'static + aws_sdk_servicecatalog::error::ProvideErrorMetadata,
    R: std::fmt::Debug + Send + Sync + 'static + HasStatus,
{
    let code = error.as_service_error().and_then(|e| e.code()).unwrap_or_default().to_owned();
    let message = error.as_service_error().and_then(|e| e.message()).map(str::to_owned);
    // A refusal is an answer, even when its body names no error code or cannot be read.
    if code.is_empty() && error.raw_response().is_some_and(|r| r.status_code() == 403) {
        return ProvisionError::Rejected(
            message.unwrap_or_else(|| "AccessDenied: AWS refused the call (HTTP 403): the team's role lacks the permission for it.".into()),
        );
    }
    let server_error = error.raw_response().is_some_and(|r| r.status_code() >= 500);
    let throttled = code.contains("Throttl") || code.contains("TooManyRequests") || code.contains("LimitExceeded");
    if is_unreachable(&error) || server_error || throttled {
        return ProvisionError::Retryable(anyhow::Error::new(error));
    }
    ProvisionError::Rejected(message.unwrap_or_else(|| format!("{code}: {error}")))
}

fn record_id_of(record: Option<aws_sdk_servicecatalog::types::RecordDetail>, operation: &str) -> Result<String, ProvisionError> {
    record.and_then(|r| r.record_id).ok_or_else(|| ProvisionError::Retryable(anyhow::anyhow!("{operation} returned no record")))
}

/// The HTTP status of a raw response, whatever the SDK's response type.
pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[async_trait::async_trait]
impl Provisioner for ServiceCatalogProvisioner {
    #[tracing::instrument(skip(self, request), fields(product = request.product_id, name = request.provisioned_product_name))]
    async fn provision(&self, request: &ProvisionRequest<'_>) -> Result<Started, ProvisionError> {
        let client = self.in_team_account(request.role, request.session_name).await?;
        let mut call = client
            .provision_product()
            .product_id(request.product_id)
            .provisioning_artifact_id(request.version_id)
            .provisioned_product_name(request.provisioned_product_name)
            .provision_token(request.token);
        for (key, value) in request.parameters {
            call = call.provisioning_parameters(ProvisioningParameter::builder().key(key).value(value).build());
        }
        for (key, value) in request.tags {
            let tag = Tag::builder().key(key).value(value).build().map_err(|e| ProvisionError::Rejected(e.to_string()))?;
            call = call.tags(tag);
        }
        let detail = call
            .send()
            .await
            .map_err(classify)?
            .record_detail
            .ok_or_else(|| ProvisionError::Retryable(anyhow::anyhow!("ProvisionProduct returned no record")))?;
        match (detail.record_id, detail.provisioned_product_id) {
            (Some(record_id), Some(provisioned_product_id)) => Ok(Started { record_id, provisioned_product_id }),
            _ => Err(ProvisionError::Retryable(anyhow::anyhow!("ProvisionProduct returned a record without ids"))),
        }
    }

    #[tracing::instrument(skip(self, actor))]
    async fn execute_action(
        &self,
        actor: &Actor<'_>,
        product_id: &str,
        version_id: &str,
        provisioned_product_id: &str,
        action: &str,
        token: &str,
    ) -> Result<String, ProvisionError> {
        let client = self.in_team_account(actor.role, actor.session_name).await?;
        let actions = client
            .list_service_actions_for_provisioning_artifact()
            .product_id(product_id)
            .provisioning_artifact_id(version_id)
            .send()
            .await
            .map_err(classify)?;
        let action_id = actions
            .service_action_summaries()
            .iter()
            .find(|a| a.name() == Some(action))
            .and_then(|a| a.id())
            .ok_or_else(|| ProvisionError::Rejected(format!("This workspace type has no {action} action")))?
            .to_owned();
        let record = client
            .execute_provisioned_product_service_action()
            .provisioned_product_id(provisioned_product_id)
            .service_action_id(action_id)
            .execute_token(token)
            .send()
            .await
            .map_err(classify)?
            .record_detail;
        record_id_of(record, "ExecuteProvisionedProductServiceAction")
    }

    #[tracing::instrument(skip_all, fields(provisioned_product = update.provisioned_product_id, version = update.version_id))]
    async fn update(&self, actor: &Actor<'_>, update: &UpdateRequest<'_>) -> Result<String, ProvisionError> {
        let client = self.in_team_account(actor.role, actor.session_name).await?;
        let mut call = client
            .update_provisioned_product()
            .provisioned_product_id(update.provisioned_product_id)
            .product_id(update.product_id)
            .provisioning_artifact_id(update.version_id)
            .update_token(update.token);
        for (key, value) in update.parameters {
            call = call.provisioning_parameters(UpdateProvisioningParameter::builder().key(key).value(value).build());
        }
        record_id_of(call.send().await.map_err(classify)?.record_detail, "UpdateProvisionedProduct")
    }

    #[tracing::instrument(skip(self, actor))]
    async fn terminate(&self, actor: &Actor<'_>, provisioned_product_id: &str, token: &str) -> Result<String, ProvisionError> {
        let client = self.in_team_account(actor.role, actor.session_name).await?;
        let record = client
            .terminate_provisioned_product()
            .provisioned_product_id(provisioned_product_id)
            .terminate_token(token)
            .send()
            .await
            .map_err(classify)?
            .record_detail;
        record_id_of(record, "TerminateProvisionedProduct")
    }

    #[tracing::instrument(skip(self, actor))]
    async fn record(&self, actor: &Actor<'_>, record_id: &str) -> Result<RecordState, ProvisionError> {
        let client = self.in_team_account(actor.role, actor.session_name).await?;
        let record = client.describe_record().id(record_id).send().await.map_err(classify)?;
        let status = record.record_detail().and_then(|d| d.status().cloned());
        Ok(match status {
            Some(RecordStatus::Succeeded) => RecordState::Succeeded {
                outputs: record
                    .record_outputs()
                    .iter()
                    .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
                    .collect(),
            },
            Some(RecordStatus::Failed) | Some(RecordStatus::InProgressInError) => RecordState::Failed {
                message: record
                    .record_detail()
                    .and_then(|d| d.record_errors().first())
                    .and_then(|e| e.description())
                    .unwrap_or("Service Catalog reported a failure without a message")
                    .to_owned(),
            },
            _ => RecordState::InProgress,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::role_session_name;

    #[test]
    fn session_names_are_what_sts_accepts() {
        assert_eq!(role_session_name("ada"), "atrium-ada");
        assert_eq!(role_session_name("ada lovelace/ü"), "atrium-ada-lovelace--");
        assert_eq!(role_session_name(&"x".repeat(200)).len(), 64);
    }
}
