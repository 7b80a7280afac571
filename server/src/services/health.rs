//! Health alarms: the worker reads each running workstation's CPU, memory and disk (the last
//! two where the CloudWatch agent publishes them) and raises an alarm when one stays above its
//! threshold for three minutes; the team's channels hear of it once, until it clears.

use crate::aws::cloudwatch::{Health, Metrics, Sample};
use crate::mail::{self, MailKind};
use crate::notifications;
use crate::repo::workspaces::{self, HealthCandidate};
use app::domain::health::{ALARM_MINUTES, Alarm};
use app::domain::notifications::Notice;
use app::domain::notifications::NotificationEvent;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

/// Whether the last `ALARM_MINUTES` minutes (ending within the last five) are all above.
fn above_for_minutes(samples: &[Sample], threshold: f64, now: OffsetDateTime) -> bool {
    let recent: Vec<&Sample> = samples.iter().filter(|s| s.at > now - Duration::minutes(6)).collect();
    recent.len() >= ALARM_MINUTES && recent[recent.len() - ALARM_MINUTES..].iter().all(|s| s.value > threshold)
}

fn samples_of(health: &Health, alarm: Alarm) -> &[Sample] {
    match alarm {
        Alarm::Cpu => &health.cpu,
        Alarm::Memory => &health.memory,
        Alarm::Disk => &health.disk,
    }
}

fn has_recent(health: &Health, alarm: Alarm, now: OffsetDateTime) -> bool {
    samples_of(health, alarm).iter().any(|s| s.at > now - Duration::minutes(6))
}

/// The alarms the samples call for at `now`.
pub fn alarms(health: &Health, now: OffsetDateTime) -> Vec<Alarm> {
    Alarm::ALL.into_iter().filter(|alarm| above_for_minutes(samples_of(health, *alarm), alarm.threshold(), now)).collect()
}

/// Checks every running workstation once; the alarms it raised, by workspace id.
#[tracing::instrument(skip_all)]
pub async fn check_health(db: &PgPool, metrics: &dyn Metrics, now: OffsetDateTime) -> Result<Vec<(String, Alarm)>, sqlx::Error> {
    let mut raised = Vec::new();
    for candidate in workspaces::health_candidates(db).await? {
        let health = match metrics.health(&candidate.role, &candidate.instance_id, now - Duration::minutes(6), now).await {
            Ok(health) => health,
            Err(error) => {
                tracing::warn!(workspace_id = %candidate.id, %error, "Could not read the workspace's health");
                continue;
            }
        };
        let mut now_raised = alarms(&health, now);
        // No readings is not a recovery: an alarm clears on readings under its threshold only.
        for alarm in &candidate.alarms {
            if !now_raised.contains(alarm) && !has_recent(&health, *alarm, now) {
                now_raised.push(*alarm);
            }
        }
        now_raised.sort();
        if now_raised == candidate.alarms {
            continue;
        }
        for alarm in record(db, &candidate, &now_raised).await? {
            raised.push((candidate.id.clone(), alarm));
        }
    }
    Ok(raised)
}

/// Stores the alarms, with an event per change and a notice per newly raised alarm; the
/// newly raised ones.
#[tracing::instrument(skip_all)]
async fn record(db: &PgPool, candidate: &HealthCandidate, alarms: &[Alarm]) -> Result<Vec<Alarm>, sqlx::Error> {
    let new: Vec<Alarm> = alarms.iter().copied().filter(|a| !candidate.alarms.contains(a)).collect();
    let cleared: Vec<Alarm> = candidate.alarms.iter().copied().filter(|a| !alarms.contains(a)).collect();
    let messages: Vec<String> = new
        .iter()
        .map(|a| format!("alarm: {} for {ALARM_MINUTES} min", a.label()))
        .chain(cleared.iter().map(|a| format!("cleared: {}", a.label().replace(" above ", " back under "))))
        .collect();
    let mut tx = db.begin().await?;
    if !workspaces::record_alarms(&mut tx, &candidate.id, alarms, &messages).await? {
        return Ok(Vec::new());
    }
    for alarm in &new {
        let title = format!("{}: {} for {ALARM_MINUTES} minutes", candidate.name, alarm.label());
        let notice = Notice::workspace(
            NotificationEvent::WorkspaceHealth,
            title,
            &candidate.team,
            &candidate.name,
            &candidate.configuration_name,
            None,
        );
        notifications::publish(&mut *tx, &notice).await?;
        mail::to_user(&mut *tx, &candidate.owner, MailKind::Health, &notice.title, &notice.text).await?;
    }
    tx.commit().await?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a time")
    }

    fn minutes(values: &[f64]) -> Vec<Sample> {
        let n = values.len() as i64;
        values.iter().enumerate().map(|(i, v)| Sample { at: now() - Duration::minutes(n - 1 - i as i64), value: *v }).collect()
    }

    #[test]
    fn three_minutes_above_raise_an_alarm_and_one_below_clears_it() {
        let busy = Health { cpu: minutes(&[50.0, 99.0, 98.0, 97.0]), ..Health::default() };
        assert_eq!(alarms(&busy, now()), [Alarm::Cpu]);
        let two = Health { cpu: minutes(&[50.0, 50.0, 98.0, 97.0]), ..Health::default() };
        assert!(alarms(&two, now()).is_empty(), "two minutes are not three");
        let recovered = Health { cpu: minutes(&[99.0, 99.0, 99.0, 40.0]), ..Health::default() };
        assert!(alarms(&recovered, now()).is_empty());
        let full = Health { memory: minutes(&[90.0; 3]), disk: minutes(&[81.0; 3]), ..Health::default() };
        assert_eq!(alarms(&full, now()), [Alarm::Memory, Alarm::Disk]);
        assert!(alarms(&Health::default(), now()).is_empty(), "no agent, no data: no alarm");
    }
}
