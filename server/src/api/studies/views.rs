//! What the studies API answers: the pages' views (app::domain::studies), with their schema.

use super::*;

/// Who a study is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StudyScope {
    /// Only its owner (researchers and admins create one).
    My,
    /// The team's members; its owner and the team's admins choose who writes.
    Team,
    /// Created by admins, readable by the teams it lists.
    Organisation,
    /// A registered public bucket or prefix (admins register one): read-only for everyone.
    OpenData,
}

impl From<domain::StudyScope> for StudyScope {
    fn from(scope: domain::StudyScope) -> Self {
        match scope {
            domain::StudyScope::My => StudyScope::My,
            domain::StudyScope::Team => StudyScope::Team,
            domain::StudyScope::Organisation => StudyScope::Organisation,
            domain::StudyScope::OpenData => StudyScope::OpenData,
        }
    }
}

impl StudyScope {
    /// As the page's form names it.
    pub(super) fn form_value(self) -> &'static str {
        match self {
            StudyScope::My => domain::StudyScope::My.as_str(),
            StudyScope::Team => domain::StudyScope::Team.as_str(),
            StudyScope::Organisation => domain::StudyScope::Organisation.as_str(),
            StudyScope::OpenData => domain::StudyScope::OpenData.as_str(),
        }
    }
}

/// A study as the caller sees it from the team.
#[derive(Serialize, ToSchema)]
pub struct StudyView {
    pub id: i64,
    pub scope: StudyScope,
    pub name: String,
    pub description: String,
    pub owner: String,
    /// The team of a my or team study.
    pub team: Option<String>,
    /// `s3://bucket/prefix/`
    pub location: String,
    /// Controlled data: mounted read-only, never downloaded; it leaves only through an approved export.
    pub controlled: bool,
    /// What the caller may do: read, or read and write.
    pub access: Access,
    /// Whether the caller may set the writers of this team study.
    pub may_choose_writers: bool,
    /// Named writers of a team study.
    pub writers: Vec<String>,
    /// The teams an organisation study is shared with.
    pub teams: Vec<String>,
}

impl From<domain::StudyView> for StudyView {
    fn from(study: domain::StudyView) -> Self {
        StudyView {
            id: study.id,
            scope: study.scope.into(),
            name: study.name,
            description: study.description,
            owner: study.owner,
            team: study.team,
            location: study.location,
            controlled: study.controlled,
            access: study.access,
            may_choose_writers: study.may_choose_writers,
            writers: study.writers,
            teams: study.teams,
        }
    }
}

/// The studies seen from a team, as the studies page lists them.
#[derive(Serialize, ToSchema)]
pub struct StudyList {
    pub studies: Vec<StudyView>,
    /// Whether the caller may create my and team studies (researchers and admins).
    pub may_create: bool,
    /// Admins also create organisation studies and register open data.
    pub is_admin: bool,
    /// Every active team, for an admin's organisation study (empty for others).
    pub all_teams: Vec<String>,
}

impl From<domain::StudyList> for StudyList {
    fn from(list: domain::StudyList) -> Self {
        StudyList {
            studies: list.studies.into_iter().map(StudyView::from).collect(),
            may_create: list.may_create,
            is_admin: list.is_admin,
            all_teams: list.all_teams,
        }
    }
}

/// One file of a study (or of its egress folder).
#[derive(Serialize, ToSchema)]
pub struct FileEntry {
    /// Relative to the study (or to its egress folder).
    pub path: String,
    pub name: String,
    /// Bytes.
    pub size: i64,
    pub last_modified: String,
}

impl From<domain::FileEntry> for FileEntry {
    fn from(file: domain::FileEntry) -> Self {
        FileEntry { path: file.path, name: file.name, size: file.size, last_modified: file.last_modified }
    }
}

/// What an export request is at.
/// A controlled study's exports: the files waiting to leave, and the requests.
#[derive(Serialize, ToSchema)]
pub struct ExportPanel {
    /// `s3://bucket/egress/<id>/`: where workspaces put results that are to leave.
    pub location: String,
    /// The files in the egress folder, which an export request may name (by `path`).
    pub files: Vec<FileEntry>,
    /// The caller's requests (every request, for the team's admins), newest first.
    pub requests: Vec<app::domain::airlock::AirlockSummary>,
    /// Whether the caller may request an export (writers).
    pub may_request: bool,
}

impl From<domain::EgressPanel> for ExportPanel {
    fn from(panel: domain::EgressPanel) -> Self {
        ExportPanel {
            location: panel.location,
            files: panel.files.into_iter().map(FileEntry::from).collect(),
            requests: panel.requests,
            may_request: panel.may_request,
        }
    }
}

/// One page of a folder of a study.
#[derive(Serialize, ToSchema)]
pub struct FolderListing {
    pub study: StudyView,
    /// Relative to the study, ending with `/`; empty at its top.
    pub folder: String,
    /// Its sub-folders (relative to the study, ending with `/`).
    pub folders: Vec<String>,
    pub files: Vec<FileEntry>,
    /// Pass as `cursor` for the next page of the folder; absent on the last.
    pub next_cursor: Option<String>,
    /// The largest file an upload may be, in bytes.
    pub max_file_bytes: u64,
    /// Controlled studies: the egress folder and the export requests.
    pub exports: Option<ExportPanel>,
    /// The team's members, who may be named writers (for those who choose them; else empty).
    pub team_members: Vec<String>,
}

impl From<domain::FolderListing> for FolderListing {
    fn from(listing: domain::FolderListing) -> Self {
        FolderListing {
            study: listing.study.into(),
            folder: listing.folder,
            folders: listing.folders,
            files: listing.files.into_iter().map(FileEntry::from).collect(),
            next_cursor: listing.next_page,
            max_file_bytes: listing.max_file_bytes,
            exports: listing.egress.map(ExportPanel::from),
            team_members: listing.team_members,
        }
    }
}

/// Where and how to upload one file, straight to S3.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UploadTicket {
    /// Files under 16 MiB: POST a `multipart/form-data` form to `url` with these fields, the
    /// file last, as `file`. It takes exactly this key, size and content type, until it expires.
    Post { url: String, fields: BTreeMap<String, String> },
    /// Larger files: PUT each part of `part_size` bytes (the last one shorter) to its URL, in
    /// order, then complete the upload with the parts' ETags (`/uploads/complete`).
    Multipart { path: String, upload_id: String, part_size: u64, part_urls: Vec<String> },
}

impl From<domain::UploadTicket> for UploadTicket {
    fn from(ticket: domain::UploadTicket) -> Self {
        match ticket {
            domain::UploadTicket::Post { url, fields } => UploadTicket::Post { url, fields: fields.into_iter().collect() },
            domain::UploadTicket::Multipart { path, upload_id, part_size, part_urls } => {
                UploadTicket::Multipart { path, upload_id, part_size, part_urls }
            }
        }
    }
}

/// A presigned URL minted for this request (audited, never stored): a credential for a short
/// while, so not to be cached or shared.
#[derive(Serialize, ToSchema)]
pub struct DownloadUrl {
    pub url: String,
}
