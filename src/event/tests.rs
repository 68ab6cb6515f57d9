//! Unit tests for parsing: envelope and detail, ids, times, and value-free error messages.

use serde_json::Value;

use super::wire::domain_id_from_arn;
use super::*;

#[test]
fn domain_id_comes_from_either_arn_shape() {
    assert_eq!(
        domain_id_from_arn("arn:aws:cases:us-west-2:123456789012:domain/d-1").as_deref(),
        Some("d-1")
    );
    assert_eq!(
        domain_id_from_arn("arn:aws:cases:us-west-2:1:domain/d-2/case/c-1/related-item/r")
            .as_deref(),
        Some("d-2")
    );
    assert_eq!(
        domain_id_from_arn("arn:aws:connect:us-west-2:1:instance/x"),
        None
    );
    assert_eq!(
        domain_id_from_arn("arn:aws:cases:us-west-2:1:domain/"),
        None
    );
    assert_eq!(domain_id_from_arn("not an arn"), None);
}

#[test]
fn related_item_types_compare_case_insensitively() {
    assert_eq!(RelatedItemType::parse("Comment"), RelatedItemType::Comment);
    assert_eq!(RelatedItemType::parse("comment"), RelatedItemType::Comment);
    assert_eq!(
        RelatedItemType::parse("CONNECTCASE"),
        RelatedItemType::ConnectCase
    );
    assert_eq!(
        RelatedItemType::parse("Hologram"),
        RelatedItemType::Unknown("Hologram".into())
    );
}

fn event(detail: Value) -> Value {
    serde_json::json!({
        "id": "e-1",
        "source": "aws.cases",
        "detail-type": "Amazon Connect Cases Change",
        "resources": ["arn:aws:cases:us-west-2:1:domain/d-1"],
        "detail": detail,
    })
}

fn case_updated(case: Value) -> Value {
    event(serde_json::json!({
        "eventType": "CASE.UPDATED",
        "approximateChangeTime": "2026-11-20T09:00:00.000Z",
        "case": case,
    }))
}

/// Both entry points, bytes and value, give the same answer.
fn parse(v: Value) -> Result<CaseEvent, ParseError> {
    let from_bytes = parse_event(&serde_json::to_vec(&v).unwrap());
    let from_value = parse_event_value(v);
    assert_eq!(from_bytes, from_value);
    from_value
}

const SECRET: &str = "SECRET-CUSTOMER-TEXT";

fn assert_secret_free(err: &ParseError) {
    let text = err.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    assert!(!format!("{err:?}").contains("SECRET"), "{err:?}");
}

#[test]
fn change_times_are_truncated_to_milliseconds() {
    let at = |t: &str| {
        let mut v = case_updated(serde_json::json!({"caseId": "c-1"}));
        v["detail"]["approximateChangeTime"] = t.into();
        parse(v).unwrap().changed_at
    };
    let a = at("2026-11-20T09:00:00.1234Z");
    assert_eq!(a, at("2026-11-20T09:00:00.1236Z"));
    assert_eq!(
        a.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        "2026-11-20T09:00:00.123000000Z",
        "truncated, not rounded"
    );
    assert_eq!(
        at("2026-11-20T09:00:00.9999Z"),
        at("2026-11-20T09:00:00.999Z")
    );
}

#[test]
fn created_times_are_truncated_to_milliseconds() {
    let e = parse(case_updated(serde_json::json!({
        "caseId": "c-1", "createdDateTime": "2026-11-20T09:00:00.1239Z"
    })))
    .unwrap();
    let Change::Case(c) = e.change else { panic!() };
    assert_eq!(c.created_at.unwrap().timestamp_subsec_nanos(), 123_000_000);
    let e = parse(event(serde_json::json!({
        "eventType": "RELATED_ITEM.CREATED",
        "approximateChangeTime": "2026-11-20T09:00:00.000Z",
        "relatedItem": {"relatedItemType": "Comment", "relatedItemId": "r-1", "caseId": "c-1",
            "createdDateTime": "2026-11-20T09:00:00.0019Z"},
    })))
    .unwrap();
    let Change::RelatedItem(r) = e.change else {
        panic!()
    };
    assert_eq!(
        r.item.created_at.unwrap().timestamp_subsec_nanos(),
        1_000_000
    );
}

#[test]
fn a_huge_case_id_is_a_permanent_error_that_does_not_echo_it() {
    let huge = "c".repeat(70_000);
    let err = parse(case_updated(serde_json::json!({"caseId": huge}))).unwrap_err();
    assert_eq!(
        err,
        ParseError::InvalidId {
            field: "detail.case.caseId",
            problem: IdProblem::TooLong,
            limit: CASE_ID,
        }
    );
    let text = err.to_string();
    assert!(!text.contains("ccccc"), "the id is not echoed");
    assert!(
        text.contains("detail.case.caseId") && text.contains("500"),
        "{text}"
    );
    // ParseError is always permanent: the handler never retries a malformed record.
    let record = crate::report::RecordError::Malformed(err);
    assert!(!record.is_retryable());
}

#[test]
fn id_limits_follow_the_service_model() {
    let ok = |id: &str| parse(case_updated(serde_json::json!({"caseId": id})));
    assert!(ok(&"c".repeat(500)).is_ok());
    assert!(ok(&"é".repeat(500)).is_ok(), "500 characters, 1000 bytes");
    assert!(matches!(
        ok(&"é".repeat(501)),
        Err(ParseError::InvalidId {
            problem: IdProblem::TooLong,
            ..
        })
    ));
    assert!(matches!(
        ok(""),
        Err(ParseError::InvalidId {
            field: "detail.case.caseId",
            problem: IdProblem::TooShort,
            ..
        })
    ));
    let mut v = case_updated(serde_json::json!({"caseId": "c", "templateId": "t".repeat(501)}));
    assert!(matches!(
        parse(v.clone()),
        Err(ParseError::InvalidId {
            field: "detail.case.templateId",
            ..
        })
    ));
    v["detail"]["case"]["templateId"] = "t".into();
    v["id"] = "e".repeat(257).into();
    assert!(matches!(
        parse(v.clone()),
        Err(ParseError::InvalidId {
            field: "id",
            limit: EVENT_ID,
            ..
        })
    ));
    v["id"] = "e".repeat(256).into();
    v["resources"] = serde_json::json!([format!(
        "arn:aws:cases:us-west-2:1:domain/{}",
        "d".repeat(501)
    )]);
    assert!(matches!(
        parse(v),
        Err(ParseError::InvalidId {
            limit: DOMAIN_ID,
            ..
        })
    ));

    let item = |item_id: String, linked: String| {
        parse(event(serde_json::json!({
            "eventType": "RELATED_ITEM.CREATED",
            "approximateChangeTime": "2026-11-20T09:00:00.000Z",
            "relatedItem": {"relatedItemType": "ConnectCase", "relatedItemId": item_id,
                "caseId": "c-1", "connectCase": {"caseId": linked}},
        })))
    };
    assert!(item("r".into(), "c-2".into()).is_ok());
    assert!(matches!(
        item("r".repeat(501), "c-2".into()),
        Err(ParseError::InvalidId {
            field: "detail.relatedItem.relatedItemId",
            limit: RELATED_ITEM_ID,
            ..
        })
    ));
    assert!(matches!(
        item("r".into(), "x".repeat(70_000)),
        Err(ParseError::InvalidId {
            field: "detail.relatedItem.connectCase.caseId",
            ..
        })
    ));
}

#[test]
fn unknown_event_types_need_no_case_id_but_reject_an_impossible_one() {
    let unknown = |detail: Value| {
        let mut d = serde_json::json!({
            "eventType": "HOLOGRAM.PROJECTED",
            "approximateChangeTime": "2026-11-20T09:00:00.000Z",
        });
        d.as_object_mut()
            .unwrap()
            .extend(detail.as_object().unwrap().clone());
        parse(event(d))
    };
    assert_eq!(unknown(serde_json::json!({})).unwrap().case_id, "");
    assert!(unknown(serde_json::json!({"case": {"caseId": "x".repeat(501)}})).is_err());
}

#[test]
fn a_wrong_typed_field_value_is_located_but_not_quoted() {
    let err = parse(case_updated(serde_json::json!({
        "caseId": "c-1",
        "fields": {"summary": {"value": {"doubleValue": SECRET}}},
    })))
    .unwrap_err();
    assert_secret_free(&err);
    assert_eq!(
        err.to_string(),
        "invalid Cases event: detail.case.fields.summary.value.doubleValue: invalid type, expected f64"
    );
}

#[test]
fn a_wrong_typed_comment_body_is_located_but_not_quoted() {
    let err = parse(event(serde_json::json!({
        "eventType": "RELATED_ITEM.CREATED",
        "approximateChangeTime": "2026-11-20T09:00:00.000Z",
        "relatedItem": {"relatedItemType": "Comment", "relatedItemId": "r-1", "caseId": "c-1",
            "comment": {"body": [SECRET], "contentType": SECRET}},
    })))
    .unwrap_err();
    assert_secret_free(&err);
    assert!(
        err.to_string()
            .contains("detail.relatedItem.comment.body: invalid type"),
        "{err}"
    );
}

#[test]
fn invalid_json_is_described_not_quoted() {
    let bytes = format!(r#"{{"id": "1", "source": "aws.cases", "detail": {SECRET} }}"#);
    let err = parse_event(bytes.as_bytes()).unwrap_err();
    assert!(matches!(err, ParseError::NotJson(_)), "{err}");
    assert_secret_free(&err);
    let bytes = format!(r#"{{"id": "1", "source": "{SECRET}"#);
    let err = parse_event(bytes.as_bytes()).unwrap_err();
    assert_secret_free(&err);
    assert!(err.to_string().contains("EOF"), "{err}");
}

#[test]
fn bad_values_anywhere_are_never_quoted() {
    let cases = [
        // A wrong-typed time, a wrong-typed id, an unparsable time.
        case_updated(serde_json::json!({"caseId": "c", "createdDateTime": [SECRET]})),
        case_updated(serde_json::json!({"caseId": {"x": SECRET}})),
        {
            let mut v = case_updated(serde_json::json!({"caseId": "c"}));
            v["detail"]["approximateChangeTime"] = SECRET.into();
            v
        },
        // Field ids are named only when they look like ids, not like text.
        case_updated(
            serde_json::json!({"caseId": "c", "fields": {(SECRET.to_owned() + "!"): {"value": {}}}}),
        ),
        case_updated(serde_json::json!({"caseId": "c", "fields": {"x".repeat(65): {"value": {}}}})),
        case_updated(
            serde_json::json!({"caseId": "c", "fields": {(SECRET.to_owned() + " x"): {"value": 1}}}),
        ),
        // Envelope values.
        {
            let mut v = case_updated(serde_json::json!({"caseId": "c"}));
            v["id"] = serde_json::json!({"secret": SECRET});
            v
        },
        {
            let mut v = case_updated(serde_json::json!({"caseId": "c"}));
            v["detail-type"] =
                (SECRET.to_owned() + " with more words that go on and on and on and on").into();
            v
        },
        {
            let mut v = case_updated(serde_json::json!({"caseId": "c"}));
            v["source"] = format!("{SECRET}\n").into();
            v
        },
        {
            let mut v = case_updated(serde_json::json!({"caseId": "c"}));
            v["resources"] = SECRET.into();
            v
        },
    ];
    for v in cases {
        let err = parse(v).unwrap_err();
        assert_secret_free(&err);
    }
}

#[test]
fn short_identifiers_are_still_named() {
    let mut v = case_updated(serde_json::json!({"caseId": "c"}));
    v["source"] = "aws.ec2".into();
    assert_eq!(
        parse(v).unwrap_err().to_string(),
        "not an Amazon Connect Cases event: source `aws.ec2`, detail-type `Amazon Connect Cases Change`"
    );
    let err = parse(case_updated(
        serde_json::json!({"caseId": "c", "fields": {"x": {"value": {}}}}),
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid Cases event: detail.case.fields: field `x`: field value has none of stringValue, doubleValue, booleanValue, emptyValue, userArnValue"
    );
    let mut v = case_updated(serde_json::json!({"caseId": "c"}));
    v["detail"]
        .as_object_mut()
        .unwrap()
        .remove("approximateChangeTime");
    assert_eq!(
        parse(v).unwrap_err().to_string(),
        "invalid Cases event: detail: missing field `approximateChangeTime`"
    );
}
