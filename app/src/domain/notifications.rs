//! Notification targets: Slack and Microsoft Teams incoming webhooks, per team or global,
//! and the events they are sent.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum NotificationEvent {
    WorkspaceLaunched,
    WorkspaceAvailable,
    WorkspaceFailed,
    WorkspaceTerminated,
    /// Twenty minutes before a running workspace stops on its own, unless it is used.
    WorkspaceIdleWarning,
    /// A workspace was stopped on its own (idle, its maximum, the nightly stop).
    WorkspaceAutoStopped,
    /// A running workspace's CPU, memory or disk stayed above its threshold.
    WorkspaceHealth,
    BudgetThreshold,
    CatalogApproved,
    CatalogRetired,
    /// A data import or export moved on: waiting for review, blocked, decided, completed.
    Airlock,
}

impl NotificationEvent {
    pub const ALL: [NotificationEvent; 11] = [
        NotificationEvent::WorkspaceLaunched,
        NotificationEvent::WorkspaceAvailable,
        NotificationEvent::WorkspaceFailed,
        NotificationEvent::WorkspaceTerminated,
        NotificationEvent::WorkspaceIdleWarning,
        NotificationEvent::WorkspaceAutoStopped,
        NotificationEvent::WorkspaceHealth,
        NotificationEvent::BudgetThreshold,
        NotificationEvent::CatalogApproved,
        NotificationEvent::CatalogRetired,
        NotificationEvent::Airlock,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationEvent::WorkspaceLaunched => "workspace.launched",
            NotificationEvent::WorkspaceAvailable => "workspace.available",
            NotificationEvent::WorkspaceFailed => "workspace.failed",
            NotificationEvent::WorkspaceTerminated => "workspace.terminated",
            NotificationEvent::WorkspaceIdleWarning => "workspace.idle_warning",
            NotificationEvent::WorkspaceAutoStopped => "workspace.auto_stopped",
            NotificationEvent::WorkspaceHealth => "workspace.health",
            NotificationEvent::BudgetThreshold => "budget.threshold",
            NotificationEvent::CatalogApproved => "catalog.approved",
            NotificationEvent::CatalogRetired => "catalog.retired",
            NotificationEvent::Airlock => "airlock.request",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NotificationEvent::WorkspaceLaunched => "Workspace launched",
            NotificationEvent::WorkspaceAvailable => "Workspace available",
            NotificationEvent::WorkspaceFailed => "Workspace failed",
            NotificationEvent::WorkspaceTerminated => "Workspace terminated",
            NotificationEvent::WorkspaceIdleWarning => "Workspace idle warning",
            NotificationEvent::WorkspaceAutoStopped => "Workspace stopped on its own",
            NotificationEvent::WorkspaceHealth => "Workspace health",
            NotificationEvent::BudgetThreshold => "Budget threshold crossed",
            NotificationEvent::CatalogApproved => "Catalog version approved",
            NotificationEvent::CatalogRetired => "Catalog version retired",
            NotificationEvent::Airlock => "Data import or export",
        }
    }

    pub fn parse(raw: &str) -> Option<NotificationEvent> {
        NotificationEvent::ALL.into_iter().find(|e| e.as_str() == raw)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Platform {
    Slack,
    Teams,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Slack => "slack",
            Platform::Teams => "teams",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Platform::Slack => "Slack",
            Platform::Teams => "Microsoft Teams",
        }
    }

    pub fn parse(raw: &str) -> Option<Platform> {
        [Platform::Slack, Platform::Teams].into_iter().find(|p| p.as_str() == raw)
    }
}

/// A target as admins see it: never the webhook URL, only a hint to recognise it by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotificationTarget {
    pub id: i64,
    pub name: String,
    pub platform: Platform,
    /// None: every team.
    pub team: Option<String>,
    pub events: Vec<NotificationEvent>,
    pub url_hint: String,
    /// "active", or "dead" once deliveries kept failing.
    pub status: String,
    pub last_error: Option<String>,
}

/// The admin's form. `events` holds the ticked checkboxes (`events[workspace.launched]=on`).
/// Its `Debug` leaves the webhook URL out: the URL is a secret.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TargetForm {
    pub name: String,
    pub platform: String,
    /// Empty: every team.
    pub team: String,
    pub webhook_url: String,
    pub events: BTreeMap<String, String>,
}

impl std::fmt::Debug for TargetForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetForm")
            .field("name", &self.name)
            .field("platform", &self.platform)
            .field("team", &self.team)
            .field("webhook_url", &"[secret]")
            .field("events", &self.events)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidTarget {
    pub name: String,
    pub platform: Platform,
    pub team: Option<super::TeamSlug>,
    pub events: Vec<NotificationEvent>,
}

impl TargetForm {
    /// Everything but the URL, which the server checks (scheme, host) before storing it.
    pub fn parse(&self) -> Result<ValidTarget, Vec<crate::error::FieldError>> {
        use crate::error::FieldError;
        let mut errors = Vec::new();
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("name", "Give the target a name of 1 to 100 characters."));
        }
        let platform = Platform::parse(&self.platform);
        if platform.is_none() {
            errors.push(FieldError::new("platform", "Choose Slack or Microsoft Teams."));
        }
        let team = match self.team.trim() {
            "" => None,
            raw => match super::TeamSlug::parse(raw) {
                Ok(slug) => Some(slug),
                Err(e) => {
                    errors.push(FieldError::new("team", &e.0));
                    None
                }
            },
        };
        let mut events = Vec::new();
        for key in self.events.keys() {
            match NotificationEvent::parse(key) {
                Some(event) => events.push(event),
                None => errors.push(FieldError::new("events", format!("\"{key}\" is not an event Atrium sends."))),
            }
        }
        if events.is_empty() && errors.is_empty() {
            errors.push(FieldError::new("events", "Choose at least one event to send."));
        }
        match (errors.is_empty(), platform) {
            (true, Some(platform)) => Ok(ValidTarget { name, platform, team, events }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_needs_a_name_a_platform_and_events() {
        let mut form = TargetForm {
            name: "Ops".into(),
            platform: "slack".into(),
            team: "climate".into(),
            webhook_url: String::new(),
            events: BTreeMap::new(),
        };
        form.events.insert("budget.threshold".into(), "on".into());
        let valid = form.parse().map_err(|_| "valid").unwrap();
        assert_eq!(valid.events, vec![NotificationEvent::BudgetThreshold]);
        assert_eq!(valid.team.map(|t| t.as_str().to_owned()), Some("climate".into()));

        let bad = TargetForm {
            name: " ".into(),
            platform: "irc".into(),
            team: "Not A Slug".into(),
            webhook_url: String::new(),
            events: BTreeMap::new(),
        };
        let fields: Vec<String> = bad.parse().err().unwrap_or_default().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["name", "platform", "team"]);
    }
}

/// Something worth telling a channel about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub event: NotificationEvent,
    /// The team it concerns; None for portal-wide events (the catalog).
    pub team: Option<String>,
    pub title: String,
    pub text: String,
}

impl Notice {
    /// A workspace event, told the same way from the launch and from the worker.
    pub fn workspace(event: NotificationEvent, title: String, team: &str, name: &str, configuration: &str, detail: Option<&str>) -> Notice {
        let mut text = format!("{name} ({configuration}) on team {team}.");
        if let Some(detail) = detail {
            text = format!("{text} {detail}");
        }
        Notice { event, team: Some(team.to_owned()), title, text }
    }
}
