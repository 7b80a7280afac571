//! The airlock through the pages' server functions: imports go up into a request's inbox and
//! are held (copied where only the portal writes) when submitted, then scanned (the AWS
//! emulator tags them as GuardDuty Malware Protection for S3 does, in front of moto), reviewed
//! by two people in Genomics (never the requester) and copied into the study with CopyObject
//! through the team's role; a threat is quarantined and blocks the request; exports out of a
//! controlled study are held, scanned and reviewed the same way.

use crate::helpers::{TestApp, audit_rows, call, invalid_fields, spawn_app};
use crate::studies::post_upload;
use serde_json::Value;
use sqlx::PgPool;

const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

async fn study_id(app: &TestApp, name: &str) -> String {
    let id: i64 = sqlx::query_scalar("SELECT id FROM studies WHERE name = $1").bind(name).fetch_one(&app.db).await.expect("seeded");
    id.to_string()
}

/// Runs the worker until no job is due: the scans it can settle are settled.
async fn work(app: &TestApp) {
    let worker = app.worker();
    for _ in 0..50 {
        if worker.run_next_job().await.expect("the worker runs") == atrium::worker::Tick::Idle {
            return;
        }
    }
}

/// The worker's scan step for one request, by itself: the mail it queues stays in the queue.
async fn scan(app: &TestApp, id: &str) -> atrium::services::studies::ScanProgress {
    let objects = atrium::aws::s3::S3Objects::new(&app.sdk);
    atrium::services::studies::scan_step(&app.db, &objects, id.parse().expect("an id")).await.expect("the scan step runs")
}

/// The request's inbox or quarantine folder (named by its `folder`).
async fn folder(app: &TestApp, id: &str) -> String {
    let folder: String = sqlx::query_scalar("SELECT folder::text FROM airlock_requests WHERE id = $1")
        .bind(id.parse::<i64>().expect("an id"))
        .fetch_one(&app.db)
        .await
        .expect("the request");
    folder
}

async fn view(app: &TestApp, client: &reqwest::Client, id: &str) -> (u16, Value) {
    call(app, client, "airlock_request", &[("team", "genomics"), ("id", id)]).await
}

async fn act(app: &TestApp, client: &reqwest::Client, id: &str, action: &str, note: &str) -> (u16, Value) {
    call(app, client, "act_on_request", &[("team", "genomics"), ("id", id), ("action", action), ("note", note)]).await
}

/// An import of one file into the study, submitted: its number and its upload's ticket.
async fn import_with_ticket(app: &TestApp, client: &reqwest::Client, study: &str, name: &str, bytes: &[u8]) -> (String, Value) {
    let (status, id) =
        call(app, client, "start_import", &[("team", "genomics"), ("id", study), ("reason", "Samples from the sequencer")]).await;
    assert_eq!(status, 200, "{id}");
    let id = id.to_string();
    let size = bytes.len().to_string();
    let form = [("team", "genomics"), ("id", id.as_str()), ("path", name), ("size", size.as_str()), ("content_type", "text/csv")];
    let (status, ticket) = call(app, client, "import_upload", &form).await;
    assert_eq!(status, 200, "{ticket}");
    let response = post_upload(&ticket, bytes.to_vec(), "text/csv").await;
    assert!(response.status().is_success(), "{}", response.text().await.unwrap_or_default());
    let (status, body) = call(app, client, "submit_request", &[("team", "genomics"), ("id", &id)]).await;
    assert_eq!(status, 200, "{body}");
    (id, ticket)
}

async fn import(app: &TestApp, client: &reqwest::Client, study: &str, name: &str, bytes: &[u8]) -> String {
    import_with_ticket(app, client, study, name, bytes).await.0
}

fn actions(view: &Value) -> Vec<&str> {
    view["history"].as_array().expect("history").iter().filter_map(|e| e["action"].as_str()).collect()
}

async fn object_exists(app: &TestApp, key: &str) -> bool {
    let config = crate::helpers::in_team_account(&app.sdk, "arn:aws:iam::111111111111:role/AtriumPortalAccess", "airlock-test").await;
    aws_sdk_s3::Client::new(&config).head_object().bucket("atrium-scratch-111111111111").key(key).send().await.is_ok()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_import_is_scanned_approved_by_two_people_and_copied_into_the_study(db: PgPool) {
    let app = spawn_app(db).await;
    let (ada, rosalind, grace, gus) = (
        app.client_signed_in_as("ada").await,
        app.client_signed_in_as("rosalind").await,
        app.client_signed_in_as("grace").await,
        app.client_signed_in_as("gus").await,
    );
    sqlx::query("UPDATE users SET email = username || '@example.edu'").execute(&app.db).await.expect("addresses");
    let genomes = study_id(&app, "Reference genomes").await;
    let name = format!("import-{}.csv", uuid::Uuid::new_v4().simple());

    // Bad input first: no reason; a guest may not write the study; nothing to submit.
    let (status, body) = call(&app, &ada, "start_import", &[("team", "genomics"), ("id", &genomes), ("reason", " ")]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["reason".to_owned()]), "{body}");
    let (status, _) = call(&app, &gus, "start_import", &[("team", "genomics"), ("id", &genomes), ("reason", "mine")]).await;
    assert_eq!(status, 403);
    let (_, empty) = call(&app, &ada, "start_import", &[("team", "genomics"), ("id", &genomes), ("reason", "nothing yet")]).await;
    let (status, body) = call(&app, &ada, "submit_request", &[("team", "genomics"), ("id", &empty.to_string())]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["files".to_owned()]), "{body}");

    // A file the study has already is not replaced by an import.
    let (_, taken) = call(&app, &ada, "start_import", &[("team", "genomics"), ("id", &genomes), ("reason", "again")]).await;
    let taken = taken.to_string();
    let form = [("team", "genomics"), ("id", taken.as_str()), ("path", "samples.csv"), ("size", "3"), ("content_type", "text/csv")];
    let (_, ticket) = call(&app, &ada, "import_upload", &form).await;
    assert!(post_upload(&ticket, b"a,b".to_vec(), "text/csv").await.status().is_success());
    let (status, body) = call(&app, &ada, "submit_request", &[("team", "genomics"), ("id", &taken)]).await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["files".to_owned()]), "{body}");
    assert!(body.to_string().contains("samples.csv is in the study already"), "{body}");

    let (id, ticket) = import_with_ticket(&app, &ada, &genomes, &name, b"sample,depth\nNA12878,31\n").await;
    // The upload form still works after submitting, but what is reviewed and copied is the
    // copy the portal held when it was submitted.
    let swapped = post_upload(&ticket, b"sample,depth\nSWAPPED,99\n".to_vec(), "text/csv").await;
    assert!(swapped.status().is_success(), "{}", swapped.text().await.unwrap_or_default());
    let (_, scanning) = view(&app, &ada, &id).await;
    assert_eq!((scanning["status"].as_str(), scanning["reviewers_needed"].as_i64()), (Some("scanning"), Some(2)), "{scanning}");
    assert!(!object_exists(&app, &format!("studies/genomics/reference-genomes/{name}")).await, "not in the study before review");
    // Submitted: no more files.
    let form = [("team", "genomics"), ("id", id.as_str()), ("path", "more.csv"), ("size", "3"), ("content_type", "text/csv")];
    assert_eq!(call(&app, &ada, "import_upload", &form).await.0, 409);
    // Reviewers cannot decide before the scan says it is clean.
    assert_eq!(act(&app, &rosalind, &id, "approve", "").await.0, 409);

    assert_eq!(scan(&app, &id).await, atrium::services::studies::ScanProgress::Settled);
    let (_, in_review) = view(&app, &rosalind, &id).await;
    assert_eq!(in_review["status"], "in_review", "{in_review}");
    assert_eq!(in_review["files"][0]["scan"], "NO_THREATS_FOUND", "{in_review}");
    assert_eq!((in_review["may_review"].as_bool(), in_review["may_open_files"].as_bool()), (Some(true), Some(true)));
    let mails: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE kind = 'mail' AND payload->>'subject' LIKE '%awaits review'")
        .fetch_one(&app.db)
        .await
        .expect("counted");
    assert!(mails >= 2, "the reviewers (the team's admin and the portal's admins) hear of it: {mails}");

    // The requester cannot approve; a guest does not see it; a reviewer opens the file read-only.
    let (status, body) = act(&app, &ada, &id, "approve", "").await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("someone else"), "{body}");
    assert_eq!(view(&app, &gus, &id).await.0, 404);
    let open = rosalind.get(format!("{}/teams/genomics/requests/{id}/file?file={name}", app.address)).send().await.expect("sent");
    assert_eq!(open.status().as_u16(), 303);
    let location = open.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(reqwest::get(location).await.expect("read").text().await.expect("text"), "sample,depth\nNA12878,31\n");
    assert_eq!(ada.get(format!("{}/teams/genomics/requests/{id}/file?file={name}", app.address)).send().await.expect("sent").status(), 403);

    // Two approvals from two people.
    assert_eq!(act(&app, &rosalind, &id, "approve", "looks right").await.0, 200);
    let (status, body) = act(&app, &rosalind, &id, "approve", "").await;
    assert!(status == 409 && body.to_string().contains("someone else"), "{status} {body}");
    let (_, halfway) = view(&app, &ada, &id).await;
    assert_eq!(halfway["status"], "in_review", "one approval of two: {halfway}");
    assert_eq!(act(&app, &grace, &id, "approve", "").await.0, 200);
    // The worker copies it into the study.
    assert_eq!(view(&app, &ada, &id).await.1["status"], "approved");
    work(&app).await;

    let (_, done) = view(&app, &ada, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(object_exists(&app, &format!("studies/genomics/reference-genomes/{name}")).await, "copied into the study");
    let folder = folder(&app, &id).await;
    assert!(!object_exists(&app, &format!("airlock/{folder}/{name}")).await, "its held copy is gone");
    let config = crate::helpers::in_team_account(&app.sdk, "arn:aws:iam::111111111111:role/AtriumPortalAccess", "airlock-test").await;
    let copied = aws_sdk_s3::Client::new(&config)
        .get_object()
        .bucket("atrium-scratch-111111111111")
        .key(format!("studies/genomics/reference-genomes/{name}"))
        .send()
        .await
        .expect("in the study");
    let bytes = copied.body.collect().await.expect("read").into_bytes();
    assert_eq!(bytes.as_ref(), b"sample,depth\nNA12878,31\n", "what was scanned and reviewed, not what came later");
    let (_, listing) = call(&app, &ada, "study_files", &[("team", "genomics"), ("id", &genomes)]).await;
    assert!(listing["files"].as_array().expect("files").iter().any(|f| f["path"] == name.as_str()), "{listing}");
    assert_eq!(
        actions(&done),
        [
            "airlock.import.start",
            "airlock.upload_url",
            "airlock.submit",
            "airlock.scan.clean",
            "airlock.file_url",
            "airlock.approve",
            "airlock.approve",
            "airlock.complete"
        ],
        "{done}"
    );
    assert_eq!(audit_rows(&app.db, "atrium", "airlock.scan.clean", "success").await, 1);
    // Finished: nothing more to decide, cancel or open.
    assert_eq!(act(&app, &ada, &id, "cancel", "").await.0, 409);
    let (_, list) = call(&app, &rosalind, "airlock_requests", &[("team", "genomics")]).await;
    assert!(list["reviewer"].as_bool().unwrap_or_default() && list["requests"].as_array().is_some_and(|r| r.len() >= 2), "{list}");
    let (_, mine) = call(&app, &gus, "airlock_requests", &[("team", "genomics")]).await;
    assert_eq!(mine["requests"], serde_json::json!([]), "a guest sees only their own: {mine}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_threat_is_quarantined_and_blocks_the_import_and_a_scan_that_never_comes_is_failed_by_an_admin(db: PgPool) {
    let app = spawn_app(db).await;
    let (ada, rosalind, grace) =
        (app.client_signed_in_as("ada").await, app.client_signed_in_as("rosalind").await, app.client_signed_in_as("grace").await);
    sqlx::query("UPDATE users SET email = username || '@example.edu'").execute(&app.db).await.expect("addresses");
    let genomes = study_id(&app, "Reference genomes").await;

    let threat = import(&app, &ada, &genomes, "eicar.csv", EICAR).await;
    scan(&app, &threat).await;
    let (_, blocked) = view(&app, &ada, &threat).await;
    assert_eq!(blocked["status"], "blocked", "{blocked}");
    assert_eq!(blocked["files"][0]["scan"], "THREATS_FOUND", "{blocked}");
    assert!(blocked["status_note"].as_str().is_some_and(|n| n.contains("eicar.csv") && n.contains("quarantined")), "{blocked}");
    let moved = folder(&app, &threat).await;
    assert!(object_exists(&app, &format!("quarantine/{moved}/eicar.csv")).await, "moved to the quarantine");
    assert!(!object_exists(&app, &format!("airlock/{moved}/eicar.csv")).await, "no longer held");
    assert!(!object_exists(&app, &format!("inbox/{moved}/eicar.csv")).await, "nor in the inbox");
    assert_eq!(scan(&app, &threat).await, atrium::services::studies::ScanProgress::Settled, "a second look changes nothing");
    assert!(!object_exists(&app, "studies/genomics/reference-genomes/eicar.csv").await);
    let told: Vec<String> =
        sqlx::query_scalar("SELECT payload->>'to' FROM jobs WHERE kind = 'mail' AND payload->>'subject' LIKE '%is blocked' ORDER BY 1")
            .fetch_all(&app.db)
            .await
            .expect("mail");
    assert!(told.contains(&"ada@example.edu".to_owned()) && told.contains(&"rosalind@example.edu".to_owned()), "{told:?}");
    assert_eq!(act(&app, &rosalind, &threat, "approve", "").await.0, 409, "a blocked request is not reviewed");
    assert_eq!(audit_rows(&app.db, "atrium", "airlock.scan.threat", "success").await, 1);

    // A scan that never comes: the request says so once overdue, and only an admin fails it.
    let late = import(&app, &ada, &genomes, "late.csv", b"ATRIUM-TEST-NEVER-SCANNED").await;
    assert_eq!(scan(&app, &late).await, atrium::services::studies::ScanProgress::Waiting);
    work(&app).await;
    let (_, waiting) = view(&app, &grace, &late).await;
    assert_eq!((waiting["status"].as_str(), waiting["scan_overdue"].as_bool()), (Some("scanning"), Some(false)), "{waiting}");
    assert_eq!(act(&app, &grace, &late, "fail_scan", "").await.0, 409, "not overdue yet");
    sqlx::query("UPDATE airlock_requests SET status_at = now() - interval '2 hours' WHERE id = $1")
        .bind(late.parse::<i64>().expect("id"))
        .execute(&app.db)
        .await
        .expect("aged");
    let (_, overdue) = view(&app, &grace, &late).await;
    assert_eq!((overdue["scan_overdue"].as_bool(), overdue["may_fail_scan"].as_bool()), (Some(true), Some(true)), "{overdue}");
    assert_eq!(act(&app, &rosalind, &late, "fail_scan", "").await.0, 403, "a team admin is not an admin");
    assert_eq!(act(&app, &grace, &late, "fail_scan", "GuardDuty is not enabled on this bucket").await.0, 200);
    let (_, failed) = view(&app, &ada, &late).await;
    assert_eq!(failed["status"], "blocked", "{failed}");
    assert!(failed["status_note"].as_str().is_some_and(|n| n.contains("never came") && n.contains("GuardDuty is not enabled")), "{failed}");

    // The requester may cancel one still on its way.
    let (_, draft) = call(&app, &ada, "start_import", &[("team", "genomics"), ("id", &genomes), ("reason", "changed my mind")]).await;
    let draft = draft.to_string();
    assert_eq!(act(&app, &rosalind, &draft, "cancel", "").await.0, 403, "only its requester");
    assert_eq!(act(&app, &ada, &draft, "cancel", "").await.0, 200);
    assert_eq!(view(&app, &ada, &draft).await.1["status"], "cancelled");
}

#[sqlx::test(migrations = "../migrations")]
async fn controlled_data_leaves_only_once_scanned_and_approved_by_two_people(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = app.client_signed_in_as("ada").await;
    let cohort = study_id(&app, "Patient cohort").await;
    // No direct download from a controlled study.
    let response = ada.get(format!("{}/teams/genomics/studies/{cohort}/download?path=cohort.csv", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 403);
    let (_, listing) = call(&app, &ada, "study_files", &[("team", "genomics"), ("id", &cohort)]).await;
    assert_eq!(listing["egress"]["files"][0]["path"], "results/summary.csv", "{listing}");

    let request = |files: &'static str, reason: &'static str| {
        let (ada, app, cohort) = (&ada, &app, cohort.clone());
        async move { call(app, ada, "request_export", &[("team", "genomics"), ("id", &cohort), (files, "on"), ("reason", reason)]).await }
    };
    let (status, body) = request("files[../cohort.csv]", "the raw data").await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["files".to_owned()]), "{body}");
    let (status, body) = request("files[results/summary.csv]", " ").await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["reason".to_owned()]), "{body}");
    let (status, first) = request("files[results/summary.csv]", "Aggregate counts for the paper").await;
    assert_eq!(status, 200, "{first}");
    let (_, second) = request("files[results/summary.csv]", "Again, for the rejection").await;
    let (first, second) = (first.to_string(), second.to_string());
    let download = |client: &reqwest::Client, request: &str| {
        client.get(format!("{}/teams/genomics/requests/{request}/file?file=results/summary.csv", app.address)).send()
    };
    // Scanned (the demo's egress file was tagged clean when it was written), then reviewed.
    work(&app).await;
    assert_eq!(view(&app, &ada, &first).await.1["status"], "in_review");
    // Before approval: nothing leaves.
    assert_eq!(download(&ada, &first).await.expect("sent").status().as_u16(), 403);
    let gus = app.client_signed_in_as("gus").await;
    assert_eq!(view(&app, &gus, &first).await.0, 404);
    let (rosalind, grace) = (app.client_signed_in_as("rosalind").await, app.client_signed_in_as("grace").await);
    assert_eq!(act(&app, &rosalind, &first, "approve", "aggregates only").await.0, 200);
    assert_eq!(act(&app, &grace, &first, "approve", "").await.0, 200);
    work(&app).await;
    // A rejection says why.
    let (status, body) = act(&app, &rosalind, &second, "reject", "").await;
    assert_eq!((status, invalid_fields(&body)), (400, vec!["note".to_owned()]), "{body}");
    assert_eq!(act(&app, &rosalind, &second, "reject", "row-level data").await.0, 200);
    assert_eq!(act(&app, &grace, &second, "approve", "").await.0, 409, "rejected already");

    // Completed: the requester downloads, minted per click; nobody else; rejected: nobody.
    let response = download(&ada, &first).await.expect("sent");
    assert_eq!(response.status().as_u16(), 303);
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let bytes = reqwest::get(location).await.expect("downloaded").text().await.expect("text");
    assert!(bytes.starts_with("sample,population"), "{bytes}");
    assert_eq!(download(&rosalind, &first).await.expect("sent").status().as_u16(), 403);
    assert_eq!(download(&ada, &second).await.expect("sent").status().as_u16(), 403);
    let response = ada.get(format!("{}/teams/genomics/requests/{first}/file?file=cohort.csv", app.address)).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 404, "only the files of the request");

    let (_, done) = view(&app, &ada, &first).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        actions(&done),
        ["airlock.export.request", "airlock.scan.clean", "airlock.approve", "airlock.approve", "airlock.complete", "airlock.file_url"],
        "{done}"
    );
    let (_, rejected) = view(&app, &ada, &second).await;
    assert_eq!((rejected["status"].as_str(), rejected["status_note"].as_str()), (Some("rejected"), Some("row-level data")), "{rejected}");
}
