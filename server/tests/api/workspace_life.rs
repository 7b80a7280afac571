//! After the first launch: sharing a workspace with team members, and launching an ended one
//! again.

use crate::helpers::{TestApp, audit_rows, call, invalid_fields, spawn_app_with};
use sqlx::PgPool;

/// ada's available workstation on genomics (through the worker): its id.
async fn adas_workstation(app: &TestApp, ada: &reqwest::Client, name: &str) -> String {
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await.to_string();
    launch_available(app, ada, &configuration, name).await
}

/// Launches `configuration` on genomics and works it until available: its id.
async fn launch_available(app: &TestApp, ada: &reqwest::Client, configuration: &str, name: &str) -> String {
    let key = format!("key-{name}");
    let form = [("team", "genomics"), ("configuration_id", configuration), ("name", name), ("launch_key", key.as_str())];
    let (status, id) = call(app, ada, "launch_workspace", &form).await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_str().expect("an id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    id
}

#[sqlx::test(migrations = "../migrations")]
async fn a_shared_workspace_is_connected_to_by_members_as_themselves_and_never_by_others(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let id = adas_workstation(&app, &ada, "ada-shared").await;
    let gus = app.client_signed_in_as("gus").await;
    let alan = app.client_signed_in_as("alan").await;
    let connect = |client: &reqwest::Client| client.post(format!("{}/workspaces/{id}/connect", app.address)).send();

    // Before it is shared, only ada.
    assert_eq!(connect(&gus).await.expect("sent").status().as_u16(), 403);
    let (status, body) = call(&app, &ada, "share_workspace", &[("id", &id), ("people[alan]", "on")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["people".to_owned()]), "alan is not on genomics: {body}");
    let (status, _) = call(&app, &gus, "share_workspace", &[("id", &id), ("people[gus]", "on")]).await;
    assert_eq!(status, 403);
    let (status, body) = call(&app, &ada, "share_workspace", &[("id", &id), ("people[gus]", "on")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audit_rows(&app.db, "ada", "workspace.share", "success").await, 1);

    // gus sees it under "Shared with me", connects as himself, and may do nothing else.
    let (_, page) = call(&app, &gus, "team_page", &[("slug", "genomics")]).await;
    assert_eq!(page["workspaces"]["shared"][0]["id"], id.as_str(), "{page}");
    let (_, sharing) = call(&app, &gus, "workspace_sharing", &[("id", &id)]).await;
    assert_eq!((sharing["shared_by"].as_str(), sharing["may_manage"].as_bool()), (Some("ada"), Some(false)), "{sharing}");
    assert_eq!(connect(&gus).await.expect("sent").status().as_u16(), 303);
    assert_eq!(audit_rows(&app.db, "gus", "workspace.connect", "success").await, 1);
    for action in ["stop", "terminate"] {
        let (status, _) = call(&app, &gus, "workspace_action", &[("id", &id), ("action", action)]).await;
        assert_eq!(status, 403, "{action}");
    }
    let (status, _) = call(&app, &gus, "launch_again", &[("id", &id), ("launch_key", "key-gus-again")]).await;
    assert_eq!(status, 403);
    // Others still get nothing.
    assert_eq!(connect(&alan).await.expect("sent").status().as_u16(), 403);
    assert_eq!(
        app.client_signed_in_as("alan").await.get(format!("{}/workspaces/{id}", app.address)).send().await.expect("sent").status().as_u16(),
        403
    );

    // Someone who leaves the team loses the share at once.
    let rosalind = app.client_signed_in_as("rosalind").await;
    let (status, body) = call(&app, &rosalind, "remove_team_member", &[("team", "genomics"), ("username", "gus")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(connect(&gus).await.expect("sent").status().as_u16(), 403);

    // Shared with the whole team: every member; unsharing is audited too.
    let (status, _) = call(&app, &ada, "share_workspace", &[("id", &id), ("whole_team", "on")]).await;
    assert_eq!(status, 200);
    assert_eq!(connect(&rosalind).await.expect("sent").status().as_u16(), 303);
    assert_eq!(audit_rows(&app.db, "ada", "workspace.unshare", "success").await, 1, "gus, by name");
    let (status, _) = call(&app, &ada, "share_workspace", &[("id", &id)]).await;
    assert_eq!(status, 200);
    assert_eq!(connect(&rosalind).await.expect("sent").status().as_u16(), 403);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_ended_workspace_is_launched_again_with_what_it_had(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let reference: i64 =
        sqlx::query_scalar("SELECT id FROM studies WHERE name = 'Reference genomes'").fetch_one(&app.db).await.expect("seeded");
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await.to_string();
    let study = format!("studies[{reference}]");
    let form = [
        ("team", "genomics"),
        ("configuration_id", configuration.as_str()),
        ("name", "ada-again"),
        ("launch_key", "key-ada-again-1"),
        (study.as_str(), "rw"),
    ];
    let (status, first) = call(&app, &ada, "launch_workspace", &form).await;
    assert_eq!(status, 200, "{first}");
    let first = first.as_str().expect("an id").to_owned();
    let worker = app.worker();
    assert_eq!(app.work_until_settled(&worker, &first).await, "available");

    // A live workspace is not launched again.
    let (status, body) = call(&app, &ada, "launch_again", &[("id", &first), ("launch_key", "key-again-0001")]).await;
    assert_eq!(status, 400, "{body}");
    let (_, sharing) = call(&app, &ada, "workspace_sharing", &[("id", &first)]).await;
    assert!(sharing["launch_again_key"].is_null(), "{sharing}");

    let (status, _) = call(&app, &ada, "workspace_action", &[("id", &first), ("action", "terminate")]).await;
    assert_eq!(status, 200);
    assert_eq!(app.work_until_settled(&worker, &first).await, "terminated");
    let (_, sharing) = call(&app, &ada, "workspace_sharing", &[("id", &first)]).await;
    let key = sharing["launch_again_key"].as_str().expect("offered once ended").to_owned();
    let (status, again) = call(&app, &ada, "launch_again", &[("id", &first), ("launch_key", &key)]).await;
    assert_eq!(status, 200, "{again}");
    let (_, twice) = call(&app, &ada, "launch_again", &[("id", &first), ("launch_key", &key)]).await;
    assert_eq!(again, twice, "the same key launches once");
    let again = again.as_str().expect("an id").to_owned();
    assert_ne!(again, first);

    let (_, view) = call(&app, &ada, "workspace", &[("id", &again)]).await;
    assert_eq!((view["name"].as_str(), view["configuration_name"].as_str()), (Some("ada-again"), Some("Workstation")), "{view}");
    assert_eq!(view["studies"][0]["name"], "Reference genomes", "{view}");
    let values: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT parameter_values FROM workspaces WHERE id IN ($1, $2) ORDER BY created_at")
            .bind(&first)
            .bind(&again)
            .fetch_all(&app.db)
            .await
            .expect("stored");
    assert_eq!(values[0], values[1], "the same parameters and studies");
    let detail: String = sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'workspace.launch' AND object_id = $1")
        .bind(&again)
        .fetch_one(&app.db)
        .await
        .expect("audited");
    assert!(detail.contains(&format!("launched again from {first}")), "{detail}");
    let alan = app.client_signed_in_as("alan").await;
    let (status, _) = call(&app, &alan, "launch_again", &[("id", &first), ("launch_key", "key-alan-again-1")]).await;
    assert_eq!(status, 403);
}

/// Someone in genomics' account (moto), to look at or change things behind Atrium's back.
async fn genomics_console(app: &TestApp) -> aws_config::SdkConfig {
    crate::helpers::in_team_account(&app.sdk, "arn:aws:iam::111111111111:role/AtriumPortalAccess", "someone-in-the-console").await
}

async fn genomics_ec2(app: &TestApp) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&genomics_console(app).await)
}

#[sqlx::test(migrations = "../migrations")]
async fn the_reconcile_applies_safe_drift_and_flags_the_rest(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let id = adas_workstation(&app, &ada, "ada-drifting").await;
    let instance: String = sqlx::query_scalar("SELECT outputs->>'InstanceId' FROM workspaces WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .expect("an instance");
    let ec2 = genomics_ec2(&app).await;
    let grace = app.client_signed_in_as("grace").await;
    let resync = |client: &reqwest::Client| {
        let (client, app, id) = (client.clone(), &app, id.clone());
        async move { call(app, &client, "admin/resync_workspace", &[("id", &id)]).await }
    };
    let state = || sqlx::query_scalar::<_, String>("SELECT state FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db);

    // In sync: nothing changes.
    let (status, found) = resync(&grace).await;
    assert_eq!((status, found.as_str()), (200, Some("AWS agrees with Atrium.")));
    // Stopped in the console: applied.
    ec2.stop_instances().instance_ids(&instance).send().await.expect("stopped behind Atrium's back");
    let (status, found) = resync(&grace).await;
    assert_eq!(status, 200, "{found}");
    assert!(found.as_str().is_some_and(|f| f.contains("stopped outside Atrium")), "{found}");
    assert_eq!(state().await.expect("state"), "stopped");
    let (_, view) = call(&app, &ada, "workspace", &[("id", &id)]).await;
    assert!(view["events"].to_string().contains("AWS says stopped"), "{view}");
    // A team admin may not resync (admins only).
    let rosalind = app.client_signed_in_as("rosalind").await;
    assert_eq!(resync(&rosalind).await.0, 403);

    // Terminated in the console: flagged, not applied.
    ec2.terminate_instances().instance_ids(&instance).send().await.expect("terminated behind Atrium's back");
    let (_, found) = resync(&grace).await;
    assert!(found.as_str().is_some_and(|f| f.contains("Terminated outside Atrium")), "{found}");
    assert_eq!(state().await.expect("state"), "stopped");
    let (status, listed) = call(&app, &grace, "admin/workspaces", &[("drift_only", "true")]).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["rows"][0]["id"], id.as_str(), "{listed}");
    assert!(listed["rows"][0]["drift"].as_str().is_some_and(|d| d.starts_with("Terminated outside Atrium")), "{listed}");
    // Force terminate ends it, audited.
    let (status, _) = call(&app, &rosalind, "admin/force_terminate_workspace", &[("id", &id)]).await;
    assert_eq!(status, 403);
    let (status, body) = call(&app, &grace, "admin/force_terminate_workspace", &[("id", &id)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(state().await.expect("state"), "terminated");
    assert_eq!(audit_rows(&app.db, "grace", "workspace.force_terminate", "success").await, 1);
    let (status, _) = call(&app, &grace, "admin/force_terminate_workspace", &[("id", &id)]).await;
    assert_eq!(status, 409);

    // A launch that never finishes is flagged as stuck after 40 minutes.
    let configuration: i64 =
        sqlx::query_scalar("SELECT configuration_id FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db).await.expect("stored");
    let stuck = launch_available(&app, &ada, &configuration.to_string(), "ada-stuck").await;
    sqlx::query("UPDATE workspaces SET state = 'provisioning', created_at = now() - interval '41 minutes' WHERE id = $1")
        .bind(&stuck)
        .execute(&app.db)
        .await
        .expect("held");
    let (_, found) = call(&app, &grace, "admin/resync_workspace", &[("id", &stuck)]).await;
    assert_eq!(found.as_str(), Some("Stuck in provisioning for 41 min."), "{found}");
    let (status, _) = call(&app, &grace, "admin/workspaces", &[("state", "exploded")]).await;
    assert_eq!(status, 400);

    // Its stack deleted in the console: the instance went with it, flagged.
    let deleted = launch_available(&app, &ada, &configuration.to_string(), "ada-unstacked").await;
    let product: String = sqlx::query_scalar("SELECT provisioned_product_id FROM workspaces WHERE id = $1")
        .bind(&deleted)
        .fetch_one(&app.db)
        .await
        .expect("provisioned");
    let config = genomics_console(&app).await;
    aws_sdk_cloudformation::Client::new(&config)
        .delete_stack()
        .stack_name(format!("SC-{product}"))
        .send()
        .await
        .expect("deleted behind Atrium's back");
    let (_, found) = call(&app, &grace, "admin/resync_workspace", &[("id", &deleted)]).await;
    assert!(found.as_str().is_some_and(|f| f.contains("Terminated outside Atrium")), "{found}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_leavers_running_workspace_is_stopped_after_the_grace_period_unless_transferred(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await.to_string();
    let kept = launch_available(&app, &ada, &configuration, "ada-kept").await;
    let handed = launch_available(&app, &ada, &configuration, "ada-handed").await;
    let rosalind = app.client_signed_in_as("rosalind").await;
    let (status, body) = call(&app, &rosalind, "remove_team_member", &[("team", "genomics"), ("username", "ada")]).await;
    assert_eq!(status, 200, "{body}");

    let reconciler = atrium::startup::reconciler(app.db.clone(), &app.sdk);
    assert!(reconciler.handle_leavers().await.expect("checked").is_empty(), "nothing is stopped at once");
    let events: String = sqlx::query_scalar("SELECT string_agg(message, ' | ') FROM workspace_events WHERE workspace_id = $1")
        .bind(&kept)
        .fetch_one(&app.db)
        .await
        .expect("events");
    assert!(events.contains("Its owner ada left genomics: it is stopped in 7 days unless an admin transfers it"), "{events}");

    // An admin hands one over to a member; only to a member.
    let grace = app.client_signed_in_as("grace").await;
    let (status, body) = call(&app, &grace, "admin/transfer_workspace", &[("id", &handed), ("to", "alan")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["to".to_owned()]), "{body}");
    let (status, _) = call(&app, &rosalind, "admin/transfer_workspace", &[("id", &handed), ("to", "rosalind")]).await;
    assert_eq!(status, 403);
    let (status, body) = call(&app, &grace, "admin/transfer_workspace", &[("id", &handed), ("to", "rosalind")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(audit_rows(&app.db, "grace", "workspace.transfer", "success").await, 1);
    let (status, view) = call(&app, &rosalind, "workspace", &[("id", &handed)]).await;
    assert_eq!((status, view["owner"].as_str()), (200, Some("rosalind")), "{view}");

    // Eight days on, the one not handed over is stopped (by the worker, audited as Atrium).
    sqlx::query("UPDATE workspaces SET owner_left_at = now() - interval '8 days' WHERE owner_left_at IS NOT NULL")
        .execute(&app.db)
        .await
        .expect("aged");
    assert_eq!(reconciler.handle_leavers().await.expect("checked"), vec![kept.clone()]);
    assert_eq!(app.work_until_settled(&app.worker(), &kept).await, "stopped");
    assert_eq!(app.work_until_settled(&app.worker(), &handed).await, "available");
    assert_eq!(audit_rows(&app.db, "atrium", "workspace.stop", "success").await, 1);
}

/// Imports (and, if asked, approves) a seeded version as grace: its workspace type id.
async fn import_version(app: &TestApp, grace: &reqwest::Client, product: &str, version: &str, approve: bool) -> String {
    let (product_id, version_id) = app.version_of(product, version).await;
    let (status, imported) = call(app, grace, "admin/import_version", &[("product_id", &product_id), ("version_id", &version_id)]).await;
    assert_eq!(status, 200, "{imported}");
    let type_id = imported["id"].as_i64().expect("imported").to_string();
    if approve {
        let (status, body) = call(app, grace, "admin/approve_type", &[("type_id", &type_id)]).await;
        assert_eq!(status, 200, "{body}");
    }
    type_id
}

/// What Service Catalog says the workspace's provisioned product runs: its version id.
async fn provisioned_version(app: &TestApp, id: &str) -> String {
    let product: String = sqlx::query_scalar("SELECT provisioned_product_id FROM workspaces WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .expect("provisioned");
    let config = genomics_console(app).await;
    let described =
        aws_sdk_servicecatalog::Client::new(&config).describe_provisioned_product().id(&product).send().await.expect("described");
    described.provisioned_product_detail().and_then(|d| d.provisioning_artifact_id()).expect("a version").to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_running_workspace_is_upgraded_in_place_and_a_failed_upgrade_leaves_it_as_it_was(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let grace = app.client_signed_in_as("grace").await;
    let id = adas_workstation(&app, &ada, "ada-upgrade").await;
    let worker = app.worker();
    let (_, v1) = app.version_of("Linux workstation (EC2)", "v1").await;
    let (_, v2) = app.version_of("Linux workstation (EC2)", "v2").await;
    let upgrade = |client: &reqwest::Client, id: &str, to: &str| {
        let (client, app, form) = (client.clone(), &app, [("id".to_owned(), id.to_owned()), ("to_type_id".to_owned(), to.to_owned())]);
        async move { call(app, &client, "upgrade_workspace", &[("id", &form[0].1), ("to_type_id", &form[1].1)]).await }
    };
    let view = |id: &str| {
        let (ada, app, id) = (ada.clone(), &app, id.to_owned());
        async move { call(app, &ada, "workspace", &[("id", &id)]).await.1 }
    };

    // v2 imported but not approved: not offered, and refused.
    let v2_type = import_version(&app, &grace, "Linux workstation (EC2)", "v2", false).await;
    assert!(view(&id).await["upgrade"].is_null());
    let (status, body) = upgrade(&ada, &id, &v2_type).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["version".to_owned()]), "{body}");
    assert!(body.to_string().contains("only an approved version"), "{body}");

    // Approved: offered to ada, with the admin's deadline.
    call(&app, &grace, "admin/approve_type", &[("type_id", &v2_type)]).await;
    let v1_type: i64 =
        sqlx::query_scalar("SELECT workspace_type_id FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db).await.expect("stored");
    let (status, body) = call(&app, &grace, "admin/set_upgrade_by", &[("type_id", &v1_type.to_string()), ("by", "2999-12-31")]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&app, &grace, "admin/set_upgrade_by", &[("type_id", &v1_type.to_string()), ("by", "2001-01-01")]).await;
    assert_eq!(status, 400, "a deadline in the past");
    let offered = view(&id).await;
    assert_eq!(offered["upgrade"]["type_label"], "Linux workstation (EC2) v2", "{offered}");
    assert_eq!(offered["upgrade_by"], "2999-12-31", "{offered}");

    // Others may not; another product's version is not an upgrade.
    let gus = app.client_signed_in_as("gus").await;
    assert_eq!(upgrade(&gus, &id, &v2_type).await.0, 403);
    let notebook = import_version(&app, &grace, "SageMaker notebook", "v1", true).await;
    let (status, body) = upgrade(&ada, &id, &notebook).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("is not a version of Linux workstation"), "{body}");

    // AWS fails the update: the workspace runs v1 as before, and says why.
    let product: String = sqlx::query_scalar("SELECT provisioned_product_id FROM workspaces WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .expect("provisioned");
    app.emulator_fault(serde_json::json!({ "operation": "UpdateProvisionedProduct", "fault": "fail_provisioning",
        "message": "The volume cannot be resized while attached", "body_contains": product }))
        .await;
    let (status, body) = upgrade(&ada, &id, &v2_type).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT state FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db).await.expect("state"),
        "updating"
    );
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");
    let failed = view(&id).await;
    assert_eq!(failed["type_label"], "Linux workstation (EC2) v1", "{failed}");
    assert!(failed["events"].to_string().contains("The volume cannot be resized while attached"), "{failed}");
    assert_eq!(failed["upgrade"]["type_label"], "Linux workstation (EC2) v2", "still offered");

    // Upgraded: the same workspace (id, name, costs) on v2, in Service Catalog too.
    let (status, body) = upgrade(&ada, &id, &v2_type).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.work_until_settled(&worker, &id).await, "available");
    let upgraded = view(&id).await;
    assert_eq!((upgraded["id"].as_str(), upgraded["name"].as_str()), (Some(id.as_str()), Some("ada-upgrade")));
    assert_eq!(upgraded["type_label"], "Linux workstation (EC2) v2", "{upgraded}");
    assert!(upgraded["upgrade"].is_null(), "{upgraded}");
    assert_eq!(provisioned_version(&app, &id).await, v2);
    assert_ne!(v1, v2);
    assert_eq!(audit_rows(&app.db, "ada", "workspace.upgrade", "success").await, 2);
    let (status, body) = upgrade(&ada, &id, &v2_type).await;
    assert_eq!(status, 400, "it runs v2 already: {body}");

    // A retired version is no upgrade.
    let configuration: i64 =
        sqlx::query_scalar("SELECT configuration_id FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db).await.expect("stored");
    let other = launch_available(&app, &ada, &configuration.to_string(), "ada-upgrade-late").await;
    call(&app, &grace, "admin/retire_type", &[("type_id", &v2_type)]).await;
    assert!(view(&other).await["upgrade"].is_null());
    let (status, body) = upgrade(&ada, &other, &v2_type).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("retired"), "{body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_running_workspace_changes_to_a_size_its_configuration_lists_within_the_budget(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let grace = app.client_signed_in_as("grace").await;
    let ada = app.client_signed_in_as("ada").await;
    let v1 = import_version(&app, &grace, "Linux workstation (EC2)", "v1", true).await;
    let form = [
        ("type_id", v1.as_str()),
        ("name", "Sized workstation"),
        ("allowed_roles[researcher]", "on"),
        ("allowed_teams[genomics]", "on"),
        ("estimated_hourly_cost", "0.05"),
        ("parameters[InstanceType]", "t3.medium"),
        ("size_parameter", "InstanceType"),
        ("sizes", "t3.medium = 0.05\nt3.large = 0.17\nm5.xlarge = 9000"),
    ];
    let (status, configuration) = call(&app, &grace, "admin/create_configuration", &form).await;
    assert_eq!(status, 200, "{configuration}");
    let (status, body) = call(
        &app,
        &grace,
        "admin/create_configuration",
        &[("name", "Bad sizes"), ("sizes", "c7.huge = 1"), ("size_parameter", "InstanceType")]
            .iter()
            .chain(&form[2..5])
            .chain(&[("type_id", v1.as_str())])
            .copied()
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["sizes".to_owned()]), "a size the template refuses: {body}");
    let id = launch_available(&app, &ada, &configuration["id"].to_string(), "ada-sized").await;
    let (status, body) = call(&app, &grace, "admin/set_budget", &[("team", "genomics"), ("amount", "50000")]).await;
    assert_eq!(status, 200, "{body}");
    let resize = |size: &str| {
        let (ada, app, id, size) = (ada.clone(), &app, id.clone(), size.to_owned());
        async move { call(app, &ada, "resize_workspace", &[("id", &id), ("size", &size)]).await }
    };
    let (_, view) = call(&app, &ada, "workspace", &[("id", &id)]).await;
    assert_eq!((view["size"].as_str(), view["sizes"].as_array().map(Vec::len)), (Some("t3.medium"), Some(3)), "{view}");

    // Sizes it does not list, the size it has, and a size over the team's budget: refused.
    let (status, body) = resize("p4d.24xlarge").await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["size".to_owned()]), "{body}");
    assert_eq!(resize("t3.medium").await.0, 400);
    let (status, body) = resize("m5.xlarge").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("budget"), "{body}");
    let gus = app.client_signed_in_as("gus").await;
    assert_eq!(call(&app, &gus, "resize_workspace", &[("id", &id), ("size", "t3.large")]).await.0, 403);

    let (status, body) = resize("t3.large").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    let (_, view) = call(&app, &ada, "workspace", &[("id", &id)]).await;
    assert_eq!((view["size"].as_str(), view["estimated_hourly_cost_cents"].as_u64()), (Some("t3.large"), Some(17)), "{view}");
    assert!(view["events"].to_string().contains("resized from t3.medium to t3.large"), "{view}");
    assert_eq!(audit_rows(&app.db, "ada", "workspace.resize", "success").await, 1);
    // Service Catalog has the new value.
    let product: String = sqlx::query_scalar("SELECT provisioned_product_id FROM workspaces WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .expect("provisioned");
    let config = genomics_console(&app).await;
    let outputs = aws_sdk_servicecatalog::Client::new(&config)
        .get_provisioned_product_outputs()
        .provisioned_product_id(&product)
        .send()
        .await
        .expect("outputs");
    assert!(outputs.outputs().iter().any(|o| o.output_key() == Some("InstanceId")), "the instance is still there");
    let instance = view["outputs"]["InstanceId"].as_str().expect("an instance");
    let described = genomics_ec2(&app).await.describe_instances().instance_ids(instance).send().await.expect("described");
    let instance_type =
        described.reservations().iter().flat_map(|r| r.instances()).find_map(|i| i.instance_type().map(|t| t.as_str().to_owned()));
    assert_eq!(instance_type.as_deref(), Some("t3.large"), "the instance itself was changed");

    // Stopped: start it first.
    call(&app, &ada, "workspace_action", &[("id", &id), ("action", "stop")]).await;
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "stopped");
    let (status, body) = resize("t3.medium").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("Start the workspace first"), "{body}");
}

/// The Session Manager sessions the emulator was asked for, newest last.
async fn sessions_started() -> Vec<serde_json::Value> {
    let emulator = std::env::var("AWS_ENDPOINT_URL_SSM").expect("dev/test routes SSM through the AWS emulator");
    reqwest::get(format!("{emulator}/_emulator/sessions")).await.expect("sent").json().await.expect("json")
}

#[sqlx::test(migrations = "../migrations")]
async fn session_manager_forwards_ssh_of_a_workstation_in_the_callers_name(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let id = adas_workstation(&app, &ada, "ada-ssh").await;
    let instance: String = sqlx::query_scalar("SELECT outputs->>'InstanceId' FROM workspaces WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .expect("an instance");
    let session = |client: &reqwest::Client, protocol: &str| {
        let (client, app, id, protocol) = (client.clone(), &app, id.clone(), protocol.to_owned());
        async move { call(app, &client, "start_workspace_session", &[("id", &id), ("protocol", &protocol)]).await }
    };

    let (status, started) = session(&ada, "ssh").await;
    assert_eq!(status, 200, "{started}");
    let session_id = started["session_id"].as_str().expect("a session").to_owned();
    assert_eq!(started["client_command"], "ssh -p 2222 ec2-user@localhost");
    assert!(
        started["plugin_command"]
            .as_str()
            .is_some_and(|c| c.starts_with("session-manager-plugin '{") && c.contains(&session_id) && c.contains("TokenValue")),
        "{started}"
    );
    assert_eq!(started["plugin_arguments"][2], "StartSession");
    assert!(
        started["aws_cli_command"]
            .as_str()
            .is_some_and(|c| c.contains(&format!("--target {instance} --document-name AWS-StartPortForwardingSession"))),
        "{started}"
    );
    // What AWS was asked: port 22 of the instance, to 2222, by ada in genomics' account.
    let asked = sessions_started().await.into_iter().find(|s| s["SessionId"] == session_id.as_str()).expect("the emulator saw it");
    assert_eq!(
        (asked["Target"].as_str(), asked["DocumentName"].as_str()),
        (Some(instance.as_str()), Some("AWS-StartPortForwardingSession"))
    );
    assert_eq!(
        (asked["Parameters"]["portNumber"][0].as_str(), asked["Parameters"]["localPortNumber"][0].as_str()),
        (Some("22"), Some("2222"))
    );
    assert_eq!(asked["Account"], "111111111111");
    assert!(asked["Caller"].as_str().is_some_and(|c| c.ends_with("/atrium-ada")), "{asked}");
    // Audited as a connect, with the session but never its token.
    let detail: String = sqlx::query_scalar("SELECT detail FROM audit_log WHERE actor = 'ada' AND action = 'workspace.connect'")
        .fetch_one(&app.db)
        .await
        .expect("audited");
    assert!(detail.starts_with(&format!("session-manager ssh to {instance}")) && detail.contains(&session_id), "{detail}");
    let token = started["plugin_arguments"][0]
        .as_str()
        .expect("the response")
        .split("TokenValue\":\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("a token")
        .to_owned();
    assert!(!detail.contains(&token));

    let (status, rdp) = session(&ada, "rdp").await;
    assert_eq!((status, rdp["local_port"].as_u64()), (200, Some(33389)), "{rdp}");
    assert_eq!(session(&ada, "telnet").await.0, 400);
    // Not shared: gus may not; shared: gus may, in his own name.
    let gus = app.client_signed_in_as("gus").await;
    assert_eq!(session(&gus, "ssh").await.0, 403);
    call(&app, &ada, "share_workspace", &[("id", &id), ("people[gus]", "on")]).await;
    let (status, his) = session(&gus, "ssh").await;
    assert_eq!(status, 200, "{his}");
    let asked = sessions_started().await.into_iter().find(|s| s["SessionId"] == his["session_id"]).expect("the emulator saw it");
    assert!(asked["Caller"].as_str().is_some_and(|c| c.ends_with("/atrium-gus")), "{asked}");

    // A stopped workstation has no session.
    call(&app, &ada, "workspace_action", &[("id", &id), ("action", "stop")]).await;
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "stopped");
    let (status, body) = session(&ada, "ssh").await;
    assert_eq!(status, 400, "{body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_reconcile_reads_a_notebook_instance_through_sagemaker(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let configuration = app.configuration_for_genomics("SageMaker notebook", "v1", "Notebook here").await.to_string();
    let id = launch_available(&app, &ada, &configuration, "ada-notebook-drift").await;
    let notebook: String = sqlx::query_scalar("SELECT outputs->>'NotebookInstanceName' FROM workspaces WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .expect("a notebook");
    let grace = app.client_signed_in_as("grace").await;
    let (_, found) = call(&app, &grace, "admin/resync_workspace", &[("id", &id)]).await;
    assert_eq!(found.as_str(), Some("AWS agrees with Atrium."));

    let config = genomics_console(&app).await;
    aws_sdk_sagemaker::Client::new(&config)
        .stop_notebook_instance()
        .notebook_instance_name(&notebook)
        .send()
        .await
        .expect("stopped behind Atrium's back");
    let (_, found) = call(&app, &grace, "admin/resync_workspace", &[("id", &id)]).await;
    assert!(found.as_str().is_some_and(|f| f.contains("stopped outside Atrium")), "{found}");
    let state: String = sqlx::query_scalar("SELECT state FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db).await.expect("state");
    assert_eq!(state, "stopped");
}
