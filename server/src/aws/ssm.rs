//! Reading team metadata and profiles from SSM Parameter Store in each team's account (the tree
//! the team account's stack writes, read through the team's role), and the portal's own secrets
//! in its account.

use super::is_unreachable;
use super::provisioning::ProvisionError;
use super::team_role::{TeamRole, TeamSessions};
use aws_sdk_ssm::Client;

#[derive(Debug, thiserror::Error)]
pub enum ParameterStoreError {
    #[error("Parameter Store is unreachable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[async_trait::async_trait]
pub trait ParameterStore: Send + Sync {
    /// The parameters directly under `path` (not below) in the team's account, as (name relative
    /// to `path`, value).
    async fn parameters_under(&self, team: &TeamRole, path: &str) -> Result<Vec<(String, String)>, ParameterStoreError>;

    /// As `parameters_under`, and how old the answer is when it is a value kept because
    /// Parameter Store could not be reached to refresh it (only a cache serves such values).
    async fn parameters_with_age(
        &self,
        team: &TeamRole,
        path: &str,
    ) -> Result<(Vec<(String, String)>, Option<std::time::Duration>), ParameterStoreError> {
        Ok((self.parameters_under(team, path).await?, None))
    }
}

/// The role session the portal reads a team's parameters with (one per team, not per user;
/// every user's session name starts `atrium-`, so none is this one).
const TEAM_READER: &str = "atrium=team-parameters";

pub struct SsmParameterStore {
    /// The portal's own account (its secrets).
    client: Client,
    sessions: TeamSessions,
}

impl SsmParameterStore {
    pub fn new(sessions: impl Into<TeamSessions>) -> Self {
        let sessions = sessions.into();
        SsmParameterStore { client: crate::aws::call_metrics::client!(aws_sdk_ssm, sessions.base()), sessions }
    }
}

#[async_trait::async_trait]
impl ParameterStore for SsmParameterStore {
    #[tracing::instrument(skip(self))]
    async fn parameters_under(&self, team: &TeamRole, path: &str) -> Result<Vec<(String, String)>, ParameterStoreError> {
        let config = self.sessions.config(team, TEAM_READER).await.map_err(|error| match error {
            ProvisionError::Retryable(error) => ParameterStoreError::Unavailable(error.context("Failed to assume the team's role")),
            // A team whose account is not connected yet (or no longer trusts the portal): its
            // pages say the settings could not be read, as when SSM is down.
            ProvisionError::Rejected(refusal) => {
                ParameterStoreError::Unavailable(anyhow::anyhow!("The team's role could not be assumed: {refusal}"))
            }
        })?;
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let mut pages = crate::aws::call_metrics::client!(aws_sdk_ssm, &config)
            .get_parameters_by_path()
            .path(path.trim_end_matches('/'))
            .recursive(false)
            .with_decryption(true)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| ssm_error("GetParametersByPath failed", error))?;
            for parameter in page.parameters.unwrap_or_default() {
                if let (Some(name), Some(value)) = (parameter.name, parameter.value) {
                    let relative = name.strip_prefix(&prefix).unwrap_or(&name).to_owned();
                    found.push((relative, value));
                }
            }
        }
        Ok(found)
    }
}

/// Secrets kept as SSM SecureString parameters (webhook URLs).
#[async_trait::async_trait]
pub trait SecretStore: Send + Sync {
    async fn put_secret(&self, name: &str, value: &str) -> Result<(), ParameterStoreError>;
    /// The decrypted value; None when there is no such parameter.
    async fn secret(&self, name: &str) -> Result<Option<String>, ParameterStoreError>;
    /// Deletes the parameter; one already gone is fine.
    async fn delete_secret(&self, name: &str) -> Result<(), ParameterStoreError>;
}

fn ssm_error<E, R>(operation: &'static str, error: aws_sdk_ssm::error::SdkError<E, R>) -> ParameterStoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if is_unreachable(&error) {
        ParameterStoreError::Unavailable(anyhow::Error::new(error).context(operation))
    } else {
        ParameterStoreError::Unexpected(anyhow::Error::new(error).context(operation))
    }
}

#[async_trait::async_trait]
impl SecretStore for SsmParameterStore {
    #[tracing::instrument(skip(self, value))]
    async fn put_secret(&self, name: &str, value: &str) -> Result<(), ParameterStoreError> {
        self.client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| ssm_error("PutParameter failed", e))?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn secret(&self, name: &str) -> Result<Option<String>, ParameterStoreError> {
        match self.client.get_parameter().name(name).with_decryption(true).send().await {
            Ok(found) => Ok(found.parameter.and_then(|p| p.value)),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => Ok(None),
            Err(error) => Err(ssm_error("GetParameter failed", error)),
        }
    }

    #[tracing::instrument(skip(self))]
    async fn delete_secret(&self, name: &str) -> Result<(), ParameterStoreError> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => Ok(()),
            Err(error) => Err(ssm_error("DeleteParameter failed", error)),
        }
    }
}
