//! Per-domain bookkeeping on top of any store that can read an item and run a write plan: the
//! counting cut-over, checkpoints of long runs, and counts from history (exactly once by marker).

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::item::{Item, iso};
use super::keys::{
    BY_DEFERRED, BY_STATUS, Key, case_id_of, checkpoint_key, cutover_key, lease_key,
};
use super::writes::{Condition, Write, WritePlan, count_plan};
use super::{CommitOutcome, StoreError};
use crate::projection::CountedEvent;

/// Markers per counting transaction (plus a few counter updates: well under 100 actions).
const EVENTS_PER_COUNT: usize = 40;

/// A query of a secondary index: every item whose partition attribute equals the value and whose
/// sort attribute is at least `from` (all of them with `None`), in sort order.
#[derive(Debug, Clone, Copy)]
pub struct IndexQuery<'a> {
    pub index: &'a str,
    pub partition: (&'a str, &'a str),
    pub sort: (&'a str, Option<&'a str>),
}

/// What an adapter provides for [`DomainStore`].
pub trait PlanExecutor: Send + Sync {
    fn get_item(&self, key: &Key) -> impl Future<Output = Result<Option<Item>, StoreError>> + Send;
    /// Every page of an index query. Adapters without secondary indexes refuse.
    fn query_index(
        &self,
        query: &IndexQuery<'_>,
    ) -> impl Future<Output = Result<Vec<Item>, StoreError>> + Send {
        let index = query.index.to_owned();
        async move {
            Err(StoreError::Misconfigured(format!(
                "this store cannot query index {index}"
            )))
        }
    }
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

    /// Takes (or renews) the lease `name` of the domain for `owner` until `until` (epoch
    /// seconds), unless someone else holds an unexpired one. Returns whether `owner` holds it,
    /// and otherwise until when the other holder does.
    fn acquire_lease(
        &self,
        domain_id: &str,
        name: &str,
        owner: &str,
        until: u64,
    ) -> impl Future<Output = Result<Result<(), u64>, StoreError>> + Send;

    /// Gives the lease up if `owner` still holds it.
    fn release_lease(
        &self,
        domain_id: &str,
        name: &str,
        owner: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Live cases whose enrichment is deferred, oldest first (index `byDeferred`): case id,
    /// since when, the fields still wanted.
    fn deferred_cases(
        &self,
        domain_id: &str,
    ) -> impl Future<Output = Result<Vec<DeferredCase>, StoreError>> + Send;

    /// Live cases in `status` updated at or after `since` (index `byStatus`): case ids.
    fn live_cases_updated_since(
        &self,
        domain_id: &str,
        status: &str,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
}

/// A case in the `byDeferred` index.
#[derive(Debug, Clone, PartialEq)]
pub struct DeferredCase {
    pub case_id: String,
    pub since: DateTime<Utc>,
    pub fields: Vec<String>,
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
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
        atomic: vec![write],
        ..WritePlan::default()
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

    async fn acquire_lease(
        &self,
        domain_id: &str,
        name: &str,
        owner: &str,
        until: u64,
    ) -> Result<Result<(), u64>, StoreError> {
        let key = lease_key(domain_id, name);
        let mut item = keyed(key.clone());
        item.insert("owner".into(), AttributeValue::S(owner.to_owned()));
        item.insert("leaseUntil".into(), AttributeValue::N(until.to_string()));
        // TTL removes a long-expired lease item eventually; the condition never relies on it.
        item.insert(
            "expiresAt".into(),
            AttributeValue::N((until + 86_400).to_string()),
        );
        let outcome = self
            .execute(&single(Write::Put {
                item,
                condition: Some(Condition::LeaseFree {
                    owner: owner.to_owned(),
                    now: epoch_now(),
                }),
            }))
            .await?;
        if matches!(outcome, CommitOutcome::Committed { .. }) {
            return Ok(Ok(()));
        }
        let held_until = self
            .get_item(&key)
            .await?
            .and_then(|i| i.get("leaseUntil").and_then(|v| v.as_n().ok()).cloned())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Ok(Err(held_until))
    }

    async fn release_lease(
        &self,
        domain_id: &str,
        name: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        let mut item = keyed(lease_key(domain_id, name));
        item.insert("owner".into(), AttributeValue::S(owner.to_owned()));
        item.insert("leaseUntil".into(), AttributeValue::N("0".into()));
        item.insert(
            "expiresAt".into(),
            AttributeValue::N((epoch_now() + 86_400).to_string()),
        );
        // Only while still ours (or expired): a failed condition is not an error.
        self.execute(&single(Write::Put {
            item,
            condition: Some(Condition::LeaseFree {
                owner: owner.to_owned(),
                now: epoch_now(),
            }),
        }))
        .await
        .map(drop)
    }

    async fn deferred_cases(&self, domain_id: &str) -> Result<Vec<DeferredCase>, StoreError> {
        let items = self
            .query_index(&IndexQuery {
                index: BY_DEFERRED,
                partition: ("deferredKey", domain_id),
                sort: ("deferredSince", None),
            })
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let case_id = case_id_of(i.get("pk")?.as_s().ok()?)?.to_owned();
                let since = text(i, "deferredSince")?.parse().ok()?;
                let fields = match i.get("deferredFields") {
                    Some(AttributeValue::Ss(ids)) => ids.clone(),
                    _ => Vec::new(),
                };
                Some(DeferredCase {
                    case_id,
                    since,
                    fields,
                })
            })
            .collect())
    }

    async fn live_cases_updated_since(
        &self,
        domain_id: &str,
        status: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let partition = format!("{domain_id}#{status}");
        let from = iso(since);
        let items = self
            .query_index(&IndexQuery {
                index: BY_STATUS,
                partition: ("statusKey", &partition),
                sort: ("updatedAt", Some(&from)),
            })
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| Some(case_id_of(i.get("pk")?.as_s().ok()?)?.to_owned()))
            .collect())
    }
}
