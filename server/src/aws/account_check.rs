//! "Test connection" for a team's account: assume the portal's role there, then make one read
//! call of each kind the portal needs, and say in plain words what worked and what did not.

use super::is_unreachable;
use super::provisioning::ProvisionError;
use super::team_role::{TeamRole, TeamSessions};
use app::domain::team_admin::CheckStep;
use aws_sdk_costexplorer::types::{DateInterval, Granularity};
use aws_sdk_servicecatalog::error::{ProvideErrorMetadata, SdkError};

#[async_trait::async_trait]
pub trait AccountCheck: Send + Sync {
    /// The portal's own account id (GetCallerIdentity, asked once).
    async fn portal_account(&self) -> Result<String, ProvisionError>;
    /// Every step in order; steps after a failed AssumeRole are not tried.
    async fn check(&self, role: &TeamRole, ssm_path: &str) -> Vec<CheckStep>;
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

/// One call's outcome in words: which permission is missing, or what AWS said.
fn explain<E, R>(permission: &str, error: SdkError<E, R>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    if is_unreachable(&error) {
        return format!("Could not reach AWS for {permission}: {}", aws_sdk_servicecatalog::error::DisplayErrorContext(&error));
    }
    let code = error.code().unwrap_or("an unknown error");
    let message = error.message().unwrap_or_default();
    if code.contains("AccessDenied") || code.contains("Unauthorized") || code.contains("NotAuthorized") {
        format!("The role is missing the permission {permission} ({code}). {message}")
    } else {
        format!("{permission} failed: {code}. {message}")
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
    async fn check(&self, role: &TeamRole, ssm_path: &str) -> Vec<CheckStep> {
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

        let catalog = crate::aws::call_metrics::client!(aws_sdk_servicecatalog, &account);
        let portfolios = catalog.list_portfolios().send().await;
        steps.push(step(
            "List Service Catalog portfolios",
            portfolios
                .map(|r| format!("{} portfolio(s) visible.", r.portfolio_details().len()))
                .map_err(|e| explain("servicecatalog:ListPortfolios", e)),
        ));

        let ssm = crate::aws::call_metrics::client!(aws_sdk_ssm, &account);
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
        steps.push(step("Read the account's spend in Cost Explorer", spend));
        steps
    }
}
