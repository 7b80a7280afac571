//! Studies through the portal as browsers use it: server functions for the rows and the
//! presigned URLs, the bytes straight to and from S3 (moto, behind the AWS emulator that
//! checks POST policies as S3 does).

use crate::helpers::{TestApp, audit_rows, call, invalid_fields, spawn_app, spawn_app_with};
use sqlx::PgPool;

/// A name no other test uses (tests share moto's buckets).
fn unique(name: &str) -> String {
    format!("{name}-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple().to_string().get(..8).unwrap_or_default())
}

async fn create_team_study(app: &TestApp, client: &reqwest::Client, name: &str) -> i64 {
    let (status, body) = call(app, client, "create_study", &[("team", "genomics"), ("scope", "team"), ("name", name)]).await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_i64().unwrap_or_else(|| panic!("a study: {body}"))
}

/// The POST form of an upload ticket, sent with `bytes` as the file.
pub(crate) async fn post_upload(ticket: &serde_json::Value, bytes: Vec<u8>, content_type: &str) -> reqwest::Response {
    let post = &ticket["Post"];
    let mut form = reqwest::multipart::Form::new();
    for field in post["fields"].as_array().expect("fields") {
        form = form.text(field[0].as_str().expect("name").to_owned(), field[1].as_str().expect("value").to_owned());
    }
    let file = reqwest::multipart::Part::bytes(bytes).file_name("file").mime_str(content_type).expect("mime");
    reqwest::Client::new().post(post["url"].as_str().expect("url")).multipart(form.part("file", file)).send().await.expect("posted")
}

async fn ticket(app: &TestApp, client: &reqwest::Client, id: i64, path: &str, size: usize, content_type: &str) -> (u16, serde_json::Value) {
    call(
        app,
        client,
        "study_upload",
        &[("team", "genomics"), ("id", &id.to_string()), ("path", path), ("size", &size.to_string()), ("content_type", content_type)],
    )
    .await
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_member_uploads_through_a_presigned_post_and_downloads_the_same_bytes(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = app.client_signed_in_as("ada").await;
    let name = unique("variants");
    let id = create_team_study(&app, &ada, &name).await;
    let bytes = b"chrom,pos,ref,alt\nchr21,5030578,C,T\n".to_vec();
    let (status, upload) = ticket(&app, &ada, id, "calls/variants.csv", bytes.len(), "text/csv").await;
    assert_eq!(status, 200, "{upload}");
    let stored = post_upload(&upload, bytes.clone(), "text/csv").await;
    assert!(stored.status().is_success(), "{}", stored.text().await.unwrap_or_default());

    let (status, top) = call(&app, &ada, "study_files", &[("team", "genomics"), ("id", &id.to_string())]).await;
    assert_eq!(status, 200, "{top}");
    assert_eq!(top["folders"], serde_json::json!(["calls/"]), "{top}");
    let (_, inside) = call(&app, &ada, "study_files", &[("team", "genomics"), ("id", &id.to_string()), ("folder", "calls/")]).await;
    assert_eq!(inside["files"][0]["path"], "calls/variants.csv", "{inside}");
    assert_eq!(inside["files"][0]["size"], bytes.len() as i64);

    // gus (a guest of the team) reads and downloads, per click, the same bytes.
    let gus = app.client_signed_in_as("gus").await;
    let response =
        gus.get(format!("{}/teams/genomics/studies/{id}/download?path=calls/variants.csv", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 303);
    let downloaded = reqwest::get(location(&response)).await.expect("downloaded").bytes().await.expect("bytes");
    assert_eq!(downloaded.as_ref(), bytes.as_slice());
    assert_eq!(audit_rows(&app.db, "ada", "study.create", "success").await, 1);
    assert_eq!(audit_rows(&app.db, "ada", "study.upload_url", "success").await, 1);
    assert_eq!(audit_rows(&app.db, "gus", "study.download_url", "success").await, 1);

    // Deleting is for writers, and takes the file away.
    let (status, _) =
        call(&app, &gus, "study_delete_file", &[("team", "genomics"), ("id", &id.to_string()), ("path", "calls/variants.csv")]).await;
    assert_eq!(status, 403);
    let (status, body) =
        call(&app, &ada, "study_delete_file", &[("team", "genomics"), ("id", &id.to_string()), ("path", "calls/variants.csv")]).await;
    assert_eq!(status, 200, "{body}");
    let response =
        ada.get(format!("{}/teams/genomics/studies/{id}/download?path=calls/variants.csv", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(audit_rows(&app.db, "ada", "study.file.delete", "success").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn uploads_outside_the_rules_are_refused_and_nothing_is_written(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = app.client_signed_in_as("ada").await;
    let id = create_team_study(&app, &ada, &unique("rules")).await;

    for (path, size, content_type, field) in [
        ("../escape.csv", 10, "text/csv", "path"),
        ("/etc/passwd", 10, "text/csv", "path"),
        ("a/./b.csv", 10, "text/csv", "path"),
        ("big.bin", 64 * 1024 * 1024 + 1, "application/octet-stream", "size"),
        ("empty.csv", 0, "text/csv", "size"),
        ("page.html", 10, "text/html", "content_type"),
        ("odd.bin", 10, "not a type", "content_type"),
    ] {
        let (status, body) = ticket(&app, &ada, id, path, size, content_type).await;
        assert_eq!((status, invalid_fields(&body)), (400, vec![field.to_owned()]), "{path}: {body}");
    }

    // The form S3 is given allows exactly its key and its size.
    let (status, upload) = ticket(&app, &ada, id, "ok.csv", 5, "text/csv").await;
    assert_eq!(status, 200, "{upload}");
    let mut other_key = upload.clone();
    for field in other_key["Post"]["fields"].as_array_mut().expect("fields") {
        if field[0] == "key" {
            field[1] = serde_json::json!(format!("{}../../elsewhere.csv", field[1].as_str().unwrap_or_default()));
        }
    }
    assert_eq!(post_upload(&other_key, b"a,b\n1".to_vec(), "text/csv").await.status().as_u16(), 403);
    assert_eq!(post_upload(&upload, b"a,b\n1,2,3,4,5,6".to_vec(), "text/csv").await.status().as_u16(), 403, "larger than declared");
    let (_, listed) = call(&app, &ada, "study_files", &[("team", "genomics"), ("id", &id.to_string())]).await;
    assert_eq!(listed["files"], serde_json::json!([]), "nothing was written: {listed}");

    // gus reads but may not write: no upload form for him, and a 403 if he asks anyway.
    let gus = app.client_signed_in_as("gus").await;
    let (status, _) = ticket(&app, &gus, id, "gus.csv", 5, "text/csv").await;
    assert_eq!(status, 403);
    let (status, _) = call(&app, &gus, "create_study", &[("team", "genomics"), ("scope", "team"), ("name", "gus study")]).await;
    assert_eq!(status, 403);
}

#[sqlx::test(migrations = "../migrations")]
async fn other_teams_see_nothing_and_guessed_ids_tell_nothing(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = app.client_signed_in_as("ada").await;
    let id = create_team_study(&app, &ada, &unique("private")).await;
    let alan = app.client_signed_in_as("alan").await;
    // alan is not on genomics: its studies page, the study and its downloads are refused.
    for path in [
        "/teams/genomics/studies".to_owned(),
        format!("/teams/genomics/studies/{id}"),
        format!("/teams/genomics/studies/{id}/download?path=README.md"),
    ] {
        let status = alan.get(format!("{}{path}", app.address)).send().await.expect("sent").status().as_u16();
        assert_eq!(status, 403, "{path}");
    }
    // From his own team the id is no study at all.
    let (status, _) = call(&app, &alan, "study_files", &[("team", "physics"), ("id", &id.to_string())]).await;
    assert_eq!(status, 404);
    let response = alan.get(format!("{}/teams/physics/studies/{id}/download?path=README.md", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 404);
    // ada's own study is hers alone, even for an admin.
    let (status, mine) = call(&app, &ada, "create_study", &[("team", "genomics"), ("scope", "my"), ("name", &unique("mine"))]).await;
    assert_eq!(status, 200, "{mine}");
    let grace = app.client_signed_in_as("grace").await;
    let (status, _) = call(&app, &grace, "study_files", &[("team", "genomics"), ("id", &mine["id"].to_string())]).await;
    assert_eq!(status, 404);
    let (_, list) = call(&app, &grace, "studies", &[("team", "genomics")]).await;
    assert!(list["studies"].as_array().expect("studies").iter().all(|s| s["id"] != mine["id"]), "{list}");
    // Open data is listed for everyone; the organisation study only for its teams.
    let (_, physics) = call(&app, &alan, "studies", &[("team", "physics")]).await;
    let kinds: Vec<&str> = physics["studies"].as_array().expect("studies").iter().filter_map(|s| s["scope"].as_str()).collect();
    assert_eq!(kinds, ["open-data"], "{physics}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_study_cannot_escape_or_overlap_another(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = app.client_signed_in_as("ada").await;
    let folder = unique("nested");
    let (status, body) =
        call(&app, &ada, "create_study", &[("team", "genomics"), ("scope", "team"), ("name", &folder), ("folder", &folder)]).await;
    assert_eq!(status, 200, "{body}");
    let inside = format!("{folder}/inner");
    for (name, folder) in [("escape", "../physics"), ("absolute", "/root"), ("inside", inside.as_str()), ("seeded", "reference-genomes")] {
        let (status, body) =
            call(&app, &ada, "create_study", &[("team", "genomics"), ("scope", "team"), ("name", &unique(name)), ("folder", folder)]).await;
        assert_eq!((status, invalid_fields(&body)), (400, vec!["folder".to_owned()]), "{folder}: {body}");
    }
    let (status, body) = call(
        &app,
        &ada,
        "create_study",
        &[("team", "genomics"), ("scope", "team"), ("name", "Reference genomes"), ("folder", &unique("copy"))],
    )
    .await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["name".to_owned()]), "{body}");
    // Researchers make my and team studies; organisation studies and open data are admins'.
    let (status, _) =
        call(&app, &ada, "create_study", &[("team", "genomics"), ("scope", "organisation"), ("name", "x"), ("teams[genomics]", "on")])
            .await;
    assert_eq!(status, 403);
    let grace = app.client_signed_in_as("grace").await;
    let (status, body) = call(
        &app,
        &grace,
        "create_study",
        &[("team", "genomics"), ("scope", "open-data"), ("name", &unique("empty")), ("location", "s3://atrium-open-data/nothing-here/")],
    )
    .await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["location".to_owned()]), "{body}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM studies").fetch_one(&app.db).await.expect("counted");
    assert_eq!(count, 6, "the five seeded studies and the first one, nothing else");
}

#[sqlx::test(migrations = "../migrations")]
async fn s3_unreachable_is_a_503_and_no_study_is_left_behind(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = app.client_signed_in_as("ada").await;
    let folder = unique("unreachable");
    app.emulator_fault(serde_json::json!({ "operation": "S3", "fault": "server_error", "times": 20, "body_contains": folder })).await;
    let (status, body) =
        call(&app, &ada, "create_study", &[("team", "genomics"), ("scope", "team"), ("name", &folder), ("folder", &folder)]).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.to_string().contains("S3"), "{body}");
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM studies WHERE name = $1").bind(&folder).fetch_one(&app.db).await.expect("counted");
    assert_eq!(rows, 0);
    // Once S3 answers again, the same study is created.
    reqwest::Client::new()
        .delete(format!("{}/_emulator/faults", std::env::var("AWS_ENDPOINT_URL_S3").expect("emulator")))
        .send()
        .await
        .expect("cleared");
    let (status, body) =
        call(&app, &ada, "create_study", &[("team", "genomics"), ("scope", "team"), ("name", &folder), ("folder", &folder)]).await;
    assert_eq!(status, 200, "{body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn team_admins_choose_writers_among_members(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = app.client_signed_in_as("ada").await;
    let id = create_team_study(&app, &ada, &unique("shared")).await.to_string();
    // rosalind (a team admin) writes anyway; a plain member does not until named.
    let rosalind = app.client_signed_in_as("rosalind").await;
    assert_eq!(ticket(&app, &rosalind, id.parse().unwrap_or(0), "r.csv", 3, "text/csv").await.0, 200);
    let (status, body) = call(&app, &rosalind, "study_writers", &[("team", "genomics"), ("id", &id), ("writers[alan]", "on")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["writers".to_owned()]), "alan is not a member: {body}");
    let gus = app.client_signed_in_as("gus").await;
    let (status, _) = call(&app, &gus, "study_writers", &[("team", "genomics"), ("id", &id), ("writers[gus]", "on")]).await;
    assert_eq!(status, 403);
    let (status, body) = call(&app, &ada, "study_writers", &[("team", "genomics"), ("id", &id), ("writers[gus]", "on")]).await;
    assert_eq!(status, 200, "{body}");
    // Named, gus is still a guest: he reads only.
    assert_eq!(ticket(&app, &gus, id.parse().unwrap_or(0), "g.csv", 3, "text/csv").await.0, 403);
    assert_eq!(audit_rows(&app.db, "ada", "study.writers", "success").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_workspace_mounts_the_studies_chosen_at_launch(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await.to_string();
    let studies: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM studies WHERE team_slug = 'genomics' ORDER BY name").fetch_all(&app.db).await.expect("seeded");
    let id_of = |name: &str| studies.iter().find(|(_, n)| n == name).map(|(id, _)| id.to_string()).expect("seeded study");
    let (reference, cohort) = (id_of("Reference genomes"), id_of("Patient cohort"));
    let ada = app.client_signed_in_as("ada").await;
    let launch = |name: &'static str, mounts: Vec<(String, &'static str)>| {
        let (ada, app, configuration) = (&ada, &app, configuration.clone());
        async move {
            let mut form = vec![
                ("team".to_owned(), "genomics".to_owned()),
                ("configuration_id".into(), configuration),
                ("name".into(), name.into()),
                ("launch_key".into(), format!("key-{name}")),
            ];
            form.extend(mounts.into_iter().map(|(id, access)| (format!("studies[{id}]"), access.to_owned())));
            let response = ada.post(format!("{}/api/launch_workspace", app.address)).form(&form).send().await.expect("sent");
            (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    // A controlled study mounts read-only, never read-write.
    let (status, body) = launch("ada-controlled", vec![(cohort.clone(), "rw")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["studies".to_owned()]), "{body}");
    let (status, body) = launch("ada-guess", vec![("999999".into(), "ro")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["studies".to_owned()]), "{body}");
    let (status, workspace) = launch("ada-mounted", vec![(reference.clone(), "rw"), (cohort.clone(), "ro")]).await;
    assert_eq!(status, 200, "{workspace}");
    let workspace = workspace.as_str().expect("an id").to_owned();
    let values: serde_json::Value = sqlx::query_scalar("SELECT parameter_values FROM workspaces WHERE id = $1")
        .bind(&workspace)
        .fetch_one(&app.db)
        .await
        .expect("stored");
    assert_eq!(
        values["Studies"],
        "s3://atrium-scratch-111111111111/studies/genomics/patient-cohort/:ro,s3://atrium-scratch-111111111111/studies/genomics/reference-genomes/:rw",
        "{values}"
    );
    let (status, view) = call(&app, &ada, "workspace", &[("id", &workspace)]).await;
    assert_eq!(status, 200, "{view}");
    let listed: Vec<(&str, &str)> = view["studies"]
        .as_array()
        .expect("studies")
        .iter()
        .map(|s| (s["name"].as_str().unwrap_or(""), s["access"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(listed, [("Patient cohort", "ro"), ("Reference genomes", "rw")]);
    // The product received it: the stack's parameter, in the team's account.
    let worker = app.worker();
    assert_eq!(app.work_until_settled(&worker, &workspace).await, "available");
    let audit: String = sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'workspace.launch' AND object_id = $1")
        .bind(&workspace)
        .fetch_one(&app.db)
        .await
        .expect("audited");
    assert!(audit.contains("\"Reference genomes\" rw"), "{audit}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_large_file_goes_up_in_presigned_parts(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = app.client_signed_in_as("ada").await;
    let id = create_team_study(&app, &ada, &unique("large")).await;
    let size = app::domain::studies::MULTIPART_THRESHOLD as usize + 1024 * 1024;
    let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let (status, ticket) = ticket(&app, &ada, id, "reads/sample.bam", size, "application/octet-stream").await;
    assert_eq!(status, 200, "{ticket}");
    let multipart = &ticket["Multipart"];
    let part_size = multipart["part_size"].as_u64().expect("part size") as usize;
    let urls: Vec<&str> = multipart["part_urls"].as_array().expect("part URLs").iter().filter_map(|u| u.as_str()).collect();
    assert_eq!(urls.len(), size.div_ceil(part_size));
    let http = reqwest::Client::new();
    let mut etags = Vec::new();
    for (index, url) in urls.iter().enumerate() {
        let part = bytes[index * part_size..((index + 1) * part_size).min(size)].to_vec();
        let response = http.put(*url).body(part).send().await.expect("part sent");
        assert!(response.status().is_success(), "{}", response.status());
        etags.push(response.headers().get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_owned());
    }
    let mut form = vec![
        ("team".to_owned(), "genomics".to_owned()),
        ("id".into(), id.to_string()),
        ("path".into(), multipart["path"].as_str().expect("path").to_owned()),
        ("upload_id".into(), multipart["upload_id"].as_str().expect("upload id").to_owned()),
    ];
    form.extend(etags.iter().enumerate().map(|(i, etag)| (format!("etags[{i}]"), etag.clone())));
    let response = ada.post(format!("{}/api/study_upload_complete", app.address)).form(&form).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 200, "{}", response.text().await.unwrap_or_default());
    let (_, listing) = call(&app, &ada, "study_files", &[("team", "genomics"), ("id", &id.to_string()), ("folder", "reads/")]).await;
    assert_eq!(listing["files"][0]["size"], size as i64, "{listing}");
    let response =
        ada.get(format!("{}/teams/genomics/studies/{id}/download?path=reads/sample.bam", app.address)).send().await.expect("sent");
    let downloaded = reqwest::get(location(&response)).await.expect("downloaded").bytes().await.expect("bytes");
    assert!(downloaded.as_ref() == bytes.as_slice(), "the same bytes, put together");
    assert_eq!(audit_rows(&app.db, "ada", "study.upload", "success").await, 1);
}
