use atrium::config::{CognitoSettings, Settings};
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
        listen: "127.0.0.1:0".into(),
        cognito: CognitoSettings {
            user_pool_id: identity.user_pool_id.clone(),
            client_id: identity.client_id.clone(),
            issuer: None,
            jwks_url: Some(format!("{endpoint}/{}/.well-known/jwks.json", identity.user_pool_id)),
        },
        secure_cookies: false,
        session_idle_seconds: 3600,
    }
}

/// Seeds the demo data into a pool of the test's own and starts the app.
pub async fn spawn_app(db: PgPool) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

pub async fn spawn_app_with(db: PgPool, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let sdk = moto_sdk_config().await;
    atrium::startup::migrate(&db).await.expect("migrations run");
    let identity = demo::seed_into_pool(&sdk, &db, &unique_pool_name()).await.expect("demo data seeds");
    let mut settings = settings_for(&identity);
    adjust(&mut settings);
    let app = Application::build_with(settings, db.clone(), &sdk).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    TestApp { address, db, identity, sdk, http: client() }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).cookie_store(true).build().expect("client builds")
}

impl TestApp {
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
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .cookies()
        .find(|c| c.name() == "atrium_session")
        .map(|c| c.value().to_owned())
}
