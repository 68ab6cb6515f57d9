//! What a reconcile run is given, saves and reports.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::enrichment::ReaderError;
use crate::projection::ProjectionOptions;
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct Options {
    pub domain_id: String,
    /// Cases API requests per second, all operations together.
    pub rate: f64,
    /// Look back this far instead of from the watermark.
    pub since: Option<TimeDelta>,
    pub page_size: u32,
    /// `CASE_FIELDS`; `None`: every field of the domain.
    pub case_fields: Option<Vec<String>>,
    pub projection: ProjectionOptions,
    /// How long a lease holds without renewal (renewed by the first write after a third of it).
    pub lease: Duration,
    /// Who runs (written on the lease).
    pub owner: String,
    /// Only fill deferred cases (step 1): no search, no lost-delete check, watermark untouched.
    pub deferred_only: bool,
    /// `REPORT_DIMENSIONS`: what the metric aggregates are grouped by.
    pub dimensions: Vec<String>,
}

/// What a run found and fixed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Deferred cases filled (their wanted fields fetched).
    pub deferred_filled: u64,
    /// Deferred cases a Cases API failure (past the SDK's retries) left deferred: the next run
    /// tries them again.
    #[serde(default)]
    pub deferred_unfilled: u64,
    /// Cases the read model did not hold, found by the search or through a related item.
    pub cases_created: u64,
    /// Field values a snapshot changed (lost updates healed).
    pub fields_corrected: u64,
    /// Field values the read model did not hold before (a deferred fill, a field new to the
    /// case), and how many of them Connect holds empty (GetCase leaves empty fields out: a
    /// field asked for and not answered is stored as an explicit empty value).
    #[serde(default)]
    pub fields_filled: u64,
    #[serde(default)]
    pub fields_filled_empty: u64,
    /// Cases the read model held live (if only through related items) that GetCase answered
    /// 404 for: tombstoned.
    pub tombstones: u64,
    /// Cases SearchCases returned since the watermark.
    pub cases_searched: u64,
    /// Of those, cases the read model held whose fields a snapshot changed.
    pub cases_corrected: u64,
    /// Related items the read model did not hold (lost `RELATED_ITEM.CREATED` healed), and the
    /// cases they belong to.
    #[serde(default)]
    pub related_items_added: u64,
    #[serde(default)]
    pub cases_related_added: u64,
    pub pages: u64,
}

impl Counts {
    /// What one applied read did to the case's fields.
    pub(super) fn add_fields(&mut self, applied: &Applied) {
        self.fields_corrected += applied.fields_changed;
        self.fields_filled += applied.fields_filled;
        self.fields_filled_empty += applied.fields_filled_empty;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Checkpoint {
    /// Newest `last_updated_datetime` a finished run saw.
    pub(super) watermark: Option<DateTime<Utc>>,
    /// An unfinished run.
    pub(super) pending: Option<Pending>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Pending {
    pub(super) since: DateTime<Utc>,
    pub(super) newest: Option<DateTime<Utc>>,
    pub(super) token: Option<String>,
    /// The search reached the watermark (a resumed run goes on with the next step).
    #[serde(default)]
    pub(super) cases_done: bool,
    /// Case ids the search returned (not checked for a lost delete again).
    pub(super) seen: BTreeSet<String>,
    #[serde(default)]
    pub(super) related: RelatedPass,
    pub(super) counts: Counts,
}

/// Where the related-item step of a run stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) enum RelatedPass {
    #[default]
    NotStarted,
    /// Domain-wide, newest first: the next page's token.
    At(String),
    Done,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub counts: Counts,
    /// Deferred cases still waiting after the run, and the age of the oldest.
    pub deferred_left: u64,
    pub oldest_deferred_age: Option<Duration>,
    pub since: DateTime<Utc>,
    pub watermark: Option<DateTime<Utc>>,
    pub calls: BTreeMap<&'static str, u64>,
    pub throttles: u64,
    pub elapsed: Duration,
    /// The run stopped at its deadline with its progress checkpointed: the next run goes on.
    pub stopped_at_deadline: bool,
    /// The run searched for changes since `since` (not a deferred-only run).
    pub searched: bool,
}

impl Summary {
    /// Cases API calls per case changed (created, corrected, tombstoned, filled, or given a
    /// related item it lacked; a case changed twice counts twice).
    pub fn calls_per_changed_case(&self) -> Option<f64> {
        let changed = self.counts.deferred_filled
            + self.counts.cases_created
            + self.counts.tombstones
            + self.counts.cases_corrected
            + self.counts.cases_related_added;
        let calls: u64 = self.calls.values().sum();
        (changed > 0).then(|| calls as f64 / changed as f64)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Another run holds the domain's lease: not a failure, nothing was done.
    #[error("another reconcile of this domain is running (its lease ends at {until})")]
    Busy { until: DateTime<Utc> },
    /// Another run took this run's lease (this one stalled past its end): it stopped before
    /// its next write, and the other run goes on.
    #[error(
        "another reconcile of this domain took over this run's lease (until {until}): this run stopped writing"
    )]
    LeaseLost { until: DateTime<Utc> },
    /// Access denied, or the domain (or anything but a case) missing: an operator must act.
    /// Nothing was written on the strength of that answer.
    #[error("{0}")]
    Refused(ReaderError),
    #[error("Cases API: {0}")]
    Cases(ReaderError),
    #[error("read model: {0}")]
    Store(#[from] StoreError),
    #[error("the checkpoint is unreadable: {0}")]
    Checkpoint(String),
    /// The run's deadline came: within a run only, which then saves where it is and ends with
    /// [`Summary::stopped_at_deadline`].
    #[error("the run's deadline came")]
    OutOfTime,
}

impl From<ReaderError> for ReconcileError {
    fn from(e: ReaderError) -> Self {
        if e.is_refusal() {
            ReconcileError::Refused(e)
        } else {
            ReconcileError::Cases(e)
        }
    }
}

/// What applying one snapshot changed.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Applied {
    pub(super) created: bool,
    pub(super) fields_changed: u64,
    /// Fields the case did not hold before, and of them those Connect holds empty.
    pub(super) fields_filled: u64,
    pub(super) fields_filled_empty: u64,
    pub(super) tombstoned: bool,
    pub(super) deferred_cleared: bool,
    pub(super) related_added: u64,
    /// Live, but nothing of the case itself known (no field, status or version): only related
    /// items.
    pub(super) without_case_data: bool,
}
