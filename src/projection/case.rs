//! The decision for one case: the stored state, the case's events in delivery order and maybe a
//! GetCase snapshot in; the new state, an outcome per event, and what must be written out (the
//! case, its changed related items, the change of its contribution to the aggregates). The
//! projector only loads, calls this, and commits.

use std::collections::{BTreeSet, HashSet};

use super::contribution::Contributions;
use super::{CaseView, Deferred, Outcome, ProjectionOptions, Snapshot, decide, with_contribution};
use crate::event::CaseEvent;

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
    pub enrichment: Option<EnrichmentResult<'a>>,
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
    /// What to add to the metric aggregates, written with the case item.
    pub metric_deltas: Contributions,
}

impl CaseDecision {
    /// Whether anything must be written.
    pub fn writes(&self) -> bool {
        self.view.is_some() && (self.case_changed || !self.changed_related_items.is_empty())
    }
}

/// Folds `events` (one case, delivery order) onto `stored`. Copies of one event within `events`
/// report `duplicate` after the first; so does an event the stored state already holds.
pub fn decide_case(
    stored: Option<&CaseView>,
    events: &[CaseEvent],
    context: &DecideContext<'_>,
) -> CaseDecision {
    let DecideContext {
        enrichment,
        dimensions,
        options,
    } = *context;
    let mut state = stored.cloned();
    let mut decision = CaseDecision {
        outcomes: Vec::with_capacity(events.len()),
        view: None,
        case_changed: false,
        changed_related_items: BTreeSet::new(),
        metric_deltas: Contributions::new(),
    };
    let mut seen: HashSet<&str> = HashSet::new();
    for event in events {
        if !seen.insert(&event.id) {
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
        state = Some(d.view);
    }
    if let (Some(view), Some(enrichment)) = (state.as_mut(), enrichment) {
        let before = (
            view.fields.clone(),
            view.enrichment.clone(),
            view.deferred.clone(),
            view.status_history.clone(),
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
        // The status the snapshot saw is a fact too: it may date a transition earlier.
        decision.case_changed |= (
            &view.fields,
            &view.enrichment,
            &view.deferred,
            &view.status_history,
        ) != (&before.0, &before.1, &before.2, &before.3);
    }
    if let Some(view) = state {
        let (view, deltas) = with_contribution(stored, view, dimensions);
        decision.metric_deltas = deltas;
        decision.view = Some(view);
    }
    decision
}
