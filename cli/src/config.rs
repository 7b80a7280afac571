//! Where `atrium login` keeps the portal's address and the token: `<config dir>/atrium/config.json`
//! (`ATRIUM_CONFIG` to put it elsewhere), readable by its owner only. `ATRIUM_URL` and
//! `ATRIUM_TOKEN` override it, for scripts that keep the token in a secret store.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Serialize, Deserialize, Clone)]
pub struct Login {
    pub url: String,
    pub token: String,
}

pub fn path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("ATRIUM_CONFIG") {
        return Ok(PathBuf::from(path));
    }
    let dir = dirs::config_dir().context("This system has no configuration directory; set ATRIUM_CONFIG to a file path")?;
    Ok(dir.join("atrium").join("config.json"))
}

pub fn save(login: &Login) -> anyhow::Result<PathBuf> {
    let path = path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("Failed to create {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(login)?;
    write_private(&path, json.as_bytes()).with_context(|| format!("Failed to write {}", path.display()))?;
    Ok(path)
}

/// Written with mode 0600 from the start, so that the token is never readable by others.
#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    // An older file keeps its mode when opened: set it again.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// The login to use: the environment's, else the saved one.
pub fn load() -> anyhow::Result<Login> {
    let saved = || -> anyhow::Result<Login> {
        let path = path()?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("Not logged in ({} is missing): run `atrium login --url <portal>`", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a login file; run `atrium login` again", path.display()))
    };
    match (std::env::var("ATRIUM_URL"), std::env::var("ATRIUM_TOKEN")) {
        (Ok(url), Ok(token)) => Ok(Login { url, token }),
        (url, token) => {
            let mut login = saved()?;
            if let Ok(url) = url {
                login.url = url;
            }
            if let Ok(token) = token {
                login.token = token;
            }
            Ok(login)
        }
    }
}
