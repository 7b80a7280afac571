//! The AWS JSON 1.1 wire protocol: `POST /` with `X-Amz-Target: <prefix>.<Operation>`, a JSON
//! body with PascalCase members, and errors as `{"__type": ..., "message": ...}`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug)]
pub struct AwsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AwsError {
    pub fn not_found(message: impl Into<String>) -> Self {
        AwsError { status: StatusCode::BAD_REQUEST, code: "ResourceNotFoundException", message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        AwsError { status: StatusCode::BAD_REQUEST, code: "InvalidParametersException", message: message.into() }
    }
    pub fn throttled() -> Self {
        AwsError { status: StatusCode::BAD_REQUEST, code: "ThrottlingException", message: "Rate exceeded".into() }
    }
    /// What AWS answers a role that lacks the permission for the call.
    pub fn access_denied(operation: &str) -> Self {
        AwsError {
            status: StatusCode::BAD_REQUEST,
            code: "AccessDeniedException",
            message: format!("User is not authorized to perform: servicecatalog:{operation}"),
        }
    }
    /// IAM's refusal of `action` to `arn` (a role whose policies do not allow it).
    pub fn not_authorized(arn: &str, action: &str) -> Self {
        AwsError {
            status: StatusCode::BAD_REQUEST,
            code: "AccessDeniedException",
            message: format!(
                "User: {arn} is not authorized to perform: {action} because no identity-based policy allows the {action} action"
            ),
        }
    }
    pub fn server_error() -> Self {
        AwsError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "InternalFailure", message: "injected server error".into() }
    }
    pub fn unknown_operation(target: &str) -> Self {
        AwsError { status: StatusCode::BAD_REQUEST, code: "UnknownOperationException", message: format!("{target} is not emulated") }
    }
    pub fn internal(error: anyhow::Error) -> Self {
        AwsError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "InternalFailure", message: format!("{error:#}") }
    }
}

impl From<anyhow::Error> for AwsError {
    fn from(error: anyhow::Error) -> Self {
        AwsError::internal(error)
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let body = json!({ "__type": self.code, "message": self.message });
        (self.status, [("content-type", "application/x-amz-json-1.1"), ("x-amzn-errortype", self.code)], body.to_string()).into_response()
    }
}

pub fn ok(body: Value) -> Response {
    (StatusCode::OK, [("content-type", "application/x-amz-json-1.1")], body.to_string()).into_response()
}

/// The caller's identity as far as moto cares: the access key (moto maps assumed-role keys to
/// their account) and session token. moto does not check signatures, so the secret is not needed.
#[derive(Debug, Clone)]
pub struct Caller {
    pub access_key_id: String,
    pub session_token: Option<String>,
    pub region: String,
}

impl Caller {
    pub fn from_headers(headers: &HeaderMap, default_region: &str) -> Caller {
        let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
        // Credential=AKID/20260101/eu-west-1/servicecatalog/aws4_request
        let scope: Vec<&str> = authorization
            .split("Credential=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .map(|credential| credential.split('/').collect())
            .unwrap_or_default();
        Caller {
            access_key_id: scope.first().copied().unwrap_or("testing").to_owned(),
            region: scope.get(2).copied().unwrap_or(default_region).to_owned(),
            session_token: headers.get("x-amz-security-token").and_then(|v| v.to_str().ok()).map(str::to_owned),
        }
    }
}

pub fn epoch_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// A string member of a request, or an InvalidParametersException naming it.
pub fn required<'a>(body: &'a Value, member: &str) -> Result<&'a str, AwsError> {
    body.get(member).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| AwsError::invalid(format!("{member} is required")))
}
