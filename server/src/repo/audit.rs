//! The audit log: one row per mutation, written in the transaction of the change.

use app::domain::CurrentUser;
use app::domain::audit::{AuditFilter, AuditRow};
use sqlx::{PgExecutor, Row};

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
pub async fn record_refusal(db: impl PgExecutor<'_>, entry: &Entry<'_>) {
    if let Err(error) = record(db, entry).await {
        tracing::warn!(%error, action = entry.action, "Failed to audit a refused or failed request");
    }
}

pub async fn record(db: impl PgExecutor<'_>, entry: &Entry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (actor, actor_roles, action, object_type, object_id, team_slug, client_ip, result, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(entry.actor)
    .bind(&entry.roles)
    .bind(entry.action)
    .bind(entry.object.map(|(kind, _)| kind))
    .bind(entry.object.map(|(_, id)| id))
    .bind(entry.team)
    .bind(entry.client_ip)
    .bind(entry.outcome.as_str())
    .bind(entry.detail)
    .execute(db)
    .await?;
    Ok(())
}

/// The filter, as SQL: `$1` actor, `$2` team, `$3` action prefix, `$4`/`$5` first and last day.
macro_rules! filtered {
    () => {
        "WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR team_slug = $2) \
         AND ($3::text IS NULL OR action LIKE $3 || '%') \
         AND ($4::date IS NULL OR at >= $4::date) AND ($5::date IS NULL OR at < $5::date + 1)"
    };
}

const COUNT: &str = concat!("SELECT count(*) AS n FROM audit_log ", filtered!());
const PAGE: &str = concat!(
    "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at, actor, actor_roles, action, object_type, object_id, \
     team_slug, client_ip, result, detail FROM audit_log ",
    filtered!(),
    " ORDER BY id DESC LIMIT $6 OFFSET $7"
);

/// A page of rows matching `filter`, newest first, and how many match in all.
pub async fn search(db: &sqlx::PgPool, filter: &AuditFilter, limit: i64, offset: i64) -> Result<(Vec<AuditRow>, i64), sqlx::Error> {
    let total: i64 = sqlx::query(COUNT)
        .bind(&filter.actor)
        .bind(&filter.team)
        .bind(&filter.action)
        .bind(&filter.from)
        .bind(&filter.to)
        .fetch_one(db)
        .await?
        .try_get("n")?;
    let rows = sqlx::query(PAGE)
        .bind(&filter.actor)
        .bind(&filter.team)
        .bind(&filter.action)
        .bind(&filter.from)
        .bind(&filter.to)
        .bind(limit)
        .bind(offset)
        .fetch_all(db)
        .await?;
    let rows = rows
        .iter()
        .map(|row| {
            Ok(AuditRow {
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                actor_roles: row.try_get("actor_roles")?,
                action: row.try_get("action")?,
                object_type: row.try_get("object_type")?,
                object_id: row.try_get("object_id")?,
                team: row.try_get("team_slug")?,
                client_ip: row.try_get("client_ip")?,
                result: row.try_get("result")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((rows, total))
}
