//! The team's scratch space through the portal, as browsers and the API use it: listed, uploaded
//! to (the bytes straight to S3), downloaded per click, and deleted by its uploader or a team
//! admin; guests read only; every URL handed out is an audit row.

use crate::helpers::{api, audit_rows, call, spawn_app, token_for};
use sqlx::PgPool;

/// A folder no other test uses (tests share the demo team's scratch space in moto).
fn unique_folder(name: &str) -> String {
    format!("{}/", crate::helpers::unique(name))
}

async fn upload(app: &crate::helpers::TestApp, client: &reqwest::Client, path: &str, bytes: &[u8]) -> (u16, serde_json::Value) {
    let size = bytes.len().to_string();
    let (status, ticket) =
        call(app, client, "scratch_upload", &[("team", "genomics"), ("path", path), ("size", &size), ("content_type", "text/csv")]).await;
    if status == 200 {
        let stored = crate::studies::post_upload(&ticket, bytes.to_vec(), "text/csv").await;
        assert!(stored.status().is_success(), "{}", stored.text().await.unwrap_or_default());
    }
    (status, ticket)
}

#[sqlx::test(migrations = "../migrations")]
async fn members_share_the_scratch_space_and_only_uploaders_and_team_admins_delete(db: PgPool) {
    let app = spawn_app(db).await;
    let folder = unique_folder("runs");
    let path = format!("{folder}input.csv");
    let bytes = b"sample,reads\nNA12878,1000\n";
    let ada = app.client_signed_in_as("ada").await;
    let (status, body) = upload(&app, &ada, &path, bytes).await;
    assert_eq!(status, 200, "{body}");

    // Listed with its uploader, for every member; only ada (and team admins) may delete it.
    let (status, top) = call(&app, &ada, "scratch_files", &[("team", "genomics")]).await;
    assert_eq!(status, 200, "{top}");
    assert!(top["location"].as_str().is_some_and(|l| l.starts_with("s3://")), "{top}");
    assert!(top["folders"].as_array().is_some_and(|f| f.iter().any(|f| f == folder.as_str())), "{top}");
    let gus = app.client_signed_in_as("gus").await;
    let (_, inside) = call(&app, &gus, "scratch_files", &[("team", "genomics"), ("folder", &folder)]).await;
    let file = &inside["files"][0];
    assert_eq!(
        (file["file"]["path"].as_str(), file["uploader"].as_str(), file["may_delete"].as_bool()),
        (Some(path.as_str()), Some("ada"), Some(false))
    );
    assert_eq!(inside["may_upload"], false, "gus is a guest: {inside}");

    // gus downloads it per click (a redirect to S3, audited), the same bytes; he may not upload.
    let response = gus.get(format!("{}/teams/genomics/scratch/download?path={path}", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 303);
    let url = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(reqwest::get(url).await.expect("downloaded").bytes().await.expect("bytes").as_ref(), bytes);
    assert_eq!(upload(&app, &gus, &format!("{folder}gus.csv"), b"x").await.0, 403);

    // ada (a researcher of the team, not its admin) may neither delete rosalind's file nor
    // overwrite it; rosalind (the team's admin) may delete ada's and her own.
    let rosalind = app.client_signed_in_as("rosalind").await;
    let hers = format!("{folder}reference.csv");
    assert_eq!(upload(&app, &rosalind, &hers, b"chr,len\n").await.0, 200);
    let (status, _) = call(&app, &ada, "scratch_delete_file", &[("team", "genomics"), ("path", &hers)]).await;
    assert_eq!(status, 403);
    let (status, body) = upload(&app, &ada, &hers, b"overwritten").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("another member's file"), "{body}");
    // Nor the README a workspace wrote (it has no uploader): only a team admin may replace it.
    let (status, body) = upload(&app, &ada, "README.txt", b"mine now").await;
    assert_eq!(status, 400, "{body}");
    for file in [&path, &hers] {
        let (status, body) = call(&app, &rosalind, "scratch_delete_file", &[("team", "genomics"), ("path", file)]).await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, inside) = call(&app, &ada, "scratch_files", &[("team", "genomics"), ("folder", &folder)]).await;
    assert_eq!(inside["files"], serde_json::json!([]), "{inside}");

    assert_eq!(audit_rows(&app.db, "ada", "scratch.upload_url", "success").await, 1);
    assert_eq!(audit_rows(&app.db, "gus", "scratch.download_url", "success").await, 1);
    assert_eq!(audit_rows(&app.db, "rosalind", "scratch.file.delete", "success").await, 2);

    // Another team's members see nothing of it.
    let alan = app.client_signed_in_as("alan").await;
    let (status, _) = call(&app, &alan, "scratch_files", &[("team", "genomics")]).await;
    assert_eq!(status, 403);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_api_lists_uploads_downloads_and_deletes_scratch_files(db: PgPool) {
    let app = spawn_app(db).await;
    let folder = unique_folder("api");
    let path = format!("{folder}table.csv");
    let bytes = b"a,b\n1,2\n";
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let body = serde_json::json!({"path": path, "size": bytes.len(), "content_type": "text/csv"});
    let (status, ticket) = api(&app, "POST", "/teams/genomics/scratch/uploads", Some(&ada), Some(body)).await;
    assert_eq!((status, ticket["kind"].as_str()), (200, Some("post")), "{ticket}");
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in ticket["fields"].as_object().expect("fields") {
        form = form.text(name.clone(), value.as_str().expect("a value").to_owned());
    }
    let file = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("file").mime_str("text/csv").expect("mime");
    let stored =
        reqwest::Client::new().post(ticket["url"].as_str().expect("url")).multipart(form.part("file", file)).send().await.expect("posted");
    assert!(stored.status().is_success());

    let (status, listing) = api(&app, "GET", &format!("/teams/genomics/scratch/files?folder={folder}"), Some(&ada), None).await;
    assert_eq!(status, 200, "{listing}");
    assert_eq!((listing["files"][0]["path"].as_str(), listing["files"][0]["may_delete"].as_bool()), (Some(path.as_str()), Some(true)));
    let (status, download) = api(&app, "GET", &format!("/teams/genomics/scratch/download?path={path}"), Some(&ada), None).await;
    assert_eq!(status, 200, "{download}");
    let read_only = token_for(&app, "ada", &["read"]).await;
    let (status, _) = api(&app, "DELETE", &format!("/teams/genomics/scratch/files?path={path}"), Some(&read_only), None).await;
    assert_eq!(status, 403, "deleting needs the studies scope");
    let (status, _) = api(&app, "DELETE", &format!("/teams/genomics/scratch/files?path={path}"), Some(&ada), None).await;
    assert_eq!(status, 204);
    let (status, _) = api(&app, "GET", &format!("/teams/genomics/scratch/download?path={path}"), Some(&ada), None).await;
    assert_eq!(status, 404);
    let (status, body) = api(&app, "GET", "/teams/genomics/scratch/files?folder=../studies/", Some(&ada), None).await;
    assert_eq!(status, 422, "a folder cannot leave the scratch space: {body}");
}
