//! The audit log: one row per mutation, written in the transaction of the change.

use super::dates;
use app::domain::CurrentUser;
use app::domain::audit::{AuditFilter, AuditRow};
use sqlx::PgExecutor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Refused,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Refused => "refused",
        }
    }
}

/// One audit row. Build it with `by` (a signed-in user) or `anonymous` (a sign-in attempt).
pub struct Entry<'a> {
    pub actor: &'a str,
    pub roles: Vec<&'a str>,
    pub action: &'a str,
    pub object: Option<(&'a str, &'a str)>,
    pub team: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub outcome: Outcome,
    pub detail: Option<&'a str>,
}

impl<'a> Entry<'a> {
    pub fn by(user: &'a CurrentUser, action: &'a str) -> Entry<'a> {
        Entry {
            actor: user.username.as_str(),
            roles: user.roles.iter().map(|r| r.as_str()).collect(),
            action,
            object: None,
            team: None,
            client_ip: user.client_ip.as_deref(),
            outcome: Outcome::Success,
            detail: None,
        }
    }

    pub fn anonymous(actor: &'a str, action: &'a str, client_ip: Option<&'a str>) -> Entry<'a> {
        Entry { actor, roles: Vec::new(), action, object: None, team: None, client_ip, outcome: Outcome::Success, detail: None }
    }

    pub fn object(mut self, kind: &'a str, id: &'a str) -> Self {
        self.object = Some((kind, id));
        self
    }

    pub fn team(mut self, team: &'a str) -> Self {
        self.team = Some(team);
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn detail(mut self, detail: &'a str) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Records a refused or failed attempt that has no transaction of its own: a failure to write
/// it is logged, not returned, so the user still hears why their request was refused.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_refusal(db: impl PgExecutor<'_>, entry: &Entry<'_>) {
    if let Err(error) = record(db, entry).await {
        tracing::warn!(%error, action = entry.action, "Failed to audit a refused or failed request");
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn record(db: impl PgExecutor<'_>, entry: &Entry<'_>) -> Result<(), sqlx::Error> {
    let roles: Vec<String> = entry.roles.iter().map(|r| (*r).to_owned()).collect();
    sqlx::query!(
        "INSERT INTO audit_log (actor, actor_roles, action, object_type, object_id, team_slug, client_ip, result, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        entry.actor,
        &roles,
        entry.action,
        entry.object.map(|(kind, _)| kind),
        entry.object.map(|(_, id)| id),
        entry.team,
        entry.client_ip,
        entry.outcome.as_str(),
        entry.detail,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A page of rows matching `filter`, newest first, and how many match in all. Both statements
/// filter alike: `$1` actor, `$2` team, `$3` action prefix, `$4`/`$5` first and last day
/// (`YYYY-MM-DD`, bound as text and cast to a date by PostgreSQL, which refuses an impossible one).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn search(db: &sqlx::PgPool, filter: &AuditFilter, limit: i64, offset: i64) -> Result<(Vec<AuditRow>, i64), sqlx::Error> {
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM audit_log
           WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR team_slug = $2)
           AND ($3::text IS NULL OR action LIKE $3 || '%')
           AND ($4::text IS NULL OR at >= $4::text::date) AND ($5::text IS NULL OR at < $5::text::date + 1)"#,
        filter.actor.as_deref(),
        filter.team.as_deref(),
        filter.action.as_deref(),
        filter.from.as_deref(),
        filter.to.as_deref(),
    )
    .fetch_one(db)
    .await?;
    let rows = sqlx::query!(
        r#"SELECT at, actor, actor_roles, action, object_type, object_id, team_slug, client_ip, result, detail FROM audit_log
           WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR team_slug = $2)
           AND ($3::text IS NULL OR action LIKE $3 || '%')
           AND ($4::text IS NULL OR at >= $4::text::date) AND ($5::text IS NULL OR at < $5::text::date + 1)
           ORDER BY id DESC LIMIT $6 OFFSET $7"#,
        filter.actor.as_deref(),
        filter.team.as_deref(),
        filter.action.as_deref(),
        filter.from.as_deref(),
        filter.to.as_deref(),
        limit,
        offset,
    )
    .fetch_all(db)
    .await?;
    let rows = rows
        .into_iter()
        .map(|row| AuditRow {
            at: dates::second(row.at),
            actor: row.actor,
            actor_roles: row.actor_roles,
            action: row.action,
            object_type: row.object_type,
            object_id: row.object_id,
            team: row.team_slug,
            client_ip: row.client_ip,
            result: row.result,
            detail: row.detail,
        })
        .collect();
    Ok((rows, total))
}
