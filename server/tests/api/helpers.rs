use atrium::config::{
    ApiSettings, CognitoSettings, HttpSettings, NotificationSettings, OidcSettings, Settings, StudiesSettings, WorkspaceSettings,
};
use atrium::demo::{self, DemoIdentity};
use atrium::startup::Application;
use aws_sdk_cognitoidentityprovider::Client as Cognito;
use reqwest::redirect::Policy;
use sqlx::PgPool;
use std::sync::atomic::{AtomicU32, Ordering};

pub const PASSWORD: &str = demo::DEMO_PASSWORD;

pub struct TestApp {
    pub address: String,
    pub db: PgPool,
    pub identity: DemoIdentity,
    pub sdk: aws_config::SdkConfig,
    /// Keeps cookies, never follows redirects: tests look at each response.
    pub http: reqwest::Client,
    /// `http://127.0.0.1:<port>` of the metrics server (on a port of its own).
    pub metrics_address: String,
}

/// The AWS configuration pointing at moto. Refuses to run against real AWS.
pub async fn moto_sdk_config() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|url| url.starts_with("http://127.0.0.1")),
        "integration tests need moto: run them through dev/test (AWS_ENDPOINT_URL is not a local endpoint)"
    );
    atrium::aws::load_sdk_config().await
}

/// A user pool name no other test uses.
pub fn unique_pool_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("atrium-test-{}-{nanos}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub fn settings_for(identity: &DemoIdentity) -> Settings {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    Settings {
        database_url: "postgres://unused".to_string().into(),
        http: HttpSettings {
            listen: ([127, 0, 0, 1], 0).into(),
            metrics_listen: Some(([127, 0, 0, 1], 0).into()),
            public_url: None,
            secure_cookies: false,
            session_idle_seconds: 3600,
            trusted_proxies: Vec::new(),
            allowed_cidrs: Vec::new(),
            connect_origins: "https:".into(),
            s3_origins: "https:".into(),
        },
        cognito: CognitoSettings {
            user_pool_id: identity.user_pool_id.clone(),
            client_id: identity.client_id.clone(),
            issuer: None,
            jwks_url: Some(format!("{endpoint}/{}/.well-known/jwks.json", identity.user_pool_id)),
        },
        oidc: OidcSettings::default(),
        password_sign_in: true,
        // Tests drive the worker themselves, one job at a time.
        run_worker: false,
        api: ApiSettings { burst: 60.0, rate: 5.0 },
        workspaces: WorkspaceSettings {
            quota: 3,
            leaver_grace_days: 7,
            presigned_url_seconds: 60,
            studio_session_seconds: 43_200,
            ssm_cache_seconds: 60,
        },
        studies: StudiesSettings {
            bucket: atrium::demo::PORTAL_STUDIES_BUCKET.into(),
            max_file_bytes: 64 * 1024 * 1024,
            blocked_types: vec!["text/html".into(), "image/svg+xml".into()],
            upload_url_seconds: 900,
            malware_scan: "guardduty".into(),
            scan_wait_minutes: 30,
        },
        notifications: NotificationSettings { mail_from: None, allow_local_webhooks: true },
        team_accounts: Default::default(),
    }
}

/// Seeds the demo data into a pool of the test's own and starts the app.
pub async fn spawn_app(db: PgPool) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// moto's SDK configuration and the demo users, groups and teams in a user pool of this test's own.
pub async fn seeded(db: &PgPool) -> (aws_config::SdkConfig, DemoIdentity) {
    let sdk = moto_sdk_config().await;
    atrium::startup::migrate(db).await.expect("migrations run");
    let identity = demo::seed_into_pool(&sdk, db, &unique_pool_name()).await.expect("demo data seeds");
    (sdk, identity)
}

pub async fn spawn_app_with(db: PgPool, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let (sdk, identity) = seeded(&db).await;
    let mut settings = settings_for(&identity);
    adjust(&mut settings);
    let app = Application::build_with(settings, db.clone(), &sdk).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = format!("http://127.0.0.1:{}", app.metrics_port().unwrap_or_default());
    tokio::spawn(app.run());
    TestApp { address, db, identity, sdk, http: client(), metrics_address }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).cookie_store(true).build().expect("client builds")
}

impl TestApp {
    /// A browser of its own (its own cookies), signed in as `username` with the demo password.
    pub async fn client_signed_in_as(&self, username: &str) -> reqwest::Client {
        let http = client();
        let response = http
            .post(format!("{}/auth/sign-in", self.address))
            .form(&[("username", username), ("password", PASSWORD)])
            .send()
            .await
            .expect("sent");
        // A refused sign-in is also a redirect, back to the form with an error.
        let landing = location(&response);
        assert!(response.status().is_redirection() && !landing.contains("error"), "{username} signs in: {} {landing}", response.status());
        http
    }

    pub fn cognito(&self) -> Cognito {
        Cognito::new(&self.sdk)
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_form("/auth/sign-in", &[("username", username), ("password", password)]).await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.address)).form(form).send().await.expect("request is sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.address)).send().await.expect("request is sent")
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response.cookies().find(|c| c.name() == "atrium_session").map(|c| c.value().to_owned())
}

impl TestApp {
    /// Imports and approves a seeded version as grace, through the pages: its workspace type id.
    pub async fn approved_version(&self, product: &str, version: &str) -> i64 {
        let grace = self.client_signed_in_as("grace").await;
        let (product_id, version_id) = self.version_of(product, version).await;
        let (status, imported) =
            call(self, &grace, "admin/import_version", &[("product_id", &product_id), ("version_id", &version_id)]).await;
        assert_eq!(status, 200, "{imported}");
        let type_id = imported["id"].as_i64().expect("imported");
        let (status, body) = call(self, &grace, "admin/approve_type", &[("type_id", &type_id.to_string())]).await;
        assert_eq!(status, 200, "{body}");
        type_id
    }

    /// "Sized workstation" on Linux workstation v1 for genomics' researchers, resizable between
    /// t3.medium and t3.large, created by grace on the catalog page: the configuration.
    pub async fn sized_workstation_configuration(&self) -> serde_json::Value {
        let v1 = self.approved_version("Linux workstation (EC2)", "v1").await;
        let grace = self.client_signed_in_as("grace").await;
        let type_id = v1.to_string();
        let form = [
            ("type_id", type_id.as_str()),
            ("name", "Sized workstation"),
            ("allowed_roles[researcher]", "on"),
            ("allowed_teams[genomics]", "on"),
            ("estimated_hourly_cost", "0.05"),
            ("parameters[InstanceType]", "t3.medium"),
            ("size_parameter", "InstanceType"),
            ("sizes", "t3.medium = 0.05\nt3.large = 0.17"),
        ];
        let (status, configuration) = call(self, &grace, "admin/create_configuration", &form).await;
        assert_eq!(status, 200, "{configuration}");
        configuration
    }

    /// (product id, version id) of a seeded product version, straight from Service Catalog.
    pub async fn version_of(&self, product: &str, version: &str) -> (String, String) {
        let catalog = aws_sdk_servicecatalog::Client::new(&self.sdk);
        let products = catalog.search_products_as_admin().send().await.expect("products listed");
        let product_id = products
            .product_view_details()
            .iter()
            .filter_map(|d| d.product_view_summary())
            .find(|s| s.name() == Some(product))
            .and_then(|s| s.product_id())
            .unwrap_or_else(|| panic!("{product} is seeded (dev/test seeds the catalog)"))
            .to_owned();
        let versions = catalog.list_provisioning_artifacts().product_id(&product_id).send().await.expect("versions");
        let version_id = versions
            .provisioning_artifact_details()
            .iter()
            .find(|a| a.name() == Some(version))
            .and_then(|a| a.id())
            .expect("version exists")
            .to_owned();
        (product_id, version_id)
    }

    /// Imports and approves a seeded product version as grace, and writes a configuration of it
    /// for researchers of genomics. The configuration's id.
    pub async fn configuration_for_genomics(&self, product: &str, version: &str, name: &str) -> i64 {
        let admin = self.client_signed_in_as("grace").await;
        let (product_id, version_id) = self.version_of(product, version).await;
        let post = |path: &str, form: Vec<(String, String)>| {
            let request = admin.post(format!("{}{path}", self.address)).form(&form);
            async move { request.send().await.expect("sent").json::<serde_json::Value>().await.expect("json") }
        };
        let imported = post("/api/admin/import_version", vec![("product_id".into(), product_id), ("version_id".into(), version_id)]).await;
        let type_id = imported["id"].as_i64().expect("imported").to_string();
        post("/api/admin/approve_type", vec![("type_id".into(), type_id.clone())]).await;
        let created = post(
            "/api/admin/create_configuration",
            vec![
                ("type_id".into(), type_id),
                ("name".into(), name.into()),
                ("allowed_roles[researcher]".into(), "on".into()),
                ("allowed_teams[genomics]".into(), "on".into()),
                ("estimated_hourly_cost".into(), "0.20".into()),
            ],
        )
        .await;
        created["id"].as_i64().unwrap_or_else(|| panic!("configuration created: {created}"))
    }

    /// Launches as the signed-in user; (status, body).
    pub async fn launch(&self, team: &str, configuration_id: i64, name: &str, key: &str) -> (u16, serde_json::Value) {
        let id = configuration_id.to_string();
        let response = self
            .post_form("/api/launch_workspace", &[("team", team), ("configuration_id", &id), ("name", name), ("launch_key", key)])
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Runs the worker until the workspace is in a stable state (or 30 s pass).
    pub async fn work_until_settled(&self, worker: &atrium::worker::Worker, workspace_id: &str) -> String {
        for _ in 0..150 {
            let state: String = sqlx::query_scalar("SELECT state FROM workspaces WHERE id = $1")
                .bind(workspace_id)
                .fetch_one(&self.db)
                .await
                .expect("workspace exists");
            if !["requested", "provisioning", "stopping", "starting", "updating", "terminating"].contains(&state.as_str()) {
                return state;
            }
            if worker.run_next_job().await.expect("the worker runs") == atrium::worker::Tick::Idle {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
        panic!("workspace {workspace_id} never settled");
    }

    pub fn worker(&self) -> atrium::worker::Worker {
        atrium::startup::worker(self.db.clone(), &self.sdk).expect("the worker builds")
    }

    /// Tells the AWS emulator to misbehave on calls whose body contains `body_contains`.
    pub async fn emulator_fault(&self, rule: serde_json::Value) {
        let emulator = std::env::var("AWS_ENDPOINT_URL_SERVICE_CATALOG").expect("dev/test starts the AWS emulator");
        let response = reqwest::Client::new().post(format!("{emulator}/_emulator/faults")).json(&rule).send().await.expect("sent");
        assert!(response.status().is_success());
    }
}

/// Calls a server function as the client's user: (status, JSON body).
pub async fn call(app: &TestApp, client: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let response = client.post(format!("{}/api/{endpoint}", app.address)).form(form).send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

/// The fields named in an `Invalid` answer.
pub fn invalid_fields(body: &serde_json::Value) -> Vec<String> {
    body["Invalid"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// How many audit rows of `action` by `actor` ended with `result`.
pub async fn audit_rows(db: &PgPool, actor: &str, action: &str, result: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE actor = $1 AND action = $2 AND result = $3")
        .bind(actor)
        .bind(action)
        .bind(result)
        .fetch_one(db)
        .await
        .expect("audit log readable")
}

impl TestApp {
    /// The user's groups in this test's user pool.
    pub async fn groups_of(&self, username: &str) -> Vec<String> {
        let groups = self
            .cognito()
            .admin_list_groups_for_user()
            .user_pool_id(&self.identity.user_pool_id)
            .username(username)
            .send()
            .await
            .expect("groups listed");
        groups.groups().iter().filter_map(|g| g.group_name().map(str::to_owned)).collect()
    }
}

// --- /api/v1 with personal access tokens ---

/// Creates a token on `/settings/tokens`' server function as `username`; its secret.
pub async fn token_for(app: &TestApp, username: &str, scopes: &[&str]) -> String {
    let browser = app.client_signed_in_as(username).await;
    let mut form = vec![("name", "test script"), ("days", "7")];
    let fields: Vec<String> = scopes.iter().map(|s| format!("scope_{s}")).collect();
    form.extend(fields.iter().map(|f| (f.as_str(), "on")));
    let (status, created) = call(app, &browser, "create_token", &form).await;
    assert_eq!(status, 200, "{created}");
    created["secret"].as_str().expect("the secret is in the answer").to_owned()
}

/// (status, JSON body) of an API request with `token`; `null` for a 204 (which has no body).
pub async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let url = format!("{}/api/v1{path}", app.address);
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.header("idempotency-key", "api-test-key-0001").json(&body);
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = response.text().await.expect("body");
    if status == 204 {
        assert_eq!(body, "", "{path}: 204 has no body");
        return (status, serde_json::Value::Null);
    }
    assert!(content_type.starts_with("application/json"), "{path}: JSON, never a page ({status} {content_type}): {body}");
    (status, serde_json::from_str(&body).expect("JSON"))
}

pub fn error_code(body: &serde_json::Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_else(|| panic!("the error shape: {body}"))
}

/// The source of every feature module of the app, where the server functions are (read by the
/// tests that walk all server functions).
pub fn server_function_source() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/src/features");
    let mut files: Vec<_> =
        std::fs::read_dir(dir).expect("app/src/features").filter_map(|entry| entry.ok()).map(|entry| entry.path()).collect();
    files.sort();
    files
        .iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| std::fs::read_to_string(path).expect("a feature module"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (status, JSON body or `null` for a 204) of an API request with `token`.
pub async fn api_as(app: &TestApp, method: &str, path: &str, token: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
    api(app, method, path, Some(token), body).await
}

/// A name no other test uses (tests share moto's buckets and Cognito).
pub fn unique(name: &str) -> String {
    format!("{name}-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple().to_string().get(..8).unwrap_or_default())
}

/// Credentials in a team's account, as somebody other than the portal (the tests' view of what
/// AWS holds there).
pub async fn in_team_account(sdk: &aws_config::SdkConfig, role_arn: &str, session: &str) -> aws_config::SdkConfig {
    let role = atrium::aws::team_role::TeamRole::new(role_arn, "a-test-outside-the-portal");
    atrium::aws::team_role::TeamSessions::new(sdk.clone()).fresh(&role, session).await.expect("role assumed")
}
