//! The Connect Cases clients: the projector's (adaptive retries) and a batch run's (throttling
//! left to the run's limiter).

use std::time::Duration;

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::config::interceptors::InterceptorContext;
use aws_sdk_connectcases::config::retry::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;

/// The Connect Cases client, from the shared AWS config (`AWS_ENDPOINT_URL_CONNECTCASES`
/// included), with adaptive retries: GetCase throttling slows the client down instead of
/// hammering the quota.
pub fn client(sdk: &aws_config::SdkConfig, operation_timeout: Duration) -> Client {
    let config = aws_sdk_connectcases::config::Builder::from(sdk)
        .timeout_config(timeouts(operation_timeout))
        .retry_config(aws_config::retry::RetryConfig::adaptive().with_max_attempts(4))
        .build();
    Client::from_conf(config)
}

/// The client of a batch run (backfill, reconcile): the SDK retries outages, never throttling.
/// A throttling answer comes back at once to the run's [`crate::backfill::Limiter`], which
/// backs off and goes on however long the throttling lasts (and counts it for the progress
/// line); inside the SDK, its backoff would count against `operation_timeout` and turn a long
/// throttle into a timeout that stops the run.
pub fn batch_client(sdk: &aws_config::SdkConfig, operation_timeout: Duration) -> Client {
    let config = aws_sdk_connectcases::config::Builder::from(sdk)
        .timeout_config(timeouts(operation_timeout))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(4))
        .retry_classifier(NoThrottleRetries)
        .build();
    Client::from_conf(config)
}

fn timeouts(operation_timeout: Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(operation_timeout)
        .connect_timeout(Duration::from_millis(500))
        .build()
}

/// Forbids the SDK's retry of a throttling answer (HTTP 429 or a `ThrottlingException`); runs
/// after the SDK's own classifiers, so its verdict stands.
#[derive(Debug)]
struct NoThrottleRetries;

impl ClassifyRetry for NoThrottleRetries {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        let error_type = response
            .headers()
            .get("x-amzn-ErrorType")
            .unwrap_or_default();
        if response.status().as_u16() == 429 || error_type.starts_with("ThrottlingException") {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "no throttle retries (the batch run's limiter backs off)"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}
