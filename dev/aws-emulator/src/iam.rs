//! IAM for the operations the emulator answers itself (Service Catalog, SageMaker presigned URLs
//! and user profiles, StartSession): a caller acting through a role moto's IAM knows (made by a
//! team account's stack) is refused an action no statement of the role's inline policies allows,
//! with `AccessDeniedException` naming the action, as IAM would. moto does not see these calls,
//! so its own IAM enforcement cannot cover them.
//!
//! Only the actions are evaluated: resources and conditions are taken as matching (the portal
//! acts on resources the stack's statements name). Callers that are not an assumed role moto
//! knows (the portal's own credentials, team roles no stack made) are let through as before.

use crate::moto::Moto;
use crate::wire::{AwsError, Caller};
use serde_json::Value;

/// The IAM service prefix of an emulated service's `X-Amz-Target` prefix.
fn action_prefix(service: &str) -> Option<&'static str> {
    match service {
        "AWS242ServiceCatalogService" => Some("servicecatalog"),
        "SageMaker" => Some("sagemaker"),
        "AmazonSSM" => Some("ssm"),
        _ => None,
    }
}

/// (account, role name) of an assumed-role ARN.
fn assumed_role(arn: &str) -> Option<(String, String)> {
    let account = arn.split(':').nth(4)?;
    let role = arn.split(":assumed-role/").nth(1)?.split('/').next()?;
    Some((account.to_owned(), role.to_owned()))
}

/// IAM's action matching: case-insensitive, `*` for any run of characters.
fn action_matches(pattern: &str, action: &str) -> bool {
    let (pattern, action) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    let parts: Vec<&str> = pattern.split('*').collect();
    let Some((first, rest)) = parts.split_first() else { return false };
    let Some(mut remaining) = action.strip_prefix(first) else { return false };
    for (i, part) in rest.iter().enumerate() {
        if i + 1 == rest.len() {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.is_empty()
}

/// A policy's statements (`Statement` is one statement or a list of them).
pub(crate) fn statements(policy: &Value) -> Vec<Value> {
    match &policy["Statement"] {
        Value::Array(statements) => statements.clone(),
        single => vec![single.clone()],
    }
}

/// A policy member that is one string or a list of them.
pub(crate) fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Whether the statement allows `action` (its resources and conditions aside).
pub(crate) fn allows_action(statement: &Value, action: &str) -> bool {
    statement["Effect"] == "Allow" && strings(&statement["Action"]).iter().any(|pattern| action_matches(pattern, action))
}

fn allows(policy: &Value, action: &str) -> bool {
    statements(policy).iter().any(|statement| allows_action(statement, action))
}

#[derive(Clone)]
pub struct Iam {
    moto: Moto,
}

impl Iam {
    pub fn new(moto: Moto) -> Iam {
        Iam { moto }
    }

    pub async fn authorize(&self, caller: &Caller, service: &str, operation: &str) -> Result<(), AwsError> {
        let Some(prefix) = action_prefix(service) else { return Ok(()) };
        let Ok(identity) = self.moto.caller_identity(caller).await else { return Ok(()) };
        let Some((account, role)) = assumed_role(&identity.arn) else { return Ok(()) };
        let Some(policies) = self.moto.role_policies(&account, &role).await else { return Ok(()) };
        let action = format!("{prefix}:{operation}");
        if policies.iter().any(|policy| allows(policy, &action)) { Ok(()) } else { Err(AwsError::not_authorized(&identity.arn, &action)) }
    }
}

#[cfg(test)]
mod tests {
    use super::{action_matches, allows, assumed_role};
    use serde_json::json;

    #[test]
    fn actions_match_as_iam_matches_them() {
        assert!(action_matches("servicecatalog:ProvisionProduct", "servicecatalog:provisionproduct"));
        assert!(action_matches("servicecatalog:*", "servicecatalog:DescribeRecord"));
        assert!(action_matches("sagemaker:CreatePresigned*Url", "sagemaker:CreatePresignedDomainUrl"));
        assert!(action_matches("*", "ssm:StartSession"));
        assert!(!action_matches("servicecatalog:Describe*", "servicecatalog:ProvisionProduct"));
        assert!(!action_matches("ssm:StartSession", "ssm:StartSessionX"));
    }

    #[test]
    fn only_an_allowing_statement_allows() {
        let policy = json!({ "Statement": [
            { "Effect": "Allow", "Action": ["servicecatalog:ProvisionProduct", "servicecatalog:DescribeRecord"], "Resource": "*" },
            { "Effect": "Deny", "Action": "ssm:StartSession", "Resource": "*" }
        ]});
        assert!(allows(&policy, "servicecatalog:DescribeRecord"));
        assert!(!allows(&policy, "servicecatalog:TerminateProvisionedProduct"));
        assert!(!allows(&policy, "ssm:StartSession"));
        assert_eq!(
            assumed_role("arn:aws:sts::555555555555:assumed-role/AtriumPortalAccess/atrium-ada"),
            Some(("555555555555".into(), "AtriumPortalAccess".into()))
        );
        assert_eq!(assumed_role("arn:aws:iam::123456789012:user/moto"), None);
    }
}
