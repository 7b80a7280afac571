//! Domain types shared by the browser and the server. Each one is parsed once at the edge
//! (`parse`), so the rest of the code can rely on it being valid.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A global role, from the Cognito group `role-<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Admin,
    Researcher,
    Guest,
    InternalGuest,
    CostViewer,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Researcher, Role::Guest, Role::InternalGuest, Role::CostViewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Researcher => "researcher",
            Role::Guest => "guest",
            Role::InternalGuest => "internal-guest",
            Role::CostViewer => "cost-viewer",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// A team's slug: lower-case letters, digits and dashes, 1–63 characters, starting alphanumeric.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct TeamSlug(String);

impl TeamSlug {
    pub fn parse(raw: &str) -> Result<TeamSlug, InvalidInput> {
        let valid_chars = raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let starts_alphanumeric = raw.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if (1..=63).contains(&raw.len()) && valid_chars && starts_alphanumeric {
            Ok(TeamSlug(raw.to_owned()))
        } else {
            Err(InvalidInput(format!("\"{raw}\" is not a team slug (lower-case letters, digits and dashes)")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TeamSlug {
    type Error = InvalidInput;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        TeamSlug::parse(&raw)
    }
}

impl From<TeamSlug> for String {
    fn from(slug: TeamSlug) -> String {
        slug.0
    }
}

impl fmt::Display for TeamSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Cognito username as typed on the sign-in form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, InvalidInput> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.len() > 128 {
            return Err(InvalidInput("Enter your username.".into()));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidInput("A username has no spaces.".into()));
        }
        Ok(Username(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = InvalidInput;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Username::parse(&raw)
    }
}

impl From<Username> for String {
    fn from(name: Username) -> String {
        name.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The signed-in user, built from a verified ID token's `cognito:groups`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CurrentUser {
    pub username: Username,
    pub roles: Vec<Role>,
    pub teams: Vec<TeamSlug>,
    /// Teams whose members this user manages (Cognito group `teamadmin-<slug>`); each is also
    /// one of `teams`.
    #[serde(default)]
    pub team_admin_of: Vec<TeamSlug>,
    /// Where this request came from, for the audit log; set per request by the server, never
    /// stored in the session or sent to the browser.
    #[serde(default, skip_serializing)]
    pub client_ip: Option<String>,
}

impl CurrentUser {
    /// Splits Cognito group names into roles (`role-<name>`), teams (`team-<slug>`) and
    /// delegated team admins (`teamadmin-<slug>`, which is also membership); anything else is
    /// not ours and is ignored.
    pub fn from_groups<'a>(username: Username, groups: impl IntoIterator<Item = &'a str>) -> Self {
        let mut roles = Vec::new();
        let mut teams = Vec::new();
        let mut team_admin_of = Vec::new();
        for group in groups {
            match Group::parse(group) {
                Some(Group::Role(role)) => roles.push(role),
                Some(Group::Team(slug)) => teams.push(slug),
                Some(Group::TeamAdmin(slug)) => {
                    teams.push(slug.clone());
                    team_admin_of.push(slug);
                }
                None => {}
            }
        }
        for list in [&mut teams, &mut team_admin_of] {
            list.sort();
            list.dedup();
        }
        roles.sort();
        roles.dedup();
        CurrentUser { username, roles, teams, team_admin_of, client_ip: None }
    }

    /// Whether this user may add and remove the team's members: admins, and the team's admins.
    pub fn may_manage_members(&self, slug: &TeamSlug) -> bool {
        self.is_admin() || self.team_admin_of.contains(slug)
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// Admins see every team; everybody else only the teams they are a member of.
    pub fn may_enter_team(&self, slug: &TeamSlug) -> bool {
        self.is_admin() || self.teams.contains(slug)
    }
}

/// A Cognito group Atrium gives meaning to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Role(Role),
    Team(TeamSlug),
    TeamAdmin(TeamSlug),
}

impl Group {
    pub fn parse(name: &str) -> Option<Group> {
        if let Some(role) = name.strip_prefix("role-") {
            Role::parse(role).map(Group::Role)
        } else if let Some(slug) = name.strip_prefix("teamadmin-") {
            TeamSlug::parse(slug).ok().map(Group::TeamAdmin)
        } else {
            name.strip_prefix("team-").and_then(|slug| TeamSlug::parse(slug).ok()).map(Group::Team)
        }
    }

    /// The Cognito group's name.
    pub fn name(&self) -> String {
        match self {
            Group::Role(role) => format!("role-{role}"),
            Group::Team(slug) => format!("team-{slug}"),
            Group::TeamAdmin(slug) => format!("teamadmin-{slug}"),
        }
    }
}

/// A team as listed on `/teams`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamSummary {
    pub slug: TeamSlug,
    pub name: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamLink {
    pub title: String,
    pub url: String,
}

/// What the team's SSM path says about its shared resources. Every part is optional:
/// a team without metadata still has a home.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamMetadata {
    pub links: Vec<TeamLink>,
    pub s3_scratch_prefix: Option<String>,
    /// The team drive: the access point of the team's file system.
    pub efs_access_point: Option<String>,
    /// The team's file system (`efs-file-system`), where each person's home is made.
    #[serde(default)]
    pub efs_file_system: Option<String>,
    /// The bucket holding the team's studies (`studies-bucket`); else the scratch prefix's.
    #[serde(default)]
    pub studies_bucket: Option<String>,
}

impl TeamMetadata {
    /// Where the team's studies are stored: `studies-bucket`, or the scratch prefix's bucket.
    pub fn bucket_for_studies(&self) -> Option<String> {
        let scratch_bucket =
            || self.s3_scratch_prefix.as_deref()?.strip_prefix("s3://")?.split('/').next().filter(|b| !b.is_empty()).map(str::to_owned);
        self.studies_bucket.clone().or_else(scratch_bucket)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamHome {
    pub team: TeamSummary,
    pub aws_account_id: String,
    pub metadata: TeamMetadata,
    /// Set when the metadata could not be read; the rest of the page still renders.
    pub metadata_error: Option<String>,
    /// Whether the viewer may add and remove the team's members.
    #[serde(default)]
    pub may_manage_members: bool,
    /// The viewer's home on the team drive (`/home/<user>`), once their first launch made it.
    #[serde(default)]
    pub home: Option<String>,
}

/// How people may sign in here: the OpenID provider's button (its display name) and/or the
/// username/password form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignInMethods {
    pub sso: Option<String>,
    pub password: bool,
}

impl SignInMethods {
    /// Where the SSO button leads: the sign-in start, carrying where to go afterwards.
    pub fn sso_href(next: &str) -> String {
        if next.is_empty() {
            return "/auth/sso".to_owned();
        }
        let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
        format!("/auth/sso?{query}")
    }
}

/// The user pool's password policy, explained to someone choosing a new password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordPolicy {
    pub minimum_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

impl PasswordPolicy {
    /// The rules in words, in the order the checks are made.
    pub fn rules(&self) -> Vec<String> {
        let mut rules = vec![format!("at least {} characters", self.minimum_length)];
        if self.require_uppercase {
            rules.push("an upper-case letter".into());
        }
        if self.require_lowercase {
            rules.push("a lower-case letter".into());
        }
        if self.require_numbers {
            rules.push("a number".into());
        }
        if self.require_symbols {
            rules.push("a symbol such as - ! or #".into());
        }
        rules
    }

    /// The rules this password breaks, in words; empty when it is acceptable.
    pub fn violations(&self, password: &str) -> Vec<String> {
        let mut broken = Vec::new();
        if (password.chars().count() as u32) < self.minimum_length {
            broken.push(format!("at least {} characters", self.minimum_length));
        }
        if self.require_uppercase && !password.chars().any(|c| c.is_uppercase()) {
            broken.push("an upper-case letter".into());
        }
        if self.require_lowercase && !password.chars().any(|c| c.is_lowercase()) {
            broken.push("a lower-case letter".into());
        }
        if self.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
            broken.push("a number".into());
        }
        if self.require_symbols && !password.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
            broken.push("a symbol such as - ! or #".into());
        }
        broken
    }
}

/// An amount of cents as dollars, such as `$0.42`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}${grouped}.{:02}", cents % 100)
}

/// Cents from a dollar amount typed by a person: `0.4`, `$12`, `1.25`, `.3`; at most two
/// decimals, digits only.
pub fn parse_cents(raw: &str) -> Option<i64> {
    let raw = raw.trim().trim_start_matches('$');
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 2 {
        return None;
    }
    if !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(fraction)
}

/// A CSV cell: quoted when needed, and never starting like a formula (a spreadsheet would run
/// `=…`, `+…`, `-…`, `@…`).
pub fn csv_cell(raw: &str) -> String {
    let mut value = raw.to_owned();
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        value.insert(0, '\'');
    }
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// Where to go after signing in: only paths on this site, never another origin.
pub fn safe_next_path(raw: Option<&str>) -> Option<String> {
    let path = raw?.trim();
    let local = path.starts_with('/') && !path.starts_with("//") && !path.contains('\\');
    (local && !path.chars().any(char::is_control)).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_slugs_accept_lowercase_and_reject_the_rest() {
        assert!(TeamSlug::parse("genomics").is_ok());
        assert!(TeamSlug::parse("lab-2").is_ok());
        for bad in ["", "Genomics", "-lab", "a b", "../etc", &"x".repeat(64)] {
            assert!(TeamSlug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn groups_split_into_roles_and_teams_ignoring_unknown_ones() {
        let user = CurrentUser::from_groups(
            Username::parse("ada").unwrap(),
            ["team-genomics", "role-researcher", "team-climate", "role-wizard", "everyone", "team-Bad"],
        );
        assert_eq!(user.roles, vec![Role::Researcher]);
        assert_eq!(user.teams, vec![TeamSlug::parse("climate").unwrap(), TeamSlug::parse("genomics").unwrap()]);
    }

    #[test]
    fn a_team_admin_group_makes_a_member_who_manages_that_team_only() {
        let rosalind = CurrentUser::from_groups(Username::parse("rosalind").unwrap(), ["teamadmin-genomics", "role-researcher"]);
        let genomics = TeamSlug::parse("genomics").unwrap();
        assert!(rosalind.may_enter_team(&genomics));
        assert!(rosalind.may_manage_members(&genomics));
        assert!(!rosalind.may_manage_members(&TeamSlug::parse("climate").unwrap()));
        assert_eq!(Group::parse("teamadmin-genomics"), Some(Group::TeamAdmin(genomics.clone())));
        assert_eq!(Group::TeamAdmin(genomics).name(), "teamadmin-genomics");
        assert_eq!(Group::parse("team-admin"), Some(Group::Team(TeamSlug::parse("admin").unwrap())));
    }

    #[test]
    fn only_members_and_admins_may_enter_a_team() {
        let physics = TeamSlug::parse("physics").unwrap();
        let ada = CurrentUser::from_groups(Username::parse("ada").unwrap(), ["team-genomics", "role-researcher"]);
        let grace = CurrentUser::from_groups(Username::parse("grace").unwrap(), ["role-admin"]);
        assert!(!ada.may_enter_team(&physics));
        assert!(ada.may_enter_team(&TeamSlug::parse("genomics").unwrap()));
        assert!(grace.may_enter_team(&physics));
    }

    #[test]
    fn password_policy_names_each_broken_rule() {
        let policy = PasswordPolicy {
            minimum_length: 12,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
        };
        assert!(policy.violations("AtriumDemo-2026").is_empty());
        assert_eq!(
            policy.violations("short"),
            vec!["at least 12 characters", "an upper-case letter", "a number", "a symbol such as - ! or #"]
        );
    }

    #[test]
    fn next_path_stays_on_this_site() {
        assert_eq!(safe_next_path(Some("/teams/genomics")), Some("/teams/genomics".into()));
        assert_eq!(safe_next_path(Some("//evil.example")), None);
        assert_eq!(safe_next_path(Some("https://evil.example")), None);
        assert_eq!(safe_next_path(Some("/\\evil")), None);
        assert_eq!(safe_next_path(None), None);
    }

    #[test]
    fn usernames_are_trimmed_and_must_not_be_empty() {
        assert_eq!(Username::parse("  ada ").unwrap().as_str(), "ada");
        assert!(Username::parse("   ").is_err());
        assert!(Username::parse("a da").is_err());
    }
}

pub mod airlock;
pub mod audit;
pub mod configurations;
pub mod costs;
pub mod health;
pub mod idle;
pub mod notifications;
pub mod parameters;
pub mod people;
pub mod settings;
pub mod studies;
pub mod team_admin;
pub mod tokens;
pub mod workspace;
pub mod workspace_types;
