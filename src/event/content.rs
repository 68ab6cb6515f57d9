//! The wire shapes of related-item content, and reading the content that matches an item's type.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::error::{ParseError, located};
use super::fields::{WireFields, convert_fields};
use super::ids::{CASE_ID, check_id};
use super::{RelatedItemContent, RelatedItemType};

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

pub(super) fn related_item_content(
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
