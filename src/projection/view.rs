//! The state the projection folds into: a case, its related items, and the version of
//! everything in it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::event::{CaseEvent, FieldValue, RelatedItemType};

/// Orders events: newest `approximateChangeTime` wins; ties break on the event id so every
/// replica converges on the same winner.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub at: DateTime<Utc>,
    /// Empty for values that came from a read of the Cases API (a snapshot), so an event at the
    /// same instant wins.
    pub event_id: String,
}

impl Version {
    pub fn of(event: &CaseEvent) -> Self {
        Version {
            at: event.changed_at,
            event_id: event.id.clone(),
        }
    }

    /// A read's version: the time its data is as of (see [`super::read_time`]).
    pub fn snapshot(as_of: DateTime<Utc>) -> Self {
        Version {
            at: as_of,
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
    /// Every status the case is known to have had, by the version that carried it (events that
    /// carry `status`, snapshots, audit history): resolutions and reopenings are its transitions,
    /// whatever order the events arrived in. Kept on tombstones (system values, no customer data).
    pub status_history: BTreeMap<Version, String>,
    /// Fields GetCase could not fill yet (throttled, or the instance's GetCase budget spent):
    /// the case is in the `byDeferred` index until a snapshot fills them or the case is deleted.
    pub deferred: Option<Deferred>,
    /// The `REPORT_DIMENSIONS` the case's contribution to the aggregates was written under;
    /// `None` when it has written none (a case stored by a version before contributions were
    /// kept per case). What it contributed is recomputed from this, never from today's setting.
    pub grouped_by: Option<Vec<String>>,
}

/// Enrichment put off: since when, and which fields are still wanted from GetCase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferred {
    pub since: DateTime<Utc>,
    pub fields: BTreeSet<String>,
}

impl Deferred {
    /// `self` and `other` together: the earliest `since`, every wanted field.
    pub fn merged(&self, other: &Deferred) -> Deferred {
        Deferred {
            since: self.since.min(other.since),
            fields: self.fields.union(&other.fields).cloned().collect(),
        }
    }
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

/// Field values read from the Cases API (GetCase, SearchCases): the case as of `as_of`, the data's
/// own time (its `last_updated_datetime` in the same answer) or, when the answer carries none,
/// the instant the request was sent; never the reader's clock after the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub as_of: DateTime<Utc>,
    pub fields: BTreeMap<String, FieldValue>,
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

    /// A tombstone set by reconcile (GetCase answered 404 for a case held live: its delete event
    /// was lost), not by a `CASE.DELETED` event.
    pub fn deleted_by_reconcile(&self) -> bool {
        self.deleted.as_ref().is_some_and(Version::is_snapshot)
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

    /// Newest read that still provides at least one stored field.
    pub fn snapshot_at(&self) -> Option<DateTime<Utc>> {
        self.fields
            .values()
            .filter(|f| f.version.is_snapshot())
            .map(|f| f.version.at)
            .max()
    }
}
