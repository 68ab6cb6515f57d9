//! Every file in `events/` parses into what it claims to be (see `events/README.md`).

use cases_projector::event::{
    Change, FieldValue, Invocation, Operation, ParseError, PerformedBy, RelatedItemContent,
    RelatedItemType, parse_event, parse_invocation,
};

const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
const CASE_A: &str = "4f1d2c3b-5a6e-4b5c-8d9e-0f1a2b3c4d5e";

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn invocation(name: &str) -> Invocation {
    parse_invocation(serde_json::from_slice(&read(name)).unwrap())
}

#[test]
fn every_sample_is_documented_and_every_documented_sample_exists() {
    let readme = String::from_utf8(read("README.md")).unwrap();
    for dir in ["", "malformed/"] {
        let path = format!("{}/events/{dir}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(path).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".json") {
                assert!(
                    readme.contains(&format!("`{dir}{name}`")),
                    "{dir}{name} is not in events/README.md"
                );
            }
        }
    }
}

#[test]
fn case_created_carries_metadata_performer_and_all_value_types() {
    let e = parse_event(&read("01-case-created.json")).unwrap();
    assert_eq!(e.id, "a1f0c9d2-0001-4e1a-9b1c-000000000001");
    assert_eq!(e.domain_id, DOMAIN);
    assert_eq!(e.case_id, CASE_A);
    assert_eq!(
        e.changed_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "2026-11-20T09:00:00.125Z"
    );
    assert!(
        matches!(&e.performed_by, Some(PerformedBy::User { user_arn, iam_principal_arn: Some(iam) })
        if user_arn.contains("/agent/") && iam.ends_with("role/ConnectAgentRole"))
    );
    let Change::Case(c) = &e.change else {
        panic!("not a case event")
    };
    assert_eq!(c.operation, Operation::Created);
    assert_eq!(
        c.template_id.as_deref(),
        Some("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d")
    );
    assert_eq!(c.changed_field_ids.len(), 8);
    let f = c.fields.as_ref().unwrap();
    assert_eq!(f["status"], FieldValue::String("open".into()));
    assert_eq!(f["priority"], FieldValue::Double(2.0));
    assert_eq!(f["vip"], FieldValue::Boolean(false));
    assert!(
        matches!(&f["assigned_user"], FieldValue::UserArn(a) if a.starts_with("arn:aws:connect:"))
    );
}

#[test]
fn empty_value_parses_as_empty() {
    let e = parse_event(&read("04-case-updated-empty-and-typed-values.json")).unwrap();
    let Change::Case(c) = &e.change else { panic!() };
    let f = c.fields.as_ref().unwrap();
    assert_eq!(f["case_reason"], FieldValue::Empty);
    assert_eq!(f["refund_amount"], FieldValue::Double(129.99));
}

#[test]
fn metadata_only_event_has_no_fields() {
    let e = parse_event(&read("16-case-updated-metadata-only.json")).unwrap();
    let Change::Case(c) = &e.change else { panic!() };
    assert_eq!(c.fields, None);
    assert_eq!(c.changed_field_ids, ["status", "title"]);
}

#[test]
fn delete_needs_no_fields() {
    let e = parse_event(&read("19-case-deleted.json")).unwrap();
    assert!(
        matches!(&e.change, Change::Case(c) if c.operation == Operation::Deleted && c.fields.is_none())
    );
}

#[test]
fn related_items_of_every_type_parse_with_content() {
    let cases: [(&str, RelatedItemType); 6] = [
        (
            "05-related-item-comment-created.json",
            RelatedItemType::Comment,
        ),
        (
            "06-related-item-contact-created.json",
            RelatedItemType::Contact,
        ),
        ("07-related-item-file-created.json", RelatedItemType::File),
        ("08-related-item-sla-created.json", RelatedItemType::Sla),
        (
            "09-related-item-connectcase-created.json",
            RelatedItemType::ConnectCase,
        ),
        (
            "10-related-item-custom-created.json",
            RelatedItemType::Custom,
        ),
    ];
    for (name, expected) in cases {
        let e = parse_event(&read(name)).unwrap();
        let Change::RelatedItem(r) = &e.change else {
            panic!("{name}")
        };
        assert_eq!(r.operation, Operation::Created, "{name}");
        assert_eq!(r.item.item_type, expected, "{name}");
        assert_eq!(e.case_id, CASE_A, "{name}");
        let content = r
            .item
            .content
            .as_ref()
            .unwrap_or_else(|| panic!("{name} has no content"));
        match content {
            RelatedItemContent::Comment { body, content_type } => {
                assert!(body.contains("3DS"));
                assert_eq!(content_type.as_deref(), Some("Text/Plain"));
            }
            RelatedItemContent::Contact { channel, .. } => {
                assert_eq!(channel.as_deref(), Some("VOICE"))
            }
            RelatedItemContent::File { file_arn } => assert!(file_arn.contains("/file/")),
            RelatedItemContent::Sla {
                name,
                status,
                sla_type,
                ..
            } => {
                assert_eq!(name, "Resolve within 24h");
                assert_eq!(status.as_deref(), Some("Active"));
                assert_eq!(sla_type.as_deref(), Some("CaseField"));
            }
            RelatedItemContent::ConnectCase { case_id } => {
                assert_eq!(case_id, "9c2e7f10-3b4a-4c5d-9e8f-1a2b3c4d5e6f")
            }
            RelatedItemContent::Custom { fields } => {
                assert_eq!(fields["attempts"], FieldValue::Double(3.0))
            }
        }
    }
}

#[test]
fn legacy_detail_type_and_lowercase_item_type_are_accepted() {
    let e = parse_event(&read(
        "11-related-item-comment-updated-legacy-detail-type.json",
    ))
    .unwrap();
    let Change::RelatedItem(r) = &e.change else {
        panic!()
    };
    assert_eq!(r.operation, Operation::Updated);
    assert_eq!(r.item.item_type, RelatedItemType::Comment);
    assert_eq!(r.changed_attributes, ["comment.commentText"]);
}

#[test]
fn related_item_delete_parses() {
    let e = parse_event(&read("12-related-item-file-deleted.json")).unwrap();
    assert!(
        matches!(&e.change, Change::RelatedItem(r) if r.operation == Operation::Deleted && r.item.content.is_none())
    );
}

#[test]
fn unknown_event_type_is_an_explicit_variant_not_an_error() {
    let e = parse_event(&read("17-unknown-event-type.json")).unwrap();
    assert_eq!(
        e.change,
        Change::Unknown {
            event_type: "CASE.ARCHIVED".into()
        }
    );
    assert_eq!(e.case_id, "2d4f6a8c-0e1b-4d3f-a5b7-c9e1f3a5b7d9");
}

#[test]
fn single_eventbridge_event_is_detected_as_direct_invocation() {
    let Invocation::EventBridge(record) = invocation("02-case-updated.json") else {
        panic!()
    };
    assert_eq!(record.message_id, None);
    assert_eq!(
        record.event.unwrap().id,
        "a1f0c9d2-0002-4e1a-9b1c-000000000002"
    );
}

#[test]
fn sqs_batch_records_keep_their_message_ids_and_order() {
    let Invocation::Sqs(records) = invocation("18-sqs-batch.json") else {
        panic!()
    };
    let ids: Vec<_> = records
        .iter()
        .map(|r| r.message_id.clone().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids[0].ends_with("01") && ids[2].ends_with("03"));
    let events: Vec<_> = records.into_iter().map(|r| r.event.unwrap()).collect();
    assert_eq!(
        events[0].case_id, events[1].case_id,
        "two events for the same case"
    );
    assert_eq!(events[0].event_type(), "CASE.CREATED");
    assert_eq!(events[1].event_type(), "CASE.UPDATED");
    assert!(matches!(&events[2].change, Change::RelatedItem(r) if r.item.content.is_none()));
}

#[test]
fn array_of_events_parses_each_with_unknown_item_type_kept() {
    let Invocation::Events(records) = invocation("21-events-array.json") else {
        panic!()
    };
    let events: Vec<_> = records.into_iter().map(|r| r.event.unwrap()).collect();
    assert!(
        matches!(&events[0].change, Change::RelatedItem(r) if r.item.item_type == RelatedItemType::Unknown("Hologram".into()))
    );
    assert!(
        matches!(&events[1].change, Change::RelatedItem(r) if r.item.item_type == RelatedItemType::Contact)
    );
}

#[test]
fn malformed_sqs_body_fails_only_its_own_record() {
    let Invocation::Sqs(records) = invocation("malformed/sqs-batch-with-malformed-body.json")
    else {
        panic!("the batch is still recognised as SQS")
    };
    assert_eq!(records.len(), 3);
    assert!(records[0].event.is_ok() && records[2].event.is_ok());
    assert!(records[1].message_id.as_deref().unwrap().ends_with("05"));
    assert!(matches!(&records[1].event, Err(ParseError::NotJson(m)) if m.contains("EOF")));
}

#[test]
fn missing_change_time_is_named_in_the_error() {
    let err = parse_event(&read("malformed/missing-change-time.json")).unwrap_err();
    assert!(err.to_string().contains("approximateChangeTime"), "{err}");
}

#[test]
fn missing_domain_arn_is_a_clear_error() {
    let err = parse_event(&read("malformed/no-domain-arn.json")).unwrap_err();
    assert_eq!(err, ParseError::NoDomainArn);
    assert!(err.to_string().contains("arn:aws:cases:"));
}

#[test]
fn other_sources_and_shapes_are_rejected_not_guessed() {
    let ec2 = br#"{"id":"1","source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}"#;
    assert!(matches!(
        parse_event(ec2),
        Err(ParseError::WrongSource { .. })
    ));
    assert!(matches!(
        parse_invocation(serde_json::json!({"hello": 1})),
        Invocation::Unrecognised(_)
    ));
    assert!(matches!(
        parse_invocation(serde_json::json!("text")),
        Invocation::Unrecognised(_)
    ));
    let bad_value = br#"{"id":"1","source":"aws.cases","detail-type":"Amazon Connect Cases Change",
        "resources":["arn:aws:cases:us-west-2:1:domain/d"],
        "detail":{"eventType":"CASE.UPDATED","approximateChangeTime":"2026-11-20T09:00:00.000Z",
        "case":{"caseId":"c","fields":{"x":{"value":{}}}}}}"#;
    let err = parse_event(bad_value).unwrap_err();
    assert!(err.to_string().contains("field `x`"), "{err}");
}

/// A sample with one JSON value replaced.
fn sample_with(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&read(name)).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

const SECRET: &str = "SECRET-CUSTOMER-TEXT";

/// The error names where the record is wrong, whichever way it arrives, and never the value.
fn error_without_secret(bytes: &[u8]) -> String {
    let direct = parse_event(bytes).unwrap_err();
    let sqs = serde_json::json!({"Records": [{
        "messageId": "m-1",
        "body": String::from_utf8_lossy(bytes),
    }]});
    let Invocation::Sqs(records) = parse_invocation(sqs) else {
        panic!("an SQS batch")
    };
    let via_sqs = records[0].event.as_ref().unwrap_err();
    assert_eq!(&direct, via_sqs);
    for text in [direct.to_string(), format!("{direct:?}")] {
        assert!(!text.contains(SECRET), "{text}");
    }
    direct.to_string()
}

#[test]
fn parse_errors_never_quote_payload_values() {
    let wrong_field = sample_with("01-case-created.json", |v| {
        v["detail"]["case"]["fields"]["priority"]["value"] =
            serde_json::json!({"doubleValue": SECRET});
    });
    assert_eq!(
        error_without_secret(&wrong_field),
        "invalid Cases event: detail.case.fields.priority.value.doubleValue: invalid type, expected f64"
    );

    let wrong_body = sample_with("05-related-item-comment-created.json", |v| {
        v["detail"]["relatedItem"]["comment"]["body"] = serde_json::json!({"text": SECRET});
    });
    let err = error_without_secret(&wrong_body);
    assert!(
        err.contains("detail.relatedItem.comment.body: invalid type, expected a string"),
        "{err}"
    );

    let mut not_json = read("05-related-item-comment-created.json");
    let at = not_json.len() / 2;
    not_json.splice(at..at, format!("{SECRET}\"}}").into_bytes());
    let err = error_without_secret(&not_json);
    assert!(err.starts_with("not JSON: "), "{err}");

    let wrong_time = sample_with("02-case-updated.json", |v| {
        v["detail"]["approximateChangeTime"] = SECRET.into();
    });
    let err = error_without_secret(&wrong_time);
    assert!(err.contains("detail.approximateChangeTime"), "{err}");
}

#[test]
fn an_impossible_case_id_is_refused_without_being_echoed() {
    let huge = "4".repeat(70_000);
    let bytes = sample_with("02-case-updated.json", |v| {
        v["detail"]["case"]["caseId"] = huge.clone().into();
    });
    let err = parse_event(&bytes).unwrap_err();
    assert!(matches!(
        err,
        ParseError::InvalidId {
            field: "detail.case.caseId",
            ..
        }
    ));
    let text = err.to_string();
    assert!(text.len() < 200 && text.contains("500"), "{text}");
}

#[test]
fn change_times_keep_milliseconds_only() {
    let at = |t: &str| {
        let bytes = sample_with("02-case-updated.json", |v| {
            v["detail"]["approximateChangeTime"] = t.into();
        });
        parse_event(&bytes).unwrap().changed_at
    };
    assert_eq!(
        at("2026-11-20T09:00:00.1234Z"),
        at("2026-11-20T09:00:00.1236Z")
    );
    assert_eq!(
        at("2026-11-20T09:00:00.1236Z").to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "2026-11-20T09:00:00.123Z"
    );
}
