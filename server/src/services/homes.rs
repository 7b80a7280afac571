//! Homes on the team drive: each person's EFS access point on their team's file system
//! (`/home/<user>`, as their own POSIX user), made on their first launch in the team and passed
//! to the templates that take it, with the team drive itself. Kept when the person is disabled,
//! until an admin removes it.

use super::database_error;
use crate::aws::efs::{HomeDirectories, home_path};
use crate::aws::provisioning::ProvisionError;
use crate::aws::ssm::ParameterStore;
use crate::repo::homes::{self, Home};
use crate::repo::teams::Team;
use app::domain::CurrentUser;
use app::domain::studies::{FILE_SYSTEM_PARAMETER, HOME_PARAMETER, TEAM_DRIVE_PARAMETER};
use app::error::AppError;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Homes {
    db: PgPool,
    directories: Arc<dyn HomeDirectories>,
    parameters: Arc<dyn ParameterStore>,
}

fn efs_error(error: ProvisionError) -> AppError {
    match error {
        ProvisionError::Retryable(error) => {
            tracing::warn!(error = ?error, "EFS could not be reached");
            AppError::Unavailable("EFS (the team's file system)".into())
        }
        ProvisionError::Rejected(message) => AppError::BadRequest(format!("The team's file system refused your home: {message}")),
    }
}

impl Homes {
    pub fn new(db: PgPool, directories: Arc<dyn HomeDirectories>, parameters: Arc<dyn ParameterStore>) -> Self {
        Homes { db, directories, parameters }
    }

    /// The values of the launch parameters the template takes (`wanted`) that name the team's
    /// file system, its drive and the person's home, making the home on their first launch.
    /// Nothing for a team without a file system.
    #[tracing::instrument(skip_all, fields(team = %team.slug))]
    pub async fn launch_parameters(&self, user: &CurrentUser, team: &Team, wanted: &[&str]) -> Result<BTreeMap<String, String>, AppError> {
        let mut values = BTreeMap::new();
        if !wanted.iter().any(|key| [HOME_PARAMETER, TEAM_DRIVE_PARAMETER, FILE_SYSTEM_PARAMETER].contains(key)) {
            return Ok(values);
        }
        let (metadata, _) = super::teams::metadata_of(self.parameters.as_ref(), team).await.map_err(|error| {
            tracing::warn!(%error, "Failed to read the team's metadata");
            AppError::Unavailable("Parameter Store".into())
        })?;
        let Some(file_system) = metadata.efs_file_system else { return Ok(values) };
        if wanted.contains(&HOME_PARAMETER) {
            values.insert(HOME_PARAMETER.to_owned(), self.home_of(user, team, &file_system).await?.access_point_id);
        }
        if let Some(drive) = metadata.efs_access_point.filter(|_| wanted.contains(&TEAM_DRIVE_PARAMETER)) {
            values.insert(TEAM_DRIVE_PARAMETER.to_owned(), drive);
        }
        if wanted.contains(&FILE_SYSTEM_PARAMETER) {
            values.insert(FILE_SYSTEM_PARAMETER.to_owned(), file_system);
        }
        Ok(values)
    }

    /// The person's home in the team on `file_system`, made (once, whatever launches race) if
    /// they have none there. No row stays locked while EFS answers but this person's home's.
    async fn home_of(&self, user: &CurrentUser, team: &Team, file_system: &str) -> Result<Home, AppError> {
        let (slug, username) = (team.slug.as_str(), user.username.as_str());
        let current = |home: &Option<Home>| home.as_ref().is_some_and(|home| home.file_system_id == file_system);
        let found = homes::find(&self.db, slug, username).await.map_err(database_error)?;
        if current(&found) {
            return found.ok_or(AppError::Internal);
        }
        // The person's uid, theirs for good, given in a statement of its own.
        let uid = homes::uid_of(&self.db, username).await.map_err(database_error)?.ok_or(AppError::Internal)?;
        let uid = u32::try_from(uid).map_err(|_| AppError::Internal)?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        homes::lock(&mut *tx, slug, username).await.map_err(database_error)?;
        let found = homes::find(&mut *tx, slug, username).await.map_err(database_error)?;
        if current(&found) {
            return found.ok_or(AppError::Internal);
        }
        // A home on a file system the team no longer has is of no use: a new one replaces it.
        homes::delete(&mut *tx, slug, username).await.map_err(database_error)?;
        let access_point = self.directories.create_home(&team.role(), file_system, username, uid).await.map_err(efs_error)?;
        let path = home_path(username, uid);
        homes::insert(&mut *tx, slug, username, (file_system, &access_point, &path)).await.map_err(database_error)?;
        let detail = format!("{path} (uid {uid}) on {file_system}: {access_point}");
        let entry = crate::repo::audit::Entry::by(user, "home.create").object("home", username).team(slug).detail(&detail);
        crate::repo::audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        homes::find(&self.db, slug, username).await.map_err(database_error)?.ok_or(AppError::Internal)
    }

    /// The homes of the team's disabled people, which an admin may remove.
    pub async fn of_disabled(&self, team: &Team) -> Result<Vec<Home>, AppError> {
        homes::of_disabled(&self.db, team.slug.as_str()).await.map_err(database_error)
    }

    /// Removes a disabled person's access point (their files stay on the file system). Audited.
    #[tracing::instrument(skip_all, fields(team = %team.slug))]
    pub async fn remove(&self, admin: &CurrentUser, team: &Team, username: &str) -> Result<(), AppError> {
        let slug = team.slug.as_str();
        let home = self.of_disabled(team).await?.into_iter().find(|home| home.username == username);
        let Some(home) = home else {
            return Err(AppError::NotFound(format!("A home of a disabled person named \"{username}\" in this team")));
        };
        self.directories.remove_home(&team.role(), &home.access_point_id).await.map_err(efs_error)?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        homes::delete(&mut *tx, slug, username).await.map_err(database_error)?;
        let detail = format!("{} ({}); the files stay on {}", home.path, home.access_point_id, home.file_system_id);
        let entry = crate::repo::audit::Entry::by(admin, "home.remove").object("home", username).team(slug).detail(&detail);
        crate::repo::audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)
    }
}
