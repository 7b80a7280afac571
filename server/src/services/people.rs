//! People: the user pool as admins manage it (invite, roles and teams, disable and enable),
//! and a team's members as its team admins manage them. Cognito is changed first, then the
//! portal's mirror of it and the audit log, together, so that access changes apply on the
//! user's next request.

use super::{database_error, directory_error, enter_team};
use crate::auth::session_store::end_sessions_of;
use crate::aws::directory::{Directory, DirectoryError, NewUser};
use crate::repo::workspaces::{self, LiveOf};
use crate::repo::{audit, teams, users};
use app::domain::people::{
    groups_for, parse_roles, parse_teams, team_admin_may_manage, AccessForm, AccountStatus, Disabled, InviteForm, Member, PeoplePage, Person, TeamMembers,
};
use app::domain::{CurrentUser, Group, Role, TeamSlug, Username};
use app::error::AppError;
use app::services::{must_be_admin, PeopleService};
use sqlx::PgPool;
use std::collections::BTreeSet;
use std::sync::Arc;

pub struct People {
    db: PgPool,
    directory: Arc<dyn Directory>,
    /// The SSO provider's display name, when single sign-on is configured.
    provider: Option<String>,
}

/// One group to add (`true`) or remove.
type Change = (Group, bool);

impl People {
    pub fn new(db: PgPool, directory: Arc<dyn Directory>, provider: Option<String>) -> Self {
        People { db, directory, provider }
    }

    /// The user's groups that mean something to Atrium; `NotFound` for an unknown user.
    async fn groups_of(&self, username: &str) -> Result<BTreeSet<GroupKey>, AppError> {
        match self.directory.groups_of(username).await {
            Ok(groups) => Ok(groups.iter().filter_map(|g| Group::parse(g)).map(GroupKey).collect()),
            Err(DirectoryError::UnknownUser) => Err(AppError::NotFound(format!("The user \"{username}\""))),
            Err(other) => Err(directory_error(other)),
        }
    }

    /// Refuses to edit someone whose roles and teams an SSO provider sets at each sign-in.
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

    async fn other_enabled_admins(&self, except: &str) -> Result<usize, AppError> {
        let admins = self.directory.members_of(&Group::Role(Role::Admin).name()).await.map_err(directory_error)?;
        Ok(admins.iter().filter(|u| u.username != except && u.status != AccountStatus::Disabled).count())
    }

    async fn audit_outside(&self, entry: &audit::Entry<'_>) {
        if let Err(error) = audit::record(&self.db, entry).await {
            tracing::warn!(%error, action = entry.action, "Failed to audit a refused or failed change");
        }
    }

    /// Makes the changes in Cognito one by one, then mirrors the ones that were made into
    /// Postgres with an audit row each, in one transaction. A failure midway keeps (and
    /// records) what was done, audits the failure, and is returned.
    async fn apply(&self, actor: &CurrentUser, username: &str, before: &BTreeSet<GroupKey>, changes: &[Change]) -> Result<(), AppError> {
        let mut applied = Vec::new();
        let mut failure = None;
        for (group, add) in changes {
            let name = group.name();
            let result = if *add { self.directory.add_to_group(username, &name).await } else { self.directory.remove_from_group(username, &name).await };
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
                after.insert(GroupKey(group.clone()));
            } else {
                after.remove(&GroupKey(group.clone()));
            }
        }
        let roles: Vec<Role> = after.iter().filter_map(|g| match &g.0 { Group::Role(r) => Some(*r), _ => None }).collect();
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::ensure(&mut tx, username, &roles).await.map_err(database_error)?;
        users::set_roles(&mut tx, username, &roles).await.map_err(database_error)?;
        let touched: BTreeSet<TeamSlug> = applied.iter().filter_map(|(g, _)| team_of(g).cloned()).collect();
        for team in &touched {
            let admin = after.contains(&GroupKey(Group::TeamAdmin(team.clone())));
            let member = admin || after.contains(&GroupKey(Group::Team(team.clone())));
            users::set_membership(&mut tx, username, team, member.then_some(admin)).await.map_err(database_error)?;
        }
        for (group, add) in &applied {
            let (action, detail) = describe(group, *add);
            let mut entry = audit::Entry::by(actor, action).object("user", username).detail(&detail);
            if let Some(team) = team_of(group) {
                entry = entry.team(team.as_str());
            }
            audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        }
        tx.commit().await.map_err(database_error)?;
        match failure {
            None => Ok(()),
            Some((group, add, error)) => {
                let (action, detail) = describe(&group, add);
                let detail = format!("{detail}: {error}");
                let mut entry = audit::Entry::by(actor, action).object("user", username).outcome(audit::Outcome::Failure).detail(&detail);
                if let Some(team) = team_of(&group) {
                    entry = entry.team(team.as_str());
                }
                self.audit_outside(&entry).await;
                Err(error)
            }
        }
    }

    /// The team (not archived) and the caller's right to manage its members.
    async fn managed_team(&self, user: &CurrentUser, team: &TeamSlug) -> Result<teams::Team, AppError> {
        let row = enter_team(&self.db, user, team).await?;
        if !user.may_manage_members(team) {
            return Err(AppError::Forbidden);
        }
        Ok(row)
    }

    /// Teams that exist and are not archived, among `wanted`; the others as a field error.
    async fn check_teams(&self, wanted: &[TeamSlug], field: &str) -> Result<(), AppError> {
        let known: Vec<TeamSlug> = teams::list_all(&self.db).await.map_err(database_error)?.into_iter().map(|t| t.slug).collect();
        match wanted.iter().find(|t| !known.contains(t)) {
            Some(unknown) => Err(AppError::invalid(field, format!("There is no team \"{unknown}\"."))),
            None => Ok(()),
        }
    }
}

/// `Group` in a set: ordered by its group name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct GroupKey(Group);

impl Ord for GroupKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.name().cmp(&other.0.name())
    }
}

impl PartialOrd for GroupKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn team_of(group: &Group) -> Option<&TeamSlug> {
    match group {
        Group::Team(team) | Group::TeamAdmin(team) => Some(team),
        Group::Role(_) => None,
    }
}

/// The audit action and detail of one group change.
fn describe(group: &Group, add: bool) -> (&'static str, String) {
    let action = match (group, add) {
        (Group::Role(_), true) => "user.role.add",
        (Group::Role(_), false) => "user.role.remove",
        (Group::Team(_), true) => "team.member.add",
        (Group::Team(_), false) => "team.member.remove",
        (Group::TeamAdmin(_), true) => "team.admin.add",
        (Group::TeamAdmin(_), false) => "team.admin.remove",
    };
    (action, group.name())
}

fn parse_username(raw: &str) -> Result<Username, AppError> {
    Username::parse(raw).map_err(|e| AppError::invalid("username", e.0))
}

fn roles_in(groups: &BTreeSet<GroupKey>) -> Vec<Role> {
    groups.iter().filter_map(|g| match g.0 { Group::Role(r) => Some(r), _ => None }).collect()
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
        let page = page.filter(|p| !p.is_empty());
        let listed = self.directory.list_users(search.as_deref(), page.as_deref()).await.map_err(|error| match error {
            DirectoryError::Refused(_) if page.is_some() => AppError::BadRequest("That page of the list has expired. Start again from the first page.".into()),
            other => directory_error(other),
        })?;
        let groups = futures::future::join_all(listed.users.iter().map(|u| self.directory.groups_of(&u.username))).await;
        let usernames: Vec<String> = listed.users.iter().map(|u| u.username.clone()).collect();
        let records = users::sign_in_records(&self.db, &usernames).await.map_err(database_error)?;
        let mut people = Vec::new();
        for (user, groups) in listed.users.into_iter().zip(groups) {
            let Ok(username) = Username::parse(&user.username) else { continue };
            // Removed between the two calls: leave them out rather than fail the page.
            let groups = match groups {
                Ok(groups) => groups,
                Err(DirectoryError::UnknownUser) => continue,
                Err(other) => return Err(directory_error(other)),
            };
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
                other => directory_error(other),
            };
            let detail = error.to_string();
            self.audit_outside(&audit::Entry::by(admin, "user.invite").object("user", username).outcome(audit::Outcome::Failure).detail(&detail)).await;
            return Err(error);
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::ensure(&mut tx, username, &[]).await.map_err(database_error)?;
        let detail = format!("e-mail {}", invite.email);
        audit::record(&mut *tx, &audit::Entry::by(admin, "user.invite").object("user", username).detail(&detail)).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        let changes: Vec<Change> = groups_for(&invite.roles, &invite.teams, &[]).into_iter().map(|g| (g, true)).collect();
        self.apply(admin, username, &BTreeSet::new(), &changes).await
    }

    #[tracing::instrument(skip(self, admin, form), fields(admin = %admin.username, username = %form.username))]
    async fn set_access(&self, admin: &CurrentUser, form: AccessForm) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let username = parse_username(&form.username)?;
        let mut errors = Vec::new();
        let roles = parse_roles(&form.roles, "roles", &mut errors);
        let teams = parse_teams(&form.teams, "teams", &mut errors);
        let team_admin_of = parse_teams(&form.team_admin, "team_admin", &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        self.check_teams(&teams, "teams").await?;
        self.check_teams(&team_admin_of, "team_admin").await?;
        let before = self.groups_of(username.as_str()).await?;
        self.refuse_if_from_provider(username.as_str()).await?;
        let wanted: BTreeSet<GroupKey> = groups_for(&roles, &teams, &team_admin_of).into_iter().map(GroupKey).collect();
        let admin_group = GroupKey(Group::Role(Role::Admin));
        if before.contains(&admin_group) && !wanted.contains(&admin_group) && self.other_enabled_admins(username.as_str()).await? == 0 {
            let message = format!("{username} is the last administrator. Make someone else an administrator first.");
            self.audit_outside(&audit::Entry::by(admin, "user.role.remove").object("user", username.as_str()).outcome(audit::Outcome::Refused).detail(&message))
                .await;
            return Err(AppError::invalid("roles", message));
        }
        let changes: Vec<Change> = wanted
            .difference(&before)
            .map(|g| (g.0.clone(), true))
            .chain(before.difference(&wanted).map(|g| (g.0.clone(), false)))
            .collect();
        self.apply(admin, username.as_str(), &before, &changes).await
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn disable(&self, admin: &CurrentUser, username: &str) -> Result<Disabled, AppError> {
        must_be_admin(admin)?;
        let username = parse_username(username)?;
        let name = username.as_str();
        if username == admin.username {
            let message = "You cannot disable yourself.";
            self.audit_outside(&audit::Entry::by(admin, "user.disable").object("user", name).outcome(audit::Outcome::Refused).detail(message)).await;
            return Err(AppError::BadRequest(message.into()));
        }
        let known_here = users::access(&self.db, name).await.map_err(database_error)?;
        let groups = match self.directory.set_enabled(name, false).await {
            // Someone who only ever signs in through SSO is not in the pool: the portal's own
            // flag is what stops them.
            Err(DirectoryError::UnknownUser) if known_here.is_some() => BTreeSet::new(),
            Err(error) => return Err(directory_error(error)),
            Ok(()) => {
                if let Err(error) = self.directory.sign_out_everywhere(name).await {
                    tracing::warn!(%error, "AdminUserGlobalSignOut failed; the portal's sessions end anyway");
                }
                self.groups_of(name).await.unwrap_or_default()
            }
        };
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::ensure(&mut tx, name, &roles_in(&groups)).await.map_err(database_error)?;
        users::set_disabled(&mut tx, name, true).await.map_err(database_error)?;
        let ended = end_sessions_of(&mut tx, name).await.map_err(database_error)?;
        let detail = format!("{ended} session(s) ended");
        audit::record(&mut *tx, &audit::Entry::by(admin, "user.disable").object("user", name).detail(&detail)).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        let live_workspaces = workspaces::live(&self.db, LiveOf::Owner(name)).await.map_err(database_error)?;
        Ok(Disabled { username, live_workspaces })
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn enable(&self, admin: &CurrentUser, username: &str) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let username = parse_username(username)?;
        let name = username.as_str();
        let known_here = users::access(&self.db, name).await.map_err(database_error)?;
        match self.directory.set_enabled(name, true).await {
            Err(DirectoryError::UnknownUser) if known_here.is_some() => {}
            Err(error) => return Err(directory_error(error)),
            Ok(()) => {}
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        users::set_disabled(&mut tx, name, false).await.map_err(database_error)?;
        audit::record(&mut *tx, &audit::Entry::by(admin, "user.enable").object("user", name)).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(())
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn members(&self, user: &CurrentUser, team: &TeamSlug) -> Result<TeamMembers, AppError> {
        let row = self.managed_team(user, team).await?;
        let listed = self.directory.members_of(&Group::Team(team.clone()).name()).await.map_err(directory_error)?;
        let usernames: Vec<String> = listed.iter().map(|u| u.username.clone()).collect();
        let groups = futures::future::join_all(usernames.iter().map(|u| self.directory.groups_of(u))).await;
        let records = users::sign_in_records(&self.db, &usernames).await.map_err(database_error)?;
        let mut members = Vec::new();
        for (name, groups) in usernames.iter().zip(groups) {
            let Ok(username) = Username::parse(name) else { continue };
            let groups = match groups {
                Ok(groups) => groups,
                Err(DirectoryError::UnknownUser) => continue,
                Err(other) => return Err(directory_error(other)),
            };
            let access = CurrentUser::from_groups(username.clone(), groups.iter().map(String::as_str));
            members.push(Member {
                team_admin: access.team_admin_of.contains(team),
                roles: access.roles,
                managed_by_provider: records.get(name).is_some_and(|r| r.from_provider),
                username,
            });
        }
        members.sort_by(|a, b| a.username.as_str().cmp(b.username.as_str()));
        Ok(TeamMembers { team: row.summary(), members })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn add_member(&self, user: &CurrentUser, team: &TeamSlug, username: &str) -> Result<(), AppError> {
        self.managed_team(user, team).await?;
        let username = parse_username(username)?;
        let before = match self.groups_of(username.as_str()).await {
            Err(AppError::NotFound(_)) => return Err(AppError::invalid("username", format!("There is no user named \"{username}\"."))),
            other => other?,
        };
        self.refuse_if_from_provider(username.as_str()).await?;
        if !user.is_admin() && !team_admin_may_manage(&roles_in(&before)) {
            return Err(AppError::Forbidden);
        }
        if before.contains(&GroupKey(Group::Team(team.clone()))) {
            return Err(AppError::invalid("username", format!("{username} is already a member.")));
        }
        self.apply(user, username.as_str(), &before, &[(Group::Team(team.clone()), true)]).await
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn remove_member(&self, user: &CurrentUser, team: &TeamSlug, username: &str) -> Result<(), AppError> {
        self.managed_team(user, team).await?;
        let username = parse_username(username)?;
        let before = self.groups_of(username.as_str()).await?;
        self.refuse_if_from_provider(username.as_str()).await?;
        let team_admin = GroupKey(Group::TeamAdmin(team.clone()));
        if !user.is_admin() && (!team_admin_may_manage(&roles_in(&before)) || before.contains(&team_admin)) {
            return Err(AppError::Forbidden);
        }
        let changes: Vec<Change> = [Group::Team(team.clone()), Group::TeamAdmin(team.clone())]
            .into_iter()
            .filter(|g| before.contains(&GroupKey(g.clone())))
            .map(|g| (g, false))
            .collect();
        if changes.is_empty() {
            return Err(AppError::NotFound(format!("{username} on this team")));
        }
        self.apply(user, username.as_str(), &before, &changes).await
    }
}
