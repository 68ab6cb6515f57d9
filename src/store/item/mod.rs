//! Read-model items ↔ [`CaseView`]. The attribute names here are the contract documented in
//! `docs/read-model.md`.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};

use super::keys;
use crate::event::FieldValue;
use crate::model::{FieldInfo, TemplateInfo};
use crate::projection::{CaseView, RelatedItemView, Version, trimmed_values};

pub type Item = HashMap<String, AttributeValue>;

/// Field data an overflow item holds at most (DynamoDB's item limit is 400 KB).
const OVERFLOW_ITEM_BYTES: usize = 350 * 1024;

/// A number DynamoDB cannot store (its range is 1E-130 to 9.99…E+125 in magnitude) is kept as
/// text in a one-entry map under this key, so the write succeeds and readers can tell.
pub const OUT_OF_RANGE_NUMBER: &str = "outOfRangeNumber";

pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// `<ISO time>#<event id>`; the id is empty for a GetCase snapshot. Times are fixed-width with
/// milliseconds, so comparing encodings as strings orders them like [`Version`]s.
pub fn encode_version(v: &Version) -> String {
    format!("{}#{}", iso(v.at), v.event_id)
}

pub(super) fn decode_version(raw: &str) -> Option<Version> {
    let (at, event_id) = raw.split_once('#')?;
    Some(Version {
        at: at.parse().ok()?,
        event_id: event_id.to_owned(),
    })
}

/// Whether DynamoDB can store `d` as a number.
pub fn number_in_range(d: f64) -> bool {
    d == 0.0 || (1e-130..1e126).contains(&d.abs())
}

pub fn field_to_attr(v: &FieldValue) -> AttributeValue {
    match v {
        FieldValue::String(x) | FieldValue::UserArn(x) => s(x.clone()),
        FieldValue::Double(d) if number_in_range(*d) => n(d),
        FieldValue::Double(d) => AttributeValue::M(HashMap::from([(
            OUT_OF_RANGE_NUMBER.to_owned(),
            s(format!("{d:e}")),
        )])),
        FieldValue::Boolean(b) => AttributeValue::Bool(*b),
        FieldValue::Empty => AttributeValue::Null(true),
    }
}

pub(super) fn attr_to_field(v: &AttributeValue) -> Option<FieldValue> {
    Some(match v {
        // A user ARN is stored as a string; the union tag is not kept.
        AttributeValue::S(x) if x.starts_with("arn:aws:connect:") && x.contains("/agent/") => {
            FieldValue::UserArn(x.clone())
        }
        AttributeValue::S(x) => FieldValue::String(x.clone()),
        AttributeValue::N(x) => FieldValue::Double(x.parse().ok()?),
        AttributeValue::Bool(b) => FieldValue::Boolean(*b),
        AttributeValue::Null(_) => FieldValue::Empty,
        AttributeValue::M(m) if m.len() == 1 => {
            FieldValue::Double(m.get(OUT_OF_RANGE_NUMBER)?.as_s().ok()?.parse().ok()?)
        }
        _ => return None,
    })
}

pub(super) fn field_map(fields: &BTreeMap<String, FieldValue>) -> AttributeValue {
    AttributeValue::M(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), field_to_attr(v)))
            .collect(),
    )
}

/// The case item and its overflow items. Field versions equal to the case's own version are left
/// out (they are the common case, and the item stays small); a missing entry reads back as the
/// case version. Fields too long for the item are held cut (listed in `trimmedFields`) and whole
/// in the overflow items, which a load puts back: the state never loses what was cut.
pub fn case_items(view: &CaseView, revision: u64) -> (Item, Vec<Item>) {
    let cut = trimmed_values(view, super::FIELD_BUDGET_BYTES);
    let mut item = case_item_with(view, revision, &cut);
    if !cut.is_empty() {
        item.insert(
            "trimmedFields".into(),
            AttributeValue::Ss(cut.keys().cloned().collect()),
        );
    }
    (item, overflow_items(view, &cut))
}

/// How many overflow items `view` is stored with.
pub fn overflow_item_count(view: &CaseView) -> usize {
    overflow_items(view, &trimmed_values(view, super::FIELD_BUDGET_BYTES)).len()
}

fn overflow_items(view: &CaseView, cut: &BTreeMap<String, String>) -> Vec<Item> {
    let mut chunks: Vec<BTreeMap<String, FieldValue>> = Vec::new();
    let mut bytes = OVERFLOW_ITEM_BYTES;
    for id in cut.keys() {
        let value = &view.fields[id].value;
        let size = id.len() + estimated_value_bytes(value);
        if bytes + size > OVERFLOW_ITEM_BYTES {
            chunks.push(BTreeMap::new());
            bytes = 0;
        }
        bytes += size;
        chunks.last_mut().unwrap().insert(id.clone(), value.clone());
    }
    chunks
        .iter()
        .enumerate()
        .map(|(i, fields)| {
            let (pk, sk) = keys::overflow_key(&view.case_id, i);
            Item::from([
                ("pk".into(), s(pk)),
                ("sk".into(), s(sk)),
                ("fields".into(), field_map(fields)),
            ])
        })
        .collect()
}

fn estimated_value_bytes(v: &FieldValue) -> usize {
    match v {
        FieldValue::String(x) | FieldValue::UserArn(x) => x.len(),
        _ => 21,
    }
}

fn case_item_with(view: &CaseView, revision: u64, cut: &BTreeMap<String, String>) -> Item {
    let mut item = Item::new();
    let (pk, sk) = keys::case_key(&view.case_id);
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("caseId".into(), s(&view.case_id));
    item.insert("domainId".into(), s(&view.domain_id));
    item.insert("rev".into(), n(revision));
    item.insert("deleted".into(), AttributeValue::Bool(view.is_deleted()));
    if let Some(t) = &view.template_id {
        item.insert("templateId".into(), s(t));
    }
    if let Some(c) = view.created_at {
        item.insert("createdAt".into(), s(iso(c)));
    }
    if let Some(v) = &view.version {
        item.insert("updatedAt".into(), s(iso(v.at)));
        item.insert("lastEventId".into(), s(&v.event_id));
    }
    if let Some(status) = view.status() {
        item.insert("status".into(), s(status));
    }
    if let Some(title) = view.title() {
        item.insert("title".into(), s(title));
    }
    // Index keys: only live cases appear in the dashboards' indexes, and only with a key DynamoDB
    // accepts (a status value is free text: one too long for a key would fail every write of the
    // case, forever).
    if !view.is_deleted() {
        if let (Some(status), Some(_)) = (view.status().filter(|s| !s.is_empty()), &view.version) {
            let key = format!("{}#{status}", view.domain_id);
            if index_key_fits(&key) {
                item.insert("statusKey".into(), s(key));
            }
        }
        if let (Some(t), Some(_)) = (
            view.template_id.as_deref().filter(|t| !t.is_empty()),
            view.created_at,
        ) {
            let key = format!("{}#{t}", view.domain_id);
            if index_key_fits(&key) {
                item.insert("templateKey".into(), s(key));
            }
        }
    }
    let values: BTreeMap<String, FieldValue> = view
        .fields
        .iter()
        .map(|(k, f)| match cut.get(k) {
            Some(cut) => (k.clone(), FieldValue::String(cut.clone())),
            None => (k.clone(), f.value.clone()),
        })
        .collect();
    item.insert("fields".into(), field_map(&values));
    let versions: HashMap<String, AttributeValue> = view
        .fields
        .iter()
        .filter(|(_, f)| Some(&f.version) != view.version.as_ref())
        .map(|(k, f)| (k.clone(), s(encode_version(&f.version))))
        .collect();
    if !versions.is_empty() {
        item.insert("fieldVersions".into(), AttributeValue::M(versions));
    }
    if let Some(at) = view.snapshot_at() {
        item.insert("snapshotAt".into(), s(iso(at)));
        let mut from_snapshot: Vec<String> = view
            .fields
            .iter()
            .filter(|(_, f)| f.version.is_snapshot())
            .map(|(k, _)| k.clone())
            .collect();
        from_snapshot.sort();
        item.insert("snapshotFields".into(), AttributeValue::Ss(from_snapshot));
    }
    if let Some(e) = &view.enrichment {
        item.insert("enrichment".into(), s(e));
    }
    if !view.status_history.is_empty() {
        item.insert(
            "statusHistory".into(),
            AttributeValue::M(
                view.status_history
                    .iter()
                    .map(|(v, status)| (encode_version(v), s(status)))
                    .collect(),
            ),
        );
    }
    if view.is_deleted() {
        let by = if view.deleted_by_reconcile() {
            "reconcile"
        } else {
            "event"
        };
        item.insert("deletedBy".into(), s(by));
    }
    // The sparse `byDeferred` index: only live cases still waiting for GetCase.
    if let Some(d) = view.deferred.as_ref().filter(|_| !view.is_deleted()) {
        item.insert("deferredKey".into(), s(&view.domain_id));
        item.insert("deferredSince".into(), s(iso(d.since)));
        if !d.fields.is_empty() {
            item.insert(
                "deferredFields".into(),
                AttributeValue::Ss(d.fields.iter().cloned().collect()),
            );
        }
    }
    if let Some(dimensions) = &view.grouped_by {
        item.insert(
            "groupedBy".into(),
            AttributeValue::L(dimensions.iter().map(s).collect()),
        );
    }
    let counts = view.related_item_counts();
    item.insert(
        "relatedItems".into(),
        AttributeValue::M(counts.into_iter().map(|(k, c)| (k, n(c))).collect()),
    );
    item
}

/// Field metadata: `pk = FIELDS#<domainId>`, `sk = FIELD#<fieldId>`.
pub fn field_metadata_item(domain_id: &str, f: &FieldInfo) -> Item {
    let mut item = Item::new();
    let (pk, sk) = keys::field_key(domain_id, &f.id);
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("fieldId".into(), s(&f.id));
    item.insert("name".into(), s(&f.name));
    item.insert("fieldType".into(), s(&f.field_type));
    item.insert("namespace".into(), s(&f.namespace));
    if !f.options.is_empty() {
        item.insert(
            "options".into(),
            AttributeValue::M(
                f.options
                    .iter()
                    .map(|(v, label)| (v.clone(), s(label)))
                    .collect(),
            ),
        );
    }
    item
}

/// A template's name beside the field metadata (`FIELDS#<domain>`, `TEMPLATE#<id>`).
pub fn template_name_item(domain_id: &str, t: &TemplateInfo) -> Item {
    let mut item = Item::new();
    let (pk, sk) = keys::template_key(domain_id, &t.id);
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("templateId".into(), s(&t.id));
    item.insert("name".into(), s(&t.name));
    item
}

/// The template of a [`template_name_item`]; `None` for any other item.
pub fn template_of(item: &Item) -> Option<TemplateInfo> {
    let id = keys::template_id_of(item.get("sk")?.as_s().ok()?)?;
    let name = item.get("name")?.as_s().ok()?;
    Some(TemplateInfo {
        id: id.to_owned(),
        name: name.clone(),
    })
}

/// The attributes that are partition keys of the table's indexes (`byStatus`, `byTemplate`).
pub const INDEX_KEYS: [&str; 2] = ["statusKey", "templateKey"];

/// Whether `key` can be an index partition key (DynamoDB: at most 2,048 bytes).
pub fn index_key_fits(key: &str) -> bool {
    key.len() < 2048
}

pub fn related_item(case_id: &str, r: &RelatedItemView) -> Item {
    let mut item = Item::new();
    let (pk, sk) = keys::related_key(case_id, &r.id);
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("caseId".into(), s(case_id));
    item.insert("relatedItemId".into(), s(&r.id));
    item.insert("relatedItemType".into(), s(r.item_type.as_str()));
    item.insert("deleted".into(), AttributeValue::Bool(r.deleted));
    item.insert("version".into(), s(encode_version(&r.version)));
    if let Some(v) = &r.content_version {
        item.insert("contentVersion".into(), s(encode_version(v)));
    }
    if let Some(c) = r.created_at {
        item.insert("createdAt".into(), s(iso(c)));
    }
    for (k, v) in &r.content {
        item.insert(k.clone(), field_to_attr(v));
    }
    if let Some(custom) = &r.custom_fields {
        item.insert("customFields".into(), field_map(custom));
    }
    item
}

/// Attributes of a related item that are not content.
pub const RELATED_META: [&str; 10] = [
    "pk",
    "sk",
    "caseId",
    "relatedItemId",
    "relatedItemType",
    "deleted",
    "version",
    "contentVersion",
    "createdAt",
    "customFields",
];

mod read;

pub use read::view_from_items;

#[cfg(test)]
mod tests;
