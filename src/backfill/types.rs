//! What a backfill is given, saves, reports and fails with.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Plan, RelatedStrategy};
use crate::enrichment::ReaderError;
use crate::projection::ProjectionOptions;
use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refuses to start while an unfinished run's checkpoint exists.
    Fresh,
    Resume,
    Restart,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub domain_id: String,
    /// Cases API requests per second, all operations together.
    pub rate: f64,
    /// SearchCases `maxResults` (1–100; the default 25 is what every documented version takes).
    pub page_size: u32,
    /// Cases not updated since then get no audit calls.
    pub history_since: DateTime<Utc>,
    pub mode: Mode,
    pub dry_run: bool,
    /// Field ids to keep (`CASE_FIELDS`); `None`: every field of the domain.
    pub case_fields: Option<Vec<String>>,
    pub projection: ProjectionOptions,
    /// `REPORT_DIMENSIONS`: what the metric aggregates are grouped by.
    pub dimensions: Vec<String>,
}

/// What a run did so far; saved with the checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub cases: u64,
    pub related_items: u64,
    /// Cases whose audit history was read (its statuses merged into the case's history).
    #[serde(default)]
    pub histories_read: u64,
    pub pages: u64,
    /// Cases deleted between the search that found them and their reads: skipped.
    #[serde(default)]
    pub cases_gone: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Checkpoint {
    pub(super) cases_token: Option<String>,
    pub(super) cases_done: bool,
    pub(super) related_token: Option<String>,
    pub(super) related_done: bool,
    pub(super) strategy: Option<RelatedStrategy>,
    pub(super) total: Option<u64>,
    pub(super) counts: Counts,
    pub(super) finished: bool,
}

/// The end of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub plan: Plan,
    pub counts: Counts,
    pub calls: BTreeMap<&'static str, u64>,
    pub throttles: u64,
    pub elapsed: Duration,
    /// What the run could not do and that is not worth failing it (the templates' names).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// Access denied or unknown domain: an operator must act; exit 2.
    #[error("{0}")]
    Refused(ReaderError),
    #[error("Cases API: {0}")]
    Cases(ReaderError),
    #[error("read model: {0}")]
    Store(#[from] StoreError),
    #[error(
        "an unfinished backfill of this domain has a checkpoint: run with --resume to continue it or --restart to start over"
    )]
    Unfinished,
    #[error(
        "nothing to resume: the domain has no unfinished backfill; run without --resume to start one"
    )]
    NothingToResume,
    #[error("the checkpoint is unreadable: {0}")]
    Checkpoint(String),
}

impl From<ReaderError> for BackfillError {
    fn from(e: ReaderError) -> Self {
        if e.is_refusal() {
            BackfillError::Refused(e)
        } else {
            BackfillError::Cases(e)
        }
    }
}

/// Progress as it happens, for a bar or log lines.
pub trait Progress: Send + Sync {
    fn planned(&self, plan: &Plan);
    fn advanced(&self, counts: &Counts, calls: u64, throttles: u64);
}

/// No progress output.
pub struct Quiet;

impl Progress for Quiet {
    fn planned(&self, _: &Plan) {}
    fn advanced(&self, _: &Counts, _: u64, _: u64) {}
}
