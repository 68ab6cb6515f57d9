//! Backfill cost: Cases calls per case (a 200-case generated domain, 30 wanted fields so some
//! come from GetCase, related items over several pages, 60 days of audit history), and wall time
//! per case at the default rate of 2 requests/s (a 20-case domain), extrapolated to 1,000 cases.
//! Runs the library's `Backfill` against DynamoDB Local and the REST-JSON stand-in.
//!
//! `cargo bench --bench backfill` (about 2 minutes; the default-rate run dominates).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use cases_projector::backfill::{Backfill, Limiter, Mode, Options, Quiet, Summary};
use cases_projector::connect_cases::CasesApi;
use chrono::Utc;
use support::cases_standin::CasesStandIn;
use support::domain_gen::generate_at;
use support::{DynamoLocal, cases_client, new_store};

async fn backfill(cases: usize, rate: f64) -> Summary {
    let dynamo = DynamoLocal::start();
    let domain = generate_at(7, cases, 30, Utc::now() - chrono::TimeDelta::hours(1));
    let standin = CasesStandIn::start(domain.fixture()).await;
    let store = new_store(&dynamo, "cases").await;
    let api = CasesApi::new(cases_client(&standin.endpoint()));
    let limiter = Limiter::new(rate);
    let options = Options {
        domain_id: domain.domain_id.clone(),
        rate,
        page_size: 25,
        history_since: Utc::now() - chrono::TimeDelta::days(90),
        mode: Mode::Fresh,
        dry_run: false,
        case_fields: None,
        projection: Default::default(),
        dimensions: Vec::new(),
    };
    Backfill::new(&api, &store, &limiter, options)
        .run(&Quiet)
        .await
        .expect("backfill")
}

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let wide = backfill(200, 1000.0).await;
    let calls: u64 = wide.calls.values().sum();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| cases / related items / case histories read | {} / {} / {} |",
        wide.counts.cases, wide.counts.related_items, wide.counts.histories_read
    );
    for (op, n) in &wide.calls {
        println!(
            "| {op} calls per case | {:.3} |",
            *n as f64 / wide.counts.cases as f64
        );
    }
    let per_case = calls as f64 / wide.counts.cases as f64;
    println!("| all Cases calls per case | {per_case:.3} |");
    println!(
        "| time per 1,000 cases at 2 requests/s (calls ÷ rate) | {:.1} min |",
        per_case * 1000.0 / 2.0 / 60.0
    );
    let timed = backfill(20, 2.0).await;
    let timed_calls: u64 = timed.calls.values().sum();
    let per_case_time = timed.elapsed.as_secs_f64() / timed.counts.cases as f64;
    println!(
        "| measured at the default rate: {} cases, {timed_calls} calls, {:.1} s | {:.2} s per case, {:.2} calls/s |",
        timed.counts.cases,
        timed.elapsed.as_secs_f64(),
        per_case_time,
        timed_calls as f64 / timed.elapsed.as_secs_f64()
    );
    println!(
        "| time per 1,000 cases at the default rate (measured per case × 1,000) | {:.1} min |",
        per_case_time * 1000.0 / 60.0
    );
    eprintln!("bench took {:.0} s", started.elapsed().as_secs_f64());
}
