//! A bare lambda_runtime function (echo), the baseline for the cold-start comparison in
//! `benches/peer_comparison.rs`. Built with the same release profile as the projector.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
