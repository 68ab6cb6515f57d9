//! A case as the Cases API shows it (backfill, reconcile): the same fold as events. Each read is
//! versioned by its own data's time ([`read_time`]): it fills and refreshes what older events
//! set, never rolls back what a newer event set (even from a search index that lags behind: its
//! answer is as old as its data says), and never resurrects a deleted case. The numbers follow
//! from the resulting state like any other change.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::case::CaseDecision;
use super::related::apply_related;
use super::{CaseView, ProjectionOptions, Snapshot, Version, apply_snapshot, with_contribution};
use crate::event::{FieldValue, Operation, RelatedItem, RelatedItemChange, RelatedItemType};

/// The system field every read asks for: the case's own time of its last change.
pub const LAST_UPDATED: &str = "last_updated_datetime";

/// The time a read's data is as of: the case's `last_updated_datetime` in the same answer, or
/// the instant the request was sent when the answer has none. Never the reader's clock after the
/// answer: a change made while the answer was in flight is newer than the read, so the read
/// cannot roll it back.
pub fn read_time(fields: &BTreeMap<String, FieldValue>, sent_at: DateTime<Utc>) -> DateTime<Utc> {
    match fields.get(LAST_UPDATED) {
        Some(FieldValue::String(t)) => t
            .parse::<DateTime<Utc>>()
            .ok()
            .and_then(|t| DateTime::from_timestamp_millis(t.timestamp_millis()))
            .unwrap_or(sent_at),
        _ => sent_at,
    }
}

/// What reads of the Cases API say about a case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSnapshot {
    pub case_id: String,
    pub domain_id: String,
    pub template_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// Field values, one entry per read (a search answer, then GetCase for the fields beyond
    /// it), each as of its own time; empty when only related items were read.
    pub reads: Vec<Snapshot>,
    /// Related items as read (content as the API returns it), and when that request was sent.
    pub related_items: Vec<RelatedItem>,
    pub related_read_at: DateTime<Utc>,
    /// Statuses the case had, from its audit history (`performedTime`, audit event id).
    pub status_history: Vec<(Version, String)>,
    /// Deferred fields no longer wanted (or the domain no longer has): they stop being deferred,
    /// and whatever value the case holds for them stays.
    pub settled: Vec<String>,
}

impl CaseSnapshot {
    /// One snapshot per case of a domain-wide related-item read (`(case id, item)` pairs) sent at
    /// `sent_at`: the items only, no fields.
    pub fn of_related_items(
        domain_id: &str,
        sent_at: DateTime<Utc>,
        items: impl IntoIterator<Item = (String, RelatedItem)>,
    ) -> Vec<CaseSnapshot> {
        let mut by_case: BTreeMap<String, Vec<RelatedItem>> = BTreeMap::new();
        for (case_id, item) in items {
            by_case.entry(case_id).or_default().push(item);
        }
        by_case
            .into_iter()
            .map(|(case_id, related_items)| CaseSnapshot {
                case_id,
                domain_id: domain_id.to_owned(),
                template_id: None,
                created_at: None,
                reads: Vec::new(),
                related_items,
                related_read_at: sent_at,
                status_history: Vec::new(),
                settled: Vec::new(),
            })
            .collect()
    }
}

impl CaseSnapshot {
    /// The same read as snapshots of at most `items` related items each, to be committed one
    /// after the other: each commit then holds its related items with the case item and the
    /// change of its numbers, so no row is ever written ahead of the numbers it moves (a commit
    /// holds at most 100 items). The first part carries everything else.
    pub fn in_parts(mut self, items: usize) -> Vec<CaseSnapshot> {
        let mut rest = std::mem::take(&mut self.related_items);
        let later: Vec<Vec<RelatedItem>> = if rest.len() > items {
            rest.split_off(items)
                .chunks(items.max(1))
                .map(<[RelatedItem]>::to_vec)
                .collect()
        } else {
            Vec::new()
        };
        let items_only = CaseSnapshot {
            case_id: self.case_id.clone(),
            domain_id: self.domain_id.clone(),
            template_id: None,
            created_at: None,
            reads: Vec::new(),
            related_items: Vec::new(),
            related_read_at: self.related_read_at,
            status_history: Vec::new(),
            settled: Vec::new(),
        };
        self.related_items = rest;
        let mut parts = vec![self];
        parts.extend(later.into_iter().map(|related_items| CaseSnapshot {
            related_items,
            ..items_only.clone()
        }));
        parts
    }
}

/// Applies `snapshot` to the stored state.
pub fn decide_snapshot(
    stored: Option<&CaseView>,
    snapshot: &CaseSnapshot,
    dimensions: &[String],
    options: &ProjectionOptions,
) -> CaseDecision {
    let mut view = stored.cloned().unwrap_or_else(|| CaseView {
        case_id: snapshot.case_id.clone(),
        domain_id: snapshot.domain_id.clone(),
        ..CaseView::default()
    });
    let before = view.clone();
    if view.template_id.is_none() {
        view.template_id.clone_from(&snapshot.template_id);
    }
    if view.created_at.is_none() {
        view.created_at = snapshot.created_at;
    }
    let mut changed_related_items = std::collections::BTreeSet::new();
    for (version, status) in &snapshot.status_history {
        super::record_status(&mut view, version, status);
    }
    if !view.is_deleted() {
        for read in &snapshot.reads {
            // A case no event has touched yet is "as of the read".
            if view.version.is_none() {
                view.version = Some(Version::snapshot(read.as_of));
            }
            apply_snapshot(&mut view, read);
        }
        let version = Version::snapshot(snapshot.related_read_at);
        // Types this version does not know are skipped, as their events are.
        let known = snapshot
            .related_items
            .iter()
            .filter(|i| !matches!(i.item_type, RelatedItemType::Unknown(_)));
        for item in known {
            let change = RelatedItemChange {
                operation: Operation::Updated,
                changed_attributes: Vec::new(),
                item: item.clone(),
            };
            let (_, changed) = apply_related(&mut view, &change, &version, options);
            changed_related_items.extend(changed);
        }
    }
    if let Some(deferred) = &mut view.deferred {
        deferred.fields.retain(|f| !snapshot.settled.contains(f));
        if deferred.fields.is_empty() {
            view.deferred = None;
        }
    }
    // Every deferred field filled by this read: enrichment is complete again.
    if before.deferred.is_some() && view.deferred.is_none() && !view.is_deleted() {
        view.enrichment = Some("fetched".to_owned());
    }
    let case_changed = view != before;
    let (view, metric_deltas) = with_contribution(stored, view, dimensions);
    CaseDecision {
        outcomes: Vec::new(),
        view: (case_changed || stored.is_some()).then_some(view),
        case_changed,
        changed_related_items,
        metric_deltas,
    }
}

/// The Cases API says the case does not exist (GetCase 404 naming the case, an answer received
/// at `received_at`) while the read model holds it live: its `CASE.DELETED` was lost. The case
/// becomes a tombstone dated by the answer's arrival (the delete happened before it, maybe
/// while the request waited out throttling: dating it by the request would cut off changes
/// made meanwhile), and after everything the read model holds; the item records it as
/// `deletedBy = reconcile`. It counts as deleted that day until the delete event, if it ever
/// comes, moves it to its own (earlier) time. Nothing changes for a case already deleted or not
/// held.
pub fn decide_gone(
    stored: Option<&CaseView>,
    received_at: DateTime<Utc>,
    dimensions: &[String],
) -> CaseDecision {
    let mut decision = CaseDecision {
        outcomes: Vec::new(),
        view: None,
        case_changed: false,
        changed_related_items: Default::default(),
        metric_deltas: Default::default(),
    };
    let Some(stored) = stored.filter(|v| !v.is_deleted()) else {
        decision.view = stored.cloned();
        return decision;
    };
    let mut view = stored.clone();
    // Strictly after what the read model holds (a status at the delete's own version would count
    // for nothing): the case was gone when the answer came.
    let newest_held = view
        .version
        .iter()
        .chain(view.status_history.keys())
        .map(|v| v.at + chrono::TimeDelta::milliseconds(1))
        .max();
    let version = Version::snapshot(newest_held.map_or(received_at, |t| t.max(received_at)));
    view.deleted = Some(version.clone());
    view.version = Some(version);
    decision.changed_related_items = super::clear_tombstone(&mut view).into_iter().collect();
    decision.case_changed = true;
    let (view, metric_deltas) = with_contribution(Some(stored), view, dimensions);
    decision.metric_deltas = metric_deltas;
    decision.view = Some(view);
    decision
}

/// Moves a stored case's contribution to the groups of `dimensions` (`casesctl regroup`): from
/// what it was written under (nothing, for a case stored before contributions were kept) to
/// what it contributes now. Writes nothing when it is already grouped so.
pub fn decide_regroup(stored: Option<&CaseView>, dimensions: &[String]) -> CaseDecision {
    let current = stored.is_some_and(|v| v.grouped_by.as_deref() == Some(dimensions));
    let (view, metric_deltas) = match stored {
        Some(view) => {
            let (view, deltas) = with_contribution(stored, view.clone(), dimensions);
            (Some(view), deltas)
        }
        None => (None, Default::default()),
    };
    CaseDecision {
        outcomes: Vec::new(),
        view,
        case_changed: stored.is_some() && !current,
        changed_related_items: Default::default(),
        metric_deltas,
    }
}
