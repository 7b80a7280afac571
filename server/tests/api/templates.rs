//! The two CloudFormation templates the project ships, read as JSON, and their parameters'
//! reference in the operator's guide (`docs/src/reference/templates.md`), kept equal to them.

use serde_json::{Value, json};

/// A CloudFormation template as JSON; the YAML reader keeps the text of `!Sub`, `!GetAtt` and
/// the other short forms and drops their tag.
pub fn template_json(template: &str) -> Value {
    fn json_of(yaml: &yaml_rust2::Yaml) -> Value {
        use yaml_rust2::Yaml;
        match yaml {
            Yaml::Hash(hash) => Value::Object(hash.iter().filter_map(|(k, v)| Some((k.as_str()?.to_owned(), json_of(v)))).collect()),
            Yaml::Array(items) => Value::Array(items.iter().map(json_of).collect()),
            Yaml::String(text) | Yaml::Real(text) => Value::String(text.clone()),
            Yaml::Integer(number) => json!(number),
            Yaml::Boolean(flag) => json!(flag),
            _ => Value::Null,
        }
    }
    json_of(&yaml_rust2::YamlLoader::load_from_str(template).expect("the template reads")[0])
}

/// Each statement of the team role's policy (`deploy/team-account.yaml`) but `TeamParameters`
/// (two steps read with it), the connection-test step that needs it, and the permission that
/// step names without it.
pub const TEAM_ROLE_STATEMENTS: [(&str, &str, &str); 14] = [
    ("Launch", "Launch workspaces (Service Catalog)", "servicecatalog:ListPortfolios"),
    ("StopAndStart", "Stop and start workspaces", "servicecatalog:ListServiceActionsForProvisioningArtifact"),
    ("UpgradeAndResize", "Upgrade and resize workspaces", "servicecatalog:UpdateProvisionedProduct"),
    ("Terminate", "Terminate workspaces", "servicecatalog:TerminateProvisionedProduct"),
    ("ConnectToNotebooks", "Connect to notebooks (SageMaker)", "sagemaker:CreatePresignedNotebookInstanceUrl"),
    ("Studio", "Open SageMaker Studio", "sagemaker:DescribeUserProfile"),
    ("SessionManager", "Session Manager", "ssm:StartSession"),
    ("IdleMetrics", "Idle metrics (CloudWatch)", "cloudwatch:GetMetricData"),
    ("Reconcile", "Reconcile workspaces with AWS (EC2)", "ec2:DescribeInstances"),
    ("StudyListing", "Studies (S3)", "s3:ListBucket"),
    ("StudyFiles", "Studies (S3)", "s3:GetObject"),
    ("MalwareScans", "Malware scan results (S3)", "s3:GetObjectTagging"),
    ("Quarantine", "Quarantine (S3)", "s3:PutObject"),
    ("Costs", "Costs (Cost Explorer)", "ce:GetCostAndUsage"),
];

fn parameters_table(title: &str, file: &str, template: &str) -> String {
    let template = template_json(template);
    let mut text = format!("\n## {title} (`{file}`)\n\n| Parameter | Type | Default | What it is |\n|---|---|---|---|\n");
    let parameters = template["Parameters"].as_object().cloned().unwrap_or_default();
    for (name, parameter) in &parameters {
        let default = match &parameter["Default"] {
            Value::Null => "required".to_owned(),
            Value::String(text) if text.is_empty() => "empty".to_owned(),
            Value::String(text) => format!("`{text}`"),
            other => format!("`{other}`"),
        };
        let description = parameter["Description"].as_str().unwrap_or_default().replace('\n', " ").replace('|', "\\|");
        assert!(!description.is_empty(), "{file}: the parameter {name} says what it is");
        let kind = parameter["Type"].as_str().unwrap_or_default();
        text.push_str(&format!("| `{name}` | `{kind}` | {default} | {} |\n", description.trim()));
    }
    text
}

#[test]
fn the_templates_reference_in_the_docs_is_the_one_the_templates_give() {
    let generated = format!(
        "<!-- Generated from deploy/*.yaml by server/tests/api/templates.rs (ATRIUM_WRITE_DOCS=1 dev/docs rewrites it): do not edit. -->\n\
         # CloudFormation templates\n\n\
         The portal's stack and each team account's stack, and their parameters. Deploying them: \
         [Deploying on AWS](../operators/deploying.md) and \
         [Connecting a team's AWS account](../operators/team-accounts.md).\n{}{}",
        parameters_table("The portal's stack", "deploy/atrium.yaml", include_str!("../../../deploy/atrium.yaml")),
        parameters_table("A team account's stack", "deploy/team-account.yaml", include_str!("../../../deploy/team-account.yaml")),
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/reference/templates.md");
    if std::env::var_os("ATRIUM_WRITE_DOCS").is_some() {
        std::fs::write(path, &generated).expect("the reference is written");
    }
    let written = std::fs::read_to_string(path).unwrap_or_default();
    assert!(written == generated, "docs/src/reference/templates.md is out of date: ATRIUM_WRITE_DOCS=1 dev/docs rewrites it");
    assert!(generated.contains("| `ImageUri` |") && generated.contains("| `ExternalId` |"), "both templates");
}

#[test]
fn the_team_accounts_template_is_the_version_the_portal_needs() {
    let template = template_json(include_str!("../../../deploy/team-account.yaml"));
    let needed = app::domain::team_admin::TEAM_STACK_VERSION;
    assert_eq!(template["Metadata"]["TemplateVersion"], json!(needed));
    assert_eq!(template["Outputs"]["TemplateVersion"]["Value"], json!(needed.to_string()), "the output the operator sees");
    assert_eq!(template["Resources"]["StackVersion"]["Properties"]["Value"], json!(needed.to_string()), "the parameter the check reads");
    let described = template["Description"].as_str().unwrap_or_default();
    assert!(described.contains(&format!("(template version {needed})")), "{described}");
}
