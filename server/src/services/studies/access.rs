//! Which study a caller sees from which team, the audit row of every URL handed out, and the checks on a file's path and type.

use super::*;

/// A study as the caller sees it, and the team it is seen from.
pub(super) struct Seen {
    pub(super) team: teams::Team,
    pub(super) study: StudyRow,
    pub(super) access: Access,
}

impl Studies {
    pub fn new(
        db: PgPool,
        store: Arc<dyn ObjectStore>,
        parameters: Arc<dyn ParameterStore>,
        team_rows: TeamCache,
        settings: StudySettings,
    ) -> Self {
        Studies { db, store, parameters, team_rows, settings }
    }

    /// The study if the caller may see it from this team; `NotFound` otherwise, so that a
    /// guessed id tells nothing.
    #[tracing::instrument(skip_all)]
    pub(super) async fn seen(&self, user: &CurrentUser, slug: &TeamSlug, id: i64) -> Result<Seen, AppError> {
        let team = crate::services::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        let study = repo::find(&self.db, id).await.map_err(database_error)?;
        let found = study.and_then(|study| access(user, slug, &study.facts()).map(|access| (study, access)));
        let (study, access) = found.ok_or_else(|| AppError::NotFound("This study".into()))?;
        Ok(Seen { team, study, access })
    }

    #[tracing::instrument(skip_all)]
    pub(super) async fn writable(&self, user: &CurrentUser, slug: &TeamSlug, id: i64) -> Result<Seen, AppError> {
        let seen = self.seen(user, slug, id).await?;
        if seen.access != Access::Rw {
            return Err(AppError::Forbidden);
        }
        Ok(seen)
    }

    /// Where the study's bytes are: a team's study through the team's role, as the caller.
    pub(super) fn place(user: &CurrentUser, team: &teams::Team, study: &StudyRow) -> Place {
        let role = study.team_slug.is_some().then(|| (team.role(), role_session_name(user.username.as_str())));
        Place { bucket: study.bucket.clone(), role }
    }

    /// The study's files, as the caller reaches them.
    pub(super) fn shelf(user: &CurrentUser, team: &teams::Team, study: &StudyRow) -> Shelf {
        Shelf { place: Self::place(user, team, study), prefix: study.prefix.clone(), kind: "a study" }
    }

    pub(super) fn view(user: &CurrentUser, slug: &TeamSlug, study: &StudyRow, access: Access) -> StudyView {
        StudyView {
            id: study.id,
            scope: study.scope,
            name: study.name.clone(),
            description: study.description.clone(),
            owner: study.owner.clone(),
            team: study.team_slug.clone(),
            location: study.location(),
            controlled: study.controlled,
            access,
            may_choose_writers: may_choose_writers(user, slug, study.scope, &study.owner),
            writers: study.writers.clone(),
            teams: study.teams.clone(),
        }
    }

    /// The team's SSM metadata (its buckets, its scratch space).
    pub(super) async fn team_metadata(&self, team: &teams::Team) -> Result<app::domain::TeamMetadata, AppError> {
        let (metadata, _) = crate::services::teams::metadata_of(self.parameters.as_ref(), team).await.map_err(|error| {
            tracing::warn!(%error, "Failed to read the team's metadata");
            AppError::Unavailable("Parameter Store".into())
        })?;
        Ok(metadata)
    }

    /// The bucket of the team's studies, from its SSM metadata.
    #[tracing::instrument(skip_all)]
    pub(super) async fn team_bucket(&self, team: &teams::Team) -> Result<String, AppError> {
        self.team_metadata(team).await?.bucket_for_studies().ok_or_else(|| {
            AppError::BadRequest(format!(
                "The team has no bucket for studies yet: an administrator sets `studies-bucket` (or `s3-scratch-prefix`) under {}.",
                team.ssm_path
            ))
        })
    }

    pub(super) fn file_entries(&self, prefix: &str, objects: Vec<(String, i64, String)>) -> Vec<FileEntry> {
        objects
            .into_iter()
            .filter_map(|(key, size, last_modified)| {
                let path = key.strip_prefix(prefix)?.to_owned();
                let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
                Some(FileEntry { path, name, size, last_modified })
            })
            .collect()
    }
}

/// Checks the studies chosen at launch against what the user may use now; each study and the
/// access it is mounted with. A study the user lost access to is refused.
#[tracing::instrument(skip_all)]
pub async fn mounts_for_launch(
    db: &PgPool,
    user: &CurrentUser,
    team: &TeamSlug,
    chosen: &[(i64, Access)],
) -> Result<Vec<(StudyRow, Access)>, AppError> {
    let mut mounts = Vec::with_capacity(chosen.len());
    for (id, wanted) in chosen {
        let study = repo::find(db, *id).await.map_err(database_error)?;
        let Some((study, allowed)) = study.and_then(|s| access(user, team, &s.facts()).map(|a| (s, a))) else {
            return Err(AppError::invalid("studies", format!("You may not use study #{id} on this team (any more).")));
        };
        let allowed = if study.controlled { Access::Ro } else { allowed };
        if *wanted > allowed {
            return Err(AppError::invalid("studies", format!("\"{}\" can only be mounted read-only.", study.name)));
        }
        mounts.push((study, *wanted));
    }
    Ok(mounts)
}

/// One audit row about a study (`study`) or an airlock request (`airlock_request`).
#[tracing::instrument(skip_all)]
pub(super) async fn record(
    db: impl sqlx::PgExecutor<'_>,
    user: &CurrentUser,
    action: &str,
    object: (&str, i64),
    team: &TeamSlug,
    detail: &str,
) -> Result<(), AppError> {
    record_on(db, user, action, (object.0, &object.1.to_string()), team, detail).await
}

/// One audit row about an object of any kind (a team's scratch space: `("team", slug)`).
#[tracing::instrument(skip_all)]
pub(super) async fn record_on(
    db: impl sqlx::PgExecutor<'_>,
    user: &CurrentUser,
    action: &str,
    (kind, id): (&str, &str),
    team: &TeamSlug,
    detail: &str,
) -> Result<(), AppError> {
    let entry = audit::Entry::by(user, action).object(kind, id).team(team.as_str()).detail(detail);
    audit::record(db, &entry).await.map_err(database_error)
}

pub(super) fn content_type(raw: &str) -> Result<String, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok("application/octet-stream".into());
    }
    let fine = raw.len() <= 100
        && raw.split_once('/').is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty())
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || "/.+-_".contains(c));
    if fine { Ok(raw.to_ascii_lowercase()) } else { Err(AppError::invalid("content_type", format!("\"{raw}\" is not a content type."))) }
}
