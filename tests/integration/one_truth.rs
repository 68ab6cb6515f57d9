//! One truth: whatever the delivery (any order, duplicates, SQS batches, one to four instances
//! at once), whatever reads of the Cases API are applied meanwhile (a search or GetCase answer
//! as of any moment, also older than events already applied; audit history dated a few
//! milliseconds off the events; a read finding the case gone), and whatever `REPORT_DIMENSIONS`
//! changes on the way (then `casesctl regroup`), every stored case and every stored number
//! equals what the event history says.
//!
//! The truth: each case's events folded in time order (the pure core), and what those states
//! contribute under the final dimensions. Checked on the in-memory store for volume and on
//! DynamoDB Local for a sample.

use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;

use cases_projector::analytics::read;
use cases_projector::event::{CaseEvent, FieldValue, RelatedItem, parse_event_value};
use cases_projector::projection::contribution::{Bucket, Contributions, total};
use cases_projector::projection::{
    CaseSnapshot, CaseView, LAST_UPDATED, ProjectionOptions, Snapshot, Version, decide_gone,
    decide_snapshot, fold, read_time,
};
use cases_projector::projector::Projector;
use cases_projector::regroup;
use cases_projector::store::memory::MemoryStore;
use cases_projector::store::{ReadModelStore, commit_decision};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::streams::{DOMAIN, case_event, content_of, related_event, text};

const STATUSES: [&str; 4] = ["open", "closed", "pending", "waiting@customer"];
const REASONS: [&str; 3] = ["billing", "refund", "delivery"];
const TYPES: [&str; 3] = ["Contact", "Comment", "Sla"];

/// What one case goes through after its creation, an hour or more apart (so days change).
#[derive(Debug, Clone)]
enum Step {
    Status(usize),
    Reason(usize),
    Related(usize),
    /// Deletes the related item created by an earlier step (by position among them).
    Unrelate(usize),
    Delete,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..STATUSES.len()).prop_map(Step::Status),
        2 => (0..REASONS.len()).prop_map(Step::Reason),
        2 => (0..TYPES.len()).prop_map(Step::Related),
        1 => (0..4usize).prop_map(Step::Unrelate),
        1 => Just(Step::Delete),
    ]
}

/// How the history is delivered and read.
#[derive(Debug, Clone)]
struct Delivery {
    seed: u64,
    instances: usize,
    batch: usize,
    /// Every n-th event is delivered twice.
    duplicate_every: usize,
    /// Reads: (after how many deliveries, which case, as of which of its events).
    reads: Vec<(usize, usize, usize)>,
    /// After how many deliveries `REPORT_DIMENSIONS` gains `case_reason`.
    regroup_at: usize,
}

fn case_id(i: usize) -> String {
    format!("00000000-aaaa-4bbb-8ccc-{i:012}")
}

fn at(minutes: i64) -> String {
    let base: DateTime<Utc> = "2026-11-20T20:00:00.000Z".parse().unwrap();
    (base + TimeDelta::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Each case's events, in the order they happened.
fn histories(cases: &[Vec<Step>]) -> Vec<Vec<Value>> {
    cases
        .iter()
        .enumerate()
        .map(|(c, steps)| {
            let case = case_id(c);
            let id = |n: usize| format!("e-{c}-{n}");
            let mut t = c as i64 * 7;
            let mut events = vec![case_event(
                &id(0),
                &at(t),
                "CREATED",
                &case,
                json!({"status": text("open"), "case_reason": text(REASONS[c % 3]), "title": text("t")}),
            )];
            let mut items = Vec::new();
            for (n, s) in steps.iter().enumerate() {
                let n = n + 1;
                t += 61 + (n as i64 * 37) % 300;
                let e = match s {
                    Step::Status(s) => {
                        case_event(&id(n), &at(t), "UPDATED", &case, json!({"status": text(STATUSES[*s])}))
                    }
                    Step::Reason(r) => case_event(
                        &id(n),
                        &at(t),
                        "UPDATED",
                        &case,
                        json!({"case_reason": text(REASONS[*r])}),
                    ),
                    Step::Related(k) => {
                        let item = format!("ri-{c}-{n}");
                        items.push((item.clone(), TYPES[*k]));
                        let mut e = related_event(
                            &id(n),
                            &at(t),
                            "CREATED",
                            &case,
                            &item,
                            TYPES[*k],
                            Some(content_of(TYPES[*k], &item)),
                        );
                        e["detail"]["relatedItem"]["createdDateTime"] = json!(at(t));
                        e
                    }
                    Step::Unrelate(i) if !items.is_empty() => {
                        let (item, kind) = &items[i % items.len()];
                        let mut e = related_event(&id(n), &at(t), "DELETED", &case, item, kind, None);
                        e["detail"]["relatedItem"]["createdDateTime"] = Value::Null;
                        e
                    }
                    Step::Unrelate(_) => continue,
                    Step::Delete => {
                        events.push(case_event(&id(n), &at(t), "DELETED", &case, json!({})));
                        break;
                    }
                };
                events.push(e);
            }
            events
        })
        .collect()
}

fn parsed(events: &[Value]) -> Vec<CaseEvent> {
    events
        .iter()
        .map(|e| parse_event_value(e.clone()).unwrap())
        .collect()
}

/// What the Cases API answers about a case at `when`, as backfill and reconcile apply it: fields
/// as of the case's last change (`last_updated_datetime`), live related items (request sent at
/// `when`), audit statuses a few ms after their events; or that the case is gone.
fn read_at(history: &[CaseEvent], when: DateTime<Utc>) -> Option<CaseSnapshot> {
    let seen: Vec<&CaseEvent> = history.iter().filter(|e| e.changed_at <= when).collect();
    let state = fold(seen.iter().copied(), &ProjectionOptions::default())?;
    if state.is_deleted() {
        return None;
    }
    let last_updated = seen
        .iter()
        .filter(|e| matches!(e.change, cases_projector::event::Change::Case(_)))
        .map(|e| e.changed_at)
        .max()?;
    let mut fields: BTreeMap<String, FieldValue> = state
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    fields.insert(
        LAST_UPDATED.into(),
        FieldValue::String(last_updated.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    );
    let as_of = read_time(&fields, when);
    fields.remove(LAST_UPDATED);
    let audit = state.status_history.iter().map(|(v, s)| {
        let version = Version {
            at: v.at + TimeDelta::milliseconds(3),
            event_id: format!("audit/{}/{}", state.case_id, v.event_id),
        };
        (version, s.clone())
    });
    Some(CaseSnapshot {
        case_id: state.case_id.clone(),
        domain_id: DOMAIN.into(),
        template_id: state.template_id.clone(),
        created_at: state.created_at,
        reads: vec![Snapshot { as_of, fields }],
        related_items: state
            .related_items
            .values()
            .filter(|r| !r.deleted)
            .map(|r| RelatedItem {
                id: r.id.clone(),
                item_type: r.item_type.clone(),
                created_at: r.created_at,
                content: None,
            })
            .collect(),
        related_read_at: when,
        status_history: audit.collect(),
        settled: Vec::new(),
    })
}

/// Delivers every history through `instances` projectors sharing `store`, applying reads and
/// changing the dimensions on the way, then regroups.
async fn deliver<S: ReadModelStore + cases_projector::store::PlanExecutor + Clone + 'static>(
    store: S,
    histories: &[Vec<Value>],
    delivery: &Delivery,
) -> S {
    let mut stream: Vec<Value> = histories.iter().flatten().cloned().collect();
    let copies: Vec<Value> = stream
        .iter()
        .step_by(delivery.duplicate_every)
        .cloned()
        .collect();
    stream.extend(copies);
    support::shuffle(&mut stream, delivery.seed);
    let batches: Vec<&[Value]> = stream.chunks(delivery.batch).collect();
    let parsed_histories: Vec<Vec<CaseEvent>> = histories.iter().map(|h| parsed(h)).collect();
    let reasons = vec!["case_reason".to_owned()];
    let mut done = 0;
    for round in batches.chunks(delivery.instances) {
        let dims: Vec<String> = if done >= delivery.regroup_at {
            reasons.clone()
        } else {
            Vec::new()
        };
        // One instance per batch of the round, at once.
        let runs = round.iter().map(|batch| {
            let projector = Projector::new(store.clone(), ProjectionOptions::default(), 4)
                .with_dimensions(dims.clone());
            let payload = support::sqs_batch(batch);
            async move {
                let report = support::handle(&projector, payload).await;
                assert_eq!(report.counts().failed, 0, "{report:?}");
            }
        });
        futures::future::join_all(runs).await;
        done += round.len();
        for (_, case, event) in delivery
            .reads
            .iter()
            .filter(|(after, _, _)| (done - round.len()..done).contains(after))
        {
            let history = &parsed_histories[case % parsed_histories.len()];
            let when = history[event % history.len()].changed_at + TimeDelta::milliseconds(1);
            let id = history[0].case_id.clone();
            match read_at(history, when) {
                Some(snapshot) => commit_decision(&store, &id, |stored| {
                    decide_snapshot(stored, &snapshot, &dims, &ProjectionOptions::default())
                })
                .await
                .unwrap(),
                None => commit_decision(&store, &id, |stored| decide_gone(stored, when, &dims))
                    .await
                    .unwrap(),
            };
        }
    }
    let options = regroup::Options {
        domain_id: DOMAIN.into(),
        dimensions: reasons,
        restart: false,
    };
    regroup::run(&store, &options, &()).await.unwrap();
    store
}

/// The stored aggregates, read as a report reads them.
async fn stored_numbers(store: &impl cases_projector::store::PlanExecutor) -> Contributions {
    let codes = read::codes(store, DOMAIN).await.unwrap();
    let days = read::days(
        store,
        DOMAIN,
        &codes,
        "2026-01-01".parse().unwrap(),
        "2027-01-01".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut out: Contributions = days
        .into_iter()
        .map(|(day, a)| (Bucket::Day(day), a))
        .collect();
    out.insert(
        Bucket::Current,
        read::current(store, DOMAIN, &codes).await.unwrap(),
    );
    out.retain(|_, counters| {
        counters.retain(|_, n| *n != 0);
        !counters.is_empty()
    });
    out
}

/// What a case shows a dashboard: comparable between the truth and the store.
fn visible(view: &CaseView) -> impl PartialEq + std::fmt::Debug {
    let fields: BTreeMap<String, FieldValue> = view
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    let related: BTreeMap<String, bool> = view
        .related_items
        .iter()
        .map(|(k, r)| (k.clone(), r.deleted))
        .collect();
    (
        view.is_deleted(),
        fields,
        related,
        view.created_at,
        view.template_id.clone(),
    )
}

async fn check<S: ReadModelStore + cases_projector::store::PlanExecutor + Clone + 'static>(
    store: S,
    cases: &[Vec<Step>],
    delivery: &Delivery,
) {
    let histories = histories(cases);
    let store = deliver(store, &histories, delivery).await;
    let truth: Vec<CaseView> = histories
        .iter()
        .map(|h| {
            let mut view = fold(&parsed(h), &ProjectionOptions::default()).unwrap();
            view.grouped_by = Some(vec!["case_reason".into()]);
            view
        })
        .collect();
    for expected in &truth {
        let stored = store.load(&expected.case_id).await.unwrap().unwrap().view;
        assert_eq!(
            visible(&stored),
            visible(expected),
            "case {}",
            expected.case_id
        );
    }
    assert_eq!(stored_numbers(&store).await, total(&truth), "the numbers");
}

fn delivery(events: usize) -> impl Strategy<Value = Delivery> {
    (
        any::<u64>(),
        1..=4usize,
        1..=10usize,
        2..=9usize,
        prop::collection::vec((0..events, 0..8usize, 0..12usize), 0..12),
        0..events,
    )
        .prop_map(
            |(seed, instances, batch, duplicate_every, reads, regroup_at)| Delivery {
                seed,
                instances,
                batch,
                duplicate_every,
                reads,
                regroup_at: regroup_at / batch.max(1),
            },
        )
}

fn cases(n: usize) -> impl Strategy<Value = Vec<Vec<Step>>> {
    prop::collection::vec(prop::collection::vec(step(), 0..9), 1..=n)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn any_delivery_any_reads_any_regroup_on_the_memory_store_give_the_truth(
        cases in cases(8),
        delivery in delivery(60),
    ) {
        runtime().block_on(check(Arc::new(MemoryStore::new()), &cases, &delivery));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]
    #[test]
    fn any_delivery_any_reads_any_regroup_on_dynamodb_local_give_the_truth(
        cases in cases(4),
        delivery in delivery(30),
    ) {
        let server = support::DynamoLocal::start();
        runtime().block_on(async {
            let store = support::new_store(&server, "truth").await;
            check(store, &cases, &delivery).await;
        });
    }
}
