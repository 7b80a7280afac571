//! Teams as an admin manages them: the create/edit form, the admin's list, connection checks.

use super::TeamSlug;
use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// The create/edit form as submitted. On edit the slug is fixed (it names the Cognito group,
/// the workspaces and the costs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamForm {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub aws_account_id: String,
    pub role_arn: String,
    /// Empty means `/atrium/teams/<slug>`.
    pub ssm_path: String,
    /// IANA name ("Europe/Berlin"); empty means UTC.
    #[serde(default)]
    pub time_zone: String,
    /// Approvals an airlock request needs, "1" or "2"; empty keeps the team's (1 for a new one).
    #[serde(default)]
    pub reviewers: String,
}

/// A form that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidTeam {
    pub slug: TeamSlug,
    pub name: String,
    pub description: String,
    pub aws_account_id: String,
    pub role_arn: String,
    pub ssm_path: String,
    pub time_zone: String,
    /// `None`: unchanged (1 for a new team).
    pub reviewers: Option<i16>,
}

/// New slugs are stricter than the ones the seed made: they become Cognito group names.
fn valid_new_slug(raw: &str) -> bool {
    let mut chars = raw.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && (2..=31).contains(&raw.len())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The account id in an IAM role ARN (`arn:<partition>:iam::<account>:role/<path/name>`).
pub fn role_arn_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_, partition, service, region, account, resource] = parts.as_slice() else { return None };
    let well_formed = *arn_ == "arn"
        && partition.starts_with("aws")
        && *service == "iam"
        && region.is_empty()
        && is_account_id(account)
        && resource.strip_prefix("role/").is_some_and(|name| {
            !name.is_empty() && name.len() <= 512 && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c))
        });
    well_formed.then_some(*account)
}

fn is_account_id(raw: &str) -> bool {
    raw.len() == 12 && raw.chars().all(|c| c.is_ascii_digit())
}

impl TeamForm {
    /// Checks every field; `Err` names each bad one. `new` is whether the slug is being chosen.
    pub fn parse(&self, new: bool) -> Result<ValidTeam, Vec<FieldError>> {
        let mut errors = Vec::new();
        let slug_raw = self.slug.trim();
        if new && !valid_new_slug(slug_raw) {
            errors.push(FieldError::new(
                "slug",
                "A slug is 2 to 31 lower-case letters, digits and dashes, starting with a letter (e.g. neuroscience).",
            ));
        }
        let slug = TeamSlug::parse(slug_raw);
        if slug.is_err() && !new {
            errors.push(FieldError::new("slug", "This team does not exist."));
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("name", "Give the team a display name of 1 to 200 characters."));
        }
        let description = self.description.trim();
        if description.chars().count() > 2000 {
            errors.push(FieldError::new("description", "Keep the description under 2,000 characters."));
        }
        let account = self.aws_account_id.trim();
        if !is_account_id(account) {
            errors.push(FieldError::new("aws_account_id", "An AWS account id is exactly 12 digits."));
        }
        let role_arn = self.role_arn.trim();
        match role_arn_account(role_arn) {
            None => errors
                .push(FieldError::new("role_arn", "Give the ARN of an IAM role, such as arn:aws:iam::444444444444:role/AtriumPortal.")),
            Some(other) if is_account_id(account) && other != account => {
                errors.push(FieldError::new("role_arn", format!("This role is in account {other}, not in the team's account {account}.")))
            }
            Some(_) => {}
        }
        let ssm_path = match (self.ssm_path.trim(), &slug) {
            ("", Ok(slug)) => format!("/atrium/teams/{slug}"),
            (path, _) => path.trim_end_matches('/').to_owned(),
        };
        let path_ok = ssm_path.starts_with('/')
            && ssm_path.len() <= 1000
            && ssm_path.chars().all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
            && !ssm_path.contains("//");
        // Empty is fine only when the slug gives the default path.
        if !(path_ok || ssm_path.is_empty() && slug.is_err()) {
            errors.push(FieldError::new("ssm_path", "An SSM path starts with / and has letters, digits, / _ . - only."));
        }
        // The shape only; whether the zone exists is Postgres' to say.
        let time_zone = match self.time_zone.trim() {
            "" => "UTC".to_owned(),
            zone => zone.to_owned(),
        };
        if time_zone.len() > 64 || !time_zone.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c)) {
            errors.push(FieldError::new("time_zone", "Give a time zone such as Europe/Berlin or UTC."));
        }
        let reviewers = match self.reviewers.trim() {
            "" => None,
            "1" => Some(1),
            "2" => Some(2),
            _ => {
                errors.push(FieldError::new("reviewers", "Imports and exports need 1 or 2 approvals."));
                None
            }
        };
        match slug {
            Ok(slug) if errors.is_empty() => Ok(ValidTeam {
                slug,
                name: name.to_owned(),
                description: description.to_owned(),
                aws_account_id: account.to_owned(),
                role_arn: role_arn.to_owned(),
                ssm_path,
                time_zone,
                reviewers,
            }),
            _ => Err(errors),
        }
    }
}

/// One step of "Test connection", in plain words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CheckStep {
    /// What was tried, e.g. "Assume the portal's role".
    pub step: String,
    pub ok: bool,
    /// What happened: "4 portfolios", or which permission is missing.
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConnectionCheck {
    /// "2026-11-24 09:30 UTC".
    pub checked_at: String,
    pub ok: bool,
    pub steps: Vec<CheckStep>,
}

/// A live workspace, linked from a team an admin wants to archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LiveWorkspace {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub state: String,
}

/// The version of `deploy/team-account.yaml` this portal needs (its `TemplateVersion` output).
pub const TEAM_STACK_VERSION: u32 = 4;

/// One parameter of the team account's stack, with the team's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StackParameter {
    pub key: String,
    pub value: String,
}

/// What an admin needs to connect a team's AWS account, in three steps: deploy the stack in the
/// account (CloudFormation's quick-create page, filled in, or the template to upload), give the
/// team the role it makes, and test the connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamAccountSetup {
    pub stack_name: String,
    /// CloudFormation's quick-create page with the template and the team's values; None when
    /// the portal has no public URL for the template (`ATRIUM_TEAM_TEMPLATE_URL`).
    pub quick_create_url: Option<String>,
    /// The template with the team's values as its parameters' defaults, on the portal.
    pub template_download: String,
    pub parameters: Vec<StackParameter>,
    /// The role the stack makes (its `RoleArn` output).
    pub role_arn: String,
    pub template_version: u32,
}

/// A team as the admin's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamAdminRow {
    pub slug: TeamSlug,
    pub name: String,
    pub description: String,
    pub aws_account_id: String,
    pub role_arn: String,
    /// What the role's trust policy must require as `sts:ExternalId`; the portal passes it on
    /// every AssumeRole into the account.
    pub external_id: String,
    /// When an admin last replaced the external id ("2026-12-07 10:15 UTC"); None: never.
    pub external_id_rotated_at: Option<String>,
    pub ssm_path: String,
    pub time_zone: String,
    /// Approvals, from different people, an import or export of the team needs (1 or 2).
    pub reviewers: i16,
    pub members: i64,
    pub live_workspaces: Vec<LiveWorkspace>,
    pub month_spent_cents: i64,
    pub budget_cents: Option<i64>,
    pub archived: bool,
    pub last_check: Option<ConnectionCheck>,
    /// The homes on the team's file system of people who are disabled: kept (their files stay)
    /// until an admin removes them.
    #[serde(default)]
    pub left_homes: Vec<LeftHome>,
}

/// A disabled person's home on a team's file system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LeftHome {
    pub username: String,
    pub access_point_id: String,
    pub created_at: String,
}

impl TeamAdminRow {
    pub fn form(&self) -> TeamForm {
        TeamForm {
            slug: self.slug.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            aws_account_id: self.aws_account_id.clone(),
            role_arn: self.role_arn.clone(),
            ssm_path: self.ssm_path.clone(),
            time_zone: self.time_zone.clone(),
            reviewers: self.reviewers.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> TeamForm {
        TeamForm {
            slug: "neuroscience".into(),
            name: "Neuroscience".into(),
            description: String::new(),
            aws_account_id: "444444444444".into(),
            role_arn: "arn:aws:iam::444444444444:role/AtriumPortal".into(),
            ssm_path: String::new(),
            time_zone: String::new(),
            reviewers: String::new(),
        }
    }

    fn fields(form: &TeamForm) -> Vec<String> {
        form.parse(true).err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_form_gets_the_default_ssm_path() {
        let team = form().parse(true).expect("valid");
        assert_eq!(team.ssm_path, "/atrium/teams/neuroscience");
        assert_eq!(team.slug.as_str(), "neuroscience");
    }

    #[test]
    fn each_bad_field_is_named() {
        for bad in ["N", "1lab", "-lab", "x", &"a".repeat(32), "neuro science"] {
            assert_eq!(fields(&TeamForm { slug: bad.into(), ..form() }), ["slug"], "{bad:?}");
        }
        assert_eq!(fields(&TeamForm { aws_account_id: "44444444444".into(), ..form() }), ["aws_account_id"]);
        assert_eq!(fields(&TeamForm { name: " ".into(), ..form() }), ["name"]);
        assert_eq!(fields(&TeamForm { ssm_path: "atrium/x".into(), ..form() }), ["ssm_path"]);
        for arn in ["arn:aws:iam::444444444444:user/bob", "arn:aws:s3:::bucket", "AtriumPortal", "arn:aws:iam::4444:role/x"] {
            assert_eq!(fields(&TeamForm { role_arn: arn.into(), ..form() }), ["role_arn"], "{arn}");
        }
    }

    #[test]
    fn a_role_in_another_account_is_refused_by_name() {
        let errors = TeamForm { role_arn: "arn:aws:iam::111111111111:role/AtriumPortal".into(), ..form() }.parse(true).unwrap_err();
        assert_eq!(errors[0].field, "role_arn");
        assert!(errors[0].message.contains("111111111111"), "{}", errors[0].message);
    }
}
