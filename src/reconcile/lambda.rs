//! The scheduled reconciler's invocation (`src/bin/reconciler.rs` is only its wiring): its
//! settings from the environment, one run that stops at the Lambda deadline minus a margin (the
//! checkpoint saved, the lease released), and metrics on every run, busy and failed ones too.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Options, Reconcile, ReconcileError, Summary, emf, parse_window};
use crate::backfill::Limiter;
use crate::backfill::source::CaseDirectory;
use crate::config::{Config, ConfigError};
use crate::enrichment::CaseReader;
use crate::store::{DomainStore, ReadModelStore};

/// A run stops taking new work this long before the Lambda deadline: room for the page or the
/// cases in flight (at 1 request/s, a page's GetCase calls), the checkpoint and the lease.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(120);

/// What the reconciler reads from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What the projector reads too (`TABLE_NAME`, `CASE_FIELDS`, `REPORT_DIMENSIONS`, ...).
    pub config: Config,
    /// `CASES_DOMAIN_ID` (required).
    pub domain_id: String,
    /// `RECONCILE_RATE` (default 1): Cases API requests per second.
    pub rate: f64,
    /// `RECONCILE_LEASE_SECONDS` (default 900, the function's timeout).
    pub lease: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let config = Config::from_lookup(&lookup)?;
        let domain_id = crate::config::domain_id(&lookup, "name the Cases domain to reconcile")?;
        let positive = |name, default| crate::config::positive(&lookup, name, default);
        Ok(Settings {
            domain_id,
            rate: positive("RECONCILE_RATE", 1.0)?,
            lease: Duration::from_secs_f64(positive("RECONCILE_LEASE_SECONDS", 900.0)?),
            config,
        })
    }
}

/// When a run given `deadline_ms` (the Lambda deadline, epoch milliseconds) stops taking new
/// work: `margin` before it.
pub fn stop_at(deadline_ms: u64, now: DateTime<Utc>, margin: Duration) -> Instant {
    let left = deadline_ms.saturating_sub(now.timestamp_millis().max(0) as u64);
    Instant::now() + Duration::from_millis(left).saturating_sub(margin)
}

/// One invocation's result: the response, the EMF line to print (every run has one), and the
/// failure, if any, the invocation reports.
#[derive(Debug)]
pub struct Invocation {
    pub response: Value,
    pub metrics: Value,
    pub failure: Option<ReconcileError>,
}

/// One scheduled run: `payload` may carry `{"since": "7d"}`; `owner` goes on the lease; the run
/// stops taking new work at `stop_at` and saves where it is (the next run goes on from there).
pub async fn invoke<C, S>(
    cases: &C,
    store: &S,
    settings: &Settings,
    payload: &Value,
    owner: &str,
    stop_at: Instant,
) -> Invocation
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    let domain_id = settings.domain_id.as_str();
    let since = match payload
        .get("since")
        .and_then(Value::as_str)
        .map(parse_window)
    {
        Some(Ok(window)) => Some(window),
        Some(Err(e)) => {
            return Invocation {
                response: json!({ "error": e }),
                metrics: state_metrics(store, domain_id, "ReconcileFailed").await,
                failure: Some(ReconcileError::Checkpoint(format!("payload: {e}"))),
            };
        }
        None => None,
    };
    let limiter = Limiter::new(settings.rate);
    let options = Options {
        domain_id: domain_id.to_owned(),
        rate: settings.rate,
        since,
        page_size: 25,
        case_fields: settings
            .config
            .enrichment
            .as_ref()
            .and_then(|e| e.case_fields.clone()),
        projection: settings.config.projection,
        lease: settings.lease,
        owner: owner.to_owned(),
        deferred_only: false,
        dimensions: settings.config.report_dimensions.clone(),
    };
    // Boxed: the run's future is deep, and the Lambda runtime nests it further.
    let reconcile = Reconcile::new(cases, store, &limiter, options).with_deadline(stop_at);
    let run = Box::pin(reconcile.run()).await;
    match run {
        Ok(summary) => {
            tracing::info!(summary = %super::render(&summary), "reconcile");
            Invocation {
                response: response(&summary),
                metrics: emf(&summary, domain_id, Utc::now()),
                failure: None,
            }
        }
        Err(e @ ReconcileError::Busy { .. }) => {
            tracing::info!(error = %e, "another run holds the lease: nothing done");
            Invocation {
                response: json!({ "skipped": e.to_string() }),
                metrics: state_metrics(store, domain_id, "ReconcileBusy").await,
                failure: None,
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "reconcile failed: the checkpoint is kept");
            Invocation {
                response: json!({ "error": e.to_string() }),
                metrics: state_metrics(store, domain_id, "ReconcileFailed").await,
                failure: Some(e),
            }
        }
    }
}

fn response(summary: &Summary) -> Value {
    json!({
        "deferredFilled": summary.counts.deferred_filled,
        "deferredUnfilled": summary.counts.deferred_unfilled,
        "casesCreated": summary.counts.cases_created,
        "fieldsCorrected": summary.counts.fields_corrected,
        "tombstones": summary.counts.tombstones,
        "deferredLeft": summary.deferred_left,
        "stoppedAtDeadline": summary.stopped_at_deadline,
    })
}

/// The EMF line of a run that did no work (`outcome` is `ReconcileBusy` or `ReconcileFailed`,
/// counted 1): the deferred cases and the oldest one's age as the read model has them now, so
/// `DeferredAgeAlarm` has its data point whatever the run's outcome.
async fn state_metrics<S: ReadModelStore + DomainStore>(
    store: &S,
    domain_id: &str,
    outcome: &str,
) -> Value {
    let now = Utc::now();
    let mut metrics = vec![(outcome, "Count", 1.0)];
    match store.deferred_cases(domain_id).await {
        Ok(left) => {
            let oldest = left.iter().map(|d| d.since).min();
            metrics.push(("DeferredCases", "Count", left.len() as f64));
            metrics.push((
                "OldestDeferredAgeSeconds",
                "Seconds",
                oldest.map_or(0.0, |t| (now - t).num_seconds().max(0) as f64),
            ));
        }
        Err(e) => tracing::warn!(error = %e, "the deferred cases could not be read"),
    }
    super::output::emf_line(&metrics, domain_id, now)
}
