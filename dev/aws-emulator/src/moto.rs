//! Calls into moto as the caller: the same access key and session token, so moto acts in the
//! caller's (assumed-role) account.

use crate::wire::Caller;
use anyhow::Context;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_cloudformation::types::{Parameter, StackStatus, Tag};
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct Moto {
    pub endpoint: String,
    http: reqwest::Client,
}

pub struct Identity {
    pub account: String,
    pub arn: String,
    pub session_name: Option<String>,
}

pub struct StackState {
    pub status: StackStatus,
    pub reason: Option<String>,
    pub outputs: Vec<(String, String, Option<String>)>,
}

impl Moto {
    pub fn new(endpoint: String) -> Moto {
        Moto { endpoint, http: reqwest::Client::new() }
    }

    async fn config(&self, caller: &Caller) -> aws_config::SdkConfig {
        let credentials = Credentials::new(
            caller.access_key_id.clone(),
            "the-emulator-does-not-know-the-secret",
            caller.session_token.clone(),
            None,
            "caller",
        );
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new(caller.region.clone()))
            .credentials_provider(credentials)
            .load()
            .await
    }

    pub async fn cloudformation(&self, caller: &Caller) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.config(caller).await)
    }

    /// Who moto takes this caller for: account, ARN and, for an assumed role, the session name.
    pub async fn caller_identity(&self, caller: &Caller) -> anyhow::Result<Identity> {
        let sts = aws_sdk_sts::Client::new(&self.config(caller).await);
        let identity = sts.get_caller_identity().send().await.context("GetCallerIdentity failed")?;
        let arn = identity.arn.context("GetCallerIdentity returned no ARN")?;
        let session_name = arn.contains(":assumed-role/").then(|| arn.rsplit('/').next().map(str::to_owned)).flatten();
        Ok(Identity { account: identity.account.context("GetCallerIdentity returned no account")?, arn, session_name })
    }

    pub async fn create_stack(
        &self,
        caller: &Caller,
        name: &str,
        template: &str,
        parameters: &BTreeMap<String, String>,
        tags: &[(String, String)],
    ) -> anyhow::Result<()> {
        let mut request = self.cloudformation(caller).await.create_stack().stack_name(name).template_body(template);
        for (key, value) in parameters {
            request = request.parameters(Parameter::builder().parameter_key(key).parameter_value(value).build());
        }
        for (key, value) in tags {
            request = request.tags(Tag::builder().key(key).value(value).build());
        }
        request.send().await.context("CreateStack failed")?;
        Ok(())
    }

    /// An administrator of `account` (moto lets anyone assume a role it does not know), for
    /// what an account's own admin does there: deploying the team account's stack.
    pub async fn account_admin(&self, account: &str, region: &str) -> anyhow::Result<Caller> {
        let portal = Caller { access_key_id: "testing".into(), session_token: None, region: region.to_owned() };
        let assumed = aws_sdk_sts::Client::new(&self.config(&portal).await)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/account-admin"))
            .role_session_name("account-admin")
            .send()
            .await
            .context("AssumeRole into the account failed")?;
        let credentials = assumed.credentials.context("AssumeRole returned no credentials")?;
        Ok(Caller { access_key_id: credentials.access_key_id, session_token: Some(credentials.session_token), region: region.to_owned() })
    }

    pub async fn delete_stack(&self, caller: &Caller, name: &str) -> anyhow::Result<()> {
        self.cloudformation(caller).await.delete_stack().stack_name(name).send().await.context("DeleteStack failed")?;
        Ok(())
    }

    pub async fn stack(&self, caller: &Caller, name: &str) -> anyhow::Result<StackState> {
        let response =
            self.cloudformation(caller).await.describe_stacks().stack_name(name).send().await.context("DescribeStacks failed")?;
        let stack = response.stacks.unwrap_or_default().into_iter().next().context("the stack is gone")?;
        Ok(StackState {
            status: stack.stack_status.unwrap_or(StackStatus::CreateFailed),
            reason: stack.stack_status_reason,
            outputs: stack
                .outputs
                .unwrap_or_default()
                .into_iter()
                .filter_map(|o| Some((o.output_key?, o.output_value?, o.description)))
                .collect(),
        })
    }

    /// The stack's resources of `resource_type`, as physical ids.
    pub async fn stack_resources(&self, caller: &Caller, name: &str, resource_type: &str) -> anyhow::Result<Vec<String>> {
        let response = self
            .cloudformation(caller)
            .await
            .describe_stack_resources()
            .stack_name(name)
            .send()
            .await
            .context("DescribeStackResources failed")?;
        Ok(response
            .stack_resources
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.resource_type.as_deref() == Some(resource_type))
            .filter_map(|r| r.physical_resource_id)
            .collect())
    }

    /// Runs an EC2 query-protocol action on moto as the caller (moto reads the account from
    /// the access key in the Authorization header and does not check the signature).
    pub async fn ec2_instance_action(&self, caller: &Caller, action: &str, instance_id: &str) -> anyhow::Result<()> {
        self.ec2_call(caller, action, &[("InstanceId.1", instance_id)]).await.map(drop)
    }

    /// The instance's state name in the caller's account ("running", "stopped"), if it exists.
    pub async fn ec2_instance_state(&self, caller: &Caller, instance_id: &str) -> anyhow::Result<Option<String>> {
        let answer = match self.ec2_call(caller, "DescribeInstances", &[("InstanceId.1", instance_id)]).await {
            Ok(answer) => answer,
            Err(_) => return Ok(None), // InvalidInstanceID.NotFound
        };
        let state = answer.split("<instanceState>").nth(1).and_then(|s| s.split("<name>").nth(1)).and_then(|s| s.split('<').next());
        Ok(state.map(str::to_owned))
    }

    /// A new instance type, as CloudFormation changes it: stop, modify, start.
    pub async fn ec2_change_instance_type(&self, caller: &Caller, instance_id: &str, instance_type: &str) -> anyhow::Result<()> {
        self.ec2_instance_action(caller, "StopInstances", instance_id).await?;
        self.ec2_call(caller, "ModifyInstanceAttribute", &[("InstanceId", instance_id), ("InstanceType.Value", instance_type)]).await?;
        self.ec2_instance_action(caller, "StartInstances", instance_id).await
    }

    /// Its answer's XML.
    async fn ec2_call(&self, caller: &Caller, action: &str, parameters: &[(&str, &str)]) -> anyhow::Result<String> {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/20260101/{}/ec2/aws4_request, SignedHeaders=host, Signature=0",
            caller.access_key_id, caller.region
        );
        let mut request = self
            .http
            .post(&self.endpoint)
            .header("authorization", authorization)
            .form(&[[("Action", action), ("Version", "2016-11-15")].as_slice(), parameters].concat());
        if let Some(token) = &caller.session_token {
            request = request.header("x-amz-security-token", token);
        }
        let response = request.send().await.context("EC2 call to moto failed")?;
        anyhow::ensure!(response.status().is_success(), "EC2 {action} answered {}", response.status());
        response.text().await.context("EC2 answer unreadable")
    }

    /// An IAM query call in `account` (moto reads the account from `x-moto-account-id`); the
    /// answer's XML, or None when moto refused it or could not be asked.
    async fn iam_call(&self, account: &str, parameters: &[(&str, &str)]) -> Option<String> {
        self.query("iam", account, &[[("Version", "2010-05-08")].as_slice(), parameters].concat()).await.ok()
    }

    /// A call over a query-protocol API (`service`: IAM, CloudFormation…) in `account`, as that
    /// account's administrator would make it; moto only, with its IAM enforcement off (the call is
    /// not signed). The answer's XML, or moto's refusal in words.
    pub async fn query(&self, service: &str, account: &str, parameters: &[(&str, &str)]) -> Result<String, String> {
        let response = self
            .http
            .post(&self.endpoint)
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential=emulator/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .header("x-moto-account-id", account)
            .form(parameters)
            .send()
            .await
            .map_err(|error| format!("moto could not be asked: {error}"))?;
        let status = response.status();
        let body = response.text().await.map_err(|error| format!("moto's answer could not be read: {error}"))?;
        if status.is_success() { Ok(body) } else { Err(format!("moto answered {status}: {body}")) }
    }

    /// The trust policy of role `name` in `account`, from moto's IAM; None when moto has no such
    /// role (or cannot be asked).
    pub async fn role_trust_policy(&self, account: &str, name: &str) -> Option<serde_json::Value> {
        let xml = self.iam_call(account, &[("Action", "GetRole"), ("RoleName", name)]).await?;
        decode_policy(xml_element(&xml, "AssumeRolePolicyDocument")?)
    }

    /// The inline policies of role `name` in `account`, from moto's IAM; None when moto has no
    /// such role.
    pub async fn role_policies(&self, account: &str, name: &str) -> Option<Vec<serde_json::Value>> {
        let listed = self.iam_call(account, &[("Action", "ListRolePolicies"), ("RoleName", name)]).await?;
        let mut policies = Vec::new();
        for policy_name in listed.split("<member>").skip(1).filter_map(|rest| rest.split("</member>").next()) {
            let parameters = [("Action", "GetRolePolicy"), ("RoleName", name), ("PolicyName", policy_name)];
            let document = self.iam_call(account, &parameters).await?;
            policies.push(decode_policy(xml_element(&document, "PolicyDocument")?)?);
        }
        Some(policies)
    }

    /// Runs a SageMaker notebook action (`StopNotebookInstance`, `StartNotebookInstance`) on
    /// moto as the caller, over SageMaker's JSON protocol.
    pub async fn notebook_action(&self, caller: &Caller, action: &str, notebook: &str) -> anyhow::Result<()> {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/20260101/{}/sagemaker/aws4_request, SignedHeaders=host, Signature=0",
            caller.access_key_id, caller.region
        );
        let mut request = self
            .http
            .post(&self.endpoint)
            .header("authorization", authorization)
            .header("x-amz-target", format!("SageMaker.{action}"))
            .header("content-type", "application/x-amz-json-1.1")
            .body(serde_json::json!({ "NotebookInstanceName": notebook }).to_string());
        if let Some(token) = &caller.session_token {
            request = request.header("x-amz-security-token", token);
        }
        let response = request.send().await.context("SageMaker call to moto failed")?;
        anyhow::ensure!(response.status().is_success(), "SageMaker {action} answered {}", response.status());
        Ok(())
    }
}

impl Moto {
    /// Passes a JSON-protocol call the emulator does not answer itself to moto, as it came.
    pub async fn forward(&self, headers: &axum::http::HeaderMap, body: axum::body::Bytes) -> axum::response::Response {
        use axum::response::IntoResponse;
        let mut outgoing = self.http.post(&self.endpoint).body(body);
        for (name, value) in headers {
            if !matches!(name.as_str(), "host" | "content-length" | "connection") {
                outgoing = outgoing.header(name, value);
            }
        }
        match outgoing.send().await {
            Ok(answer) => {
                let status = axum::http::StatusCode::from_u16(answer.status().as_u16()).unwrap_or(axum::http::StatusCode::BAD_GATEWAY);
                let content_type =
                    answer.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/x-amz-json-1.1").to_owned();
                let body = answer.bytes().await.unwrap_or_default();
                (status, [("content-type", content_type)], body).into_response()
            }
            Err(error) => (axum::http::StatusCode::BAD_GATEWAY, format!("moto is unreachable: {error}")).into_response(),
        }
    }
}

/// The text of the first `<tag>` element of an XML answer.
pub fn xml_element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    xml.split(&format!("<{tag}>")).nth(1)?.split(&format!("</{tag}>")).next()
}

/// A policy document as IAM's XML answers carry it: XML-escaped, URL-encoded JSON.
pub fn decode_policy(encoded: &str) -> Option<serde_json::Value> {
    let unescaped = encoded.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    let decoded = url::form_urlencoded::parse(format!("d={unescaped}").as_bytes()).next().map(|(_, value)| value.into_owned())?;
    serde_json::from_str(&decoded).ok()
}
