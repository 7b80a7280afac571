//! Reading team metadata and profiles from SSM Parameter Store.

use super::is_unreachable;
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
    /// The parameters directly under `path` (not below), as (name relative to `path`, value).
    async fn parameters_under(&self, path: &str) -> Result<Vec<(String, String)>, ParameterStoreError>;
}

pub struct SsmParameterStore {
    client: Client,
}

impl SsmParameterStore {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        SsmParameterStore { client: Client::new(sdk) }
    }
}

#[async_trait::async_trait]
impl ParameterStore for SsmParameterStore {
    #[tracing::instrument(skip(self))]
    async fn parameters_under(&self, path: &str) -> Result<Vec<(String, String)>, ParameterStoreError> {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(path.trim_end_matches('/'))
            .recursive(false)
            .with_decryption(true)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| {
                if is_unreachable(&error) {
                    ParameterStoreError::Unavailable(anyhow::Error::new(error).context("Failed to call GetParametersByPath"))
                } else {
                    ParameterStoreError::Unexpected(anyhow::Error::new(error).context("GetParametersByPath failed"))
                }
            })?;
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
