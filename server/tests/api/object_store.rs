//! Study bytes go between the browser and S3 directly: a presigned POST uploads, a presigned
//! GET downloads. Against moto's S3, with a real HTTP client, read back through the SDK.

use atrium::aws::s3::{S3Store, UploadRules};
use std::time::Duration;

async fn bucket(store: &S3Store, sdk: &aws_config::SdkConfig) -> String {
    let name = format!("atrium-studies-{}", uuid::Uuid::new_v4().simple());
    let mut create = store.client().create_bucket().bucket(&name);
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
    if region != "us-east-1" {
        let location = aws_sdk_s3::types::BucketLocationConstraint::from(region.as_str());
        create = create
            .create_bucket_configuration(aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(location).build());
    }
    create.send().await.expect("bucket created");
    name
}

#[tokio::test]
async fn a_browser_uploads_through_a_presigned_post_and_downloads_through_a_presigned_get() {
    let sdk = crate::helpers::moto_sdk_config().await;
    let store = S3Store::new(sdk.clone());
    let bucket = bucket(&store, &sdk).await;
    let key = "studies/genomics/variants/samples.csv";
    let bytes = b"sample,depth\nNA12878,31\n".to_vec();
    let rules = UploadRules {
        bucket: &bucket,
        key,
        min_bytes: 1,
        max_bytes: 1024,
        content_type: Some("text/csv"),
        expires_in: Duration::from_secs(300),
    };
    let post = store.presigned_post(&rules).await.expect("a signed form");
    assert!(post.fields.contains_key("policy") && post.fields.contains_key("x-amz-signature"), "{:?}", post.fields);

    let mut form = reqwest::multipart::Form::new();
    for (name, value) in &post.fields {
        form = form.text(name.clone(), value.clone());
    }
    let file = reqwest::multipart::Part::bytes(bytes.clone()).file_name("samples.csv").mime_str("text/csv").expect("mime");
    let response = reqwest::Client::new().post(&post.url).multipart(form.part("file", file)).send().await.expect("posted");
    assert!(response.status().is_success(), "{} {}", response.status(), response.text().await.unwrap_or_default());

    let stored = store.client().get_object().bucket(&bucket).key(key).send().await.expect("the object is there");
    let read = stored.body.collect().await.expect("body").into_bytes();
    assert_eq!(read.as_ref(), bytes.as_slice(), "the same bytes, read back through the SDK");

    let url = store.presigned_get(&bucket, key, Duration::from_secs(60)).await.expect("a download URL");
    let downloaded = reqwest::get(&url).await.expect("downloaded").bytes().await.expect("bytes");
    assert_eq!(downloaded.as_ref(), bytes.as_slice());

    // S3 refuses a form whose key, size or expiry its signed policy does not allow (here the
    // AWS emulator does, in front of moto, which would store anything).
    let post_form = |fields: &std::collections::BTreeMap<String, String>, body: Vec<u8>| {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.clone(), value.clone());
        }
        let file = reqwest::multipart::Part::bytes(body).file_name("x.csv").mime_str("text/csv").expect("mime");
        reqwest::Client::new().post(&post.url).multipart(form.part("file", file)).send()
    };
    let mut elsewhere = post.fields.clone();
    elsewhere.insert("key".into(), "studies/physics/stolen.csv".into());
    assert_eq!(post_form(&elsewhere, bytes.clone()).await.expect("posted").status().as_u16(), 403, "another key");
    assert_eq!(post_form(&post.fields, vec![b'x'; 1025]).await.expect("posted").status().as_u16(), 403, "over the size");
    let short = UploadRules { expires_in: Duration::from_secs(1), ..rules };
    let expiring = store.presigned_post(&short).await.expect("a signed form");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in &expiring.fields {
        form = form.text(name.clone(), value.clone());
    }
    let file = reqwest::multipart::Part::bytes(bytes.clone()).file_name("x.csv").mime_str("text/csv").expect("mime");
    let late = reqwest::Client::new().post(&expiring.url).multipart(form.part("file", file)).send().await.expect("posted");
    assert_eq!(late.status().as_u16(), 403, "after its expiry");
    assert!(
        store.client().head_object().bucket(&bucket).key("studies/physics/stolen.csv").send().await.is_err(),
        "nothing was stored elsewhere"
    );

    // And the signed policy says so.
    use base64::Engine;
    let policy = base64::engine::general_purpose::STANDARD.decode(&post.fields["policy"]).expect("base64");
    let policy: serde_json::Value = serde_json::from_slice(&policy).expect("JSON");
    let conditions = policy["conditions"].as_array().expect("conditions");
    assert!(conditions.contains(&serde_json::json!({ "key": key })), "exactly this key: {policy}");
    assert!(conditions.contains(&serde_json::json!(["content-length-range", 1, 1024])), "{policy}");
    assert!(conditions.contains(&serde_json::json!({ "bucket": bucket })), "{policy}");
    assert!(conditions.contains(&serde_json::json!({ "Content-Type": "text/csv" })), "{policy}");
    assert!(policy["expiration"].as_str().is_some_and(|e| e.ends_with('Z')), "{policy}");

    let listed = store.list(&bucket, "studies/genomics/", 100).await.expect("listed");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].key.as_str(), listed[0].size), (key, bytes.len() as i64));
}

/// The airlock's calls: a scan result is a tag GuardDuty writes (the AWS emulator plays
/// GuardDuty on airlock/, where requests hold their files, copies too), a copy into a study
/// carries no tags, and a missing object or tag is no result rather than an error.
#[tokio::test]
async fn the_airlock_reads_guarddutys_tag_and_copies_without_tags() {
    use app::domain::airlock::SCAN_TAG;
    use atrium::aws::s3::{ObjectStore, Place, S3Objects};
    let sdk = crate::helpers::moto_sdk_config().await;
    let store = S3Store::new(sdk.clone());
    let bucket = bucket(&store, &sdk).await;
    let objects = S3Objects::new(atrium::aws::team_role::TeamSessions::new(sdk.clone()));
    let place = Place { bucket: bucket.clone(), role: None };
    let put =
        |key: &'static str, body: &'static [u8]| store.client().put_object().bucket(&bucket).key(key).body(body.to_vec().into()).send();
    put("airlock/1/clean.csv", b"a,b\n1,2\n").await.expect("stored");
    put("airlock/1/eicar.txt", b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").await.expect("stored");
    put("airlock/1/late.csv", b"ATRIUM-TEST-NEVER-SCANNED").await.expect("stored");
    put("inbox/1/outside.csv", b"a\n").await.expect("stored");
    let tag = |key: &'static str| objects.tag(&place, key, SCAN_TAG);
    assert_eq!(tag("airlock/1/clean.csv").await.expect("read").as_deref(), Some("NO_THREATS_FOUND"));
    assert_eq!(tag("airlock/1/eicar.txt").await.expect("read").as_deref(), Some("THREATS_FOUND"));
    assert_eq!(tag("airlock/1/late.csv").await.expect("read"), None, "no result yet");
    assert_eq!(tag("inbox/1/outside.csv").await.expect("read"), None, "only the protected prefix is scanned");
    assert_eq!(tag("airlock/1/missing.csv").await.expect("no such key is no result"), None);

    objects.copy(&place, "inbox/1/outside.csv", "airlock/2/held.csv").await.expect("copied");
    assert_eq!(tag("airlock/2/held.csv").await.expect("read").as_deref(), Some("NO_THREATS_FOUND"), "a copy is scanned too");
    objects.copy(&place, "airlock/1/clean.csv", "studies/x/clean copy.csv").await.expect("copied");
    let copied = store.client().get_object().bucket(&bucket).key("studies/x/clean copy.csv").send().await.expect("there");
    assert_eq!(copied.body.collect().await.expect("body").into_bytes().as_ref(), b"a,b\n1,2\n");
    assert_eq!(tag("studies/x/clean copy.csv").await.expect("read"), None, "the copy carries no scan tag");
    assert!(objects.copy(&place, "airlock/1/missing.csv", "studies/x/y.csv").await.is_err(), "no source, no copy");
}
