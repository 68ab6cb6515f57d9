//! The Lambda: config once at start, SDK clients once on the first event, then the runtime loop.

use cases_projector::config::Config;
use cases_projector::lambda::lambda_handler;
use cases_projector::wiring::{self, LambdaProjector};
use lambda_runtime::{Error, run, service_fn};
use tokio::sync::OnceCell;

// One thread: an invocation's concurrency is I/O (DynamoDB, GetCase), and a Lambda at 128 MB has a
// fraction of a vCPU; a multi-threaded runtime only adds cross-thread wake-ups (measured:
// docs/benchmarks.md).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    cases_projector::telemetry::init();
    let config = Config::from_env().unwrap_or_else(|e| {
        tracing::error!(error = %e, "invalid configuration");
        eprintln!("cases-projector: {e}");
        std::process::exit(2);
    });
    // Built on the first event rather than at start: loading the AWS config and building the
    // clients is work the runtime's first `next` request need not wait for.
    let projector: OnceCell<LambdaProjector> = OnceCell::new();
    let function_name =
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    run(service_fn(|event| async {
        let projector = projector
            .get_or_init(|| async { wiring::projector(&wiring::sdk_config().await, &config) })
            .await;
        lambda_handler(projector, &function_name, event).await
    }))
    .await
}
