//! The team stack's launch role (`AtriumLaunchRole`), least privilege proven as far as the AWS
//! emulator can: Service Catalog creates, changes and deletes the demo products' stacks with it
//! (the portfolio's launch constraint) and runs their Stop and Start actions with it
//! (`AssumeRole: LAUNCH_ROLE`), checking each call against the role's policy
//! (`aws_emulator::launch_role`). Every product lives its whole life through it; without any one
//! statement of its policy, a step fails naming a permission of that statement, and only such
//! steps fail; and it grants no action Service Catalog is never asked for.
//!
//! The emulator evaluates actions, not resources or conditions: the statements' scoping (stacks
//! named `SC-*`, the notebook role by name, templates tagged for Service Catalog) is by review.

use crate::team_accounts::{StackedAccount, without_statement};
use crate::templates::template_json;
use app::domain::workspace_types::CatalogProduct;
use atrium::aws::provisioning::{Actor, ProvisionRequest, Provisioner, RecordState, ServiceCatalogProvisioner, UpdateRequest};
use atrium::aws::service_catalog::{SdkServiceCatalog, ServiceCatalog};
use atrium::aws::team_role::{TeamRole, TeamSessions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// An AWS emulator of this test's own, on the shared moto, whose records settle at once.
async fn fast_emulator() -> String {
    let moto = std::env::var("AWS_ENDPOINT_URL").expect("dev/test names moto in AWS_ENDPOINT_URL");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("its address"));
    let router = aws_emulator::Emulator::new(moto, address.clone(), Duration::ZERO, "us-east-1".into()).router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// Calls the emulator at `endpoint` for everything (it passes STS on to moto).
fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    let credentials = aws_credential_types::Credentials::new("testing", "testing", None, None, "test");
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
        .build()
}

/// The record's outcome, once it settles.
async fn settled(provisioner: &ServiceCatalogProvisioner, actor: &Actor<'_>, record: Result<String, String>) -> Result<(), String> {
    let record = record?;
    for _ in 0..100 {
        match provisioner.record(actor, &record).await.map_err(|error| format!("{error:?}"))? {
            RecordState::InProgress => tokio::time::sleep(Duration::from_millis(100)).await,
            RecordState::Succeeded { .. } => return Ok(()),
            RecordState::Failed { message } => return Err(message),
        }
    }
    Err(format!("record {record} never settled"))
}

/// A product's whole life through the provisioner: launch, stop and start (where it has those
/// actions), resize (where it has an instance type), terminate; each step with its outcome,
/// up to the first that fails.
async fn life(
    provisioner: &ServiceCatalogProvisioner,
    role: &TeamRole,
    product: &CatalogProduct,
    run: &str,
) -> Vec<(String, Result<(), String>)> {
    let actor = Actor { role, session_name: "atrium-ada" };
    let version = &product.versions[0].id;
    let (name, values) = (format!("{run}-{}", product.id), BTreeMap::new());
    let request = ProvisionRequest {
        role,
        session_name: actor.session_name,
        product_id: &product.id,
        version_id: version,
        provisioned_product_name: &name,
        parameters: &values,
        tags: &values,
        token: &name,
    };
    let mut steps = Vec::new();
    let started = provisioner.provision(&request).await.map_err(|error| format!("{error:?}"));
    let provisioned = started.as_ref().map(|started| started.provisioned_product_id.clone()).unwrap_or_default();
    steps.push(("launch".to_owned(), settled(provisioner, &actor, started.map(|started| started.record_id)).await));
    let has_actions = product.name != "EMR cluster" && product.name != "SageMaker Studio";
    for action in ["Stop", "Start"].iter().filter(|_| has_actions) {
        if steps.iter().any(|(_, outcome)| outcome.is_err()) {
            return steps;
        }
        let token = format!("{name}-{action}");
        let record = provisioner.execute_action(&actor, &product.id, version, &provisioned, action, &token).await;
        steps.push((action.to_lowercase(), settled(provisioner, &actor, record.map_err(|error| format!("{error:?}"))).await));
    }
    if product.name.starts_with("Linux workstation") && steps.iter().all(|(_, outcome)| outcome.is_ok()) {
        let larger = BTreeMap::from([("InstanceType".to_owned(), "t3.large".to_owned())]);
        let token = format!("{name}-resize");
        let update = UpdateRequest {
            provisioned_product_id: &provisioned,
            product_id: &product.id,
            version_id: version,
            parameters: &larger,
            token: &token,
        };
        let record = provisioner.update(&actor, &update).await.map_err(|error| format!("{error:?}"));
        steps.push(("resize".to_owned(), settled(provisioner, &actor, record).await));
    }
    if steps.iter().all(|(_, outcome)| outcome.is_ok()) {
        let record = provisioner.terminate(&actor, &provisioned, &format!("{name}-terminate")).await.map_err(|error| format!("{error:?}"));
        steps.push(("terminate".to_owned(), settled(provisioner, &actor, record).await));
    }
    steps
}

/// Every demo product's life, side by side: (product, step, outcome).
async fn lives(
    provisioner: &ServiceCatalogProvisioner,
    role: &TeamRole,
    products: &[CatalogProduct],
    run: &str,
) -> Vec<(String, String, Result<(), String>)> {
    let lives = products.iter().map(|product| async move {
        life(provisioner, role, product, run)
            .await
            .into_iter()
            .map(|(step, outcome)| (product.name.clone(), step, outcome))
            .collect::<Vec<_>>()
    });
    futures::future::join_all(lives).await.into_iter().flatten().collect()
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn the_launch_role_is_enough_for_each_products_life_and_each_statement_is_needed() {
    let emulator = fast_emulator().await;
    let portal = sdk(&emulator);
    atrium::demo::seed_catalog(&portal, &format!("{emulator}/templates")).await.expect("the demo catalog");
    let products = SdkServiceCatalog::new(&portal).products().await.expect("the products");
    assert_eq!(products.len(), 4, "{products:?}");

    let team = StackedAccount::new(&portal, "launch").await;
    let (role, template) = (&team.role, include_str!("../../../deploy/team-account.yaml"));
    let provisioner = ServiceCatalogProvisioner::new(TeamSessions::new(portal.clone()));

    let all = lives(&provisioner, role, &products, "whole").await;
    let failed: Vec<_> = all.iter().filter(|(_, _, outcome)| outcome.is_err()).collect();
    assert!(failed.is_empty(), "every product lives its life through the launch role: {failed:?}");
    assert_eq!(all.len(), 5 + 4 + 2 + 2, "launch, stop, start, resize and terminate where they apply: {all:?}");

    let statements = template_json(template)["Resources"]["LaunchPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .cloned()
        .expect("the launch role's statements");
    for statement in &statements {
        let sid = statement["Sid"].as_str().expect("a named statement");
        let actions = strings(&statement["Action"]);
        team.deploy(&without_statement(template, sid)).await;
        let run = lives(&provisioner, role, &products, sid).await;
        let failed: Vec<_> =
            run.iter().filter_map(|(product, step, outcome)| outcome.as_ref().err().map(|error| (product, step, error))).collect();
        assert!(!failed.is_empty(), "without {sid}, a step fails: {run:?}");
        for (product, step, error) in failed {
            assert!(
                error.contains("AtriumLaunchRole") && actions.iter().any(|action| error.contains(&format!("perform: {action}"))),
                "without {sid}, only steps needing it fail; {product} {step}: {error}"
            );
        }
    }

    // And no action is granted that Service Catalog is never asked for here.
    let asked = aws_emulator::launch_role::all_actions();
    let unasked: Vec<String> =
        statements.iter().flat_map(|statement| strings(&statement["Action"])).filter(|action| !asked.contains(&action.as_str())).collect();
    assert_eq!(unasked, Vec::<String>::new(), "granted, but never asked for");
}
