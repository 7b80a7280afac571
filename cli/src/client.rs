//! The API client: every request carries the token, and every error answer becomes a message
//! (`{"error": {"code", "message"}}`).

use crate::config::Login;
use anyhow::{anyhow, Context};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    pub fn new(login: &Login) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("atrium-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("Failed to build the HTTP client")?;
        let base = format!("{}/api/v1", login.url.trim_end_matches('/'));
        Ok(Api { http, base, token: login.token.clone() })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: Option<Value>, idempotency_key: Option<&str>) -> anyhow::Result<T> {
        self.send(Method::POST, path, body, idempotency_key).await
    }

    async fn send<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<Value>, idempotency_key: Option<&str>) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.with_context(|| format!("Could not reach {url}"))?;
        let status = response.status();
        let text = response.text().await.context("The answer was cut off")?;
        if !status.is_success() {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|body| {
                    let error = &body["error"];
                    let mut message = error["message"].as_str()?.to_owned();
                    for field in error["fields"].as_array().into_iter().flatten() {
                        message.push_str(&format!("\n  {}: {}", field["field"].as_str().unwrap_or("?"), field["message"].as_str().unwrap_or("")));
                    }
                    Some(message)
                })
                .unwrap_or_else(|| format!("{status} from {url}"));
            return Err(anyhow!("{message}"));
        }
        serde_json::from_str(&text).with_context(|| format!("{url} did not answer with the JSON expected"))
    }
}
