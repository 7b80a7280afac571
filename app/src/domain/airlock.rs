//! The airlock: requests that bring files into a study (imports) or take them out of a
//! controlled one (exports). Each file is scanned for malware (GuardDuty's tag), then one or
//! two reviewers decide; only then are the files copied into the study, or released.

use super::CurrentUser;
use serde::{Deserialize, Serialize};

/// The object tag Amazon GuardDuty Malware Protection for S3 writes on each object it scans.
pub const SCAN_TAG: &str = "GuardDutyMalwareScanStatus";

/// Files one request may carry.
pub const MAX_FILES: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Import,
    Export,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Import => "import",
            Direction::Export => "export",
        }
    }

    pub fn parse(raw: &str) -> Option<Direction> {
        [Direction::Import, Direction::Export].into_iter().find(|d| d.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            Direction::Import => "Import",
            Direction::Export => "Export",
        }
    }
}

/// Where a request is. draft → scanning → in review → approved → completed; or rejected,
/// blocked (a threat, or a file that could not be scanned), cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// An import whose files are going up into its inbox.
    Draft,
    /// Waiting for every file's scan result.
    Scanning,
    InReview,
    /// Approved, its files not yet (or not all) copied: the copy can be retried.
    Approved,
    Completed,
    Rejected,
    Blocked,
    Cancelled,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 8] = [
        RequestStatus::Draft,
        RequestStatus::Scanning,
        RequestStatus::InReview,
        RequestStatus::Approved,
        RequestStatus::Completed,
        RequestStatus::Rejected,
        RequestStatus::Blocked,
        RequestStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Draft => "draft",
            RequestStatus::Scanning => "scanning",
            RequestStatus::InReview => "in_review",
            RequestStatus::Approved => "approved",
            RequestStatus::Completed => "completed",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Blocked => "blocked",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<RequestStatus> {
        RequestStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Draft => "draft",
            RequestStatus::Scanning => "scanning",
            RequestStatus::InReview => "in review",
            RequestStatus::Approved => "approved",
            RequestStatus::Completed => "completed",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Blocked => "blocked",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the request can still change on its way (not finished one way or another).
    pub fn is_open(self) -> bool {
        matches!(self, RequestStatus::Draft | RequestStatus::Scanning | RequestStatus::InReview | RequestStatus::Approved)
    }
}

/// What GuardDuty said of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScanResult {
    NoThreatsFound,
    ThreatsFound,
    /// A file GuardDuty does not scan (too large, an archive too deep, encrypted…).
    Unsupported,
    Failed,
}

impl ScanResult {
    pub const ALL: [ScanResult; 4] = [ScanResult::NoThreatsFound, ScanResult::ThreatsFound, ScanResult::Unsupported, ScanResult::Failed];

    /// As the tag's value says it.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanResult::NoThreatsFound => "NO_THREATS_FOUND",
            ScanResult::ThreatsFound => "THREATS_FOUND",
            ScanResult::Unsupported => "UNSUPPORTED",
            ScanResult::Failed => "FAILED",
        }
    }

    pub fn parse(raw: &str) -> Option<ScanResult> {
        ScanResult::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            ScanResult::NoThreatsFound => "no threats found",
            ScanResult::ThreatsFound => "threats found",
            ScanResult::Unsupported => "could not be scanned (unsupported)",
            ScanResult::Failed => "the scan failed",
        }
    }
}

/// What a request's scan results, taken together, mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanVerdict {
    /// Some files have no result yet.
    Waiting,
    /// Every file is clean: on to review.
    Clean,
    /// These files carry a threat: quarantine them and block the request.
    Threat(Vec<String>),
    /// These files could not be scanned: block the request (nothing unscanned passes).
    Unscannable(Vec<String>),
}

/// A threat anywhere blocks at once, even while other files wait for theirs.
pub fn scan_verdict(files: &[(String, Option<ScanResult>)]) -> ScanVerdict {
    let with = |wanted: &[ScanResult]| -> Vec<String> {
        files.iter().filter(|(_, scan)| scan.is_some_and(|s| wanted.contains(&s))).map(|(path, _)| path.clone()).collect()
    };
    let threats = with(&[ScanResult::ThreatsFound]);
    if !threats.is_empty() {
        return ScanVerdict::Threat(threats);
    }
    if files.iter().any(|(_, scan)| scan.is_none()) {
        return ScanVerdict::Waiting;
    }
    let unscannable = with(&[ScanResult::Unsupported, ScanResult::Failed]);
    if unscannable.is_empty() { ScanVerdict::Clean } else { ScanVerdict::Unscannable(unscannable) }
}

/// One reviewer's decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Review {
    pub reviewer: String,
    pub approve: bool,
    pub note: String,
    pub at: String,
}

/// Why `reviewer` may not decide now, in words; `None` if they may. `reviewed` are the
/// decisions so far.
pub fn review_refusal(status: RequestStatus, requester: &str, reviewer: &str, reviewed: &[Review]) -> Option<String> {
    if reviewer == requester {
        return Some("You asked for this request: someone else reviews it.".into());
    }
    if reviewed.iter().any(|r| r.reviewer == reviewer) {
        return Some("You reviewed this request already: a second approval must come from someone else.".into());
    }
    match status {
        RequestStatus::InReview => None,
        RequestStatus::Draft => Some("This request is not submitted yet.".into()),
        RequestStatus::Scanning => Some("This request's files are still being scanned.".into()),
        other => Some(format!("This request is {} already.", other.label())),
    }
}

/// One file of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AirlockFile {
    /// Relative to the request's inbox (imports) or the study's egress folder (exports).
    pub path: String,
    /// Bytes (unknown for exports asked before the airlock).
    pub size: Option<i64>,
    /// GuardDuty's result; absent until it arrives (and for requests never scanned).
    pub scan: Option<ScanResult>,
}

/// One event of a request's history (its audit rows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AirlockEvent {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: Option<String>,
}

/// A request as its page shows it, with what the caller may do with it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AirlockRequestView {
    pub id: i64,
    pub direction: Direction,
    pub team: String,
    pub study_id: i64,
    pub study_name: String,
    pub requester: String,
    pub reason: String,
    pub status: RequestStatus,
    /// Why it is where it is (the threat found, the copy that failed), when that needs saying.
    pub status_note: Option<String>,
    pub created_at: String,
    pub reviewers_needed: i16,
    pub files: Vec<AirlockFile>,
    pub reviews: Vec<Review>,
    pub history: Vec<AirlockEvent>,
    /// Scanning for longer than the portal waits: an admin may fail it.
    pub scan_overdue: bool,
    /// The largest file an upload may be.
    pub max_file_bytes: u64,
    /// The requester, while it is a draft: upload files, submit, or cancel.
    pub may_upload: bool,
    pub may_cancel: bool,
    /// A reviewer who has not decided, while it is in review.
    pub may_review: bool,
    /// A reviewer (or the requester of a completed export): a link per file, minted on click.
    pub may_open_files: bool,
    /// Approved but not all copied: a reviewer or the requester may try the copy again.
    pub may_retry: bool,
    /// An admin, once scanning is overdue.
    pub may_fail_scan: bool,
}

/// A request as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AirlockSummary {
    pub id: i64,
    pub direction: Direction,
    pub study_id: i64,
    pub study_name: String,
    pub requester: String,
    pub files: Vec<String>,
    pub status: RequestStatus,
    pub created_at: String,
    /// In review, and the caller is a reviewer who has not decided.
    pub awaits_you: bool,
}

/// The team's requests the caller sees: their own, and (for reviewers) everyone's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AirlockList {
    pub requests: Vec<AirlockSummary>,
    pub reviewer: bool,
}

/// Whether `user` reviews requests on a study: the team's admins for a team's study (and the
/// portal's admins, who see every team), the portal's admins for an organisation study.
pub fn is_reviewer(user: &CurrentUser, study_team: Option<&super::TeamSlug>) -> bool {
    user.is_admin() || study_team.is_some_and(|team| user.may_manage_members(team))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(results: &[Option<ScanResult>]) -> Vec<(String, Option<ScanResult>)> {
        results.iter().enumerate().map(|(i, r)| (format!("f{i}"), *r)).collect()
    }

    #[test]
    fn a_threat_blocks_at_once_and_nothing_unscanned_passes() {
        use ScanResult::*;
        assert_eq!(scan_verdict(&files(&[Some(NoThreatsFound), None])), ScanVerdict::Waiting);
        assert_eq!(scan_verdict(&files(&[None, Some(ThreatsFound)])), ScanVerdict::Threat(vec!["f1".into()]));
        assert_eq!(scan_verdict(&files(&[Some(NoThreatsFound), Some(NoThreatsFound)])), ScanVerdict::Clean);
        assert_eq!(scan_verdict(&files(&[Some(Unsupported), Some(NoThreatsFound)])), ScanVerdict::Unscannable(vec!["f0".into()]));
        assert_eq!(scan_verdict(&files(&[Some(Failed)])), ScanVerdict::Unscannable(vec!["f0".into()]));
    }

    #[test]
    fn two_approvals_are_two_people_and_never_the_requester() {
        let approved = |by: &str| Review { reviewer: by.into(), approve: true, note: String::new(), at: String::new() };
        assert!(review_refusal(RequestStatus::InReview, "ada", "ada", &[]).is_some_and(|m| m.contains("someone else")));
        assert!(review_refusal(RequestStatus::InReview, "ada", "rosalind", &[approved("rosalind")]).is_some_and(|m| m.contains("already")));
        assert_eq!(review_refusal(RequestStatus::InReview, "ada", "grace", &[approved("rosalind")]), None);
        assert!(review_refusal(RequestStatus::Scanning, "ada", "grace", &[]).is_some_and(|m| m.contains("scanned")));
        assert!(review_refusal(RequestStatus::Completed, "ada", "grace", &[]).is_some_and(|m| m.contains("completed")));
    }

    #[test]
    fn statuses_and_scan_results_read_back_what_they_write() {
        for status in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(status.as_str()), Some(status));
        }
        for result in ScanResult::ALL {
            assert_eq!(ScanResult::parse(result.as_str()), Some(result));
        }
        assert_eq!(ScanResult::parse("no_threats_found"), None);
    }
}
