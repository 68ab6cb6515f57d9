//! Per-domain bookkeeping on top of any store that can read an item and run a write plan:
//! checkpoints and leases of long runs, the indexes reconcile reads, the cases regroup pages.

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::item::{Item, iso};
use super::keys::{BY_DEFERRED, BY_STATUS, Key, case_id_of, checkpoint_key, lease_key};
use super::writes::{Condition, Write, WritePlan};
use super::{CommitOutcome, StoreError};

/// A query of a secondary index: every item whose partition attribute equals the value and whose
/// sort attribute is at least `from` (all of them with `None`), in sort order.
#[derive(Debug, Clone, Copy)]
pub struct IndexQuery<'a> {
    pub index: &'a str,
    pub partition: (&'a str, &'a str),
    pub sort: (&'a str, Option<&'a str>),
}

/// Template id → name, as the read model caches them (ListTemplates), for any adapter.
pub async fn template_names(
    store: &impl PlanExecutor,
    domain_id: &str,
) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
    let (from, to) = super::keys::template_range();
    let items = store
        .query_range(&super::keys::fields_pk(domain_id), &from, &to)
        .await?;
    Ok(items
        .iter()
        .filter_map(super::item::template_of)
        .map(|t| (t.id, t.name))
        .collect())
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

    /// One page of the case items of `domain_id` in table order, after `after` (a key this
    /// returned before): their case ids, and the key to go on from (`None` at the end).
    fn case_page(
        &self,
        domain_id: &str,
        after: Option<&Key>,
    ) -> impl Future<Output = Result<(Vec<String>, Option<Key>), StoreError>> + Send;

    /// One page of the items of every case partition (`CASE#…`: case, related and overflow
    /// items, whole), in table order, after `after` (a key this returned, or the key of an item
    /// it returned). A partition's items come together, in sort-key order, but a page may end
    /// inside one. Adapters that cannot page the table refuse.
    fn case_items_page(
        &self,
        after: Option<&Key>,
    ) -> impl Future<Output = Result<ItemPage, StoreError>> + Send {
        let _ = after;
        async move {
            Err(StoreError::Misconfigured(
                "this store cannot page through its items".into(),
            ))
        }
    }
}

/// A page of items read in table order.
#[derive(Debug, Clone, Default)]
pub struct ItemPage {
    pub items: Vec<Item>,
    /// Where the next page starts; `None` at the end.
    pub next: Option<Key>,
    /// Read capacity units the page consumed, as the service reported them.
    pub read_units: f64,
}

/// Per-domain state of the read model.
pub trait DomainStore: Send + Sync {
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
