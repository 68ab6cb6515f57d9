//! Reconcile: heals what lost events and deferred enrichment leave behind, at a bounded rate.
//!
//! One run, for one domain, under a lease (one run at a time; a crashed run's lease expires):
//! 1. every case in the sparse `byDeferred` index gets its GetCase call and is applied as a
//!    snapshot (404: a tombstone, see below);
//! 2. SearchCases, newest-updated first, down to the last run's watermark (minus a margin):
//!    each case found is applied as a snapshot, so a lost `CASE.UPDATED` (or `CASE.CREATED`)
//!    heals;
//! 3. SearchAllRelatedItems, newest associated first, down to the same time: each case's items
//!    are applied as a snapshot, so a lost `RELATED_ITEM.CREATED` heals whether or not its case
//!    changed since, at one call per 25 items associated since, whatever the number of cases (a
//!    case the read model never saw also gets a GetCase for its fields);
//! 4. cases the read model holds live and updated since then (index `byStatus`) that the search
//!    did not return get a GetCase: a 404 naming the case means their `CASE.DELETED` was lost,
//!    and the case becomes a tombstone marked `deletedBy = reconcile` (no counter is invented).
//!
//! Every Cases call goes through one [`Limiter`], which outlasts any throttling; the checkpoint
//! after every page makes a run resumable. Before it takes the lease a run reads the domain's
//! statuses: a domain that does not exist (wrong id or Region, deleted) stops it before it
//! writes anything. Every write first makes sure the lease is still held (renewing it when a
//! third of it has passed): a run that lost its lease writes nothing more. Snapshots go through
//! the same pure core as everything else ([`decide_snapshot`], [`decide_gone`]): never a
//! rollback of a newer event, never a resurrection.
//!
//! [`decide_snapshot`]: crate::projection::decide_snapshot
//! [`decide_gone`]: crate::projection::decide_gone

use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};

use crate::backfill::Limiter;
use crate::backfill::source::CaseDirectory;
use crate::enrichment::CaseReader;
use crate::model::now_ms;
use crate::store::{DomainStore, ReadModelStore};

/// The checkpoint's and the lease's name.
pub const NAME: &str = "RECONCILE";
/// The search goes this far below the watermark: SearchCases is eventually consistent.
pub const WATERMARK_MARGIN: TimeDelta = TimeDelta::minutes(5);
/// Without a watermark or `--since`: the last day.
pub const FIRST_RUN_WINDOW: TimeDelta = TimeDelta::days(1);
/// SearchCases returns at most this many field values per case.
const SEARCH_MAX_FIELDS: usize = 25;
const CASES_AT_ONCE: usize = 4;

mod apply;
mod deferred;
mod deletes;
pub mod lambda;
mod lease;
mod output;
mod related;
mod search;
mod types;

pub use output::{emf, parse_window, render};
pub use types::*;
use types::{Checkpoint, Pending};

pub struct Reconcile<'a, C, S> {
    cases: &'a C,
    store: &'a S,
    limiter: &'a Limiter,
    options: Options,
    lease: lease::LeaseState,
    /// No new work after then: the run saves where it is and ends.
    deadline: Option<Instant>,
}

impl<'a, C, S> Reconcile<'a, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    pub fn new(cases: &'a C, store: &'a S, limiter: &'a Limiter, options: Options) -> Self {
        Reconcile {
            cases,
            store,
            limiter,
            options,
            lease: lease::LeaseState::default(),
            deadline: None,
        }
    }

    /// Takes no new page or case after `at`: the run checkpoints where it is, releases the lease
    /// and ends with [`Summary::stopped_at_deadline`]; the next run goes on from there.
    pub fn with_deadline(mut self, at: Instant) -> Self {
        self.deadline = Some(at);
        self
    }

    pub(super) fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// One run under the domain's lease, released at the end (also after a failure, unless
    /// another run took it).
    pub async fn run(&self) -> Result<Summary, ReconcileError> {
        // A missing domain (or access denied) is refused here, before anything is written.
        let statuses = self.statuses().await?;
        self.take_lease().await?;
        let result = self.run_leased(&statuses).await;
        let released = self.release_lease().await;
        let summary = result?;
        released?;
        Ok(summary)
    }

    /// After a run was cancelled (its future dropped, e.g. on Ctrl-C): gives the lease up so
    /// the next run need not wait for it to expire. Its checkpoint holds the last page done.
    pub async fn abandon(&self) -> Result<(), ReconcileError> {
        self.release_lease().await
    }

    async fn run_leased(&self, statuses: &[String]) -> Result<Summary, ReconcileError> {
        let started = Instant::now();
        let domain = self.options.domain_id.as_str();
        let mut checkpoint: Checkpoint = match self.store.checkpoint(domain, NAME).await? {
            Some(raw) => {
                serde_json::from_str(&raw).map_err(|e| ReconcileError::Checkpoint(e.to_string()))?
            }
            None => Checkpoint::default(),
        };
        let now = now_ms();
        let since = match (
            self.options.since,
            &checkpoint.pending,
            checkpoint.watermark,
        ) {
            // An unfinished run reaching at least as far back goes on.
            (Some(window), Some(p), _) if p.since <= now - window => p.since,
            (Some(window), _, _) => now - window,
            (None, Some(p), _) => p.since,
            (None, None, Some(w)) => w - WATERMARK_MARGIN,
            (None, None, None) => now - FIRST_RUN_WINDOW,
        };
        let mut pending = match checkpoint.pending.take() {
            // A deferred-only run leaves an unfinished run's progress (and counts) alone.
            Some(p) if p.since == since && !self.options.deferred_only => p,
            _ => Pending {
                since,
                ..Pending::default()
            },
        };

        match self.steps(statuses, &mut pending, &mut checkpoint).await {
            Err(ReconcileError::OutOfTime) => {
                tracing::warn!(
                    domain_id = domain,
                    "the run's deadline came: progress saved, the next run goes on"
                );
                // A deferred-only run leaves the checkpoint as it was.
                if !self.options.deferred_only {
                    checkpoint.pending = Some(pending.clone());
                    self.save(&checkpoint).await?;
                }
                let mut summary = self
                    .summary(pending.counts, since, checkpoint.watermark, started)
                    .await?;
                summary.stopped_at_deadline = true;
                return Ok(summary);
            }
            r => r?,
        }
        if self.options.deferred_only {
            return self
                .summary(pending.counts, since, checkpoint.watermark, started)
                .await;
        }

        let counts = pending.counts.clone();
        // Only a run that reached back to the watermark moves it: a short `--since` after a gap
        // must not skip the gap.
        let reached_back = checkpoint
            .watermark
            .is_none_or(|w| since <= w - WATERMARK_MARGIN);
        if reached_back {
            checkpoint.watermark = match (checkpoint.watermark, pending.newest) {
                (Some(w), Some(n)) => Some(w.max(n)),
                (w, n) => w.or(n),
            };
        }
        checkpoint.pending = None;
        self.save(&checkpoint).await?;

        self.summary(counts, since, checkpoint.watermark, started)
            .await
    }

    /// Steps 1 to 4 (only 1 for a deferred-only run); `OutOfTime` when the deadline came.
    async fn steps(
        &self,
        statuses: &[String],
        pending: &mut Pending,
        checkpoint: &mut Checkpoint,
    ) -> Result<(), ReconcileError> {
        // 1. Deferred cases.
        let wanted = self.wanted_fields().await?;
        self.fill_deferred(&wanted, &mut pending.counts).await?;
        if self.options.deferred_only {
            return Ok(());
        }
        // 2. Cases updated since the watermark, newest first.
        self.cases_updated_since(&wanted, pending, checkpoint)
            .await?;
        // 3. Related items associated since.
        self.related_items_since(&wanted, pending, checkpoint)
            .await?;
        // 4. Live in the read model, updated since, not found by the search: deleted?
        self.lost_deletes(statuses, pending).await
    }

    async fn summary(
        &self,
        counts: Counts,
        since: DateTime<Utc>,
        watermark: Option<DateTime<Utc>>,
        started: Instant,
    ) -> Result<Summary, ReconcileError> {
        let left = self.store.deferred_cases(&self.options.domain_id).await?;
        let oldest = left.iter().map(|d| d.since).min();
        Ok(Summary {
            counts,
            deferred_left: left.len() as u64,
            oldest_deferred_age: oldest.map(|t| (Utc::now() - t).to_std().unwrap_or_default()),
            since,
            watermark,
            calls: self.limiter.calls_by_operation(),
            throttles: self.limiter.throttles(),
            elapsed: started.elapsed(),
            stopped_at_deadline: false,
            searched: !self.options.deferred_only,
        })
    }

    /// Saves the checkpoint, the lease still held.
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), ReconcileError> {
        let raw = serde_json::to_string(checkpoint)
            .map_err(|e| ReconcileError::Checkpoint(e.to_string()))?;
        self.hold_lease().await?;
        self.store
            .put_checkpoint(&self.options.domain_id, NAME, &raw)
            .await?;
        Ok(())
    }

    /// `CASE_FIELDS`, or every field of the domain.
    async fn wanted_fields(&self) -> Result<Vec<String>, ReconcileError> {
        let domain = self.options.domain_id.as_str();
        Ok(match &self.options.case_fields {
            Some(ids) => ids.clone(),
            None => self
                .limiter
                .call("ListFields", || self.cases.list_fields(domain))
                .await?
                .into_iter()
                .map(|f| f.id)
                .collect(),
        })
    }

    /// The values of the `status` field (its options): the partitions of `byStatus`. Counted as
    /// one request: a status field has far fewer options than a page's 100.
    async fn statuses(&self) -> Result<Vec<String>, ReconcileError> {
        let domain = self.options.domain_id.as_str();
        let options = self
            .limiter
            .call("ListFieldOptions", || {
                self.cases.field_options(domain, "status")
            })
            .await?;
        Ok(options.into_keys().collect())
    }
}
