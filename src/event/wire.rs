//! The JSON shapes of the EventBridge envelope and the event `detail`, and their conversion
//! into [`CaseEvent`].

use std::collections::BTreeMap;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::content::related_item_content;
use super::error::{ParseError, describe, located, printable};
use super::fields::{WireFields, convert_fields};
use super::ids::{
    CASE_ID, DOMAIN_ID, EVENT_ID, RELATED_ITEM_ID, RELATED_ITEM_KEY, TEMPLATE_ID, check_id,
};
use super::{
    CaseChange, CaseEvent, Change, Operation, PerformedBy, RelatedItem, RelatedItemChange,
    RelatedItemType,
};

const SOURCE: &str = "aws.cases";
/// The current spelling and the one an older documentation revision used.
const DETAIL_TYPES: [&str; 2] = ["Amazon Connect Cases Change", "Amazon Connect Cases Event"];

/// A time truncated (not rounded) to the millisecond: the read model stores milliseconds, so
/// ordering on finer digits would flip a winner once the stored value is reloaded.
fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

fn time_ms<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    DateTime::<Utc>::deserialize(d).map(to_millis)
}

fn optional_time_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(Option::<DateTime<Utc>>::deserialize(d)?.map(to_millis))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_type: String,
    #[serde(deserialize_with = "time_ms")]
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
    #[serde(default, deserialize_with = "optional_time_ms")]
    created_date_time: Option<DateTime<Utc>>,
    /// Converted once the record is known to be well-formed, so errors name their path.
    #[serde(default)]
    fields: Option<WireFields>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRelatedItem {
    related_item_type: String,
    related_item_id: String,
    case_id: String,
    #[serde(default, deserialize_with = "optional_time_ms")]
    created_date_time: Option<DateTime<Utc>>,
    /// The content sits under a key named after the type; read it once the type is known.
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

/// Parses one EventBridge event (as bytes).
pub fn parse_event(bytes: &[u8]) -> Result<CaseEvent, ParseError> {
    // One pass over the envelope; `detail` is kept as raw text and parsed once, into its type.
    let envelope: EventBridgeEvent<Box<RawValue>> =
        serde_json::from_slice(bytes).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => envelope_error(bytes),
            _ => ParseError::not_json(&e),
        })?;
    let (id, domain_id) = check_envelope(&envelope)?;
    let mut de = serde_json::Deserializer::from_str(envelope.detail.get());
    let detail: Detail = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ParseError::InvalidDetail(located("detail", &e)))?;
    into_case_event(id, domain_id, detail)
}

/// The envelope did not fit its type: parse again, on this error path only, to learn where.
fn envelope_error(bytes: &[u8]) -> ParseError {
    let located = serde_json::from_slice::<Value>(bytes)
        .map_err(|e| describe(&e))
        .and_then(|v| {
            serde_path_to_error::deserialize::<_, EventBridgeEvent<Value>>(v)
                .map(|_| "unexpected shape".to_owned())
                .map_err(|e| located("", &e))
        });
    ParseError::NotEventBridge(located.unwrap_or_else(|e| e))
}

/// Parses one EventBridge event already read as JSON.
pub fn parse_event_value(value: Value) -> Result<CaseEvent, ParseError> {
    let envelope: EventBridgeEvent<Value> = serde_path_to_error::deserialize(value)
        .map_err(|e| ParseError::NotEventBridge(located("", &e)))?;
    let (id, domain_id) = check_envelope(&envelope)?;
    let detail: Detail = serde_path_to_error::deserialize(envelope.detail)
        .map_err(|e| ParseError::InvalidDetail(located("detail", &e)))?;
    into_case_event(id, domain_id, detail)
}

/// The source and detail-type say it is a Cases event; returns its id and domain id.
fn check_envelope<T: Serialize + serde::de::DeserializeOwned>(
    envelope: &EventBridgeEvent<T>,
) -> Result<(String, String), ParseError> {
    if envelope.source != SOURCE || !DETAIL_TYPES.contains(&envelope.detail_type.as_str()) {
        return Err(ParseError::WrongSource {
            event_source: printable(&envelope.source).to_owned(),
            detail_type: printable(&envelope.detail_type).to_owned(),
        });
    }
    let id = envelope
        .id
        .clone()
        .ok_or(ParseError::MissingEnvelopeField("id"))?;
    check_id("id", &id, EVENT_ID)?;
    let domain_id = envelope
        .resources
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find_map(|arn| domain_id_from_arn(arn))
        .ok_or(ParseError::NoDomainArn)?;
    check_id("resources (domain id)", &domain_id, DOMAIN_ID)?;
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
            check_id("detail.case.caseId", &case.case_id, CASE_ID)?;
            if let Some(template_id) = &case.template_id {
                check_id("detail.case.templateId", template_id, TEMPLATE_ID)?;
            }
            let fields = case
                .fields
                .map(|f| convert_fields(f, "detail.case.fields"))
                .transpose()?;
            let change = Change::Case(CaseChange {
                operation,
                template_id: case.template_id,
                created_at: case.created_date_time,
                changed_field_ids: d.changed_field_ids,
                fields,
            });
            (case.case_id, change)
        }
        ("RELATED_ITEM", Some(operation)) => {
            let item = d
                .related_item
                .ok_or(ParseError::MissingDetailField("relatedItem"))?;
            check_id("detail.relatedItem.caseId", &item.case_id, CASE_ID)?;
            check_id(
                "detail.relatedItem.relatedItemId",
                &item.related_item_id,
                RELATED_ITEM_ID,
            )?;
            check_id(
                "detail.relatedItem.relatedItemId",
                &item.related_item_id,
                RELATED_ITEM_KEY,
            )?;
            let item_type = RelatedItemType::parse(&item.related_item_type);
            let content = related_item_content(&item_type, item.rest)?;
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
            // Unknown types still need a case id so the record is routed and reported; none is
            // allowed, but one that is there must be a possible case id.
            let case_id = d
                .case
                .map(|c| c.case_id)
                .or(d.related_item.map(|r| r.case_id))
                .unwrap_or_default();
            if !case_id.is_empty() {
                check_id("detail.case.caseId", &case_id, CASE_ID)?;
            }
            let change = Change::Unknown {
                event_type: d.event_type,
            };
            (case_id, change)
        }
    };
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
pub(super) fn domain_id_from_arn(arn: &str) -> Option<String> {
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
