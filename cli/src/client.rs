//! The API client: every request carries the token, and every error answer becomes a message
//! (`{"error": {"code", "message"}}`). An answer without a body (204) reads as `null`.

use crate::config::Login;
use anyhow::Context;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An error answer of the API: its message, and each invalid field's.
#[derive(Debug)]
pub struct ApiFailure {
    pub message: String,
    pub fields: Vec<(String, String)>,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        for (field, message) in &self.fields {
            write!(f, "\n  {field}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}

pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

enum Payload {
    None,
    Json(Value),
    Yaml(String),
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
        self.send(Method::GET, path, Payload::None, None, false).await
    }

    /// A GET whose answer is text (a YAML file), not JSON.
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        self.send(Method::GET, path, Payload::None, None, true).await
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: Option<Value>, idempotency_key: Option<&str>) -> anyhow::Result<T> {
        let payload = body.map_or(Payload::None, Payload::Json);
        self.send(Method::POST, path, payload, idempotency_key, false).await
    }

    /// A PUT of a JSON body; an empty answer (204) reads as `null`.
    pub async fn put<T: DeserializeOwned>(&self, path: &str, body: Value) -> anyhow::Result<T> {
        self.send(Method::PUT, path, Payload::Json(body), None, false).await
    }

    /// A DELETE; an empty answer (204) reads as `null`.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.send(Method::DELETE, path, Payload::None, None, false).await
    }

    /// A POST of a YAML file.
    pub async fn post_yaml<T: DeserializeOwned>(&self, path: &str, yaml: String) -> anyhow::Result<T> {
        self.send(Method::POST, path, Payload::Yaml(yaml), None, false).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        payload: Payload,
        idempotency_key: Option<&str>,
        raw: bool,
    ) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        request = match payload {
            Payload::None => request,
            Payload::Json(body) => request.json(&body),
            Payload::Yaml(text) => request.header("Content-Type", "application/yaml").body(text),
        };
        let response = request.send().await.with_context(|| format!("Could not reach {url}"))?;
        let status = response.status();
        let text = response.text().await.context("The answer was cut off")?;
        if !status.is_success() {
            let failure = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|body| {
                    let error = &body["error"];
                    let fields = error["fields"].as_array().into_iter().flatten();
                    Some(ApiFailure {
                        message: error["message"].as_str()?.to_owned(),
                        fields: fields
                            .map(|f| (f["field"].as_str().unwrap_or("").to_owned(), f["message"].as_str().unwrap_or("").to_owned()))
                            .collect(),
                    })
                })
                .unwrap_or_else(|| ApiFailure { message: format!("{status} from {url}"), fields: Vec::new() });
            return Err(failure.into());
        }
        if raw {
            return serde_json::from_value(Value::String(text)).context("The answer was not text");
        }
        if text.is_empty() {
            // 204 No Content: nothing to read.
            return serde_json::from_value(Value::Null).with_context(|| format!("{url} answered with nothing"));
        }
        serde_json::from_str(&text).with_context(|| format!("{url} did not answer with the JSON expected"))
    }
}
