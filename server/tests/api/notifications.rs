//! Webhook notifications: delivery with retries to a receiver on 127.0.0.1, dead targets,
//! the platforms' payloads, and the admin's form.

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use app::domain::notifications::Notice;
use app::domain::notifications::NotificationEvent;
use atrium::notifications::publish;
use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use std::sync::{Arc, Mutex};

/// A webhook receiver: answers each POST with the next status of its script (200 once the
/// script is used up) and keeps every body it was sent.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<Vec<u16>>>,
    received: Arc<Mutex<Vec<(u16, serde_json::Value)>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> (Receiver, String) {
        let receiver = Receiver { script: Arc::new(Mutex::new(script.iter().rev().copied().collect())), ..Receiver::default() };
        let app = Router::new().route("/hook", post(receive)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bound");
        let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().expect("address").port());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn received(&self) -> Vec<(u16, serde_json::Value)> {
        self.received.lock().expect("lock").clone()
    }
}

async fn receive(State(receiver): State<Receiver>, Json(body): Json<serde_json::Value>) -> StatusCode {
    let status = receiver.script.lock().expect("lock").pop().unwrap_or(200);
    receiver.received.lock().expect("lock").push((status, body));
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

/// Signs grace in and registers a webhook for genomics through the admin's server function.
async fn add_target(app: &TestApp, platform: &str, url: &str) -> reqwest::Client {
    let grace = app.client_signed_in_as("grace").await;
    let added = grace
        .post(format!("{}/api/admin/add_notification_target", app.address))
        .form(&[
            ("name", "Genomics channel"),
            ("platform", platform),
            ("team", "genomics"),
            ("webhook_url", url),
            ("events[workspace.launched]", "on"),
            ("events[budget.threshold]", "on"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(added.status().as_u16(), 200, "{}", added.text().await.unwrap_or_default());
    grace
}

async fn announce(app: &TestApp, team: &str) {
    let notice = Notice {
        event: NotificationEvent::BudgetThreshold,
        team: Some(team.into()),
        title: "Genomics Lab crossed 80% of its budget".into(),
        text: "Forecast $850.00 of $1,000.00.".into(),
    };
    publish(&app.db, &notice).await.expect("published");
}

/// Runs the worker until no job is left, making retries due at once instead of waiting.
async fn deliver_everything(app: &TestApp) {
    let worker = app.worker();
    for _ in 0..50 {
        sqlx::query("UPDATE jobs SET run_after = now()").execute(&app.db).await.expect("due now");
        if worker.run_next_job().await.expect("worker runs") == atrium::worker::Tick::Idle {
            return;
        }
    }
    panic!("jobs kept coming");
}

#[sqlx::test]
async fn a_receiver_failing_twice_then_succeeding_gets_exactly_one_message(db: sqlx::PgPool) {
    let app = spawn_app(db).await;
    let (receiver, url) = Receiver::start(&[500, 503]).await;
    add_target(&app, "slack", &url).await;
    announce(&app, "genomics").await;
    announce(&app, "physics").await; // not this target's team: never sent

    deliver_everything(&app).await;

    let statuses: Vec<u16> = receiver.received().iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, vec![500, 503, 200], "retried after each failure, then stopped");
    let (_, accepted) = &receiver.received()[2];
    assert_eq!(accepted["text"], "Genomics Lab crossed 80% of its budget: Forecast $850.00 of $1,000.00.");
    assert_eq!(accepted["blocks"][0]["type"], "header");
    let (status, last_error): (String, Option<String>) =
        sqlx::query_as("SELECT status, last_error FROM notification_targets").fetch_one(&app.db).await.expect("target");
    assert_eq!((status.as_str(), last_error), ("active", None));
}

#[sqlx::test]
async fn a_webhook_that_is_gone_marks_its_target_dead(db: sqlx::PgPool) {
    let app = spawn_app(db).await;
    let (receiver, url) = Receiver::start(&[404, 404, 404]).await;
    add_target(&app, "teams", &url).await;
    announce(&app, "genomics").await;
    deliver_everything(&app).await;
    assert_eq!(receiver.received().len(), 1, "not retried");
    let (_, card) = &receiver.received()[0];
    assert_eq!(card["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(card["attachments"][0]["content"]["body"][0]["text"], "Genomics Lab crossed 80% of its budget");

    let status: String = sqlx::query_scalar("SELECT status FROM notification_targets").fetch_one(&app.db).await.expect("target");
    assert_eq!(status, "dead");
    announce(&app, "genomics").await;
    deliver_everything(&app).await;
    assert_eq!(receiver.received().len(), 1, "a dead target gets nothing more");
}

#[sqlx::test]
async fn admins_keep_webhook_urls_secret_and_can_send_a_test(db: sqlx::PgPool) {
    let app = spawn_app(db).await;
    let (receiver, url) = Receiver::start(&[]).await;
    let grace = add_target(&app, "slack", &url).await;

    let parameter: String = sqlx::query_scalar("SELECT ssm_parameter FROM notification_targets").fetch_one(&app.db).await.expect("target");
    let stored = aws_sdk_ssm::Client::new(&app.sdk).get_parameter().name(&parameter).with_decryption(true).send().await.expect("in SSM");
    let stored = stored.parameter.expect("parameter");
    assert_eq!(stored.r#type, Some(aws_sdk_ssm::types::ParameterType::SecureString));
    assert_eq!(stored.value.as_deref(), Some(url.as_str()));

    let listed = grace.post(format!("{}/api/admin/notifications", app.address)).send().await.expect("sent").text().await.expect("text");
    assert!(!listed.contains(&url), "the URL is never shown back: {listed}");

    let id: i64 = sqlx::query_scalar("SELECT id FROM notification_targets").fetch_one(&app.db).await.expect("id");
    let tested = grace
        .post(format!("{}/api/admin/test_notification_target", app.address))
        .form(&[("id", id.to_string())])
        .send()
        .await
        .expect("sent");
    assert_eq!(tested.status().as_u16(), 200);
    assert_eq!(receiver.received().len(), 1);
    assert!(receiver.received()[0].1["text"].as_str().unwrap_or_default().contains("Test message"));

    app.sign_in("ada", PASSWORD).await;
    let refused = app.post_form("/api/admin/add_notification_target", &[("name", "x"), ("platform", "slack"), ("webhook_url", &url)]).await;
    assert_eq!(refused.status().as_u16(), 403);

    let bad = grace
        .post(format!("{}/api/admin/add_notification_target", app.address))
        .form(&[
            ("name", "Plain"),
            ("platform", "slack"),
            ("webhook_url", "http://hooks.example.com/x"),
            ("events[workspace.launched]", "on"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status().as_u16(), 400);
    assert!(bad.text().await.expect("text").contains("https://"));

    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE 'notification.%' ORDER BY id")
        .fetch_all(&app.db)
        .await
        .expect("audit");
    assert_eq!(actions, vec!["notification.add", "notification.test"]);
}
