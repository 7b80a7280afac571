//! Studies from the command line: list them, list, upload and download their files. A study is
//! named by its name (or its id) as seen from a team. The team's scratch space has the same
//! file commands; imports and exports are in `airlock`.

use crate::client::Api;
use crate::{Output, encode, print, print_one, table, transfer};
use anyhow::{Context, anyhow, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum StudyCommand {
    /// The sub-folders and files of a folder of a study (its top by default).
    Files {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The study's name (or id).
        study: String,
        /// A folder of the study, e.g. `calls/`.
        folder: Option<String>,
    },
    /// Uploads a file to a study, straight to S3 (in parts when it is large).
    Upload {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The study's name (or id).
        study: String,
        /// The file on this machine.
        file: PathBuf,
        /// Where in the study, e.g. `calls/variants.csv`; the file's name at its top by default.
        #[arg(long)]
        path: Option<String>,
        /// Its content type; guessed from its extension by default.
        #[arg(long)]
        content_type: Option<String>,
    },
    /// Downloads a file of a study (not of a controlled one: its files leave through an export).
    Download {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The study's name (or id).
        study: String,
        /// The file's path in the study, e.g. `calls/variants.csv`.
        path: String,
        /// Where to write it (`-` for standard output); the file's name in this folder by default.
        #[arg(short = 'O', long = "output-file", value_name = "FILE")]
        output_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ScratchCommand {
    /// The sub-folders and files of a folder of the team's scratch space (its top by default).
    Files {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// A folder, e.g. `runs/`.
        folder: Option<String>,
    },
    /// Uploads a file to the team's scratch space, straight to S3 (in parts when it is large).
    Upload {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The file on this machine.
        file: PathBuf,
        /// Where in the scratch space, e.g. `runs/input.csv`; the file's name at its top by default.
        #[arg(long)]
        path: Option<String>,
        /// Its content type; guessed from its extension by default.
        #[arg(long)]
        content_type: Option<String>,
    },
    /// Downloads a file of the team's scratch space.
    Download {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The file's path in the scratch space, e.g. `runs/input.csv`.
        path: String,
        /// Where to write it (`-` for standard output); the file's name in this folder by default.
        #[arg(short = 'O', long = "output-file", value_name = "FILE")]
        output_file: Option<PathBuf>,
    },
    /// Deletes a file of the team's scratch space (one you uploaded, or any as a team admin).
    Delete {
        /// The team (its slug, as in `/teams/<slug>`).
        #[arg(long)]
        team: String,
        /// The file's path in the scratch space.
        path: String,
    },
}

/// A study to mount at launch: `NAME:ro` or `NAME:rw`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub study: String,
    pub access: String,
}

/// Parses `--study NAME:ro|rw` (the name may hold colons; the last one separates the access).
pub fn parse_mount(raw: &str) -> Result<Mount, String> {
    let (study, access) = raw.rsplit_once(':').ok_or_else(|| format!("{raw}: give NAME:ro or NAME:rw"))?;
    let study = study.trim();
    if study.is_empty() {
        return Err(format!("{raw}: give the study's name before :{access}"));
    }
    match access {
        "ro" | "rw" => Ok(Mount { study: study.to_owned(), access: access.to_owned() }),
        other => Err(format!("{raw}: the access is ro (read-only) or rw (read-write), not {other:?}")),
    }
}

/// The launch body's `studies`.
pub fn mounts_json(mounts: &[Mount]) -> Value {
    Value::Array(mounts.iter().map(|m| json!({"study": m.study, "access": m.access})).collect())
}

/// `atrium studies --team T`: the studies seen from the team.
pub async fn list(api: &Api, team: &str, output: Output) -> anyhow::Result<()> {
    let list: Value = api.get(&format!("/teams/{}/studies", encode(team))).await?;
    print(output, &list["studies"], &["name", "scope", "access", "controlled", "owner", "id"]);
    Ok(())
}

/// A study's id from its name (or its id) among those seen from the team.
pub(crate) async fn study_id(api: &Api, team: &str, wanted: &str) -> anyhow::Result<i64> {
    let list: Value = api.get(&format!("/teams/{}/studies", encode(team))).await?;
    let studies = list["studies"].as_array().cloned().unwrap_or_default();
    let by_name = studies.iter().find(|s| s["name"].as_str() == Some(wanted));
    let by_id = || wanted.parse::<i64>().ok().and_then(|id| studies.iter().find(|s| s["id"].as_i64() == Some(id)));
    by_name.or_else(by_id).and_then(|s| s["id"].as_i64()).ok_or_else(|| {
        let names: Vec<&str> = studies.iter().filter_map(|s| s["name"].as_str()).collect();
        anyhow!("{team} sees no study \"{wanted}\"; it sees: {}", names.join(", "))
    })
}

pub async fn run(api: &Api, command: StudyCommand, output: Output) -> anyhow::Result<()> {
    let study_base = |team: &str, id: i64| format!("/teams/{}/studies/{id}", encode(team));
    match command {
        StudyCommand::Files { team, study, folder } => {
            let base = study_base(&team, study_id(api, &team, &study).await?);
            files(api, &base, folder.unwrap_or_default(), output).await
        }
        StudyCommand::Upload { team, study, file, path, content_type } => {
            let base = study_base(&team, study_id(api, &team, &study).await?);
            let (done, line) = upload(api, &base, &study, file, path, content_type, output).await?;
            print_one(output, &done, &line);
            Ok(())
        }
        StudyCommand::Download { team, study, path, output_file } => {
            let base = study_base(&team, study_id(api, &team, &study).await?);
            download(api, &base, &path, output_file, output).await
        }
    }
}

pub async fn scratch(api: &Api, command: ScratchCommand, output: Output) -> anyhow::Result<()> {
    let base = |team: &str| format!("/teams/{}/scratch", encode(team));
    match command {
        ScratchCommand::Files { team, folder } => files(api, &base(&team), folder.unwrap_or_default(), output).await,
        ScratchCommand::Upload { team, file, path, content_type } => {
            let (done, line) = upload(api, &base(&team), "the scratch space", file, path, content_type, output).await?;
            print_one(output, &done, &line);
            Ok(())
        }
        ScratchCommand::Download { team, path, output_file } => download(api, &base(&team), &path, output_file, output).await,
        ScratchCommand::Delete { team, path } => {
            let _: Value = api.delete(&format!("{}/files?path={}", base(&team), encode(&path))).await?;
            print_one(output, &json!({"deleted": path}), &format!("Deleted {path} from the scratch space"));
            Ok(())
        }
    }
}

async fn download(api: &Api, base: &str, path: &str, output_file: Option<PathBuf>, output: Output) -> anyhow::Result<()> {
    let answer: Value = api.get(&format!("{base}/download?path={}", encode(path))).await?;
    let url = answer["url"].as_str().context("The API answered without a URL")?;
    save(url, transfer::Target::from(output_file, path)?, output).await
}

/// Every page of a folder under `base` (a study's or the scratch space's API path): its
/// sub-folders, then its files (and a controlled study's egress files).
async fn files(api: &Api, base: &str, folder: String, output: Output) -> anyhow::Result<()> {
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    // Every page; a controlled study's egress panel from the last.
    let exports = loop {
        let mut path = format!("{base}/files?folder={}", encode(&folder));
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={}", encode(cursor)));
        }
        let mut page: Value = api.get(&path).await?;
        folders.extend(page["folders"].as_array().cloned().unwrap_or_default());
        files.extend(page["files"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break page["exports"].take(),
        }
    };
    if output == Output::Json {
        let mut listing = json!({"folder": folder, "folders": folders, "files": files});
        if !exports.is_null() {
            listing["exports"] = exports;
        }
        println!("{listing}");
        return Ok(());
    }
    // The scratch space says who uploaded each file.
    let uploaders = files.iter().any(|file| file.get("uploader").is_some());
    let columns: &[&str] = if uploaders { &["path", "size", "last_modified", "uploader"] } else { &["path", "size", "last_modified"] };
    let mut listing = table(columns);
    for folder in folders.iter().filter_map(Value::as_str) {
        listing.add_row([folder.to_owned()].into_iter().chain(std::iter::repeat_n(String::new(), columns.len() - 1)).collect::<Vec<_>>());
    }
    for file in &files {
        let mut row = vec![
            file["path"].as_str().unwrap_or("").to_owned(),
            file["size"].to_string(),
            file["last_modified"].as_str().unwrap_or("").to_owned(),
        ];
        if uploaders {
            row.push(file["uploader"].as_str().unwrap_or("a workspace").to_owned());
        }
        listing.add_row(row);
    }
    println!("{listing}");
    if !exports.is_null() {
        println!("\nEgress folder {} (files an export may name):", exports["location"].as_str().unwrap_or(""));
        print(output, &exports["files"], &["path", "size", "last_modified"]);
    }
    Ok(())
}

/// Asks the API where to send the bytes (`base`: a study's, the scratch space's or an import's
/// API path), sends them to S3 as the page does, and completes a multipart upload: what was
/// uploaded, as JSON and in words.
pub(crate) async fn upload(
    api: &Api,
    base: &str,
    into: &str,
    file: PathBuf,
    path: Option<String>,
    content_type: Option<String>,
    output: Output,
) -> anyhow::Result<(Value, String)> {
    let metadata = std::fs::metadata(&file).with_context(|| format!("Failed to read {}", file.display()))?;
    if !metadata.is_file() {
        bail!("{} is not a file", file.display());
    }
    let size = metadata.len();
    let path = match path {
        Some(path) => path,
        None => file.file_name().map(|n| n.to_string_lossy().into_owned()).context("Give --path: the file has no name")?,
    };
    let content_type = content_type.unwrap_or_else(|| guess_content_type(&path).to_owned());
    let ticket: Value =
        api.post(&format!("{base}/uploads"), Some(json!({"path": path, "size": size, "content_type": content_type})), None).await?;
    let http = transfer::client()?;
    let bar = transfer::progress(Some(size), output == Output::Table);
    let sent = async {
        match ticket["kind"].as_str() {
            Some("post") => {
                let url = ticket["url"].as_str().context("The API's upload form has no URL")?;
                let fields = ticket["fields"].as_object().context("The API's upload form has no fields")?;
                transfer::post_form(&http, url, fields, &file, size, &content_type, &bar).await
            }
            Some("multipart") => {
                let urls: Vec<String> =
                    serde_json::from_value(ticket["part_urls"].clone()).context("The API answered without the parts' URLs")?;
                let part_size = ticket["part_size"].as_u64().context("The API answered without the parts' size")?;
                let etags = transfer::put_parts(&http, &urls, part_size, &file, size, &bar).await?;
                let complete = json!({"path": ticket["path"], "upload_id": ticket["upload_id"], "etags": etags});
                let _: Value = api.post(&format!("{base}/uploads/complete"), Some(complete), None).await?;
                Ok(())
            }
            _ => bail!("The API answered with an upload of a kind this atrium does not know: {ticket}"),
        }
    }
    .await;
    bar.finish_and_clear();
    sent?;
    let done = json!({"path": path, "size": size, "content_type": content_type});
    Ok((done, format!("Uploaded {} to {into}: {path} ({size} bytes)", file.display())))
}

/// Downloads a presigned URL and says where it went.
pub(crate) async fn save(url: &str, target: transfer::Target, output: Output) -> anyhow::Result<()> {
    let written = transfer::download(&transfer::client()?, url, &target, output == Output::Table).await?;
    if let transfer::Target::File(path) = &target {
        let done = json!({"file": path.display().to_string(), "size": written});
        print_one(output, &done, &format!("Downloaded {written} bytes to {}", path.display()));
    }
    Ok(())
}

/// The content type of a file by its extension, as a browser would give it; S3 stores it with
/// the object. Unknown ones are plain bytes.
fn guess_content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "csv" => "text/csv",
        "tsv" | "tab" => "text/tab-separated-values",
        "txt" | "log" | "md" | "fa" | "fasta" | "fastq" | "fq" | "vcf" | "bed" | "gff" | "gtf" | "sam" => "text/plain",
        "json" => "application/json",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "bz2" => "application/x-bzip2",
        "xz" => "application/x-xz",
        "zst" => "application/zstd",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "tif" | "tiff" => "image/tiff",
        "nc" => "application/x-netcdf",
        "h5" | "hdf5" => "application/x-hdf5",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ipynb" => "application/x-ipynb+json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mount_is_a_name_and_ro_or_rw() {
        assert_eq!(parse_mount("Reference genomes:rw"), Ok(Mount { study: "Reference genomes".into(), access: "rw".into() }));
        assert_eq!(parse_mount("a:b:ro").map(|m| m.study), Ok("a:b".to_owned()), "the last colon separates the access");
        assert!(parse_mount("Reference genomes").is_err());
        assert!(parse_mount("Reference genomes:rx").is_err());
        assert!(parse_mount(":ro").is_err());
        assert_eq!(mounts_json(&[Mount { study: "x".into(), access: "ro".into() }]), json!([{"study": "x", "access": "ro"}]));
    }

    #[test]
    fn content_types_are_guessed_from_extensions() {
        assert_eq!(guess_content_type("calls/variants.CSV"), "text/csv");
        assert_eq!(guess_content_type("reads/sample.bam"), "application/octet-stream");
        assert_eq!(guess_content_type("no-extension"), "application/octet-stream");
    }

    #[test]
    fn a_download_goes_to_the_files_name_unless_told() {
        let name = |out: Option<&str>, path: &str| transfer::Target::from(out.map(PathBuf::from), path).map(|t| t.describe());
        assert_eq!(name(None, "calls/variants.csv").ok(), Some("variants.csv".to_owned()));
        assert_eq!(name(Some("-"), "calls/variants.csv").ok(), Some("standard output".to_owned()));
        assert_eq!(name(Some("x.csv"), "calls/variants.csv").ok(), Some("x.csv".to_owned()));
        assert!(name(None, "calls/").is_err());
    }
}
