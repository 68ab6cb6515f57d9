//! `casesctl reconcile`: wiring and the summary. The work is `cases_projector::reconcile`.

use std::process::ExitCode;
use std::time::Duration;

use cases_projector::backfill::Limiter;
use cases_projector::config::Config;
use cases_projector::connect_cases::{self, CasesApi};
use cases_projector::reconcile::{self, Options, Reconcile, ReconcileError};
use cases_projector::wiring;
use chrono::{TimeDelta, Utc};

pub struct Args {
    pub domain_id: String,
    pub rate: f64,
    pub since: Option<TimeDelta>,
    pub page_size: u32,
    pub lease: Duration,
    pub deferred_only: bool,
}

pub async fn run(args: Args) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), 1),
    };
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    let cases = CasesApi::new(connect_cases::batch_client(&sdk, config.cases_timeout));
    let limiter = Limiter::new(args.rate);
    let options = Options {
        domain_id: args.domain_id.clone(),
        rate: args.rate,
        since: args.since,
        page_size: args.page_size,
        case_fields: config
            .enrichment
            .as_ref()
            .and_then(|e| e.case_fields.clone()),
        projection: config.projection,
        lease: args.lease,
        owner: owner(),
        deferred_only: args.deferred_only,
        dimensions: config.report_dimensions.clone(),
    };
    match Reconcile::new(&cases, &store, &limiter, options)
        .run()
        .await
    {
        Ok(summary) => {
            eprintln!("{}", reconcile::render(&summary));
            println!("{}", reconcile::emf(&summary, &args.domain_id, Utc::now()));
            ExitCode::SUCCESS
        }
        Err(e @ ReconcileError::Busy { .. }) => {
            eprintln!("casesctl reconcile: {e}: nothing done");
            ExitCode::from(e.exit_code())
        }
        Err(e) => {
            let hint = match &e {
                ReconcileError::Store(_) | ReconcileError::Cases(_) => {
                    " (the checkpoint is kept: the next run continues)"
                }
                _ => "",
            };
            fail(&format!("{e}{hint}"), e.exit_code())
        }
    }
}

/// This run's name on the lease: host and process.
fn owner() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "casesctl".into());
    format!("{host}/{}", std::process::id())
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("casesctl reconcile: {message}");
    ExitCode::from(code)
}
