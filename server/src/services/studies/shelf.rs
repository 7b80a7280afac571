//! Where files are browsed, uploaded, downloaded and deleted: a study's prefix, or the team's
//! scratch space. Callers decide who may do what; this checks paths, sizes and types, and moves
//! nothing but URLs (the browser moves the bytes).

use super::*;

/// A prefix of a bucket, reached as `place` says.
pub(super) struct Shelf {
    pub(super) place: Place,
    /// Ends with `/`.
    pub(super) prefix: String,
    /// What it is, in messages ("a study", "the scratch space").
    pub(super) kind: &'static str,
}

/// One page of a folder: (folder, its sub-folders, its files, where the next page starts).
pub(super) type Page = (String, Vec<String>, Vec<FileEntry>, Option<String>);

impl Shelf {
    /// A file's checked path, and its S3 key: the path cannot leave the prefix.
    pub(super) fn file(&self, raw: &str) -> Result<(String, String), AppError> {
        let path = file_path(raw).map_err(|message| AppError::invalid("path", message))?;
        let key = format!("{}{path}", self.prefix);
        Ok((path, key))
    }
}

impl Studies {
    pub(super) async fn shelf_folder(&self, shelf: &Shelf, folder: &str, page: Option<String>) -> Result<Page, AppError> {
        let folder = browse_folder(folder).map_err(|message| AppError::invalid("folder", message))?;
        let page = page.filter(|p| !p.is_empty());
        if page.as_ref().is_some_and(|p| p.len() > 1024) {
            return Err(AppError::BadRequest("That page of the folder does not exist.".into()));
        }
        let listed =
            self.store.folder(&shelf.place, &format!("{}{folder}", shelf.prefix), page, FILES_PER_PAGE, true).await.map_err(store_error)?;
        let folders = listed.folders.iter().filter_map(|f| f.strip_prefix(&shelf.prefix).map(str::to_owned)).collect();
        let files = self.file_entries(&shelf.prefix, listed.objects);
        Ok((folder, folders, files, listed.next))
    }

    /// A presigned upload of one file: (its path, its key, the ticket, how it goes up).
    pub(super) async fn shelf_ticket(
        &self,
        shelf: &Shelf,
        path: &str,
        size: u64,
        content_type_raw: &str,
    ) -> Result<(String, String, UploadTicket, String), AppError> {
        let (path, key) = shelf.file(path)?;
        let max = self.settings.max_file_bytes;
        if size == 0 || size > max {
            return Err(AppError::invalid(
                "size",
                format!(
                    "{path} is {}; {} takes files of 1 byte to {}.",
                    app::domain::studies::size_label(size as i64),
                    shelf.kind,
                    app::domain::studies::size_label(max as i64)
                ),
            ));
        }
        let content_type = content_type(content_type_raw)?;
        if self.settings.blocked_content_types.contains(&content_type) {
            return Err(AppError::invalid("content_type", format!("Files of type {content_type} cannot be uploaded to {}.", shelf.kind)));
        }
        let expires_in = Duration::from_secs(self.settings.upload_url_seconds);
        let (ticket, how) = if size < MULTIPART_THRESHOLD {
            // Exactly this file: this key, this size, this type, until it expires.
            let rules = UploadRules {
                bucket: &shelf.place.bucket,
                key: &key,
                min_bytes: size,
                max_bytes: size,
                content_type: Some(&content_type),
                expires_in,
            };
            let post = self.store.presigned_post(&shelf.place, &rules).await.map_err(store_error)?;
            (UploadTicket::Post { url: post.url, fields: post.fields.into_iter().collect() }, "a POST form".to_owned())
        } else {
            let parts = size.div_ceil(PART_SIZE) as u32;
            let (upload_id, part_urls) =
                self.store.presigned_parts(&shelf.place, &key, &content_type, parts, expires_in).await.map_err(store_error)?;
            (UploadTicket::Multipart { path: path.clone(), upload_id, part_size: PART_SIZE, part_urls }, format!("{parts} part URLs"))
        };
        Ok((path.clone(), key, ticket, format!("{path} ({size} bytes, {content_type}): {how}")))
    }

    /// Completes a multipart upload; (its path, its size). A whole over the limit is removed.
    pub(super) async fn shelf_complete(
        &self,
        shelf: &Shelf,
        path: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<(String, i64), AppError> {
        let (path, key) = shelf.file(path)?;
        if upload_id.is_empty() || upload_id.len() > 1024 || etags.is_empty() || etags.len() > 10_000 || etags.iter().any(|e| e.len() > 200)
        {
            return Err(AppError::BadRequest("This upload cannot be completed: start it again.".into()));
        }
        self.store.complete_parts(&shelf.place, &key, upload_id, etags).await.map_err(store_error)?;
        // Parts are signed one by one: the whole is checked once it is whole.
        let size = self.store.size_of(&shelf.place, &key).await.map_err(store_error)?.unwrap_or(0);
        if size as u64 > self.settings.max_file_bytes {
            self.store.delete(&shelf.place, &key).await.map_err(store_error)?;
            return Err(AppError::invalid(
                "size",
                format!("{path} came to more than the largest file {} takes; it was removed.", shelf.kind),
            ));
        }
        Ok((path, size))
    }

    /// A download URL of an existing file, minted now: (its path, the URL).
    pub(super) async fn shelf_download(&self, shelf: &Shelf, path: &str) -> Result<(String, String), AppError> {
        let (path, key) = shelf.file(path)?;
        if self.store.size_of(&shelf.place, &key).await.map_err(store_error)?.is_none() {
            return Err(AppError::NotFound(format!("The file {path}")));
        }
        let expires_in = Duration::from_secs(self.settings.download_url_seconds);
        let url = self.store.presigned_get(&shelf.place, &key, expires_in).await.map_err(store_error)?;
        Ok((path, url))
    }

    /// Deletes an existing file: (its path, its key).
    pub(super) async fn shelf_delete(&self, shelf: &Shelf, path: &str) -> Result<(String, String), AppError> {
        let (path, key) = shelf.file(path)?;
        if self.store.size_of(&shelf.place, &key).await.map_err(store_error)?.is_none() {
            return Err(AppError::NotFound(format!("The file {path}")));
        }
        self.store.delete(&shelf.place, &key).await.map_err(store_error)?;
        Ok((path, key))
    }
}
