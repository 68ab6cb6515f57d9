//! Per-domain bookkeeping on top of any store that can read an item and run a write plan: the
//! counting cut-over, checkpoints of long runs, and counts from history (exactly once by marker).

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::item::{Item, iso};
use super::keys::{Key, checkpoint_key, cutover_key};
use super::writes::{Condition, Write, WritePlan, count_plan};
use super::{CommitOutcome, StoreError};
use crate::projection::CountedEvent;

/// Markers per counting transaction (plus a few counter updates: well under 100 actions).
const EVENTS_PER_COUNT: usize = 40;

/// What an adapter provides for [`DomainStore`].
pub trait PlanExecutor: Send + Sync {
    fn get_item(&self, key: &Key) -> impl Future<Output = Result<Option<Item>, StoreError>> + Send;
    fn execute(
        &self,
        plan: &WritePlan,
    ) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send;

    /// The items of partition `pk` whose sort key is between `from_sk` and `to_sk` (inclusive).
    fn query_range(
        &self,
        pk: &str,
        from_sk: &str,
        to_sk: &str,
    ) -> impl Future<Output = Result<Vec<Item>, StoreError>> + Send;
}

/// Per-domain state of the read model.
pub trait DomainStore: Send + Sync {
    /// The counting cut-over: live events count at or after it, backfill's history before it.
    fn cutover(
        &self,
        domain_id: &str,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, StoreError>> + Send;

    /// Sets the cut-over unless one is set (conditional write); returns the one in force.
    fn set_cutover_once(
        &self,
        domain_id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<DateTime<Utc>, StoreError>> + Send;

    /// A long run's saved state (opaque text), by name.
    fn checkpoint(
        &self,
        domain_id: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    fn put_checkpoint(
        &self,
        domain_id: &str,
        name: &str,
        state: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn delete_checkpoint(
        &self,
        domain_id: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Counts each event at most once ever (its marker is kept); returns how many counted now.
    fn count_once(
        &self,
        events: &[CountedEvent],
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn keyed((pk, sk): Key) -> Item {
    Item::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk)),
    ])
}

fn single(write: Write) -> WritePlan {
    WritePlan {
        ahead: Vec::new(),
        atomic: vec![write],
        markers: Vec::new(),
    }
}

impl<T: PlanExecutor> DomainStore for T {
    async fn cutover(&self, domain_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = cutover_key(domain_id);
        let Some(item) = self.get_item(&key).await? else {
            return Ok(None);
        };
        let at = text(&item, "at").and_then(|t| t.parse().ok());
        at.map(Some).ok_or_else(|| StoreError::Corrupt {
            key: format!("{}/{}", key.0, key.1),
            reason: "`at` is not a timestamp".into(),
        })
    }

    async fn set_cutover_once(
        &self,
        domain_id: &str,
        at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let mut item = keyed(cutover_key(domain_id));
        item.insert("at".into(), AttributeValue::S(iso(at)));
        self.execute(&single(Write::Put {
            item,
            condition: Some(Condition::Absent),
        }))
        .await?;
        // Whoever came first set it: read what is in force.
        self.cutover(domain_id)
            .await?
            .ok_or_else(|| StoreError::Unavailable("cut-over not readable after write".into()))
    }

    async fn checkpoint(&self, domain_id: &str, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .get_item(&checkpoint_key(domain_id, name))
            .await?
            .and_then(|i| text(&i, "state")))
    }

    async fn put_checkpoint(
        &self,
        domain_id: &str,
        name: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        let mut item = keyed(checkpoint_key(domain_id, name));
        item.insert("state".into(), AttributeValue::S(state.to_owned()));
        self.execute(&single(Write::Put {
            item,
            condition: None,
        }))
        .await
        .map(drop)
    }

    async fn delete_checkpoint(&self, domain_id: &str, name: &str) -> Result<(), StoreError> {
        let (pk, sk) = checkpoint_key(domain_id, name);
        self.execute(&single(Write::Delete { pk, sk }))
            .await
            .map(drop)
    }

    async fn count_once(&self, events: &[CountedEvent]) -> Result<usize, StoreError> {
        let mut counted = 0;
        for chunk in events.chunks(EVENTS_PER_COUNT) {
            let mut pending: Vec<CountedEvent> = chunk.to_vec();
            while !pending.is_empty() {
                match self.execute(&count_plan(&pending, None)).await? {
                    CommitOutcome::Committed { .. } => {
                        counted += pending.len();
                        break;
                    }
                    CommitOutcome::AlreadyCounted { event_ids } => {
                        pending.retain(|e| !event_ids.contains(&e.event_id));
                    }
                    CommitOutcome::RevisionConflict => {
                        return Err(StoreError::Rejected("counting has no revision".into()));
                    }
                }
            }
        }
        Ok(counted)
    }
}
