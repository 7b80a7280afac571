//! The worker: claims jobs from the Postgres queue and carries workspaces through their
//! lifecycle in the team's AWS account. Runs in-process by default and as `atrium worker`.
//!
//! One job owns a workspace for as long as it is in a transitional state: it provisions, then
//! reschedules itself to poll the record until AWS says yes or no. Because Service Catalog is
//! called with the workspace id as the provision token, a job re-run after a crash gets the
//! same record back: a workspace is never provisioned twice.

use crate::aws::cloudwatch::Metrics;
use crate::aws::cost_explorer::CostSource;
use crate::aws::provisioning::{Actor, ProvisionError, ProvisionRequest, Provisioner, RecordState, UpdateRequest, role_session_name};
use crate::aws::s3::ObjectStore;
use crate::jobs::{self, ClaimedJob, Job, QueuedMail, WorkspaceStep, backoff};
use crate::mail::{Mailer, SesMailer};
use crate::notifications::{self, Delivery, Webhooks};
use crate::repo::notification_targets;
use crate::repo::workspaces::{self, Changes, TransitionError, WorkContext};
use crate::services::costs::{self as cost_service, SyncError};
use crate::services::studies::{ScanProgress, scan_step, transfer};
use app::domain::notifications::Notice;
use app::domain::notifications::NotificationEvent;
use app::domain::workspace::{WorkspaceEvent, WorkspaceState};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// How often running workspaces are checked for idleness: EC2 publishes CPU every 5 minutes.
const IDLE_CHECK_EVERY: Duration = Duration::from_secs(300);
/// How often workspaces are compared with AWS.
const RECONCILE_EVERY: Duration = Duration::from_secs(900);
/// How often costs are synced; Cost Explorer updates a few times a day and bills each call.
const COST_SYNC_EVERY: Duration = Duration::from_secs(8 * 3600);
/// Deliveries of one message before its target is marked dead: with backoff from 30 s up to
/// an hour, about an hour and a half of failures, so a short outage does not kill a target.
const MAX_DELIVERY_ATTEMPTS: i32 = 8;

/// Retries of one step (throttling, 5xx…) before the workspace is given up as failed.
const MAX_ATTEMPTS: i32 = 12;
/// Polls of one record (about an hour) before the workspace is given up as failed.
const MAX_POLLS: i64 = 720;

#[derive(Clone)]
pub struct Worker {
    db: PgPool,
    provisioner: Arc<dyn Provisioner>,
    costs: Arc<dyn CostSource>,
    metrics: Arc<dyn Metrics>,
    webhooks: Webhooks,
    /// `None`: e-mail is off (no sender configured); queued mail is dropped with a log line.
    mailer: Option<Arc<dyn Mailer>>,
    reconciler: crate::services::reconcile::Reconciler,
    /// S3, for the airlock's scan results; `None`: no scans are read (tests of other jobs).
    objects: Option<Arc<dyn ObjectStore>>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Tick {
    Idle,
    Ran,
}

impl Worker {
    pub fn new(
        db: PgPool,
        provisioner: Arc<dyn Provisioner>,
        costs: Arc<dyn CostSource>,
        metrics: Arc<dyn Metrics>,
        webhooks: Webhooks,
        reconciler: crate::services::reconcile::Reconciler,
    ) -> Self {
        Worker { db, provisioner, costs, metrics, webhooks, mailer: None, reconciler, objects: None }
    }

    /// Reads the airlock's scan results from S3 through `objects`.
    pub fn with_objects(mut self, objects: Arc<dyn ObjectStore>) -> Self {
        self.objects = Some(objects);
        self
    }

    /// Sends e-mail from `from` through SES, when a sender is configured.
    pub fn with_mail_from(mut self, sdk: &aws_config::SdkConfig, from: Option<String>) -> Self {
        self.mailer = from.map(|from| Arc::new(SesMailer::new(sdk, from)) as Arc<dyn Mailer>);
        self
    }

    /// Stops leavers' running workspaces after this many days.
    pub fn with_leaver_grace_days(mut self, days: i64) -> Self {
        self.reconciler = self.reconciler.with_leaver_grace_days(days);
        self
    }

    /// Runs until the process ends, polling for due jobs.
    pub async fn run(self) {
        // The cost sync keeps itself going; this starts it the first time, and syncs now
        // rather than hours later after a restart.
        // So does the idle check.
        for job in [Job::CostSync {}, Job::IdleCheck {}, Job::Reconcile {}] {
            if let Err(error) = jobs::ensure_one_due_now(&self.db, &job).await {
                tracing::warn!(%error, ?job, "Could not schedule a recurring job");
            }
        }
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
        let (id, attempts) = (job.id, job.attempts);
        let outcome = async {
            match job.job() {
                Ok(Job::Workspace(step)) => self.advance(job, step).await,
                Ok(Job::CostSync {}) => self.sync_costs(job).await,
                Ok(Job::IdleCheck {}) => self.check_idle(job).await,
                Ok(Job::BudgetCheck {}) => self.check_budgets(job).await,
                Ok(Job::Reconcile {}) => self.reconcile(job).await,
                Ok(Job::Notification { target_id, notice }) => self.deliver(job, target_id, notice).await,
                Ok(Job::Mail(mail)) => self.send_mail(job, mail).await,
                Ok(Job::AirlockScan { request_id, polls }) => self.scan_airlock(job, request_id, polls).await,
                Ok(Job::AirlockCopy { request_id }) => self.copy_airlock(job, request_id).await,
                Err(error) => {
                    // A kind or payload this version does not know (a newer version queued it?).
                    tracing::error!(%error, "A job this version cannot read; parked for an hour");
                    job.retry_later(Duration::from_secs(3600), &format!("unreadable job: {error}")).await.map_err(Into::into)
                }
            }
        }
        .instrument(span)
        .await;
        if let Err(error) = outcome {
            // The claim rolled back; without this the same job would come first again at once.
            let delay = backoff(attempts, Duration::from_secs(1), Duration::from_secs(300));
            tracing::warn!(error = ?error, ?delay, "A job broke off; it will be tried again");
            jobs::defer(&self.db, id, delay, &format!("{error:#}")).await?;
        }
        Ok(Tick::Ran)
    }

    async fn advance(&self, mut job: ClaimedJob, step: WorkspaceStep) -> anyhow::Result<()> {
        let id = step.workspace_id.clone();
        let Some(work) = workspaces::work_context(&mut **job.transaction(), &id).await? else {
            return Ok(job.complete().await?);
        };
        let session_name = role_session_name(&work.owner);
        match work.state {
            WorkspaceState::Requested => {
                let mut tags = work.tags.clone();
                tags.insert("atrium:workspace".into(), work.id.clone());
                tags.insert("atrium:team".into(), work.team.clone());
                tags.insert("atrium:user".into(), work.owner.clone());
                tags.insert("atrium:config".into(), work.configuration_name.clone());
                let short_id: String = work.id.chars().take(8).collect();
                let provisioned_name = format!("atrium-{short_id}-{}", work.name);
                let request = ProvisionRequest {
                    role: &work.role,
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
                        moved(
                            workspaces::transition(job.transaction(), &id, work.state, WorkspaceEvent::ProvisioningStarted, changes).await,
                        )?;
                        job.continue_as(&Job::Workspace(step), Duration::from_secs(1)).await?;
                    }
                    Err(error) => self.failed_or_retry(job, &work, error).await?,
                }
            }
            WorkspaceState::Provisioning => {
                let Some(record_id) = work.record_id.clone() else {
                    anyhow::bail!("workspace {id} is provisioning without a record id");
                };
                self.follow_record(
                    job,
                    step,
                    &work,
                    &session_name,
                    &record_id,
                    WorkspaceEvent::ProvisioningSucceeded,
                    "The workspace is ready",
                )
                .await?;
            }
            WorkspaceState::Stopping | WorkspaceState::Starting | WorkspaceState::Updating | WorkspaceState::Terminating => {
                let updated;
                let (done, message) = match (work.state, &work.pending_update) {
                    (WorkspaceState::Stopping, _) => (WorkspaceEvent::Stopped, "The workspace is stopped"),
                    (WorkspaceState::Starting, _) => (WorkspaceEvent::Started, "The workspace is running again"),
                    (WorkspaceState::Updating, Some(update)) => {
                        updated = format!("The workspace was {}", update.description);
                        (WorkspaceEvent::Updated, updated.as_str())
                    }
                    (WorkspaceState::Updating, None) => anyhow::bail!("workspace {id} is updating without a pending update"),
                    _ => (WorkspaceEvent::Terminated, "The workspace and its resources are gone"),
                };
                // The record of this action, once AWS has accepted it.
                if let Some(record_id) = step.record_id.clone() {
                    return self.follow_record(job, step, &work, &session_name, &record_id, done, message).await;
                }
                let Some(provisioned_product_id) = work.provisioned_product_id.as_deref() else {
                    if work.state == WorkspaceState::Updating {
                        return self.fail(job, &work, "it was never provisioned, so there is nothing to update").await;
                    }
                    // Never provisioned (failed early): nothing in AWS to act on.
                    return self.settle(job, &work, done, Changes { message: Some(message), ..Changes::default() }).await;
                };
                let actor = Actor { role: &work.role, session_name: &session_name };
                // One token per request: a re-run after a crash repeats it, AWS does it once.
                let token = format!("{}-{}", work.state.as_str(), step.requested_at);
                let accepted = match (work.state, &work.pending_update) {
                    (WorkspaceState::Terminating, _) => self.provisioner.terminate(&actor, provisioned_product_id, &token).await,
                    (WorkspaceState::Updating, Some(update)) => {
                        let request = UpdateRequest {
                            provisioned_product_id,
                            product_id: &work.product_id,
                            version_id: &update.version_id,
                            parameters: &update.parameters,
                            token: &token,
                        };
                        self.provisioner.update(&actor, &request).await
                    }
                    (state, _) => {
                        let action = if state == WorkspaceState::Stopping { "Stop" } else { "Start" };
                        self.provisioner
                            .execute_action(&actor, &work.product_id, &work.version_id, provisioned_product_id, action, &token)
                            .await
                    }
                };
                match accepted {
                    Ok(record_id) => {
                        let next = WorkspaceStep { record_id: Some(record_id), ..step };
                        job.continue_as(&Job::Workspace(next), Duration::from_secs(1)).await?;
                    }
                    Err(error) => self.failed_or_retry(job, &work, error).await?,
                }
            }
            // Nothing left to do: another run got there first.
            _ => job.complete().await?,
        }
        Ok(())
    }

    /// Polls a record until AWS is done, then moves the workspace by `done`.
    #[allow(clippy::too_many_arguments)]
    async fn follow_record(
        &self,
        job: ClaimedJob,
        step: WorkspaceStep,
        work: &workspaces::WorkContext,
        session_name: &str,
        record_id: &str,
        done: WorkspaceEvent,
        message: &str,
    ) -> anyhow::Result<()> {
        match self.provisioner.record(&Actor { role: &work.role, session_name }, record_id).await {
            Ok(RecordState::InProgress) => {
                let polls = step.polls + 1;
                if polls > MAX_POLLS {
                    return self.fail(job, work, "AWS did not finish within an hour; ask an administrator to look at it.").await;
                }
                let delay = Duration::from_millis(500) + backoff(polls.min(5) as i32, Duration::from_millis(250), Duration::from_secs(5));
                job.continue_as(&Job::Workspace(WorkspaceStep { polls, ..step }), delay).await?;
            }
            Ok(RecordState::Succeeded { outputs }) => {
                let outputs = (!outputs.is_empty()).then_some(outputs);
                let changes = Changes { message: Some(message), outputs: outputs.as_ref(), ..Changes::default() };
                self.settle(job, work, done, changes).await?;
            }
            Ok(RecordState::Failed { message }) => self.fail(job, work, &message).await?,
            Err(error) => self.failed_or_retry(job, work, error).await?,
        }
        Ok(())
    }

    async fn settle(&self, mut job: ClaimedJob, work: &WorkContext, event: WorkspaceEvent, changes: Changes<'_>) -> anyhow::Result<()> {
        let moved_to = moved(workspaces::transition(job.transaction(), &work.id, work.state, event, changes).await)?;
        if let (Some(_), Some(update)) = (moved_to, &work.pending_update) {
            workspaces::apply_update(&mut **job.transaction(), &work.id, update).await?;
        }
        let announced = match moved_to {
            Some(WorkspaceState::Available) if work.state == WorkspaceState::Provisioning => {
                Some((NotificationEvent::WorkspaceAvailable, format!("{}'s workspace {} is ready", work.owner, work.name)))
            }
            Some(WorkspaceState::Terminated) => {
                Some((NotificationEvent::WorkspaceTerminated, format!("{}'s workspace {} was terminated", work.owner, work.name)))
            }
            _ => None,
        };
        let became_available = matches!(announced, Some((NotificationEvent::WorkspaceAvailable, _)));
        if let Some((event, title)) = announced {
            let notice = Notice::workspace(event, title, &work.team, &work.name, &work.configuration_name, None);
            notifications::publish(&mut **job.transaction(), &notice).await?;
        }
        job.complete().await?;
        if became_available {
            crate::metrics::launch(&work.type_label, "available");
            crate::metrics::workspace_ready(&work.type_label, work.age_seconds);
        }
        Ok(())
    }

    async fn failed_or_retry(&self, job: ClaimedJob, work: &WorkContext, error: ProvisionError) -> anyhow::Result<()> {
        match error {
            ProvisionError::Retryable(cause) if job.attempts + 1 >= MAX_ATTEMPTS => {
                self.fail(job, work, &format!("AWS kept failing; giving up: {cause:#}")).await?;
            }
            ProvisionError::Retryable(cause) => {
                let delay = backoff(job.attempts, Duration::from_millis(500), Duration::from_secs(60));
                tracing::warn!(error = ?cause, ?delay, "AWS is busy; retrying");
                job.retry_later(delay, &format!("{cause:#}")).await?;
            }
            ProvisionError::Rejected(message) => self.fail(job, work, &message).await?,
        }
        Ok(())
    }

    async fn fail(&self, mut job: ClaimedJob, work: &WorkContext, message: &str) -> anyhow::Result<()> {
        tracing::info!(%message, "AWS refused");
        // A stop, start or update that did not happen leaves the workspace (and its costs) as
        // it was; its events say why.
        let as_it_was;
        let (event, changes) = match work.state {
            WorkspaceState::Stopping | WorkspaceState::Starting => {
                (WorkspaceEvent::ActionFailed, Changes { failure_message: Some(message), ..Changes::default() })
            }
            WorkspaceState::Updating => {
                as_it_was = format!("Not updated, so it is as it was. AWS said: {message}");
                (WorkspaceEvent::UpdateFailed, Changes { message: Some(&as_it_was), ..Changes::default() })
            }
            _ => (WorkspaceEvent::Failed, Changes { failure_message: Some(message), ..Changes::default() }),
        };
        let moved_to = moved(workspaces::transition(job.transaction(), &work.id, work.state, event, changes).await)?;
        if moved_to.is_some() && work.pending_update.is_some() {
            workspaces::drop_update(&mut **job.transaction(), &work.id).await?;
        }
        let launch_failed = moved_to == Some(WorkspaceState::Failed) && work.state == WorkspaceState::Provisioning;
        if moved_to == Some(WorkspaceState::Failed) {
            let title = format!("{}'s workspace {} failed", work.owner, work.name);
            let notice = Notice::workspace(
                NotificationEvent::WorkspaceFailed,
                title,
                &work.team,
                &work.name,
                &work.configuration_name,
                Some(message),
            );
            notifications::publish(&mut **job.transaction(), &notice).await?;
        }
        job.complete().await?;
        if launch_failed {
            crate::metrics::launch(&work.type_label, "failed");
        }
        Ok(())
    }

    /// Syncs costs, queues a budget check, and comes back in `COST_SYNC_EVERY`.
    async fn sync_costs(&self, mut job: ClaimedJob) -> anyhow::Result<()> {
        let outcome = cost_service::sync_costs(&self.db, self.costs.as_ref(), cost_service::today()).await;
        if let Err(SyncError::Database(error)) = outcome {
            return Err(error.into());
        }
        // Whatever teams did sync, their budgets are checked against it.
        jobs::enqueue(&mut **job.transaction(), &Job::BudgetCheck {}, Duration::ZERO).await?;
        match outcome {
            Err(SyncError::Aws(team, ProvisionError::Retryable(cause))) if job.attempts + 1 < MAX_ATTEMPTS => {
                let delay = backoff(job.attempts, Duration::from_secs(5), Duration::from_secs(1800));
                tracing::warn!(%team, error = ?cause, ?delay, "Cost Explorer is busy; retrying the sync");
                job.retry_later(delay, &format!("{team}: {cause:#}")).await?;
            }
            Err(error) => {
                // A team whose account refuses us must not stop the sync for ever: next round.
                tracing::error!(%error, "The cost sync failed for a team");
                job.reschedule(COST_SYNC_EVERY).await?;
            }
            Ok(stored) => {
                tracing::info!(stored, "Costs synced");
                job.reschedule(COST_SYNC_EVERY).await?;
            }
        }
        Ok(())
    }

    /// Stops the workspaces idle for their whole window, and comes back in `IDLE_CHECK_EVERY`.
    async fn check_idle(&self, job: ClaimedJob) -> anyhow::Result<()> {
        let now = time::OffsetDateTime::now_utc();
        let stopped = crate::services::idle::check_idle_workspaces(&self.db, self.metrics.as_ref(), now).await?;
        if !stopped.is_empty() {
            tracing::info!(?stopped, "Idle workspaces stopped");
        }
        let raised = crate::services::health::check_health(&self.db, self.metrics.as_ref(), time::OffsetDateTime::now_utc()).await?;
        if !raised.is_empty() {
            tracing::info!(?raised, "Health alarms raised");
        }
        job.reschedule(IDLE_CHECK_EVERY).await?;
        Ok(())
    }

    /// Looks at an airlock request's scan results; again later while some are missing.
    async fn scan_airlock(&self, job: ClaimedJob, request_id: i64, polls: i32) -> anyhow::Result<()> {
        let Some(objects) = &self.objects else {
            return job.retry_later(Duration::from_secs(60), "this worker cannot reach S3").await.map_err(Into::into);
        };
        let attempts = job.attempts;
        match scan_step(&self.db, objects.as_ref(), request_id).await {
            Ok(ScanProgress::Settled) => job.complete().await?,
            Ok(ScanProgress::Waiting) => {
                // GuardDuty answers in seconds for most files: look often at first.
                let next = Job::AirlockScan { request_id, polls: polls + 1 };
                job.continue_as(&next, backoff(polls, Duration::from_secs(2), Duration::from_secs(120))).await?
            }
            Err(error) => {
                tracing::warn!(error = ?error, request_id, "Could not read an airlock request's scan results");
                job.retry_later(backoff(attempts, Duration::from_secs(5), Duration::from_secs(300)), &format!("{error:#}")).await?
            }
        }
        Ok(())
    }

    /// Copies an approved airlock request's files; a failed copy is the request's to say (it
    /// stays approved, for "Copy again"), so the job is done either way unless S3 or the
    /// database could not be reached.
    async fn copy_airlock(&self, job: ClaimedJob, request_id: i64) -> anyhow::Result<()> {
        let Some(objects) = &self.objects else {
            return job.retry_later(Duration::from_secs(60), "this worker cannot reach S3").await.map_err(Into::into);
        };
        transfer(&self.db, objects.as_ref(), request_id).await?;
        job.complete().await?;
        Ok(())
    }

    /// Compares the live workspaces checked longest ago with AWS.
    async fn reconcile(&self, job: ClaimedJob) -> anyhow::Result<()> {
        let looked_at = self.reconciler.reconcile_due().await?;
        tracing::info!(looked_at, "Workspaces reconciled with AWS");
        job.reschedule(RECONCILE_EVERY).await?;
        Ok(())
    }

    /// Sends one queued e-mail; retries what AWS may accept later, drops what it refuses.
    async fn send_mail(&self, job: ClaimedJob, mail: QueuedMail) -> anyhow::Result<()> {
        let Some(mailer) = &self.mailer else {
            tracing::info!("E-mail is off (ATRIUM_MAIL_FROM is not set); a queued message is dropped");
            return Ok(job.complete().await?);
        };
        match mailer.send(&mail).await {
            Ok(()) => job.complete().await?,
            Err(ProvisionError::Retryable(cause)) if job.attempts + 1 < MAX_DELIVERY_ATTEMPTS => {
                let delay = backoff(job.attempts, Duration::from_secs(30), Duration::from_secs(3600));
                tracing::warn!(error = ?cause, ?delay, "SES is busy or unreachable; the e-mail waits");
                job.retry_later(delay, &format!("{cause:#}")).await?;
            }
            Err(error) => {
                tracing::error!(%error, to = %mail.to, "SES did not take an e-mail; dropped");
                job.complete().await?;
            }
        }
        Ok(())
    }

    async fn check_budgets(&self, job: ClaimedJob) -> anyhow::Result<()> {
        let alerts = cost_service::check_budgets(&self.db, cost_service::today()).await?;
        if !alerts.is_empty() {
            tracing::info!(?alerts, "Budget thresholds crossed");
        }
        job.complete().await?;
        Ok(())
    }

    /// Posts one notice to one target; retries with backoff, and marks a target dead when it
    /// is gone or keeps failing.
    async fn deliver(&self, mut job: ClaimedJob, target_id: i64, notice: Notice) -> anyhow::Result<()> {
        let Some(target) = notification_targets::find(&mut **job.transaction(), target_id).await? else {
            return Ok(job.complete().await?); // removed since
        };
        if target.target.status == "dead" {
            return Ok(job.complete().await?);
        }
        match self.webhooks.deliver(&target, &notice).await {
            Delivery::Delivered => {
                if target.target.last_error.is_some() {
                    notification_targets::record_delivery(&mut **job.transaction(), target_id, None, false).await?;
                }
                job.complete().await?;
            }
            Delivery::Retry(reason) if job.attempts + 1 < MAX_DELIVERY_ATTEMPTS => {
                let delay = backoff(job.attempts + 1, Duration::from_secs(30), Duration::from_secs(3600));
                tracing::warn!(%reason, ?delay, "A notification was not delivered; retrying");
                notification_targets::record_delivery(&mut **job.transaction(), target_id, Some(&reason), false).await?;
                job.retry_later(delay, &reason).await?;
            }
            Delivery::Retry(reason) => {
                let reason = format!("Gave up after {MAX_DELIVERY_ATTEMPTS} attempts: {reason}");
                tracing::warn!(%reason, "A notification target is marked dead");
                notification_targets::record_delivery(&mut **job.transaction(), target_id, Some(&reason), true).await?;
                job.complete().await?;
            }
            Delivery::Refused { reason, dead } => {
                tracing::warn!(%reason, dead, "A notification was refused");
                notification_targets::record_delivery(&mut **job.transaction(), target_id, Some(&reason), dead).await?;
                job.complete().await?;
            }
        }
        Ok(())
    }
}

/// Where the workspace went; None when it had moved under us already, which is not an error
/// worth retrying. Anything else is.
fn moved(result: Result<WorkspaceState, TransitionError>) -> anyhow::Result<Option<WorkspaceState>> {
    match result {
        Ok(state) => Ok(Some(state)),
        Err(TransitionError::Moved(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
