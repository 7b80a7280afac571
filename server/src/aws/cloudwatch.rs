//! Workspace metrics from CloudWatch in the team's own account (GetMetricData through the
//! team's role): a workstation's CPU for the idle check, and its CPU, memory and disk (the
//! last two where the CloudWatch agent publishes them) for health alarms.

use super::provisioning::{ProvisionError, classify};
use super::team_role::{TeamRole, TeamSessions};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};

/// The period of the datapoints read: EC2's basic monitoring publishes every five minutes.
pub const PERIOD_SECONDS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: time::OffsetDateTime,
    pub value: f64,
}

/// Minute by minute, oldest first: what health alarms look at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    pub cpu: Vec<Sample>,
    /// `CWAgent` `mem_used_percent`, if the agent publishes it.
    pub memory: Vec<Sample>,
    /// `CWAgent` `disk_used_percent`, if the agent publishes it.
    pub disk: Vec<Sample>,
}

#[async_trait::async_trait]
pub trait Metrics: Send + Sync {
    /// The instance's average CPU per period in `[start, end)`, oldest first.
    async fn cpu(
        &self,
        role: &TeamRole,
        instance_id: &str,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Vec<Sample>, ProvisionError>;
    /// A SageMaker notebook instance's average CPU per period in `[start, end)`.
    async fn notebook_cpu(
        &self,
        role: &TeamRole,
        notebook: &str,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Vec<Sample>, ProvisionError>;
    /// The EMR cluster's `IsIdle` (1 idle, 0 running jobs) per period in `[start, end)`.
    async fn cluster_idle(
        &self,
        role: &TeamRole,
        cluster_id: &str,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Vec<Sample>, ProvisionError>;
    /// The instance's CPU, memory and disk use per minute in `[start, end)`.
    async fn health(
        &self,
        role: &TeamRole,
        instance_id: &str,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Health, ProvisionError>;
}

fn query(id: &str, namespace: &str, metric: &str, instance_id: &str, period: i64) -> MetricDataQuery {
    query_by(id, namespace, metric, ("InstanceId", instance_id), period)
}

fn query_by(id: &str, namespace: &str, metric: &str, (dimension, value): (&str, &str), period: i64) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(namespace)
        .metric_name(metric)
        .dimensions(Dimension::builder().name(dimension).value(value).build())
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(MetricStat::builder().metric(metric).period(period as i32).stat("Average").build())
        .return_data(true)
        .build()
}

pub struct CloudWatchMetrics {
    sessions: TeamSessions,
}

impl CloudWatchMetrics {
    pub fn new(sessions: impl Into<TeamSessions>) -> Self {
        CloudWatchMetrics { sessions: sessions.into() }
    }
}

impl CloudWatchMetrics {
    /// Each query's samples by its id, oldest first, in the team's account.
    async fn read(
        &self,
        role: &TeamRole,
        queries: Vec<MetricDataQuery>,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Vec<(String, Vec<Sample>)>, ProvisionError> {
        let client = crate::aws::call_metrics::client!(aws_sdk_cloudwatch, &self.sessions.config(role, "atrium-idle-check").await?);
        let mut found: Vec<(String, Vec<Sample>)> = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from_secs(start.unix_timestamp()))
                .end_time(DateTime::from_secs(end.unix_timestamp()))
                .set_next_token(next.take())
                .send()
                .await
                .map_err(classify)?;
            for result in page.metric_data_results() {
                let id = result.id().unwrap_or_default().to_owned();
                let samples = result.timestamps().iter().zip(result.values()).filter_map(|(at, value)| {
                    time::OffsetDateTime::from_unix_timestamp(at.secs()).ok().map(|at| Sample { at, value: *value })
                });
                match found.iter_mut().find(|(known, _)| *known == id) {
                    Some((_, list)) => list.extend(samples),
                    None => found.push((id, samples.collect())),
                }
            }
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        for (_, samples) in &mut found {
            samples.sort_by_key(|s| s.at);
        }
        Ok(found)
    }
}

fn take(found: &mut Vec<(String, Vec<Sample>)>, id: &str) -> Vec<Sample> {
    found.iter().position(|(known, _)| known == id).map(|i| found.remove(i).1).unwrap_or_default()
}

#[async_trait::async_trait]
impl Metrics for CloudWatchMetrics {
    #[tracing::instrument(skip(self))]
    async fn cpu(
        &self,
        role: &TeamRole,
        instance_id: &str,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Vec<Sample>, ProvisionError> {
        let mut found = self.read(role, vec![query("cpu", "AWS/EC2", "CPUUtilization", instance_id, PERIOD_SECONDS)], start, end).await?;
        Ok(take(&mut found, "cpu"))
    }

    #[tracing::instrument(skip(self))]
    async fn notebook_cpu(
        &self,
        role: &TeamRole,
        notebook: &str,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Vec<Sample>, ProvisionError> {
        let cpu = query_by("cpu", "/aws/sagemaker/NotebookInstances", "CPUUtilization", ("NotebookInstanceName", notebook), PERIOD_SECONDS);
        let mut found = self.read(role, vec![cpu], start, end).await?;
        Ok(take(&mut found, "cpu"))
    }

    #[tracing::instrument(skip(self))]
    async fn cluster_idle(
        &self,
        role: &TeamRole,
        cluster_id: &str,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Vec<Sample>, ProvisionError> {
        let idle = query_by("idle", "AWS/ElasticMapReduce", "IsIdle", ("JobFlowId", cluster_id), PERIOD_SECONDS);
        let mut found = self.read(role, vec![idle], start, end).await?;
        Ok(take(&mut found, "idle"))
    }

    #[tracing::instrument(skip(self))]
    async fn health(
        &self,
        role: &TeamRole,
        instance_id: &str,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Health, ProvisionError> {
        let queries = vec![
            query("cpu", "AWS/EC2", "CPUUtilization", instance_id, 60),
            query("memory", "CWAgent", "mem_used_percent", instance_id, 60),
            query("disk", "CWAgent", "disk_used_percent", instance_id, 60),
        ];
        let mut found = self.read(role, queries, start, end).await?;
        Ok(Health { cpu: take(&mut found, "cpu"), memory: take(&mut found, "memory"), disk: take(&mut found, "disk") })
    }
}
