//! Teams as admins manage them: create (with the Cognito group), edit, test the account
//! connection, archive. Each change is audited in its own transaction.

use super::team_accounts;
use super::{database_error, directory_error};
use crate::aws::account_check::AccountCheck;
use crate::aws::directory::Directory;
use crate::aws::ssm::ParameterStore;
use crate::changes::{AccessCache, Changes, TeamCache};
use crate::repo::workspaces::{self, LiveOf};
use crate::repo::{audit, teams};
use app::caller::must_be_admin;
use app::domain::team_admin::{ConnectionCheck, LeftHome, TeamAccountSetup, TeamAdminRow, TeamForm};
use app::domain::{CurrentUser, Group, TeamSlug};
use app::error::AppError;
use app::features::team_admin::TeamAdminService;
use sqlx::PgPool;
use std::sync::Arc;

/// Where team accounts' stacks come from: the template's public URL, the portal's account
/// (asked of STS when not configured) and region.
#[derive(Clone, Debug, Default)]
pub struct StackSettings {
    pub template_url: Option<String>,
    pub portal_account_id: Option<String>,
    pub region: String,
}

pub struct TeamAdmin {
    db: PgPool,
    directory: Arc<dyn Directory>,
    account_check: Arc<dyn AccountCheck>,
    /// The teams' parameters (their studies bucket, for the connection test).
    parameters: Arc<dyn ParameterStore>,
    stacks: StackSettings,
    /// Emptied when a team is archived (its members' access changes).
    access_cache: AccessCache,
    /// Emptied when a team is created, changed or archived, for this process's next request.
    team_rows: TeamCache,
    /// People's homes on the teams' file systems.
    homes: Arc<crate::services::homes::Homes>,
}

impl TeamAdmin {
    pub fn new(
        db: PgPool,
        directory: Arc<dyn Directory>,
        account_check: Arc<dyn AccountCheck>,
        parameters: Arc<dyn ParameterStore>,
        stacks: StackSettings,
        changes: &Changes,
        homes: Arc<crate::services::homes::Homes>,
    ) -> Self {
        let (access_cache, team_rows) = (changes.access.clone(), changes.teams.clone());
        TeamAdmin { db, directory, account_check, parameters, stacks, access_cache, team_rows, homes }
    }

    /// The portal's account id, as configured or as STS says.
    async fn portal_account(&self) -> Result<String, AppError> {
        if let Some(account) = &self.stacks.portal_account_id {
            return Ok(account.clone());
        }
        self.account_check.portal_account().await.map_err(|error| {
            tracing::warn!(%error, "The portal's account id is unknown");
            AppError::Unavailable(format!("The portal could not ask AWS for its own account id ({error}); set ATRIUM_PORTAL_ACCOUNT_ID."))
        })
    }

    #[tracing::instrument(skip_all)]
    async fn team(&self, slug: &TeamSlug) -> Result<teams::Team, AppError> {
        teams::find(&self.db, slug).await.map_err(database_error)?.ok_or_else(|| AppError::NotFound(format!("The team \"{slug}\"")))
    }

    #[tracing::instrument(skip_all)]
    async fn check_time_zone(&self, zone: &str) -> Result<(), AppError> {
        if teams::is_known_time_zone(&self.db, zone).await.map_err(database_error)? {
            Ok(())
        } else {
            Err(AppError::invalid("time_zone", format!("\"{zone}\" is not a time zone; give one such as Europe/Berlin.")))
        }
    }
}

fn now_label() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::now_utc().format(format).unwrap_or_default()
}

#[async_trait::async_trait]
impl TeamAdminService for TeamAdmin {
    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn teams(&self, admin: &CurrentUser) -> Result<Vec<TeamAdminRow>, AppError> {
        must_be_admin(admin)?;
        let listed = teams::list_for_admin(&self.db).await.map_err(database_error)?;
        let mut conn = self.db.acquire().await.map_err(database_error)?;
        let today = super::costs::today();
        let mut rows = Vec::with_capacity(listed.len());
        for facts in listed {
            let month = super::costs::month_budget(&mut conn, &facts.team, today).await.map_err(database_error)?;
            let live_workspaces = workspaces::live(&mut *conn, LiveOf::Team(&facts.team.slug)).await.map_err(database_error)?;
            let left_homes = self
                .homes
                .of_disabled(&facts.team)
                .await?
                .into_iter()
                .map(|home| LeftHome { username: home.username, access_point_id: home.access_point_id, created_at: home.created_at })
                .collect();
            let team = facts.team;
            rows.push(TeamAdminRow {
                slug: team.slug,
                name: team.name,
                description: team.description,
                aws_account_id: team.aws_account_id,
                role_arn: team.role_arn,
                external_id: team.external_id,
                external_id_rotated_at: facts.external_id_rotated_at.map(crate::repo::dates::minute_utc),
                ssm_path: team.ssm_path,
                time_zone: team.time_zone,
                reviewers: team.reviewers,
                members: facts.members,
                live_workspaces,
                month_spent_cents: month.spent_cents,
                budget_cents: month.budget_cents,
                archived: team.archived,
                last_check: facts.last_check,
                left_homes,
            });
        }
        Ok(rows)
    }

    #[tracing::instrument(skip(self, admin, form), fields(admin = %admin.username, slug = %form.slug))]
    async fn create_team(&self, admin: &CurrentUser, form: TeamForm) -> Result<TeamSlug, AppError> {
        must_be_admin(admin)?;
        let team = form.parse(true).map_err(AppError::Invalid)?;
        self.check_time_zone(&team.time_zone).await?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        if !teams::create(&mut *tx, &team).await.map_err(database_error)? {
            return Err(AppError::invalid(
                "slug",
                format!("There is already a team \"{}\" (perhaps archived). Choose another slug.", team.slug),
            ));
        }
        // The groups are made before the row commits: a team without them would be one nobody
        // can be put on. A failure here rolls the row back.
        let groups = [
            (Group::Team(team.slug.clone()), format!("Members of {}", team.name)),
            (Group::TeamAdmin(team.slug.clone()), format!("Team admins of {}", team.name)),
        ];
        for (group, description) in groups {
            if let Err(error) = self.directory.create_group(&group.name(), &description).await {
                drop(tx);
                let error = directory_error(error);
                let detail = error.to_string();
                let entry = audit::Entry::by(admin, "team.create")
                    .object("team", team.slug.as_str())
                    .outcome(audit::Outcome::Failure)
                    .detail(&detail);
                audit::record_refusal(&self.db, &entry).await;
                return Err(error);
            }
        }
        let detail = format!("{} ({}, {})", team.name, team.aws_account_id, team.role_arn);
        let entry = audit::Entry::by(admin, "team.create").object("team", team.slug.as_str()).team(team.slug.as_str()).detail(&detail);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        self.team_rows.forget_all();
        tracing::info!("Created a team");
        Ok(team.slug)
    }

    #[tracing::instrument(skip(self, admin, form), fields(admin = %admin.username, slug = %form.slug))]
    async fn update_team(&self, admin: &CurrentUser, form: TeamForm) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let team = form.parse(false).map_err(AppError::Invalid)?;
        self.check_time_zone(&team.time_zone).await?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        if !teams::update(&mut *tx, &team).await.map_err(database_error)? {
            return Err(AppError::NotFound(format!("The team \"{}\"", team.slug)));
        }
        let detail = format!("{} ({}, {}, {})", team.name, team.aws_account_id, team.role_arn, team.ssm_path);
        let entry = audit::Entry::by(admin, "team.update").object("team", team.slug.as_str()).team(team.slug.as_str()).detail(&detail);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        self.team_rows.forget_all();
        Ok(())
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn test_connection(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<ConnectionCheck, AppError> {
        must_be_admin(admin)?;
        let team = self.team(slug).await?;
        let studies_bucket = match crate::services::teams::metadata_of(self.parameters.as_ref(), &team).await {
            Ok((metadata, _)) => metadata.bucket_for_studies(),
            Err(error) => {
                tracing::warn!(%error, "Failed to read the team's parameters; its studies are not checked");
                None
            }
        };
        let steps = self.account_check.check(&team.role(), &team.ssm_path, studies_bucket.as_deref()).await;
        let ok = steps.iter().all(|s| s.ok);
        let check = ConnectionCheck { checked_at: now_label(), ok, steps };
        let detail =
            check.steps.iter().find(|s| !s.ok).map_or_else(|| "every step passed".to_owned(), |s| format!("{}: {}", s.step, s.detail));
        let outcome = if ok { audit::Outcome::Success } else { audit::Outcome::Failure };
        let mut tx = self.db.begin().await.map_err(database_error)?;
        teams::record_connection_check(&mut *tx, slug, &check).await.map_err(database_error)?;
        let entry = audit::Entry::by(admin, "team.test_connection")
            .object("team", slug.as_str())
            .team(slug.as_str())
            .outcome(outcome)
            .detail(&detail);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(check)
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn account_setup(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<TeamAccountSetup, AppError> {
        must_be_admin(admin)?;
        let team = self.team(slug).await?;
        let portal_account_id = self.portal_account().await?;
        let site = team_accounts::StackSite {
            portal_account_id: &portal_account_id,
            region: &self.stacks.region,
            template_url: self.stacks.template_url.as_deref(),
        };
        Ok(team_accounts::setup(&team, &site))
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn account_template(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<String, AppError> {
        must_be_admin(admin)?;
        let team = self.team(slug).await?;
        Ok(team_accounts::template_for(&team, &self.portal_account().await?))
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn rotate_external_id(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<String, AppError> {
        must_be_admin(admin)?;
        let team = self.team(slug).await?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let external_id = teams::rotate_external_id(&mut *tx, slug).await.map_err(database_error)?;
        // The id itself is no secret, but the audit log need not carry it.
        let detail = format!("{}: the role's trust must now require the new external id", team.name);
        let entry = audit::Entry::by(admin, "team.external_id.rotate").object("team", slug.as_str()).team(slug.as_str()).detail(&detail);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        // Sessions cached under the old id are keyed by it, so no AssumeRole uses it again.
        self.team_rows.forget_all();
        Ok(external_id)
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn remove_home(&self, admin: &CurrentUser, slug: &TeamSlug, username: &str) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let team = self.team(slug).await?;
        self.homes.remove(admin, &team, username).await
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn archive_team(&self, admin: &CurrentUser, slug: &TeamSlug) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let team = self.team(slug).await?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        // Launches lock the team's budget row; taking the same lock means no launch slips in
        // between the count and the archive.
        crate::repo::costs::lock_team_budget(&mut tx, slug.as_str()).await.map_err(database_error)?;
        let live = workspaces::live(&mut *tx, LiveOf::Team(slug)).await.map_err(database_error)?;
        if !live.is_empty() {
            drop(tx);
            let names: Vec<String> = live.iter().map(|w| format!("{} ({}, {})", w.name, w.owner, w.state)).collect();
            let message = format!(
                "{} still has {} workspace{} that {} not terminated: {}. Terminate them first (they are linked on the team's row).",
                team.name,
                live.len(),
                if live.len() == 1 { "" } else { "s" },
                if live.len() == 1 { "is" } else { "are" },
                names.join(", ")
            );
            let entry = audit::Entry::by(admin, "team.archive")
                .object("team", slug.as_str())
                .team(slug.as_str())
                .outcome(audit::Outcome::Refused)
                .detail(&message);
            audit::record_refusal(&self.db, &entry).await;
            return Err(AppError::Conflict(message));
        }
        if !teams::archive(&mut *tx, slug).await.map_err(database_error)? {
            return Err(AppError::Conflict(format!("{} is archived already.", team.name)));
        }
        let entry = audit::Entry::by(admin, "team.archive").object("team", slug.as_str()).team(slug.as_str()).detail(&team.name);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        // Its members leave it on their next request here; other processes hear of it.
        self.access_cache.forget_all();
        self.team_rows.forget_all();
        Ok(())
    }
}
