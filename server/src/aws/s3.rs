//! Study data in S3: browsing a prefix, and presigned URLs that let the browser upload and
//! download the bytes itself (they never pass through the portal). The SDK presigns GET and
//! PUT; a POST upload (a form with a signed policy: the exact key, a size range, a content
//! type) is signed here with SigV4 from the same credentials.

use anyhow::Context;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::Client;
use base64::Engine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// A browser upload: POST a multipart form to `url` with `fields`, then the file last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PresignedPost {
    pub url: String,
    pub fields: BTreeMap<String, String>,
}

/// What an upload may be.
pub struct UploadRules<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub max_bytes: u64,
    /// When set, the upload must declare exactly this content type.
    pub content_type: Option<&'a str>,
    pub expires_in: Duration,
}

/// One entry of a listed prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectEntry {
    pub key: String,
    pub size: i64,
}

pub struct S3Store {
    config: aws_config::SdkConfig,
    client: Client,
}

/// An endpoint override (a local S3) serves buckets as paths, not host names.
fn client_for(config: &aws_config::SdkConfig) -> Client {
    let overridden = config.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let s3 = aws_sdk_s3::config::Builder::from(config).force_path_style(overridden).build();
    Client::from_conf(s3)
}

impl S3Store {
    /// A store acting with `config`'s credentials (the portal's, or a team role's).
    pub fn new(config: aws_config::SdkConfig) -> Self {
        let client = client_for(&config);
        S3Store { config, client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The objects under `prefix` (at most `limit`).
    pub async fn list(&self, bucket: &str, prefix: &str, limit: i32) -> anyhow::Result<Vec<ObjectEntry>> {
        let listed = self.client.list_objects_v2().bucket(bucket).prefix(prefix).max_keys(limit).send().await.context("ListObjectsV2")?;
        Ok(listed
            .contents()
            .iter()
            .filter_map(|o| Some(ObjectEntry { key: o.key()?.to_owned(), size: o.size().unwrap_or(0) }))
            .collect())
    }

    /// A URL that downloads `key` until it expires.
    pub async fn presigned_get(&self, bucket: &str, key: &str, expires_in: Duration) -> anyhow::Result<String> {
        let config = PresigningConfig::expires_in(expires_in).context("presigning period")?;
        let request = self.client.get_object().bucket(bucket).key(key).presigned(config).await.context("presign GetObject")?;
        Ok(request.uri().to_owned())
    }

    /// A form that uploads exactly `rules.key`, within the size, until it expires.
    pub async fn presigned_post(&self, rules: &UploadRules<'_>) -> anyhow::Result<PresignedPost> {
        let credentials = self
            .config
            .credentials_provider()
            .context("no AWS credentials are configured")?
            .provide_credentials()
            .await
            .context("AWS credentials")?;
        let region = self.config.region().map(|r| r.to_string()).context("no AWS region is configured")?;
        let now = SystemTime::now();
        let stamp = time::OffsetDateTime::from(now);
        let amz_date = format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", stamp.year(), u8::from(stamp.month()), stamp.day(), stamp.hour(), stamp.minute(), stamp.second());
        let credential = format!("{}/{}/{region}/s3/aws4_request", credentials.access_key_id(), &amz_date[..8]);
        // Whole seconds, as S3's own examples write it.
        let expires = time::OffsetDateTime::from(now + rules.expires_in);
        let expiration = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            expires.year(),
            u8::from(expires.month()),
            expires.day(),
            expires.hour(),
            expires.minute(),
            expires.second()
        );

        let mut fields = BTreeMap::from([
            ("key".to_owned(), rules.key.to_owned()),
            ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
            ("x-amz-credential".to_owned(), credential),
            ("x-amz-date".to_owned(), amz_date),
        ]);
        if let Some(token) = credentials.session_token() {
            fields.insert("x-amz-security-token".to_owned(), token.to_owned());
        }
        if let Some(content_type) = rules.content_type {
            fields.insert("Content-Type".to_owned(), content_type.to_owned());
        }
        let mut conditions = vec![serde_json::json!({ "bucket": rules.bucket }), serde_json::json!(["content-length-range", 1, rules.max_bytes])];
        conditions.extend(fields.iter().map(|(name, value)| serde_json::json!({ name: value })));
        let policy = serde_json::json!({ "expiration": expiration, "conditions": conditions });
        let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
        let signing_key = aws_sigv4::sign::v4::generate_signing_key(credentials.secret_access_key(), now, &region, "s3");
        let signature = aws_sigv4::sign::v4::calculate_signature(signing_key, policy.as_bytes());
        fields.insert("policy".to_owned(), policy);
        fields.insert("x-amz-signature".to_owned(), signature);
        Ok(PresignedPost { url: self.bucket_url(rules.bucket).await?, fields })
    }

    /// The bucket's URL as this client reaches it: taken from a presigned request, so that
    /// endpoint overrides, regions and path style are the SDK's to decide.
    async fn bucket_url(&self, bucket: &str) -> anyhow::Result<String> {
        let config = PresigningConfig::expires_in(Duration::from_secs(60)).context("presigning period")?;
        let request = self.client.put_object().bucket(bucket).key("k").presigned(config).await.context("presign PutObject")?;
        let uri = request.uri();
        let without_query = uri.split('?').next().unwrap_or(uri);
        Ok(without_query.strip_suffix("/k").unwrap_or(without_query).to_owned())
    }
}
