//! Daily dashboard counters. Each is a function of one event alone (never of stored state), so
//! the totals are the same under any delivery order; exactly-once under redelivery is the
//! store's job (a per-event marker written in the same transaction).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::event::{CaseEvent, Change, FieldValue, Operation, RelatedItemType};

/// The counter attributes one event adds 1 to, on `STATS#<domain>` / `DAY#<day>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterIncrements {
    pub domain_id: String,
    /// UTC day of the event's `approximateChangeTime`.
    pub day: NaiveDate,
    pub increments: BTreeMap<String, i64>,
}

pub const CASES_CREATED: &str = "casesCreated";
pub const CASES_DELETED: &str = "casesDeleted";
pub const CASE_RESOLUTIONS: &str = "caseResolutions";
pub const RELATED_ITEMS_CREATED: &str = "relatedItemsCreated";

/// `relatedItemsCreated<Type>`, e.g. `relatedItemsCreatedComment`.
pub fn related_items_created_of(item_type: &RelatedItemType) -> String {
    format!("{RELATED_ITEMS_CREATED}{}", item_type.as_str())
}

const CLOSED: &str = "closed";

/// The counters `event` moves, if any.
///
/// - `casesCreated` / `casesDeleted`: `CASE.CREATED` / `CASE.DELETED`.
/// - `caseResolutions`: a case event whose `changedFieldIds` include `status` and that carries
///   `status` = `closed`.
/// - `relatedItemsCreated` and `relatedItemsCreated<Type>`: `RELATED_ITEM.CREATED` of a known type.
///
/// Reopenings are not counted here: whether a status change reopens a case depends on the status
/// before it, which one event alone does not tell. The metric aggregates derive them exactly from
/// each case's status history (`analytics::aggregate`).
pub fn counters_for(event: &CaseEvent) -> Option<CounterIncrements> {
    let mut names: Vec<String> = Vec::new();
    match &event.change {
        Change::Case(case) => {
            match case.operation {
                Operation::Created => names.push(CASES_CREATED.into()),
                Operation::Deleted => names.push(CASES_DELETED.into()),
                Operation::Updated => {}
            }
            let status_changed = case.changed_field_ids.iter().any(|f| f == "status");
            let fields = case.fields.as_ref();
            let carried_status = fields.and_then(|f| match f.get("status") {
                Some(FieldValue::String(s)) => Some(s.as_str()),
                _ => None,
            });
            if case.operation != Operation::Deleted
                && status_changed
                && carried_status.is_some_and(|s| s.eq_ignore_ascii_case(CLOSED))
            {
                names.push(CASE_RESOLUTIONS.into());
            }
        }
        Change::RelatedItem(r) => {
            if r.operation == Operation::Created
                && !matches!(r.item.item_type, RelatedItemType::Unknown(_))
            {
                names.push(RELATED_ITEMS_CREATED.into());
                names.push(related_items_created_of(&r.item.item_type));
            }
        }
        Change::Unknown { .. } => {}
    }
    (!names.is_empty()).then(|| CounterIncrements {
        domain_id: event.domain_id.clone(),
        day: event.changed_at.date_naive(),
        increments: names.into_iter().map(|n| (n, 1)).collect(),
    })
}
