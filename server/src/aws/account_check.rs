//! "Test connection" for a team's account: assume the portal's role there, then check each
//! capability the portal uses there with one harmless call, say in plain words what worked and
//! what did not, and compare the account's stack version with the one this portal needs.

use super::provisioning::ProvisionError;
use super::team_role::{TeamRole, TeamSessions};
use super::{is_refused, is_unreachable};
use app::domain::team_admin::CheckStep;
use aws_sdk_costexplorer::types::{DateInterval, Granularity};
use aws_sdk_servicecatalog::error::{ProvideErrorMetadata, SdkError};

#[async_trait::async_trait]
pub trait AccountCheck: Send + Sync {
    /// The portal's own account id (GetCallerIdentity, asked once).
    async fn portal_account(&self) -> Result<String, ProvisionError>;
    /// Every step in order; steps after a failed AssumeRole are not tried. `studies_bucket`:
    /// the team's bucket for studies, when it has one.
    async fn check(&self, role: &TeamRole, ssm_path: &str, studies_bucket: Option<&str>) -> Vec<CheckStep>;
}

pub struct SdkAccountCheck {
    sessions: TeamSessions,
    portal_account: tokio::sync::OnceCell<String>,
}

impl SdkAccountCheck {
    pub fn new(sessions: impl Into<TeamSessions>) -> Self {
        SdkAccountCheck { sessions: sessions.into(), portal_account: tokio::sync::OnceCell::new() }
    }
}

type HttpResponse = aws_smithy_runtime_api::http::Response;

/// One call's outcome in words: which permission is missing, or what AWS said.
fn explain<E>(permission: &str, error: SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    let message = error.message().unwrap_or_default();
    if is_refused(&error) {
        let code = error.code().unwrap_or("HTTP 403");
        format!("The role is missing the permission {permission} ({code}). {message}")
    } else if is_unreachable(&error) {
        format!("Could not reach AWS for {permission}: {}", aws_sdk_servicecatalog::error::DisplayErrorContext(&error))
    } else {
        format!("{permission} failed: {}. {message}", error.code().unwrap_or("an unknown error"))
    }
}

/// A capability probed with a call on something that does not exist: IAM decides before the
/// service looks, so "no such thing" means the permission is there, and only a refusal (or no
/// answer) fails the step.
fn probe<T, E>(permission: &str, allowed: &str, outcome: Result<T, SdkError<E, HttpResponse>>) -> Result<String, String>
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    match outcome {
        Ok(_) => Ok(allowed.to_owned()),
        Err(error) => {
            if is_refused(&error) || is_unreachable(&error) || error.as_service_error().is_none() {
                Err(explain(permission, error))
            } else {
                Ok(allowed.to_owned())
            }
        }
    }
}

/// What each version of `deploy/team-account.yaml` added, for "needs update to vN: adds …".
const STACK_CHANGES: [(u32, &str); 4] = [
    (1, "the role, its statements and the stack-version parameter"),
    (
        2,
        "Service Catalog's launch role, the notebooks' role and their stop and start documents, the team's parameters, and optionally the team's bucket, a private network and a file system",
    ),
    (3, "the launch role's permission to run the Stop and Start actions' automations, and the portal's access to the team's scratch space"),
    (
        4,
        "the airlock's access (imports' inbox, requests' held files and the malware scan results GuardDuty tags them with, the quarantine), and people's homes on the team's file system",
    ),
];

/// The account's stack version against the one this portal needs, from its `stack-version`
/// parameter (`None`: no such parameter).
pub fn stack_verdict(found: Option<&str>) -> Result<String, String> {
    let needed = app::domain::team_admin::TEAM_STACK_VERSION;
    let Some(found) = found else {
        return Ok(format!(
            "No Atrium stack found (no stack-version parameter): the role was made by hand, so only the checks above vouch for it. \
             deploy/team-account.yaml version {needed} makes it for you."
        ));
    };
    match found.trim().parse::<u32>() {
        Ok(version) if version >= needed => Ok(format!("Up to date (version {version}).")),
        Ok(version) => {
            let adds: Vec<&str> = STACK_CHANGES.iter().filter(|(v, _)| *v > version && *v <= needed).map(|(_, what)| *what).collect();
            Err(format!(
                "Version {version}: needs an update to version {needed}, which adds {}. Update the stack with the portal's template.",
                adds.join("; ")
            ))
        }
        Err(_) => Err(format!("The stack-version parameter says \"{found}\", which is not a version: redeploy deploy/team-account.yaml.")),
    }
}

fn step(step: &str, result: Result<String, String>) -> CheckStep {
    let ok = result.is_ok();
    CheckStep { step: step.to_owned(), ok, detail: result.unwrap_or_else(|e| e) }
}

#[async_trait::async_trait]
impl AccountCheck for SdkAccountCheck {
    async fn portal_account(&self) -> Result<String, ProvisionError> {
        let account = self
            .portal_account
            .get_or_try_init(|| async {
                let identity = crate::aws::call_metrics::client!(aws_sdk_sts, self.sessions.base())
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(super::provisioning::classify)?;
                identity.account.ok_or_else(|| ProvisionError::Retryable(anyhow::anyhow!("GetCallerIdentity named no account")))
            })
            .await?;
        Ok(account.clone())
    }

    #[tracing::instrument(skip(self))]
    async fn check(&self, role: &TeamRole, ssm_path: &str, studies_bucket: Option<&str>) -> Vec<CheckStep> {
        let assume = "Assume the portal's role in the account";
        let account = match self.sessions.fresh(role, "atrium-connection-test").await {
            Ok(account) => account,
            Err(ProvisionError::Rejected(message)) => {
                let detail = format!(
                    "AWS refused sts:AssumeRole on {}: {message}. Check that the role exists and trusts the portal's account with the team's external id.",
                    role.arn
                );
                return vec![step(assume, Err(detail))];
            }
            Err(ProvisionError::Retryable(error)) => {
                return vec![step(assume, Err(format!("Could not reach AWS STS: {error:#}")))];
            }
        };
        let mut steps = vec![step(assume, Ok(format!("Assumed {}.", role.arn)))];

        // Names the probes give things that do not exist.
        const NOTHING: &str = "atrium-connection-check";
        const NO_PRODUCT: &str = "pp-atriumcheck0";
        let catalog = crate::aws::call_metrics::client!(aws_sdk_servicecatalog, &account);
        let portfolios = catalog.list_portfolios().send().await;
        steps.push(step(
            "Launch workspaces (Service Catalog)",
            portfolios
                .map(|r| format!("Allowed; {} portfolio(s) shared with the account.", r.portfolio_details().len()))
                .map_err(|e| explain("servicecatalog:ListPortfolios", e)),
        ));
        let actions = catalog
            .list_service_actions_for_provisioning_artifact()
            .product_id("prod-atriumcheck0")
            .provisioning_artifact_id("pa-atriumcheck0")
            .send()
            .await;
        steps.push(step(
            "Stop and start workspaces",
            probe("servicecatalog:ListServiceActionsForProvisioningArtifact", "Allowed.", actions),
        ));
        // On a provisioned product that does not exist, so nothing changes.
        let upgrade = catalog.update_provisioned_product().provisioned_product_id(NO_PRODUCT).send().await;
        steps.push(step("Upgrade and resize workspaces", probe("servicecatalog:UpdateProvisionedProduct", "Allowed.", upgrade)));
        let terminate = catalog.terminate_provisioned_product().provisioned_product_id(NO_PRODUCT).send().await;
        steps.push(step("Terminate workspaces", probe("servicecatalog:TerminateProvisionedProduct", "Allowed.", terminate)));

        let sagemaker = crate::aws::call_metrics::client!(aws_sdk_sagemaker, &account);
        let notebook = sagemaker.create_presigned_notebook_instance_url().notebook_instance_name(NOTHING).send().await;
        steps.push(step("Connect to notebooks (SageMaker)", probe("sagemaker:CreatePresignedNotebookInstanceUrl", "Allowed.", notebook)));
        let studio = sagemaker.describe_user_profile().domain_id("d-atriumcheck0").user_profile_name(NOTHING).send().await;
        steps.push(step("Open SageMaker Studio", probe("sagemaker:DescribeUserProfile", "Allowed.", studio)));

        let ssm = crate::aws::call_metrics::client!(aws_sdk_ssm, &account);
        let session =
            ssm.start_session().target("i-00000000000000000").document_name(super::sessions::PORT_FORWARDING_DOCUMENT).send().await;
        steps.push(step("Session Manager", probe("ssm:StartSession", "Allowed.", session)));

        let ec2 = crate::aws::call_metrics::client!(aws_sdk_ec2, &account);
        let instances = ec2.describe_instances().max_results(5).send().await;
        steps.push(step("Reconcile workspaces with AWS (EC2)", probe("ec2:DescribeInstances", "Allowed.", instances)));

        let cloudwatch = crate::aws::call_metrics::client!(aws_sdk_cloudwatch, &account);
        let now = aws_sdk_cloudwatch::primitives::DateTime::from_secs(time::OffsetDateTime::now_utc().unix_timestamp());
        let an_hour_ago = aws_sdk_cloudwatch::primitives::DateTime::from_secs(time::OffsetDateTime::now_utc().unix_timestamp() - 3600);
        let query = aws_sdk_cloudwatch::types::MetricDataQuery::builder()
            .id("cpu")
            .metric_stat(
                aws_sdk_cloudwatch::types::MetricStat::builder()
                    .metric(aws_sdk_cloudwatch::types::Metric::builder().namespace("AWS/EC2").metric_name("CPUUtilization").build())
                    .period(300)
                    .stat("Average")
                    .build(),
            )
            .build();
        let metrics = cloudwatch.get_metric_data().metric_data_queries(query).start_time(an_hour_ago).end_time(now).send().await;
        steps.push(step("Idle metrics (CloudWatch)", probe("cloudwatch:GetMetricData", "Allowed.", metrics)));

        let parameters = ssm.get_parameters_by_path().path(ssm_path).recursive(true).max_results(10).send().await;
        steps.push(step(
            &format!("Read the team's parameters under {ssm_path}"),
            parameters
                .map(|r| match r.parameters().len() {
                    0 => "Readable, but nothing is there yet (the team home will show no links or storage).".to_owned(),
                    n => format!("{n}{} parameter(s) readable.", if r.next_token().is_some() { "+" } else { "" }),
                })
                .map_err(|e| explain("ssm:GetParametersByPath", e)),
        ));

        let studies = match studies_bucket {
            None => Ok(format!(
                "The team has no bucket for studies (`studies-bucket` under {ssm_path}, or its parameters could not be read): nothing to check."
            )),
            Some(bucket) => {
                let s3 = super::s3::S3Store::new(account.clone());
                let listing = s3.client().list_objects_v2().bucket(bucket).prefix("studies/").max_keys(1).send().await;
                match listing {
                    Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_bucket()) => {
                        Err(format!("The account has no bucket {bucket}: check the team's studies-bucket parameter."))
                    }
                    Err(error) => Err(explain("s3:ListBucket", error)),
                    // S3 answers a read of a missing key with a refusal unless listing is allowed
                    // for it, so the read probe reads a file that is there (one byte of it).
                    Ok(listed) => match listed.contents().iter().find_map(|object| object.key()) {
                        None => Ok(format!("Allowed: studies/ in {bucket} can be listed (no file there yet to read).")),
                        Some(key) => {
                            let read = s3.client().get_object().bucket(bucket).key(key).range("bytes=0-0").send().await;
                            read.map(|_| format!("Allowed: studies/ in {bucket} can be listed and read."))
                                .map_err(|error| explain("s3:GetObject", error))
                        }
                    },
                }
            }
        };
        steps.push(step("Studies (S3)", studies));
        if let Some(bucket) = studies_bucket {
            let s3 = super::s3::S3Store::new(account.clone());
            // A file no request holds: S3 says there is no such key only to a caller allowed to
            // read its tags (and to list airlock/, which StudyListing grants).
            let probe = "airlock/atrium-connection-test";
            let tags = match s3.client().get_object_tagging().bucket(bucket).key(probe).send().await {
                Ok(_) => Ok(format!("Allowed: the scan results of airlock/ in {bucket} can be read.")),
                Err(error) if error.as_service_error().and_then(ProvideErrorMetadata::code) == Some("NoSuchKey") => {
                    Ok(format!("Allowed: the scan results of airlock/ in {bucket} can be read."))
                }
                Err(error) => Err(explain("s3:GetObjectTagging", error)),
            };
            steps.push(step("Malware scan results (S3)", tags));
            // The quarantine's folder marker: the only write the check makes, and harmless.
            let marker = s3.client().put_object().bucket(bucket).key("quarantine/").body(Vec::new().into()).send().await;
            let quarantine = marker
                .map(|_| format!("Allowed: files with a threat can be moved to quarantine/ in {bucket}."))
                .map_err(|error| explain("s3:PutObject", error));
            steps.push(step("Quarantine (S3)", quarantine));
        }

        let costs = crate::aws::call_metrics::client!(aws_sdk_costexplorer, &account);
        let today = time::OffsetDateTime::now_utc().date();
        let period = DateInterval::builder().start((today - time::Duration::days(1)).to_string()).end(today.to_string()).build();
        let spend = match period {
            Ok(period) => costs
                .get_cost_and_usage()
                .time_period(period)
                .granularity(Granularity::Daily)
                .metrics("UnblendedCost")
                .send()
                .await
                .map(|_| "Spend is readable.".to_owned())
                .map_err(|e| explain("ce:GetCostAndUsage", e)),
            Err(error) => Err(format!("Could not build the Cost Explorer request: {error}")),
        };
        steps.push(step("Costs (Cost Explorer)", spend));

        let version = ssm.get_parameter().name(format!("{ssm_path}/stack-version")).send().await;
        let version = match version {
            Ok(answer) => stack_verdict(answer.parameter().and_then(|p| p.value())),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => stack_verdict(None),
            Err(error) => Err(explain("ssm:GetParameter", error)),
        };
        steps.push(step("The account's Atrium stack", version));
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::stack_verdict;

    #[test]
    fn the_stack_version_is_judged_against_the_one_the_portal_needs() {
        assert_eq!(stack_verdict(Some("4")), Ok("Up to date (version 4).".to_owned()));
        assert!(stack_verdict(Some("3")).is_err_and(|e| e.contains("needs an update to version 4, which adds the airlock's access")));
        assert!(
            stack_verdict(Some("2")).is_err_and(|e| e.contains("needs an update to version 4, which adds the launch role's permission"))
        );
        assert!(stack_verdict(Some("1")).is_err_and(|e| e.contains("version 4, which adds Service Catalog's launch role")));
        let from_nothing = stack_verdict(Some("0")).unwrap_err();
        assert!(
            from_nothing.contains("which adds the role, its statements") && from_nothing.contains("; Service Catalog's"),
            "{from_nothing}"
        );
        assert!(stack_verdict(Some("one")).is_err_and(|e| e.contains("not a version")));
        assert!(stack_verdict(None).is_ok_and(|e| e.contains("made by hand")), "a role made by hand is judged by its checks");
    }
}
