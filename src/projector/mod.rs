//! One invocation end to end: group records by case, load each case, let the pure core decide
//! (`projection::decide_case`), commit once per case (up to 32 events per transaction), and
//! report an outcome per record. Shared by the Lambda entry point and `casesctl replay`.

mod enrich;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use crate::enrichment::{CaseReader, Enricher, EnrichmentStatus, NoCases};
use crate::event::{CaseEvent, Change, Invocation, RelatedItemType};
use crate::projection::{
    CaseDecision, DecideContext, EnrichmentResult, Outcome, ProjectionOptions, decide, decide_case,
};
use crate::report::{
    InvocationKind, InvocationReport, RecordError, RecordOutcome, RecordReport, Work,
};
use crate::store::{CaseCommit, CommitOutcome, ReadModelStore, StoreError};

/// Events of one case committed together at most; keeps a transaction well under 100 actions.
pub const EVENTS_PER_COMMIT: usize = 32;
/// Load → decide → commit rounds per chunk before giving up with a retryable error.
pub const MAX_ATTEMPTS: u32 = 8;

pub struct Projector<S, R = NoCases> {
    store: S,
    enricher: Option<Enricher<R>>,
    options: ProjectionOptions,
    case_concurrency: usize,
    /// `REPORT_DIMENSIONS`: what the metric aggregates are grouped by.
    dimensions: Vec<String>,
}

impl<S: ReadModelStore> Projector<S, NoCases> {
    /// A projector that uses only what events carry.
    pub fn new(store: S, options: ProjectionOptions, case_concurrency: usize) -> Self {
        Projector::from_parts(store, None, options, case_concurrency)
    }

    /// Fills what events leave out with GetCase, through `enricher`.
    pub fn with_enricher<R: CaseReader>(self, enricher: Enricher<R>) -> Projector<S, R> {
        let Projector {
            store,
            options,
            case_concurrency,
            ..
        } = self;
        Projector::from_parts(store, Some(enricher), options, case_concurrency)
    }
}

impl<S: ReadModelStore, R: CaseReader> Projector<S, R> {
    pub fn from_parts(
        store: S,
        enricher: Option<Enricher<R>>,
        options: ProjectionOptions,
        case_concurrency: usize,
    ) -> Self {
        Projector {
            store,
            enricher,
            options,
            case_concurrency: case_concurrency.max(1),
            dimensions: Vec::new(),
        }
    }

    /// Groups the metric aggregates by these field ids too (besides template and status).
    pub fn with_dimensions(mut self, dimensions: Vec<String>) -> Self {
        self.dimensions = dimensions;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Projects every record of one invocation; never fails as a whole. Records of different
    /// cases run concurrently (bounded), records of one case in the order given. Work still
    /// running at `deadline` is reported as a retryable failure.
    pub async fn handle(
        &self,
        invocation: Invocation,
        deadline: Option<Instant>,
    ) -> InvocationReport {
        let (kind, unrecognised) = match &invocation {
            Invocation::EventBridge(_) => (InvocationKind::EventBridge, None),
            Invocation::Sqs(_) => (InvocationKind::Sqs, None),
            Invocation::Events(_) => (InvocationKind::Events, None),
            Invocation::Unrecognised(e) => (InvocationKind::Unrecognised, Some(e.to_string())),
        };
        let mut reports = Vec::new();
        let mut events: Vec<(usize, CaseEvent)> = Vec::new();
        for (index, record) in invocation.into_records().into_iter().enumerate() {
            let (report, event) = match record.event {
                Err(e) => (RecordReport::malformed(record.message_id, e), None),
                Ok(event) => {
                    let report = RecordReport {
                        message_id: record.message_id,
                        event_id: Some(event.id.clone()),
                        case_id: Some(event.case_id.clone()).filter(|c| !c.is_empty()),
                        event_type: Some(event.event_type()),
                        changed_at: Some(event.changed_at),
                        outcome: RecordOutcome::Failed {
                            error: "not processed".into(),
                            retryable: true,
                        },
                    };
                    (report, Some(event))
                }
            };
            reports.push(report);
            if let Some(event) = event {
                if needs_store(&event) {
                    events.push((index, event));
                } else {
                    let d = decide(None, &event, &self.options);
                    reports[index].outcome = RecordOutcome::Done(d.outcome);
                }
            }
        }

        let mut by_case: Vec<(String, Vec<(usize, CaseEvent)>)> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        for (index, event) in events {
            let slot = *position.entry(event.case_id.clone()).or_insert_with(|| {
                by_case.push((event.case_id.clone(), Vec::new()));
                by_case.len() - 1
            });
            by_case[slot].1.push((index, event));
        }

        let flat = events_flat(&by_case);
        self.describe_new_fields(&flat).await;
        self.name_new_templates(&flat).await;
        let mut work = Work::default();
        let mut results = futures::stream::iter(by_case)
            .map(|(_, events)| async move {
                let indexes: Vec<usize> = events.iter().map(|(i, _)| *i).collect();
                let work = self.project_case(events);
                match deadline {
                    Some(deadline) => tokio::time::timeout_at(deadline, work)
                        .await
                        .unwrap_or_else(|_| {
                            let err = || RecordError::DeadlineExceeded.to_string();
                            (
                                indexes
                                    .iter()
                                    .map(|i| {
                                        (
                                            *i,
                                            RecordOutcome::Failed {
                                                error: err(),
                                                retryable: true,
                                            },
                                        )
                                    })
                                    .collect(),
                                Work::default(),
                            )
                        }),
                    None => work.await,
                }
            })
            .buffer_unordered(self.case_concurrency);
        while let Some((outcomes, case_work)) = results.next().await {
            work.add(case_work);
            for (index, outcome) in outcomes {
                reports[index].outcome = outcome;
            }
        }
        InvocationReport {
            kind,
            records: reports,
            unrecognised,
            work,
        }
    }

    /// All events of one case, in order, committed in as few transactions as possible.
    async fn project_case(
        &self,
        events: Vec<(usize, CaseEvent)>,
    ) -> (Vec<(usize, RecordOutcome)>, Work) {
        let mut outcomes = Vec::with_capacity(events.len());
        let mut work = Work::default();
        let (indexes, mut events): (Vec<usize>, Vec<CaseEvent>) = events.into_iter().unzip();
        for chunk_indexes in indexes.chunks(EVENTS_PER_COMMIT) {
            let chunk: Vec<CaseEvent> = events.drain(..chunk_indexes.len()).collect();
            match self.project_chunk(chunk).await {
                Ok((chunk_outcomes, chunk_work)) => {
                    work.add(chunk_work);
                    outcomes.extend(
                        chunk_indexes
                            .iter()
                            .copied()
                            .zip(chunk_outcomes.into_iter().map(RecordOutcome::Done)),
                    );
                }
                Err(e) => {
                    let retryable = e.is_retryable();
                    let error = e.to_string();
                    outcomes.extend(chunk_indexes.iter().map(|i| {
                        (
                            *i,
                            RecordOutcome::Failed {
                                error: error.clone(),
                                retryable,
                            },
                        )
                    }));
                }
            }
        }
        (outcomes, work)
    }

    /// Load → decide (fold) → commit conditionally on the loaded revision; on a lost race,
    /// reload and decide again.
    async fn project_chunk(
        &self,
        mut events: Vec<CaseEvent>,
    ) -> Result<(Vec<Outcome>, Work), RecordError> {
        let case_id = events[0].case_id.clone();
        let case_id = &case_id;
        let mut work = Work::default();
        let mut stored = self.store.load(case_id).await?;
        // Enrich once per chunk; the snapshot stays valid across reloads (it carries its time).
        let enrichment = self.enrich(&mut events, stored.as_ref(), &mut work).await?;
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 {
                stored = self.store.load(case_id).await?;
            }
            let decision = decide_case(
                stored.as_ref().map(|s| &s.view),
                &events,
                &DecideContext {
                    enrichment: enrichment.as_ref().map(|e| EnrichmentResult {
                        snapshot: e.snapshot.as_ref(),
                        status: e.status.label(),
                        deferred: match &e.status {
                            EnrichmentStatus::Deferred(d) => Some(d),
                            _ => None,
                        },
                    }),
                    dimensions: &self.dimensions,
                    options: &self.options,
                },
            );
            if !decision.writes() {
                return Ok((decision.outcomes, work));
            }
            let CaseDecision {
                outcomes,
                view: Some(view),
                changed_related_items,
                metric_deltas,
                ..
            } = decision
            else {
                return Ok((decision.outcomes, work));
            };
            let commit = CaseCommit {
                previous: stored.as_ref(),
                view: &view,
                related_items: changed_related_items
                    .iter()
                    .filter_map(|id| view.related_items.get(id))
                    .collect(),
                metric_deltas: &metric_deltas,
            };
            match self.store.commit(&commit).await {
                Ok(CommitOutcome::Committed {
                    write_units,
                    write_requests,
                }) => {
                    work.write_units += write_units;
                    work.write_requests += write_requests;
                    return Ok((outcomes, work));
                }
                Ok(CommitOutcome::RevisionConflict) => backoff(attempt).await,
                Err(StoreError::Contention(_)) if attempt < MAX_ATTEMPTS => backoff(attempt).await,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecordError::Contended(MAX_ATTEMPTS))
    }
}

fn events_flat(by_case: &[(String, Vec<(usize, CaseEvent)>)]) -> Vec<&CaseEvent> {
    by_case
        .iter()
        .flat_map(|(_, events)| events.iter().map(|(_, e)| e))
        .collect()
}

/// Unknown event and related-item types are decided without touching the store.
fn needs_store(event: &CaseEvent) -> bool {
    match &event.change {
        Change::Unknown { .. } => false,
        Change::RelatedItem(r) => !matches!(r.item.item_type, RelatedItemType::Unknown(_)),
        Change::Case(_) => true,
    }
}

/// Exponential backoff with full jitter, so writers racing on one case spread out. The jitter
/// comes from the clock's nanoseconds: no random number generator needed, and two invocations
/// rarely read the same value.
async fn backoff(attempt: u32) {
    let ceiling = 5u64 << attempt.min(6);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let millis = ceiling / 2 + u64::from(nanos) % ceiling.max(1);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}
