//! GetCase enrichment: which fields an event leaves out, whether they are worth a call, and the
//! calls themselves behind the [`CaseReader`] port (adapter: [`crate::connect_cases`]).
//!
//! GetCase is rate-limited (about 4 requests/s per account), so every call must earn its place:
//! the decision of what to fetch is the pure [`plan`], and [`Enricher`] caches what it learns
//! about each domain (its fields, its event configuration) for a bounded time.

pub mod budget;
mod enricher;
pub mod plan;

use std::collections::BTreeMap;
use std::future::Future;

use crate::event::FieldValue;

pub use crate::model::FieldInfo;
pub use budget::Budget;
pub use enricher::{Enricher, EnricherSettings, Enrichment, EnrichmentStatus};

/// What the domain's event configuration makes events carry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventConfiguration {
    pub enabled: bool,
    /// Field ids every case event carries when non-null.
    pub fields: Vec<String>,
    pub include_related_item_content: bool,
}

/// Field values of a case as GetCase returned them, `None` if the case does not exist.
pub type CaseFields = Option<BTreeMap<String, FieldValue>>;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ReaderError {
    /// ThrottlingException after the SDK's own retries.
    #[error("{operation} throttled: {message}")]
    Throttled {
        operation: &'static str,
        message: String,
    },
    /// InternalServerException, timeouts, connection failures.
    #[error("{operation} unavailable: {message}")]
    Unavailable {
        operation: &'static str,
        message: String,
    },
    /// The function's role lacks the permission: retrying cannot help until an operator acts.
    #[error(
        "access denied to {operation}: the function's role needs `cases:{operation}` on the domain: {message}"
    )]
    AccessDenied {
        operation: &'static str,
        message: String,
    },
    /// A request the service refuses, e.g. an unknown field id in CASE_FIELDS.
    #[error("{operation} rejected the request (check CASE_FIELDS and the field ids): {message}")]
    Invalid {
        operation: &'static str,
        message: String,
    },
    /// The domain (or field) does not exist.
    #[error("{operation}: not found: {message}")]
    NotFound {
        operation: &'static str,
        message: String,
    },
}

impl ReaderError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ReaderError::Throttled { .. } | ReaderError::Unavailable { .. }
        )
    }

    /// Access denied, or the domain (or case) unknown: for a batch run (backfill, reconcile),
    /// an operator must act; no later attempt can succeed.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ReaderError::AccessDenied { .. } | ReaderError::NotFound { .. }
        )
    }
}

/// The Connect Cases reads the projector needs. Paging and per-call limits are the adapter's
/// concern: each method returns the complete answer.
pub trait CaseReader: Send + Sync {
    /// GetCase for `field_ids` (any number: chunked by 220 and paged by the adapter).
    fn get_case(
        &self,
        domain_id: &str,
        case_id: &str,
        field_ids: &[String],
    ) -> impl Future<Output = Result<CaseFields, ReaderError>> + Send;

    /// ListFields, all pages (without options).
    fn list_fields(
        &self,
        domain_id: &str,
    ) -> impl Future<Output = Result<Vec<FieldInfo>, ReaderError>> + Send;

    /// BatchGetField for `field_ids` (chunked by 50), with ListFieldOptions for SingleSelect fields.
    fn describe_fields(
        &self,
        domain_id: &str,
        field_ids: &[String],
    ) -> impl Future<Output = Result<Vec<FieldInfo>, ReaderError>> + Send;

    /// ListFieldOptions, all pages (100 options a page): option value → label.
    fn field_options(
        &self,
        domain_id: &str,
        field_id: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, ReaderError>> + Send;

    /// GetCaseEventConfiguration.
    fn event_configuration(
        &self,
        domain_id: &str,
    ) -> impl Future<Output = Result<EventConfiguration, ReaderError>> + Send;
}

/// The reader of a projector without enrichment: never called.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCases;

impl CaseReader for NoCases {
    async fn get_case(&self, _: &str, _: &str, _: &[String]) -> Result<CaseFields, ReaderError> {
        Ok(None)
    }

    async fn list_fields(&self, _: &str) -> Result<Vec<FieldInfo>, ReaderError> {
        Ok(Vec::new())
    }

    async fn describe_fields(&self, _: &str, _: &[String]) -> Result<Vec<FieldInfo>, ReaderError> {
        Ok(Vec::new())
    }

    async fn field_options(
        &self,
        _: &str,
        _: &str,
    ) -> Result<BTreeMap<String, String>, ReaderError> {
        Ok(BTreeMap::new())
    }

    async fn event_configuration(&self, _: &str) -> Result<EventConfiguration, ReaderError> {
        Ok(EventConfiguration::default())
    }
}
