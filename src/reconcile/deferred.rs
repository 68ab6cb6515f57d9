//! Step 1: every case of the `byDeferred` index gets its GetCase call, for the deferred fields
//! still wanted, and is applied as a snapshot.

use std::collections::HashSet;

use futures::StreamExt;

use super::types::Counts;
use super::{CASES_AT_ONCE, Reconcile, ReconcileError};
use crate::backfill::source::CaseDirectory;
use crate::enrichment::CaseReader;
use crate::store::{DeferredCase, DomainStore, ReadModelStore};

/// Deferred fills failing on the Cases API in a row that stop the run (two rounds of
/// [`CASES_AT_ONCE`]).
const FAILURES_IN_A_ROW_STOP: usize = 2 * CASES_AT_ONCE;

/// What to do for one deferred case: the fields to read, and those to record as null (no longer
/// wanted, or the domain no longer has them: their deferral is settled, the case leaves the
/// index).
#[derive(Debug, PartialEq)]
pub(super) struct Fill {
    pub(super) read: Vec<String>,
    pub(super) settled: Vec<String>,
}

/// The deferred fields intersected with those wanted now (all wanted ones when none are named).
pub(super) fn fill_of(deferred: &DeferredCase, wanted: &[String]) -> Fill {
    if deferred.fields.is_empty() {
        return Fill {
            read: wanted.to_vec(),
            settled: Vec::new(),
        };
    }
    let wanted: HashSet<&String> = wanted.iter().collect();
    let (read, settled) = deferred
        .fields
        .iter()
        .cloned()
        .partition(|f| wanted.contains(f));
    Fill { read, settled }
}

impl<C, S> Reconcile<'_, C, S>
where
    C: CaseDirectory + CaseReader,
    S: ReadModelStore + DomainStore,
{
    pub(super) async fn fill_deferred(
        &self,
        wanted: &[String],
        counts: &mut Counts,
    ) -> Result<(), ReconcileError> {
        let deferred = self.store.deferred_cases(&self.options.domain_id).await?;
        let mut failures_in_a_row = 0;
        // Past the deadline no new case starts; those under way finish.
        let mut results = futures::stream::iter(&deferred)
            .map(|d| async move {
                if self.past_deadline() {
                    return (d.case_id.as_str(), Err(ReconcileError::OutOfTime));
                }
                let fill = fill_of(d, wanted);
                let applied = self.refresh(&d.case_id, &fill.read, &fill.settled).await;
                (d.case_id.as_str(), applied)
            })
            .buffer_unordered(CASES_AT_ONCE);
        let mut out_of_time = false;
        while let Some((case_id, r)) = results.next().await {
            if matches!(r, Err(ReconcileError::OutOfTime)) {
                out_of_time = true;
                continue;
            }
            // A deferred case stays in the index until filled: one the Cases API fails for waits
            // for the next run instead of stopping this one. Refusals (access, the domain), the
            // lease lost, read-model failures, and the Cases API failing case after case (it is
            // down: no use calling it for every case left) still stop it.
            let applied = match r {
                Err(ReconcileError::Cases(e)) => {
                    tracing::warn!(case_id, error = %e, "a deferred case stays deferred");
                    counts.deferred_unfilled += 1;
                    failures_in_a_row += 1;
                    if failures_in_a_row >= FAILURES_IN_A_ROW_STOP {
                        return Err(ReconcileError::Cases(e));
                    }
                    continue;
                }
                r => r?,
            };
            failures_in_a_row = 0;
            counts.deferred_filled += u64::from(applied.deferred_cleared);
            counts.tombstones += u64::from(applied.tombstoned);
            counts.add_fields(&applied);
        }
        if out_of_time {
            return Err(ReconcileError::OutOfTime);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deferred(fields: &[&str]) -> DeferredCase {
        DeferredCase {
            case_id: "c".into(),
            since: chrono::Utc::now(),
            fields: ids(fields),
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn deferred_fields_are_read_only_while_wanted_and_the_rest_is_settled() {
        let wanted = ids(&["status", "title", "priority"]);
        assert_eq!(
            fill_of(&deferred(&["title", "gone_field"]), &wanted),
            Fill {
                read: ids(&["title"]),
                settled: ids(&["gone_field"]),
            }
        );
        assert_eq!(
            fill_of(&deferred(&[]), &wanted),
            Fill {
                read: wanted.clone(),
                settled: Vec::new(),
            },
            "none named: every wanted field"
        );
        assert_eq!(
            fill_of(&deferred(&["gone_field"]), &wanted),
            Fill {
                read: Vec::new(),
                settled: ids(&["gone_field"]),
            }
        );
    }
}
