//! The Lambda: config and clients once, then the runtime loop.

use cases_projector::config::Config;
use cases_projector::handler::{Projector, lambda_handler};
use cases_projector::store::dynamodb::{DynamoStore, client_from_env};
use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    cases_projector::telemetry::init();
    let config = Config::from_env().unwrap_or_else(|e| {
        tracing::error!(error = %e, "invalid configuration");
        eprintln!("cases-projector: {e}");
        std::process::exit(2);
    });
    let client = client_from_env(config.store_timeout).await;
    let store = DynamoStore::new(client, &config.table_name, config.dedupe_ttl);
    let projector = Projector::new(store, config.projection, config.case_concurrency);
    run(service_fn(|event| lambda_handler(&projector, event))).await
}
