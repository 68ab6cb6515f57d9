//! The Connect Cases stand-in's search and history operations, through the real
//! aws-sdk-connectcases client, on a generated domain whose truth is known.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_connectcases::types::{
    AuditEventFieldValueUnion, AuditEventType, CaseFilter, ContactFilter, FieldFilter,
    FieldIdentifier, FieldValue, FieldValueUnion, Order, RelatedItemType, RelatedItemTypeFilter,
    SearchAllRelatedItemsSort, SearchAllRelatedItemsSortProperty, Sort,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use support::cases_standin::{CaseFixture, CasesStandIn};
use support::domain_gen::{self, DOMAIN_ID, DayCounts, GeneratedDomain, iso};
use support::*;

fn field(id: &str) -> FieldIdentifier {
    FieldIdentifier::builder().id(id).build().unwrap()
}

async fn standin(generated: &GeneratedDomain) -> CasesStandIn {
    CasesStandIn::start(generated.fixture()).await
}

fn millis(t: &aws_smithy_types::DateTime) -> i64 {
    t.to_millis().unwrap()
}

fn iso_millis(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
}

/// The `FieldValueUnion` JSON of an SDK field value, to compare with the truth.
fn json_of(value: Option<&FieldValueUnion>) -> Value {
    match value {
        Some(FieldValueUnion::StringValue(s)) => json!({ "stringValue": s }),
        Some(FieldValueUnion::DoubleValue(d)) => json!({ "doubleValue": d }),
        Some(FieldValueUnion::BooleanValue(b)) => json!({ "booleanValue": b }),
        other => panic!("unexpected value {other:?}"),
    }
}

fn case_with_most_related_items(generated: &GeneratedDomain) -> (&String, usize) {
    generated
        .cases
        .iter()
        .map(|(id, t)| (id, t.related_items.len()))
        .max_by_key(|(_, n)| *n)
        .unwrap()
}

#[tokio::test]
async fn search_cases_pages_through_every_case_with_the_total_count() {
    let generated = domain_gen::generate(1, 120, 30);
    let standin = standin(&generated).await;
    let client = cases_client(&standin.endpoint());
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = client
            .search_cases()
            .domain_id(DOMAIN_ID)
            .max_results(50)
            .fields(field("status"))
            .fields(field("custom_001"))
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert_eq!(out.total_count(), 120);
        for case in out.cases().iter().flatten() {
            let truth = &generated.cases[case.case_id()];
            assert_eq!(case.template_id(), domain_gen::TEMPLATE_ID);
            let values: BTreeMap<&str, Value> = case
                .fields()
                .iter()
                .map(|f| (f.id(), json_of(f.value())))
                .collect();
            let wanted: BTreeMap<&str, Value> = ["status", "custom_001"]
                .into_iter()
                .filter_map(|id| Some((id, truth.fields.get(id)?.clone())))
                .collect();
            assert_eq!(values, wanted);
            seen.push(case.case_id().to_owned());
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(standin.calls("SearchCases"), 3);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "no sort: case id order");
    assert_eq!(seen, generated.cases.keys().cloned().collect::<Vec<_>>());
}

#[tokio::test]
async fn search_cases_filters_and_sorts_on_one_field() {
    let generated = domain_gen::generate(2, 80, 10);
    let standin = standin(&generated).await;
    let client = cases_client(&standin.endpoint());
    let cutoff = iso(generated.now - chrono::Duration::days(20));
    let since = |value: &str| {
        CaseFilter::Field(FieldFilter::GreaterThanOrEqualTo(
            FieldValue::builder()
                .id("created_datetime")
                .value(FieldValueUnion::StringValue(value.to_owned()))
                .build()
                .unwrap(),
        ))
    };
    let out = client
        .search_cases()
        .domain_id(DOMAIN_ID)
        .max_results(100)
        .fields(field("created_datetime"))
        .filter(since(&cutoff))
        .sorts(
            Sort::builder()
                .field_id("created_datetime")
                .sort_order(Order::Descending)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mut expected: Vec<(String, &String)> = generated
        .cases
        .iter()
        .map(|(id, t)| (iso(t.created), id))
        .filter(|(created, _)| *created >= cutoff)
        .collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert!(!expected.is_empty() && expected.len() < 80);
    assert_eq!(out.total_count(), expected.len() as i64);
    let got: Vec<String> = out
        .cases()
        .iter()
        .flatten()
        .map(|c| c.case_id().to_owned())
        .collect();
    let expected_ids: Vec<String> = expected.iter().map(|(_, id)| (*id).clone()).collect();
    assert_eq!(got, expected_ids);

    let closed = client
        .search_cases()
        .domain_id(DOMAIN_ID)
        .filter(CaseFilter::Field(FieldFilter::EqualTo(
            FieldValue::builder()
                .id("status")
                .value(FieldValueUnion::StringValue("closed".into()))
                .build()
                .unwrap(),
        )))
        .send()
        .await
        .unwrap();
    let truth_closed = generated
        .cases
        .values()
        .filter(|t| t.fields["status"] == json!({"stringValue": "closed"}))
        .count();
    assert_eq!(closed.total_count(), truth_closed as i64);
    assert_eq!(
        closed.cases().len(),
        truth_closed.min(25),
        "default page 25"
    );
}

#[tokio::test]
async fn search_cases_refuses_26_fields_bad_page_sizes_and_unknown_domains() {
    let generated = domain_gen::generate(3, 5, 30);
    let standin = standin(&generated).await;
    let client = cases_client(&standin.endpoint());
    let fields: Vec<FieldIdentifier> = generated.custom_fields[..26]
        .iter()
        .map(|id| field(id))
        .collect();
    let err = client
        .search_cases()
        .domain_id(DOMAIN_ID)
        .set_fields(Some(fields.clone()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    let ok = client
        .search_cases()
        .domain_id(DOMAIN_ID)
        .set_fields(Some(fields[..25].to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.total_count(), 5);
    for size in [0, 101] {
        let err = client
            .search_cases()
            .domain_id(DOMAIN_ID)
            .max_results(size)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_validation_exception(), "{size}: {err:?}");
    }
    let err = client
        .search_cases()
        .domain_id("no-such-domain")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn search_related_items_pages_and_filters_by_type() {
    let generated = domain_gen::generate(4, 20, 5);
    let standin = standin(&generated).await;
    let client = cases_client(&standin.endpoint());
    let (case_id, count) = case_with_most_related_items(&generated);
    assert!(count > 25, "a case with more than 25 related items");
    let truth = &generated.cases[case_id].related_items;
    let mut got = Vec::new();
    let mut token = None;
    loop {
        let out = client
            .search_related_items()
            .domain_id(DOMAIN_ID)
            .case_id(case_id)
            .max_results(10)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(out.related_items().len() <= 10);
        got.extend(out.related_items().iter().flatten().cloned());
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(standin.calls("SearchRelatedItems"), count.div_ceil(10));
    assert_eq!(got.len(), truth.len());
    for (item, want) in got.iter().zip(truth) {
        assert_eq!(item.related_item_id(), want["relatedItemId"]);
        assert_eq!(item.r#type().as_str(), want["type"]);
        assert_eq!(
            millis(item.association_time()),
            iso_millis(want["associationTime"].as_str().unwrap())
        );
        assert!(item.content().is_some());
    }

    let voice = client
        .search_related_items()
        .domain_id(DOMAIN_ID)
        .case_id(case_id)
        .max_results(25)
        .filters(RelatedItemTypeFilter::Contact(
            ContactFilter::builder().channel("VOICE").build(),
        ))
        .send()
        .await
        .unwrap();
    let truth_voice = truth
        .iter()
        .filter(|i| i["content"]["contact"]["channel"] == "VOICE")
        .count();
    assert_eq!(voice.related_items().len(), truth_voice);
    assert!(
        voice
            .related_items()
            .iter()
            .flatten()
            .all(|i| *i.r#type() == RelatedItemType::Contact)
    );

    let err = client
        .search_related_items()
        .domain_id(DOMAIN_ID)
        .case_id("no-such-case")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = client
        .search_related_items()
        .domain_id(DOMAIN_ID)
        .case_id(case_id)
        .max_results(26)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
}

#[tokio::test]
async fn search_all_related_items_pages_across_the_domain() {
    let generated = domain_gen::generate(5, 30, 5);
    let standin = standin(&generated).await;
    let client = cases_client(&standin.endpoint());
    let mut got = Vec::new();
    let mut token = None;
    loop {
        let out = client
            .search_all_related_items()
            .domain_id(DOMAIN_ID)
            .max_results(25)
            .sorts(
                SearchAllRelatedItemsSort::builder()
                    .sort_property(SearchAllRelatedItemsSortProperty::AssociationTime)
                    .sort_order(Order::Ascending)
                    .build()
                    .unwrap(),
            )
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(out.related_items().len() <= 25);
        got.extend(out.related_items().iter().flatten().cloned());
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let truth: BTreeSet<(String, String)> = generated
        .cases
        .iter()
        .flat_map(|(case_id, t)| {
            t.related_items
                .iter()
                .map(move |i| (case_id.clone(), i["relatedItemId"].as_str().unwrap().into()))
        })
        .collect();
    let seen: BTreeSet<(String, String)> = got
        .iter()
        .map(|i| (i.case_id().to_owned(), i.related_item_id().to_owned()))
        .collect();
    assert_eq!(seen.len(), got.len(), "no item twice");
    assert_eq!(seen, truth);
    assert_eq!(
        standin.calls("SearchAllRelatedItems"),
        truth.len().div_ceil(25)
    );
    let times: Vec<i64> = got.iter().map(|i| millis(i.association_time())).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "AssociationTime Asc"
    );

    let files = client
        .search_all_related_items()
        .domain_id(DOMAIN_ID)
        .filters(RelatedItemTypeFilter::File(
            aws_sdk_connectcases::types::FileFilter::builder().build(),
        ))
        .max_results(25)
        .send()
        .await
        .unwrap();
    assert!(
        files
            .related_items()
            .iter()
            .flatten()
            .all(|i| *i.r#type() == RelatedItemType::File)
    );
}

#[tokio::test]
async fn get_case_audit_events_pages_with_decoded_values() {
    let generated = domain_gen::generate(6, 12, 8);
    let standin = standin(&generated).await;
    let client = cases_client(&standin.endpoint());
    let (case_id, _) = case_with_most_related_items(&generated);
    let fixture = &generated.domain.cases[case_id].audit_events;
    let mut got = Vec::new();
    let mut token = None;
    loop {
        let out = client
            .get_case_audit_events()
            .domain_id(DOMAIN_ID)
            .case_id(case_id)
            .max_results(7)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(out.audit_events().len() <= 7);
        got.extend(out.audit_events().iter().flatten().cloned());
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(got.len(), fixture.len());
    assert_eq!(
        standin.calls("GetCaseAuditEvents"),
        fixture.len().div_ceil(7)
    );
    assert_eq!(*got[0].r#type(), AuditEventType::CaseCreated);
    for (event, want) in got.iter().zip(fixture) {
        assert_eq!(event.event_id(), want["eventId"]);
        assert_eq!(event.r#type().as_str(), want["type"]);
        assert_eq!(
            millis(event.performed_time()),
            iso_millis(want["performedTime"].as_str().unwrap())
        );
        assert_eq!(
            event.related_item_type().map(|t| t.as_str()),
            want["relatedItemType"].as_str()
        );
        assert!(event.performed_by().is_some());
        let fields: Vec<_> = event.fields().iter().flatten().collect();
        assert_eq!(fields.len(), want["fields"].as_array().unwrap().len());
        for (f, w) in fields.iter().zip(want["fields"].as_array().unwrap()) {
            assert_eq!(f.event_field_id(), w["eventFieldId"]);
            let decoded = |v: Option<&AuditEventFieldValueUnion>| match v {
                None => Value::Null,
                Some(AuditEventFieldValueUnion::StringValue(s)) => json!({ "stringValue": s }),
                Some(AuditEventFieldValueUnion::DoubleValue(d)) => json!({ "doubleValue": d }),
                Some(AuditEventFieldValueUnion::BooleanValue(b)) => json!({ "booleanValue": b }),
                Some(AuditEventFieldValueUnion::EmptyValue(_)) => json!({ "emptyValue": {} }),
                Some(other) => panic!("unexpected {other:?}"),
            };
            assert_eq!(decoded(f.new_value()), w["newValue"]);
            assert_eq!(decoded(f.old_value()), w["oldValue"]);
        }
    }
    let err = client
        .get_case_audit_events()
        .domain_id(DOMAIN_ID)
        .case_id("no-such-case")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn requests_past_the_quota_get_429_throttling() {
    let generated = domain_gen::generate(7, 3, 3);
    let standin = standin(&generated).await;
    let client = cases_client_with_attempts(&standin.endpoint(), 1);
    let case_id = generated.cases.keys().next().unwrap();
    standin.set_quota(Some("SearchCases"), 0.01, 2.0);
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        let result = client.search_cases().domain_id(DOMAIN_ID).send().await;
        outcomes.push(match result.map_err(|e| e.into_service_error()) {
            Ok(_) => "ok",
            Err(e) if e.is_throttling_exception() => "throttled",
            Err(_) => "other",
        });
    }
    assert_eq!(outcomes, ["ok", "ok", "throttled", "throttled"]);
    assert_eq!(standin.throttled("SearchCases"), 2);
    assert_eq!(
        standin.calls("SearchCases"),
        4,
        "throttled requests count too"
    );
    // Another operation has its own quota (none).
    for _ in 0..3 {
        client
            .get_case_audit_events()
            .domain_id(DOMAIN_ID)
            .case_id(case_id)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(standin.throttled("GetCaseAuditEvents"), 0);

    // One bucket for every operation, like an account quota.
    standin.clear_quotas();
    standin.set_quota(None, 0.01, 1.0);
    client
        .get_case_audit_events()
        .domain_id(DOMAIN_ID)
        .case_id(case_id)
        .send()
        .await
        .unwrap();
    let err = client
        .search_related_items()
        .domain_id(DOMAIN_ID)
        .case_id(case_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_throttling_exception(), "{err:?}");
    assert_eq!(standin.throttled("SearchRelatedItems"), 1);
}

#[tokio::test]
async fn a_live_domain_changes_under_the_client() {
    let generated = domain_gen::generate(8, 10, 3);
    let standin = standin(&generated).await;
    let client = cases_client(&standin.endpoint());
    let gone = generated.cases.keys().next().unwrap().clone();
    let kept = generated.cases.keys().nth(1).unwrap().clone();
    assert!(standin.remove_case(DOMAIN_ID, &gone).is_some());
    let err = client
        .get_case()
        .domain_id(DOMAIN_ID)
        .case_id(&gone)
        .fields(field("status"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let out = client
        .search_cases()
        .domain_id(DOMAIN_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(out.total_count(), 9);
    assert!(out.cases().iter().flatten().all(|c| c.case_id() != gone));

    let before = generated.cases[&kept].related_items.len();
    standin.append_related_item(
        DOMAIN_ID,
        &kept,
        json!({"relatedItemId": "late-comment", "type": "Comment", "associationTime": iso(generated.now),
               "content": {"comment": {"body": "late", "contentType": "Text/Plain"}}}),
    );
    standin.append_audit_event(
        DOMAIN_ID,
        &kept,
        json!({"eventId": "late-event", "type": "RelatedItem.Created", "relatedItemType": "Comment",
               "performedTime": iso(generated.now), "fields": [],
               "performedBy": {"iamPrincipalArn": "arn:aws:iam::123456789012:role/x"}}),
    );
    standin.set_case_field(DOMAIN_ID, &kept, "status", json!({"stringValue": "closed"}));
    let items = client
        .search_related_items()
        .domain_id(DOMAIN_ID)
        .case_id(&kept)
        .max_results(25)
        .filters(RelatedItemTypeFilter::Comment(
            aws_sdk_connectcases::types::CommentFilter::builder().build(),
        ))
        .send()
        .await
        .unwrap();
    assert!(
        items
            .related_items()
            .iter()
            .flatten()
            .any(|i| i.related_item_id() == "late-comment")
    );
    assert_eq!(
        standin.with_case(DOMAIN_ID, &kept, |c| c.related_items.len()),
        before + 1
    );
    let case = client
        .get_case()
        .domain_id(DOMAIN_ID)
        .case_id(&kept)
        .fields(field("status"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        case.fields()[0].value(),
        Some(&FieldValueUnion::StringValue("closed".into()))
    );
    standin.add_case(
        DOMAIN_ID,
        "new-case",
        CaseFixture {
            template_id: "t".into(),
            fields: vec![json!({"id": "status", "value": {"stringValue": "open"}})],
            ..CaseFixture::default()
        },
    );
    let out = client
        .search_cases()
        .domain_id(DOMAIN_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(out.total_count(), 10);
}

/// Recounts per UTC day from the audit events alone.
fn recount(generated: &GeneratedDomain) -> BTreeMap<NaiveDate, DayCounts> {
    let mut days: BTreeMap<NaiveDate, DayCounts> = BTreeMap::new();
    for case in generated.domain.cases.values() {
        for event in &case.audit_events {
            let at: DateTime<Utc> = event["performedTime"].as_str().unwrap().parse().unwrap();
            let day = days.entry(at.date_naive()).or_default();
            match event["type"].as_str().unwrap() {
                "Case.Created" => day.created += 1,
                "RelatedItem.Created" => {
                    let kind = event["relatedItemType"].as_str().unwrap().to_owned();
                    *day.related_items.entry(kind).or_default() += 1;
                }
                _ => {}
            }
            for f in event["fields"].as_array().unwrap() {
                if f["eventFieldId"] != "status" || event["type"] != "Case.Updated" {
                    continue;
                }
                let (old, new) = (&f["oldValue"]["stringValue"], &f["newValue"]["stringValue"]);
                if new == "closed" && old != "closed" {
                    day.resolved += 1;
                }
                if old == "closed" && new != "closed" {
                    day.reopened += 1;
                }
            }
        }
    }
    days
}

#[test]
fn generator_truth_matches_its_audit_events() {
    let generated = domain_gen::generate(9, 200, 40);
    assert_eq!(recount(&generated), generated.days);
    let totals = generated.totals();
    assert_eq!(totals.created, 200);
    assert!(totals.resolved > 0 && totals.reopened > 0);
    assert_eq!(
        totals.related_items.keys().collect::<Vec<_>>(),
        ["Comment", "Contact", "File"]
    );

    let oldest = generated.now - chrono::Duration::days(60);
    let mut reopen_then_pending = 0;
    for (case_id, truth) in &generated.cases {
        let case = &generated.domain.cases[case_id];
        // Replaying every new value gives the final fields.
        let mut replayed = BTreeMap::new();
        let mut statuses = Vec::new();
        for event in &case.audit_events {
            let at: DateTime<Utc> = event["performedTime"].as_str().unwrap().parse().unwrap();
            assert!(oldest <= at && at < generated.now, "{at}");
            for f in event["fields"].as_array().unwrap() {
                if event["type"].as_str().unwrap().starts_with("Case.") {
                    replayed.insert(
                        f["eventFieldId"].as_str().unwrap().to_owned(),
                        f["newValue"].clone(),
                    );
                }
                if f["eventFieldId"] == "status" {
                    statuses.push(f["newValue"]["stringValue"].as_str().unwrap());
                }
            }
        }
        assert_eq!(replayed, truth.fields);
        let stored: BTreeMap<String, Value> = case
            .fields
            .iter()
            .map(|f| (f["id"].as_str().unwrap().to_owned(), f["value"].clone()))
            .collect();
        assert_eq!(stored, truth.fields);
        let created_items = case
            .audit_events
            .iter()
            .filter(|e| e["type"] == "RelatedItem.Created")
            .count();
        assert_eq!(created_items, truth.related_items.len());
        assert_eq!(case.related_items, truth.related_items);
        if statuses
            .windows(3)
            .any(|w| w == ["closed", "open", "pending"])
        {
            reopen_then_pending += 1;
        }
    }
    assert!(reopen_then_pending > 0);
    let custom_counts: Vec<usize> = generated
        .cases
        .values()
        .map(|t| t.fields.keys().filter(|k| k.starts_with("custom_")).count())
        .collect();
    assert!(custom_counts.iter().any(|n| *n > 25));
    assert!(generated.cases.values().any(|t| t.related_items.len() > 25));

    // Deterministic, and "now" moves everything with it.
    let again = domain_gen::generate(9, 200, 40);
    assert_eq!(again.days, generated.days);
    assert_eq!(
        again.cases.keys().collect::<Vec<_>>(),
        generated.cases.keys().collect::<Vec<_>>()
    );
    let later = domain_gen::generate_at(9, 200, 40, generated.now + chrono::Duration::days(1));
    assert_eq!(later.totals(), totals);
}

#[tokio::test]
async fn list_templates_pages_filters_by_status_and_the_adapter_reads_every_page() {
    use aws_sdk_connectcases::types::TemplateStatus;
    use cases_projector::connect_cases::CasesApi;
    use cases_projector::enrichment::{CaseReader, MissingResource, ReaderError, TemplateInfo};

    let generated = domain_gen::generate(10, 3, 2);
    let standin = standin(&generated).await;
    // 230 templates besides the generated one, every third inactive: three pages of 100.
    standin.with_domain(DOMAIN_ID, |d| {
        d.templates.extend((0..230).map(|i| {
            let status = if i % 3 == 0 { "Inactive" } else { "Active" };
            json!({"templateId": format!("t-{i:03}"), "name": format!("Template {i}"), "status": status})
        }))
    });
    let client = cases_client(&standin.endpoint());
    let first = client
        .list_templates()
        .domain_id(DOMAIN_ID)
        .max_results(50)
        .status(TemplateStatus::Inactive)
        .send()
        .await
        .unwrap();
    assert_eq!(first.templates().len(), 50);
    assert!(
        first
            .templates()
            .iter()
            .all(|t| *t.status() == TemplateStatus::Inactive
                && t.template_arn().contains(t.template_id()))
    );
    let second = client
        .list_templates()
        .domain_id(DOMAIN_ID)
        .max_results(50)
        .status(TemplateStatus::Inactive)
        .set_next_token(first.next_token().map(str::to_owned))
        .send()
        .await
        .unwrap();
    assert_eq!(second.templates().len(), 77 - 50, "77 inactive of 230");
    assert_eq!(second.next_token(), None);
    let err = client
        .list_templates()
        .domain_id(DOMAIN_ID)
        .max_results(101)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");

    // The adapter: every page, both statuses, each template's id and name.
    standin.reset_calls();
    let api = CasesApi::new(client.clone());
    let listed = api.list_templates(DOMAIN_ID).await.unwrap();
    assert_eq!(
        standin.calls("ListTemplates"),
        3,
        "231 templates, 100 a page"
    );
    assert_eq!(listed.len(), 231);
    assert!(listed.contains(&TemplateInfo {
        id: domain_gen::TEMPLATE_ID.into(),
        name: domain_gen::TEMPLATE_NAME.into(),
    }));
    assert!(listed.contains(&TemplateInfo {
        id: "t-000".into(),
        name: "Template 0".into(),
    }));
    // An unknown domain is a refusal naming the domain, not an empty list.
    match api.list_templates("no-such-domain").await {
        Err(e @ ReaderError::NotFound { .. }) => {
            assert!(e.is_refusal(), "{e}");
            assert!(matches!(
                e,
                ReaderError::NotFound {
                    operation: "ListTemplates",
                    resource: MissingResource::Domain,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
}
