//! `casesctl regroup`: every stored case of a domain contributes to the aggregates under the
//! current `REPORT_DIMENSIONS`. Each case's contribution is moved from what it was written under
//! (nothing, for a case a version before per-case contributions wrote) to what it is now, in the
//! case's own conditional commit, so it runs safely beside the live projector. Reads only the
//! table; a checkpoint after every page makes it resumable, and a case already grouped so is not
//! written again, so a rerun costs reads only.

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::projection::decide_regroup;
use crate::store::{DomainStore, PlanExecutor, ReadModelStore, StoreError, commit_decision};

/// The checkpoint's name.
const CHECKPOINT: &str = "REGROUP";
/// Cases of one page committed at once.
const CASES_AT_ONCE: usize = 8;

#[derive(Debug, Clone)]
pub struct Options {
    pub domain_id: String,
    /// `REPORT_DIMENSIONS` now.
    pub dimensions: Vec<String>,
    /// Start over even when an unfinished run could resume.
    pub restart: bool,
}

/// What a run did so far; saved with the checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Case items of the domain read.
    pub cases: u64,
    /// Cases whose contribution moved (written).
    pub regrouped: u64,
    /// Table pages read.
    pub pages: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Checkpoint {
    dimensions: Vec<String>,
    /// The last key read: the next page starts after it.
    after: Option<(String, String)>,
    counts: Counts,
    finished: bool,
}

/// Sees a run's progress (the CLI draws it).
pub trait Progress: Send + Sync {
    fn advanced(&self, counts: &Counts);
}

impl Progress for () {
    fn advanced(&self, _: &Counts) {}
}

/// The end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub counts: Counts,
    /// Went on from an unfinished run's checkpoint.
    pub resumed: bool,
}

async fn saved(
    store: &impl DomainStore,
    domain_id: &str,
) -> Result<Option<Checkpoint>, StoreError> {
    let Some(raw) = store.checkpoint(domain_id, CHECKPOINT).await? else {
        return Ok(None);
    };
    serde_json::from_str(&raw)
        .map(Some)
        .map_err(|e| StoreError::Corrupt {
            key: format!("checkpoint {CHECKPOINT} of {domain_id}"),
            reason: e.to_string(),
        })
}

/// Whether a regroup of the domain has finished (under any dimensions): every case written
/// before it then contributes.
pub async fn finished(store: &impl DomainStore, domain_id: &str) -> Result<bool, StoreError> {
    Ok(saved(store, domain_id).await?.is_some_and(|c| c.finished))
}

pub async fn run<S: ReadModelStore + PlanExecutor>(
    store: &S,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Summary, StoreError> {
    let domain = options.domain_id.as_str();
    let mut checkpoint = match saved(store, domain).await? {
        Some(c) if !c.finished && !options.restart && c.dimensions == options.dimensions => c,
        _ => Checkpoint {
            dimensions: options.dimensions.clone(),
            ..Checkpoint::default()
        },
    };
    let resumed = checkpoint.after.is_some();
    loop {
        let (case_ids, next) = store.case_page(domain, checkpoint.after.as_ref()).await?;
        let results: Vec<Result<bool, StoreError>> = futures::stream::iter(&case_ids)
            .map(|case_id| async move {
                let committed = commit_decision(store, case_id, |stored| {
                    decide_regroup(stored, &options.dimensions)
                })
                .await?;
                Ok(committed.is_some())
            })
            .buffer_unordered(CASES_AT_ONCE)
            .collect()
            .await;
        for written in results {
            checkpoint.counts.cases += 1;
            checkpoint.counts.regrouped += u64::from(written?);
        }
        checkpoint.counts.pages += 1;
        checkpoint.finished = next.is_none();
        checkpoint.after = next;
        let raw = serde_json::to_string(&checkpoint).expect("a checkpoint serialises");
        store.put_checkpoint(domain, CHECKPOINT, &raw).await?;
        progress.advanced(&checkpoint.counts);
        if checkpoint.finished {
            return Ok(Summary {
                counts: checkpoint.counts,
                resumed,
            });
        }
    }
}
