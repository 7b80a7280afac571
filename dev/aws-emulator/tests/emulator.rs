//! The emulator through the real Service Catalog SDK client, against moto (started by dev/test).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_config::BehaviorVersion;
use aws_sdk_servicecatalog::Client;
use aws_sdk_servicecatalog::types::{
    ProvisioningArtifactProperties, ProvisioningArtifactType, ProvisioningParameter, RecordStatus, ServiceActionDefinitionKey,
    ServiceActionDefinitionType, Tag,
};
use std::time::Duration;

struct Running {
    url: String,
    client: Client,
}

async fn start() -> Running {
    let moto = std::env::var("AWS_ENDPOINT_URL").expect("run through dev/test: AWS_ENDPOINT_URL names moto");
    assert!(moto.starts_with("http://127.0.0.1"), "not a local moto: {moto}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let emulator = aws_emulator::Emulator::new(moto, url.clone(), Duration::from_millis(200), "eu-west-1".into());
    tokio::spawn(async move { axum::serve(listener, emulator.router()).await });
    let config = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(&url).load().await;
    Running { url, client: Client::new(&config) }
}

impl Running {
    async fn fault(&self, rule: serde_json::Value) {
        let response = reqwest::Client::new().post(format!("{}/_emulator/faults", self.url)).json(&rule).send().await.expect("sent");
        assert!(response.status().is_success());
    }

    /// A product with the Linux workstation v1 and v2 and Stop/Start actions on v2.
    async fn linux_product(&self) -> (String, String, String) {
        let properties = |name: &str, file: &str| {
            ProvisioningArtifactProperties::builder()
                .name(name)
                .info("LoadTemplateFromURL", format!("{}/templates/{file}", self.url))
                .r#type(ProvisioningArtifactType::CloudFormationTemplate)
                .build()
        };
        let product = self
            .client
            .create_product()
            .name("Linux workstation (EC2)")
            .owner("Research IT")
            .product_type(aws_sdk_servicecatalog::types::ProductType::CloudFormationTemplate)
            .provisioning_artifact_parameters(properties("v1", "linux-workstation-v1.json"))
            .idempotency_token("p1")
            .send()
            .await
            .expect("product created");
        let product_id = product.product_view_detail.and_then(|d| d.product_view_summary).and_then(|s| s.product_id).expect("id");
        let v1 = product.provisioning_artifact_detail.and_then(|a| a.id).expect("v1 id");
        let v2 = self
            .client
            .create_provisioning_artifact()
            .product_id(&product_id)
            .parameters(properties("v2", "linux-workstation-v2.json"))
            .idempotency_token("v2")
            .send()
            .await
            .expect("v2 created")
            .provisioning_artifact_detail
            .and_then(|a| a.id)
            .expect("v2 id");
        for (name, document) in [("Stop", "AWS-StopEC2Instance"), ("Start", "AWS-StartEC2Instance")] {
            let action = self
                .client
                .create_service_action()
                .name(name)
                .definition_type(ServiceActionDefinitionType::SsmAutomation)
                .definition(ServiceActionDefinitionKey::Name, document)
                .definition(ServiceActionDefinitionKey::Version, "1")
                .idempotency_token(name)
                .send()
                .await
                .expect("action created");
            let action_id = action.service_action_detail.and_then(|d| d.service_action_summary).and_then(|s| s.id).expect("id");
            self.client
                .associate_service_action_with_provisioning_artifact()
                .product_id(&product_id)
                .provisioning_artifact_id(&v2)
                .service_action_id(action_id)
                .send()
                .await
                .expect("associated");
        }
        (product_id, v1, v2)
    }

    async fn wait_for(&self, record_id: &str) -> aws_sdk_servicecatalog::operation::describe_record::DescribeRecordOutput {
        for _ in 0..100 {
            let record = self.client.describe_record().id(record_id).send().await.expect("record");
            let status = record.record_detail.as_ref().and_then(|d| d.status.clone());
            if !matches!(status, Some(RecordStatus::InProgress) | Some(RecordStatus::Created)) {
                return record;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("record {record_id} never settled");
    }
}

fn status(record: &aws_sdk_servicecatalog::operation::describe_record::DescribeRecordOutput) -> Option<RecordStatus> {
    record.record_detail.as_ref().and_then(|d| d.status.clone())
}

#[tokio::test]
async fn products_report_their_versions_and_template_parameters() {
    let emulator = start().await;
    let (product_id, _, v2) = emulator.linux_product().await;
    let search = emulator.client.search_products_as_admin().send().await.expect("search");
    assert!(
        search.product_view_details().iter().any(|d| d.product_view_summary().and_then(|s| s.product_id()) == Some(product_id.as_str()))
    );
    let artifacts = emulator.client.list_provisioning_artifacts().product_id(&product_id).send().await.expect("list");
    let names: Vec<_> = artifacts.provisioning_artifact_details().iter().filter_map(|a| a.name()).collect();
    assert_eq!(names, vec!["v1", "v2"]);

    let parameters = emulator
        .client
        .describe_provisioning_parameters()
        .product_id(&product_id)
        .provisioning_artifact_id(&v2)
        .send()
        .await
        .expect("parameters");
    let volume =
        parameters.provisioning_artifact_parameters().iter().find(|p| p.parameter_key() == Some("VolumeSize")).expect("v2 adds VolumeSize");
    let constraints = volume.parameter_constraints().expect("constraints");
    assert_eq!(constraints.min_value(), Some("8"));
    assert_eq!(constraints.max_value(), Some("512"));
    let instance_type =
        parameters.provisioning_artifact_parameters().iter().find(|p| p.parameter_key() == Some("InstanceType")).expect("InstanceType");
    assert_eq!(instance_type.parameter_constraints().map(|c| c.allowed_values().len()), Some(3));
}

#[tokio::test]
async fn provisioning_creates_a_real_stack_and_reports_its_outputs_then_stops_and_terminates() {
    let emulator = start().await;
    let (product_id, _, v2) = emulator.linux_product().await;
    let provisioned = emulator
        .client
        .provision_product()
        .product_id(&product_id)
        .provisioning_artifact_id(&v2)
        .provisioned_product_name("ws-ada-1")
        .provisioning_parameters(ProvisioningParameter::builder().key("InstanceType").value("t3.large").build())
        .tags(Tag::builder().key("atrium:user").value("ada").build().expect("tag"))
        .provision_token("launch-1")
        .send()
        .await
        .expect("provisioning accepted");
    let detail = provisioned.record_detail.expect("record");
    assert_eq!(detail.status, Some(RecordStatus::InProgress));
    let record = emulator.wait_for(detail.record_id().expect("id")).await;
    assert_eq!(status(&record), Some(RecordStatus::Succeeded), "{:?}", record.record_detail);
    let instance_id = record
        .record_outputs()
        .iter()
        .find(|o| o.output_key() == Some("InstanceId"))
        .and_then(|o| o.output_value())
        .expect("InstanceId output");
    assert!(instance_id.starts_with("i-"), "a real moto instance: {instance_id}");

    let pp_id = detail.provisioned_product_id().expect("pp id").to_owned();
    let again = emulator
        .client
        .provision_product()
        .product_id(&product_id)
        .provisioning_artifact_id(&v2)
        .provisioned_product_name("ws-ada-1")
        .provision_token("launch-1")
        .send()
        .await
        .expect("same token");
    assert_eq!(again.record_detail.and_then(|r| r.record_id), detail.record_id, "one token, one record");

    let actions = emulator
        .client
        .list_service_actions_for_provisioning_artifact()
        .product_id(&product_id)
        .provisioning_artifact_id(&v2)
        .send()
        .await
        .expect("actions");
    let stop = actions.service_action_summaries().iter().find(|a| a.name() == Some("Stop")).and_then(|a| a.id()).expect("Stop");
    let stopped = emulator
        .client
        .execute_provisioned_product_service_action()
        .provisioned_product_id(&pp_id)
        .service_action_id(stop)
        .execute_token("stop-1")
        .send()
        .await
        .expect("stop accepted");
    let record = emulator.wait_for(stopped.record_detail().and_then(|r| r.record_id()).expect("id")).await;
    assert_eq!(status(&record), Some(RecordStatus::Succeeded), "{:?}", record.record_detail);

    let terminated = emulator
        .client
        .terminate_provisioned_product()
        .provisioned_product_id(&pp_id)
        .terminate_token("t-1")
        .send()
        .await
        .expect("terminate accepted");
    let record = emulator.wait_for(terminated.record_detail().and_then(|r| r.record_id()).expect("id")).await;
    assert_eq!(status(&record), Some(RecordStatus::Succeeded));
    let gone = emulator.client.describe_provisioned_product().id(&pp_id).send().await;
    assert!(gone.is_err(), "a terminated product is gone");
}

#[tokio::test]
async fn v1_has_no_stop_and_start_actions() {
    let emulator = start().await;
    let (product_id, v1, _) = emulator.linux_product().await;
    let actions = emulator
        .client
        .list_service_actions_for_provisioning_artifact()
        .product_id(&product_id)
        .provisioning_artifact_id(&v1)
        .send()
        .await
        .expect("actions");
    assert!(actions.service_action_summaries().is_empty());
}

#[tokio::test]
async fn injected_faults_throttle_fail_and_then_clear() {
    let emulator = start().await;
    let (product_id, v1, _) = emulator.linux_product().await;
    let no_retries =
        Client::from_conf(emulator.client.config().to_builder().retry_config(aws_config::retry::RetryConfig::disabled()).build());
    emulator.fault(serde_json::json!({ "operation": "DescribeProvisioningParameters", "fault": "throttle" })).await;
    let error = no_retries
        .describe_provisioning_parameters()
        .product_id(&product_id)
        .provisioning_artifact_id(&v1)
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(aws_sdk_servicecatalog::error::ProvideErrorMetadata::code(&error), Some("ThrottlingException"));

    emulator.fault(serde_json::json!({ "operation": "DescribeProvisioningParameters", "fault": "server_error" })).await;
    let error =
        no_retries.describe_provisioning_parameters().product_id(&product_id).provisioning_artifact_id(&v1).send().await.expect_err("5xx");
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(500));

    // The SDK's own retries get through two throttles.
    emulator.fault(serde_json::json!({ "operation": "DescribeProvisioningParameters", "fault": "throttle", "times": 2 })).await;
    emulator.client.describe_provisioning_parameters().product_id(&product_id).provisioning_artifact_id(&v1).send().await.expect("retried");

    emulator.fault(serde_json::json!({ "operation": "ProvisionProduct", "fault": "fail_provisioning", "message": "Insufficient capacity for t3.medium" })).await;
    let provisioned = emulator
        .client
        .provision_product()
        .product_id(&product_id)
        .provisioning_artifact_id(&v1)
        .provisioned_product_name("ws-doomed")
        .provision_token("doomed")
        .send()
        .await
        .expect("accepted");
    let record = emulator.wait_for(provisioned.record_detail().and_then(|r| r.record_id()).expect("id")).await;
    assert_eq!(status(&record), Some(RecordStatus::Failed));
    let message = record.record_detail().and_then(|d| d.record_errors().first()).and_then(|e| e.description()).expect("error");
    assert_eq!(message, "Insufficient capacity for t3.medium");
}

#[tokio::test]
async fn presigned_urls_name_the_user_and_the_account_and_refuse_tampering() {
    let emulator = start().await;
    let moto_config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let assumed = aws_sdk_sts::Client::new(&moto_config)
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/AtriumPortalAccess")
        .role_session_name("atrium-ada")
        .send()
        .await
        .expect("assumed")
        .credentials
        .expect("credentials");
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/20260101/eu-west-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0",
        assumed.access_key_id()
    );
    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .post(&emulator.url)
        .header("x-amz-target", "SageMaker.CreatePresignedNotebookInstanceUrl")
        .header("content-type", "application/x-amz-json-1.1")
        .header("authorization", authorization)
        .header("x-amz-security-token", assumed.session_token())
        .body(r#"{"NotebookInstanceName":"ws-ada-notebook"}"#)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let url = answer["AuthorizedUrl"].as_str().expect("a URL");
    let page = http.get(url).send().await.expect("landing");
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.expect("text");
    assert!(page.contains("atrium-ada"), "{page}");
    assert!(page.contains("111111111111"), "{page}");
    assert!(page.contains("notebook ws-ada-notebook"), "{page}");

    let tampered = http.get(format!("{url}x")).send().await.expect("landing");
    assert_eq!(tampered.status().as_u16(), 403);
    assert!(tampered.text().await.expect("text").contains("invalid"));
}

#[tokio::test]
async fn every_demo_template_provisions_in_moto() {
    let emulator = start().await;
    for (file, _) in aws_emulator::TEMPLATES {
        let product = emulator
            .client
            .create_product()
            .name(file)
            .owner("Research IT")
            .product_type(aws_sdk_servicecatalog::types::ProductType::CloudFormationTemplate)
            .provisioning_artifact_parameters(
                ProvisioningArtifactProperties::builder()
                    .name("v1")
                    .info("LoadTemplateFromURL", format!("{}/templates/{file}", emulator.url))
                    .build(),
            )
            .idempotency_token(file)
            .send()
            .await
            .expect("product created");
        let product_id = product.product_view_detail.and_then(|d| d.product_view_summary).and_then(|s| s.product_id).expect("id");
        let artifact_id = product.provisioning_artifact_detail.and_then(|a| a.id).expect("artifact");
        let provisioned = emulator
            .client
            .provision_product()
            .product_id(&product_id)
            .provisioning_artifact_id(&artifact_id)
            .provisioned_product_name(format!("ws-{}", file.trim_end_matches(".json")))
            .provision_token(file)
            .send()
            .await
            .expect("accepted");
        let record = emulator.wait_for(provisioned.record_detail().and_then(|r| r.record_id()).expect("id")).await;
        assert_eq!(status(&record), Some(RecordStatus::Succeeded), "{file}: {:?}", record.record_detail);
        assert!(!record.record_outputs().is_empty(), "{file} has outputs");
    }
}
