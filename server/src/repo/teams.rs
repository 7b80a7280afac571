use app::domain::team_admin::{CheckStep, ConnectionCheck, ValidTeam};
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
    /// IANA name, for nightly stops.
    pub time_zone: String,
    pub archived: bool,
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
        time_zone: row.try_get("time_zone")?,
        archived: row.try_get::<Option<time::OffsetDateTime>, _>("archived_at")?.is_some(),
    })
}

const COLUMNS: &str = "slug, name, description, aws_account_id, role_arn, ssm_path, time_zone, archived_at";

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

async fn list_where(db: impl PgExecutor<'_>, filter: &str) -> Result<Vec<Team>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM teams {filter} ORDER BY name")).fetch_all(db).await?.iter().map(team_from_row).collect()
}

/// Every team that is not archived.
#[tracing::instrument(skip(db))]
pub async fn list_all(db: impl PgExecutor<'_>) -> Result<Vec<Team>, sqlx::Error> {
    list_where(db, "WHERE archived_at IS NULL").await
}

/// Every team, archived ones too: their costs stay on the dashboard.
#[tracing::instrument(skip(db))]
pub async fn list_with_archived(db: impl PgExecutor<'_>) -> Result<Vec<Team>, sqlx::Error> {
    list_where(db, "").await
}

/// The teams `username` is a member of, as last mirrored from Cognito; archived ones left out.
#[tracing::instrument(skip(db))]
pub async fn list_for_member(db: impl PgExecutor<'_>, username: &str) -> Result<Vec<Team>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM teams t JOIN team_memberships m ON m.team_slug = t.slug \
         WHERE m.username = $1 AND t.archived_at IS NULL ORDER BY t.name"
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

/// Runs an insert or update of a team whose parameters are, in order: slug, name, description,
/// account id, role ARN, SSM path, time zone; the rows it touched.
async fn write(db: impl PgExecutor<'_>, sql: &str, team: &ValidTeam) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(sql)
        .bind(team.slug.as_str())
        .bind(&team.name)
        .bind(&team.description)
        .bind(&team.aws_account_id)
        .bind(&team.role_arn)
        .bind(&team.ssm_path)
        .bind(&team.time_zone)
        .execute(db)
        .await?
        .rows_affected())
}

/// Creates a team from the admin's form; `false` if the slug is taken (archived teams too).
#[tracing::instrument(skip(db, team), fields(slug = %team.slug))]
pub async fn create(db: impl PgExecutor<'_>, team: &ValidTeam) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO teams (slug, name, description, aws_account_id, role_arn, ssm_path, time_zone) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (slug) DO NOTHING";
    Ok(write(db, sql, team).await? == 1)
}

/// Changes everything but the slug; `false` if there is no such team. A changed account or
/// role makes the last connection test meaningless, so it is forgotten.
#[tracing::instrument(skip(db, team), fields(slug = %team.slug))]
pub async fn update(db: impl PgExecutor<'_>, team: &ValidTeam) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE teams SET name = $2, description = $3, ssm_path = $6, time_zone = $7, \
               connection_checked_at = CASE WHEN aws_account_id = $4 AND role_arn = $5 THEN connection_checked_at END, \
               connection_ok = CASE WHEN aws_account_id = $4 AND role_arn = $5 THEN connection_ok END, \
               connection_report = CASE WHEN aws_account_id = $4 AND role_arn = $5 THEN connection_report END, \
               aws_account_id = $4, role_arn = $5 \
               WHERE slug = $1";
    Ok(write(db, sql, team).await? == 1)
}

/// Archives the team unless it is archived already; `false` then.
pub async fn archive(db: impl PgExecutor<'_>, slug: &TeamSlug) -> Result<bool, sqlx::Error> {
    let archived =
        sqlx::query("UPDATE teams SET archived_at = now() WHERE slug = $1 AND archived_at IS NULL").bind(slug.as_str()).execute(db).await?;
    Ok(archived.rows_affected() == 1)
}

/// Remembers the outcome of a connection test.
pub async fn record_connection_check(db: impl PgExecutor<'_>, slug: &TeamSlug, check: &ConnectionCheck) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE teams SET connection_checked_at = now(), connection_ok = $2, connection_report = $3 WHERE slug = $1")
        .bind(slug.as_str())
        .bind(check.ok)
        .bind(sqlx::types::Json(&check.steps))
        .execute(db)
        .await?;
    Ok(())
}

/// What the admin's list shows of each team beyond its row: members and the last check.
pub struct TeamFacts {
    pub team: Team,
    pub members: i64,
    pub last_check: Option<ConnectionCheck>,
}

/// Every team, archived ones too (last), with its member count and last connection test.
#[tracing::instrument(skip(db))]
pub async fn list_for_admin(db: impl PgExecutor<'_>) -> Result<Vec<TeamFacts>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, to_char(connection_checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' AS checked_at, connection_ok, connection_report, \
         (SELECT count(*) FROM team_memberships m WHERE m.team_slug = t.slug) AS members \
         FROM teams t ORDER BY archived_at IS NOT NULL, name"
    ))
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            let checked_at: Option<String> = row.try_get("checked_at")?;
            let ok: Option<bool> = row.try_get("connection_ok")?;
            let report: Option<sqlx::types::Json<Vec<CheckStep>>> = row.try_get("connection_report")?;
            let last_check = match (checked_at, ok, report) {
                (Some(at), Some(ok), Some(report)) => Some(ConnectionCheck { checked_at: at, ok, steps: report.0 }),
                _ => None,
            };
            Ok(TeamFacts { team: team_from_row(row)?, members: row.try_get("members")?, last_check })
        })
        .collect()
}

/// Whether Postgres knows the IANA time zone `name` (it does the nightly-stop arithmetic).
pub async fn is_known_time_zone(db: impl PgExecutor<'_>, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)").bind(name).fetch_one(db).await
}

/// The team's members as last mirrored from Cognito.
pub async fn team_members(db: impl PgExecutor<'_>, team: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT username FROM team_memberships WHERE team_slug = $1 ORDER BY username").bind(team).fetch_all(db).await
}
