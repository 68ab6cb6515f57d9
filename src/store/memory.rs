//! The read model in memory, with DynamoDB's contract: items keyed by `(pk, sk)`, commits that
//! apply the same [`WritePlan`] as the DynamoDB adapter, all or nothing, failing the same
//! conditions (revision, version, lease, code) and the same limits (key sizes, 100 actions, one action
//! per item, 400 KB items). For projector tests that must run in milliseconds and for fuzzing;
//! the DynamoDB adapter is tested against DynamoDB Local.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use super::domain::IndexQuery;
use super::item::{self, Item, view_from_items};
use super::keys::Key;
use super::keys::{CASE_SK, case_id_of, case_pk, field_id_of, fields_pk};
use super::writes::{
    Condition, MAX_TRANSACTION_ITEMS, Write, WritePlan, code_collision, key_fits, plan,
};
use super::{
    CaseCommit, CaseStore, CommitOutcome, FieldMetadataStore, PlanExecutor, StoreError, StoredCase,
};
use crate::model::{FieldInfo, TemplateInfo};

const MAX_ITEM_BYTES: usize = 400 * 1024;

#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<Key, Item>>,
    /// Applied just before the next commit, as if another writer had won the race.
    interference: Mutex<Vec<Write>>,
    /// The next this many commits fail as unavailable.
    failing_commits: AtomicU32,
    /// Commits that still succeed before `failing_commits` start failing.
    commits_before_failing: AtomicU32,
    commit_delay: Mutex<Option<Duration>>,
    commits: AtomicU32,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every item, by key.
    pub fn items(&self) -> BTreeMap<Key, Item> {
        self.items.lock().unwrap().clone()
    }

    /// Writes `writes` (unconditionally) right before the next commit.
    pub fn interfere_before_next_commit(&self, writes: Vec<Write>) {
        *self.interference.lock().unwrap() = writes;
    }

    pub fn fail_next_commits(&self, count: u32) {
        self.fail_commits_after(0, count);
    }

    /// After `successes` more commits, the next `count` fail as unavailable (a run interrupted
    /// midway).
    pub fn fail_commits_after(&self, successes: u32, count: u32) {
        self.commits_before_failing
            .store(successes, Ordering::SeqCst);
        self.failing_commits.store(count, Ordering::SeqCst);
    }

    /// Every commit takes this long (for deadline tests).
    pub fn delay_commits(&self, delay: Duration) {
        *self.commit_delay.lock().unwrap() = Some(delay);
    }

    /// Commits attempted so far.
    pub fn commit_attempts(&self) -> u32 {
        self.commits.load(Ordering::SeqCst)
    }

    fn holds(items: &BTreeMap<Key, Item>, key: &Key, condition: &Condition) -> bool {
        let item = items.get(key);
        match condition {
            Condition::Absent => item.is_none(),
            Condition::Revision(r) => {
                item.and_then(|i| i.get("rev")).and_then(|v| v.as_n().ok()) == Some(&r.to_string())
            }
            Condition::LeaseFree { owner, now } => item.is_none_or(|i| {
                let until = i
                    .get("leaseUntil")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
                until < *now || i.get("owner").and_then(|v| v.as_s().ok()) == Some(owner)
            }),
            Condition::VersionAtMost(v) => item.is_none_or(|i| {
                i.get("version")
                    .and_then(|x| x.as_s().ok())
                    .is_none_or(|stored| stored.as_str() <= v.as_str())
            }),
            Condition::TextIs(t) => {
                item.is_none_or(|i| i.get("text").and_then(|x| x.as_s().ok()) == Some(t))
            }
        }
    }

    fn apply(items: &mut BTreeMap<Key, Item>, write: &Write) {
        let key = write.key();
        match write {
            Write::Put { item, .. } => {
                items.insert(key, item.clone());
            }
            Write::Delete { .. } => {
                items.remove(&key);
            }
            Write::Add { increments, .. } => {
                let item = items.entry(key.clone()).or_insert_with(|| {
                    Item::from([
                        ("pk".into(), AttributeValue::S(key.0.clone())),
                        ("sk".into(), AttributeValue::S(key.1.clone())),
                    ])
                });
                for (name, by) in increments {
                    let now = item
                        .get(name)
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse::<i64>().ok())
                        .unwrap_or(0);
                    item.insert(name.clone(), AttributeValue::N((now + by).to_string()));
                }
            }
        }
    }

    /// Applies `write`; returns its write units (1 per started KB of the larger of the item's
    /// size before and after).
    fn apply_billed(items: &mut BTreeMap<Key, Item>, write: &Write) -> f64 {
        let key = write.key();
        let before = items.get(&key).map_or(0, item_bytes);
        Self::apply(items, write);
        let after = items.get(&key).map_or(0, item_bytes);
        before.max(after).div_ceil(1024).max(1) as f64
    }

    fn validate(writes: &[Write]) -> Result<(), StoreError> {
        let mut keys = HashSet::new();
        for w in writes {
            let key = w.key();
            if !key_fits(&key.0, &key.1) {
                return Err(StoreError::Rejected("key too long".into()));
            }
            if !keys.insert(key) {
                return Err(StoreError::Rejected(
                    "transaction names one item twice".into(),
                ));
            }
            if let Write::Put { item, .. } = w
                && item_bytes(item) > MAX_ITEM_BYTES
            {
                return Err(StoreError::Rejected("item over 400 KB".into()));
            }
            if let Write::Put { item, .. } = w
                && item::INDEX_KEYS.iter().any(|k| {
                    item.get(*k)
                        .and_then(|v| v.as_s().ok())
                        .is_some_and(|v| !item::index_key_fits(v))
                })
            {
                return Err(StoreError::Rejected("index key too long".into()));
            }
        }
        Ok(())
    }
}

fn item_bytes(item: &Item) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::Ss(l) => l.iter().map(String::len).sum(),
            AttributeValue::M(m) => m.iter().map(|(k, v)| k.len() + value(v) + 3).sum(),
            _ => 1,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

impl PlanExecutor for MemoryStore {
    async fn get_item(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self.items.lock().unwrap().get(key).cloned())
    }

    async fn query_range(
        &self,
        pk: &str,
        from_sk: &str,
        to_sk: &str,
    ) -> Result<Vec<Item>, StoreError> {
        Ok(self
            .items
            .lock()
            .unwrap()
            .range((pk.to_owned(), from_sk.to_owned())..=(pk.to_owned(), to_sk.to_owned()))
            .map(|(_, i)| i.clone())
            .collect())
    }

    /// Pages of at most 1 MB of items (by this store's size estimate), read units as DynamoDB
    /// bills an eventually consistent Scan: half a unit per started 4 KB of the page. Every item
    /// is read and billed, as a Scan's filter would.
    async fn case_items_page(
        &self,
        after: Option<&Key>,
    ) -> Result<crate::store::ItemPage, StoreError> {
        const PAGE_BYTES: usize = 1 << 20;
        let items = self.items.lock().unwrap();
        let start = match after {
            Some(k) => std::ops::Bound::Excluded(k.clone()),
            None => std::ops::Bound::Unbounded,
        };
        let mut page = crate::store::ItemPage::default();
        let mut bytes = 0;
        let mut last = None;
        for (key, item) in items.range((start, std::ops::Bound::Unbounded)) {
            if bytes >= PAGE_BYTES {
                page.next = last;
                break;
            }
            bytes += item_bytes(item);
            if key.0.starts_with(super::keys::CASE_PREFIX) {
                page.items.push(item.clone());
            }
            last = Some(key.clone());
        }
        page.read_units = (bytes as f64 / 4096.0).ceil() / 2.0;
        Ok(page)
    }

    async fn case_page(
        &self,
        domain_id: &str,
        after: Option<&Key>,
    ) -> Result<(Vec<String>, Option<Key>), StoreError> {
        const PAGE: usize = 100;
        let items = self.items.lock().unwrap();
        let start = match after {
            Some(k) => std::ops::Bound::Excluded(k.clone()),
            None => std::ops::Bound::Unbounded,
        };
        let mut ids = Vec::new();
        let mut last = None;
        for (key, item) in items.range((start, std::ops::Bound::Unbounded)) {
            if ids.len() == PAGE {
                return Ok((ids, last));
            }
            last = Some(key.clone());
            let domain = item.get("domainId").and_then(|v| v.as_s().ok());
            if let (Some(case_id), CASE_SK, Some(true)) = (
                case_id_of(&key.0),
                key.1.as_str(),
                domain.map(|d| d == domain_id),
            ) {
                ids.push(case_id.to_owned());
            }
        }
        Ok((ids, None))
    }

    async fn query_index(&self, query: &IndexQuery<'_>) -> Result<Vec<Item>, StoreError> {
        let text = |i: &Item, name: &str| i.get(name).and_then(|v| v.as_s().ok()).cloned();
        let mut found: Vec<Item> = self
            .items
            .lock()
            .unwrap()
            .values()
            .filter(|i| text(i, query.partition.0).as_deref() == Some(query.partition.1))
            .filter(|i| match (text(i, query.sort.0), query.sort.1) {
                (Some(sort), Some(from)) => sort.as_str() >= from,
                (Some(_), None) => true,
                (None, _) => false,
            })
            .cloned()
            .collect();
        found.sort_by_key(|i| text(i, query.sort.0));
        Ok(found)
    }

    async fn execute(&self, plan: &WritePlan) -> Result<CommitOutcome, StoreError> {
        Self::validate(&plan.atomic)?;
        if plan.atomic.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Rejected("transaction over 100 actions".into()));
        }
        let mut items = self.items.lock().unwrap();
        for w in std::mem::take(&mut *self.interference.lock().unwrap()) {
            Self::apply(&mut items, &w);
        }
        // Write units as DynamoDB bills them: per item, the larger of its size before and after,
        // rounded up to 1 KB; twice inside a transaction.
        let mut single = 0.0;
        for w in &plan.codes {
            if let Write::Put {
                condition: Some(c), ..
            } = w
                && !Self::holds(&items, &w.key(), c)
            {
                return Err(code_collision(&w.key().1));
            }
            single += Self::apply_billed(&mut items, w);
        }
        for w in &plan.ahead {
            let holds = match w {
                Write::Put {
                    condition: Some(c), ..
                } => Self::holds(&items, &w.key(), c),
                _ => true,
            };
            if holds {
                single += Self::apply_billed(&mut items, w);
            }
        }
        let failed: Vec<usize> = plan
            .atomic
            .iter()
            .enumerate()
            .filter(|(_, w)| match w {
                Write::Put {
                    condition: Some(c), ..
                } => !Self::holds(&items, &w.key(), c),
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        if !failed.is_empty() {
            return Ok(CommitOutcome::RevisionConflict);
        }
        let mut atomic = 0.0;
        for w in &plan.atomic {
            atomic += Self::apply_billed(&mut items, w);
        }
        Ok(CommitOutcome::Committed {
            write_units: single
                + if plan.atomic.len() > 1 {
                    2.0 * atomic
                } else {
                    atomic
                },
            write_requests: 1 + (plan.codes.len() + plan.ahead.len()) as u32,
        })
    }
}

impl CaseStore for MemoryStore {
    async fn load(&self, case_id: &str) -> Result<Option<StoredCase>, StoreError> {
        let pk = case_pk(case_id);
        let items: Vec<Item> = self
            .items
            .lock()
            .unwrap()
            .range((pk.clone(), String::new())..)
            .take_while(|((p, _), _)| *p == pk)
            .map(|(_, i)| i.clone())
            .collect();
        view_from_items(case_id, &items)
    }

    async fn commit(&self, commit: &CaseCommit<'_>) -> Result<CommitOutcome, StoreError> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        let delay = *self.commit_delay.lock().unwrap();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let countdown = |n: u32| n.checked_sub(1);
        let still_succeeding = self
            .commits_before_failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, countdown)
            .is_ok();
        if !still_succeeding
            && self
                .failing_commits
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, countdown)
                .is_ok()
        {
            return Err(StoreError::Unavailable("injected failure".into()));
        }
        self.execute(&plan(commit)).await
    }
}

impl FieldMetadataStore for MemoryStore {
    async fn described_fields(&self, domain_id: &str) -> Result<HashSet<String>, StoreError> {
        let pk = fields_pk(domain_id);
        Ok(self
            .items
            .lock()
            .unwrap()
            .keys()
            .filter(|(p, _)| *p == pk)
            .filter_map(|(_, sk)| field_id_of(sk).map(str::to_owned))
            .collect())
    }

    async fn put_field_metadata(
        &self,
        domain_id: &str,
        fields: &[FieldInfo],
    ) -> Result<(), StoreError> {
        let mut items = self.items.lock().unwrap();
        for f in fields {
            let item = item::field_metadata_item(domain_id, f);
            let w = Write::Put {
                item,
                condition: None,
            };
            Self::apply(&mut items, &w);
        }
        Ok(())
    }

    async fn template_names(
        &self,
        domain_id: &str,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        crate::store::domain::template_names(self, domain_id).await
    }

    async fn put_template_names(
        &self,
        domain_id: &str,
        templates: &[TemplateInfo],
    ) -> Result<(), StoreError> {
        let mut items = self.items.lock().unwrap();
        for t in templates {
            let w = Write::Put {
                item: item::template_name_item(domain_id, t),
                condition: None,
            };
            Self::apply(&mut items, &w);
        }
        Ok(())
    }
}
