//! Least privilege, proven under IAM enforcement. A moto of this test's own (enforcement is
//! global to a moto process, and the other tests share theirs) holds a team account with the
//! stack from `deploy/team-account.yaml`, and the portal as an IAM user with the task role's
//! `TeamAccounts` statement from `deploy/atrium.yaml`. With enforcement on, the connection test,
//! which makes one call per capability with the same SDK operations the portal's journeys make,
//! passes through the team's role; without any one statement of the role's policy, that
//! statement's capability fails, and only it, naming the permission. No statement is unused.
//! The same holds for a workspace's whole journey through the adapters the pages and the worker
//! use (`team_journey`): launch, watch, stop, start, resize, connect to a notebook and to Studio,
//! a Session Manager session, the idle check, the reconcile, the team's parameters, the cost
//! sync, a study's upload, download and export, an import through the airlock (its inbox, its
//! malware scan result, the copy into the study, the quarantine), the team's scratch space,
//! and terminate.
//!
//! Where moto's enforcement differs from IAM's, the policy is installed as moto can read it:
//! - moto evaluates a statement's `Resource` only for S3, STS and IAM; for every other service
//!   it compares the policy's resources with `*`, so those statements get `Resource: "*"` here.
//!   Their scoping in the template is not proven by this test.
//! - moto names CloudWatch's actions `monitoring:…`, after its endpoint, so a CloudWatch action
//!   is also granted under that name.
//! - moto checks neither a role's trust across accounts nor the external id, nor conditions
//!   (the task role's `Null` on `sts:ExternalId`, `ses:FromAddress`): they are left out here. The
//!   AWS emulator checks the trust and the external id (`team_accounts.rs`).
//! - moto has no Service Catalog actions beyond `ListPortfolios` that the check uses, and no
//!   SageMaker presigned URLs, user profiles or `StartSession`: it authorizes those calls and
//!   then fails them with a 500, which the check takes for "allowed" (only a refusal fails a
//!   step). The AWS emulator, which answers them in the other tests, checks them against the
//!   same policy (`team_accounts.rs`).

use crate::templates::{TEAM_ROLE_STATEMENTS, template_json};
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
const STUDIES_POLICY: &str = "atrium-portal-studies";
/// The team's bucket the stack makes (`CreateBucket`): atrium-<slug>-<account>.
const STUDIES_BUCKET: &str = "atrium-least-privilege-565656565656";

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

    /// An unsigned S3 PUT of `path` (a bucket, or a bucket's key) in `account`.
    async fn s3_put(&self, account: &str, path: &str, body: &'static str) {
        let response = reqwest::Client::new()
            .put(format!("{}/{path}", self.moto.endpoint))
            .header("authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
            .header("x-moto-account-id", account)
            .body(body)
            .send()
            .await
            .expect("moto answers");
        assert!(response.status().is_success(), "PUT {path}: {}", response.text().await.unwrap_or_default());
    }

    async fn call(&self, service: &str, account: &str, parameters: &[(&str, &str)]) -> String {
        self.moto.query(service, account, parameters).await.unwrap_or_else(|refusal| panic!("{service} {parameters:?}: {refusal}"))
    }

    async fn iam(&self, account: &str, parameters: &[(&str, &str)]) -> String {
        self.call("iam", account, &[[("Version", "2010-05-08")].as_slice(), parameters].concat()).await
    }

    async fn put_role_policy(&self, statements: &[Value]) {
        let document = policy(statements);
        self.iam(
            TEAM_ACCOUNT,
            &[("Action", "PutRolePolicy"), ("RoleName", ROLE), ("PolicyName", ROLE_POLICY), ("PolicyDocument", &document)],
        )
        .await;
    }

    async fn put_user_policy(&self, user: &str, statements: &[Value]) {
        let document = policy(statements);
        self.iam(
            PORTAL_ACCOUNT,
            &[("Action", "PutUserPolicy"), ("UserName", user), ("PolicyName", "task-role"), ("PolicyDocument", &document)],
        )
        .await;
    }

    /// Replaces the team role's policy (enforcement off while it changes).
    async fn replace_role_policy(&self, statements: &[Value]) {
        self.enforce(false).await;
        self.put_role_policy(statements).await;
        self.enforce(true).await;
    }

    /// The portal's identity: IAM user `user` in the portal's account with `statements`; the SDK
    /// configuration that calls moto with its access key (signed, as enforcement wants).
    async fn portal(&self, user: &str, statements: &[Value]) -> aws_config::SdkConfig {
        self.iam(PORTAL_ACCOUNT, &[("Action", "CreateUser"), ("UserName", user)]).await;
        self.put_user_policy(user, statements).await;
        let key = self.iam(PORTAL_ACCOUNT, &[("Action", "CreateAccessKey"), ("UserName", user)]).await;
        let element = |tag: &str| xml_element(&key, tag).unwrap_or_else(|| panic!("CreateAccessKey gives {tag}: {key}")).to_owned();
        self.sdk(element("AccessKeyId"), element("SecretAccessKey"))
    }

    /// The SDK configuration calling this moto with an access key (moto's administrator's,
    /// `testing`, works while enforcement is off). Built by hand, not loaded: a loaded one would
    /// follow this process's AWS_ENDPOINT_URL_STS to the shared AWS emulator.
    fn sdk(&self, access_key_id: String, secret: String) -> aws_config::SdkConfig {
        let credentials = aws_credential_types::Credentials::new(access_key_id, secret, None, None, "test");
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.moto.endpoint)
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build()
    }

    /// Replaces the portal user's policy (enforcement off while it changes).
    async fn replace_user_policy(&self, user: &str, statements: &[Value]) {
        self.enforce(false).await;
        self.put_user_policy(user, statements).await;
        self.enforce(true).await;
    }
}

/// A policy document of `statements`, as IAM takes it.
fn policy(statements: &[Value]) -> String {
    json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
}

/// A statement as moto's enforcement can read it (see the module's comment).
fn moto_view(statement: &Value) -> Value {
    let actions = actions_of(statement);
    let mut view = statement.clone();
    if let Some(fields) = view.as_object_mut() {
        // moto evaluates no condition but StringEquals on sts:ExternalId (and passes the others).
        fields.remove("Condition");
    }
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

fn actions_of(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        Value::Array(actions) => actions.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        other => panic!("a statement's actions: {other}"),
    }
}

/// The statements of the task role's policy in `deploy/atrium.yaml`, their resources resolved
/// for this test (the organisation's studies bucket `bucket`, the template's defaults).
fn task_role_statements(bucket: &str) -> Vec<Value> {
    // The YAML reader keeps the text of `!Sub` and `!GetAtt` and drops the tag.
    let resolved = include_str!("../../../deploy/atrium.yaml")
        .replace("${StudiesBucket.Arn}", &format!("arn:aws:s3:::{bucket}"))
        .replace("!GetAtt StudiesBucket.Arn", &format!("arn:aws:s3:::{bucket}"))
        .replace("${AWS::Partition}", "aws")
        .replace("${TeamRoleName}", ROLE);
    let policies = &template_json(&resolved)["Resources"]["TaskRole"]["Properties"]["Policies"];
    let statements = policies[0]["PolicyDocument"]["Statement"].as_array().cloned().expect("the task role's statements");
    assert!(statements.len() > 1 && statements.iter().all(|statement| statement["Sid"].is_string()), "{statements:?}");
    statements
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
            ("Parameters.member.4.ParameterKey", "CreateBucket"),
            ("Parameters.member.4.ParameterValue", "true"),
        ],
    )
    .await;
    let described =
        moto.call("cloudformation", TEAM_ACCOUNT, &[("Action", "DescribeStacks"), ("Version", "2010-05-15"), ("StackName", stack)]).await;
    assert_eq!(xml_element(&described, "StackStatus"), Some("CREATE_COMPLETE"), "{described}");

    // A study's file, for the connection test to read.
    moto.s3_put(TEAM_ACCOUNT, &format!("{STUDIES_BUCKET}/studies/a-study/readme.txt"), "a study").await;

    // The role's policies as the stack made them, installed as one as moto reads it.
    let mut statements = Vec::new();
    for policy in [ROLE_POLICY, STUDIES_POLICY] {
        let deployed = moto.iam(TEAM_ACCOUNT, &[("Action", "GetRolePolicy"), ("RoleName", ROLE), ("PolicyName", policy)]).await;
        let document = xml_element(&deployed, "PolicyDocument").and_then(decode_policy).unwrap_or_else(|| panic!("{policy}: {deployed}"));
        statements.extend(document["Statement"].as_array().expect("statements").iter().map(moto_view));
    }
    moto.iam(TEAM_ACCOUNT, &[("Action", "DeleteRolePolicy"), ("RoleName", ROLE), ("PolicyName", STUDIES_POLICY)]).await;
    moto.put_role_policy(&statements).await;

    let team_accounts: Vec<Value> =
        task_role_statements("unused").into_iter().filter(|statement| statement["Sid"] == "TeamAccounts").map(|s| moto_view(&s)).collect();
    let portal = moto.portal("atrium-portal", &team_accounts).await;
    let role = TeamRole::new(format!("arn:aws:iam::{TEAM_ACCOUNT}:role/{ROLE}"), EXTERNAL_ID);
    let ssm_path = format!("/atrium/teams/{SLUG}");
    let check = SdkAccountCheck::new(TeamSessions::new(portal.clone()));
    moto.enforce(true).await;
    let steps = check.check(&role, &ssm_path, Some(STUDIES_BUCKET)).await;
    assert_eq!(failures(&steps), [], "every capability passes through the role under enforcement: {steps:?}");
    let authorized_only: Vec<&str> = steps.iter().filter(|step| moto_cannot_do(step)).map(|step| step.step.as_str()).collect();
    assert_eq!(authorized_only, NOT_IN_MOTO, "IAM let these through; moto cannot do them");
    assert_eq!(steps.last().map(|step| step.detail.as_str()), Some("Up to date (version 4)."));
    // And a workspace's whole journey, through the adapters the portal uses.
    let journey = team_journey(&portal, &role, (SLUG, STUDIES_BUCKET), 0).await;
    let failed: Vec<_> = journey.iter().filter(|(_, _, outcome)| outcome.is_err()).collect();
    assert!(failed.is_empty(), "every step of the journey passes through the role under enforcement: {failed:?}");

    // Each statement, and the step that needs it (the permission it names).
    let needs = TEAM_ROLE_STATEMENTS;
    let sids: Vec<&str> = statements.iter().filter_map(|statement| statement["Sid"].as_str()).collect();
    let mut tested: Vec<&str> = needs.iter().map(|(sid, _, _)| *sid).chain(["TeamParameters"]).collect();
    tested.sort_unstable();
    let mut listed = sids.clone();
    listed.sort_unstable();
    assert_eq!(tested, listed, "every statement of the role is tested here");
    let mut used: Vec<&str> = journey.iter().map(|(sid, _, _)| *sid).collect();
    used.sort_unstable();
    used.dedup();
    assert_eq!(used, listed, "the journey needs every statement");

    for (run, (sid, step, permission)) in needs.into_iter().enumerate() {
        let without: Vec<Value> = statements.iter().filter(|statement| statement["Sid"] != sid).cloned().collect();
        moto.replace_role_policy(&without).await;
        let journey = team_journey(&portal, &role, (SLUG, STUDIES_BUCKET), run + 1).await;
        let failed: Vec<(&str, &str, &String)> =
            journey.iter().filter_map(|(need, step, outcome)| outcome.as_ref().err().map(|error| (*need, *step, error))).collect();
        assert!(!failed.is_empty(), "without {sid}, a step of the journey fails: {journey:?}");
        for (need, step, error) in &failed {
            assert_eq!(*need, sid, "without {sid}, only its steps fail; {step}: {error}");
            assert!(is_refusal(error), "{step} says it was refused: {error}");
        }
        let failed = failures(&check.check(&role, &ssm_path, Some(STUDIES_BUCKET)).await);
        assert_eq!(failed.len(), 1, "without {sid}, only its step fails: {failed:?}");
        assert_eq!(failed[0].0, step, "without {sid}");
        assert!(failed[0].1.contains(permission) && failed[0].1.contains("missing the permission"), "in words: {}", failed[0].1);
    }

    // The team's parameters: both the listing and the stack's version need the statement.
    let without: Vec<Value> = statements.iter().filter(|statement| statement["Sid"] != "TeamParameters").cloned().collect();
    moto.replace_role_policy(&without).await;
    let failed = failures(&check.check(&role, &ssm_path, Some(STUDIES_BUCKET)).await);
    let named: Vec<(&str, bool)> = failed
        .iter()
        .map(|(step, detail)| (step.as_str(), detail.contains("ssm:GetParametersByPath") || detail.contains("ssm:GetParameter ")))
        .collect();
    assert_eq!(named, [(format!("Read the team's parameters under {ssm_path}").as_str(), true), ("The account's Atrium stack", true)]);
    let journey = team_journey(&portal, &role, (SLUG, STUDIES_BUCKET), needs.len() + 1).await;
    let failed: Vec<&str> = journey.iter().filter(|(_, _, outcome)| outcome.is_err()).map(|(sid, _, _)| *sid).collect();
    assert_eq!(failed, ["TeamParameters"], "without TeamParameters, only reading the team's parameters fails");

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
    let failed = failures(&SdkAccountCheck::new(TeamSessions::new(unprivileged)).check(&role, &ssm_path, Some(STUDIES_BUCKET)).await);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].1.contains("sts:AssumeRole"), "in words: {}", failed[0].1);
}

/// A workspace's journey through the team's role, one step per call the portal makes there,
/// through the same adapters the pages and the worker use, each with the statement of the
/// role's policy it needs: (statement, step, outcome). `run` keeps each run's files apart;
/// the team `slug` keeps its studies in `bucket`.
///
/// What acts on a workspace runs on one that does not exist: only a refusal fails those steps.
/// Under moto's enforcement, calls moto authorizes and cannot do (Service Catalog provisioning,
/// SageMaker presigned URLs and user profiles, `StartSession`) pass unless refused; the AWS
/// emulator answers them in `team_accounts.rs`, checking the same policy. A presigned URL is signed here
/// and used by the browser, and moto's enforcement cannot authenticate a presigned request:
/// the upload's part is put with the role's credentials instead, the permission the URL needs.
pub(crate) async fn team_journey(
    portal: &aws_config::SdkConfig,
    role: &TeamRole,
    (slug, bucket): (&str, &str),
    run: usize,
) -> Vec<(&'static str, &'static str, Result<(), String>)> {
    use app::domain::airlock::SCAN_TAG;
    use atrium::aws::cloudwatch::{CloudWatchMetrics, Metrics};
    use atrium::aws::cost_explorer::{CostExplorer, CostSource};
    use atrium::aws::observe::{AwsObserver, Observer};
    use atrium::aws::provisioning::{Actor, ProvisionError, ProvisionRequest, Provisioner, ServiceCatalogProvisioner, UpdateRequest};
    use atrium::aws::s3::{ObjectStore, Place, S3Objects};
    use atrium::aws::sagemaker::{PresignedUrlSettings, Presigner, SageMakerPresigner};
    use atrium::aws::sessions::{SessionStarter, SsmSessionStarter};
    use atrium::aws::ssm::{ParameterStore, SsmParameterStore};
    use std::collections::BTreeMap;
    fn said<T, E: std::fmt::Debug>(outcome: Result<T, E>) -> Result<(), String> {
        outcome.map(|_| ()).map_err(|error| format!("{error:?}"))
    }
    // Only a refusal fails a step on a workspace that does not exist (see above).
    fn authorized<T>(outcome: Result<T, ProvisionError>) -> Result<(), String> {
        match outcome {
            Err(ProvisionError::Rejected(refusal)) if is_refusal(&refusal) => Err(refusal),
            _ => Ok(()),
        }
    }
    let sessions = TeamSessions::new(portal.clone());
    let (session, actor) = ("atrium-ada", Actor { role, session_name: "atrium-ada" });
    let catalog = ServiceCatalogProvisioner::new(sessions.clone());
    let no_values = BTreeMap::new();
    let launch = ProvisionRequest {
        role,
        session_name: session,
        product_id: "prod-lp",
        version_id: "pa-lp",
        provisioned_product_name: "least-privilege",
        parameters: &no_values,
        tags: &no_values,
        token: "launch-lp",
    };
    let resize = UpdateRequest {
        provisioned_product_id: "pp-lp",
        product_id: "prod-lp",
        version_id: "pa-lp",
        parameters: &no_values,
        token: "resize-lp",
    };
    let presigner = SageMakerPresigner::new(sessions.clone(), PresignedUrlSettings { url_seconds: 60, studio_session_seconds: 1800 });
    let now = time::OffsetDateTime::now_utc();
    let metrics = CloudWatchMetrics::new(sessions.clone());
    let observer = AwsObserver::new(sessions.clone());
    let workstation = BTreeMap::from([("InstanceId".to_owned(), "i-0123456789abcdef0".to_owned())]);
    let notebook = BTreeMap::from([("NotebookInstanceName".to_owned(), "lp-notebook".to_owned())]);
    let today = now.date();
    let studies = S3Objects::new(sessions.clone());
    let place = Place { bucket: bucket.to_owned(), role: Some((role.clone(), session.to_owned())) };
    let (folder, upload, export) =
        (format!("studies/lp-{run}/"), format!("studies/lp-{run}/data.csv"), format!("egress/lp-{run}/results.csv"));
    let mut steps = vec![
        ("Launch", "launch a workspace", authorized(catalog.provision(&launch).await)),
        ("Launch", "watch it come up", authorized(catalog.record(&actor, "rec-lp").await)),
        ("StopAndStart", "stop it", authorized(catalog.execute_action(&actor, "prod-lp", "pa-lp", "pp-lp", "Stop", "stop-lp").await)),
        ("StopAndStart", "start it", authorized(catalog.execute_action(&actor, "prod-lp", "pa-lp", "pp-lp", "Start", "start-lp").await)),
        ("UpgradeAndResize", "resize it", authorized(catalog.update(&actor, &resize).await)),
        ("ConnectToNotebooks", "connect to a notebook", authorized(presigner.notebook_url(role, session, "lp-notebook").await)),
        ("Studio", "open SageMaker Studio", authorized(presigner.studio_url(role, session, "d-lp", "ada").await)),
        (
            "SessionManager",
            "a Session Manager session",
            authorized(SsmSessionStarter::new(sessions.clone()).forward_port(role, session, "i-0123456789abcdef0", 22, 2222).await),
        ),
        (
            "IdleMetrics",
            "the idle check (a workstation)",
            said(metrics.cpu(role, "i-0123456789abcdef0", now - Duration::from_secs(3600), now).await),
        ),
        (
            "IdleMetrics",
            "the idle check (a notebook)",
            said(metrics.notebook_cpu(role, "lp-notebook", now - Duration::from_secs(3600), now).await),
        ),
        ("Reconcile", "reconcile a workstation", said(observer.observe(role, session, &workstation).await)),
        ("Reconcile", "reconcile a notebook", said(observer.observe(role, session, &notebook).await)),
        (
            "TeamParameters",
            "the team's parameters",
            said(SsmParameterStore::new(sessions.clone()).parameters_under(role, &format!("/atrium/teams/{slug}")).await),
        ),
        (
            "Costs",
            "the cost sync",
            said(CostExplorer::new(sessions.clone()).daily_costs(role, slug, today - time::Duration::days(7), today).await),
        ),
        ("StudyFiles", "create a study's folder", said(studies.create_prefix(&place, &folder).await)),
        ("StudyListing", "list a study", said(studies.folder(&place, &folder, None, 10, true).await)),
        ("StudyFiles", "a file in the scratch space", said(studies.create_prefix(&place, &format!("scratch/lp-{run}/")).await)),
        ("StudyListing", "list the scratch space", said(studies.folder(&place, "scratch/", None, 10, true).await)),
    ];
    let started = studies.presigned_parts(&place, &upload, "text/csv", 1, Duration::from_secs(60)).await;
    let upload_id = started.as_ref().map(|(id, _)| id.clone()).unwrap_or_default();
    steps.push(("StudyFiles", "start an upload", said(started)));
    if !upload_id.is_empty() {
        let part = put_part(&sessions.config(role, session).await, bucket, &upload, &upload_id).await;
        let etags = part.as_ref().map(|etag| vec![etag.clone()]).unwrap_or_default();
        steps.push(("StudyFiles", "upload its part", said(part)));
        steps.push(("StudyFiles", "complete the upload", said(studies.complete_parts(&place, &upload, &upload_id, &etags).await)));
        steps.push(("StudyFiles", "a file's size (its download)", said(studies.size_of(&place, &upload).await)));
    }
    steps.push(("StudyFiles", "a file to export", said(studies.create_prefix(&place, &export).await)));
    steps.push((
        "StudyListing",
        "the egress folder (an export)",
        said(studies.folder(&place, &format!("egress/lp-{run}/"), None, 10, false).await),
    ));
    // The airlock: an export's file held; an import's file in its inbox, held; their scan
    // results; an import copied into the study; a file with a threat copied to the quarantine.
    // (Without the files to start from, the rest cannot run.)
    let (held_export, inbox, held) =
        (format!("airlock/lp-{run}/results.csv"), format!("inbox/lp-{run}/data.csv"), format!("airlock/lp-{run}/data.csv"));
    let exported = said(studies.copy(&place, &export, &held_export).await);
    let export_held = exported.is_ok();
    steps.push(("StudyFiles", "hold an export's file", exported));
    if export_held {
        steps.push(("MalwareScans", "an export's malware scan result", said(studies.tag(&place, &held_export, SCAN_TAG).await)));
    }
    steps.push(("StudyFiles", "delete a file", said(studies.delete(&place, &export).await)));
    let arrived = said(studies.create_prefix(&place, &inbox).await);
    let in_inbox = arrived.is_ok();
    steps.push(("StudyFiles", "an import's file in its inbox", arrived));
    steps.push(("StudyListing", "the import's inbox", said(studies.folder(&place, &format!("inbox/lp-{run}/"), None, 10, false).await)));
    if in_inbox {
        steps.push(("StudyFiles", "hold the import's file", said(studies.copy(&place, &inbox, &held).await)));
        steps.push(("MalwareScans", "its malware scan result", said(studies.tag(&place, &held, SCAN_TAG).await)));
        steps.push(("StudyFiles", "copy it into the study", said(studies.copy(&place, &held, &format!("{folder}imported.csv")).await)));
        let quarantined = studies.copy(&place, &held, &format!("quarantine/lp-{run}/data.csv")).await;
        steps.push(("Quarantine", "quarantine a file with a threat", said(quarantined)));
        steps.push(("StudyFiles", "empty the inbox", said(studies.delete(&place, &inbox).await)));
    }
    steps.push(("Terminate", "terminate it", authorized(catalog.terminate(&actor, "pp-lp", "terminate-lp").await)));
    steps
}

/// Whether an error is IAM's refusal, in IAM's words or the portal's.
pub(crate) fn is_refusal(error: &str) -> bool {
    error.contains("not authorized") || error.contains("AccessDenied")
}

/// The browser's PUT of an upload's one part, made with the team role's credentials (what the
/// presigned URL stands for); its ETag.
async fn put_part(
    config: &Result<aws_config::SdkConfig, atrium::aws::provisioning::ProvisionError>,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<String, String> {
    let config = config.as_ref().map_err(|error| format!("{error:?}"))?;
    let part = aws_sdk_s3::Client::new(config)
        .upload_part()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .part_number(1)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"a,b\n1,2\n"))
        .send()
        .await
        .map_err(|error| format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&error)))?;
    part.e_tag.ok_or_else(|| "no ETag".to_owned())
}

/// What the portal does with its own credentials, one step per call it makes, each with the
/// statement of the task role it needs: (statement, step, outcome). `run` keeps the names of
/// each run's users and files apart.
async fn portal_journey(
    sdk: &aws_config::SdkConfig,
    pool: &str,
    bucket: &str,
    run: usize,
) -> Vec<(&'static str, &'static str, Result<(), String>)> {
    use atrium::aws::cognito::{CognitoIdentityProvider, IdentityProvider};
    use atrium::aws::directory::{CognitoDirectory, Directory, NewUser};
    use atrium::aws::s3::{ObjectStore, Place, S3Objects};
    use atrium::aws::service_catalog::{SdkServiceCatalog, ServiceCatalog};
    use atrium::aws::ssm::{SecretStore, SsmParameterStore};
    use atrium::mail::{Mailer, SesMailer};
    fn said<T, E: std::fmt::Debug>(outcome: Result<T, E>) -> Result<(), String> {
        outcome.map(|_| ()).map_err(|error| format!("{error:?}"))
    }
    let (user, group) = (format!("lp-person-{run}"), format!("lp-group-{run}"));
    let people = CognitoDirectory::new(sdk, pool.to_owned());
    let sign_in = CognitoIdentityProvider::new(sdk, pool.to_owned(), "no-client".into());
    let parameters = SsmParameterStore::new(sdk);
    let secret = format!("/atrium/notifications/lp-target-{run}");
    let studies = S3Objects::new(TeamSessions::new(sdk.clone()));
    let place = Place { bucket: bucket.to_owned(), role: None };
    let key = format!("studies/lp-{run}/");
    let mut steps = vec![
        ("UsersAndGroups", "create a team's group", said(people.create_group(&group, "least privilege").await)),
        (
            "UsersAndGroups",
            "invite a person",
            said(people.create_user(&NewUser { username: &user, email: "lp@example.org", temporary_password: None }).await),
        ),
        ("UsersAndGroups", "add a member", said(people.add_to_group(&user, &group).await)),
        ("UsersAndGroups", "a person's teams", said(people.groups_of(&user).await)),
        ("UsersAndGroups", "a team's members", said(people.members_of(&group).await)),
        ("UsersAndGroups", "search people", said(people.list_users(Some("lp-"), None).await)),
        ("UsersAndGroups", "a person", said(people.user(&user).await)),
        ("UsersAndGroups", "disable a person", said(people.set_enabled(&user, false).await)),
        ("UsersAndGroups", "enable a person", said(people.set_enabled(&user, true).await)),
        ("UsersAndGroups", "sign a person out everywhere", said(people.sign_out_everywhere(&user).await)),
        ("UsersAndGroups", "remove a member", said(people.remove_from_group(&user, &group).await)),
        ("UsersAndGroups", "the password policy", said(sign_in.password_policy().await)),
        ("NotificationWebhooks", "store a webhook's secret", said(parameters.put_secret(&secret, "a-secret").await)),
        ("NotificationWebhooks", "read a webhook's secret", said(parameters.secret(&secret).await)),
        ("NotificationWebhooks", "delete a webhook's secret", said(parameters.delete_secret(&secret).await)),
        ("OrganisationStudyFiles", "create a study's folder", said(studies.create_prefix(&place, &key).await)),
        ("OrganisationStudies", "list a study", said(studies.folder(&place, "studies/", None, 10, true).await)),
        ("OrganisationStudyFiles", "a file's size", said(studies.size_of(&place, &key).await)),
        ("OrganisationStudyFiles", "delete a file", said(studies.delete(&place, &key).await)),
        (
            "OrganisationMalwareScans",
            "a file's malware scan result",
            said(studies.tag(&place, &format!("airlock/lp-{run}/data.csv"), app::domain::airlock::SCAN_TAG).await),
        ),
        ("TeamAccounts", "assume a team's role", said(TeamSessions::new(sdk.clone()).fresh(&team_role(), "atrium-portal").await)),
        ("Mail", "send an e-mail", said(SesMailer::new(sdk, MAIL_FROM.into()).send(&mail()).await)),
    ];
    // moto has no Service Catalog admin calls: it authorizes them, then answers 500. Only a
    // refusal fails these steps; the AWS emulator answers the calls in the other tests.
    let authorized = |outcome: Result<(), String>| outcome.or_else(|error| if error.contains("Refused(") { Err(error) } else { Ok(()) });
    let catalog = SdkServiceCatalog::new(sdk);
    steps.push(("CatalogImport", "list the catalog's products", authorized(said(catalog.products().await))));
    steps.push(("CatalogImport", "a version's parameters", authorized(said(catalog.version_details("prod-lp", "pa-lp").await))));
    steps
}

const MAIL_FROM: &str = "atrium@lp.example.org";

fn mail() -> atrium::jobs::QueuedMail {
    atrium::jobs::QueuedMail { to: "lp@example.org".into(), subject: "Least privilege".into(), text: "Hello".into() }
}

fn team_role() -> TeamRole {
    TeamRole::new(format!("arn:aws:iam::{TEAM_ACCOUNT}:role/{ROLE}"), EXTERNAL_ID)
}

#[tokio::test]
async fn the_task_role_is_enough_for_the_portals_own_calls_and_each_statement_is_needed() {
    let moto = PrivateMoto::start().await;
    let admin = moto.sdk("testing".into(), "testing".into());
    let bucket = "atrium-least-privilege-studies";
    let pool = aws_sdk_cognitoidentityprovider::Client::new(&admin)
        .create_user_pool()
        .pool_name("least-privilege")
        .send()
        .await
        .expect("a user pool")
        .user_pool
        .and_then(|pool| pool.id)
        .expect("its id");
    aws_sdk_s3::Client::new(&admin).create_bucket().bucket(bucket).send().await.expect("the studies bucket");
    aws_sdk_sesv2::Client::new(&admin).create_email_identity().email_identity(MAIL_FROM).send().await.expect("the sender");
    let trust = policy(&[
        json!({ "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{PORTAL_ACCOUNT}:root") }, "Action": "sts:AssumeRole" }),
    ]);
    moto.iam(TEAM_ACCOUNT, &[("Action", "CreateRole"), ("RoleName", ROLE), ("AssumeRolePolicyDocument", &trust)]).await;

    let statements: Vec<Value> = task_role_statements(bucket).iter().map(moto_view).collect();
    let portal = moto.portal("atrium-task", &statements).await;
    moto.enforce(true).await;
    let journey = portal_journey(&portal, &pool, bucket, 0).await;
    let failed: Vec<_> = journey.iter().filter(|(_, _, outcome)| outcome.is_err()).collect();
    assert!(failed.is_empty(), "every call the portal makes is allowed: {failed:?}");

    let mut needed: Vec<&str> = journey.iter().map(|(sid, _, _)| *sid).collect();
    needed.sort_unstable();
    needed.dedup();
    let mut sids: Vec<&str> = statements.iter().filter_map(|statement| statement["Sid"].as_str()).collect();
    sids.sort_unstable();
    assert_eq!(needed, sids, "each statement of the task role is used by a step");

    for (run, sid) in sids.iter().enumerate() {
        let without: Vec<Value> = statements.iter().filter(|statement| statement["Sid"] != *sid).cloned().collect();
        moto.replace_user_policy("atrium-task", &without).await;
        let journey = portal_journey(&portal, &pool, bucket, run + 1).await;
        // Only the policy changed since the run where every step passed.
        let failed: Vec<(&str, &str, &String)> =
            journey.iter().filter_map(|(need, step, outcome)| outcome.as_ref().err().map(|error| (*need, *step, error))).collect();
        assert!(!failed.is_empty(), "without {sid}, a step fails");
        for (need, step, error) in &failed {
            assert_eq!(need, sid, "without {sid}, only its steps fail; {step}: {error}");
        }
    }
}

/// The journeys above prove that each statement is needed; this proves each action in one is:
/// every action the two shipped policies grant is an AWS call the portal's code makes.
#[test]
fn every_action_granted_is_a_call_the_portal_makes() {
    fn source_of(dir: &std::path::Path, code: &mut String) {
        for entry in std::fs::read_dir(dir).expect("the server's source").flatten() {
            let path = entry.path();
            // The demo seeds moto as an administrator would; the portal does not run it in AWS.
            if path.is_dir() && path.file_name().is_some_and(|name| name != "demo") {
                source_of(&path, code);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                code.push_str(&std::fs::read_to_string(&path).expect("a source file"));
            }
        }
    }
    let mut code = String::new();
    source_of(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut code);
    let team_account = template_json(include_str!("../../../deploy/team-account.yaml"));
    let team_statements = ["PortalAccessPolicy", "StudiesPolicy", "HomesPolicy"].iter().flat_map(|policy| {
        team_account["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default()
    });
    let statements: Vec<Value> = task_role_statements("bucket").into_iter().chain(team_statements).collect();
    assert!(statements.len() > 15, "both policies are read: {statements:?}");
    let mut never_called = Vec::new();
    for action in statements.iter().flat_map(actions_of) {
        let (_, operation) = action.split_once(':').expect("service:Operation");
        // S3's permissions are not named after its operations.
        let calls: Vec<String> = match action.as_str() {
            "s3:ListBucket" => vec!["list_objects_v2".into()],
            "s3:GetObject" => vec!["get_object".into(), "head_object".into()],
            "s3:PutObject" => vec!["put_object".into(), "create_multipart_upload".into(), "upload_part".into()],
            "s3:DeleteObject" => vec!["delete_object".into()],
            _ => vec![snake_case(operation)],
        };
        if !calls.iter().any(|call| code.contains(&format!(".{call}("))) {
            never_called.push(action);
        }
    }
    assert_eq!(never_called, Vec::<String>::new(), "granted, but the portal never makes these calls");
}

fn snake_case(operation: &str) -> String {
    let mut snake = String::new();
    for (at, letter) in operation.char_indices() {
        if letter.is_uppercase() && at > 0 {
            snake.push('_');
        }
        snake.push(letter.to_ascii_lowercase());
    }
    snake
}
