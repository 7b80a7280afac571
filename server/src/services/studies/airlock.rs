//! The airlock (`app::features::airlock`). An import's files go up into its inbox
//! (`inbox/<folder>/`, beside the studies, never in one), which its requester writes until
//! they submit it. Then, and when an export is asked for, the files are copied into the
//! request's held folder (`airlock/<folder>/`), which only the portal writes: what is scanned,
//! reviewed, copied into the study and downloaded is that copy, not a file its requester (or a
//! workspace) could change afterwards. The worker reads GuardDuty's tag on each held file
//! (`scan_step`): a threat moves it to `quarantine/<folder>/` and blocks the request.
//! Reviewers decide; the last approval needed queues the copy into the study (`transfer`) or
//! releases an export. Every step is an audit row, a notice to the team's channels and mail
//! to those concerned.

use super::*;
use crate::jobs::{self, Job};
use crate::mail::{self, MailKind};
use crate::notifications;
use crate::repo::airlock::{self as requests, NewRequest, RequestRow};
use app::domain::airlock::{
    AirlockFile, AirlockList, AirlockRequestView, Direction, MAX_FILES, RequestStatus, SCAN_TAG, ScanResult, ScanVerdict, is_reviewer,
    review_refusal, scan_verdict,
};
use app::domain::notifications::{Notice, NotificationEvent};
use app::features::airlock::AirlockService;

const NOT_FOUND: &str = "This request";
/// Who the worker's steps are audited as.
const PORTAL: &str = "atrium";
/// The longest status note the table keeps.
const NOTE_CHARS: usize = 2000;

/// An import's files, as its requester uploads them.
fn inbox(request: &RequestRow) -> String {
    format!("inbox/{}/", request.folder)
}

/// The request's own copy of its files, which only the portal writes.
fn held(request: &RequestRow) -> String {
    format!("airlock/{}/", request.folder)
}

/// Files with a threat, out of everyone's way.
fn quarantine(request: &RequestRow) -> String {
    format!("quarantine/{}/", request.folder)
}

/// A status note that fits its column (a list of many long paths would not).
fn note(text: String) -> String {
    if text.chars().count() <= NOTE_CHARS { text } else { format!("{}…", text.chars().take(NOTE_CHARS - 1).collect::<String>()) }
}

/// The study's bucket, through its team's role (the portal's own for an organisation study),
/// acting as `actor`.
fn place_as(study: &StudyRow, team: Option<&teams::Team>, actor: &str) -> Place {
    Place { bucket: study.bucket.clone(), role: team.map(|team| (team.role(), role_session_name(actor))) }
}

fn checked_reason(reason: &str) -> Result<&str, AppError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::invalid("reason", "Say why, for those who review it (1 to 2,000 characters)."));
    }
    Ok(reason)
}

fn checked_note(note: &str) -> Result<&str, AppError> {
    let note = note.trim();
    if note.chars().count() > 2000 {
        return Err(AppError::invalid("note", "A note may be at most 2,000 characters."));
    }
    Ok(note)
}

/// A request as the caller reaches it: its requester (while they may still see its study), or
/// one of its reviewers.
struct Opened {
    request: RequestRow,
    study: StudyRow,
    /// The team whose account holds the study's bucket; none for an organisation study.
    study_team: Option<teams::Team>,
    reviewer: bool,
    /// The requester's access to the study now (`None` for a reviewer who is not the requester).
    access: Option<Access>,
}

impl Opened {
    fn place(&self, actor: &str) -> Place {
        place_as(&self.study, self.study_team.as_ref(), actor)
    }

    fn refuse_unless(&self, status: &[RequestStatus], doing: &str) -> Result<(), AppError> {
        if status.contains(&self.request.status) {
            Ok(())
        } else {
            Err(AppError::Conflict(format!("This request is {}: it cannot be {doing} now.", self.request.status.label())))
        }
    }
}

/// The study's team, for its role; none for an organisation study. A team that is gone is an
/// error, never a reason to act with the portal's own credentials.
async fn study_team(db: &PgPool, study: &StudyRow) -> anyhow::Result<Option<teams::Team>> {
    let Some(slug) = study.team_slug.as_deref() else { return Ok(None) };
    let slug = TeamSlug::parse(slug).map_err(|_| anyhow::anyhow!("the study's team {slug} is not a team"))?;
    Ok(Some(teams::find(db, &slug).await?.ok_or_else(|| anyhow::anyhow!("the study's team {slug} is gone"))?))
}

/// One audit row about a request by the portal itself (the worker's steps).
async fn record_by_portal(db: impl sqlx::PgExecutor<'_>, action: &str, request: &RequestRow, detail: &str) -> Result<(), sqlx::Error> {
    let id = request.id.to_string();
    let mut entry = audit::Entry::anonymous(PORTAL, action, None).object("airlock_request", &id).detail(detail);
    if let Some(team) = request.team_slug.as_deref() {
        entry = entry.team(team);
    }
    audit::record(db, &entry).await
}

/// Tells the team's channels, and by mail the requester and/or the reviewers.
async fn announce(
    tx: &mut sqlx::PgConnection,
    request: &RequestRow,
    study: &StudyRow,
    (title, text): (&str, &str),
    to_requester: bool,
    to_reviewers: bool,
) -> Result<(), sqlx::Error> {
    let text = format!("{text} /teams/{}/requests/{}", request.team_slug.as_deref().unwrap_or_default(), request.id);
    let notice = Notice { event: NotificationEvent::Airlock, team: request.team_slug.clone(), title: title.to_owned(), text: text.clone() };
    notifications::publish(&mut *tx, &notice).await?;
    if to_requester {
        mail::to_user(&mut *tx, &request.requester, MailKind::Airlock, title, &text).await?;
    }
    if to_reviewers {
        mail::to_reviewers(&mut *tx, study.team_slug.as_deref(), &request.requester, title, &text).await?;
    }
    Ok(())
}

fn title(request: &RequestRow, study: &StudyRow, what: &str) -> String {
    let preposition = if request.direction == Direction::Import { "into" } else { "from" };
    format!("{} #{} {preposition} \"{}\" {what}", request.direction.label(), request.id, study.name)
}

/// Where one look at a request's scan results left it.
#[derive(Debug, PartialEq, Eq)]
pub enum ScanProgress {
    /// Some files have no result yet: look again later.
    Waiting,
    /// It moved on (to review, or blocked), or was not scanning.
    Settled,
}

/// Reads GuardDuty's tag on each held file still without a result, and moves the request on
/// once they say enough: to review when all are clean; blocked, with the files quarantined, at
/// the first threat; blocked when a file could not be scanned (or is gone). The worker's step,
/// as `atrium`; safe to repeat.
#[tracing::instrument(skip(db, store))]
pub async fn scan_step(db: &PgPool, store: &dyn ObjectStore, id: i64) -> anyhow::Result<ScanProgress> {
    let Some(request) = requests::find(db, id).await? else { return Ok(ScanProgress::Settled) };
    if request.status != RequestStatus::Scanning {
        return Ok(ScanProgress::Settled);
    }
    let study = repo::find(db, request.study_id).await?.ok_or_else(|| anyhow::anyhow!("the request's study is gone"))?;
    let team = study_team(db, &study).await?;
    let place = place_as(&study, team.as_ref(), PORTAL);
    let prefix = held(&request);
    let mut results = Vec::new();
    for file in requests::files(db, id).await? {
        let scan = match file.scan {
            Some(scan) => Some(scan),
            None => {
                let key = format!("{prefix}{}", file.path);
                let scan = match store.tag(&place, &key, SCAN_TAG).await? {
                    // A value this version does not know passes nothing: as a failed scan.
                    Some(value) => Some(ScanResult::parse(&value).unwrap_or(ScanResult::Failed)),
                    // A held file that is gone cannot be scanned, nor passed.
                    None if store.size_of(&place, &key).await?.is_none() => Some(ScanResult::Failed),
                    None => None,
                };
                if let Some(scan) = scan {
                    requests::set_scan(db, id, &file.path, scan).await?;
                }
                scan
            }
        };
        results.push((file.path, scan));
    }
    let (action, to, outcome) = match scan_verdict(&results) {
        ScanVerdict::Waiting => return Ok(ScanProgress::Waiting),
        ScanVerdict::Clean => {
            ("airlock.scan.clean", RequestStatus::InReview, format!("{} files: no threats found; awaits review", results.len()))
        }
        ScanVerdict::Threat(paths) => {
            for path in &paths {
                let from = format!("{prefix}{path}");
                // Moved already by an earlier run that stopped short.
                if store.size_of(&place, &from).await?.is_some() {
                    store.copy(&place, &from, &format!("{}{path}", quarantine(&request))).await?;
                    store.delete(&place, &from).await?;
                }
            }
            (
                "airlock.scan.threat",
                RequestStatus::Blocked,
                format!("Threats found in {}: quarantined, and the request blocked.", paths.join(", ")),
            )
        }
        ScanVerdict::Unscannable(paths) => (
            "airlock.scan.unscannable",
            RequestStatus::Blocked,
            format!("{} could not be scanned, so the request is blocked.", paths.join(", ")),
        ),
    };
    let outcome = note(outcome);
    let blocked = to == RequestStatus::Blocked;
    let mut tx = db.begin().await?;
    if requests::move_to(&mut *tx, id, &[RequestStatus::Scanning], to, blocked.then_some(outcome.as_str())).await? {
        record_by_portal(&mut *tx, action, &request, &outcome).await?;
        let what = if blocked { "is blocked" } else { "awaits review" };
        announce(&mut tx, &request, &study, (&title(&request, &study, what), &outcome), blocked, true).await?;
    }
    tx.commit().await?;
    Ok(ScanProgress::Settled)
}

/// Copies an approved import's held files into its study, as `atrium`, and completes it; an
/// export needs no copy (its requester downloads the held files). The request's row stays
/// locked meanwhile, so a second copy ("Copy again" while one runs) waits and then finds it
/// done. A copy that fails leaves it approved, saying why, to be tried again. The worker's step.
#[tracing::instrument(skip(db, store))]
pub async fn transfer(db: &PgPool, store: &dyn ObjectStore, id: i64) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    if requests::lock(&mut *tx, id).await? != Some(RequestStatus::Approved) {
        return Ok(());
    }
    let request = requests::find(&mut *tx, id).await?.ok_or_else(|| anyhow::anyhow!("the request is gone"))?;
    let study = repo::find(&mut *tx, request.study_id).await?.ok_or_else(|| anyhow::anyhow!("the request's study is gone"))?;
    let files = requests::files(&mut *tx, id).await?;
    let place = place_as(&study, study_team(db, &study).await?.as_ref(), PORTAL);
    let mut failed = None;
    if request.direction == Direction::Import {
        // An import adds files: one the study gained since the request was submitted stays. (A
        // copy tried again may find its own files from the try that stopped short: no check.)
        if request.status_note.is_none() {
            for file in &files {
                if store.size_of(&place, &format!("{}{}", study.prefix, file.path)).await?.is_some() {
                    failed = Some(note(format!(
                        "{} is in the study now (added since the request was submitted): \"Copy again\" replaces it with the reviewed file.",
                        file.path
                    )));
                    break;
                }
            }
        }
        let copies = if failed.is_none() { files.as_slice() } else { &[] };
        for file in copies {
            let to = format!("{}{}", study.prefix, file.path);
            if let Err(error) = store.copy(&place, &format!("{}{}", held(&request), file.path), &to).await {
                failed = Some(note(format!("Copying {} into the study failed ({error}); nothing was lost: try again.", file.path)));
                break;
            }
        }
    }
    match failed {
        None => {
            let done = match request.direction {
                Direction::Import => format!("{} files copied into \"{}\"", files.len(), study.name),
                Direction::Export => format!("{} files released to {} for download", files.len(), request.requester),
            };
            requests::move_to(&mut *tx, id, &[RequestStatus::Approved], RequestStatus::Completed, None).await?;
            record_by_portal(&mut *tx, "airlock.complete", &request, &done).await?;
            announce(&mut tx, &request, &study, (&title(&request, &study, "is completed"), &done), true, true).await?;
            tx.commit().await?;
            if request.direction == Direction::Import {
                // The held copies are in the study now; one left behind costs only storage.
                for file in &files {
                    if let Err(error) = store.delete(&place, &format!("{}{}", held(&request), file.path)).await {
                        tracing::warn!(%error, request = id, "Could not remove an import's held copy");
                    }
                }
            }
        }
        Some(why) => {
            requests::move_to(&mut *tx, id, &[RequestStatus::Approved], RequestStatus::Approved, Some(&why)).await?;
            record_by_portal(&mut *tx, "airlock.copy_failed", &request, &why).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

impl Studies {
    #[tracing::instrument(skip_all)]
    async fn open_request(&self, user: &CurrentUser, slug: &TeamSlug, id: i64) -> Result<Opened, AppError> {
        crate::services::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        let not_found = || AppError::NotFound(NOT_FOUND.into());
        let request = requests::find(&self.db, id)
            .await
            .map_err(database_error)?
            .filter(|r| r.team_slug.as_deref() == Some(slug.as_str()))
            .ok_or_else(not_found)?;
        let study = repo::find(&self.db, request.study_id).await.map_err(database_error)?.ok_or_else(not_found)?;
        let study_slug = study.team_slug.as_deref().and_then(|t| TeamSlug::parse(t).ok());
        let requester = request.requester == user.username.as_str();
        let reviewer = !requester && is_reviewer(user, study_slug.as_ref());
        // The requester sees it while they may still see its study from this team.
        let access = if requester { access(user, slug, &study.facts()) } else { None };
        if !reviewer && access.is_none() {
            return Err(not_found());
        }
        let study_team = study_team(&self.db, &study).await.map_err(|error| {
            tracing::error!(error = ?error, "An airlock request's study has no usable team");
            AppError::Internal
        })?;
        Ok(Opened { request, study, study_team, reviewer, access })
    }

    /// A draft's inbox, for its requester while they may still write the study.
    async fn open_draft(&self, user: &CurrentUser, slug: &TeamSlug, id: i64) -> Result<(Opened, Shelf), AppError> {
        let opened = self.open_request(user, slug, id).await?;
        if opened.access != Some(Access::Rw) || opened.request.direction != Direction::Import {
            return Err(AppError::Forbidden);
        }
        opened.refuse_unless(&[RequestStatus::Draft], "given files")?;
        let shelf = Shelf { place: opened.place(user.username.as_str()), prefix: inbox(&opened.request), kind: "an import" };
        Ok((opened, shelf))
    }

    /// The team's requests (`study`: on that study only) the caller sees, each as its own page
    /// would answer: their own, and those whose study they review.
    pub(super) async fn visible_requests(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        study: Option<i64>,
    ) -> Result<Vec<app::domain::airlock::AirlockSummary>, AppError> {
        let me = user.username.as_str();
        let listed = requests::summaries(&self.db, Some(slug.as_str()), study, me).await.map_err(database_error)?;
        // Whether the caller still sees each study their own requests are on.
        let mut sees_study: std::collections::HashMap<i64, bool> = std::collections::HashMap::new();
        let mut visible = Vec::with_capacity(listed.len());
        for row in listed {
            let study_team = row.study_team.as_deref().and_then(|t| TeamSlug::parse(t).ok());
            let reviewer = row.summary.requester != me && is_reviewer(user, study_team.as_ref());
            let mine = row.summary.requester == me && {
                let study_id = row.summary.study_id;
                match sees_study.get(&study_id) {
                    Some(sees) => *sees,
                    None => {
                        let found = repo::find(&self.db, study_id).await.map_err(database_error)?;
                        let sees = found.is_some_and(|study| access(user, slug, &study.facts()).is_some());
                        sees_study.insert(study_id, sees);
                        sees
                    }
                }
            };
            if mine || reviewer {
                let mut summary = row.summary;
                summary.awaits_you = reviewer && summary.status == RequestStatus::InReview && !row.reviewed_by_me;
                visible.push(summary);
            }
        }
        Ok(visible)
    }

    /// Whether the request has waited for its scan results longer than the portal waits.
    fn scan_overdue(&self, request: &RequestRow) -> bool {
        request.status == RequestStatus::Scanning && request.status_age_seconds as u64 > self.settings.scan_wait.as_secs()
    }

    /// What is in an import's inbox (every file, as the request's files are named).
    async fn inbox_files(&self, place: &Place, request: &RequestRow) -> Result<Vec<AirlockFile>, AppError> {
        let prefix = inbox(request);
        let listed = self.store.folder(place, &prefix, None, MAX_FILES as i32 + 1, false).await.map_err(store_error)?;
        Ok(listed
            .objects
            .into_iter()
            .filter_map(|(key, size, _)| {
                let path = key.strip_prefix(&prefix).filter(|p| !p.is_empty())?;
                Some(AirlockFile { path: path.to_owned(), size: Some(size), scan: None })
            })
            .collect())
    }

    /// Holds the request's files (`from`: where they are now): copies them into its held
    /// folder, records them, and sends it on to scanning (or to review when scanning is off).
    /// In the caller's transaction, with the request's row locked by the move.
    async fn hold(
        &self,
        tx: &mut sqlx::PgConnection,
        opened: (&RequestRow, &StudyRow, &Place),
        from: &str,
        files: &[(String, i64)],
    ) -> Result<RequestStatus, AppError> {
        let (request, study, place) = opened;
        let to = if self.settings.malware_scan { RequestStatus::Scanning } else { RequestStatus::InReview };
        if !requests::move_to(&mut *tx, request.id, &[RequestStatus::Draft], to, None).await.map_err(database_error)? {
            return Err(AppError::Conflict("This request was submitted already.".into()));
        }
        for (path, _) in files {
            self.store.copy(place, &format!("{from}{path}"), &format!("{}{path}", held(request))).await.map_err(store_error)?;
        }
        requests::insert_files(&mut *tx, request.id, files).await.map_err(database_error)?;
        if self.settings.malware_scan {
            jobs::enqueue(&mut *tx, &Job::AirlockScan { request_id: request.id, polls: 0 }, Duration::ZERO)
                .await
                .map_err(database_error)?;
        } else {
            let text = format!("{} files, not scanned (the portal does not scan for malware).", files.len());
            announce(tx, request, study, (&title(request, study, "awaits review"), &text), false, true).await.map_err(database_error)?;
        }
        Ok(to)
    }
}

#[async_trait::async_trait]
impl AirlockService for Studies {
    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn requests(&self, user: &CurrentUser, slug: &TeamSlug) -> Result<AirlockList, AppError> {
        crate::services::enter_cached_team(&self.db, &self.team_rows, user, slug).await?;
        let requests = self.visible_requests(user, slug, None).await?;
        Ok(AirlockList { requests, reviewer: is_reviewer(user, Some(slug)) })
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn request(&self, user: &CurrentUser, slug: &TeamSlug, id: i64) -> Result<AirlockRequestView, AppError> {
        let opened = self.open_request(user, slug, id).await?;
        let (mut files, reviews, history) =
            tokio::try_join!(requests::files(&self.db, id), requests::reviews(&self.db, id), requests::history(&self.db, id),)
                .map_err(database_error)?;
        let Opened { request, study, reviewer, .. } = &opened;
        let me = user.username.as_str();
        let status = request.status;
        let requester = opened.access.is_some();
        if status == RequestStatus::Draft {
            // A draft's files are what is in its inbox so far.
            files = self.inbox_files(&opened.place(me), request).await?;
        }
        let scan_overdue = self.scan_overdue(request);
        Ok(AirlockRequestView {
            id,
            direction: request.direction,
            team: slug.to_string(),
            study_id: study.id,
            study_name: study.name.clone(),
            reason: request.reason.clone(),
            status,
            status_note: request.status_note.clone(),
            created_at: request.created_at.clone(),
            reviewers_needed: request.reviewers_needed,
            may_upload: opened.access == Some(Access::Rw) && status == RequestStatus::Draft,
            may_cancel: requester && matches!(status, RequestStatus::Draft | RequestStatus::Scanning | RequestStatus::InReview),
            may_review: *reviewer && review_refusal(status, &request.requester, me, &reviews).is_none(),
            may_open_files: (*reviewer && matches!(status, RequestStatus::InReview | RequestStatus::Approved))
                || (requester && request.direction == Direction::Export && status == RequestStatus::Completed),
            may_retry: (*reviewer || requester) && status == RequestStatus::Approved,
            may_fail_scan: user.is_admin() && scan_overdue,
            scan_overdue,
            max_file_bytes: self.settings.max_file_bytes,
            requester: request.requester.clone(),
            files,
            reviews,
            history,
        })
    }

    #[tracing::instrument(skip(self, user, reason), fields(username = %user.username))]
    async fn start_import(&self, user: &CurrentUser, slug: &TeamSlug, study_id: i64, reason: &str) -> Result<i64, AppError> {
        let Seen { study, .. } = self.writable(user, slug, study_id).await?;
        let reason = checked_reason(reason)?;
        let new = NewRequest {
            direction: Direction::Import,
            study_id: study.id,
            team: slug.as_str(),
            requester: user.username.as_str(),
            reason,
            status: RequestStatus::Draft,
        };
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let (id, _) = requests::insert(&mut *tx, &new).await.map_err(database_error)?;
        record(&mut *tx, user, "airlock.import.start", ("airlock_request", id), slug, &format!("into \"{}\": {reason}", study.name))
            .await?;
        tx.commit().await.map_err(database_error)?;
        Ok(id)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn import_upload(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        id: i64,
        path: &str,
        size: u64,
        content_type: &str,
    ) -> Result<UploadTicket, AppError> {
        let (opened, shelf) = self.open_draft(user, slug, id).await?;
        let (path, _) = shelf.file(path)?;
        let inbox = self.inbox_files(&shelf.place, &opened.request).await?;
        if inbox.len() >= MAX_FILES && !inbox.iter().any(|f| f.path == path) {
            return Err(AppError::invalid(
                "path",
                format!("A request carries at most {MAX_FILES} files: submit these, then start another."),
            ));
        }
        let (_, _, ticket, detail) = self.shelf_ticket(&shelf, &path, size, content_type).await?;
        record(&self.db, user, "airlock.upload_url", ("airlock_request", id), slug, &detail).await?;
        Ok(ticket)
    }

    #[tracing::instrument(skip(self, user, etags), fields(username = %user.username))]
    async fn complete_import_upload(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        id: i64,
        path: &str,
        upload_id: &str,
        etags: Vec<String>,
    ) -> Result<(), AppError> {
        let (_, shelf) = self.open_draft(user, slug, id).await?;
        let (path, size) = self.shelf_complete(&shelf, path, upload_id, &etags).await?;
        record(&self.db, user, "airlock.upload", ("airlock_request", id), slug, &format!("{path} ({size} bytes)")).await
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn submit(&self, user: &CurrentUser, slug: &TeamSlug, id: i64) -> Result<(), AppError> {
        let (opened, shelf) = self.open_draft(user, slug, id).await?;
        let files: Vec<(String, i64)> =
            self.inbox_files(&shelf.place, &opened.request).await?.into_iter().map(|f| (f.path, f.size.unwrap_or(0))).collect();
        if files.is_empty() {
            return Err(AppError::invalid("files", "Upload at least one file before submitting the request."));
        }
        if files.len() > MAX_FILES {
            return Err(AppError::invalid("files", format!("A request carries at most {MAX_FILES} files.")));
        }
        // An import adds files; it never replaces one the study has.
        for (path, _) in &files {
            if self.store.size_of(&shelf.place, &format!("{}{path}", opened.study.prefix)).await.map_err(store_error)?.is_some() {
                return Err(AppError::invalid(
                    "files",
                    format!("{path} is in the study already: rename it, or delete the study's copy first."),
                ));
            }
        }
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let to = self.hold(&mut tx, (&opened.request, &opened.study, &shelf.place), &shelf.prefix, &files).await?;
        let names = files.iter().map(|(path, _)| path.as_str()).collect::<Vec<_>>().join(", ");
        let detail = format!("{names} into \"{}\"; {}", opened.study.name, to.label());
        record(&mut *tx, user, "airlock.submit", ("airlock_request", id), slug, &detail).await?;
        tx.commit().await.map_err(database_error)?;
        // The inbox's files are held now; one left behind costs only storage.
        for (path, _) in &files {
            if let Err(error) = self.store.delete(&shelf.place, &format!("{}{path}", shelf.prefix)).await {
                tracing::warn!(%error, request = id, "Could not empty a submitted import's inbox");
            }
        }
        Ok(())
    }

    #[tracing::instrument(skip(self, user, files, reason), fields(username = %user.username))]
    async fn request_export(
        &self,
        user: &CurrentUser,
        slug: &TeamSlug,
        study_id: i64,
        mut files: Vec<String>,
        reason: &str,
    ) -> Result<i64, AppError> {
        let Seen { team, study, .. } = self.writable(user, slug, study_id).await?;
        if !study.controlled {
            return Err(AppError::BadRequest("Only controlled studies export through requests: download the files directly.".into()));
        }
        let reason = checked_reason(reason)?;
        files.sort();
        files.dedup();
        if files.is_empty() || files.len() > MAX_FILES {
            return Err(AppError::invalid("files", format!("Choose 1 to {MAX_FILES} files from the egress folder.")));
        }
        let place = Self::place(user, &team, &study);
        let egress = study.egress_prefix();
        let mut sized = Vec::with_capacity(files.len());
        for file in files {
            file_path(&file).map_err(|message| AppError::invalid("files", message))?;
            let Some(size) = self.store.size_of(&place, &format!("{egress}{file}")).await.map_err(store_error)? else {
                return Err(AppError::invalid("files", format!("{file} is not in the egress folder.")));
            };
            if size as u64 > self.settings.max_file_bytes {
                return Err(AppError::invalid(
                    "files",
                    format!(
                        "{file} is larger than a request may carry ({}).",
                        app::domain::studies::size_label(self.settings.max_file_bytes as i64)
                    ),
                ));
            }
            sized.push((file, size));
        }
        let new = NewRequest {
            direction: Direction::Export,
            study_id: study.id,
            team: slug.as_str(),
            requester: user.username.as_str(),
            reason,
            status: RequestStatus::Draft,
        };
        let mut tx = self.db.begin().await.map_err(database_error)?;
        let (id, _) = requests::insert(&mut *tx, &new).await.map_err(database_error)?;
        let request = requests::find(&mut *tx, id).await.map_err(database_error)?.ok_or(AppError::Internal)?;
        let to = self.hold(&mut tx, (&request, &study, &place), &egress, &sized).await?;
        let names = sized.iter().map(|(path, _)| path.as_str()).collect::<Vec<_>>().join(", ");
        let detail = format!("{names} from \"{}\": {reason}; {}", study.name, to.label());
        record(&mut *tx, user, "airlock.export.request", ("airlock_request", id), slug, &detail).await?;
        tx.commit().await.map_err(database_error)?;
        Ok(id)
    }

    #[tracing::instrument(skip(self, user, note), fields(username = %user.username))]
    async fn review(&self, user: &CurrentUser, slug: &TeamSlug, id: i64, approve: bool, note: &str) -> Result<(), AppError> {
        let opened = self.open_request(user, slug, id).await?;
        let note = checked_note(note)?;
        if !approve && note.is_empty() {
            return Err(AppError::invalid("note", "Say why you reject it: its requester reads it."));
        }
        let Opened { request, study, reviewer, .. } = &opened;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        // Locked, so that two reviewers approving at once count each other.
        let status = requests::lock(&mut *tx, id).await.map_err(database_error)?.ok_or_else(|| AppError::NotFound(NOT_FOUND.into()))?;
        let reviews = requests::reviews(&mut *tx, id).await.map_err(database_error)?;
        if let Some(why) = review_refusal(status, &request.requester, user.username.as_str(), &reviews) {
            return Err(AppError::Conflict(why));
        }
        if !reviewer {
            return Err(AppError::Forbidden);
        }
        requests::add_review(&mut *tx, id, user.username.as_str(), approve, note).await.map_err(database_error)?;
        let approvals = reviews.iter().filter(|r| r.approve).count() + usize::from(approve);
        let needed = usize::try_from(request.reviewers_needed).unwrap_or(1);
        let said = if note.is_empty() { String::new() } else { format!(": {note}") };
        if !approve {
            requests::move_to(&mut *tx, id, &[RequestStatus::InReview], RequestStatus::Rejected, Some(note))
                .await
                .map_err(database_error)?;
            record(&mut *tx, user, "airlock.reject", ("airlock_request", id), slug, &format!("for {}{said}", request.requester)).await?;
            let text = format!("Rejected by {}{said}", user.username);
            announce(&mut tx, request, study, (&title(request, study, "was rejected"), &text), true, true).await.map_err(database_error)?;
        } else {
            if approvals >= needed {
                requests::move_to(&mut *tx, id, &[RequestStatus::InReview], RequestStatus::Approved, None).await.map_err(database_error)?;
                // The copy runs in the worker: it may take a while, and it must not stop
                // half-way because this request's caller went away.
                jobs::enqueue(&mut *tx, &Job::AirlockCopy { request_id: id }, Duration::ZERO).await.map_err(database_error)?;
            }
            let detail = format!("approval {approvals} of {needed}, for {}{said}", request.requester);
            record(&mut *tx, user, "airlock.approve", ("airlock_request", id), slug, &detail).await?;
        }
        tx.commit().await.map_err(database_error)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn retry(&self, user: &CurrentUser, slug: &TeamSlug, id: i64) -> Result<(), AppError> {
        let opened = self.open_request(user, slug, id).await?;
        opened.refuse_unless(&[RequestStatus::Approved], "copied again")?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        jobs::enqueue(&mut *tx, &Job::AirlockCopy { request_id: id }, Duration::ZERO).await.map_err(database_error)?;
        record(&mut *tx, user, "airlock.retry", ("airlock_request", id), slug, &format!("into \"{}\"", opened.study.name)).await?;
        tx.commit().await.map_err(database_error)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn cancel(&self, user: &CurrentUser, slug: &TeamSlug, id: i64) -> Result<(), AppError> {
        let opened = self.open_request(user, slug, id).await?;
        if opened.access.is_none() {
            return Err(AppError::Forbidden);
        }
        let open = [RequestStatus::Draft, RequestStatus::Scanning, RequestStatus::InReview];
        opened.refuse_unless(&open, "cancelled")?;
        let mut tx = self.db.begin().await.map_err(database_error)?;
        if !requests::move_to(&mut *tx, id, &open, RequestStatus::Cancelled, None).await.map_err(database_error)? {
            return Err(AppError::Conflict("This request moved on meanwhile: reload it.".into()));
        }
        record(&mut *tx, user, "airlock.cancel", ("airlock_request", id), slug, &format!("on \"{}\"", opened.study.name)).await?;
        tx.commit().await.map_err(database_error)?;
        // What was going through goes no further; a file left behind costs only storage.
        let place = opened.place(user.username.as_str());
        let leftovers: Vec<String> = if opened.request.status == RequestStatus::Draft {
            let files = self.inbox_files(&place, &opened.request).await.unwrap_or_default();
            files.into_iter().map(|f| format!("{}{}", inbox(&opened.request), f.path)).collect()
        } else {
            let files = requests::files(&self.db, id).await.unwrap_or_default();
            files.into_iter().map(|f| format!("{}{}", held(&opened.request), f.path)).collect()
        };
        for key in leftovers {
            if let Err(error) = self.store.delete(&place, &key).await {
                tracing::warn!(%error, request = id, "Could not remove a cancelled request's file");
            }
        }
        Ok(())
    }

    #[tracing::instrument(skip(self, user, note), fields(username = %user.username))]
    async fn fail_scan(&self, user: &CurrentUser, slug: &TeamSlug, id: i64, note: &str) -> Result<(), AppError> {
        if !user.is_admin() {
            return Err(AppError::Forbidden);
        }
        let note = checked_note(note)?;
        let opened = self.open_request(user, slug, id).await?;
        let request = &opened.request;
        if !self.scan_overdue(request) {
            let minutes = self.settings.scan_wait.as_secs() / 60;
            return Err(AppError::Conflict(format!("Only a scan still missing after {minutes} minutes can be failed.")));
        }
        let said = if note.is_empty() { String::new() } else { format!(": {note}") };
        let why = self::note(format!("The malware scan never came; failed by {}{said}", user.username));
        let mut tx = self.db.begin().await.map_err(database_error)?;
        if !requests::move_to(&mut *tx, id, &[RequestStatus::Scanning], RequestStatus::Blocked, Some(&why)).await.map_err(database_error)? {
            return Err(AppError::Conflict("This request moved on meanwhile: reload it.".into()));
        }
        record(&mut *tx, user, "airlock.scan.fail", ("airlock_request", id), slug, &why).await?;
        announce(&mut tx, request, &opened.study, (&title(request, &opened.study, "is blocked"), &why), true, true)
            .await
            .map_err(database_error)?;
        tx.commit().await.map_err(database_error)
    }

    #[tracing::instrument(skip(self, user), fields(username = %user.username))]
    async fn file_url(&self, user: &CurrentUser, slug: &TeamSlug, id: i64, file: &str) -> Result<String, AppError> {
        let opened = self.open_request(user, slug, id).await?;
        let Opened { request, reviewer, .. } = &opened;
        let reviewing = *reviewer && matches!(request.status, RequestStatus::InReview | RequestStatus::Approved);
        let downloading = opened.access.is_some() && request.direction == Direction::Export && request.status == RequestStatus::Completed;
        if !reviewing && !downloading {
            return Err(AppError::Forbidden);
        }
        let files = requests::files(&self.db, id).await.map_err(database_error)?;
        if !files.iter().any(|f| f.path == file) {
            return Err(AppError::NotFound(format!("The file {file} in this request")));
        }
        let place = opened.place(user.username.as_str());
        let mut key = format!("{}{file}", held(request));
        // An export asked before the airlock was never held: its files stayed in the egress folder.
        if request.direction == Direction::Export && self.store.size_of(&place, &key).await.map_err(store_error)?.is_none() {
            key = format!("{}{file}", opened.study.egress_prefix());
        }
        let url =
            self.store.presigned_get(&place, &key, Duration::from_secs(self.settings.download_url_seconds)).await.map_err(store_error)?;
        let detail = if reviewing { format!("{file}, read-only, to review it") } else { format!("{file}, to download it") };
        record(&self.db, user, "airlock.file_url", ("airlock_request", id), slug, &detail).await?;
        Ok(url)
    }
}
