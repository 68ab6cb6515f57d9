//! GetCase enrichment through the real handler, the real aws-sdk-connectcases client (against
//! the REST-JSON stand-in) and DynamoDB Local.

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use cases_projector::backfill::Limiter;
use cases_projector::connect_cases::CasesApi;
use cases_projector::enrichment::{Enricher, EnricherSettings};
use cases_projector::lambda::lambda_response;
use cases_projector::projection::Outcome;
use cases_projector::projector::Projector;
use cases_projector::reconcile::{Options as ReconcileOptions, Reconcile};
use cases_projector::report::RecordOutcome;
use cases_projector::store::DomainStore;
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::store::keys;
use serde_json::{Value, json};
use support::cases_standin::{CasesStandIn, DomainFixture, Fault, FaultRule, Fixture};
use support::*;

const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
const CASE_A: &str = "4f1d2c3b-5a6e-4b5c-8d9e-0f1a2b3c4d5e";
const CASE_B: &str = "9c2e7f10-3b4a-4c5d-9e8f-1a2b3c4d5e6f";
const CASE_C: &str = "2d4f6a8c-0e1b-4d3f-a5b7-c9e1f3a5b7d9";

fn settings(case_fields: Option<&[&str]>) -> EnricherSettings {
    EnricherSettings {
        case_fields: case_fields.map(|f| f.iter().map(|s| s.to_string()).collect()),
        cache_ttl: Duration::from_secs(900),
        max_snapshot_age: Duration::from_secs(6 * 3600),
    }
}

fn enriched(
    store: DynamoStore,
    standin: &CasesStandIn,
    case_fields: Option<&[&str]>,
) -> Projector<DynamoStore, CasesApi> {
    let enricher = Enricher::new(
        CasesApi::new(cases_client(&standin.endpoint())),
        settings(case_fields),
    );
    projector(store).with_enricher(enricher)
}

fn case_key(case_id: &str) -> String {
    table_key(keys::case_key(case_id))
}

/// A domain with `n` fields of every type, and case C holding a value in each.
fn wide_domain(n: usize) -> Fixture {
    let types = ["Text", "Number", "Boolean", "Text", "User"];
    let mut domain = DomainFixture::default();
    let mut values = Vec::new();
    for i in 0..n {
        let id = format!("f{i:03}");
        domain.fields.push(json!({"fieldId": id, "name": format!("Field {i}"), "type": types[i % 5], "namespace": "Custom"}));
        let value = match i % 5 {
            0 => json!({"stringValue": format!("text {i}")}),
            1 => json!({"doubleValue": i as f64 + 0.5}),
            2 => json!({"booleanValue": i % 2 == 0}),
            3 => json!({"emptyValue": {}}),
            _ => {
                json!({"userArnValue": format!("arn:aws:connect:us-west-2:1:instance/i/agent/{i}")})
            }
        };
        values.push(json!({"id": id, "value": value}));
    }
    domain.event_configuration =
        json!({"enabled": true, "includedData": {"caseData": {"fields": []}}});
    domain.cases.insert(
        CASE_C.into(),
        support::cases_standin::CaseFixture::new("tpl", values),
    );
    Fixture {
        domains: [(DOMAIN.to_owned(), domain)].into(),
    }
}

#[tokio::test]
async fn metadata_only_event_gets_every_field_from_get_case_beyond_220_and_paged() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(wide_domain(300)).await;
    standin.set_page_size(100);
    let projector = enriched(new_store(&dynamo, "cases").await, &standin, None);

    let report = handle(
        &projector,
        read_json("events/16-case-updated-metadata-only.json"),
    )
    .await;
    assert_eq!(
        report.records[0].outcome,
        RecordOutcome::Done(Outcome::Applied)
    );
    assert_eq!(report.work.get_case_calls, 1, "one fetch for the case");
    // 300 ids: chunks of 220 and 80; the first pages in 100s: 3 + 1 requests. ListFields: 3 pages.
    assert_eq!(standin.calls("GetCase"), 4);
    assert_eq!(standin.calls("ListFields"), 3);

    let table = snapshot_table(projector.store()).await;
    let fields = attr(&table, &case_key(CASE_C), "fields").unwrap();
    let parsed: BTreeMap<String, String> = table[&case_key(CASE_C)]["fields"]
        .trim_matches(|c| c == '{' || c == '}')
        .split(", ")
        .filter_map(|kv| kv.split_once(": "))
        .map(|(k, v)| {
            (
                k.trim_matches('"').to_owned(),
                v.trim_matches('"').to_owned(),
            )
        })
        .collect();
    assert_eq!(
        parsed.len(),
        300,
        "every field, including those past the first 220: {fields}"
    );
    assert_eq!(parsed["f000"], "text 0");
    assert_eq!(parsed["f001"], "1.5");
    assert_eq!(parsed["f002"], "true");
    assert_eq!(parsed["f003"], "NULL");
    assert_eq!(
        parsed["f299"],
        "arn:aws:connect:us-west-2:1:instance/i/agent/299"
    );
    assert_eq!(
        attr(&table, &case_key(CASE_C), "enrichment"),
        Some("fetched")
    );
    assert!(
        attr(&table, &case_key(CASE_C), "snapshotFields")
            .unwrap()
            .contains("f250")
    );
    assert!(attr(&table, &case_key(CASE_C), "snapshotAt").is_some());
}

#[tokio::test]
async fn events_carrying_every_configured_field_make_no_get_case_call() {
    let dynamo = DynamoLocal::start();
    let mut fixture = sample_fixture();
    let configured = ["status", "title", "case_reason", "priority", "vip"];
    let domain = fixture.domains.get_mut(DOMAIN).unwrap();
    domain
        .fields
        .retain(|f| configured.contains(&f["fieldId"].as_str().unwrap()));
    domain.event_configuration = json!({"enabled": true, "includedData": {"caseData": {"fields": configured.map(|id| json!({"id": id}))}}});
    let standin = CasesStandIn::start(fixture).await;
    let projector = enriched(new_store(&dynamo, "cases").await, &standin, None);

    for file in [
        "01-case-created.json",
        "02-case-updated.json",
        "13-case-updated-closed.json",
    ] {
        let mut event = read_json(format!("events/{file}"));
        if file.starts_with("13") {
            // Say 13 emptied priority too: changed, configured, and not carried.
            event["detail"]["changedFieldIds"]
                .as_array_mut()
                .unwrap()
                .push(json!("priority"));
        }
        let report = handle(&projector, event).await;
        assert_eq!(report.counts().applied, 1, "{file}");
    }
    assert_eq!(standin.calls("GetCase"), 0);
    let table = snapshot_table(projector.store()).await;
    let fields = attr(&table, &case_key(CASE_A), "fields").unwrap();
    // A configured field the event lists as changed but does not carry is null now; one it
    // neither lists nor carries keeps its value (it may have left the configuration).
    assert!(fields.contains(r#""priority": "NULL""#), "{fields}");
    assert!(fields.contains(r#""vip": "true""#), "{fields}");
    assert!(fields.contains(r#""status": "closed""#), "{fields}");
}

#[tokio::test]
async fn three_events_of_one_case_in_one_sqs_batch_make_one_get_case_call() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    let projector = enriched(new_store(&dynamo, "cases").await, &standin, None);
    let batch: Vec<Value> = [
        "01-case-created.json",
        "02-case-updated.json",
        "04-case-updated-empty-and-typed-values.json",
    ]
    .iter()
    .map(|f| read_json(format!("events/{f}")))
    .collect();
    let report = handle(&projector, sqs_batch(&batch)).await;
    assert_eq!(report.counts().applied, 3);
    assert_eq!(standin.calls("GetCase"), 1);
    let table = snapshot_table(projector.store()).await;
    let fields = attr(&table, &case_key(CASE_A), "fields").unwrap();
    assert!(
        fields.contains(r#""reference_number": "40213""#),
        "fetched field: {fields}"
    );
    assert!(
        fields.contains(r#""summary": "Customer called twice""#),
        "fetched field: {fields}"
    );
}

#[tokio::test]
async fn field_metadata_is_stored_once_and_refreshed_for_unknown_fields() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    let projector = enriched(new_store(&dynamo, "cases").await, &standin, None);
    handle(&projector, read_json("events/01-case-created.json")).await;
    assert_eq!(
        standin.calls("BatchGetField"),
        1,
        "8 unknown field ids: one batch"
    );
    assert_eq!(
        standin.calls("ListFieldOptions"),
        2,
        "status and case_reason are SingleSelect"
    );
    handle(&projector, read_json("events/02-case-updated.json")).await;
    assert_eq!(standin.calls("BatchGetField"), 1, "nothing new");
    handle(
        &projector,
        read_json("events/04-case-updated-empty-and-typed-values.json"),
    )
    .await;
    assert_eq!(standin.calls("BatchGetField"), 2, "refund_amount is new");

    let table = snapshot_table(projector.store()).await;
    let status = &table[&table_key(keys::field_key(DOMAIN, "status"))];
    assert_eq!(status["name"], "Status");
    assert_eq!(status["fieldType"], "SingleSelect");
    assert_eq!(status["options"], r#"{"closed": "Closed", "open": "Open"}"#);
    assert_eq!(
        table[&table_key(keys::field_key(DOMAIN, "refund_amount"))]["fieldType"],
        "Number"
    );

    // A fresh execution environment finds the stored metadata instead of asking again.
    let again = enriched(projector.store().clone(), &standin, None);
    handle(&again, read_json("events/02-case-updated.json")).await;
    assert_eq!(standin.calls("BatchGetField"), 2);
}

/// Event 02 as another event (`id`) of the same case, naming template `template`.
fn naming_template(id: &str, template: &str) -> Value {
    let mut event = read_json("events/02-case-updated.json");
    event["id"] = id.into();
    event["detail"]["case"]["templateId"] = template.into();
    event
}

fn template_name(table: &BTreeMap<String, BTreeMap<String, String>>, id: &str) -> Option<String> {
    attr(table, &table_key(keys::template_key(DOMAIN, id)), "name").map(str::to_owned)
}

#[tokio::test]
async fn template_names_are_stored_from_one_list_templates_call_and_not_asked_for_again() {
    const TEMPLATE: &str = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
    const INACTIVE: &str = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    let projector = enriched(new_store(&dynamo, "cases").await, &standin, None);
    // Three events of one template in one invocation: one call.
    let batch = sqs_batch(&sample_stream()[..3]);
    assert_eq!(handle(&projector, batch).await.counts().failed, 0);
    assert_eq!(standin.calls("ListTemplates"), 1);
    let table = snapshot_table(projector.store()).await;
    assert_eq!(
        template_name(&table, TEMPLATE).as_deref(),
        Some("Billing dispute")
    );
    // The answer named the domain's other (inactive) template too: no call when it shows up.
    assert_eq!(
        template_name(&table, INACTIVE).as_deref(),
        Some("Retired: general inquiry")
    );
    assert_eq!(
        table[&table_key(keys::template_key(DOMAIN, TEMPLATE))]["templateId"],
        TEMPLATE
    );
    handle(&projector, naming_template("e-inactive", INACTIVE)).await;
    handle(&projector, read_json("events/02-case-updated.json")).await;
    assert_eq!(
        standin.calls("ListTemplates"),
        1,
        "every template named is known"
    );

    // A template the service does not list (deleted meanwhile): asked about once.
    handle(&projector, naming_template("e-gone-1", "gone-template")).await;
    handle(&projector, naming_template("e-gone-2", "gone-template")).await;
    assert_eq!(standin.calls("ListTemplates"), 2);
    let table = snapshot_table(projector.store()).await;
    assert_eq!(template_name(&table, "gone-template"), None);

    // A fresh execution environment finds the stored names instead of asking again.
    let again = enriched(projector.store().clone(), &standin, None);
    handle(&again, read_json("events/02-case-updated.json")).await;
    assert_eq!(standin.calls("ListTemplates"), 2);

    // Throttled past the SDK's retries: the record is still projected, the names come with a
    // later invocation. Refused: projected, logged, and not asked again.
    let standin = CasesStandIn::start(sample_fixture()).await;
    standin.inject(FaultRule {
        operation: Some("ListTemplates"),
        case_id: None,
        fault: Fault::Throttle,
        rate: 1.0,
        times: Some(3),
    });
    let projector = enriched(new_store(&dynamo, "cases2").await, &standin, None);
    let report = handle(&projector, read_json("events/01-case-created.json")).await;
    assert_eq!(report.counts().failed, 0);
    assert_eq!(
        standin.calls("ListTemplates"),
        3,
        "the SDK's three attempts"
    );
    assert_eq!(
        template_name(&snapshot_table(projector.store()).await, TEMPLATE),
        None
    );
    handle(&projector, read_json("events/02-case-updated.json")).await;
    assert_eq!(standin.calls("ListTemplates"), 4);
    assert_eq!(
        template_name(&snapshot_table(projector.store()).await, TEMPLATE).as_deref(),
        Some("Billing dispute")
    );

    let standin = CasesStandIn::start(sample_fixture()).await;
    standin.inject(FaultRule {
        operation: Some("ListTemplates"),
        case_id: None,
        fault: Fault::AccessDenied,
        rate: 1.0,
        times: None,
    });
    let projector = enriched(new_store(&dynamo, "cases3").await, &standin, None);
    let report = handle(&projector, read_json("events/01-case-created.json")).await;
    assert_eq!(report.counts().failed, 0);
    handle(&projector, read_json("events/02-case-updated.json")).await;
    assert_eq!(
        standin.calls("ListTemplates"),
        1,
        "a refusal is not asked again"
    );
    assert_eq!(
        template_name(&snapshot_table(projector.store()).await, TEMPLATE),
        None
    );
}

#[tokio::test]
async fn case_deleted_meanwhile_projects_the_event_and_marks_not_found() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await; // case B is not in the fixture
    let projector = enriched(new_store(&dynamo, "cases").await, &standin, None);
    let created = sample_stream()[17].clone();
    let report = handle(&projector, created).await;
    assert_eq!(
        report.records[0].outcome,
        RecordOutcome::Done(Outcome::Applied)
    );
    assert_eq!(standin.calls("GetCase"), 1);
    let table = snapshot_table(projector.store()).await;
    assert_eq!(
        attr(&table, &case_key(CASE_B), "enrichment"),
        Some("not-found")
    );
    assert_eq!(
        attr(&table, &case_key(CASE_B), "title"),
        Some("Duplicate charge")
    );
}

#[tokio::test]
async fn access_denied_projects_the_event_without_retrying_and_bad_field_ids_are_read_without() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    standin.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: Some(CASE_C.into()),
        fault: Fault::AccessDenied,
        rate: 1.0,
        times: None,
    });
    let projector = enriched(new_store(&dynamo, "cases").await, &standin, None);
    let report = handle(
        &projector,
        read_json("events/16-case-updated-metadata-only.json"),
    )
    .await;
    assert_eq!(
        report.records[0].outcome,
        RecordOutcome::Done(Outcome::Applied)
    );
    assert_eq!(standin.calls("GetCase"), 1, "403 is not retried");
    let table = snapshot_table(projector.store()).await;
    assert_eq!(
        attr(&table, &case_key(CASE_C), "enrichment"),
        Some("refused")
    );

    // CASE_FIELDS naming a field the domain does not have: the ValidationException names it,
    // and the rest is read without it (two calls, no retry loop); it is recorded as null.
    let standin = CasesStandIn::start(sample_fixture()).await;
    let projector = enriched(
        new_store(&dynamo, "cases2").await,
        &standin,
        Some(&["status", "no_such_field"]),
    );
    let report = handle(
        &projector,
        read_json("events/16-case-updated-metadata-only.json"),
    )
    .await;
    assert_eq!(
        report.records[0].outcome,
        RecordOutcome::Done(Outcome::Applied)
    );
    assert_eq!(standin.calls("GetCase"), 2);
    assert!(lambda_response(&report).is_ok());
    let table = snapshot_table(projector.store()).await;
    assert_eq!(
        attr(&table, &case_key(CASE_C), "enrichment"),
        Some("fetched")
    );
    let fields = attr(&table, &case_key(CASE_C), "fields").unwrap();
    assert!(fields.contains(r#""status": "open""#), "{fields}");
    assert!(fields.contains(r#""no_such_field": "NULL""#), "{fields}");
}

#[tokio::test]
async fn slow_get_case_fails_the_record_retryably() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    standin.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: None,
        fault: Fault::Slow(Duration::from_secs(5)),
        rate: 1.0,
        times: None,
    });
    let projector = enriched(new_store(&dynamo, "cases").await, &standin, None);
    let report = handle(
        &projector,
        sqs_batch(&[read_json("events/16-case-updated-metadata-only.json")]),
    )
    .await;
    assert!(
        report.records[0].outcome.is_retryable_failure(),
        "{report:?}"
    );
    assert_eq!(
        lambda_response(&report).unwrap()["batchItemFailures"][0]["itemIdentifier"],
        "m0"
    );
}

/// 20 cases, each created, updated twice (status changes) and commented, metadata only.
fn busy_stream() -> (Fixture, Vec<Value>) {
    let mut fixture = sample_fixture();
    let template = read_json("events/16-case-updated-metadata-only.json");
    let comment = read_json("events/05-related-item-comment-created.json");
    let mut events = Vec::new();
    let domain = fixture.domains.get_mut(DOMAIN).unwrap();
    for c in 0..20 {
        let case_id = format!("0000{c:04}-aaaa-4bbb-8ccc-000000000000");
        domain.cases.insert(
            case_id.clone(),
            support::cases_standin::CaseFixture::new(
                "tpl",
                vec![
                    json!({"id": "status", "value": {"stringValue": "closed"}}),
                    json!({"id": "title", "value": {"stringValue": format!("case {c}")}}),
                    json!({"id": "priority", "value": {"doubleValue": c}}),
                ],
            ),
        );
        for (n, (kind, changed)) in [
            ("CASE.CREATED", vec!["status", "title"]),
            ("CASE.UPDATED", vec!["status"]),
            ("CASE.UPDATED", vec!["title"]),
        ]
        .into_iter()
        .enumerate()
        {
            let mut e = template.clone();
            e["id"] = json!(format!("e{c:04}-{n}"));
            e["detail"]["eventType"] = json!(kind);
            e["detail"]["changedFieldIds"] = json!(changed);
            e["detail"]["approximateChangeTime"] =
                json!(format!("2026-11-21T10:{c:02}:{n:02}.000Z"));
            e["detail"]["case"]["caseId"] = json!(case_id);
            events.push(e);
        }
        let mut e = comment.clone();
        e["id"] = json!(format!("e{c:04}-comment"));
        e["detail"]["relatedItem"]["caseId"] = json!(case_id);
        e["detail"]["relatedItem"]["relatedItemId"] = json!(format!("comment-{c}"));
        events.push(e);
    }
    (fixture, events)
}

/// Delivers `events` in SQS batches of 5, redriving failed messages until none fail.
async fn deliver_with_redrive(
    projector: &Projector<DynamoStore, CasesApi>,
    events: &[Value],
) -> usize {
    let mut pending: Vec<Value> = events.to_vec();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        assert!(rounds <= 30, "redrive did not converge");
        let mut failed = Vec::new();
        for batch in pending.chunks(5) {
            let report = handle(projector, sqs_batch(batch)).await;
            assert!(
                report.records.iter().all(|r| matches!(
                    r.outcome,
                    RecordOutcome::Done(_)
                        | RecordOutcome::Failed {
                            retryable: true,
                            ..
                        }
                )),
                "only retryable failures: {report:?}"
            );
            let response = lambda_response(&report).unwrap();
            for f in response["batchItemFailures"].as_array().unwrap() {
                let index: usize = f["itemIdentifier"].as_str().unwrap()[1..].parse().unwrap();
                failed.push(batch[index].clone());
            }
        }
        pending = failed;
    }
    rounds
}

/// The table minus what depends on when snapshots were taken.
async fn comparable(store: &DynamoStore) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut table = snapshot_table(store).await;
    for item in table.values_mut() {
        // Read times of GetCase snapshots differ from run to run.
        for volatile in [
            "fieldVersions",
            "snapshotAt",
            "snapshotFields",
            "statusHistory",
        ] {
            item.remove(volatile);
        }
    }
    table
}

#[tokio::test]
async fn throttling_and_errors_on_30_percent_of_calls_lose_nothing_and_count_exactly() {
    let dynamo = DynamoLocal::start();
    let (fixture, events) = busy_stream();

    let clean = CasesStandIn::start(fixture.clone()).await;
    let reference = enriched(new_store(&dynamo, "reference").await, &clean, None);
    assert_eq!(deliver_with_redrive(&reference, &events).await, 1);

    let faulty = CasesStandIn::start(fixture).await;
    // One case's GetCase always throttled, so some enrichment is always deferred (the random
    // faults below make deferrals likely, not certain: their order varies with timing).
    faulty.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: Some("00000005-aaaa-4bbb-8ccc-000000000000".into()),
        fault: Fault::Throttle,
        rate: 1.0,
        times: None,
    });
    faulty.inject(FaultRule {
        operation: None,
        case_id: None,
        fault: Fault::Throttle,
        rate: 0.15,
        times: None,
    });
    faulty.inject(FaultRule {
        operation: None,
        case_id: None,
        fault: Fault::Internal,
        rate: 0.176,
        times: None,
    });
    // And one case whose first GetCase outlasts the SDK's retries, so redrive is always exercised.
    let unlucky = "00000003-aaaa-4bbb-8ccc-000000000000";
    faulty.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: Some(unlucky.into()),
        fault: Fault::Internal,
        rate: 1.0,
        times: Some(2),
    });
    // Two attempts per call: the SDK absorbs most faults, SQS redrive the rest.
    let enricher = Enricher::new(
        CasesApi::new(cases_client_with_attempts(&faulty.endpoint(), 2)),
        settings(None),
    );
    let projector = projector(new_store(&dynamo, "faulty").await).with_enricher(enricher);
    let rounds = deliver_with_redrive(&projector, &events).await;

    assert!(
        rounds > 1,
        "some records failed after the SDK's retries and were redriven"
    );
    // GetCase throttled past the SDK's retries defers enrichment instead of failing the record:
    // reconcile fills those cases.
    let deferred = projector.store().deferred_cases(DOMAIN).await.unwrap();
    faulty.clear_faults();
    let limiter = Limiter::new(1000.0);
    let cases = CasesApi::new(cases_client(&faulty.endpoint()));
    let options = ReconcileOptions {
        deferred_only: true,
        ..reconcile_options(DOMAIN, 1000.0)
    };
    let reconcile = Reconcile::new(&cases, projector.store(), &limiter, options);
    // A case GetCase keeps failing for stays deferred, and the run goes on (a run that stopped
    // at it would return an error here).
    let stuck = deferred.first().expect("some enrichment was deferred");
    faulty.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: Some(stuck.case_id.clone()),
        fault: Fault::Internal,
        rate: 1.0,
        times: None,
    });
    let summary = reconcile.run().await.unwrap();
    assert_eq!(summary.counts.deferred_filled, deferred.len() as u64 - 1);
    assert_eq!(summary.counts.deferred_unfilled, 1);
    assert_eq!(summary.deferred_left, 1);
    // The next run, the Cases API healthy again, fills it.
    faulty.clear_faults();
    let summary = reconcile.run().await.unwrap();
    assert_eq!(summary.counts.deferred_filled, 1);
    assert_eq!(summary.deferred_left, 0);
    let expected = comparable(reference.store()).await;
    let mut actual = comparable(projector.store()).await;
    // Reconcile's own bookkeeping.
    actual.retain(|k, _| !k.contains("|LEASE#") && !k.contains("|CHECKPOINT#"));
    assert_eq!(actual, expected, "after {rounds} redrive round(s)");
    let created: i64 = report_rows(projector.store(), DOMAIN, "2026-01-01", "2027-01-01")
        .await
        .iter()
        .map(|r| r.cases_created)
        .sum();
    assert_eq!(created, 20, "each case created once");
    assert!(
        faulty.calls("GetCase") > clean.calls("GetCase"),
        "faults were injected and retried"
    );
    let fields = attr(
        &actual,
        &case_key("00000007-aaaa-4bbb-8ccc-000000000000"),
        "fields",
    )
    .unwrap();
    assert!(fields.contains(r#""title": "case 7""#), "{fields}");
}

#[tokio::test]
async fn throttled_get_case_defers_enrichment_and_a_later_call_fills_it() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    standin.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: None,
        fault: Fault::Throttle,
        rate: 1.0,
        times: None,
    });
    let projector = enriched(new_store(&dynamo, "cases").await, &standin, None);
    let event = read_json("events/16-case-updated-metadata-only.json");
    let report = handle(&projector, event.clone()).await;
    assert_eq!(
        report.records[0].outcome,
        RecordOutcome::Done(Outcome::Applied),
        "throttled past the SDK's retries: the record still succeeds"
    );
    assert_eq!(report.work.enrichment_deferred, 1);
    let table = snapshot_table(projector.store()).await;
    let key = case_key(CASE_C);
    assert_eq!(attr(&table, &key, "enrichment"), Some("deferred"));
    assert_eq!(attr(&table, &key, "deferredKey"), Some(DOMAIN));
    assert!(
        attr(&table, &key, "deferredFields")
            .unwrap()
            .contains("summary")
    );
    let waiting = projector.store().deferred_cases(DOMAIN).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].case_id, CASE_C);

    // The throttling ends: the next event of the case fetches the deferred fields too.
    standin.clear_faults();
    let mut next = event;
    next["id"] = json!("later-event");
    next["detail"]["approximateChangeTime"] = json!("2026-11-21T10:00:00.000Z");
    let report = handle(&projector, next).await;
    assert_eq!(report.work.get_case_calls, 1);
    let table = snapshot_table(projector.store()).await;
    assert_eq!(attr(&table, &key, "enrichment"), Some("fetched"));
    assert_eq!(attr(&table, &key, "deferredKey"), None);
    assert_eq!(attr(&table, &key, "deferredFields"), None);
    assert!(
        projector
            .store()
            .deferred_cases(DOMAIN)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_spent_get_case_budget_defers_without_calling() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    let enricher = Enricher::new(
        CasesApi::new(cases_client(&standin.endpoint())),
        settings(None),
    )
    .with_budget(cases_projector::enrichment::Budget::new(0.001, 1.0));
    let projector = projector(new_store(&dynamo, "cases").await).with_enricher(enricher);
    let report = handle(
        &projector,
        read_json("events/16-case-updated-metadata-only.json"),
    )
    .await;
    assert_eq!(report.work.get_case_calls, 1, "the budget's one token");
    let mut other = read_json("events/16-case-updated-metadata-only.json");
    other["id"] = json!("other-case-event");
    other["detail"]["case"]["caseId"] = json!(CASE_A);
    let report = handle(&projector, other).await;
    assert_eq!(report.counts().failed, 0);
    assert_eq!(report.work.enrichment_deferred, 1);
    assert_eq!(standin.calls("GetCase"), 1, "no call over the budget");
    let table = snapshot_table(projector.store()).await;
    assert_eq!(
        attr(&table, &case_key(CASE_A), "enrichment"),
        Some("deferred")
    );
}

/// The Cases API down during a deferred fill: the run stops after a few cases failed in a row
/// instead of calling for every deferred case, everything stays deferred, and the next run, the
/// API back, fills them all.
#[tokio::test]
async fn a_deferred_fill_stops_when_the_cases_api_is_down_and_the_next_run_fills_every_case() {
    let dynamo = DynamoLocal::start();
    let standin = CasesStandIn::start(sample_fixture()).await;
    let ids: Vec<String> = (0..30)
        .map(|i| format!("5e5e5e5e-0000-4000-8000-{i:012}"))
        .collect();
    for id in &ids {
        let status = json!({"id": "status", "value": {"stringValue": "open"}});
        standin.add_case(
            DOMAIN,
            id,
            support::cases_standin::CaseFixture::new("tpl", vec![status]),
        );
    }
    // A spent GetCase budget: every case's enrichment but the first is deferred.
    let enricher = Enricher::new(
        CasesApi::new(cases_client(&standin.endpoint())),
        settings(None),
    )
    .with_budget(cases_projector::enrichment::Budget::new(0.001, 1.0));
    let projector = projector(new_store(&dynamo, "cases").await).with_enricher(enricher);
    for (i, id) in ids.iter().enumerate() {
        let mut event = read_json("events/16-case-updated-metadata-only.json");
        event["id"] = json!(format!("down-{i}"));
        event["detail"]["case"]["caseId"] = json!(id);
        assert_eq!(handle(&projector, event).await.counts().failed, 0);
    }
    let deferred = projector.store().deferred_cases(DOMAIN).await.unwrap();
    assert_eq!(deferred.len(), ids.len() - 1);

    let limiter = Limiter::new(1000.0);
    let cases = CasesApi::new(cases_client_with_attempts(&standin.endpoint(), 1));
    let options = ReconcileOptions {
        deferred_only: true,
        ..reconcile_options(DOMAIN, 1000.0)
    };
    let reconcile = Reconcile::new(&cases, projector.store(), &limiter, options);
    standin.inject(FaultRule {
        operation: Some("GetCase"),
        case_id: None,
        fault: Fault::Internal,
        rate: 1.0,
        times: None,
    });
    standin.reset_calls();
    assert!(reconcile.run().await.is_err());
    let called = standin.calls("GetCase");
    assert!(
        called < deferred.len(),
        "stopped after failures in a row: {called} GetCase calls for {} deferred cases",
        deferred.len()
    );
    assert_eq!(
        projector
            .store()
            .deferred_cases(DOMAIN)
            .await
            .unwrap()
            .len(),
        deferred.len()
    );

    standin.clear_faults();
    let summary = reconcile.run().await.unwrap();
    assert_eq!(summary.counts.deferred_filled, deferred.len() as u64);
    assert_eq!(summary.deferred_left, 0);
}
