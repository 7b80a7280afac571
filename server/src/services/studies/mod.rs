//! Studies: rows and permissions in Postgres, bytes in S3, moved by the browser itself with
//! presigned URLs. Every URL handed out is an audit row.

use super::database_error;
use crate::aws::provisioning::role_session_name;
use crate::aws::s3::{ObjectStore, Place, StoreError, UploadRules};
use crate::aws::ssm::ParameterStore;
use crate::changes::TeamCache;
use crate::repo::studies::{self as repo, InsertError, NewStudyRow, StudyRow};
use crate::repo::{audit, teams};
use app::domain::airlock::Direction;
use app::domain::studies::{
    Access, EgressPanel, FileEntry, FolderListing, MULTIPART_THRESHOLD, PART_SIZE, StudyForm, StudyList, StudyScope, StudyView,
    UploadTicket, access, browse_folder, file_path, may_choose_writers, may_write_data,
};
use app::domain::{CurrentUser, TeamSlug};
use app::error::AppError;
use app::features::studies::StudyService;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

mod access;
mod airlock;
mod scratch;
mod shelf;
pub use access::*;
pub use airlock::{ScanProgress, scan_step, transfer};
use shelf::Shelf;

/// Files listed per page of a folder.
const FILES_PER_PAGE: i32 = 100;

#[derive(Clone, Debug)]
pub struct StudySettings {
    /// The portal's own bucket, for organisation studies.
    pub portal_bucket: String,
    /// The largest file an upload may be.
    pub max_file_bytes: u64,
    /// Content types no study accepts (they would run script if opened from the bucket).
    pub blocked_content_types: Vec<String>,
    /// How long a download URL works.
    pub download_url_seconds: u64,
    /// How long an upload form or part URL works.
    pub upload_url_seconds: u64,
    /// Whether the airlock waits for GuardDuty's scan of each file.
    pub malware_scan: bool,
    /// How long a request waits for its scan before it says so.
    pub scan_wait: Duration,
}

pub struct Studies {
    db: PgPool,
    store: Arc<dyn ObjectStore>,
    parameters: Arc<dyn ParameterStore>,
    team_rows: TeamCache,
    settings: StudySettings,
}

/// S3's failures as users see them: unreachable is a 503 with the reason, a refusal a 400
/// in S3's words.
fn store_error(error: StoreError) -> AppError {
    match error {
        StoreError::Unavailable(reason) => {
            tracing::warn!(%reason, "S3 is unreachable");
            AppError::Unavailable(format!("S3 ({reason})"))
        }
        StoreError::Refused(message) => AppError::BadRequest(format!("S3 refused the request: {message}")),
    }
}

#[async_trait::async_trait]
impl StudyService for Studies {
    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn studies(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<StudyList, AppError> {
        super::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        let rows = repo::seen_from_team(&self.db, slug.as_str()).await.map_err(database_error)?;
        let studies =
            rows.iter().filter_map(|study| access(user, slug, &study.facts()).map(|a| Self::view(user, slug, study, a))).collect();
        let all_teams = if user.is_admin() {
            teams::list_all(&self.db)
                .await
                .map_err(database_error)?
                .into_iter()
                .filter(|t| !t.archived)
                .map(|t| t.slug.to_string())
                .collect()
        } else {
            Vec::new()
        };
        Ok(StudyList { studies, may_create: may_write_data(user), is_admin: user.is_admin(), all_teams })
    }

    #[tracing::instrument(skip(self, user, form), fields(username = %user.username))]
    async fn create(&self, user: &CurrentUser, slug: &TeamSlug, form: StudyForm) -> Result<StudyView, AppError> {
        let team = super::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        if !may_write_data(user) {
            return Err(AppError::Forbidden);
        }
        let new = form.validate().map_err(AppError::Invalid)?;
        let (bucket, prefix, team_slug) = match new.scope {
            StudyScope::Organisation | StudyScope::OpenData if !user.is_admin() => return Err(AppError::Forbidden),
            StudyScope::My | StudyScope::Team => {
                (self.team_bucket(&team).await?, format!("studies/{slug}/{}", new.folder), Some(slug.as_str()))
            }
            StudyScope::Organisation => (self.settings.portal_bucket.clone(), format!("studies/organisation/{}", new.folder), None),
            StudyScope::OpenData => new.location.clone().map(|(bucket, prefix)| (bucket, prefix, None)).ok_or(AppError::Internal)?,
        };
        let shared_with: Vec<String> = new.teams.iter().map(|t| t.to_string()).collect();
        for other in &new.teams {
            if teams::find(&self.db, other).await.map_err(database_error)?.is_none_or(|t| t.archived) {
                return Err(AppError::invalid("teams", format!("There is no team \"{other}\".")));
            }
        }
        let row = NewStudyRow {
            scope: new.scope,
            team_slug,
            name: &new.name,
            description: &new.description,
            owner: user.username.as_str(),
            bucket: &bucket,
            prefix: &prefix,
            controlled: new.controlled,
            teams: &shared_with,
        };
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let id = repo::insert(&mut tx, &row).await.map_err(|error| match error {
            InsertError::Overlaps => {
                AppError::invalid("folder", "Another study already uses this folder, or one inside or around it. Choose another folder.")
            }
            InsertError::NameTaken => AppError::invalid("name", format!("There is already a study named \"{}\" here.", new.name)),
            InsertError::Database(e) => database_error(e),
        })?;
        let study = repo::find(&mut *tx, id).await.map_err(database_error)?.ok_or(AppError::Internal)?;
        let place = Self::place(user, &team, &study);
        // The row commits only once its prefix is there: S3 failing rolls it back.
        if study.scope == StudyScope::OpenData {
            if !self.store.prefix_exists(&place, &prefix).await.map_err(store_error)? {
                return Err(AppError::invalid(
                    "location",
                    format!("Nothing is stored at {} (or Atrium may not read it).", study.location()),
                ));
            }
        } else {
            self.store.create_prefix(&place, &prefix).await.map_err(store_error)?;
        }
        let detail = format!("{} \"{}\" at {}", new.scope.label(), new.name, study.location());
        record(&mut *tx, user, "study.create", ("study", id), slug, &detail).await?;
        tx.commit().await.map_err(database_error)?;
        let access = access(user, slug, &study.facts()).unwrap_or(Access::Ro);
        Ok(Self::view(user, slug, &study, access))
    }

    #[tracing::instrument(skip(self, user, page), fields(username = %user.username))]
    async fn files(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        id: i64,
        folder: &str,
        page: Option<String>,
    ) -> Result<FolderListing, AppError> {
        let Seen { team, study, access: granted } = self.seen(user, slug, id).await?;
        let shelf = Self::shelf(user, &team, &study);
        let (folder, folders, files, next_page) = self.shelf_folder(&shelf, folder, page).await?;
        let egress = if study.controlled {
            let egress_prefix = study.egress_prefix();
            let waiting = self.store.folder(&shelf.place, &egress_prefix, None, FILES_PER_PAGE, false).await.map_err(store_error)?;
            let mut requests = self.visible_requests(user, slug, Some(study.id)).await?;
            requests.retain(|r| r.direction == Direction::Export);
            Some(EgressPanel {
                location: format!("s3://{}/{egress_prefix}", study.bucket),
                files: self.file_entries(&egress_prefix, waiting.objects),
                requests,
                may_request: granted == Access::Rw,
            })
        } else {
            None
        };
        let study = Self::view(user, slug, &study, granted);
        let team_members =
            if study.may_choose_writers { teams::team_members(&self.db, slug.as_str()).await.map_err(database_error)? } else { Vec::new() };
        Ok(FolderListing { study, team_members, folder, folders, files, next_page, max_file_bytes: self.settings.max_file_bytes, egress })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn upload(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        id: i64,
        path: &str,
        size: u64,
        content_type: &str,
    ) -> Result<UploadTicket, AppError> {
        let Seen { team, study, .. } = self.writable(user, slug, id).await?;
        let (_, _, ticket, detail) = self.shelf_ticket(&Self::shelf(user, &team, &study), path, size, content_type).await?;
        record(&self.db, user, "study.upload_url", ("study", id), slug, &format!("{detail} in \"{}\"", study.name)).await?;
        Ok(ticket)
    }

    #[tracing::instrument(skip(self, user, etags), fields(username = %user.username))]
    async fn complete_upload(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        id: i64,
        path: &str,
        upload_id: &str,
        etags: Vec<String>,
    ) -> Result<(), AppError> {
        let Seen { team, study, .. } = self.writable(user, slug, id).await?;
        let (path, size) = self.shelf_complete(&Self::shelf(user, &team, &study), path, upload_id, &etags).await?;
        record(&self.db, user, "study.upload", ("study", id), slug, &format!("{path} ({size} bytes) in \"{}\"", study.name)).await
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn download_url(&self, user: &CurrentUser, slug: &TeamSlug, id: i64, path: &str) -> Result<String, AppError> {
        let Seen { team, study, .. } = self.seen(user, slug, id).await?;
        if study.controlled {
            // Controlled data leaves only through an approved export request.
            return Err(AppError::Forbidden);
        }
        let (path, url) = self.shelf_download(&Self::shelf(user, &team, &study), path).await?;
        record(&self.db, user, "study.download_url", ("study", id), slug, &format!("{path} in \"{}\"", study.name)).await?;
        Ok(url)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn delete_file(&self, user: &CurrentUser, slug: &TeamSlug, id: i64, path: &str) -> Result<(), AppError> {
        let Seen { team, study, .. } = self.writable(user, slug, id).await?;
        let (path, _) = self.shelf_delete(&Self::shelf(user, &team, &study), path).await?;
        record(&self.db, user, "study.file.delete", ("study", id), slug, &format!("{path} in \"{}\"", study.name)).await
    }

    #[tracing::instrument(skip(self, user, writers), fields(username = %user.username))]
    async fn set_writers(&self, user: &CurrentUser, slug: &TeamSlug, id: i64, mut writers: Vec<String>) -> Result<(), AppError> {
        let Seen { study, .. } = self.seen(user, slug, id).await?;
        if !may_choose_writers(user, slug, study.scope, &study.owner) {
            return Err(AppError::Forbidden);
        }
        writers.sort();
        writers.dedup();
        let members = teams::team_members(&self.db, slug.as_str()).await.map_err(database_error)?;
        if let Some(stranger) = writers.iter().find(|w| !members.contains(w)) {
            return Err(AppError::invalid("writers", format!("{stranger} is not a member of the team.")));
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        repo::set_writers(&mut tx, id, &writers).await.map_err(database_error)?;
        let detail = format!(
            "\"{}\": {}",
            study.name,
            if writers.is_empty() { "only the owner and team admins".to_owned() } else { writers.join(", ") }
        );
        record(&mut *tx, user, "study.writers", ("study", id), slug, &detail).await?;
        tx.commit().await.map_err(database_error)
    }
}
