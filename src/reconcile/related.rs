//! Step 3: SearchAllRelatedItems, newest associated first, down to the run's start time: each
//! case's items are applied as a snapshot, so a lost `RELATED_ITEM.CREATED` heals.

use futures::StreamExt;

use super::types::{Applied, Checkpoint, Pending, RelatedPass};
use super::{CASES_AT_ONCE, Reconcile, ReconcileError};
use crate::backfill::source::CaseDirectory;
use crate::enrichment::{CaseReader, ReaderError};
use crate::projection::CaseSnapshot;
use crate::store::{DomainStore, ReadModelStore};

impl<C, S> Reconcile<'_, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    /// Step 3: related items associated since `pending.since`, domain-wide and newest first,
    /// each case's applied as a snapshot; checkpointed after every page. A case the read model
    /// did not hold at all (every event of it lost, and not updated since) also gets its fields.
    pub(super) async fn related_items_since(
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
            if self.past_deadline() {
                return Err(ReconcileError::OutOfTime);
            }
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
                            Ok(applied) if applied.without_case_data => self
                                .refresh(&case_id, wanted, &[])
                                .await
                                .map(|filled| Applied {
                                    tombstoned: filled.tombstoned,
                                    ..applied
                                }),
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
        }
    }
}
