//! Notification targets. The webhook URL itself is in SSM; rows name its parameter.

use app::domain::notifications::{NotificationEvent, NotificationTarget, Platform};
use sqlx::PgExecutor;

pub struct NewTarget<'a> {
    pub name: &'a str,
    pub platform: Platform,
    pub team: Option<&'a str>,
    pub events: &'a [NotificationEvent],
    pub ssm_parameter: &'a str,
    pub url_hint: &'a str,
    pub created_by: &'a str,
}

/// A target with the SSM parameter its URL is in.
pub struct StoredTarget {
    pub target: NotificationTarget,
    pub ssm_parameter: String,
}

/// A target's columns as the queries select them.
struct TargetRow {
    id: i64,
    name: String,
    platform: String,
    team_slug: Option<String>,
    events: Vec<String>,
    ssm_parameter: String,
    url_hint: String,
    status: String,
    last_error: Option<String>,
}

impl TryFrom<TargetRow> for StoredTarget {
    type Error = sqlx::Error;

    fn try_from(row: TargetRow) -> Result<StoredTarget, sqlx::Error> {
        let platform = row.platform;
        Ok(StoredTarget {
            target: NotificationTarget {
                id: row.id,
                name: row.name,
                platform: Platform::parse(&platform).ok_or_else(|| sqlx::Error::Decode(format!("unknown platform {platform}").into()))?,
                team: row.team_slug,
                events: row.events.iter().filter_map(|e| NotificationEvent::parse(e)).collect(),
                url_hint: row.url_hint,
                status: row.status,
                last_error: row.last_error,
            },
            ssm_parameter: row.ssm_parameter,
        })
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, new: &NewTarget<'_>) -> Result<i64, sqlx::Error> {
    let events: Vec<String> = new.events.iter().map(|e| e.as_str().to_owned()).collect();
    sqlx::query_scalar!(
        "INSERT INTO notification_targets (name, platform, team_slug, events, ssm_parameter, url_hint, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        new.name,
        new.platform.as_str(),
        new.team,
        &events,
        new.ssm_parameter,
        new.url_hint,
        new.created_by,
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<NotificationTarget>, sqlx::Error> {
    sqlx::query_as!(
        TargetRow,
        "SELECT id, name, platform, team_slug, events, ssm_parameter, url_hint, status, last_error FROM notification_targets \
         ORDER BY team_slug NULLS FIRST, name, id"
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| StoredTarget::try_from(row).map(|stored| stored.target))
    .collect()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<StoredTarget>, sqlx::Error> {
    sqlx::query_as!(
        TargetRow,
        "SELECT id, name, platform, team_slug, events, ssm_parameter, url_hint, status, last_error FROM notification_targets WHERE id = $1",
        id,
    )
    .fetch_optional(db)
    .await?
    .map(StoredTarget::try_from)
    .transpose()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM notification_targets WHERE id = $1", id).execute(db).await?.rows_affected() == 1)
}

/// Records how the last delivery went; `dead` stops further deliveries until a test succeeds.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_delivery(db: impl PgExecutor<'_>, id: i64, error: Option<&str>, dead: bool) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE notification_targets SET last_error = $2, status = CASE WHEN $3 THEN 'dead' ELSE status END WHERE id = $1",
        id,
        error,
        dead,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A successful test brings a dead target back.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revive(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE notification_targets SET status = 'active', last_error = NULL WHERE id = $1", id).execute(db).await?;
    Ok(())
}
