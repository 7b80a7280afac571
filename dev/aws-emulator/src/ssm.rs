//! Session Manager's `StartSession`, which moto lacks; every other SSM call (Parameter Store)
//! goes on to moto. A session is for a running instance of the caller's account and a document
//! Atrium may start; it is recorded so that tests can read what was asked
//! (`GET /_emulator/sessions`). The token is random and opens nothing: there is no agent here.

use crate::moto::Moto;
use crate::wire::{AwsError, Caller, required};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The documents Atrium starts sessions with.
const DOCUMENTS: [&str; 2] = ["AWS-StartPortForwardingSession", "AWS-StartSSHSession"];

#[derive(Clone)]
pub struct Ssm {
    moto: Moto,
    sessions: Arc<Mutex<Vec<Value>>>,
}

impl Ssm {
    pub fn new(moto: Moto) -> Ssm {
        Ssm { moto, sessions: Arc::default() }
    }

    pub fn sessions(&self) -> Vec<Value> {
        self.sessions.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub async fn start_session(&self, body: &Value, caller: Caller) -> Result<Value, AwsError> {
        let target = required(body, "Target")?;
        let document = body.get("DocumentName").and_then(Value::as_str).unwrap_or("SSM-SessionManagerRunShell");
        if !DOCUMENTS.contains(&document) {
            return Err(AwsError::invalid(format!("The emulator does not start sessions with {document}")));
        }
        let parameters = body.get("Parameters").cloned().unwrap_or_else(|| json!({}));
        if document == "AWS-StartPortForwardingSession" {
            let port = parameters["portNumber"][0].as_str().and_then(|p| p.parse::<u16>().ok());
            if port.is_none() {
                return Err(AwsError::invalid("AWS-StartPortForwardingSession needs portNumber"));
            }
        }
        let identity = self.moto.caller_identity(&caller).await?;
        match self.moto.ec2_instance_state(&caller, target).await.map_err(AwsError::internal)?.as_deref() {
            Some("running") => {}
            _ => {
                return Err(AwsError {
                    status: axum::http::StatusCode::BAD_REQUEST,
                    code: "TargetNotConnected",
                    message: format!("{target} is not connected."),
                });
            }
        }
        let who = identity.session_name.clone().unwrap_or_else(|| identity.arn.rsplit('/').next().unwrap_or("user").to_owned());
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let session_id = format!("{who}-{:017x}", nanos & 0xffff_ffff_ffff_ffff);
        self.sessions.lock().map_err(|_| AwsError::internal(anyhow::anyhow!("poisoned")))?.push(json!({
            "SessionId": session_id, "Target": target, "DocumentName": document, "Parameters": parameters,
            "Account": identity.account, "Caller": identity.arn,
        }));
        Ok(json!({
            "SessionId": session_id,
            "TokenValue": format!("emulated-{nanos:x}"),
            "StreamUrl": format!("wss://ssmmessages.{}.amazonaws.com/v1/data-channel/{session_id}?role=publish_subscribe", caller.region),
        }))
    }
}
