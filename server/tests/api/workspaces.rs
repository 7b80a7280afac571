//! Launching and provisioning through the emulator's Service Catalog, in the team's account.

use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};
use sqlx::PgPool;

async fn states_of(db: &PgPool, id: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT to_state FROM workspace_events WHERE workspace_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(db)
        .await
        .expect("events")
}

#[sqlx::test(migrations = "../migrations")]
async fn a_launch_is_provisioned_in_the_team_account_and_becomes_available(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (status, id) = app.launch("genomics", configuration, "ada-first", "key-first-0001").await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_str().expect("an id").to_owned();

    let (status, page) = app.get_text(&format!("/workspaces/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("requested"), "the page answers at once, before provisioning");

    let state = app.work_until_settled(&app.worker(), &id).await;
    assert_eq!(state, "available");
    assert_eq!(states_of(&app.db, &id).await, vec!["requested", "provisioning", "available"]);
    let (_, page) = app.get_text(&format!("/workspaces/{id}")).await;
    assert!(page.contains("InstanceId") && page.contains("i-"), "stack outputs are shown");

    let (_, home) = app.get_text("/teams/genomics").await;
    assert!(home.contains("ada-first"), "the team home lists her workspace");
    assert!(home.contains("$0.20 so far"), "with the estimate for its first hour");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_same_launch_form_submitted_twice_gives_one_workspace(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (first, second) = tokio::join!(
        app.launch("genomics", configuration, "ada-twice", "key-twice-0001"),
        app.launch("genomics", configuration, "ada-twice", "key-twice-0001"),
    );
    assert_eq!((first.0, second.0), (200, 200), "{first:?} {second:?}");
    assert_eq!(first.1, second.1, "one workspace id");
    let (workspaces, jobs): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM workspaces), (SELECT count(*) FROM jobs)").fetch_one(&app.db).await.expect("counted");
    assert_eq!((workspaces, jobs), (1, 1));
}

#[sqlx::test(migrations = "../migrations")]
async fn launches_are_refused_with_a_message_over_quota_or_with_a_bad_name(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 1).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (status, body) = app.launch("genomics", configuration, "Bad Name!", "key-bad-name-01").await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("lower-case letters"), "{body}");

    assert_eq!(app.launch("genomics", configuration, "ada-one", "key-quota-0001").await.0, 200);
    let (status, body) = app.launch("genomics", configuration, "ada-two", "key-quota-0002").await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("the most allowed"), "{body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn nobody_else_opens_a_workspace_or_its_events(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-private", "key-private-01").await;
    let id = id.as_str().expect("id").to_owned();

    let alan = app.client_signed_in_as("alan").await;
    for path in [format!("/workspaces/{id}"), format!("/events/workspaces/{id}")] {
        let response = alan.get(format!("{}{path}", app.address)).send().await.expect("sent");
        assert_eq!(response.status().as_u16(), 403, "{path}");
        assert!(!response.text().await.unwrap_or_default().contains("ada-private"));
    }
    let response = alan.post(format!("{}/api/workspace", app.address)).form(&[("id", id.as_str())]).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 403);
    // alan is not on genomics, and may not launch there either.
    let response = alan
        .post(format!("{}/api/launch_workspace", app.address))
        .form(&[
            ("team", "genomics"),
            ("configuration_id", &configuration.to_string()),
            ("name", "alan-sneaky"),
            ("launch_key", "key-sneaky-001"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 403);
    let (status, _) = app.get_text("/workspaces/does-not-exist").await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_provisioning_failure_shows_the_aws_message(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let name = format!("ada-doomed-{}", std::process::id());
    app.emulator_fault(serde_json::json!({ "operation": "ProvisionProduct", "fault": "fail_provisioning",
        "message": "Insufficient capacity in eu-west-1a", "body_contains": name }))
        .await;
    let (_, id) = app.launch("genomics", configuration, &name, "key-doomed-001").await;
    let id = id.as_str().expect("id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "failed");
    let (_, page) = app.get_text(&format!("/workspaces/{id}")).await;
    assert!(page.contains("Insufficient capacity in eu-west-1a"));
}

#[sqlx::test(migrations = "../migrations")]
async fn throttling_and_server_errors_are_retried_until_provisioning_succeeds(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let name = format!("ada-busy-{}", std::process::id());
    // More than the SDK's own three attempts: the job itself has to retry.
    app.emulator_fault(serde_json::json!({ "operation": "ProvisionProduct", "fault": "throttle", "times": 4, "body_contains": name }))
        .await;
    app.emulator_fault(serde_json::json!({ "operation": "ProvisionProduct", "fault": "server_error", "times": 3, "body_contains": name }))
        .await;
    let (_, id) = app.launch("genomics", configuration, &name, "key-busy-0001").await;
    let id = id.as_str().expect("id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    assert_eq!(states_of(&app.db, &id).await, vec!["requested", "provisioning", "available"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn two_workers_on_one_database_provision_each_workspace_once(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let (_, id) = app.launch("genomics", configuration, &format!("ada-pair-{n}"), &format!("key-pair-000{n}")).await;
        ids.push(id.as_str().expect("id").to_owned());
    }
    let (one, two) = (app.worker(), app.worker());
    let run = |worker: atrium::worker::Worker| async move {
        for _ in 0..200 {
            if worker.run_next_job().await.expect("runs") == atrium::worker::Tick::Idle {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    let settle = async {
        for id in &ids {
            app.work_until_settled(&app.worker(), id).await;
        }
    };
    tokio::select! {
        _ = async { tokio::join!(run(one), run(two)) } => {},
        _ = settle => {},
    }
    for id in &ids {
        assert_eq!(states_of(&app.db, id).await, vec!["requested", "provisioning", "available"], "{id}");
    }
}

/// A provisioner that dies after Service Catalog accepted the request, before the worker
/// could record it: what a crash mid-provisioning looks like to the next run.
struct CrashAfterProvisioning {
    inner: std::sync::Arc<dyn atrium::aws::provisioning::Provisioner>,
    records: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl atrium::aws::provisioning::Provisioner for CrashAfterProvisioning {
    async fn provision(
        &self,
        request: &atrium::aws::provisioning::ProvisionRequest<'_>,
    ) -> Result<atrium::aws::provisioning::Started, atrium::aws::provisioning::ProvisionError> {
        let started = self.inner.provision(request).await?;
        let mut records = self.records.lock().expect("lock");
        records.push(started.record_id.clone());
        if records.len() == 1 {
            return Err(atrium::aws::provisioning::ProvisionError::Retryable(anyhow::anyhow!("the process died")));
        }
        Ok(started)
    }

    async fn record(
        &self,
        actor: &atrium::aws::provisioning::Actor<'_>,
        record_id: &str,
    ) -> Result<atrium::aws::provisioning::RecordState, atrium::aws::provisioning::ProvisionError> {
        self.inner.record(actor, record_id).await
    }

    async fn execute_action(
        &self,
        actor: &atrium::aws::provisioning::Actor<'_>,
        product_id: &str,
        version_id: &str,
        provisioned_product_id: &str,
        action: &str,
        token: &str,
    ) -> Result<String, atrium::aws::provisioning::ProvisionError> {
        self.inner.execute_action(actor, product_id, version_id, provisioned_product_id, action, token).await
    }

    async fn update(
        &self,
        actor: &atrium::aws::provisioning::Actor<'_>,
        update: &atrium::aws::provisioning::UpdateRequest<'_>,
    ) -> Result<String, atrium::aws::provisioning::ProvisionError> {
        self.inner.update(actor, update).await
    }

    async fn terminate(
        &self,
        actor: &atrium::aws::provisioning::Actor<'_>,
        provisioned_product_id: &str,
        token: &str,
    ) -> Result<String, atrium::aws::provisioning::ProvisionError> {
        self.inner.terminate(actor, provisioned_product_id, token).await
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_worker_restarted_mid_provisioning_finishes_without_provisioning_twice(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-crash", "key-crash-0001").await;
    let id = id.as_str().expect("id").to_owned();

    let crashing = std::sync::Arc::new(CrashAfterProvisioning {
        inner: std::sync::Arc::new(atrium::aws::provisioning::ServiceCatalogProvisioner::new(app.sdk.clone())),
        records: std::sync::Mutex::new(Vec::new()),
    });
    let worker = atrium::startup::worker_with(app.db.clone(), &app.sdk, crashing.clone()).expect("the worker builds");
    worker.run_next_job().await.expect("the first run");
    sqlx::query("UPDATE jobs SET run_after = now()").execute(&app.db).await.expect("no waiting");
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");

    let records = crashing.records.lock().expect("lock").clone();
    assert_eq!(records.len(), 2, "provisioning was asked again after the crash");
    assert_eq!(records[0], records[1], "and Service Catalog gave the same record: provisioned once");
    assert_eq!(states_of(&app.db, &id).await, vec!["requested", "provisioning", "available"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_workstation_is_stopped_started_and_terminated_through_service_catalog(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-cycle", "key-cycle-0001").await;
    let id = id.as_str().expect("id").to_owned();
    let worker = app.worker();
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");

    let act = |action: &'static str| {
        let id = id.clone();
        let app = &app;
        async move { app.post_form("/api/workspace_action", &[("id", id.as_str()), ("action", action)]).await.status().as_u16() }
    };
    assert_eq!(act("start").await, 400, "already running");
    assert_eq!(act("stop").await, 200);
    assert_eq!(act("stop").await, 400, "a stop is under way");
    assert_eq!(app.work_until_settled(&worker, &id).await, "stopped");
    assert_eq!(act("start").await, 200);
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");
    assert_eq!(act("terminate").await, 200);
    assert_eq!(app.work_until_settled(&worker, &id).await, "terminated");
    assert_eq!(
        states_of(&app.db, &id).await,
        vec!["requested", "provisioning", "available", "stopping", "stopped", "starting", "available", "terminating", "terminated"]
    );
    assert_eq!(act("start").await, 400, "terminated is final");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_notebook_stops_and_starts_through_its_own_self_service_actions(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("SageMaker notebook", "v1", "Notebook").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-nb-cycle", "key-nb-cycle-01").await;
    let id = id.as_str().expect("id").to_owned();
    let worker = app.worker();
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");
    for (action, settled) in [("stop", "stopped"), ("start", "available")] {
        let response = app.post_form("/api/workspace_action", &[("id", id.as_str()), ("action", action)]).await;
        assert_eq!(response.status().as_u16(), 200, "{action}");
        assert_eq!(app.work_until_settled(&worker, &id).await, settled, "the notebook instance itself {settled} in moto");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_type_without_stop_and_start_can_only_be_terminated(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("EMR cluster", "v1", "Spark").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-spark", "key-spark-0001").await;
    let id = id.as_str().expect("id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    let response = app.post_form("/api/workspace_action", &[("id", id.as_str()), ("action", "stop")]).await;
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap_or_default().contains("can only be terminated"));
    let (_, page) = app.get_text(&format!("/workspaces/{id}")).await;
    assert!(page.contains("cannot be stopped and started"));
}

#[sqlx::test(migrations = "../migrations")]
async fn another_user_cannot_stop_or_terminate_a_workspace(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-guarded", "key-guarded-01").await;
    let id = id.as_str().expect("id").to_owned();
    let gus = app.client_signed_in_as("gus").await;
    let response = gus
        .post(format!("{}/api/workspace_action", app.address))
        .form(&[("id", id.as_str()), ("action", "terminate")])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 403, "a teammate is not the owner");
}

#[sqlx::test(migrations = "../migrations")]
async fn profiles_come_from_ssm_and_show_only_what_the_user_may_launch(db: PgPool) {
    let app = spawn_app(db).await;
    app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Small workstation").await;
    app.sign_in("ada", PASSWORD).await;
    let (status, page) = app.get_text("/teams/genomics/profiles").await;
    assert_eq!(status, 200);
    assert!(page.contains("Quick look"), "the profile naming an offered configuration is shown");
    assert!(!page.contains("Jupyter notebook"), "a profile whose configuration is not offered is not");
    let (status, _) = app.get_text("/teams/physics/profiles").await;
    assert_eq!(status, 403);
}

#[sqlx::test(migrations = "../migrations")]
async fn connecting_to_a_notebook_mints_a_presigned_url_in_the_team_account(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("SageMaker notebook", "v1", "Notebook").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-notebook", "key-notebook-01").await;
    let id = id.as_str().expect("id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");

    let response = app.post_form(&format!("/workspaces/{id}/connect"), &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let url = crate::helpers::location(&response);
    assert!(url.contains("/sagemaker/presigned?token="), "{url}");
    let landing = reqwest::get(&url).await.expect("landing").text().await.expect("text");
    assert!(landing.contains("atrium-ada"), "{landing}");
    assert!(landing.contains("111111111111"), "minted in the genomics account: {landing}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM workspaces WHERE outputs::text LIKE '%presigned%'")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(stored, 0, "the URL is never stored");

    let alan = app.client_signed_in_as("alan").await;
    let response = alan.post(format!("{}/workspaces/{id}/connect", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 403);
    assert!(response.headers().get("location").is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_launch_from_a_profile_uses_its_parameter_values_checked_against_the_template(db: PgPool) {
    let app = spawn_app(db).await;
    let unique = format!("Profiled {}", std::process::id());
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", &unique).await;
    // Profiles live in the team's account, with its other parameters.
    let genomics = crate::helpers::in_team_account(&app.sdk, "arn:aws:iam::111111111111:role/AtriumPortalAccess", "test-profiles").await;
    let ssm = aws_sdk_ssm::Client::new(&genomics);
    for (name, instance_type) in [("profiled-good", "t3.large"), ("profiled-bad", "p5.48xlarge")] {
        let document =
            serde_json::json!({ "display_name": name, "configuration": unique, "parameters": { "InstanceType": instance_type } });
        ssm.put_parameter()
            .name(format!("/atrium/teams/genomics/profiles/{name}-{}", std::process::id()))
            .value(document.to_string())
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .expect("profile written");
    }
    app.sign_in("ada", PASSWORD).await;
    let launch = |profile: String, name: &'static str, key: &'static str| {
        let configuration = configuration.to_string();
        let app = &app;
        async move {
            let response = app
                .post_form(
                    "/api/launch_workspace",
                    &[
                        ("team", "genomics"),
                        ("configuration_id", &configuration),
                        ("name", name),
                        ("launch_key", key),
                        ("profile", &profile),
                    ],
                )
                .await;
            (response.status().as_u16(), response.text().await.unwrap_or_default())
        }
    };
    let (status, id) = launch(format!("profiled-good-{}", std::process::id()), "ada-profiled", "key-profiled-01").await;
    assert_eq!(status, 200, "{id}");
    let values: serde_json::Value =
        sqlx::query_scalar("SELECT parameter_values FROM workspaces WHERE name = 'ada-profiled'").fetch_one(&app.db).await.expect("stored");
    assert_eq!(values, serde_json::json!({ "InstanceType": "t3.large" }));

    let (status, body) = launch(format!("profiled-bad-{}", std::process::id()), "ada-misprofiled", "key-profiled-02").await;
    assert_eq!(status, 400);
    assert!(body.contains("The profile's InstanceType: must be one of"), "{body}");
    let (status, _) = launch("no-such-profile".into(), "ada-ghost", "key-profiled-03").await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_job_that_breaks_off_waits_instead_of_holding_up_the_queue(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-broken", "key-broken-0001").await;
    let id = id.as_str().expect("id").to_owned();
    // Provisioning without a record: the worker cannot go on with this one.
    sqlx::query("UPDATE workspaces SET state = 'provisioning', record_id = NULL WHERE id = $1")
        .bind(&id)
        .execute(&app.db)
        .await
        .expect("broken");
    let worker = app.worker();
    assert_eq!(worker.run_next_job().await.expect("runs"), atrium::worker::Tick::Ran);
    let (attempts, waiting): (i32, bool) =
        sqlx::query_as("SELECT attempts, run_after > now() FROM jobs").fetch_one(&app.db).await.expect("the job is kept");
    assert_eq!((attempts, waiting), (1, true), "counted and put back for later");
    assert_eq!(worker.run_next_job().await.expect("runs"), atrium::worker::Tick::Idle, "not claimed again at once");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_who_left_the_team_no_longer_reaches_the_workspace(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let (_, id) = app.launch("genomics", configuration, "ada-left", "key-left-00001").await;
    let id = id.as_str().expect("id").to_owned();
    app.cognito()
        .admin_remove_user_from_group()
        .user_pool_id(&app.identity.user_pool_id)
        .username("ada")
        .group_name("team-genomics")
        .send()
        .await
        .expect("ada leaves genomics");
    app.post_form("/auth/sign-out", &[]).await;
    app.sign_in("ada", PASSWORD).await;
    let (status, _) = app.get_text(&format!("/workspaces/{id}")).await;
    assert_eq!(status, 403);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_worker_process_killed_mid_provisioning_is_resumed_and_provisions_once(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    let name = format!("ada-killed-{}", std::process::id());
    // ProvisionProduct for this workspace hangs for a while: the worker is killed in the middle.
    app.emulator_fault(serde_json::json!({ "operation": "ProvisionProduct", "fault": "slow", "millis": 4000, "body_contains": name }))
        .await;
    let (_, id) = app.launch("genomics", configuration, &name, "key-killed-0001").await;
    let id = id.as_str().expect("id").to_owned();

    let options = app.db.connect_options();
    let database_url = format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().expect("a database")
    );
    let mut worker = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("worker")
        .env("DATABASE_URL", database_url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the worker process starts");
    // Wait until the request has reached AWS (the fault is taken), then kill the process.
    let emulator = std::env::var("AWS_ENDPOINT_URL_SERVICE_CATALOG").expect("emulator");
    let mut reached = false;
    for _ in 0..100 {
        let pending: Vec<serde_json::Value> =
            reqwest::get(format!("{emulator}/_emulator/faults")).await.expect("sent").json().await.expect("json");
        if !pending.iter().any(|rule| rule["body_contains"] == name.as_str()) {
            reached = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    worker.kill().expect("killed");
    worker.wait().expect("reaped");
    assert!(reached, "the worker process called ProvisionProduct before it was killed");
    let state: String = sqlx::query_scalar("SELECT state FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db).await.expect("state");
    assert_eq!(state, "requested", "the killed worker's claim rolled back");

    // A new worker takes the job up; Service Catalog gets the same token and answers with the
    // record of the first request, so nothing is provisioned twice. (A second provisioning
    // under the same name would be refused as a duplicate and the workspace would fail.)
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    assert_eq!(states_of(&app.db, &id).await, vec!["requested", "provisioning", "available"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_team_home_lists_live_workspaces_and_pages_the_ended_ones(db: PgPool) {
    let app = spawn_app(db).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Standard").await;
    app.sign_in("ada", PASSWORD).await;
    sqlx::query(
        "INSERT INTO workspaces (id, team_slug, owner, name, configuration_id, state, idempotency_key, created_at) \
         SELECT 'old-' || i, 'genomics', 'ada', 'ada-old-' || i, $1, CASE WHEN i % 2 = 0 THEN 'terminated' ELSE 'failed' END, \
                'key-old-' || lpad(i::text, 4, '0'), now() - (i || ' hours')::interval \
         FROM generate_series(1, 30) i",
    )
    .bind(configuration)
    .execute(&app.db)
    .await
    .expect("ended workspaces");
    let (_, id) = app.launch("genomics", configuration, "ada-running", "key-running-01").await;
    assert!(id.is_string(), "{id}");

    let (status, home) = app.get_text("/teams/genomics").await;
    assert_eq!(status, 200);
    assert!(home.contains("ada-running"), "the live workspace is listed");
    assert!(!home.contains("ada-old-"), "ended ones are not");
    assert!(home.contains("30 ended"), "but counted, behind a link");

    let (status, first) = app.get_text("/teams/genomics/ended").await;
    assert_eq!(status, 200);
    assert!(first.contains("30 ended · page 1 of 2"), "25 a page");
    assert!(first.contains("ada-old-1<") && !first.contains("ada-running"), "newest first, ended only");
    let (_, second) = app.get_text("/teams/genomics/ended?page=2").await;
    assert!(second.contains("ada-old-30<") && !second.contains("ada-old-1<"));

    let alan = app.client_signed_in_as("alan").await;
    let response = alan.get(format!("{}/teams/genomics/ended", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 403, "not his team");
}
