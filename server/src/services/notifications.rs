//! The admin's side of notifications: register, list, remove and test webhook targets.

use super::database_error;
use crate::aws::ssm::ParameterStoreError;
use crate::notifications::{Delivery, Webhooks};
use crate::repo::notification_targets::{self, NewTarget};
use crate::repo::{audit, teams};
use app::caller::must_be_admin;
use app::domain::CurrentUser;
use app::domain::notifications::Notice;
use app::domain::notifications::{NotificationEvent, NotificationTarget, Platform, TargetForm};
use app::error::AppError;
use app::error::FieldError;
use app::features::notifications::NotificationService;
use sqlx::PgPool;

/// Where webhook URLs are kept in Parameter Store, one SecureString per target.
pub const SECRET_PREFIX: &str = "/atrium/notifications/";

pub struct NotificationAdmin {
    db: PgPool,
    webhooks: Webhooks,
    allow_local_http: bool,
}

impl NotificationAdmin {
    pub fn new(db: PgPool, webhooks: Webhooks, allow_local_http: bool) -> Self {
        NotificationAdmin { db, webhooks, allow_local_http }
    }
}

fn secret_error(error: ParameterStoreError) -> AppError {
    match error {
        ParameterStoreError::Unavailable(_) => AppError::Unavailable("Parameter Store".into()),
        ParameterStoreError::Unexpected(e) => {
            tracing::error!(error = ?e, "Parameter Store call failed");
            AppError::Internal
        }
    }
}

/// Where each platform's incoming webhooks live. Only these hosts are called, so that a
/// webhook cannot be pointed at an address inside the portal's network.
fn platform_hosts(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Slack => &["hooks.slack.com", "hooks.slack-gov.com"],
        // Classic connectors, and Workflows (Power Automate / Logic Apps) webhooks.
        Platform::Teams => &[".webhook.office.com", ".logic.azure.com", ".api.powerplatform.com"],
    }
}

/// Checks a webhook URL and returns the hint shown in its place: host and last characters.
pub fn check_webhook_url(raw: &str, platform: Platform, allow_local_http: bool) -> Result<String, String> {
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| "Paste the whole webhook URL, starting with https://.".to_owned())?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let local = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    let known = platform_hosts(platform).iter().any(|h| if h.starts_with('.') { host.ends_with(h) } else { host == *h });
    match url.scheme() {
        "https" if known => {}
        "http" if allow_local_http && local => {}
        "https" => {
            let hosts = platform_hosts(platform).iter().map(|h| h.trim_start_matches('.')).collect::<Vec<_>>().join(", ");
            return Err(format!("That is not a {} webhook: its host must be {hosts}.", platform.label()));
        }
        _ => return Err("The webhook URL must start with https://.".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("The webhook URL must not carry a user name or password.".into());
    }
    let tail: String = url.path().chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    Ok(format!("{host}/…{tail}"))
}

#[async_trait::async_trait]
impl NotificationService for NotificationAdmin {
    #[tracing::instrument(skip_all)]
    async fn targets(&self, admin: &CurrentUser) -> Result<Vec<NotificationTarget>, AppError> {
        must_be_admin(admin)?;
        notification_targets::list(&self.db).await.map_err(database_error)
    }

    #[tracing::instrument(skip(self, admin, form), fields(admin = %admin.username))]
    async fn add_target(&self, admin: &CurrentUser, form: TargetForm) -> Result<i64, AppError> {
        must_be_admin(admin)?;
        let valid = form.parse().map_err(AppError::Invalid)?;
        let hint = check_webhook_url(&form.webhook_url, valid.platform, self.allow_local_http)
            .map_err(|message| AppError::Invalid(vec![FieldError::new("webhook_url", message)]))?;
        if let Some(team) = &valid.team {
            teams::find(&self.db, team).await.map_err(database_error)?.ok_or_else(|| AppError::NotFound(format!("The team \"{team}\"")))?;
        }
        let key = uuid::Uuid::new_v4().to_string();
        let parameter = format!("{SECRET_PREFIX}{key}");
        // The secret first: a row never names a parameter that does not exist.
        self.webhooks.secrets().put_secret(&parameter, form.webhook_url.trim()).await.map_err(secret_error)?;
        let new = NewTarget {
            name: &valid.name,
            platform: valid.platform,
            team: valid.team.as_ref().map(|t| t.as_str()),
            events: &valid.events,
            ssm_parameter: &parameter,
            url_hint: &hint,
            created_by: admin.username.as_str(),
        };
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let id = notification_targets::insert(&mut *tx, &new).await.map_err(database_error)?;
        let id_text = id.to_string();
        let events: Vec<&str> = valid.events.iter().map(|e| e.as_str()).collect();
        let detail = format!("{} ({}, {}): {}", valid.name, valid.platform.label(), hint, events.join(", "));
        let mut entry = audit::Entry::by(admin, "notification.add").object("notification_target", &id_text).detail(&detail);
        if let Some(team) = &new.team {
            entry = entry.team(team);
        }
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(id)
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn remove_target(&self, admin: &CurrentUser, id: i64) -> Result<(), AppError> {
        must_be_admin(admin)?;
        let stored = notification_targets::find(&self.db, id)
            .await
            .map_err(database_error)?
            .ok_or_else(|| AppError::NotFound("This notification target".into()))?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        notification_targets::delete(&mut *tx, id).await.map_err(database_error)?;
        let id_text = id.to_string();
        let entry = audit::Entry::by(admin, "notification.remove").object("notification_target", &id_text).detail(&stored.target.name);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        if let Err(error) = self.webhooks.secrets().delete_secret(&stored.ssm_parameter).await {
            // The row is gone, so nothing uses it; a stray parameter is only untidy.
            tracing::warn!(error = ?error, parameter = %stored.ssm_parameter, "Could not delete a removed target's webhook URL");
        }
        Ok(())
    }

    #[tracing::instrument(skip(self, admin), fields(admin = %admin.username))]
    async fn send_test(&self, admin: &CurrentUser, id: i64) -> Result<String, AppError> {
        must_be_admin(admin)?;
        let stored = notification_targets::find(&self.db, id)
            .await
            .map_err(database_error)?
            .ok_or_else(|| AppError::NotFound("This notification target".into()))?;
        let notice = Notice {
            event: stored.target.events.first().copied().unwrap_or(NotificationEvent::CatalogApproved),
            team: stored.target.team.clone(),
            title: "Test message from Atrium".into(),
            text: format!("{} sent this test to \"{}\". Notifications will arrive here.", admin.username, stored.target.name),
        };
        let delivery = self.webhooks.deliver(&stored, &notice).await;
        let (outcome, message) = match &delivery {
            Delivery::Delivered => (audit::Outcome::Success, format!("The test message was delivered to {}.", stored.target.name)),
            Delivery::Retry(reason) | Delivery::Refused { reason, .. } => {
                (audit::Outcome::Failure, format!("The test message was not delivered: {reason}"))
            }
        };
        let mut tx = self.db.begin().await.map_err(database_error)?;
        match &delivery {
            Delivery::Delivered => notification_targets::revive(&mut *tx, id).await,
            Delivery::Retry(reason) | Delivery::Refused { reason, .. } => {
                notification_targets::record_delivery(&mut *tx, id, Some(reason), false).await
            }
        }
        .map_err(database_error)?;
        let id_text = id.to_string();
        let entry = audit::Entry::by(admin, "notification.test").object("notification_target", &id_text).outcome(outcome).detail(&message);
        audit::record(&mut *tx, &entry).await.map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        match delivery {
            Delivery::Delivered => Ok(message),
            _ => Err(AppError::BadRequest(message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_webhook_url;
    use app::domain::notifications::Platform::{Slack, Teams};

    #[test]
    fn webhooks_must_be_the_platforms_own_https_hosts() {
        assert_eq!(check_webhook_url("https://hooks.slack.com/services/T0/B0/abcd1234", Slack, false), Ok("hooks.slack.com/…1234".into()));
        assert!(check_webhook_url("https://contoso.webhook.office.com/webhookb2/x", Teams, false).is_ok());
        assert!(check_webhook_url("https://prod-12.westeurope.logic.azure.com/workflows/x", Teams, false).is_ok());
        assert!(check_webhook_url("https://hooks.slack.com/services/x", Teams, false).is_err(), "not a Teams host");
        assert!(check_webhook_url("https://169.254.169.254/latest/meta-data", Slack, false).is_err());
        assert!(check_webhook_url("https://hooks.slack.com.evil.example/x", Slack, false).is_err());
        assert!(check_webhook_url("http://hooks.slack.com/services/x", Slack, true).is_err());
        assert!(check_webhook_url("http://127.0.0.1:9000/hook", Slack, false).is_err());
        assert!(check_webhook_url("http://127.0.0.1:9000/hook", Slack, true).is_ok());
        assert!(check_webhook_url("https://user:pw@hooks.slack.com/x", Slack, false).is_err());
        assert!(check_webhook_url("not a url", Slack, false).is_err());
    }
}
