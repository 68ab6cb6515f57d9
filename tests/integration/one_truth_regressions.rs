//! One regression test per way two sources or two clocks used to break the numbers, each through
//! DynamoDB Local (the real store): shuffled and parallel delivery on a fresh table, a live
//! change while a read was in flight, a change of `REPORT_DIMENSIONS`, a status holding the
//! characters group names were once split on, and a table an earlier version wrote.

use crate::support;

use cases_projector::analytics::read;
use cases_projector::projection::contribution::{Counter, Group, Metric};
use cases_projector::projection::{CaseSnapshot, ProjectionOptions, Snapshot, decide_snapshot};
use cases_projector::regroup;
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::store::{CaseStore, commit_decision};
use serde_json::{Value, json};
use support::streams::{DOMAIN, case_event, related_event, text};
use support::*;

const CASE: &str = "4f1d2c3b-5a6e-4b5c-8d9e-0f1a2b3c4d5e";

fn case(i: usize) -> String {
    format!("00000000-bbbb-4ccc-8ddd-{i:012}")
}

/// One case's life: created, a comment, a contact, closed.
fn life(case_id: &str, i: usize) -> Vec<Value> {
    let t = |m: usize| format!("2026-11-20T{:02}:{:02}:00.000Z", 9 + m / 60, m % 60);
    let m = i % 50;
    vec![
        case_event(
            &format!("{case_id}-1"),
            &t(m),
            "CREATED",
            case_id,
            json!({"status": text("open")}),
        ),
        related_event(
            &format!("{case_id}-2"),
            &t(m + 1),
            "CREATED",
            case_id,
            &format!("{case_id}-c"),
            "Comment",
            None,
        ),
        related_event(
            &format!("{case_id}-3"),
            &t(m + 2),
            "CREATED",
            case_id,
            &format!("{case_id}-k"),
            "Contact",
            None,
        ),
        case_event(
            &format!("{case_id}-4"),
            &t(m + 3),
            "UPDATED",
            case_id,
            json!({"status": text("closed")}),
        ),
    ]
}

async fn totals(store: &DynamoStore) -> (i64, i64, i64) {
    let rows = report_rows(store, DOMAIN, "2026-11-01", "2026-12-01").await;
    rows.iter().fold((0, 0, 0), |(c, r, i), row| {
        (
            c + row.cases_created,
            r + row.resolved_case_actions,
            i + row.related_items_created,
        )
    })
}

#[tokio::test]
async fn two_shuffled_batches_of_one_case_count_its_create() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let events = life(CASE, 0);
    // The close and the contact first, the create and the comment later.
    handle(
        &projector,
        sqs_batch(&[events[3].clone(), events[2].clone()]),
    )
    .await;
    handle(
        &projector,
        sqs_batch(&[events[1].clone(), events[0].clone()]),
    )
    .await;
    assert_eq!(totals(projector.store()).await, (1, 1, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_concurrent_replays_of_a_fresh_table_count_every_create_and_resolution() {
    let server = DynamoLocal::start();
    let store = new_store(&server, "cases").await;
    let mut events: Vec<Value> = (0..40).flat_map(|i| life(&case(i), i)).collect();
    shuffle(&mut events, 11);
    // Four replays of the whole stream at once, each in SQS batches of 10.
    let replays = (0..4).map(|r| {
        let projector = projector(store.clone());
        let mut mine = events.clone();
        shuffle(&mut mine, r + 1);
        tokio::spawn(async move {
            for batch in mine.chunks(10) {
                let report = handle(&projector, sqs_batch(batch)).await;
                assert_eq!(report.counts().failed, 0, "{report:?}");
            }
        })
    });
    for replay in futures::future::join_all(replays).await {
        replay.unwrap();
    }
    assert_eq!(totals(&store).await, (40, 40, 80), "no backfill needed");
}

#[tokio::test]
async fn a_live_close_during_a_slow_search_answer_survives_the_read_with_no_reopening() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let events = life(CASE, 0);
    handle(&projector, sqs_batch(&events[..3])).await;
    // A search answer is in flight: it saw the case open, last updated at its creation.
    let answer = CaseSnapshot {
        case_id: CASE.into(),
        domain_id: DOMAIN.into(),
        template_id: Some("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d".into()),
        created_at: Some("2026-11-20T09:00:00.125Z".parse().unwrap()),
        reads: vec![Snapshot {
            as_of: "2026-11-20T09:00:00.000Z".parse().unwrap(),
            fields: [
                (
                    "status".to_owned(),
                    cases_projector::event::FieldValue::String("open".into()),
                ),
                (
                    "title".to_owned(),
                    cases_projector::event::FieldValue::String("old".into()),
                ),
            ]
            .into(),
        }],
        related_items: Vec::new(),
        related_read_at: "2026-11-20T09:00:30.000Z".parse().unwrap(),
        status_history: Vec::new(),
        settled: Vec::new(),
    };
    // Meanwhile the case is closed live; then the answer is applied.
    handle(&projector, events[3].clone()).await;
    commit_decision(projector.store(), CASE, |stored| {
        decide_snapshot(stored, &answer, &[], &ProjectionOptions::default())
    })
    .await
    .unwrap();
    let view = projector.store().load(CASE).await.unwrap().unwrap().view;
    assert_eq!(view.status(), Some("closed"));
    let row = day_row(projector.store(), "2026-11-20").await;
    assert_eq!(
        (row.resolved_case_actions, row.reopened_case_actions),
        (1, 0)
    );
}

#[tokio::test]
async fn a_new_dimension_never_makes_a_number_negative_and_regroup_fills_it() {
    let server = DynamoLocal::start();
    let store = new_store(&server, "cases").await;
    let created = case_event(
        "r1",
        "2026-11-20T09:00:00.000Z",
        "CREATED",
        CASE,
        json!({"status": text("open"), "case_reason": text("billing")}),
    );
    let other = case(1);
    let other_created = case_event(
        "r2",
        "2026-11-20T09:05:00.000Z",
        "CREATED",
        &other,
        json!({"status": text("open"), "case_reason": text("billing")}),
    );
    handle(
        &projector(store.clone()),
        sqs_batch(&[created, other_created]),
    )
    .await;
    // REPORT_DIMENSIONS gains case_reason; one case then changes billing → refund.
    let dims = vec!["case_reason".to_owned()];
    let now = projector(store.clone()).with_dimensions(dims.clone());
    let change = case_event(
        "r3",
        "2026-11-20T10:00:00.000Z",
        "UPDATED",
        CASE,
        json!({"case_reason": text("refund")}),
    );
    handle(&now, change).await;
    let created_by = |reason: &str| Counter {
        metric: Metric::Created,
        group: Some(Group {
            field: "case_reason".into(),
            value: reason.into(),
        }),
    };
    let day: chrono::NaiveDate = "2026-11-20".parse().unwrap();
    let read_day = |store: DynamoStore| async move {
        let codes = read::codes(&store, DOMAIN).await.unwrap();
        read::days(&store, DOMAIN, &codes, day, day.succ_opt().unwrap())
            .await
            .unwrap()
            .remove(&day)
            .unwrap()
    };
    let before = read_day(store.clone()).await;
    assert!(before.values().all(|n| *n >= 0), "{before:?}");
    assert_eq!(before.get(&created_by("refund")), Some(&1));
    assert_eq!(
        before.get(&created_by("billing")),
        None,
        "the other case is not regrouped yet"
    );
    let summary = regroup::run(
        &store,
        &regroup::Options {
            domain_id: DOMAIN.into(),
            dimensions: dims.clone(),
            restart: false,
        },
        &(),
    )
    .await
    .unwrap();
    assert_eq!((summary.counts.cases, summary.counts.regrouped), (2, 1));
    let after = read_day(store.clone()).await;
    assert_eq!(after.get(&created_by("billing")), Some(&1));
    assert_eq!(after.get(&created_by("refund")), Some(&1));
    // A second run writes nothing.
    let again = regroup::run(
        &store,
        &regroup::Options {
            domain_id: DOMAIN.into(),
            dimensions: dims,
            restart: false,
        },
        &(),
    )
    .await
    .unwrap();
    assert_eq!(again.counts.regrouped, 0);
}

#[tokio::test]
async fn a_status_with_at_and_equals_signs_stays_in_current_cases() {
    let server = DynamoLocal::start();
    let store = new_store(&server, "cases").await;
    let p = projector(store.clone()).with_dimensions(vec!["case_reason".into()]);
    handle(
        &p,
        case_event(
            "s1",
            "2026-11-20T09:00:00.000Z",
            "CREATED",
            CASE,
            json!({"status": text("waiting@customer=yes"), "case_reason": text("a@b")}),
        ),
    )
    .await;
    let codes = read::codes(&store, DOMAIN).await.unwrap();
    let current = read::current(&store, DOMAIN, &codes).await.unwrap();
    let status = Metric::CurrentStatus("waiting@customer=yes".into());
    assert_eq!(
        current.get(&Counter {
            metric: status.clone(),
            group: None
        }),
        Some(&1)
    );
    assert_eq!(
        current.get(&Counter {
            metric: status,
            group: Some(Group {
                field: "case_reason".into(),
                value: "a@b".into()
            }),
        }),
        Some(&1)
    );
}

#[tokio::test]
async fn a_table_an_earlier_version_wrote_gains_every_number_through_regroup() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let server = DynamoLocal::start();
    let store = new_store(&server, "cases").await;
    handle(&projector(store.clone()), sqs_batch(&life(CASE, 0))).await;
    // As an earlier version left it: the case item without its contribution, old counters,
    // a marker and the cut-over beside it, and no aggregates of this version.
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let client = store.client();
    for item in store.scan_all().await.unwrap() {
        let pk = item["pk"].as_s().unwrap().clone();
        if pk.starts_with("CASEMETRICS#") {
            client
                .delete_item()
                .table_name("cases")
                .key("pk", s(&pk))
                .key("sk", item["sk"].clone())
                .send()
                .await
                .unwrap();
        }
    }
    client
        .update_item()
        .table_name("cases")
        .key("pk", s(&format!("CASE#{CASE}")))
        .key("sk", s("CASE"))
        .update_expression("REMOVE groupedBy")
        .send()
        .await
        .unwrap();
    for (pk, sk) in [
        (format!("STATS#{DOMAIN}"), "DAY#2026-11-20".to_owned()),
        (format!("METRICS#{DOMAIN}"), "DAY#2026-11-20".to_owned()),
        (format!("DOMAIN#{DOMAIN}"), "CUTOVER".to_owned()),
        ("EVENT#x".to_owned(), "EVENT".to_owned()),
    ] {
        client
            .put_item()
            .table_name("cases")
            .item("pk", s(&pk))
            .item("sk", s(&sk))
            .item("casesCreated", AttributeValue::N("7".into()))
            .send()
            .await
            .unwrap();
    }
    // The report says the table needs a regroup, and counts nothing it cannot stand behind.
    assert!(read::needs_regroup(&store, DOMAIN).await.unwrap());
    assert_eq!(totals(&store).await, (0, 0, 0));
    // A live event on the old case adds its whole contribution once.
    let late = case_event(
        "late",
        "2026-11-20T12:00:00.000Z",
        "UPDATED",
        CASE,
        json!({"title": text("x")}),
    );
    handle(&projector(store.clone()), late).await;
    assert_eq!(totals(&store).await, (1, 1, 2));
    let summary = regroup::run(
        &store,
        &regroup::Options {
            domain_id: DOMAIN.into(),
            dimensions: Vec::new(),
            restart: false,
        },
        &(),
    )
    .await
    .unwrap();
    assert_eq!(summary.counts.regrouped, 0, "already counted by its change");
    assert!(!read::needs_regroup(&store, DOMAIN).await.unwrap());
    assert_eq!(totals(&store).await, (1, 1, 2), "old counters are not read");
}

#[tokio::test]
async fn an_interrupted_regroup_goes_on_where_it_stopped_and_regroups_every_case_once() {
    let memory = std::sync::Arc::new(cases_projector::store::memory::MemoryStore::new());
    let events: Vec<Value> = (0..250)
        .map(|i| {
            case_event(
                &format!("g{i}"),
                "2026-11-20T09:00:00.000Z",
                "CREATED",
                &case(i),
                json!({"status": text("open"), "case_reason": text(["a", "b"][i % 2])}),
            )
        })
        .collect();
    let p = projector(memory.clone());
    for batch in events.chunks(10) {
        assert_eq!(handle(&p, sqs_batch(batch)).await.counts().failed, 0);
    }
    let dims = vec!["case_reason".to_owned()];
    let options = regroup::Options {
        domain_id: DOMAIN.into(),
        dimensions: dims.clone(),
        restart: false,
    };
    // Fails in its second page (pages of 100 case items).
    memory.fail_commits_after(130, u32::MAX);
    assert!(regroup::run(&memory, &options, &()).await.is_err());
    memory.fail_next_commits(0);
    let resumed = regroup::run(&memory, &options, &()).await.unwrap();
    assert!(resumed.resumed);
    assert!(
        resumed.counts.cases < 250 + 100,
        "the finished page is not read again: {:?}",
        resumed.counts
    );
    assert!(regroup::finished(&*memory, DOMAIN).await.unwrap());
    // Every case counted once under its reason.
    let codes = read::codes(&*memory, DOMAIN).await.unwrap();
    let day: chrono::NaiveDate = "2026-11-20".parse().unwrap();
    let numbers = read::days(&*memory, DOMAIN, &codes, day, day.succ_opt().unwrap())
        .await
        .unwrap()
        .remove(&day)
        .unwrap();
    for reason in ["a", "b"] {
        let counter = Counter {
            metric: Metric::Created,
            group: Some(Group {
                field: "case_reason".into(),
                value: reason.into(),
            }),
        };
        assert_eq!(numbers.get(&counter), Some(&125), "{reason}");
    }
}
