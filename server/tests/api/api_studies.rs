//! /api/v1 at parity with the pages: api_studies. Studies, uploads and downloads by presigned
//! URL (the bytes to and from moto, behind the AWS emulator), writers, and exports out of a
//! controlled study, each checked against what the pages' server functions show.

use crate::helpers::{TestApp, api, api_as, audit_rows, call, error_code, spawn_app, token_for, unique};
use serde_json::{Value, json};
use sqlx::PgPool;

/// The fields an `invalid` API error names.
fn fields(body: &Value) -> Vec<&str> {
    body["error"]["fields"].as_array().map(|f| f.iter().filter_map(|e| e["field"].as_str()).collect()).unwrap_or_default()
}

async fn create_team_study(app: &TestApp, token: &str, name: &str) -> i64 {
    let (status, study) = api(app, "POST", "/teams/genomics/studies", Some(token), Some(json!({"scope": "team", "name": name}))).await;
    assert_eq!(status, 201, "{study}");
    study["id"].as_i64().unwrap_or_else(|| panic!("a study: {study}"))
}

/// The POST form of an upload ticket, sent with `bytes` as the file.
async fn post_upload(ticket: &Value, bytes: Vec<u8>, content_type: &str) -> reqwest::Response {
    assert_eq!(ticket["kind"], "post", "{ticket}");
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in ticket["fields"].as_object().expect("fields") {
        form = form.text(name.clone(), value.as_str().expect("value").to_owned());
    }
    let file = reqwest::multipart::Part::bytes(bytes).file_name("file").mime_str(content_type).expect("mime");
    reqwest::Client::new().post(ticket["url"].as_str().expect("url")).multipart(form.part("file", file)).send().await.expect("posted")
}

async fn patient_cohort(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT id FROM studies WHERE name = 'Patient cohort'").fetch_one(&app.db).await.expect("seeded")
}

#[sqlx::test(migrations = "../migrations")]
async fn a_study_created_through_the_api_is_the_one_the_page_lists(db: PgPool) {
    let app = spawn_app(db).await;
    let writer = token_for(&app, "ada", &["read", "studies"]).await;
    let reader = token_for(&app, "ada", &["read"]).await;
    let name = unique("api-study");
    let body = json!({"scope": "team", "name": name, "description": "From a script"});

    let (status, refused) = api(&app, "POST", "/teams/genomics/studies", Some(&reader), Some(body.clone())).await;
    assert_eq!((status, error_code(&refused)), (403, "forbidden"), "{refused}");
    let (status, study) = api(&app, "POST", "/teams/genomics/studies", Some(&writer), Some(body.clone())).await;
    assert_eq!(status, 201, "{study}");
    assert_eq!(
        (&study["scope"], &study["owner"], &study["access"], &study["team"]),
        (&json!("team"), &json!("ada"), &json!("rw"), &json!("genomics"))
    );
    assert!(study["location"].as_str().is_some_and(|l| l.ends_with(&format!("/studies/genomics/{name}/"))), "{study}");
    assert_eq!(audit_rows(&app.db, "ada", "study.create", "success").await, 1, "one study, created once");

    // The page lists it, and the API lists what the page lists.
    let browser = app.client_signed_in_as("ada").await;
    let (_, page) = call(&app, &browser, "studies", &[("team", "genomics")]).await;
    let ids = |list: &Value| -> Vec<i64> { list["studies"].as_array().expect("studies").iter().filter_map(|s| s["id"].as_i64()).collect() };
    assert!(ids(&page).contains(&study["id"].as_i64().expect("id")), "{page}");
    let (status, listed) = api(&app, "GET", "/teams/genomics/studies", Some(&reader), None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(ids(&listed), ids(&page));
    assert_eq!(listed["may_create"], true);

    // The form's checks: a taken name, a folder that would leave its place, a scope for admins.
    let (status, taken) = api(
        &app,
        "POST",
        "/teams/genomics/studies",
        Some(&writer),
        Some(json!({"scope": "team", "name": name, "folder": unique("other")})),
    )
    .await;
    assert_eq!((status, error_code(&taken), fields(&taken)), (422, "invalid", vec!["name"]), "{taken}");
    let (status, escape) = api(
        &app,
        "POST",
        "/teams/genomics/studies",
        Some(&writer),
        Some(json!({"scope": "team", "name": unique("x"), "folder": "../physics"})),
    )
    .await;
    assert_eq!((status, fields(&escape)), (422, vec!["folder"]), "{escape}");
    let organisation = json!({"scope": "organisation", "name": unique("org"), "teams": ["genomics"]});
    let (status, body) = api(&app, "POST", "/teams/genomics/studies", Some(&writer), Some(organisation)).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "organisation studies are admins': {body}");
    let (status, body) = api(&app, "POST", "/teams/genomics/studies", Some(&writer), Some(json!({"scope": "everyone", "name": "x"}))).await;
    assert_eq!(status, 422, "a scope that is none: {body}");
    // A guest reads but does not create, whatever the token's scopes.
    let guest = token_for(&app, "gus", &["read", "studies"]).await;
    let (status, body) =
        api(&app, "POST", "/teams/genomics/studies", Some(&guest), Some(json!({"scope": "my", "name": unique("gus")}))).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM studies").fetch_one(&app.db).await.expect("counted");
    assert_eq!(count, 6, "the five seeded studies and the one created, nothing else");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_file_goes_up_is_listed_comes_down_and_is_deleted_through_the_api(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let id = create_team_study(&app, &ada, &unique("variants")).await;
    let bytes = b"chrom,pos,ref,alt\nchr21,5030578,C,T\n".to_vec();
    let upload = json!({"path": "calls/variants.csv", "size": bytes.len(), "content_type": "text/csv"});

    let reader = token_for(&app, "ada", &["read"]).await;
    let (status, refused) = api(&app, "POST", &format!("/teams/genomics/studies/{id}/uploads"), Some(&reader), Some(upload.clone())).await;
    assert_eq!((status, error_code(&refused)), (403, "forbidden"), "{refused}");
    let (status, ticket) = api(&app, "POST", &format!("/teams/genomics/studies/{id}/uploads"), Some(&ada), Some(upload.clone())).await;
    assert_eq!(status, 200, "{ticket}");
    let stored = post_upload(&ticket, bytes.clone(), "text/csv").await;
    assert!(stored.status().is_success(), "{}", stored.text().await.unwrap_or_default());
    assert_eq!(audit_rows(&app.db, "ada", "study.upload_url", "success").await, 1);

    // The API lists the folder as the page does.
    let (status, top) = api(&app, "GET", &format!("/teams/genomics/studies/{id}/files"), Some(&reader), None).await;
    assert_eq!(status, 200, "{top}");
    assert_eq!((&top["folder"], &top["folders"], &top["exports"]), (&json!(""), &json!(["calls/"]), &Value::Null), "{top}");
    let (status, inside) = api(&app, "GET", &format!("/teams/genomics/studies/{id}/files?folder=calls/"), Some(&reader), None).await;
    assert_eq!(status, 200, "{inside}");
    assert_eq!((&inside["files"][0]["path"], &inside["files"][0]["size"]), (&json!("calls/variants.csv"), &json!(bytes.len())), "{inside}");
    let browser = app.client_signed_in_as("ada").await;
    let (_, page) = call(&app, &browser, "study_files", &[("team", "genomics"), ("id", &id.to_string()), ("folder", "calls/")]).await;
    assert_eq!(page["files"], inside["files"], "the same files as the page");
    let (status, body) = api(&app, "GET", &format!("/teams/genomics/studies/{id}/files?folder=../x"), Some(&reader), None).await;
    assert_eq!((status, fields(&body)), (422, vec!["folder"]), "{body}");

    // gus, a guest of the team, downloads the same bytes from a URL minted for him, never cached.
    let gus = token_for(&app, "gus", &["read", "studies"]).await;
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/teams/genomics/studies/{id}/download?path=calls/variants.csv", app.address))
        .bearer_auth(&gus)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let url: Value = response.json().await.expect("JSON");
    let downloaded = reqwest::get(url["url"].as_str().expect("a URL")).await.expect("downloaded").bytes().await.expect("bytes");
    assert_eq!(downloaded.as_ref(), bytes.as_slice());
    assert_eq!(audit_rows(&app.db, "gus", "study.download_url", "success").await, 1);
    // He may not upload or delete: he reads only.
    let (status, body) = api(&app, "POST", &format!("/teams/genomics/studies/{id}/uploads"), Some(&gus), Some(upload)).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let delete = format!("/teams/genomics/studies/{id}/files?path=calls/variants.csv");
    assert_eq!(api_as(&app, "DELETE", &delete, &gus, None).await.0, 403);
    assert_eq!(api_as(&app, "DELETE", &delete, &reader, None).await.0, 403, "deleting needs the studies scope");

    let (status, _) = api_as(&app, "DELETE", &delete, &ada, None).await;
    assert_eq!(status, 204);
    assert_eq!(audit_rows(&app.db, "ada", "study.file.delete", "success").await, 1);
    let (_, page) = call(&app, &browser, "study_files", &[("team", "genomics"), ("id", &id.to_string()), ("folder", "calls/")]).await;
    assert_eq!(page["files"], json!([]), "gone for the page too: {page}");
    let (status, body) =
        api(&app, "GET", &format!("/teams/genomics/studies/{id}/download?path=calls/variants.csv"), Some(&ada), None).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    let (status, body) = api_as(&app, "DELETE", &delete, &ada, None).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"), "deleted once");
}

#[sqlx::test(migrations = "../migrations")]
async fn uploads_outside_the_rules_are_refused_with_the_field_named(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let id = create_team_study(&app, &ada, &unique("rules")).await;
    let uploads = format!("/teams/genomics/studies/{id}/uploads");
    for (path, size, content_type, field) in [
        ("../escape.csv", 10, "text/csv", "path"),
        ("/etc/passwd", 10, "text/csv", "path"),
        ("big.bin", 64 * 1024 * 1024 + 1, "application/octet-stream", "size"),
        ("empty.csv", 0, "text/csv", "size"),
        ("page.html", 10, "text/html", "content_type"),
    ] {
        let body = json!({"path": path, "size": size, "content_type": content_type});
        let (status, refused) = api(&app, "POST", &uploads, Some(&ada), Some(body)).await;
        assert_eq!((status, fields(&refused)), (422, vec![field]), "{path}: {refused}");
    }
    let (status, body) = api(&app, "POST", &uploads, Some(&ada), Some(json!({"path": "a.csv", "size": -1}))).await;
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    let (status, body) = api(&app, "POST", &uploads, Some(&ada), Some(json!({"path": "a.csv", "size": 1, "bucket": "other"}))).await;
    assert_eq!(status, 422, "unknown fields are refused: {body}");
    let (status, listed) = api(&app, "GET", &format!("/teams/genomics/studies/{id}/files"), Some(&ada), None).await;
    assert_eq!((status, &listed["files"]), (200, &json!([])), "nothing was written: {listed}");
    assert_eq!(audit_rows(&app.db, "ada", "study.upload_url", "success").await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_large_file_goes_up_in_parts_completed_through_the_api(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let id = create_team_study(&app, &ada, &unique("large")).await;
    let size = app::domain::studies::MULTIPART_THRESHOLD as usize + 1024 * 1024;
    let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let body = json!({"path": "reads/sample.bam", "size": size});
    let (status, ticket) = api(&app, "POST", &format!("/teams/genomics/studies/{id}/uploads"), Some(&ada), Some(body)).await;
    assert_eq!(status, 200, "{ticket}");
    assert_eq!(ticket["kind"], "multipart", "{ticket}");
    let part_size = ticket["part_size"].as_u64().expect("part size") as usize;
    let urls: Vec<&str> = ticket["part_urls"].as_array().expect("part URLs").iter().filter_map(|u| u.as_str()).collect();
    assert_eq!(urls.len(), size.div_ceil(part_size));
    let http = reqwest::Client::new();
    let mut etags = Vec::new();
    for (index, url) in urls.iter().enumerate() {
        let part = bytes[index * part_size..((index + 1) * part_size).min(size)].to_vec();
        let response = http.put(*url).body(part).send().await.expect("part sent");
        assert!(response.status().is_success(), "{}", response.status());
        etags.push(response.headers().get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned());
    }
    let complete = format!("/teams/genomics/studies/{id}/uploads/complete");
    let done = json!({"path": ticket["path"], "upload_id": ticket["upload_id"], "etags": etags});
    let reader = token_for(&app, "ada", &["read"]).await;
    let (status, body) = api_as(&app, "POST", &complete, &reader, Some(done.clone())).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let (status, body) = api_as(&app, "POST", &complete, &ada, Some(done)).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(audit_rows(&app.db, "ada", "study.upload", "success").await, 1);

    let (_, listed) = api(&app, "GET", &format!("/teams/genomics/studies/{id}/files?folder=reads/"), Some(&ada), None).await;
    assert_eq!(listed["files"][0]["size"], json!(size), "whole: {listed}");
    let no_parts = json!({"path": "reads/sample.bam", "upload_id": ticket["upload_id"], "etags": []});
    let (status, body) = api_as(&app, "POST", &complete, &ada, Some(no_parts)).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"), "an upload without parts cannot complete: {body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn writers_set_through_the_api_are_the_ones_the_page_shows(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let id = create_team_study(&app, &ada, &unique("shared")).await;
    let writers = format!("/teams/genomics/studies/{id}/writers");

    let reader = token_for(&app, "ada", &["read"]).await;
    let (status, body) = api_as(&app, "PUT", &writers, &reader, Some(json!({"writers": ["gus"]}))).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let gus = token_for(&app, "gus", &["read", "studies"]).await;
    let (status, body) = api_as(&app, "PUT", &writers, &gus, Some(json!({"writers": ["gus"]}))).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "only the owner and team admins choose: {body}");
    let rosalind = token_for(&app, "rosalind", &["read", "studies"]).await;
    let (status, body) = api_as(&app, "PUT", &writers, &rosalind, Some(json!({"writers": ["alan"]}))).await;
    assert_eq!((status, fields(&body)), (422, vec!["writers"]), "alan is not a member: {body}");

    let (status, body) = api_as(&app, "PUT", &writers, &ada, Some(json!({"writers": ["gus", "rosalind"]}))).await;
    assert_eq!((status, body), (204, Value::Null));
    let browser = app.client_signed_in_as("ada").await;
    let (_, page) = call(&app, &browser, "study_files", &[("team", "genomics"), ("id", &id.to_string())]).await;
    assert_eq!(page["study"]["writers"], json!(["gus", "rosalind"]), "{page}");
    let (_, listed) = api(&app, "GET", &format!("/teams/genomics/studies/{id}/files"), Some(&ada), None).await;
    assert_eq!(listed["study"]["writers"], page["study"]["writers"]);
    assert!(listed["team_members"].as_array().is_some_and(|m| m.contains(&json!("gus"))), "{listed}");
    // Named, gus is still a guest: he reads only.
    let (status, _) =
        api(&app, "POST", &format!("/teams/genomics/studies/{id}/uploads"), Some(&gus), Some(json!({"path": "g.csv", "size": 3}))).await;
    assert_eq!(status, 403);
    let (status, _) = api_as(&app, "PUT", &writers, &ada, Some(json!({"writers": []}))).await;
    assert_eq!(status, 204);
    let (_, page) = call(&app, &browser, "study_files", &[("team", "genomics"), ("id", &id.to_string())]).await;
    assert_eq!(page["study"]["writers"], json!([]), "{page}");
    assert_eq!(audit_rows(&app.db, "ada", "study.writers", "success").await, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn other_teams_see_no_study_through_the_api_and_guessed_ids_tell_nothing(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let id = create_team_study(&app, &ada, &unique("private")).await;
    let alan = token_for(&app, "alan", &["read", "studies"]).await;
    // alan is not on genomics: its studies are refused.
    for path in [
        "/teams/genomics/studies".to_owned(),
        format!("/teams/genomics/studies/{id}/files"),
        format!("/teams/genomics/studies/{id}/download?path=README.md"),
    ] {
        let (status, body) = api(&app, "GET", &path, Some(&alan), None).await;
        assert_eq!((status, error_code(&body)), (403, "forbidden"), "{path}");
    }
    // From his own team the id is no study at all, for reading or writing.
    for (method, path, body) in [
        ("GET", format!("/teams/physics/studies/{id}/files"), None),
        ("GET", format!("/teams/physics/studies/{id}/download?path=README.md"), None),
        ("POST", format!("/teams/physics/studies/{id}/uploads"), Some(json!({"path": "a.csv", "size": 3}))),
        ("PUT", format!("/teams/physics/studies/{id}/writers"), Some(json!({"writers": []}))),
        ("DELETE", format!("/teams/physics/studies/{id}/files?path=README.md"), None),
        ("POST", format!("/teams/physics/studies/{id}/exports"), Some(json!({"files": ["x.csv"], "reason": "mine"}))),
    ] {
        let (status, answer) = api_as(&app, method, &path, &alan, body).await;
        assert_eq!((status, error_code(&answer)), (404, "not_found"), "{method} {path}");
    }
    // ada's own study is hers alone, even for an admin.
    let (status, mine) =
        api(&app, "POST", "/teams/genomics/studies", Some(&ada), Some(json!({"scope": "my", "name": unique("mine")}))).await;
    assert_eq!(status, 201, "{mine}");
    let grace = token_for(&app, "grace", &["read", "studies"]).await;
    let (status, _) = api(&app, "GET", &format!("/teams/genomics/studies/{}/files", mine["id"]), Some(&grace), None).await;
    assert_eq!(status, 404);
    let (_, list) = api(&app, "GET", "/teams/genomics/studies", Some(&grace), None).await;
    assert!(list["studies"].as_array().expect("studies").iter().all(|s| s["id"] != mine["id"]), "{list}");
    // Paths that are not a team or an id are JSON errors too.
    let (status, body) = api(&app, "GET", "/teams/Not%20A%20Team/studies", Some(&ada), None).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    let (status, body) = api(&app, "GET", "/teams/genomics/studies/abc/files", Some(&ada), None).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"), "{body}");
    let (status, body) = api(&app, "GET", &format!("/teams/genomics/studies/{id}/download"), Some(&ada), None).await;
    assert_eq!((status, error_code(&body)), (400, "bad_request"), "a path is needed: {body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn imports_and_exports_are_scanned_and_reviewed_through_the_api(db: PgPool) {
    let app = spawn_app(db).await;
    let cohort = patient_cohort(&app).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let work = || async {
        let worker = app.worker();
        while worker.run_next_job().await.expect("the worker runs") == atrium::worker::Tick::Ran {}
    };
    // No direct download from a controlled study; its egress folder is listed.
    let (status, body) = api(&app, "GET", &format!("/teams/genomics/studies/{cohort}/download?path=cohort.csv"), Some(&ada), None).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let (_, listing) = api(&app, "GET", &format!("/teams/genomics/studies/{cohort}/files"), Some(&ada), None).await;
    assert_eq!(listing["exports"]["files"][0]["path"], "results/summary.csv", "{listing}");
    assert_eq!(listing["exports"]["may_request"], true, "{listing}");

    let exports = format!("/teams/genomics/studies/{cohort}/exports");
    let ask = |files: Value, reason: &str| Some(json!({"files": files, "reason": reason}));
    let reader = token_for(&app, "ada", &["read"]).await;
    let (status, body) = api(&app, "POST", &exports, Some(&reader), ask(json!(["results/summary.csv"]), "for the paper")).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let (status, body) = api(&app, "POST", &exports, Some(&ada), ask(json!(["../cohort.csv"]), "the raw data")).await;
    assert_eq!((status, fields(&body)), (422, vec!["files"]), "{body}");
    let (status, body) = api(&app, "POST", &exports, Some(&ada), ask(json!(["results/summary.csv"]), " ")).await;
    assert_eq!((status, fields(&body)), (422, vec!["reason"]), "{body}");
    let (status, export) =
        api(&app, "POST", &exports, Some(&ada), ask(json!(["results/summary.csv"]), "Aggregate counts for the paper")).await;
    assert_eq!(status, 201, "{export}");
    assert_eq!(
        (&export["direction"], &export["status"], &export["requester"], &export["study_id"], &export["reviewers_needed"]),
        (&json!("export"), &json!("scanning"), &json!("ada"), &json!(cohort), &json!(2)),
        "{export}"
    );
    let export = export["id"].as_i64().expect("id");
    // The page sees the request the API made.
    let browser = app.client_signed_in_as("ada").await;
    let (status, page) = call(&app, &browser, "airlock_request", &[("team", "genomics"), ("id", &export.to_string())]).await;
    assert_eq!((status, &page["reason"]), (200, &json!("Aggregate counts for the paper")), "{page}");
    work().await;

    let request = |id: i64, step: &str| format!("/teams/genomics/requests/{id}{step}");
    let file = |id: i64, name: &str| format!("/teams/genomics/requests/{id}/file?file={name}");
    // Before approval nothing leaves; the requester may not approve; a guest does not see it;
    // deciding needs the studies scope; two approvals from two people.
    assert_eq!(api(&app, "GET", &file(export, "results/summary.csv"), Some(&ada), None).await.0, 403);
    let (status, body) = api(&app, "POST", &request(export, "/approve"), Some(&ada), Some(json!({}))).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"), "{body}");
    let gus = token_for(&app, "gus", &["read", "studies"]).await;
    assert_eq!(api(&app, "GET", &request(export, ""), Some(&gus), None).await.0, 404);
    let rosalind_reader = token_for(&app, "rosalind", &["read"]).await;
    let (status, seen) = api(&app, "GET", &request(export, ""), Some(&rosalind_reader), None).await;
    assert_eq!((status, &seen["status"], &seen["may_review"]), (200, &json!("in_review"), &json!(true)), "{seen}");
    let (status, body) = api(&app, "POST", &request(export, "/approve"), Some(&rosalind_reader), Some(json!({"note": "ok"}))).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let rosalind = token_for(&app, "rosalind", &["read", "studies"]).await;
    let grace = token_for(&app, "grace", &["read", "studies"]).await;
    let (status, once) = api(&app, "POST", &request(export, "/approve"), Some(&rosalind), Some(json!({"note": "aggregates only"}))).await;
    assert_eq!((status, &once["status"], &once["reviews"][0]["reviewer"]), (200, &json!("in_review"), &json!("rosalind")), "{once}");
    let (status, body) = api(&app, "POST", &request(export, "/approve"), Some(&rosalind), Some(json!({}))).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"), "a second approval by the same person: {body}");
    let (status, approved) = api(&app, "POST", &request(export, "/approve"), Some(&grace), Some(json!({}))).await;
    assert_eq!((status, &approved["status"]), (200, &json!("approved")), "{approved}");
    work().await;
    let (_, done) = api(&app, "GET", &request(export, ""), Some(&ada), None).await;
    assert_eq!(done["status"], "completed", "{done}");
    let (status, url) = api(&app, "GET", &file(export, "results/summary.csv"), Some(&reader), None).await;
    assert_eq!(status, 200, "{url}");
    let bytes = reqwest::get(url["url"].as_str().expect("a URL")).await.expect("downloaded").text().await.expect("text");
    assert!(bytes.starts_with("sample,population"), "{bytes}");
    assert_eq!(api(&app, "GET", &file(export, "cohort.csv"), Some(&ada), None).await.0, 404, "only the request's files");

    // An import through the API: a draft, a file into its inbox, submitted, scanned.
    let genomes: i64 =
        sqlx::query_scalar("SELECT id FROM studies WHERE name = 'Reference genomes'").fetch_one(&app.db).await.expect("seeded");
    let (status, body) = api(&app, "POST", &format!("/teams/genomics/studies/{genomes}/imports"), Some(&ada), Some(json!({}))).await;
    assert_eq!(status, 422, "a reason is required: {body}");
    let (status, draft) =
        api(&app, "POST", &format!("/teams/genomics/studies/{genomes}/imports"), Some(&ada), Some(json!({"reason": "From the sequencer"})))
            .await;
    assert_eq!((status, &draft["status"], &draft["may_upload"]), (201, &json!("draft"), &json!(true)), "{draft}");
    let id = draft["id"].as_i64().expect("id");
    let (status, body) = api(&app, "POST", &request(id, "/submit"), Some(&ada), None).await;
    assert_eq!((status, fields(&body)), (422, vec!["files"]), "no files, no request: {body}");
    let (status, body) =
        api(&app, "POST", &request(id, "/uploads"), Some(&ada), Some(json!({"path": "big.bin", "size": 1_u64 << 40}))).await;
    assert_eq!((status, fields(&body)), (422, vec!["size"]), "over the limit: {body}");
    let eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*".to_vec();
    let (status, ticket) = api(
        &app,
        "POST",
        &request(id, "/uploads"),
        Some(&ada),
        Some(json!({"path": "eicar.txt", "size": eicar.len(), "content_type": "text/plain"})),
    )
    .await;
    assert_eq!((status, &ticket["kind"]), (200, &json!("post")), "{ticket}");
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in ticket["fields"].as_object().expect("fields") {
        form = form.text(name.clone(), value.as_str().expect("text").to_owned());
    }
    let part = reqwest::multipart::Part::bytes(eicar).file_name("eicar.txt").mime_str("text/plain").expect("mime");
    let posted = reqwest::Client::new().post(ticket["url"].as_str().expect("url")).multipart(form.part("file", part)).send().await;
    assert!(posted.expect("posted").status().is_success());
    let (_, listed) = api(&app, "GET", &request(id, ""), Some(&ada), None).await;
    assert_eq!(listed["files"][0]["path"], "eicar.txt", "a draft lists its inbox: {listed}");
    let (status, submitted) = api(&app, "POST", &request(id, "/submit"), Some(&ada), None).await;
    assert_eq!((status, &submitted["status"]), (200, &json!("scanning")), "{submitted}");
    work().await;
    let (_, blocked) = api(&app, "GET", &request(id, ""), Some(&ada), None).await;
    assert_eq!((&blocked["status"], &blocked["files"][0]["scan"]), (&json!("blocked"), &json!("THREATS_FOUND")), "{blocked}");
    let (status, body) = api(&app, "POST", &request(id, "/approve"), Some(&grace), Some(json!({}))).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"), "{body}");

    let (status, list) = api(&app, "GET", "/teams/genomics/requests", Some(&rosalind_reader), None).await;
    assert_eq!((status, list["reviewer"].as_bool()), (200, Some(true)), "{list}");
    let ids: Vec<i64> = list["requests"].as_array().expect("requests").iter().filter_map(|r| r["id"].as_i64()).collect();
    assert!(ids.contains(&id) && ids.contains(&export), "{list}");
    assert_eq!(audit_rows(&app.db, "rosalind", "airlock.approve", "success").await, 1);
    assert_eq!(audit_rows(&app.db, "grace", "airlock.approve", "success").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_describes_the_studies_endpoints_with_their_constraints(db: PgPool) {
    let app = spawn_app(db).await;
    let document: Value =
        reqwest::get(format!("{}/api/v1/openapi.json", app.address)).await.expect("sent").json().await.expect("the document");
    assert!(document["tags"].as_array().is_some_and(|t| t.iter().any(|t| t["name"] == "studies")), "the studies tag");
    for (path, method) in [
        ("/teams/{team}/studies", "get"),
        ("/teams/{team}/studies", "post"),
        ("/teams/{team}/studies/{id}/files", "get"),
        ("/teams/{team}/studies/{id}/files", "delete"),
        ("/teams/{team}/studies/{id}/uploads", "post"),
        ("/teams/{team}/studies/{id}/uploads/complete", "post"),
        ("/teams/{team}/studies/{id}/download", "get"),
        ("/teams/{team}/studies/{id}/writers", "put"),
    ] {
        let operation = &document["paths"][path][method];
        assert_eq!(operation["tags"], json!(["studies"]), "{method} {path}");
        assert!(operation["summary"].is_string(), "{method} {path} has a summary");
    }
    for (path, method) in [
        ("/teams/{team}/requests", "get"),
        ("/teams/{team}/requests/{id}", "get"),
        ("/teams/{team}/studies/{id}/imports", "post"),
        ("/teams/{team}/studies/{id}/exports", "post"),
        ("/teams/{team}/requests/{id}/uploads", "post"),
        ("/teams/{team}/requests/{id}/uploads/complete", "post"),
        ("/teams/{team}/requests/{id}/submit", "post"),
        ("/teams/{team}/requests/{id}/approve", "post"),
        ("/teams/{team}/requests/{id}/reject", "post"),
        ("/teams/{team}/requests/{id}/retry", "post"),
        ("/teams/{team}/requests/{id}/cancel", "post"),
        ("/teams/{team}/requests/{id}/fail-scan", "post"),
        ("/teams/{team}/requests/{id}/file", "get"),
    ] {
        let operation = &document["paths"][path][method];
        assert_eq!(operation["tags"], json!(["airlock"]), "{method} {path}");
        assert!(operation["summary"].is_string(), "{method} {path} has a summary");
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["StudyScope"]["enum"], json!(["my", "team", "organisation", "open-data"]), "{}", schemas["StudyScope"]);
    assert_eq!(schemas["NewExport"]["properties"]["files"]["maxItems"], 100);
    assert_eq!(schemas["NewExport"]["properties"]["reason"]["maxLength"], 2000);
    assert_eq!(schemas["RequestStatus"]["enum"].as_array().map(Vec::len), Some(8), "{}", schemas["RequestStatus"]);
    assert_eq!(schemas["UploadRequest"]["properties"]["size"]["minimum"], 1);
}
