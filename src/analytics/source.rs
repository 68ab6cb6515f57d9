//! One read of what a dashboard's reports are built from: the day aggregates of a range, the
//! current-cases aggregate and the codes (one Query each), with the names people read (the
//! grouping fields' names and option labels, the templates' names). Every report of a dashboard
//! is then built from these same items by [`super::report::build`]: whatever the number of panels,
//! the table is read once, and nothing is counted a second way.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{Grouping, Interval, Report};
use super::read;
use super::report::{Aggregate, ReportRequest, build};
use crate::projection::contribution::{STATUS_GROUP, TEMPLATE_GROUP};
use crate::store::{PlanExecutor, StoreError};

/// Something a reader of the numbers should know about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// No aggregate of the domain at all: a wrong domain id, or nothing projected yet.
    NoCases { domain_id: String },
    /// The domain has numbers, none in the range.
    NoDataInRange { from: NaiveDate, to: NaiveDate },
    /// Numbers of an earlier version are in the table and no regroup has finished since.
    NeedsRegroup { domain_id: String },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::NoCases { domain_id } => write!(
                f,
                "the read model holds no cases of domain {domain_id} (wrong domain id, or run casesctl backfill)"
            ),
            Note::NoDataInRange { from, to } => write!(f, "no data between {from} and {to}"),
            Note::NeedsRegroup { domain_id } => write!(
                f,
                "this table holds numbers of an earlier version; until `casesctl regroup --domain-id {domain_id}` has run, the numbers cover only the cases changed since the upgrade"
            ),
        }
    }
}

/// A grouping field's name and its option labels (value → label).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldNames {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// Names for people, from the read model's metadata items (`FIELDS#<domain>`): what the
/// projector cached from ListFields / BatchGetField / ListFieldOptions / ListTemplates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    /// Template id → name.
    pub templates: BTreeMap<String, String>,
    /// Field id → its name and option labels, for the fields asked for that are described.
    pub fields: BTreeMap<String, FieldNames>,
}

impl Names {
    /// The grouping `by` as people read it, and its values' labels.
    pub fn grouping(&self, by: &str) -> (Grouping, BTreeMap<String, String>) {
        let (name, labels) = match (by, self.fields.get(by)) {
            (TEMPLATE_GROUP, _) => ("Template".to_owned(), self.templates.clone()),
            (_, Some(f)) => (f.name.clone(), f.labels.clone()),
            (STATUS_GROUP, None) => ("Status".to_owned(), BTreeMap::new()),
            (_, None) => (by.to_owned(), BTreeMap::new()),
        };
        (
            Grouping {
                id: by.to_owned(),
                name,
            },
            labels,
        )
    }

    /// The label of status `value` (its option label when known).
    pub fn status_label(&self, value: &str) -> String {
        self.fields
            .get(STATUS_GROUP)
            .and_then(|f| f.labels.get(value))
            .cloned()
            .unwrap_or_else(|| value.to_owned())
    }
}

/// The aggregates of one domain and range, read once.
#[derive(Debug, Clone)]
pub struct Aggregates {
    pub domain_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: BTreeMap<NaiveDate, Aggregate>,
    pub current: Aggregate,
    pub notes: Vec<Note>,
}

impl Aggregates {
    /// The report of `interval`, grouped `by` (named through `names`).
    pub fn report(
        &self,
        interval: Interval,
        by: Option<&str>,
        names: &Names,
        generated_at: DateTime<Utc>,
    ) -> Report {
        let (by, labels) = match by {
            None => (None, BTreeMap::new()),
            Some(by) => {
                let (grouping, labels) = names.grouping(by);
                (Some(grouping), labels)
            }
        };
        let request = ReportRequest {
            domain_id: self.domain_id.clone(),
            from: self.from,
            to: self.to,
            interval,
            by,
            labels,
        };
        build(&request, &self.days, &self.current, generated_at)
    }
}

/// Reads the aggregates of `[from, to)` (the caller checks `from < to`).
pub async fn aggregates(
    store: &impl PlanExecutor,
    domain_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Aggregates, StoreError> {
    let codes = read::codes(store, domain_id).await?;
    let days = read::days(store, domain_id, &codes, from, to).await?;
    let current = read::current(store, domain_id, &codes).await?;
    let mut notes = Vec::new();
    if read::needs_regroup(store, domain_id).await? {
        notes.push(Note::NeedsRegroup {
            domain_id: domain_id.to_owned(),
        });
    }
    // Every aggregate write names codes.
    if codes.is_empty() && current.is_empty() && days.is_empty() {
        notes.push(Note::NoCases {
            domain_id: domain_id.to_owned(),
        });
    } else if days.is_empty() {
        notes.push(Note::NoDataInRange { from, to });
    }
    Ok(Aggregates {
        domain_id: domain_id.to_owned(),
        from,
        to,
        days,
        current,
        notes,
    })
}

/// The names of `fields` (those described; `template` for the templates' names), from the read
/// model.
pub async fn names(
    store: &impl PlanExecutor,
    domain_id: &str,
    fields: &[&str],
) -> Result<Names, StoreError> {
    let mut names = Names::default();
    for field in fields {
        if *field == TEMPLATE_GROUP {
            names.templates = templates(store, domain_id).await?;
            continue;
        }
        if let Some((name, labels)) = read::field_labels(store, domain_id, field).await? {
            names
                .fields
                .insert((*field).to_owned(), FieldNames { name, labels });
        }
    }
    Ok(names)
}

/// Template id → name, as the projector cached them (ListTemplates).
/// Template id → name, as the read model caches them (ListTemplates).
pub use crate::store::domain::template_names as templates;
