//! Study data in S3: browsing a prefix, and presigned URLs that let the browser upload and
//! download the bytes itself (they never pass through the portal). The SDK presigns GET and
//! PUT; a POST upload (a form with a signed policy: the exact key, a size range, a content
//! type) is signed here with SigV4 from the same credentials.

use super::team_role::{TeamRole, TeamSessions};
use anyhow::Context;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
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
    pub min_bytes: u64,
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

    /// Creates the bucket (in the client's region) unless it is there already.
    pub async fn create_bucket_if_missing(&self, bucket: &str) -> anyhow::Result<()> {
        let mut create = self.client.create_bucket().bucket(bucket);
        let region = self.config.region().map(|r| r.to_string()).unwrap_or_default();
        if region != "us-east-1" && !region.is_empty() {
            let location = aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str());
            create = create
                .create_bucket_configuration(aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(location).build());
        }
        match create.send().await {
            Ok(_) => Ok(()),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()) => {
                Ok(())
            }
            Err(error) => Err(anyhow::Error::new(error).context(format!("CreateBucket {bucket}"))),
        }
    }

    /// The objects under `prefix` (at most `limit`).
    pub async fn list(&self, bucket: &str, prefix: &str, limit: i32) -> anyhow::Result<Vec<ObjectEntry>> {
        let listed = self.client.list_objects_v2().bucket(bucket).prefix(prefix).max_keys(limit).send().await.context("ListObjectsV2")?;
        Ok(listed.contents().iter().filter_map(|o| Some(ObjectEntry { key: o.key()?.to_owned(), size: o.size().unwrap_or(0) })).collect())
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
        let amz_date = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            stamp.year(),
            u8::from(stamp.month()),
            stamp.day(),
            stamp.hour(),
            stamp.minute(),
            stamp.second()
        );
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
        let mut conditions = vec![
            serde_json::json!({ "bucket": rules.bucket }),
            serde_json::json!(["content-length-range", rules.min_bytes.max(1), rules.max_bytes]),
        ];
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

/// Where study bytes are, and as whom the portal reaches them: a team's bucket through the
/// team's role (as the caller, so the account's CloudTrail names them), or the portal's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub bucket: String,
    /// (team role, session name) in the team's account; `None`: the portal's credentials.
    pub role: Option<(TeamRole, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// S3 (or STS) could not be reached, throttled or failed: try again.
    #[error("S3 could not be reached: {0}")]
    Unavailable(String),
    /// S3 said no (no such bucket, access denied, a bad continuation token…).
    #[error("S3 refused: {0}")]
    Refused(String),
}

/// One page of a folder: sub-folders and objects (key, size, last modified as RFC 3339).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FolderPage {
    pub folders: Vec<String>,
    pub objects: Vec<(String, i64, String)>,
    pub next: Option<String>,
}

/// The S3 calls studies make, behind a trait so services never build SDK clients.
#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync {
    /// Makes the prefix exist (an empty object named after it), so the study shows at once.
    async fn create_prefix(&self, place: &Place, prefix: &str) -> Result<(), StoreError>;
    /// Whether anything is stored under the prefix.
    async fn prefix_exists(&self, place: &Place, prefix: &str) -> Result<bool, StoreError>;
    /// One page of the objects under `prefix`: with `delimited`, the folder's own files and
    /// its sub-folders; without, every object below it.
    async fn folder(
        &self,
        place: &Place,
        prefix: &str,
        page: Option<String>,
        limit: i32,
        delimited: bool,
    ) -> Result<FolderPage, StoreError>;
    async fn presigned_get(&self, place: &Place, key: &str, expires_in: Duration) -> Result<String, StoreError>;
    async fn presigned_post(&self, place: &Place, rules: &UploadRules<'_>) -> Result<PresignedPost, StoreError>;
    /// Starts a multipart upload and presigns a PUT for each of its `parts`; the upload id and URLs.
    async fn presigned_parts(
        &self,
        place: &Place,
        key: &str,
        content_type: &str,
        parts: u32,
        expires_in: Duration,
    ) -> Result<(String, Vec<String>), StoreError>;
    async fn complete_parts(&self, place: &Place, key: &str, upload_id: &str, etags: &[String]) -> Result<(), StoreError>;
    /// The object's size, if it exists.
    async fn size_of(&self, place: &Place, key: &str) -> Result<Option<i64>, StoreError>;
    async fn delete(&self, place: &Place, key: &str) -> Result<(), StoreError>;
    /// The value of one of the object's tags; `Ok(None)` when it has no such tag, or is gone.
    async fn tag(&self, place: &Place, key: &str, tag: &str) -> Result<Option<String>, StoreError>;
    /// Copies an object within the bucket, without its tags (a copy is a new object).
    async fn copy(&self, place: &Place, from: &str, to: &str) -> Result<(), StoreError>;
}

/// `ObjectStore` over the AWS SDK.
pub struct S3Objects {
    sessions: TeamSessions,
}

impl S3Objects {
    pub fn new(sessions: impl Into<TeamSessions>) -> Self {
        S3Objects { sessions: sessions.into() }
    }

    async fn store(&self, place: &Place) -> Result<S3Store, StoreError> {
        let Some((role, session)) = &place.role else { return Ok(S3Store::new(self.sessions.base().clone())) };
        let config = self.sessions.config(role, session).await.map_err(|error| match error {
            super::provisioning::ProvisionError::Retryable(e) => StoreError::Unavailable(format!("{e:#}")),
            super::provisioning::ProvisionError::Rejected(message) => StoreError::Refused(message),
        })?;
        Ok(S3Store::new(config))
    }
}

/// Unreachable, throttled or 5xx is "try again"; anything else is S3's answer, in its words.
fn store_error<E, R>(error: aws_sdk_s3::error::SdkError<E, R>) -> StoreError
where
    E: std::error::Error + aws_sdk_s3::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + super::provisioning::HasStatus,
{
    let server_error = error.raw_response().is_some_and(|r| r.status_code() >= 500);
    let code = error.as_service_error().and_then(|e| e.code()).unwrap_or_default().to_owned();
    if super::is_unreachable(&error) || server_error || code.contains("SlowDown") || code.contains("Throttl") {
        return StoreError::Unavailable(format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&error)));
    }
    let message = error.as_service_error().and_then(|e| e.message()).map(str::to_owned);
    StoreError::Refused(match (code.is_empty(), message) {
        (false, Some(message)) => format!("{code}: {message}"),
        (false, None) => code,
        (true, Some(message)) => message,
        (true, None) => format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&error)),
    })
}

fn unexpected(error: anyhow::Error) -> StoreError {
    StoreError::Unavailable(format!("{error:#}"))
}

#[async_trait::async_trait]
impl ObjectStore for S3Objects {
    async fn create_prefix(&self, place: &Place, prefix: &str) -> Result<(), StoreError> {
        let store = self.store(place).await?;
        store.client.put_object().bucket(&place.bucket).key(prefix).body(Vec::new().into()).send().await.map_err(store_error)?;
        Ok(())
    }

    async fn prefix_exists(&self, place: &Place, prefix: &str) -> Result<bool, StoreError> {
        let store = self.store(place).await?;
        let listed = store.client.list_objects_v2().bucket(&place.bucket).prefix(prefix).max_keys(1).send().await.map_err(store_error)?;
        Ok(listed.key_count().unwrap_or(0) > 0)
    }

    async fn folder(
        &self,
        place: &Place,
        prefix: &str,
        page: Option<String>,
        limit: i32,
        delimited: bool,
    ) -> Result<FolderPage, StoreError> {
        let store = self.store(place).await?;
        let listed = store
            .client
            .list_objects_v2()
            .bucket(&place.bucket)
            .prefix(prefix)
            .set_delimiter(delimited.then(|| "/".to_owned()))
            .max_keys(limit)
            .set_continuation_token(page)
            .send()
            .await
            .map_err(store_error)?;
        let folders = listed.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_owned)).collect();
        let objects = listed
            .contents()
            .iter()
            .filter_map(|o| {
                let key = o.key()?;
                // The prefix's own marker is the folder, not a file in it.
                (key != prefix).then(|| {
                    let modified =
                        o.last_modified().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).unwrap_or_default();
                    (key.to_owned(), o.size().unwrap_or(0), modified)
                })
            })
            .collect();
        let next = if listed.is_truncated().unwrap_or(false) { listed.next_continuation_token().map(str::to_owned) } else { None };
        Ok(FolderPage { folders, objects, next })
    }

    async fn presigned_get(&self, place: &Place, key: &str, expires_in: Duration) -> Result<String, StoreError> {
        self.store(place).await?.presigned_get(&place.bucket, key, expires_in).await.map_err(unexpected)
    }

    async fn presigned_post(&self, place: &Place, rules: &UploadRules<'_>) -> Result<PresignedPost, StoreError> {
        self.store(place).await?.presigned_post(rules).await.map_err(unexpected)
    }

    async fn presigned_parts(
        &self,
        place: &Place,
        key: &str,
        content_type: &str,
        parts: u32,
        expires_in: Duration,
    ) -> Result<(String, Vec<String>), StoreError> {
        let store = self.store(place).await?;
        let started = store
            .client
            .create_multipart_upload()
            .bucket(&place.bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(store_error)?;
        let upload_id =
            started.upload_id().ok_or_else(|| StoreError::Unavailable("CreateMultipartUpload returned no upload id".into()))?.to_owned();
        let mut urls = Vec::with_capacity(parts as usize);
        for number in 1..=parts as i32 {
            let config = PresigningConfig::expires_in(expires_in).map_err(|e| unexpected(e.into()))?;
            let request = store
                .client
                .upload_part()
                .bucket(&place.bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(number)
                .presigned(config)
                .await
                .map_err(store_error)?;
            urls.push(request.uri().to_owned());
        }
        Ok((upload_id, urls))
    }

    async fn complete_parts(&self, place: &Place, key: &str, upload_id: &str, etags: &[String]) -> Result<(), StoreError> {
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        let parts =
            etags.iter().enumerate().map(|(i, etag)| CompletedPart::builder().part_number(i as i32 + 1).e_tag(etag).build()).collect();
        let store = self.store(place).await?;
        store
            .client
            .complete_multipart_upload()
            .bucket(&place.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn size_of(&self, place: &Place, key: &str) -> Result<Option<i64>, StoreError> {
        let store = self.store(place).await?;
        match store.client.head_object().bucket(&place.bucket).key(key).send().await {
            Ok(head) => Ok(Some(head.content_length().unwrap_or(0))),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(store_error(error)),
        }
    }

    async fn delete(&self, place: &Place, key: &str) -> Result<(), StoreError> {
        let store = self.store(place).await?;
        store.client.delete_object().bucket(&place.bucket).key(key).send().await.map_err(store_error)?;
        Ok(())
    }

    async fn tag(&self, place: &Place, key: &str, tag: &str) -> Result<Option<String>, StoreError> {
        let store = self.store(place).await?;
        match store.client.get_object_tagging().bucket(&place.bucket).key(key).send().await {
            Ok(tagging) => Ok(tagging.tag_set().iter().find(|t| t.key() == tag).map(|t| t.value().to_owned())),
            Err(error) if error.as_service_error().and_then(aws_sdk_s3::error::ProvideErrorMetadata::code) == Some("NoSuchKey") => Ok(None),
            Err(error) => Err(store_error(error)),
        }
    }

    async fn copy(&self, place: &Place, from: &str, to: &str) -> Result<(), StoreError> {
        let store = self.store(place).await?;
        // The source names bucket and key, the key URL-encoded.
        let source = format!("{}/{}", place.bucket, percent_encoding::utf8_percent_encode(from, percent_encoding::NON_ALPHANUMERIC));
        store
            .client
            .copy_object()
            .bucket(&place.bucket)
            .key(to)
            .copy_source(source)
            .tagging_directive(aws_sdk_s3::types::TaggingDirective::Replace)
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
