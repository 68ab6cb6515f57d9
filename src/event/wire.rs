//! The JSON shapes on the wire and their conversion into [`CaseEvent`].

use std::collections::BTreeMap;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, SubsecRound, Utc};
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
///
/// Messages name where the record is wrong and what was expected, never a value from the
/// payload: records carry customer content, and error messages end up in logs and reports.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not an EventBridge event: {0}")]
    NotEventBridge(String),
    /// `source` and `detail-type` are echoed only when they are short identifiers
    /// (ASCII, at most 64 bytes); anything else shows as `(unexpected value)`.
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
    /// An id outside the limits the Cases service model (or, for the event id, the read model's
    /// keys) allows. The id itself is never part of the message.
    #[error("invalid `{field}`: {problem} ({limit})")]
    InvalidId {
        field: &'static str,
        problem: IdProblem,
        limit: IdLimit,
    },
}

impl ParseError {
    /// `NotJson` for bytes that do not parse as JSON, described without quoting them.
    pub fn not_json(e: &serde_json::Error) -> Self {
        ParseError::NotJson(describe(e))
    }
}

/// What is wrong with an id's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdProblem {
    TooShort,
    TooLong,
}

impl std::fmt::Display for IdProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdProblem::TooShort => "too short",
            IdProblem::TooLong => "too long",
        })
    }
}

/// The length limits of one kind of id, and where they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdLimit {
    /// The shape name, e.g. `CaseId`.
    pub shape: &'static str,
    pub min: usize,
    pub max: usize,
    /// Characters (Unicode scalar values, as Smithy `@length` counts them) or UTF-8 bytes.
    pub in_bytes: bool,
    pub source: &'static str,
}

impl std::fmt::Display for IdLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = if self.in_bytes { "bytes" } else { "characters" };
        write!(
            f,
            "{}: {} to {} {unit}, {}",
            self.shape, self.min, self.max, self.source
        )
    }
}

const SERVICE_MODEL: &str = "per the Connect Cases service model";

/// `CaseId` in the Cases service model (`connectcases-service-2.json`): length 1..=500, no
/// pattern. Also the shape of a `ConnectCase` related item's `caseId`.
pub const CASE_ID: IdLimit = IdLimit {
    shape: "CaseId",
    min: 1,
    max: 500,
    in_bytes: false,
    source: SERVICE_MODEL,
};
/// `RelatedItemId`: length 1..=500, no pattern.
pub const RELATED_ITEM_ID: IdLimit = IdLimit {
    shape: "RelatedItemId",
    ..CASE_ID
};
/// `DomainId`: length 1..=500, no pattern.
pub const DOMAIN_ID: IdLimit = IdLimit {
    shape: "DomainId",
    ..CASE_ID
};
/// `TemplateId`: length 1..=500, no pattern.
pub const TEMPLATE_ID: IdLimit = IdLimit {
    shape: "TemplateId",
    ..CASE_ID
};
/// The EventBridge event id. EventBridge sends a UUID (36 bytes) and documents no limit; the id
/// becomes the DynamoDB partition key `EVENT#<id>`, which must stay under 2048 bytes. 256 bytes
/// leaves ample room for any id scheme (replayed or hand-made events included) while keeping
/// the key, and every log line and report that names the event, small.
pub const EVENT_ID: IdLimit = IdLimit {
    shape: "event id",
    min: 1,
    max: 256,
    in_bytes: true,
    source: "so that EVENT#<id> stays a small DynamoDB key",
};

/// Checks `id` against `limit` without reading more of it than the limit needs.
fn check_id(field: &'static str, id: &str, limit: IdLimit) -> Result<(), ParseError> {
    let too_long = if limit.in_bytes {
        id.len() > limit.max
    } else {
        // At most 4 bytes a character: short byte strings need no counting.
        id.len() > limit.max && id.chars().nth(limit.max).is_some()
    };
    let too_short = if limit.in_bytes {
        id.len() < limit.min
    } else {
        id.chars().take(limit.min).count() < limit.min
    };
    let problem = match (too_short, too_long) {
        (true, _) => IdProblem::TooShort,
        (_, true) => IdProblem::TooLong,
        _ => return Ok(()),
    };
    Err(ParseError::InvalidId {
        field,
        problem,
        limit,
    })
}

/// `s` if it is a short identifier-like string (ASCII letters, digits, spaces and `-_.:/#@`,
/// at most 64 bytes), else `(unexpected value)`: for echoing payload values that are names
/// (a `source`, a `detail-type`, a field id) without echoing content or a huge string.
fn printable(s: &str) -> &str {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" -_.:/#@".contains(&b));
    if ok { s } else { "(unexpected value)" }
}

/// A JSON path as `serde_path_to_error` records it, with map keys (which come from the
/// payload) shown only when [`printable`] allows.
fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                let key = printable(key);
                out.push_str(if key.contains(' ') {
                    "(unexpected key)"
                } else {
                    key
                });
            }
            Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(printable(variant));
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// What went wrong in a `serde_json` error, without any payload value.
///
/// Syntax and end-of-input errors carry serde_json's fixed descriptions ("EOF while parsing a
/// string", "expected `,` or `}`", ...) and a position, never input text, so they are kept.
/// Data errors are built by `Deserialize` impls and quote the offending value (`invalid type:
/// string "...", expected f64`); only their kind, the field names serde puts in (missing or
/// duplicate field) and the `expected ...` part (which comes from code) are kept.
fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => e.to_string(),
        Category::Io => "could not be read".into(),
        Category::Data => {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = if e.line() > 0 {
                full.strip_suffix(&suffix).unwrap_or(&full)
            } else {
                &full
            };
            value_free(message)
        }
    }
}

fn value_free(message: &str) -> String {
    for kind in [
        "invalid type",
        "invalid value",
        "invalid length",
        "unknown variant",
        "unknown field",
    ] {
        if message.starts_with(kind) {
            // The value sits before the last `, expected `; what follows it comes from code.
            return match message.rsplit_once(", expected ") {
                Some((_, expected)) if expected.len() <= 120 && !expected.contains('"') => {
                    format!("{kind}, expected {expected}")
                }
                _ => kind.to_owned(),
            };
        }
    }
    for kind in ["missing field", "duplicate field"] {
        if let Some(name) = message.strip_prefix(kind) {
            let name = name.trim().trim_matches('`');
            return format!("{kind} `{}`", printable(name));
        }
    }
    // Fixed texts: serde's untagged enums, chrono's timestamp parser.
    const KNOWN: [&str; 8] = [
        "data did not match any variant of untagged enum",
        "input is out of range",
        "no possible date and time matching input",
        "input is not enough for unique date and time",
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "bad or unsupported format string",
    ];
    if KNOWN.iter().any(|k| message.starts_with(k)) && message.len() <= 120 {
        return message.to_owned();
    }
    "invalid value".into()
}

/// `prefix.path: what` for a `serde_path_to_error` failure.
fn located(prefix: &str, e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = render_path(e.path());
    let what = describe(e.inner());
    match (prefix.is_empty(), path.is_empty() || path == ".") {
        (true, true) => what,
        (true, false) => format!("{path}: {what}"),
        (false, true) => format!("{prefix}: {what}"),
        (false, false) => format!("{prefix}.{path}: {what}"),
    }
}

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
///
/// Chosen by the JSON kind rather than `#[serde(untagged)]`, so an error inside a value keeps
/// its path (`...fields.summary.value.doubleValue`) instead of "matched no variant".
enum WireFields {
    Map(BTreeMap<String, WireFieldEntry>),
    List(Vec<WireFieldListEntry>),
}

impl<'de> Deserialize<'de> for WireFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = WireFields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of field id to {value} or a list of {id, value}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<WireFields, A::Error> {
                Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(WireFields::Map)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<WireFields, A::Error> {
                Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(WireFields::List)
            }
        }
        d.deserialize_any(Fields)
    }
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

/// `at` is the JSON path of `fields`, for error messages.
fn convert_fields(
    fields: WireFields,
    at: &str,
) -> Result<BTreeMap<String, FieldValue>, ParseError> {
    let pairs: Vec<(String, WireFieldValue)> = match fields {
        WireFields::Map(m) => m.into_iter().map(|(id, e)| (id, e.value)).collect(),
        WireFields::List(l) => l.into_iter().map(|e| (e.id, e.value)).collect(),
    };
    pairs
        .into_iter()
        .map(|(id, v)| match FieldValue::try_from(v) {
            Ok(value) => Ok((id, value)),
            Err(e) => Err(ParseError::InvalidDetail(format!(
                "{at}: field `{}`: {e}",
                printable(&id)
            ))),
        })
        .collect()
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
) -> Result<Option<RelatedItemContent>, ParseError> {
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
    let at = format!("detail.relatedItem.{key}");
    fn read<T: serde::de::DeserializeOwned>(raw: Value, at: &str) -> Result<T, ParseError> {
        serde_path_to_error::deserialize(raw)
            .map_err(|e| ParseError::InvalidDetail(located(at, &e)))
    }
    let content = match item_type {
        RelatedItemType::Contact => {
            let c: WireContact = read(raw, &at)?;
            RelatedItemContent::Contact {
                contact_arn: c.contact_arn,
                channel: c.channel,
            }
        }
        RelatedItemType::Comment => {
            let c: WireComment = read(raw, &at)?;
            RelatedItemContent::Comment {
                body: c.body,
                content_type: c.content_type,
            }
        }
        RelatedItemType::File => {
            let f: WireFile = read(raw, &at)?;
            RelatedItemContent::File {
                file_arn: f.file_arn,
            }
        }
        RelatedItemType::Sla => {
            // API shape: `{ "slaConfiguration": {...} }`; event shape: the configuration itself.
            let s: WireSla = match raw {
                Value::Object(mut m) if m.contains_key("slaConfiguration") => read(
                    m.remove("slaConfiguration").unwrap_or_default(),
                    &format!("{at}.slaConfiguration"),
                )?,
                flat => read(flat, &at)?,
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
            let c: WireConnectCase = read(raw, &at)?;
            check_id("detail.relatedItem.connectCase.caseId", &c.case_id, CASE_ID)?;
            RelatedItemContent::ConnectCase { case_id: c.case_id }
        }
        RelatedItemType::Custom => {
            let c: WireCustom = read(raw, &at)?;
            RelatedItemContent::Custom {
                fields: convert_fields(c.fields, &format!("{at}.fields"))?,
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
        let record = crate::handler::RecordError::Malformed(err);
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
            case_updated(
                serde_json::json!({"caseId": "c", "fields": {"x".repeat(65): {"value": {}}}}),
            ),
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
}
