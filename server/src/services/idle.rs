//! Idle auto-stop. The worker's idle check reads each running workstation's CPU from
//! CloudWatch and stops the ones idle for their configuration's whole window, with no Connect
//! and no "Keep running" in it. A workspace is never stopped on missing data.

use crate::aws::cloudwatch::{Metrics, PERIOD_SECONDS, Sample};
use crate::mail::{self, MailKind};
use crate::notifications;
use crate::repo::audit;
use crate::repo::workspaces::{self, IdleCandidate};
use app::domain::notifications::Notice;
use app::domain::notifications::NotificationEvent;
use app::domain::workspace::{WorkspaceAction, WorkspaceState};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

/// What the check concludes for one workspace.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Idle for the whole window: stop it, saying why.
    Stop { reason: String },
    /// Busy in the window: not idle since this sample.
    Busy { last_busy_at: OffsetDateTime },
    /// Used, started or kept running too recently to be idle yet.
    NotYet,
    /// Not enough datapoints to prove it idle: leave it running.
    Unknown,
}

/// A stop its schedule calls for at `now`, whatever the metrics say: the maximum running time
/// reached, or a nightly stop time passed since it became available.
pub fn scheduled_stop(candidate: &IdleCandidate, now: OffsetDateTime) -> Option<String> {
    if !candidate.can_stop {
        return None;
    }
    if let Some(hours) = candidate.max_running_hours
        && candidate.available_since + Duration::hours(i64::from(hours)) <= now
    {
        return Some(format!("stopped: running {hours} h, the most its configuration allows"));
    }
    match &candidate.last_nightly_stop {
        Some((label, at)) if *at > candidate.available_since && *at <= now => Some(format!("stopped: nightly stop at {label}")),
        _ => None,
    }
}

/// The verdict for `candidate` at `now`, from the CPU samples of its idle window.
pub fn verdict(candidate: &IdleCandidate, samples: &[Sample], now: OffsetDateTime) -> Verdict {
    if candidate.keep_running_until.is_some_and(|until| until > now) {
        return Verdict::NotYet;
    }
    if let Some(reason) = scheduled_stop(candidate, now) {
        return Verdict::Stop { reason };
    }
    let measured = candidate.instance_id.is_some() || candidate.cluster_id.is_some() || candidate.notebook.is_some();
    let Some(minutes) = candidate.stop_after_minutes.filter(|_| measured) else { return Verdict::NotYet };
    let window = Duration::minutes(i64::from(minutes));
    let window_start = now - window;
    let in_window: Vec<&Sample> =
        samples.iter().filter(|s| s.at >= window_start - Duration::seconds(PERIOD_SECONDS) && s.at <= now).collect();
    // A workstation is busy at or above its CPU threshold; a cluster whenever IsIdle is not 1.
    // Seen first, so that a busy workspace moves its stop later rather than being warned about.
    let threshold = f64::from(candidate.cpu_percent);
    let busy = |s: &&&Sample| if candidate.can_stop { s.value >= threshold } else { s.value < 0.5 };
    if let Some(busy) = in_window.iter().filter(busy).map(|s| s.at).max()
        && candidate.last_busy_at.is_none_or(|known| known < busy)
    {
        return Verdict::Busy { last_busy_at: busy };
    }
    if [Some(candidate.available_since), candidate.last_connect_at, candidate.last_busy_at]
        .into_iter()
        .flatten()
        .max()
        .is_some_and(|since| since > window_start)
    {
        return Verdict::NotYet;
    }
    // Proof of idleness: datapoints from the window's start to its last few minutes, with at
    // most one period in five missing (CloudWatch publishes late and sometimes skips one).
    let expected = window.whole_seconds() / PERIOD_SECONDS;
    let covered_start = in_window.first().is_some_and(|s| s.at <= window_start + Duration::seconds(PERIOD_SECONDS));
    let covered_end = in_window.last().is_some_and(|s| s.at >= now - Duration::seconds(3 * PERIOD_SECONDS));
    if !(covered_start && covered_end && (in_window.len() as i64) * 5 >= expected * 4) {
        return Verdict::Unknown;
    }
    let reason = if candidate.can_stop {
        format!("stopped: idle {minutes} min, CPU < {} %", candidate.cpu_percent)
    } else {
        format!("terminated: idle {minutes} min, no jobs running (EMR IsIdle)")
    };
    Verdict::Stop { reason }
}

/// Checks every running workspace that stops on its own once; the ids it stopped. Another
/// check at the same time stops nothing twice: the stop is a conditional state change.
#[tracing::instrument(skip_all)]
pub async fn check_idle_workspaces(db: &PgPool, metrics: &dyn Metrics, now: OffsetDateTime) -> Result<Vec<String>, sqlx::Error> {
    let mut stopped = Vec::new();
    for candidate in workspaces::idle_candidates(db, now).await? {
        // Metrics only where idleness decides: not for a snoozed or scheduled stop.
        let needs_metrics = candidate.keep_running_until.is_none_or(|until| until <= now) && scheduled_stop(&candidate, now).is_none();
        let samples = match candidate.stop_after_minutes {
            Some(minutes) if needs_metrics => {
                let start = now - Duration::minutes(i64::from(minutes)) - Duration::seconds(PERIOD_SECONDS);
                let read = match (&candidate.instance_id, &candidate.notebook, &candidate.cluster_id) {
                    (Some(instance), _, _) => metrics.cpu(&candidate.role, instance, start, now).await,
                    (None, Some(notebook), _) => metrics.notebook_cpu(&candidate.role, notebook, start, now).await,
                    (None, None, Some(cluster)) => metrics.cluster_idle(&candidate.role, cluster, start, now).await,
                    (None, None, None) => Ok(Vec::new()),
                };
                match read {
                    Ok(samples) => samples,
                    Err(error) => {
                        // Unreachable or throttled: the next check tries again; nothing unproven stops.
                        tracing::warn!(workspace_id = %candidate.id, %error, "Could not read the workspace's CPU");
                        continue;
                    }
                }
            }
            _ => Vec::new(),
        };
        match verdict(&candidate, &samples, now) {
            // Never without a warning of this quiet stretch a quarter of an hour before.
            Verdict::Stop { .. } if !warned_in_time(&candidate, now) => warn(db, &candidate, now).await?,
            Verdict::Stop { reason } => {
                if stop_idle(db, &candidate, &reason).await? {
                    tracing::info!(workspace_id = %candidate.id, %reason, "Stopped a workspace on its own");
                    stopped.push(candidate.id);
                }
            }
            Verdict::Busy { last_busy_at } => workspaces::record_busy(db, &candidate.id, last_busy_at).await?,
            Verdict::NotYet | Verdict::Unknown => warn_if_due_soon(db, &candidate, now).await?,
        }
    }
    Ok(stopped)
}

/// How long before a stop the team's channels hear of it.
const WARNING_AHEAD: Duration = Duration::minutes(20);
/// The least time between a warning and the stop it announces.
const WARNING_AT_LEAST: Duration = Duration::minutes(15);

/// Since when the owner has not touched the workspace: started, connected to, or kept running
/// (until then). A warning counts for this stretch only; being busy does not start a new one,
/// so a busy workspace is not warned about again and again.
fn warning_stretch_start(candidate: &IdleCandidate) -> OffsetDateTime {
    [Some(candidate.available_since), candidate.last_connect_at, candidate.keep_running_until]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(candidate.available_since)
}

/// Whether this stretch's warning went out at least `WARNING_AT_LEAST` ago.
fn warned_in_time(candidate: &IdleCandidate, now: OffsetDateTime) -> bool {
    candidate.stop_warned_at.is_some_and(|at| at >= warning_stretch_start(candidate) && at <= now - WARNING_AT_LEAST)
}

/// Announces a stop due within `WARNING_AHEAD` (or overdue: a policy changed, the portal was
/// down), once per quiet stretch.
#[tracing::instrument(skip_all)]
async fn warn_if_due_soon(db: &PgPool, candidate: &IdleCandidate, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    if candidate.stop_due.is_some_and(|due| due - now <= WARNING_AHEAD) {
        warn(db, candidate, now).await?;
    }
    Ok(())
}

/// Sends this stretch's warning, unless it went out already.
#[tracing::instrument(skip_all)]
async fn warn(db: &PgPool, candidate: &IdleCandidate, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    if candidate.stop_warned_at.is_some_and(|at| at >= warning_stretch_start(candidate)) {
        return Ok(());
    }
    let due = candidate.stop_due.unwrap_or(now).max(now + WARNING_AT_LEAST);
    let at = due.format(time::macros::format_description!("[hour]:[minute] UTC")).unwrap_or_default();
    let title = format!("{} stops at {at} unless it is used", candidate.name);
    let detail = "Open it in Atrium and choose Keep running to keep it going.";
    let notice = Notice::workspace(
        NotificationEvent::WorkspaceIdleWarning,
        title,
        &candidate.team,
        &candidate.name,
        &candidate.configuration_name,
        Some(detail),
    );
    let mut tx = db.begin().await?;
    notifications::publish(&mut *tx, &notice).await?;
    mail::to_user(&mut *tx, &candidate.owner, MailKind::Workspace, &notice.title, &notice.text).await?;
    workspaces::record_stop_warning(&mut *tx, &candidate.id, now).await?;
    tx.commit().await
}

/// Stops the workspace (terminates a cluster that cannot stop) through the same transition and
/// job as its owner's action, audited as `atrium`; `false` if it is no longer available
/// (stopped meanwhile by someone else).
#[tracing::instrument(skip_all)]
async fn stop_idle(db: &PgPool, candidate: &IdleCandidate, reason: &str) -> Result<bool, sqlx::Error> {
    let action = if candidate.can_stop { WorkspaceAction::Stop } else { WorkspaceAction::Terminate };
    let mut tx = db.begin().await?;
    if !workspaces::still_due(&mut tx, &candidate.id).await? {
        return Ok(false);
    }
    match super::workspaces::begin_action(&mut tx, &candidate.id, WorkspaceState::Available, action, reason).await {
        Ok(()) => {}
        Err(workspaces::TransitionError::Database(error)) => return Err(error),
        Err(_) => return Ok(false),
    }
    let audit_action = if candidate.can_stop { "workspace.stop" } else { "workspace.terminate" };
    let entry =
        audit::Entry::anonymous("atrium", audit_action, None).object("workspace", &candidate.id).team(&candidate.team).detail(reason);
    audit::record(&mut *tx, &entry).await?;
    let title = format!("{} was {reason}", candidate.name);
    let notice = Notice::workspace(
        NotificationEvent::WorkspaceAutoStopped,
        title,
        &candidate.team,
        &candidate.name,
        &candidate.configuration_name,
        None,
    );
    notifications::publish(&mut *tx, &notice).await?;
    mail::to_user(&mut *tx, &candidate.owner, MailKind::Workspace, &notice.title, &notice.text).await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a time")
    }

    fn candidate() -> IdleCandidate {
        IdleCandidate {
            id: "ws".into(),
            name: "ws".into(),
            owner: "ada".into(),
            configuration_name: "Standard".into(),
            team: "genomics".into(),
            role: crate::aws::team_role::TeamRole::new("arn:aws:iam::111111111111:role/AtriumPortalAccess", "an-external-id"),
            instance_id: Some("i-1".into()),
            cluster_id: None,
            notebook: None,
            can_stop: true,
            stop_after_minutes: Some(60),
            cpu_percent: 5,
            max_running_hours: None,
            last_nightly_stop: None,
            available_since: now() - Duration::hours(3),
            last_connect_at: None,
            last_busy_at: None,
            keep_running_until: None,
            stop_due: None,
            stop_warned_at: None,
        }
    }

    /// One sample per period from `minutes` ago until now, at `cpu`.
    fn samples(minutes: i64, cpu: f64) -> Vec<Sample> {
        (0..=minutes * 60 / PERIOD_SECONDS)
            .rev()
            .map(|i| Sample { at: now() - Duration::seconds(i * PERIOD_SECONDS), value: cpu })
            .collect()
    }

    #[test]
    fn a_whole_idle_window_stops_and_says_why() {
        assert_eq!(verdict(&candidate(), &samples(65, 2.0), now()), Verdict::Stop { reason: "stopped: idle 60 min, CPU < 5 %".into() });
    }

    #[test]
    fn a_busy_sample_or_a_recent_connect_keeps_it_running() {
        let mut busy = samples(65, 2.0);
        busy[5].value = 40.0;
        assert_eq!(verdict(&candidate(), &busy, now()), Verdict::Busy { last_busy_at: busy[5].at });
        let connected = IdleCandidate { last_connect_at: Some(now() - Duration::minutes(10)), ..candidate() };
        assert_eq!(verdict(&connected, &samples(65, 2.0), now()), Verdict::NotYet);
        let started = IdleCandidate { available_since: now() - Duration::minutes(30), ..candidate() };
        assert_eq!(verdict(&started, &samples(30, 2.0), now()), Verdict::NotYet);
    }

    #[test]
    fn missing_or_partial_metrics_never_stop_it() {
        assert_eq!(verdict(&candidate(), &[], now()), Verdict::Unknown);
        assert_eq!(verdict(&candidate(), &samples(30, 2.0), now()), Verdict::Unknown, "only the last half hour");
        let mut gappy = samples(65, 2.0);
        gappy.retain(|s| (now() - s.at).whole_minutes() % 10 != 0);
        assert_eq!(verdict(&candidate(), &gappy, now()), Verdict::Unknown, "every other period missing");
        let stale: Vec<Sample> = samples(65, 2.0).into_iter().filter(|s| s.at < now() - Duration::minutes(20)).collect();
        assert_eq!(verdict(&candidate(), &stale, now()), Verdict::Unknown, "nothing from the last 20 minutes");
    }

    #[test]
    fn the_maximum_running_time_and_the_nightly_stop_need_no_metrics() {
        let long = IdleCandidate { max_running_hours: Some(2), stop_after_minutes: None, ..candidate() };
        assert_eq!(verdict(&long, &[], now()), Verdict::Stop { reason: "stopped: running 2 h, the most its configuration allows".into() });
        let short = IdleCandidate { max_running_hours: Some(4), stop_after_minutes: None, ..candidate() };
        assert_eq!(verdict(&short, &[], now()), Verdict::NotYet);
        let nightly =
            IdleCandidate { last_nightly_stop: Some(("20:00 Europe/Berlin".into(), now() - Duration::minutes(5))), ..candidate() };
        assert_eq!(verdict(&nightly, &[], now()), Verdict::Stop { reason: "stopped: nightly stop at 20:00 Europe/Berlin".into() });
        let started_after = IdleCandidate { available_since: now() - Duration::minutes(1), ..nightly.clone() };
        assert_eq!(verdict(&started_after, &[], now()), Verdict::NotYet, "started after tonight's stop: tomorrow's");
        let snoozed = IdleCandidate { keep_running_until: Some(now() + Duration::hours(1)), ..nightly };
        assert_eq!(verdict(&snoozed, &[], now()), Verdict::NotYet);
    }

    #[test]
    fn an_idle_cluster_is_terminated_and_a_working_one_is_not() {
        let cluster =
            IdleCandidate { instance_id: None, cluster_id: Some("j-1".into()), can_stop: false, max_running_hours: Some(1), ..candidate() };
        assert_eq!(
            verdict(&cluster, &samples(65, 1.0), now()),
            Verdict::Stop { reason: "terminated: idle 60 min, no jobs running (EMR IsIdle)".into() },
            "the maximum running time does not apply to a type that cannot stop"
        );
        let mut working = samples(65, 1.0);
        working[3].value = 0.0;
        assert_eq!(verdict(&cluster, &working, now()), Verdict::Busy { last_busy_at: working[3].at });
    }

    #[test]
    fn keep_running_holds_until_it_ends() {
        let kept = IdleCandidate { keep_running_until: Some(now() + Duration::minutes(1)), ..candidate() };
        assert_eq!(verdict(&kept, &samples(65, 2.0), now()), Verdict::NotYet);
        let ended = IdleCandidate { keep_running_until: Some(now() - Duration::minutes(1)), ..candidate() };
        assert!(matches!(verdict(&ended, &samples(65, 2.0), now()), Verdict::Stop { .. }));
    }
}
