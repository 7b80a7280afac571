//! The demo catalog: Service Catalog products, the configurations and profiles made of them, and workspaces launched from them.

use super::*;

pub const PORTFOLIO_NAME: &str = "Atrium research workspaces";

/// The launch role each team account's stack makes (`deploy/team-account.yaml`).
const LAUNCH_ROLE: &str = "AtriumLaunchRole";

pub struct DemoProduct {
    pub name: &'static str,
    pub description: &'static str,
    /// (version name, template file served under the templates URL, description)
    pub versions: &'static [(&'static str, &'static str, &'static str)],
    /// The SSM Automation documents of its Stop and Start self-service actions, if it has them.
    pub stop_start: Option<(&'static str, &'static str)>,
}

pub const PRODUCTS: [DemoProduct; 4] = [
    DemoProduct {
        name: "Linux workstation (EC2)",
        description: "A Linux desktop in the browser, for analysis that outgrows a laptop.",
        versions: &[
            ("v1", "linux-workstation-v1.json", "Choose the instance size."),
            ("v2", "linux-workstation-v2.json", "Adds the size of the data volume."),
        ],
        stop_start: Some(("AWS-StopEC2Instance", "AWS-StartEC2Instance")),
    },
    DemoProduct {
        name: "SageMaker notebook",
        description: "JupyterLab on a SageMaker notebook instance, opened with a presigned URL.",
        versions: &[("v1", "sagemaker-notebook.json", "Notebook size and storage.")],
        // Documents of the institution's own, calling sagemaker:Stop/StartNotebookInstance.
        stop_start: Some(("Atrium-StopNotebookInstance", "Atrium-StartNotebookInstance")),
    },
    DemoProduct {
        name: "EMR cluster",
        description: "A Spark cluster for big-data jobs. Terminate it when done.",
        versions: &[("v1", "emr-cluster.json", "Core nodes and EMR release.")],
        stop_start: None,
    },
    DemoProduct {
        name: "SageMaker Studio",
        description: "The team's SageMaker Studio domain, with a user profile of your own, opened with a presigned URL.",
        versions: &[("v1", "sagemaker-studio.json", "The default JupyterLab instance type.")],
        stop_start: None,
    },
];

/// The demo portfolio and products in Service Catalog, each version's template loaded from
/// `templates_url/<file>`. Products that exist already (by name) are left as they are.
pub async fn seed_catalog(sdk: &aws_config::SdkConfig, templates_url: &str) -> anyhow::Result<()> {
    use aws_sdk_servicecatalog::types::{
        ProductType, ProvisioningArtifactProperties, ServiceActionDefinitionKey, ServiceActionDefinitionType,
    };
    let catalog = aws_sdk_servicecatalog::Client::new(sdk);
    let portfolios = catalog.list_portfolios().send().await.context("Failed to list portfolios")?;
    let portfolio_id = match portfolios.portfolio_details().iter().find(|p| p.display_name() == Some(PORTFOLIO_NAME)).and_then(|p| p.id()) {
        Some(id) => id.to_owned(),
        None => catalog
            .create_portfolio()
            .display_name(PORTFOLIO_NAME)
            .provider_name("Research IT")
            .idempotency_token(PORTFOLIO_NAME)
            .send()
            .await
            .context("Failed to create the portfolio")?
            .portfolio_detail
            .and_then(|p| p.id)
            .context("CreatePortfolio returned no id")?,
    };
    let existing = catalog.search_products_as_admin().send().await.context("Failed to search products")?;
    let existing: Vec<String> =
        existing.product_view_details().iter().filter_map(|d| d.product_view_summary().and_then(|s| s.name()).map(str::to_owned)).collect();
    let artifact = |name: &str, file: &str, description: &str| {
        ProvisioningArtifactProperties::builder()
            .name(name)
            .description(description)
            .info("LoadTemplateFromURL", format!("{templates_url}/{file}"))
            .r#type(aws_sdk_servicecatalog::types::ProvisioningArtifactType::CloudFormationTemplate)
            .build()
    };
    for product in PRODUCTS.iter().filter(|p| !existing.iter().any(|name| name == p.name)) {
        let Some(((first_name, first_file, first_description), later)) = product.versions.split_first() else { continue };
        let created = catalog
            .create_product()
            .name(product.name)
            .owner("Research IT")
            .description(product.description)
            .product_type(ProductType::CloudFormationTemplate)
            .provisioning_artifact_parameters(artifact(first_name, first_file, first_description))
            .idempotency_token(product.name)
            .send()
            .await
            .with_context(|| format!("Failed to create the product {}", product.name))?;
        let product_id = created
            .product_view_detail
            .and_then(|d| d.product_view_summary)
            .and_then(|s| s.product_id)
            .context("CreateProduct returned no product id")?;
        let mut versions = vec![created.provisioning_artifact_detail.and_then(|a| a.id).context("CreateProduct returned no version id")?];
        for (name, file, description) in later {
            let version = catalog
                .create_provisioning_artifact()
                .product_id(&product_id)
                .parameters(artifact(name, file, description))
                .idempotency_token(format!("{}-{name}", product.name))
                .send()
                .await
                .with_context(|| format!("Failed to add {name} to {}", product.name))?;
            versions.push(version.provisioning_artifact_detail.and_then(|a| a.id).context("no version id")?);
        }
        catalog
            .associate_product_with_portfolio()
            .product_id(&product_id)
            .portfolio_id(&portfolio_id)
            .send()
            .await
            .context("Failed to add the product to the portfolio")?;
        // Service Catalog changes the product's stacks with the team account's launch role
        // (deploy/team-account.yaml), not with the portal's role there.
        catalog
            .create_constraint()
            .portfolio_id(&portfolio_id)
            .product_id(&product_id)
            .r#type("LAUNCH")
            .parameters(serde_json::json!({ "LocalRoleName": LAUNCH_ROLE }).to_string())
            .idempotency_token(format!("{}-launch", product.name))
            .send()
            .await
            .context("Failed to give the product its launch constraint")?;
        let Some((stop_document, start_document)) = product.stop_start else { continue };
        let mut actions = Vec::new();
        for (name, document) in [("Stop", stop_document), ("Start", start_document)] {
            let action = catalog
                .create_service_action()
                .name(name)
                .description(format!("{name} the workspace"))
                .definition_type(ServiceActionDefinitionType::SsmAutomation)
                .definition(ServiceActionDefinitionKey::Name, document)
                .definition(ServiceActionDefinitionKey::Version, "1")
                // Run with the launch role: the portal's role may not start automations.
                .definition(ServiceActionDefinitionKey::AssumeRole, "LAUNCH_ROLE")
                .idempotency_token(document)
                .send()
                .await
                .with_context(|| format!("Failed to create the {name} action"))?;
            actions.push(action.service_action_detail.and_then(|d| d.service_action_summary).and_then(|s| s.id).context("no action id")?);
        }
        for version in &versions {
            for action in &actions {
                catalog
                    .associate_service_action_with_provisioning_artifact()
                    .product_id(&product_id)
                    .provisioning_artifact_id(version)
                    .service_action_id(action)
                    .send()
                    .await
                    .context("Failed to attach an action to a version")?;
            }
        }
    }
    Ok(())
}

/// (configuration, product, version, roles, teams, hourly cost)
pub type DemoConfiguration = (&'static str, &'static str, &'static str, &'static [&'static str], &'static [&'static str], &'static str);

/// The configurations the demo starts with. Linux
/// workstation v2 is left for an admin to import and approve.
pub const CONFIGURATIONS: [DemoConfiguration; 5] = [
    (
        "Small workstation",
        "Linux workstation (EC2)",
        "v1",
        &["researcher", "guest", "internal-guest"],
        &["genomics", "climate", "physics"],
        "0.05",
    ),
    ("Standard workstation", "Linux workstation (EC2)", "v1", &["researcher"], &["genomics", "climate", "physics"], "0.17"),
    ("Notebook", "SageMaker notebook", "v1", &["researcher"], &["genomics", "climate"], "0.12"),
    ("Spark cluster", "EMR cluster", "v1", &["researcher"], &["climate", "physics"], "1.10"),
    ("Studio", "SageMaker Studio", "v1", &["researcher"], &["genomics", "physics"], "0.05"),
];

/// Imports, approves and configures the demo workspace types, through the same service an
/// admin uses. Whatever exists already is left alone.
pub async fn seed_configurations(sdk: &aws_config::SdkConfig, db: &PgPool) -> anyhow::Result<()> {
    use crate::aws::service_catalog::{SdkServiceCatalog, ServiceCatalog};
    use crate::services::catalog::CatalogAdmin;
    use app::domain::configurations::ConfigurationForm;
    use app::domain::workspace_types::TypeStatus;
    use app::features::catalog::CatalogAdminService;
    use std::sync::Arc;

    let catalog = Arc::new(SdkServiceCatalog::new(sdk));
    let products = catalog.products().await.map_err(|e| anyhow::anyhow!("Failed to list the demo products: {e}"))?;
    let admin = app::domain::CurrentUser::from_groups(app::domain::Username::parse("grace")?, ["role-admin"]);
    let service = CatalogAdmin::new(db.clone(), catalog);
    let existing: Vec<String> = crate::repo::configurations::list(db).await?.into_iter().map(|c| c.draft.name).collect();
    for (name, product, version, roles, teams, cost) in CONFIGURATIONS {
        if existing.iter().any(|e| e == name) {
            continue;
        }
        let product = products.iter().find(|p| p.name == product).with_context(|| format!("{product} is not in the catalog"))?;
        let version =
            product.versions.iter().find(|v| v.name == version).with_context(|| format!("{version} of {} is missing", product.name))?;
        let imported = service.import(&admin, &product.id, &version.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if imported.status != TypeStatus::Approved {
            service.set_status(&admin, imported.id, TypeStatus::Approved).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let form = ConfigurationForm {
            name: name.into(),
            description: format!("{} {}, set up for the demo.", product.name, version.name),
            allowed_roles: roles.iter().map(|r| (r.to_string(), "on".to_string())).collect(),
            allowed_teams: teams.iter().map(|t| (t.to_string(), "on".to_string())).collect(),
            estimated_hourly_cost: cost.into(),
            ..ConfigurationForm::default()
        };
        // Workstations have a size, and may change it in place ("Change size" on their page).
        let size = match name {
            "Small workstation" => Some("t3.medium"),
            "Standard workstation" => Some("t3.large"),
            _ => None,
        };
        let form = match size {
            Some(size) => ConfigurationForm {
                parameters: [("InstanceType".to_owned(), size.to_owned())].into(),
                size_parameter: "InstanceType".into(),
                sizes: "t3.medium = 0.05\nt3.large = 0.17\nm5.xlarge = 0.23".into(),
                ..form
            },
            None => form,
        };
        service.create_configuration(&admin, imported.id, form).await.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    Ok(())
}

/// Each demo team's profiles: (name, JSON document naming a configuration of CONFIGURATIONS).
pub(super) fn profiles_of(team: &str) -> Vec<(&'static str, serde_json::Value)> {
    let profile = |display: &str, description: &str, size: &str, configuration: &str, parameters: serde_json::Value| json!({ "display_name": display, "description": description, "size": size, "configuration": configuration, "parameters": parameters });
    let notebook = profile(
        "Jupyter notebook",
        "JupyterLab for exploring data, opened in one click.",
        "Small",
        "Notebook",
        json!({ "InstanceType": "ml.t3.medium", "VolumeSizeInGB": "20" }),
    );
    let workstation = profile(
        "Analysis workstation",
        "A Linux desktop for the team's analysis tools.",
        "Medium",
        "Standard workstation",
        json!({ "InstanceType": "t3.large" }),
    );
    let quick = profile(
        "Quick look",
        "The smallest workstation, for a quick look at the data.",
        "Small",
        "Small workstation",
        json!({ "InstanceType": "t3.medium" }),
    );
    let spark = profile(
        "Spark cluster",
        "A Spark cluster for large jobs. Terminate it when done.",
        "Large",
        "Spark cluster",
        json!({ "CoreNodes": "3" }),
    );
    match team {
        "genomics" => vec![("notebook", notebook), ("quick-look", quick)],
        "climate" => vec![("notebook", notebook), ("spark", spark), ("workstation", workstation)],
        _ => vec![("workstation", workstation), ("spark", spark), ("quick-look", quick)],
    }
}

/// Demo workspaces: (owner, owner's groups, team, configuration, name). Launched through the
/// same service a researcher uses; the worker then provisions them.
pub const WORKSPACES: [(&str, &[&str], &str, &str, &str); 4] = [
    ("ada", &["role-researcher", "team-genomics", "team-climate"], "genomics", "Standard workstation", "variant-calling"),
    ("ada", &["role-researcher", "team-genomics", "team-climate"], "climate", "Notebook", "ocean-notebook"),
    ("alan", &["role-researcher", "team-physics"], "physics", "Standard workstation", "event-display"),
    ("gus", &["role-guest", "team-genomics"], "genomics", "Small workstation", "gus-explore"),
];

/// A demo workspace, for the cost data that names it.
pub struct DemoWorkspace {
    pub team: String,
    pub id: String,
    pub owner: String,
    pub hourly_cents: u32,
}

/// Launches the demo workspaces (again: the same ones, by their launch keys).
pub async fn seed_workspaces(sdk: &aws_config::SdkConfig, db: &PgPool) -> anyhow::Result<Vec<DemoWorkspace>> {
    use crate::services::{teams::Teams, workspaces::Workspaces};
    use app::features::workspaces::WorkspaceService;
    use std::sync::Arc;

    // No cache: nothing here listens for changes.
    let teams = Arc::new(Teams::new(
        db.clone(),
        Arc::new(crate::aws::ssm::SsmParameterStore::new(sdk)),
        crate::changes::Changes::new().teams.clone(),
    ));
    // Never used to connect here: the defaults.
    let settings = crate::aws::sagemaker::PresignedUrlSettings {
        url_seconds: crate::config::DEFAULT_PRESIGNED_URL_SECONDS,
        studio_session_seconds: crate::config::DEFAULT_STUDIO_SESSION_SECONDS,
    };
    let presigner = Arc::new(crate::aws::sagemaker::SageMakerPresigner::new(sdk.clone(), settings));
    let sessions = Arc::new(crate::aws::sessions::SsmSessionStarter::new(sdk.clone()));
    let homes = Arc::new(crate::services::homes::Homes::new(
        db.clone(),
        Arc::new(crate::aws::efs::EfsHomes::new(sdk.clone())),
        Arc::new(crate::aws::ssm::SsmParameterStore::new(sdk)),
    ));
    let service = Workspaces::new(db.clone(), teams, 100, presigner, sessions, homes);
    let configurations = crate::repo::configurations::list(db).await?;
    let mut launched = Vec::new();
    for (owner, groups, team, configuration, name) in WORKSPACES {
        let user = app::domain::CurrentUser::from_groups(app::domain::Username::parse(owner)?, groups.iter().copied());
        let mut tx = db.begin().await?;
        crate::repo::users::record_sign_in(&mut tx, &user, crate::repo::users::MembershipSource::Cognito).await?;
        tx.commit().await?;
        let configuration =
            configurations.iter().find(|c| c.draft.name == configuration).with_context(|| format!("{configuration} is not configured"))?;
        let key = format!("demo-{team}-{name}");
        let request = app::domain::workspace::LaunchRequest {
            team: team.to_owned(),
            configuration_id: Some(configuration.id),
            name: name.to_owned(),
            ..Default::default()
        };
        let id =
            service.launch(&user, request, &key).await.map_err(|e| anyhow::anyhow!("Failed to launch the demo workspace {name}: {e}"))?;
        launched.push(DemoWorkspace {
            team: team.into(),
            id,
            owner: owner.into(),
            hourly_cents: configuration.draft.estimated_hourly_cost_cents,
        });
    }
    Ok(launched)
}
