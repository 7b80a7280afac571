//! Service Catalog: portfolios, products and their versions (provisioning artifacts) with
//! CloudFormation templates, self-service actions, and provisioned products whose records go
//! IN_PROGRESS -> SUCCEEDED/FAILED as real stacks are created, updated and deleted in moto.

use crate::faults::Fault;
use crate::iam::Iam;
use crate::launch_role::{Call, Change, automation_calls, change_calls};
use crate::moto::Moto;
use crate::wire::{AwsError, Caller, epoch_now, required};
use aws_sdk_cloudformation::types::StackStatus;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
struct Artifact {
    id: String,
    name: String,
    description: String,
    template: String,
    template_url: String,
    created: f64,
    actions: Vec<String>,
}

#[derive(Clone)]
struct Product {
    id: String,
    name: String,
    owner: String,
    description: String,
    created: f64,
    portfolios: Vec<String>,
    artifacts: Vec<Artifact>,
}

#[derive(Clone)]
struct Action {
    id: String,
    name: String,
    description: String,
    /// The SSM Automation document, e.g. `AWS-StopEC2Instance`.
    document: String,
    /// Whether it runs with the launch role (`AssumeRole: LAUNCH_ROLE`), not the caller's
    /// credentials.
    launch_role: bool,
}

#[derive(Clone)]
struct Provisioned {
    id: String,
    name: String,
    product_id: String,
    artifact_id: String,
    stack_name: String,
    status: &'static str,
    status_message: Option<String>,
    last_record_id: String,
    created: f64,
    caller: Caller,
    parameters: BTreeMap<String, String>,
    tags: Vec<(String, String)>,
    outputs: Vec<(String, String, Option<String>)>,
}

#[derive(Clone)]
struct Record {
    id: String,
    record_type: &'static str,
    provisioned_product_id: String,
    provisioned_product_name: String,
    product_id: String,
    artifact_id: String,
    status: &'static str,
    errors: Vec<String>,
    created: f64,
    updated: f64,
    outputs: Vec<(String, String, Option<String>)>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    portfolios: Vec<(String, String, String)>, // id, display name, provider
    products: Vec<Product>,
    actions: Vec<Action>,
    /// The role each product's launch constraint names (`LocalRoleName`).
    launch_roles: HashMap<String, String>,
    provisioned: HashMap<String, Provisioned>,
    records: HashMap<String, Record>,
    /// Idempotency tokens already used, with the record they produced.
    tokens: HashMap<String, String>,
}

impl State {
    /// Catalog ids count up, so the demo catalog gets the same ids each time the emulator
    /// starts (and a kept database still finds its products).
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:013x}", 0x5c0_0000_0000u64 + self.next_id)
    }

    /// Records and provisioned products are unique across restarts, so that a workspace a
    /// kept database remembers can never name a new one.
    fn unique_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
        format!("{prefix}-{:013x}", (started & 0xf_ffff_ffff_0000) | (self.next_id & 0xffff))
    }

    fn product(&self, id: &str) -> Result<&Product, AwsError> {
        self.products.iter().find(|p| p.id == id).ok_or_else(|| AwsError::not_found(format!("Product {id} not found")))
    }

    fn artifact(&self, product_id: &str, artifact_id: &str) -> Result<&Artifact, AwsError> {
        self.product(product_id)?
            .artifacts
            .iter()
            .find(|a| a.id == artifact_id)
            .ok_or_else(|| AwsError::not_found(format!("Provisioning artifact {artifact_id} not found")))
    }
}

#[derive(Clone)]
pub struct Catalog {
    state: Arc<Mutex<State>>,
    moto: Moto,
    iam: Iam,
    http: reqwest::Client,
    /// How long a record stays IN_PROGRESS, so the portal can show progress.
    pub step_delay: Duration,
}

fn product_view(p: &Product) -> Value {
    json!({
        "ProductViewSummary": {
            "Id": format!("prodview-{}", &p.id[5..]), "ProductId": p.id, "Name": p.name, "Owner": p.owner,
            "ShortDescription": p.description, "Type": "CLOUD_FORMATION_TEMPLATE", "HasDefaultPath": true
        },
        "Status": "AVAILABLE",
        "ProductARN": format!("arn:aws:catalog:eu-west-1:123456789012:product/{}", p.id),
        "CreatedTime": p.created,
    })
}

fn artifact_detail(a: &Artifact) -> Value {
    json!({ "Id": a.id, "Name": a.name, "Description": a.description, "Type": "CLOUD_FORMATION_TEMPLATE",
            "CreatedTime": a.created, "Active": true, "Guidance": "DEFAULT" })
}

fn outputs_json(outputs: &[(String, String, Option<String>)]) -> Value {
    outputs.iter().map(|(k, v, d)| json!({ "OutputKey": k, "OutputValue": v, "Description": d })).collect()
}

fn record_json(r: &Record) -> Value {
    json!({
        "RecordId": r.id, "ProvisionedProductName": r.provisioned_product_name, "Status": r.status,
        "CreatedTime": r.created, "UpdatedTime": r.updated, "ProvisionedProductType": "CFN_STACK",
        "RecordType": r.record_type, "ProvisionedProductId": r.provisioned_product_id,
        "ProductId": r.product_id, "ProvisioningArtifactId": r.artifact_id,
        "RecordErrors": r.errors.iter().map(|e| json!({ "Code": "ProvisioningFailed", "Description": e })).collect::<Vec<_>>(),
    })
}

/// CloudFormation template parameters as Service Catalog reports them.
fn template_parameters(template: &str) -> Vec<Value> {
    let Ok(template) = serde_json::from_str::<Value>(template) else { return Vec::new() };
    let Some(parameters) = template.get("Parameters").and_then(Value::as_object) else { return Vec::new() };
    let text = |v: Option<&Value>| v.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
    parameters
        .iter()
        .map(|(key, p)| {
            json!({
                "ParameterKey": key,
                "DefaultValue": text(p.get("Default")),
                "ParameterType": text(p.get("Type")).unwrap_or_else(|| "String".into()),
                "IsNoEcho": p.get("NoEcho").and_then(Value::as_bool).unwrap_or(false),
                "Description": text(p.get("Description")),
                "ParameterConstraints": {
                    "AllowedValues": p.get("AllowedValues").and_then(Value::as_array).map(|values| values.iter().filter_map(|v| text(Some(v))).collect::<Vec<_>>()).unwrap_or_default(),
                    "AllowedPattern": text(p.get("AllowedPattern")),
                    "ConstraintDescription": text(p.get("ConstraintDescription")),
                    "MinLength": text(p.get("MinLength")),
                    "MaxLength": text(p.get("MaxLength")),
                    "MinValue": text(p.get("MinValue")),
                    "MaxValue": text(p.get("MaxValue")),
                }
            })
        })
        .collect()
}

fn key_values(body: &Value, member: &str) -> Vec<(String, String)> {
    body.get(member)
        .and_then(Value::as_array)
        .map(|items| {
            items.iter().filter_map(|i| Some((i.get("Key")?.as_str()?.to_owned(), i.get("Value")?.as_str()?.to_owned()))).collect()
        })
        .unwrap_or_default()
}

impl Catalog {
    pub fn new(moto: Moto, iam: Iam, step_delay: Duration) -> Catalog {
        Catalog { state: Arc::new(Mutex::new(State::default())), moto, iam, http: reqwest::Client::new(), step_delay }
    }

    /// Ok when whoever Service Catalog acts as for `pp` may make each of `actions`: the launch
    /// role its product's constraint names, in the caller's account, when `launch_role` (a
    /// stack change, or an action defined with `AssumeRole: LAUNCH_ROLE`) and there is one;
    /// else the caller. Otherwise the refusal, in IAM's words (see `launch_role`).
    async fn acting_role_allows(
        &self,
        pp: &Provisioned,
        calls: impl FnOnce(&str) -> Vec<Call<'static>>,
        launch_role: bool,
    ) -> Result<(), String> {
        let constrained = self.state().launch_roles.get(&pp.product_id).cloned().filter(|_| launch_role);
        let refusal = |arn: &str, action: &str| format!("User: {arn} is not authorized to perform: {action}");
        let Some(account) = self.iam.account_of(&pp.caller).await else { return Ok(()) };
        let calls = calls(&account);
        match constrained {
            Some(role) => {
                let arn = format!("arn:aws:sts::{account}:assumed-role/{role}/servicecatalog");
                self.iam.role_allows(&account, &role, &calls).await.map_err(|action| refusal(&arn, &action))
            }
            None => self.iam.caller_allows(&pp.caller, &calls).await.map_err(|(arn, action)| refusal(&arn, &action)),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock is a bug in the emulator; carry on with the data.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub async fn handle(&self, operation: &str, body: Value, caller: Caller, fault: Option<Fault>) -> Result<Value, AwsError> {
        match operation {
            "CreatePortfolio" => self.create_portfolio(&body),
            "ListPortfolios" => Ok(self.list_portfolios()),
            "CreateProduct" => self.create_product(&body).await,
            "CreateProvisioningArtifact" => self.create_artifact(&body).await,
            "AssociateProductWithPortfolio" => self.associate_portfolio(&body),
            "CreateServiceAction" => self.create_action(&body),
            "CreateConstraint" => self.create_constraint(&body),
            "AssociateServiceActionWithProvisioningArtifact" => self.associate_action(&body),
            "SearchProductsAsAdmin" => Ok(self.search_products(&body)),
            "DescribeProductAsAdmin" => self.describe_product(&body),
            "ListProvisioningArtifacts" => self.list_artifacts(&body),
            "DescribeProvisioningArtifact" => self.describe_artifact(&body),
            "DescribeProvisioningParameters" => self.describe_parameters(&body),
            "ProvisionProduct" => self.provision(&body, caller, fault),
            "DescribeRecord" => self.describe_record(&body),
            "DescribeProvisionedProduct" => self.describe_provisioned(&body),
            "GetProvisionedProductOutputs" => self.provisioned_outputs(&body),
            "UpdateProvisionedProduct" => self.update(&body, fault),
            "TerminateProvisionedProduct" => self.terminate(&body),
            "ListServiceActionsForProvisioningArtifact" => self.list_actions(&body),
            "ExecuteProvisionedProductServiceAction" => self.execute_action(&body),
            other => Err(AwsError::unknown_operation(other)),
        }
    }

    fn create_portfolio(&self, body: &Value) -> Result<Value, AwsError> {
        let name = required(body, "DisplayName")?.to_owned();
        let provider = body.get("ProviderName").and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut state = self.state();
        let id = state.id("port");
        state.portfolios.push((id.clone(), name.clone(), provider.clone()));
        Ok(json!({ "PortfolioDetail": { "Id": id, "DisplayName": name, "ProviderName": provider, "CreatedTime": epoch_now(),
            "ARN": format!("arn:aws:catalog:eu-west-1:123456789012:portfolio/{id}") } }))
    }

    fn list_portfolios(&self) -> Value {
        let state = self.state();
        json!({ "PortfolioDetails": state.portfolios.iter().map(|(id, name, provider)| json!({ "Id": id, "DisplayName": name, "ProviderName": provider })).collect::<Vec<_>>() })
    }

    /// Reads the template a new version points at (LoadTemplateFromURL), as Service Catalog does.
    async fn load_artifact(&self, parameters: &Value, id: String) -> Result<Artifact, AwsError> {
        let url = parameters
            .pointer("/Info/LoadTemplateFromURL")
            .and_then(Value::as_str)
            .ok_or_else(|| AwsError::invalid("Info.LoadTemplateFromURL is required"))?;
        let template = self
            .http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| AwsError::invalid(format!("Cannot load the template from {url}: {e}")))?
            .text()
            .await
            .map_err(|e| AwsError::invalid(format!("Cannot read the template from {url}: {e}")))?;
        serde_json::from_str::<Value>(&template).map_err(|e| AwsError::invalid(format!("The template is not valid JSON: {e}")))?;
        Ok(Artifact {
            id,
            name: parameters.get("Name").and_then(Value::as_str).unwrap_or("v1").to_owned(),
            description: parameters.get("Description").and_then(Value::as_str).unwrap_or_default().to_owned(),
            template,
            template_url: url.to_owned(),
            created: epoch_now(),
            actions: Vec::new(),
        })
    }

    async fn create_product(&self, body: &Value) -> Result<Value, AwsError> {
        let name = required(body, "Name")?.to_owned();
        let artifact_id = self.state().id("pa");
        let parameters = body.get("ProvisioningArtifactParameters").cloned().unwrap_or_default();
        let artifact = self.load_artifact(&parameters, artifact_id).await?;
        let mut state = self.state();
        let product = Product {
            id: state.id("prod"),
            name,
            owner: body.get("Owner").and_then(Value::as_str).unwrap_or_default().to_owned(),
            description: body.get("Description").and_then(Value::as_str).unwrap_or_default().to_owned(),
            created: epoch_now(),
            portfolios: Vec::new(),
            artifacts: vec![artifact.clone()],
        };
        let answer = json!({ "ProductViewDetail": product_view(&product), "ProvisioningArtifactDetail": artifact_detail(&artifact) });
        state.products.push(product);
        Ok(answer)
    }

    async fn create_artifact(&self, body: &Value) -> Result<Value, AwsError> {
        let product_id = required(body, "ProductId")?.to_owned();
        self.state().product(&product_id)?;
        let artifact_id = self.state().id("pa");
        let parameters = body.get("Parameters").cloned().unwrap_or_default();
        let artifact = self.load_artifact(&parameters, artifact_id).await?;
        let mut state = self.state();
        let product = state
            .products
            .iter_mut()
            .find(|p| p.id == product_id)
            .ok_or_else(|| AwsError::not_found(format!("Product {product_id} not found")))?;
        product.artifacts.push(artifact.clone());
        Ok(json!({ "ProvisioningArtifactDetail": artifact_detail(&artifact), "Status": "AVAILABLE",
                   "Info": { "TemplateUrl": artifact.template_url } }))
    }

    fn associate_portfolio(&self, body: &Value) -> Result<Value, AwsError> {
        let product_id = required(body, "ProductId")?;
        let portfolio_id = required(body, "PortfolioId")?.to_owned();
        let mut state = self.state();
        if !state.portfolios.iter().any(|(id, _, _)| *id == portfolio_id) {
            return Err(AwsError::not_found(format!("Portfolio {portfolio_id} not found")));
        }
        let product = state
            .products
            .iter_mut()
            .find(|p| p.id == product_id)
            .ok_or_else(|| AwsError::not_found(format!("Product {product_id} not found")))?;
        if !product.portfolios.contains(&portfolio_id) {
            product.portfolios.push(portfolio_id);
        }
        Ok(json!({}))
    }

    fn create_action(&self, body: &Value) -> Result<Value, AwsError> {
        let name = required(body, "Name")?.to_owned();
        let document = body
            .pointer("/Definition/Name")
            .and_then(Value::as_str)
            .ok_or_else(|| AwsError::invalid("Definition.Name is required"))?
            .to_owned();
        let launch_role = body.pointer("/Definition/AssumeRole").and_then(Value::as_str) == Some("LAUNCH_ROLE");
        let mut state = self.state();
        let action = Action {
            id: state.id("act"),
            name,
            description: body.get("Description").and_then(Value::as_str).unwrap_or_default().to_owned(),
            document,
            launch_role,
        };
        let answer = json!({ "ServiceActionDetail": {
            "ServiceActionSummary": { "Id": action.id, "Name": action.name, "Description": action.description, "DefinitionType": "SSM_AUTOMATION" },
            "Definition": { "Name": action.document, "Version": "1" } } });
        state.actions.push(action);
        Ok(answer)
    }

    /// A LAUNCH constraint: the role (`LocalRoleName`, or a `RoleArn`'s name) Service Catalog
    /// changes the product's stacks with. Other constraint types are not emulated.
    fn create_constraint(&self, body: &Value) -> Result<Value, AwsError> {
        let (product_id, portfolio_id) = (required(body, "ProductId")?.to_owned(), required(body, "PortfolioId")?.to_owned());
        if required(body, "Type")? != "LAUNCH" {
            return Err(AwsError::invalid("The emulator has LAUNCH constraints only"));
        }
        let parameters: Value =
            serde_json::from_str(required(body, "Parameters")?).map_err(|e| AwsError::invalid(format!("Parameters is not JSON: {e}")))?;
        let role = parameters["LocalRoleName"]
            .as_str()
            .or_else(|| parameters["RoleArn"].as_str().and_then(|arn| arn.rsplit('/').next()))
            .ok_or_else(|| AwsError::invalid("A LAUNCH constraint names LocalRoleName or RoleArn"))?
            .to_owned();
        let mut state = self.state();
        state.product(&product_id)?;
        let id = state.id("cons");
        state.launch_roles.insert(product_id.clone(), role);
        Ok(json!({ "ConstraintDetail": { "ConstraintId": id, "Type": "LAUNCH", "ProductId": product_id, "PortfolioId": portfolio_id },
                   "ConstraintParameters": parameters.to_string(), "Status": "AVAILABLE" }))
    }

    fn associate_action(&self, body: &Value) -> Result<Value, AwsError> {
        let product_id = required(body, "ProductId")?;
        let artifact_id = required(body, "ProvisioningArtifactId")?;
        let action_id = required(body, "ServiceActionId")?.to_owned();
        let mut state = self.state();
        if !state.actions.iter().any(|a| a.id == action_id) {
            return Err(AwsError::not_found(format!("Service action {action_id} not found")));
        }
        let artifact = state
            .products
            .iter_mut()
            .find(|p| p.id == product_id)
            .and_then(|p| p.artifacts.iter_mut().find(|a| a.id == artifact_id))
            .ok_or_else(|| AwsError::not_found(format!("Provisioning artifact {artifact_id} not found")))?;
        if !artifact.actions.contains(&action_id) {
            artifact.actions.push(action_id);
        }
        Ok(json!({}))
    }

    fn search_products(&self, body: &Value) -> Value {
        let portfolio = body.get("PortfolioId").and_then(Value::as_str);
        let state = self.state();
        let views: Vec<Value> = state
            .products
            .iter()
            .filter(|p| portfolio.is_none_or(|id| p.portfolios.iter().any(|pid| pid == id)))
            .map(product_view)
            .collect();
        json!({ "ProductViewDetails": views })
    }

    fn describe_product(&self, body: &Value) -> Result<Value, AwsError> {
        let state = self.state();
        let product = state.product(required(body, "Id")?)?;
        Ok(json!({
            "ProductViewDetail": product_view(product),
            "ProvisioningArtifactSummaries": product.artifacts.iter().map(|a| json!({ "Id": a.id, "Name": a.name, "Description": a.description, "CreatedTime": a.created })).collect::<Vec<_>>(),
            "Tags": [], "TagOptions": [], "Budgets": [],
        }))
    }

    fn list_artifacts(&self, body: &Value) -> Result<Value, AwsError> {
        let state = self.state();
        let product = state.product(required(body, "ProductId")?)?;
        Ok(json!({ "ProvisioningArtifactDetails": product.artifacts.iter().map(artifact_detail).collect::<Vec<_>>() }))
    }

    fn describe_artifact(&self, body: &Value) -> Result<Value, AwsError> {
        let state = self.state();
        let artifact = state.artifact(required(body, "ProductId")?, required(body, "ProvisioningArtifactId")?)?;
        Ok(json!({ "ProvisioningArtifactDetail": artifact_detail(artifact), "Status": "AVAILABLE",
                   "Info": { "TemplateUrl": artifact.template_url } }))
    }

    fn describe_parameters(&self, body: &Value) -> Result<Value, AwsError> {
        let state = self.state();
        let artifact = state.artifact(required(body, "ProductId")?, required(body, "ProvisioningArtifactId")?)?;
        let outputs: Vec<Value> = serde_json::from_str::<Value>(&artifact.template)
            .ok()
            .and_then(|t| t.get("Outputs").and_then(Value::as_object).cloned())
            .map(|o| o.iter().map(|(k, v)| json!({ "Key": k, "Description": v.get("Description") })).collect())
            .unwrap_or_default();
        Ok(json!({ "ProvisioningArtifactParameters": template_parameters(&artifact.template),
                   "ConstraintSummaries": [], "UsageInstructions": [], "TagOptions": [],
                   "ProvisioningArtifactOutputKeys": outputs }))
    }

    fn new_record(state: &mut State, record_type: &'static str, pp: &Provisioned) -> Record {
        let now = epoch_now();
        let record = Record {
            id: state.unique_id("rec"),
            record_type,
            provisioned_product_id: pp.id.clone(),
            provisioned_product_name: pp.name.clone(),
            product_id: pp.product_id.clone(),
            artifact_id: pp.artifact_id.clone(),
            status: "IN_PROGRESS",
            errors: Vec::new(),
            created: now,
            updated: now,
            outputs: Vec::new(),
        };
        state.records.insert(record.id.clone(), record.clone());
        record
    }

    fn provision(&self, body: &Value, caller: Caller, fault: Option<Fault>) -> Result<Value, AwsError> {
        let product_id = required(body, "ProductId")?.to_owned();
        let artifact_id = required(body, "ProvisioningArtifactId")?.to_owned();
        let name = required(body, "ProvisionedProductName")?.to_owned();
        let token = required(body, "ProvisionToken")?.to_owned();
        let mut state = self.state();
        if let Some(record_id) = state.tokens.get(&token) {
            // The same token again: the same record, as Service Catalog does.
            let record = state.records.get(record_id).ok_or_else(|| AwsError::not_found("record"))?;
            return Ok(json!({ "RecordDetail": record_json(record) }));
        }
        if state.provisioned.values().any(|p| p.name == name && p.status != "TERMINATED") {
            return Err(AwsError {
                status: axum::http::StatusCode::BAD_REQUEST,
                code: "DuplicateResourceException",
                message: format!("A provisioned product named {name} already exists"),
            });
        }
        let template = state.artifact(&product_id, &artifact_id)?.template.clone();
        let parameters: BTreeMap<String, String> = key_values(body, "ProvisioningParameters").into_iter().collect();
        let id = state.unique_id("pp");
        let pp = Provisioned {
            stack_name: format!("SC-{}", id),
            id: id.clone(),
            name,
            product_id,
            artifact_id,
            status: "UNDER_CHANGE",
            status_message: None,
            last_record_id: String::new(),
            created: epoch_now(),
            caller,
            parameters,
            tags: key_values(body, "Tags"),
            outputs: Vec::new(),
        };
        let record = Self::new_record(&mut state, "PROVISION_PRODUCT", &pp);
        let mut pp = pp;
        pp.last_record_id = record.id.clone();
        state.tokens.insert(token, record.id.clone());
        state.provisioned.insert(id.clone(), pp.clone());
        drop(state);

        let failure = match fault {
            Some(Fault::FailProvisioning { message }) => Some(message),
            _ => None,
        };
        let catalog = self.clone();
        let record_id = record.id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(catalog.step_delay).await;
            let result = match failure {
                Some(message) => Err(message),
                None => catalog.create_and_wait(&pp, &template).await,
            };
            catalog.finish(&id, &record_id, result);
        });
        Ok(json!({ "RecordDetail": record_json(&record) }))
    }

    async fn create_and_wait(&self, pp: &Provisioned, template: &str) -> Result<Vec<(String, String, Option<String>)>, String> {
        self.acting_role_allows(pp, |account| change_calls(template, Change::Create, account), true).await?;
        self.moto.create_stack(&pp.caller, &pp.stack_name, template, &pp.parameters, &pp.tags).await.map_err(|e| format!("{e:#}"))?;
        self.wait_for_stack(pp).await
    }

    async fn wait_for_stack(&self, pp: &Provisioned) -> Result<Vec<(String, String, Option<String>)>, String> {
        for _ in 0..60 {
            let stack = self.moto.stack(&pp.caller, &pp.stack_name).await.map_err(|e| format!("{e:#}"))?;
            match stack.status {
                StackStatus::CreateComplete | StackStatus::UpdateComplete => return Ok(stack.outputs),
                StackStatus::CreateInProgress | StackStatus::UpdateInProgress | StackStatus::UpdateCompleteCleanupInProgress => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => return Err(stack.reason.unwrap_or_else(|| format!("The stack is {}", other.as_str()))),
            }
        }
        Err("The stack did not settle in time".into())
    }

    fn finish(&self, pp_id: &str, record_id: &str, result: Result<Vec<(String, String, Option<String>)>, String>) {
        let mut state = self.state();
        let now = epoch_now();
        let (status, pp_status) = if result.is_ok() { ("SUCCEEDED", "AVAILABLE") } else { ("FAILED", "ERROR") };
        let terminated;
        if let Some(record) = state.records.get_mut(record_id) {
            record.status = status;
            record.updated = now;
            terminated = record.record_type == "TERMINATE_PROVISIONED_PRODUCT" && result.is_ok();
            match &result {
                Ok(outputs) => record.outputs = outputs.clone(),
                Err(message) => record.errors = vec![message.clone()],
            }
        } else {
            return;
        }
        if terminated {
            state.provisioned.remove(pp_id);
        } else if let Some(pp) = state.provisioned.get_mut(pp_id) {
            pp.status = pp_status;
            match result {
                Ok(outputs) if !outputs.is_empty() => pp.outputs = outputs,
                Ok(_) => {}
                Err(message) => pp.status_message = Some(message),
            }
        }
    }

    fn describe_record(&self, body: &Value) -> Result<Value, AwsError> {
        let state = self.state();
        let id = required(body, "Id")?;
        let record = state.records.get(id).ok_or_else(|| AwsError::not_found(format!("Record {id} not found")))?;
        Ok(json!({ "RecordDetail": record_json(record), "RecordOutputs": outputs_json(&record.outputs) }))
    }

    fn provisioned_product<'a>(state: &'a State, body: &Value, member: &str) -> Result<&'a Provisioned, AwsError> {
        let id = required(body, member)?;
        state.provisioned.get(id).ok_or_else(|| AwsError::not_found(format!("Provisioned product {id} not found")))
    }

    fn describe_provisioned(&self, body: &Value) -> Result<Value, AwsError> {
        let state = self.state();
        let pp = Self::provisioned_product(&state, body, "Id")?;
        Ok(json!({ "ProvisionedProductDetail": {
            "Name": pp.name, "Id": pp.id, "Type": "CFN_STACK", "Status": pp.status, "StatusMessage": pp.status_message,
            "CreatedTime": pp.created, "LastRecordId": pp.last_record_id, "ProductId": pp.product_id,
            "ProvisioningArtifactId": pp.artifact_id,
            "Arn": format!("arn:aws:servicecatalog:eu-west-1:123456789012:stack/{}/{}", pp.name, pp.id) },
            "CloudWatchDashboards": [] }))
    }

    fn provisioned_outputs(&self, body: &Value) -> Result<Value, AwsError> {
        let state = self.state();
        let pp = Self::provisioned_product(&state, body, "ProvisionedProductId")?;
        Ok(json!({ "Outputs": outputs_json(&pp.outputs) }))
    }

    fn update(&self, body: &Value, fault: Option<Fault>) -> Result<Value, AwsError> {
        let mut state = self.state();
        let mut pp = Self::provisioned_product(&state, body, "ProvisionedProductId")?.clone();
        if let Some(artifact_id) = body.get("ProvisioningArtifactId").and_then(Value::as_str) {
            pp.artifact_id = artifact_id.to_owned();
        }
        let template = state.artifact(&pp.product_id, &pp.artifact_id)?.template.clone();
        let before = pp.parameters.clone();
        for (key, value) in key_values(body, "ProvisioningParameters") {
            pp.parameters.insert(key, value);
        }
        let record = Self::new_record(&mut state, "UPDATE_PROVISIONED_PRODUCT", &pp);
        pp.last_record_id = record.id.clone();
        pp.status = "UNDER_CHANGE";
        state.provisioned.insert(pp.id.clone(), pp.clone());
        drop(state);
        let failure = match fault {
            Some(Fault::FailProvisioning { message }) => Some(message),
            _ => None,
        };
        let (catalog, record_id) = (self.clone(), record.id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(catalog.step_delay).await;
            let result = match failure {
                Some(message) => Err(message),
                None => match catalog.acting_role_allows(&pp, |account| change_calls(&template, Change::Update, account), true).await {
                    Ok(()) => catalog.apply_update(&pp, &before).await.map_err(|e| format!("{e:#}")),
                    Err(refusal) => Err(refusal),
                },
            };
            catalog.finish(&pp.id, &record_id, result);
        });
        Ok(json!({ "RecordDetail": record_json(&record) }))
    }

    /// Makes the change CloudFormation would make to the stack's resources. moto's UpdateStack
    /// loses an EC2 instance (its outputs then fail to resolve), so the emulator does what the
    /// update of `AWS::EC2::Instance` does itself: a new `InstanceType` stops the instance,
    /// modifies it and starts it again. Other values (a new version's extra parameters) are
    /// recorded only. The outputs stay as they were.
    async fn apply_update(
        &self,
        pp: &Provisioned,
        before: &BTreeMap<String, String>,
    ) -> anyhow::Result<Vec<(String, String, Option<String>)>> {
        if let Some(instance_type) = pp.parameters.get("InstanceType").filter(|new| before.get("InstanceType") != Some(*new)) {
            for instance in self.moto.stack_resources(&pp.caller, &pp.stack_name, "AWS::EC2::Instance").await? {
                self.moto.ec2_change_instance_type(&pp.caller, &instance, instance_type).await?;
            }
        }
        Ok(Vec::new())
    }

    fn terminate(&self, body: &Value) -> Result<Value, AwsError> {
        let mut state = self.state();
        let mut pp = Self::provisioned_product(&state, body, "ProvisionedProductId")?.clone();
        let template = state.artifact(&pp.product_id, &pp.artifact_id)?.template.clone();
        let record = Self::new_record(&mut state, "TERMINATE_PROVISIONED_PRODUCT", &pp);
        pp.last_record_id = record.id.clone();
        pp.status = "UNDER_CHANGE";
        state.provisioned.insert(pp.id.clone(), pp.clone());
        drop(state);
        let (catalog, record_id) = (self.clone(), record.id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(catalog.step_delay).await;
            let result = match catalog.acting_role_allows(&pp, |account| change_calls(&template, Change::Delete, account), true).await {
                Ok(()) => catalog.moto.delete_stack(&pp.caller, &pp.stack_name).await.map(|()| Vec::new()).map_err(|e| format!("{e:#}")),
                Err(refusal) => Err(refusal),
            };
            catalog.finish(&pp.id, &record_id, result);
        });
        Ok(json!({ "RecordDetail": record_json(&record) }))
    }

    fn list_actions(&self, body: &Value) -> Result<Value, AwsError> {
        let state = self.state();
        let artifact = state.artifact(required(body, "ProductId")?, required(body, "ProvisioningArtifactId")?)?;
        let summaries: Vec<Value> = state
            .actions
            .iter()
            .filter(|a| artifact.actions.contains(&a.id))
            .map(|a| json!({ "Id": a.id, "Name": a.name, "Description": a.description, "DefinitionType": "SSM_AUTOMATION" }))
            .collect();
        Ok(json!({ "ServiceActionSummaries": summaries }))
    }

    fn execute_action(&self, body: &Value) -> Result<Value, AwsError> {
        let mut state = self.state();
        let mut pp = Self::provisioned_product(&state, body, "ProvisionedProductId")?.clone();
        let action_id = required(body, "ServiceActionId")?;
        let action = state
            .actions
            .iter()
            .find(|a| a.id == action_id)
            .cloned()
            .ok_or_else(|| AwsError::not_found(format!("Service action {action_id} not found")))?;
        let allowed = state.artifact(&pp.product_id, &pp.artifact_id)?.actions.contains(&action.id);
        if !allowed {
            return Err(AwsError::invalid(format!("{} is not associated with this version", action.name)));
        }
        // The AWS-managed EC2 documents, and the ones an institution writes for notebooks
        // (an Automation step calling sagemaker:Stop/StartNotebookInstance).
        let (resource_type, operation) = match action.document.as_str() {
            "AWS-StopEC2Instance" => ("AWS::EC2::Instance", "StopInstances"),
            "AWS-StartEC2Instance" => ("AWS::EC2::Instance", "StartInstances"),
            "Atrium-StopNotebookInstance" => ("AWS::SageMaker::NotebookInstance", "StopNotebookInstance"),
            "Atrium-StartNotebookInstance" => ("AWS::SageMaker::NotebookInstance", "StartNotebookInstance"),
            other => return Err(AwsError::invalid(format!("The emulator cannot run the document {other}"))),
        };
        let record = Self::new_record(&mut state, "EXECUTE_PROVISIONED_PRODUCT_SERVICE_ACTION", &pp);
        pp.last_record_id = record.id.clone();
        state.provisioned.insert(pp.id.clone(), pp.clone());
        drop(state);
        let (catalog, record_id) = (self.clone(), record.id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(catalog.step_delay).await;
            let result = async {
                let allowed = catalog.acting_role_allows(&pp, |_| automation_calls(&action.document), action.launch_role).await;
                allowed.map_err(anyhow::Error::msg)?;
                let resources = catalog.moto.stack_resources(&pp.caller, &pp.stack_name, resource_type).await?;
                anyhow::ensure!(!resources.is_empty(), "The stack has no {resource_type} to act on");
                for resource in resources {
                    if resource_type == "AWS::EC2::Instance" {
                        catalog.moto.ec2_instance_action(&pp.caller, operation, &resource).await?;
                    } else {
                        // The physical id of a notebook instance is its ARN; the API wants the name.
                        let name = resource.rsplit('/').next().unwrap_or(&resource);
                        catalog.moto.notebook_action(&pp.caller, operation, name).await?;
                    }
                }
                Ok(Vec::new())
            }
            .await
            .map_err(|e: anyhow::Error| format!("{e:#}"));
            catalog.finish(&pp.id, &record_id, result);
        });
        Ok(json!({ "RecordDetail": record_json(&record) }))
    }
}
