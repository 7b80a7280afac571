//! Least privilege, proven under IAM enforcement. A moto of this test's own (enforcement is
//! global to a moto process, and the other tests share theirs) holds a team account with the
//! stack from `deploy/team-account.yaml`, and the portal as an IAM user with the task role's
//! `TeamAccounts` statement from `deploy/atrium.yaml`. With enforcement on, the connection test,
//! which makes one call per capability with the same SDK operations the portal's journeys make,
//! passes through the team's role; without any one statement of the role's policy, that
//! statement's capability fails, and only it, naming the permission. No statement is unused.
//!
//! Where moto's enforcement differs from IAM's, the policy is installed as moto can read it:
//! - moto evaluates a statement's `Resource` only for S3, STS and IAM; for every other service
//!   it compares the policy's resources with `*`, so those statements get `Resource: "*"` here.
//!   Their scoping in the template is not proven by this test.
//! - moto names CloudWatch's actions `monitoring:…`, after its endpoint, so a CloudWatch action
//!   is also granted under that name.
//! - moto checks neither a role's trust across accounts nor the external id, nor conditions
//!   other than `StringEquals`: the AWS emulator does (`team_accounts.rs`).
//! - moto has no Service Catalog actions beyond `ListPortfolios` that the check uses, and no
//!   SageMaker presigned URLs, user profiles or `StartSession`: it authorizes those calls and
//!   then fails them with a 500, which the check takes for "allowed" (only a refusal fails a
//!   step). The AWS emulator, which answers them in the other tests, checks them against the
//!   same policy (`team_accounts.rs`).

use app::domain::team_admin::CheckStep;
use atrium::aws::account_check::{AccountCheck, SdkAccountCheck};
use atrium::aws::team_role::{TeamRole, TeamSessions};
use aws_emulator::moto::{Moto, decode_policy, xml_element};
use serde_json::{Value, json};
use std::time::Duration;

/// moto's default account: the portal's.
const PORTAL_ACCOUNT: &str = "123456789012";
const TEAM_ACCOUNT: &str = "565656565656";
const SLUG: &str = "least-privilege";
const EXTERNAL_ID: &str = "the-external-id-of-the-least-privilege-team";
const ROLE: &str = "AtriumPortalAccess";
const ROLE_POLICY: &str = "atrium-portal-access";

/// moto_server on a port of its own, stopped when the test ends.
struct PrivateMoto {
    moto: Moto,
    process: std::process::Child,
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl PrivateMoto {
    async fn start() -> PrivateMoto {
        let server = std::env::var("ATRIUM_MOTO_SERVER").expect("dev/test names moto's server in ATRIUM_MOTO_SERVER");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port();
        let process = std::process::Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto starts");
        let moto = PrivateMoto { moto: Moto::new(format!("http://127.0.0.1:{port}")), process };
        for _ in 0..300 {
            if reqwest::get(format!("{}/moto-api/", moto.moto.endpoint)).await.is_ok_and(|r| r.status().is_success()) {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto did not answer within 30 s");
    }

    /// Switches moto's IAM enforcement on (every call is authenticated and authorized) or off.
    async fn enforce(&self, on: bool) {
        let response = reqwest::Client::new()
            .post(format!("{}/moto-api/reset-auth", self.moto.endpoint))
            .body(if on { "0" } else { "inf" })
            .send()
            .await
            .expect("moto answers");
        assert!(response.status().is_success(), "reset-auth: {}", response.text().await.unwrap_or_default());
    }

    async fn call(&self, service: &str, account: &str, parameters: &[(&str, &str)]) -> String {
        self.moto.query(service, account, parameters).await.unwrap_or_else(|refusal| panic!("{service} {parameters:?}: {refusal}"))
    }

    async fn iam(&self, account: &str, parameters: &[(&str, &str)]) -> String {
        self.call("iam", account, &[[("Version", "2010-05-08")].as_slice(), parameters].concat()).await
    }

    async fn put_role_policy(&self, statements: &[Value]) {
        let document = json!({ "Version": "2012-10-17", "Statement": statements }).to_string();
        self.iam(
            TEAM_ACCOUNT,
            &[("Action", "PutRolePolicy"), ("RoleName", ROLE), ("PolicyName", ROLE_POLICY), ("PolicyDocument", &document)],
        )
        .await;
    }

    /// The portal's identity: IAM user `user` in the portal's account with `statements`; the SDK
    /// configuration that calls moto with its access key (signed, as enforcement wants).
    async fn portal(&self, user: &str, statements: &[Value]) -> aws_config::SdkConfig {
        self.iam(PORTAL_ACCOUNT, &[("Action", "CreateUser"), ("UserName", user)]).await;
        let document = json!({ "Version": "2012-10-17", "Statement": statements }).to_string();
        self.iam(
            PORTAL_ACCOUNT,
            &[("Action", "PutUserPolicy"), ("UserName", user), ("PolicyName", "task-role"), ("PolicyDocument", &document)],
        )
        .await;
        let key = self.iam(PORTAL_ACCOUNT, &[("Action", "CreateAccessKey"), ("UserName", user)]).await;
        let element = |tag: &str| xml_element(&key, tag).unwrap_or_else(|| panic!("CreateAccessKey gives {tag}: {key}")).to_owned();
        let credentials = aws_credential_types::Credentials::new(element("AccessKeyId"), element("SecretAccessKey"), None, None, "test");
        // Built by hand, not loaded: the loaded configuration would follow this process's
        // AWS_ENDPOINT_URL_STS to the shared AWS emulator.
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.moto.endpoint)
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build()
    }
}

/// A statement as moto's enforcement can read it (see the module's comment).
fn moto_view(statement: &Value) -> Value {
    let actions: Vec<String> = match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        Value::Array(actions) => actions.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        other => panic!("a statement's actions: {other}"),
    };
    let mut view = statement.clone();
    if actions.iter().any(|action| !action.starts_with("s3:") && !action.starts_with("sts:")) {
        view["Resource"] = json!("*");
    }
    let monitoring = actions.iter().filter_map(|action| action.strip_prefix("cloudwatch:")).map(|name| format!("monitoring:{name}"));
    view["Action"] = json!(actions.iter().cloned().chain(monitoring).collect::<Vec<_>>());
    view
}

/// The steps moto authorizes and then cannot do (it answers 500): the AWS emulator answers
/// them in the other tests.
const NOT_IN_MOTO: [&str; 3] = ["Connect to notebooks (SageMaker)", "Open SageMaker Studio", "Session Manager"];

fn moto_cannot_do(step: &CheckStep) -> bool {
    NOT_IN_MOTO.contains(&step.step.as_str()) && step.detail.contains("StatusCode(500)")
}

/// The steps of the connection test that failed, but for those moto authorized and could not
/// do: (step, what it says).
fn failures(steps: &[CheckStep]) -> Vec<(String, String)> {
    steps.iter().filter(|step| !step.ok && !moto_cannot_do(step)).map(|step| (step.step.clone(), step.detail.clone())).collect()
}

/// The task role's `TeamAccounts` statement in `deploy/atrium.yaml`, its `${TeamRoleName}`
/// at the default. Its `Null` condition on `sts:ExternalId` is one moto ignores.
fn team_accounts_statement() -> Value {
    let template = include_str!("../../../deploy/atrium.yaml");
    let statement = template.split("- Sid: TeamAccounts\n").nth(1).and_then(|rest| rest.split("- Sid:").next()).expect("TeamAccounts");
    assert!(statement.contains("Action: sts:AssumeRole\n"), "the statement this test installs: {statement}");
    assert!(statement.contains(r#"Resource: !Sub "arn:${AWS::Partition}:iam::*:role/${TeamRoleName}""#), "{statement}");
    assert!(template.contains(&format!("Default: {ROLE}")), "the team role's default name is the team stack's");
    json!({ "Sid": "TeamAccounts", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": format!("arn:aws:iam::*:role/{ROLE}") })
}

#[tokio::test]
async fn the_team_role_is_enough_for_every_capability_and_each_statement_is_needed() {
    let moto = PrivateMoto::start().await;
    // The team account's stack, as the account's admin deploys it from the portal's link.
    let template = include_str!("../../../deploy/team-account.yaml");
    let stack = "atrium-team-least-privilege";
    moto.call(
        "cloudformation",
        TEAM_ACCOUNT,
        &[
            ("Action", "CreateStack"),
            ("Version", "2010-05-15"),
            ("StackName", stack),
            ("TemplateBody", template),
            ("Capabilities.member.1", "CAPABILITY_NAMED_IAM"),
            ("Parameters.member.1.ParameterKey", "PortalAccountId"),
            ("Parameters.member.1.ParameterValue", PORTAL_ACCOUNT),
            ("Parameters.member.2.ParameterKey", "ExternalId"),
            ("Parameters.member.2.ParameterValue", EXTERNAL_ID),
            ("Parameters.member.3.ParameterKey", "TeamSlug"),
            ("Parameters.member.3.ParameterValue", SLUG),
        ],
    )
    .await;
    let described =
        moto.call("cloudformation", TEAM_ACCOUNT, &[("Action", "DescribeStacks"), ("Version", "2010-05-15"), ("StackName", stack)]).await;
    assert_eq!(xml_element(&described, "StackStatus"), Some("CREATE_COMPLETE"), "{described}");

    // The role's policy as the stack made it, installed as moto reads it.
    let deployed = moto.iam(TEAM_ACCOUNT, &[("Action", "GetRolePolicy"), ("RoleName", ROLE), ("PolicyName", ROLE_POLICY)]).await;
    let policy =
        xml_element(&deployed, "PolicyDocument").and_then(decode_policy).unwrap_or_else(|| panic!("the role's policy: {deployed}"));
    let statements: Vec<Value> = policy["Statement"].as_array().expect("statements").iter().map(moto_view).collect();
    moto.put_role_policy(&statements).await;

    let portal = moto.portal("atrium-portal", &[team_accounts_statement()]).await;
    let role = TeamRole::new(format!("arn:aws:iam::{TEAM_ACCOUNT}:role/{ROLE}"), EXTERNAL_ID);
    let ssm_path = format!("/atrium/teams/{SLUG}");
    let check = SdkAccountCheck::new(TeamSessions::new(portal));
    moto.enforce(true).await;
    let steps = check.check(&role, &ssm_path).await;
    assert_eq!(failures(&steps), [], "every capability passes through the role under enforcement: {steps:?}");
    let authorized_only: Vec<&str> = steps.iter().filter(|step| moto_cannot_do(step)).map(|step| step.step.as_str()).collect();
    assert_eq!(authorized_only, NOT_IN_MOTO, "IAM let these through; moto cannot do them");
    assert_eq!(steps.last().map(|step| step.detail.as_str()), Some("Up to date (version 1)."));

    // Each statement, and the step that needs it (the permission it names).
    let needs = [
        ("Launch", "Launch workspaces (Service Catalog)", "servicecatalog:ListPortfolios"),
        ("StopAndStart", "Stop and start workspaces", "servicecatalog:ListServiceActionsForProvisioningArtifact"),
        ("UpgradeAndResize", "Upgrade and resize workspaces", "servicecatalog:UpdateProvisionedProduct"),
        ("Terminate", "Terminate workspaces", "servicecatalog:TerminateProvisionedProduct"),
        ("ConnectToNotebooks", "Connect to notebooks (SageMaker)", "sagemaker:CreatePresignedNotebookInstanceUrl"),
        ("Studio", "Open SageMaker Studio", "sagemaker:DescribeUserProfile"),
        ("SessionManager", "Session Manager", "ssm:StartSession"),
        ("IdleMetrics", "Idle metrics (CloudWatch)", "cloudwatch:GetMetricData"),
        ("Reconcile", "Reconcile workspaces with AWS (EC2)", "ec2:DescribeInstances"),
        ("Costs", "Costs (Cost Explorer)", "ce:GetCostAndUsage"),
    ];
    let sids: Vec<&str> = statements.iter().filter_map(|statement| statement["Sid"].as_str()).collect();
    let mut tested: Vec<&str> = needs.iter().map(|(sid, _, _)| *sid).chain(["TeamParameters"]).collect();
    tested.sort_unstable();
    let mut listed = sids.clone();
    listed.sort_unstable();
    assert_eq!(tested, listed, "every statement of the role is tested here");

    for (sid, step, permission) in needs {
        let without: Vec<Value> = statements.iter().filter(|statement| statement["Sid"] != sid).cloned().collect();
        moto.enforce(false).await;
        moto.put_role_policy(&without).await;
        moto.enforce(true).await;
        let failed = failures(&check.check(&role, &ssm_path).await);
        assert_eq!(failed.len(), 1, "without {sid}, only its step fails: {failed:?}");
        assert_eq!(failed[0].0, step, "without {sid}");
        assert!(failed[0].1.contains(permission) && failed[0].1.contains("missing the permission"), "in words: {}", failed[0].1);
    }

    // The team's parameters: both the listing and the stack's version need the statement.
    let without: Vec<Value> = statements.iter().filter(|statement| statement["Sid"] != "TeamParameters").cloned().collect();
    moto.enforce(false).await;
    moto.put_role_policy(&without).await;
    moto.enforce(true).await;
    let failed = failures(&check.check(&role, &ssm_path).await);
    let named: Vec<(&str, bool)> = failed
        .iter()
        .map(|(step, detail)| (step.as_str(), detail.contains("ssm:GetParametersByPath") || detail.contains("ssm:GetParameter ")))
        .collect();
    assert_eq!(named, [(format!("Read the team's parameters under {ssm_path}").as_str(), true), ("The account's Atrium stack", true)]);

    // The task role: without its TeamAccounts statement, the portal cannot assume the team's
    // role, and the check says so at its first step.
    moto.enforce(false).await;
    moto.put_role_policy(&statements).await;
    let unprivileged = moto
        .portal(
            "atrium-portal-without-team-accounts",
            &[json!({ "Sid": "Other", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*" })],
        )
        .await;
    moto.enforce(true).await;
    let failed = failures(&SdkAccountCheck::new(TeamSessions::new(unprivileged)).check(&role, &ssm_path).await);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].1.contains("sts:AssumeRole"), "in words: {}", failed[0].1);
}
