//! Typed configuration, read once at start-up from the environment (or flags). A missing
//! setting stops the process with its name; secrets never print.
//!
//! AWS endpoints are not configured here: the SDK's own `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_<SERVICE>` variables point it at local emulators in development.

use clap::Args;
use ipnet::IpNet;
use secrecy::SecretString;

#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// PostgreSQL connection string.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,

    /// Address to listen on.
    #[arg(long, env = "ATRIUM_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: String,

    /// Where Prometheus scrapes `/metrics` (not the public port); no metrics server without it.
    #[arg(long, env = "ATRIUM_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,

    #[command(flatten)]
    pub cognito: CognitoSettings,

    #[command(flatten)]
    pub oidc: OidcSettings,

    /// Offer the username/password form. SSO-only institutions turn it off.
    #[arg(long, env = "ATRIUM_PASSWORD_SIGN_IN", default_value_t = true, action = clap::ArgAction::Set)]
    pub password_sign_in: bool,

    /// The portal's address as browsers see it (e.g. `https://atrium.example.edu`); the SSO
    /// callback is `<it>/auth/callback`. Defaults to the request's `Host` (https unless
    /// `ATRIUM_SECURE_COOKIES=false`): set it behind a proxy that rewrites `Host`.
    #[arg(long, env = "ATRIUM_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Mark the session cookie `Secure`. Only local development over plain HTTP turns it off.
    #[arg(long, env = "ATRIUM_SECURE_COOKIES", default_value_t = true, action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    /// Where "Connect" may send the browser (CSP form-action sources besides 'self'): the
    /// workspaces' URLs and SageMaker's presigned URLs.
    #[arg(long, env = "ATRIUM_CONNECT_ORIGINS", default_value = "https:")]
    pub connect_origins: String,

    /// Run the worker inside the server process (otherwise run `atrium worker` separately).
    #[arg(long, env = "ATRIUM_RUN_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub run_worker: bool,

    /// Active workspaces a user may have at once.
    #[arg(long, env = "ATRIUM_WORKSPACE_QUOTA", default_value_t = 3)]
    pub workspace_quota: i64,

    /// Accept plain-HTTP webhook URLs on this machine (127.0.0.1, localhost): local development
    /// and tests only. Otherwise webhooks must be https.
    #[arg(long, env = "ATRIUM_ALLOW_LOCAL_WEBHOOKS", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_local_webhooks: bool,

    /// How long team metadata and profiles read from SSM Parameter Store are reused before a
    /// background refresh (0: read on every page).
    #[arg(long, env = "ATRIUM_SSM_CACHE_SECONDS", default_value_t = 60)]
    pub ssm_cache_seconds: u64,

    /// The sender of Atrium's e-mail (an SES-verified address). Without it no e-mail is sent.
    #[arg(long, env = "ATRIUM_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// Seconds of inactivity after which a session ends.
    #[arg(long, env = "ATRIUM_SESSION_IDLE_SECONDS", default_value_t = 8 * 3600)]
    pub session_idle_seconds: i64,

    /// The load balancers and proxies (networks or addresses, comma-separated) whose
    /// `X-Forwarded-For` names the client. Anyone else's is ignored: the TCP peer is the client.
    #[arg(long, env = "ATRIUM_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,

    /// When set, only clients from these networks (comma-separated) are served; everyone else
    /// gets a 403, except on `/healthz`.
    #[arg(long, env = "ATRIUM_ALLOWED_CIDRS", value_delimiter = ',', value_parser = parse_network)]
    pub allowed_cidrs: Vec<IpNet>,

    /// Seconds a SageMaker Studio presigned URL may be opened (5 to 300): a credential, kept
    /// short. (A notebook instance's URL lasts five minutes, fixed by AWS.)
    #[arg(long, env = "ATRIUM_PRESIGNED_URL_SECONDS", default_value_t = 60)]
    pub presigned_url_seconds: u32,

    /// Seconds a SageMaker Studio session opened from Atrium lasts (1,800 to 43,200).
    #[arg(long, env = "ATRIUM_STUDIO_SESSION_SECONDS", default_value_t = 43_200)]
    pub studio_session_seconds: u32,

    /// Days a running workspace whose owner left its team (or was disabled) keeps running before
    /// it is stopped, unless an admin transfers it.
    #[arg(long, env = "ATRIUM_LEAVER_GRACE_DAYS", default_value_t = crate::services::reconcile::LEAVER_GRACE_DAYS)]
    pub leaver_grace_days: i64,

    /// The portal's own bucket, for organisation studies (in the portal's account).
    #[arg(long, env = "ATRIUM_STUDIES_BUCKET", default_value = "atrium-studies")]
    pub studies_bucket: String,

    /// The largest file a study takes, in bytes (default 5 GiB).
    #[arg(long, env = "ATRIUM_STUDY_MAX_FILE_BYTES", default_value_t = 5 * 1024 * 1024 * 1024)]
    pub study_max_file_bytes: u64,

    /// Content types no study takes (comma-separated): pages and scripts, which a browser
    /// would run if someone opened them from the bucket.
    #[arg(
        long,
        env = "ATRIUM_STUDY_BLOCKED_TYPES",
        value_delimiter = ',',
        default_value = "text/html,application/xhtml+xml,image/svg+xml,text/javascript,application/javascript"
    )]
    pub study_blocked_types: Vec<String>,

    /// Seconds an upload form or part URL for a study works (60 to 43,200).
    #[arg(long, env = "ATRIUM_UPLOAD_URL_SECONDS", default_value_t = 900)]
    pub upload_url_seconds: u64,

    /// Where browsers send study uploads (CSP connect-src sources besides 'self'): the S3
    /// endpoints of the buckets.
    #[arg(long, env = "ATRIUM_S3_ORIGINS", default_value = "https://*.amazonaws.com")]
    pub s3_origins: String,

    /// Requests an API token may make at once, before `ATRIUM_API_RATE` applies.
    #[arg(long, env = "ATRIUM_API_BURST", default_value_t = 60.0)]
    pub api_burst: f64,

    /// Requests per second an API token may make in the long run (shared by every replica).
    #[arg(long, env = "ATRIUM_API_RATE", default_value_t = 5.0)]
    pub api_rate: f64,
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

    /// The provider's name on the sign-in button: "Sign in with <name>".
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
}
