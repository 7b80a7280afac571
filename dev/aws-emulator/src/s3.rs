//! S3 in front of moto. moto stores every object it is sent, but ignores what makes presigned
//! requests safe: a POST form's signed policy (the key, the size range, the content type, the
//! expiry) and the expiry of presigned URLs. Real S3 refuses those uploads; so does this proxy,
//! then forwards what S3 would accept to moto. It also answers the browser's CORS requests as
//! the bucket's CORS configuration would (uploads and downloads come from the portal's pages).
//!
//! A listing's continuation token moto did not give is refused as S3 refuses it (moto fails).
//!
//! What it does not check: signatures (it does not know the callers' secrets).
//!
//! It also plays Amazon GuardDuty Malware Protection for S3 on the prefix the airlock holds
//! its files in (`airlock/`): each object written there (put, posted or copied) is tagged
//! `GuardDutyMalwareScanStatus`, `THREATS_FOUND` if it holds the EICAR test string, else
//! `NO_THREATS_FOUND`, but never one holding `ATRIUM-TEST-NEVER-SCANNED` (a scan that does
//! not come).

use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct S3Proxy {
    moto: String,
    http: reqwest::Client,
}

impl S3Proxy {
    pub fn new(moto: String) -> S3Proxy {
        S3Proxy { moto, http: reqwest::Client::new() }
    }
}

/// The prefixes whose objects are scanned, as GuardDuty scans a protected bucket's prefixes.
const PROTECTED: [&str; 1] = ["airlock/"];

/// The scan result GuardDuty would tag an object with; `None`: no result ever comes.
pub fn scan_result(bytes: &[u8]) -> Option<&'static str> {
    let holds = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if holds(b"ATRIUM-TEST-NEVER-SCANNED") {
        None
    } else if holds(b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE") {
        Some("THREATS_FOUND")
    } else {
        Some("NO_THREATS_FOUND")
    }
}

/// An S3 error document, as S3 writes them.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>");
    with_cors((status, [("content-type", "application/xml")], body).into_response())
}

fn with_cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert("access-control-expose-headers", HeaderValue::from_static("ETag"));
    response
}

pub async fn handle(State(proxy): State<S3Proxy>, request: Request) -> Response {
    if request.method() == Method::OPTIONS {
        return preflight(request.headers());
    }
    let is_form = request.method() == Method::POST
        && request.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("multipart/form-data"));
    if is_form {
        let bucket = request.uri().path().trim_matches('/').to_owned();
        return match <Multipart as axum::extract::FromRequest<()>>::from_request(request, &()).await {
            Ok(form) => proxy.post_form(&bucket, form).await,
            Err(rejection) => s3_error(StatusCode::BAD_REQUEST, "MalformedPOSTRequest", &rejection.to_string()),
        };
    }
    if let Some(refusal) = expired_presigned_url(request.uri().query().unwrap_or_default()) {
        return refusal;
    }
    proxy.forward(request).await
}

fn preflight(headers: &HeaderMap) -> Response {
    let requested = headers.get("access-control-request-headers").cloned().unwrap_or(HeaderValue::from_static("*"));
    let mut response = StatusCode::OK.into_response();
    let out = response.headers_mut();
    out.insert("access-control-allow-methods", HeaderValue::from_static("GET, HEAD, PUT, POST, DELETE"));
    out.insert("access-control-allow-headers", requested);
    out.insert("access-control-max-age", HeaderValue::from_static("600"));
    with_cors(response)
}

/// A presigned URL (query-string authentication) past its `X-Amz-Date` + `X-Amz-Expires`.
fn expired_presigned_url(query: &str) -> Option<Response> {
    let parameters: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let (date, expires) = (parameters.get("X-Amz-Date")?, parameters.get("X-Amz-Expires")?);
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let signed = time::PrimitiveDateTime::parse(date, format).ok()?.assume_utc();
    let seconds: i64 = expires.parse().ok()?;
    (time::OffsetDateTime::now_utc() > signed + time::Duration::seconds(seconds))
        .then(|| s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired"))
}

impl S3Proxy {
    /// Passes a request to moto unchanged but for its authentication: a presigned URL's
    /// credential is turned into an Authorization header, by which moto finds the account.
    async fn forward(&self, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
            Ok(body) => body,
            Err(error) => return s3_error(StatusCode::BAD_REQUEST, "IncompleteBody", &error.to_string()),
        };
        let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut outgoing = self.http.request(parts.method.clone(), format!("{}{path_and_query}", self.moto)).body(body.clone());
        for (name, value) in &parts.headers {
            if !matches!(name.as_str(), "host" | "content-length" | "connection" | "origin" | "referer") {
                outgoing = outgoing.header(name, value);
            }
        }
        let query: BTreeMap<String, String> =
            url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
        if !parts.headers.contains_key("authorization") {
            if let Some(credential) = query.get("X-Amz-Credential") {
                outgoing = outgoing.header("authorization", authorization(credential));
            }
            if let Some(token) = query.get("X-Amz-Security-Token") {
                outgoing = outgoing.header("x-amz-security-token", token);
            }
        }
        let answer = self.relay(outgoing).await;
        // moto fails on a continuation token it did not give; S3 says the token is wrong.
        if query.contains_key("continuation-token") && answer.status().is_server_error() {
            return s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", "The continuation token provided is incorrect");
        }
        if answer.status().is_success() && !query.contains_key("tagging") {
            let path = parts.uri.path();
            let auth = auth_headers(&parts.headers, &query);
            let copied = parts.headers.contains_key("x-amz-copy-source");
            if parts.method == Method::PUT && !query.contains_key("partNumber") && !copied {
                self.scan(path, &body, &auth).await;
            } else if (parts.method == Method::PUT && copied) || (parts.method == Method::POST && query.contains_key("uploadId")) {
                // A copy made, or a multipart upload completed: GuardDuty scans the whole object.
                let mut get = self.http.get(format!("{}{path}", self.moto));
                for (name, value) in &auth {
                    get = get.header(*name, value);
                }
                if let Ok(whole) = get.send().await.and_then(reqwest::Response::error_for_status)
                    && let Ok(bytes) = whole.bytes().await
                {
                    self.scan(path, &bytes, &auth).await;
                }
            }
        }
        answer
    }

    /// Tags a new object under a protected prefix with its scan result, as GuardDuty does
    /// moments after it is written. `path`: `/bucket/key`, as sent.
    async fn scan(&self, path: &str, bytes: &[u8], auth: &[(&'static str, String)]) {
        let Some((_, key)) = path.trim_start_matches('/').split_once('/') else { return };
        if !PROTECTED.iter().any(|prefix| key.starts_with(prefix)) {
            return;
        }
        let Some(result) = scan_result(bytes) else { return };
        let tagging =
            format!("<Tagging><TagSet><Tag><Key>GuardDutyMalwareScanStatus</Key><Value>{result}</Value></Tag></TagSet></Tagging>");
        let mut put = self.http.put(format!("{}{path}?tagging", self.moto)).body(tagging);
        for (name, value) in auth {
            put = put.header(*name, value);
        }
        match put.send().await.and_then(reqwest::Response::error_for_status) {
            Ok(_) => tracing::debug!(path, result, "Scanned as GuardDuty would"),
            Err(error) => tracing::warn!(%error, path, "Could not tag the object with its scan result"),
        }
    }

    async fn relay(&self, outgoing: reqwest::RequestBuilder) -> Response {
        let answer = match outgoing.send().await {
            Ok(answer) => answer,
            Err(error) => return s3_error(StatusCode::BAD_GATEWAY, "InternalError", &format!("moto: {error}")),
        };
        let status = answer.status();
        let mut headers = HeaderMap::new();
        for (name, value) in answer.headers() {
            if !matches!(name.as_str(), "content-length" | "transfer-encoding" | "connection" | "access-control-allow-origin") {
                headers.append(name, value.clone());
            }
        }
        let body = answer.bytes().await.unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        with_cors(response)
    }

    /// A browser upload: checks the form against its signed policy as S3 does, then stores the
    /// file with PutObject.
    async fn post_form(&self, bucket: &str, mut form: Multipart) -> Response {
        let mut fields = BTreeMap::new();
        let mut file: Option<(Bytes, Option<String>)> = None;
        loop {
            match form.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    if name == "file" {
                        let content_type = field.content_type().map(str::to_owned);
                        match field.bytes().await {
                            Ok(bytes) => file = Some((bytes, content_type)),
                            Err(error) => return s3_error(StatusCode::BAD_REQUEST, "IncompleteBody", &error.to_string()),
                        }
                        // S3 ignores fields after the file.
                        break;
                    }
                    match field.text().await {
                        Ok(text) => fields.insert(name.to_lowercase(), text),
                        Err(error) => return s3_error(StatusCode::BAD_REQUEST, "MalformedPOSTRequest", &error.to_string()),
                    };
                }
                Ok(None) => break,
                Err(error) => return s3_error(StatusCode::BAD_REQUEST, "MalformedPOSTRequest", &error.to_string()),
            }
        }
        let Some((bytes, _)) = file else {
            return s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", "POST requires exactly one file upload per request.");
        };
        if let Err(message) = check_policy(bucket, &fields, bytes.len() as u64) {
            return s3_error(StatusCode::FORBIDDEN, "AccessDenied", &message);
        }
        let Some(key) = fields.get("key") else {
            return s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", "Bucket POST must contain a field named 'key'.");
        };
        let path: String = key
            .split('/')
            .map(|segment| url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>().replace('+', "%20"))
            .collect::<Vec<_>>()
            .join("/");
        let mut put = self.http.put(format!("{}/{bucket}/{path}", self.moto)).body(bytes.clone());
        if let Some(credential) = fields.get("x-amz-credential") {
            put = put.header("authorization", authorization(credential));
        }
        if let Some(token) = fields.get("x-amz-security-token") {
            put = put.header("x-amz-security-token", token);
        }
        if let Some(content_type) = fields.get("content-type") {
            put = put.header("content-type", content_type);
        }
        let stored = self.relay(put).await;
        if !stored.status().is_success() {
            return stored;
        }
        let mut auth = Vec::new();
        if let Some(credential) = fields.get("x-amz-credential") {
            auth.push(("authorization", authorization(credential)));
        }
        if let Some(token) = fields.get("x-amz-security-token") {
            auth.push(("x-amz-security-token", token.clone()));
        }
        self.scan(&format!("/{bucket}/{path}"), &bytes, &auth).await;
        with_cors(StatusCode::NO_CONTENT.into_response())
    }
}

/// The headers by which moto finds the caller's account, for a call made on their behalf.
fn auth_headers(headers: &HeaderMap, query: &BTreeMap<String, String>) -> Vec<(&'static str, String)> {
    let mut auth = Vec::new();
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(value) => auth.push(("authorization", value.to_owned())),
        None => {
            if let Some(credential) = query.get("X-Amz-Credential") {
                auth.push(("authorization", authorization(credential)));
            }
        }
    }
    let token = headers.get("x-amz-security-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(token) = token.or_else(|| query.get("X-Amz-Security-Token").cloned()) {
        auth.push(("x-amz-security-token", token));
    }
    auth
}

/// An Authorization header naming the credential (moto reads the account from its key and
/// checks no signature).
fn authorization(credential: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature={}", "0".repeat(64))
}

/// S3's rules for a POST form: the policy has not expired; every field of the form but
/// `policy`, `x-amz-signature` and `file` is allowed by a condition; every condition holds.
pub fn check_policy(bucket: &str, fields: &BTreeMap<String, String>, size: u64) -> Result<(), String> {
    let encoded = fields.get("policy").ok_or("The form has no policy.")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| "The policy is not base64.")?;
    let policy: serde_json::Value = serde_json::from_slice(&decoded).map_err(|_| "The policy is not JSON.")?;
    let expiration = policy["expiration"].as_str().ok_or("The policy has no expiration.")?;
    let expires = time::OffsetDateTime::parse(expiration, &time::format_description::well_known::Rfc3339)
        .map_err(|_| "The policy's expiration is not a date.")?;
    if time::OffsetDateTime::now_utc() > expires {
        return Err("Invalid according to Policy: Policy expired.".into());
    }
    let mut covered = vec!["policy".to_owned(), "x-amz-signature".to_owned(), "bucket".to_owned()];
    let value_of = |name: &str| if name == "bucket" { Some(bucket.to_owned()) } else { fields.get(name).cloned() };
    for condition in policy["conditions"].as_array().ok_or("The policy has no conditions.")? {
        match condition {
            serde_json::Value::Object(exact) => {
                for (name, expected) in exact {
                    let name = name.to_lowercase();
                    if value_of(&name).as_deref() != expected.as_str() {
                        return Err(format!("Invalid according to Policy: Policy Condition failed: [\"eq\", \"${name}\", {expected}]"));
                    }
                    covered.push(name);
                }
            }
            serde_json::Value::Array(rule) => match rule.as_slice() {
                [kind, min, max] if kind == "content-length-range" => {
                    let (min, max) = (min.as_u64().unwrap_or(0), max.as_u64().unwrap_or(0));
                    if !(min..=max).contains(&size) {
                        return Err(format!("Your proposed upload of {size} bytes is outside the allowed range {min}..{max}."));
                    }
                }
                [kind, field, value] if kind == "eq" || kind == "starts-with" => {
                    let name = field.as_str().unwrap_or_default().trim_start_matches('$').to_lowercase();
                    let actual = value_of(&name).unwrap_or_default();
                    let expected = value.as_str().unwrap_or_default();
                    let holds = if kind == "eq" { actual == expected } else { actual.starts_with(expected) };
                    if !holds {
                        return Err(format!("Invalid according to Policy: Policy Condition failed: [{kind}, \"${name}\", \"{expected}\"]"));
                    }
                    covered.push(name);
                }
                _ => return Err(format!("The policy has a condition S3 does not know: {condition}")),
            },
            _ => return Err(format!("The policy has a condition S3 does not know: {condition}")),
        }
    }
    if let Some(extra) = fields.keys().find(|name| !covered.contains(name) && !name.starts_with("x-ignore-")) {
        return Err(format!("Invalid according to Policy: Extra input fields: {extra}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{check_policy, scan_result};
    use base64::Engine;
    use std::collections::BTreeMap;

    fn form(expiration: &str, key: &str) -> BTreeMap<String, String> {
        let policy = serde_json::json!({
            "expiration": expiration,
            "conditions": [{ "bucket": "b" }, ["content-length-range", 1, 10], { "key": "studies/a/x.csv" }, { "Content-Type": "text/csv" }],
        });
        BTreeMap::from([
            ("policy".to_owned(), base64::engine::general_purpose::STANDARD.encode(policy.to_string())),
            ("key".to_owned(), key.to_owned()),
            ("content-type".to_owned(), "text/csv".to_owned()),
        ])
    }

    #[test]
    fn guardduty_finds_the_eicar_string_and_can_be_told_never_to_answer() {
        assert_eq!(scan_result(b"gene,count\nBRCA1,3\n"), Some("NO_THREATS_FOUND"));
        let eicar = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        assert_eq!(scan_result(eicar), Some("THREATS_FOUND"));
        assert_eq!(scan_result(b"ATRIUM-TEST-NEVER-SCANNED"), None);
    }

    #[test]
    fn a_form_must_keep_to_its_policy() {
        assert_eq!(check_policy("b", &form("2999-01-01T00:00:00Z", "studies/a/x.csv"), 5), Ok(()));
        assert!(check_policy("b", &form("2999-01-01T00:00:00Z", "studies/a/y.csv"), 5).unwrap_err().contains("$key"));
        assert!(check_policy("b", &form("2999-01-01T00:00:00Z", "studies/a/x.csv"), 11).unwrap_err().contains("outside the allowed range"));
        assert!(check_policy("b", &form("2000-01-01T00:00:00Z", "studies/a/x.csv"), 5).unwrap_err().contains("expired"));
        assert!(check_policy("other", &form("2999-01-01T00:00:00Z", "studies/a/x.csv"), 5).unwrap_err().contains("$bucket"));
        let mut extra = form("2999-01-01T00:00:00Z", "studies/a/x.csv");
        extra.insert("acl".into(), "public-read".into());
        assert!(check_policy("b", &extra, 5).unwrap_err().contains("Extra input fields: acl"));
    }
}
