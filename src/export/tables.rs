//! The exported tables: their columns (the one definition `template.yaml`'s Glue tables are
//! checked against) and the conversion of report rows and case states into their rows. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::parquet::{Cell, Column, Kind};
use crate::analytics::model::{Grouping, Row};
use crate::event::{FieldValue, RelatedItemType};
use crate::projection::CaseView;

/// A table of the export: its name (the S3 folder and the Glue table), its columns, and its
/// Hive-style partition column if any (in the path, not in the files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub partition: Option<&'static str>,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

/// Related-item types with a column of their own in `case_metrics_daily`, in column order.
pub const RELATED_TYPE_COLUMNS: [(RelatedItemType, &str); 6] = [
    (RelatedItemType::Contact, "related_items_created_contact"),
    (RelatedItemType::Comment, "related_items_created_comment"),
    (RelatedItemType::File, "related_items_created_file"),
    (RelatedItemType::Sla, "related_items_created_sla"),
    (
        RelatedItemType::ConnectCase,
        "related_items_created_connect_case",
    ),
    (RelatedItemType::Custom, "related_items_created_custom"),
];

/// One row per UTC day and group, partitioned by `day`: every number of `casesctl report`.
pub const CASE_METRICS_DAILY: Table = Table {
    name: "case_metrics_daily",
    partition: Some("day"),
    columns: &[
        col("dimension", Kind::Text),
        col("dimension_name", Kind::Text),
        col("group_value", Kind::Text),
        col("group_label", Kind::Text),
        col("cases_created", Kind::Int),
        col("resolved_case_actions", Kind::Int),
        col("reopened_case_actions", Kind::Int),
        col("avg_case_resolution_time", Kind::Float),
        col("avg_case_related_contacts", Kind::Float),
        col("percent_cases_first_contact_resolved", Kind::Float),
        col("cases_deleted", Kind::Int),
        col("related_items_created", Kind::Int),
        col(RELATED_TYPE_COLUMNS[0].1, Kind::Int),
        col(RELATED_TYPE_COLUMNS[1].1, Kind::Int),
        col(RELATED_TYPE_COLUMNS[2].1, Kind::Int),
        col(RELATED_TYPE_COLUMNS[3].1, Kind::Int),
        col(RELATED_TYPE_COLUMNS[4].1, Kind::Int),
        col(RELATED_TYPE_COLUMNS[5].1, Kind::Int),
        col("resolution_seconds", Kind::Int),
        col("related_contacts", Kind::Int),
        col("first_contact_resolutions", Kind::Int),
    ],
};

/// The current state of every case of the domain (tombstones included).
pub const CASES: Table = Table {
    name: "cases",
    partition: None,
    columns: &[
        col("case_id", Kind::Text),
        col("template_id", Kind::Text),
        col("template_name", Kind::Text),
        col("status", Kind::Text),
        col("title", Kind::Text),
        col("reference_number", Kind::Text),
        col("created_at", Kind::Timestamp),
        col("updated_at", Kind::Timestamp),
        col("closed_at", Kind::Timestamp),
        col("deleted", Kind::Bool),
        col("deleted_at", Kind::Timestamp),
    ],
};

/// The stored field values of every case, one row per case and field, with the field's name
/// and, for a SingleSelect, the option's label.
pub const CASE_FIELDS: Table = Table {
    name: "case_fields",
    partition: None,
    columns: &[
        col("case_id", Kind::Text),
        col("field_id", Kind::Text),
        col("field_name", Kind::Text),
        col("value", Kind::Text),
        col("value_number", Kind::Float),
        col("value_boolean", Kind::Bool),
        col("value_label", Kind::Text),
    ],
};

/// Every related item of every case (tombstones included). `comment_body` and `custom_fields`
/// (JSON) hold customer content, only with `STORE_CUSTOMER_CONTENT=true`.
pub const RELATED_ITEMS: Table = Table {
    name: "related_items",
    partition: None,
    columns: &[
        col("case_id", Kind::Text),
        col("related_item_id", Kind::Text),
        col("related_item_type", Kind::Text),
        col("associated_at", Kind::Timestamp),
        col("deleted", Kind::Bool),
        col("contact_channel", Kind::Text),
        col("contact_arn", Kind::Text),
        col("comment_body", Kind::Text),
        col("custom_fields", Kind::Text),
    ],
};

/// Every table, the daily metrics first.
pub const TABLES: [Table; 4] = [CASE_METRICS_DAILY, CASES, CASE_FIELDS, RELATED_ITEMS];

/// The current-state tables, written as one snapshot per export.
pub const SNAPSHOT_TABLES: [Table; 3] = [CASES, CASE_FIELDS, RELATED_ITEMS];

/// Changes when what a day's file holds changes for the same numbers (columns, their meaning):
/// part of every day's fingerprint, so a new version rewrites every day once.
pub const FORMAT_VERSION: u32 = 1;

/// One row of `case_metrics_daily`: a report row of one day and group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyRow {
    pub dimension: Option<String>,
    pub dimension_name: Option<String>,
    pub group_value: Option<String>,
    pub group_label: Option<String>,
    pub cases_created: i64,
    pub resolved_case_actions: i64,
    pub reopened_case_actions: i64,
    pub avg_case_resolution_time: Option<f64>,
    pub avg_case_related_contacts: Option<f64>,
    pub percent_cases_first_contact_resolved: Option<f64>,
    pub cases_deleted: i64,
    pub related_items_created: i64,
    /// Per [`RELATED_TYPE_COLUMNS`], in order.
    pub related_items_created_by_type: [i64; 6],
    pub resolution_seconds: i64,
    pub related_contacts: i64,
    pub first_contact_resolutions: i64,
}

impl DailyRow {
    /// `row` of a report grouped by `by` (`None`: ungrouped).
    pub fn from_report(row: &Row, by: Option<&Grouping>) -> Self {
        let by_type = RELATED_TYPE_COLUMNS.map(|(t, _)| {
            *row.related_items_created_by_type
                .get(t.as_str())
                .unwrap_or(&0)
        });
        DailyRow {
            dimension: by.map(|b| b.id.clone()),
            dimension_name: by.map(|b| b.name.clone()),
            group_value: row.group.clone(),
            group_label: row.label.clone(),
            cases_created: row.cases_created,
            resolved_case_actions: row.resolved_case_actions,
            reopened_case_actions: row.reopened_case_actions,
            avg_case_resolution_time: row.avg_case_resolution_time,
            avg_case_related_contacts: row.avg_case_related_contacts,
            percent_cases_first_contact_resolved: row.percent_cases_first_contact_resolved,
            cases_deleted: row.cases_deleted,
            related_items_created: row.related_items_created,
            related_items_created_by_type: by_type,
            resolution_seconds: row.sums.resolution_seconds,
            related_contacts: row.sums.contacts,
            first_contact_resolutions: row.sums.first_contact_resolved,
        }
    }

    pub fn cells(&self) -> Vec<Cell> {
        let text = |v: &Option<String>| Cell::Text(v.clone());
        let int = |v: i64| Cell::Int(Some(v));
        let mut cells = vec![
            text(&self.dimension),
            text(&self.dimension_name),
            text(&self.group_value),
            text(&self.group_label),
            int(self.cases_created),
            int(self.resolved_case_actions),
            int(self.reopened_case_actions),
            Cell::Float(self.avg_case_resolution_time),
            Cell::Float(self.avg_case_related_contacts),
            Cell::Float(self.percent_cases_first_contact_resolved),
            int(self.cases_deleted),
            int(self.related_items_created),
        ];
        cells.extend(self.related_items_created_by_type.iter().map(|n| int(*n)));
        cells.extend([
            int(self.resolution_seconds),
            int(self.related_contacts),
            int(self.first_contact_resolutions),
        ]);
        cells
    }
}

/// A day's fingerprint: what its file would hold. Equal fingerprints, equal files.
pub fn fingerprint(day: NaiveDate, rows: &[DailyRow]) -> String {
    use sha2::{Digest, Sha256};
    let body = serde_json::to_vec(&(FORMAT_VERSION, day, rows)).expect("rows serialise");
    let digest = Sha256::digest(&body);
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

fn millis(t: DateTime<Utc>) -> Option<i64> {
    Some(t.timestamp_millis())
}

/// A field value as text (numbers as the report's groups show them), or `None` when emptied.
fn text_of(value: &FieldValue) -> Option<String> {
    match value {
        FieldValue::String(s) | FieldValue::UserArn(s) => Some(s.clone()),
        FieldValue::Double(d) => Some(d.to_string()),
        FieldValue::Boolean(b) => Some(b.to_string()),
        FieldValue::Empty => None,
    }
}

/// When the case last became `closed`, while it is closed.
fn closed_at(view: &CaseView) -> Option<DateTime<Utc>> {
    let closed = |s: &str| s.eq_ignore_ascii_case("closed");
    if !view.status().is_some_and(closed) {
        return None;
    }
    let mut before: Option<&str> = None;
    let mut at = None;
    for (version, status) in &view.status_history {
        if closed(status) && !before.is_some_and(closed) {
            at = Some(version.at);
        }
        before = Some(status);
    }
    at
}

/// Field id → name and option labels (value → label), as the read model describes them; under
/// `template` (the template grouping's id), template id → name.
pub type FieldNames = BTreeMap<String, (String, BTreeMap<String, String>)>;

/// A case's rows: one of `cases`, one per stored field of `case_fields`, one per related item of
/// `related_items` (customer content only when `include_content`).
pub fn case_rows(
    view: &CaseView,
    names: &FieldNames,
    include_content: bool,
) -> (Vec<Cell>, Vec<Vec<Cell>>, Vec<Vec<Cell>>) {
    let id = || Cell::Text(Some(view.case_id.clone()));
    let field_text = |f: &str| view.fields.get(f).and_then(|v| text_of(&v.value));
    let case = vec![
        id(),
        Cell::Text(view.template_id.clone()),
        Cell::Text(view.template_id.as_ref().and_then(|t| {
            names
                .get(crate::projection::contribution::TEMPLATE_GROUP)
                .and_then(|(_, templates)| templates.get(t))
                .cloned()
        })),
        Cell::Text(view.status().map(str::to_owned)),
        Cell::Text(view.title().map(str::to_owned)),
        Cell::Text(field_text("reference_number")),
        Cell::Timestamp(view.created_at.and_then(millis)),
        Cell::Timestamp(view.version.as_ref().and_then(|v| millis(v.at))),
        Cell::Timestamp(closed_at(view).and_then(millis)),
        Cell::Bool(Some(view.is_deleted())),
        Cell::Timestamp(view.deleted.as_ref().and_then(|v| millis(v.at))),
    ];
    let fields = view
        .fields
        .iter()
        .map(|(field_id, v)| {
            let described = names.get(field_id);
            let value = text_of(&v.value);
            let label = value
                .as_ref()
                .and_then(|t| described.and_then(|(_, labels)| labels.get(t)).cloned());
            vec![
                id(),
                Cell::Text(Some(field_id.clone())),
                Cell::Text(described.map(|(name, _)| name.clone())),
                Cell::Text(value),
                Cell::Float(match v.value {
                    FieldValue::Double(d) => Some(d),
                    _ => None,
                }),
                Cell::Bool(match v.value {
                    FieldValue::Boolean(b) => Some(b),
                    _ => None,
                }),
                Cell::Text(label),
            ]
        })
        .collect();
    let related = view
        .related_items
        .values()
        .map(|r| {
            let content = |k: &str| r.content.get(k).and_then(text_of);
            let custom = r
                .custom_fields
                .as_ref()
                .filter(|_| include_content)
                .map(|m| {
                    let m: BTreeMap<&String, Option<String>> =
                        m.iter().map(|(k, v)| (k, text_of(v))).collect();
                    serde_json::to_string(&m).expect("text serialises")
                });
            vec![
                id(),
                Cell::Text(Some(r.id.clone())),
                Cell::Text(Some(r.item_type.as_str().to_owned())),
                Cell::Timestamp(r.created_at.and_then(millis)),
                Cell::Bool(Some(r.deleted)),
                Cell::Text(content("channel")),
                Cell::Text(content("contactArn")),
                Cell::Text(content("commentBody").filter(|_| include_content)),
                Cell::Text(custom),
            ]
        })
        .collect();
    (case, fields, related)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::{RelatedItemView, Version, Versioned};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn version(s: &str) -> Version {
        Version {
            at: at(s),
            event_id: "e".into(),
        }
    }

    fn closed_case() -> CaseView {
        let field = |v: FieldValue| Versioned {
            value: v,
            version: version("2026-11-20T10:00:00Z"),
        };
        let comment = RelatedItemView {
            id: "r1".into(),
            item_type: RelatedItemType::Comment,
            created_at: Some(at("2026-11-20T09:30:00Z")),
            version: version("2026-11-20T09:30:00Z"),
            content_version: Some(version("2026-11-20T09:30:00Z")),
            deleted: false,
            content: BTreeMap::from([("commentBody".into(), FieldValue::String("hi".into()))]),
            custom_fields: None,
        };
        CaseView {
            case_id: "c1".into(),
            domain_id: "d".into(),
            template_id: Some("t1".into()),
            created_at: Some(at("2026-11-20T09:00:00Z")),
            version: Some(version("2026-11-22T10:00:00Z")),
            fields: BTreeMap::from([
                ("status".into(), field(FieldValue::String("closed".into()))),
                (
                    "case_reason".into(),
                    field(FieldValue::String("billing".into())),
                ),
                ("priority".into(), field(FieldValue::Double(2.0))),
                ("vip".into(), field(FieldValue::Empty)),
            ]),
            related_items: BTreeMap::from([("r1".into(), comment)]),
            status_history: BTreeMap::from([
                (version("2026-11-20T09:00:00Z"), "open".into()),
                (version("2026-11-21T09:00:00Z"), "closed".into()),
                (version("2026-11-21T10:00:00Z"), "open".into()),
                (version("2026-11-22T09:00:00Z"), "closed".into()),
                (version("2026-11-22T09:30:00Z"), "closed".into()),
            ]),
            ..CaseView::default()
        }
    }

    #[test]
    fn a_case_becomes_one_row_its_fields_and_related_items_one_each_content_only_when_kept() {
        let names = FieldNames::from([
            (
                "case_reason".into(),
                (
                    "Reason".into(),
                    BTreeMap::from([("billing".into(), "Billing".into())]),
                ),
            ),
            (
                "template".into(),
                (
                    "Template".into(),
                    BTreeMap::from([("t1".into(), "Billing dispute".into())]),
                ),
            ),
        ]);
        let view = closed_case();
        let (case, fields, related) = case_rows(&view, &names, false);
        assert_eq!(case.len(), CASES.columns.len());
        assert_eq!(case[2], Cell::Text(Some("Billing dispute".into())));
        // Closed since the last transition into `closed`, not the repeat after it.
        let closed = at("2026-11-22T09:00:00Z").timestamp_millis();
        assert_eq!(case[8], Cell::Timestamp(Some(closed)));
        assert_eq!(case[9], Cell::Bool(Some(false)));
        assert_eq!(fields.len(), 4);
        let reason = fields
            .iter()
            .find(|f| f[1] == Cell::Text(Some("case_reason".into())))
            .unwrap();
        assert_eq!(reason[2], Cell::Text(Some("Reason".into())));
        assert_eq!(reason[6], Cell::Text(Some("Billing".into())));
        let priority = fields
            .iter()
            .find(|f| f[1] == Cell::Text(Some("priority".into())))
            .unwrap();
        assert_eq!(priority[3], Cell::Text(Some("2".into())));
        assert_eq!(priority[4], Cell::Float(Some(2.0)));
        assert!(fields.iter().all(|f| f.len() == CASE_FIELDS.columns.len()));
        assert_eq!(related[0].len(), RELATED_ITEMS.columns.len());
        assert_eq!(related[0][7], Cell::Text(None), "no customer content");
        let (_, _, with_content) = case_rows(&view, &names, true);
        assert_eq!(with_content[0][7], Cell::Text(Some("hi".into())));

        let mut reopened = view.clone();
        reopened.fields.insert(
            "status".into(),
            Versioned {
                value: FieldValue::String("open".into()),
                version: version("2026-11-23T09:00:00Z"),
            },
        );
        assert_eq!(
            case_rows(&reopened, &names, false).0[8],
            Cell::Timestamp(None)
        );
    }

    #[test]
    fn a_daily_row_has_every_column_and_its_fingerprint_follows_its_numbers() {
        let row = Row {
            start: "2026-11-20".parse().unwrap(),
            group: Some("billing".into()),
            label: Some("Billing".into()),
            cases_created: 2,
            resolved_case_actions: 1,
            reopened_case_actions: 0,
            avg_case_resolution_time: Some(60.0),
            avg_case_related_contacts: Some(1.0),
            percent_cases_first_contact_resolved: Some(100.0),
            cases_deleted: 0,
            related_items_created: 3,
            related_items_created_by_type: BTreeMap::from([
                ("Contact".into(), 2),
                ("Comment".into(), 1),
            ]),
            sums: Default::default(),
        };
        let by = Grouping {
            id: "case_reason".into(),
            name: "Reason".into(),
        };
        let daily = DailyRow::from_report(&row, Some(&by));
        assert_eq!(daily.cells().len(), CASE_METRICS_DAILY.columns.len());
        assert_eq!(daily.related_items_created_by_type, [2, 1, 0, 0, 0, 0]);
        let day = row.start;
        let same = fingerprint(day, std::slice::from_ref(&daily));
        assert_eq!(same, fingerprint(day, std::slice::from_ref(&daily)));
        let mut changed = daily.clone();
        changed.cases_created = 3;
        assert_ne!(same, fingerprint(day, &[changed]));
    }
}
