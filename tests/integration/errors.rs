//! Errors by what is missing, throttling and the reconcile lease, through the real store
//! (DynamoDB Local), the real SDK and the REST-JSON Cases stand-in: a missing domain is a
//! refusal that writes nothing, a case deleted under a backfill is skipped, field ids the domain
//! lost never block reconcile, throttling never aborts a run, and a run writes only while it
//! holds its lease.

use crate::support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cases_projector::backfill::Limiter;
use cases_projector::connect_cases::CasesApi;
use cases_projector::enrichment::{Enricher, EnricherSettings};
use cases_projector::projection::ProjectionOptions;
use cases_projector::projector::Projector;
use cases_projector::reconcile::{NAME, Options, Reconcile, ReconcileError};
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::store::{CaseStore, DomainStore};
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use support::cases_standin::{CasesStandIn, Fault, FaultRule};
use support::domain_gen::{DOMAIN_ID, GeneratedDomain, generate_at};
use support::streams::case_event;
use support::*;

/// DynamoDB Local, the stand-in serving a generated domain, and the read model.
struct World {
    dynamo: DynamoLocal,
    standin: CasesStandIn,
    store: DynamoStore,
    domain: GeneratedDomain,
}

async fn world(seed: u64, cases: usize) -> World {
    let dynamo = DynamoLocal::start();
    let domain = generate_at(seed, cases, 4, Utc::now() - TimeDelta::hours(1));
    let standin = CasesStandIn::start(domain.fixture()).await;
    let store = new_store(&dynamo, "cases").await;
    World {
        dynamo,
        standin,
        store,
        domain,
    }
}

/// One `CASE.CREATED` per case, half an hour ago, carrying only its status.
fn created_events(domain: &GeneratedDomain) -> Vec<Value> {
    let at = support::domain_gen::iso(Utc::now() - TimeDelta::minutes(30));
    domain
        .cases
        .iter()
        .map(|(case_id, truth)| {
            let status = json!({ "value": truth.fields["status"] });
            case_event(
                &format!("{case_id}/created"),
                &at,
                "CREATED",
                case_id,
                json!({ "status": status }),
            )
        })
        .collect()
}

/// Projects every case's creation with GetCase throttled throughout: each case's enrichment is
/// deferred (every wanted field but the status).
async fn project_deferred(w: &World) {
    w.standin.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: None,
        fault: Fault::Throttle,
        rate: 1.0,
        times: None,
    });
    let enricher = Enricher::new(
        CasesApi::new(cases_client_with_attempts(&w.standin.endpoint(), 1)),
        EnricherSettings {
            case_fields: None,
            cache_ttl: Duration::from_secs(900),
            max_snapshot_age: Duration::from_secs(6 * 3600),
        },
    );
    let projector =
        Projector::new(w.store.clone(), ProjectionOptions::default(), 8).with_enricher(enricher);
    for batch in created_events(&w.domain).chunks(10) {
        assert_eq!(
            handle(&projector, sqs_batch(batch)).await.counts().failed,
            0
        );
    }
    w.standin.clear_faults();
    let deferred = w.store.deferred_cases(DOMAIN_ID).await.unwrap();
    assert_eq!(deferred.len(), w.domain.cases.len(), "every case deferred");
}

/// Projects every case's creation, no enrichment.
async fn project(w: &World) {
    let projector = support::projector(w.store.clone());
    for batch in created_events(&w.domain).chunks(10) {
        assert_eq!(
            handle(&projector, sqs_batch(batch)).await.counts().failed,
            0
        );
    }
}

fn casesctl(w: &World, command: &str) -> std::process::Command {
    let mut cmd = local_casesctl(
        env!("CARGO_BIN_EXE_casesctl"),
        &w.dynamo.target(),
        Some(&w.standin.endpoint()),
    );
    cmd.arg(command).args(["--domain-id", DOMAIN_ID]);
    cmd
}

fn options(lease: Duration, rate: f64) -> Options {
    Options {
        since: Some(TimeDelta::days(90)),
        lease,
        owner: "this-run".into(),
        ..reconcile_options(DOMAIN_ID, rate)
    }
}

/// Cases removed from the stand-in (deleted, their `CASE.DELETED` lost): step 4's candidates.
fn delete_in_standin(w: &World, n: usize) -> BTreeSet<String> {
    let gone: BTreeSet<String> = w.domain.cases.keys().take(n).cloned().collect();
    for case_id in &gone {
        w.standin.remove_case(DOMAIN_ID, case_id);
    }
    gone
}

/// From the run's first GetCase on (step 4's first probe: the lease is the run's by then), tries
/// to take the reconcile lease as another owner every 100 ms while `running`; once it has it,
/// ends any fault injected into the stand-in. Says whether it ever got the lease.
fn intruder(w: &World, running: Arc<AtomicBool>) -> tokio::task::JoinHandle<bool> {
    let (store, standin) = (w.store.clone(), w.standin.clone());
    tokio::spawn(async move {
        while standin.calls("GetCase") == 0 && running.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        while running.load(Ordering::SeqCst) {
            let until = (Utc::now() + TimeDelta::minutes(10)).timestamp() as u64;
            if store
                .acquire_lease(DOMAIN_ID, NAME, "another-run", until)
                .await
                .unwrap()
                .is_ok()
            {
                standin.clear_faults();
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_against_a_missing_domain_changes_no_item_and_exits_2() {
    let w = world(31, 10).await;
    project_deferred(&w).await;
    // A deleted domain (or a wrong domain id or Region): every operation answers 404 naming the
    // domain. With CASE_FIELDS set, the run's first call used to be the deferred cases' GetCase,
    // whose 404 tombstoned every one of them.
    w.standin.remove_domain(DOMAIN_ID);
    w.standin.reset_calls();
    let before = snapshot_table(&w.store).await;
    let out = output_logged(
        casesctl(&w, "reconcile")
            .args(["--since", "90d", "--rate", "20"])
            .env("CASE_FIELDS", "status,title,custom_000,custom_001"),
    );
    assert_eq!(
        snapshot_table(&w.store).await,
        before,
        "no item changed: no tombstone, no checkpoint, no lease"
    );
    assert_eq!(w.standin.calls("GetCase"), 0);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a refusal: an operator must act"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(stderr.contains("domain"), "says what is missing: {stderr}");
}

/// Every deferred case of a domain that lost one of its fields is filled, the lost field
/// recorded as null, and the run goes on to its other steps: with `CASE_FIELDS` naming the lost
/// field (GetCase refuses it: ValidationException) and without (ListFields no longer lists it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_fields_the_domain_lost_never_block_reconcile() {
    for case_fields in [
        Some(vec!["status", "title", "custom_000", "custom_001"]),
        None,
    ] {
        let w = world(32, 12).await;
        project_deferred(&w).await;
        let held = w.store.deferred_cases(DOMAIN_ID).await.unwrap();
        assert!(held.iter().all(|d| d.fields.contains(&"custom_001".into())));
        w.standin.remove_field(DOMAIN_ID, "custom_001");

        let limiter = Limiter::new(500.0);
        let api = CasesApi::new(cases_client_with_attempts(&w.standin.endpoint(), 3));
        let options = Options {
            case_fields: case_fields.map(|f| f.into_iter().map(String::from).collect()),
            ..options(Duration::from_secs(60), 500.0)
        };
        let summary = Reconcile::new(&api, &w.store, &limiter, options)
            .run()
            .await
            .unwrap();
        assert_eq!(summary.deferred_left, 0);
        assert_eq!(summary.counts.deferred_filled, 12);
        assert_eq!(summary.counts.deferred_unfilled, 0);
        assert!(summary.counts.cases_searched > 0, "step 2 ran");
        assert!(summary.watermark.is_some(), "the run finished");
        for (case_id, truth) in &w.domain.cases {
            let stored = w.store.load(case_id).await.unwrap().unwrap().view;
            assert_eq!(stored.deferred, None, "{case_id}");
            for id in ["title", "custom_000"] {
                let got = stored.fields.get(id).map(|f| &f.value);
                assert_eq!(got, Some(&field_value(&truth.fields[id])), "{case_id}.{id}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_over_a_case_deleted_under_it_exits_0_with_every_other_case_complete() {
    let w = world(33, 10).await;
    // Deleted between the search that found it and the read of its history.
    let deleted = w.domain.cases.keys().nth(3).unwrap().clone();
    w.standin.inject(FaultRule {
        operation: Some("GetCaseAuditEvents"),
        case_id: Some(deleted.clone()),
        fault: Fault::NotFound,
        rate: 1.0,
        times: None,
    });
    let out = output_logged(casesctl(&w, "backfill").args(["--rate", "20"]));
    assert!(out.status.success(), "exit {:?}", out.status.code());
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("9 case(s), 1 deleted meanwhile"),
        "{summary}"
    );
    // Its case read was skipped (the domain-wide related-item read may still bring its items:
    // the stand-in's fault leaves them there).
    let held = w.store.load(&deleted).await.unwrap();
    assert!(held.is_none_or(|s| s.view.fields.is_empty()), "skipped");
    for (case_id, truth) in w.domain.cases.iter().filter(|(c, _)| **c != deleted) {
        let stored = w.store.load(case_id).await.unwrap().expect(case_id).view;
        for (id, value) in &truth.fields {
            let got = stored.fields.get(id).map(|f| &f.value);
            assert_eq!(got, Some(&field_value(value)), "{case_id}.{id}");
        }
        assert_eq!(
            stored.related_items.len(),
            truth.related_items.len(),
            "{case_id}"
        );
    }
}

/// Throttled four times in a row, each answer past a 1 s operation timeout's worth of the SDK's
/// backoff: the runs back off, go on, complete, and report every throttle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_longer_than_the_sdk_retries_never_aborts_a_backfill_or_a_reconcile() {
    let w = world(34, 6).await;
    w.standin.inject(FaultRule {
        operation: Some("GetCaseAuditEvents"),
        case_id: None,
        fault: Fault::Throttle,
        rate: 1.0,
        times: Some(4),
    });
    let out = output_logged(
        casesctl(&w, "backfill")
            .args(["--rate", "20"])
            .env("CASES_TIMEOUT_MS", "1000"),
    );
    assert!(out.status.success(), "exit {:?}", out.status.code());
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("6 case(s)"), "{summary}");
    assert!(
        summary.contains("; 4 throttled"),
        "the operator sees every throttle: {summary}"
    );
    assert_eq!(w.standin.injected("GetCaseAuditEvents", 429), 4);

    w.standin.inject(FaultRule {
        operation: Some("SearchCases"),
        case_id: None,
        fault: Fault::Throttle,
        rate: 1.0,
        times: Some(4),
    });
    let out = output_logged(
        casesctl(&w, "reconcile")
            .args(["--since", "90d", "--rate", "20", "--emf"])
            .env("CASES_TIMEOUT_MS", "1000"),
    );
    assert!(out.status.success(), "exit {:?}", out.status.code());
    let metrics: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(metrics["ReconcileThrottles"], 4.0);
    assert_eq!(metrics["ReconcileCasesSearched"], 6.0);
}

/// Step 4 probing 12 cases at 3 requests/s (4 s) under a 2 s lease: another owner trying all
/// along never gets the lease, and every lost delete is healed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_4_loop_longer_than_the_lease_keeps_it() {
    let w = world(35, 16).await;
    project(&w).await;
    let gone = delete_in_standin(&w, 12);
    let limiter = Limiter::new(3.0);
    let api = CasesApi::new(cases_client_with_attempts(&w.standin.endpoint(), 3));
    let reconcile = Reconcile::new(
        &api,
        &w.store,
        &limiter,
        options(Duration::from_secs(2), 3.0),
    );
    let running = Arc::new(AtomicBool::new(true));
    let intruding = intruder(&w, running.clone());
    let started = std::time::Instant::now();
    let summary = reconcile.run().await;
    let step_4 = started.elapsed();
    running.store(false, Ordering::SeqCst);
    let intruded = intruding.await.unwrap();
    let summary = summary.unwrap();
    assert!(step_4 > Duration::from_secs(3), "longer than the lease");
    assert!(!intruded, "another owner never took the lease");
    assert_eq!(summary.counts.tombstones, gone.len() as u64);
    for case_id in &gone {
        assert!(
            w.store
                .load(case_id)
                .await
                .unwrap()
                .unwrap()
                .view
                .is_deleted()
        );
    }
}

/// A run stalled in step 4 (GetCase throttled) past its 1 s lease, which another owner then
/// takes (and the throttling ends): the run stops at its next write, tombstoning nothing, and
/// the lease stays the other owner's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_lease_another_owner_took_writes_nothing_more() {
    let w = world(36, 16).await;
    project(&w).await;
    let gone = delete_in_standin(&w, 12);
    w.standin.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: None,
        fault: Fault::Throttle,
        rate: 1.0,
        times: None,
    });
    let limiter = Limiter::new(200.0);
    let api = CasesApi::new(cases_client_with_attempts(&w.standin.endpoint(), 1));
    let reconcile = Reconcile::new(
        &api,
        &w.store,
        &limiter,
        options(Duration::from_secs(1), 200.0),
    );
    let running = Arc::new(AtomicBool::new(true));
    let intruding = intruder(&w, running.clone());
    let result = reconcile.run().await;
    running.store(false, Ordering::SeqCst);
    assert!(
        intruding.await.unwrap(),
        "the other owner took the expired lease"
    );
    assert!(
        matches!(result, Err(ReconcileError::LeaseLost { .. })),
        "{result:?}"
    );
    for case_id in &gone {
        let stored = w.store.load(case_id).await.unwrap().unwrap().view;
        assert!(
            !stored.is_deleted(),
            "{case_id}: nothing written after the lease was lost"
        );
    }
    // Still the other owner's: this run neither renewed nor released it.
    let until = (Utc::now() + TimeDelta::minutes(5)).timestamp() as u64;
    assert!(
        w.store
            .acquire_lease(DOMAIN_ID, NAME, "this-run", until)
            .await
            .unwrap()
            .is_err()
    );
}
