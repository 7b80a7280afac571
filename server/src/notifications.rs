//! Notifications to Slack and Microsoft Teams incoming webhooks. `publish` queues one delivery
//! job per matching target in the caller's transaction, so a message goes out only if the
//! change it announces commits; the worker delivers each with retries and backoff.

use crate::aws::ssm::{ParameterStoreError, SecretStore};
use crate::jobs::Job;
use crate::repo::jobs;
use crate::repo::notification_targets::StoredTarget;
use app::domain::notifications::Notice;
use app::domain::notifications::Platform;
use serde_json::json;
use sqlx::PgExecutor;
use std::sync::Arc;
use std::time::Duration;

/// Queues the notice for every active target that wants this event: the team's targets and
/// the global ones; a portal-wide notice (no team) goes to every target that wants it.
pub async fn publish(db: impl PgExecutor<'_>, notice: &Notice) -> Result<u64, sqlx::Error> {
    jobs::queue_for_targets(db, Job::NOTIFICATION, &json!(notice), notice.event.as_str(), notice.team.as_deref()).await
}

/// The platform's own webhook payload: Slack's `text` and blocks; a Teams message carrying
/// an Adaptive Card (what Teams' Workflows webhooks accept).
pub fn payload(platform: Platform, notice: &Notice) -> serde_json::Value {
    match platform {
        Platform::Slack => json!({
            "text": format!("{}: {}", notice.title, notice.text),
            "blocks": [
                // Slack refuses header blocks over 150 characters.
                { "type": "header", "text": { "type": "plain_text", "text": notice.title.chars().take(150).collect::<String>() } },
                { "type": "section", "text": { "type": "mrkdwn", "text": notice.text } },
                { "type": "context", "elements": [{ "type": "mrkdwn", "text": format!("Atrium · {}", notice.event.label()) }] }
            ]
        }),
        Platform::Teams => json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        { "type": "TextBlock", "text": notice.title, "weight": "Bolder", "size": "Medium", "wrap": true },
                        { "type": "TextBlock", "text": notice.text, "wrap": true },
                        { "type": "TextBlock", "text": format!("Atrium · {}", notice.event.label()), "isSubtle": true, "size": "Small" }
                    ]
                }
            }]
        }),
    }
}

/// How one delivery went.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Worth another try: a 5xx, 429, timeout, network trouble.
    Retry(String),
    /// Will never work as it is: the webhook is gone (`dead`) or refused this message.
    Refused {
        reason: String,
        dead: bool,
    },
}

/// Posts notices to webhooks whose URLs are read from the secret store at each delivery.
#[derive(Clone)]
pub struct Webhooks {
    http: reqwest::Client,
    secrets: Arc<dyn SecretStore>,
}

impl Webhooks {
    pub fn new(secrets: Arc<dyn SecretStore>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            // A webhook that redirects is not followed: the URL the admin gave is the only one called.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Webhooks { http, secrets })
    }

    pub fn secrets(&self) -> &Arc<dyn SecretStore> {
        &self.secrets
    }

    #[tracing::instrument(skip(self, target, notice), fields(target = target.target.id, event = notice.event.as_str()))]
    pub async fn deliver(&self, target: &StoredTarget, notice: &Notice) -> Delivery {
        let url = match self.secrets.secret(&target.ssm_parameter).await {
            Ok(Some(url)) => url,
            Ok(None) => return Delivery::Refused { reason: "Its webhook URL is missing from Parameter Store.".into(), dead: true },
            Err(ParameterStoreError::Unavailable(_)) => return Delivery::Retry("Parameter Store is unreachable.".into()),
            Err(ParameterStoreError::Unexpected(e)) => return Delivery::Retry(format!("Reading the webhook URL failed: {e:#}")),
        };
        let response = match self.http.post(&url).json(&payload(target.target.platform, notice)).send().await {
            Ok(response) => response,
            Err(error) => return Delivery::Retry(format!("The webhook could not be reached: {}", without_url(&error))),
        };
        let status = response.status().as_u16();
        let body: String = response.text().await.unwrap_or_default().chars().take(200).collect();
        match status {
            200..=299 => Delivery::Delivered,
            408 | 429 | 500..=599 => Delivery::Retry(format!("The webhook answered HTTP {status}: {body}")),
            // Slack answers 404/410 for a removed hook or an archived channel; Teams likewise.
            404 | 410 => Delivery::Refused { reason: format!("The webhook is gone (HTTP {status}: {body})"), dead: true },
            _ => Delivery::Refused { reason: format!("The webhook refused the message (HTTP {status}: {body})"), dead: false },
        }
    }
}

/// The error without the URL, which is a secret and must not reach logs or pages.
fn without_url(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "it timed out"
    } else if error.is_connect() {
        "the connection failed"
    } else {
        "the request failed"
    }
}
