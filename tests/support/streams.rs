//! Cases events as JSON, as EventBridge delivers them: builders for given/when/then tests and a
//! proptest generator of whole streams (creates, updates, related items of every type, deletes,
//! trimming-sized values, sub-millisecond times, content switched on and off).

use proptest::prelude::*;
use serde_json::{Value, json};

pub const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";

fn envelope(id: &str, case_id: &str, detail: Value) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": "Amazon Connect Cases Change",
        "source": "aws.cases",
        "account": "123456789012",
        "time": "2026-11-20T09:00:00Z",
        "region": "us-west-2",
        "resources": [
            format!("arn:aws:cases:us-west-2:123456789012:domain/{DOMAIN}"),
            format!("arn:aws:cases:us-west-2:123456789012:domain/{DOMAIN}/case/{case_id}"),
        ],
        "detail": detail,
    })
}

/// A `CASE.<op>` event. `fields` is a JSON object of field id → `{"value": {...}}`; every
/// field it holds is listed as changed.
pub fn case_event(id: &str, at: &str, op: &str, case_id: &str, fields: Value) -> Value {
    let changed: Vec<String> = fields
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut case = json!({
        "caseId": case_id,
        "templateId": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
        "createdDateTime": "2026-11-20T09:00:00.125Z",
    });
    if op != "DELETED" {
        case["fields"] = fields;
    }
    envelope(
        id,
        case_id,
        json!({
            "version": "0",
            "eventType": format!("CASE.{op}"),
            "approximateChangeTime": at,
            "changedFieldIds": if op == "DELETED" { vec![] } else { changed },
            "case": case,
        }),
    )
}

/// A `RELATED_ITEM.<op>` event; `content` is the type's content object (e.g. `{"contact": ..}`)
/// or `None` when the domain does not include content.
pub fn related_event(
    id: &str,
    at: &str,
    op: &str,
    case_id: &str,
    item_id: &str,
    item_type: &str,
    content: Option<Value>,
) -> Value {
    let mut item = json!({
        "relatedItemType": item_type,
        "relatedItemId": item_id,
        "caseId": case_id,
        "createdDateTime": "2026-11-20T09:09:00.000Z",
    });
    if let Some(Value::Object(content)) = content {
        for (k, v) in content {
            item[k] = v;
        }
    }
    envelope(
        id,
        case_id,
        json!({
            "version": "0",
            "eventType": format!("RELATED_ITEM.{op}"),
            "approximateChangeTime": at,
            "relatedItem": item,
        }),
    )
}

pub fn text(s: &str) -> Value {
    json!({"value": {"stringValue": s}})
}

pub fn number(d: f64) -> Value {
    json!({"value": {"doubleValue": d}})
}

pub fn empty() -> Value {
    json!({"value": {"emptyValue": {}}})
}

/// Content for an item of `item_type` (index into [`ITEM_TYPES`]), distinguished by `tag`.
pub fn content_of(item_type: &str, tag: &str) -> Value {
    match item_type {
        "Contact" => {
            let channel = ["VOICE", "CHAT", "EMAIL"][tag.len() % 3];
            json!({"contact": {
                "contactArn": format!("arn:aws:connect:us-west-2:123456789012:instance/i/contact/{tag}"),
                "channel": channel,
            }})
        }
        "Comment" => {
            json!({"comment": {"body": format!("body {tag}"), "contentType": "Text/Plain"}})
        }
        "File" => {
            json!({"file": {"fileArn": format!("arn:aws:connect:us-west-2:123456789012:instance/i/file/{tag}")}})
        }
        "Sla" => json!({"sla": {"slaConfiguration": {
            "name": format!("sla {tag}"), "type": "CaseField", "status": "Active",
            "targetTime": "2026-11-21T09:10:30.000Z"}}}),
        "ConnectCase" => json!({"connectCase": {"caseId": format!("linked-{tag}")}}),
        _ => json!({"custom": {"fields": [{"id": "note", "value": {"stringValue": tag}}]}}),
    }
}

pub const ITEM_TYPES: [&str; 6] = ["Contact", "Comment", "File", "Sla", "ConnectCase", "Custom"];
const FIELD_IDS: [&str; 5] = ["status", "title", "priority", "vip", "notes"];
pub const CASES: [&str; 2] = [
    "4f1d2c3b-5a6e-4b5c-8d9e-0f1a2b3c4d5e",
    "9c2e7f10-3b4a-4c5d-9e8f-1a2b3c4d5e6f",
];

fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => "[a-z]{0,6}".prop_map(|s| text(&s)),
        1 => (-1000i32..1000).prop_map(|n| number(f64::from(n) / 4.0)),
        1 => any::<bool>().prop_map(|b| json!({"value": {"booleanValue": b}})),
        1 => Just(empty()),
        1 => prop::sample::select(vec![1e130, -1e300, 1e-131, 5e-324]).prop_map(number),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Case(&'static str, Vec<(String, Value)>),
    /// Sets `count` long text fields `big_<group>_<n>`: together they outgrow the item budget.
    Big {
        group: u8,
        count: usize,
        emptied: bool,
    },
    Related {
        op: &'static str,
        item: usize,
        with_content: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let fields = || {
        prop::collection::vec(
            (
                prop::sample::select(FIELD_IDS.to_vec()).prop_map(str::to_owned),
                field_value(),
            ),
            0..4,
        )
    };
    prop_oneof![
        1 => fields().prop_map(|f| Step::Case("CREATED", f)),
        6 => fields().prop_map(|f| Step::Case("UPDATED", f)),
        1 => Just(Step::Case("DELETED", vec![])),
        1 => (0u8..3, 20usize..45, any::<bool>())
            .prop_map(|(group, count, emptied)| Step::Big { group, count, emptied }),
        5 => (
            prop::sample::select(vec!["CREATED", "UPDATED", "DELETED"]),
            0usize..8,
            any::<bool>(),
        )
            .prop_map(|(op, item, with_content)| Step::Related { op, item, with_content }),
    ]
}

/// One generated event: its JSON and its `(time, id)` order key.
#[derive(Debug, Clone)]
pub struct Generated {
    pub json: Value,
    pub order: (String, String),
}

/// Streams over two cases, times within a few seconds (with sub-millisecond digits, so ties in
/// the same millisecond happen), unique event ids.
pub fn stream(max_len: usize) -> impl Strategy<Value = Vec<Generated>> {
    prop::collection::vec(
        (step(), 0u32..8, 0u32..10_000, 0usize..2, any::<u16>()),
        1..max_len,
    )
    .prop_map(|steps| {
        steps
            .into_iter()
            .enumerate()
            .map(|(n, (step, second, sub_ms, case, salt))| {
                // Four decimal digits past the second: 0.1234 s and 0.1236 s share a
                // millisecond.
                let at = format!("2026-11-20T10:00:0{second}.{sub_ms:04}Z");
                let id = format!("{salt:04x}-{n:03}");
                let case_id = CASES[case];
                let json = generated_event(&id, &at, case_id, step);
                let ms = format!("2026-11-20T10:00:0{second}.{:03}", sub_ms / 10);
                Generated {
                    json,
                    order: (ms, id),
                }
            })
            .collect()
    })
}

fn generated_event(id: &str, at: &str, case_id: &str, step: Step) -> Value {
    match step {
        Step::Case(op, fields) => {
            let fields: serde_json::Map<String, Value> = fields.into_iter().collect();
            case_event(id, at, op, case_id, Value::Object(fields))
        }
        Step::Big {
            group,
            count,
            emptied,
        } => {
            let fields: serde_json::Map<String, Value> = (0..count)
                .map(|n| {
                    let value = if emptied {
                        empty()
                    } else {
                        text(&format!("{group}{n}").repeat(4000 / 3))
                    };
                    (format!("big_{group}_{n:02}"), value)
                })
                .collect();
            case_event(id, at, "UPDATED", case_id, Value::Object(fields))
        }
        Step::Related {
            op,
            item,
            with_content,
        } => {
            let item_type = ITEM_TYPES[item % ITEM_TYPES.len()];
            let content = with_content.then(|| content_of(item_type, id));
            related_event(
                id,
                at,
                op,
                case_id,
                &format!("ri-{item}"),
                item_type,
                content,
            )
        }
    }
}
