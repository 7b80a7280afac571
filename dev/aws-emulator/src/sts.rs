//! STS (`AWS_ENDPOINT_URL_STS`): `AssumeRole` checked against the role's trust policy as IAM
//! would, then passed to moto. moto itself never checks the trust of a role in another account,
//! and ignores a missing `sts:ExternalId`, so without this a portal that forgot its external id
//! would pass every test. Every AssumeRole is noted (`GET /_emulator/assumed-roles`) so tests
//! can count them and read the external id they carried. Other STS calls go on to moto.
//!
//! The trust is checked for roles that exist in moto's IAM (made by a team account's stack,
//! `deploy/team-account.yaml`); a role moto does not know is assumed as moto would, since most
//! tests' team accounts have no stack deployed.

use crate::iam::{allows_action, statements, strings};
use crate::moto::Moto;
use crate::wire::Caller;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One AssumeRole as it was asked for.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AssumeRoleCall {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    /// Whether the trust let it through.
    pub allowed: bool,
}

#[derive(Clone)]
pub struct Sts {
    moto: Moto,
    calls: Arc<Mutex<Vec<AssumeRoleCall>>>,
}

impl Sts {
    pub fn new(moto: Moto) -> Sts {
        Sts { moto, calls: Arc::new(Mutex::new(Vec::new())) }
    }

    pub fn calls(&self) -> Vec<AssumeRoleCall> {
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub async fn handle(&self, headers: &HeaderMap, body: Bytes) -> Response {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
        if form.get("Action").map(String::as_str) != Some("AssumeRole") {
            return self.moto.forward(headers, body).await;
        }
        let role_arn = form.get("RoleArn").cloned().unwrap_or_default();
        let external_id = form.get("ExternalId").cloned();
        let caller = Caller::from_headers(headers, "us-east-1");
        let verdict = self.trust_allows(&caller, &role_arn, external_id.as_deref()).await;
        let call = AssumeRoleCall {
            role_arn: role_arn.clone(),
            session_name: form.get("RoleSessionName").cloned().unwrap_or_default(),
            external_id,
            allowed: verdict.is_ok(),
        };
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(call);
        match verdict {
            Ok(()) => self.moto.forward(headers, body).await,
            Err(message) => access_denied(&message),
        }
    }

    /// Ok, or IAM's refusal in its words.
    async fn trust_allows(&self, caller: &Caller, role_arn: &str, external_id: Option<&str>) -> Result<(), String> {
        let denied = |who: &str| format!("User: {who} is not authorized to perform: sts:AssumeRole on resource: {role_arn}");
        let (Some(account), Some(name)) = (role_arn.split(':').nth(4), role_arn.rsplit('/').next()) else {
            return Err(denied("the caller"));
        };
        let Some(trust) = self.moto.role_trust_policy(account, name).await else { return Ok(()) };
        let identity = self.moto.caller_identity(caller).await.map_err(|error| format!("{error:#}"))?;
        let allowed = statements(&trust).iter().any(|statement| {
            allows_action(statement, "sts:AssumeRole")
                && strings(&statement["Principal"]["AWS"]).iter().any(|principal| {
                    principal == "*"
                        || principal == &identity.arn
                        || principal == &identity.account
                        || principal.contains(&format!(":{}:root", identity.account))
                })
                && external_id_matches(&statement["Condition"], external_id)
        });
        if allowed { Ok(()) } else { Err(denied(&identity.arn)) }
    }
}

/// A statement's `StringEquals` on `sts:ExternalId`, if it has one, against the request's.
fn external_id_matches(condition: &Value, external_id: Option<&str>) -> bool {
    let required = strings(&condition["StringEquals"]["sts:ExternalId"]);
    required.is_empty() || external_id.is_some_and(|given| required.iter().any(|id| id == given))
}

fn access_denied(message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code>\
         <Message>{}</Message></Error><RequestId>emulator</RequestId></ErrorResponse>",
        message.replace('&', "&amp;").replace('<', "&lt;")
    );
    (StatusCode::FORBIDDEN, [("content-type", "text/xml")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::external_id_matches;
    use serde_json::json;

    #[test]
    fn an_external_id_condition_needs_that_id() {
        let condition = json!({ "StringEquals": { "sts:ExternalId": "abc" } });
        assert!(external_id_matches(&condition, Some("abc")));
        assert!(!external_id_matches(&condition, Some("abd")));
        assert!(!external_id_matches(&condition, None));
        assert!(external_id_matches(&json!(null), None), "no condition: anyone the principal names");
    }
}
