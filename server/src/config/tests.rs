use super::*;
use clap::CommandFactory;

/// The flags every parse needs (those without a default), then `extra`; the environment
/// is ignored (dev/test exports ATRIUM_* variables for the server it starts).
fn parse(extra: &[&str]) -> Result<Settings, clap::Error> {
    use clap::FromArgMatches;
    let required =
        ["atrium", "--database-url", "postgres://localhost/atrium", "--cognito-user-pool-id", "pool", "--cognito-client-id", "client"];
    let matches = SettingsOnly::command().mut_args(|arg| arg.env(None)).try_get_matches_from(required.iter().chain(extra))?;
    Settings::from_arg_matches(&matches)
}

#[test]
fn try_parse_from_reads_flags() {
    let settings = Settings::try_parse_from([
        "atrium",
        "--database-url",
        "postgres://localhost/atrium",
        "--cognito-user-pool-id",
        "pool",
        "--cognito-client-id",
        "client",
        "--workspace-quota",
        "12",
    ])
    .expect("parses");
    assert_eq!(settings.workspaces.quota, 12);
}

fn refusal(extra: &[&str]) -> String {
    match parse(extra) {
        Ok(settings) => panic!("{extra:?} is accepted: {settings:?}"),
        Err(error) => error.to_string(),
    }
}

fn valid() -> Settings {
    parse(&[]).expect("the defaults parse")
}

#[test]
fn the_defaults_are_valid() {
    let settings = valid();
    assert_eq!(settings.validate(), Ok(()));
    assert_eq!(settings.workspaces.presigned_url_seconds, DEFAULT_PRESIGNED_URL_SECONDS);
    assert_eq!(settings.workspaces.leaver_grace_days, DEFAULT_LEAVER_GRACE_DAYS);
    assert_eq!(settings.studies.bucket, DEFAULT_STUDIES_BUCKET);
    assert_eq!(settings.http.listen, SocketAddr::from(([127, 0, 0, 1], 3000)));
}

#[test]
fn a_value_out_of_range_is_refused_while_parsing_naming_its_flag() {
    for (flag, value) in [
        ("--presigned-url-seconds", "4"),
        ("--presigned-url-seconds", "301"),
        ("--studio-session-seconds", "1799"),
        ("--studio-session-seconds", "43201"),
        ("--upload-url-seconds", "59"),
        ("--upload-url-seconds", "43201"),
        ("--leaver-grace-days", "-1"),
        ("--leaver-grace-days", "366"),
        ("--workspace-quota", "-1"),
        ("--session-idle-seconds", "0"),
        ("--api-burst", "0.5"),
        ("--api-burst", "NaN"),
        ("--api-rate", "0"),
        ("--api-rate", "-1"),
        ("--api-rate", "inf"),
        ("--public-url", "ftp://atrium.example.edu"),
        ("--public-url", "https://atrium.example.edu/?x=1"),
        ("--public-url", "atrium.example.edu"),
        ("--connect-origins", "https:; script-src *"),
        ("--s3-origins", "https://a, https://b"),
        ("--study-blocked-types", "text/html,"),
        ("--listen", "localhost"),
        ("--password-sign-in", "false"),
    ] {
        let message = refusal(&[&format!("{flag}={value}")]);
        if flag == "--password-sign-in" {
            assert!(message.contains("required") && message.contains("--oidc-issuer"), "names what it needs: {message}");
        } else {
            assert!(message.contains("invalid value") && message.contains(flag), "{flag} {value}: {message}");
        }
    }
}

#[test]
fn the_edges_of_each_range_are_accepted() {
    let settings = parse(&[
        "--presigned-url-seconds",
        "5",
        "--studio-session-seconds",
        "1800",
        "--upload-url-seconds",
        "43200",
        "--leaver-grace-days",
        "0",
        "--workspace-quota",
        "0",
        "--api-burst",
        "1",
        "--api-rate",
        "0.2",
        "--public-url",
        "https://atrium.example.edu",
        "--study-blocked-types",
        " Text/HTML ,image/svg+xml",
    ])
    .expect("parses");
    assert_eq!(settings.validate(), Ok(()));
    assert_eq!(settings.workspaces.presigned_url_seconds, 5);
    assert_eq!(settings.studies.blocked_types, ["text/html", "image/svg+xml"], "trimmed, in lower case");
}

#[test]
fn validate_refuses_a_value_out_of_range_naming_its_variable() {
    type Breaks = fn(&mut Settings);
    let cases: [(&str, Breaks); 14] = [
        ("ATRIUM_PRESIGNED_URL_SECONDS", |s| s.workspaces.presigned_url_seconds = 301),
        ("ATRIUM_STUDIO_SESSION_SECONDS", |s| s.workspaces.studio_session_seconds = 60),
        ("ATRIUM_UPLOAD_URL_SECONDS", |s| s.studies.upload_url_seconds = 10),
        ("ATRIUM_LEAVER_GRACE_DAYS", |s| s.workspaces.leaver_grace_days = 400),
        ("ATRIUM_WORKSPACE_QUOTA", |s| s.workspaces.quota = -1),
        ("ATRIUM_SESSION_IDLE_SECONDS", |s| s.http.session_idle_seconds = 0),
        ("ATRIUM_API_BURST", |s| s.api.burst = 0.0),
        ("ATRIUM_API_RATE", |s| s.api.rate = 0.0),
        ("ATRIUM_PUBLIC_URL", |s| s.http.public_url = Some("https://atrium.example.edu#top".into())),
        ("ATRIUM_CONNECT_ORIGINS", |s| s.http.connect_origins = "https:; img-src *".into()),
        ("ATRIUM_S3_ORIGINS", |s| s.http.s3_origins = "https://a\tb".into()),
        ("ATRIUM_STUDY_BLOCKED_TYPES", |s| s.studies.blocked_types = vec!["Text/HTML".into()]),
        ("ATRIUM_PASSWORD_SIGN_IN", |s| s.password_sign_in = false),
        ("ATRIUM_OIDC_CLIENT_ID", |s| s.oidc.issuer = Some("https://sso.example.edu".into())),
    ];
    for (variable, break_it) in cases {
        let mut settings = valid();
        break_it(&mut settings);
        let error = settings.validate().expect_err(variable);
        assert_eq!(error.setting, variable);
        assert!(error.to_string().starts_with(variable), "{error}");
    }
}

#[test]
fn a_range_refusal_says_what_the_range_is() {
    let mut settings = valid();
    settings.workspaces.presigned_url_seconds = 400;
    assert_eq!(
        settings.validate().map_err(|error| error.to_string()),
        Err("ATRIUM_PRESIGNED_URL_SECONDS must be 5 to 300 (it is 400)".to_owned())
    );
}

#[test]
fn password_sign_in_may_be_off_with_single_sign_on() {
    let mut settings = valid();
    settings.password_sign_in = false;
    settings.oidc.issuer = Some("https://sso.example.edu".into());
    settings.oidc.client_id = Some("atrium".into());
    assert_eq!(settings.validate(), Ok(()));
}

/// Operators, dev/ and deploy/ set these by name: grouping the settings changes none of
/// them, nor any default.
#[test]
fn every_flag_variable_and_default_is_as_documented() {
    let command = SettingsOnly::command();
    let mut arguments: Vec<(String, String, String)> = command
        .get_arguments()
        .filter(|arg| arg.get_id() != "help")
        .map(|arg| {
            let long = arg.get_long().unwrap_or_default().to_owned();
            let env = arg.get_env().map(|env| env.to_string_lossy().into_owned()).unwrap_or_default();
            let default = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect::<Vec<_>>().join(",");
            (long, env, default)
        })
        .collect();
    arguments.sort();
    let mut expected: Vec<(String, String, String)> = [
        ("allow-local-webhooks", "ATRIUM_ALLOW_LOCAL_WEBHOOKS", "false"),
        ("allowed-cidrs", "ATRIUM_ALLOWED_CIDRS", ""),
        ("api-burst", "ATRIUM_API_BURST", "60"),
        ("api-rate", "ATRIUM_API_RATE", "5"),
        ("cognito-client-id", "ATRIUM_COGNITO_CLIENT_ID", ""),
        ("cognito-issuer", "ATRIUM_COGNITO_ISSUER", ""),
        ("cognito-jwks-url", "ATRIUM_COGNITO_JWKS_URL", ""),
        ("cognito-user-pool-id", "ATRIUM_COGNITO_USER_POOL_ID", ""),
        ("connect-origins", "ATRIUM_CONNECT_ORIGINS", "https:"),
        ("database-url", "DATABASE_URL", ""),
        ("leaver-grace-days", "ATRIUM_LEAVER_GRACE_DAYS", "7"),
        ("listen", "ATRIUM_LISTEN", "127.0.0.1:3000"),
        ("mail-from", "ATRIUM_MAIL_FROM", ""),
        ("malware-scan", "ATRIUM_MALWARE_SCAN", "guardduty"),
        ("metrics-listen", "ATRIUM_METRICS_LISTEN", ""),
        ("oidc-client-id", "ATRIUM_OIDC_CLIENT_ID", ""),
        ("oidc-client-secret", "ATRIUM_OIDC_CLIENT_SECRET", ""),
        ("oidc-display-name", "ATRIUM_OIDC_DISPLAY_NAME", "your organisation"),
        ("oidc-groups-claim", "ATRIUM_OIDC_GROUPS_CLAIM", "cognito:groups"),
        ("oidc-issuer", "ATRIUM_OIDC_ISSUER", ""),
        ("oidc-username-claim", "ATRIUM_OIDC_USERNAME_CLAIM", "cognito:username"),
        ("password-sign-in", "ATRIUM_PASSWORD_SIGN_IN", "true"),
        ("portal-account-id", "ATRIUM_PORTAL_ACCOUNT_ID", ""),
        ("presigned-url-seconds", "ATRIUM_PRESIGNED_URL_SECONDS", "60"),
        ("public-url", "ATRIUM_PUBLIC_URL", ""),
        ("run-worker", "ATRIUM_RUN_WORKER", "true"),
        ("s3-origins", "ATRIUM_S3_ORIGINS", "https://*.amazonaws.com"),
        ("scan-wait-minutes", "ATRIUM_SCAN_WAIT_MINUTES", "30"),
        ("secure-cookies", "ATRIUM_SECURE_COOKIES", "true"),
        ("session-idle-seconds", "ATRIUM_SESSION_IDLE_SECONDS", "28800"),
        ("ssm-cache-seconds", "ATRIUM_SSM_CACHE_SECONDS", "60"),
        ("studies-bucket", "ATRIUM_STUDIES_BUCKET", "atrium-studies"),
        (
            "study-blocked-types",
            "ATRIUM_STUDY_BLOCKED_TYPES",
            "text/html,application/xhtml+xml,image/svg+xml,text/javascript,application/javascript",
        ),
        ("study-max-file-bytes", "ATRIUM_STUDY_MAX_FILE_BYTES", "5368709120"),
        ("studio-session-seconds", "ATRIUM_STUDIO_SESSION_SECONDS", "43200"),
        ("team-template-url", "ATRIUM_TEAM_TEMPLATE_URL", ""),
        ("trusted-proxies", "ATRIUM_TRUSTED_PROXIES", ""),
        ("upload-url-seconds", "ATRIUM_UPLOAD_URL_SECONDS", "900"),
        ("workspace-quota", "ATRIUM_WORKSPACE_QUOTA", "3"),
    ]
    .iter()
    .map(|(long, env, default)| ((*long).to_owned(), (*env).to_owned(), (*default).to_owned()))
    .collect();
    expected.sort();
    assert_eq!(arguments, expected);
}

#[test]
fn the_configuration_reference_in_the_docs_is_the_one_the_settings_give() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/reference/configuration.md");
    let generated = Settings::reference();
    if std::env::var_os("ATRIUM_WRITE_DOCS").is_some() {
        std::fs::write(path, &generated).expect("the reference is written");
    }
    let written = std::fs::read_to_string(path).unwrap_or_default();
    assert!(written == generated, "docs/src/reference/configuration.md is out of date: ATRIUM_WRITE_DOCS=1 dev/docs rewrites it");
    for setting in ["DATABASE_URL", "ATRIUM_COGNITO_USER_POOL_ID", "ATRIUM_TEAM_TEMPLATE_URL", "ATRIUM_WORKSPACE_QUOTA"] {
        assert!(generated.contains(&format!("| `{setting}` |")), "{setting} is in the reference");
    }
}
