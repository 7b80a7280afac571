//! Who uploaded each file of a team's scratch space.

use sqlx::PgExecutor;

/// The uploader of the object, if the portal handed out its upload.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn uploader_of(db: impl PgExecutor<'_>, bucket: &str, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT uploader FROM scratch_uploads WHERE bucket = $1 AND object_key = $2", bucket, key).fetch_optional(db).await
}

/// The uploaders of those of `keys` the portal handed out uploads for: (key, uploader).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn uploaders(db: impl PgExecutor<'_>, bucket: &str, keys: &[String]) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query!("SELECT object_key, uploader FROM scratch_uploads WHERE bucket = $1 AND object_key = ANY($2)", bucket, keys,)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.object_key, row.uploader)).collect())
}

/// Notes `uploader` as the object's uploader (an upload handed out to them).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim(db: impl PgExecutor<'_>, bucket: &str, key: &str, team: &str, uploader: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO scratch_uploads (bucket, object_key, team_slug, uploader) VALUES ($1, $2, $3, $4)
         ON CONFLICT (bucket, object_key) DO UPDATE SET uploader = EXCLUDED.uploader, uploaded_at = now()",
        bucket,
        key,
        team,
        uploader,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets the object's uploader (it was deleted).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget(db: impl PgExecutor<'_>, bucket: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM scratch_uploads WHERE bucket = $1 AND object_key = $2", bucket, key).execute(db).await?;
    Ok(())
}
