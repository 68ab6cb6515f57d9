//! `casesctl reconcile`: wiring, Ctrl-C and the summary. The work is
//! `cases_projector::reconcile`.

use std::time::Duration;

use cases_projector::backfill::Limiter;
use cases_projector::connect_cases::{self, CasesApi};
use cases_projector::reconcile::{self, Options, Reconcile};
use cases_projector::wiring;
use chrono::{TimeDelta, Utc};

use crate::env;
use crate::outcome::{Failure, Outcome};

pub struct Args {
    pub domain_id: String,
    pub rate: f64,
    pub since: Option<TimeDelta>,
    pub page_size: u32,
    pub lease: Duration,
    pub deferred_only: bool,
    /// The EMF line on stdout instead of the summary.
    pub emf: bool,
}

pub async fn run(args: Args) -> Outcome {
    let config = env::config(env::RECONCILE)?;
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
    let reconcile = Reconcile::new(&cases, &store, &limiter, options);
    let result = tokio::select! {
        result = reconcile.run() => result,
        _ = tokio::signal::ctrl_c() => {
            let released = match reconcile.abandon().await {
                Ok(()) => "the lease is released",
                Err(_) => "the lease could not be released and ends by itself",
            };
            return Err(Failure::Failed(format!(
                "interrupted: the progress up to the last page done is kept and {released}; \
                 the next `casesctl reconcile --domain-id {}` goes on from there",
                args.domain_id
            )));
        }
    };
    let summary = result.map_err(|e| {
        let kept = matches!(
            e,
            reconcile::ReconcileError::Store(_) | reconcile::ReconcileError::Cases(_)
        );
        let failure = Failure::from(e);
        if kept {
            failure.then("the checkpoint is kept: the next run continues")
        } else {
            failure
        }
    })?;
    if args.emf {
        println!("{}", reconcile::emf(&summary, &args.domain_id, Utc::now()));
    } else {
        println!("{}", reconcile::render(&summary));
    }
    Ok(())
}

/// This run's name on the lease: host and process.
fn owner() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "casesctl".into());
    format!("{host}/{}", std::process::id())
}
