//! What Service Catalog does with a product's launch role, as IAM actions. Service Catalog
//! creates, updates and deletes a product's stack with the role the portfolio's launch
//! constraint names (`LocalRoleName`, in the account it launches in), and runs a self-service
//! action whose definition says `AssumeRole: LAUNCH_ROLE` with it too; without a launch
//! constraint, or without that key, it acts with the caller's own credentials.
//!
//! The stack calls are those AWS documents for a launch role; a resource type's calls are those
//! its CloudFormation handlers list (the type's registry schema), for the types the demo
//! templates use. The catalog checks them against the acting role (`iam::Iam::role_allows`), so
//! a launch role that lacks one fails the record, naming it, as CloudFormation would. Resources
//! are judged for the roles a resource is given (`iam:PassRole`); other calls by action only.

/// A call made with the acting role: its action, and the resource it is judged on (`*`: the
/// action alone is judged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call<'a> {
    pub action: &'a str,
    pub resource: String,
}

impl<'a> Call<'a> {
    pub fn any(action: &'a str) -> Call<'a> {
        Call { action, resource: "*".into() }
    }
}

/// What happens to a product's stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    Delete,
}

/// Service Catalog's own calls on the stack.
pub fn stack_actions(change: Change) -> &'static [&'static str] {
    match change {
        Change::Create => &[
            "cloudformation:GetTemplateSummary",
            "cloudformation:ValidateTemplate",
            "s3:GetObject",
            "cloudformation:CreateStack",
            "cloudformation:SetStackPolicy",
            "cloudformation:DescribeStacks",
            "cloudformation:DescribeStackEvents",
        ],
        Change::Update => &[
            "cloudformation:GetTemplateSummary",
            "cloudformation:UpdateStack",
            "cloudformation:DescribeStacks",
            "cloudformation:DescribeStackEvents",
        ],
        Change::Delete => &["cloudformation:DeleteStack", "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents"],
    }
}

/// CloudFormation's calls for one resource of `resource_type`.
pub fn resource_actions(resource_type: &str, change: Change) -> &'static [&'static str] {
    match (resource_type, change) {
        ("AWS::EC2::Instance", Change::Create) => &[
            "ec2:DescribeImages",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:RunInstances",
            "ec2:CreateTags",
            "ec2:DescribeInstances",
        ],
        ("AWS::EC2::Instance", Change::Update) => {
            &["ec2:StopInstances", "ec2:ModifyInstanceAttribute", "ec2:StartInstances", "ec2:DescribeInstances"]
        }
        ("AWS::EC2::Instance", Change::Delete) => &["ec2:TerminateInstances", "ec2:DescribeInstances"],
        ("AWS::SageMaker::NotebookInstance", Change::Create) => {
            &["iam:PassRole", "sagemaker:CreateNotebookInstance", "sagemaker:AddTags", "sagemaker:DescribeNotebookInstance"]
        }
        ("AWS::SageMaker::NotebookInstance", Change::Update) => &[
            "sagemaker:StopNotebookInstance",
            "sagemaker:UpdateNotebookInstance",
            "sagemaker:StartNotebookInstance",
            "sagemaker:DescribeNotebookInstance",
        ],
        ("AWS::SageMaker::NotebookInstance", Change::Delete) => {
            &["sagemaker:StopNotebookInstance", "sagemaker:DeleteNotebookInstance", "sagemaker:DescribeNotebookInstance"]
        }
        ("AWS::EMR::Cluster", Change::Create) => {
            &["iam:PassRole", "elasticmapreduce:RunJobFlow", "elasticmapreduce:AddTags", "elasticmapreduce:DescribeCluster"]
        }
        ("AWS::EMR::Cluster", Change::Update) => &["elasticmapreduce:DescribeCluster"],
        ("AWS::EMR::Cluster", Change::Delete) => &["elasticmapreduce:TerminateJobFlows", "elasticmapreduce:DescribeCluster"],
        ("AWS::SSM::Parameter", Change::Create) => &["ssm:PutParameter", "ssm:AddTagsToResource", "ssm:GetParameters"],
        ("AWS::SSM::Parameter", Change::Update) => {
            &["ssm:PutParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:GetParameters"]
        }
        ("AWS::SSM::Parameter", Change::Delete) => &["ssm:DeleteParameter"],
        _ => &[],
    }
}

/// The roles a resource is given (by ARN, or by name as EMR takes them), as ARNs in `account`.
fn passed_roles(resource: &serde_json::Value, account: &str) -> Vec<String> {
    let properties = &resource["Properties"];
    ["RoleArn", "JobFlowRole", "ServiceRole"]
        .iter()
        .filter_map(|property| match &properties[*property] {
            serde_json::Value::String(role) => Some(role.clone()),
            other => other["Fn::Sub"].as_str().map(|arn| arn.replace("${AWS::AccountId}", account).replace("${AWS::Partition}", "aws")),
        })
        .map(|role| if role.starts_with("arn:") { role } else { format!("arn:aws:iam::{account}:role/{role}") })
        .collect()
}

/// The calls of a change to a stack of `template` (CloudFormation JSON) in `account`: the
/// stack's, then each resource's, `iam:PassRole` once per role a resource is given.
pub fn change_calls(template: &str, change: Change, account: &str) -> Vec<Call<'static>> {
    let resources: Vec<serde_json::Value> = serde_json::from_str::<serde_json::Value>(template)
        .ok()
        .and_then(|template| template.get("Resources").and_then(|r| r.as_object()).map(|r| r.values().cloned().collect()))
        .unwrap_or_default();
    let mut calls: Vec<Call<'static>> = stack_actions(change).iter().map(|action| Call::any(action)).collect();
    for resource in &resources {
        for action in resource_actions(resource["Type"].as_str().unwrap_or_default(), change) {
            let roles = if *action == "iam:PassRole" { passed_roles(resource, account) } else { vec!["*".into()] };
            for call in roles.into_iter().map(|resource| Call { action, resource }) {
                if !calls.contains(&call) {
                    calls.push(call);
                }
            }
        }
    }
    calls
}

/// The calls of a self-service action running SSM Automation `document`.
pub fn automation_calls(document: &str) -> Vec<Call<'static>> {
    automation_actions(document).iter().map(|action| Call::any(action)).collect()
}

fn automation_actions(document: &str) -> &'static [&'static str] {
    match document {
        "AWS-StopEC2Instance" => &["ssm:StartAutomationExecution", "ec2:StopInstances", "ec2:DescribeInstances"],
        "AWS-StartEC2Instance" => &["ssm:StartAutomationExecution", "ec2:StartInstances", "ec2:DescribeInstances"],
        "Atrium-StopNotebookInstance" => &["ssm:StartAutomationExecution", "sagemaker:StopNotebookInstance"],
        "Atrium-StartNotebookInstance" => &["ssm:StartAutomationExecution", "sagemaker:StartNotebookInstance"],
        _ => &["ssm:StartAutomationExecution"],
    }
}

/// Every action a launch role may be asked for here, for tests that compare it with a policy.
pub fn all_actions() -> Vec<&'static str> {
    let types = ["AWS::EC2::Instance", "AWS::SageMaker::NotebookInstance", "AWS::EMR::Cluster", "AWS::SSM::Parameter"];
    let documents = ["AWS-StopEC2Instance", "AWS-StartEC2Instance", "Atrium-StopNotebookInstance", "Atrium-StartNotebookInstance"];
    let mut actions = Vec::new();
    for change in [Change::Create, Change::Update, Change::Delete] {
        actions.extend(stack_actions(change));
        for resource_type in types {
            actions.extend(resource_actions(resource_type, change));
        }
    }
    for document in documents {
        actions.extend(automation_actions(document));
    }
    actions.sort_unstable();
    actions.dedup();
    actions
}

#[cfg(test)]
mod tests {
    use super::{Change, change_calls};

    #[test]
    fn a_change_asks_for_the_stacks_calls_then_each_resource_types() {
        let template = r#"{"Resources": {"A": {"Type": "AWS::EC2::Instance"}, "B": {"Type": "AWS::EC2::Instance"}}}"#;
        let actions: Vec<&str> = change_calls(template, Change::Delete, "111122223333").iter().map(|call| call.action).collect();
        assert_eq!(
            actions,
            [
                "cloudformation:DeleteStack",
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "ec2:TerminateInstances",
                "ec2:DescribeInstances"
            ]
        );
        assert_eq!(change_calls("not json", Change::Create, "111122223333").len(), 7, "the stack's calls alone");
    }

    #[test]
    fn the_roles_a_resource_is_given_are_judged_by_arn() {
        let template = r#"{"Resources": {
            "N": {"Type": "AWS::SageMaker::NotebookInstance", "Properties": {"RoleArn": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/Notebook"}}},
            "C": {"Type": "AWS::EMR::Cluster", "Properties": {"JobFlowRole": "EMR_EC2_DefaultRole", "ServiceRole": "EMR_DefaultRole"}}}}"#;
        let passed: Vec<String> = change_calls(template, Change::Create, "111122223333")
            .into_iter()
            .filter(|call| call.action == "iam:PassRole")
            .map(|call| call.resource)
            .collect();
        assert_eq!(
            passed,
            [
                "arn:aws:iam::111122223333:role/EMR_EC2_DefaultRole",
                "arn:aws:iam::111122223333:role/EMR_DefaultRole",
                "arn:aws:iam::111122223333:role/Notebook"
            ]
        );
    }
}
