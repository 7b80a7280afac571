//! A team's AWS account: the portal assumes the team's role with the team's external id (the
//! AWS emulator checks it against the role's trust, as IAM does, and notes every AssumeRole),
//! reuses each role session instead of assuming the role per action, and an admin rotates the
//! external id (audited).

use crate::helpers::{api, audit_rows, moto_sdk_config, spawn_app, token_for, unique};
use crate::templates::TEAM_ROLE_STATEMENTS;
use atrium::aws::account_check::{AccountCheck, SdkAccountCheck};
use atrium::aws::team_role::{TeamRole, TeamSessions};
use serde_json::{Value, json};
use sqlx::PgPool;

/// An AWS account id of this test's own, so that no other test meets its role.
fn fresh_account() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:012}", (nanos ^ (u128::from(std::process::id()) << 20)) % 1_000_000_000_000)
}

fn emulator() -> String {
    std::env::var("AWS_ENDPOINT_URL_STS").expect("dev/test points STS at the AWS emulator")
}

/// The AssumeRole calls the emulator saw for `role_arn`: (session name, external id, allowed).
async fn assumed(role_arn: &str) -> Vec<(String, Option<String>, bool)> {
    let calls: Vec<Value> =
        reqwest::get(format!("{}/_emulator/assumed-roles", emulator())).await.expect("emulator").json().await.expect("JSON");
    calls
        .iter()
        .filter(|call| call["role_arn"] == role_arn)
        .map(|call| {
            let external_id = call["external_id"].as_str().map(str::to_owned);
            (call["session_name"].as_str().unwrap_or_default().to_owned(), external_id, call["allowed"] == true)
        })
        .collect()
}

/// Deploys a team account's stack from `template` into `account` in moto, anew, as the
/// account's admin does from the portal's link (the AWS emulator acts as that admin); the
/// stack's role ARN.
async fn deploy_team_stack(account: &str, slug: &str, template: &str, parameters: &[(&str, &str)]) -> String {
    let outputs = deploy_team_stack_outputs(account, slug, template, parameters).await;
    outputs["RoleArn"].as_str().unwrap_or_else(|| panic!("the stack outputs its role: {outputs}")).to_owned()
}

/// The same, giving the stack's outputs.
async fn deploy_team_stack_outputs(account: &str, slug: &str, template: &str, parameters: &[(&str, &str)]) -> Value {
    let parameters: serde_json::Map<String, Value> = parameters.iter().map(|(key, value)| ((*key).to_owned(), json!(value))).collect();
    let stack = json!({ "name": format!("atrium-team-{slug}"), "template": template, "parameters": parameters });
    let response = reqwest::Client::new()
        .post(format!("{}/_emulator/accounts/{account}/stacks", emulator()))
        .json(&stack)
        .send()
        .await
        .expect("the emulator answers");
    assert!(response.status().is_success(), "the stack is created: {}", response.text().await.unwrap_or_default());
    let deployed: Value = response.json().await.expect("JSON");
    assert_eq!(deployed["status"], "CREATE_COMPLETE", "{deployed}");
    deployed["outputs"].clone()
}

/// A new team account whose stack (`deploy/team-account.yaml`) trusts the portal (the account
/// of `portal`'s credentials) with an external id of its own, for a team `<name>-<digits>`.
pub(crate) struct StackedAccount {
    pub(crate) account: String,
    pub(crate) slug: String,
    external_id: String,
    portal_account: String,
    /// The role the stack made.
    pub(crate) role: TeamRole,
}

impl StackedAccount {
    pub(crate) async fn new(portal: &aws_config::SdkConfig, name: &str) -> StackedAccount {
        let account = fresh_account();
        let identity = aws_sdk_sts::Client::new(portal).get_caller_identity().send().await.expect("caller identity");
        let mut stacked = StackedAccount {
            slug: format!("{name}-{}", &account[6..]),
            account,
            external_id: unique("external-id"),
            portal_account: identity.account().expect("account").to_owned(),
            role: TeamRole::new(String::new(), String::new()),
        };
        let arn = stacked.deploy(include_str!("../../../deploy/team-account.yaml")).await;
        stacked.role = TeamRole::new(arn, stacked.external_id.clone());
        stacked
    }

    /// Deploys the stack from `template` anew, with the same parameters; its role's ARN.
    pub(crate) async fn deploy(&self, template: &str) -> String {
        let parameters = [
            ("PortalAccountId", self.portal_account.as_str()),
            ("ExternalId", self.external_id.as_str()),
            ("TeamSlug", self.slug.as_str()),
        ];
        deploy_team_stack(&self.account, &self.slug, template, &parameters).await
    }
}

/// The template without the policy statement `sid` (its `- Sid:` line to the next statement's).
pub(crate) fn without_statement(template: &str, sid: &str) -> String {
    let start = template.find(&format!("          - Sid: {sid}\n")).unwrap_or_else(|| panic!("the template has a statement {sid}"));
    let rest = &template[start + 1..];
    // The statement ends where the next one starts, or where its policy does (a blank line).
    let next = [rest.find("\n          - Sid: "), rest.find("\n\n")].into_iter().flatten().min();
    let end = next.map_or(template.len(), |at| start + 1 + at + 1);
    format!("{}{}", &template[..start], &template[end..])
}

#[tokio::test]
async fn a_role_session_is_assumed_once_per_caller_with_the_external_id_and_reused() {
    let role = TeamRole::new(format!("arn:aws:iam::{}:role/AtriumPortalAccess", fresh_account()), unique("external-id"));
    let sessions = TeamSessions::new(moto_sdk_config().await);
    for _ in 0..3 {
        sessions.config(&role, "atrium-ada").await.expect("assumed");
    }
    sessions.config(&role, "atrium-gus").await.expect("assumed");
    let calls = assumed(&role.arn).await;
    let sessions_assumed: Vec<&str> = calls.iter().map(|(session, _, _)| session.as_str()).collect();
    assert_eq!(sessions_assumed, ["atrium-ada", "atrium-gus"], "one AssumeRole per caller, the session reused after");
    assert!(calls.iter().all(|(_, external_id, _)| external_id.as_deref() == Some(role.external_id.as_str())), "{calls:?}");

    // A clone shares the sessions: every adapter of a process holds one.
    sessions.clone().config(&role, "atrium-ada").await.expect("assumed");
    assert_eq!(assumed(&role.arn).await.len(), 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_team_role_is_assumed_with_the_teams_external_id_and_a_trust_wanting_another_refuses(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let grace = token_for(&app, "grace", &["admin"]).await;
    let account = fresh_account();
    let role_arn = format!("arn:aws:iam::{account}:role/AtriumPortalAccess");
    let slug = format!("acct-{}", &account[6..]);
    let team = json!({"slug": slug, "name": format!("Account {account}"), "aws_account_id": account, "role_arn": role_arn});
    let (status, body) = api(&app, "POST", "/admin/teams", Some(&grace), Some(team)).await;
    assert_eq!(status, 201, "{body}");
    let external_id = |teams: &Value| -> String {
        let row = teams.as_array().expect("teams").iter().find(|t| t["slug"] == slug.as_str()).expect("the new team");
        row["external_id"].as_str().expect("an external id").to_owned()
    };
    let (_, teams) = api(&app, "GET", "/admin/teams", Some(&grace), None).await;
    let first_id = external_id(&teams);
    assert!(first_id.len() >= 32, "a long random id: {first_id}");

    // Step 1: the stack, with the team's values (a quick-create link needs the template's
    // public URL, which this portal has not).
    let (status, setup) = api(&app, "GET", &format!("/admin/teams/{slug}/account-setup"), Some(&grace), None).await;
    assert_eq!(status, 200, "{setup}");
    let portal = aws_sdk_sts::Client::new(&moto_sdk_config().await).get_caller_identity().send().await.expect("caller identity");
    let parameters: Vec<(String, String)> = setup["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| (p["key"].as_str().unwrap_or_default().to_owned(), p["value"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let expected =
        [("PortalAccountId", portal.account().expect("account")), ("ExternalId", first_id.as_str()), ("TeamSlug", slug.as_str())];
    assert_eq!(parameters, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    assert_eq!((setup["role_arn"].as_str(), &setup["quick_create_url"]), (Some(role_arn.as_str()), &Value::Null));
    let browser = app.client_signed_in_as("grace").await;
    let download =
        browser.get(format!("{}{}", app.address, setup["template_download"].as_str().expect("a path"))).send().await.expect("sent");
    assert_eq!(download.status(), 200);
    let template = download.text().await.expect("the template");
    let from_api = reqwest::Client::new()
        .get(format!("{}/api/v1/admin/teams/{slug}/account-template", app.address))
        .bearer_auth(&grace)
        .send()
        .await
        .expect("sent");
    assert_eq!(from_api.text().await.expect("the template"), template, "the API gives the same template");

    // Deployed with another team's external id (a copy-paste), the role does not trust us.
    let stack_role = deploy_team_stack(&account, &slug, &template, &[("ExternalId", "the-external-id-of-another-team-0000")]).await;
    assert_eq!(stack_role, role_arn, "the stack makes the role the team names");
    let test_connection = format!("/admin/teams/{slug}/test-connection");
    let (status, check) = api(&app, "POST", &test_connection, Some(&grace), None).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["ok"], false, "{check}");
    let first = &check["steps"][0];
    assert_eq!(first["ok"], false, "{check}");
    let detail = first["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("not authorized to perform: sts:AssumeRole") && detail.contains("external id"), "said in words: {detail}");
    let calls = assumed(&role_arn).await;
    assert!(!calls.is_empty() && calls.iter().all(|(_, id, _)| id.as_deref() == Some(first_id.as_str())), "{calls:?}");

    // The downloaded template as it is (its defaults are the team's values): the role is assumed.
    deploy_team_stack(&account, &slug, &template, &[]).await;
    let (_, check) = api(&app, "POST", &test_connection, Some(&grace), None).await;
    assert_eq!(check["ok"], true, "every capability: {check}");
    let stack = check["steps"].as_array().expect("steps").last().cloned().unwrap_or_default();
    assert_eq!((stack["step"].as_str(), stack["detail"].as_str()), (Some("The account's Atrium stack"), Some("Up to date (version 4).")));

    // Each statement for an operation the AWS emulator answers (moto's IAM does not see those)
    // is needed: without it, its step fails, naming the permission, and only its step.
    let emulated = |permission: &str| ["servicecatalog:", "sagemaker:", "ssm:StartSession"].iter().any(|p| permission.starts_with(p));
    for (statement, step, permission) in TEAM_ROLE_STATEMENTS.into_iter().filter(|(_, _, permission)| emulated(permission)) {
        deploy_team_stack(&account, &slug, &without_statement(&template, statement), &[]).await;
        let (_, check) = api(&app, "POST", &test_connection, Some(&grace), None).await;
        let failed: Vec<(&str, &str)> = check["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .filter(|s| s["ok"] == false)
            .map(|s| (s["step"].as_str().unwrap_or_default(), s["detail"].as_str().unwrap_or_default()))
            .collect();
        assert_eq!(failed.len(), 1, "without {statement}, only its step fails: {check}");
        assert_eq!(failed[0].0, step);
        assert!(failed[0].1.contains(permission) && failed[0].1.contains("missing the permission"), "in words: {}", failed[0].1);
    }
    deploy_team_stack(&account, &slug, &template, &[]).await;
    assert!(assumed(&role_arn).await.iter().any(|(_, _, allowed)| *allowed));

    // Rotating gives a new id (audited); the trust still wants the old one, so the test fails
    // until the stack is updated.
    let (status, rotated) = api(&app, "POST", &format!("/admin/teams/{slug}/external-id"), Some(&grace), None).await;
    assert_eq!(status, 200, "{rotated}");
    let second_id = rotated["external_id"].as_str().expect("the new id").to_owned();
    assert_ne!(second_id, first_id);
    let (_, teams) = api(&app, "GET", "/admin/teams", Some(&grace), None).await;
    assert_eq!(external_id(&teams), second_id);
    assert_eq!(audit_rows(&db, "grace", "team.external_id.rotate", "success").await, 1);
    let (_, check) = api(&app, "POST", &test_connection, Some(&grace), None).await;
    assert_eq!(check["steps"][0]["ok"], false, "the old trust refuses the new id: {check}");

    let ada = token_for(&app, "ada", &["read"]).await;
    let (status, _) = api(&app, "POST", &format!("/admin/teams/{slug}/external-id"), Some(&ada), None).await;
    assert_eq!(status, 403, "admins only");
    let (status, _) = api(&app, "POST", "/admin/teams/no-such-team/external-id", Some(&grace), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_stack_makes_the_teams_parameters_and_on_request_its_bucket_network_and_file_system() {
    let account = fresh_account();
    let slug = format!("made-{}", &account[6..]);
    let role = TeamRole::new(format!("arn:aws:iam::{account}:role/AtriumPortalAccess"), unique("external-id-of-a-made-team"));
    let portal = aws_sdk_sts::Client::new(&moto_sdk_config().await).get_caller_identity().send().await.expect("caller identity");
    let links = r#"[{"title":"Wiki","url":"https://wiki.example.edu"}]"#;
    let parameters = [
        ("PortalAccountId", portal.account().expect("account")),
        ("ExternalId", role.external_id.as_str()),
        ("TeamSlug", slug.as_str()),
        ("CreateBucket", "true"),
        ("PortalOrigin", "https://atrium.example.edu"),
        ("CreateNetwork", "true"),
        ("CreateFileSystem", "true"),
        ("Links", links),
    ];
    let outputs = deploy_team_stack_outputs(&account, &slug, include_str!("../../../deploy/team-account.yaml"), &parameters).await;
    let bucket = format!("atrium-{slug}-{account}");
    assert_eq!((outputs["BucketName"].as_str(), outputs["LaunchRoleName"].as_str()), (Some(bucket.as_str()), Some("AtriumLaunchRole")));
    assert!(outputs["NetworkId"].as_str().is_some_and(|id| id.starts_with("vpc-")), "{outputs}");
    assert_eq!(outputs["SubnetIds"].as_str().map(|ids| ids.split(',').count()), Some(2), "{outputs}");
    assert!(outputs["FileSystemAccessPointId"].is_string(), "{outputs}");

    // Through the team's role: its parameters (links, scratch space, studies bucket, file
    // system, version) and the studies in the bucket the stack made.
    let check = SdkAccountCheck::new(TeamSessions::new(moto_sdk_config().await));
    let steps = check.check(&role, &format!("/atrium/teams/{slug}"), Some(&bucket)).await;
    let failed: Vec<_> = steps.iter().filter(|step| !step.ok).collect();
    assert!(failed.is_empty(), "{failed:?}");
    let said = |name: &str| steps.iter().find(|step| step.step.starts_with(name)).map(|step| step.detail.clone()).unwrap_or_default();
    assert_eq!(said("Read the team's parameters"), "6 parameter(s) readable.");
    assert_eq!(said("Studies (S3)"), format!("Allowed: studies/ in {bucket} can be listed (no file there yet to read)."));
    assert_eq!(said("The account's Atrium stack"), "Up to date (version 4).");
}

/// The events of workspace `id`, as its page lists them.
async fn events_of(app: &crate::helpers::TestApp, user: &reqwest::Client, id: &str) -> String {
    let (_, view) = crate::helpers::call(app, user, "workspace", &[("id", id)]).await;
    view["events"].to_string()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_workspace_lives_its_life_through_the_team_stacks_role_and_each_statement_is_needed(db: PgPool) {
    use crate::helpers::call;
    let app = spawn_app(db).await;
    let grace = token_for(&app, "grace", &["admin", "teams"]).await;
    let account = fresh_account();
    let slug = format!("life-{}", &account[6..]);
    let role_arn = format!("arn:aws:iam::{account}:role/AtriumPortalAccess");
    let team = json!({"slug": slug, "name": format!("Life {account}"), "aws_account_id": account, "role_arn": role_arn});
    let (status, body) = api(&app, "POST", "/admin/teams", Some(&grace), Some(team)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = api(&app, "POST", &format!("/teams/{slug}/members"), Some(&grace), Some(json!({"username": "ada"}))).await;
    assert!(status < 300, "{body}");
    let template = reqwest::Client::new()
        .get(format!("{}/api/v1/admin/teams/{slug}/account-template", app.address))
        .bearer_auth(&grace)
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("the template");
    deploy_team_stack(&account, &slug, &template, &[]).await;

    // A workstation configuration offered to the team.
    let type_id = app.approved_version("Linux workstation (EC2)", "v1").await.to_string();
    let admin = app.client_signed_in_as("grace").await;
    let allowed = format!("allowed_teams[{slug}]");
    let form = [
        ("type_id", type_id.as_str()),
        ("name", "Life workstation"),
        ("allowed_roles[researcher]", "on"),
        (allowed.as_str(), "on"),
        ("estimated_hourly_cost", "0.20"),
    ];
    let (status, configuration) = call(&app, &admin, "admin/create_configuration", &form).await;
    assert_eq!(status, 200, "{configuration}");
    let configuration = configuration["id"].to_string();

    let ada = app.client_signed_in_as("ada").await;
    let worker = app.worker();
    let launch = |name: &'static str| {
        let (app, ada, slug, configuration) = (&app, ada.clone(), slug.clone(), configuration.clone());
        async move {
            let key = format!("key-{name}");
            let form =
                [("team", slug.as_str()), ("configuration_id", configuration.as_str()), ("name", name), ("launch_key", key.as_str())];
            let (status, id) = call(app, &ada, "launch_workspace", &form).await;
            assert_eq!(status, 200, "{id}");
            id.as_str().expect("an id").to_owned()
        }
    };
    let act = |id: String, action: &'static str| {
        let (app, ada) = (&app, ada.clone());
        async move {
            let (status, body) = call(app, &ada, "workspace_action", &[("id", &id), ("action", action)]).await;
            assert_eq!(status, 200, "{action}: {body}");
        }
    };

    // The whole life through the role the stack made: launch, stop, start, terminate.
    let id = launch("life-1").await;
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");
    act(id.clone(), "stop").await;
    assert_eq!(app.work_until_settled(&worker, &id).await, "stopped");
    act(id.clone(), "start").await;
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");
    act(id.clone(), "terminate").await;
    assert_eq!(app.work_until_settled(&worker, &id).await, "terminated");

    // Without the statement for launching, a launch fails, and says which permission is missing.
    deploy_team_stack(&account, &slug, &without_statement(&template, "Launch"), &[]).await;
    let refused = launch("life-2").await;
    assert_eq!(app.work_until_settled(&worker, &refused).await, "failed");
    let events = events_of(&app, &ada, &refused).await;
    assert!(events.contains("servicecatalog:ProvisionProduct"), "{events}");

    // Without the one for stopping and starting, a stop fails the same way; the rest still works.
    deploy_team_stack(&account, &slug, &without_statement(&template, "StopAndStart"), &[]).await;
    let id = launch("life-3").await;
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");
    act(id.clone(), "stop").await;
    let settled = app.work_until_settled(&worker, &id).await;
    let events = events_of(&app, &ada, &id).await;
    assert!(settled != "stopped" && events.contains("servicecatalog:"), "{settled}: {events}");

    // Without the one for terminating, it is refused too.
    deploy_team_stack(&account, &slug, &without_statement(&template, "Terminate"), &[]).await;
    act(id.clone(), "terminate").await;
    let settled = app.work_until_settled(&worker, &id).await;
    let events = events_of(&app, &ada, &id).await;
    assert!(settled != "terminated" && events.contains("servicecatalog:TerminateProvisionedProduct"), "{settled}: {events}");
}

/// The statements for the calls the AWS emulator answers (moto cannot do them), in the order
/// the journey first needs them.
const EMULATED: [&str; 7] = ["Launch", "StopAndStart", "UpgradeAndResize", "ConnectToNotebooks", "Studio", "SessionManager", "Terminate"];

/// The steps of a workspace's journey (`least_privilege::team_journey`) that the AWS emulator
/// answers, through the role the team's stack made, as the emulator's IAM check judges them:
/// all pass; without any one of their statements, that statement's steps fail, and only they,
/// refused in IAM's words. The journey's other steps are proven under moto's enforcement.
#[tokio::test]
async fn the_emulated_steps_of_a_workspaces_journey_each_need_their_statement() {
    use crate::least_privilege::{is_refusal, team_journey};
    let portal = moto_sdk_config().await;
    let team = StackedAccount::new(&portal, "journey").await;
    let (slug, role, template) = (&team.slug, &team.role, include_str!("../../../deploy/team-account.yaml"));
    let emulated = |journey: Vec<(&'static str, &'static str, Result<(), String>)>| {
        journey.into_iter().filter(|(sid, _, _)| EMULATED.contains(sid)).collect::<Vec<_>>()
    };

    let journey = emulated(team_journey(&portal, role, (slug, "no-studies-here"), 0).await);
    let mut used: Vec<&str> = journey.iter().map(|(sid, _, _)| *sid).collect();
    used.dedup();
    assert_eq!(used, EMULATED, "the journey has steps for each");
    let failed: Vec<_> = journey.iter().filter(|(_, _, outcome)| outcome.is_err()).collect();
    assert!(failed.is_empty(), "{failed:?}");

    for (run, sid) in EMULATED.into_iter().enumerate() {
        team.deploy(&without_statement(template, sid)).await;
        let journey = emulated(team_journey(&portal, role, (slug, "no-studies-here"), run + 1).await);
        let failed: Vec<(&str, &str, &String)> =
            journey.iter().filter_map(|(need, step, outcome)| outcome.as_ref().err().map(|error| (*need, *step, error))).collect();
        assert!(!failed.is_empty(), "without {sid}, a step fails: {journey:?}");
        for (need, step, error) in failed {
            assert_eq!(need, sid, "without {sid}, only its steps fail; {step}: {error}");
            assert!(is_refusal(error) && error.contains(":"), "{step} names the permission: {error}");
        }
    }
}
