//! Applying what the Cases API says to one case: a snapshot, or a tombstone on 404.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::output::now_ms;
use super::types::Applied;
use super::{MAX_ATTEMPTS, Reconcile, ReconcileError};
use crate::backfill::source::CaseDirectory;
use crate::enrichment::{CaseReader, ReaderError};
use crate::event::FieldValue;
use crate::projection::{CaseSnapshot, decide_gone, decide_snapshot};
use crate::store::{CaseCommit, CommitOutcome, DomainStore, ReadModelStore, StoreError};

impl<C, S> Reconcile<'_, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    /// GetCase for `fields` of a case the read model holds: applied as a snapshot, or a
    /// tombstone on 404.
    pub(super) async fn refresh(
        &self,
        case_id: &str,
        fields: &[String],
    ) -> Result<Applied, ReconcileError> {
        let taken_at = now_ms();
        match self.get_case(case_id, fields).await? {
            None => self.gone(case_id, taken_at).await,
            Some(mut values) => {
                for id in fields {
                    values.entry(id.clone()).or_insert(FieldValue::Empty);
                }
                self.apply(CaseSnapshot {
                    case_id: case_id.to_owned(),
                    domain_id: self.options.domain_id.clone(),
                    template_id: None,
                    created_at: None,
                    taken_at,
                    fields: Some(values),
                    related_items: Vec::new(),
                    status_history: Vec::new(),
                })
                .await
            }
        }
    }

    /// GetCase in chunks; `None` when the case does not exist.
    pub(super) async fn get_case(
        &self,
        case_id: &str,
        fields: &[String],
    ) -> Result<Option<BTreeMap<String, FieldValue>>, ReconcileError> {
        let domain = self.options.domain_id.as_str();
        let mut values = BTreeMap::new();
        for chunk in fields.chunks(crate::connect_cases::GET_CASE_MAX_FIELDS) {
            match self
                .call("GetCase", || self.cases.get_case(domain, case_id, chunk))
                .await
            {
                Ok(Some(v)) => values.extend(v),
                Ok(None) | Err(ReaderError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Some(values))
    }

    pub(super) async fn gone(
        &self,
        case_id: &str,
        taken_at: DateTime<Utc>,
    ) -> Result<Applied, ReconcileError> {
        for attempt in 1..=MAX_ATTEMPTS {
            let stored = self.store.load(case_id).await?;
            let decision = decide_gone(
                stored.as_ref().map(|s| &s.view),
                taken_at,
                &self.options.dimensions,
            );
            let Some(view) = decision.view.as_ref().filter(|_| decision.writes()) else {
                return Ok(Applied::default());
            };
            let commit = CaseCommit {
                previous: stored.as_ref(),
                view,
                related_items: decision
                    .changed_related_items
                    .iter()
                    .filter_map(|id| view.related_items.get(id))
                    .collect(),
                counted_events: Vec::new(),
                metric_deltas: &decision.metric_deltas,
            };
            match self.store.commit(&commit).await? {
                CommitOutcome::Committed { .. } => {
                    tracing::info!(case_id, "live case not found by GetCase: tombstoned");
                    return Ok(Applied {
                        tombstoned: true,
                        deferred_cleared: stored.is_some_and(|s| s.view.deferred.is_some()),
                        ..Applied::default()
                    });
                }
                _ => tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await,
            }
        }
        Err(StoreError::Contention(format!("case {case_id} kept changing")).into())
    }

    /// Load → decide (as a snapshot) → commit, again on a lost race.
    pub(super) async fn apply(&self, snapshot: CaseSnapshot) -> Result<Applied, ReconcileError> {
        for attempt in 1..=MAX_ATTEMPTS {
            let stored = self.store.load(&snapshot.case_id).await?;
            let before = stored.as_ref().map(|s| &s.view);
            let decision = decide_snapshot(
                before,
                &snapshot,
                &self.options.dimensions,
                &self.options.projection,
            );
            let Some(view) = decision.view.as_ref().filter(|_| decision.writes()) else {
                return Ok(Applied::default());
            };
            let commit = CaseCommit {
                previous: stored.as_ref(),
                view,
                related_items: decision
                    .changed_related_items
                    .iter()
                    .filter_map(|id| view.related_items.get(id))
                    .collect(),
                counted_events: Vec::new(),
                metric_deltas: &decision.metric_deltas,
            };
            match self.store.commit(&commit).await? {
                CommitOutcome::Committed { .. } => {
                    let fields_changed = view
                        .fields
                        .iter()
                        .filter(|(id, f)| {
                            match before.and_then(|b| b.fields.get(*id)) {
                                Some(old) => old.value != f.value,
                                // Learning that a field is empty corrects nothing.
                                None => f.value != FieldValue::Empty,
                            }
                        })
                        .count() as u64;
                    return Ok(Applied {
                        created: before.is_none(),
                        fields_changed: if before.is_none() { 0 } else { fields_changed },
                        tombstoned: false,
                        deferred_cleared: before.is_some_and(|b| b.deferred.is_some())
                            && view.deferred.is_none(),
                    });
                }
                _ => tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await,
            }
        }
        Err(StoreError::Contention(format!("case {} kept changing", snapshot.case_id)).into())
    }
}
