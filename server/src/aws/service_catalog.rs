//! Service Catalog as the admin sees it: products, their versions (provisioning artifacts),
//! each version's parameters and whether it offers Stop/Start self-service actions.

use super::is_unreachable;
use app::domain::parameters::{ParameterConstraints, ParameterKind, ParameterSpec};
use app::domain::workspace_types::{CatalogProduct, CatalogVersion};
use aws_sdk_servicecatalog::Client;
use aws_sdk_servicecatalog::types::ProvisioningArtifactParameter;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("Service Catalog is unreachable")]
    Unavailable(#[source] anyhow::Error),
    #[error("{0} was not found in Service Catalog")]
    NotFound(String),
    /// IAM refused the portal the permission named.
    #[error("the portal's role is missing the permission {0}")]
    Refused(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What a version looks like when it is imported as a workspace type.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionDetails {
    pub product: CatalogProduct,
    pub version: CatalogVersion,
    pub parameters: Vec<ParameterSpec>,
    pub has_stop_start: bool,
}

#[async_trait::async_trait]
pub trait ServiceCatalog: Send + Sync {
    /// Every product the portal's account administers, with its versions.
    async fn products(&self) -> Result<Vec<CatalogProduct>, CatalogError>;
    async fn version_details(&self, product_id: &str, version_id: &str) -> Result<VersionDetails, CatalogError>;
}

pub struct SdkServiceCatalog {
    client: Client,
}

impl SdkServiceCatalog {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        SdkServiceCatalog { client: crate::aws::call_metrics::client!(aws_sdk_servicecatalog, sdk) }
    }
}

fn classify<E>(
    what: &'static str,
) -> impl Fn(aws_sdk_servicecatalog::error::SdkError<E, aws_smithy_runtime_api::http::Response>) -> CatalogError
where
    E: std::error::Error + Send + Sync + 'static + aws_sdk_servicecatalog::error::ProvideErrorMetadata,
{
    move |error| {
        if crate::aws::is_refused(&error) {
            return CatalogError::Refused(format!("servicecatalog:{what}"));
        }
        if is_unreachable(&error) {
            return CatalogError::Unavailable(anyhow::Error::new(error).context(format!("Failed to call {what}")));
        }
        if error.as_service_error().and_then(|e| e.code()) == Some("ResourceNotFoundException") {
            return CatalogError::NotFound(what.to_owned());
        }
        CatalogError::Unexpected(anyhow::Error::new(error).context(format!("{what} failed")))
    }
}

fn parameter_spec(p: &ProvisioningArtifactParameter) -> Option<ParameterSpec> {
    let number = |s: Option<&str>| s.and_then(|s| s.trim().parse::<f64>().ok());
    let length = |s: Option<&str>| s.and_then(|s| s.trim().parse::<u32>().ok());
    let c = p.parameter_constraints();
    Some(ParameterSpec {
        key: p.parameter_key()?.to_owned(),
        kind: if p.parameter_type() == Some("Number") { ParameterKind::Number } else { ParameterKind::String },
        default: p.default_value().map(str::to_owned),
        description: p.description().map(str::to_owned),
        constraints: ParameterConstraints {
            allowed_values: c.map(|c| c.allowed_values().to_vec()).unwrap_or_default(),
            allowed_pattern: c.and_then(|c| c.allowed_pattern()).map(str::to_owned),
            constraint_description: c.and_then(|c| c.constraint_description()).map(str::to_owned),
            min_length: length(c.and_then(|c| c.min_length())),
            max_length: length(c.and_then(|c| c.max_length())),
            min_value: number(c.and_then(|c| c.min_value())),
            max_value: number(c.and_then(|c| c.max_value())),
        },
    })
}

#[async_trait::async_trait]
impl ServiceCatalog for SdkServiceCatalog {
    #[tracing::instrument(skip(self))]
    async fn products(&self) -> Result<Vec<CatalogProduct>, CatalogError> {
        let mut pages = self.client.search_products_as_admin().page_size(100).into_paginator().send();
        let mut products = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(classify("SearchProductsAsAdmin"))?;
            for view in page.product_view_details() {
                let Some(summary) = view.product_view_summary() else { continue };
                let Some(id) = summary.product_id() else { continue };
                let artifacts =
                    self.client.list_provisioning_artifacts().product_id(id).send().await.map_err(classify("ListProvisioningArtifacts"))?;
                products.push(CatalogProduct {
                    id: id.to_owned(),
                    name: summary.name().unwrap_or(id).to_owned(),
                    owner: summary.owner().unwrap_or_default().to_owned(),
                    description: summary.short_description().unwrap_or_default().to_owned(),
                    versions: artifacts
                        .provisioning_artifact_details()
                        .iter()
                        .filter_map(|a| {
                            Some(CatalogVersion {
                                id: a.id()?.to_owned(),
                                name: a.name().unwrap_or_default().to_owned(),
                                description: a.description().unwrap_or_default().to_owned(),
                            })
                        })
                        .collect(),
                });
            }
        }
        products.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(products)
    }

    #[tracing::instrument(skip(self))]
    async fn version_details(&self, product_id: &str, version_id: &str) -> Result<VersionDetails, CatalogError> {
        let product = self.client.describe_product_as_admin().id(product_id).send().await.map_err(classify("DescribeProductAsAdmin"))?;
        let summary = product.product_view_detail().and_then(|d| d.product_view_summary());
        let version = product
            .provisioning_artifact_summaries()
            .iter()
            .find(|a| a.id() == Some(version_id))
            .ok_or_else(|| CatalogError::NotFound(format!("Version {version_id}")))?;
        let parameters = self
            .client
            .describe_provisioning_parameters()
            .product_id(product_id)
            .provisioning_artifact_id(version_id)
            .send()
            .await
            .map_err(classify("DescribeProvisioningParameters"))?;
        let actions = self
            .client
            .list_service_actions_for_provisioning_artifact()
            .product_id(product_id)
            .provisioning_artifact_id(version_id)
            .send()
            .await
            .map_err(classify("ListServiceActionsForProvisioningArtifact"))?;
        let action_names: Vec<&str> = actions.service_action_summaries().iter().filter_map(|a| a.name()).collect();
        Ok(VersionDetails {
            product: CatalogProduct {
                id: product_id.to_owned(),
                name: summary.and_then(|s| s.name()).unwrap_or(product_id).to_owned(),
                owner: summary.and_then(|s| s.owner()).unwrap_or_default().to_owned(),
                description: summary.and_then(|s| s.short_description()).unwrap_or_default().to_owned(),
                versions: Vec::new(),
            },
            version: CatalogVersion {
                id: version_id.to_owned(),
                name: version.name().unwrap_or_default().to_owned(),
                description: version.description().unwrap_or_default().to_owned(),
            },
            parameters: parameters.provisioning_artifact_parameters().iter().filter_map(parameter_spec).collect(),
            has_stop_start: action_names.contains(&"Stop") && action_names.contains(&"Start"),
        })
    }
}
