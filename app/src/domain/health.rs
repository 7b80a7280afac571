//! Health alarms on a running workstation: CPU, memory or disk above a threshold for three
//! minutes in a row.

use serde::{Deserialize, Serialize};

/// Minutes in a row above the threshold before an alarm is raised.
pub const ALARM_MINUTES: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Alarm {
    Cpu,
    Memory,
    Disk,
}

impl Alarm {
    pub const ALL: [Alarm; 3] = [Alarm::Cpu, Alarm::Memory, Alarm::Disk];

    pub fn as_str(self) -> &'static str {
        match self {
            Alarm::Cpu => "cpu",
            Alarm::Memory => "memory",
            Alarm::Disk => "disk",
        }
    }

    pub fn parse(raw: &str) -> Option<Alarm> {
        Alarm::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    /// Percent above which the alarm is raised.
    pub fn threshold(self) -> f64 {
        match self {
            Alarm::Cpu => 95.0,
            Alarm::Memory => 85.0,
            Alarm::Disk => 80.0,
        }
    }

    /// "CPU above 95 %", for badges and messages.
    pub fn label(self) -> String {
        let what = match self {
            Alarm::Cpu => "CPU",
            Alarm::Memory => "Memory",
            Alarm::Disk => "Disk use",
        };
        format!("{what} above {} %", self.threshold())
    }
}
