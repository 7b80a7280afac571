//! One capability, two doors: every server function a page calls has its twin in `/api/v1`
//! (in the OpenAPI document), or is on the short list of page-only helpers below, each with
//! the reason. A server function added without either fails here.

use crate::helpers::{server_function_source, spawn_app};
use serde_json::Value;
use sqlx::PgPool;
use std::collections::BTreeSet;

/// (server function endpoint, its REST twins as "METHOD /path").
const TWINS: &[(&str, &[&str])] = &[
    ("whoami", &["GET /me"]),
    ("my_teams", &["GET /teams"]),
    ("team_home", &["GET /teams/{team}"]),
    // The team home in one call: the team, the caller's workspaces and their spend.
    ("team_page", &["GET /teams/{team}", "GET /workspaces", "GET /teams/{team}/spend"]),
    ("team_catalog", &["GET /teams/{team}/catalog"]),
    ("team_profiles", &["GET /teams/{team}/profiles"]),
    ("admin/catalog", &["GET /catalog"]),
    ("admin/import_version", &["POST /catalog/types"]),
    ("admin/approve_type", &["POST /catalog/types/{id}/approve"]),
    ("admin/retire_type", &["POST /catalog/types/{id}/retire"]),
    ("admin/set_upgrade_by", &["PUT /catalog/types/{id}/upgrade-by"]),
    ("admin/create_configuration", &["POST /catalog/types/{id}/configurations"]),
    ("admin/set_idle_policy", &["PUT /catalog/configurations/{id}/idle-policy"]),
    ("launch_workspace", &["POST /workspaces"]),
    ("workspace", &["GET /workspaces/{id}"]),
    ("ended_workspaces", &["GET /teams/{team}/workspaces/ended"]),
    ("workspace_action", &["POST /workspaces/{id}/stop", "POST /workspaces/{id}/start", "POST /workspaces/{id}/terminate"]),
    ("keep_running", &["POST /workspaces/{id}/keep-running"]),
    ("workspace_sharing", &["GET /workspaces/{id}/sharing"]),
    ("share_workspace", &["PUT /workspaces/{id}/sharing"]),
    ("start_workspace_session", &["POST /workspaces/{id}/session"]),
    ("upgrade_workspace", &["POST /workspaces/{id}/upgrade"]),
    ("resize_workspace", &["POST /workspaces/{id}/resize"]),
    ("launch_again", &["POST /workspaces/{id}/launch-again"]),
    ("admin/workspaces", &["GET /admin/workspaces"]),
    ("admin/resync_workspace", &["POST /admin/workspaces/{id}/resync"]),
    ("admin/force_terminate_workspace", &["POST /admin/workspaces/{id}/force-terminate"]),
    ("admin/transfer_workspace", &["POST /admin/workspaces/{id}/transfer"]),
    ("admin/audit", &["GET /audit"]),
    ("costs", &["GET /costs"]),
    ("admin/budgets", &["GET /admin/budgets"]),
    ("admin/set_budget", &["PUT /admin/budgets/{team}"]),
    ("admin/notifications", &["GET /admin/notification-targets"]),
    ("admin/add_notification_target", &["POST /admin/notification-targets"]),
    ("admin/remove_notification_target", &["DELETE /admin/notification-targets/{id}"]),
    ("admin/test_notification_target", &["POST /admin/notification-targets/{id}/test"]),
    ("admin/teams", &["GET /admin/teams"]),
    ("admin/create_team", &["POST /admin/teams"]),
    ("admin/rotate_external_id", &["POST /admin/teams/{team}/external-id"]),
    ("admin/team_account_setup", &["GET /admin/teams/{team}/account-setup", "GET /admin/teams/{team}/account-template"]),
    ("admin/update_team", &["PUT /admin/teams/{team}"]),
    ("admin/test_connection", &["POST /admin/teams/{team}/test-connection"]),
    ("admin/archive_team", &["POST /admin/teams/{team}/archive"]),
    ("admin/remove_home", &["DELETE /admin/teams/{team}/homes/{username}"]),
    ("admin/people", &["GET /admin/people"]),
    ("admin/invite_user", &["POST /admin/people"]),
    ("admin/set_access", &["PUT /admin/people/{username}/access"]),
    ("admin/disable_user", &["POST /admin/people/{username}/disable"]),
    ("admin/enable_user", &["POST /admin/people/{username}/enable"]),
    ("team_members", &["GET /teams/{team}/members"]),
    ("add_team_member", &["POST /teams/{team}/members"]),
    ("remove_team_member", &["DELETE /teams/{team}/members/{username}"]),
    ("settings", &["GET /me/settings"]),
    ("save_settings", &["PUT /me/settings"]),
    ("tokens", &["GET /me/tokens"]),
    ("revoke_token", &["DELETE /tokens/{id}"]),
    ("studies", &["GET /teams/{team}/studies"]),
    ("create_study", &["POST /teams/{team}/studies"]),
    ("study_files", &["GET /teams/{team}/studies/{id}/files"]),
    ("study_upload", &["POST /teams/{team}/studies/{id}/uploads"]),
    ("study_upload_complete", &["POST /teams/{team}/studies/{id}/uploads/complete"]),
    ("study_delete_file", &["DELETE /teams/{team}/studies/{id}/files"]),
    ("study_writers", &["PUT /teams/{team}/studies/{id}/writers"]),
    ("airlock_requests", &["GET /teams/{team}/requests"]),
    ("airlock_request", &["GET /teams/{team}/requests/{id}"]),
    ("start_import", &["POST /teams/{team}/studies/{id}/imports"]),
    ("import_upload", &["POST /teams/{team}/requests/{id}/uploads"]),
    ("import_upload_complete", &["POST /teams/{team}/requests/{id}/uploads/complete"]),
    ("submit_request", &["POST /teams/{team}/requests/{id}/submit"]),
    ("request_export", &["POST /teams/{team}/studies/{id}/exports"]),
    (
        "act_on_request",
        &[
            "POST /teams/{team}/requests/{id}/approve",
            "POST /teams/{team}/requests/{id}/reject",
            "POST /teams/{team}/requests/{id}/retry",
            "POST /teams/{team}/requests/{id}/cancel",
            "POST /teams/{team}/requests/{id}/fail-scan",
        ],
    ),
    ("scratch_files", &["GET /teams/{team}/scratch/files"]),
    ("scratch_upload", &["POST /teams/{team}/scratch/uploads"]),
    ("scratch_upload_complete", &["POST /teams/{team}/scratch/uploads/complete"]),
    ("scratch_delete_file", &["DELETE /teams/{team}/scratch/files"]),
];

/// Server functions with no REST twin, and why.
const PAGE_ONLY: &[(&str, &str)] = &[
    // The landing page's choice of sign-in, before anyone is signed in: no token exists yet.
    ("sign_in_methods", "the landing page, before sign-in"),
    // The new-password page explains the pool's policy while a temporary password is changed.
    ("password_policy", "the new-password page, before sign-in"),
    // A token never makes tokens: a leaked token cannot make itself a longer-lived one.
    ("create_token", "tokens are made on the page only"),
];

/// The study file, airlock request file and scratch downloads are plain routes on the pages (a
/// redirect to S3); the API answers their presigned URLs as JSON.
const ROUTE_TWINS: &[&str] =
    &["GET /teams/{team}/studies/{id}/download", "GET /teams/{team}/requests/{id}/file", "GET /teams/{team}/scratch/download"];

fn server_function_endpoints() -> BTreeSet<String> {
    let source = server_function_source();
    source
        .split("#[server(endpoint = \"")
        .skip(1)
        .filter_map(|piece| piece.split_once('"').map(|(endpoint, _)| endpoint.to_owned()))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn every_server_function_has_its_twin_in_the_openapi_document(db: PgPool) {
    let app = spawn_app(db).await;
    let document: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.address)).await.expect("sent").json().await.expect("JSON");
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }

    let endpoints = server_function_endpoints();
    assert!(endpoints.len() > 60, "the server functions were read: {endpoints:?}");
    let listed: BTreeSet<String> = TWINS.iter().map(|(f, _)| *f).chain(PAGE_ONLY.iter().map(|(f, _)| *f)).map(str::to_owned).collect();
    let unlisted: Vec<&String> = endpoints.difference(&listed).collect();
    assert!(unlisted.is_empty(), "server functions with neither a REST twin nor a reason to be page-only: {unlisted:?}");
    let gone: Vec<&String> = listed.difference(&endpoints).collect();
    assert!(gone.is_empty(), "listed here but no longer server functions: {gone:?}");

    let twins = TWINS.iter().flat_map(|(_, twins)| twins.iter()).chain(ROUTE_TWINS);
    let missing: Vec<&&str> = twins.filter(|twin| !operations.contains(**twin)).collect();
    assert!(missing.is_empty(), "REST twins missing from the OpenAPI document: {missing:?}");
}
