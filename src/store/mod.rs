//! The read-model port: load a case's state with its revision, commit a new state
//! conditionally on that revision. One adapter: [`dynamodb`].

pub mod cache;
pub mod codes;
mod commit;
pub mod domain;
pub mod dynamodb;
pub mod item;
pub mod keys;
pub mod memory;
pub mod writes;

use std::future::Future;

use std::collections::{BTreeMap, HashSet};

use crate::model::{FieldInfo, TemplateInfo};
use crate::projection::contribution::Contributions;
use crate::projection::{CaseView, RelatedItemView};

pub use commit::commit_decision;
pub use domain::{DeferredCase, DomainStore, IndexQuery, ItemPage, PlanExecutor};
pub use item::RELATED_META;

/// A case's state as stored, with the revision a commit must name to replace it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    pub view: CaseView,
    pub revision: u64,
}

/// Field data budget per case item, below DynamoDB's 400 KB item limit with room for the rest.
/// Longer values are held cut in the case item and whole in overflow items.
pub const FIELD_BUDGET_BYTES: usize = 300 * 1024;

/// Everything one commit writes: atomically, or not at all.
#[derive(Debug, Clone)]
pub struct CaseCommit<'a> {
    /// The stored state the decision was made on; `None` when the case was not stored yet.
    pub previous: Option<&'a StoredCase>,
    pub view: &'a CaseView,
    /// Related items whose record changed.
    pub related_items: Vec<&'a RelatedItemView>,
    /// Changes to the metric aggregates, written with the case item.
    pub metric_deltas: &'a Contributions,
}

impl CaseCommit<'_> {
    /// The revision the case item gets.
    pub fn new_revision(&self) -> u64 {
        self.previous.map_or(1, |p| p.revision + 1)
    }

    /// The state as stored once committed.
    pub fn committed(&self) -> StoredCase {
        StoredCase {
            view: self.view.clone(),
            revision: self.new_revision(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommitOutcome {
    Committed {
        write_units: f64,
        write_requests: u32,
    },
    /// Someone else committed since the load (or a conditional write's condition failed):
    /// reload and decide again.
    RevisionConflict,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttling, timeouts, 5xx, connection errors: a later attempt can succeed.
    #[error("read model unavailable: {0}")]
    Unavailable(String),
    /// Concurrent transactions on the same items kept colliding.
    #[error("read model contention: {0}")]
    Contention(String),
    /// The table is missing, or access or credentials are wrong: an operator must fix it, and
    /// meanwhile the event stays in its queue (and reaches the DLQ), never acknowledged.
    #[error("read model misconfigured: {0}")]
    Misconfigured(String),
    /// A stored item this version cannot read. Retried like the rest, so the event ends in the
    /// DLQ instead of being acknowledged unprocessed.
    #[error("stored item {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
    /// DynamoDB refused the request (validation). Still retried: the event goes to the DLQ after
    /// the queue's receive limit rather than being dropped, for redrive once the cause is fixed.
    #[error("read model rejected the write: {0}")]
    Rejected(String),
}

impl StoreError {
    /// Every store failure is retryable: only malformed input (which can never succeed) is
    /// acknowledged without processing. What keeps failing ends in the DLQ, nothing is lost.
    pub fn is_retryable(&self) -> bool {
        // Exhaustive on purpose: a new variant must decide.
        match self {
            StoreError::Unavailable(_)
            | StoreError::Contention(_)
            | StoreError::Misconfigured(_)
            | StoreError::Corrupt { .. }
            | StoreError::Rejected(_) => true,
        }
    }
}

/// The cases of the read model: load a case with its revision, commit a new state conditionally
/// on it.
pub trait CaseStore: Send + Sync {
    fn load(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<StoredCase>, StoreError>> + Send;

    fn commit(
        &self,
        commit: &CaseCommit<'_>,
    ) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send;
}

/// Field metadata (`FIELDS#<domain>`): names, types and option labels for dashboards, and the
/// templates' names (`TEMPLATE#<id>` items of the same partition).
pub trait FieldMetadataStore: Send + Sync {
    /// Ids of the fields whose metadata the read model holds.
    fn described_fields(
        &self,
        domain_id: &str,
    ) -> impl Future<Output = Result<HashSet<String>, StoreError>> + Send;

    /// Stores (replaces) field metadata items.
    fn put_field_metadata(
        &self,
        domain_id: &str,
        fields: &[FieldInfo],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Template id → name, for the templates whose name the read model holds.
    fn template_names(
        &self,
        domain_id: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, StoreError>> + Send;

    /// Stores (replaces) template-name items.
    fn put_template_names(
        &self,
        domain_id: &str,
        templates: &[TemplateInfo],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Everything the projector needs of the read model.
pub trait ReadModelStore: CaseStore + FieldMetadataStore + DomainStore {}

impl<S: CaseStore + FieldMetadataStore + DomainStore> ReadModelStore for S {}

/// One store shared by several projectors, as instances of a function share one table.
impl<S: CaseStore> CaseStore for std::sync::Arc<S> {
    async fn load(&self, case_id: &str) -> Result<Option<StoredCase>, StoreError> {
        self.as_ref().load(case_id).await
    }

    async fn commit(&self, commit: &CaseCommit<'_>) -> Result<CommitOutcome, StoreError> {
        self.as_ref().commit(commit).await
    }
}

impl<S: FieldMetadataStore> FieldMetadataStore for std::sync::Arc<S> {
    async fn described_fields(&self, domain_id: &str) -> Result<HashSet<String>, StoreError> {
        self.as_ref().described_fields(domain_id).await
    }

    async fn put_field_metadata(
        &self,
        domain_id: &str,
        fields: &[FieldInfo],
    ) -> Result<(), StoreError> {
        self.as_ref().put_field_metadata(domain_id, fields).await
    }

    async fn template_names(
        &self,
        domain_id: &str,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        self.as_ref().template_names(domain_id).await
    }

    async fn put_template_names(
        &self,
        domain_id: &str,
        templates: &[TemplateInfo],
    ) -> Result<(), StoreError> {
        self.as_ref().put_template_names(domain_id, templates).await
    }
}

impl<S: PlanExecutor> PlanExecutor for std::sync::Arc<S> {
    async fn get_item(&self, key: &keys::Key) -> Result<Option<item::Item>, StoreError> {
        self.as_ref().get_item(key).await
    }

    async fn query_index(&self, query: &IndexQuery<'_>) -> Result<Vec<item::Item>, StoreError> {
        self.as_ref().query_index(query).await
    }

    async fn execute(&self, plan: &writes::WritePlan) -> Result<CommitOutcome, StoreError> {
        self.as_ref().execute(plan).await
    }

    async fn query_range(
        &self,
        pk: &str,
        from_sk: &str,
        to_sk: &str,
    ) -> Result<Vec<item::Item>, StoreError> {
        self.as_ref().query_range(pk, from_sk, to_sk).await
    }

    async fn case_page(
        &self,
        domain_id: &str,
        after: Option<&keys::Key>,
    ) -> Result<(Vec<String>, Option<keys::Key>), StoreError> {
        self.as_ref().case_page(domain_id, after).await
    }

    async fn case_items_page(&self, after: Option<&keys::Key>) -> Result<ItemPage, StoreError> {
        self.as_ref().case_items_page(after).await
    }
}
