//! The team account's stack (`deploy/team-account.yaml`) with a team's values: the parameters
//! it takes, CloudFormation's quick-create link that fills them in, and the template with them
//! as defaults, for an admin who uploads it by hand.

use crate::repo::teams::Team;
use app::domain::team_admin::{StackParameter, TEAM_STACK_VERSION, TeamAccountSetup};

/// The template every team account deploys; the portal serves it with each team's values.
pub const TEAM_ACCOUNT_TEMPLATE: &str = include_str!("../../../deploy/team-account.yaml");

/// Where the portal finds the team account's stack: what the admin knows of it.
pub struct StackSite<'a> {
    pub portal_account_id: &'a str,
    pub region: &'a str,
    /// The template's public URL (`ATRIUM_TEAM_TEMPLATE_URL`), for the quick-create link.
    pub template_url: Option<&'a str>,
}

pub fn stack_name(team: &Team) -> String {
    format!("atrium-team-{}", team.slug)
}

pub fn parameters(team: &Team, portal_account_id: &str) -> Vec<StackParameter> {
    [("PortalAccountId", portal_account_id), ("ExternalId", team.external_id.as_str()), ("TeamSlug", team.slug.as_str())]
        .into_iter()
        .map(|(key, value)| StackParameter { key: key.to_owned(), value: value.to_owned() })
        .collect()
}

pub fn setup(team: &Team, site: &StackSite<'_>) -> TeamAccountSetup {
    let parameters = parameters(team, site.portal_account_id);
    let stack_name = stack_name(team);
    let quick_create_url = site.template_url.map(|template_url| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("templateURL", template_url).append_pair("stackName", &stack_name);
        for parameter in &parameters {
            query.append_pair(&format!("param_{}", parameter.key), &parameter.value);
        }
        format!(
            "https://{region}.console.aws.amazon.com/cloudformation/home?region={region}#/stacks/quickcreate?{}",
            query.finish(),
            region = site.region
        )
    });
    TeamAccountSetup {
        stack_name,
        quick_create_url,
        template_download: format!("/admin/teams/{}/team-account.yaml", team.slug),
        parameters,
        role_arn: format!("arn:aws:iam::{}:role/AtriumPortalAccess", team.aws_account_id),
        template_version: TEAM_STACK_VERSION,
    }
}

/// The template with each parameter's value as its default (a `Default:` line under the
/// parameter's `Type:`), so that the admin's upload needs no typing.
pub fn template_for(team: &Team, portal_account_id: &str) -> String {
    let mut template = TEAM_ACCOUNT_TEMPLATE.to_owned();
    for parameter in parameters(team, portal_account_id) {
        let declared = format!("\n  {}:\n    Type: String\n", parameter.key);
        // Values are digits, slugs and external ids ([A-Za-z0-9+=,.@:/-]): nothing to escape.
        let with_default = format!("{declared}    Default: \"{}\"\n", parameter.value);
        template = template.replacen(&declared, &with_default, 1);
    }
    template
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::TeamSlug;

    fn team() -> Team {
        Team {
            slug: TeamSlug::parse("genomics").expect("slug"),
            name: "Genomics".into(),
            description: String::new(),
            aws_account_id: "111111111111".into(),
            role_arn: "arn:aws:iam::111111111111:role/AtriumPortalAccess".into(),
            external_id: "0123456789abcdef0123456789abcdef".into(),
            ssm_path: "/atrium/teams/genomics".into(),
            time_zone: "UTC".into(),
            reviewers: 1,
            archived: false,
        }
    }

    #[test]
    fn the_quick_create_link_carries_the_template_and_the_teams_values() {
        let site =
            StackSite { portal_account_id: "999999999999", region: "eu-west-1", template_url: Some("https://b.s3.amazonaws.com/t.yaml") };
        let setup = setup(&team(), &site);
        let link = setup.quick_create_url.expect("a link");
        assert!(link.starts_with("https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/quickcreate?"));
        for part in [
            "templateURL=https%3A%2F%2Fb.s3.amazonaws.com%2Ft.yaml",
            "stackName=atrium-team-genomics",
            "param_PortalAccountId=999999999999",
            "param_ExternalId=0123456789abcdef0123456789abcdef",
            "param_TeamSlug=genomics",
        ] {
            assert!(link.contains(part), "{part} in {link}");
        }
        assert_eq!(setup.role_arn, "arn:aws:iam::111111111111:role/AtriumPortalAccess");
        let without = StackSite { template_url: None, ..site };
        assert_eq!(super::setup(&team(), &without).quick_create_url, None, "no public template, no link");
    }

    #[test]
    fn the_downloaded_template_defaults_to_the_teams_values() {
        let template = template_for(&team(), "999999999999");
        for expected in [
            "  PortalAccountId:\n    Type: String\n    Default: \"999999999999\"\n",
            "  ExternalId:\n    Type: String\n    Default: \"0123456789abcdef0123456789abcdef\"\n",
            "  TeamSlug:\n    Type: String\n    Default: \"genomics\"\n",
        ] {
            assert!(template.contains(expected), "{expected:?} in the template");
        }
        assert_eq!(template.matches("Default:").count(), TEAM_ACCOUNT_TEMPLATE.matches("Default:").count() + 3);
    }
}
