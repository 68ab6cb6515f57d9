//! What became of each record of an invocation, and what the invocation cost. Produced by the
//! projector, read by the entry points (Lambda answer, logs, EMF metrics; `casesctl` output).

use chrono::Utc;

use crate::enrichment::ReaderError;
use crate::event::ParseError;
use crate::projection::Outcome;
use crate::store::StoreError;

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
    /// Records per outcome.
    pub fn counts(&self) -> OutcomeCounts {
        let mut c = OutcomeCounts::default();
        for r in &self.records {
            match &r.outcome {
                RecordOutcome::Done(Outcome::Applied) => c.applied += 1,
                RecordOutcome::Done(Outcome::Stale) => c.stale += 1,
                RecordOutcome::Done(Outcome::Duplicate) => c.duplicate += 1,
                RecordOutcome::Done(Outcome::Skipped(_)) => c.skipped += 1,
                RecordOutcome::Failed { retryable, .. } => {
                    c.failed += 1;
                    c.retryable_failures += usize::from(*retryable);
                }
            }
        }
        c
    }

    pub fn retryable_failures(&self) -> impl Iterator<Item = &RecordReport> {
        self.records
            .iter()
            .filter(|r| r.outcome.is_retryable_failure())
    }
}

/// How many records ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    pub applied: usize,
    pub stale: usize,
    pub duplicate: usize,
    pub skipped: usize,
    /// Every failure, retryable or not.
    pub failed: usize,
    pub retryable_failures: usize,
}

impl std::ops::AddAssign for OutcomeCounts {
    fn add_assign(&mut self, other: Self) {
        self.applied += other.applied;
        self.stale += other.stale;
        self.duplicate += other.duplicate;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.retryable_failures += other.retryable_failures;
    }
}

/// What a chunk cost, for the invocation summary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Work {
    pub write_units: f64,
    /// DynamoDB write requests (a transaction counts one).
    pub write_requests: u32,
    pub get_case_calls: u32,
    /// Cases whose GetCase enrichment was deferred (throttled, or the budget spent).
    pub enrichment_deferred: u32,
}

impl Work {
    pub fn add(&mut self, other: Work) {
        self.write_units += other.write_units;
        self.write_requests += other.write_requests;
        self.get_case_calls += other.get_case_calls;
        self.enrichment_deferred += other.enrichment_deferred;
    }
}

impl RecordReport {
    /// A record that did not parse: nothing is known of it but its message id.
    pub fn malformed(message_id: Option<String>, error: ParseError) -> Self {
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
