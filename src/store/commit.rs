//! Load → decide → commit for one case, deciding again on a lost race: the loop every
//! Cases-API read (backfill, reconcile) and regroup go through. The projector has its own, which
//! also enriches and reports per event.

use std::time::Duration;

use super::{CaseCommit, CaseStore, CommitOutcome, StoreError, StoredCase};
use crate::projection::{CaseDecision, CaseView};

/// Rounds before giving up (another writer kept winning the race).
const MAX_ATTEMPTS: u32 = 8;

/// Commits what `decide` makes of the stored state of `case_id`, again on a lost race (with
/// backoff). Returns the state it was
/// decided on and the committed view, or `None` when the decision writes nothing.
pub async fn commit_decision<S: CaseStore>(
    store: &S,
    case_id: &str,
    decide: impl Fn(Option<&CaseView>) -> CaseDecision,
) -> Result<Option<(Option<StoredCase>, CaseView)>, StoreError> {
    for attempt in 1..=MAX_ATTEMPTS {
        let stored = store.load(case_id).await?;
        let decision = decide(stored.as_ref().map(|s| &s.view));
        let Some(view) = decision.view.as_ref().filter(|_| decision.writes()) else {
            return Ok(None);
        };
        let commit = CaseCommit {
            previous: stored.as_ref(),
            view,
            related_items: decision
                .changed_related_items
                .iter()
                .filter_map(|id| view.related_items.get(id))
                .collect(),
            metric_deltas: &decision.metric_deltas,
        };
        match store.commit(&commit).await? {
            CommitOutcome::Committed { .. } => return Ok(Some((stored, view.clone()))),
            _ => tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await,
        }
    }
    Err(StoreError::Contention(format!(
        "case {case_id} kept changing"
    )))
}
