//! Order independence proved on what is written: generated streams (creates, updates, related
//! items of every type, deletes, trimming-sized values, sub-millisecond times) delivered shuffled
//! and duplicated, in SQS batches, end in exactly the items the in-order delivery writes: case,
//! related items, overflow and counters. On the in-memory store (1,000 streams) and on DynamoDB
//! Local (a few dozen).

use crate::support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use cases_projector::projection::ProjectionOptions;
use cases_projector::projector::Projector;
use cases_projector::report::RecordOutcome;
use cases_projector::store::ReadModelStore;
use cases_projector::store::keys::RELATED_PREFIX;
use cases_projector::store::memory::MemoryStore;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::streams::{Generated, stream};
use support::{DynamoLocal, comparable, new_store, shuffle, sqs_batch};

type Table = BTreeMap<String, BTreeMap<String, String>>;

const OPTIONS: ProjectionOptions = ProjectionOptions {
    store_customer_content: true,
};

/// A delivery: every event once or twice, shuffled, cut into SQS batches of 1–9 records.
fn delivery(events: &[Generated], seed: u64) -> Vec<serde_json::Value> {
    let mut copies: Vec<serde_json::Value> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        copies.push(e.json.clone());
        if (seed >> (i % 64)) & 1 == 1 {
            copies.push(e.json.clone());
        }
    }
    shuffle(&mut copies, seed);
    let mut batches = Vec::new();
    let mut rest = copies.as_slice();
    let mut size = seed;
    while !rest.is_empty() {
        size = size.wrapping_mul(6364136223846793005).wrapping_add(1);
        let n = (1 + (size >> 33) % 9).min(rest.len() as u64) as usize;
        batches.push(sqs_batch(&rest[..n]));
        rest = &rest[n..];
    }
    batches
}

/// Every live event counts (a backfill set the cut-over long ago): the comparison is about
/// delivery order, not about which event came first after a deploy.
async fn counting_from_long_ago<S: cases_projector::store::DomainStore>(store: S) -> S {
    store
}

fn in_order(events: &[Generated]) -> Vec<serde_json::Value> {
    let mut sorted = events.to_vec();
    sorted.sort_by(|a, b| a.order.cmp(&b.order));
    sorted.into_iter().map(|e| e.json).collect()
}

async fn project<S: ReadModelStore>(projector: &Projector<S>, payloads: Vec<serde_json::Value>) {
    for payload in payloads {
        let report = support::handle(projector, payload).await;
        for r in &report.records {
            assert!(
                !matches!(r.outcome, RecordOutcome::Failed { .. }),
                "{:?} failed: {:?}",
                r.event_id,
                r.outcome
            );
        }
    }
}

/// A tombstone keeps no customer content, whatever the order.
fn assert_tombstones_are_empty(table: &Table) {
    for (key, attrs) in table {
        if attrs.get("deleted").map(String::as_str) != Some("true") {
            continue;
        }
        if key.contains(&format!("|{RELATED_PREFIX}")) {
            let content: Vec<&String> = attrs
                .keys()
                .filter(|k| !cases_projector::store::RELATED_META.contains(&k.as_str()))
                .collect();
            assert!(content.is_empty(), "{key} keeps {content:?}");
            assert!(!attrs.contains_key("customFields"), "{key}");
        } else {
            assert_eq!(attrs.get("fields").map(String::as_str), Some("{}"), "{key}");
        }
    }
}

/// The differences between two tables, short enough to read (values cut to 120 characters).
fn diff(expected: &Table, actual: &Table) -> Vec<String> {
    let cut = |v: Option<&String>| {
        v.map(|v| v.chars().take(120).collect::<String>())
            .unwrap_or_else(|| "<absent>".into())
    };
    let keys: std::collections::BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let (e, a) = (expected.get(key), actual.get(key));
        let Some((e, a)) = e.zip(a) else {
            out.push(format!(
                "{key}: only in {}",
                if e.is_some() { "expected" } else { "actual" }
            ));
            continue;
        };
        let names: std::collections::BTreeSet<&String> = e.keys().chain(a.keys()).collect();
        for name in names.into_iter().filter(|n| e.get(*n) != a.get(*n)) {
            out.push(format!(
                "{key}.{name}: expected {} / actual {}",
                cut(e.get(name)),
                cut(a.get(name))
            ));
        }
    }
    out
}

fn memory_table(store: &MemoryStore) -> Table {
    comparable(store.items().into_values())
}

#[test]
fn any_delivery_order_writes_the_in_order_items_in_memory() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config::with_cases(1000));
    runner
        .run(&(stream(30), any::<u64>()), |(events, seed)| {
            rt.block_on(async {
                let expected =
                    Projector::new(counting_from_long_ago(MemoryStore::new()).await, OPTIONS, 4);
                for e in in_order(&events) {
                    project(&expected, vec![e]).await;
                }
                let actual =
                    Projector::new(counting_from_long_ago(MemoryStore::new()).await, OPTIONS, 4);
                project(&actual, delivery(&events, seed)).await;
                let (expected, actual) =
                    (memory_table(expected.store()), memory_table(actual.store()));
                assert_tombstones_are_empty(&actual);
                let differences = diff(&expected, &actual);
                prop_assert!(differences.is_empty(), "{:#?}", differences);
                Ok(())
            })
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_delivery_order_writes_the_in_order_items_in_dynamodb_local() {
    let server = DynamoLocal::start();
    let tables = AtomicU32::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&(stream(30), any::<u64>()), |(events, seed)| {
            handle.block_on(async {
                let n = tables.fetch_add(2, Ordering::SeqCst);
                let expected = Projector::new(
                    counting_from_long_ago(new_store(&server, &format!("table-{n}")).await).await,
                    OPTIONS,
                    4,
                );
                for e in in_order(&events) {
                    project(&expected, vec![e]).await;
                }
                let actual = Projector::new(
                    counting_from_long_ago(new_store(&server, &format!("table-{}", n + 1)).await)
                        .await,
                    OPTIONS,
                    4,
                );
                project(&actual, delivery(&events, seed)).await;
                let expected = comparable(expected.store().scan_all().await.unwrap());
                let actual = comparable(actual.store().scan_all().await.unwrap());
                assert_tombstones_are_empty(&actual);
                let differences = diff(&expected, &actual);
                prop_assert!(differences.is_empty(), "{:#?}", differences);
                Ok(())
            })
        })
    });
    result.unwrap();
}
