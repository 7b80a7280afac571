//! Typed configuration, read once at start-up from the environment (or flags). A missing
//! setting stops the process with its name; so does a value out of range (clap refuses it
//! while parsing, naming the flag; `Settings::validate` refuses it, naming the variable, for
//! settings built in code). Secrets never print. Every default is here.
//!
//! AWS endpoints are not configured here: the SDK's own `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_<SERVICE>` variables point it at local emulators in development.

use clap::Args;
use ipnet::IpNet;
use secrecy::SecretString;
use std::fmt::Display;
use std::net::SocketAddr;
use std::ops::{Bound, RangeBounds, RangeFrom, RangeInclusive};

/// Days a leaver's running workspaces keep running before they are stopped, by default.
pub const DEFAULT_LEAVER_GRACE_DAYS: i64 = 7;
/// Seconds a SageMaker presigned URL (and a study download URL) works, by default.
pub const DEFAULT_PRESIGNED_URL_SECONDS: u32 = 60;
/// Seconds a SageMaker Studio session opened from Atrium lasts, by default.
pub const DEFAULT_STUDIO_SESSION_SECONDS: u32 = 43_200;
/// The portal's own bucket for organisation studies, by default.
pub const DEFAULT_STUDIES_BUCKET: &str = "atrium-studies";

/// `ATRIUM_SESSION_IDLE_SECONDS`: a second to a year (a longer one overflows the cookie's expiry).
pub const SESSION_IDLE_SECONDS: RangeInclusive<i64> = 1..=365 * 24 * 3600;
/// `ATRIUM_WORKSPACE_QUOTA`: 0 (nobody launches) or more.
pub const WORKSPACE_QUOTA: RangeFrom<i64> = 0..;
/// `ATRIUM_PRESIGNED_URL_SECONDS`: AWS's range for a Studio presigned URL.
pub const PRESIGNED_URL_SECONDS: RangeInclusive<i64> = 5..=300;
/// `ATRIUM_STUDIO_SESSION_SECONDS`: AWS's range for a Studio session.
pub const STUDIO_SESSION_SECONDS: RangeInclusive<i64> = 1_800..=43_200;
/// `ATRIUM_LEAVER_GRACE_DAYS`: at most a year.
pub const LEAVER_GRACE_DAYS: RangeInclusive<i64> = 0..=365;
/// `ATRIUM_UPLOAD_URL_SECONDS`: a minute to twelve hours.
pub const UPLOAD_URL_SECONDS: RangeInclusive<u64> = 60..=43_200;

/// A setting the portal refuses, named as operators set it (its environment variable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting} {problem}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(setting: &'static str, problem: impl Into<String>) -> Self {
        ConfigError { setting, problem: problem.into() }
    }
}

#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// PostgreSQL connection string.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,

    #[command(flatten)]
    pub http: HttpSettings,

    #[command(flatten)]
    pub cognito: CognitoSettings,

    #[command(flatten)]
    pub oidc: OidcSettings,

    /// Offer the username/password form. SSO-only institutions turn it off (which needs
    /// `ATRIUM_OIDC_ISSUER`).
    #[arg(
        long,
        env = "ATRIUM_PASSWORD_SIGN_IN",
        default_value_t = true,
        action = clap::ArgAction::Set,
        requires_if("false", "oidc_issuer")
    )]
    pub password_sign_in: bool,

    /// Run the worker inside the server process (otherwise run `atrium worker` separately).
    #[arg(long, env = "ATRIUM_RUN_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub run_worker: bool,

    #[command(flatten)]
    pub api: ApiSettings,

    #[command(flatten)]
    pub workspaces: WorkspaceSettings,

    #[command(flatten)]
    pub studies: StudiesSettings,

    #[command(flatten)]
    pub notifications: NotificationSettings,

    #[command(flatten)]
    pub team_accounts: TeamAccountSettings,
}

/// The web server: where it listens, who its clients are, what its pages may reach.
#[derive(Args, Debug, Clone)]
pub struct HttpSettings {
    /// Address to listen on (`<ip>:<port>`).
    #[arg(long, env = "ATRIUM_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Where Prometheus scrapes `/metrics` (not the public port); no metrics server without it.
    #[arg(long, env = "ATRIUM_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// The portal's address as browsers see it (e.g. `https://atrium.example.edu`); the SSO
    /// callback is `<it>/auth/callback`. Defaults to the request's `Host` (https unless
    /// `ATRIUM_SECURE_COOKIES=false`): set it behind a proxy that rewrites `Host`.
    #[arg(long, env = "ATRIUM_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Mark the session cookie `Secure`. Only local development over plain HTTP turns it off.
    #[arg(long, env = "ATRIUM_SECURE_COOKIES", default_value_t = true, action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    /// Seconds of inactivity after which a session ends (1 to 31,536,000).
    #[arg(
        long,
        env = "ATRIUM_SESSION_IDLE_SECONDS",
        default_value_t = 8 * 3600,
        value_parser = clap::value_parser!(i64).range(SESSION_IDLE_SECONDS)
    )]
    pub session_idle_seconds: i64,

    /// The load balancers and proxies (networks or addresses, comma-separated) whose
    /// `X-Forwarded-For` names the client. Anyone else's is ignored: the TCP peer is the client.
    #[arg(long, env = "ATRIUM_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,

    /// When set, only clients from these networks (comma-separated) are served; everyone else
    /// gets a 403, except on `/healthz`.
    #[arg(long, env = "ATRIUM_ALLOWED_CIDRS", value_delimiter = ',', value_parser = parse_network)]
    pub allowed_cidrs: Vec<IpNet>,

    /// Where "Connect" may send the browser (CSP form-action sources besides 'self'): the
    /// workspaces' URLs and SageMaker's presigned URLs.
    #[arg(long, env = "ATRIUM_CONNECT_ORIGINS", default_value = "https:", value_parser = parse_csp_sources)]
    pub connect_origins: String,

    /// Where browsers send study uploads (CSP connect-src sources besides 'self'): the S3
    /// endpoints of the buckets.
    #[arg(long, env = "ATRIUM_S3_ORIGINS", default_value = "https://*.amazonaws.com", value_parser = parse_csp_sources)]
    pub s3_origins: String,
}

/// The REST API's rate limit, per token.
#[derive(Args, Debug, Clone)]
pub struct ApiSettings {
    /// Requests an API token may make at once (at least 1), before `ATRIUM_API_RATE` applies.
    #[arg(
        id = "api_burst",
        long = "api-burst",
        value_name = "API_BURST",
        env = "ATRIUM_API_BURST",
        default_value_t = 60.0,
        value_parser = parse_api_burst
    )]
    pub burst: f64,

    /// Requests per second an API token may make in the long run (above 0; shared by every
    /// replica).
    #[arg(
        id = "api_rate",
        long = "api-rate",
        value_name = "API_RATE",
        env = "ATRIUM_API_RATE",
        default_value_t = 5.0,
        value_parser = parse_api_rate
    )]
    pub rate: f64,
}

/// Workspaces: how many, how they are opened, how long a leaver's keep running.
#[derive(Args, Debug, Clone)]
pub struct WorkspaceSettings {
    /// Active workspaces a user may have at once (0 or more).
    #[arg(
        id = "workspace_quota",
        long = "workspace-quota",
        value_name = "WORKSPACE_QUOTA",
        env = "ATRIUM_WORKSPACE_QUOTA",
        default_value_t = 3,
        value_parser = clap::value_parser!(i64).range(WORKSPACE_QUOTA)
    )]
    pub quota: i64,

    /// Days a running workspace whose owner left its team (or was disabled) keeps running before
    /// it is stopped, unless an admin transfers it (0 to 365).
    #[arg(
        long,
        env = "ATRIUM_LEAVER_GRACE_DAYS",
        default_value_t = DEFAULT_LEAVER_GRACE_DAYS,
        value_parser = clap::value_parser!(i64).range(LEAVER_GRACE_DAYS)
    )]
    pub leaver_grace_days: i64,

    /// Seconds a SageMaker Studio presigned URL may be opened (5 to 300): a credential, kept
    /// short. (A notebook instance's URL lasts five minutes, fixed by AWS.) Study download URLs
    /// last as long.
    #[arg(
        long,
        env = "ATRIUM_PRESIGNED_URL_SECONDS",
        default_value_t = DEFAULT_PRESIGNED_URL_SECONDS,
        value_parser = clap::value_parser!(u32).range(PRESIGNED_URL_SECONDS)
    )]
    pub presigned_url_seconds: u32,

    /// Seconds a SageMaker Studio session opened from Atrium lasts (1,800 to 43,200).
    #[arg(
        long,
        env = "ATRIUM_STUDIO_SESSION_SECONDS",
        default_value_t = DEFAULT_STUDIO_SESSION_SECONDS,
        value_parser = clap::value_parser!(u32).range(STUDIO_SESSION_SECONDS)
    )]
    pub studio_session_seconds: u32,

    /// How long team metadata and profiles read from SSM Parameter Store are reused before a
    /// background refresh (0: read on every page).
    #[arg(long, env = "ATRIUM_SSM_CACHE_SECONDS", default_value_t = 60)]
    pub ssm_cache_seconds: u64,
}

/// Studies: the portal's bucket and what an upload may be.
#[derive(Args, Debug, Clone)]
pub struct StudiesSettings {
    /// The portal's own bucket, for organisation studies (in the portal's account).
    #[arg(
        id = "studies_bucket",
        long = "studies-bucket",
        value_name = "STUDIES_BUCKET",
        env = "ATRIUM_STUDIES_BUCKET",
        default_value = DEFAULT_STUDIES_BUCKET
    )]
    pub bucket: String,

    /// The largest file a study takes, in bytes (default and most 5 GiB: the largest object S3
    /// copies in one call, as the airlock copies files).
    #[arg(
        id = "study_max_file_bytes",
        long = "study-max-file-bytes",
        value_name = "STUDY_MAX_FILE_BYTES",
        env = "ATRIUM_STUDY_MAX_FILE_BYTES",
        default_value_t = 5 * 1024 * 1024 * 1024,
        value_parser = clap::value_parser!(u64).range(1..=5 * 1024 * 1024 * 1024)
    )]
    pub max_file_bytes: u64,

    /// Content types no study takes (comma-separated): pages and scripts, which a browser
    /// would run if someone opened them from the bucket. Read in lower case.
    #[arg(
        id = "study_blocked_types",
        long = "study-blocked-types",
        value_name = "STUDY_BLOCKED_TYPES",
        env = "ATRIUM_STUDY_BLOCKED_TYPES",
        value_delimiter = ',',
        default_value = "text/html,application/xhtml+xml,image/svg+xml,text/javascript,application/javascript",
        value_parser = parse_content_type
    )]
    pub blocked_types: Vec<String>,

    /// Seconds an upload form or part URL for a study works (60 to 43,200).
    #[arg(
        long,
        env = "ATRIUM_UPLOAD_URL_SECONDS",
        default_value_t = 900,
        value_parser = clap::value_parser!(u64).range(UPLOAD_URL_SECONDS)
    )]
    pub upload_url_seconds: u64,

    /// How the airlock's files are scanned for malware: `guardduty` reads the tag Amazon
    /// GuardDuty Malware Protection for S3 writes on each object (protect the study buckets
    /// with it); `off` sends requests to review unscanned, saying so.
    #[arg(long, env = "ATRIUM_MALWARE_SCAN", default_value = "guardduty", value_parser = ["guardduty", "off"])]
    pub malware_scan: String,

    /// Minutes a request waits for its scan results before it says so and an admin may fail it.
    #[arg(long, env = "ATRIUM_SCAN_WAIT_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub scan_wait_minutes: u64,
}

/// E-mail and webhooks.
#[derive(Args, Debug, Clone)]
pub struct NotificationSettings {
    /// The sender of Atrium's e-mail (an SES-verified address). Without it no e-mail is sent.
    #[arg(long, env = "ATRIUM_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Accept plain-HTTP webhook URLs on this machine (127.0.0.1, localhost): local development
    /// and tests only. Otherwise webhooks must be https.
    #[arg(long, env = "ATRIUM_ALLOW_LOCAL_WEBHOOKS", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_local_webhooks: bool,
}

/// Connecting teams' AWS accounts (`/admin/teams`, `deploy/team-account.yaml`).
#[derive(Args, Debug, Clone, Default)]
pub struct TeamAccountSettings {
    /// Where CloudFormation can read `deploy/team-account.yaml` (an https URL, in S3 say), for
    /// the quick-create link. Without it admins download the template and upload it themselves.
    #[arg(long = "team-template-url", env = "ATRIUM_TEAM_TEMPLATE_URL", value_parser = parse_public_url)]
    pub template_url: Option<String>,

    /// The portal's own AWS account id, which team accounts' roles trust; asked of STS
    /// (GetCallerIdentity) when unset.
    #[arg(long, env = "ATRIUM_PORTAL_ACCOUNT_ID", value_parser = parse_account_id)]
    pub portal_account_id: Option<String>,
}

impl Settings {
    /// Every rule a value must meet, for settings built in code (clap already refused what
    /// it parsed out of range): the first one broken, named by its environment variable.
    /// `Application::build_with` calls it before using anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let http = &self.http;
        if let Some(url) = &http.public_url {
            check_public_url(url).map_err(|problem| ConfigError::new("ATRIUM_PUBLIC_URL", problem))?;
        }
        check_csp_sources(&http.connect_origins).map_err(|problem| ConfigError::new("ATRIUM_CONNECT_ORIGINS", problem))?;
        check_csp_sources(&http.s3_origins).map_err(|problem| ConfigError::new("ATRIUM_S3_ORIGINS", problem))?;
        within("ATRIUM_SESSION_IDLE_SECONDS", http.session_idle_seconds, SESSION_IDLE_SECONDS)?;
        if self.oidc.issuer.is_some() && self.oidc.client_id.is_none() {
            return Err(ConfigError::new("ATRIUM_OIDC_CLIENT_ID", "must be set with ATRIUM_OIDC_ISSUER"));
        }
        if !self.password_sign_in && self.oidc.issuer.is_none() {
            return Err(ConfigError::new(
                "ATRIUM_PASSWORD_SIGN_IN",
                "=false needs single sign-on: set ATRIUM_OIDC_ISSUER and ATRIUM_OIDC_CLIENT_ID",
            ));
        }
        if let Some(url) = &self.team_accounts.template_url {
            check_public_url(url).map_err(|problem| ConfigError::new("ATRIUM_TEAM_TEMPLATE_URL", problem))?;
        }
        if let Some(account) = &self.team_accounts.portal_account_id {
            parse_account_id(account).map_err(|problem| ConfigError::new("ATRIUM_PORTAL_ACCOUNT_ID", problem))?;
        }
        check_api_burst(self.api.burst).map_err(|problem| ConfigError::new("ATRIUM_API_BURST", problem))?;
        check_api_rate(self.api.rate).map_err(|problem| ConfigError::new("ATRIUM_API_RATE", problem))?;
        let workspaces = &self.workspaces;
        within("ATRIUM_WORKSPACE_QUOTA", workspaces.quota, WORKSPACE_QUOTA)?;
        within("ATRIUM_LEAVER_GRACE_DAYS", workspaces.leaver_grace_days, LEAVER_GRACE_DAYS)?;
        within("ATRIUM_PRESIGNED_URL_SECONDS", i64::from(workspaces.presigned_url_seconds), PRESIGNED_URL_SECONDS)?;
        within("ATRIUM_STUDIO_SESSION_SECONDS", i64::from(workspaces.studio_session_seconds), STUDIO_SESSION_SECONDS)?;
        within("ATRIUM_UPLOAD_URL_SECONDS", self.studies.upload_url_seconds, UPLOAD_URL_SECONDS)?;
        for blocked in &self.studies.blocked_types {
            if parse_content_type(blocked).as_deref() != Ok(blocked.as_str()) {
                return Err(ConfigError::new(
                    "ATRIUM_STUDY_BLOCKED_TYPES",
                    format!("must list content types in lower case, such as text/html (not `{blocked}`)"),
                ));
            }
        }
        Ok(())
    }
}

/// Refuses a value outside `range`, saying what the range is.
fn within<T: PartialOrd + Display>(setting: &'static str, value: T, range: impl RangeBounds<T>) -> Result<(), ConfigError> {
    if range.contains(&value) {
        return Ok(());
    }
    let allowed = match (range.start_bound(), range.end_bound()) {
        (Bound::Included(low), Bound::Included(high)) => format!("{low} to {high}"),
        (Bound::Included(low), _) => format!("at least {low}"),
        (_, Bound::Included(high)) => format!("at most {high}"),
        _ => "in range".to_owned(),
    };
    Err(ConfigError::new(setting, format!("must be {allowed} (it is {value})")))
}

fn parse_number(value: &str) -> Result<f64, String> {
    value.trim().parse::<f64>().map_err(|_| format!("`{value}` is not a number"))
}

fn check_api_burst(burst: f64) -> Result<(), String> {
    if burst.is_finite() && burst >= 1.0 { Ok(()) } else { Err(format!("must be at least 1 (it is {burst})")) }
}

fn parse_api_burst(value: &str) -> Result<f64, String> {
    let burst = parse_number(value)?;
    check_api_burst(burst).map(|()| burst)
}

fn check_api_rate(rate: f64) -> Result<(), String> {
    if rate.is_finite() && rate > 0.0 { Ok(()) } else { Err(format!("must be above 0 (it is {rate})")) }
}

fn parse_api_rate(value: &str) -> Result<f64, String> {
    let rate = parse_number(value)?;
    check_api_rate(rate).map(|()| rate)
}

fn check_public_url(value: &str) -> Result<(), String> {
    let parsed = url::Url::parse(value).map_err(|error| format!("`{value}` is not a URL ({error})"))?;
    if ["http", "https"].contains(&parsed.scheme()) && parsed.query().is_none() && parsed.fragment().is_none() {
        Ok(())
    } else {
        Err("must be an http(s) address without query or fragment, e.g. https://atrium.example.edu".to_owned())
    }
}

fn parse_public_url(value: &str) -> Result<String, String> {
    check_public_url(value).map(|()| value.to_owned())
}

/// CSP sources separated by spaces, which go into the Content-Security-Policy header as they
/// are: visible ASCII, and no `;` or `,` that would start another directive or policy.
fn check_csp_sources(value: &str) -> Result<(), String> {
    if value.chars().all(|c| c == ' ' || (c.is_ascii_graphic() && c != ';' && c != ',')) {
        Ok(())
    } else {
        Err(format!("must be CSP sources separated by spaces, without `;` or `,` (not `{value}`)"))
    }
}

fn parse_csp_sources(value: &str) -> Result<String, String> {
    check_csp_sources(value).map(|()| value.to_owned())
}

/// A content type such as `text/html`, trimmed and in lower case.
fn parse_account_id(value: &str) -> Result<String, String> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err("must be an AWS account id: 12 digits".to_owned())
    }
}

fn parse_content_type(value: &str) -> Result<String, String> {
    let normalised = value.trim().to_ascii_lowercase();
    let well_formed = normalised.split_once('/').is_some_and(|(kind, subtype)| {
        !kind.is_empty() && !subtype.is_empty() && !subtype.contains('/') && normalised.chars().all(|c| c.is_ascii_graphic())
    });
    if well_formed { Ok(normalised) } else { Err(format!("`{value}` is not a content type such as text/html")) }
}

/// A network (`10.0.0.0/8`) or a single address (`192.0.2.7`).
fn parse_network(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{value}` is neither a network (10.0.0.0/8) nor an address"))
}

#[derive(Args, Debug, Clone)]
pub struct CognitoSettings {
    #[arg(long = "cognito-user-pool-id", env = "ATRIUM_COGNITO_USER_POOL_ID")]
    pub user_pool_id: String,

    /// The app client (no secret, USER_PASSWORD_AUTH allowed).
    #[arg(long = "cognito-client-id", env = "ATRIUM_COGNITO_CLIENT_ID")]
    pub client_id: String,

    /// Token issuer; defaults to `https://cognito-idp.<region>.amazonaws.com/<pool>`.
    #[arg(long = "cognito-issuer", env = "ATRIUM_COGNITO_ISSUER")]
    pub issuer: Option<String>,

    /// Where the signing keys are; defaults to `<issuer>/.well-known/jwks.json`.
    #[arg(long = "cognito-jwks-url", env = "ATRIUM_COGNITO_JWKS_URL")]
    pub jwks_url: Option<String>,
}

impl CognitoSettings {
    pub fn issuer(&self, region: &str) -> String {
        self.issuer.clone().unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com/{}", self.user_pool_id))
    }

    pub fn jwks_url(&self, region: &str) -> String {
        self.jwks_url.clone().unwrap_or_else(|| format!("{}/.well-known/jwks.json", self.issuer(region)))
    }
}

/// Single sign-on through an OpenID provider (the Cognito hosted UI or any other). Off unless
/// `ATRIUM_OIDC_ISSUER` is set.
#[derive(Args, Debug, Clone, Default)]
pub struct OidcSettings {
    /// The provider's issuer URL; its metadata is at `<issuer>/.well-known/openid-configuration`.
    #[arg(id = "oidc_issuer", long = "oidc-issuer", env = "ATRIUM_OIDC_ISSUER", requires = "oidc_client_id")]
    pub issuer: Option<String>,

    #[arg(id = "oidc_client_id", long = "oidc-client-id", env = "ATRIUM_OIDC_CLIENT_ID")]
    pub client_id: Option<String>,

    /// Only for a confidential client; a public client relies on PKCE alone.
    #[arg(id = "oidc_client_secret", long = "oidc-client-secret", env = "ATRIUM_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<SecretString>,

    /// The provider's name on the sign-in button ("Sign in with" the name).
    #[arg(id = "oidc_display_name", long = "oidc-display-name", env = "ATRIUM_OIDC_DISPLAY_NAME", default_value = "your organisation")]
    pub display_name: String,

    /// The ID-token claim listing the user's groups (`team-<slug>`, `role-<name>`).
    #[arg(id = "oidc_groups_claim", long = "oidc-groups-claim", env = "ATRIUM_OIDC_GROUPS_CLAIM", default_value = "cognito:groups")]
    pub groups_claim: String,

    /// The ID-token claim naming the user; `preferred_username`, then `sub`, when it is absent.
    #[arg(
        id = "oidc_username_claim",
        long = "oidc-username-claim",
        env = "ATRIUM_OIDC_USERNAME_CLAIM",
        default_value = "cognito:username"
    )]
    pub username_claim: String,
}

#[derive(clap::Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// Reads the settings from the environment alone (how cargo-leptos starts the server),
    /// exiting with the name of whatever is missing.
    pub fn from_env_or_exit() -> Settings {
        use clap::Parser;
        SettingsOnly::parse_from(["atrium"]).settings
    }

    /// The configuration reference of the operator's guide (`docs/src/reference/configuration.md`),
    /// rendered from these definitions: a test keeps the file equal to it.
    #[cfg(test)]
    pub fn reference() -> String {
        use clap::CommandFactory;
        let mut text = String::from(
            "<!-- Generated from server/src/config by its tests (ATRIUM_WRITE_DOCS=1 dev/docs rewrites it): do not edit. -->\n\
             # Configuration reference\n\n\
             The server reads these settings once, at start, from the environment (or the flags of \
             `server serve`). A missing required setting, or a value out of range, stops it with the \
             setting's name. AWS endpoints and credentials are the AWS SDK's own (`AWS_REGION`, \
             `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`…).\n\n\
             | Environment variable | Flag | Default | What it sets |\n|---|---|---|---|\n",
        );
        let cell = |text: String| text.replace('\n', " ").replace('|', "\\|");
        for arg in SettingsOnly::command().get_arguments().filter(|arg| !arg.is_hide_set()) {
            let Some(env) = arg.get_env() else { continue };
            let flag = arg.get_long().map(|long| format!("`--{long}`")).unwrap_or_default();
            let defaults: Vec<String> = arg.get_default_values().iter().map(|value| value.to_string_lossy().into_owned()).collect();
            let default = match (defaults.join(","), arg.is_required_set()) {
                (joined, _) if !joined.is_empty() => format!("`{joined}`"),
                (_, true) => "required".to_owned(),
                _ => "unset".to_owned(),
            };
            let help = arg.get_long_help().or(arg.get_help()).map(ToString::to_string).unwrap_or_default();
            text.push_str(&format!("| `{}` | {flag} | {} | {} |\n", env.to_string_lossy(), cell(default), cell(help)));
        }
        text
    }

    /// Parses the settings from these arguments (the first is the program's name) and the
    /// environment, as `atrium serve` does, without exiting.
    pub fn try_parse_from<I, T>(arguments: I) -> Result<Settings, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::Parser;
        SettingsOnly::try_parse_from(arguments).map(|only| only.settings)
    }
}

#[cfg(test)]
mod tests;
