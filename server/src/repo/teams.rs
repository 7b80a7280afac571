use app::domain::{TeamSlug, TeamSummary};
use sqlx::{PgExecutor, Row};

/// A team row: what the portal needs to act in the team's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub slug: TeamSlug,
    pub name: String,
    pub description: String,
    pub aws_account_id: String,
    pub role_arn: String,
    pub ssm_path: String,
}

impl Team {
    pub fn summary(&self) -> TeamSummary {
        TeamSummary { slug: self.slug.clone(), name: self.name.clone(), description: self.description.clone() }
    }
}

fn team_from_row(row: &sqlx::postgres::PgRow) -> Result<Team, sqlx::Error> {
    let slug: String = row.try_get("slug")?;
    Ok(Team {
        slug: TeamSlug::parse(&slug).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        aws_account_id: row.try_get("aws_account_id")?,
        role_arn: row.try_get("role_arn")?,
        ssm_path: row.try_get("ssm_path")?,
    })
}

const COLUMNS: &str = "slug, name, description, aws_account_id, role_arn, ssm_path";

#[tracing::instrument(skip(db))]
pub async fn find(db: impl PgExecutor<'_>, slug: &TeamSlug) -> Result<Option<Team>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM teams WHERE slug = $1"))
        .bind(slug.as_str())
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(team_from_row)
        .transpose()
}

#[tracing::instrument(skip(db))]
pub async fn list_all(db: impl PgExecutor<'_>) -> Result<Vec<Team>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM teams ORDER BY name"))
        .fetch_all(db)
        .await?
        .iter()
        .map(team_from_row)
        .collect()
}

/// The teams `username` is a member of, as last mirrored from Cognito.
#[tracing::instrument(skip(db))]
pub async fn list_for_member(db: impl PgExecutor<'_>, username: &str) -> Result<Vec<Team>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM teams t JOIN team_memberships m ON m.team_slug = t.slug \
         WHERE m.username = $1 ORDER BY t.name"
    ))
    .bind(username)
    .fetch_all(db)
    .await?
    .iter()
    .map(team_from_row)
    .collect()
}

/// Creates the team or brings an existing one up to date (used by seeding and admin tools).
#[tracing::instrument(skip(db, team), fields(slug = %team.slug))]
pub async fn upsert(db: impl PgExecutor<'_>, team: &Team) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO teams (slug, name, description, aws_account_id, role_arn, ssm_path) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, \
         aws_account_id = EXCLUDED.aws_account_id, role_arn = EXCLUDED.role_arn, ssm_path = EXCLUDED.ssm_path",
    )
    .bind(team.slug.as_str())
    .bind(&team.name)
    .bind(&team.description)
    .bind(&team.aws_account_id)
    .bind(&team.role_arn)
    .bind(&team.ssm_path)
    .execute(db)
    .await?;
    Ok(())
}
