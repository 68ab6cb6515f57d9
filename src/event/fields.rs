//! `FieldValueUnion` on the wire and its conversion into [`FieldValue`], shared by case fields
//! and custom related-item content.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::FieldValue;
use super::error::{ParseError, printable};

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
pub(super) enum WireFields {
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
pub(super) struct WireFieldEntry {
    value: WireFieldValue,
}

#[derive(Deserialize)]
pub(super) struct WireFieldListEntry {
    id: String,
    value: WireFieldValue,
}

/// `at` is the JSON path of `fields`, for error messages.
pub(super) fn convert_fields(
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
