//! The scheduled reconciler as Lambda runs it (`cases_projector::reconcile::lambda`): a run stops
//! at its deadline with its progress saved and its lease released, the next run goes on from
//! there, and every run, a busy one too, emits the metrics its alarm reads.

use crate::support;

use std::time::{Duration, Instant};

use cases_projector::config::Config;
use cases_projector::connect_cases::CasesApi;
use cases_projector::reconcile::lambda::{self, Settings};
use cases_projector::store::DomainStore;
use chrono::{TimeDelta, Utc};
use serde_json::json;
use support::cases_standin::CasesStandIn;
use support::domain_gen::generate_at;
use support::*;

fn settings(domain_id: &str, rate: f64) -> Settings {
    Settings {
        config: Config::from_lookup(|name| (name == "TABLE_NAME").then(|| "cases".to_owned()))
            .unwrap(),
        domain_id: domain_id.to_owned(),
        rate,
        lease: Duration::from_secs(900),
    }
}

/// Far enough: no deadline in practice.
fn far() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stops_at_its_deadline_with_its_lease_released_and_the_next_run_goes_on() {
    // 300 cases: 12 pages of SearchCases, at 2 requests/s at least 6 s of calls.
    let world = generate_at(21, 300, 6, Utc::now() - TimeDelta::hours(1));
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(world.fixture()).await;
    let store = new_store(&dynamo, "cases").await;
    let cases = CasesApi::new(cases_client(&standin.endpoint()));
    let domain = world.domain_id.as_str();
    let payload = json!({"since": "3650d"});

    let started = Instant::now();
    let first = lambda::invoke(
        &cases,
        &store,
        &settings(domain, 2.0),
        &payload,
        "first",
        Instant::now() + Duration::from_secs(2),
    )
    .await;
    let took = started.elapsed();
    assert!(first.failure.is_none(), "{:?}", first.failure);
    assert_eq!(
        first.response["stoppedAtDeadline"], true,
        "{}",
        first.response
    );
    assert_eq!(first.metrics["ReconcileStoppedAtDeadline"], 1.0);
    // What is under way at the deadline finishes (a page at most, at 2 requests/s): far less
    // than a whole run.
    assert!(took < Duration::from_secs(30), "stopped after {took:?}");
    let searched_first = standin.calls("SearchCases");
    assert!(searched_first < 12, "{searched_first} pages searched");

    // The lease is free at once (not left to expire after 900 s), and the next run goes on from
    // the saved page instead of searching from the top.
    let second = lambda::invoke(
        &cases,
        &store,
        &settings(domain, 200.0),
        &payload,
        "second",
        far(),
    )
    .await;
    assert!(second.failure.is_none(), "{:?}", second.failure);
    assert!(
        second.response.get("skipped").is_none(),
        "the first run released its lease: {}",
        second.response
    );
    assert_eq!(second.response["stoppedAtDeadline"], false);
    assert_eq!(second.metrics["ReconcileStoppedAtDeadline"], 0.0);
    // Both runs together searched every case once: the counts carry over with the checkpoint.
    assert_eq!(second.metrics["ReconcileCasesSearched"], 300.0);
    let pages = standin.calls("SearchCases");
    assert!(
        pages <= 13,
        "{pages} SearchCases calls in both runs: the second searched again from the top"
    );
    assert_eq!(store.deferred_cases(domain).await.unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_run_still_emits_the_deferred_age_its_alarm_reads() {
    let world = generate_at(22, 3, 6, Utc::now() - TimeDelta::hours(1));
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(world.fixture()).await;
    let store = new_store(&dynamo, "cases").await;
    let cases = CasesApi::new(cases_client(&standin.endpoint()));
    let domain = world.domain_id.as_str();
    let until = (Utc::now() + TimeDelta::minutes(10)).timestamp() as u64;
    store
        .acquire_lease(domain, "RECONCILE", "another", until)
        .await
        .unwrap()
        .unwrap();

    let busy = lambda::invoke(
        &cases,
        &store,
        &settings(domain, 200.0),
        &json!({}),
        "busy",
        far(),
    )
    .await;
    assert!(busy.failure.is_none(), "busy is not a failure");
    assert!(busy.response.get("skipped").is_some(), "{}", busy.response);
    assert_eq!(busy.metrics["ReconcileBusy"], 1.0);
    assert_eq!(busy.metrics["OldestDeferredAgeSeconds"], 0.0);
    assert_eq!(busy.metrics["DomainId"], domain);
    let declared = &busy.metrics["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(declared["Namespace"], "CasesProjector");
    assert!(
        declared["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["Name"] == "OldestDeferredAgeSeconds")
    );
}

#[test]
fn the_run_stops_taking_work_a_margin_before_the_lambda_deadline() {
    let now = Utc::now();
    let deadline_ms = (now + TimeDelta::seconds(900)).timestamp_millis() as u64;
    let stop = lambda::stop_at(deadline_ms, now, lambda::DEADLINE_MARGIN);
    let left = stop.saturating_duration_since(Instant::now());
    assert!(left <= Duration::from_secs(780) && left > Duration::from_secs(770));
    // Already past: at once.
    let stop = lambda::stop_at(0, now, lambda::DEADLINE_MARGIN);
    assert!(stop <= Instant::now());
}
