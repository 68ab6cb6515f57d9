//! One invocation end to end: group records by case, project each case's events with the pure
//! core, commit once per case, and report an outcome per record. Shared by the Lambda entry
//! point and `casesctl replay`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::time::Instant;

use chrono::{TimeDelta, Utc};

use crate::enrichment::plan::{FetchContext, fields_to_fetch, fill_configured_nulls};
use crate::enrichment::{CaseReader, Enricher, Enrichment, NoCases, ReaderError};
use crate::event::{CaseEvent, Change, Invocation, ParseError, RelatedItemType};
use crate::projection::{
    CaseDecision, EnrichmentResult, Outcome, ProjectionOptions, decide, decide_case,
};
use crate::store::{CaseCommit, CommitOutcome, ReadModelStore, StoreError, StoredCase};

/// Events of one case committed together at most; keeps a transaction well under 100 actions.
const EVENTS_PER_COMMIT: usize = 32;
/// Load → decide → commit rounds per chunk before giving up with a retryable error.
const MAX_ATTEMPTS: u32 = 8;
/// Time kept back from Lambda's deadline to report the batch.
const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

/// Why one record was not projected.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The same bytes would fail forever: acknowledged, never retried.
    #[error("malformed record: {0}")]
    Malformed(#[from] ParseError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("case kept changing concurrently: gave up after {0} attempts")]
    Contended(u32),
    #[error("invocation time budget ran out before the record was written")]
    DeadlineExceeded,
    #[error("enrichment: {0}")]
    Enrichment(#[from] ReaderError),
}

impl RecordError {
    pub fn is_retryable(&self) -> bool {
        match self {
            RecordError::Malformed(_) => false,
            RecordError::Store(e) => e.is_retryable(),
            RecordError::Contended(_) | RecordError::DeadlineExceeded => true,
            RecordError::Enrichment(e) => e.is_retryable(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Done(Outcome),
    Failed { error: String, retryable: bool },
}

impl RecordOutcome {
    pub fn label(&self) -> &'static str {
        match self {
            RecordOutcome::Done(o) => o.as_str(),
            RecordOutcome::Failed { .. } => "failed",
        }
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            RecordOutcome::Done(Outcome::Skipped(r)) => Some(r.as_str().to_owned()),
            RecordOutcome::Failed { error, retryable } => Some(format!(
                "{}{error}",
                if *retryable { "retryable: " } else { "" }
            )),
            RecordOutcome::Done(_) => None,
        }
    }

    pub fn is_retryable_failure(&self) -> bool {
        matches!(
            self,
            RecordOutcome::Failed {
                retryable: true,
                ..
            }
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordReport {
    pub message_id: Option<String>,
    pub event_id: Option<String>,
    pub case_id: Option<String>,
    pub event_type: Option<String>,
    /// The event's `approximateChangeTime`, for the end-to-end lag metric.
    pub changed_at: Option<chrono::DateTime<Utc>>,
    pub outcome: RecordOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationKind {
    EventBridge,
    Sqs,
    Events,
    Unrecognised,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvocationReport {
    pub kind: InvocationKind,
    pub records: Vec<RecordReport>,
    /// Why the payload as a whole was not recognised, if it was not.
    pub unrecognised: Option<String>,
    /// DynamoDB write capacity consumed and GetCase requests made.
    pub work: Work,
}

impl InvocationReport {
    pub fn count(&self, label: &str) -> usize {
        self.records
            .iter()
            .filter(|r| r.outcome.label() == label)
            .count()
    }

    pub fn retryable_failures(&self) -> impl Iterator<Item = &RecordReport> {
        self.records
            .iter()
            .filter(|r| r.outcome.is_retryable_failure())
    }

    /// The SQS partial-batch response: exactly the messages that failed retryably. Malformed
    /// messages are left out on purpose: redelivering them cannot succeed (they are logged).
    pub fn sqs_response(&self) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = self
            .retryable_failures()
            .filter_map(|r| r.message_id.clone())
            .map(|id| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                failure
            })
            .collect();
        response
    }
}

/// A retryable failure of a whole direct invocation: returned as the Lambda error so Lambda
/// (or EventBridge) delivers the event again.
#[derive(Debug, thiserror::Error)]
#[error("{failed} record(s) failed retryably; first: {first}")]
pub struct RetryInvocation {
    pub failed: usize,
    pub first: String,
}

/// Maps a report to what Lambda should return.
pub fn lambda_response(report: &InvocationReport) -> Result<Value, RetryInvocation> {
    match report.kind {
        InvocationKind::Sqs => {
            // A retryable failure without a message id cannot be named: retry the whole batch.
            if let Some(r) = report.retryable_failures().find(|r| r.message_id.is_none()) {
                return Err(RetryInvocation {
                    failed: 1,
                    first: r.outcome.reason().unwrap_or_default(),
                });
            }
            Ok(serde_json::to_value(report.sqs_response()).unwrap_or(Value::Null))
        }
        _ => {
            let failed: Vec<_> = report.retryable_failures().collect();
            match failed.first() {
                Some(first) => Err(RetryInvocation {
                    failed: failed.len(),
                    first: first.outcome.reason().unwrap_or_default(),
                }),
                None => Ok(json!({
                    "records": report.records.len(),
                    "applied": report.count("applied"),
                    "failed": report.count("failed"),
                })),
            }
        }
    }
}

pub struct Projector<S, R = NoCases> {
    store: S,
    enricher: Option<Enricher<R>>,
    options: ProjectionOptions,
    case_concurrency: usize,
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
        }
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
                    let d = decide(None, &event, None, &self.options);
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

        self.describe_new_fields(&events_flat(&by_case)).await;
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
        let report = InvocationReport {
            kind,
            records: reports,
            unrecognised,
            work,
        };
        log_report(&report);
        report
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
        let mut already_counted: HashSet<String> = HashSet::new();
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 {
                stored = self.store.load(case_id).await?;
            }
            let decision = decide_case(
                stored.as_ref().map(|s| &s.view),
                &events,
                &already_counted,
                enrichment.as_ref().map(|e| EnrichmentResult {
                    snapshot: e.snapshot.as_ref(),
                    status: e.status.label(),
                }),
                &self.options,
            );
            if !decision.writes() {
                return Ok((decision.outcomes, work));
            }
            let CaseDecision {
                outcomes,
                view: Some(view),
                changed_related_items,
                counted,
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
                counted_events: counted,
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
                Ok(CommitOutcome::AlreadyCounted { event_ids }) => {
                    // Those events were fully applied by an earlier delivery: drop them and retry.
                    already_counted.extend(event_ids);
                }
                Ok(CommitOutcome::RevisionConflict) => backoff(attempt).await,
                Err(StoreError::Contention(_)) if attempt < MAX_ATTEMPTS => backoff(attempt).await,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecordError::Contended(MAX_ATTEMPTS))
    }

    /// Makes configured-but-absent fields explicit nulls and fetches, at most once, the fields
    /// the events leave out (see [`crate::enrichment::plan`]).
    async fn enrich(
        &self,
        events: &mut [CaseEvent],
        stored: Option<&StoredCase>,
        work: &mut Work,
    ) -> Result<Option<Enrichment>, RecordError> {
        let Some(enricher) = &self.enricher else {
            return Ok(None);
        };
        if !events.iter().any(|e| matches!(e.change, Change::Case(_))) {
            return Ok(None);
        }
        let first = &events[0];
        let (domain_id, case_id) = (first.domain_id.clone(), first.case_id.clone());
        let mut facts = enricher.facts(&domain_id).await?;
        // A carried field the cached configuration lacks: the configuration changed since.
        let carries_unconfigured = |e: &CaseEvent| match &e.change {
            Change::Case(c) => c
                .fields
                .iter()
                .flatten()
                .any(|(id, _)| !facts.configured.contains(id)),
            _ => false,
        };
        if !facts.configured.is_empty()
            && events.iter().any(carries_unconfigured)
            && enricher.forget_facts(&domain_id).await
        {
            facts = enricher.facts(&domain_id).await?;
        }
        for event in events.iter_mut() {
            fill_configured_nulls(event, &facts.configured);
        }
        let settings = enricher.settings();
        let context = FetchContext {
            wanted: &facts.wanted,
            configured: &facts.configured,
            stored: stored.map(|s| &s.view),
            // Stored with millisecond precision: keep the cached state equal to the stored one.
            now: chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis())
                .unwrap_or_else(Utc::now),
            max_snapshot_age: TimeDelta::from_std(settings.max_snapshot_age)
                .unwrap_or(TimeDelta::MAX),
        };
        let refs: Vec<&CaseEvent> = events.iter().collect();
        let needed = fields_to_fetch(&context, &refs);
        if needed.is_empty() {
            return Ok(None);
        }
        work.get_case_calls += 1;
        let enrichment = enricher
            .fetch(&domain_id, &case_id, &needed, context.now)
            .await?;
        Ok(Some(enrichment))
    }

    /// Stores names, types and option labels of fields the read model has not described yet.
    /// Best effort: a failure is logged and retried with the next event naming the field.
    async fn describe_new_fields(&self, events: &[&CaseEvent]) {
        let Some(enricher) = &self.enricher else {
            return;
        };
        let mut by_domain: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for e in events {
            if let Change::Case(c) = &e.change {
                let ids = by_domain.entry(&e.domain_id).or_default();
                ids.extend(c.changed_field_ids.iter().cloned());
                ids.extend(c.fields.iter().flat_map(|f| f.keys().cloned()));
            }
        }
        for (domain_id, ids) in by_domain {
            let unknown = enricher
                .undescribed(domain_id, &ids, || async {
                    self.store
                        .described_fields(domain_id)
                        .await
                        .unwrap_or_default()
                })
                .await;
            if unknown.is_empty() {
                continue;
            }
            let result = match enricher.describe(domain_id, &unknown).await {
                Ok(infos) => self
                    .store
                    .put_field_metadata(domain_id, &infos)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(()) => {
                    enricher.mark_described(domain_id, &unknown).await;
                    tracing::info!(domain_id, fields = unknown.len(), "described new fields");
                }
                Err(error) => tracing::warn!(domain_id, %error, "could not describe new fields"),
            }
        }
    }
}

/// What a chunk cost, for the invocation summary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Work {
    pub write_units: f64,
    /// DynamoDB write requests (a transaction counts one).
    pub write_requests: u32,
    pub get_case_calls: u32,
}

impl Work {
    fn add(&mut self, other: Work) {
        self.write_units += other.write_units;
        self.write_requests += other.write_requests;
        self.get_case_calls += other.get_case_calls;
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

impl RecordReport {
    /// A record that did not parse: nothing is known of it but its message id.
    fn malformed(message_id: Option<String>, error: ParseError) -> Self {
        let error = RecordError::Malformed(error);
        RecordReport {
            message_id,
            event_id: None,
            case_id: None,
            event_type: None,
            changed_at: None,
            outcome: RecordOutcome::Failed {
                retryable: error.is_retryable(),
                error: error.to_string(),
            },
        }
    }
}

/// One line per record and one summary line. Ids, types and outcomes only: never field values,
/// comment bodies or other customer content.
fn log_report(report: &InvocationReport) {
    if let Some(why) = &report.unrecognised {
        tracing::error!(error = %why, "unrecognised payload acknowledged without processing");
    }
    for r in &report.records {
        let reason = r.outcome.reason();
        let fields = (
            r.message_id.as_deref().unwrap_or(""),
            r.event_id.as_deref().unwrap_or(""),
            r.case_id.as_deref().unwrap_or(""),
            r.event_type.as_deref().unwrap_or(""),
        );
        match &r.outcome {
            RecordOutcome::Failed { retryable, .. } => tracing::warn!(
                message_id = fields.0,
                event_id = fields.1,
                case_id = fields.2,
                event_type = fields.3,
                outcome = "failed",
                retryable,
                reason = reason.as_deref().unwrap_or(""),
                "record"
            ),
            outcome => tracing::info!(
                message_id = fields.0,
                event_id = fields.1,
                case_id = fields.2,
                event_type = fields.3,
                outcome = outcome.label(),
                reason = reason.as_deref().unwrap_or(""),
                "record"
            ),
        }
    }
    tracing::info!(
        kind = ?report.kind,
        received = report.records.len(),
        applied = report.count("applied"),
        stale = report.count("stale"),
        duplicate = report.count("duplicate"),
        skipped = report.count("skipped"),
        failed = report.count("failed"),
        retryable_failures = report.retryable_failures().count(),
        write_units = report.work.write_units,
        write_requests = report.work.write_requests,
        get_case_calls = report.work.get_case_calls,
        "invocation summary"
    );
}

/// The Lambda entry: detect the payload, project it, map the report to Lambda's answer.
pub async fn lambda_handler<S: ReadModelStore, R: CaseReader>(
    projector: &Projector<S, R>,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    crate::telemetry::set_request_id(&event.context.request_id);
    // Stop early enough to report: whatever is unfinished then fails retryably. A deadline in
    // the past is not Lambda's (cargo lambda's emulator sends a relative 600000): rely on the
    // store timeouts alone then.
    let deadline = match event
        .context
        .deadline()
        .duration_since(std::time::SystemTime::now())
    {
        Ok(remaining) => Some(Instant::now() + remaining.saturating_sub(DEADLINE_MARGIN)),
        Err(_) => None,
    };
    let report = projector
        .handle(crate::event::parse_invocation(event.payload), deadline)
        .await;
    let function_name =
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    println!(
        "{}",
        crate::metrics::emf(&report, &function_name, Utc::now())
    );
    lambda_response(&report).map_err(Into::into)
}
