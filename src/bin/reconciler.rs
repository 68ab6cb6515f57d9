//! The scheduled reconcile Lambda: one reconcile run of `CASES_DOMAIN_ID` per invocation (see
//! `cases_projector::reconcile`), its summary logged and emitted as EMF metrics (the oldest
//! deferred case's age is alarmed in `template.yaml`). Another run holding the domain's lease is
//! not an error: the invocation succeeds doing nothing.
//!
//! Environment: `TABLE_NAME`, `CASES_DOMAIN_ID` (required), `RECONCILE_RATE` (Cases API requests
//! per second, default 1), `RECONCILE_LEASE_SECONDS` (default 900, the function's timeout), and
//! what the projector reads (`CASE_FIELDS`, `STORE_CUSTOMER_CONTENT`, ...). An invocation payload
//! `{"since": "7d"}` looks back that far instead of from the watermark.

use std::time::Duration;

use cases_projector::backfill::Limiter;
use cases_projector::config::Config;
use cases_projector::connect_cases::{self, CasesApi};
use cases_projector::reconcile::{self, Options, Reconcile, ReconcileError};
use cases_projector::wiring;
use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

fn setting(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .unwrap_or(default)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    cases_projector::telemetry::init();
    let config = Config::from_env().unwrap_or_else(|e| {
        eprintln!("reconciler: {e}");
        std::process::exit(2);
    });
    let Some(domain_id) = std::env::var("CASES_DOMAIN_ID")
        .ok()
        .filter(|d| !d.trim().is_empty())
    else {
        eprintln!("reconciler: CASES_DOMAIN_ID is not set: it must name the Cases domain");
        std::process::exit(2);
    };
    let rate = setting("RECONCILE_RATE", 1.0);
    let lease = Duration::from_secs_f64(setting("RECONCILE_LEASE_SECONDS", 900.0));
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    let cases = CasesApi::new(connect_cases::batch_client(&sdk, config.cases_timeout));
    let (store, cases, config, domain_id) = (&store, &cases, &config, &domain_id);
    run(service_fn(|event: LambdaEvent<Value>| async move {
        cases_projector::telemetry::set_request_id(&event.context.request_id);
        let since = match event.payload.get("since").and_then(Value::as_str) {
            Some(raw) => Some(reconcile::parse_window(raw)?),
            None => None,
        };
        let limiter = Limiter::new(rate);
        let options = Options {
            domain_id: domain_id.clone(),
            rate,
            since,
            page_size: 25,
            case_fields: config
                .enrichment
                .as_ref()
                .and_then(|e| e.case_fields.clone()),
            projection: config.projection,
            lease,
            owner: event.context.request_id.clone(),
            deferred_only: false,
            dimensions: config.report_dimensions.clone(),
        };
        match Reconcile::new(cases, store, &limiter, options).run().await {
            Ok(summary) => {
                tracing::info!(summary = %reconcile::render(&summary), "reconcile");
                println!("{}", reconcile::emf(&summary, domain_id, Utc::now()));
                Ok::<Value, Error>(json!({
                    "deferredFilled": summary.counts.deferred_filled,
                    "deferredUnfilled": summary.counts.deferred_unfilled,
                    "casesCreated": summary.counts.cases_created,
                    "fieldsCorrected": summary.counts.fields_corrected,
                    "tombstones": summary.counts.tombstones,
                    "deferredLeft": summary.deferred_left,
                }))
            }
            Err(e @ ReconcileError::Busy { .. }) => {
                tracing::info!(error = %e, "another run holds the lease: nothing done");
                Ok(json!({ "skipped": e.to_string() }))
            }
            Err(e) => {
                tracing::error!(error = %e, "reconcile failed: the checkpoint is kept");
                Err(e.into())
            }
        }
    }))
    .await
}
