//! The worker: claims jobs from the Postgres queue and carries workspaces through their
//! lifecycle in the team's AWS account. Runs in-process by default and as `atrium worker`.
//!
//! One job owns a workspace for as long as it is in a transitional state: it provisions, then
//! reschedules itself to poll the record until AWS says yes or no. Because Service Catalog is
//! called with the workspace id as the provision token, a job re-run after a crash gets the
//! same record back: a workspace is never provisioned twice.

use crate::aws::provisioning::{ProvisionError, ProvisionRequest, Provisioner, RecordState};
use crate::jobs::{self, backoff, ClaimedJob, NewJob};
use crate::repo::workspaces::{self, Changes, TransitionError};
use app::domain::workspace::{WorkspaceEvent, WorkspaceState};
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

pub const PROVISION_WORKSPACE: &str = "provision_workspace";

pub fn provision_job(workspace_id: &str) -> NewJob {
    NewJob { kind: PROVISION_WORKSPACE, payload: json!({ "workspace_id": workspace_id }) }
}

#[derive(Clone)]
pub struct Worker {
    db: PgPool,
    provisioner: Arc<dyn Provisioner>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Tick {
    Idle,
    Ran,
}

impl Worker {
    pub fn new(db: PgPool, provisioner: Arc<dyn Provisioner>) -> Self {
        Worker { db, provisioner }
    }

    /// Runs until the process ends, polling for due jobs.
    pub async fn run(self) {
        loop {
            match self.run_next_job().await {
                Ok(Tick::Ran) => continue,
                Ok(Tick::Idle) => tokio::time::sleep(Duration::from_millis(500)).await,
                Err(error) => {
                    tracing::warn!(error = ?error, "The worker could not run a job");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    /// Claims and runs one due job, if there is one.
    pub async fn run_next_job(&self) -> anyhow::Result<Tick> {
        let Some(job) = jobs::claim_next(&self.db).await? else { return Ok(Tick::Idle) };
        let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempts = job.attempts);
        let _entered = span.enter();
        match job.kind.as_str() {
            PROVISION_WORKSPACE => self.provision(job).await?,
            other => {
                tracing::error!(kind = other, "A job of an unknown kind; parked for an hour");
                job.retry_later(Duration::from_secs(3600), "unknown job kind").await?;
            }
        }
        Ok(Tick::Ran)
    }

    async fn provision(&self, mut job: ClaimedJob) -> anyhow::Result<()> {
        let Some(id) = job.payload["workspace_id"].as_str().map(str::to_owned) else {
            tracing::error!("A provisioning job without a workspace id; dropped");
            return Ok(job.complete().await?);
        };
        let Some(work) = workspaces::work_context(&mut **job.transaction(), &id).await? else {
            return Ok(job.complete().await?);
        };
        let session_name = format!("atrium-{}", work.owner);
        match work.state {
            WorkspaceState::Requested => {
                let mut tags = work.tags.clone();
                tags.insert("atrium:workspace".into(), work.id.clone());
                tags.insert("atrium:team".into(), work.team.clone());
                tags.insert("atrium:user".into(), work.owner.clone());
                tags.insert("atrium:config".into(), work.configuration_name.clone());
                let provisioned_name = format!("atrium-{}-{}", &work.id[..8.min(work.id.len())], work.name);
                let request = ProvisionRequest {
                    role_arn: &work.role_arn,
                    session_name: &session_name,
                    product_id: &work.product_id,
                    version_id: &work.version_id,
                    provisioned_product_name: &provisioned_name,
                    parameters: &work.parameter_values,
                    tags: &tags,
                    token: &work.id,
                };
                match self.provisioner.provision(&request).await {
                    Ok(started) => {
                        let changes = Changes {
                            message: Some("Service Catalog is creating the workspace"),
                            record_id: Some(&started.record_id),
                            provisioned_product_id: Some(&started.provisioned_product_id),
                            ..Changes::default()
                        };
                        moved(workspaces::transition(job.transaction(), &id, work.state, WorkspaceEvent::ProvisioningStarted, changes).await)?;
                        let payload = job.payload.clone();
                        job.reschedule(Duration::from_secs(1), payload).await?;
                    }
                    Err(error) => self.failed_or_retry(job, &id, work.state, error).await?,
                }
            }
            WorkspaceState::Provisioning => {
                let Some(record_id) = work.record_id.as_deref() else {
                    anyhow::bail!("workspace {id} is provisioning without a record id");
                };
                match self.provisioner.record(&work.role_arn, &session_name, record_id).await {
                    Ok(RecordState::InProgress) => {
                        let polls = job.payload["polls"].as_i64().unwrap_or(0) + 1;
                        let delay = Duration::from_millis(500) + backoff(polls.min(5) as i32, Duration::from_millis(250), Duration::from_secs(5));
                        let payload = json!({ "workspace_id": id, "polls": polls });
                        job.reschedule(delay, payload).await?;
                    }
                    Ok(RecordState::Succeeded { outputs }) => {
                        let changes = Changes { message: Some("The workspace is ready"), outputs: Some(&outputs), ..Changes::default() };
                        moved(workspaces::transition(job.transaction(), &id, work.state, WorkspaceEvent::ProvisioningSucceeded, changes).await)?;
                        job.complete().await?;
                    }
                    Ok(RecordState::Failed { message }) => self.fail(job, &id, work.state, &message).await?,
                    Err(error) => self.failed_or_retry(job, &id, work.state, error).await?,
                }
            }
            // Nothing left to do: another run got there first.
            _ => job.complete().await?,
        }
        Ok(())
    }

    async fn failed_or_retry(&self, job: ClaimedJob, id: &str, state: WorkspaceState, error: ProvisionError) -> anyhow::Result<()> {
        match error {
            ProvisionError::Retryable(cause) => {
                let delay = backoff(job.attempts, Duration::from_millis(500), Duration::from_secs(60));
                tracing::warn!(error = ?cause, ?delay, "AWS is busy; retrying");
                job.retry_later(delay, &format!("{cause:#}")).await?;
            }
            ProvisionError::Rejected(message) => self.fail(job, id, state, &message).await?,
        }
        Ok(())
    }

    async fn fail(&self, mut job: ClaimedJob, id: &str, state: WorkspaceState, message: &str) -> anyhow::Result<()> {
        tracing::info!(%message, "Provisioning failed");
        let changes = Changes { failure_message: Some(message), ..Changes::default() };
        moved(workspaces::transition(job.transaction(), id, state, WorkspaceEvent::Failed, changes).await)?;
        job.complete().await?;
        Ok(())
    }
}

/// A workspace that moved under us is not an error worth retrying; anything else is.
fn moved(result: Result<WorkspaceState, TransitionError>) -> anyhow::Result<()> {
    match result {
        Ok(_) | Err(TransitionError::Moved(_)) => Ok(()),
        Err(other) => Err(other.into()),
    }
}
