//! What one Lambda invocation hands us, detected from its shape.

use serde_json::Value;

use super::{CaseEvent, ParseError, parse_event, parse_event_value};

/// One invocation's payload.
#[derive(Debug)]
pub enum Invocation {
    /// A rule targets the function directly: the payload is one EventBridge event.
    EventBridge(Box<Record>),
    /// Rule → SQS → Lambda: every record body is one EventBridge event.
    Sqs(Vec<Record>),
    /// A JSON array of EventBridge events (local replay files).
    Events(Vec<Record>),
    /// Nothing we recognise; the whole payload is one malformed record.
    Unrecognised(ParseError),
}

/// One record of an invocation, parsed or not.
#[derive(Debug)]
pub struct Record {
    /// The SQS message id, which `batchItemFailures` must name; `None` outside SQS.
    pub message_id: Option<String>,
    pub event: Result<CaseEvent, ParseError>,
}

impl Invocation {
    pub fn records(&self) -> &[Record] {
        match self {
            Invocation::EventBridge(r) => std::slice::from_ref(&**r),
            Invocation::Sqs(r) | Invocation::Events(r) => r,
            Invocation::Unrecognised(_) => &[],
        }
    }

    pub fn into_records(self) -> Vec<Record> {
        match self {
            Invocation::EventBridge(r) => vec![*r],
            Invocation::Sqs(r) | Invocation::Events(r) => r,
            Invocation::Unrecognised(_) => Vec::new(),
        }
    }
}

/// Decides the payload's shape from unambiguous markers (`Records` for SQS, `detail-type` or
/// `source` for EventBridge) and never from a record's content: a malformed record inside a
/// recognised shape is reported as that record's error, not reinterpreted.
pub fn parse_invocation(payload: Value) -> Invocation {
    match payload {
        Value::Object(mut map) if map.contains_key("Records") => {
            let Some(Value::Array(records)) = map.remove("Records") else {
                return Invocation::Unrecognised(ParseError::NotEventBridge(
                    "`Records` is not an array".into(),
                ));
            };
            Invocation::Sqs(records.into_iter().map(sqs_record).collect())
        }
        obj @ Value::Object(_) => {
            let looks_like_event = obj.get("detail-type").is_some() || obj.get("source").is_some();
            if looks_like_event {
                Invocation::EventBridge(Box::new(Record {
                    message_id: None,
                    event: parse_event_value(obj),
                }))
            } else {
                Invocation::Unrecognised(ParseError::NotEventBridge(
                    "payload has neither `Records` (SQS) nor `source`/`detail-type` (EventBridge)"
                        .into(),
                ))
            }
        }
        Value::Array(events) => Invocation::Events(
            events
                .into_iter()
                .map(|e| Record {
                    message_id: None,
                    event: parse_event_value(e),
                })
                .collect(),
        ),
        other => Invocation::Unrecognised(ParseError::NotEventBridge(format!(
            "payload is a JSON {}",
            json_kind(&other)
        ))),
    }
}

fn sqs_record(record: Value) -> Record {
    let message_id = record
        .get("messageId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let event = match record.get("body") {
        Some(Value::String(body)) => parse_event(body.as_bytes()),
        Some(other) => Err(ParseError::NotJson(format!(
            "SQS record body is a JSON {}, expected a string",
            json_kind(other)
        ))),
        None => Err(ParseError::NotJson("SQS record has no body".into())),
    };
    Record { message_id, event }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
