//! The `atrium` CLI against the whole app: studies (list, upload to S3 in one form or in parts,
//! download), imports and exports through the airlock (request, review, download), and a
//! workspace's sharing, keep running, resize, upgrade and studies at launch. Each command's
//! effect is checked through the pages' server functions; a refusal exits 1 with the API's
//! message. Runs the binary `cargo build -p atrium-cli` made (dev/test builds it before the
//! tests), or the one `ATRIUM_CLI` names.

use crate::helpers::{TestApp, api, audit_rows, call, spawn_app, spawn_app_with, token_for, unique};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::path::{Path, PathBuf};

/// The `atrium` binary beside this test's (target/<profile>/deps/api-… → target/<profile>/atrium).
fn cli_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ATRIUM_CLI") {
        return path.into();
    }
    let test = std::env::current_exe().expect("the test's path");
    let profile = test.parent().and_then(Path::parent).expect("target/<profile>/deps");
    let binary = profile.join(format!("atrium{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.exists(), "{} is missing: build it with `cargo build -p atrium-cli` (dev/test does)", binary.display());
    binary
}

/// A folder of the test's own, where the CLI runs (downloads land there).
struct Folder(PathBuf);

impl Folder {
    fn new() -> Folder {
        let path = std::env::temp_dir().join(unique("atrium-cli-test"));
        std::fs::create_dir_all(&path).expect("a temporary folder");
        Folder(path)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        std::fs::write(self.0.join(name), bytes).expect("written");
        name.to_owned()
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.0.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a run of the CLI ended with.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|_| panic!("JSON on standard output: {}\n{}", self.stdout, self.stderr))
    }

    /// Exit 0.
    #[track_caller]
    fn succeeded(&self) -> &Run {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }

    /// Exit 1 with an error message (never a panic), containing `message`.
    #[track_caller]
    fn failed_saying(&self, message: &str) {
        assert_eq!(self.code, 1, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert!(self.stderr.starts_with("error: ") && self.stderr.contains(message), "{message:?} in: {}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
}

/// Runs `atrium <args>` in `folder` with `token`, against the app. The process runs on a
/// blocking thread, so that the app (on this test's runtime) answers it meanwhile.
async fn atrium(app: &TestApp, token: &str, folder: &Folder, args: &[&str]) -> Run {
    let mut command = std::process::Command::new(cli_binary());
    command
        .args(args)
        .current_dir(&folder.0)
        .env("ATRIUM_URL", &app.address)
        .env("ATRIUM_TOKEN", token)
        .env("ATRIUM_CONFIG", folder.0.join("no-saved-login.json"))
        .stdin(std::process::Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output()).await.expect("joined").expect("the CLI runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The API's error message for a request, to find in what the CLI prints.
async fn api_message(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> String {
    let (status, answer) = api(app, method, path, Some(token), body).await;
    assert!(status >= 400, "{path}: {status} {answer}");
    answer["error"]["message"].as_str().unwrap_or_else(|| panic!("an error: {answer}")).to_owned()
}

async fn create_team_study(app: &TestApp, token: &str, name: &str) -> i64 {
    let (status, study) = api(app, "POST", "/teams/genomics/studies", Some(token), Some(json!({"scope": "team", "name": name}))).await;
    assert_eq!(status, 201, "{study}");
    study["id"].as_i64().unwrap_or_else(|| panic!("a study: {study}"))
}

/// A folder of a study as the page lists it, for ada.
async fn page_files(app: &TestApp, id: i64, folder: &str) -> Value {
    let ada = app.client_signed_in_as("ada").await;
    let (status, listing) = call(app, &ada, "study_files", &[("team", "genomics"), ("id", &id.to_string()), ("folder", folder)]).await;
    assert_eq!(status, 200, "{listing}");
    listing
}

#[sqlx::test(migrations = "../migrations")]
async fn a_researcher_lists_studies_and_uploads_and_downloads_a_file_with_the_cli(db: PgPool) {
    let app = spawn_app(db).await;
    let writer = token_for(&app, "ada", &["read", "studies"]).await;
    let reader = token_for(&app, "ada", &["read"]).await;
    let name = unique("cli-study");
    let id = create_team_study(&app, &writer, &name).await;
    let here = Folder::new();

    let listed = atrium(&app, &reader, &here, &["studies", "--team", "genomics", "-o", "json"]).await;
    let ours = listed.succeeded().json().as_array().expect("a list").iter().find(|s| s["name"] == name.as_str()).cloned();
    assert_eq!(ours.map(|s| (s["id"].clone(), s["access"].clone())), Some((json!(id), json!("rw"))), "{}", listed.stdout);
    assert!(atrium(&app, &reader, &here, &["studies", "--team", "genomics"]).await.succeeded().stdout.contains(&name));

    let bytes = b"chrom,pos,ref,alt\nchr21,5030578,C,T\n";
    let local = here.file("local.csv", bytes);
    let upload = ["study", "upload", "--team", "genomics", &name, &local, "--path", "calls/variants.csv"];
    // Without the studies scope: the API's refusal, and nothing written.
    let refusal = api_message(
        &app,
        "POST",
        &format!("/teams/genomics/studies/{id}/uploads"),
        &reader,
        Some(json!({"path": "calls/variants.csv", "size": bytes.len()})),
    )
    .await;
    atrium(&app, &reader, &here, &upload).await.failed_saying(&refusal);
    assert_eq!(page_files(&app, id, "").await["folders"], json!([]));
    // A path that leaves the study: the field named.
    let escape = ["study", "upload", "--team", "genomics", &name, &local, "--path", "../escape.csv"];
    atrium(&app, &writer, &here, &escape).await.failed_saying("path");
    atrium(&app, &writer, &here, &["study", "upload", "--team", "genomics", "No such study", &local]).await.failed_saying("sees no study");

    let uploaded = atrium(&app, &writer, &here, &upload).await;
    assert!(uploaded.succeeded().stdout.contains("calls/variants.csv"), "{}", uploaded.stdout);
    let listing = page_files(&app, id, "calls/").await;
    assert_eq!((&listing["files"][0]["path"], &listing["files"][0]["size"]), (&json!("calls/variants.csv"), &json!(bytes.len())));
    assert_eq!(audit_rows(&app.db, "ada", "study.upload_url", "success").await, 1, "one form, minted once");
    let files = atrium(&app, &reader, &here, &["study", "files", "--team", "genomics", &id.to_string(), "calls/", "-o", "json"]).await;
    assert_eq!(files.succeeded().json()["files"][0]["path"], "calls/variants.csv", "by id as well as by name");

    // Down again: to the file's name, to a file named, to standard output.
    let download = ["study", "download", "--team", "genomics", &name, "calls/variants.csv"];
    atrium(&app, &reader, &here, &download).await.succeeded();
    assert_eq!(here.read("variants.csv"), bytes);
    atrium(&app, &reader, &here, &[&download[..], &["-O", "copy.csv"][..]].concat()).await.succeeded();
    assert_eq!(here.read("copy.csv"), bytes);
    let piped = atrium(&app, &reader, &here, &[&download[..], &["-O", "-"][..]].concat()).await;
    assert_eq!(piped.succeeded().stdout.as_bytes(), bytes);
    assert_eq!(audit_rows(&app.db, "ada", "study.download_url", "success").await, 3);
    // A file that is not there: the API's 404, and no file left behind.
    let missing = ["study", "download", "--team", "genomics", &name, "calls/missing.csv"];
    let absent = api_message(&app, "GET", &format!("/teams/genomics/studies/{id}/download?path=calls/missing.csv"), &reader, None).await;
    atrium(&app, &reader, &here, &missing).await.failed_saying(&absent);
    assert!(!here.0.join("missing.csv").exists() && !here.0.join("missing.csv.atrium-part").exists());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_teams_scratch_space_takes_lists_gives_back_and_deletes_a_file_with_the_cli(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let gus = token_for(&app, "gus", &["read", "studies"]).await;
    let here = Folder::new();
    let folder = unique("cli-scratch");
    let path = format!("{folder}/runs.csv");
    let bytes = b"run,seconds\n1,42\n";
    let local = here.file("runs.csv", bytes);

    let upload = ["scratch", "upload", "--team", "genomics", &local, "--path", &path];
    atrium(&app, &gus, &here, &upload).await.failed_saying("do not have access");
    assert!(atrium(&app, &ada, &here, &upload).await.succeeded().stdout.contains(&path));
    let files = atrium(&app, &gus, &here, &["scratch", "files", "--team", "genomics", &format!("{folder}/"), "-o", "json"]).await;
    let listed = files.succeeded().json();
    assert_eq!(
        (listed["files"][0]["path"].as_str(), listed["files"][0]["uploader"].as_str()),
        (Some(path.as_str()), Some("ada")),
        "{listed}"
    );
    let table = atrium(&app, &gus, &here, &["scratch", "files", "--team", "genomics", &format!("{folder}/")]).await;
    assert!(table.succeeded().stdout.contains("UPLOADER") && table.stdout.contains(" ada "), "{}", table.stdout);
    atrium(&app, &gus, &here, &["scratch", "download", "--team", "genomics", &path, "-O", "back.csv"]).await.succeeded();
    assert_eq!(here.read("back.csv"), bytes);
    atrium(&app, &gus, &here, &["scratch", "delete", "--team", "genomics", &path]).await.failed_saying("do not have access");
    atrium(&app, &ada, &here, &["scratch", "delete", "--team", "genomics", &path]).await.succeeded();
    let absent = api_message(&app, "GET", &format!("/teams/genomics/scratch/download?path={path}"), &ada, None).await;
    atrium(&app, &ada, &here, &["scratch", "download", "--team", "genomics", &path]).await.failed_saying(&absent);
    assert_eq!(audit_rows(&app.db, "ada", "scratch.file.delete", "success").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_large_file_goes_up_in_parts_with_the_cli_and_comes_down_whole(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let name = unique("cli-large");
    let id = create_team_study(&app, &ada, &name).await;
    let here = Folder::new();
    let size = app::domain::studies::MULTIPART_THRESHOLD as usize + 1024 * 1024 + 7;
    let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let local = here.file("sample.bam", &bytes);

    atrium(&app, &ada, &here, &["study", "upload", "--team", "genomics", &name, &local, "--path", "reads/sample.bam"]).await.succeeded();
    let listing = page_files(&app, id, "reads/").await;
    assert_eq!(listing["files"][0]["size"], json!(size), "{listing}");
    assert_eq!(audit_rows(&app.db, "ada", "study.upload", "success").await, 1, "completed through the API");

    let download = ["study", "download", "--team", "genomics", &name, "reads/sample.bam", "-O", "back.bam"];
    atrium(&app, &ada, &here, &download).await.succeeded();
    assert!(here.read("back.bam") == bytes, "the same bytes, put together");
}

#[sqlx::test(migrations = "../migrations")]
async fn imports_and_exports_go_through_the_airlock_with_the_cli_and_the_page_shows_them(db: PgPool) {
    let app = spawn_app(db).await;
    let ada = token_for(&app, "ada", &["read", "studies"]).await;
    let rosalind = token_for(&app, "rosalind", &["read", "studies"]).await;
    let grace = token_for(&app, "grace", &["read", "studies"]).await;
    let here = Folder::new();
    let cohort: i64 = sqlx::query_scalar("SELECT id FROM studies WHERE name = 'Patient cohort'").fetch_one(&app.db).await.expect("seeded");
    let browser = app.client_signed_in_as("ada").await;
    let on_page = |request: i64| {
        let (app, browser) = (&app, &browser);
        async move {
            let (status, view) = call(app, browser, "airlock_request", &[("team", "genomics"), ("id", &request.to_string())]).await;
            assert_eq!(status, 200, "{view}");
            view
        }
    };
    let work = || async {
        let worker = app.worker();
        while worker.run_next_job().await.expect("the worker runs") == atrium::worker::Tick::Ran {}
    };

    // A controlled study's files do not come down directly.
    let direct = api_message(&app, "GET", &format!("/teams/genomics/studies/{cohort}/download?path=cohort.csv"), &ada, None).await;
    atrium(&app, &ada, &here, &["study", "download", "--team", "genomics", "Patient cohort", "cohort.csv"]).await.failed_saying(&direct);
    let listing = atrium(&app, &ada, &here, &["study", "files", "--team", "genomics", "Patient cohort", "-o", "json"]).await;
    assert_eq!(listing.succeeded().json()["exports"]["files"][0]["path"], "results/summary.csv", "{}", listing.stdout);

    let ask =
        |reason: &'static str| ["export", "--team", "genomics", "Patient cohort", "results/summary.csv", "--reason", reason, "-o", "json"];
    atrium(&app, &ada, &here, &ask(" ")).await.failed_saying("reason");
    let first = atrium(&app, &ada, &here, &ask("Aggregate counts for the paper")).await;
    let first = first.succeeded().json();
    assert_eq!((&first["status"], &first["study_id"]), (&json!("scanning"), &json!(cohort)), "{first}");
    let first = first["id"].as_i64().expect("an id").to_string();
    assert_eq!(on_page(first.parse().expect("id")).await["reason"], "Aggregate counts for the paper", "the page sees the CLI's request");
    work().await;

    // The requester does not review; a rejection needs a note (a usage error: nothing sent).
    let own = api_message(&app, "POST", &format!("/teams/genomics/requests/{first}/approve"), &ada, Some(json!({}))).await;
    atrium(&app, &ada, &here, &["review", "approve", "--team", "genomics", &first]).await.failed_saying(&own);
    let no_note = atrium(&app, &rosalind, &here, &["review", "reject", "--team", "genomics", &first]).await;
    assert_eq!(no_note.code, 2, "{}", no_note.stderr);
    let before = atrium(&app, &ada, &here, &["requests", "download", "--team", "genomics", &first, "results/summary.csv"]).await;
    assert_eq!(before.code, 1, "nothing leaves before approval: {}", before.stderr);

    let once = atrium(&app, &rosalind, &here, &["review", "approve", "--team", "genomics", &first, "--note", "aggregates only"]).await;
    assert!(once.succeeded().stdout.contains("in review (needs 2 approvals, 1 so far)"), "{}", once.stdout);
    let twice = api_message(&app, "POST", &format!("/teams/genomics/requests/{first}/approve"), &rosalind, Some(json!({}))).await;
    atrium(&app, &rosalind, &here, &["review", "approve", "--team", "genomics", &first]).await.failed_saying(&twice);
    let approved = atrium(&app, &grace, &here, &["review", "approve", "--team", "genomics", &first]).await;
    assert!(approved.succeeded().stdout.contains(": approved (needs 2 approvals, 2 so far)"), "{}", approved.stdout);
    work().await;
    let done = atrium(&app, &ada, &here, &["requests", "show", "--team", "genomics", &first]).await;
    assert!(done.succeeded().stdout.contains(": completed"), "{}", done.stdout);
    let out = atrium(&app, &ada, &here, &["requests", "download", "--team", "genomics", &first, "results/summary.csv", "-O", "-"]).await;
    assert!(out.succeeded().stdout.starts_with("sample,population"), "{}", out.stdout);

    // An import: uploaded into its inbox, submitted, scanned, rejected with a reason.
    here.file("sequencer.csv", b"sample,depth\nNA12878,31\n");
    let import = atrium(
        &app,
        &ada,
        &here,
        &["import", "--team", "genomics", "Reference genomes", "sequencer.csv", "--reason", "From the sequencer", "-o", "json"],
    )
    .await;
    let import = import.succeeded().json();
    assert_eq!(
        (&import["direction"], &import["status"], &import["files"][0]["path"]),
        (&json!("import"), &json!("scanning"), &json!("sequencer.csv"))
    );
    let import = import["id"].as_i64().expect("an id").to_string();
    work().await;
    let shown = atrium(&app, &rosalind, &here, &["requests", "show", "--team", "genomics", &import]).await;
    assert!(shown.succeeded().stdout.contains("sequencer.csv") && shown.stdout.contains("no threats found"), "{}", shown.stdout);
    let listed = atrium(&app, &rosalind, &here, &["requests", "list", "--team", "genomics", "-o", "json"]).await;
    assert!(listed.succeeded().json().as_array().is_some_and(|r| r.len() == 2), "{}", listed.stdout);
    atrium(&app, &rosalind, &here, &["review", "reject", "--team", "genomics", &import, "--note", "wrong study"]).await.succeeded();
    let view = on_page(import.parse().expect("id")).await;
    assert_eq!((&view["status"], &view["status_note"]), (&json!("rejected"), &json!("wrong study")));
    assert_eq!(audit_rows(&app.db, "rosalind", "airlock.approve", "success").await, 1);
    assert_eq!(audit_rows(&app.db, "rosalind", "airlock.reject", "success").await, 1);
}

/// Launches with the CLI as `token` (no --wait: the test drives the worker) and works the
/// workspace until it is available: its id.
async fn launch_available(app: &TestApp, token: &str, here: &Folder, args: &[&str]) -> String {
    let launched = atrium(app, token, here, &[&["launch", "--team", "genomics", "-o", "json"][..], args].concat()).await;
    let id = launched.succeeded().json()["id"].as_str().expect("an id").to_owned();
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    id
}

/// The workspace as its page reads it, for `username`.
async fn page_view(app: &TestApp, username: &str, id: &str) -> Value {
    let browser = app.client_signed_in_as(username).await;
    let (status, view) = call(app, &browser, "workspace", &[("id", id)]).await;
    assert_eq!(status, 200, "{view}");
    view
}

#[sqlx::test(migrations = "../migrations")]
async fn a_workspace_is_shared_kept_running_resized_and_upgraded_with_the_cli(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    app.sized_workstation_configuration().await;
    let ada = token_for(&app, "ada", &["read", "workspaces"]).await;
    let reader = token_for(&app, "ada", &["read"]).await;
    // gus has signed in (so Atrium knows him as a member of genomics).
    let gus = token_for(&app, "gus", &["read", "workspaces"]).await;
    let here = Folder::new();
    let id = launch_available(&app, &ada, &here, &["--config", "Sized workstation", "ada-cli-box"]).await;
    let sharing = || {
        let (app, id) = (&app, &id);
        async move {
            let browser = app.client_signed_in_as("ada").await;
            let (_, shares) = call(app, &browser, "workspace_sharing", &[("id", id)]).await;
            (shares["people"].clone(), shares["whole_team"].clone())
        }
    };

    // Shared with exactly those named, as the page shows; by name, never with a stranger.
    let scope =
        api_message(&app, "PUT", &format!("/workspaces/{id}/sharing"), &reader, Some(json!({"people": [], "whole_team": false}))).await;
    atrium(&app, &reader, &here, &["share", "ada-cli-box", "--with", "gus"]).await.failed_saying(&scope);
    atrium(&app, &ada, &here, &["share", "ada-cli-box", "--with", "alan"]).await.failed_saying("people");
    let shared = atrium(&app, &ada, &here, &["share", "ada-cli-box", "--with", "gus"]).await;
    assert!(shared.succeeded().stdout.contains("shared with gus"), "{}", shared.stdout);
    assert_eq!(sharing().await, (json!(["gus"]), json!(false)));
    atrium(&app, &ada, &here, &["share", "ada-cli-box", "--whole-team"]).await.succeeded();
    assert_eq!(sharing().await, (json!([]), json!(true)), "exactly what was given, replacing the shares before");
    assert_eq!(atrium(&app, &ada, &here, &["share", "ada-cli-box", "--no-one", "--with", "gus"]).await.code, 2);
    atrium(&app, &ada, &here, &["share", "ada-cli-box", "--no-one"]).await.succeeded();
    assert_eq!(sharing().await, (json!([]), json!(false)));
    let shown = atrium(&app, &reader, &here, &["share", "ada-cli-box"]).await;
    assert!(shown.succeeded().stdout.contains("shared with no one"), "without options it only shows: {}", shown.stdout);

    // Kept running for the hours the page offers.
    let hours = api_message(&app, "POST", &format!("/workspaces/{id}/keep-running"), &ada, Some(json!({"hours": 3}))).await;
    atrium(&app, &ada, &here, &["keep-running", "ada-cli-box", "--hours", "3"]).await.failed_saying(&hours);
    assert_eq!(page_view(&app, "ada", &id).await["kept_running"], false);
    atrium(&app, &ada, &here, &["keep-running", "ada-cli-box", "--hours", "4"]).await.succeeded();
    assert_eq!(page_view(&app, "ada", &id).await["kept_running"], true);
    assert_eq!(atrium(&app, &gus, &here, &["keep-running", "ada-cli-box", "--hours", "4"]).await.code, 1, "not gus's");

    // Resized to a size its configuration lists.
    atrium(&app, &ada, &here, &["resize", "ada-cli-box", "p4d.24xlarge"]).await.failed_saying("size");
    atrium(&app, &reader, &here, &["resize", "ada-cli-box", "t3.large"]).await.failed_saying("workspaces scope");
    let resized = atrium(&app, &ada, &here, &["resize", "ada-cli-box", "t3.large"]).await;
    assert!(resized.succeeded().stdout.contains("updating"), "{}", resized.stdout);
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    assert_eq!(page_view(&app, "ada", &id).await["size"], "t3.large");
    assert_eq!(audit_rows(&app.db, "ada", "workspace.resize", "success").await, 1);

    // Upgraded in place once a newer version is approved.
    atrium(&app, &ada, &here, &["upgrade", "ada-cli-box"]).await.failed_saying("offered no upgrade");
    let v2 = app.approved_version("Linux workstation (EC2)", "v2").await;
    let upgraded = atrium(&app, &ada, &here, &["upgrade", "ada-cli-box", "--to", &v2.to_string()]).await;
    assert!(upgraded.succeeded().stdout.contains("updating"), "{}", upgraded.stdout);
    assert_eq!(app.work_until_settled(&app.worker(), &id).await, "available");
    assert_eq!(page_view(&app, "ada", &id).await["type_label"], "Linux workstation (EC2) v2");
    atrium(&app, &ada, &here, &["upgrade", "ada-cli-box", "--to", &v2.to_string()]).await.failed_saying("version");
    assert_eq!(audit_rows(&app.db, "ada", "workspace.upgrade", "success").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_workspace_launched_with_the_cli_mounts_the_studies_named(db: PgPool) {
    let app = spawn_app_with(db, |settings| settings.workspaces.quota = 10).await;
    let configuration = app.configuration_for_genomics("Linux workstation (EC2)", "v1", "Workstation").await.to_string();
    let ada = token_for(&app, "ada", &["read", "workspaces"]).await;
    let here = Folder::new();
    let launch = |name: &'static str, studies: &'static [&'static str]| {
        let mut args = vec!["--config".to_owned(), configuration.clone(), name.to_owned()];
        args.extend(studies.iter().flat_map(|s| ["--study".to_owned(), (*s).to_owned()]));
        args
    };

    let controlled_rw = launch("ada-cli-controlled", &["Patient cohort:rw"]);
    let controlled_rw: Vec<&str> = controlled_rw.iter().map(String::as_str).collect();
    let refused = atrium(&app, &ada, &here, &[&["launch", "--team", "genomics"][..], &controlled_rw[..]].concat()).await;
    refused.failed_saying("studies");
    let bad =
        atrium(&app, &ada, &here, &["launch", "--team", "genomics", "--config", &configuration, "x", "--study", "Patient cohort:rx"]).await;
    assert_eq!(bad.code, 2, "not ro or rw: {}", bad.stderr);

    let mounted = launch("ada-cli-mounted", &["Reference genomes:rw", "Patient cohort:ro"]);
    let mounted: Vec<&str> = mounted.iter().map(String::as_str).collect();
    let id = launch_available(&app, &ada, &here, &mounted).await;
    let view = page_view(&app, "ada", &id).await;
    let listed: Vec<(&str, &str)> = view["studies"]
        .as_array()
        .expect("studies")
        .iter()
        .map(|s| (s["name"].as_str().unwrap_or(""), s["access"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(listed, [("Patient cohort", "ro"), ("Reference genomes", "rw")], "{view}");
}
