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
async fn an_export_is_requested_reviewed_and_downloaded_through_the_api(db: PgPool) {
    let app = spawn_app(db).await;
    let cohort = patient_cohort(&app).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
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
    let (status, first) =
        api(&app, "POST", &exports, Some(&ada), ask(json!(["results/summary.csv"]), "Aggregate counts for the paper")).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!((&first["status"], &first["requester"], &first["study_id"]), (&json!("pending"), &json!("ada"), &json!(cohort)), "{first}");
    assert_eq!((&first["may_decide"], &first["may_download"]), (&json!(false), &json!(false)));
    let (_, second) = api(&app, "POST", &exports, Some(&ada), ask(json!(["results/summary.csv"]), "Again, for the rejection")).await;
    let (first, second) = (first["id"].as_i64().expect("id"), second["id"].as_i64().expect("id"));
    // The page sees the request the API made.
    let browser = app.client_signed_in_as("ada").await;
    let (status, page) = call(&app, &browser, "egress_request", &[("team", "genomics"), ("id", &first.to_string())]).await;
    assert_eq!((status, &page["reason"]), (200, &json!("Aggregate counts for the paper")), "{page}");

    let download = |request: i64| format!("/teams/genomics/exports/{request}/download?file=results/summary.csv");
    // Before approval nothing leaves.
    let (status, _) = api(&app, "GET", &download(first), Some(&ada), None).await;
    assert_eq!(status, 403);
    // The requester may not approve her own request; a guest may not see it; the team admin decides, with the studies scope.
    let (status, body) = api(&app, "POST", &format!("/teams/genomics/exports/{first}/approve"), Some(&ada), Some(json!({}))).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let gus = token_for(&app, "gus", &["read", "studies"]).await;
    let (status, _) = api(&app, "GET", &format!("/teams/genomics/exports/{first}"), Some(&gus), None).await;
    assert_eq!(status, 404);
    let rosalind_reader = token_for(&app, "rosalind", &["read"]).await;
    let (status, seen) = api(&app, "GET", &format!("/teams/genomics/exports/{first}"), Some(&rosalind_reader), None).await;
    assert_eq!((status, &seen["may_decide"]), (200, &json!(true)), "{seen}");
    let (status, body) =
        api(&app, "POST", &format!("/teams/genomics/exports/{first}/approve"), Some(&rosalind_reader), Some(json!({"note": "ok"}))).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "deciding needs the studies scope: {body}");
    let rosalind = token_for(&app, "rosalind", &["read", "studies"]).await;
    let (status, approved) =
        api(&app, "POST", &format!("/teams/genomics/exports/{first}/approve"), Some(&rosalind), Some(json!({"note": "aggregates only"})))
            .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(
        (&approved["status"], &approved["decided_by"], &approved["decision_note"]),
        (&json!("approved"), &json!("rosalind"), &json!("aggregates only"))
    );
    let (status, body) = api(&app, "POST", &format!("/teams/genomics/exports/{first}/reject"), Some(&rosalind), Some(json!({}))).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"), "decided once: {body}");
    let (status, rejected) =
        api(&app, "POST", &format!("/teams/genomics/exports/{second}/reject"), Some(&rosalind), Some(json!({"note": "no"}))).await;
    assert_eq!((status, &rejected["status"]), (200, &json!("rejected")), "{rejected}");
    assert_eq!(audit_rows(&app.db, "rosalind", "egress.approve", "success").await, 1);
    assert_eq!(audit_rows(&app.db, "rosalind", "egress.reject", "success").await, 1);

    // Approved: the requester downloads, minted per request; nobody else does; rejected: nobody.
    let (status, url) = api(&app, "GET", &download(first), Some(&reader), None).await;
    assert_eq!(status, 200, "{url}");
    let bytes = reqwest::get(url["url"].as_str().expect("a URL")).await.expect("downloaded").text().await.expect("text");
    assert!(bytes.starts_with("sample,population"), "{bytes}");
    assert_eq!(api(&app, "GET", &download(first), Some(&rosalind), None).await.0, 403);
    assert_eq!(api(&app, "GET", &download(second), Some(&ada), None).await.0, 403);
    let (status, _) = api(&app, "GET", &format!("/teams/genomics/exports/{first}/download?file=cohort.csv"), Some(&ada), None).await;
    assert_eq!(status, 404, "only the files of the request");

    let (_, view) = api(&app, "GET", &format!("/teams/genomics/exports/{first}"), Some(&ada), None).await;
    let history: Vec<&str> = view["history"].as_array().expect("history").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(history, ["egress.request", "egress.approve", "egress.download_url"], "{view}");
    assert_eq!(view["may_download"], true);
    let (_, page) = call(&app, &browser, "egress_request", &[("team", "genomics"), ("id", &first.to_string())]).await;
    assert_eq!(page["history"].as_array().map(Vec::len), Some(3), "the page shows the same history: {page}");
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
        ("/teams/{team}/studies/{id}/exports", "post"),
        ("/teams/{team}/exports/{request_id}", "get"),
        ("/teams/{team}/exports/{request_id}/approve", "post"),
        ("/teams/{team}/exports/{request_id}/reject", "post"),
        ("/teams/{team}/exports/{request_id}/download", "get"),
    ] {
        let operation = &document["paths"][path][method];
        assert_eq!(operation["tags"], json!(["studies"]), "{method} {path}");
        assert!(operation["summary"].is_string(), "{method} {path} has a summary");
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["StudyScope"]["enum"], json!(["my", "team", "organisation", "open-data"]), "{}", schemas["StudyScope"]);
    assert_eq!(schemas["NewExportRequest"]["properties"]["files"]["maxItems"], 100);
    assert_eq!(schemas["NewExportRequest"]["properties"]["reason"]["maxLength"], 2000);
    assert_eq!(schemas["UploadRequest"]["properties"]["size"]["minimum"], 1);
}
