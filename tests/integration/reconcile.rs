//! Deferred enrichment and reconcile: generated domains whose truth is known, streamed as events
//! through projector instances (real SDK, real wire protocol, the Cases stand-in enforcing a
//! GetCase quota, DynamoDB Local), then healed by reconcile (in process and through `casesctl`).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cases_projector::backfill::Limiter;
use cases_projector::connect_cases::CasesApi;
use cases_projector::enrichment::{Budget, Enricher, EnricherSettings};
use cases_projector::projection::ProjectionOptions;
use cases_projector::projector::Projector;
use cases_projector::reconcile::{Options, Reconcile};
use cases_projector::report::RecordOutcome;
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::store::keys;
use cases_projector::store::{CaseStore, DomainStore};
use chrono::{NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};
use support::cases_standin::CasesStandIn;
use support::domain_gen::{DOMAIN_ID, GeneratedDomain, generate_at};
use support::streams::case_event;
use support::*;

/// Events carry these (the domain's event configuration); GetCase fills the rest.
const CARRIED: [&str; 2] = ["status", "last_closed_datetime"];

/// A generated domain and its history as Cases events; `deleted` cases end with `CASE.DELETED`
/// and are gone from the stand-in.
struct World {
    domain: GeneratedDomain,
    events: Vec<Value>,
    deleted: BTreeSet<String>,
}

fn world(seed: u64, cases: usize, delete_every: usize) -> World {
    let domain = generate_at(seed, cases, 6, Utc::now() - TimeDelta::hours(1));
    let mut events = Vec::new();
    let mut deleted = BTreeSet::new();
    for (index, (case_id, truth)) in domain.cases.iter().enumerate() {
        let fixture = &domain.domain.cases[case_id];
        let mut carried: BTreeMap<&str, Value> = BTreeMap::new();
        let mut related = truth.related_items.iter();
        let mut last = truth.created;
        for audit in &fixture.audit_events {
            let at = audit["performedTime"].as_str().unwrap();
            last = at.parse().unwrap();
            let id = format!("{case_id}/{}", audit["eventId"].as_str().unwrap());
            match audit["type"].as_str().unwrap() {
                "RelatedItem.Created" => {
                    let item = related.next().unwrap();
                    events.push(support::streams::related_event(
                        &id,
                        at,
                        "CREATED",
                        case_id,
                        item["relatedItemId"].as_str().unwrap(),
                        item["type"].as_str().unwrap(),
                        None,
                    ));
                }
                kind => {
                    let changed: Vec<String> = audit["fields"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f["eventFieldId"].as_str().unwrap().to_owned())
                        .collect();
                    for f in audit["fields"].as_array().unwrap() {
                        let field = f["eventFieldId"].as_str().unwrap();
                        if let Some(name) = CARRIED.iter().find(|c| **c == field) {
                            carried.insert(name, f["newValue"].clone());
                        }
                    }
                    let fields: serde_json::Map<String, Value> = carried
                        .iter()
                        .map(|(k, v)| (k.to_string(), json!({ "value": v })))
                        .collect();
                    let op = if kind == "Case.Created" {
                        "CREATED"
                    } else {
                        "UPDATED"
                    };
                    let mut e = case_event(&id, at, op, case_id, Value::Object(fields));
                    e["detail"]["changedFieldIds"] = json!(changed);
                    events.push(e);
                }
            }
        }
        if delete_every > 0 && index % delete_every == delete_every - 1 {
            let at = support::domain_gen::iso(last + TimeDelta::seconds(1));
            events.push(case_event(
                &format!("{case_id}/deleted"),
                &at,
                "DELETED",
                case_id,
                json!({}),
            ));
            deleted.insert(case_id.clone());
        }
    }
    events.sort_by(|a, b| {
        let at = |e: &Value| {
            e["detail"]["approximateChangeTime"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        at(a).cmp(&at(b))
    });
    World {
        domain,
        events,
        deleted,
    }
}

async fn standin_for(world: &World) -> CasesStandIn {
    let standin = CasesStandIn::start(world.domain.fixture()).await;
    standin.with_domain(DOMAIN_ID, |d| {
        d.event_configuration = json!({
            "enabled": true,
            "includedData": {
                "caseData": {"fields": CARRIED.iter().map(|f| json!({"id": f})).collect::<Vec<_>>()},
                "relatedItemData": {"includeContent": false}
            }
        });
    });
    for case_id in &world.deleted {
        standin.remove_case(DOMAIN_ID, case_id);
    }
    standin
}

fn settings() -> EnricherSettings {
    EnricherSettings {
        case_fields: None,
        cache_ttl: Duration::from_secs(900),
        max_snapshot_age: Duration::from_secs(6 * 3600),
    }
}

fn instance(
    store: DynamoStore,
    standin: &CasesStandIn,
    budget: Option<f64>,
) -> Projector<DynamoStore, CasesApi> {
    let mut enricher = Enricher::new(
        CasesApi::new(cases_client_with_attempts(&standin.endpoint(), 3)),
        settings(),
    );
    if let Some(rate) = budget {
        enricher = enricher.with_budget(Budget::new(rate, 1.0));
    }
    Projector::new(store, ProjectionOptions::default(), 8).with_enricher(enricher)
}

/// Every live case holds the truth's fields and related items, nothing is deferred, and every
/// deleted case is a tombstone.
async fn assert_equals_the_truth(store: &DynamoStore, world: &World) {
    assert_fields_equal_the_truth(store, world, true).await;
}

/// [`assert_equals_the_truth`], related items only when `related` (reconcile reads fields).
async fn assert_fields_equal_the_truth(store: &DynamoStore, world: &World, related: bool) {
    for (case_id, truth) in &world.domain.cases {
        let stored = store.load(case_id).await.unwrap().expect(case_id);
        if world.deleted.contains(case_id) {
            assert!(stored.view.is_deleted(), "{case_id} is a tombstone");
            continue;
        }
        assert!(!stored.view.is_deleted(), "{case_id} is live");
        assert_eq!(stored.view.deferred, None, "{case_id}");
        for (id, value) in &truth.fields {
            let got = stored.view.fields.get(id).map(|f| &f.value);
            assert_eq!(got, Some(&field_value(value)), "{case_id}.{id}");
        }
        let ids: BTreeSet<&str> = truth
            .related_items
            .iter()
            .map(|r| r["relatedItemId"].as_str().unwrap())
            .collect();
        let held: BTreeSet<&str> = stored
            .view
            .related_items
            .keys()
            .map(String::as_str)
            .collect();
        if related {
            assert_eq!(held, ids, "{case_id}");
        }
    }
}

/// The report's daily numbers: (day, number) → value.
async fn counters(store: &DynamoStore) -> BTreeMap<(NaiveDate, String), i64> {
    row_numbers(&report_rows(store, DOMAIN_ID, "2020-01-01", "2030-01-01").await)
}

/// The truth: what the cases the events describe contribute, (day, number) → value.
fn expected_counters(events: &[Value]) -> BTreeMap<(NaiveDate, String), i64> {
    truth_numbers(events)
}

fn options(since: Option<TimeDelta>, rate: f64) -> Options {
    Options {
        since,
        ..reconcile_options(DOMAIN_ID, rate)
    }
}

/// `RECONCILE_BURST_CASES` (default 100, about 1,300 events) cases' events through 5 concurrent
/// projector instances, each with its share of a 4 GetCase/s quota the stand-in enforces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_through_5_instances_under_the_quota_fails_nothing_and_one_reconcile_heals_it() {
    let cases: usize = std::env::var("RECONCILE_BURST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let world = world(21, cases, 20);
    let dynamo = DynamoLocal::start();
    let standin = standin_for(&world).await;
    standin.set_quota(Some("GetCase"), 4.0, 4.0);
    let store = new_store(&dynamo, "cases").await;
    let per_instance = Budget::per_instance_rate(4.0, 0.5, 5);
    let instances: Vec<_> = (0..5)
        .map(|_| instance(store.clone(), &standin, Some(per_instance)))
        .collect();

    let started = Instant::now();
    let batches: Vec<&[Value]> = world.events.chunks(10).collect();
    let runs = instances.iter().enumerate().map(|(i, p)| {
        let mine: Vec<&[Value]> = batches.iter().skip(i).step_by(5).copied().collect();
        async move {
            let (mut failed, mut deferred) = (Vec::new(), 0u32);
            for batch in mine {
                let report = handle(p, sqs_batch(batch)).await;
                for (r, event) in report.records.iter().zip(batch) {
                    if let RecordOutcome::Failed { error, .. } = &r.outcome {
                        failed.push((error.clone(), event.clone()));
                    }
                }
                deferred += report.work.enrichment_deferred;
            }
            (failed, deferred)
        }
    });
    let results = futures::future::join_all(runs).await;
    let projected_in = started.elapsed();
    let failed: Vec<&(String, Value)> = results.iter().flat_map(|r| &r.0).collect();
    let deferred: u32 = results.iter().map(|r| r.1).sum();
    let (get_case, throttled) = (standin.calls("GetCase"), standin.throttled("GetCase"));
    eprintln!(
        "burst: {} events, {} cases in {:.1}s: {} failed, {deferred} enrichments deferred, GetCase {get_case} ({throttled} answered 429)",
        world.events.len(),
        cases,
        projected_in.as_secs_f64(),
        failed.len(),
    );
    // Only DynamoDB can fail a record: five instances racing on one case's 40-odd events may
    // exhaust the commit retries (contention, retryable: SQS delivers it again). Never the quota.
    for (error, _) in &failed {
        assert!(error.contains("kept changing"), "{error}");
    }
    assert!(
        failed.len() * 100 <= world.events.len(),
        "under 1% contended: {}",
        failed.len()
    );
    let redelivered: Vec<Value> = failed.iter().map(|(_, e)| e.clone()).collect();
    for batch in redelivered.chunks(10) {
        assert_eq!(
            handle(&instances[0], sqs_batch(batch))
                .await
                .counts()
                .failed,
            0
        );
    }
    assert!(deferred > 0, "the budget deferred some enrichment");
    let held = store.deferred_cases(DOMAIN_ID).await.unwrap();
    assert!(!held.is_empty());

    standin.reset_calls();
    let limiter = Limiter::new(3.5);
    let api = CasesApi::new(cases_client_with_attempts(&standin.endpoint(), 3));
    let summary = Reconcile::new(
        &api,
        &store,
        &limiter,
        options(Some(TimeDelta::days(90)), 3.5),
    )
    .run()
    .await
    .unwrap();
    eprintln!("{}", cases_projector::reconcile::render(&summary));
    eprintln!("reconcile's Cases requests: {:?}", standin.all_calls());
    assert_eq!(summary.deferred_left, 0);
    assert!(summary.counts.deferred_filled as usize >= held.len() - world.deleted.len());

    assert_equals_the_truth(&store, &world).await;
    assert_eq!(counters(&store).await, expected_counters(&world.events));
    let (get_case, throttled) = (standin.calls("GetCase"), standin.throttled("GetCase"));
    eprintln!(
        "GetCase {get_case}, 429 {throttled} ({:.1}%)",
        100.0 * throttled as f64 / get_case as f64
    );
    assert!(
        (throttled as f64) < 0.10 * get_case as f64,
        "429s under 10% of GetCase calls: {throttled} of {get_case}"
    );
}

/// DynamoDB Local, the stand-in serving a world, and the read model.
struct Local {
    dynamo: DynamoLocal,
    standin: CasesStandIn,
    store: DynamoStore,
}

/// [`Local`] for `world`, its read model having received `delivered` through one projector (SQS
/// batches of 10, none failing).
async fn projected(world: &World, delivered: &[Value]) -> Local {
    let dynamo = DynamoLocal::start();
    let standin = standin_for(world).await;
    let store = new_store(&dynamo, "cases").await;
    let projector = instance(store.clone(), &standin, None);
    for batch in delivered.chunks(10) {
        let report = handle(&projector, sqs_batch(batch)).await;
        assert_eq!(report.counts().failed, 0);
    }
    Local {
        dynamo,
        standin,
        store,
    }
}

fn casesctl(cli: &Local, args: &[&str]) -> Command {
    let mut cmd = local_casesctl(
        env!("CARGO_BIN_EXE_casesctl"),
        &cli.dynamo.target(),
        Some(&cli.standin.endpoint()),
    );
    // The EMF line (on stdout) is what these tests read the run's counts from.
    cmd.arg("reconcile")
        .args(["--domain-id", DOMAIN_ID, "--emf"])
        .args(args);
    cmd
}

fn run(cli: &Local, args: &[&str]) -> Output {
    output_logged(&mut casesctl(cli, args))
}

/// The EMF line's metrics.
fn metrics(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("an EMF line on stdout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_updates_and_deletes_heal_after_one_reconcile_through_casesctl() {
    let world = world(5, 40, 10);
    // About 5% of the events dropped (case and related-item events alike), and every delete.
    let mut rng = support::domain_gen::Rng::new(99);
    let delivered: Vec<Value> = world
        .events
        .iter()
        .filter(|e| {
            let kind = e["detail"]["eventType"].as_str().unwrap();
            kind != "CASE.DELETED" && !rng.percent(5)
        })
        .cloned()
        .collect();
    let dropped = world.events.len() - delivered.len();
    eprintln!("{dropped} of {} events dropped", world.events.len());
    assert!(delivered.len() < world.events.len() - world.deleted.len());
    let cli = projected(&world, &delivered).await;
    cli.standin.reset_calls();
    let out = run(&cli, &["--since", "90d", "--rate", "20"]);
    assert!(out.status.success());
    let calls = cli.standin.all_calls();
    eprintln!("reconcile's Cases requests: {calls:?}");
    let m = metrics(&out);
    assert_eq!(m["ReconcileTombstones"], world.deleted.len() as f64);
    // Lost related items come back from the domain-wide search, read once: a page per 25 items
    // the live cases hold, none per case.
    assert_eq!(
        m["ReconcileRelatedItemsAdded"],
        lost_related_items(&world, &delivered) as f64
    );
    let items: usize = live_related_items(&world);
    assert_eq!(
        calls.get("SearchAllRelatedItems"),
        Some(&items.div_ceil(25))
    );
    assert_eq!(calls.get("SearchRelatedItems"), None);
    // The service saw what the run reports (every Cases request is paced and counted).
    assert_eq!(
        m["ReconcileCasesCalls"],
        calls.values().sum::<usize>() as f64,
        "{calls:?}"
    );
    assert_eq!(m["DeferredCases"], 0.0);
    assert_equals_the_truth(&cli.store, &world).await;
    for case_id in &world.deleted {
        let table = snapshot_table(&cli.store).await;
        let key = table_key(keys::case_key(case_id));
        assert_eq!(attr(&table, &key, "deletedBy"), Some("reconcile"));
    }
    // Every number from the healed cases: creations on their own days, every related item once
    // (the lost ones too; this world's events and stand-in date items differently, so in all),
    // each lost delete counted once, on the day reconcile found it gone.
    let healed = |c: BTreeMap<(NaiveDate, String), i64>| -> BTreeMap<(NaiveDate, String), i64> {
        let mut out = BTreeMap::new();
        for ((day, name), n) in c {
            if name == "Created" {
                out.insert((day, name), n);
            } else if name.starts_with("RelatedItems") {
                *out.entry((NaiveDate::MIN, name)).or_default() += n;
            }
        }
        out
    };
    // What the Cases API can still show: a lost related item of a case deleted since (its
    // delete lost too) is gone with the case, and counts only if its event was delivered.
    let recoverable: Vec<Value> = world
        .events
        .iter()
        .filter(|e| {
            let case_id = e["detail"]["case"]["caseId"]
                .as_str()
                .or(e["detail"]["relatedItem"]["caseId"].as_str())
                .unwrap();
            !world.deleted.contains(case_id) || delivered.contains(e)
        })
        .cloned()
        .collect();
    let stored = counters(&cli.store).await;
    assert_eq!(
        healed(stored.clone()),
        healed(expected_counters(&recoverable))
    );
    let deleted: i64 = stored
        .iter()
        .filter(|((_, name), _)| name == "Deleted")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(deleted as usize, world.deleted.len());

    // A second run starts from the watermark and finds nothing more to fix.
    cli.standin.reset_calls();
    let out = run(&cli, &["--rate", "20"]);
    assert!(out.status.success());
    let calls = cli.standin.all_calls();
    eprintln!("second run's Cases requests: {calls:?}");
    assert_eq!(
        calls.get("SearchAllRelatedItems"),
        Some(&1),
        "stops at the watermark"
    );
    let m = metrics(&out);
    assert_eq!(m["ReconcileRelatedItemsAdded"], 0.0);
    assert_eq!(m["ReconcileTombstones"], 0.0);
    assert_eq!(m["ReconcileCasesCreated"], 0.0);
    assert_eq!(m["ReconcileFieldsCorrected"], 0.0);
    assert!(
        m["ReconcileCasesSearched"].as_f64().unwrap() < 10.0,
        "stops at the watermark: {m}"
    );
}

/// Related items the live cases hold in the stand-in.
fn live_related_items(world: &World) -> usize {
    world
        .domain
        .cases
        .iter()
        .filter(|(case_id, _)| !world.deleted.contains(*case_id))
        .map(|(_, truth)| truth.related_items.len())
        .sum()
}

/// `RELATED_ITEM.CREATED` events of live cases that `delivered` lacks.
fn lost_related_items(world: &World, delivered: &[Value]) -> usize {
    let ids = |events: &[Value]| -> BTreeSet<String> {
        events
            .iter()
            .filter(|e| e["detail"]["eventType"] == "RELATED_ITEM.CREATED")
            .filter(|e| {
                let case_id = e["detail"]["relatedItem"]["caseId"].as_str().unwrap();
                !world.deleted.contains(case_id)
            })
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    ids(&world.events).difference(&ids(delivered)).count()
}

/// A run from the watermark reads only the related items associated since, newest first: an item
/// added to a case that did not change otherwise heals at one request, and a case the read model
/// never saw (every event of it lost) comes in with its fields. A short `--since` run in between
/// does not move the watermark past what it did not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_from_the_watermark_heals_new_related_items_of_unchanged_and_unknown_cases() {
    let world = world(8, 20, 0);
    // The two cases whose last change is oldest: both before the first run's window.
    let last_change = |case_id: &String| {
        world.domain.domain.cases[case_id]
            .audit_events
            .iter()
            .map(|a| a["performedTime"].as_str().unwrap().to_owned())
            .max()
            .unwrap()
    };
    let mut case_ids: Vec<&String> = world.domain.cases.keys().collect();
    case_ids.sort_by_key(|c| last_change(c));
    let (unknown, unchanged, updated) = (case_ids[0], case_ids[1], case_ids[2]);
    let window_start = support::domain_gen::iso(Utc::now() - TimeDelta::days(1));
    assert!(last_change(unchanged) < window_start);
    let delivered: Vec<Value> = world
        .events
        .iter()
        .filter(|e| {
            !e["resources"][1]
                .as_str()
                .unwrap()
                .ends_with(unknown.as_str())
        })
        .cloned()
        .collect();
    let Local {
        dynamo: _dynamo,
        standin,
        store,
    } = projected(&world, &delivered).await;
    // The first run does not see the unknown case: it is not in the domain yet.
    let hidden = standin.remove_case(DOMAIN_ID, unknown).unwrap();
    let limiter = Limiter::new(200.0);
    let api = CasesApi::new(cases_client_with_attempts(&standin.endpoint(), 3));
    let first = Reconcile::new(&api, &store, &limiter, options(None, 200.0))
        .run()
        .await
        .unwrap();
    assert_eq!(first.counts.related_items_added, 0);
    assert!(first.watermark.is_some());
    assert!(store.load(unknown).await.unwrap().is_none());

    // Half an hour ago, after the watermark: one item was associated with each, neither case
    // was otherwise updated, and both RELATED_ITEM.CREATED events were lost. A third case is
    // updated now.
    let new_item = |case_id: &str| {
        json!({
            "relatedItemId": format!("new-item-of-{case_id}"),
            "type": "Comment",
            "associationTime": support::domain_gen::iso(Utc::now() - TimeDelta::minutes(30)),
            "content": {"comment": {"body": "a comment", "contentType": "Text/Plain"}},
        })
    };
    standin.with_domain(DOMAIN_ID, |d| {
        let mut hidden = hidden.clone();
        hidden.related_items.push(new_item(unknown));
        d.cases.insert(unknown.clone(), hidden);
        d.cases
            .get_mut(unchanged)
            .unwrap()
            .related_items
            .push(new_item(unchanged));
        for field in &mut d.cases.get_mut(updated).unwrap().fields {
            if field["id"] == "last_updated_datetime" {
                field["value"] = json!({"stringValue": support::domain_gen::iso(Utc::now())});
            }
        }
    });
    let short = Reconcile::new(
        &api,
        &store,
        &limiter,
        options(Some(TimeDelta::minutes(1)), 200.0),
    )
    .run()
    .await
    .unwrap();
    assert_eq!(short.counts.cases_searched, 1, "it saw the updated case");
    assert_eq!(short.watermark, first.watermark);
    standin.reset_calls();
    let second = Reconcile::new(&api, &store, &limiter, options(None, 200.0))
        .run()
        .await
        .unwrap();

    assert_eq!(second.counts.related_items_added, 2);
    assert_eq!(second.counts.cases_related_added, 2);
    assert_eq!(second.counts.cases_created, 1);
    assert_eq!(standin.calls("SearchAllRelatedItems"), 1);
    let held = store.load(unchanged).await.unwrap().unwrap();
    assert!(
        held.view
            .related_items
            .contains_key(&format!("new-item-of-{unchanged}"))
    );
    let held = store.load(unknown).await.unwrap().unwrap();
    assert!(
        held.view
            .related_items
            .contains_key(&format!("new-item-of-{unknown}"))
    );
    assert!(held.view.version.is_some() && !held.view.is_deleted());
    assert_eq!(
        held.view.created_at.map(|t| t.timestamp_millis()),
        Some(world.domain.cases[unknown].created.timestamp_millis())
    );
    for (id, value) in &world.domain.cases[unknown].fields {
        let got = held.view.fields.get(id).map(|f| &f.value);
        assert_eq!(got, Some(&field_value(value)), "{unknown}.{id}");
    }
}

/// A run that fails in the middle of its related-item step resumes from the checkpoint: the next
/// run neither searches the cases again nor reads the pages it had, and heals every lost item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_failed_midway_through_related_items_resumes_where_it_stopped() {
    let world = world(9, 20, 0);
    let mut rng = support::domain_gen::Rng::new(5);
    let delivered: Vec<Value> = world
        .events
        .iter()
        .filter(|e| e["detail"]["eventType"] != "RELATED_ITEM.CREATED" || !rng.percent(20))
        .cloned()
        .collect();
    let lost = lost_related_items(&world, &delivered);
    assert!(lost > 0);
    let Local {
        dynamo: _dynamo,
        standin,
        store,
    } = projected(&world, &delivered).await;
    // Every attempt at the second related-item page fails (the SDK makes 3).
    let pages = live_related_items(&world).div_ceil(25);
    assert!(pages > 2);
    standin.inject_after(
        1,
        support::cases_standin::FaultRule {
            operation: Some("SearchAllRelatedItems"),
            case_id: None,
            fault: support::cases_standin::Fault::Internal,
            rate: 1.0,
            times: Some(3),
        },
    );
    let limiter = Limiter::new(200.0);
    let api = CasesApi::new(cases_client_with_attempts(&standin.endpoint(), 3));
    let reconcile = Reconcile::new(
        &api,
        &store,
        &limiter,
        options(Some(TimeDelta::days(90)), 200.0),
    );
    assert!(reconcile.run().await.is_err());
    assert!(standin.calls("SearchCases") > 0);

    standin.reset_calls();
    let summary = reconcile.run().await.unwrap();
    assert_eq!(
        standin.calls("SearchCases"),
        0,
        "the search is not repeated"
    );
    assert_eq!(
        standin.calls("SearchAllRelatedItems"),
        pages - 1,
        "the first page is not read again"
    );
    assert_eq!(summary.counts.related_items_added, lost as u64);
    assert_equals_the_truth(&store, &world).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_at_a_time_and_a_killed_runs_lease_expires() {
    let world = world(7, 30, 0);
    let dynamo = DynamoLocal::start();
    let standin = standin_for(&world).await;
    let store = new_store(&dynamo, "cases").await;
    let cli = Local {
        dynamo,
        standin,
        store,
    };
    // Two at once: one does the work, the other is refused (exit 2) having done nothing.
    let slow = ["--since", "90d", "--rate", "1"];
    let first = casesctl(&cli, &slow).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let second = run(&cli, &slow);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another reconcile"),
        "the second run says why it did nothing"
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success());
    assert_fields_equal_the_truth(&cli.store, &world, false).await;

    // Killed midway with a 3 s lease: the next run is refused until it expires, then runs.
    let mut killed = casesctl(
        &cli,
        &["--since", "90d", "--rate", "1", "--lease-seconds", "3"],
    )
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    killed.kill().unwrap();
    killed.wait().unwrap();
    let refused = run(&cli, &["--since", "90d", "--rate", "20"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("another reconcile"));
    std::thread::sleep(Duration::from_secs(4));
    let after = run(&cli, &["--since", "90d", "--rate", "20"]);
    assert!(after.status.success());
    assert!(metrics(&after).get("ReconcileCasesSearched").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_the_archived_stream_into_a_fresh_table_gives_the_identical_read_model() {
    let world = world(13, 30, 10);
    let dynamo = DynamoLocal::start();
    let live = new_store(&dynamo, "live").await;
    let rebuilt = new_store(&dynamo, "rebuilt").await;
    let first = support::projector(live.clone());
    for batch in world.events.chunks(10) {
        assert_eq!(handle(&first, sqs_batch(batch)).await.counts().failed, 0);
    }
    // An archive replay: the same events in another order, some twice (the live rule and the
    // replay overlap).
    let mut replay = world.events.clone();
    replay.extend(world.events.iter().step_by(7).cloned());
    shuffle(&mut replay, 42);
    let second = support::projector(rebuilt.clone());
    for batch in replay.chunks(10) {
        assert_eq!(handle(&second, sqs_batch(batch)).await.counts().failed, 0);
    }
    assert_eq!(snapshot_table(&rebuilt).await, snapshot_table(&live).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_reads_the_summary_on_stdout_and_the_emf_line_only_when_asked() {
    let world = world(9, 10, 0);
    let cli = projected(&world, &world.events).await;
    let plain = |args: &[&str]| {
        let mut cmd = local_casesctl(
            env!("CARGO_BIN_EXE_casesctl"),
            &cli.dynamo.target(),
            Some(&cli.standin.endpoint()),
        );
        cmd.args(["reconcile", "--domain-id", DOMAIN_ID, "--rate", "20"])
            .args(args);
        output_logged(&mut cmd)
    };
    let out = plain(&["--since", "90d"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("reconcile done in "), "{stdout}");
    assert!(stdout.contains("10 case(s) searched since"), "{stdout}");
    assert!(serde_json::from_str::<Value>(&stdout).is_err());

    let deferred = plain(&["--deferred-only"]);
    let stdout = String::from_utf8_lossy(&deferred.stdout);
    assert!(
        stdout.contains("deferred cases only (no search)"),
        "{stdout}"
    );
    assert!(!stdout.contains("searched since"), "{stdout}");

    let emf = run(&cli, &["--since", "90d", "--rate", "20"]);
    assert_eq!(metrics(&emf)["ReconcileCasesSearched"], 10.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_the_progress_releases_the_lease_and_the_next_run_goes_on_at_once() {
    let world = world(10, 30, 0);
    let cli = projected(&world, &world.events).await;
    let child = casesctl(&cli, &["--since", "90d", "--rate", "1"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "interrupted: the progress up to the last page done is kept and the lease is released"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("casesctl reconcile --domain-id {DOMAIN_ID}")),
        "{stderr}"
    );
    // Not refused as busy: the lease is free.
    let next = run(&cli, &["--since", "90d", "--rate", "20"]);
    assert!(next.status.success());
    assert_fields_equal_the_truth(&cli.store, &world, false).await;
}
