//! The JSON shapes on the wire and their conversion into [`CaseEvent`].

use std::collections::BTreeMap;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::{
    CaseChange, CaseEvent, Change, FieldValue, Operation, PerformedBy, RelatedItem,
    RelatedItemChange, RelatedItemContent, RelatedItemType,
};

pub const SOURCE: &str = "aws.cases";
/// The current spelling and the one an older documentation revision used.
pub const DETAIL_TYPES: [&str; 2] = ["Amazon Connect Cases Change", "Amazon Connect Cases Event"];

/// Why one record could not be turned into a [`CaseEvent`]. Never retryable: the same bytes
/// would fail the same way forever.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not an EventBridge event: {0}")]
    NotEventBridge(String),
    #[error(
        "not an Amazon Connect Cases event: source `{event_source}`, detail-type `{detail_type}`"
    )]
    WrongSource {
        event_source: String,
        detail_type: String,
    },
    #[error("invalid Cases event: {0}")]
    InvalidDetail(String),
    #[error("missing envelope field `{0}`")]
    MissingEnvelopeField(&'static str),
    #[error(
        "no domain ARN in `resources` (expected arn:aws:cases:REGION:ACCOUNT:domain/DOMAIN_ID)"
    )]
    NoDomainArn,
    #[error("missing `detail.{0}`")]
    MissingDetailField(&'static str),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_type: String,
    approximate_change_time: DateTime<Utc>,
    #[serde(default)]
    performed_by: Option<WirePerformedBy>,
    #[serde(default)]
    changed_field_ids: Vec<String>,
    #[serde(default)]
    changed_attributes: Vec<String>,
    #[serde(default)]
    case: Option<WireCase>,
    #[serde(default)]
    related_item: Option<WireRelatedItem>,
}

// EventBridgeEvent<T> needs `T: Serialize`; we only ever read, so serialising is a stub.
impl Serialize for Detail {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("Detail is read-only"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePerformedBy {
    #[serde(default)]
    user: Option<WireUser>,
    #[serde(default)]
    iam_principal_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireUser {
    #[serde(default)]
    user_arn: Option<String>,
    #[serde(default)]
    custom_entity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCase {
    case_id: String,
    #[serde(default)]
    template_id: Option<String>,
    #[serde(default)]
    created_date_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "field_map")]
    fields: Option<BTreeMap<String, FieldValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRelatedItem {
    related_item_type: String,
    related_item_id: String,
    case_id: String,
    #[serde(default)]
    created_date_time: Option<DateTime<Utc>>,
    /// The content sits under a key named after the type; read it once the type is known.
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

/// `FieldValueUnion`: exactly one member is set.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFieldValue {
    #[serde(default)]
    string_value: Option<String>,
    #[serde(default)]
    double_value: Option<f64>,
    #[serde(default)]
    boolean_value: Option<bool>,
    #[serde(default)]
    empty_value: Option<Value>,
    #[serde(default)]
    user_arn_value: Option<String>,
}

impl TryFrom<WireFieldValue> for FieldValue {
    type Error = String;

    fn try_from(v: WireFieldValue) -> Result<Self, String> {
        Ok(match v {
            WireFieldValue { string_value: Some(s), .. } => FieldValue::String(s),
            WireFieldValue { double_value: Some(d), .. } => FieldValue::Double(d),
            WireFieldValue { boolean_value: Some(b), .. } => FieldValue::Boolean(b),
            WireFieldValue { user_arn_value: Some(u), .. } => FieldValue::UserArn(u),
            WireFieldValue { empty_value: Some(_), .. } => FieldValue::Empty,
            _ => return Err("field value has none of stringValue, doubleValue, booleanValue, emptyValue, userArnValue".into()),
        })
    }
}

/// `{ "id": { "value": {...} } }` (events) or `[ { "id", "value" } ]` (API shape, custom content).
#[derive(Deserialize)]
#[serde(untagged)]
enum WireFields {
    Map(BTreeMap<String, WireFieldEntry>),
    List(Vec<WireFieldListEntry>),
}

#[derive(Deserialize)]
struct WireFieldEntry {
    value: WireFieldValue,
}

#[derive(Deserialize)]
struct WireFieldListEntry {
    id: String,
    value: WireFieldValue,
}

fn convert_fields(fields: WireFields) -> Result<BTreeMap<String, FieldValue>, String> {
    let pairs: Vec<(String, WireFieldValue)> = match fields {
        WireFields::Map(m) => m.into_iter().map(|(id, e)| (id, e.value)).collect(),
        WireFields::List(l) => l.into_iter().map(|e| (e.id, e.value)).collect(),
    };
    pairs
        .into_iter()
        .map(|(id, v)| {
            let value = FieldValue::try_from(v).map_err(|e| format!("field `{id}`: {e}"))?;
            Ok((id, value))
        })
        .collect()
}

fn field_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, FieldValue>>, D::Error> {
    match Option::<WireFields>::deserialize(d)? {
        None => Ok(None),
        Some(f) => convert_fields(f)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// Parses one EventBridge event (as bytes).
pub fn parse_event(bytes: &[u8]) -> Result<CaseEvent, ParseError> {
    // One pass over the envelope; `detail` is kept as raw text and parsed once, into its type.
    let envelope: EventBridgeEvent<Box<RawValue>> = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ParseError::NotJson(e.to_string())
        } else {
            ParseError::NotEventBridge(e.to_string())
        }
    })?;
    let (id, domain_id) = check_envelope(&envelope)?;
    let mut de = serde_json::Deserializer::from_str(envelope.detail.get());
    let detail: Detail = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ParseError::InvalidDetail(format!("detail.{e}")))?;
    into_case_event(id, domain_id, detail)
}

/// Parses one EventBridge event already read as JSON.
pub fn parse_event_value(value: Value) -> Result<CaseEvent, ParseError> {
    let envelope: EventBridgeEvent<Value> =
        serde_json::from_value(value).map_err(|e| ParseError::NotEventBridge(e.to_string()))?;
    let (id, domain_id) = check_envelope(&envelope)?;
    let detail: Detail = serde_path_to_error::deserialize(envelope.detail)
        .map_err(|e| ParseError::InvalidDetail(format!("detail.{e}")))?;
    into_case_event(id, domain_id, detail)
}

/// The source and detail-type say it is a Cases event; returns its id and domain id.
fn check_envelope<T: Serialize + serde::de::DeserializeOwned>(
    envelope: &EventBridgeEvent<T>,
) -> Result<(String, String), ParseError> {
    if envelope.source != SOURCE || !DETAIL_TYPES.contains(&envelope.detail_type.as_str()) {
        return Err(ParseError::WrongSource {
            event_source: envelope.source.clone(),
            detail_type: envelope.detail_type.clone(),
        });
    }
    let id = envelope
        .id
        .clone()
        .ok_or(ParseError::MissingEnvelopeField("id"))?;
    let domain_id = envelope
        .resources
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find_map(|arn| domain_id_from_arn(arn))
        .ok_or(ParseError::NoDomainArn)?;
    Ok((id, domain_id))
}

fn into_case_event(id: String, domain_id: String, d: Detail) -> Result<CaseEvent, ParseError> {
    let performed_by = d.performed_by.and_then(performed_by);
    let (kind, op) = d.event_type.split_once('.').unwrap_or((&d.event_type, ""));
    let operation = match op {
        "CREATED" => Some(Operation::Created),
        "UPDATED" => Some(Operation::Updated),
        "DELETED" => Some(Operation::Deleted),
        _ => None,
    };
    let (case_id, change) = match (kind, operation) {
        ("CASE", Some(operation)) => {
            let case = d.case.ok_or(ParseError::MissingDetailField("case"))?;
            let change = Change::Case(CaseChange {
                operation,
                template_id: case.template_id,
                created_at: case.created_date_time,
                changed_field_ids: d.changed_field_ids,
                fields: case.fields,
            });
            (case.case_id, change)
        }
        ("RELATED_ITEM", Some(operation)) => {
            let item = d
                .related_item
                .ok_or(ParseError::MissingDetailField("relatedItem"))?;
            let item_type = RelatedItemType::parse(&item.related_item_type);
            let content = related_item_content(&item_type, item.rest)
                .map_err(|e| ParseError::InvalidDetail(format!("detail.relatedItem: {e}")))?;
            let change = Change::RelatedItem(RelatedItemChange {
                operation,
                changed_attributes: d.changed_attributes,
                item: RelatedItem {
                    id: item.related_item_id,
                    item_type,
                    created_at: item.created_date_time,
                    content,
                },
            });
            (item.case_id, change)
        }
        _ => {
            // Unknown types still need a case id so the record is routed and reported.
            let case_id = d
                .case
                .map(|c| c.case_id)
                .or(d.related_item.map(|r| r.case_id))
                .unwrap_or_default();
            let change = Change::Unknown {
                event_type: d.event_type,
            };
            (case_id, change)
        }
    };
    if case_id.is_empty() && !matches!(change, Change::Unknown { .. }) {
        return Err(ParseError::MissingDetailField("case.caseId"));
    }
    Ok(CaseEvent {
        id,
        domain_id,
        case_id,
        changed_at: d.approximate_change_time,
        performed_by,
        change,
    })
}

fn performed_by(p: WirePerformedBy) -> Option<PerformedBy> {
    let iam_principal_arn = p.iam_principal_arn;
    match p.user {
        Some(WireUser {
            user_arn: Some(user_arn),
            ..
        }) => Some(PerformedBy::User {
            user_arn,
            iam_principal_arn,
        }),
        Some(WireUser {
            custom_entity: Some(custom_entity),
            ..
        }) => Some(PerformedBy::CustomEntity {
            custom_entity,
            iam_principal_arn,
        }),
        _ => iam_principal_arn
            .map(|iam_principal_arn| PerformedBy::IamPrincipal { iam_principal_arn }),
    }
}

/// `arn:aws:cases:REGION:ACCOUNT:domain/DOMAIN_ID[/case/...]` → `DOMAIN_ID`.
pub fn domain_id_from_arn(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let (
        Some("arn"),
        Some(_partition),
        Some("cases"),
        Some(_region),
        Some(_account),
        Some(resource),
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return None;
    };
    let id = resource.strip_prefix("domain/")?.split('/').next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireContact {
    contact_arn: String,
    #[serde(default)]
    channel: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireComment {
    body: String,
    #[serde(default)]
    content_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFile {
    file_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSla {
    name: String,
    #[serde(default, rename = "type")]
    sla_type: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "time_as_string")]
    target_time: Option<String>,
    #[serde(default, deserialize_with = "time_as_string")]
    completion_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireSlaContent {
    /// API shape: `{ "slaConfiguration": {...} }`.
    Wrapped {
        #[serde(rename = "slaConfiguration")]
        sla_configuration: WireSla,
    },
    Flat(WireSla),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireConnectCase {
    case_id: String,
}

#[derive(Deserialize)]
struct WireCustom {
    fields: WireFields,
}

/// Timestamps arrive as ISO strings or epoch numbers depending on the source; keep them as text.
fn time_as_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn related_item_content(
    item_type: &RelatedItemType,
    mut rest: BTreeMap<String, Value>,
) -> Result<Option<RelatedItemContent>, String> {
    let Some(key) = item_type.content_key() else {
        return Ok(None);
    };
    // Content keys are camelCase, but tolerate the type's own spelling as well.
    let raw = rest
        .remove(key)
        .or_else(|| {
            let found = rest.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned();
            found.and_then(|k| rest.remove(&k))
        })
        .or_else(|| {
            rest.remove("content").and_then(|c| match c {
                Value::Object(mut m) => m.remove(key),
                _ => None,
            })
        });
    let Some(raw) = raw.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let err = |e: serde_json::Error| format!("{key}: {e}");
    let content = match item_type {
        RelatedItemType::Contact => {
            let c: WireContact = serde_json::from_value(raw).map_err(err)?;
            RelatedItemContent::Contact {
                contact_arn: c.contact_arn,
                channel: c.channel,
            }
        }
        RelatedItemType::Comment => {
            let c: WireComment = serde_json::from_value(raw).map_err(err)?;
            RelatedItemContent::Comment {
                body: c.body,
                content_type: c.content_type,
            }
        }
        RelatedItemType::File => {
            let f: WireFile = serde_json::from_value(raw).map_err(err)?;
            RelatedItemContent::File {
                file_arn: f.file_arn,
            }
        }
        RelatedItemType::Sla => {
            let s = match serde_json::from_value(raw).map_err(err)? {
                WireSlaContent::Wrapped { sla_configuration } => sla_configuration,
                WireSlaContent::Flat(s) => s,
            };
            RelatedItemContent::Sla {
                name: s.name,
                sla_type: s.sla_type,
                status: s.status,
                target_time: s.target_time,
                completion_time: s.completion_time,
            }
        }
        RelatedItemType::ConnectCase => {
            let c: WireConnectCase = serde_json::from_value(raw).map_err(err)?;
            RelatedItemContent::ConnectCase { case_id: c.case_id }
        }
        RelatedItemType::Custom => {
            let c: WireCustom = serde_json::from_value(raw).map_err(err)?;
            RelatedItemContent::Custom {
                fields: convert_fields(c.fields).map_err(|e| format!("{key}: {e}"))?,
            }
        }
        RelatedItemType::Unknown(_) => return Ok(None),
    };
    Ok(Some(content))
}

#[cfg(test)]
mod tests {
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
}
