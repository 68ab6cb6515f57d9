//! The case-metrics widget Lambda: a CloudWatch dashboard's custom widget calls it with the
//! widget's parameters and context, and shows the HTML it returns (see
//! `cases_projector::widget`). Settings and the DynamoDB client are made once, at start.

use cases_projector::widget::{Settings, answer};
use cases_projector::wiring;
use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    cases_projector::telemetry::init();
    let settings = Settings::from_env().unwrap_or_else(|e| {
        eprintln!("widget: {e}");
        std::process::exit(2);
    });
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &settings.config);
    let (store, settings) = (&store, &settings);
    run(service_fn(|event: LambdaEvent<Value>| async move {
        cases_projector::telemetry::set_request_id(&event.context.request_id);
        // Boxed: the read and render future is deep for the compiler's layout queries.
        Ok::<Value, Error>(Box::pin(answer(store, settings, &event.payload, Utc::now())).await)
    }))
    .await
}
