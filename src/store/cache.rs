//! A bounded cache of case states in front of a [`CaseStore`], kept for the life of the
//! execution environment: a warm Lambda that sees a case again skips the load.
//!
//! Safe because every commit is conditional on the revision it was decided on: a cached state
//! that another environment has since advanced fails its commit, the entry is dropped, and the
//! handler reloads from the table and decides again. A decision that writes nothing against a
//! cached state writes nothing against any newer state either (the state only grows).
//!
//! The budget is of heap, as the allocator sees it: each entry is charged what its strings,
//! B-tree nodes and table slots take (see [`heap`]), not the size of its data.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Mutex;

use super::item::Item;
use super::keys::Key;
use super::writes::WritePlan;
use super::{
    CaseCommit, CaseStore, CommitOutcome, FieldMetadataStore, PlanExecutor, StoreError, StoredCase,
};
use crate::model::FieldInfo;

pub mod heap;

pub struct CachedStore<S> {
    inner: S,
    budget_bytes: usize,
    cases: Mutex<Entries>,
}

/// A B-tree rather than a hash map: its nodes are freed as entries go, where a hash table keeps
/// the size it once had (and with deletions may double at half load), so what the entries cost
/// would not bound what the cache holds. States are boxed to keep the nodes small.
#[derive(Default)]
struct Entries {
    by_case: BTreeMap<String, (Box<StoredCase>, usize)>,
    /// Insertion order, for first-in-first-out eviction.
    order: VecDeque<String>,
    /// What the entries take, without the map's nodes and the order's buffer.
    bytes: usize,
}

impl Entries {
    /// Heap held in all: the entries, the map's nodes, the order's buffer.
    fn held(&self) -> usize {
        self.bytes
            + heap::btree_nodes::<String, (Box<StoredCase>, usize)>(self.by_case.len())
            + heap::chunk(self.order.capacity() * std::mem::size_of::<String>())
    }
}

/// Heap one entry takes, besides its share of the map's nodes and the order's buffer: the
/// state, its box, and its id twice (map key and eviction order).
pub fn entry_bytes(stored: &StoredCase) -> usize {
    heap::case_view(&stored.view)
        + heap::chunk(std::mem::size_of::<StoredCase>())
        + 2 * heap::chunk(stored.view.case_id.len())
}

impl<S> CachedStore<S> {
    /// `budget_bytes` bounds the heap the cache holds; 0 disables it.
    pub fn new(inner: S, budget_bytes: usize) -> Self {
        CachedStore {
            inner,
            budget_bytes,
            cases: Mutex::new(Entries::default()),
        }
    }

    fn get(&self, case_id: &str) -> Option<StoredCase> {
        self.cases
            .lock()
            .unwrap()
            .by_case
            .get(case_id)
            .map(|(c, _)| StoredCase::clone(c))
    }

    fn put(&self, stored: StoredCase) {
        let size = entry_bytes(&stored);
        if size > self.budget_bytes / 4 {
            self.forget(&stored.view.case_id);
            return;
        }
        let mut e = self.cases.lock().unwrap();
        let case_id = stored.view.case_id.clone();
        match e.by_case.insert(case_id.clone(), (Box::new(stored), size)) {
            Some((_, old)) => e.bytes -= old,
            None => e.order.push_back(case_id),
        }
        e.bytes += size;
        while e.held() > self.budget_bytes {
            let Some(oldest) = e.order.pop_front() else {
                break;
            };
            if let Some((_, freed)) = e.by_case.remove(&oldest) {
                e.bytes -= freed;
            }
        }
    }

    fn forget(&self, case_id: &str) {
        let mut e = self.cases.lock().unwrap();
        if let Some((_, size)) = e.by_case.remove(case_id) {
            e.bytes -= size;
            e.order.retain(|c| c != case_id);
        }
    }
}

impl<S: CaseStore> CaseStore for CachedStore<S> {
    async fn load(&self, case_id: &str) -> Result<Option<StoredCase>, StoreError> {
        if let Some(cached) = self.get(case_id) {
            return Ok(Some(cached));
        }
        let loaded = self.inner.load(case_id).await?;
        if let Some(stored) = &loaded {
            self.put(stored.clone());
        }
        Ok(loaded)
    }

    async fn commit(&self, commit: &CaseCommit<'_>) -> Result<CommitOutcome, StoreError> {
        let outcome = self.inner.commit(commit).await;
        match &outcome {
            Ok(CommitOutcome::Committed { .. }) if self.budget_bytes > 0 => {
                self.put(commit.committed())
            }
            // Lost race, or an error after which the write may or may not have happened:
            // the next load must read the table.
            _ => self.forget(&commit.view.case_id),
        }
        outcome
    }
}

/// Field metadata is not cached here (the enricher remembers what it described).
impl<S: FieldMetadataStore> FieldMetadataStore for CachedStore<S> {
    async fn described_fields(&self, domain_id: &str) -> Result<HashSet<String>, StoreError> {
        self.inner.described_fields(domain_id).await
    }

    async fn put_field_metadata(
        &self,
        domain_id: &str,
        fields: &[FieldInfo],
    ) -> Result<(), StoreError> {
        self.inner.put_field_metadata(domain_id, fields).await
    }

    async fn template_names(
        &self,
        domain_id: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        self.inner.template_names(domain_id).await
    }

    async fn put_template_names(
        &self,
        domain_id: &str,
        templates: &[crate::model::TemplateInfo],
    ) -> Result<(), StoreError> {
        self.inner.put_template_names(domain_id, templates).await
    }
}

/// Domain bookkeeping passes through: it never touches case items.
impl<S: PlanExecutor> PlanExecutor for CachedStore<S> {
    async fn get_item(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get_item(key).await
    }

    async fn query_index(
        &self,
        query: &crate::store::IndexQuery<'_>,
    ) -> Result<Vec<Item>, StoreError> {
        self.inner.query_index(query).await
    }

    async fn execute(&self, plan: &WritePlan) -> Result<CommitOutcome, StoreError> {
        self.inner.execute(plan).await
    }

    async fn query_range(
        &self,
        pk: &str,
        from_sk: &str,
        to_sk: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.inner.query_range(pk, from_sk, to_sk).await
    }

    async fn case_page(
        &self,
        domain_id: &str,
        after: Option<&Key>,
    ) -> Result<(Vec<String>, Option<Key>), StoreError> {
        self.inner.case_page(domain_id, after).await
    }
}
