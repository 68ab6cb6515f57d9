//! One case of a backfill: its reads (the search's fields, GetCase for the rest, related items
//! per case, audit history), each as of its own data, applied through the pure core.

use chrono::{DateTime, Utc};

use super::source::{CaseDirectory, FoundCase};
use super::{Backfill, BackfillError, RelatedStrategy, history};
use crate::enrichment::CaseReader;
use crate::event::FieldValue;
use crate::model::now_ms;
use crate::projection::{CaseSnapshot, Snapshot, decide_snapshot, read_time};
use crate::store::{DomainStore, ReadModelStore, commit_decision};

/// Related items of one case committed together at most: with the case item, its overflow and
/// the aggregate updates, well under a transaction's 100 items.
const RELATED_ITEMS_PER_COMMIT: usize = 40;

impl<C, S> Backfill<'_, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    /// One case found by a search sent at `searched_at`: fields, related items (per case),
    /// history; returns (related items read, whether its history was read), or `None` when the
    /// case was deleted since the search found it: it is skipped (nothing written for it; its
    /// delete event, or reconcile, makes it a tombstone).
    pub(super) async fn case(
        &self,
        found: &FoundCase,
        searched_at: DateTime<Utc>,
        fetched: &[String],
        strategy: RelatedStrategy,
    ) -> Result<Option<(u64, bool)>, BackfillError> {
        let domain = self.options.domain_id.as_str();
        // Each read as of its own data: the search's, then each GetCase's.
        let mut reads = vec![Snapshot {
            as_of: read_time(&found.fields, searched_at),
            fields: found.fields.clone(),
        }];
        for chunk in fetched.chunks(crate::connect_cases::GET_CASE_MAX_FIELDS) {
            let sent_at = now_ms();
            let got = self
                .limiter
                .call("GetCase", || {
                    self.cases.get_case(domain, &found.case_id, chunk)
                })
                .await;
            match got {
                Ok(Some(values)) => reads.push(Snapshot {
                    as_of: read_time(&values, sent_at),
                    fields: values,
                }),
                // Deleted since the search.
                Ok(None) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        let mut related_items = Vec::new();
        let mut related_read_at = searched_at;
        if strategy == RelatedStrategy::PerCase {
            let mut token: Option<String> = None;
            loop {
                let page = match self
                    .limiter
                    .call("SearchRelatedItems", || {
                        self.cases
                            .search_related_items(domain, &found.case_id, token.as_deref())
                    })
                    .await
                {
                    Err(e) if e.is_case_gone() => return Ok(None),
                    page => page?,
                };
                // The earliest page's: no item read is newer than that.
                related_read_at = related_read_at.min(page.sent_at);
                related_items.extend(page.items.into_iter().map(|(_, item)| item));
                token = page.next_token;
                if token.is_none() {
                    break;
                }
            }
        }
        let time = |id: &str| match found.fields.get(id) {
            Some(FieldValue::String(t)) => t.parse::<DateTime<Utc>>().ok(),
            _ => None,
        };
        let mut status_history = Vec::new();
        let history_read =
            time("last_updated_datetime").is_none_or(|t| t >= self.options.history_since);
        if history_read {
            let mut token: Option<String> = None;
            let mut audit = Vec::new();
            loop {
                let page = match self
                    .limiter
                    .call("GetCaseAuditEvents", || {
                        self.cases
                            .audit_events(domain, &found.case_id, token.as_deref())
                    })
                    .await
                {
                    Err(e) if e.is_case_gone() => return Ok(None),
                    page => page?,
                };
                audit.extend(page.events);
                token = page.next_token;
                if token.is_none() {
                    break;
                }
            }
            status_history = history::status_history(&found.case_id, &audit);
        }
        let items = related_items.len() as u64;
        self.apply(CaseSnapshot {
            case_id: found.case_id.clone(),
            domain_id: domain.to_owned(),
            template_id: Some(found.template_id.clone()),
            created_at: time("created_datetime"),
            reads,
            related_items,
            related_read_at,
            status_history,
            settled: Vec::new(),
        })
        .await?;
        Ok(Some((items, history_read)))
    }

    /// Applies a read as a snapshot.
    pub(super) async fn apply(&self, snapshot: CaseSnapshot) -> Result<(), BackfillError> {
        for part in snapshot.in_parts(RELATED_ITEMS_PER_COMMIT) {
            commit_decision(self.store, &part.case_id, |stored| {
                decide_snapshot(
                    stored,
                    &part,
                    &self.options.dimensions,
                    &self.options.projection,
                )
            })
            .await?;
        }
        Ok(())
    }
}
