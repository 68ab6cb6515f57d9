//! The Lambda: config and clients once, then the runtime loop.

use cases_projector::config::Config;
use cases_projector::handler::lambda_handler;
use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    cases_projector::telemetry::init();
    let config = Config::from_env().unwrap_or_else(|e| {
        tracing::error!(error = %e, "invalid configuration");
        eprintln!("cases-projector: {e}");
        std::process::exit(2);
    });
    let sdk = cases_projector::wiring::sdk_config().await;
    let projector = cases_projector::wiring::projector(&sdk, &config);
    run(service_fn(|event| lambda_handler(&projector, event))).await
}
