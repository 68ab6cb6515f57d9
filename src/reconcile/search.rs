//! Step 2: SearchCases, newest-updated first, down to the watermark: each case found is applied
//! as a snapshot, so a lost `CASE.UPDATED` (or `CASE.CREATED`) heals.

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::output::{time_field, updated_at};
use super::types::{Applied, Checkpoint, Pending};
use super::{CASES_AT_ONCE, Reconcile, ReconcileError, SEARCH_MAX_FIELDS};
use crate::backfill::source::{CaseDirectory, CaseSearch, FoundCase};
use crate::enrichment::{CaseReader, ReaderError};
use crate::event::FieldValue;
use crate::model::now_ms;
use crate::projection::{CaseSnapshot, Snapshot, read_time};
use crate::store::{DomainStore, ReadModelStore};

impl<C, S> Reconcile<'_, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    /// Pages of cases updated since `pending.since`, checkpointed after every page.
    pub(super) async fn cases_updated_since(
        &self,
        wanted: &[String],
        pending: &mut Pending,
        checkpoint: &mut Checkpoint,
    ) -> Result<(), ReconcileError> {
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
        let since = pending.since;
        while !pending.cases_done {
            if self.past_deadline() {
                return Err(ReconcileError::OutOfTime);
            }
            let search = CaseSearch {
                domain_id: &self.options.domain_id,
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
                let counts = &mut pending.counts;
                counts.cases_searched += 1;
                counts.cases_created += u64::from(applied.created);
                counts.add_fields(&applied);
                counts.tombstones += u64::from(applied.tombstoned);
                counts.deferred_filled += u64::from(applied.deferred_cleared);
                counts.cases_corrected += u64::from(applied.fields_changed > 0 && !applied.created);
            }
            pending
                .seen
                .extend(page.cases.iter().map(|c| c.case_id.clone()));
            pending.counts.pages += 1;
            token = page.next_token.clone().filter(|_| !reached_watermark);
            pending.token = token.clone();
            pending.cases_done = token.is_none();
            checkpoint.pending = Some(pending.clone());
            self.save(checkpoint).await?;
        }
        Ok(())
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
                None => return self.gone(&found.case_id, now_ms()).await,
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
            settled: Vec::new(),
        })
        .await
    }
}
