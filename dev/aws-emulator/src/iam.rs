//! IAM for the operations the emulator answers itself (Service Catalog, SageMaker presigned URLs
//! and user profiles, StartSession): a caller acting through a role moto's IAM knows (made by a
//! team account's stack) is refused an action no statement of the role's inline policies allows,
//! with `AccessDeniedException` naming the action, as IAM would. moto does not see these calls,
//! so its own IAM enforcement cannot cover them.
//!
//! The same check serves Service Catalog's own calls with a product's launch role (see
//! `launch_role`). Only the actions are evaluated, but for the roles passed to a resource
//! (`iam:PassRole`): resources and conditions are otherwise taken as matching (the portal acts
//! on resources the stack's statements name). Callers that are not an assumed role moto knows
//! (the portal's own credentials, team roles no stack made) are let through as before.

use crate::launch_role::Call;
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

/// Whether a statement of the policy allows the call: its action, and its resource unless
/// that is `*` (not judged).
fn allows(policy: &Value, call: &Call<'_>) -> bool {
    statements(policy).iter().any(|statement| {
        allows_action(statement, call.action)
            && (call.resource == "*" || strings(&statement["Resource"]).iter().any(|pattern| action_matches(pattern, &call.resource)))
    })
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
        let action = format!("{prefix}:{operation}");
        self.caller_allows(caller, &[Call::any(&action)]).await.map_err(|(arn, action)| AwsError::not_authorized(&arn, &action))
    }

    /// (ARN, account, role name) of the caller's credentials, when they are an assumed role.
    async fn assumed_role_of(&self, caller: &Caller) -> Option<(String, String, String)> {
        let identity = self.moto.caller_identity(caller).await.ok()?;
        let (account, role) = assumed_role(&identity.arn)?;
        Some((identity.arn, account, role))
    }

    /// Ok when the caller's role allows each of `actions` (or is not a role moto knows);
    /// otherwise (the caller's ARN, the first action refused).
    pub async fn caller_allows(&self, caller: &Caller, calls: &[Call<'_>]) -> Result<(), (String, String)> {
        let Some((arn, account, role)) = self.assumed_role_of(caller).await else { return Ok(()) };
        self.role_allows(&account, &role, calls).await.map_err(|action| (arn, action))
    }

    /// Ok when role `role` of `account` allows each of `calls` (or moto has no such role);
    /// otherwise the first action refused.
    pub async fn role_allows(&self, account: &str, role: &str, calls: &[Call<'_>]) -> Result<(), String> {
        let Some(policies) = self.moto.role_policies(account, role).await else { return Ok(()) };
        match calls.iter().find(|call| !policies.iter().any(|policy| allows(policy, call))) {
            Some(refused) => Err(refused.action.to_owned()),
            None => Ok(()),
        }
    }

    /// The account of the caller's credentials, as moto sees them.
    pub async fn account_of(&self, caller: &Caller) -> Option<String> {
        self.moto.caller_identity(caller).await.ok().map(|identity| identity.account)
    }
}

#[cfg(test)]
mod tests {
    use super::{action_matches, allows, assumed_role};
    use crate::launch_role::Call;
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
        assert!(allows(&policy, &Call::any("servicecatalog:DescribeRecord")));
        assert!(!allows(&policy, &Call::any("servicecatalog:TerminateProvisionedProduct")));
        assert!(!allows(&policy, &Call::any("ssm:StartSession")));
        let pass = json!({ "Statement": { "Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/Notebook*" } });
        assert!(allows(&pass, &Call { action: "iam:PassRole", resource: "arn:aws:iam::1:role/NotebookRole".into() }));
        assert!(!allows(&pass, &Call { action: "iam:PassRole", resource: "arn:aws:iam::1:role/EMR_DefaultRole".into() }));
        assert_eq!(
            assumed_role("arn:aws:sts::555555555555:assumed-role/AtriumPortalAccess/atrium-ada"),
            Some(("555555555555".into(), "AtriumPortalAccess".into()))
        );
        assert_eq!(assumed_role("arn:aws:iam::123456789012:user/moto"), None);
    }
}
