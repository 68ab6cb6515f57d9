//! Applying what the Cases API says to one case: a snapshot, or a tombstone when GetCase says
//! the case does not exist. Every write first makes sure the run still holds its lease.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::output::time_field;
use super::types::Applied;
use super::{Reconcile, ReconcileError};
use crate::backfill::source::CaseDirectory;
use crate::enrichment::CaseReader;
use crate::event::FieldValue;
use crate::model::now_ms;
use crate::projection::{CaseSnapshot, Snapshot, decide_gone, decide_snapshot, read_time};
use crate::store::{DomainStore, ReadModelStore, commit_decision};

impl<C, S> Reconcile<'_, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    /// GetCase for `fields` of a case the read model holds: applied as a snapshot, or a
    /// tombstone when the case does not exist. A requested field the answer leaves out (null,
    /// or a field id the domain does not have) is recorded as null; a `settled` one (not read:
    /// no longer wanted) just stops being deferred, its value left as it is.
    pub(super) async fn refresh(
        &self,
        case_id: &str,
        fields: &[String],
        settled: &[String],
    ) -> Result<Applied, ReconcileError> {
        let sent_at = now_ms();
        let read = if fields.is_empty() {
            Some(BTreeMap::new())
        } else {
            self.get_case(case_id, fields).await?
        };
        match read {
            None => self.gone(case_id, now_ms()).await,
            Some(mut values) => {
                for id in fields {
                    values.entry(id.clone()).or_insert(FieldValue::Empty);
                }
                self.apply(CaseSnapshot {
                    case_id: case_id.to_owned(),
                    domain_id: self.options.domain_id.clone(),
                    template_id: None,
                    created_at: time_field(&values, "created_datetime"),
                    reads: vec![Snapshot {
                        as_of: read_time(&values, sent_at),
                        fields: values,
                    }],
                    related_items: Vec::new(),
                    related_read_at: sent_at,
                    status_history: Vec::new(),
                    settled: settled.to_vec(),
                })
                .await
            }
        }
    }

    /// GetCase in chunks; `None` when the case does not exist (a ResourceNotFoundException
    /// naming it: anything else missing, such as the domain, is a refusal that stops the run).
    pub(super) async fn get_case(
        &self,
        case_id: &str,
        fields: &[String],
    ) -> Result<Option<BTreeMap<String, FieldValue>>, ReconcileError> {
        let domain = self.options.domain_id.as_str();
        let mut values = BTreeMap::new();
        for chunk in fields.chunks(crate::connect_cases::GET_CASE_MAX_FIELDS) {
            match self
                .limiter
                .call("GetCase", || self.cases.get_case(domain, case_id, chunk))
                .await
            {
                Ok(Some(v)) => values.extend(v),
                Ok(None) => return Ok(None),
                Err(e) if e.is_case_gone() => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Some(values))
    }

    pub(super) async fn gone(
        &self,
        case_id: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Applied, ReconcileError> {
        self.hold_lease().await?;
        let committed = commit_decision(self.store, case_id, |stored| {
            decide_gone(stored, received_at, &self.options.dimensions)
        })
        .await?;
        let Some((stored, _)) = committed else {
            return Ok(Applied::default());
        };
        tracing::info!(case_id, "live case not found by GetCase: tombstoned");
        Ok(Applied {
            tombstoned: true,
            deferred_cleared: stored.is_some_and(|s| s.view.deferred.is_some()),
            ..Applied::default()
        })
    }

    /// Applies a read as a snapshot, and says what it changed.
    pub(super) async fn apply(&self, snapshot: CaseSnapshot) -> Result<Applied, ReconcileError> {
        self.hold_lease().await?;
        let committed = commit_decision(self.store, &snapshot.case_id, |stored| {
            decide_snapshot(
                stored,
                &snapshot,
                &self.options.dimensions,
                &self.options.projection,
            )
        })
        .await?;
        let Some((stored, view)) = committed else {
            return Ok(Applied::default());
        };
        let before = stored.as_ref().map(|s| &s.view);
        let (mut fields_changed, mut fields_filled, mut fields_filled_empty) = (0, 0, 0);
        for (id, f) in &view.fields {
            match before.and_then(|b| b.fields.get(id)) {
                Some(old) => fields_changed += u64::from(old.value != f.value),
                None => {
                    fields_filled += 1;
                    fields_filled_empty += u64::from(f.value == FieldValue::Empty);
                }
            }
        }
        let related_added = view
            .related_items
            .keys()
            .filter(|id| before.is_none_or(|b| !b.related_items.contains_key(*id)))
            .count() as u64;
        Ok(Applied {
            created: before.is_none(),
            fields_changed,
            fields_filled: if before.is_none() { 0 } else { fields_filled },
            fields_filled_empty: if before.is_none() {
                0
            } else {
                fields_filled_empty
            },
            tombstoned: false,
            deferred_cleared: before.is_some_and(|b| b.deferred.is_some())
                && view.deferred.is_none(),
            related_added,
            without_case_data: view.version.is_none() && !view.is_deleted(),
        })
    }
}
