//! `atrium`: Atrium's REST API from a terminal or a script. It talks only to `/api/v1`, with a
//! personal access token from the portal's `/settings/tokens`. Tables for people,
//! `--output json` for scripts. Exit codes: 0 done, 1 failed (an error, or a workspace that
//! failed while `--wait`ed for), 2 bad usage (clap's).

mod airlock;
mod client;
mod config;
#[cfg(test)]
mod reference;
mod studies;
mod transfer;
mod workspaces;

use anyhow::{Context, anyhow, bail};
use clap::{Parser, Subcommand, ValueEnum};
use client::Api;
use comfy_table::{Table, presets};
use serde_json::{Value, json};
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "atrium", version, about = "Atrium from the command line: teams, workspaces, studies and costs through the portal's API.")]
struct Cli {
    /// `table` for people, `json` for scripts.
    #[arg(long, short, global = true, value_enum, default_value_t = Output::Table)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Saves the portal's address and a token (from --token, or read from standard input).
    Login {
        /// The portal, e.g. https://atrium.example.edu
        #[arg(long)]
        url: String,
        /// A personal access token from the portal's /settings/tokens.
        #[arg(long)]
        token: Option<String>,
    },
    /// Your teams.
    Teams,
    /// Your live workspaces.
    Workspaces {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: Option<String>,
    },
    /// Launches a workspace from a configuration (its id or name) or a team profile.
    Launch {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// A configuration of the team's catalog: its id or its name.
        #[arg(long = "config", conflicts_with = "profile", required_unless_present = "profile")]
        configuration: Option<String>,
        /// One of the team's profiles, by name.
        #[arg(long)]
        profile: Option<String>,
        /// The new workspace's name.
        name: String,
        /// Follow it until it is available (exit 0) or failed (exit 1).
        #[arg(long)]
        wait: bool,
        /// How long --wait waits, in minutes.
        #[arg(long, default_value_t = 30)]
        timeout_minutes: u64,
        /// A study of the team to mount, read-only or read-write: `"Reference genomes:rw"`
        /// (its name or id). Repeat for several.
        #[arg(long = "study", value_name = "STUDY:ro|rw", value_parser = studies::parse_mount)]
        studies: Vec<studies::Mount>,
    },
    /// Stops a workspace (by name or id).
    Stop {
        /// The workspace, by name or id.
        workspace: String,
        /// Wait until it is stopped.
        #[arg(long)]
        wait: bool,
    },
    /// Starts a stopped workspace.
    Start {
        /// The workspace, by name or id.
        workspace: String,
        /// Wait until it is available.
        #[arg(long)]
        wait: bool,
    },
    /// Terminates a workspace for good.
    Terminate {
        /// The workspace, by name or id.
        workspace: String,
        /// Wait until it is terminated.
        #[arg(long)]
        wait: bool,
    },
    /// Prints where to connect to a workspace (a URL minted for you), or opens it.
    Connect {
        /// The workspace, by name or id.
        workspace: String,
        /// Open it in the browser (xdg-open / open).
        #[arg(long)]
        open: bool,
    },
    /// SSH (or RDP) to an EC2 workstation through Session Manager, without an open port: the
    /// portal starts the session in your name and the Session Manager plugin opens it.
    Ssh {
        /// The workspace, by name or id.
        workspace: String,
        /// Forward RDP (3389) instead of SSH (22).
        #[arg(long)]
        rdp: bool,
        /// Print the commands instead of running the plugin.
        #[arg(long)]
        print: bool,
    },
    /// Shares a workspace for connecting with members of its team: exactly those given, replacing
    /// the shares before. Without options, shows whom it is shared with.
    Share {
        /// The workspace, by name or id.
        workspace: String,
        /// A member of its team, by username. Repeat for several.
        #[arg(long = "with", value_name = "USER")]
        people: Vec<String>,
        /// With everyone on its team (as well as those named).
        #[arg(long)]
        whole_team: bool,
        /// With no one: ends every share.
        #[arg(long, conflicts_with_all = ["people", "whole_team"])]
        no_one: bool,
    },
    /// Moves a running workspace to a newer approved version of its product, in place.
    Upgrade {
        /// The workspace, by name or id.
        workspace: String,
        /// The version's type id; the one the workspace is offered (`upgrade.type_id`) by default.
        #[arg(long = "to", value_name = "TYPE_ID")]
        to: Option<i64>,
        /// Wait until it is available again.
        #[arg(long)]
        wait: bool,
    },
    /// Changes a running workspace's size to another its configuration lists (`sizes`).
    Resize {
        /// The workspace, by name or id.
        workspace: String,
        /// The new size, one of those its configuration lists.
        size: String,
        /// Wait until it is available again.
        #[arg(long)]
        wait: bool,
    },
    /// Keeps a running workspace from being stopped for being idle, for a while.
    KeepRunning {
        /// The workspace, by name or id.
        workspace: String,
        /// How long: one of the choices the page offers (1, 4 or 8).
        #[arg(long)]
        hours: u32,
    },
    /// The studies seen from a team.
    Studies {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
    },
    /// A study's files: list, upload, download.
    Study {
        #[command(subcommand)]
        command: studies::StudyCommand,
    },
    /// The team's scratch space: its files, upload, download and delete.
    Scratch {
        #[command(subcommand)]
        command: studies::ScratchCommand,
    },
    /// Brings files into a study through the airlock: they go up into a request's inbox, are
    /// scanned for malware, and are copied into the study once the team's admins approve.
    Import {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The study's name (or id): one you may write.
        study: String,
        /// The files on this machine (each keeps its name).
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// What the data is and why it should come in, for those who review it.
        #[arg(long)]
        reason: String,
        /// Upload only; submit later on the request's page.
        #[arg(long)]
        draft: bool,
    },
    /// Asks to export files out of a controlled study's egress folder: scanned, then reviewed.
    Export {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The controlled study's name (or id).
        study: String,
        /// Paths in the study's egress folder (`atrium study files` lists them under "exports").
        #[arg(required = true)]
        files: Vec<String>,
        /// Why they should leave, for those who review it.
        #[arg(long)]
        reason: String,
    },
    /// Imports and exports: list, show, download a file, cancel, retry a copy.
    Requests {
        #[command(subcommand)]
        command: airlock::RequestsCommand,
    },
    /// Decides an import or export (the team's admins; never your own): approve, reject.
    Review {
        #[command(subcommand)]
        command: airlock::ReviewCommand,
    },
    /// The catalog as one YAML file (admins; a token with the admin scope).
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Spend per team over the last days (cost viewers and admins).
    Costs {
        /// How many days back the spend is summed.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Writes the approved types and their configurations as YAML to standard output.
    Export,
    /// Makes the catalog what a file says: types and configurations added, changed, retired.
    Apply {
        /// The catalog file (YAML), as `atrium catalog export` writes it.
        file: std::path::PathBuf,
        /// Print the changes and make none.
        #[arg(long)]
        dry_run: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let output = cli.output;
    if let Command::Login { url, token } = cli.command {
        return login(url, token, output).await;
    }
    let api = Api::new(&config::load()?)?;
    match cli.command {
        Command::Login { .. } => unreachable!("handled above"),
        Command::Teams => {
            let teams: Value = api.get("/teams").await?;
            print(output, &teams, &["slug", "name", "description"]);
        }
        Command::Workspaces { team } => {
            let path = match team {
                Some(team) => format!("/workspaces?team={}", encode(&team)),
                None => "/workspaces".to_owned(),
            };
            let workspaces: Value = api.get(&path).await?;
            print(output, &workspaces, &["name", "team", "state", "configuration_name", "age", "id"]);
        }
        Command::Launch { team, configuration, profile, name, wait, timeout_minutes, studies } => {
            let mut body = json!({"team": team, "name": name});
            if !studies.is_empty() {
                body["studies"] = studies::mounts_json(&studies);
            }
            match (configuration, profile) {
                (Some(configuration), _) => body["configuration_id"] = json!(configuration_id(&api, &team, &configuration).await?),
                (None, Some(profile)) => body["profile"] = json!(profile),
                (None, None) => bail!("Give --config or --profile"),
            }
            // A new key for this launch: a retry of this same request launches once.
            let key = uuid::Uuid::new_v4().to_string();
            let workspace: Value = api.post("/workspaces", Some(body), Some(&key)).await?;
            if !wait {
                print_one(
                    output,
                    &workspace,
                    &format!("Launching {} ({})", workspace["name"].as_str().unwrap_or(""), workspace["id"].as_str().unwrap_or("")),
                );
                return Ok(ExitCode::SUCCESS);
            }
            let id = workspace["id"].as_str().context("The API answered without the workspace's id")?.to_owned();
            return follow(&api, &id, "available", Duration::from_secs(timeout_minutes.saturating_mul(60)), output).await;
        }
        Command::Stop { workspace, wait } => return act(&api, &workspace, "stop", wait.then_some("stopped"), output).await,
        Command::Start { workspace, wait } => return act(&api, &workspace, "start", wait.then_some("available"), output).await,
        Command::Terminate { workspace, wait } => return act(&api, &workspace, "terminate", wait.then_some("terminated"), output).await,
        Command::Connect { workspace, open } => {
            let id = find_workspace(&api, &workspace).await?;
            let connection: Value = api.post(&format!("/workspaces/{}/connect", encode(&id)), None, None).await?;
            let url = connection["url"].as_str().context("The API answered without a URL")?;
            if open {
                let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
                std::process::Command::new(opener).arg(url).status().with_context(|| format!("Failed to run {opener}"))?;
            }
            match output {
                Output::Json => println!("{connection}"),
                Output::Table => println!("{url}"),
            }
        }
        Command::Ssh { workspace, rdp, print } => {
            let id = find_workspace(&api, &workspace).await?;
            let protocol = if rdp { "rdp" } else { "ssh" };
            let session: Value = api.post(&format!("/workspaces/{}/session?protocol={protocol}", encode(&id)), None, None).await?;
            let client = session["client_command"].as_str().context("The API answered without a client command")?;
            if print || output == Output::Json {
                match output {
                    Output::Json => println!("{session}"),
                    Output::Table => println!("{}\n{client}", session["plugin_command"].as_str().unwrap_or_default()),
                }
            } else {
                let arguments: Vec<String> = serde_json::from_value(session["plugin_arguments"].clone())
                    .context("The API answered without the plugin's arguments")?;
                eprintln!(
                    "Session {} is open while this runs. In another terminal: {client}",
                    session["session_id"].as_str().unwrap_or_default()
                );
                let status = std::process::Command::new("session-manager-plugin")
                    .args(&arguments)
                    .status()
                    .context("Failed to run session-manager-plugin: install AWS's Session Manager plugin, or use --print")?;
                anyhow::ensure!(status.success(), "session-manager-plugin ended with {status}");
            }
        }
        Command::Share { workspace, people, whole_team, no_one } => {
            let shares = if no_one || whole_team || !people.is_empty() {
                workspaces::Shares::Set { people, whole_team }
            } else {
                workspaces::Shares::Show
            };
            return workspaces::share(&api, &workspace, shares, output).await;
        }
        Command::Upgrade { workspace, to, wait } => {
            let to = match to {
                Some(to) => to,
                None => workspaces::offered_upgrade(&api, &workspace).await?,
            };
            return workspaces::upgrade(&api, &workspace, to, wait, output).await;
        }
        Command::Resize { workspace, size, wait } => return workspaces::resize(&api, &workspace, &size, wait, output).await,
        Command::KeepRunning { workspace, hours } => return workspaces::keep_running(&api, &workspace, hours, output).await,
        Command::Studies { team } => studies::list(&api, &team, output).await?,
        Command::Study { command } => studies::run(&api, command, output).await?,
        Command::Scratch { command } => studies::scratch(&api, command, output).await?,
        Command::Import { team, study, files, reason, draft } => {
            airlock::import(&api, (&team, &study), files, &reason, draft, output).await?
        }
        Command::Export { team, study, files, reason } => airlock::export(&api, (&team, &study), files, &reason, output).await?,
        Command::Requests { command } => airlock::requests(&api, command, output).await?,
        Command::Review { command } => airlock::review(&api, command, output).await?,
        Command::Catalog { command: CatalogCommand::Export } => print!("{}", api.get_text("/catalog/export").await?),
        Command::Catalog { command: CatalogCommand::Apply { file, dry_run } } => return apply_catalog(&api, &file, dry_run, output).await,
        Command::Costs { days } => {
            let dashboard: Value = api.get(&format!("/costs?days={days}")).await?;
            if output == Output::Json {
                println!("{dashboard}");
            } else {
                let mut table = table(&["team", "spent", "month", "forecast", "budget"]);
                for team in dashboard["teams"].as_array().into_iter().flatten() {
                    let month = &team["month"];
                    table.add_row(vec![
                        month["team_name"].as_str().unwrap_or("").to_owned(),
                        dollars(&team["total_cents"]),
                        dollars(&month["spent_cents"]),
                        dollars(&month["forecast_cents"]),
                        if month["budget_cents"].is_null() { "none".to_owned() } else { dollars(&month["budget_cents"]) },
                    ]);
                }
                println!("{table}");
                println!("Total over {days} days: {}", dollars(&dashboard["total_cents"]));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn login(url: String, token: Option<String>, output: Output) -> anyhow::Result<ExitCode> {
    let token = match token {
        Some(token) => token,
        None => {
            if std::io::stdin().is_terminal() {
                eprint!("Paste your token (from {}/settings/tokens): ", url.trim_end_matches('/'));
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("Failed to read the token")?;
            line.trim().to_owned()
        }
    };
    let login = config::Login { url: url.trim_end_matches('/').to_owned(), token };
    let me: Value = Api::new(&login)?.get("/me").await.context("The portal did not accept this token")?;
    let path = config::save(&login)?;
    match output {
        Output::Json => println!("{me}"),
        Output::Table => println!("Logged in to {} as {}; saved in {}", login.url, me["username"].as_str().unwrap_or("?"), path.display()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Applies a catalog file and prints its changes; each problem of the file as `file:line: …`.
async fn apply_catalog(api: &Api, file: &std::path::Path, dry_run: bool, output: Output) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("Failed to read {}", file.display()))?;
    let path = if dry_run { "/catalog/apply?dry_run=true" } else { "/catalog/apply" };
    let changes: Value = match api.post_yaml(path, text).await {
        Ok(changes) => changes,
        Err(error) => {
            let Some(failure) = error.downcast_ref::<client::ApiFailure>().filter(|f| !f.fields.is_empty()) else { return Err(error) };
            for (field, message) in &failure.fields {
                // The API names the line as "line N: …".
                match message.strip_prefix("line ").and_then(|rest| rest.split_once(": ")) {
                    Some((line, rest)) => eprintln!("{}:{line}: {field}: {rest}", file.display()),
                    None => eprintln!("{}: {field}: {message}", file.display()),
                }
            }
            eprintln!("Nothing was changed.");
            return Ok(ExitCode::FAILURE);
        }
    };
    if output == Output::Json {
        println!("{changes}");
        return Ok(ExitCode::SUCCESS);
    }
    let list = changes["changes"].as_array().cloned().unwrap_or_default();
    for change in &list {
        let sign = match change["action"].as_str() {
            Some("add") => "+",
            Some("retire") => "-",
            _ => "~",
        };
        println!(
            "{sign} {} {} {}",
            change["action"].as_str().unwrap_or(""),
            change["kind"].as_str().unwrap_or(""),
            change["name"].as_str().unwrap_or("")
        );
        for field in change["fields"].as_array().into_iter().flatten() {
            println!(
                "    {}: {} → {}",
                field["field"].as_str().unwrap_or(""),
                field["from"].as_str().unwrap_or(""),
                field["to"].as_str().unwrap_or("")
            );
        }
    }
    match (list.len(), dry_run) {
        (0, _) => println!("No changes: the catalog is as {} says.", file.display()),
        (n, true) => println!("{n} change(s); a dry run, so nothing was changed."),
        (n, false) => println!("{n} change(s) applied."),
    }
    Ok(ExitCode::SUCCESS)
}

/// A configuration's id from its id or its name in the team's catalog.
async fn configuration_id(api: &Api, team: &str, wanted: &str) -> anyhow::Result<i64> {
    if let Ok(id) = wanted.parse::<i64>() {
        return Ok(id);
    }
    let catalog: Value = api.get(&format!("/teams/{}/catalog", encode(team))).await?;
    let configurations = catalog.as_array().cloned().unwrap_or_default();
    configurations.iter().find(|c| c["draft"]["name"].as_str() == Some(wanted)).and_then(|c| c["id"].as_i64()).ok_or_else(|| {
        let names: Vec<&str> = configurations.iter().filter_map(|c| c["draft"]["name"].as_str()).collect();
        anyhow!("{team} offers no configuration \"{wanted}\"; it offers: {}", names.join(", "))
    })
}

/// A live workspace of the caller's, by id or by name.
async fn find_workspace(api: &Api, wanted: &str) -> anyhow::Result<String> {
    let workspaces: Value = api.get("/workspaces").await?;
    let matches: Vec<&Value> = workspaces.as_array().into_iter().flatten().filter(|w| w["id"] == wanted || w["name"] == wanted).collect();
    match matches.as_slice() {
        [one] => Ok(one["id"].as_str().unwrap_or_default().to_owned()),
        [] => bail!("You have no live workspace named {wanted}; see `atrium workspaces`"),
        several => {
            let teams: Vec<&str> = several.iter().filter_map(|w| w["team"].as_str()).collect();
            bail!("{wanted} names a workspace on several teams ({}); use its id", teams.join(", "))
        }
    }
}

/// Stop, start or terminate; with `until`, follows it until it is in that state.
async fn act(api: &Api, wanted: &str, action: &str, until: Option<&str>, output: Output) -> anyhow::Result<ExitCode> {
    let id = find_workspace(api, wanted).await?;
    let workspace: Value = api.post(&format!("/workspaces/{}/{action}", encode(&id)), None, None).await?;
    match until {
        Some(state) => follow(api, &id, state, Duration::from_secs(30 * 60), output).await,
        None => {
            print_one(output, &workspace, &format!("{wanted}: {}", workspace["state"].as_str().unwrap_or("?")));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Follows a workspace with a spinner until it is in state `until` (exit 0), or failed or
/// terminated instead (exit 1).
async fn follow(api: &Api, id: &str, until: &str, timeout: Duration, output: Output) -> anyhow::Result<ExitCode> {
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(Duration::from_millis(120));
    let started = std::time::Instant::now();
    loop {
        let workspace: Value = api.get(&format!("/workspaces/{}", encode(id))).await?;
        let state = workspace["state"].as_str().unwrap_or("?").to_owned();
        let last = workspace["events"].as_array().and_then(|e| e.last()).and_then(|e| e["message"].as_str()).unwrap_or("");
        spinner.set_message(format!(
            "{} is {state}{}{last}",
            workspace["name"].as_str().unwrap_or(id),
            if last.is_empty() { "" } else { ": " }
        ));
        let done = match state.as_str() {
            reached if reached == until => Some(ExitCode::SUCCESS),
            "failed" | "terminated" => Some(ExitCode::FAILURE),
            _ => None,
        };
        if let Some(code) = done {
            spinner.finish_and_clear();
            let failure = workspace["failure_message"].as_str().map(|m| format!(": {m}")).unwrap_or_default();
            print_one(output, &workspace, &format!("{} is {state}{failure}", workspace["name"].as_str().unwrap_or(id)));
            return Ok(code);
        }
        if started.elapsed() > timeout {
            spinner.finish_and_clear();
            bail!("{id} is still {state} after {} minutes", timeout.as_secs() / 60);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn encode(segment: &str) -> String {
    segment
        .chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                vec![c.to_string()]
            } else {
                c.to_string().bytes().map(|b| format!("%{b:02X}")).collect()
            }
        })
        .collect()
}

fn dollars(cents: &Value) -> String {
    let cents = cents.as_i64().unwrap_or(0);
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", (cents / 100).abs(), (cents % 100).abs())
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING).set_header(header.iter().map(|h| h.to_uppercase()));
    table
}

/// A list as a table of `columns`, or as JSON.
fn print(output: Output, rows: &Value, columns: &[&str]) {
    if output == Output::Json {
        println!("{rows}");
        return;
    }
    let mut table = table(columns);
    for row in rows.as_array().into_iter().flatten() {
        table.add_row(columns.iter().map(|c| match &row[*c] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }));
    }
    println!("{table}");
}

fn print_one(output: Output, value: &Value, line: &str) {
    match output {
        Output::Json => println!("{value}"),
        Output::Table => println!("{line}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn path_segments_are_encoded_and_cents_read_as_dollars() {
        assert_eq!(encode("genomics"), "genomics");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
        assert_eq!(dollars(&json!(1234)), "$12.34");
        assert_eq!(dollars(&json!(5)), "$0.05");
    }

    #[test]
    fn launch_needs_a_configuration_or_a_profile_not_both() {
        assert!(Cli::try_parse_from(["atrium", "launch", "--team", "genomics", "x"]).is_err());
        assert!(Cli::try_parse_from(["atrium", "launch", "--team", "g", "--config", "1", "--profile", "p", "x"]).is_err());
        assert!(Cli::try_parse_from(["atrium", "launch", "--team", "g", "--config", "Standard", "--wait", "x"]).is_ok());
    }

    #[test]
    fn studies_to_mount_are_named_with_their_access() {
        let parsed = Cli::try_parse_from([
            "atrium",
            "launch",
            "--team",
            "g",
            "--config",
            "1",
            "x",
            "--study",
            "Reference genomes:rw",
            "--study",
            "Patient cohort:ro",
        ]);
        let Ok(Cli { command: Command::Launch { studies, .. }, .. }) = parsed else { panic!("parses") };
        assert_eq!(
            studies.iter().map(|m| (m.study.as_str(), m.access.as_str())).collect::<Vec<_>>(),
            [("Reference genomes", "rw"), ("Patient cohort", "ro")]
        );
        assert!(Cli::try_parse_from(["atrium", "launch", "--team", "g", "--config", "1", "x", "--study", "Reference genomes"]).is_err());
        assert!(Cli::try_parse_from(["atrium", "launch", "--team", "g", "--config", "1", "x", "--study", "Reference genomes:w"]).is_err());
    }

    #[test]
    fn sharing_with_no_one_excludes_naming_anyone_and_a_rejection_needs_a_note() {
        assert!(Cli::try_parse_from(["atrium", "share", "box", "--with", "gus", "--with", "ada", "--whole-team"]).is_ok());
        assert!(Cli::try_parse_from(["atrium", "share", "box", "--no-one"]).is_ok());
        assert!(Cli::try_parse_from(["atrium", "share", "box", "--no-one", "--with", "gus"]).is_err());
        assert!(Cli::try_parse_from(["atrium", "share", "box", "--no-one", "--whole-team"]).is_err());
        assert!(Cli::try_parse_from(["atrium", "review", "reject", "--team", "g", "7"]).is_err());
        assert!(Cli::try_parse_from(["atrium", "review", "reject", "--team", "g", "7", "--note", "raw data"]).is_ok());
        assert!(Cli::try_parse_from(["atrium", "review", "approve", "--team", "g", "7"]).is_ok());
        assert!(Cli::try_parse_from(["atrium", "review", "approve", "--team", "g", "seven"]).is_err());
        assert!(Cli::try_parse_from(["atrium", "export", "--team", "g", "cohort", "--reason", "r"]).is_err(), "no files");
        assert!(Cli::try_parse_from(["atrium", "import", "--team", "g", "genomes", "a.csv"]).is_err(), "no reason");
        assert!(Cli::try_parse_from(["atrium", "keep-running", "box", "--hours", "-4"]).is_err());
    }

    #[test]
    fn every_command_parses_as_clap_checks_it() {
        // clap's own consistency checks (unique short options with the global -o among them).
        Cli::command().debug_assert();
        let download = Cli::try_parse_from(["atrium", "-o", "json", "study", "download", "--team", "g", "s", "a/b.csv", "-O", "-"]);
        assert!(download.is_ok());
    }
}
