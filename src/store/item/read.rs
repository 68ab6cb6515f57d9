//! Items → [`CaseView`]: the inverse of the mapping in the parent module.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{Item, RELATED_META, attr_to_field, decode_version};
use crate::event::{FieldValue, RelatedItemType};
use crate::projection::{CaseView, Deferred, RelatedItemView, Version, Versioned};
use crate::store::keys::{CASE_SK, OVERFLOW_PREFIX, related_item_id_of};
use crate::store::{StoreError, StoredCase};

struct Reader<'a> {
    item: &'a Item,
    key: String,
}

impl<'a> Reader<'a> {
    fn new(item: &'a Item) -> Self {
        let part = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        Reader {
            item,
            key: format!("{}/{}", part("pk"), part("sk")),
        }
    }

    fn err(&self, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            key: self.key.clone(),
            reason: reason.into(),
        }
    }

    fn opt_s(&self, name: &str) -> Result<Option<&'a String>, StoreError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_s()
                .map(Some)
                .map_err(|_| self.err(format!("`{name}` is not a string"))),
        }
    }

    fn req_s(&self, name: &str) -> Result<&'a String, StoreError> {
        self.opt_s(name)?
            .ok_or_else(|| self.err(format!("`{name}` is missing")))
    }

    fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_s(name)?
            .map(|t| {
                t.parse()
                    .map_err(|_| self.err(format!("`{name}` is not a timestamp")))
            })
            .transpose()
    }

    fn bool(&self, name: &str) -> bool {
        matches!(self.item.get(name), Some(AttributeValue::Bool(true)))
    }

    fn map(&self, name: &str) -> Result<Option<&'a HashMap<String, AttributeValue>>, StoreError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_m()
                .map(Some)
                .map_err(|_| self.err(format!("`{name}` is not a map"))),
        }
    }

    fn fields(&self, name: &str) -> Result<Option<BTreeMap<String, FieldValue>>, StoreError> {
        let Some(m) = self.map(name)? else {
            return Ok(None);
        };
        m.iter()
            .map(|(k, v)| {
                attr_to_field(v)
                    .map(|f| (k.clone(), f))
                    .ok_or_else(|| self.err(format!("`{name}.{k}` has an unsupported type")))
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

/// Rebuilds a case's state from the items under its partition key.
pub fn view_from_items(case_id: &str, items: &[Item]) -> Result<Option<StoredCase>, StoreError> {
    let Some(case) = items
        .iter()
        .find(|i| matches!(i.get("sk"), Some(AttributeValue::S(sk)) if sk == CASE_SK))
    else {
        return Ok(None);
    };
    let r = Reader::new(case);
    let revision: u64 = match case.get("rev") {
        Some(AttributeValue::N(x)) => x.parse().map_err(|_| r.err("`rev` is not a number"))?,
        _ => return Err(r.err("`rev` is missing")),
    };
    let version = match (r.opt_time("updatedAt")?, r.opt_s("lastEventId")?) {
        (Some(at), Some(id)) => Some(Version {
            at,
            event_id: id.clone(),
        }),
        _ => None,
    };
    let versions = r.map("fieldVersions")?;
    let mut fields = BTreeMap::new();
    for (id, value) in r.fields("fields")?.unwrap_or_default() {
        let field_version = match versions.and_then(|m| m.get(&id)) {
            Some(AttributeValue::S(raw)) => decode_version(raw),
            _ => version.clone(),
        }
        .ok_or_else(|| r.err(format!("field `{id}` has no version")))?;
        fields.insert(
            id,
            Versioned {
                value,
                version: field_version,
            },
        );
    }
    let mut view = CaseView {
        case_id: case_id.to_owned(),
        domain_id: r.req_s("domainId")?.clone(),
        template_id: r.opt_s("templateId")?.cloned(),
        created_at: r.opt_time("createdAt")?,
        deleted: r.bool("deleted").then(|| version.clone()).flatten(),
        version,
        fields,
        related_items: BTreeMap::new(),
        status_history: match r.map("statusHistory")? {
            None => BTreeMap::new(),
            Some(m) => m
                .iter()
                .map(|(v, status)| {
                    let version = decode_version(v)
                        .ok_or_else(|| r.err("`statusHistory` has a malformed version"))?;
                    let status = status
                        .as_s()
                        .map_err(|_| r.err("`statusHistory` holds a non-string"))?;
                    Ok((version, status.clone()))
                })
                .collect::<Result<_, StoreError>>()?,
        },
        enrichment: r.opt_s("enrichment")?.cloned(),
        deferred: r.opt_time("deferredSince")?.map(|since| Deferred {
            since,
            fields: match case.get("deferredFields") {
                Some(AttributeValue::Ss(ids)) => ids.iter().cloned().collect(),
                _ => Default::default(),
            },
        }),
        grouped_by: match case.get("groupedBy") {
            Some(AttributeValue::L(list)) => Some(
                list.iter()
                    .map(|v| {
                        v.as_s()
                            .cloned()
                            .map_err(|_| r.err("`groupedBy` holds a non-string"))
                    })
                    .collect::<Result<_, StoreError>>()?,
            ),
            Some(_) => return Err(r.err("`groupedBy` is not a list")),
            None => None,
        },
    };
    for item in items {
        let r = Reader::new(item);
        let sk = r.req_s("sk")?;
        if sk.starts_with(OVERFLOW_PREFIX) {
            for (id, full) in r.fields("fields")?.unwrap_or_default() {
                if let Some(field) = view.fields.get_mut(&id) {
                    field.value = full;
                }
            }
            continue;
        }
        let Some(id) = related_item_id_of(sk) else {
            continue;
        };
        let version =
            decode_version(r.req_s("version")?).ok_or_else(|| r.err("`version` is malformed"))?;
        let content: BTreeMap<String, FieldValue> = item
            .iter()
            .filter(|(k, _)| !RELATED_META.contains(&k.as_str()))
            .filter_map(|(k, v)| attr_to_field(v).map(|f| (k.clone(), f)))
            .collect();
        let custom_fields = r.fields("customFields")?;
        let content_version = match r.opt_s("contentVersion")? {
            Some(raw) => {
                Some(decode_version(raw).ok_or_else(|| r.err("`contentVersion` is malformed"))?)
            }
            // Written before content had its own version: the item's version set it.
            None if !content.is_empty() || custom_fields.is_some() => Some(version.clone()),
            None => None,
        };
        view.related_items.insert(
            id.to_owned(),
            RelatedItemView {
                id: id.to_owned(),
                item_type: RelatedItemType::parse(r.req_s("relatedItemType")?),
                created_at: r.opt_time("createdAt")?,
                version,
                content_version,
                deleted: r.bool("deleted"),
                content,
                custom_fields,
            },
        );
    }
    Ok(Some(StoredCase { view, revision }))
}
