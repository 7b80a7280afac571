//! The demo data, created through the real AWS APIs (moto locally) and in Postgres:
//! a user pool with its app client, role and team groups, users, and team metadata in SSM.
//! Safe to run again: whatever exists is found and brought up to date.

use crate::repo::teams::{self, Team};
use anyhow::Context;
use app::domain::TeamSlug;
use aws_sdk_cognitoidentityprovider::{
    Client as Cognito,
    types::{AttributeType, ExplicitAuthFlowsType, MessageActionType, PasswordPolicyType, UserPoolPolicyType},
};
use aws_sdk_ssm::{Client as Ssm, types::ParameterType};
use serde_json::json;
use sqlx::PgPool;

pub const DEMO_PASSWORD: &str = "AtriumDemo-2026";
pub const TEMPORARY_PASSWORD: &str = "TempPass-2026";
pub const POOL_NAME: &str = "atrium-demo";
pub const CLIENT_NAME: &str = "atrium-portal";

pub struct DemoTeam {
    pub slug: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub account_id: &'static str,
}

pub const TEAMS: [DemoTeam; 3] = [
    DemoTeam {
        slug: "genomics",
        name: "Genomics Lab",
        description: "Sequencing pipelines, variant calling and population genetics.",
        account_id: "111111111111",
    },
    DemoTeam {
        slug: "climate",
        name: "Climate Modelling",
        description: "Regional climate simulations and reanalysis data.",
        account_id: "222222222222",
    },
    DemoTeam {
        slug: "physics",
        name: "Particle Physics",
        description: "Detector simulation and event reconstruction.",
        account_id: "333333333333",
    },
];

/// (username, groups, temporary password?)
pub const USERS: [(&str, &[&str], bool); 7] = [
    ("ada", &["role-researcher", "team-genomics", "team-climate"], false),
    ("alan", &["role-researcher", "team-physics"], false),
    ("grace", &["role-admin"], false),
    ("gus", &["role-guest", "team-genomics"], false),
    ("carol", &["role-cost-viewer"], false),
    ("newbie", &["role-researcher", "team-climate"], true),
    // Genomics Lab's team admin: manages its members, nothing else.
    ("rosalind", &["role-researcher", "team-genomics", "teamadmin-genomics"], false),
];

pub const ROLE_GROUPS: [&str; 5] = ["role-admin", "role-researcher", "role-guest", "role-internal-guest", "role-cost-viewer"];

/// The demo users as the local OpenID provider's directory: the same names, the demo
/// password (no temporary one: choosing a password is the provider's business) and groups.
pub fn sso_directory() -> serde_json::Value {
    let users: Vec<serde_json::Value> = USERS
        .iter()
        .map(|(username, groups, _)| {
            serde_json::json!({
                "username": username,
                "password": DEMO_PASSWORD,
                "email": format!("{username}@demo-university.example"),
                "groups": groups,
            })
        })
        .collect();
    serde_json::Value::Array(users)
}

pub struct DemoIdentity {
    pub user_pool_id: String,
    pub client_id: String,
}

pub async fn seed(sdk: &aws_config::SdkConfig, db: &PgPool) -> anyhow::Result<DemoIdentity> {
    seed_into_pool(sdk, db, POOL_NAME).await
}

/// Seeds into the user pool named `pool_name` (tests give each run a pool of its own).
pub async fn seed_into_pool(sdk: &aws_config::SdkConfig, db: &PgPool, pool_name: &str) -> anyhow::Result<DemoIdentity> {
    let identity = seed_cognito(&Cognito::new(sdk), pool_name).await?;
    seed_ssm(&Ssm::new(sdk)).await?;
    for team in &TEAMS {
        teams::upsert(db, &team_row(team)?).await.context("Failed to write a demo team")?;
    }
    seed_studies(sdk, db).await?;
    Ok(identity)
}

/// The portal's bucket for organisation studies (`ATRIUM_STUDIES_BUCKET`'s default).
pub const PORTAL_STUDIES_BUCKET: &str = crate::config::DEFAULT_STUDIES_BUCKET;
/// A public dataset, registered as open data.
pub const OPEN_DATA_BUCKET: &str = "atrium-open-data";

/// A demo study: (scope, team, name, description, bucket, prefix, controlled, files).
type DemoStudy = (
    app::domain::studies::StudyScope,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [(&'static str, &'static str)],
);

const README: &str = "# About this data\n\nDemo files seeded by Atrium.\n";
const SAMPLES_CSV: &str = "sample,population,depth\nNA12878,CEU,31\nNA19240,YRI,28\n";
const FASTA: &str = ">chr21_fragment\nGATTACAGATTACACCGGTTAACCGGTTAAGATTACA\n";

/// One study of each kind, with a few small files (the team buckets are the teams'
/// `s3-scratch-prefix` buckets, in their own accounts).
pub async fn seed_studies(sdk: &aws_config::SdkConfig, db: &PgPool) -> anyhow::Result<()> {
    use app::domain::studies::StudyScope;
    const STUDIES: [DemoStudy; 5] = [
        (
            StudyScope::Team,
            Some("genomics"),
            "Reference genomes",
            "GRCh38 fragments and sample sheets for the lab.",
            "atrium-scratch-111111111111",
            "studies/genomics/reference-genomes/",
            false,
            &[("README.md", README), ("samples.csv", SAMPLES_CSV), ("chr21.fasta", FASTA)],
        ),
        (
            StudyScope::Team,
            Some("genomics"),
            "Patient cohort",
            "Controlled: identifiable data, exported only on approval.",
            "atrium-scratch-111111111111",
            "studies/genomics/patient-cohort/",
            true,
            &[("README.md", README), ("cohort.csv", SAMPLES_CSV)],
        ),
        (
            StudyScope::My,
            Some("genomics"),
            "Ada's notes",
            "Ada's own working files.",
            "atrium-scratch-111111111111",
            "studies/genomics/ada-notes/",
            false,
            &[("notes.csv", SAMPLES_CSV)],
        ),
        (
            StudyScope::Organisation,
            None,
            "Institutional reference panel",
            "Shared by the research office with Genomics and Climate.",
            PORTAL_STUDIES_BUCKET,
            "studies/organisation/reference-panel/",
            false,
            &[("README.md", README), ("panel.csv", SAMPLES_CSV)],
        ),
        (
            StudyScope::OpenData,
            None,
            "1000 Genomes (sample)",
            "A slice of the 1000 Genomes Project, from the Registry of Open Data.",
            OPEN_DATA_BUCKET,
            "1000genomes/",
            false,
            &[("README.md", README), ("chr21.fasta", FASTA)],
        ),
    ];
    for (scope, team, name, description, bucket, prefix, controlled, files) in STUDIES {
        let config = match team {
            Some(slug) => {
                let team = TEAMS.iter().find(|t| t.slug == slug).context("a demo study's team")?;
                let role = format!("arn:aws:iam::{}:role/AtriumPortalAccess", team.account_id);
                crate::aws::provisioning::team_account(sdk, &role, "atrium-demo-seed").await.map_err(|e| anyhow::anyhow!("{e:?}"))?
            }
            None => sdk.clone(),
        };
        let s3 = crate::aws::s3::S3Store::new(config);
        s3.create_bucket_if_missing(bucket).await?;
        let mut keys: Vec<String> = vec![prefix.to_owned()];
        keys.extend(files.iter().map(|(file, _)| format!("{prefix}{file}")));
        for (key, body) in keys.iter().zip(std::iter::once("").chain(files.iter().map(|(_, body)| *body))) {
            s3.client()
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(body.as_bytes().to_vec().into())
                .send()
                .await
                .with_context(|| format!("Failed to store s3://{bucket}/{key}"))?;
        }
        let owner = if scope == StudyScope::My || team.is_some() { "ada" } else { "grace" };
        let row = crate::repo::studies::NewStudyRow {
            scope,
            team_slug: team,
            name,
            description,
            owner,
            bucket,
            prefix,
            controlled,
            teams: &(if scope == StudyScope::Organisation { vec!["genomics".to_owned(), "climate".to_owned()] } else { Vec::new() }),
        };
        let mut tx = db.begin().await?;
        let existing = crate::repo::studies::at_location(&mut *tx, bucket, prefix).await?;
        let id = match existing {
            Some(id) => id,
            None => crate::repo::studies::insert(&mut tx, &row).await.with_context(|| format!("Failed to write the study {name}"))?,
        };
        tx.commit().await?;
        if controlled {
            // Results a workspace left for export.
            let key = format!("egress/{id}/results/summary.csv");
            s3.client()
                .put_object()
                .bucket(bucket)
                .key(&key)
                .body(SAMPLES_CSV.as_bytes().to_vec().into())
                .send()
                .await
                .context("Failed to store an egress file")?;
        }
    }
    Ok(())
}

pub fn team_row(team: &DemoTeam) -> anyhow::Result<Team> {
    Ok(Team {
        slug: TeamSlug::parse(team.slug)?,
        name: team.name.into(),
        description: team.description.into(),
        aws_account_id: team.account_id.into(),
        role_arn: format!("arn:aws:iam::{}:role/AtriumPortalAccess", team.account_id),
        ssm_path: format!("/atrium/teams/{}", team.slug),
        time_zone: "UTC".into(),
        archived: false,
    })
}

async fn seed_cognito(cognito: &Cognito, pool_name: &str) -> anyhow::Result<DemoIdentity> {
    let mut pools = cognito.list_user_pools().max_results(60).into_paginator().items().send();
    let mut existing = None;
    while let Some(pool) = pools.next().await {
        let pool = pool.context("Failed to list user pools")?;
        if pool.name() == Some(pool_name) {
            existing = pool.id;
            break;
        }
    }
    let user_pool_id = match existing {
        Some(id) => id,
        None => cognito
            .create_user_pool()
            .pool_name(pool_name)
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(12)
                            .require_uppercase(true)
                            .require_lowercase(true)
                            .require_numbers(true)
                            .require_symbols(true)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .context("Failed to create the user pool")?
            .user_pool
            .and_then(|p| p.id)
            .context("CreateUserPool returned no id")?,
    };

    let clients =
        cognito.list_user_pool_clients().user_pool_id(&user_pool_id).max_results(60).send().await.context("Failed to list app clients")?;
    let existing =
        clients.user_pool_clients().iter().find(|c| c.client_name() == Some(CLIENT_NAME)).and_then(|c| c.client_id().map(str::to_owned));
    let client_id = match existing {
        Some(id) => id,
        None => create_client(cognito, &user_pool_id, CLIENT_NAME).await?,
    };

    let mut groups: Vec<String> = ROLE_GROUPS.iter().map(|g| g.to_string()).collect();
    groups.extend(TEAMS.iter().map(|t| format!("team-{}", t.slug)));
    groups.extend(TEAMS.iter().map(|t| format!("teamadmin-{}", t.slug)));
    for group in &groups {
        let created = cognito.create_group().user_pool_id(&user_pool_id).group_name(group).send().await;
        if let Err(error) = created
            && !error.as_service_error().is_some_and(|e| e.is_group_exists_exception())
        {
            return Err(anyhow::Error::new(error).context(format!("Failed to create group {group}")));
        }
    }

    for (username, user_groups, temporary) in USERS {
        let created = cognito
            .admin_create_user()
            .user_pool_id(&user_pool_id)
            .username(username)
            .user_attributes(AttributeType::builder().name("email").value(format!("{username}@example.edu")).build()?)
            .temporary_password(TEMPORARY_PASSWORD)
            .message_action(MessageActionType::Suppress)
            .send()
            .await;
        if let Err(error) = created
            && !error.as_service_error().is_some_and(|e| e.is_username_exists_exception())
        {
            return Err(anyhow::Error::new(error).context(format!("Failed to create user {username}")));
        }
        let (password, permanent) = if temporary { (TEMPORARY_PASSWORD, false) } else { (DEMO_PASSWORD, true) };
        cognito
            .admin_set_user_password()
            .user_pool_id(&user_pool_id)
            .username(username)
            .password(password)
            .permanent(permanent)
            .send()
            .await
            .with_context(|| format!("Failed to set the password of {username}"))?;
        for group in user_groups {
            cognito
                .admin_add_user_to_group()
                .user_pool_id(&user_pool_id)
                .username(username)
                .group_name(*group)
                .send()
                .await
                .with_context(|| format!("Failed to add {username} to {group}"))?;
        }
    }
    Ok(DemoIdentity { user_pool_id, client_id })
}

/// An app client without a secret that allows USER_PASSWORD_AUTH.
pub async fn create_client(cognito: &Cognito, user_pool_id: &str, name: &str) -> anyhow::Result<String> {
    cognito
        .create_user_pool_client()
        .user_pool_id(user_pool_id)
        .client_name(name)
        .generate_secret(false)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        // The ID token carries the address Atrium's e-mail goes to.
        .read_attributes("email")
        .read_attributes("email_verified")
        .send()
        .await
        .context("Failed to create the app client")?
        .user_pool_client
        .and_then(|c| c.client_id)
        .context("CreateUserPoolClient returned no client id")
}

async fn seed_ssm(ssm: &Ssm) -> anyhow::Result<()> {
    for team in &TEAMS {
        let path = format!("/atrium/teams/{}", team.slug);
        let links = json!([
            { "title": format!("{} wiki", team.name), "url": format!("https://wiki.example.org/{}", team.slug) },
            { "title": "Data management plan", "url": format!("https://dmp.example.org/{}", team.slug) },
        ]);
        let parameters = [
            ("links", links.to_string()),
            ("s3-scratch-prefix", format!("s3://atrium-scratch-{}/{}/", team.account_id, team.slug)),
            ("efs-access-point", format!("fsap-{}0123456789", team.slug)),
        ];
        for (profile, document) in profiles_of(team.slug) {
            ssm.put_parameter()
                .name(format!("{path}/profiles/{profile}"))
                .value(document.to_string())
                .r#type(ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .with_context(|| format!("Failed to write the profile {profile} of {}", team.slug))?;
        }
        for (name, value) in parameters {
            ssm.put_parameter()
                .name(format!("{path}/{name}"))
                .value(value)
                .r#type(ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .with_context(|| format!("Failed to write {path}/{name}"))?;
        }
    }
    Ok(())
}

pub const PORTFOLIO_NAME: &str = "Atrium research workspaces";

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
fn profiles_of(team: &str) -> Vec<(&'static str, serde_json::Value)> {
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
    let service = Workspaces::new(db.clone(), teams, 100, presigner, sessions);
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

/// Days of demo costs: the dashboard's default range and the month before it.
pub const COST_DAYS: i64 = 60;

/// Gives moto's Cost Explorer 60 days of plausible daily costs per team account, through
/// moto's own API (it serves GetCostAndUsage only with configured results): each demo
/// workspace at about its hourly estimate, busier on weekdays, plus untagged shared spend.
pub async fn seed_costs(moto_endpoint: &str, workspaces: &[DemoWorkspace], today: time::Date) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    for team in &TEAMS {
        let mut results = Vec::new();
        for back in (0..COST_DAYS).rev() {
            let day = today - time::Duration::days(back);
            let weekday = day.weekday().number_from_monday() <= 5;
            let mut groups = Vec::new();
            for (i, workspace) in workspaces.iter().enumerate().filter(|(_, w)| w.team == team.slug) {
                // A repeatable wobble between 60 % and 100 % of a full day's estimate.
                let wobble = 60 + (day.ordinal() as usize * 37 + i * 11) % 41;
                let load = if weekday { wobble } else { wobble / 3 };
                let amount = f64::from(workspace.hourly_cents) * 24.0 * load as f64 / 100.0 / 100.0;
                groups.push(cost_group(&workspace.id, &workspace.owner, amount));
            }
            groups.push(cost_group("", "", 1.25 + f64::from(day.day() % 5) * 0.1));
            results.push(json!({
                "TimePeriod": { "Start": day.to_string(), "End": (day + time::Duration::days(1)).to_string() },
                "Total": {},
                "Groups": groups,
                "Estimated": back < 2,
            }));
        }
        let body = json!({
            "account_id": team.account_id,
            "results": [{ "ResultsByTime": results, "GroupDefinitions": [
                { "Type": "TAG", "Key": crate::aws::cost_explorer::WORKSPACE_TAG },
                { "Type": "TAG", "Key": crate::aws::cost_explorer::USER_TAG }
            ], "DimensionValueAttributes": [] }],
        });
        let response = http
            .post(format!("{}/moto-api/static/ce/cost-and-usage-results", moto_endpoint.trim_end_matches('/')))
            .json(&body)
            .send()
            .await
            .context("Failed to reach moto to seed the demo costs")?;
        anyhow::ensure!(response.status().is_success(), "moto refused the demo costs: HTTP {}", response.status());
    }
    Ok(())
}

fn cost_group(workspace: &str, user: &str, dollars: f64) -> serde_json::Value {
    json!({
        "Keys": [format!("{}${workspace}", crate::aws::cost_explorer::WORKSPACE_TAG), format!("{}${user}", crate::aws::cost_explorer::USER_TAG)],
        "Metrics": { "UnblendedCost": { "Amount": format!("{dollars:.4}"), "Unit": "USD" } },
    })
}

/// The demo workstation that shows a health alarm: alan's, running hot.
pub const HOT_WORKSPACE: (&str, &str) = ("alan", "event-display");

/// Waits (up to two minutes) for alan's demo workstation to be available, puts four minutes
/// of CPU at 99 % for its instance into CloudWatch in its team's account, and runs the health
/// check once, so that the alarm shows at once rather than at the worker's next round.
pub async fn seed_metrics(sdk: &aws_config::SdkConfig, db: &PgPool) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let (owner, name) = HOT_WORKSPACE;
    let mut found = None;
    for _ in 0..120 {
        found = crate::repo::workspaces::available_instance(db, owner, name).await?;
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let (instance, role_arn) = found.with_context(|| format!("{owner}'s {name} did not become available"))?;
    let account = crate::aws::provisioning::team_account(sdk, &role_arn, "atrium-demo").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = time::OffsetDateTime::now_utc();
    let data: Vec<MetricDatum> = (0..4)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(Dimension::builder().name("InstanceId").value(&instance).build())
                .timestamp(DateTime::from_secs((now - time::Duration::minutes(i) - time::Duration::seconds(5)).unix_timestamp()))
                .value(99.0)
                .build()
        })
        .collect();
    aws_sdk_cloudwatch::Client::new(&account)
        .put_metric_data()
        .namespace("AWS/EC2")
        .set_metric_data(Some(data))
        .send()
        .await
        .context("Failed to put the demo CPU metrics")?;
    let metrics = crate::aws::cloudwatch::CloudWatchMetrics::new(sdk.clone());
    let raised = crate::services::health::check_health(db, &metrics, now).await?;
    tracing::info!(?raised, "Demo health alarms raised");
    Ok(())
}

/// Has SES (moto's, locally) verify the sender, as an institution does once for its domain.
pub async fn verify_sender(sdk: &aws_config::SdkConfig, from: &str) -> anyhow::Result<()> {
    let created = aws_sdk_sesv2::Client::new(sdk).create_email_identity().email_identity(from).send().await;
    match created {
        Ok(_) => Ok(()),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_already_exists_exception()) => Ok(()),
        Err(error) => Err(anyhow::Error::new(error).context(format!("Failed to verify {from} with SES"))),
    }
}
