//! The scheduled reconcile Lambda: one reconcile run of `CASES_DOMAIN_ID` per invocation, within
//! the Lambda deadline (see `cases_projector::reconcile::lambda`). Its metrics are printed as EMF
//! on every run, busy and failed ones too; another run holding the domain's lease is not an
//! error. An invocation payload `{"since": "7d"}` looks back that far instead of from the
//! watermark.

use cases_projector::connect_cases::{self, CasesApi};
use cases_projector::reconcile::lambda::{self, DEADLINE_MARGIN, Settings};
use cases_projector::wiring;
use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    cases_projector::telemetry::init();
    let settings = Settings::from_env().unwrap_or_else(|e| {
        eprintln!("reconciler: {e}");
        std::process::exit(2);
    });
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &settings.config);
    let cases = CasesApi::new(connect_cases::batch_client(
        &sdk,
        settings.config.cases_timeout,
    ));
    let (store, cases, settings) = (&store, &cases, &settings);
    run(service_fn(|event: LambdaEvent<Value>| async move {
        let request_id = &event.context.request_id;
        cases_projector::telemetry::set_request_id(request_id);
        let stop_at = lambda::stop_at(event.context.deadline, Utc::now(), DEADLINE_MARGIN);
        let invocation =
            lambda::invoke(cases, store, settings, &event.payload, request_id, stop_at).await;
        println!("{}", invocation.metrics);
        match invocation.failure {
            None => Ok::<Value, Error>(invocation.response),
            Some(e) => Err(e.into()),
        }
    }))
    .await
}
