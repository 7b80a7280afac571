//! What AWS says a workspace's resources are doing, through each type's own API, for the
//! reconcile: an EC2 workstation's instance state, a SageMaker notebook instance's status.

use super::provisioning::{ProvisionError, classify};
use super::team_role::{TeamRole, TeamSessions};
use std::collections::BTreeMap;

/// A workspace's resources as AWS reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    Running,
    Stopped,
    /// Terminated, or not there at all.
    Gone,
    /// Between states (pending, stopping): nothing to conclude yet.
    Changing,
    /// Nothing Atrium knows how to ask about (a type without an instance).
    Unknown,
    /// AWS refused to say (a role without the permission): its message.
    Refused(String),
}

#[async_trait::async_trait]
pub trait Observer: Send + Sync {
    /// Asks in the team's account (role `role`, session `session_name`) about the
    /// resources the workspace's outputs name.
    async fn observe(&self, role: &TeamRole, session_name: &str, outputs: &BTreeMap<String, String>) -> Result<Observed, ProvisionError>;
}

pub struct AwsObserver {
    sessions: TeamSessions,
}

impl AwsObserver {
    pub fn new(sessions: impl Into<TeamSessions>) -> Self {
        AwsObserver { sessions: sessions.into() }
    }

    async fn notebook(&self, role: &TeamRole, session_name: &str, notebook: &str) -> Result<Observed, ProvisionError> {
        use aws_sdk_sagemaker::types::NotebookInstanceStatus as Status;
        let sagemaker = crate::aws::call_metrics::client!(aws_sdk_sagemaker, &self.sessions.config(role, session_name).await?);
        let described = match sagemaker.describe_notebook_instance().notebook_instance_name(notebook).send().await {
            Ok(described) => described,
            // SageMaker says ValidationException "RecordNotFound" for a notebook that is gone.
            Err(error)
                if error
                    .as_service_error()
                    .and_then(|e| aws_sdk_sagemaker::error::ProvideErrorMetadata::message(e))
                    .is_some_and(|m| m.contains("not found") || m.contains("RecordNotFound") || m.contains("does not exist")) =>
            {
                return Ok(Observed::Gone);
            }
            Err(error) => return Err(classify(error)),
        };
        Ok(match described.notebook_instance_status() {
            Some(Status::InService) => Observed::Running,
            Some(Status::Stopped) => Observed::Stopped,
            Some(Status::Pending | Status::Stopping | Status::Updating) => Observed::Changing,
            _ => Observed::Gone,
        })
    }
}

#[async_trait::async_trait]
impl Observer for AwsObserver {
    #[tracing::instrument(skip_all)]
    async fn observe(&self, role: &TeamRole, session_name: &str, outputs: &BTreeMap<String, String>) -> Result<Observed, ProvisionError> {
        if let Some(notebook) = outputs.get("NotebookInstanceName") {
            return self.notebook(role, session_name, notebook).await;
        }
        let Some(instance) = outputs.get("InstanceId") else { return Ok(Observed::Unknown) };
        let ec2 = crate::aws::call_metrics::client!(aws_sdk_ec2, &self.sessions.config(role, session_name).await?);
        let described = match ec2.describe_instances().instance_ids(instance).send().await {
            Ok(described) => described,
            Err(error)
                if error.as_service_error().and_then(|e| aws_sdk_ec2::error::ProvideErrorMetadata::code(e))
                    == Some("InvalidInstanceID.NotFound") =>
            {
                return Ok(Observed::Gone);
            }
            Err(error) => return Err(classify(error)),
        };
        let state = described
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(instance.as_str()))
            .and_then(|i| i.state())
            .and_then(|s| s.name())
            .map(|name| name.as_str().to_owned());
        Ok(match state.as_deref() {
            Some("running") => Observed::Running,
            Some("stopped") => Observed::Stopped,
            Some("pending" | "stopping") => Observed::Changing,
            _ => Observed::Gone,
        })
    }
}
