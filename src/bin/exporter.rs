//! The scheduled exporter Lambda: one export of `CASES_DOMAIN_ID` to `EXPORT_TO` per invocation
//! (see `cases_projector::export`). Its own binary, so the projector does not carry the Parquet
//! writer and the S3 client. A run the Lambda timeout cuts short is continued by the next.

use cases_projector::export::lambda::{Settings, invoke};
use cases_projector::export::s3::{self, S3Sink};
use cases_projector::wiring;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    cases_projector::telemetry::init();
    let settings = Settings::from_env().unwrap_or_else(|e| {
        eprintln!("exporter: {e}");
        std::process::exit(2);
    });
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &settings.config);
    let sink = S3Sink::new(s3::client(&sdk), &settings.bucket, &settings.prefix);
    let (store, sink, settings) = (&store, &sink, &settings);
    run(service_fn(|event: LambdaEvent<Value>| async move {
        cases_projector::telemetry::set_request_id(&event.context.request_id);
        match invoke(store, sink, settings, &event.payload).await {
            Ok(summary) => {
                tracing::info!(
                    export_id = %summary.export_id,
                    resumed = summary.resumed,
                    days_written = summary.days_written.len(),
                    files = summary.files_written,
                    bytes = summary.bytes_written,
                    cases = summary.counts.cases,
                    scan_read_units = summary.scan_read_units,
                    "export done"
                );
                Ok::<Value, Error>(serde_json::to_value(&summary)?)
            }
            Err(e) => {
                tracing::error!(error = %e, retryable = e.is_retryable(), "export failed; the next run goes on");
                Err(e.into())
            }
        }
    }))
    .await
}
