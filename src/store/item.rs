//! Read-model items ↔ [`CaseView`]. The attribute names here are the contract documented in
//! `docs/read-model.md`.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::enrichment::FieldInfo;
use crate::event::{FieldValue, RelatedItemType};
use crate::projection::{CaseView, RelatedItemView, Version, Versioned, trimmed_values};

pub type Item = HashMap<String, AttributeValue>;

pub const CASE_SK: &str = "CASE";
pub const RELATED_PREFIX: &str = "RELATED#";
/// Overflow items beside a case item: the full values of the fields the case item holds cut.
pub const OVERFLOW_PREFIX: &str = "FULL#";
pub const EVENT_SK: &str = "EVENT";

/// Field data an overflow item holds at most (DynamoDB's item limit is 400 KB).
const OVERFLOW_ITEM_BYTES: usize = 350 * 1024;

/// A number DynamoDB cannot store (its range is 1E-130 to 9.99…E+125 in magnitude) is kept as
/// text in a one-entry map under this key, so the write succeeds and readers can tell.
pub const OUT_OF_RANGE_NUMBER: &str = "outOfRangeNumber";

pub fn case_pk(case_id: &str) -> String {
    format!("CASE#{case_id}")
}

pub fn event_pk(event_id: &str) -> String {
    format!("EVENT#{event_id}")
}

/// `(pk, sk)` of a domain's counters for one UTC day.
pub fn stats_key(domain_id: &str, day: chrono::NaiveDate) -> (String, String) {
    (format!("STATS#{domain_id}"), format!("DAY#{day}"))
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn s(v: impl Into<String>) -> AttributeValue {
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

fn decode_version(raw: &str) -> Option<Version> {
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

fn attr_to_field(v: &AttributeValue) -> Option<FieldValue> {
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

fn field_map(fields: &BTreeMap<String, FieldValue>) -> AttributeValue {
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
            Item::from([
                ("pk".into(), s(case_pk(&view.case_id))),
                ("sk".into(), s(overflow_sk(i))),
                ("fields".into(), field_map(fields)),
            ])
        })
        .collect()
}

pub fn overflow_sk(index: usize) -> String {
    format!("{OVERFLOW_PREFIX}{index:03}")
}

fn estimated_value_bytes(v: &FieldValue) -> usize {
    match v {
        FieldValue::String(x) | FieldValue::UserArn(x) => x.len(),
        _ => 21,
    }
}

fn case_item_with(view: &CaseView, revision: u64, cut: &BTreeMap<String, String>) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(case_pk(&view.case_id)));
    item.insert("sk".into(), s(CASE_SK));
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
    // Index keys: only live cases appear in the dashboards' indexes.
    if !view.is_deleted() {
        if let (Some(status), Some(_)) = (view.status().filter(|s| !s.is_empty()), &view.version) {
            item.insert(
                "statusKey".into(),
                s(format!("{}#{status}", view.domain_id)),
            );
        }
        if let (Some(t), Some(_)) = (
            view.template_id.as_deref().filter(|t| !t.is_empty()),
            view.created_at,
        ) {
            item.insert("templateKey".into(), s(format!("{}#{t}", view.domain_id)));
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
    if let Some(at) = view.snapshot_taken_at() {
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
    let counts = view.related_item_counts();
    item.insert(
        "relatedItems".into(),
        AttributeValue::M(counts.into_iter().map(|(k, c)| (k, n(c))).collect()),
    );
    item
}

pub fn fields_pk(domain_id: &str) -> String {
    format!("FIELDS#{domain_id}")
}

pub const FIELD_PREFIX: &str = "FIELD#";

/// Field metadata: `pk = FIELDS#<domainId>`, `sk = FIELD#<fieldId>`.
pub fn field_metadata_item(domain_id: &str, f: &FieldInfo) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(fields_pk(domain_id)));
    item.insert("sk".into(), s(format!("{FIELD_PREFIX}{}", f.id)));
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

pub fn related_item(case_id: &str, r: &RelatedItemView) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(case_pk(case_id)));
    item.insert("sk".into(), s(format!("{RELATED_PREFIX}{}", r.id)));
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

    fn err(&self, reason: impl Into<String>) -> super::StoreError {
        super::StoreError::Corrupt {
            key: self.key.clone(),
            reason: reason.into(),
        }
    }

    fn opt_s(&self, name: &str) -> Result<Option<&'a String>, super::StoreError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_s()
                .map(Some)
                .map_err(|_| self.err(format!("`{name}` is not a string"))),
        }
    }

    fn req_s(&self, name: &str) -> Result<&'a String, super::StoreError> {
        self.opt_s(name)?
            .ok_or_else(|| self.err(format!("`{name}` is missing")))
    }

    fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, super::StoreError> {
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

    fn map(
        &self,
        name: &str,
    ) -> Result<Option<&'a HashMap<String, AttributeValue>>, super::StoreError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_m()
                .map(Some)
                .map_err(|_| self.err(format!("`{name}` is not a map"))),
        }
    }

    fn fields(
        &self,
        name: &str,
    ) -> Result<Option<BTreeMap<String, FieldValue>>, super::StoreError> {
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
pub fn view_from_items(
    case_id: &str,
    items: &[Item],
) -> Result<Option<super::StoredCase>, super::StoreError> {
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
        enrichment: r.opt_s("enrichment")?.cloned(),
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
        let Some(id) = sk.strip_prefix(RELATED_PREFIX) else {
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
    Ok(Some(super::StoredCase { view, revision }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_event;
    use crate::projection::{ProjectionOptions, fold};

    fn sample(name: &str) -> crate::event::CaseEvent {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        parse_event(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn a_case_round_trips_through_its_items() {
        let events: Vec<_> = [
            "01-case-created.json",
            "04-case-updated-empty-and-typed-values.json",
            "13-case-updated-closed.json",
            "15-case-updated-late-arrival.json",
            "05-related-item-comment-created.json",
            "08-related-item-sla-created.json",
            "10-related-item-custom-created.json",
        ]
        .iter()
        .map(|n| sample(n))
        .collect();
        let view = fold(
            &events,
            &ProjectionOptions {
                store_customer_content: true,
            },
        )
        .unwrap();
        let (case, overflow) = case_items(&view, 7);
        let mut items = vec![case];
        items.extend(overflow);
        items.extend(
            view.related_items
                .values()
                .map(|r| related_item(&view.case_id, r)),
        );
        let stored = view_from_items(&view.case_id, &items).unwrap().unwrap();
        assert_eq!(stored.revision, 7);
        assert_eq!(stored.view, view);
        assert!(
            items[0].contains_key("fieldVersions"),
            "the late event's field keeps its own version"
        );
    }

    #[test]
    fn deleted_cases_leave_the_dashboard_indexes() {
        let live = fold(
            &[sample("01-case-created.json")],
            &ProjectionOptions::default(),
        )
        .unwrap();
        let (item, _) = case_items(&live, 1);
        assert_eq!(
            item["statusKey"].as_s().unwrap(),
            "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d#open"
        );
        assert!(item.contains_key("templateKey"));
        let mut deleted = live.clone();
        deleted.deleted = deleted.version.clone();
        let (item, _) = case_items(&deleted, 2);
        assert!(!item.contains_key("statusKey") && !item.contains_key("templateKey"));
    }
}
