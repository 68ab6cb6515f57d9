//! The projector's own paths (lost races, duplicates within and across batches, 32-event
//! chunks, the deadline, store failures, impossible ids) on the in-memory store: milliseconds,
//! no DynamoDB Local. The DynamoDB adapter is tested end to end in `tests/`.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::*;
use crate::event::parse_invocation;
use crate::lambda::sqs_response;
use crate::projection::contribution::{Counter, Metric};
use crate::store::keys::case_key;
use crate::store::memory::MemoryStore;
use crate::store::writes::Write;

const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
const CASE: &str = "4f1d2c3b-5a6e-4b5c-8d9e-0f1a2b3c4d5e";

fn event(id: &str, second: u32, event_type: &str, case_id: &str, title: &str) -> Value {
    json!({
        "version": "0", "id": id, "detail-type": "Amazon Connect Cases Change",
        "source": "aws.cases", "account": "123456789012", "time": "2026-11-20T09:00:00Z",
        "region": "us-west-2",
        "resources": [format!("arn:aws:cases:us-west-2:123456789012:domain/{DOMAIN}")],
        "detail": {
            "version": "0", "eventType": event_type,
            "approximateChangeTime": format!("2026-11-20T10:{:02}:{:02}.000Z", second / 60, second % 60),
            "changedFieldIds": ["title"],
            "case": {
                "caseId": case_id, "templateId": "tpl", "createdDateTime": "2026-11-20T09:00:00.000Z",
                "fields": {"title": {"value": {"stringValue": title}}}
            }
        }
    })
}

fn sqs(events: &[Value]) -> Value {
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, e)| json!({"messageId": format!("m{i}"), "body": e.to_string(), "eventSource": "aws:sqs"}))
        .collect();
    json!({ "Records": records })
}

fn projector() -> Projector<MemoryStore> {
    Projector::new(MemoryStore::new(), ProjectionOptions::default(), 4)
}

async fn run(p: &Projector<MemoryStore>, payload: Value) -> InvocationReport {
    p.handle(parse_invocation(payload), None).await
}

/// Cases created on 2026-11-20, as `casesctl report` reads it.
async fn created_count(p: &Projector<MemoryStore>) -> i64 {
    use crate::analytics::read;
    let day: chrono::NaiveDate = "2026-11-20".parse().unwrap();
    let codes = read::codes(p.store(), DOMAIN).await.unwrap();
    let days = read::days(p.store(), DOMAIN, &codes, day, day.succ_opt().unwrap())
        .await
        .unwrap();
    let total = Counter {
        metric: Metric::Created,
        group: None,
    };
    days.get(&day)
        .and_then(|a| a.get(&total))
        .copied()
        .unwrap_or(0)
}

fn title(p: &Projector<MemoryStore>) -> String {
    let items = p.store().items();
    let case = &items[&case_key(CASE)];
    case["title"].as_s().unwrap().clone()
}

#[tokio::test]
async fn a_lost_race_reloads_decides_again_and_keeps_both_writes() {
    let p = projector();
    run(&p, event("e1", 1, "CASE.CREATED", CASE, "first")).await;
    // Another writer commits a newer title between our load and our commit.
    let mut theirs = p.store().items()[&case_key(CASE)].clone();
    theirs.insert("rev".into(), AttributeValue::N("2".into()));
    let AttributeValue::M(mut fields) = theirs["fields"].clone() else {
        panic!()
    };
    fields.insert("priority".into(), AttributeValue::N("5".into()));
    theirs.insert("fields".into(), AttributeValue::M(fields));
    p.store().interfere_before_next_commit(vec![Write::Put {
        item: theirs,
        condition: None,
    }]);
    let report = run(&p, event("e2", 2, "CASE.UPDATED", CASE, "second")).await;
    assert_eq!(report.counts().applied, 1, "{report:?}");
    assert_eq!(p.store().commit_attempts(), 3, "one lost, one won");
    assert_eq!(title(&p), "second");
    let case = p.store().items()[&case_key(CASE)].clone();
    assert_eq!(case["rev"], AttributeValue::N("3".into()));
    let fields = case["fields"].as_m().unwrap();
    assert_eq!(
        fields["priority"],
        AttributeValue::N("5".into()),
        "their write kept"
    );
}

#[tokio::test]
async fn copies_in_one_batch_and_across_batches_count_once() {
    let p = projector();
    let created = event("e1", 1, "CASE.CREATED", CASE, "t");
    let report = run(&p, sqs(&[created.clone(), created.clone()])).await;
    assert_eq!((report.counts().applied, report.counts().duplicate), (1, 1));
    let again = run(&p, sqs(&[created])).await;
    assert_eq!(again.counts().duplicate, 1);
    assert_eq!(created_count(&p).await, 1);
}

#[tokio::test]
async fn seventy_events_of_one_case_commit_in_chunks_of_32() {
    let p = projector();
    let events: Vec<Value> = (0..70)
        .map(|i| {
            event(
                &format!("e{i:02}"),
                i,
                "CASE.CREATED",
                CASE,
                &format!("t{i}"),
            )
        })
        .collect();
    let report = run(&p, sqs(&events)).await;
    assert_eq!(report.counts().applied, 70, "{report:?}");
    assert_eq!(p.store().commit_attempts(), 3, "32 + 32 + 6");
    assert_eq!(
        created_count(&p).await,
        1,
        "one case, however many events say so"
    );
    assert_eq!(title(&p), "t69");
}

#[tokio::test]
async fn work_past_the_deadline_fails_retryably_and_nothing_else() {
    let p = projector();
    p.store().delay_commits(Duration::from_millis(300));
    let deadline = Instant::now() + Duration::from_millis(50);
    let report = p
        .handle(
            parse_invocation(sqs(&[event("e1", 1, "CASE.CREATED", CASE, "t")])),
            Some(deadline),
        )
        .await;
    let failed: Vec<_> = report.retryable_failures().collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .outcome
            .reason()
            .unwrap()
            .contains("time budget ran out")
    );
    assert_eq!(sqs_response(&report).batch_item_failures.len(), 1);
}

#[tokio::test]
async fn store_failures_fail_retryably_and_a_redelivery_converges() {
    let p = projector();
    p.store().fail_next_commits(1);
    let created = event("e1", 1, "CASE.CREATED", CASE, "t");
    let report = run(&p, sqs(std::slice::from_ref(&created))).await;
    assert_eq!(report.counts().retryable_failures, 1);
    let again = run(&p, sqs(&[created])).await;
    assert_eq!(again.counts().applied, 1);
    assert_eq!(created_count(&p).await, 1);
}

#[tokio::test]
async fn a_70000_character_case_id_is_malformed_not_retried_and_the_rest_applies() {
    let p = projector();
    let huge = "c".repeat(70_000);
    let report = run(
        &p,
        sqs(&[
            event("bad", 1, "CASE.CREATED", &huge, "t"),
            event("good", 2, "CASE.CREATED", CASE, "t"),
        ]),
    )
    .await;
    let counts = report.counts();
    assert_eq!(
        (counts.applied, counts.failed, counts.retryable_failures),
        (1, 1, 0)
    );
    assert!(sqs_response(&report).batch_item_failures.is_empty());
    let reason = report.records[0].outcome.reason().unwrap();
    assert!(!reason.contains("ccccc"), "the id is not echoed: {reason}");
}

#[tokio::test]
async fn an_older_create_delivered_after_newer_events_of_other_cases_still_counts() {
    let p = projector();
    run(&p, event("e5", 300, "CASE.CREATED", CASE, "t")).await;
    // Older, delivered later (a retry, a second queue consumer): counted like any other.
    let other = "9c2e7f10-3b4a-4c5d-9e8f-1a2b3c4d5e6f";
    let report = run(&p, event("e1", 60, "CASE.CREATED", other, "older")).await;
    assert_eq!(report.counts().applied, 1);
    assert_eq!(created_count(&p).await, 2);
    // And again, redelivered: the state already holds it, nothing moves.
    let again = run(&p, event("e1", 60, "CASE.CREATED", other, "older")).await;
    assert_eq!(again.counts().duplicate, 1);
    assert_eq!(created_count(&p).await, 2);
}

/// A sender that floods one case with status-carrying updates (7,000 within two hours, each with
/// its own id) must not grow the case item past DynamoDB's 400 KB, which would fail every later
/// write of the case for good: the status history is capped, and every record applies.
#[tokio::test]
async fn a_flood_of_status_updates_keeps_the_case_writable() {
    let p = projector();
    let events: Vec<Value> = (0..7000u32)
        .map(|i| {
            let mut e = event(
                &format!("0f8a3c1e-5b2d-4e6f-9a7b-{i:012}"),
                0,
                "CASE.UPDATED",
                CASE,
                "t",
            );
            let at = format!(
                "2026-11-20T{:02}:{:02}:{:02}.000Z",
                10 + i / 3600,
                i / 60 % 60,
                i % 60
            );
            let status = if (i / 100) % 2 == 0 { "open" } else { "closed" };
            e["detail"]["approximateChangeTime"] = json!(at);
            e["detail"]["changedFieldIds"] = json!(["title", "status"]);
            e["detail"]["case"]["fields"]["status"] = json!({"value": {"stringValue": status}});
            e
        })
        .collect();
    for batch in events.chunks(100) {
        let report = run(&p, sqs(batch)).await;
        assert_eq!(report.counts().failed, 0, "{:?}", report.records.first());
    }
    let stored = crate::store::CaseStore::load(p.store(), CASE)
        .await
        .unwrap()
        .unwrap()
        .view;
    assert_eq!(
        stored.status_history.len(),
        crate::projection::MAX_STATUS_HISTORY
    );
    assert_eq!(stored.status(), Some("closed"));
}
