//! Workspace metrics from CloudWatch in the team's own account (GetMetricData through the
//! team's role): the CPU of a workstation's instance, for the idle check.

use super::provisioning::{classify, team_account, ProvisionError};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};

/// The period of the datapoints read: EC2's basic monitoring publishes every five minutes.
pub const PERIOD_SECONDS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: time::OffsetDateTime,
    pub value: f64,
}

#[async_trait::async_trait]
pub trait Metrics: Send + Sync {
    /// The instance's average CPU per period in `[start, end)`, oldest first.
    async fn cpu(&self, role_arn: &str, instance_id: &str, start: time::OffsetDateTime, end: time::OffsetDateTime) -> Result<Vec<Sample>, ProvisionError>;
}

pub struct CloudWatchMetrics {
    base: aws_config::SdkConfig,
}

impl CloudWatchMetrics {
    pub fn new(base: aws_config::SdkConfig) -> Self {
        CloudWatchMetrics { base }
    }
}

#[async_trait::async_trait]
impl Metrics for CloudWatchMetrics {
    #[tracing::instrument(skip(self))]
    async fn cpu(&self, role_arn: &str, instance_id: &str, start: time::OffsetDateTime, end: time::OffsetDateTime) -> Result<Vec<Sample>, ProvisionError> {
        let client = aws_sdk_cloudwatch::Client::new(&team_account(&self.base, role_arn, "atrium-idle-check").await?);
        let metric = Metric::builder()
            .namespace("AWS/EC2")
            .metric_name("CPUUtilization")
            .dimensions(Dimension::builder().name("InstanceId").value(instance_id).build())
            .build();
        let query = MetricDataQuery::builder()
            .id("cpu")
            .metric_stat(MetricStat::builder().metric(metric).period(PERIOD_SECONDS as i32).stat("Average").build())
            .return_data(true)
            .build();
        let mut samples = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = client
                .get_metric_data()
                .metric_data_queries(query.clone())
                .start_time(DateTime::from_secs(start.unix_timestamp()))
                .end_time(DateTime::from_secs(end.unix_timestamp()))
                .set_next_token(next.take())
                .send()
                .await
                .map_err(classify)?;
            for result in page.metric_data_results() {
                for (at, value) in result.timestamps().iter().zip(result.values()) {
                    if let Ok(at) = time::OffsetDateTime::from_unix_timestamp(at.secs()) {
                        samples.push(Sample { at, value: *value });
                    }
                }
            }
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        samples.sort_by_key(|s| s.at);
        Ok(samples)
    }
}
