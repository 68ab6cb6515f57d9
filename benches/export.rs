//! What an export costs, for 10,000 and 100,000 cases over 90 days with four report dimensions
//! (the `metrics` bench's stream, `benches/common/cases.rs`): the first
//! export (every day and a snapshot), a second with nothing changed (a snapshot only: no day is
//! written), and one after a single day changed (that day and a snapshot). Files, bytes, time,
//! and read units at DynamoDB's rule (eventually consistent: half a unit per started 4 KB; the
//! Scan of the case partitions as the in-memory store bills it, the day Query from the
//! aggregate items' sizes). Cases built in memory through the projector; files written to a
//! local folder (PUTs to S3 are one request per file listed).
//!
//! `cargo bench --bench export`.

#[path = "common/cases.rs"]
mod cases;
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use cases::{at, case_events};
use cases_projector::export::run::{Options, Summary, run};
use cases_projector::export::sink::LocalDir;
use cases_projector::projector::Projector;
use cases_projector::store::keys::{DAY_PREFIX, metrics_pk};
use cases_projector::store::memory::MemoryStore;
use chrono::Utc;
use serde_json::{Value, json};
use support::sqs_batch;
use support::streams::{DOMAIN, case_event, text};

const DIMENSIONS: [&str; 4] = ["case_reason", "assigned_queue", "assigned_user", "priority"];

fn day_query_units(store: &MemoryStore) -> f64 {
    let pk = metrics_pk(DOMAIN);
    let bytes: usize = store
        .items()
        .iter()
        .filter(|((p, sk), _)| *p == pk && sk.starts_with(DAY_PREFIX))
        .map(|(_, item)| {
            item.iter()
                .map(|(k, v)| k.len() + v.as_s().or(v.as_n()).map_or(1, String::len))
                .sum::<usize>()
        })
        .sum();
    (bytes as f64 / 4096.0).ceil() / 2.0
}

fn row(cases: usize, what: &str, s: &Summary, millis: u128, day_units: f64) {
    println!(
        "| {cases} | {what} | {} of {} | {} | {:.1} MB | {millis} ms | {:.0} + {:.1} |",
        s.days_written.len(),
        s.days,
        s.files_written,
        s.bytes_written as f64 / 1e6,
        s.scan_read_units,
        day_units,
    );
}

#[tokio::main]
async fn main() {
    println!(
        "| cases | export | days written | Parquet files | bytes | time | read units (Scan + day Query) |\n|---|---|---|---|---|---|---|"
    );
    for cases in [10_000, 100_000] {
        let projector = Projector::new(MemoryStore::new(), Default::default(), 8)
            .with_dimensions(DIMENSIONS.iter().map(|d| d.to_string()).collect());
        let events: Vec<Value> = (0..cases).flat_map(|n| case_events(n, 89)).collect();
        for batch in events.chunks(100) {
            support::handle(&projector, sqs_batch(batch)).await;
        }
        let store = projector.store();
        let dir = std::env::temp_dir().join(format!("cases-export-bench-{cases}"));
        let _ = std::fs::remove_dir_all(&dir);
        let sink = LocalDir::new(&dir).unwrap();
        let mut options = Options::new(DOMAIN, Utc::now());
        options.dimensions = DIMENSIONS.iter().map(|d| d.to_string()).collect();
        let day_units = day_query_units(store);
        for what in ["first", "nothing changed", "one day changed"] {
            if what == "one day changed" {
                let late = case_event(
                    "late",
                    &at(10),
                    "CREATED",
                    "c0000000-0000-4000-8000-ffffffffffff",
                    json!({"status": text("open")}),
                );
                support::handle(&projector, sqs_batch(&[late])).await;
            }
            options.now = Utc::now();
            let started = Instant::now();
            let summary = run(store, &sink, &options).await.unwrap();
            let expected = cases + usize::from(what == "one day changed");
            assert_eq!(summary.counts.cases as usize, expected, "{what}");
            row(
                cases,
                what,
                &summary,
                started.elapsed().as_millis(),
                day_units,
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
