//! Every AWS API call counted and timed by service, operation and outcome, through an SDK
//! interceptor on each client (`client!`).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::time::Instant;

#[derive(Debug)]
pub struct CallMetrics;

#[derive(Debug, Clone)]
struct CallStarted(Instant);

impl Storable for CallStarted {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallMetrics {
    fn name(&self) -> &'static str {
        "CallMetrics"
    }

    fn read_before_execution(&self, _context: &BeforeSerializationInterceptorContextRef<'_>, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(CallStarted(Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let seconds = cfg.load::<CallStarted>().map_or(0.0, |started| started.0.elapsed().as_secs_f64());
        let outcome = match context.output_or_error() {
            Some(Ok(_)) => "ok",
            _ => "error",
        };
        if let Some(metadata) = cfg.load::<Metadata>() {
            crate::metrics::aws_call(metadata.service(), metadata.name(), outcome, seconds);
        }
        Ok(())
    }
}

/// A client of an AWS service (`aws_sdk_ssm`…) from the shared SDK configuration, with its calls
/// counted and timed.
macro_rules! client {
    ($service:ident, $sdk:expr) => {
        $service::Client::from_conf($service::config::Builder::from($sdk).interceptor($crate::aws::call_metrics::CallMetrics).build())
    };
}
pub(crate) use client;
