//! Edge cases at the limits of one case, against a real DynamoDB Local through the real
//! projector: a delete touching more related items than one transaction holds, a case with 400
//! fields and 300 KB of text, and a batch of 100 SQS records for one case.

use crate::support;

use aws_sdk_dynamodb::types::AttributeValue;
use cases_projector::projection::Outcome;
use cases_projector::projector::EVENTS_PER_COMMIT;
use cases_projector::report::RecordOutcome;
use cases_projector::store::{CaseStore, RELATED_META, keys};
use serde_json::{Value, json};
use support::streams::{DOMAIN, case_event, content_of, related_event, text};
use support::*;

const CASE: &str = "e0e0e0e0-1111-4222-8333-444455556666";

fn at(second: usize, milli: usize) -> String {
    format!(
        "2026-11-20T10:{:02}:{:02}.{milli:03}Z",
        second / 60,
        second % 60
    )
}

/// The size DynamoDB bills an item at: attribute names plus values (close enough to compare with
/// the 400 KB limit).
fn item_bytes(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>()
            }
            AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value(v)).sum::<usize>(),
            _ => 1,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

#[tokio::test]
async fn a_case_delete_tombstones_more_related_items_than_one_transaction_holds() {
    const ITEMS: usize = 150;
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let mut events = vec![case_event(
        "del-00000",
        &at(0, 0),
        "CREATED",
        CASE,
        json!({"status": text("open"), "title": text("many items")}),
    )];
    for n in 0..ITEMS {
        let item_type = ["Contact", "File", "Sla", "ConnectCase"][n % 4];
        events.push(related_event(
            &format!("del-item-{n:03}"),
            &at(1 + n / 10, n % 10),
            "CREATED",
            CASE,
            &format!("ri-{n:03}"),
            item_type,
            Some(content_of(item_type, &n.to_string())),
        ));
    }
    for chunk in events.chunks(50) {
        let report = handle(&projector, sqs_batch(chunk)).await;
        assert_eq!(report.counts().applied, chunk.len(), "{report:?}");
    }
    let table = snapshot_table(projector.store()).await;
    let related: Vec<&String> = table.keys().filter(|k| k.contains("|RELATED#")).collect();
    assert_eq!(related.len(), ITEMS);

    // The delete, one related item updated in the same batch, and the delete again.
    let delete = case_event("del-99999", &at(600, 0), "DELETED", CASE, json!({}));
    let late = related_event(
        "del-late",
        &at(601, 0),
        "UPDATED",
        CASE,
        "ri-007",
        "File",
        Some(content_of("File", "late")),
    );
    let report = handle(&projector, sqs_batch(&[delete.clone(), late])).await;
    assert_eq!(report.counts().failed, 0, "{report:?}");
    assert_eq!(
        report.records[0].outcome,
        RecordOutcome::Done(Outcome::Applied)
    );
    // More rows than one transaction holds: tombstones written ahead, then the transaction.
    assert!(report.work.write_requests > 1, "{:?}", report.work);
    let report = handle(&projector, sqs_batch(&[delete])).await;
    assert_eq!(report.counts().duplicate, 1, "{report:?}");

    let table = snapshot_table(projector.store()).await;
    let case = &table[&table_key(keys::case_key(CASE))];
    assert_eq!(case.get("deleted").map(String::as_str), Some("true"));
    assert!(
        case.get("fields").is_none_or(|f| f == "{}"),
        "a tombstone keeps no fields: {case:?}"
    );
    assert!(
        case.get("relatedItems").is_none_or(|r| r == "{}"),
        "no live related items: {case:?}"
    );
    let related: Vec<_> = table
        .iter()
        .filter(|(k, _)| k.contains("|RELATED#"))
        .collect();
    assert_eq!(related.len(), ITEMS, "every row kept, as a tombstone");
    for (key, item) in related {
        assert_eq!(
            item.get("deleted").map(String::as_str),
            Some("true"),
            "{key}"
        );
        let content: Vec<&String> = item
            .keys()
            .filter(|k| !RELATED_META.contains(&k.as_str()))
            .collect();
        assert!(content.is_empty(), "{key} keeps content {content:?}");
        assert!(!item.contains_key("contentVersion") && !item.contains_key("customFields"));
    }
    let row = day_row(projector.store(), "2026-11-20").await;
    assert_eq!(row.cases_created, 1);
    assert_eq!(row.cases_deleted, 1);
    assert_eq!(row.related_items_created, ITEMS as i64);
    let loaded = projector.store().load(CASE).await.unwrap().unwrap().view;
    assert!(loaded.is_deleted() && loaded.fields.is_empty());
    assert!(loaded.related_item_counts().is_empty());
}

#[tokio::test]
async fn a_case_with_400_fields_and_300_kb_of_text_applies_and_loads_whole() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    // 400 fields of 768 characters: 307,200 bytes of text, over the case item's field budget.
    let fields: serde_json::Map<String, Value> = (0..400)
        .map(|n| {
            let value = format!("{n:03}-").repeat(192);
            (format!("field_{n:03}"), text(&value))
        })
        .collect();
    let created = case_event(
        "big-00001",
        &at(0, 0),
        "CREATED",
        CASE,
        Value::Object(fields.clone()),
    );
    let report = handle(&projector, sqs_batch(&[created])).await;
    assert_eq!(report.counts().applied, 1, "{report:?}");

    let items = projector.store().scan_all().await.unwrap();
    let case_pk = keys::case_pk(CASE);
    let mut overflow = 0;
    for item in &items {
        let pk = item["pk"].as_s().unwrap();
        let sk = item["sk"].as_s().unwrap();
        assert!(
            item_bytes(item) < 400 * 1024,
            "{pk}|{sk}: {} bytes",
            item_bytes(item)
        );
        if pk == &case_pk && sk.starts_with(keys::OVERFLOW_PREFIX) {
            overflow += 1;
        }
    }
    assert!(overflow >= 1, "full values kept in FULL# items");
    let case = items
        .iter()
        .find(|i| i["pk"].as_s().unwrap() == &case_pk && i["sk"].as_s().unwrap() == keys::CASE_SK)
        .unwrap();
    assert!(case.contains_key("trimmedFields"));

    let loaded = projector.store().load(CASE).await.unwrap().unwrap().view;
    assert_eq!(loaded.fields.len(), 400);
    for (id, value) in &fields {
        let expected = value["value"]["stringValue"].as_str().unwrap();
        let stored = &loaded.fields[id].value;
        assert_eq!(
            stored,
            &cases_projector::event::FieldValue::String(expected.to_owned()),
            "{id} restored whole"
        );
    }

    // A later event on the big case still applies (decided on the whole values).
    let update = case_event(
        "big-00002",
        &at(1, 0),
        "UPDATED",
        CASE,
        json!({"status": text("closed")}),
    );
    let report = handle(&projector, sqs_batch(&[update])).await;
    assert_eq!(report.counts().applied, 1, "{report:?}");
    let loaded = projector.store().load(CASE).await.unwrap().unwrap().view;
    assert_eq!(loaded.fields.len(), 401);
    assert_eq!(loaded.status(), Some("closed"));
}

#[tokio::test]
async fn a_batch_of_100_records_for_one_case_applies_in_chunks_of_32_with_exact_counters() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let mut events = vec![case_event(
        "one-00000",
        &at(0, 0),
        "CREATED",
        CASE,
        json!({"status": text("open"), "title": text("busy case")}),
    )];
    let mut n = 1;
    while events.len() < 95 {
        let id = format!("one-{n:05}");
        let e = match n % 5 {
            // Resolutions are counted (a marker each); reopenings come from the status history.
            0 => case_event(
                &id,
                &at(n, 0),
                "UPDATED",
                CASE,
                json!({"status": text(if n % 10 == 0 { "closed" } else { "open" }),
                       "last_closed_datetime": text("2026-11-20T10:00:00.000Z")}),
            ),
            1 | 2 => related_event(
                &id,
                &at(n, 0),
                "CREATED",
                CASE,
                &format!("ri-{n}"),
                "Comment",
                Some(content_of("Comment", &id)),
            ),
            _ => case_event(
                &id,
                &at(n, 0),
                "UPDATED",
                CASE,
                json!({"title": text(&format!("title {n}"))}),
            ),
        };
        events.push(e);
        n += 1;
    }
    // Five redeliveries within the batch: one in the same chunk of 32 as its original, the
    // others in later chunks. Four are counted events (their marker is then already written:
    // duplicate); copy 5 is a reopening, which writes no marker: a later chunk finds it older
    // than the case (stale), and it changes nothing.
    for (at, copy) in [(10, 0), (40, 1), (70, 5), (90, 6), (99, 2)] {
        let e = events[copy].clone();
        events.insert(at, e);
    }
    assert_eq!(events.len(), 100);
    let report = handle(&projector, sqs_batch(&events)).await;
    let counts = report.counts();
    assert_eq!(counts.failed, 0, "{report:?}");
    assert_eq!(counts.applied, 95, "{report:?}");
    assert_eq!((counts.duplicate, counts.stale), (4, 1), "{report:?}");
    // One transaction per 32 records of the case: 4 commits, plus one put per aggregate code
    // this instance wrote (each once).
    let codes = projector
        .store()
        .scan_all()
        .await
        .unwrap()
        .iter()
        .filter(|i| matches!(&i["sk"], AttributeValue::S(sk) if sk.starts_with(keys::CODE_PREFIX)))
        .count();
    assert!(codes > 0);
    assert_eq!(
        report.work.write_requests as usize,
        100usize.div_ceil(EVENTS_PER_COMMIT) + codes,
        "{:?}",
        report.work
    );

    let stored = |store| async move {
        row_numbers(&report_rows(store, DOMAIN, "2026-11-01", "2026-12-01").await)
    };
    let numbers = stored(projector.store()).await;
    assert_eq!(numbers, truth_numbers(&events));
    let loaded = projector.store().load(CASE).await.unwrap().unwrap().view;
    assert_eq!(loaded.title(), Some("title 94"));
    assert_eq!(loaded.related_items.len(), 38);
    // The same batch again: nothing more is counted.
    let report = handle(&projector, sqs_batch(&events)).await;
    assert_eq!(report.counts().failed, 0, "{report:?}");
    assert_eq!(report.counts().applied, 0, "{report:?}");
    assert_eq!(stored(projector.store()).await, numbers);
}

/// Hostile values that would make a key DynamoDB refuses (an index key over 2,048 bytes, a sort
/// key over 1,024 bytes) must not turn into a case that fails forever: the record applies (the
/// case is left out of the index) or is refused at parse time, unretried.
#[tokio::test]
async fn values_too_long_for_a_key_neither_fail_forever_nor_block_the_case() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let long_status = "s".repeat(2100);
    let created = case_event(
        "key-00001",
        &at(0, 0),
        "CREATED",
        CASE,
        json!({"status": text(&long_status), "title": text("long status")}),
    );
    // A related item id of 300 four-byte characters: within the 500 characters the Cases model
    // allows, but 1,200 bytes, over the sort key's limit.
    let long_item = related_event(
        "key-00002",
        &at(1, 0),
        "CREATED",
        CASE,
        &"\u{1D11E}".repeat(300),
        "File",
        Some(content_of("File", "x")),
    );
    let next = case_event(
        "key-00003",
        &at(2, 0),
        "UPDATED",
        CASE,
        json!({"title": text("still projected")}),
    );
    let report = handle(&projector, sqs_batch(&[created, long_item, next])).await;
    let outcomes: Vec<&RecordOutcome> = report.records.iter().map(|r| &r.outcome).collect();
    assert_eq!(
        outcomes[0],
        &RecordOutcome::Done(Outcome::Applied),
        "{report:?}"
    );
    assert!(
        matches!(
            outcomes[1],
            RecordOutcome::Failed {
                retryable: false,
                ..
            }
        ),
        "{report:?}"
    );
    assert_eq!(outcomes[2], &RecordOutcome::Done(Outcome::Applied));
    assert_eq!(report.retryable_failures().count(), 0);
    let loaded = projector.store().load(CASE).await.unwrap().unwrap().view;
    assert_eq!(loaded.status(), Some(long_status.as_str()));
    assert_eq!(loaded.title(), Some("still projected"));
}
