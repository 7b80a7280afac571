//! The audit log as admins read it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub actor_roles: Vec<String>,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub team: Option<String>,
    pub client_ip: Option<String>,
    pub result: String,
    pub detail: Option<String>,
}

/// What to show: every field optional; `page` counts from 1.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub team: Option<String>,
    pub action: Option<String>,
    /// `YYYY-MM-DD`, inclusive, UTC.
    pub from: Option<String>,
    pub to: Option<String>,
}

impl AuditFilter {
    /// Empty strings (an empty form field) mean "any".
    pub fn normalised(self) -> AuditFilter {
        let keep = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        AuditFilter { actor: keep(self.actor), team: keep(self.team), action: keep(self.action), from: keep(self.from), to: keep(self.to) }
    }

    /// Dates must be `YYYY-MM-DD`.
    pub fn dates_are_valid(&self) -> bool {
        let is_date = |d: &String| {
            let parts: Vec<&str> = d.split('-').collect();
            parts.len() == 3
                && parts[0].len() == 4
                && parts[1].len() == 2
                && parts[2].len() == 2
                && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
        };
        self.from.iter().chain(self.to.iter()).all(is_date)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[cfg(test)]
mod tests {
    use super::AuditFilter;

    #[test]
    fn empty_fields_mean_any_and_dates_are_checked() {
        let filter = AuditFilter { actor: Some(" ".into()), from: Some("2026-11-01".into()), ..Default::default() }.normalised();
        assert_eq!(filter.actor, None);
        assert!(filter.dates_are_valid());
        let bad = AuditFilter { to: Some("yesterday".into()), ..Default::default() };
        assert!(!bad.dates_are_valid());
    }
}
