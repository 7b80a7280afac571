//! People: the user pool as admins manage it (invite, roles and teams, disable and enable),
//! and a team's members as its team admins manage them. Cognito is changed first, then the
//! portal's mirror of it and the audit log, together, so that access changes apply on the
//! user's next request.

use super::{database_error, directory_error, enter_team};
use crate::aws::directory::{Directory, DirectoryError, NewUser};
use crate::changes::AccessCache;
use crate::repo::sessions::end_sessions_of;
use crate::repo::workspaces::{self, LiveOf};
use crate::repo::{audit, teams, users};
use app::caller::must_be_admin;
use app::domain::people::{
    AccessForm, AccountStatus, Disabled, InviteForm, Member, PeoplePage, Person, TeamMembers, groups_for, parse_roles, parse_teams,
    team_admin_may_manage,
};
use app::domain::{CurrentUser, Group, Role, TeamSlug, Username};
use app::error::AppError;
use app::features::people::PeopleService;
use futures::stream::{self, StreamExt};
use sqlx::PgPool;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Cognito calls in flight at once for one page: well below the pool's request quota.
const DIRECTORY_CONCURRENCY: usize = 8;

pub struct People {
    db: PgPool,
    directory: Arc<dyn Directory>,
    /// The SSO provider's display name, when single sign-on is configured.
    provider: Option<String>,
    /// Forgotten after each change, so that this process applies it to the very next request
    /// (other processes hear of it from Postgres).
    access_cache: AccessCache,
}

/// One group to add (`true`) or remove.
type Change = (Group, bool);

impl People {
    pub fn new(db: PgPool, directory: Arc<dyn Directory>, provider: Option<String>, access_cache: AccessCache) -> Self {
        People { db, directory, provider, access_cache }
    }

    /// The user as the pool names them (pools may ignore case), or `NotFound`.
    #[tracing::instrument(skip_all)]
    async fn canonical(&self, username: &str) -> Result<String, AppError> {
        let username = parse_username(username)?;
        match self.directory.user(username.as_str()).await {
            Ok(user) => Ok(user.username),
            Err(DirectoryError::UnknownUser) => Err(AppError::NotFound(format!("The user \"{username}\""))),
            Err(other) => Err(directory_error(other)),
        }
    }

    /// The user as the pool names them and whether they are in the pool at all: someone who
    /// only signs in through SSO is known from the portal's own row.
    #[tracing::instrument(skip_all)]
    async fn known_user(&self, username: &str) -> Result<(String, bool), AppError> {
        match self.canonical(username).await {
            Ok(name) => Ok((name, true)),
            Err(AppError::NotFound(what)) => {
                let name = parse_username(username)?;
                match users::access(&self.db, name.as_str()).await.map_err(database_error)? {
                    Some(_) => Ok((name.to_string(), false)),
                    None => Err(AppError::NotFound(what)),
                }
            }
            Err(other) => Err(other),
        }
    }

    /// The user's groups that the portal manages: roles, and teams that are not archived.
    /// Other groups in the pool (another application's, an archived team's) are left alone.
    #[tracing::instrument(skip_all)]
    async fn groups_of(&self, username: &str) -> Result<BTreeSet<Group>, AppError> {
        let groups = match self.directory.groups_of(username).await {
            Ok(groups) => groups,
            Err(DirectoryError::UnknownUser) => return Err(AppError::NotFound(format!("The user \"{username}\""))),
            Err(other) => return Err(directory_error(other)),
        };
        let live: Vec<TeamSlug> = teams::list_all(&self.db).await.map_err(database_error)?.into_iter().map(|t| t.slug).collect();
        Ok(groups.iter().filter_map(|g| Group::parse(g)).filter(|g| team_of(g).is_none_or(|team| live.contains(team))).collect())
    }

    /// Each user's group names, a few Cognito calls at a time; users gone meanwhile are left out.
    #[tracing::instrument(skip_all)]
    async fn groups_of_many(&self, usernames: &[String]) -> Result<HashMap<String, Vec<String>>, AppError> {
        let results: Vec<(String, Result<Vec<String>, DirectoryError>)> = stream::iter(usernames.iter().cloned())
            .map(|name| async move {
                let groups = self.directory.groups_of(&name).await;
                (name, groups)
            })
            .buffered(DIRECTORY_CONCURRENCY)
            .collect()
            .await;
        let mut found = HashMap::new();
        for (name, groups) in results {
            match groups {
                Ok(groups) => {
                    found.insert(name, groups);
                }
                Err(DirectoryError::UnknownUser) => {}
                Err(other) => return Err(directory_error(other)),
            }
        }
        Ok(found)
    }

    /// Refuses to edit someone whose roles and teams an SSO provider sets at each sign-in.
    #[tracing::instrument(skip_all)]
    async fn refuse_if_from_provider(&self, username: &str) -> Result<(), AppError> {
        let records = users::sign_in_records(&self.db, &[username.to_owned()]).await.map_err(database_error)?;
        if records.get(username).is_some_and(|r| r.from_provider) {
            let provider = self.provider.as_deref().unwrap_or("the single sign-on provider");
            return Err(AppError::Conflict(format!(
                "{username}'s roles and teams come from {provider} at each sign-in: change their groups there."
            )));
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn other_enabled_admins(&self, except: &str) -> Result<usize, AppError> {
        let admins = self.directory.members_of(&Group::Role(Role::Admin).name()).await.map_err(directory_error)?;
        Ok(admins.iter().filter(|u| u.username != except && u.status != AccountStatus::Disabled).count())
    }

    /// Makes the changes in Cognito one by one, then mirrors the ones that were made into
    /// Postgres with an audit row each, in one transaction. A failure midway keeps (and
    /// records) what was done, audits the failure, and is returned.
    #[tracing::instrument(skip_all)]
    async fn apply(&self, actor: &CurrentUser, username: &str, before: &BTreeSet<Group>, changes: &[Change]) -> Result<(), AppError> {
        let mut applied = Vec::new();
        let mut failure = None;
        for (group, add) in changes {
            let name = group.name();
            let result = if *add {
                self.directory.add_to_group(username, &name).await
            } else {
                self.directory.remove_from_group(username, &name).await
            };
            match result {
                Ok(()) => applied.push((group.clone(), *add)),
                Err(error) => {
                    failure = Some((group.clone(), *add, directory_error(error)));
                    break;
                }
            }
        }
        let mut after = before.clone();
        for (group, add) in &applied {
            if *add {
                after.insert(group.clone());
            } else {
                after.remove(group);
            }
        }
        let roles = roles_in(&after);
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::ensure(&mut tx, username, &roles).await.map_err(database_error)?;
        users::set_roles(&mut tx, username, &roles).await.map_err(database_error)?;
        let touched: BTreeSet<TeamSlug> = applied.iter().filter_map(|(g, _)| team_of(g).cloned()).collect();
        for team in &touched {
            let admin = after.contains(&Group::TeamAdmin(team.clone()));
            let member = admin || after.contains(&Group::Team(team.clone()));
            users::set_membership(&mut tx, username, team, member.then_some(admin)).await.map_err(database_error)?;
        }
        for (group, add) in &applied {
            let detail = group.name();
            audit::record(&mut *tx, &change_entry(actor, username, group, *add, &detail)).await.map_err(database_error)?;
        }
        tx.commit().await.map_err(database_error)?;
        self.access_cache.forget(username);
        match failure {
            None => Ok(()),
            Some((group, add, error)) => {
                let detail = format!("{}: {error}", group.name());
                audit::record_refusal(&self.db, &change_entry(actor, username, &group, add, &detail).outcome(audit::Outcome::Failure))
                    .await;
                Err(error)
            }
        }
    }

    /// The team (not archived) and the caller's right to manage its members.
    #[tracing::instrument(skip_all)]
    async fn managed_team(&self, user: &CurrentUser, team: &TeamSlug) -> Result<teams::Team, AppError> {
        let row = enter_team(&self.db, user, team).await?;
        if !user.may_manage_members(team) {
            return Err(AppError::Forbidden);
        }
        Ok(row)
    }

    /// Teams that exist and are not archived, among `wanted`; the others as a field error.
    #[tracing::instrument(skip_all)]
    async fn check_teams(&self, wanted: &[TeamSlug], field: &str) -> Result<(), AppError> {
        let known: Vec<TeamSlug> = teams::list_all(&self.db).await.map_err(database_error)?.into_iter().map(|t| t.slug).collect();
        match wanted.iter().find(|t| !known.contains(t)) {
            Some(unknown) => Err(AppError::invalid(field, format!("There is no team \"{unknown}\"."))),
            None => Ok(()),
        }
    }
}

fn team_of(group: &Group) -> Option<&TeamSlug> {
    match group {
        Group::Team(team) | Group::TeamAdmin(team) => Some(team),
        Group::Role(_) => None,
    }
}

/// The audit row of one group change of `username`, on the group's team if it has one.
fn change_entry<'a>(actor: &'a CurrentUser, username: &'a str, group: &'a Group, add: bool, detail: &'a str) -> audit::Entry<'a> {
    let action = match (group, add) {
        (Group::Role(_), true) => "user.role.add",
        (Group::Role(_), false) => "user.role.remove",
        (Group::Team(_), true) => "team.member.add",
        (Group::Team(_), false) => "team.member.remove",
        (Group::TeamAdmin(_), true) => "team.admin.add",
        (Group::TeamAdmin(_), false) => "team.admin.remove",
    };
    let entry = audit::Entry::by(actor, action).object("user", username).detail(detail);
    match team_of(group) {
        Some(team) => entry.team(team.as_str()),
        None => entry,
    }
}

fn parse_username(raw: &str) -> Result<Username, AppError> {
    Username::parse(raw).map_err(|e| AppError::invalid("username", e.0))
}

fn roles_in(groups: &BTreeSet<Group>) -> Vec<Role> {
    groups
        .iter()
        .filter_map(|g| match g {
            Group::Role(r) => Some(*r),
            _ => None,
        })
        .collect()
}

#[async_trait::async_trait]
impl PeopleService for People {
    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn people(&self, admin: &CurrentUser, search: Option<String>, page: Option<String>) -> Result<PeoplePage, AppError> {
        must_be_admin(admin)?;
        let search = search.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(AppError::invalid("search", "Search with up to 100 characters."));
        }
        let page = page.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
        let listed = self.directory.list_users(search.as_deref(), page.as_deref()).await.map_err(|error| match error {
            // A page token that is not (or no longer) one Cognito gave: real Cognito refuses it,
            // others (moto) fail on it; either way it is the link's fault, not ours.
            DirectoryError::Refused(_) | DirectoryError::Unexpected(_) if page.is_some() => {
                AppError::BadRequest("That page of the list has expired. Start again from the first page.".into())
            }
            other => directory_error(other),
        })?;
        let usernames: Vec<String> = listed.users.iter().map(|u| u.username.clone()).collect();
        let mut groups = self.groups_of_many(&usernames).await?;
        let records = users::sign_in_records(&self.db, &usernames).await.map_err(database_error)?;
        let mut people = Vec::new();
        for user in listed.users {
            // Removed between the two calls: left out rather than failing the page.
            let (Ok(username), Some(groups)) = (Username::parse(&user.username), groups.remove(&user.username)) else { continue };
            let groups = CurrentUser::from_groups(username.clone(), groups.iter().map(String::as_str));
            let record = records.get(&user.username);
            people.push(Person {
                username,
                email: user.email,
                status: user.status,
                roles: groups.roles,
                teams: groups.teams,
                team_admin_of: groups.team_admin_of,
                last_sign_in: record.and_then(|r| r.last_sign_in.clone()),
                managed_by_provider: record.is_some_and(|r| r.from_provider),
            });
        }
        let teams = teams::list_all(&self.db).await.map_err(database_error)?.iter().map(teams::Team::summary).collect();
        Ok(PeoplePage { people, next_page: listed.next_page, teams, provider: self.provider.clone() })
    }

    #[tracing::instrument(skip(self, admin, form), fields(admin = %admin.username, username = %form.username))]
    async fn invite(&self, admin: &CurrentUser, form: InviteForm) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let invite = form.parse().map_err(AppError::Invalid)?;
        self.check_teams(&invite.teams, "teams").await?;
        let username = invite.username.as_str();
        let created = self
            .directory
            .create_user(&NewUser { username, email: &invite.email, temporary_password: invite.temporary_password.as_deref() })
            .await;
        if let Err(error) = created {
            let error = match error {
                DirectoryError::UsernameTaken => AppError::invalid("username", format!("There is already a user named \"{username}\".")),
                DirectoryError::Refused(message) if invite.temporary_password.is_some() && message.to_lowercase().contains("password") => {
                    AppError::invalid("temporary_password", format!("Cognito refused this temporary password: {message}"))
                }
                DirectoryError::Refused(message) if message.to_lowercase().contains("email") => {
                    AppError::invalid("email", format!("Cognito refused this e-mail address: {message}"))
                }
                other => directory_error(other),
            };
            let detail = error.to_string();
            audit::record_refusal(
                &self.db,
                &audit::Entry::by(admin, "user.invite").object("user", username).outcome(audit::Outcome::Failure).detail(&detail),
            )
            .await;
            return Err(error);
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::ensure(&mut tx, username, &[]).await.map_err(database_error)?;
        // A username used before (and deleted from the pool since) starts afresh.
        users::set_disabled(&mut tx, username, false).await.map_err(database_error)?;
        users::set_email(&mut *tx, username, &invite.email).await.map_err(database_error)?;
        let detail = format!("e-mail {}", invite.email);
        audit::record(&mut *tx, &audit::Entry::by(admin, "user.invite").object("user", username).detail(&detail))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        self.access_cache.forget(username);
        let changes: Vec<Change> = groups_for(&invite.roles, &invite.teams, &[]).into_iter().map(|g| (g, true)).collect();
        self.apply(admin, username, &BTreeSet::new(), &changes).await
    }

    #[tracing::instrument(skip(self, admin, form), fields(admin = %admin.username, username = %form.username))]
    async fn set_access(&self, admin: &CurrentUser, form: AccessForm) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let username = self.canonical(&form.username).await?;
        let mut errors = Vec::new();
        let roles = parse_roles(&form.roles, "roles", &mut errors);
        let teams = parse_teams(&form.teams, "teams", &mut errors);
        let team_admin_of = parse_teams(&form.team_admin, "team_admin", &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        self.check_teams(&[teams.as_slice(), team_admin_of.as_slice()].concat(), "teams").await?;
        let before = self.groups_of(&username).await?;
        self.refuse_if_from_provider(&username).await?;
        let wanted: BTreeSet<Group> = groups_for(&roles, &teams, &team_admin_of).into_iter().collect();
        let admin_group = Group::Role(Role::Admin);
        if before.contains(&admin_group) && !wanted.contains(&admin_group) && self.other_enabled_admins(&username).await? == 0 {
            let message = format!("{username} is the last administrator. Make someone else an administrator first.");
            audit::record_refusal(
                &self.db,
                &audit::Entry::by(admin, "user.role.remove")
                    .object("user", username.as_str())
                    .outcome(audit::Outcome::Refused)
                    .detail(&message),
            )
            .await;
            return Err(AppError::invalid("roles", message));
        }
        let changes: Vec<Change> =
            wanted.difference(&before).map(|g| (g.clone(), true)).chain(before.difference(&wanted).map(|g| (g.clone(), false))).collect();
        self.apply(admin, &username, &before, &changes).await
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn disable(&self, admin: &CurrentUser, username: &str) -> Result<Disabled, AppError> {
        must_be_admin(admin)?;
        let (name, in_pool) = self.known_user(username).await?;
        if name.eq_ignore_ascii_case(admin.username.as_str()) {
            let message = "You cannot disable yourself.";
            audit::record_refusal(
                &self.db,
                &audit::Entry::by(admin, "user.disable").object("user", &name).outcome(audit::Outcome::Refused).detail(message),
            )
            .await;
            return Err(AppError::BadRequest(message.into()));
        }
        let mut groups = BTreeSet::new();
        if in_pool {
            self.directory.set_enabled(&name, false).await.map_err(directory_error)?;
            if let Err(error) = self.directory.sign_out_everywhere(&name).await {
                tracing::warn!(%error, "AdminUserGlobalSignOut failed; the portal's sessions end anyway");
            }
            groups = self.groups_of(&name).await.unwrap_or_default();
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::ensure(&mut tx, &name, &roles_in(&groups)).await.map_err(database_error)?;
        users::set_disabled(&mut tx, &name, true).await.map_err(database_error)?;
        let ended = end_sessions_of(&mut tx, &name).await.map_err(database_error)?;
        let detail = format!("{ended} session(s) ended");
        audit::record(&mut *tx, &audit::Entry::by(admin, "user.disable").object("user", &name).detail(&detail))
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        self.access_cache.forget(&name);
        let live_workspaces = workspaces::live(&self.db, LiveOf::Owner(&name)).await.map_err(database_error)?;
        Ok(Disabled { username: parse_username(&name)?, live_workspaces })
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn enable(&self, admin: &CurrentUser, username: &str) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let (name, in_pool) = self.known_user(username).await?;
        if in_pool {
            self.directory.set_enabled(&name, true).await.map_err(directory_error)?;
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::set_disabled(&mut tx, &name, false).await.map_err(database_error)?;
        audit::record(&mut *tx, &audit::Entry::by(admin, "user.enable").object("user", &name)).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        self.access_cache.forget(&name);
        Ok(())
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn members(&self, user: &CurrentUser, team: &TeamSlug) -> Result<TeamMembers, AppError> {
        let row = self.managed_team(user, team).await?;
        let listed = self.directory.members_of(&Group::Team(team.clone()).name()).await.map_err(directory_error)?;
        let usernames: Vec<String> = listed.iter().map(|u| u.username.clone()).collect();
        let mut groups = self.groups_of_many(&usernames).await?;
        let records = users::sign_in_records(&self.db, &usernames).await.map_err(database_error)?;
        let mut members = Vec::new();
        for name in &usernames {
            let (Ok(username), Some(groups)) = (Username::parse(name), groups.remove(name)) else { continue };
            let access = CurrentUser::from_groups(username.clone(), groups.iter().map(String::as_str));
            let team_admin = access.team_admin_of.contains(team);
            let managed_by_provider = records.get(name).is_some_and(|r| r.from_provider);
            let removable = !managed_by_provider && (user.is_admin() || (!team_admin && team_admin_may_manage(&access.roles)));
            members.push(Member { team_admin, roles: access.roles, managed_by_provider, removable, username });
        }
        members.sort_by(|a, b| a.username.as_str().cmp(b.username.as_str()));
        Ok(TeamMembers { team: row.summary(), members })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn add_member(&self, user: &CurrentUser, team: &TeamSlug, username: &str) -> Result<(), AppError> {
        self.managed_team(user, team).await?;
        let username = match self.canonical(username).await {
            Err(AppError::NotFound(_)) => {
                return Err(AppError::invalid("username", format!("There is no user named \"{}\".", username.trim())));
            }
            other => other?,
        };
        let before = self.groups_of(&username).await?;
        self.refuse_if_from_provider(&username).await?;
        if !user.is_admin() && !team_admin_may_manage(&roles_in(&before)) {
            return Err(AppError::Forbidden);
        }
        if before.contains(&Group::Team(team.clone())) {
            return Err(AppError::invalid("username", format!("{username} is already a member.")));
        }
        self.apply(user, &username, &before, &[(Group::Team(team.clone()), true)]).await
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn remove_member(&self, user: &CurrentUser, team: &TeamSlug, username: &str) -> Result<(), AppError> {
        self.managed_team(user, team).await?;
        let username = self.canonical(username).await?;
        let before = self.groups_of(&username).await?;
        self.refuse_if_from_provider(&username).await?;
        let team_admin = Group::TeamAdmin(team.clone());
        if !user.is_admin() && (!team_admin_may_manage(&roles_in(&before)) || before.contains(&team_admin)) {
            return Err(AppError::Forbidden);
        }
        let changes: Vec<Change> =
            [Group::Team(team.clone()), team_admin].into_iter().filter(|g| before.contains(g)).map(|g| (g, false)).collect();
        if changes.is_empty() {
            return Err(AppError::NotFound(format!("{username} on this team")));
        }
        self.apply(user, &username, &before, &changes).await
    }
}
