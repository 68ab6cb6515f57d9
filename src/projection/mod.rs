//! The pure projection core: given a case's read-model state (or none), one event and maybe a
//! GetCase snapshot, decide the new state, what to write, and which counters the event moves.
//!
//! No I/O, no clock, no randomness. The state is a join-semilattice: every field, related item
//! and delete carries the `(approximateChangeTime, event id)` version that set it, and merging
//! keeps the newest. That is what makes the result independent of delivery order and
//! duplication (see `docs/read-model.md` for the contract and `tests/projection_properties.rs`
//! for the proof by property test).

mod case;
mod counters;
mod trim;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::event::{
    CaseChange, CaseEvent, Change, FieldValue, Operation, RelatedItem, RelatedItemChange,
    RelatedItemContent, RelatedItemType,
};

pub use case::{CaseDecision, CountedEvent, EnrichmentResult, decide_case};
pub use counters::{CounterIncrements, counters_for};
pub use trim::{estimated_field_bytes, trimmed_values};

/// Orders events: newest `approximateChangeTime` wins; ties break on the event id so every
/// replica converges on the same winner.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub at: DateTime<Utc>,
    /// Empty for values that came from a GetCase snapshot, so an event at the same instant wins.
    pub event_id: String,
}

impl Version {
    pub fn of(event: &CaseEvent) -> Self {
        Version {
            at: event.changed_at,
            event_id: event.id.clone(),
        }
    }

    pub fn snapshot(taken_at: DateTime<Utc>) -> Self {
        Version {
            at: taken_at,
            event_id: String::new(),
        }
    }

    pub fn is_snapshot(&self) -> bool {
        self.event_id.is_empty()
    }
}

/// A value with the version that set it.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: Version,
}

/// Everything the read model knows about one case: the case item and its related items.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseView {
    pub case_id: String,
    pub domain_id: String,
    /// Immutable in Connect Cases: the first value seen is kept.
    pub template_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// Newest case event applied; `None` while only related-item events have been seen.
    pub version: Option<Version>,
    /// Set by `CASE.DELETED` and never cleared: DeleteCase is irreversible.
    pub deleted: Option<Version>,
    /// Full values: shortening to fit DynamoDB's item limit happens only when an item is
    /// written (see `trim`), so the state never depends on what was cut before.
    pub fields: BTreeMap<String, Versioned<FieldValue>>,
    pub related_items: BTreeMap<String, RelatedItemView>,
    /// Outcome of the last GetCase enrichment (`fetched`, `not-found`, `refused`); set by the
    /// handler, not by the projection.
    pub enrichment: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelatedItemView {
    pub id: String,
    pub item_type: RelatedItemType,
    pub created_at: Option<DateTime<Utc>>,
    /// Newest event applied to this item.
    pub version: Version,
    /// Newest event that carried content (`includeContent` may be switched off in between):
    /// content is that event's, whatever the arrival order. `None` on tombstones.
    pub content_version: Option<Version>,
    pub deleted: bool,
    /// Non-sensitive content attributes (and sensitive ones only when configured).
    pub content: BTreeMap<String, FieldValue>,
    /// `Custom` related items' fields: customer content, kept only when configured.
    pub custom_fields: Option<BTreeMap<String, FieldValue>>,
}

/// Field values fetched with GetCase at `taken_at` (the case as it is now, not as of an event).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub taken_at: DateTime<Utc>,
    pub fields: BTreeMap<String, FieldValue>,
}

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
    /// Older than stored state: it only fills in what no newer event has set (and still counts).
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
    /// The dashboard counters this event moves; `None` when it moves none or was seen before.
    pub counters: Option<CounterIncrements>,
}

impl Decision {
    /// Nothing to write at all.
    pub fn is_noop(&self) -> bool {
        !self.case_changed && self.changed_related_items.is_empty() && self.counters.is_none()
    }
}

/// Projects one event onto a case's state. Pure: same inputs, same decision.
pub fn decide(
    state: Option<&CaseView>,
    event: &CaseEvent,
    snapshot: Option<&Snapshot>,
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
    if let Some(snapshot) = snapshot {
        apply_snapshot(&mut view, snapshot);
    }
    let counters = match outcome {
        Outcome::Duplicate => None,
        Outcome::Skipped(SkipReason::UnknownEventType | SkipReason::UnknownRelatedItemType) => None,
        _ => counters_for(event),
    };
    let case_changed = !same_case_item(&before, &view);
    Decision {
        outcome,
        view,
        changed_related_items,
        case_changed,
        counters,
    }
}

/// Folds events (and no snapshots) into a state: the replay used by tests and rebuilds.
pub fn fold<'a>(
    events: impl IntoIterator<Item = &'a CaseEvent>,
    options: &ProjectionOptions,
) -> Option<CaseView> {
    events.into_iter().fold(None, |state, event| {
        let decision = decide(state.as_ref(), event, None, options);
        if decision.is_noop() {
            state
        } else {
            Some(decision.view)
        }
    })
}

fn same_case_item(a: &CaseView, b: &CaseView) -> bool {
    a.template_id == b.template_id
        && a.created_at == b.created_at
        && a.version == b.version
        && a.deleted == b.deleted
        && a.fields == b.fields
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

    if change.operation == Operation::Deleted {
        let outcome = match &view.deleted {
            Some(deleted) if deleted == version => Outcome::Duplicate,
            Some(deleted) if deleted > version => Outcome::Stale,
            Some(_) => {
                view.deleted = Some(version.clone());
                view.version = Some(version.clone());
                Outcome::Stale
            }
            None => {
                view.deleted = Some(version.clone());
                view.version = Some(version.clone());
                Outcome::Applied
            }
        };
        // A tombstone keeps no customer data, and its related items are tombstones too: written
        // with it, so the table never holds live rows under a deleted case.
        view.fields.clear();
        let changed = view
            .related_items
            .values_mut()
            .filter_map(|item| tombstone_related(item).then(|| item.id.clone()))
            .collect();
        return (outcome, changed);
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

/// Applies GetCase values taken at `snapshot.taken_at`: they replace fields set by older
/// events and never roll back a value from a newer one. Nothing changes on a tombstone.
pub fn apply_snapshot(view: &mut CaseView, snapshot: &Snapshot) {
    if view.deleted.is_some() {
        return;
    }
    let version = Version::snapshot(snapshot.taken_at);
    for (id, value) in &snapshot.fields {
        merge_field(view, id, value, &version);
    }
}

fn apply_related(
    view: &mut CaseView,
    change: &RelatedItemChange,
    version: &Version,
    options: &ProjectionOptions,
) -> (Outcome, Vec<String>) {
    let RelatedItem {
        id,
        item_type,
        created_at,
        content,
    } = &change.item;
    let case_deleted = view.deleted.is_some();
    let deletes = change.operation == Operation::Deleted;
    let Some(item) = view.related_items.get_mut(id) else {
        let mut item = RelatedItemView {
            id: id.clone(),
            item_type: item_type.clone(),
            created_at: *created_at,
            version: version.clone(),
            content_version: None,
            deleted: false,
            content: BTreeMap::new(),
            custom_fields: None,
        };
        if let (Some(content), false) = (content, deletes) {
            (item.content, item.custom_fields) = stored_content(content, options);
            item.content_version = Some(version.clone());
        }
        // Recorded even after a delete so the item exists whatever the arrival order.
        if deletes || case_deleted {
            tombstone_related(&mut item);
        }
        view.related_items.insert(id.clone(), item);
        let outcome = match &view.deleted {
            Some(deleted) if version < deleted => Outcome::Stale,
            Some(_) => Outcome::Skipped(SkipReason::AfterDelete),
            None => Outcome::Applied,
        };
        return (outcome, vec![id.clone()]);
    };
    if item.version == *version {
        return (Outcome::Duplicate, Vec::new());
    }
    let before = item.clone();
    if item.created_at.is_none() {
        item.created_at = *created_at;
    }
    let newer = *version > item.version;
    let outcome = if !newer {
        Outcome::Stale
    } else if item.deleted || case_deleted {
        Outcome::Skipped(SkipReason::AfterDelete)
    } else {
        Outcome::Applied
    };
    // Content comes from the newest event that carried any, so an older event with content
    // still fills it after a newer one without (`includeContent` switched off meanwhile).
    let newest_content = item.content_version.as_ref().is_none_or(|v| version > v);
    if let (Some(content), false, false, true) = (content, deletes, item.deleted, newest_content) {
        (item.content, item.custom_fields) = stored_content(content, options);
        item.content_version = Some(version.clone());
    }
    if newer {
        item.version = version.clone();
    }
    // Deletes are absorbing whatever their version, so any order converges on the tombstone.
    if deletes || case_deleted {
        tombstone_related(item);
    }
    let changed = if *item != before {
        vec![id.clone()]
    } else {
        Vec::new()
    };
    (outcome, changed)
}

/// Makes `item` a tombstone; returns whether anything changed.
fn tombstone_related(item: &mut RelatedItemView) -> bool {
    let changed = !item.deleted
        || !item.content.is_empty()
        || item.custom_fields.is_some()
        || item.content_version.is_some();
    item.deleted = true;
    item.content.clear();
    item.custom_fields = None;
    item.content_version = None;
    changed
}

/// Splits event content into what the read model may keep.
fn stored_content(
    content: &RelatedItemContent,
    options: &ProjectionOptions,
) -> (
    BTreeMap<String, FieldValue>,
    Option<BTreeMap<String, FieldValue>>,
) {
    let mut attrs = BTreeMap::new();
    let mut put = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            attrs.insert(k.to_owned(), FieldValue::String(v.clone()));
        }
    };
    let mut custom = None;
    match content {
        RelatedItemContent::Contact {
            contact_arn,
            channel,
        } => {
            put("contactArn", Some(contact_arn));
            put("channel", channel.as_ref());
        }
        RelatedItemContent::Comment { body, content_type } => {
            put("contentType", content_type.as_ref());
            if options.store_customer_content {
                put("commentBody", Some(body));
            }
        }
        RelatedItemContent::File { file_arn } => put("fileArn", Some(file_arn)),
        RelatedItemContent::Sla {
            name,
            sla_type,
            status,
            target_time,
            completion_time,
        } => {
            put("slaName", Some(name));
            put("slaType", sla_type.as_ref());
            put("slaStatus", status.as_ref());
            put("slaTargetTime", target_time.as_ref());
            put("slaCompletionTime", completion_time.as_ref());
        }
        RelatedItemContent::ConnectCase { case_id } => put("linkedCaseId", Some(case_id)),
        RelatedItemContent::Custom { fields } => {
            if options.store_customer_content {
                custom = Some(fields.clone());
            }
        }
    }
    (attrs, custom)
}

impl CaseView {
    /// Live (not deleted) related items per canonical type name.
    pub fn related_item_counts(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for item in self.related_items.values().filter(|i| !i.deleted) {
            *counts
                .entry(item.item_type.as_str().to_owned())
                .or_insert(0) += 1;
        }
        counts
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }

    /// The `status` system field, when known and a string.
    pub fn status(&self) -> Option<&str> {
        self.string_field("status")
    }

    pub fn title(&self) -> Option<&str> {
        self.string_field("title")
    }

    fn string_field(&self, id: &str) -> Option<&str> {
        match self.fields.get(id).map(|f| &f.value) {
            Some(FieldValue::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Newest GetCase snapshot that still provides at least one stored field.
    pub fn snapshot_taken_at(&self) -> Option<DateTime<Utc>> {
        self.fields
            .values()
            .filter(|f| f.version.is_snapshot())
            .map(|f| f.version.at)
            .max()
    }
}

#[cfg(test)]
mod tests;
