//! Idle auto-stop: each configuration's policy (stop after N minutes idle, what idle means),
//! as the admin writes it and as users read it before launch and on a running workspace.

use super::configurations::FieldError;
use serde::{Deserialize, Serialize};

/// The hours a user may keep an idle workspace running ("Keep running 4 hours").
pub const SNOOZE_HOURS: [u32; 3] = [1, 4, 8];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdlePolicy {
    /// Stop after this many minutes idle; `None`: never stopped for being idle.
    pub stop_after_minutes: Option<u32>,
    /// Below this average CPU a workstation counts as idle.
    pub cpu_percent: u32,
}

impl Default for IdlePolicy {
    fn default() -> Self {
        IdlePolicy { stop_after_minutes: Some(60), cpu_percent: 5 }
    }
}

impl IdlePolicy {
    /// For the launch form and the admin's catalog.
    pub fn describe(&self) -> String {
        match self.stop_after_minutes {
            Some(minutes) => format!("Stops after {minutes} min idle (CPU below {} % and no Connect)", self.cpu_percent),
            None => "Never stopped for being idle".to_owned(),
        }
    }

    /// The admin's form: minutes (or "never") and the CPU threshold; empty fields keep the
    /// defaults. `Err` names each bad field.
    pub fn parse(stop_after: &str, cpu_percent: &str) -> Result<IdlePolicy, Vec<FieldError>> {
        let defaults = IdlePolicy::default();
        let mut errors = Vec::new();
        let stop_after_minutes = match stop_after.trim() {
            "" => defaults.stop_after_minutes,
            "never" => None,
            raw => match raw.parse::<u32>() {
                Ok(minutes) if (10..=1440).contains(&minutes) => Some(minutes),
                _ => {
                    errors.push(FieldError::new("idle_stop_after", "Stop after 10 to 1440 minutes idle, or \"never\"."));
                    None
                }
            },
        };
        let cpu_percent = match cpu_percent.trim() {
            "" => defaults.cpu_percent,
            raw => match raw.parse::<u32>() {
                Ok(percent) if (1..=90).contains(&percent) => percent,
                _ => {
                    errors.push(FieldError::new("idle_cpu_percent", "The idle CPU threshold is 1 to 90 %."));
                    defaults.cpu_percent
                }
            },
        };
        if errors.is_empty() { Ok(IdlePolicy { stop_after_minutes, cpu_percent }) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_keep_the_defaults_and_never_is_allowed() {
        assert_eq!(IdlePolicy::parse("", ""), Ok(IdlePolicy::default()));
        assert_eq!(IdlePolicy::parse("never", "10"), Ok(IdlePolicy { stop_after_minutes: None, cpu_percent: 10 }));
        assert_eq!(IdlePolicy::parse(" 120 ", "5").map(|p| p.stop_after_minutes), Ok(Some(120)));
    }

    #[test]
    fn out_of_range_values_are_field_errors() {
        for (minutes, cpu, field) in [("5", "5", "idle_stop_after"), ("2000", "5", "idle_stop_after"), ("soon", "5", "idle_stop_after"), ("60", "0", "idle_cpu_percent"), ("60", "95", "idle_cpu_percent")] {
            let errors = IdlePolicy::parse(minutes, cpu).unwrap_err();
            assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), [field], "{minutes} {cpu}");
        }
    }

    #[test]
    fn the_description_says_what_idle_means() {
        assert_eq!(IdlePolicy::default().describe(), "Stops after 60 min idle (CPU below 5 % and no Connect)");
        assert_eq!(IdlePolicy { stop_after_minutes: None, cpu_percent: 5 }.describe(), "Never stopped for being idle");
    }
}
