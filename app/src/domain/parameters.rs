//! Product-version parameters and their CloudFormation constraints (as Service Catalog's
//! DescribeProvisioningParameters reports them), and the check an admin's configuration or a
//! launch must pass before anything reaches AWS.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ParameterKind {
    String,
    Number,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ParameterConstraints {
    pub allowed_values: Vec<String>,
    /// A pattern the whole value must match (CloudFormation's AllowedPattern).
    pub allowed_pattern: Option<String>,
    /// The template's own words for what is allowed; shown instead of the raw pattern.
    pub constraint_description: Option<String>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ParameterSpec {
    pub key: String,
    pub kind: ParameterKind,
    pub default: Option<String>,
    pub description: Option<String>,
    pub constraints: ParameterConstraints,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[error("{key}: {message}")]
pub struct ParameterError {
    pub key: String,
    pub message: String,
}

impl ParameterSpec {
    /// Why `value` is not acceptable for this parameter, if it is not.
    pub fn check(&self, value: &str) -> Option<String> {
        let c = &self.constraints;
        if let Some(words) = self.constraint_violation(value) {
            return Some(match &c.constraint_description {
                Some(description) => format!("{words} ({description})"),
                None => words,
            });
        }
        None
    }

    fn constraint_violation(&self, value: &str) -> Option<String> {
        let c = &self.constraints;
        if !c.allowed_values.is_empty() && !c.allowed_values.iter().any(|allowed| allowed == value) {
            return Some(format!("must be one of {}", c.allowed_values.join(", ")));
        }
        let length = value.chars().count() as u32;
        if let Some(min) = c.min_length.filter(|min| length < *min) {
            return Some(format!("must be at least {min} characters"));
        }
        if let Some(max) = c.max_length.filter(|max| length > *max) {
            return Some(format!("must be at most {max} characters"));
        }
        // Patterns are checked on the server only: regex would add hundreds of KB to the
        // browser's wasm, and the server checks every launch anyway.
        #[cfg(feature = "ssr")]
        if let Some(pattern) = &c.allowed_pattern {
            match regex::Regex::new(&format!("^(?:{pattern})$")) {
                Ok(re) if !re.is_match(value) => return Some(format!("must match the pattern {pattern}")),
                Ok(_) => {}
                Err(_) => return Some("cannot be checked: the template's pattern is not valid".into()),
            }
        }
        if self.kind == ParameterKind::Number {
            let Ok(number) = value.trim().parse::<f64>() else {
                return Some("must be a number".into());
            };
            if let Some(min) = c.min_value.filter(|min| number < *min) {
                return Some(format!("must be at least {min}"));
            }
            if let Some(max) = c.max_value.filter(|max| number > *max) {
                return Some(format!("must be at most {max}"));
            }
        }
        None
    }
}

/// Checks `values` against the version's parameters: every key must be a parameter, every
/// parameter without a default needs a value, every value must meet its constraints.
/// All problems are reported at once, one per parameter.
pub fn validate_parameters(specs: &[ParameterSpec], values: &BTreeMap<String, String>) -> Result<(), Vec<ParameterError>> {
    let mut errors = Vec::new();
    for key in values.keys() {
        if !specs.iter().any(|spec| &spec.key == key) {
            errors.push(ParameterError { key: key.clone(), message: "is not a parameter of this version".into() });
        }
    }
    for spec in specs {
        let problem = match values.get(&spec.key) {
            Some(value) => spec.check(value),
            None if spec.default.is_none() => Some("is required".into()),
            None => None,
        };
        if let Some(message) = problem {
            errors.push(ParameterError { key: spec.key.clone(), message });
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance_type() -> ParameterSpec {
        ParameterSpec {
            key: "InstanceType".into(),
            kind: ParameterKind::String,
            default: Some("t3.medium".into()),
            description: None,
            constraints: ParameterConstraints { allowed_values: vec!["t3.medium".into(), "t3.large".into()], ..Default::default() },
        }
    }

    fn volume_size() -> ParameterSpec {
        ParameterSpec {
            key: "VolumeSize".into(),
            kind: ParameterKind::Number,
            default: None,
            description: None,
            constraints: ParameterConstraints { min_value: Some(8.0), max_value: Some(512.0), ..Default::default() },
        }
    }

    fn bucket_prefix() -> ParameterSpec {
        ParameterSpec {
            key: "Prefix".into(),
            kind: ParameterKind::String,
            default: Some("data".into()),
            description: None,
            constraints: ParameterConstraints {
                allowed_pattern: Some("[a-z][a-z0-9-]*".into()),
                constraint_description: Some("lower-case letters, digits and dashes".into()),
                min_length: Some(3),
                max_length: Some(20),
                ..Default::default()
            },
        }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn values_meeting_every_constraint_pass() {
        let specs = [instance_type(), volume_size(), bucket_prefix()];
        assert_eq!(
            validate_parameters(&specs, &values(&[("InstanceType", "t3.large"), ("VolumeSize", "100"), ("Prefix", "scratch-1")])),
            Ok(())
        );
        assert_eq!(validate_parameters(&specs, &values(&[("VolumeSize", "8")])), Ok(()), "defaults cover the rest");
    }

    #[test]
    fn a_value_outside_the_allowed_values_is_refused_naming_them() {
        let errors = validate_parameters(&[instance_type()], &values(&[("InstanceType", "p4d.24xlarge")])).unwrap_err();
        assert_eq!(errors, vec![ParameterError { key: "InstanceType".into(), message: "must be one of t3.medium, t3.large".into() }]);
    }

    #[test]
    fn numbers_are_checked_against_min_and_max() {
        let spec = volume_size();
        assert_eq!(spec.check("4").as_deref(), Some("must be at least 8"));
        assert_eq!(spec.check("1024").as_deref(), Some("must be at most 512"));
        assert_eq!(spec.check("lots").as_deref(), Some("must be a number"));
        assert_eq!(spec.check("512"), None);
    }

    #[cfg(feature = "ssr")] // patterns are checked on the server only
    #[test]
    fn patterns_match_the_whole_value_and_use_the_templates_words() {
        let spec = bucket_prefix();
        assert_eq!(
            spec.check("Scratch").as_deref(),
            Some("must match the pattern [a-z][a-z0-9-]* (lower-case letters, digits and dashes)")
        );
        assert!(spec.check("ok-but-then/slash").is_some(), "a partial match is not enough");
        assert_eq!(spec.check("ab").as_deref(), Some("must be at least 3 characters (lower-case letters, digits and dashes)"));
        assert_eq!(spec.check("abc"), None);
    }

    #[test]
    fn missing_required_and_unknown_parameters_are_all_reported() {
        let errors = validate_parameters(&[instance_type(), volume_size()], &values(&[("Colour", "blue")])).unwrap_err();
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, vec!["Colour", "VolumeSize"]);
        assert_eq!(errors[1].message, "is required");
    }

    #[cfg(feature = "ssr")] // patterns are checked on the server only
    #[test]
    fn a_broken_pattern_in_the_template_is_an_error_not_a_panic() {
        let mut spec = bucket_prefix();
        spec.constraints.allowed_pattern = Some("([unclosed".into());
        assert!(spec.check("abc").is_some());
    }
}
