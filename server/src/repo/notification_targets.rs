//! Notification targets. The webhook URL itself is in SSM; rows name its parameter.

use app::domain::notifications::{NotificationEvent, NotificationTarget, Platform};
use sqlx::{PgExecutor, Row};

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

const COLUMNS: &str = "id, name, platform, team_slug, events, ssm_parameter, url_hint, status, last_error";

fn from_row(row: &sqlx::postgres::PgRow) -> Result<StoredTarget, sqlx::Error> {
    let platform: String = row.try_get("platform")?;
    let events: Vec<String> = row.try_get("events")?;
    Ok(StoredTarget {
        target: NotificationTarget {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            platform: Platform::parse(&platform).ok_or_else(|| sqlx::Error::Decode(format!("unknown platform {platform}").into()))?,
            team: row.try_get("team_slug")?,
            events: events.iter().filter_map(|e| NotificationEvent::parse(e)).collect(),
            url_hint: row.try_get("url_hint")?,
            status: row.try_get("status")?,
            last_error: row.try_get("last_error")?,
        },
        ssm_parameter: row.try_get("ssm_parameter")?,
    })
}

pub async fn insert(db: impl PgExecutor<'_>, new: &NewTarget<'_>) -> Result<i64, sqlx::Error> {
    let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
    sqlx::query_scalar(
        "INSERT INTO notification_targets (name, platform, team_slug, events, ssm_parameter, url_hint, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.name)
    .bind(new.platform.as_str())
    .bind(new.team)
    .bind(&events)
    .bind(new.ssm_parameter)
    .bind(new.url_hint)
    .bind(new.created_by)
    .fetch_one(db)
    .await
}

pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<NotificationTarget>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM notification_targets ORDER BY team_slug NULLS FIRST, name, id"))
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| from_row(row).map(|stored| stored.target))
        .collect()
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<StoredTarget>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM notification_targets WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM notification_targets WHERE id = $1").bind(id).execute(db).await?.rows_affected() == 1)
}

/// Records how the last delivery went; `dead` stops further deliveries until a test succeeds.
pub async fn record_delivery(db: impl PgExecutor<'_>, id: i64, error: Option<&str>, dead: bool) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE notification_targets SET last_error = $2, status = CASE WHEN $3 THEN 'dead' ELSE status END WHERE id = $1")
        .bind(id)
        .bind(error)
        .bind(dead)
        .execute(db)
        .await?;
    Ok(())
}

/// A successful test brings a dead target back.
pub async fn revive(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE notification_targets SET status = 'active', last_error = NULL WHERE id = $1").bind(id).execute(db).await?;
    Ok(())
}
