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
//!    did not return get a GetCase: a 404 means their `CASE.DELETED` was lost, and the case
//!    becomes a tombstone marked `deletedBy = reconcile` (no counter is invented).
//!
//! Every Cases call goes through one [`Limiter`]; the checkpoint after every page makes a run
//! resumable. Snapshots go through the same pure core as everything else
//! ([`decide_snapshot`], [`decide_gone`]): never a rollback of a newer event, never a
//! resurrection.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;

use crate::backfill::Limiter;
use crate::backfill::source::{CaseDirectory, CaseSearch, FoundCase};
use crate::enrichment::{CaseReader, ReaderError};
use crate::event::FieldValue;
use crate::projection::{CaseSnapshot, Snapshot, read_time};
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
/// Deferred cases filled between two lease renewals.
const DEFERRED_PAGE: usize = 25;
/// Deferred fills failing on the Cases API in a row that stop the run (two rounds of
/// [`CASES_AT_ONCE`]).
const FAILURES_IN_A_ROW_STOP: usize = 2 * CASES_AT_ONCE;

mod apply;
mod output;
mod types;

use crate::model::now_ms;
pub use output::{emf, parse_window, render};
use output::{time_field, updated_at};
pub use types::*;
use types::{Applied, Checkpoint, Pending, RelatedPass};

pub struct Reconcile<'a, C, S> {
    cases: &'a C,
    store: &'a S,
    limiter: &'a Limiter,
    options: Options,
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
        }
    }

    fn lease_until(&self) -> u64 {
        (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            + self.options.lease)
            .as_secs()
    }

    /// Takes or renews the lease; `Busy` when another run holds it.
    async fn lease(&self) -> Result<(), ReconcileError> {
        let domain = &self.options.domain_id;
        match self
            .store
            .acquire_lease(domain, NAME, &self.options.owner, self.lease_until())
            .await?
        {
            Ok(()) => Ok(()),
            Err(until) => Err(ReconcileError::Busy {
                until: DateTime::from_timestamp(until as i64, 0).unwrap_or_default(),
            }),
        }
    }

    /// One run under the domain's lease, released at the end (also after a failure).
    pub async fn run(&self) -> Result<Summary, ReconcileError> {
        self.lease().await?;
        let result = self.run_leased().await;
        let released = self
            .store
            .release_lease(&self.options.domain_id, NAME, &self.options.owner)
            .await;
        let summary = result?;
        released?;
        Ok(summary)
    }

    async fn run_leased(&self) -> Result<Summary, ReconcileError> {
        let started = std::time::Instant::now();
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

        // 1. Deferred cases.
        let wanted = self.wanted_fields().await?;
        let deferred = self.store.deferred_cases(domain).await?;
        // In pages, renewing the lease after each: a long fill never outlives its lease.
        let mut failures_in_a_row = 0;
        for page in deferred.chunks(DEFERRED_PAGE) {
            let mut results = futures::stream::iter(page)
                .map(|d| {
                    let fields: Vec<String> = if d.fields.is_empty() {
                        wanted.clone()
                    } else {
                        d.fields.clone()
                    };
                    async move { (d.case_id.as_str(), self.refresh(&d.case_id, &fields).await) }
                })
                .buffer_unordered(CASES_AT_ONCE);
            while let Some((case_id, r)) = results.next().await {
                // A deferred case stays in the index until filled: one the Cases API fails for
                // waits for the next run instead of stopping this one. Refusals (access, the
                // domain), read-model failures, and the Cases API failing case after case (it
                // is down: no use calling it for every case left) still stop it.
                let applied = match r {
                    Err(ReconcileError::Cases(e)) => {
                        tracing::warn!(case_id, error = %e, "a deferred case stays deferred");
                        pending.counts.deferred_unfilled += 1;
                        failures_in_a_row += 1;
                        if failures_in_a_row >= FAILURES_IN_A_ROW_STOP {
                            return Err(ReconcileError::Cases(e));
                        }
                        continue;
                    }
                    r => r?,
                };
                failures_in_a_row = 0;
                pending.counts.deferred_filled += u64::from(applied.deferred_cleared);
                pending.counts.tombstones += u64::from(applied.tombstoned);
            }
            self.lease().await?;
        }
        if self.options.deferred_only {
            checkpoint.pending = None;
            return self
                .summary(pending.counts, since, checkpoint.watermark, started)
                .await;
        }

        // 2. Cases updated since the watermark, newest first.
        let mut searched: Vec<String> = vec!["last_updated_datetime".to_owned()];
        searched.extend(
            wanted
                .iter()
                .filter(|f| *f != "last_updated_datetime")
                .cloned(),
        );
        let fetched: Vec<String> = searched.split_off(SEARCH_MAX_FIELDS.min(searched.len()));
        let mut token = pending.token.clone();
        let mut resumed = token.is_some();
        while !pending.cases_done {
            let search = CaseSearch {
                domain_id: domain,
                page_size: self.options.page_size,
                fields: &searched,
                next_token: token.as_deref(),
                newest_first: true,
            };
            let page = match self
                .limiter
                .call("SearchCases", || self.cases.search_cases(&search))
                .await
            {
                // A resumed run's token may have expired: search again from the top.
                Err(ReaderError::Invalid { .. }) if resumed => {
                    resumed = false;
                    token = None;
                    continue;
                }
                page => page?,
            };
            resumed = false;
            let mut reached_watermark = false;
            let mut current = Vec::new();
            for found in &page.cases {
                let updated = updated_at(found);
                if updated.is_some_and(|t| t < since) {
                    reached_watermark = true;
                    break;
                }
                if let Some(t) = updated {
                    pending.newest = Some(pending.newest.map_or(t, |n| n.max(t)));
                }
                current.push(found);
            }
            let results: Vec<Result<Applied, ReconcileError>> = futures::stream::iter(current)
                .map(|found| self.found(found, page.sent_at, &searched, &fetched))
                .buffer_unordered(CASES_AT_ONCE)
                .collect()
                .await;
            for r in results {
                let applied = r?;
                pending.counts.cases_searched += 1;
                pending.counts.cases_created += u64::from(applied.created);
                pending.counts.fields_corrected += applied.fields_changed;
                pending.counts.tombstones += u64::from(applied.tombstoned);
                pending.counts.deferred_filled += u64::from(applied.deferred_cleared);
                pending.counts.cases_corrected +=
                    u64::from(applied.fields_changed > 0 && !applied.created);
            }
            pending
                .seen
                .extend(page.cases.iter().map(|c| c.case_id.clone()));
            pending.counts.pages += 1;
            token = page.next_token.clone().filter(|_| !reached_watermark);
            pending.token = token.clone();
            pending.cases_done = token.is_none();
            checkpoint.pending = Some(pending.clone());
            self.save(&checkpoint).await?;
            self.lease().await?;
        }

        // 3. Related items associated since.
        self.related_items_since(&wanted, &mut pending, &mut checkpoint)
            .await?;

        // 4. Live in the read model, updated since, not found by the search: deleted?
        let statuses = self.statuses().await?;
        let mut candidates: BTreeSet<String> = BTreeSet::new();
        for status in &statuses {
            for case_id in self
                .store
                .live_cases_updated_since(domain, status, since)
                .await?
            {
                if !pending.seen.contains(&case_id) {
                    candidates.insert(case_id);
                }
            }
        }
        let probe = vec!["status".to_owned()];
        let results: Vec<Result<Applied, ReconcileError>> = futures::stream::iter(&candidates)
            .map(|case_id| self.refresh(case_id, &probe))
            .buffer_unordered(CASES_AT_ONCE)
            .collect()
            .await;
        for r in results {
            let applied = r?;
            pending.counts.tombstones += u64::from(applied.tombstoned);
            pending.counts.fields_corrected += applied.fields_changed;
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

    async fn summary(
        &self,
        counts: Counts,
        since: DateTime<Utc>,
        watermark: Option<DateTime<Utc>>,
        started: std::time::Instant,
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
        })
    }

    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), ReconcileError> {
        let raw = serde_json::to_string(checkpoint)
            .map_err(|e| ReconcileError::Checkpoint(e.to_string()))?;
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

    /// A case the search (sent at `searched_at`) returned: its searched fields (absent ones are
    /// empty now) as of the search's data, the rest with GetCase as of its own, applied as a
    /// snapshot.
    async fn found(
        &self,
        found: &FoundCase,
        searched_at: DateTime<Utc>,
        searched: &[String],
        fetched: &[String],
    ) -> Result<Applied, ReconcileError> {
        let mut fields = found.fields.clone();
        for id in searched {
            fields.entry(id.clone()).or_insert(FieldValue::Empty);
        }
        let mut reads = vec![Snapshot {
            as_of: read_time(&fields, searched_at),
            fields,
        }];
        if !fetched.is_empty() {
            let sent_at = now_ms();
            match self.get_case(&found.case_id, fetched).await? {
                Some(values) => reads.push(Snapshot {
                    as_of: read_time(&values, sent_at),
                    fields: values,
                }),
                None => return self.gone(&found.case_id, sent_at).await,
            }
        }
        self.apply(CaseSnapshot {
            case_id: found.case_id.clone(),
            domain_id: self.options.domain_id.clone(),
            template_id: Some(found.template_id.clone()),
            created_at: time_field(&found.fields, "created_datetime"),
            reads,
            related_items: Vec::new(),
            related_read_at: searched_at,
            status_history: Vec::new(),
        })
        .await
    }

    /// Step 3: related items associated since `pending.since`, domain-wide and newest first,
    /// each case's applied as a snapshot; checkpointed after every page. A case the read model
    /// did not hold at all (every event of it lost, and not updated since) also gets its fields.
    async fn related_items_since(
        &self,
        wanted: &[String],
        pending: &mut Pending,
        checkpoint: &mut Checkpoint,
    ) -> Result<(), ReconcileError> {
        let domain = self.options.domain_id.as_str();
        let mut resumed = matches!(pending.related, RelatedPass::At(_));
        loop {
            let token = match &pending.related {
                RelatedPass::Done => return Ok(()),
                RelatedPass::NotStarted => None,
                RelatedPass::At(token) => Some(token.clone()),
            };
            let page = match self
                .limiter
                .call("SearchAllRelatedItems", || {
                    self.cases
                        .search_all_related_items(domain, true, token.as_deref())
                })
                .await
            {
                // A resumed run's token may have expired: read again from the newest.
                Err(ReaderError::Invalid { .. }) if resumed => {
                    resumed = false;
                    pending.related = RelatedPass::NotStarted;
                    continue;
                }
                page => page?,
            };
            resumed = false;
            let since = pending.since;
            let reached_since = page
                .items
                .iter()
                .any(|(_, item)| item.created_at.is_some_and(|t| t < since));
            let recent = page
                .items
                .into_iter()
                .filter(|(_, item)| item.created_at.is_none_or(|t| t >= since));
            let snapshots = CaseSnapshot::of_related_items(domain, page.sent_at, recent);
            let results: Vec<(String, Result<Applied, ReconcileError>)> =
                futures::stream::iter(snapshots)
                    .map(|snapshot| async move {
                        let case_id = snapshot.case_id.clone();
                        let applied = self.apply(snapshot).await;
                        let applied = match applied {
                            // Its case was never seen (or only through items): GetCase. Decided
                            // on the stored state, so a resumed page that failed here does it.
                            Ok(applied) if applied.without_case_data => {
                                self.refresh(&case_id, wanted).await.map(|filled| Applied {
                                    tombstoned: filled.tombstoned,
                                    ..applied
                                })
                            }
                            other => other,
                        };
                        (case_id, applied)
                    })
                    .buffer_unordered(CASES_AT_ONCE)
                    .collect()
                    .await;
            for (case_id, r) in results {
                let applied = r?;
                if applied.tombstoned {
                    pending.counts.tombstones += 1;
                    continue;
                }
                pending.counts.related_items_added += applied.related_added;
                pending.counts.cases_related_added += u64::from(applied.related_added > 0);
                pending.counts.cases_created += u64::from(applied.created);
                if applied.without_case_data {
                    // Filled now: no lost-delete probe for it.
                    pending.seen.insert(case_id);
                }
            }
            pending.counts.pages += 1;
            pending.related = match page.next_token {
                Some(token) if !reached_since => RelatedPass::At(token),
                _ => RelatedPass::Done,
            };
            checkpoint.pending = Some(pending.clone());
            self.save(checkpoint).await?;
            self.lease().await?;
        }
    }
}
