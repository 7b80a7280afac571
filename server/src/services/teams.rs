use super::database_error;
use crate::auth::service::{AuthError, AuthService};
use crate::aws::ssm::{ParameterStore, ParameterStoreError};
use crate::changes::TeamCache;
use crate::repo::{configurations, teams};
use app::domain::configurations::{Configuration, Profile, ProfileDocument, ProfileList};
use app::domain::{CurrentUser, PasswordPolicy, TeamHome, TeamLink, TeamMetadata, TeamSlug, TeamSummary};
use app::error::AppError;
use app::features::account::PasswordPolicyService;
use app::features::teams::TeamService;
use sqlx::PgPool;
use std::sync::Arc;

pub struct Teams {
    db: PgPool,
    parameters: Arc<dyn ParameterStore>,
    team_rows: TeamCache,
}

impl Teams {
    pub fn new(db: PgPool, parameters: Arc<dyn ParameterStore>, team_rows: TeamCache) -> Self {
        Teams { db, parameters, team_rows }
    }

    /// What the team offers this user (the caller has entered the team). Admins see everything
    /// the team is offered, whatever the roles.
    #[tracing::instrument(skip_all)]
    async fn offered(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<Vec<Configuration>, AppError> {
        let all = configurations::launchable_on_team(&self.db, slug).await.map_err(database_error)?;
        Ok(all.into_iter().filter(|c| user.is_admin() || c.draft.allows(&user.roles, slug)).collect())
    }
}

#[async_trait::async_trait]
impl TeamService for Teams {
    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn profiles(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<ProfileList, AppError> {
        let team = super::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        let offered = self.offered(user, slug).await?;
        let (documents, age) = self.parameters.parameters_with_age(&team.role(), &format!("{}/profiles", team.ssm_path)).await.map_err(
            |error| match error {
                ParameterStoreError::Unavailable(_) => AppError::Unavailable("Parameter Store".into()),
                ParameterStoreError::Unexpected(e) => {
                    tracing::error!(error = ?e, "Failed to read the team's profiles");
                    AppError::Internal
                }
            },
        )?;
        let mut profiles = Vec::new();
        for (name, value) in documents {
            let document: ProfileDocument = match serde_json::from_str(&value) {
                Ok(document) => document,
                Err(error) => {
                    tracing::warn!(%name, %error, "Skipping a profile that is not valid JSON");
                    continue;
                }
            };
            // Only profiles this user may launch: the configuration decides, not the profile.
            if let Some(configuration) = offered.iter().find(|c| c.draft.name == document.configuration) {
                profiles.push(Profile {
                    name,
                    display_name: document.display_name,
                    description: document.description,
                    size: document.size,
                    configuration: configuration.clone(),
                    parameters: document.parameters,
                });
            }
        }
        profiles.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(ProfileList { profiles, stale_note: age.map(stale_note) })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn launchable_configurations(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<Vec<Configuration>, AppError> {
        super::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        self.offered(user, slug).await
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn teams_for(&self, user: &CurrentUser) -> Result<Vec<TeamSummary>, AppError> {
        if user.is_admin() {
            let rows = teams::list_all(&self.db).await.map_err(database_error)?;
            return Ok(rows.iter().map(teams::Team::summary).collect());
        }
        // The user's teams (from the access cache) and their rows (from the team cache, as the
        // team pages read them): no query while nothing changes.
        let mut rows = Vec::with_capacity(user.teams.len());
        for slug in &user.teams {
            let found = self.team_rows.get_or_load(slug.as_str(), teams::find(&self.db, slug)).await.map_err(database_error)?;
            rows.extend(found.filter(|team| !team.archived));
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows.iter().map(teams::Team::summary).collect())
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn team_home(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<TeamHome, AppError> {
        let team = super::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        let (metadata, metadata_error) = match metadata_of(self.parameters.as_ref(), &team).await {
            Ok((metadata, age)) => (metadata, age.map(stale_note)),
            Err(error) => {
                match &error {
                    ParameterStoreError::Unavailable(_) => tracing::warn!(error = %error, "SSM is unreachable"),
                    ParameterStoreError::Unexpected(_) => tracing::error!(error = ?error, "Failed to read team metadata"),
                }
                (TeamMetadata::default(), Some("The team's storage and links could not be read right now.".into()))
            }
        };
        let may_manage_members = user.may_manage_members(slug);
        let home =
            crate::repo::homes::find(&self.db, slug.as_str(), user.username.as_str()).await.map_err(database_error)?.map(|home| home.path);
        Ok(TeamHome { team: team.summary(), aws_account_id: team.aws_account_id, metadata, metadata_error, may_manage_members, home })
    }
}

/// What a page says when it shows settings Parameter Store could not refresh.
fn stale_note(age: std::time::Duration) -> String {
    format!("Parameter Store cannot be reached right now: this is what it said {} minute(s) ago.", age.as_secs().div_ceil(60).max(1))
}

/// The team's metadata, read in its account (through its role), and how old it is when SSM
/// could not be reached to refresh it.
pub async fn metadata_of(
    parameters: &dyn ParameterStore,
    team: &teams::Team,
) -> Result<(TeamMetadata, Option<std::time::Duration>), ParameterStoreError> {
    let (found, age) = parameters.parameters_with_age(&team.role(), &team.ssm_path).await?;
    Ok((parse_metadata(&found), age))
}

/// Team metadata from the parameters directly under the team's SSM path: `links` (a JSON list
/// of `{title, url}`), `s3-scratch-prefix`, `efs-access-point`, `efs-file-system`, `studies-bucket`. Unknown names
/// are ignored.
fn parse_metadata(parameters: &[(String, String)]) -> TeamMetadata {
    let mut metadata = TeamMetadata::default();
    for (name, value) in parameters {
        match name.as_str() {
            "links" => match serde_json::from_str::<Vec<TeamLink>>(value) {
                // Only web links: a `javascript:` URL in an href would run in the portal's origin.
                Ok(links) => {
                    metadata.links =
                        links.into_iter().filter(|link| link.url.starts_with("https://") || link.url.starts_with("http://")).collect()
                }
                Err(error) => tracing::warn!(%error, "The team's `links` parameter is not a JSON list of {{title, url}}"),
            },
            "s3-scratch-prefix" => metadata.s3_scratch_prefix = Some(value.clone()),
            "efs-access-point" => metadata.efs_access_point = Some(value.clone()),
            "efs-file-system" => metadata.efs_file_system = Some(value.clone()),
            "studies-bucket" => metadata.studies_bucket = Some(value.clone()),
            _ => {}
        }
    }
    metadata
}

#[async_trait::async_trait]
impl PasswordPolicyService for AuthService {
    #[tracing::instrument(skip_all)]
    async fn password_policy(&self) -> Result<PasswordPolicy, AppError> {
        AuthService::password_policy(self).await.map_err(|error| match error {
            AuthError::Unavailable(what, _) => AppError::Unavailable(what.into()),
            other => {
                tracing::error!(error = ?other, "Failed to read the password policy");
                AppError::Internal
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_reads_known_parameters_and_skips_bad_links() {
        let parameters = vec![
            ("links".to_string(), r#"[{"title":"Wiki","url":"https://wiki.example"}]"#.to_string()),
            ("s3-scratch-prefix".to_string(), "s3://bucket/genomics/".to_string()),
            ("profiles".to_string(), "ignored".to_string()),
        ];
        let metadata = parse_metadata(&parameters);
        assert_eq!(metadata.links.len(), 1);
        assert_eq!(metadata.s3_scratch_prefix.as_deref(), Some("s3://bucket/genomics/"));
        assert_eq!(metadata.efs_access_point, None);

        let broken = parse_metadata(&[("links".into(), "not json".into())]);
        assert!(broken.links.is_empty());

        let scripted =
            parse_metadata(&[("links".into(), r#"[{"title":"x","url":"javascript:alert(1)"},{"title":"ok","url":"http://wiki"}]"#.into())]);
        assert_eq!(scripted.links.iter().map(|l| l.title.as_str()).collect::<Vec<_>>(), vec!["ok"]);
    }
}
