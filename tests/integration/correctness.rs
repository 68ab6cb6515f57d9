//! Regression tests for order dependence in what is written (each failed before its fix), run on
//! DynamoDB Local and on the in-memory store: same events, same items.

use crate::support;

use std::collections::BTreeMap;

use cases_projector::projection::{ProjectionOptions, decide_case};
use cases_projector::projector::Projector;
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::store::keys;
use cases_projector::store::memory::MemoryStore;
use cases_projector::store::{CaseCommit, CommitOutcome, ReadModelStore};
use serde_json::{Value, json};
use support::streams::{CASES, case_event, content_of, empty, number, related_event, text};
use support::*;

type Table = BTreeMap<String, BTreeMap<String, String>>;

const CASE: &str = CASES[0];
const OPTIONS: ProjectionOptions = ProjectionOptions {
    store_customer_content: true,
};

/// A store whose whole content the test can read.
trait Inspect: ReadModelStore {
    async fn table(&self) -> Table;
}

impl Inspect for DynamoStore {
    async fn table(&self) -> Table {
        comparable(self.scan_all().await.unwrap())
    }
}

impl Inspect for MemoryStore {
    async fn table(&self) -> Table {
        comparable(self.items().into_values())
    }
}

/// Runs `check` on a fresh in-memory store and on a fresh DynamoDB Local table per call of
/// `fresh`.
async fn on_both_stores<F, Fut>(check: F)
where
    F: Fn(Fresh) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    check(Fresh::Memory).await;
    check(Fresh::Dynamo(std::sync::Arc::new(DynamoLocal::start()))).await;
}

#[derive(Clone)]
enum Fresh {
    Memory,
    Dynamo(std::sync::Arc<DynamoLocal>),
}

/// Projects each payload as its own invocation into a fresh store, returns the table.
async fn project(fresh: Fresh, name: &str, payloads: &[Value]) -> Table {
    match fresh {
        Fresh::Memory => run(Projector::new(MemoryStore::new(), OPTIONS, 4), payloads).await,
        Fresh::Dynamo(server) => {
            run(
                Projector::new(
                    new_store(&server, &format!("table-{name}")).await,
                    OPTIONS,
                    4,
                ),
                payloads,
            )
            .await
        }
    }
}

async fn run<S: Inspect>(projector: Projector<S>, payloads: &[Value]) -> Table {
    for p in payloads {
        let report = handle(&projector, p.clone()).await;
        assert_eq!(report.counts().failed, 0, "{report:?}");
    }
    projector.store().table().await
}

fn case_key() -> String {
    table_key(keys::case_key(CASE))
}

fn related_key(item: &str) -> String {
    table_key(keys::related_key(CASE, item))
}

fn created() -> Value {
    case_event(
        "e-created",
        "2026-11-20T10:00:00.000Z",
        "CREATED",
        CASE,
        json!({"status": text("open"), "title": text("t")}),
    )
}

fn deleted() -> Value {
    case_event(
        "e-deleted",
        "2026-11-20T12:00:00.000Z",
        "DELETED",
        CASE,
        json!({}),
    )
}

fn related(id: &str, at: &str, op: &str, item: &str, item_type: &str, content: bool) -> Value {
    let content = content.then(|| content_of(item_type, id));
    related_event(id, at, op, CASE, item, item_type, content)
}

#[tokio::test]
async fn a_case_delete_tombstones_its_related_items_in_the_table_whatever_the_order() {
    on_both_stores(|fresh| async move {
        let comment = related(
            "e-comment",
            "2026-11-20T11:00:00.000Z",
            "CREATED",
            "ri-c",
            "Comment",
            true,
        );
        let contact = related(
            "e-contact",
            "2026-11-20T11:30:00.000Z",
            "CREATED",
            "ri-k",
            "Contact",
            true,
        );
        let delete_last = project(
            fresh.clone(),
            "a",
            &[created(), comment.clone(), contact.clone(), deleted()],
        )
        .await;
        let delete_first = project(
            fresh.clone(),
            "b",
            &[created(), deleted(), comment.clone(), contact.clone()],
        )
        .await;
        assert_eq!(delete_last, delete_first);
        for item in ["ri-c", "ri-k"] {
            let row = &delete_last[&related_key(item)];
            assert_eq!(row["deleted"], "true", "{item}: {row:?}");
            for content in ["commentBody", "contentType", "contactArn", "channel"] {
                assert!(!row.contains_key(content), "{item} keeps {content}");
            }
        }
        assert_eq!(delete_last[&case_key()]["relatedItems"], "{}");

        // A later related-item event on the deleted case counts nothing live.
        let later = related(
            "e-late",
            "2026-11-20T13:00:00.000Z",
            "CREATED",
            "ri-x",
            "Comment",
            true,
        );
        let table = project(
            fresh.clone(),
            "c",
            &[created(), comment, contact, deleted(), later],
        )
        .await;
        assert_eq!(table[&case_key()]["relatedItems"], "{}");
        assert_eq!(table[&related_key("ri-x")]["deleted"], "true");
    })
    .await;
}

#[tokio::test]
async fn a_redelivered_delete_repairs_related_rows_left_live() {
    let server = DynamoLocal::start();
    let projector = Projector::new(new_store(&server, "table").await, OPTIONS, 4);
    let comment = related(
        "e-comment",
        "2026-11-20T11:00:00.000Z",
        "CREATED",
        "ri-c",
        "Comment",
        true,
    );
    for p in [created(), comment, deleted()] {
        handle(&projector, p).await;
    }
    // What an earlier version left behind: the row live, with its body.
    projector
        .store()
        .client()
        .update_item()
        .table_name(projector.store().table_name())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(keys::related_key(CASE, "ri-c").0),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(keys::related_key(CASE, "ri-c").1),
        )
        .update_expression("SET deleted = :f, commentBody = :b")
        .expression_attribute_values(":f", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
        .expression_attribute_values(
            ":b",
            aws_sdk_dynamodb::types::AttributeValue::S("left".into()),
        )
        .send()
        .await
        .unwrap();
    let report = handle(&projector, deleted()).await;
    assert_eq!(report.counts().duplicate, 1);
    let table = projector.store().table().await;
    let row = &table[&related_key("ri-c")];
    assert_eq!(row["deleted"], "true");
    assert!(!row.contains_key("commentBody"));
}

fn big(id: &str, at: &str, group: &str, emptied: bool) -> Value {
    let fields: serde_json::Map<String, Value> = (0..40)
        .map(|n| {
            let v = if emptied {
                empty()
            } else {
                text(&format!("{group}{n:02}").repeat(1334))
            };
            (format!("{group}_{n:02}"), v)
        })
        .collect();
    case_event(id, at, "UPDATED", CASE, Value::Object(fields))
}

#[tokio::test]
async fn trimming_depends_on_the_state_not_on_the_order() {
    on_both_stores(|fresh| async move {
        // 40 fields of 4,000 characters, 40 more, then the second 40 emptied.
        let e1 = big("e1", "2026-11-20T10:01:00.000Z", "a", false);
        let e2 = big("e2", "2026-11-20T10:02:00.000Z", "b", false);
        let e3 = big("e3", "2026-11-20T10:03:00.000Z", "b", true);
        let in_order = project(
            fresh.clone(),
            "a",
            &[created(), e1.clone(), e2.clone(), e3.clone()],
        )
        .await;
        let reordered = project(
            fresh.clone(),
            "b",
            &[created(), e1.clone(), e3.clone(), e2.clone()],
        )
        .await;
        assert_eq!(in_order, reordered);
        let case = &in_order[&case_key()];
        assert!(
            !case.contains_key("trimmedFields"),
            "the case fits again: {:?}",
            case.get("trimmedFields")
        );
        assert!(
            case["fields"].contains(&"a00".repeat(1334)),
            "the first 40 are whole"
        );
        assert!(
            !in_order.keys().any(|k| k.contains("|FULL#")),
            "no overflow left"
        );

        // While it does not fit, the case item holds cut values and the overflow the full ones.
        let big_now = project(fresh.clone(), "c", &[created(), e1, e2]).await;
        let case = &big_now[&case_key()];
        assert!(case["trimmedFields"].contains("a_00"));
        assert!(big_now.keys().any(|k| k.contains("|FULL#")));
    })
    .await;
}

#[tokio::test]
async fn sub_millisecond_times_do_not_flip_the_winner() {
    on_both_stores(|fresh| async move {
        let old = case_event(
            "e-b",
            "2026-11-20T10:00:00.1234Z",
            "UPDATED",
            CASE,
            json!({"title": text("old")}),
        );
        let new = case_event(
            "e-a",
            "2026-11-20T10:00:00.1236Z",
            "UPDATED",
            CASE,
            json!({"title": text("new")}),
        );
        let one = project(fresh.clone(), "a", &[created(), old.clone(), new.clone()]).await;
        let other = project(fresh.clone(), "b", &[created(), new, old]).await;
        assert_eq!(
            one, other,
            "one millisecond, one winner: the larger event id"
        );
        assert_eq!(one[&case_key()]["title"], "old");
    })
    .await;
}

#[tokio::test]
async fn numbers_outside_dynamodb_range_are_stored_flagged_and_later_events_apply() {
    on_both_stores(|fresh| async move {
        let mut payloads = vec![created()];
        for (i, n) in [1e130, -1e300, 1e-131, 1e125, 1.5e-130].iter().enumerate() {
            payloads.push(case_event(
                &format!("e-n{i}"),
                &format!("2026-11-20T10:0{}:00.000Z", i + 1),
                "UPDATED",
                CASE,
                json!({"amount": number(*n), "other": number(*n)}),
            ));
        }
        payloads.push(case_event(
            "e-last",
            "2026-11-20T11:00:00.000Z",
            "UPDATED",
            CASE,
            json!({"title": text("after")}),
        ));
        let table = project(fresh.clone(), "a", &payloads).await;
        let case = &table[&case_key()];
        assert_eq!(
            case["title"], "after",
            "later events of the case still apply"
        );
        assert!(
            !case["fields"].contains("outOfRangeNumber"),
            "in range again: a number"
        );
        let flagged = project(fresh.clone(), "b", &payloads[..2]).await;
        assert!(flagged[&case_key()]["fields"].contains("outOfRangeNumber"));
    })
    .await;
}

#[tokio::test]
async fn related_item_content_comes_from_the_newest_event_that_carried_some() {
    on_both_stores(|fresh| async move {
        let with = related(
            "e-with",
            "2026-11-20T11:00:00.000Z",
            "CREATED",
            "ri-k",
            "Contact",
            true,
        );
        let without = related(
            "e-without",
            "2026-11-20T11:05:00.000Z",
            "UPDATED",
            "ri-k",
            "Contact",
            false,
        );
        let one = project(
            fresh.clone(),
            "a",
            &[created(), with.clone(), without.clone()],
        )
        .await;
        let other = project(fresh.clone(), "b", &[created(), without, with]).await;
        assert_eq!(one, other);
        assert!(one[&related_key("ri-k")]["contactArn"].ends_with("/contact/e-with"));
    })
    .await;
}

#[tokio::test]
async fn ahead_written_tombstones_never_replace_a_newer_record() {
    async fn check<S: Inspect>(store: S) {
        let projector = Projector::new(store, OPTIONS, 4);
        // 120 related items: a delete touches more than one transaction holds.
        let mut batch = vec![created()];
        for i in 0..120 {
            batch.push(related(
                &format!("c{i}"),
                "2026-11-20T11:00:00.000Z",
                "CREATED",
                &format!("ri-{i:03}"),
                "Comment",
                true,
            ));
        }
        handle(&projector, sqs_batch(&batch)).await;
        let stale = projector.store().load(CASE).await.unwrap().unwrap();
        let updates: Vec<Value> = (0..120)
            .map(|i| {
                related(
                    &format!("u{i}"),
                    "2026-11-20T11:30:00.000Z",
                    "UPDATED",
                    &format!("ri-{i:03}"),
                    "Comment",
                    true,
                )
            })
            .collect();
        handle(&projector, sqs_batch(&updates)).await;
        let before = projector.store().table().await;

        // A delete decided on the stale state (a warm cache): its tombstones must not regress.
        let delete = cases_projector::event::parse_event(deleted().to_string().as_bytes()).unwrap();
        let decision = decide_case(
            Some(&stale.view),
            &[delete],
            &cases_projector::projection::DecideContext {
                enrichment: None,
                dimensions: &[],
                options: &OPTIONS,
            },
        );
        let view = decision.view.unwrap();
        assert!(decision.changed_related_items.len() > 100);
        let commit = CaseCommit {
            previous: Some(&stale),
            view: &view,
            related_items: view.related_items.values().collect(),
            metric_deltas: &decision.metric_deltas,
        };
        let outcome = projector.store().commit(&commit).await.unwrap();
        assert_eq!(outcome, CommitOutcome::RevisionConflict);
        assert_eq!(projector.store().table().await, before, "nothing regressed");

        // Delivered for real, the delete tombstones every item at its newest version.
        handle(&projector, deleted()).await;
        let table = projector.store().table().await;
        for i in 0..120 {
            let row = &table[&related_key(&format!("ri-{i:03}"))];
            assert_eq!(row["deleted"], "true");
            assert!(
                row["version"].ends_with(&format!("#u{i}")),
                "{:?}",
                row["version"]
            );
        }
    }
    check(MemoryStore::new()).await;
    let server = DynamoLocal::start();
    check(new_store(&server, "table").await).await;
}

/// Two group texts sharing an aggregate code (60 bits) must not be counted as one: the commit
/// fails (retryably, so the record waits in its queue) and writes nothing.
#[tokio::test]
async fn an_aggregate_code_taken_by_another_text_fails_the_commit_and_writes_nothing() {
    use cases_projector::store::PlanExecutor;
    use cases_projector::store::codes::{CodeText, code};
    use cases_projector::store::writes::{Write, WritePlan};

    async fn check<S: Inspect + PlanExecutor>(store: S) {
        let open = CodeText::Status("open".into());
        let (pk, sk) = keys::metrics_code_key(support::streams::DOMAIN, &code(&open));
        let squatter = Write::Put {
            item: [("pk", pk), ("sk", sk), ("text", "sanother".into())]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(v)))
                .collect(),
            condition: None,
        };
        let plan = WritePlan {
            atomic: vec![squatter],
            ..WritePlan::default()
        };
        store.execute(&plan).await.unwrap();
        // Codes written by this instance are remembered with their texts: another text is
        // refused without asking the table, and so are two texts of one code in one plan.
        let code_write = |text: &str| {
            let (pk, sk) = keys::metrics_code_key(support::streams::DOMAIN, "AAAAAAAAAA");
            Write::Put {
                item: [("pk", pk), ("sk", sk), ("text", text.to_owned())]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(v)))
                    .collect(),
                condition: Some(cases_projector::store::writes::Condition::TextIs(
                    text.into(),
                )),
            }
        };
        let codes = |texts: &[&str]| WritePlan {
            codes: texts.iter().map(|t| code_write(t)).collect(),
            ..WritePlan::default()
        };
        store.execute(&codes(&["a"])).await.unwrap();
        store.execute(&codes(&["a"])).await.unwrap();
        assert!(store.execute(&codes(&["b"])).await.is_err());
        assert!(store.execute(&codes(&["c", "d"])).await.is_err());
        let projector = Projector::new(store, OPTIONS, 4);
        let report = handle(&projector, created()).await;
        assert_eq!(report.counts().failed, 1, "{report:?}");
        assert_eq!(report.counts().retryable_failures, 1, "{report:?}");
        let table = projector.store().table().await;
        assert!(!table.contains_key(&case_key()), "no case item written");
    }
    check(MemoryStore::new()).await;
    let server = DynamoLocal::start();
    check(new_store(&server, "table").await).await;
}
