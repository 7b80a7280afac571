//! The team's scratch space (`s3-scratch-prefix`), through the team's role as the caller:
//! members read, those who may write data upload, and a file's uploader or the team's admins
//! delete it. It never reaches into a study: a prefix that overlaps one is refused.

use super::*;
use crate::repo::scratch as uploads;
use app::domain::studies::{ScratchFile, ScratchListing, overlaps, parse_s3_uri};
use app::features::scratch::ScratchService;

/// A file's uploader (while they may write data: guests only read) and the team's admins.
fn may_delete(user: &CurrentUser, slug: &TeamSlug, uploader: Option<&str>) -> bool {
    user.may_manage_members(slug) || (may_write_data(user) && uploader == Some(user.username.as_str()))
}

impl Studies {
    /// The team's scratch space as the caller reaches it, and its `s3://` location.
    #[tracing::instrument(skip_all)]
    async fn scratch_shelf(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<(Shelf, String), AppError> {
        let team = crate::services::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        let metadata = self.team_metadata(&team).await?;
        let location = metadata.s3_scratch_prefix.ok_or_else(|| {
            AppError::NotFound(format!("A scratch space (an administrator sets `s3-scratch-prefix` under {})", team.ssm_path))
        })?;
        let unusable = |why: String| AppError::BadRequest(format!("The team's scratch space ({location}) cannot be opened: {why}"));
        let (bucket, prefix) = parse_s3_uri(&location).map_err(unusable)?;
        let in_a_study = ["studies/", "egress/"].iter().any(|area| overlaps(&prefix, area))
            || repo::overlapping(&self.db, &bucket, &prefix).await.map_err(database_error)?;
        if in_a_study {
            return Err(unusable("it overlaps the team's studies.".into()));
        }
        let place = Place { bucket, role: Some((team.role(), role_session_name(user.username.as_str()))) };
        Ok((Shelf { place, prefix, kind: "the scratch space" }, location))
    }
}

#[async_trait::async_trait]
impl ScratchService for Studies {
    #[tracing::instrument(skip(self, user, page), fields(username = %user.username))]
    async fn scratch_files(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        folder: &str,
        page: Option<String>,
    ) -> Result<ScratchListing, AppError> {
        let (shelf, location) = self.scratch_shelf(user, slug).await?;
        let (folder, folders, files, next_page) = self.shelf_folder(&shelf, folder, page).await?;
        let keys: Vec<String> = files.iter().map(|file| format!("{}{}", shelf.prefix, file.path)).collect();
        let uploaders = uploads::uploaders(&self.db, &shelf.place.bucket, &keys).await.map_err(database_error)?;
        let files = files
            .into_iter()
            .zip(keys)
            .map(|(file, key)| {
                let uploader = uploaders.iter().find(|(k, _)| *k == key).map(|(_, uploader)| uploader.clone());
                let may_delete = may_delete(user, slug, uploader.as_deref());
                ScratchFile { file, uploader, may_delete }
            })
            .collect();
        Ok(ScratchListing {
            location,
            folder,
            folders,
            files,
            next_page,
            max_file_bytes: self.settings.max_file_bytes,
            may_upload: may_write_data(user),
        })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn scratch_upload(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        path: &str,
        size: u64,
        content_type: &str,
    ) -> Result<UploadTicket, AppError> {
        let (shelf, _) = self.scratch_shelf(user, slug).await?;
        if !may_write_data(user) {
            return Err(AppError::Forbidden);
        }
        let (path, key) = shelf.file(path)?;
        // An existing file is replaced only by its uploader or a team admin (one a workspace
        // wrote has no uploader). A claim whose upload never arrived holds no name.
        if !user.may_manage_members(slug) && self.store.size_of(&shelf.place, &key).await.map_err(store_error)?.is_some() {
            let owner = uploads::uploader_of(&self.db, &shelf.place.bucket, &key).await.map_err(database_error)?;
            if owner.as_deref() != Some(user.username.as_str()) {
                return Err(AppError::invalid("path", format!("{path} is another member's file: choose another name.")));
            }
        }
        let (_, key, ticket, detail) = self.shelf_ticket(&shelf, &path, size, content_type).await?;
        uploads::claim(&self.db, &shelf.place.bucket, &key, slug.as_str(), user.username.as_str()).await.map_err(database_error)?;
        record_on(&self.db, user, "scratch.upload_url", ("team", slug.as_str()), slug, &format!("{detail} in the scratch space")).await?;
        Ok(ticket)
    }

    #[tracing::instrument(skip(self, user, etags), fields(username = %user.username))]
    async fn complete_scratch_upload(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        path: &str,
        upload_id: &str,
        etags: Vec<String>,
    ) -> Result<(), AppError> {
        let (shelf, _) = self.scratch_shelf(user, slug).await?;
        if !may_write_data(user) {
            return Err(AppError::Forbidden);
        }
        let (path, size) = self.shelf_complete(&shelf, path, upload_id, &etags).await?;
        let detail = format!("{path} ({size} bytes) in the scratch space");
        record_on(&self.db, user, "scratch.upload", ("team", slug.as_str()), slug, &detail).await
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn scratch_download_url(&self, user: &CurrentUser, slug: &TeamSlug, path: &str) -> Result<String, AppError> {
        let (shelf, _) = self.scratch_shelf(user, slug).await?;
        let (path, url) = self.shelf_download(&shelf, path).await?;
        record_on(&self.db, user, "scratch.download_url", ("team", slug.as_str()), slug, &format!("{path} in the scratch space")).await?;
        Ok(url)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn delete_scratch_file(&self, user: &CurrentUser, slug: &TeamSlug, path: &str) -> Result<(), AppError> {
        let (shelf, _) = self.scratch_shelf(user, slug).await?;
        let (_, key) = shelf.file(path)?;
        let uploader = uploads::uploader_of(&self.db, &shelf.place.bucket, &key).await.map_err(database_error)?;
        if !may_delete(user, slug, uploader.as_deref()) {
            return Err(AppError::Forbidden);
        }
        let deleted = self.shelf_delete(&shelf, path).await;
        // A file already gone takes its claim with it.
        if matches!(deleted, Ok(_) | Err(AppError::NotFound(_))) {
            uploads::forget(&self.db, &shelf.place.bucket, &key).await.map_err(database_error)?;
        }
        let (path, _) = deleted?;
        record_on(&self.db, user, "scratch.file.delete", ("team", slug.as_str()), slug, &format!("{path} in the scratch space")).await
    }
}
