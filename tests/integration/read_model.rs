//! The read model in a real DynamoDB Local, through the real handler.

use crate::support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cases_projector::lambda::lambda_response;
use cases_projector::model::FieldInfo;
use cases_projector::projection::Outcome;
use cases_projector::projector::Projector;
use cases_projector::report::{InvocationKind, RecordOutcome};
use cases_projector::store::cache::CachedStore;
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::store::item::Item;
use cases_projector::store::keys;
use cases_projector::store::keys::Key;
use cases_projector::store::writes::WritePlan;
use cases_projector::store::{
    CaseCommit, CaseStore, CommitOutcome, FieldMetadataStore, PlanExecutor, StoreError, StoredCase,
};
use cases_projector::table::TableDefinition;
use serde_json::json;
use support::*;

const CASE_A_ID: &str = "4f1d2c3b-5a6e-4b5c-8d9e-0f1a2b3c4d5e";
const CASE_B_ID: &str = "9c2e7f10-3b4a-4c5d-9e8f-1a2b3c4d5e6f";

fn case_a() -> String {
    table_key(keys::case_key(CASE_A_ID))
}

fn case_b() -> String {
    table_key(keys::case_key(CASE_B_ID))
}

async fn replay_in_order(store: DynamoStore) -> DynamoStore {
    let projector = projector(store);
    for event in sample_stream() {
        let report = handle(&projector, event).await;
        assert_eq!(report.counts().failed, 0, "{report:?}");
    }
    into_store(projector)
}

fn into_store(p: Projector<DynamoStore>) -> DynamoStore {
    p.store().clone()
}

#[tokio::test]
async fn table_created_locally_matches_template_and_create_is_idempotent() {
    let server = DynamoLocal::start();
    let store = new_store(&server, "cases").await;
    let described = store.describe_table().await.unwrap();
    assert_eq!(described, TableDefinition::from_template().unwrap());
    assert!(
        !store.create_table().await.unwrap(),
        "second create finds the table and succeeds"
    );
}

#[tokio::test]
async fn in_order_stream_builds_the_documented_read_model() {
    let server = DynamoLocal::start();
    let store = replay_in_order(new_store(&server, "cases").await).await;
    let table = snapshot_table(&store).await;

    assert_eq!(attr(&table, &case_a(), "status"), Some("open"));
    assert_eq!(
        attr(&table, &case_a(), "title"),
        Some("Card declined at checkout (2 attempts)")
    );
    assert_eq!(
        attr(&table, &case_a(), "updatedAt"),
        Some("2026-11-21T08:30:00.000Z")
    );
    assert_eq!(
        attr(&table, &case_a(), "lastEventId"),
        Some("a1f0c9d2-0013-4e1a-9b1c-000000000013")
    );
    assert_eq!(
        attr(&table, &case_a(), "statusKey"),
        Some("b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d#open")
    );
    let fields = attr(&table, &case_a(), "fields").unwrap();
    assert!(fields.contains(r#""case_reason": "NULL""#), "{fields}");
    assert!(fields.contains(r#""refund_amount": "129.99""#), "{fields}");
    assert!(fields.contains(r#""vip": "true""#), "{fields}");
    assert!(
        fields.contains(r#""summary": "Customer called twice""#),
        "late event fills a field: {fields}"
    );
    let related = attr(&table, &case_a(), "relatedItems").unwrap();
    assert!(
        related.contains(r#""Comment": "1""#) && !related.contains("File"),
        "{related}"
    );

    assert_eq!(attr(&table, &case_b(), "deleted"), Some("true"));
    assert_eq!(
        attr(&table, &case_b(), "statusKey"),
        None,
        "deleted cases leave the status index"
    );

    // Every number from the cases, on the day its fact happened.
    let nov20 = day_row(&store, "2026-11-20").await;
    assert_eq!(nov20.cases_created, 1);
    assert_eq!(nov20.resolved_case_actions, 1);
    assert_eq!(nov20.related_items_created, 6);
    let nov21 = day_row(&store, "2026-11-21").await;
    assert_eq!(nov21.reopened_case_actions, 2, "4f1d… and 9c2e…");
    assert_eq!(nov21.resolved_case_actions, 1);
    assert_eq!(day_row(&store, "2026-11-22").await.cases_deleted, 1);
    let comment = &table_key(keys::related_key(
        CASE_A_ID,
        "c0mm0001-aaaa-4bbb-8ccc-000000000001",
    ));
    assert_eq!(
        attr(&table, comment, "commentBody"),
        None,
        "comment bodies are off by default"
    );
}

#[tokio::test]
async fn shuffled_and_twice_delivered_stream_gives_the_identical_read_model() {
    let server = DynamoLocal::start();
    let in_order = new_store(&server, "in-order").await;
    let expected = snapshot_table(&replay_in_order(in_order).await).await;
    for seed in [7u64, 1234, 987_654_321] {
        let store = new_store(&server, &format!("shuffled-{seed}")).await;
        let projector = projector(store);
        let mut events: Vec<_> = sample_stream()
            .into_iter()
            .flat_map(|e| [e.clone(), e])
            .collect();
        shuffle(&mut events, seed);
        // Mixed delivery: SQS batches of varying size, with the same case in one batch.
        for (i, batch) in events.chunks(1 + (seed as usize + 3) % 7).enumerate() {
            let payload = if i % 3 == 0 {
                batch[0].clone()
            } else {
                sqs_batch(batch)
            };
            let batch_len = if i % 3 == 0 { 1 } else { batch.len() };
            let report = handle(&projector, payload).await;
            assert_eq!(report.counts().failed, 0, "seed {seed}: {report:?}");
            if i % 3 == 0 {
                for rest in &batch[1..] {
                    assert_eq!(handle(&projector, rest.clone()).await.counts().failed, 0);
                }
            } else {
                assert_eq!(report.records.len(), batch_len);
            }
        }
        let actual = snapshot_table(projector.store()).await;
        assert_eq!(actual, expected, "seed {seed}");
    }
}

#[tokio::test]
async fn delete_then_late_update_stays_deleted() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let created = &sample_stream()[17]; // case B created (inside 18-sqs-batch.json)
    assert_eq!(created["detail"]["eventType"], "CASE.CREATED");
    handle(&projector, created.clone()).await;
    let deleted = handle(&projector, read_json("events/19-case-deleted.json")).await;
    assert_eq!(
        deleted.records[0].outcome,
        RecordOutcome::Done(Outcome::Applied)
    );
    let late = handle(
        &projector,
        read_json("events/20-case-updated-after-delete.json"),
    )
    .await;
    assert_eq!(late.records[0].outcome, RecordOutcome::Done(Outcome::Stale));
    let mut newer = read_json("events/20-case-updated-after-delete.json");
    newer["id"] = json!("b2e1d0c9-0099-4f2a-8b3c-000000000199");
    newer["detail"]["approximateChangeTime"] = json!("2026-12-01T00:00:00.000Z");
    let after = handle(&projector, newer).await;
    assert_eq!(after.records[0].outcome.label(), "skipped");

    let table = snapshot_table(projector.store()).await;
    assert_eq!(attr(&table, &case_b(), "deleted"), Some("true"));
    assert_eq!(attr(&table, &case_b(), "fields"), Some("{}"));
    assert_eq!(
        attr(&table, &case_b(), "updatedAt"),
        Some("2026-11-22T08:00:00.000Z")
    );
}

/// Many updates of one case, each setting its own field and counting one resolution.
fn contended_updates(n: usize) -> Vec<serde_json::Value> {
    let template = read_json("events/13-case-updated-closed.json");
    (0..n)
        .map(|i| {
            let mut e = template.clone();
            e["id"] = json!(format!("c0ffee00-0000-4000-8000-{i:012}"));
            e["detail"]["approximateChangeTime"] =
                json!(format!("2026-11-20T10:{:02}:{:02}.000Z", i / 60, i % 60));
            e["detail"]["case"]["fields"][format!("note_{i:03}")] =
                json!({"value": {"stringValue": format!("n{i}")}});
            // Closed, reopened, closed, ...: 19 resolutions and 20 reopenings in all.
            let status = if i % 2 == 0 { "closed" } else { "open" };
            e["detail"]["case"]["fields"]["status"] = json!({"value": {"stringValue": status}});
            e
        })
        .collect()
}

#[tokio::test]
async fn concurrent_invocations_on_the_same_case_converge() {
    let server = DynamoLocal::start();
    let store = new_store(&server, "cases").await;
    let events = contended_updates(40);
    let (left, right): (Vec<_>, Vec<_>) = events
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    // Two warm execution environments, each with its own cache of case states.
    let a = projector(CachedStore::new(store.clone(), 1 << 20));
    let b = projector(CachedStore::new(store.clone(), 1 << 20));
    let run = |p: Projector<CachedStore<DynamoStore>>, events: Vec<(usize, serde_json::Value)>| async move {
        let mut failed = 0;
        for (_, e) in events {
            failed += handle(&p, e).await.counts().failed;
        }
        failed
    };
    let (fa, fb) = tokio::join!(tokio::spawn(run(a, left)), tokio::spawn(run(b, right)));
    assert_eq!(
        fa.unwrap() + fb.unwrap(),
        0,
        "lost races are retried, not failed"
    );

    let table = snapshot_table(&store).await;
    let fields = attr(&table, &case_a(), "fields").unwrap();
    for i in 0..40 {
        assert!(
            fields.contains(&format!("note_{i:03}")),
            "field of event {i} is kept: {fields}"
        );
    }
    let day = day_row(&store, "2026-11-20").await;
    assert_eq!(
        (day.resolved_case_actions, day.reopened_case_actions),
        (19, 20),
        "each transition counted exactly once"
    );
    assert_eq!(
        attr(&table, &case_a(), "lastEventId"),
        Some("c0ffee00-0000-4000-8000-000000000039")
    );
}

#[tokio::test]
async fn sqs_batch_with_a_malformed_record_reports_only_retryable_failures() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let report = projector
        .handle(
            invocation("events/malformed/sqs-batch-with-malformed-body.json"),
            None,
        )
        .await;
    assert_eq!(report.kind, InvocationKind::Sqs);
    assert_eq!(report.counts().applied, 2);
    let malformed = &report.records[1];
    assert!(
        matches!(&malformed.outcome, RecordOutcome::Failed { retryable: false, error } if error.contains("malformed"))
    );
    let response = lambda_response(&report).unwrap();
    assert_eq!(
        response,
        json!({"batchItemFailures": []}),
        "a malformed body is not retried"
    );

    // With the table gone, the two good records fail retryably and are named; the malformed one is not.
    projector
        .store()
        .client()
        .delete_table()
        .table_name("cases")
        .send()
        .await
        .unwrap();
    let report = projector
        .handle(
            invocation("events/malformed/sqs-batch-with-malformed-body.json"),
            None,
        )
        .await;
    let response = lambda_response(&report).unwrap();
    let failed: Vec<&str> = response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "5d3f0c2a-1b4e-4c6d-8e7f-000000000004",
            "5d3f0c2a-1b4e-4c6d-8e7f-000000000006"
        ]
    );
}

#[tokio::test]
async fn direct_invocation_retries_only_what_can_succeed() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let report = handle(
        &projector,
        read_json("events/malformed/missing-change-time.json"),
    )
    .await;
    assert!(
        lambda_response(&report).is_ok(),
        "malformed direct event is acknowledged"
    );
    let report = handle(&projector, read_json("events/17-unknown-event-type.json")).await;
    assert!(
        lambda_response(&report).is_ok(),
        "unknown event type is acknowledged"
    );
    projector
        .store()
        .client()
        .delete_table()
        .table_name("cases")
        .send()
        .await
        .unwrap();
    let report = handle(&projector, read_json("events/01-case-created.json")).await;
    let err = lambda_response(&report).unwrap_err();
    assert!(err.to_string().contains("retryably"), "{err}");
}

#[tokio::test]
async fn redelivery_days_later_counts_zero_more_times() {
    let server = DynamoLocal::start();
    let store = replay_in_order(new_store(&server, "cases").await).await;
    let before = snapshot_table(&store).await;
    let projector = projector(store);
    // The oldest events, long after newer state: the state holds their facts already, so
    // nothing is written and no number moves, however late they come.
    for file in [
        "events/01-case-created.json",
        "events/05-related-item-comment-created.json",
        "events/13-case-updated-closed.json",
    ] {
        let report = handle(&projector, read_json(file)).await;
        assert!(
            matches!(
                report.records[0].outcome,
                RecordOutcome::Done(Outcome::Duplicate | Outcome::Stale)
            ),
            "{file}: {:?}",
            report.records[0].outcome
        );
        assert_eq!(report.work.write_requests, 0, "{file}");
    }
    assert_eq!(snapshot_table(projector.store()).await, before);
}

#[tokio::test]
async fn related_item_for_an_unseen_case_is_recorded_and_counted() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    handle(
        &projector,
        read_json("events/06-related-item-contact-created.json"),
    )
    .await;
    let table = snapshot_table(projector.store()).await;
    let item = &table_key(keys::related_key(
        CASE_A_ID,
        "c0n7ac70-aaaa-4bbb-8ccc-000000000002",
    ));
    assert_eq!(attr(&table, item, "channel"), Some("VOICE"));
    assert_eq!(
        day_row(projector.store(), "2026-11-20")
            .await
            .related_items_created_by_type
            .get("Contact"),
        Some(&1)
    );
    assert!(
        attr(&table, &case_a(), "relatedItems")
            .unwrap()
            .contains("Contact")
    );
}

#[tokio::test]
async fn oversized_case_is_trimmed_not_failed() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let template = read_json("events/02-case-updated.json");
    // 8 events x 50 fields x 4,000 characters: 1.6 MB of field data for one case.
    for batch in 0..8 {
        let mut e = template.clone();
        e["id"] = json!(format!("b16b16b1-0000-4000-8000-{batch:012}"));
        e["detail"]["approximateChangeTime"] = json!(format!("2026-11-20T11:00:0{batch}.000Z"));
        for f in 0..50 {
            e["detail"]["case"]["fields"][format!("long_{batch}_{f:02}")] =
                json!({"value": {"stringValue": "é".repeat(2000)}});
        }
        let report = handle(&projector, e).await;
        assert_eq!(report.counts().applied, 1, "{report:?}");
    }
    let table = snapshot_table(projector.store()).await;
    let trimmed = attr(&table, &case_a(), "trimmedFields").expect("trimmed fields are listed");
    assert!(trimmed.contains("long_"), "{trimmed}");
    assert_eq!(
        attr(&table, &case_a(), "title"),
        Some("Card declined at checkout (2 attempts)")
    );
}

/// Counts commits and freezes the server after the `freeze_after`-th one: an outage mid-batch.
struct FreezingStore {
    inner: DynamoStore,
    commits: AtomicUsize,
    freeze_after: usize,
    server: Arc<DynamoLocal>,
}

impl FieldMetadataStore for FreezingStore {
    async fn described_fields(&self, domain_id: &str) -> Result<HashSet<String>, StoreError> {
        self.inner.described_fields(domain_id).await
    }

    async fn put_field_metadata(
        &self,
        domain_id: &str,
        fields: &[FieldInfo],
    ) -> Result<(), StoreError> {
        self.inner.put_field_metadata(domain_id, fields).await
    }

    async fn template_names(
        &self,
        domain_id: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        self.inner.template_names(domain_id).await
    }

    async fn put_template_names(
        &self,
        domain_id: &str,
        templates: &[cases_projector::model::TemplateInfo],
    ) -> Result<(), StoreError> {
        self.inner.put_template_names(domain_id, templates).await
    }
}

impl PlanExecutor for FreezingStore {
    async fn get_item(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get_item(key).await
    }

    async fn execute(&self, plan: &WritePlan) -> Result<CommitOutcome, StoreError> {
        self.inner.execute(plan).await
    }

    async fn query_range(
        &self,
        pk: &str,
        from_sk: &str,
        to_sk: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.inner.query_range(pk, from_sk, to_sk).await
    }

    async fn case_page(
        &self,
        domain_id: &str,
        after: Option<&Key>,
    ) -> Result<(Vec<String>, Option<Key>), StoreError> {
        self.inner.case_page(domain_id, after).await
    }
}

impl CaseStore for FreezingStore {
    async fn load(&self, case_id: &str) -> Result<Option<StoredCase>, StoreError> {
        self.inner.load(case_id).await
    }

    async fn commit(&self, commit: &CaseCommit<'_>) -> Result<CommitOutcome, StoreError> {
        let result = self.inner.commit(commit).await;
        if self.commits.fetch_add(1, Ordering::SeqCst) + 1 == self.freeze_after {
            self.server.freeze();
        }
        result
    }
}

#[tokio::test]
async fn outage_mid_batch_fails_retryably_and_a_rerun_converges() {
    let server = Arc::new(DynamoLocal::start_private());
    let reference =
        snapshot_table(&replay_in_order(new_store(&server, "reference").await).await).await;

    let fast = DynamoStore::new(server.client(Duration::from_secs(2)), "cases");
    fast.create_table().await.unwrap();
    let freezing = FreezingStore {
        inner: fast.clone(),
        commits: AtomicUsize::new(0),
        freeze_after: 1,
        server: server.clone(),
    };
    let freezing = Projector::new(freezing, Default::default(), 1);
    let batch = sqs_batch(&sample_stream());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let report = freezing
        .handle(
            cases_projector::event::parse_invocation(batch.clone()),
            Some(deadline),
        )
        .await;
    let failures = lambda_response(&report).unwrap();
    let failed = failures["batchItemFailures"].as_array().unwrap().len();
    assert!(failed > 0, "records after the freeze fail");
    assert!(
        report.counts().applied > 0,
        "records before the freeze were written: the outage is mid-batch"
    );
    assert!(report.records.iter().all(|r| matches!(
        r.outcome,
        RecordOutcome::Done(_)
            | RecordOutcome::Failed {
                retryable: true,
                ..
            }
    )));
    assert_eq!(
        report.counts().failed,
        failed,
        "every failure is named for redelivery"
    );

    server.thaw();
    // SQS redelivers the failed messages; redeliver the whole batch to be thorough.
    // The redelivery runs with the ordinary timeout: only the outage needed the short one.
    let patient = DynamoStore::new(server.client(Duration::from_secs(5)), "cases");
    let rerun = projector(patient);
    let report = handle(&rerun, batch).await;
    assert_eq!(report.counts().failed, 0, "{report:?}");
    // Cases, related items, markers and counters all match: nothing lost, nothing double-counted.
    assert_eq!(snapshot_table(&fast).await, reference);
}

#[tokio::test]
async fn a_stale_cached_case_is_caught_by_the_conditional_write() {
    let server = DynamoLocal::start();
    let store = new_store(&server, "cases").await;
    let warm = projector(CachedStore::new(store.clone(), 1 << 20));
    let other = projector(store.clone());
    handle(&warm, read_json("events/01-case-created.json")).await;
    // Another environment moves the case on; `warm` still caches revision 1.
    handle(&other, read_json("events/02-case-updated.json")).await;
    let report = handle(&warm, read_json("events/13-case-updated-closed.json")).await;
    assert_eq!(
        report.records[0].outcome,
        RecordOutcome::Done(Outcome::Applied)
    );
    // A redelivery of 02 is older than what the warm cache now holds: nothing to write.
    let again = handle(&warm, read_json("events/02-case-updated.json")).await;
    assert_eq!(
        again.records[0].outcome,
        RecordOutcome::Done(Outcome::Stale)
    );
    assert_eq!(again.work.write_requests, 0);

    let table = snapshot_table(&store).await;
    assert_eq!(attr(&table, &case_a(), "status"), Some("closed"));
    assert!(
        attr(&table, &case_a(), "fields")
            .unwrap()
            .contains(r#""vip": "true""#),
        "02's change survives"
    );
    let day = day_row(&store, "2026-11-20").await;
    assert_eq!((day.cases_created, day.resolved_case_actions), (1, 1));
}

#[tokio::test]
async fn the_same_event_twice_in_one_batch_counts_once() {
    let server = DynamoLocal::start();
    let projector = projector(new_store(&server, "cases").await);
    let created = read_json("events/01-case-created.json");
    let comment = read_json("events/05-related-item-comment-created.json");
    let updated = read_json("events/02-case-updated.json");
    let batch = [created.clone(), comment.clone(), updated, created, comment];
    let report = handle(&projector, sqs_batch(&batch)).await;
    assert_eq!(report.counts().failed, 0, "{report:?}");
    assert_eq!(report.counts().duplicate, 2);
    let day = day_row(projector.store(), "2026-11-20").await;
    assert_eq!((day.cases_created, day.related_items_created), (1, 1));
}

/// A proxy to `upstream` that holds back the answers on its first connection for `delay`: a
/// request that arrives and is carried out while its answer comes too late.
fn slow_first_answer_proxy(upstream: String, delay: Duration) -> String {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().enumerate() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = TcpStream::connect(&upstream) else {
                return;
            };
            let (mut client_in, mut server_out) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut client_in, &mut server_out));
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(read) = server.read(&mut buf) {
                    if read == 0 {
                        break;
                    }
                    if n == 0 {
                        std::thread::sleep(delay);
                    }
                    if client.write_all(&buf[..read]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    address
}

#[tokio::test]
async fn a_table_create_whose_answer_came_too_late_reports_the_table_created() {
    let server = DynamoLocal::start();
    let proxy = slow_first_answer_proxy(server.endpoint(), Duration::from_secs(3));
    let out = local_casesctl(
        env!("CARGO_BIN_EXE_casesctl"),
        &server.target().via(proxy),
        None,
    )
    .args(["table", "create"])
    .env("STORE_TIMEOUT_MS", "1000")
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "table cases created as template.yaml defines it\n"
    );
    let store = DynamoStore::new(server.client(Duration::from_secs(5)), "cases");
    assert_eq!(
        store.describe_table().await.unwrap(),
        TableDefinition::from_template().unwrap()
    );
}
