//! Case-metric costs: DynamoDB write units per event on a realistic stream (DynamoDB Local's
//! consumed capacity), without and with four report dimensions; and a 30-day report's read
//! cost and time for 10,000 and 100,000 cases (aggregates built in memory through the projector,
//! copied into DynamoDB Local, report read from there).
//!
//! `cargo bench --bench metrics`.

#[path = "common/cases.rs"]
mod cases;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use cases::case_events;
use cases_projector::analytics::model::Interval;
use cases_projector::analytics::{read, report};
use cases_projector::projector::Projector;
use cases_projector::store::keys::METRICS_PREFIX;
use cases_projector::store::memory::MemoryStore;
use chrono::Utc;
use serde_json::Value;
use support::streams::DOMAIN;
use support::{DynamoLocal, new_store, sqs_batch};

const DIMENSIONS: [&str; 4] = ["case_reason", "assigned_queue", "assigned_user", "priority"];

/// Write units per event of the stream through `store`, as the store reports them. On the
/// in-memory store that is DynamoDB's documented rule: per item, 1 unit per started KB of the
/// larger of its size before and after, twice inside a transaction. DynamoDB Local reports less
/// for transactions of small items (it rounds their total, not each).
async fn write_units<S: cases_projector::store::ReadModelStore>(
    store: S,
    dims: &[&str],
    cases: usize,
) -> (f64, usize) {
    let projector = Projector::new(store, Default::default(), 8)
        .with_dimensions(dims.iter().map(|d| d.to_string()).collect());
    let events: Vec<Value> = (0..cases).flat_map(|n| case_events(n, 29)).collect();
    let mut units = 0.0;
    for batch in events.chunks(10) {
        let r = support::handle(&projector, sqs_batch(batch)).await;
        assert_eq!(r.counts().failed, 0);
        units += r.work.write_units;
    }
    (units, events.len())
}

async fn report_cost(dynamo: &DynamoLocal, cases: usize) -> (usize, usize, f64, u128) {
    let memory = MemoryStore::new();
    let projector = Projector::new(memory, Default::default(), 8)
        .with_dimensions(DIMENSIONS.iter().map(|d| d.to_string()).collect());
    let events: Vec<Value> = (0..cases).flat_map(|n| case_events(n, 29)).collect();
    for batch in events.chunks(100) {
        support::handle(&projector, sqs_batch(batch)).await;
    }
    let store = new_store(dynamo, &format!("report-{cases}")).await;
    let aggregates: Vec<_> = projector
        .store()
        .items()
        .into_iter()
        .filter(|((pk, _), _)| pk.starts_with(METRICS_PREFIX))
        .map(|(_, item)| item)
        .collect();
    let mut bytes = 0usize;
    for item in &aggregates {
        bytes += item
            .iter()
            .map(|(k, v)| {
                k.len()
                    + match v {
                        AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                        _ => 1,
                    }
            })
            .sum::<usize>();
        store
            .client()
            .put_item()
            .table_name("report-".to_owned() + &cases.to_string())
            .set_item(Some(item.clone()))
            .send()
            .await
            .unwrap();
    }
    let (from, to) = ("2026-11-01".parse().unwrap(), "2026-12-01".parse().unwrap());
    let started = Instant::now();
    let codes = read::codes(&store, DOMAIN).await.unwrap();
    let days = read::days(&store, DOMAIN, &codes, from, to).await.unwrap();
    let current = read::current(&store, DOMAIN, &codes).await.unwrap();
    let request = report::ReportRequest {
        domain_id: DOMAIN.into(),
        from,
        to,
        interval: Interval::Day,
        by: None,
        labels: Default::default(),
    };
    let r = report::build(&request, &days, &current, Utc::now());
    let elapsed = started.elapsed().as_micros();
    assert_eq!(
        r.rows.iter().map(|r| r.cases_created).sum::<i64>() as usize,
        cases
    );
    // A Query is billed per 4 KB read (strongly consistent: 1 unit; eventually: half).
    let read_units = (bytes as f64 / 4096.0).ceil();
    widget_cost(&store, cases).await;
    (aggregates.len(), bytes, read_units, elapsed)
}

/// One widget call over 90 days (2026-10-04 to 2027-01-01, the 30 days of data inside), a
/// breakdown by a dimension: the items it reads are the same aggregates, whatever the number of
/// cases; its time, the median of 7 calls.
async fn widget_cost(store: &cases_projector::store::dynamodb::DynamoStore, cases: usize) {
    let settings = cases_projector::widget::Settings::from_lookup(|name| match name {
        "TABLE_NAME" => Some("unused".into()),
        "CASES_DOMAIN_ID" => Some(DOMAIN.into()),
        "REPORT_DIMENSIONS" => Some(DIMENSIONS.join(",")),
        _ => None,
    })
    .unwrap();
    let event = serde_json::json!({"widgetContext": {
        "timeRange": {"mode": "absolute", "start": 1_791_072_000_000_i64, "end": 1_798_848_000_000_i64},
        "params": {"panel": "breakdown", "by": DIMENSIONS[0]}, "width": 588, "height": 369}});
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let html = cases_projector::widget::answer(store, &settings, &event, Utc::now()).await;
        times.push(started.elapsed().as_micros());
        assert!(html.as_str().unwrap().contains("data-metric"), "{html}");
    }
    times.sort();
    println!(
        "| 90-day widget breakdown by `{}`, {cases} cases, 4 dimensions: median time of 7 calls | {:.1} ms |",
        DIMENSIONS[0],
        times[3] as f64 / 1000.0
    );
}

#[tokio::main]
async fn main() {
    let dynamo = DynamoLocal::start();
    println!("| measure | value |\n|---|---|");
    for dims in [&DIMENSIONS[..0], &DIMENSIONS[..]] {
        let store = new_store(&dynamo, &format!("wcu-{}", dims.len())).await;
        let (units, events) = write_units(store, dims, 400).await;
        println!(
            "| write units per event, {} report dimension(s), 400 cases / {events} events | {:.2} |",
            dims.len(),
            units / events as f64
        );
        let (units, events) = write_units(MemoryStore::new(), dims, 400).await;
        println!(
            "| write units per event at DynamoDB's per-item rule (in-memory store), {} report dimension(s) | {:.2} |",
            dims.len(),
            units / events as f64
        );
    }
    for cases in [10_000, 100_000] {
        let (items, bytes, rcu, micros) = report_cost(&dynamo, cases).await;
        println!(
            "| 30-day report, {cases} cases, 4 dimensions: aggregate items read / bytes / read units (4 KB) / time | {items} / {bytes} / {rcu} / {:.1} ms |",
            micros as f64 / 1000.0
        );
    }
}
