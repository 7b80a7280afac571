//! People as an admin manages them: Cognito users with their status, roles and teams, the
//! invitation form, and a team's members as its team admin sees them.

use super::team_admin::LiveWorkspace;
use super::{Role, TeamSlug, TeamSummary, Username};
use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a user's account stands in the user pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AccountStatus {
    Confirmed,
    MustChangePassword,
    Disabled,
    /// Any other Cognito status, as Cognito names it.
    Other(String),
}

impl AccountStatus {
    pub fn label(&self) -> String {
        match self {
            AccountStatus::Confirmed => "confirmed".into(),
            AccountStatus::MustChangePassword => "must change password".into(),
            AccountStatus::Disabled => "disabled".into(),
            AccountStatus::Other(other) => other.to_lowercase().replace('_', " "),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Person {
    pub username: Username,
    pub email: Option<String>,
    pub status: AccountStatus,
    pub roles: Vec<Role>,
    pub teams: Vec<TeamSlug>,
    pub team_admin_of: Vec<TeamSlug>,
    /// "2026-11-24 09:30 UTC", from Atrium's own records; `None` if they never signed in.
    pub last_sign_in: Option<String>,
    /// Their roles and teams come from the SSO provider's groups (read-only here).
    pub managed_by_provider: bool,
}

/// One page of `/admin/people`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PeoplePage {
    pub people: Vec<Person>,
    /// Cognito's token for the next page, if there is one.
    pub next_page: Option<String>,
    /// Every team that is not archived, for the forms.
    pub teams: Vec<TeamSummary>,
    /// The SSO provider's display name, when single sign-on is configured.
    pub provider: Option<String>,
}

/// The invitation form as submitted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InviteForm {
    pub username: String,
    pub email: String,
    /// Checked roles (key: the role's name).
    pub roles: BTreeMap<String, String>,
    /// Checked teams (key: the slug).
    pub teams: BTreeMap<String, String>,
    /// Empty: Cognito makes one up. Either way Cognito e-mails it to the user.
    pub temporary_password: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidInvite {
    pub username: Username,
    pub email: String,
    pub roles: Vec<Role>,
    pub teams: Vec<TeamSlug>,
    pub temporary_password: Option<String>,
}

/// A username an admin chooses: what Cognito and our URLs both take without escaping trouble.
pub fn parse_new_username(raw: &str) -> Result<Username, String> {
    let raw = raw.trim();
    let mut chars = raw.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && raw.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !ok {
        return Err(
            "A username is 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit.".into()
        );
    }
    Username::parse(raw).map_err(|e| e.0)
}

fn plausible_email(raw: &str) -> bool {
    let Some((local, domain)) = raw.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && raw.len() <= 254
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

/// Checked roles from a form's checkbox map; unknown names are field errors.
pub fn parse_roles(checked: &BTreeMap<String, String>, field: &str, errors: &mut Vec<FieldError>) -> Vec<Role> {
    let mut roles = Vec::new();
    for name in checked.keys() {
        match Role::parse(name) {
            Some(role) => roles.push(role),
            None => errors.push(FieldError::new(field, format!("\"{name}\" is not a role."))),
        }
    }
    roles
}

/// Checked teams from a form's checkbox map; malformed slugs are field errors.
pub fn parse_teams(checked: &BTreeMap<String, String>, field: &str, errors: &mut Vec<FieldError>) -> Vec<TeamSlug> {
    let mut teams = Vec::new();
    for slug in checked.keys() {
        match TeamSlug::parse(slug) {
            Ok(slug) => teams.push(slug),
            Err(e) => errors.push(FieldError::new(field, e.0)),
        }
    }
    teams
}

impl InviteForm {
    pub fn parse(&self) -> Result<ValidInvite, Vec<FieldError>> {
        let mut errors = Vec::new();
        let username = parse_new_username(&self.username).map_err(|m| errors.push(FieldError::new("username", m))).ok();
        let email = self.email.trim().to_owned();
        if !plausible_email(&email) {
            errors.push(FieldError::new(
                "email",
                "Give an e-mail address, such as lin@example.edu: Cognito sends the temporary password there.",
            ));
        }
        let roles = parse_roles(&self.roles, "roles", &mut errors);
        if roles.is_empty() {
            errors.push(FieldError::new("roles", "Choose at least one role."));
        }
        let teams = parse_teams(&self.teams, "teams", &mut errors);
        let temporary_password = Some(self.temporary_password.trim().to_owned()).filter(|p| !p.is_empty());
        match username {
            Some(username) if errors.is_empty() => Ok(ValidInvite { username, email, roles, teams, temporary_password }),
            _ => Err(errors),
        }
    }
}

/// An admin's edit of one user's access: exactly these roles, teams and team-admin teams.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccessForm {
    pub username: String,
    pub roles: BTreeMap<String, String>,
    pub teams: BTreeMap<String, String>,
    pub team_admin: BTreeMap<String, String>,
}

/// The Cognito groups an access form asks for (a team admin is also a member).
pub fn groups_for(roles: &[Role], teams: &[TeamSlug], team_admin_of: &[TeamSlug]) -> Vec<super::Group> {
    use super::Group;
    let mut groups: Vec<Group> = roles.iter().map(|r| Group::Role(*r)).collect();
    let mut members: Vec<&TeamSlug> = teams.iter().chain(team_admin_of).collect();
    members.sort();
    members.dedup();
    groups.extend(members.into_iter().map(|t| Group::Team(t.clone())));
    groups.extend(team_admin_of.iter().map(|t| Group::TeamAdmin(t.clone())));
    groups
}

/// What disabling a user leaves for the admin to decide: their workspaces that still run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Disabled {
    pub username: Username,
    pub live_workspaces: Vec<LiveWorkspace>,
}

/// A member of a team, as its members page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Member {
    pub username: Username,
    pub roles: Vec<Role>,
    pub team_admin: bool,
    pub managed_by_provider: bool,
    /// Whether the viewer may remove them from the team.
    pub removable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamMembers {
    pub team: TeamSummary,
    pub members: Vec<Member>,
}

/// The roles a team admin may add to or remove from their team: everybody else (admins, cost
/// viewers) is the admins' business.
pub fn team_admin_may_manage(roles: &[Role]) -> bool {
    let member_roles = [Role::Researcher, Role::Guest, Role::InternalGuest];
    roles.iter().any(|r| member_roles.contains(r)) && roles.iter().all(|r| member_roles.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> InviteForm {
        InviteForm {
            username: "lin".into(),
            email: "lin@example.edu".into(),
            roles: [("researcher".to_string(), "on".to_string())].into(),
            teams: [("neuroscience".to_string(), "on".to_string())].into(),
            temporary_password: String::new(),
        }
    }

    fn fields(form: &InviteForm) -> Vec<String> {
        form.parse().err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_invitation_parses() {
        let valid = invite().parse().expect("valid");
        assert_eq!(valid.roles, vec![Role::Researcher]);
        assert_eq!(valid.teams[0].as_str(), "neuroscience");
        assert_eq!(valid.temporary_password, None);
    }

    #[test]
    fn each_bad_field_is_named() {
        for bad in ["", "Lin", "lin smith", "-lin", "lin/x"] {
            assert_eq!(fields(&InviteForm { username: bad.into(), ..invite() }), ["username"], "{bad:?}");
        }
        for bad in ["lin", "lin@", "@example.edu", "lin@example", "lin @example.edu"] {
            assert_eq!(fields(&InviteForm { email: bad.into(), ..invite() }), ["email"], "{bad:?}");
        }
        assert_eq!(fields(&InviteForm { roles: BTreeMap::new(), ..invite() }), ["roles"]);
        assert_eq!(fields(&InviteForm { roles: [("wizard".into(), "on".into())].into(), ..invite() }), ["roles", "roles"]);
    }

    #[test]
    fn team_admins_manage_researchers_and_guests_only() {
        assert!(team_admin_may_manage(&[Role::Researcher]));
        assert!(team_admin_may_manage(&[Role::Guest, Role::InternalGuest]));
        assert!(!team_admin_may_manage(&[Role::Researcher, Role::Admin]));
        assert!(!team_admin_may_manage(&[Role::CostViewer]));
        assert!(!team_admin_may_manage(&[]));
    }
}
