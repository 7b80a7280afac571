//! A small AWS emulator for development and tests only: the Service Catalog and SageMaker
//! operations Atrium calls that moto does not implement, over the real AWS JSON 1.1 wire
//! protocol, so the real SDK clients reach it through `AWS_ENDPOINT_URL_SERVICE_CATALOG` and
//! `AWS_ENDPOINT_URL_SAGEMAKER`. Provisioning creates real CloudFormation stacks in moto.
//! Everything else it is sent is S3 (`AWS_ENDPOINT_URL_S3`), checked as S3 would and passed
//! to moto (see `s3`). SSM (`AWS_ENDPOINT_URL_SSM`) answers Session Manager's `StartSession`
//! (see `ssm`); SSM and SageMaker calls it does not answer itself go on to moto. STS
//! (`AWS_ENDPOINT_URL_STS`) checks AssumeRole against the role's trust (see `sts`), and the
//! operations answered here are checked against the calling role's policies (see `iam`), and
//! Service Catalog's own calls against the product's launch role (see `launch_role`).
//!
//! Tests steer it through `POST /_emulator/faults` (see `faults::FaultRule`).

pub mod catalog;
pub mod faults;
pub mod iam;
pub mod launch_role;
pub mod moto;
pub mod s3;
pub mod sagemaker;
pub mod ssm;
pub mod sts;
pub mod wire;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use faults::{Fault, FaultRule, Faults};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wire::{AwsError, Caller};

/// The demo products' CloudFormation templates, served at `/templates/<name>` so that
/// `CreateProduct` can load them by URL as Service Catalog does.
pub const TEMPLATES: [(&str, &str); 5] = [
    ("linux-workstation-v1.json", include_str!("../templates/linux-workstation-v1.json")),
    ("linux-workstation-v2.json", include_str!("../templates/linux-workstation-v2.json")),
    ("sagemaker-notebook.json", include_str!("../templates/sagemaker-notebook.json")),
    ("emr-cluster.json", include_str!("../templates/emr-cluster.json")),
    ("sagemaker-studio.json", include_str!("../templates/sagemaker-studio.json")),
];

#[derive(Clone)]
pub struct Emulator {
    catalog: catalog::Catalog,
    sagemaker: sagemaker::SageMaker,
    ssm: ssm::Ssm,
    sts: sts::Sts,
    iam: iam::Iam,
    moto: moto::Moto,
    s3: s3::S3Proxy,
    faults: Arc<Mutex<Faults>>,
    region: String,
}

impl Emulator {
    pub fn new(moto_endpoint: String, public_url: String, step_delay: Duration, region: String) -> Emulator {
        let moto = moto::Moto::new(moto_endpoint.clone());
        let iam = iam::Iam::new(moto.clone());
        Emulator {
            s3: s3::S3Proxy::new(moto_endpoint),
            catalog: catalog::Catalog::new(moto.clone(), iam.clone(), step_delay),
            sagemaker: sagemaker::SageMaker::new(moto.clone(), public_url),
            ssm: ssm::Ssm::new(moto.clone()),
            sts: sts::Sts::new(moto.clone()),
            iam,
            moto,
            faults: Arc::new(Mutex::new(Faults::default())),
            region,
        }
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/", post(dispatch))
            .route("/_emulator/faults", post(add_fault).get(pending_faults).delete(clear_faults))
            .route("/_emulator/sessions", get(|State(emulator): State<Emulator>| async move { Json(emulator.ssm.sessions()) }))
            .route("/_emulator/assumed-roles", get(|State(emulator): State<Emulator>| async move { Json(emulator.sts.calls()) }))
            .route("/_emulator/accounts/{account}/stacks", post(deploy_stack))
            .route("/templates/{name}", get(template))
            .route("/sagemaker/presigned", get(presigned_landing))
            .route("/healthz", get(|| async { "ok" }))
            .fallback(s3_request)
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(self)
    }
}

async fn dispatch(State(emulator): State<Emulator>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    // STS speaks the query protocol: a form, no target header.
    let form =
        headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if target.is_empty() && form {
        return emulator.sts.handle(&headers, body).await;
    }
    let Some((service, operation)) = target.split_once('.') else {
        return AwsError::unknown_operation(&target).into_response();
    };
    // What moto answers itself (Parameter Store, notebook instances) goes on to it.
    let ours = match service {
        "AmazonSSM" => operation == "StartSession",
        "SageMaker" => sagemaker::OPERATIONS.contains(&operation),
        _ => true,
    };
    if !ours {
        return emulator.moto.forward(&headers, body).await;
    }
    let fault = emulator.faults().take(operation, &String::from_utf8_lossy(&body));
    match &fault {
        Some(Fault::Throttle) => return AwsError::throttled().into_response(),
        Some(Fault::ServerError) => return AwsError::server_error().into_response(),
        Some(Fault::AccessDenied) => return AwsError::access_denied(operation).into_response(),
        Some(fault) => {
            if let Some(delay) = faults::delay(fault) {
                tokio::time::sleep(delay).await;
            }
        }
        None => {}
    }
    let body: serde_json::Value = if body.is_empty() {
        serde_json::json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(body) => body,
            Err(e) => return AwsError::invalid(format!("The request body is not JSON: {e}")).into_response(),
        }
    };
    let caller = Caller::from_headers(&headers, &emulator.region);
    tracing::info!(%operation, access_key = %caller.access_key_id, "call");
    if let Err(denied) = emulator.iam.authorize(&caller, service, operation).await {
        return denied.into_response();
    }
    let result = match service {
        "AWS242ServiceCatalogService" => emulator.catalog.handle(operation, body, caller, fault).await,
        "SageMaker" => emulator.sagemaker.handle(operation, body, caller).await,
        "AmazonSSM" => emulator.ssm.start_session(&body, caller).await,
        _ => Err(AwsError::unknown_operation(&target)),
    };
    match result {
        Ok(answer) => wire::ok(answer),
        Err(error) => error.into_response(),
    }
}

/// S3, with the faults of operation `S3` whose `body_contains` is in "<METHOD> <path>".
async fn s3_request(State(emulator): State<Emulator>, request: axum::extract::Request) -> Response {
    let call = format!("{} {}", request.method(), request.uri());
    match emulator.faults().take("S3", &call) {
        Some(Fault::ServerError | Fault::Throttle) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [("content-type", "application/xml")],
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
            )
                .into_response();
        }
        Some(Fault::AccessDenied) => {
            return (
                StatusCode::FORBIDDEN,
                [("content-type", "application/xml")],
                "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
            )
                .into_response();
        }
        _ => {}
    }
    s3::handle(State(emulator.s3.clone()), request).await
}

async fn add_fault(State(emulator): State<Emulator>, Json(rule): Json<FaultRule>) -> StatusCode {
    emulator.faults().add(rule);
    StatusCode::NO_CONTENT
}

async fn pending_faults(State(emulator): State<Emulator>) -> Json<Vec<FaultRule>> {
    Json(emulator.faults().pending())
}

async fn clear_faults(State(emulator): State<Emulator>) -> StatusCode {
    emulator.faults().clear();
    StatusCode::NO_CONTENT
}

/// A stack an account's own admin deploys (a team account's `deploy/team-account.yaml`).
#[derive(serde::Deserialize)]
struct StackDeployment {
    name: String,
    template: String,
    #[serde(default)]
    parameters: std::collections::BTreeMap<String, String>,
}

/// Deploys a stack in `account` as its admin would in the console, anew (moto's UpdateStack
/// keeps a role's trust as it was); its status and outputs.
async fn deploy_stack(State(emulator): State<Emulator>, Path(account): Path<String>, Json(stack): Json<StackDeployment>) -> Response {
    let deployed = async {
        let admin = emulator.moto.account_admin(&account, &emulator.region).await?;
        if emulator.moto.stack(&admin, &stack.name).await.is_ok() {
            emulator.moto.delete_stack(&admin, &stack.name).await?;
        }
        emulator.moto.create_stack(&admin, &stack.name, &stack.template, &stack.parameters, &[]).await?;
        emulator.moto.stack(&admin, &stack.name).await
    };
    match deployed.await {
        Ok(state) => Json(serde_json::json!({
            "status": state.status.as_str(),
            "reason": state.reason,
            "outputs": state.outputs.into_iter().map(|(key, value, _)| (key, value)).collect::<std::collections::BTreeMap<_, _>>(),
        }))
        .into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, format!("{error:#}")).into_response(),
    }
}

async fn template(Path(name): Path<String>) -> Response {
    match TEMPLATES.iter().find(|(file, _)| *file == name) {
        Some((_, body)) => ([("content-type", "application/json")], *body).into_response(),
        None => (StatusCode::NOT_FOUND, "no such template").into_response(),
    }
}

#[derive(serde::Deserialize)]
struct PresignedQuery {
    #[serde(default)]
    token: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn presigned_landing(State(emulator): State<Emulator>, Query(query): Query<PresignedQuery>) -> Response {
    match emulator.sagemaker.open(&query.token) {
        Ok(claims) => Html(format!(
            "<!DOCTYPE html><title>SageMaker (emulated)</title><h1 data-testid=\"sagemaker-landing\">SageMaker {resource}</h1>\
             <p>Signed in as <strong data-testid=\"sagemaker-user\">{user}</strong> in account \
             <strong data-testid=\"sagemaker-account\">{account}</strong>.</p>",
            resource = escape(&claims.resource),
            user = escape(&claims.user),
            account = escape(&claims.account),
        ))
        .into_response(),
        Err(reason) => (
            StatusCode::FORBIDDEN,
            Html(format!(
                "<!DOCTYPE html><title>SageMaker (emulated)</title><h1 data-testid=\"sagemaker-landing\">This link is {reason}</h1>"
            )),
        )
            .into_response(),
    }
}
