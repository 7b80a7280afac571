//! Configurations: what an admin has fixed for an approved workspace type (parameter values,
//! who may launch it and where, tags, an hourly cost estimate), parsed from the admin's form.

use super::parameters::{ParameterSpec, validate_parameters};
use super::{Role, TeamSlug, parse_cents};
use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The admin's form as submitted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConfigurationForm {
    pub name: String,
    pub description: String,
    /// Parameter key -> value; an empty value means "the template's default".
    pub parameters: BTreeMap<String, String>,
    /// Checked roles (the key is the role's name).
    pub allowed_roles: BTreeMap<String, String>,
    /// Checked teams (the key is the slug).
    pub allowed_teams: BTreeMap<String, String>,
    /// `key=value` per line.
    pub tags: String,
    /// In dollars, e.g. `0.42`.
    pub estimated_hourly_cost: String,
    /// Minutes idle before the workspace is stopped, or "never"; empty: the default.
    #[serde(default)]
    pub idle_stop_after: String,
    /// The CPU percentage below which it counts as idle; empty: the default.
    #[serde(default)]
    pub idle_cpu_percent: String,
    /// Hours it may run at most; empty: no maximum.
    #[serde(default)]
    pub idle_max_running_hours: String,
    /// "20:00" in the team's time zone; empty: no nightly stop.
    #[serde(default)]
    pub idle_nightly_stop: String,
    /// "on" when its workspaces stop as their owner signs out.
    #[serde(default)]
    pub idle_stop_on_sign_out: String,
    /// The parameter that sets a workspace's size (`InstanceType`); empty: no resizing.
    #[serde(default)]
    pub size_parameter: String,
    /// The sizes an owner may switch to, `value = dollars per hour` per line.
    #[serde(default)]
    pub sizes: String,
}

impl ConfigurationForm {
    pub fn idle_policy(&self) -> super::idle::IdlePolicyForm {
        super::idle::IdlePolicyForm {
            stop_after: self.idle_stop_after.clone(),
            cpu_percent: self.idle_cpu_percent.clone(),
            max_running_hours: self.idle_max_running_hours.clone(),
            nightly_stop: self.idle_nightly_stop.clone(),
            stop_on_sign_out: self.idle_stop_on_sign_out.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConfigurationDraft {
    pub name: String,
    pub description: String,
    pub parameter_values: BTreeMap<String, String>,
    pub allowed_roles: Vec<Role>,
    pub allowed_teams: Vec<TeamSlug>,
    pub tags: BTreeMap<String, String>,
    pub estimated_hourly_cost_cents: u32,
    #[serde(default)]
    pub idle: super::idle::IdlePolicy,
    /// The sizes its workspaces may be changed to ("Change size"); `None`: they keep theirs.
    #[serde(default)]
    pub sizes: Option<Sizes>,
}

/// The sizes a configuration lets owners switch between: values of one parameter, each with
/// its own hourly estimate (what the budget check uses after the change).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Sizes {
    pub parameter: String,
    pub options: Vec<SizeOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SizeOption {
    pub value: String,
    pub estimated_hourly_cost_cents: u32,
}

impl Sizes {
    /// From the form's two fields: the parameter, and `value = dollars` lines whose values the
    /// template accepts for it. Both empty: no resizing.
    pub fn parse(parameter: &str, lines: &str, specs: &[ParameterSpec]) -> Result<Option<Sizes>, Vec<FieldError>> {
        let parameter = parameter.trim();
        let lines: Vec<&str> = lines.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        if parameter.is_empty() && lines.is_empty() {
            return Ok(None);
        }
        let mut errors = Vec::new();
        let Some(spec) = specs.iter().find(|s| s.key == parameter && !super::studies::set_at_launch(&s.key)) else {
            let message = if parameter.is_empty() {
                "Choose the parameter the sizes set.".to_owned()
            } else {
                format!("\"{parameter}\" is not a parameter of this version.")
            };
            return Err(vec![FieldError::new("size_parameter", message)]);
        };
        let mut options: Vec<SizeOption> = Vec::new();
        for line in lines {
            let Some((value, cost)) = line.split_once('=') else {
                errors.push(FieldError::new("sizes", format!("\"{line}\" is not `size = dollars per hour`, such as `t3.large = 0.17`.")));
                continue;
            };
            let value = value.trim().to_owned();
            let cents = parse_cents(cost.trim()).and_then(|c| u32::try_from(c).ok()).filter(|c| *c <= 1_000_000);
            let one = BTreeMap::from([(spec.key.clone(), value.clone())]);
            if let Err(problems) = validate_parameters(std::slice::from_ref(spec), &one) {
                errors.extend(problems.into_iter().map(|p| FieldError::new("sizes", format!("{value}: {}", p.message))));
            } else if options.iter().any(|o| o.value == value) {
                errors.push(FieldError::new("sizes", format!("{value} is listed twice.")));
            } else if let Some(estimated_hourly_cost_cents) = cents {
                options.push(SizeOption { value, estimated_hourly_cost_cents });
            } else {
                errors.push(FieldError::new("sizes", format!("{value}: give the cost per hour in dollars, such as 0.17.")));
            }
        }
        if options.is_empty() && errors.is_empty() {
            errors.push(FieldError::new("sizes", "List at least one size, such as `t3.large = 0.17`."));
        }
        if errors.is_empty() { Ok(Some(Sizes { parameter: spec.key.clone(), options })) } else { Err(errors) }
    }

    pub fn option(&self, value: &str) -> Option<&SizeOption> {
        self.options.iter().find(|o| o.value == value)
    }

    /// Back to the form's lines.
    pub fn to_lines(&self) -> String {
        self.options
            .iter()
            .map(|o| format!("{} = {}.{:02}", o.value, o.estimated_hourly_cost_cents / 100, o.estimated_hourly_cost_cents % 100))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Configuration {
    pub id: i64,
    pub workspace_type_id: i64,
    /// "Linux workstation (EC2) v2", for lists.
    pub type_label: String,
    /// Its type can stop and start; otherwise it can only be terminated.
    #[serde(default)]
    pub has_stop_start: bool,
    /// Its type takes the `Studies` parameter: workspaces can mount studies.
    #[serde(default)]
    pub mounts_studies: bool,
    pub draft: ConfigurationDraft,
}

/// The profiles a user may launch on a team, and a note when Parameter Store could not be
/// reached and they are as it last said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProfileList {
    pub profiles: Vec<Profile>,
    pub stale_note: Option<String>,
}

/// A team's workspace profile from SSM Parameter Store: a friendly, named way to launch one of
/// the configurations the team is offered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Profile {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub size: String,
    pub configuration: Configuration,
    /// Values set on top of the configuration's.
    pub parameters: BTreeMap<String, String>,
}

/// The JSON stored at `<team path>/profiles/<name>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProfileDocument {
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub size: String,
    /// The name of the configuration it launches.
    pub configuration: String,
    /// Parameter values on top of the configuration's (checked against the template at launch).
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

/// Tag keys Atrium sets itself on every workspace, or AWS reserves.
const RESERVED_TAG_PREFIXES: [&str; 2] = ["aws:", "atrium:"];

impl ConfigurationDraft {
    /// Every problem with the form at once, each naming its field.
    pub fn parse(form: &ConfigurationForm, specs: &[ParameterSpec]) -> Result<ConfigurationDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = form.name.trim().to_owned();
        if !(3..=80).contains(&name.chars().count()) {
            errors.push(FieldError::new("name", "Give the configuration a name of 3 to 80 characters."));
        }

        let mut allowed_roles = Vec::new();
        for key in form.allowed_roles.keys() {
            match Role::parse(key) {
                Some(role) => allowed_roles.push(role),
                None => errors.push(FieldError::new("allowed_roles", format!("\"{key}\" is not a role."))),
            }
        }
        if allowed_roles.is_empty() {
            errors.push(FieldError::new("allowed_roles", "Choose at least one role that may launch it."));
        }

        let mut allowed_teams = Vec::new();
        for key in form.allowed_teams.keys() {
            match TeamSlug::parse(key) {
                Ok(slug) => allowed_teams.push(slug),
                Err(e) => errors.push(FieldError::new("allowed_teams", e.0)),
            }
        }
        if allowed_teams.is_empty() {
            errors.push(FieldError::new("allowed_teams", "Choose at least one team that may use it."));
        }

        let mut tags = BTreeMap::new();
        for line in form.tags.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() && key.trim().len() <= 128 && value.trim().len() <= 256 => {
                    let key = key.trim();
                    if RESERVED_TAG_PREFIXES.iter().any(|p| key.to_ascii_lowercase().starts_with(p)) {
                        errors.push(FieldError::new("tags", format!("\"{key}\" is reserved: Atrium and AWS set these tags.")));
                    } else {
                        tags.insert(key.to_owned(), value.trim().to_owned());
                    }
                }
                _ => errors
                    .push(FieldError::new("tags", format!("\"{line}\" is not key=value (key up to 128, value up to 256 characters)."))),
            }
        }

        let estimated_hourly_cost_cents = match parse_cents(&form.estimated_hourly_cost).and_then(|c| u32::try_from(c).ok()) {
            Some(cents) if cents <= 1_000_000 => cents,
            _ => {
                errors.push(FieldError::new("estimated_hourly_cost", "Give the estimated cost per hour in dollars, such as 0.45."));
                0
            }
        };

        let parameter_values: BTreeMap<String, String> = form
            .parameters
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(key, value)| (key.clone(), value.trim().to_owned()))
            .collect();
        if let Err(problems) = validate_parameters(specs, &parameter_values) {
            errors.extend(
                problems.into_iter().map(|p| FieldError::new(format!("parameters.{}", p.key), format!("{}: {}", p.key, p.message))),
            );
        }
        let idle = super::idle::IdlePolicy::parse(&form.idle_policy()).unwrap_or_else(|problems| {
            errors.extend(problems);
            super::idle::IdlePolicy::default()
        });
        let sizes = Sizes::parse(&form.size_parameter, &form.sizes, specs).unwrap_or_else(|problems| {
            errors.extend(problems);
            None
        });

        if !errors.is_empty() {
            return Err(errors);
        }
        allowed_roles.sort();
        allowed_teams.sort();
        Ok(ConfigurationDraft {
            name,
            description: form.description.trim().to_owned(),
            parameter_values,
            allowed_roles,
            allowed_teams,
            tags,
            estimated_hourly_cost_cents,
            idle,
            sizes,
        })
    }

    /// Whether `role` on `team` may see and launch this configuration.
    pub fn allows(&self, roles: &[Role], team: &TeamSlug) -> bool {
        self.allowed_teams.contains(team) && roles.iter().any(|role| self.allowed_roles.contains(role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parameters::{ParameterConstraints, ParameterKind};

    fn specs() -> Vec<ParameterSpec> {
        vec![ParameterSpec {
            key: "InstanceType".into(),
            kind: ParameterKind::String,
            default: Some("t3.medium".into()),
            description: None,
            constraints: ParameterConstraints { allowed_values: vec!["t3.medium".into(), "t3.large".into()], ..Default::default() },
        }]
    }

    fn checked(keys: &[&str]) -> BTreeMap<String, String> {
        keys.iter().map(|k| (k.to_string(), "on".to_string())).collect()
    }

    fn form() -> ConfigurationForm {
        ConfigurationForm {
            name: " Large workstation ".into(),
            description: "For image analysis".into(),
            parameters: [("InstanceType".to_string(), "t3.large".to_string())].into(),
            allowed_roles: checked(&["researcher"]),
            allowed_teams: checked(&["genomics", "climate"]),
            tags: "project = imaging\ncost-centre=42\n".into(),
            estimated_hourly_cost: "0.5".into(),
            ..ConfigurationForm::default()
        }
    }

    #[test]
    fn a_complete_form_becomes_a_draft() {
        let draft = ConfigurationDraft::parse(&form(), &specs()).expect("valid");
        assert_eq!(draft.name, "Large workstation");
        assert_eq!(draft.estimated_hourly_cost_cents, 50);
        assert_eq!(draft.allowed_teams, vec![TeamSlug::parse("climate").unwrap(), TeamSlug::parse("genomics").unwrap()]);
        assert_eq!(draft.tags.get("project").map(String::as_str), Some("imaging"));
        assert_eq!(draft.parameter_values.get("InstanceType").map(String::as_str), Some("t3.large"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = ConfigurationForm {
            name: "x".into(),
            parameters: [("InstanceType".to_string(), "p4d.24xlarge".to_string())].into(),
            allowed_roles: checked(&["wizard"]),
            allowed_teams: BTreeMap::new(),
            tags: "atrium:user=me\nnot a tag".into(),
            estimated_hourly_cost: "-3".into(),
            ..form()
        };
        let errors = ConfigurationDraft::parse(&bad, &specs()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "name",
                "allowed_roles",
                "allowed_roles",
                "allowed_teams",
                "tags",
                "tags",
                "estimated_hourly_cost",
                "parameters.InstanceType"
            ]
        );
    }

    #[test]
    fn empty_parameter_values_fall_back_to_the_template_default() {
        let mut f = form();
        f.parameters.insert("InstanceType".into(), "  ".into());
        let draft = ConfigurationDraft::parse(&f, &specs()).expect("valid");
        assert!(draft.parameter_values.is_empty());
    }

    #[test]
    fn sizes_are_values_the_template_accepts_each_with_its_cost() {
        let sizes = Sizes::parse("InstanceType", "t3.medium = 0.05\n\n t3.large=0.17 ", &specs()).expect("valid").expect("some");
        assert_eq!(sizes.parameter, "InstanceType");
        assert_eq!(sizes.option("t3.large").map(|o| o.estimated_hourly_cost_cents), Some(17));
        assert_eq!(Sizes::parse(" ", "", &specs()), Ok(None), "no sizes: no resizing");
        let fields = |p: &str, l: &str| Sizes::parse(p, l, &specs()).unwrap_err().into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields("", "t3.large = 0.17"), ["size_parameter"]);
        assert_eq!(fields("VolumeSize", "8 = 0.01"), ["size_parameter"], "not a parameter of the version");
        assert_eq!(fields("InstanceType", ""), ["sizes"]);
        assert_eq!(
            fields("InstanceType", "p4d.24xlarge = 30\nt3.large\nt3.medium = free\nt3.large = 1\nt3.large = 2"),
            ["sizes", "sizes", "sizes", "sizes"]
        );
    }

    #[test]
    fn costs_are_read_as_dollars() {
        assert_eq!(parse_cents("0.45"), Some(45));
        assert_eq!(parse_cents("$2"), Some(200));
        assert_eq!(parse_cents("1.5"), Some(150));
        assert_eq!(parse_cents(".3"), Some(30));
        for bad in ["", "abc", "1.234", "-1", "."] {
            assert_eq!(parse_cents(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_configuration_is_for_its_roles_on_its_teams() {
        let draft = ConfigurationDraft::parse(&form(), &specs()).expect("valid");
        let genomics = TeamSlug::parse("genomics").unwrap();
        assert!(draft.allows(&[Role::Researcher], &genomics));
        assert!(!draft.allows(&[Role::Guest], &genomics), "guests see what guests are allowed only");
        assert!(!draft.allows(&[Role::Researcher], &TeamSlug::parse("physics").unwrap()));
    }
}
