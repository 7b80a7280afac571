//! AWS adapters: each service the portal uses sits behind a small trait, with one file
//! holding its SDK-backed implementation.

pub mod account_check;
pub mod call_metrics;
pub mod cloudwatch;
pub mod cognito;
pub mod cost_explorer;
pub mod directory;
pub mod efs;
pub mod observe;
pub mod provisioning;
pub mod s3;
pub mod sagemaker;
pub mod service_catalog;
pub mod sessions;
pub mod ssm;
pub mod ssm_cache;
pub mod team_role;

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};
use std::time::Duration;

/// The SDK configuration from the standard chain (env, profile, instance role), with timeouts
/// short enough that an unreachable AWS gives a prompt 503 instead of a hung page.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(25))
                .build(),
        )
        .load()
        .await
}

/// Whether an SDK error means "could not reach AWS" (retry later) rather than "AWS said no".
pub fn is_unreachable<E, R>(error: &aws_sdk_ssm::error::SdkError<E, R>) -> bool {
    use aws_sdk_ssm::error::SdkError;
    matches!(error, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_))
}

/// Whether IAM refused the call: an error code saying so (the services spell it several ways),
/// or HTTP 403 from an error whose body names no code (or cannot be read).
pub fn is_refused<E: aws_sdk_ssm::error::ProvideErrorMetadata>(
    error: &aws_sdk_ssm::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> bool {
    use aws_sdk_ssm::error::ProvideErrorMetadata;
    match error.code() {
        Some(code) => code.contains("AccessDenied") || code.contains("Unauthorized") || code.contains("NotAuthorized"),
        None => error.raw_response().is_some_and(|response| response.status().as_u16() == 403),
    }
}
