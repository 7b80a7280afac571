//! Bytes to and from S3, with the presigned forms and URLs the API mints, sent as the studies
//! page sends them: straight to S3, never through Atrium and never with the token.

use anyhow::{Context, bail, ensure};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The client for S3: no limit on a whole transfer (a large part takes a while), but one to
/// connect and one between reads.
pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("atrium-cli/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(300))
        .build()
        .context("Failed to build the HTTP client for S3")
}

/// A progress bar in bytes on standard error, for people only (hidden for scripts and pipes).
pub fn progress(total: Option<u64>, for_people: bool) -> ProgressBar {
    if !for_people || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total.unwrap_or(0));
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}") {
        bar.set_style(style);
    }
    bar
}

/// S3's `<Message>` from an error document, or the status.
fn s3_message(action: &str, status: reqwest::StatusCode, text: &str) -> String {
    let message = text.split_once("<Message>").and_then(|(_, rest)| rest.split_once("</Message>")).map(|(m, _)| m.trim().to_owned());
    format!("S3 refused the {action} ({status}){}", message.map(|m| format!(": {m}")).unwrap_or_default())
}

/// Reads `len` bytes of `file` from `start`.
fn read_part(file: &mut std::fs::File, start: u64, len: u64, path: &Path) -> anyhow::Result<Vec<u8>> {
    let len = usize::try_from(len).context("A part too large for this machine")?;
    let mut bytes = vec![0; len];
    file.seek(SeekFrom::Start(start))
        .and_then(|_| file.read_exact(&mut bytes))
        .with_context(|| format!("Failed to read {} (did it change while being uploaded?)", path.display()))?;
    Ok(bytes)
}

/// A small file: the presigned POST form, its fields as given, the file last (as `file`).
pub async fn post_form(
    http: &reqwest::Client,
    url: &str,
    fields: &Map<String, Value>,
    file: &Path,
    size: u64,
    content_type: &str,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("Failed to read {}", file.display()))?;
    ensure!(bytes.len() as u64 == size, "{} changed while being uploaded; try again", file.display());
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        let value = value.as_str().with_context(|| format!("The API's upload form has a field {name} that is not text"))?;
        form = form.text(name.clone(), value.to_owned());
    }
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".to_owned());
    let mut part = reqwest::multipart::Part::bytes(bytes).file_name(name);
    if !content_type.is_empty() {
        part = part.mime_str(content_type).with_context(|| format!("{content_type} is not a content type"))?;
    }
    let response = http.post(url).multipart(form.part("file", part)).send().await.context("Could not reach S3")?;
    let status = response.status();
    if !status.is_success() {
        bail!(s3_message("upload", status, &response.text().await.unwrap_or_default()));
    }
    bar.inc(size);
    Ok(())
}

/// A large file: each part PUT to its presigned URL, in order; the parts' ETags, for completing.
pub async fn put_parts(
    http: &reqwest::Client,
    urls: &[String],
    part_size: u64,
    file: &Path,
    size: u64,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<String>> {
    ensure!(part_size > 0, "The API answered with parts of no size");
    ensure!(
        urls.len() as u64 == size.div_ceil(part_size),
        "The API answered with {} part URLs for {size} bytes in parts of {part_size}",
        urls.len()
    );
    let mut reader = std::fs::File::open(file).with_context(|| format!("Failed to open {}", file.display()))?;
    let mut etags = Vec::with_capacity(urls.len());
    for (index, url) in urls.iter().enumerate() {
        let start = index as u64 * part_size;
        let len = part_size.min(size - start);
        let bytes = read_part(&mut reader, start, len, file)?;
        let response = http.put(url).body(bytes).send().await.context("Could not reach S3")?;
        let status = response.status();
        if !status.is_success() {
            bail!(s3_message(&format!("upload of part {}", index + 1), status, &response.text().await.unwrap_or_default()));
        }
        let etag = response.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        etags.push(etag.with_context(|| format!("S3 did not say which part it stored (no ETag for part {})", index + 1))?);
        bar.inc(len);
    }
    Ok(etags)
}

/// Where a download goes.
pub enum Target {
    Stdout,
    File(PathBuf),
}

impl Target {
    /// `-` for standard output; else the file given, or `default_name` in the current folder.
    pub fn from(output_file: Option<PathBuf>, default_name: &str) -> anyhow::Result<Target> {
        match output_file {
            Some(path) if path.as_os_str() == "-" => Ok(Target::Stdout),
            Some(path) => Ok(Target::File(path)),
            None => {
                let name = default_name.rsplit('/').next().filter(|n| !n.is_empty() && *n != "." && *n != "..");
                let name = name.with_context(|| format!("{default_name} names no file; give -O FILE"))?;
                Ok(Target::File(PathBuf::from(name)))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Target::Stdout => "standard output".to_owned(),
            Target::File(path) => path.display().to_string(),
        }
    }
}

/// Downloads a presigned URL to `target`: a file is written beside it first and renamed once
/// whole, so that a failed download leaves no half file under its name. The bytes written.
pub async fn download(http: &reqwest::Client, url: &str, target: &Target, for_people: bool) -> anyhow::Result<u64> {
    let mut response = http.get(url).send().await.context("Could not reach S3")?;
    let status = response.status();
    if !status.is_success() {
        bail!(s3_message("download", status, &response.text().await.unwrap_or_default()));
    }
    let bar = progress(response.content_length(), for_people && matches!(target, Target::File(_)));
    let partial = match target {
        Target::Stdout => None,
        Target::File(path) => {
            let mut name = path.as_os_str().to_owned();
            name.push(".atrium-part");
            Some(PathBuf::from(name))
        }
    };
    let mut out: Box<dyn Write + Send> = match &partial {
        None => Box::new(std::io::stdout()),
        Some(partial) => Box::new(std::fs::File::create(partial).with_context(|| format!("Failed to create {}", partial.display()))?),
    };
    let copied = async {
        let mut written = 0u64;
        while let Some(chunk) = response.chunk().await.context("The download was cut off")? {
            out.write_all(&chunk).with_context(|| format!("Failed to write {}", target.describe()))?;
            written += chunk.len() as u64;
            bar.inc(chunk.len() as u64);
        }
        out.flush().with_context(|| format!("Failed to write {}", target.describe()))?;
        anyhow::Ok(written)
    }
    .await;
    drop(out);
    bar.finish_and_clear();
    match (copied, &partial, target) {
        (Ok(written), Some(partial), Target::File(path)) => {
            std::fs::rename(partial, path).with_context(|| format!("Failed to write {}", path.display()))?;
            Ok(written)
        }
        (Ok(written), _, _) => Ok(written),
        (Err(error), partial, _) => {
            if let Some(partial) = partial {
                let _ = std::fs::remove_file(partial);
            }
            Err(error)
        }
    }
}
