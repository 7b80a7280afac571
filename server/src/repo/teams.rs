use super::dates;
use crate::aws::team_role::TeamRole;
use app::domain::team_admin::{CheckStep, ConnectionCheck, ValidTeam};
use app::domain::{TeamSlug, TeamSummary};
use sqlx::PgExecutor;
use sqlx::types::Json;

/// A team row: what the portal needs to act in the team's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub slug: TeamSlug,
    pub name: String,
    pub description: String,
    pub aws_account_id: String,
    pub role_arn: String,
    /// The external id the role's trust requires. The database makes one for a new team (what
    /// an insert is given here is ignored).
    pub external_id: String,
    pub ssm_path: String,
    /// IANA name, for nightly stops.
    pub time_zone: String,
    /// Approvals an airlock request on the team's studies needs (1 or 2).
    pub reviewers: i16,
    pub archived: bool,
}

impl Team {
    /// The role the portal assumes in the team's account, with the team's external id.
    pub fn role(&self) -> TeamRole {
        TeamRole::new(&self.role_arn, &self.external_id)
    }

    pub fn summary(&self) -> TeamSummary {
        TeamSummary { slug: self.slug.clone(), name: self.name.clone(), description: self.description.clone() }
    }
}

/// A team's columns as the queries select them (`slug, name, description, aws_account_id,
/// role_arn, external_id, ssm_path, time_zone, reviewers, archived_at`).
struct TeamRow {
    slug: String,
    name: String,
    description: String,
    aws_account_id: String,
    role_arn: String,
    external_id: String,
    ssm_path: String,
    time_zone: String,
    reviewers: i16,
    archived_at: Option<time::OffsetDateTime>,
}

impl TryFrom<TeamRow> for Team {
    type Error = sqlx::Error;

    fn try_from(row: TeamRow) -> Result<Team, sqlx::Error> {
        Ok(Team {
            slug: TeamSlug::parse(&row.slug).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            name: row.name,
            description: row.description,
            aws_account_id: row.aws_account_id,
            role_arn: row.role_arn,
            external_id: row.external_id,
            ssm_path: row.ssm_path,
            time_zone: row.time_zone,
            reviewers: row.reviewers,
            archived: row.archived_at.is_some(),
        })
    }
}

fn teams(rows: Vec<TeamRow>) -> Result<Vec<Team>, sqlx::Error> {
    rows.into_iter().map(Team::try_from).collect()
}

#[tracing::instrument(skip(db))]
pub async fn find(db: impl PgExecutor<'_>, slug: &TeamSlug) -> Result<Option<Team>, sqlx::Error> {
    sqlx::query_as!(
        TeamRow,
        "SELECT slug, name, description, aws_account_id, role_arn, external_id, ssm_path, time_zone, reviewers, archived_at FROM teams WHERE slug = $1",
        slug.as_str(),
    )
    .fetch_optional(db)
    .await?
    .map(Team::try_from)
    .transpose()
}

/// Every team, or (`with_archived` false) every team that is not archived.
#[tracing::instrument(level = "debug", skip_all)]
async fn list(db: impl PgExecutor<'_>, with_archived: bool) -> Result<Vec<Team>, sqlx::Error> {
    teams(
        sqlx::query_as!(
            TeamRow,
            "SELECT slug, name, description, aws_account_id, role_arn, external_id, ssm_path, time_zone, reviewers, archived_at FROM teams \
             WHERE $1 OR archived_at IS NULL ORDER BY name",
            with_archived,
        )
        .fetch_all(db)
        .await?,
    )
}

/// Every team that is not archived.
#[tracing::instrument(skip(db))]
pub async fn list_all(db: impl PgExecutor<'_>) -> Result<Vec<Team>, sqlx::Error> {
    list(db, false).await
}

/// Every team, archived ones too: their costs stay on the dashboard.
#[tracing::instrument(skip(db))]
pub async fn list_with_archived(db: impl PgExecutor<'_>) -> Result<Vec<Team>, sqlx::Error> {
    list(db, true).await
}

/// The teams `username` is a member of, as last mirrored from Cognito; archived ones left out.
#[tracing::instrument(skip(db))]
pub async fn list_for_member(db: impl PgExecutor<'_>, username: &str) -> Result<Vec<Team>, sqlx::Error> {
    teams(
        sqlx::query_as!(
            TeamRow,
            "SELECT t.slug, t.name, t.description, t.aws_account_id, t.role_arn, t.external_id, t.ssm_path, t.time_zone, t.reviewers, t.archived_at \
             FROM teams t JOIN team_memberships m ON m.team_slug = t.slug \
             WHERE m.username = $1 AND t.archived_at IS NULL ORDER BY t.name",
            username,
        )
        .fetch_all(db)
        .await?,
    )
}

/// Creates the team or brings an existing one up to date (used by seeding and admin tools).
#[tracing::instrument(skip(db, team), fields(slug = %team.slug))]
pub async fn upsert(db: impl PgExecutor<'_>, team: &Team) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO teams (slug, name, description, aws_account_id, role_arn, ssm_path, reviewers) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, \
         aws_account_id = EXCLUDED.aws_account_id, role_arn = EXCLUDED.role_arn, ssm_path = EXCLUDED.ssm_path, \
         reviewers = EXCLUDED.reviewers",
        team.slug.as_str(),
        team.name,
        team.description,
        team.aws_account_id,
        team.role_arn,
        team.ssm_path,
        team.reviewers,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Creates a team from the admin's form; `false` if the slug is taken (archived teams too).
#[tracing::instrument(skip(db, team), fields(slug = %team.slug))]
pub async fn create(db: impl PgExecutor<'_>, team: &ValidTeam) -> Result<bool, sqlx::Error> {
    let created = sqlx::query!(
        "INSERT INTO teams (slug, name, description, aws_account_id, role_arn, ssm_path, time_zone, reviewers) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (slug) DO NOTHING",
        team.slug.as_str(),
        team.name,
        team.description,
        team.aws_account_id,
        team.role_arn,
        team.ssm_path,
        team.time_zone,
        team.reviewers.unwrap_or(1),
    )
    .execute(db)
    .await?;
    Ok(created.rows_affected() == 1)
}

/// Changes everything but the slug; `false` if there is no such team. A changed account or
/// role makes the last connection test meaningless, so it is forgotten.
#[tracing::instrument(skip(db, team), fields(slug = %team.slug))]
pub async fn update(db: impl PgExecutor<'_>, team: &ValidTeam) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "UPDATE teams SET name = $2, description = $3, ssm_path = $6, time_zone = $7, reviewers = coalesce($8, reviewers), \
         connection_checked_at = CASE WHEN aws_account_id = $4 AND role_arn = $5 THEN connection_checked_at END, \
         connection_ok = CASE WHEN aws_account_id = $4 AND role_arn = $5 THEN connection_ok END, \
         connection_report = CASE WHEN aws_account_id = $4 AND role_arn = $5 THEN connection_report END, \
         aws_account_id = $4, role_arn = $5 \
         WHERE slug = $1",
        team.slug.as_str(),
        team.name,
        team.description,
        team.aws_account_id,
        team.role_arn,
        team.ssm_path,
        team.time_zone,
        team.reviewers,
    )
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Archives the team unless it is archived already; `false` then.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn archive(db: impl PgExecutor<'_>, slug: &TeamSlug) -> Result<bool, sqlx::Error> {
    let archived =
        sqlx::query!("UPDATE teams SET archived_at = now() WHERE slug = $1 AND archived_at IS NULL", slug.as_str()).execute(db).await?;
    Ok(archived.rows_affected() == 1)
}

/// Remembers the outcome of a connection test.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_connection_check(db: impl PgExecutor<'_>, slug: &TeamSlug, check: &ConnectionCheck) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE teams SET connection_checked_at = now(), connection_ok = $2, connection_report = $3 WHERE slug = $1",
        slug.as_str(),
        check.ok,
        Json(&check.steps) as _,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// What the admin's list shows of each team beyond its row: members and the last check.
pub struct TeamFacts {
    pub team: Team,
    pub external_id_rotated_at: Option<time::OffsetDateTime>,
    pub members: i64,
    pub last_check: Option<ConnectionCheck>,
}

/// Every team, archived ones too (last), with its member count and last connection test.
#[tracing::instrument(skip(db))]
pub async fn list_for_admin(db: impl PgExecutor<'_>) -> Result<Vec<TeamFacts>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT slug, name, description, aws_account_id, role_arn, external_id, ssm_path, time_zone, reviewers, archived_at, external_id_rotated_at,
         connection_checked_at, connection_ok, connection_report AS "connection_report: Json<Vec<CheckStep>>",
         (SELECT count(*) FROM team_memberships m WHERE m.team_slug = t.slug) AS "members!"
         FROM teams t ORDER BY archived_at IS NOT NULL, name"#
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            let last_check = match (row.connection_checked_at, row.connection_ok, row.connection_report) {
                (Some(at), Some(ok), Some(report)) => Some(ConnectionCheck { checked_at: dates::minute_utc(at), ok, steps: report.0 }),
                _ => None,
            };
            let team = Team::try_from(TeamRow {
                slug: row.slug,
                name: row.name,
                description: row.description,
                aws_account_id: row.aws_account_id,
                role_arn: row.role_arn,
                external_id: row.external_id,
                ssm_path: row.ssm_path,
                time_zone: row.time_zone,
                reviewers: row.reviewers,
                archived_at: row.archived_at,
            })?;
            Ok(TeamFacts { team, external_id_rotated_at: row.external_id_rotated_at, members: row.members, last_check })
        })
        .collect()
}

/// Gives the team a new external id (the column's default makes it); the new id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn rotate_external_id(db: impl PgExecutor<'_>, slug: &TeamSlug) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE teams SET external_id = DEFAULT, external_id_rotated_at = now() WHERE slug = $1 RETURNING external_id",
        slug.as_str()
    )
    .fetch_one(db)
    .await
}

/// Whether Postgres knows the IANA time zone `name` (it does the nightly-stop arithmetic).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_known_time_zone(db: impl PgExecutor<'_>, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1) AS "known!""#, name).fetch_one(db).await
}

/// The team's members as last mirrored from Cognito.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn team_members(db: impl PgExecutor<'_>, team: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT username FROM team_memberships WHERE team_slug = $1 ORDER BY username", team).fetch_all(db).await
}
