//! Step 4: cases the read model holds live and updated since the run's start time that the
//! search did not return get a GetCase: a 404 naming the case means their `CASE.DELETED` was
//! lost, and the case becomes a tombstone.

use std::collections::BTreeSet;

use futures::StreamExt;

use super::types::Pending;
use super::{CASES_AT_ONCE, Reconcile, ReconcileError};
use crate::backfill::source::CaseDirectory;
use crate::enrichment::CaseReader;
use crate::store::{DomainStore, ReadModelStore};

impl<C, S> Reconcile<'_, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    /// Probes every candidate with GetCase (`status` only). However many candidates, the lease
    /// holds: every write renews it when due (see `lease.rs`).
    pub(super) async fn lost_deletes(
        &self,
        statuses: &[String],
        pending: &mut Pending,
    ) -> Result<(), ReconcileError> {
        let domain = self.options.domain_id.as_str();
        let mut candidates: BTreeSet<String> = BTreeSet::new();
        for status in statuses {
            for case_id in self
                .store
                .live_cases_updated_since(domain, status, pending.since)
                .await?
            {
                if !pending.seen.contains(&case_id) {
                    candidates.insert(case_id);
                }
            }
        }
        let probe = vec!["status".to_owned()];
        // Past the deadline no new probe starts; those under way finish.
        let probe = &probe;
        let mut results = futures::stream::iter(&candidates)
            .map(|case_id| async move {
                if self.past_deadline() {
                    return Err(ReconcileError::OutOfTime);
                }
                self.refresh(case_id, probe, &[]).await
            })
            .buffer_unordered(CASES_AT_ONCE);
        let mut out_of_time = false;
        while let Some(r) = results.next().await {
            if matches!(r, Err(ReconcileError::OutOfTime)) {
                out_of_time = true;
                continue;
            }
            let applied = r?;
            pending.counts.tombstones += u64::from(applied.tombstoned);
            pending.counts.add_fields(&applied);
        }
        if out_of_time {
            return Err(ReconcileError::OutOfTime);
        }
        Ok(())
    }
}
