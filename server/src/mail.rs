//! E-mail to people, not channels: queued as jobs in the transaction of what they announce,
//! sent by the worker through Amazon SES (v2) from `ATRIUM_MAIL_FROM`. Each user chooses the
//! kinds they want on `/settings`; addresses come from their ID token or their invitation.

use crate::aws::provisioning::ProvisionError;
use crate::jobs::{Job, QueuedMail};
use crate::repo::jobs;
use sqlx::PgExecutor;

/// The kinds of mail a user can turn off, one `users` column each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// Idle warnings and stop notices of their workspaces.
    Workspace,
    Health,
    Budget,
    /// The airlock's steps: not a preference, as a reviewer's queue and a blocked file are not.
    Airlock,
}

impl MailKind {
    /// The name the queueing statement tells the kinds apart by: its column without `mail_`.
    fn as_str(self) -> &'static str {
        match self {
            MailKind::Workspace => "workspace",
            MailKind::Health => "health",
            MailKind::Budget => "budget",
            MailKind::Airlock => "airlock",
        }
    }
}

/// Queues a message to `username`, if they have an address, are not disabled and want this
/// kind; how many were queued (0 or 1).
pub async fn to_user(db: impl PgExecutor<'_>, username: &str, kind: MailKind, subject: &str, text: &str) -> Result<u64, sqlx::Error> {
    jobs::queue_mail_to_user(db, Job::MAIL, username, kind.as_str(), subject, text).await
}

/// Queues a budget alert to the team's admins, or to the portal's admins for a team without
/// one, who want budget mail; how many were queued.
pub async fn to_team_admins(db: impl PgExecutor<'_>, team: &str, subject: &str, text: &str) -> Result<u64, sqlx::Error> {
    jobs::queue_mail_to_team_admins(db, Job::MAIL, team, subject, text).await
}

/// Queues a message to those who review a request on a study of `team` (none: an
/// organisation study), but not to its requester; how many were queued.
pub async fn to_reviewers(
    db: impl PgExecutor<'_>,
    team: Option<&str>,
    requester: &str,
    subject: &str,
    text: &str,
) -> Result<u64, sqlx::Error> {
    jobs::queue_mail_to_reviewers(db, Job::MAIL, team, requester, subject, text).await
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &QueuedMail) -> Result<(), ProvisionError>;
}

/// Amazon SES v2 `SendEmail`, from the configured sender, as the portal's own account.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl SesMailer {
    pub fn new(sdk: &aws_config::SdkConfig, from: String) -> Self {
        SesMailer { client: crate::aws::call_metrics::client!(aws_sdk_sesv2, sdk), from }
    }
}

#[async_trait::async_trait]
impl Mailer for SesMailer {
    #[tracing::instrument(skip(self, mail), fields(to = %mail.to))]
    async fn send(&self, mail: &QueuedMail) -> Result<(), ProvisionError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let content =
            |text: &str| Content::builder().data(text).charset("UTF-8").build().map_err(|e| ProvisionError::Rejected(e.to_string()));
        let message = Message::builder().subject(content(&mail.subject)?).body(Body::builder().text(content(&mail.text)?).build()).build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(crate::aws::provisioning::classify)?;
        Ok(())
    }
}
