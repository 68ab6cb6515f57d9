//! The pure projection core: given a case's read-model state (or none), one event and maybe a
//! GetCase snapshot, decide the new state and what to write; every number follows from the
//! states alone ([`contribution`]).
//!
//! No I/O, no clock, no randomness. The state is a join-semilattice: every field, related item
//! and delete carries the `(approximateChangeTime, event id)` version that set it, and merging
//! keeps the newest. That is what makes the result independent of delivery order and
//! duplication (see `docs/read-model.md` for the contract and `tests/integration/projection_properties.rs`
//! for the proof by property test).

mod case;
pub mod contribution;
mod related;
mod snapshot;
mod trim;
mod view;

use crate::event::{
    CaseChange, CaseEvent, Change, FieldValue, Operation, RelatedItemChange, RelatedItemType,
};

pub use case::{CaseDecision, DecideContext, EnrichmentResult, decide_case};
pub use snapshot::{
    CaseSnapshot, LAST_UPDATED, decide_gone, decide_regroup, decide_snapshot, read_time,
};
pub use trim::{estimated_field_bytes, trimmed_values};
pub use view::{CaseView, Deferred, RelatedItemView, Snapshot, Version, Versioned};

use related::{apply_related, tombstone_related};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProjectionOptions {
    /// Keep comment bodies and custom related-item fields (customer content). Off by default.
    pub store_customer_content: bool,
}

/// What happened to one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The event is the newest the read model has seen for what it touches.
    Applied,
    /// Older than stored state: it only fills in what no newer event has set.
    Stale,
    /// This exact event was applied before.
    Duplicate,
    Skipped(SkipReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The case is deleted; nothing newer may resurrect it.
    AfterDelete,
    UnknownEventType,
    UnknownRelatedItemType,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Stale => "stale",
            Outcome::Duplicate => "duplicate",
            Outcome::Skipped(_) => "skipped",
        }
    }
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::AfterDelete => "after-delete",
            SkipReason::UnknownEventType => "unknown-event-type",
            SkipReason::UnknownRelatedItemType => "unknown-related-item-type",
        }
    }
}

/// The result of projecting one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    /// The state after the event (equal to the input when nothing changed).
    pub view: CaseView,
    /// Related items whose stored record changed.
    pub changed_related_items: Vec<String>,
    /// Whether the case item changed (fields, metadata, delete, related-item counts).
    pub case_changed: bool,
}

impl Decision {
    /// Nothing to write at all.
    pub fn is_noop(&self) -> bool {
        !self.case_changed && self.changed_related_items.is_empty()
    }
}

/// Projects one event onto a case's state. Pure: same inputs, same decision.
pub fn decide(
    state: Option<&CaseView>,
    event: &CaseEvent,
    options: &ProjectionOptions,
) -> Decision {
    let before = state.cloned().unwrap_or_else(|| CaseView {
        case_id: event.case_id.clone(),
        domain_id: event.domain_id.clone(),
        ..CaseView::default()
    });
    let mut view = before.clone();
    let version = Version::of(event);
    let (outcome, changed_related_items) = match &event.change {
        Change::Unknown { .. } => (Outcome::Skipped(SkipReason::UnknownEventType), Vec::new()),
        Change::Case(change) => apply_case(&mut view, change, &version),
        Change::RelatedItem(RelatedItemChange { item, .. })
            if matches!(item.item_type, RelatedItemType::Unknown(_)) =>
        {
            (
                Outcome::Skipped(SkipReason::UnknownRelatedItemType),
                Vec::new(),
            )
        }
        Change::RelatedItem(change) => apply_related(&mut view, change, &version, options),
    };
    let case_changed = !same_case_item(&before, &view);
    Decision {
        outcome,
        view,
        changed_related_items,
        case_changed,
    }
}

/// Folds events (and no snapshots) into a state: the replay used by tests and rebuilds.
pub fn fold<'a>(
    events: impl IntoIterator<Item = &'a CaseEvent>,
    options: &ProjectionOptions,
) -> Option<CaseView> {
    events.into_iter().fold(None, |state, event| {
        let decision = decide(state.as_ref(), event, options);
        if decision.is_noop() {
            state
        } else {
            Some(decision.view)
        }
    })
}

/// The state to write, its contribution grouped under `dimensions`, and what that changes in the
/// aggregates against what `stored` contributed as written.
fn with_contribution(
    stored: Option<&CaseView>,
    mut view: CaseView,
    dimensions: &[String],
) -> (CaseView, contribution::Contributions) {
    view.grouped_by = Some(dimensions.to_vec());
    let deltas = contribution::delta(stored, Some(&view));
    (view, deltas)
}

fn same_case_item(a: &CaseView, b: &CaseView) -> bool {
    a.template_id == b.template_id
        && a.created_at == b.created_at
        && a.version == b.version
        && a.deleted == b.deleted
        && a.deferred == b.deferred
        && a.fields == b.fields
        && a.status_history == b.status_history
        && a.related_item_counts() == b.related_item_counts()
}

/// Returns the outcome and the related items whose record changed (a delete tombstones them).
fn apply_case(
    view: &mut CaseView,
    change: &CaseChange,
    version: &Version,
) -> (Outcome, Vec<String>) {
    // Metadata is immutable in Connect: fill what is missing, even on a tombstone.
    if view.template_id.is_none() {
        view.template_id.clone_from(&change.template_id);
    }
    if view.created_at.is_none() {
        view.created_at = change.created_at;
    }
    if let Some(FieldValue::String(status)) = change.fields.as_ref().and_then(|f| f.get("status")) {
        record_status(view, version, status);
    }

    if change.operation == Operation::Deleted {
        // The earliest delete is the delete: a reconcile tombstone (dated by its read, after
        // the fact) gives way to the event, whatever the order they came in.
        let outcome = match &view.deleted {
            Some(deleted) if deleted == version => Outcome::Duplicate,
            Some(deleted) if deleted < version => Outcome::Stale,
            _ => {
                view.deleted = Some(version.clone());
                view.version = Some(version.clone());
                Outcome::Applied
            }
        };
        return (outcome, clear_tombstone(view));
    }

    if let Some(deleted) = &view.deleted {
        let outcome = if version < deleted {
            Outcome::Stale
        } else {
            Outcome::Skipped(SkipReason::AfterDelete)
        };
        return (outcome, Vec::new());
    }
    let outcome = match &view.version {
        Some(current) if current == version => return (Outcome::Duplicate, Vec::new()),
        Some(current) if current > version => Outcome::Stale,
        _ => {
            view.version = Some(version.clone());
            Outcome::Applied
        }
    };
    for (id, value) in change.fields.iter().flatten() {
        merge_field(view, id, value, version);
    }
    (outcome, Vec::new())
}

/// A tombstone keeps no customer data and wants nothing from GetCase, and its related items are
/// tombstones too: written with it, so the table never holds live rows under a deleted case.
/// Returns the related items whose record changed.
pub(super) fn clear_tombstone(view: &mut CaseView) -> Vec<String> {
    view.fields.clear();
    view.deferred = None;
    view.related_items
        .values_mut()
        .filter_map(|item| tombstone_related(item).then(|| item.id.clone()))
        .collect()
}

fn merge_field(view: &mut CaseView, id: &str, value: &FieldValue, version: &Version) {
    match view.fields.get_mut(id) {
        Some(stored) if stored.version >= *version => {}
        Some(stored) => {
            stored.value = value.clone();
            stored.version = version.clone();
        }
        None => {
            view.fields.insert(
                id.to_owned(),
                Versioned {
                    value: value.clone(),
                    version: version.clone(),
                },
            );
        }
    }
}

/// Adds a status the case had at `version` to its history: the union of what every event and
/// read said, so it does not depend on the order they came in (entries after a delete are kept
/// but count for nothing, see [`contribution`]), within the bounds
/// [`compact_status_history`] keeps it to.
pub fn record_status(view: &mut CaseView, version: &Version, status: &str) {
    view.status_history
        .insert(version.clone(), status.to_owned());
    compact_status_history(&mut view.status_history);
}

/// Same-status observations this much older than the newest are dropped. One would matter only
/// if an event *changing* the status arrived at least that late and landed next to it: then the
/// order of delivery would decide where a transition falls. 35 days: longer than SQS keeps a
/// message (14 days) plus the time to redrive a dead-letter queue.
pub const STATUS_HISTORY_HORIZON_DAYS: i64 = 35;
/// Observations kept at most (~70 bytes each in the case item, beside up to 300 KB of fields).
/// Only a broken or hostile sender gets there within the horizon; then the oldest same-status
/// observations go first, then the oldest of all (losing that case's earliest transitions), so
/// the case item still fits DynamoDB's 400 KB instead of failing every write of the case for good.
pub const MAX_STATUS_HISTORY: usize = 1000;

/// Drops observations with the status of the one before them (they change no transition), when
/// older than the horizon or beyond [`MAX_STATUS_HISTORY`]; past the cap, the oldest of all.
pub fn compact_status_history(history: &mut std::collections::BTreeMap<Version, String>) {
    let Some(newest) = history.keys().next_back().map(|v| v.at) else {
        return;
    };
    let horizon = newest - chrono::TimeDelta::days(STATUS_HISTORY_HORIZON_DAYS);
    let mut repeats: Vec<Version> = Vec::new();
    let mut previous: Option<&String> = None;
    for (version, status) in history.iter() {
        if previous == Some(status) {
            repeats.push(version.clone());
        }
        previous = Some(status);
    }
    // Oldest first; repeats past the horizon all go, recent ones only while over the cap.
    let over = history.len().saturating_sub(MAX_STATUS_HISTORY);
    for (i, version) in repeats.into_iter().enumerate() {
        if version.at < horizon || i < over {
            history.remove(&version);
        }
    }
    while history.len() > MAX_STATUS_HISTORY {
        history.pop_first();
    }
}

/// Applies values read as of `snapshot.as_of`: they replace fields set by older events and
/// never roll back a value from a newer one. Nothing changes on a tombstone.
pub fn apply_snapshot(view: &mut CaseView, snapshot: &Snapshot) {
    let version = Version::snapshot(snapshot.as_of);
    if let Some(FieldValue::String(status)) = snapshot.fields.get("status") {
        record_status(view, &version, status);
    }
    if view.deleted.is_some() {
        return;
    }
    for (id, value) in &snapshot.fields {
        merge_field(view, id, value, &version);
    }
    // What the read asked for is filled: no longer wanted.
    if let Some(deferred) = &mut view.deferred {
        deferred
            .fields
            .retain(|id| !snapshot.fields.contains_key(id));
        if deferred.fields.is_empty() {
            view.deferred = None;
        }
    }
}

#[cfg(test)]
mod tests;
