//! The airlock from the command line: `atrium import` brings files into a study (they go up
//! into a request's inbox, are scanned, and reach the study once reviewed), `atrium export`
//! asks to take files out of a controlled study, `atrium requests` follows them, and
//! `atrium review` decides them (the team's admins; never one's own).

use crate::client::Api;
use crate::studies::{save, study_id, upload};
use crate::{Output, encode, print, transfer};
use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum RequestsCommand {
    /// The team's requests you see: yours, and everyone's if you review them.
    List {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
    },
    /// One request: its files and their malware scans, its reviews and its history.
    Show {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The request's number.
        id: i64,
    },
    /// Downloads a file of a request: read-only for a reviewer, or a completed export's.
    Download {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The request's number.
        id: i64,
        /// One of the request's files.
        file: String,
        /// Where to write it (`-` for standard output); the file's name in this folder by default.
        #[arg(short = 'O', long = "output-file", value_name = "FILE")]
        output_file: Option<PathBuf>,
    },
    /// Withdraws one of your requests still on its way.
    Cancel {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The request's number.
        id: i64,
    },
    /// Tries an approved import's copy into its study again.
    Retry {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The request's number.
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum ReviewCommand {
    /// Approves a request in review; the last approval needed copies it into its study (an
    /// import) or releases it to its requester (an export).
    Approve {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The request's number.
        id: i64,
        /// A note for the requester.
        #[arg(long)]
        note: Option<String>,
    },
    /// Rejects a request in review, saying why.
    Reject {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The request's number.
        id: i64,
        /// Why, for the requester.
        #[arg(long)]
        note: String,
    },
    /// Blocks a request whose malware scan never came (admins, once it is overdue).
    FailScan {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The request's number.
        id: i64,
        /// Why, for the requester.
        #[arg(long)]
        note: Option<String>,
    },
}

fn request_path(team: &str, id: i64) -> String {
    format!("/teams/{}/requests/{id}", encode(team))
}

/// `atrium import`: starts an import into the study, uploads each file into its inbox, and
/// submits it (unless `draft`).
pub async fn import(
    api: &Api,
    (team, study): (&str, &str),
    files: Vec<PathBuf>,
    reason: &str,
    draft: bool,
    output: Output,
) -> anyhow::Result<()> {
    let study_id = study_id(api, team, study).await?;
    let started: Value =
        api.post(&format!("/teams/{}/studies/{study_id}/imports", encode(team)), Some(json!({"reason": reason})), None).await?;
    let id = started["id"].as_i64().context("The API answered without the request's number")?;
    let base = request_path(team, id);
    for file in files {
        let (_, line) = upload(api, &base, &format!("import {id}"), file, None, None, output).await?;
        // In JSON the request is the one answer.
        if output == Output::Table {
            println!("{line}");
        }
    }
    let request: Value = if draft { api.get(&base).await? } else { api.post(&format!("{base}/submit"), None, None).await? };
    show(&request, output);
    Ok(())
}

/// `atrium export`: asks to take files out of a controlled study's egress folder.
pub async fn export(api: &Api, (team, study): (&str, &str), files: Vec<String>, reason: &str, output: Output) -> anyhow::Result<()> {
    let study_id = study_id(api, team, study).await?;
    let body = json!({"files": files, "reason": reason});
    let request: Value = api.post(&format!("/teams/{}/studies/{study_id}/exports", encode(team)), Some(body), None).await?;
    show(&request, output);
    Ok(())
}

pub async fn requests(api: &Api, command: RequestsCommand, output: Output) -> anyhow::Result<()> {
    let request: Value = match command {
        RequestsCommand::List { team } => {
            let list: Value = api.get(&format!("/teams/{}/requests", encode(&team))).await?;
            print(output, &list["requests"], &["id", "direction", "study_name", "requester", "status", "awaits_you", "created_at"]);
            return Ok(());
        }
        RequestsCommand::Show { team, id } => api.get(&request_path(&team, id)).await?,
        RequestsCommand::Download { team, id, file, output_file } => {
            let answer: Value = api.get(&format!("{}/file?file={}", request_path(&team, id), encode(&file))).await?;
            let url = answer["url"].as_str().context("The API answered without a URL")?;
            return save(url, transfer::Target::from(output_file, &file)?, output).await;
        }
        RequestsCommand::Cancel { team, id } => api.post(&format!("{}/cancel", request_path(&team, id)), None, None).await?,
        RequestsCommand::Retry { team, id } => api.post(&format!("{}/retry", request_path(&team, id)), None, None).await?,
    };
    show(&request, output);
    Ok(())
}

pub async fn review(api: &Api, command: ReviewCommand, output: Output) -> anyhow::Result<()> {
    let (team, id, step, note) = match command {
        ReviewCommand::Approve { team, id, note } => (team, id, "approve", note.unwrap_or_default()),
        ReviewCommand::Reject { team, id, note } => (team, id, "reject", note),
        ReviewCommand::FailScan { team, id, note } => (team, id, "fail-scan", note.unwrap_or_default()),
    };
    let request: Value = api.post(&format!("{}/{step}", request_path(&team, id)), Some(json!({"note": note})), None).await?;
    show(&request, output);
    Ok(())
}

/// A request as JSON, or in lines: what it is, where it is, its files and its reviews.
fn show(request: &Value, output: Output) {
    match output {
        Output::Json => println!("{request}"),
        Output::Table => {
            let text = |key: &str| request[key].as_str().unwrap_or("?").to_owned();
            let direction = if text("direction") == "import" { ("Import", "into") } else { ("Export", "from") };
            let approvals = request["reviews"].as_array().into_iter().flatten().filter(|r| r["approve"] == json!(true)).count();
            println!(
                "{} request {} by {} {} \"{}\": {} (needs {} approvals, {approvals} so far)",
                direction.0,
                request["id"],
                text("requester"),
                direction.1,
                text("study_name"),
                text("status").replace('_', " "),
                request["reviewers_needed"],
            );
            if let Some(note) = request["status_note"].as_str() {
                println!("  {note}");
            }
            for file in request["files"].as_array().into_iter().flatten() {
                let scan = file["scan"].as_str().map(|s| s.to_lowercase().replace('_', " ")).unwrap_or_else(|| "not scanned yet".into());
                println!("  {}  {} bytes  {scan}", file["path"].as_str().unwrap_or("?"), file["size"]);
            }
            for review in request["reviews"].as_array().into_iter().flatten() {
                let decided = if review["approve"] == json!(true) { "approved" } else { "rejected" };
                let note = review["note"].as_str().filter(|n| !n.is_empty()).map(|n| format!(": {n}")).unwrap_or_default();
                println!("  {} {decided}{note}", review["reviewer"].as_str().unwrap_or("?"));
            }
        }
    }
}
