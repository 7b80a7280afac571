//! Studies: research data in S3, seen through a team. Who may read and write a study is
//! decided here, from the study's scope and the caller's roles and teams, so that pages,
//! downloads and launches all apply the same rule.

use super::{CurrentUser, Role, TeamSlug};
use crate::error::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StudyScope {
    /// Only its owner.
    My,
    /// The members of one team; the owner and team admins choose who writes.
    Team,
    /// Created by admins, readable by the teams they list.
    Organisation,
    /// A registered public bucket or prefix: listed for everyone, read-only.
    OpenData,
}

impl StudyScope {
    pub const ALL: [StudyScope; 4] = [StudyScope::My, StudyScope::Team, StudyScope::Organisation, StudyScope::OpenData];

    pub fn as_str(self) -> &'static str {
        match self {
            StudyScope::My => "my",
            StudyScope::Team => "team",
            StudyScope::Organisation => "organisation",
            StudyScope::OpenData => "open-data",
        }
    }

    pub fn parse(raw: &str) -> Option<StudyScope> {
        StudyScope::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            StudyScope::My => "My study",
            StudyScope::Team => "Team study",
            StudyScope::Organisation => "Organisation study",
            StudyScope::OpenData => "Open data",
        }
    }
}

/// How a study is used: read only, or read and write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Ro,
    Rw,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Ro => "ro",
            Access::Rw => "rw",
        }
    }

    pub fn parse(raw: &str) -> Option<Access> {
        match raw {
            "ro" => Some(Access::Ro),
            "rw" => Some(Access::Rw),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Access::Ro => "read-only",
            Access::Rw => "read-write",
        }
    }
}

/// What the access rule needs to know of a study.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyFacts<'a> {
    pub scope: StudyScope,
    pub team: Option<&'a str>,
    pub owner: &'a str,
    /// Named writers of a team study.
    pub writers: &'a [String],
    /// The teams an organisation study is shared with.
    pub teams: &'a [String],
}

/// Guests (and internal guests) read; researchers and admins may also write.
pub fn may_write_data(user: &CurrentUser) -> bool {
    user.is_admin() || user.has_role(Role::Researcher)
}

/// What `user`, on team `team`, may do with a study: `None` when they may not even see it.
pub fn access(user: &CurrentUser, team: &TeamSlug, study: &StudyFacts<'_>) -> Option<Access> {
    if !user.may_enter_team(team) {
        return None;
    }
    let writes = may_write_data(user);
    let on_this_team = study.team == Some(team.as_str());
    let granted = |write: bool| Some(if write && writes { Access::Rw } else { Access::Ro });
    match study.scope {
        // Private even from admins: a researcher's own working data.
        StudyScope::My if on_this_team && study.owner == user.username.as_str() => granted(true),
        StudyScope::My => None,
        StudyScope::Team if on_this_team => {
            let named = study.owner == user.username.as_str() || study.writers.iter().any(|w| w == user.username.as_str());
            granted(named || user.may_manage_members(team))
        }
        StudyScope::Team => None,
        StudyScope::Organisation if user.is_admin() || study.teams.iter().any(|t| t == team.as_str()) => granted(user.is_admin()),
        StudyScope::Organisation => None,
        StudyScope::OpenData => Some(Access::Ro),
    }
}

/// Who may choose a team study's writers: its owner, the team's admins and admins.
pub fn may_choose_writers(user: &CurrentUser, team: &TeamSlug, scope: StudyScope, owner: &str) -> bool {
    scope == StudyScope::Team && (owner == user.username.as_str() || user.may_manage_members(team))
}

/// A study as a page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyView {
    pub id: i64,
    pub scope: StudyScope,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub team: Option<String>,
    /// `s3://bucket/prefix/`
    pub location: String,
    pub controlled: bool,
    /// What the viewer may do: read, or read and write.
    pub access: Access,
    pub may_choose_writers: bool,
    /// Named writers of a team study.
    pub writers: Vec<String>,
    /// The teams of an organisation study.
    pub teams: Vec<String>,
}

impl StudyView {
    pub fn may_write(&self) -> bool {
        self.access == Access::Rw
    }

    /// How a workspace may mount it: controlled studies read-only, whatever the viewer's access.
    pub fn mount_access(&self) -> Access {
        if self.controlled { Access::Ro } else { self.access }
    }
}

/// The studies page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyList {
    pub studies: Vec<StudyView>,
    /// Researchers and admins create my and team studies.
    pub may_create: bool,
    /// Admins also create organisation studies and register open data.
    pub is_admin: bool,
    /// Every active team, for an admin's organisation study form.
    pub all_teams: Vec<String>,
}

/// The "new study" form as submitted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyForm {
    pub scope: String,
    pub name: String,
    pub description: String,
    /// The study's folder (my, team, organisation); the name's slug when empty.
    pub folder: String,
    pub controlled: bool,
    /// Organisation studies: the teams that may read it.
    pub teams: Vec<String>,
    /// Open data: where it is, `s3://bucket/prefix/`.
    pub location: String,
}

/// A checked study form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStudy {
    pub scope: StudyScope,
    pub name: String,
    pub description: String,
    /// The folder under the scope's own place (my, team, organisation).
    pub folder: String,
    pub controlled: bool,
    pub teams: Vec<TeamSlug>,
    /// Open data only: bucket and prefix.
    pub location: Option<(String, String)>,
}

impl StudyForm {
    pub fn validate(&self) -> Result<NewStudy, Vec<FieldError>> {
        let mut errors = Vec::new();
        let scope = StudyScope::parse(&self.scope);
        if scope.is_none() {
            errors.push(FieldError::new("scope", "Choose who the study is for."));
        }
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            errors.push(FieldError::new("name", "Give the study a name of 1 to 80 characters."));
        }
        let description = self.description.trim().to_owned();
        if description.chars().count() > 2000 {
            errors.push(FieldError::new("description", "The description may be at most 2,000 characters."));
        }
        let raw_folder = if self.folder.trim().is_empty() { slug_of(&name) } else { self.folder.trim().to_owned() };
        let folder = match folder(&raw_folder) {
            Ok(folder) => folder,
            Err(message) => {
                errors.push(FieldError::new("folder", message));
                String::new()
            }
        };
        let mut teams = Vec::new();
        for team in &self.teams {
            match TeamSlug::parse(team) {
                Ok(slug) => teams.push(slug),
                Err(_) => errors.push(FieldError::new("teams", format!("There is no team \"{team}\"."))),
            }
        }
        let mut location = None;
        match scope {
            Some(StudyScope::Organisation) if teams.is_empty() => {
                errors.push(FieldError::new("teams", "Choose the teams that may read it."))
            }
            Some(StudyScope::OpenData) => match parse_s3_uri(self.location.trim()) {
                Ok(found) => location = Some(found),
                Err(message) => errors.push(FieldError::new("location", message)),
            },
            _ => {}
        }
        if scope == Some(StudyScope::OpenData) && self.controlled {
            errors.push(FieldError::new("controlled", "Open data is public: it cannot be controlled."));
        }
        match scope {
            Some(scope) if errors.is_empty() => {
                Ok(NewStudy { scope, name, description, folder, controlled: self.controlled, teams, location })
            }
            _ => Err(errors),
        }
    }
}

/// A folder name from a study name: lower-case letters, digits and dashes.
pub fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(60).collect()
}

/// A study's folder: one or more segments of letters, digits, `.`, `_` and `-`, not starting
/// with a dot, joined by `/`; ends with `/`. Nothing that could leave the place it is put in.
pub fn folder(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim_end_matches('/');
    if raw.starts_with('/') || raw.contains('\\') {
        return Err("The folder must be relative: no leading / and no \\.".into());
    }
    if trimmed.is_empty() || trimmed.len() > 200 {
        return Err("Give a folder of 1 to 200 characters.".into());
    }
    for segment in trimmed.split('/') {
        let fine = segment.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && segment.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !fine {
            return Err(format!(
                "\"{segment}\" cannot be part of a folder: use letters, digits, '.', '_' and '-', not starting with a dot (so no \"..\")."
            ));
        }
    }
    Ok(format!("{trimmed}/"))
}

/// A file's path inside a study (`results/run 1.csv`): no leading `/`, no empty, `.` or `..`
/// segment, no backslash or control character, at most 512 bytes. Keys built from it cannot
/// leave the study's prefix.
pub fn file_path(raw: &str) -> Result<String, String> {
    if raw.is_empty() || raw.len() > 512 {
        return Err("A file path has 1 to 512 characters.".into());
    }
    if raw.starts_with('/') {
        return Err("A file path is relative to the study: it cannot start with /.".into());
    }
    if raw.contains('\\') || raw.chars().any(char::is_control) {
        return Err("A file path cannot hold a backslash or a control character.".into());
    }
    if raw.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
        return Err("A file path cannot hold an empty, \".\" or \"..\" part.".into());
    }
    Ok(raw.to_owned())
}

/// A folder inside a study to browse: empty for its top, else a file path ending with `/`.
pub fn browse_folder(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    file_path(trimmed).map(|path| format!("{path}/"))
}

/// Whether two prefixes of one bucket overlap: one holds the other.
pub fn overlaps(a: &str, b: &str) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// `s3://bucket/prefix/` as (bucket, prefix); the prefix must be a valid folder.
pub fn parse_s3_uri(raw: &str) -> Result<(String, String), String> {
    let rest = raw.strip_prefix("s3://").ok_or("Give the location as s3://bucket/prefix/.")?;
    let (bucket, prefix) = rest.split_once('/').ok_or("Give a prefix inside the bucket: s3://bucket/prefix/.")?;
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !bucket_ok {
        return Err(format!("\"{bucket}\" is not an S3 bucket name."));
    }
    Ok((bucket.to_owned(), folder(prefix)?))
}

/// One file in a study folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the study.
    pub path: String,
    pub name: String,
    pub size: i64,
    pub last_modified: String,
}

/// One page of a study folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderListing {
    pub study: StudyView,
    /// Relative to the study, ending with `/`; empty at its top.
    pub folder: String,
    /// Sub-folders (relative to the study, ending with `/`).
    pub folders: Vec<String>,
    pub files: Vec<FileEntry>,
    /// Where the next page starts, if there is one.
    pub next_page: Option<String>,
    /// The largest file an upload may be.
    pub max_file_bytes: u64,
    /// Controlled studies: the files waiting in the egress folder, and the export requests.
    pub egress: Option<EgressPanel>,
    /// The team's members, who may be named writers (for those who choose them).
    pub team_members: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EgressPanel {
    /// `s3://bucket/egress/<id>/`: where workspaces put results that are to leave.
    pub location: String,
    pub files: Vec<FileEntry>,
    pub requests: Vec<super::airlock::AirlockSummary>,
    pub may_request: bool,
}

/// Where and how the browser uploads one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadTicket {
    /// POST a multipart form with these fields, the file last.
    Post { url: String, fields: Vec<(String, String)> },
    /// PUT each part of `part_size` bytes to its URL, then complete with the parts' ETags.
    Multipart { path: String, upload_id: String, part_size: u64, part_urls: Vec<String> },
}

/// Files at least this large go up in parts.
pub const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// The size of each part but the last (S3's minimum is 5 MiB).
pub const PART_SIZE: u64 = 8 * 1024 * 1024;

/// A study a workspace was launched with, as its page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MountedStudy {
    pub id: i64,
    pub name: String,
    pub location: String,
    pub access: Access,
}

/// The launch parameter naming the studies to mount: `s3://bucket/prefix/:rw,…`.
pub const STUDIES_PARAMETER: &str = "Studies";
/// The launch parameter naming the launching person's home: their access point on the team's
/// file system.
pub const HOME_PARAMETER: &str = "HomeAccessPoint";
/// The launch parameter naming the team drive: the team's access point.
pub const TEAM_DRIVE_PARAMETER: &str = "TeamAccessPoint";
/// The launch parameter naming the team's file system, which both access points are of.
pub const FILE_SYSTEM_PARAMETER: &str = "TeamFileSystem";

/// Whether the portal sets this template parameter at each launch (never a configuration or a
/// profile): the studies to mount, the person's home, the team drive.
pub fn set_at_launch(key: &str) -> bool {
    [STUDIES_PARAMETER, HOME_PARAMETER, TEAM_DRIVE_PARAMETER, FILE_SYSTEM_PARAMETER].contains(&key)
}

pub fn studies_parameter(mounts: &[(String, Access)]) -> String {
    mounts.iter().map(|(location, access)| format!("{location}:{}", access.as_str())).collect::<Vec<_>>().join(",")
}

/// Human-readable bytes.
pub fn size_label(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Username;

    fn user(name: &str, groups: &[&str]) -> CurrentUser {
        CurrentUser::from_groups(Username::parse(name).unwrap(), groups.iter().copied())
    }

    fn team(slug: &str) -> TeamSlug {
        TeamSlug::parse(slug).unwrap()
    }

    fn facts<'a>(scope: StudyScope, team: Option<&'a str>, writers: &'a [String], teams: &'a [String]) -> StudyFacts<'a> {
        StudyFacts { scope, team, owner: "ada", writers, teams }
    }

    #[test]
    fn a_team_study_is_written_by_its_owner_named_writers_and_team_admins_and_read_by_guests() {
        let writers = vec!["grace".to_owned(), "gus".to_owned()];
        let study = facts(StudyScope::Team, Some("genomics"), &writers, &[]);
        let genomics = team("genomics");
        assert_eq!(access(&user("ada", &["role-researcher", "team-genomics"]), &genomics, &study), Some(Access::Rw));
        assert_eq!(access(&user("bob", &["role-researcher", "team-genomics"]), &genomics, &study), Some(Access::Ro));
        assert_eq!(access(&user("bob", &["role-researcher", "teamadmin-genomics"]), &genomics, &study), Some(Access::Rw));
        // A guest named as a writer still only reads.
        assert_eq!(access(&user("gus", &["role-guest", "team-genomics"]), &genomics, &study), Some(Access::Ro));
        assert_eq!(access(&user("alan", &["role-researcher", "team-physics"]), &genomics, &study), None);
        // Seen from another team (even by a member of both), it is not there.
        assert_eq!(access(&user("ada", &["role-researcher", "team-genomics", "team-physics"]), &team("physics"), &study), None);
    }

    #[test]
    fn my_study_is_its_owners_alone_and_open_data_is_everyones_to_read() {
        let my = facts(StudyScope::My, Some("genomics"), &[], &[]);
        assert_eq!(access(&user("ada", &["role-researcher", "team-genomics"]), &team("genomics"), &my), Some(Access::Rw));
        assert_eq!(access(&user("grace", &["role-admin"]), &team("genomics"), &my), None);
        let open = facts(StudyScope::OpenData, None, &[], &[]);
        assert_eq!(access(&user("alan", &["role-researcher", "team-physics"]), &team("physics"), &open), Some(Access::Ro));
        assert_eq!(access(&user("alan", &["role-researcher", "team-physics"]), &team("genomics"), &open), None);
    }

    #[test]
    fn an_organisation_study_is_read_by_its_teams_and_written_by_admins() {
        let teams = vec!["genomics".to_owned()];
        let org = facts(StudyScope::Organisation, None, &[], &teams);
        assert_eq!(access(&user("ada", &["role-researcher", "team-genomics"]), &team("genomics"), &org), Some(Access::Ro));
        assert_eq!(access(&user("alan", &["role-researcher", "team-physics"]), &team("physics"), &org), None);
        assert_eq!(access(&user("grace", &["role-admin"]), &team("physics"), &org), Some(Access::Rw));
    }

    #[test]
    fn folders_and_paths_cannot_leave_their_place() {
        assert_eq!(folder("rna-seq/2026"), Ok("rna-seq/2026/".into()));
        for bad in ["", "/abs", "..", "a/../b", "a//b", ".hidden", "a\\b", "a b"] {
            assert!(folder(bad).is_err(), "{bad:?} was taken as a folder");
        }
        assert_eq!(file_path("results/run 1.csv"), Ok("results/run 1.csv".into()));
        for bad in ["", "/etc/passwd", "../x", "a/./b", "a//b", "a\\b", "a\u{0}b", "x/.."] {
            assert!(file_path(bad).is_err(), "{bad:?} was taken as a file path");
        }
        assert_eq!(browse_folder(""), Ok(String::new()));
        assert_eq!(browse_folder("a/b/"), Ok("a/b/".into()));
        assert!(browse_folder("../").is_err());
        assert!(overlaps("studies/genomics/a/", "studies/genomics/a/b/"));
        assert!(overlaps("studies/genomics/", "studies/genomics/a/"));
        assert!(!overlaps("studies/genomics/a/", "studies/genomics/ab/"));
    }

    #[test]
    fn an_open_data_location_is_a_bucket_and_a_prefix() {
        assert_eq!(parse_s3_uri("s3://1000genomes/phase3/"), Ok(("1000genomes".into(), "phase3/".into())));
        assert!(parse_s3_uri("https://x/y").is_err());
        assert!(parse_s3_uri("s3://Bad_Bucket/x/").is_err());
        assert!(parse_s3_uri("s3://bucket/../x/").is_err());
        assert!(parse_s3_uri("s3://bucket").is_err());
    }

    #[test]
    fn the_form_names_each_bad_field() {
        let form = StudyForm { scope: "organisation".into(), name: " ".into(), folder: "../x".into(), ..Default::default() };
        let fields: Vec<String> = form.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "folder", "teams"]);
        let form = StudyForm { scope: "team".into(), name: "RNA-seq 2026".into(), ..Default::default() };
        let study = form.validate().unwrap();
        assert_eq!(study.folder, "rna-seq-2026/");
        assert_eq!(studies_parameter(&[("s3://b/p/".into(), Access::Rw), ("s3://c/q/".into(), Access::Ro)]), "s3://b/p/:rw,s3://c/q/:ro");
    }
}

/// One page of a folder of a team's scratch space (`s3-scratch-prefix`): working files shared
/// by the team, outside every study.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScratchListing {
    /// `s3://bucket/prefix/`.
    pub location: String,
    /// Relative to the scratch space, ending with `/`; empty at its top.
    pub folder: String,
    pub folders: Vec<String>,
    pub files: Vec<ScratchFile>,
    pub next_page: Option<String>,
    pub max_file_bytes: u64,
    /// Guests read only.
    pub may_upload: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScratchFile {
    pub file: FileEntry,
    /// Who uploaded it through the portal (`None`: a workspace wrote it).
    pub uploader: Option<String>,
    /// Its uploader and the team's admins may delete it.
    pub may_delete: bool,
}
