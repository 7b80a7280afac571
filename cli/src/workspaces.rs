//! What the workspace's page does beyond stop, start and terminate: share it, upgrade it, change
//! its size, keep it running. A workspace is named as the other commands name it (its name or id).

use crate::client::Api;
use crate::{Output, encode, find_workspace, follow, print_one};
use anyhow::Context;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Duration;

/// Who it is shared with, for `share`: the named people, and whether the whole team.
pub enum Shares {
    /// Show the shares, change nothing.
    Show,
    Set {
        people: Vec<String>,
        whole_team: bool,
    },
}

pub async fn share(api: &Api, wanted: &str, shares: Shares, output: Output) -> anyhow::Result<ExitCode> {
    let id = find_workspace(api, wanted).await?;
    let path = format!("/workspaces/{}/sharing", encode(&id));
    if let Shares::Set { people, whole_team } = shares {
        let _: Value = api.put(&path, json!({"people": people, "whole_team": whole_team})).await?;
    }
    let sharing: Value = api.get(&path).await?;
    let mut with: Vec<String> = sharing["people"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    if sharing["whole_team"] == true {
        with.push("the whole team".to_owned());
    }
    let line = match (with.is_empty(), sharing["shared_by"].as_str()) {
        (_, Some(owner)) => format!("{wanted} is {owner}'s, shared with you"),
        (true, None) => format!("{wanted} is shared with no one"),
        (false, None) => format!("{wanted} is shared with {}", with.join(", ")),
    };
    print_one(output, &sharing, &line);
    Ok(ExitCode::SUCCESS)
}

/// Upgrade or resize: the request, then (with `wait`) follows it until it is available again.
async fn update(api: &Api, wanted: &str, action: &str, body: Value, wait: bool, output: Output) -> anyhow::Result<ExitCode> {
    let id = find_workspace(api, wanted).await?;
    let workspace: Value = api.post(&format!("/workspaces/{}/{action}", encode(&id)), Some(body), None).await?;
    if wait {
        return follow(api, &id, "available", Duration::from_secs(30 * 60), output).await;
    }
    print_one(output, &workspace, &format!("{wanted}: {}", workspace["state"].as_str().unwrap_or("?")));
    Ok(ExitCode::SUCCESS)
}

pub async fn upgrade(api: &Api, wanted: &str, type_id: i64, wait: bool, output: Output) -> anyhow::Result<ExitCode> {
    update(api, wanted, "upgrade", json!({"to_type_id": type_id}), wait, output).await
}

pub async fn resize(api: &Api, wanted: &str, size: &str, wait: bool, output: Output) -> anyhow::Result<ExitCode> {
    update(api, wanted, "resize", json!({"size": size}), wait, output).await
}

pub async fn keep_running(api: &Api, wanted: &str, hours: u32, output: Output) -> anyhow::Result<ExitCode> {
    let id = find_workspace(api, wanted).await?;
    let _: Value = api.post(&format!("/workspaces/{}/keep-running", encode(&id)), Some(json!({"hours": hours})), None).await?;
    let workspace: Value = api.get(&format!("/workspaces/{}", encode(&id))).await?;
    let until = workspace["stops_at"].as_str().map(|at| format!("; if idle then, it stops at {at}")).unwrap_or_default();
    print_one(output, &workspace, &format!("{wanted} keeps running for {hours} hour(s){until}"));
    Ok(ExitCode::SUCCESS)
}

/// The upgrade a workspace is offered, for `upgrade NAME` without `--to`.
pub async fn offered_upgrade(api: &Api, wanted: &str) -> anyhow::Result<i64> {
    let id = find_workspace(api, wanted).await?;
    let workspace: Value = api.get(&format!("/workspaces/{}", encode(&id))).await?;
    workspace["upgrade"]["type_id"]
        .as_i64()
        .with_context(|| format!("{wanted} is offered no upgrade: it runs its product's newest approved version"))
}
