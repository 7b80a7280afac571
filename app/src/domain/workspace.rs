//! The workspace lifecycle (DESIGN.md, "Workspace lifecycle") as a state machine: every change
//! of state goes through `WorkspaceState::transition`, which refuses the illegal ones.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceState {
    Requested,
    Provisioning,
    Available,
    Stopping,
    Stopped,
    Starting,
    /// Service Catalog is moving it to another version or size (UpdateProvisionedProduct).
    Updating,
    Terminating,
    Terminated,
    Failed,
}

/// What happened to a workspace; each event moves it from one state to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceEvent {
    ProvisioningStarted,
    ProvisioningSucceeded,
    StopRequested,
    Stopped,
    StartRequested,
    Started,
    TerminateRequested,
    Terminated,
    /// AWS reported a real failure (not throttling, not a 5xx: those are retried).
    Failed,
    /// A stop or start did not happen: the workspace is as it was.
    ActionFailed,
    /// The reconcile found it stopped in AWS (stopped outside Atrium).
    ObservedStopped,
    /// The reconcile found it running in AWS (started outside Atrium).
    ObservedRunning,
    /// An admin ended a workspace AWS no longer knows, or that is stuck.
    ForceTerminated,
    /// Its owner asked for a newer version or another size.
    UpdateRequested,
    /// AWS has updated it: it runs the new version or size.
    Updated,
    /// AWS did not update it: it is as it was.
    UpdateFailed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a workspace that is {from} cannot be {event}")]
pub struct IllegalTransition {
    pub from: WorkspaceState,
    pub event: WorkspaceEvent,
}

impl WorkspaceState {
    pub const ALL: [WorkspaceState; 10] = [
        WorkspaceState::Requested,
        WorkspaceState::Provisioning,
        WorkspaceState::Available,
        WorkspaceState::Stopping,
        WorkspaceState::Stopped,
        WorkspaceState::Starting,
        WorkspaceState::Updating,
        WorkspaceState::Terminating,
        WorkspaceState::Terminated,
        WorkspaceState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceState::Requested => "requested",
            WorkspaceState::Provisioning => "provisioning",
            WorkspaceState::Available => "available",
            WorkspaceState::Stopping => "stopping",
            WorkspaceState::Stopped => "stopped",
            WorkspaceState::Starting => "starting",
            WorkspaceState::Updating => "updating",
            WorkspaceState::Terminating => "terminating",
            WorkspaceState::Terminated => "terminated",
            WorkspaceState::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<WorkspaceState> {
        WorkspaceState::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The state after `event`, or why that cannot happen.
    pub fn transition(self, event: WorkspaceEvent) -> Result<WorkspaceState, IllegalTransition> {
        use WorkspaceEvent as E;
        use WorkspaceState as S;
        let next = match (self, event) {
            (S::Requested, E::ProvisioningStarted) => S::Provisioning,
            (S::Provisioning, E::ProvisioningSucceeded) => S::Available,
            (S::Available, E::StopRequested) => S::Stopping,
            (S::Stopping, E::Stopped) => S::Stopped,
            (S::Stopped, E::StartRequested) => S::Starting,
            (S::Starting, E::Started) => S::Available,
            (S::Available | S::Stopped | S::Failed, E::TerminateRequested) => S::Terminating,
            (S::Terminating, E::Terminated) => S::Terminated,
            (S::Requested | S::Provisioning | S::Terminating, E::Failed) => S::Failed,
            (S::Stopping, E::ActionFailed) => S::Available,
            (S::Starting, E::ActionFailed) => S::Stopped,
            (S::Available, E::ObservedStopped) => S::Stopped,
            (S::Stopped, E::ObservedRunning) => S::Available,
            (S::Available, E::UpdateRequested) => S::Updating,
            (S::Updating, E::Updated | E::UpdateFailed) => S::Available,
            (from, E::ForceTerminated) if from != S::Terminated => S::Terminated,
            (from, event) => return Err(IllegalTransition { from, event }),
        };
        Ok(next)
    }

    /// A state some job is still working on; the worker must own every workspace in one.
    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            WorkspaceState::Requested
                | WorkspaceState::Provisioning
                | WorkspaceState::Stopping
                | WorkspaceState::Starting
                | WorkspaceState::Updating
                | WorkspaceState::Terminating
        )
    }

    /// Counts against the user's quota of active workspaces.
    pub fn is_active(self) -> bool {
        !matches!(self, WorkspaceState::Terminated | WorkspaceState::Failed)
    }
}

impl fmt::Display for WorkspaceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for WorkspaceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = match self {
            WorkspaceEvent::ProvisioningStarted => "provisioned",
            WorkspaceEvent::ProvisioningSucceeded => "marked available",
            WorkspaceEvent::StopRequested => "stopped",
            WorkspaceEvent::Stopped => "marked stopped",
            WorkspaceEvent::StartRequested => "started",
            WorkspaceEvent::Started => "marked started",
            WorkspaceEvent::TerminateRequested => "terminated",
            WorkspaceEvent::Terminated => "marked terminated",
            WorkspaceEvent::Failed => "marked failed",
            WorkspaceEvent::ActionFailed => "returned to its last state",
            WorkspaceEvent::ObservedStopped => "marked stopped as AWS says",
            WorkspaceEvent::ObservedRunning => "marked running as AWS says",
            WorkspaceEvent::ForceTerminated => "force terminated",
            WorkspaceEvent::UpdateRequested => "updated",
            WorkspaceEvent::Updated => "marked updated",
            WorkspaceEvent::UpdateFailed => "returned to its version and size",
        };
        f.write_str(words)
    }
}

/// What a user may ask of a running (or stopped) workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceAction {
    Stop,
    Start,
    Terminate,
}

impl WorkspaceAction {
    pub fn parse(raw: &str) -> Option<WorkspaceAction> {
        match raw {
            "stop" => Some(WorkspaceAction::Stop),
            "start" => Some(WorkspaceAction::Start),
            "terminate" => Some(WorkspaceAction::Terminate),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceAction::Stop => "stop",
            WorkspaceAction::Start => "start",
            WorkspaceAction::Terminate => "terminate",
        }
    }

    pub fn past_tense(self) -> &'static str {
        match self {
            WorkspaceAction::Stop => "stopped",
            WorkspaceAction::Start => "started",
            WorkspaceAction::Terminate => "terminated",
        }
    }

    pub fn event(self) -> WorkspaceEvent {
        match self {
            WorkspaceAction::Stop => WorkspaceEvent::StopRequested,
            WorkspaceAction::Start => WorkspaceEvent::StartRequested,
            WorkspaceAction::Terminate => WorkspaceEvent::TerminateRequested,
        }
    }
}

/// A workspace's name: 3–40 lower-case letters, digits and dashes, starting with a letter
/// (it becomes part of AWS resource names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub fn parse(raw: &str) -> Result<WorkspaceName, super::InvalidInput> {
        let name = raw.trim();
        let ok = (3..=40).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(WorkspaceName(name.to_owned()))
        } else {
            Err(super::InvalidInput(
                "Name the workspace with 3 to 40 lower-case letters, digits and dashes, starting with a letter.".into(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How "Connect" reaches a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionKind {
    /// The URL the workspace's stack put in its outputs.
    WorkspaceUrl,
    /// A SageMaker notebook instance's presigned URL, minted in the team's account.
    SagemakerNotebook,
    /// A SageMaker Studio domain's presigned URL for the user's profile.
    SagemakerStudio,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::WorkspaceUrl => "workspace-url",
            ConnectionKind::SagemakerNotebook => "sagemaker-notebook",
            ConnectionKind::SagemakerStudio => "sagemaker-studio",
        }
    }
}

/// Where to connect to a workspace, minted for one caller. Never stored, never logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Connection {
    pub url: String,
    pub kind: ConnectionKind,
    /// Seconds a presigned URL may be used for; `None` for a workspace's own URL.
    pub expires_in_seconds: Option<u32>,
}

/// What a Session Manager session forwards from a workstation to the caller's machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemoteProtocol {
    Ssh,
    Rdp,
}

impl RemoteProtocol {
    pub fn parse(raw: &str) -> Option<RemoteProtocol> {
        match raw {
            "ssh" => Some(RemoteProtocol::Ssh),
            "rdp" => Some(RemoteProtocol::Rdp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RemoteProtocol::Ssh => "ssh",
            RemoteProtocol::Rdp => "rdp",
        }
    }

    /// (the instance's port, the caller's local port)
    pub fn ports(self) -> (u16, u16) {
        match self {
            RemoteProtocol::Ssh => (22, 2222),
            RemoteProtocol::Rdp => (3389, 33389),
        }
    }
}

/// A Session Manager session to a workstation, started for one caller. `plugin_command`
/// carries the session's token: shown to that caller once, never stored or logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShellSession {
    pub session_id: String,
    pub instance_id: String,
    pub protocol: RemoteProtocol,
    pub local_port: u16,
    /// Opens this session (the Session Manager plugin, as `aws ssm start-session` runs it).
    pub plugin_command: String,
    /// The same, as the plugin's arguments (what `atrium ssh` runs).
    pub plugin_arguments: Vec<String>,
    /// The same forwarding, for someone with credentials in the team's account.
    pub aws_cli_command: String,
    /// Then, in another terminal: the SSH command, or where the RDP client connects.
    pub client_command: String,
}

/// One change of state, as shown on the workspace page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceEventView {
    pub to_state: WorkspaceState,
    pub message: Option<String>,
    pub at: String,
}

/// The user's workspaces on a team, as its home page lists them: the live ones, and how many
/// have ended (terminated or failed), which are listed a page at a time elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MyWorkspaces {
    pub live: Vec<WorkspaceView>,
    pub ended: i64,
    /// Other members' live workspaces shared with this user ("Shared with me").
    #[serde(default)]
    pub shared: Vec<WorkspaceView>,
}

/// Who may do what with a workspace, and whom it is shared with, as its page shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceSharing {
    /// The owner (or an admin): may stop, start, terminate, share and launch it again.
    pub may_manage: bool,
    /// Its owner, when the viewer sees it because it is shared with them (they may connect).
    pub shared_by: Option<String>,
    /// The members it is shared with by name.
    pub people: Vec<String>,
    /// Shared with everyone on its team.
    pub whole_team: bool,
    /// The team's other members, who may be chosen (for those who manage it).
    pub members: Vec<String>,
    /// A fresh key for "Launch again", offered for an ended workspace to those who manage it.
    pub launch_again_key: Option<String>,
}

/// One page (from 1) of the user's ended workspaces on a team, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndedWorkspaces {
    pub workspaces: Vec<WorkspaceView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// A workspace as its owner (or an admin) sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceView {
    pub id: String,
    pub name: String,
    pub team: super::TeamSlug,
    pub owner: String,
    pub state: WorkspaceState,
    pub configuration_name: String,
    pub type_label: String,
    pub estimated_hourly_cost_cents: u32,
    /// The estimate times the hours (started) it has existed, until terminated or failed.
    pub cost_so_far_cents: u32,
    /// "3 h", "2 d"…
    pub age: String,
    pub created_at: String,
    pub failure_message: Option<String>,
    /// Stack outputs (URL, instance id…), once available.
    pub outputs: std::collections::BTreeMap<String, String>,
    pub events: Vec<WorkspaceEventView>,
    /// The type has Stop/Start self-service actions; otherwise it can only be terminated.
    pub has_stop_start: bool,
    /// When the idle check will stop it unless it is used ("18:40 UTC"), for a running
    /// workspace with an idle policy.
    #[serde(default)]
    pub stops_at: Option<String>,
    /// Its owner chose "Keep running" and that time has not passed.
    #[serde(default)]
    pub kept_running: bool,
    /// Health alarms raised now (a running workstation's CPU, memory or disk).
    #[serde(default)]
    pub health_alarms: Vec<super::health::Alarm>,
    /// The studies it was launched with.
    #[serde(default)]
    pub studies: Vec<super::studies::MountedStudy>,
    /// A newer approved version of its product, while it runs an older one.
    #[serde(default)]
    pub upgrade: Option<UpgradeOffer>,
    /// "2026-12-31": an admin's deadline for leaving its version (once a newer one exists).
    #[serde(default)]
    pub upgrade_by: Option<String>,
    /// The sizes its configuration lets its owner switch to (none: it keeps its size).
    #[serde(default)]
    pub sizes: Vec<super::configurations::SizeOption>,
    /// Its size now: the value of the configuration's size parameter.
    #[serde(default)]
    pub size: Option<String>,
}

/// A newer approved version of a workspace's product, offered to its owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpgradeOffer {
    /// The workspace type (version) to upgrade to.
    pub type_id: i64,
    /// "Linux workstation (EC2) v2".
    pub type_label: String,
}

impl WorkspaceView {
    /// The actions its state allows (stop/start only where the type has them).
    pub fn available_actions(&self) -> Vec<WorkspaceAction> {
        [WorkspaceAction::Stop, WorkspaceAction::Start, WorkspaceAction::Terminate]
            .into_iter()
            .filter(|a| *a == WorkspaceAction::Terminate || self.has_stop_start)
            .filter(|a| self.state.transition(a.event()).is_ok())
            .collect()
    }
}

/// What a launch needs, from the page, the API and the CLI alike; the workspace service
/// resolves it (the profile's configuration, the studies' ids) and checks it. The idempotency
/// key travels beside it (a form field, or the API's `Idempotency-Key` header).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LaunchRequest {
    /// The team's slug.
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 63))]
    pub team: String,
    /// One of the team's catalog configurations; or give `profile` (or both: that profile of
    /// that configuration).
    pub configuration_id: Option<i64>,
    /// One of the team's profiles, by name.
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 200))]
    pub profile: Option<String>,
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 63))]
    pub name: String,
    /// Admins only: launch although the team would go over its monthly budget (audited).
    #[serde(default)]
    pub override_budget: bool,
    /// Studies to mount, each with its access (checked again at launch).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 50))]
    pub studies: Vec<StudyMount>,
}

/// A study to mount: its id or its name, as the team sees it, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StudyMount {
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 200))]
    pub study: String,
    pub access: super::studies::Access,
}

impl StudyMount {
    /// The launch form's `studies[<id>]` boxes (`ro`, `rw`, or empty: not mounted).
    pub fn from_form(boxes: std::collections::BTreeMap<String, String>) -> Result<Vec<StudyMount>, crate::error::AppError> {
        let mut mounts = Vec::new();
        for (study, access) in boxes.into_iter().filter(|(_, access)| !access.is_empty()) {
            match super::studies::Access::parse(&access) {
                Some(access) => mounts.push(StudyMount { study, access }),
                None => {
                    return Err(crate::error::AppError::invalid(
                        "studies",
                        format!("\"{access}\" for study {study} is not read-only or read-write."),
                    ));
                }
            }
        }
        Ok(mounts)
    }
}

#[cfg(test)]
mod tests {
    use super::{WorkspaceEvent as E, WorkspaceState as S};

    #[test]
    fn workspace_names_are_short_lower_case_slugs() {
        assert!(super::WorkspaceName::parse("ada-genome-1").is_ok());
        for bad in ["ab", "1abc", "Ada", "has space", "under_score", &"a".repeat(41)] {
            assert!(super::WorkspaceName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_happy_path_goes_from_requested_to_terminated() {
        let path = [
            (E::ProvisioningStarted, S::Provisioning),
            (E::ProvisioningSucceeded, S::Available),
            (E::StopRequested, S::Stopping),
            (E::Stopped, S::Stopped),
            (E::StartRequested, S::Starting),
            (E::Started, S::Available),
            (E::TerminateRequested, S::Terminating),
            (E::Terminated, S::Terminated),
        ];
        let mut state = S::Requested;
        for (event, expected) in path {
            state = state.transition(event).expect("legal");
            assert_eq!(state, expected);
        }
    }

    #[test]
    fn illegal_transitions_are_rejected() {
        assert!(S::Requested.transition(E::StopRequested).is_err(), "nothing to stop yet");
        assert!(S::Stopped.transition(E::StopRequested).is_err(), "already stopped");
        assert!(S::Available.transition(E::StartRequested).is_err(), "already running");
        assert!(S::Provisioning.transition(E::TerminateRequested).is_err(), "wait for provisioning");
        let error = S::Terminated.transition(E::StartRequested).expect_err("terminated is final");
        assert_eq!(error.to_string(), "a workspace that is terminated cannot be started");
    }

    #[test]
    fn terminated_is_final_and_failed_can_only_be_terminated() {
        for event in [
            E::ProvisioningStarted,
            E::ProvisioningSucceeded,
            E::StopRequested,
            E::Stopped,
            E::StartRequested,
            E::Started,
            E::TerminateRequested,
            E::Terminated,
            E::Failed,
            E::ActionFailed,
        ] {
            assert!(S::Terminated.transition(event).is_err(), "{event:?}");
            let from_failed = S::Failed.transition(event);
            if event == E::TerminateRequested {
                assert_eq!(from_failed, Ok(S::Terminating));
            } else {
                assert!(from_failed.is_err(), "{event:?}");
            }
        }
    }

    #[test]
    fn a_failed_stop_or_start_leaves_the_workspace_as_it_was() {
        assert_eq!(S::Stopping.transition(E::ActionFailed), Ok(S::Available));
        assert_eq!(S::Starting.transition(E::ActionFailed), Ok(S::Stopped));
        assert!(S::Stopping.transition(E::Failed).is_err(), "its resources still exist: not failed");
        assert!(S::Provisioning.transition(E::ActionFailed).is_err());
    }

    #[test]
    fn what_aws_says_is_applied_only_where_it_is_safe() {
        assert_eq!(S::Available.transition(E::ObservedStopped), Ok(S::Stopped));
        assert_eq!(S::Stopped.transition(E::ObservedRunning), Ok(S::Available));
        assert!(S::Stopping.transition(E::ObservedStopped).is_err(), "a job owns it");
        assert!(S::Provisioning.transition(E::ObservedRunning).is_err());
        for from in S::ALL.into_iter().filter(|s| *s != S::Terminated) {
            assert_eq!(from.transition(E::ForceTerminated), Ok(S::Terminated), "{from:?}");
        }
        assert!(S::Terminated.transition(E::ForceTerminated).is_err());
    }

    #[test]
    fn a_running_workspace_is_updated_and_runs_again_whatever_aws_answers() {
        assert_eq!(S::Available.transition(E::UpdateRequested), Ok(S::Updating));
        assert_eq!(S::Updating.transition(E::Updated), Ok(S::Available));
        assert_eq!(S::Updating.transition(E::UpdateFailed), Ok(S::Available), "a failed update leaves it as it was");
        for from in [S::Stopped, S::Provisioning, S::Stopping, S::Failed, S::Terminated] {
            assert!(from.transition(E::UpdateRequested).is_err(), "{from:?}");
        }
        assert!(S::Updating.transition(E::StopRequested).is_err(), "a job owns it");
        assert!(S::Updating.transition(E::TerminateRequested).is_err());
    }

    #[test]
    fn transitional_states_are_exactly_those_a_job_works_on() {
        let transitional: Vec<S> = S::ALL.into_iter().filter(|s| s.is_transitional()).collect();
        assert_eq!(transitional, vec![S::Requested, S::Provisioning, S::Stopping, S::Starting, S::Updating, S::Terminating]);
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in S::ALL {
            assert_eq!(S::parse(state.as_str()), Some(state));
        }
        assert_eq!(S::parse("exploded"), None);
    }
}

/// The filter of `/admin/workspaces` (empty fields: any).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminWorkspaceFilter {
    pub team: Option<String>,
    pub owner: Option<String>,
    pub type_label: Option<String>,
    pub state: Option<String>,
    /// Only those with drift.
    pub drift_only: bool,
}

impl AdminWorkspaceFilter {
    /// Each filter trimmed; an empty one filters nothing (the page's empty fields, the API's
    /// empty query values).
    pub fn normalised(self) -> AdminWorkspaceFilter {
        let given = |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        AdminWorkspaceFilter {
            team: given(self.team),
            owner: given(self.owner),
            type_label: given(self.type_label),
            state: given(self.state),
            drift_only: self.drift_only,
        }
    }
}

/// One workspace as `/admin/workspaces` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminWorkspaceRow {
    pub id: String,
    pub name: String,
    pub team: String,
    pub owner: String,
    pub type_label: String,
    pub state: WorkspaceState,
    pub drift: Option<String>,
    pub reconciled_at: Option<String>,
    pub created_at: String,
}

/// One page of every workspace (terminated ones archived after `ARCHIVE_AFTER_DAYS`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminWorkspacePage {
    pub rows: Vec<AdminWorkspaceRow>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// The type labels there are, for the filter.
    pub type_labels: Vec<String>,
}

/// Terminated workspaces leave the admin list after this many days (never the audit log or costs).
pub const ARCHIVE_AFTER_DAYS: i64 = 30;
