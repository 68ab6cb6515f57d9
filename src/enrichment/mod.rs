//! GetCase enrichment: which fields an event leaves out, whether they are worth a call, and the
//! calls themselves behind the [`CaseReader`] port (adapter: [`crate::connect_cases`]).
//!
//! GetCase is rate-limited (about 4 requests/s per account), so every call must earn its place:
//! the decision of what to fetch is the pure [`plan`], and [`Enricher`] caches what it learns
//! about each domain (its fields, its event configuration) for a bounded time.

pub mod budget;
mod enricher;
pub mod plan;
pub mod templates;

use std::collections::BTreeMap;
use std::future::Future;

use crate::event::FieldValue;

pub use crate::model::{FieldInfo, TemplateInfo};
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

/// What a ResourceNotFoundException says is missing (its `resourceType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissingResource {
    /// The case asked about: it was deleted.
    Case,
    /// The domain: a wrong domain id or Region, or a deleted domain.
    Domain,
    /// Anything else, as the service named it (empty when it named nothing).
    Other(String),
}

impl MissingResource {
    /// From a ResourceNotFoundException's `resourceType` and `resourceId`. Only an answer whose
    /// type names a case (and, when it names an id, the case asked about) is a deleted case: an
    /// unknown or absent type is never taken for a delete, since a tombstone is final. The
    /// service documents no values for the type: its last word, in any case (`Case`, `CASE`,
    /// `AWS::Cases::Case`), is what is compared.
    pub fn classify(resource_type: &str, resource_id: &str, case_id: Option<&str>) -> Self {
        let names_the_case = case_id.is_some_and(|c| resource_id.is_empty() || resource_id == c);
        let kind = resource_type
            .rsplit(|c: char| !c.is_ascii_alphanumeric())
            .find(|w| !w.is_empty())
            .unwrap_or_default()
            .to_ascii_lowercase();
        match kind.as_str() {
            "case" if names_the_case => MissingResource::Case,
            "domain" => MissingResource::Domain,
            _ => MissingResource::Other(resource_type.to_owned()),
        }
    }
}

impl std::fmt::Display for MissingResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MissingResource::Case => f.write_str("case"),
            MissingResource::Domain => f.write_str("domain"),
            MissingResource::Other(t) if t.is_empty() => f.write_str("resource"),
            MissingResource::Other(t) => write!(f, "resource of type {t}"),
        }
    }
}

/// A Cases API call that did not succeed. Retryable: throttling and outages. Refusals (see
/// [`ReaderError::is_refusal`]): an operator must act, no later attempt can succeed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ReaderError {
    /// ThrottlingException (retryable). Batch runs back off and go on however long it lasts.
    #[error("{operation} throttled: {message}")]
    Throttled {
        operation: &'static str,
        message: String,
    },
    /// InternalServerException, timeouts, connection failures (retryable).
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
    /// A request the service refuses (not retryable). GetCase refusing field ids it names is
    /// not this: the adapter drops those ids and reads the rest.
    #[error("{operation} rejected the request (check CASE_FIELDS and the field ids): {message}")]
    Invalid {
        operation: &'static str,
        message: String,
    },
    /// ResourceNotFoundException (not retryable). A missing case is a delete (GetCase answers
    /// it as `None`); anything else missing (the domain, ...) is a refusal.
    #[error("{operation}: {resource} {resource_id:?} not found: {message}")]
    NotFound {
        operation: &'static str,
        resource: MissingResource,
        resource_id: String,
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

    /// Access denied, or something other than a case missing (the domain, a field): for a
    /// batch run (backfill, reconcile), an operator must act; no later attempt can succeed, and
    /// the run stops before it writes on the strength of that answer.
    pub fn is_refusal(&self) -> bool {
        match self {
            ReaderError::AccessDenied { .. } => true,
            ReaderError::NotFound { resource, .. } => *resource != MissingResource::Case,
            _ => false,
        }
    }

    /// The case asked about does not exist (deleted).
    pub fn is_case_gone(&self) -> bool {
        matches!(
            self,
            ReaderError::NotFound {
                resource: MissingResource::Case,
                ..
            }
        )
    }
}

/// The Connect Cases reads the projector needs. Paging and per-call limits are the adapter's
/// concern: each method returns the complete answer.
pub trait CaseReader: Send + Sync {
    /// GetCase for `field_ids` (any number: chunked by 220 and paged by the adapter). Ids the
    /// service refuses by name (ValidationException: the domain does not have them) are left
    /// out of the answer. `None` only when a ResourceNotFoundException names the case (deleted);
    /// anything else missing is an error ([`ReaderError::is_refusal`]).
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

    /// ListTemplates, all pages, active and inactive templates alike (cases of an inactive
    /// template still count): each template's id and name.
    fn list_templates(
        &self,
        domain_id: &str,
    ) -> impl Future<Output = Result<Vec<TemplateInfo>, ReaderError>> + Send;

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

    async fn list_templates(&self, _: &str) -> Result<Vec<TemplateInfo>, ReaderError> {
        Ok(Vec::new())
    }

    async fn event_configuration(&self, _: &str) -> Result<EventConfiguration, ReaderError> {
        Ok(EventConfiguration::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_found(resource: MissingResource) -> ReaderError {
        ReaderError::NotFound {
            operation: "GetCase",
            resource,
            resource_id: "x".into(),
            message: String::new(),
        }
    }

    #[test]
    fn only_a_missing_case_is_a_delete_and_anything_else_missing_is_a_refusal() {
        let case = Some("case-1");
        assert_eq!(
            MissingResource::classify("Case", "case-1", case),
            MissingResource::Case
        );
        assert_eq!(
            MissingResource::classify("case", "", case),
            MissingResource::Case,
            "no id named: the case asked about"
        );
        assert_eq!(
            MissingResource::classify("AWS::Cases::Case", "case-1", case),
            MissingResource::Case
        );
        assert_eq!(
            MissingResource::classify("CaseRule", "case-1", case),
            MissingResource::Other("CaseRule".into())
        );
        // Another case named, or no case asked about: not this case's delete.
        assert_eq!(
            MissingResource::classify("Case", "case-2", case),
            MissingResource::Other("Case".into())
        );
        assert_eq!(
            MissingResource::classify("Case", "case-1", None),
            MissingResource::Other("Case".into())
        );
        assert_eq!(
            MissingResource::classify("Domain", "d-1", case),
            MissingResource::Domain
        );
        // Absent or unknown: never a delete.
        assert_eq!(
            MissingResource::classify("", "", case),
            MissingResource::Other(String::new())
        );
        assert_eq!(
            MissingResource::classify("Field", "status", case),
            MissingResource::Other("Field".into())
        );

        assert!(not_found(MissingResource::Case).is_case_gone());
        assert!(!not_found(MissingResource::Case).is_refusal());
        for other in [
            MissingResource::Domain,
            MissingResource::Other(String::new()),
            MissingResource::Other("Field".into()),
        ] {
            let e = not_found(other);
            assert!(
                e.is_refusal() && !e.is_case_gone() && !e.is_retryable(),
                "{e}"
            );
        }
    }
}
