//! When a running workspace is stopped without anyone asking: after N minutes idle (what idle
//! means depends on its type), after a maximum running time, and every night at a local time of
//! the team's. Each configuration's policy, as the admin writes it and as users read it before
//! launch and on a running workspace.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// The hours a user may keep an idle workspace running ("Keep running 4 hours").
pub const SNOOZE_HOURS: [u32; 3] = [1, 4, 8];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IdlePolicy {
    /// Stop after this many minutes idle; `None`: never stopped for being idle.
    pub stop_after_minutes: Option<u32>,
    /// Below this average CPU a workstation counts as idle.
    pub cpu_percent: u32,
    /// Stop after running this long, idle or not.
    #[serde(default)]
    pub max_running_hours: Option<u32>,
    /// Stop every day at this time ("20:00") in the team's time zone.
    #[serde(default)]
    pub nightly_stop: Option<String>,
    /// Stop its owner's running workspaces when they sign out, unless their settings say else.
    #[serde(default)]
    pub stop_on_sign_out: bool,
}

impl Default for IdlePolicy {
    fn default() -> Self {
        IdlePolicy { stop_after_minutes: Some(60), cpu_percent: 5, max_running_hours: None, nightly_stop: None, stop_on_sign_out: false }
    }
}

/// The admin's form for a policy; empty fields keep the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IdlePolicyForm {
    /// Minutes, or "never".
    pub stop_after: String,
    pub cpu_percent: String,
    /// Hours; empty for no maximum.
    pub max_running_hours: String,
    /// "HH:MM"; empty for none.
    pub nightly_stop: String,
    /// A checked box ("on") or nothing.
    #[serde(default)]
    pub stop_on_sign_out: String,
}

/// "20:00" from "20:00" or "8:05"; `None` for anything that is not a time of day.
fn time_of_day(raw: &str) -> Option<String> {
    let (hours, minutes) = raw.split_once(':')?;
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60 && raw.len() <= 5).then(|| format!("{hours:02}:{minutes:02}"))
}

impl IdlePolicy {
    /// For the launch form and the admin's catalog: of a type that can stop and start, or one
    /// that can only be terminated (an EMR cluster: terminated when idle; the scheduled stops
    /// do not apply).
    pub fn describe_for(&self, can_stop: bool) -> String {
        if !can_stop {
            return match self.stop_after_minutes {
                Some(minutes) => format!("Terminated after {minutes} min idle (no jobs running): save your results as you go"),
                None => "Never terminated for being idle".to_owned(),
            };
        }
        let mut parts = vec![match self.stop_after_minutes {
            Some(minutes) => format!("Stops after {minutes} min idle (CPU below {} % and no Connect)", self.cpu_percent),
            None => "Never stopped for being idle".to_owned(),
        }];
        if let Some(hours) = self.max_running_hours {
            parts.push(format!("runs at most {hours} h"));
        }
        if let Some(at) = &self.nightly_stop {
            parts.push(format!("stops every night at {at} team time"));
        }
        if self.stop_on_sign_out {
            parts.push("stops when you sign out".to_owned());
        }
        parts.join(" · ")
    }

    /// Checks every field; `Err` names each bad one.
    pub fn parse(form: &IdlePolicyForm) -> Result<IdlePolicy, Vec<FieldError>> {
        let defaults = IdlePolicy::default();
        let mut errors = Vec::new();
        let stop_after_minutes = match form.stop_after.trim() {
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
        let cpu_percent = match form.cpu_percent.trim() {
            "" => defaults.cpu_percent,
            raw => match raw.parse::<u32>() {
                Ok(percent) if (1..=90).contains(&percent) => percent,
                _ => {
                    errors.push(FieldError::new("idle_cpu_percent", "The idle CPU threshold is 1 to 90 %."));
                    defaults.cpu_percent
                }
            },
        };
        let max_running_hours = match form.max_running_hours.trim() {
            "" => None,
            raw => match raw.parse::<u32>() {
                Ok(hours) if (1..=168).contains(&hours) => Some(hours),
                _ => {
                    errors.push(FieldError::new("idle_max_running_hours", "A maximum running time is 1 to 168 hours, or empty for none."));
                    None
                }
            },
        };
        if let (Some(hours), Some(minutes)) = (max_running_hours, stop_after_minutes)
            && hours * 60 < minutes
        {
            errors.push(FieldError::new(
                "idle_max_running_hours",
                format!("The maximum ({hours} h) is shorter than the idle window ({minutes} min)."),
            ));
        }
        let nightly_stop = match form.nightly_stop.trim() {
            "" => None,
            raw => {
                let parsed = time_of_day(raw);
                if parsed.is_none() {
                    errors.push(FieldError::new("idle_nightly_stop", "Give the nightly stop as a time of day, such as 20:00."));
                }
                parsed
            }
        };
        let stop_on_sign_out = !form.stop_on_sign_out.trim().is_empty();
        if errors.is_empty() {
            Ok(IdlePolicy { stop_after_minutes, cpu_percent, max_running_hours, nightly_stop, stop_on_sign_out })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(stop_after: &str, cpu: &str, max: &str, nightly: &str) -> IdlePolicyForm {
        IdlePolicyForm {
            stop_after: stop_after.into(),
            cpu_percent: cpu.into(),
            max_running_hours: max.into(),
            nightly_stop: nightly.into(),
            ..IdlePolicyForm::default()
        }
    }

    #[test]
    fn empty_fields_keep_the_defaults_and_never_is_allowed() {
        assert_eq!(IdlePolicy::parse(&form("", "", "", "")), Ok(IdlePolicy::default()));
        let never = IdlePolicy::parse(&form("never", "10", "", "")).expect("valid");
        assert_eq!((never.stop_after_minutes, never.cpu_percent), (None, 10));
        let scheduled = IdlePolicy::parse(&form(" 120 ", "5", "8", "8:05")).expect("valid");
        assert_eq!(
            (scheduled.stop_after_minutes, scheduled.max_running_hours, scheduled.nightly_stop.as_deref()),
            (Some(120), Some(8), Some("08:05"))
        );
    }

    #[test]
    fn out_of_range_values_are_field_errors() {
        for (f, field) in [
            (form("5", "5", "", ""), "idle_stop_after"),
            (form("2000", "5", "", ""), "idle_stop_after"),
            (form("soon", "5", "", ""), "idle_stop_after"),
            (form("60", "0", "", ""), "idle_cpu_percent"),
            (form("60", "95", "", ""), "idle_cpu_percent"),
            (form("60", "5", "0", ""), "idle_max_running_hours"),
            (form("180", "5", "2", ""), "idle_max_running_hours"),
            (form("60", "5", "", "25:00"), "idle_nightly_stop"),
            (form("60", "5", "", "evening"), "idle_nightly_stop"),
        ] {
            let errors = IdlePolicy::parse(&f).unwrap_err();
            assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), [field], "{f:?}");
        }
    }

    #[test]
    fn the_description_says_what_stops_it() {
        assert_eq!(IdlePolicy::default().describe_for(true), "Stops after 60 min idle (CPU below 5 % and no Connect)");
        let all = IdlePolicy {
            stop_after_minutes: None,
            cpu_percent: 5,
            max_running_hours: Some(8),
            nightly_stop: Some("20:00".into()),
            stop_on_sign_out: true,
        };
        assert_eq!(
            all.describe_for(true),
            "Never stopped for being idle · runs at most 8 h · stops every night at 20:00 team time · stops when you sign out"
        );
        assert_eq!(
            IdlePolicy::default().describe_for(false),
            "Terminated after 60 min idle (no jobs running): save your results as you go"
        );
    }
}
