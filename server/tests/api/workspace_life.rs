//! After the first launch: sharing a workspace with team members, and launching an ended one
//! again.

use crate::helpers::{audit_rows, call, invalid_fields, spawn_app_with, TestApp};
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
    let app = spawn_app_with(db, |settings| settings.workspace_quota = 10).await;
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
    assert_eq!(app.client_signed_in_as("alan").await.get(format!("{}/workspaces/{id}", app.address)).send().await.expect("sent").status().as_u16(), 403);

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
    let app = spawn_app_with(db, |settings| settings.workspace_quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let reference: i64 = sqlx::query_scalar("SELECT id FROM studies WHERE name = 'Reference genomes'").fetch_one(&app.db).await.expect("seeded");
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
    let values: Vec<serde_json::Value> = sqlx::query_scalar("SELECT parameter_values FROM workspaces WHERE id IN ($1, $2) ORDER BY created_at")
        .bind(&first)
        .bind(&again)
        .fetch_all(&app.db)
        .await
        .expect("stored");
    assert_eq!(values[0], values[1], "the same parameters and studies");
    let detail: String = sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'workspace.launch' AND object_id = $1").bind(&again).fetch_one(&app.db).await.expect("audited");
    assert!(detail.contains(&format!("launched again from {first}")), "{detail}");
    let alan = app.client_signed_in_as("alan").await;
    let (status, _) = call(&app, &alan, "launch_again", &[("id", &first), ("launch_key", "key-alan-again-1")]).await;
    assert_eq!(status, 403);
}

/// An EC2 client in genomics' account (moto), to change things behind Atrium's back.
async fn genomics_ec2(app: &TestApp) -> aws_sdk_ec2::Client {
    let config = atrium::aws::provisioning::team_account(&app.sdk, "arn:aws:iam::111111111111:role/AtriumPortalAccess", "someone-in-the-console")
        .await
        .expect("the team role");
    aws_sdk_ec2::Client::new(&config)
}

#[sqlx::test(migrations = "../migrations")]
async fn the_reconcile_applies_safe_drift_and_flags_the_rest(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspace_quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let id = adas_workstation(&app, &ada, "ada-drifting").await;
    let instance: String = sqlx::query_scalar("SELECT outputs->>'InstanceId' FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db).await.expect("an instance");
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
    let configuration: i64 = sqlx::query_scalar("SELECT configuration_id FROM workspaces WHERE id = $1").bind(&id).fetch_one(&app.db).await.expect("stored");
    let stuck = launch_available(&app, &ada, &configuration.to_string(), "ada-stuck").await;
    sqlx::query("UPDATE workspaces SET state = 'provisioning', created_at = now() - interval '41 minutes' WHERE id = $1").bind(&stuck).execute(&app.db).await.expect("held");
    let (_, found) = call(&app, &grace, "admin/resync_workspace", &[("id", &stuck)]).await;
    assert_eq!(found.as_str(), Some("Stuck in provisioning for 41 min."), "{found}");
    let (status, _) = call(&app, &grace, "admin/workspaces", &[("state", "exploded")]).await;
    assert_eq!(status, 400);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_leavers_running_workspace_is_stopped_after_the_grace_period_unless_transferred(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspace_quota = 10).await;
    let ada = app.client_signed_in_as("ada").await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await.to_string();
    let kept = launch_available(&app, &ada, &configuration, "ada-kept").await;
    let handed = launch_available(&app, &ada, &configuration, "ada-handed").await;
    let rosalind = app.client_signed_in_as("rosalind").await;
    let (status, body) = call(&app, &rosalind, "remove_team_member", &[("team", "genomics"), ("username", "ada")]).await;
    assert_eq!(status, 200, "{body}");

    let reconciler = atrium::startup::reconciler(app.db.clone(), &app.sdk);
    assert!(reconciler.handle_leavers().await.expect("checked").is_empty(), "nothing is stopped at once");
    let events: String = sqlx::query_scalar("SELECT string_agg(message, ' | ') FROM workspace_events WHERE workspace_id = $1").bind(&kept).fetch_one(&app.db).await.expect("events");
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
    sqlx::query("UPDATE workspaces SET owner_left_at = now() - interval '8 days' WHERE owner_left_at IS NOT NULL").execute(&app.db).await.expect("aged");
    assert_eq!(reconciler.handle_leavers().await.expect("checked"), vec![kept.clone()]);
    assert_eq!(app.work_until_settled(&app.worker(), &kept).await, "stopped");
    assert_eq!(app.work_until_settled(&app.worker(), &handed).await, "available");
    assert_eq!(audit_rows(&app.db, "atrium", "workspace.stop", "success").await, 1);
}
