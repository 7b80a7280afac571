//! Faults tests inject through `POST /_emulator/faults`: each applies to the next call of one
//! operation (or `*` for any) and is used up once.

use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// Answer ThrottlingException.
    Throttle,
    /// Answer a 500 InternalFailure.
    ServerError,
    /// Answer AccessDeniedException, as for a role without the permission.
    AccessDenied,
    /// Wait this long before answering.
    Slow { millis: u64 },
    /// Accept the provisioning request, then fail the record with this message.
    FailProvisioning { message: String },
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct FaultRule {
    /// An operation name such as `ProvisionProduct`, or `*`.
    pub operation: String,
    #[serde(flatten)]
    pub fault: Fault,
    /// How many calls it applies to (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// Only calls whose request body contains this text (e.g. a provisioned product's name),
    /// so that tests running side by side do not take each other's faults.
    #[serde(default)]
    pub body_contains: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    /// The rules not used up yet.
    pub fn pending(&self) -> Vec<FaultRule> {
        self.rules.clone()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault to apply to this call of `operation`, used up as it is taken.
    pub fn take(&mut self, operation: &str, body: &str) -> Option<Fault> {
        let index = self.rules.iter().position(|r| {
            (r.operation == operation || r.operation == "*") && r.body_contains.as_deref().is_none_or(|text| body.contains(text))
        })?;
        let rule = &mut self.rules[index];
        let fault = rule.fault.clone();
        rule.times = rule.times.saturating_sub(1);
        if rule.times == 0 {
            self.rules.remove(index);
        }
        Some(fault)
    }
}

pub fn delay(fault: &Fault) -> Option<Duration> {
    match fault {
        Fault::Slow { millis } => Some(Duration::from_millis(*millis)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_is_used_up_after_its_times() {
        let mut faults = Faults::default();
        faults.add(FaultRule { operation: "ProvisionProduct".into(), fault: Fault::Throttle, times: 2, body_contains: None });
        assert_eq!(faults.take("DescribeRecord", ""), None);
        assert_eq!(faults.take("ProvisionProduct", ""), Some(Fault::Throttle));
        assert_eq!(faults.take("ProvisionProduct", ""), Some(Fault::Throttle));
        assert_eq!(faults.take("ProvisionProduct", ""), None);
    }

    #[test]
    fn a_fault_for_one_product_leaves_the_others_alone() {
        let mut faults = Faults::default();
        faults.add(FaultRule {
            operation: "ProvisionProduct".into(),
            fault: Fault::ServerError,
            times: 1,
            body_contains: Some("ws-b".into()),
        });
        assert_eq!(faults.take("ProvisionProduct", r#"{"ProvisionedProductName":"ws-a"}"#), None);
        assert_eq!(faults.take("ProvisionProduct", r#"{"ProvisionedProductName":"ws-b"}"#), Some(Fault::ServerError));
    }
}
