use crate::helpers::{PASSWORD, seeded, settings_for, spawn_app, spawn_app_with};
use atrium::startup::{Application, database_pool};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn healthz_checks_the_database_and_the_identity_provider(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["identity_provider"], "ok");
}

#[sqlx::test(migrations = "../migrations")]
async fn healthz_is_503_when_the_identity_provider_is_unreachable(db: PgPool) {
    let app = spawn_app_with(db, |settings| {
        settings.cognito.jwks_url = Some("http://127.0.0.1:9/jwks.json".into());
    })
    .await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["identity_provider"], "unavailable");
    assert_eq!(body["database"], "ok");
}

/// The app serving against a database that is not there: port 9 refuses connections.
async fn app_without_database(seeded_db: PgPool) -> String {
    let (sdk, identity) = seeded(&seeded_db).await;
    let missing = database_pool("postgres://postgres@127.0.0.1:9/atrium").expect("url parses");
    let app = Application::build_with(settings_for(&identity), missing, &sdk).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    address
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_answer_503_while_the_database_is_down_and_the_process_keeps_running(db: PgPool) {
    let address = app_without_database(db).await;
    let http = crate::helpers::client();

    let response = http.get(format!("{address}/healthz")).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 503);

    // A visitor with a session cookie: the session cannot be loaded.
    let cookie = format!("atrium_session={}", tower_sessions::session::Id::default());
    let response = http.get(format!("{address}/teams")).header("cookie", cookie).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.text().await.unwrap_or_default().contains("Temporarily unavailable"));

    // Signing in reaches Cognito but cannot record the sign-in.
    let response =
        http.post(format!("{address}/auth/sign-in")).form(&[("username", "ada"), ("password", PASSWORD)]).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 503);

    // The landing page needs no database and still renders.
    let response = http.get(format!("{address}/")).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_answers_503_when_cognito_is_unreachable(db: PgPool) {
    let (_, identity) = seeded(&db).await;
    // An endpoint set in code outranks AWS_ENDPOINT_URL; port 9 refuses connections.
    let unreachable = aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url("http://127.0.0.1:9").load().await;
    let app = Application::build_with(settings_for(&identity), db, &unreachable).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());

    let response = crate::helpers::client()
        .post(format!("{address}/auth/sign-in"))
        .form(&[("username", "ada"), ("password", PASSWORD)])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.text().await.unwrap_or_default().contains("identity provider"));
}

/// A TCP relay in front of Postgres that can be cut, to play a database outage: while cut it
/// refuses new connections and has dropped the open ones.
struct DatabaseLink {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl DatabaseLink {
    async fn to(target: std::net::SocketAddr) -> DatabaseLink {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (up_flag, open_list) = (up.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up_flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                open_list.lock().expect("lock").push(relay.abort_handle());
            }
        });
        DatabaseLink { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for relay in self.open.lock().expect("lock").drain(..) {
            relay.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_portal_recovers_by_itself_when_the_database_comes_back(db: PgPool) {
    let (sdk, identity) = seeded(&db).await;

    let options = db.connect_options();
    let target: std::net::SocketAddr =
        format!("{}:{}", options.get_host(), options.get_port()).parse().expect("the test database listens on an IP address");
    let link = DatabaseLink::to(target).await;
    let relayed = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_lazy_with((*options).clone().host("127.0.0.1").port(link.port));
    let app = Application::build_with(settings_for(&identity), relayed, &sdk).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    let http = crate::helpers::client();
    let teams = || async { http.get(format!("{address}/teams")).send().await.expect("sent").status().as_u16() };

    let response =
        http.post(format!("{address}/auth/sign-in")).form(&[("username", "ada"), ("password", PASSWORD)]).send().await.expect("sent");
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(teams().await, 200);

    link.cut();
    // The process learns of the outage when its LISTEN connection closes; a request that races
    // that news is still answered from the caches. Within a few seconds every answer is a 503.
    let mut status = teams().await;
    for _ in 0..50 {
        if status == 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = teams().await;
    }
    assert_eq!(status, 503, "an outage is a 503, not a crash");

    link.restore();
    assert_eq!(teams().await, 200, "the same session works again once the database is back");
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_are_compressed_as_the_browser_asks(db: PgPool) {
    let app = spawn_app(db).await;
    for (asked, expected) in [("br", Some("br")), ("gzip", Some("gzip")), ("identity", None)] {
        let response = app.http.get(format!("{}/", app.address)).header("accept-encoding", asked).send().await.expect("sent");
        assert_eq!(response.status().as_u16(), 200);
        let encoding = response.headers().get("content-encoding").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(encoding.as_deref(), expected, "asked for {asked}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn every_response_carries_a_request_id_the_load_balancer_may_set(db: PgPool) {
    let app = spawn_app(db).await;
    let id_of = |response: &reqwest::Response| response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let given = app.http.get(format!("{}/", app.address)).header("x-request-id", "lb-7f3a").send().await.expect("sent");
    assert_eq!(id_of(&given).as_deref(), Some("lb-7f3a"));
    let first = id_of(&app.get("/").await).expect("an id is made when none is given");
    let second = id_of(&app.get("/").await).expect("an id is made when none is given");
    assert_ne!(first, second);
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_run_only_the_inline_scripts_carrying_their_nonce(db: PgPool) {
    let app = spawn_app(db).await;
    let script_src = |response: &reqwest::Response| {
        let policy = response.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        policy.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap_or_default().to_owned()
    };
    let nonce_of = |directive: &str| directive.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).map(str::to_owned);

    let page = app.get("/").await;
    let directive = script_src(&page);
    assert!(!directive.contains("unsafe-inline"), "{directive}");
    let nonce = nonce_of(&directive).expect("the page's policy names a nonce");
    let html = page.text().await.expect("a body");
    assert!(html.contains(&format!("<script nonce=\"{nonce}\">")), "Leptos' inline scripts carry it");

    let again = nonce_of(&script_src(&app.get("/").await)).expect("a nonce");
    assert_ne!(again, nonce, "a new nonce for every response");

    let not_found = app.get("/no-such-page").await;
    assert_eq!(not_found.status().as_u16(), 404);
    assert!(nonce_of(&script_src(&not_found)).is_some(), "the not-found page hydrates too");

    let health = app.get("/healthz").await;
    assert_eq!(script_src(&health), "script-src 'self' 'wasm-unsafe-eval'", "no inline script anywhere else");
}
