//! The decision for one case: the stored state, the case's events in delivery order and maybe a
//! GetCase snapshot in; the new state, an outcome per event, the counted events and what must be
//! written out. The projector only loads, calls this, and commits.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};

use super::{CaseView, CounterIncrements, Deferred, Outcome, ProjectionOptions, Snapshot, decide};
use crate::analytics::aggregate::{Contributions, delta};
use crate::event::{CaseEvent, Change};

/// An event whose counters are committed with the state, exactly once (a marker per event).
#[derive(Debug, Clone, PartialEq)]
pub struct CountedEvent {
    pub event_id: String,
    /// The related item a `RELATED_ITEM.CREATED` creates: written in the same transaction as the
    /// event's marker, never ahead of it.
    pub related_item_id: Option<String>,
    pub counters: CounterIncrements,
}

/// What GetCase said about the case, for [`decide_case`].
#[derive(Debug, Clone, Copy)]
pub struct EnrichmentResult<'a> {
    pub snapshot: Option<&'a Snapshot>,
    /// `fetched`, `not-found`, `refused`, `deferred`, ...: recorded on the case item.
    pub status: &'a str,
    /// GetCase was put off (throttled, or the budget spent): these fields are still wanted.
    pub deferred: Option<&'a Deferred>,
}

/// What a case decision depends on besides the stored state and the events.
#[derive(Debug, Clone, Copy)]
pub struct DecideContext<'a> {
    /// Events committed by an earlier delivery (their marker exists).
    pub already_counted: &'a HashSet<String>,
    pub enrichment: Option<EnrichmentResult<'a>>,
    /// The domain's cut-over: older events move no counter.
    pub count_from: Option<DateTime<Utc>>,
    /// `REPORT_DIMENSIONS`: the field ids metric aggregates are grouped by.
    pub dimensions: &'a [String],
    pub options: &'a ProjectionOptions,
}

/// The decision for one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDecision {
    /// One per input event, in the same order.
    pub outcomes: Vec<Outcome>,
    /// The state after every event; `None` when nothing is stored and nothing is to be.
    pub view: Option<CaseView>,
    /// The case item changed (fields, metadata, delete, related-item counts, enrichment).
    pub case_changed: bool,
    /// Related items whose stored record changed.
    pub changed_related_items: BTreeSet<String>,
    pub counted: Vec<CountedEvent>,
    /// What to add to the metric aggregates, written with the case item.
    pub metric_deltas: Contributions,
}

impl CaseDecision {
    /// Whether anything must be written.
    pub fn writes(&self) -> bool {
        self.view.is_some()
            && (self.case_changed
                || !self.changed_related_items.is_empty()
                || !self.counted.is_empty())
    }
}

/// Folds `events` (one case, delivery order) onto `stored`. Events in `already_counted` were
/// committed by an earlier delivery (their marker exists) and copies of one event within
/// `events` count once: both report `duplicate` and move nothing. Events older than
/// `count_from` (the domain's cut-over: backfill counted what happened before it) move no
/// counter, though they still change the state.
pub fn decide_case(
    stored: Option<&CaseView>,
    events: &[CaseEvent],
    context: &DecideContext<'_>,
) -> CaseDecision {
    let DecideContext {
        already_counted,
        enrichment,
        count_from,
        dimensions,
        options,
    } = *context;
    let mut state = stored.cloned();
    let mut decision = CaseDecision {
        outcomes: Vec::with_capacity(events.len()),
        view: None,
        case_changed: false,
        changed_related_items: BTreeSet::new(),
        counted: Vec::new(),
        metric_deltas: Contributions::new(),
    };
    let mut seen: HashSet<&str> = HashSet::new();
    for event in events {
        if already_counted.contains(&event.id) || !seen.insert(&event.id) {
            decision.outcomes.push(Outcome::Duplicate);
            continue;
        }
        let d = decide(state.as_ref(), event, options);
        decision.outcomes.push(d.outcome);
        if d.is_noop() {
            continue;
        }
        decision.case_changed |= d.case_changed;
        decision
            .changed_related_items
            .extend(d.changed_related_items);
        let counts = count_from.is_none_or(|from| event.changed_at >= from);
        if let Some(counters) = d.counters.filter(|_| counts) {
            decision.counted.push(CountedEvent {
                event_id: event.id.clone(),
                related_item_id: match &event.change {
                    Change::RelatedItem(r) => Some(r.item.id.clone()),
                    _ => None,
                },
                counters,
            });
        }
        state = Some(d.view);
    }
    if let (Some(view), Some(enrichment)) = (state.as_mut(), enrichment) {
        let before = (
            view.fields.clone(),
            view.enrichment.clone(),
            view.deferred.clone(),
        );
        if let Some(snapshot) = enrichment.snapshot {
            super::apply_snapshot(view, snapshot);
        }
        if let Some(wanted) = enrichment.deferred.filter(|_| !view.is_deleted()) {
            view.deferred = Some(match &view.deferred {
                Some(held) => held.merged(wanted),
                None => wanted.clone(),
            });
        }
        view.enrichment = Some(enrichment.status.to_owned());
        decision.case_changed |=
            (&view.fields, &view.enrichment, &view.deferred) != (&before.0, &before.1, &before.2);
    }
    decision.metric_deltas = delta(stored, state.as_ref(), dimensions);
    decision.view = state;
    decision
}
