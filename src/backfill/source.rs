//! The Cases API as backfill and reconcile read it: the port, in plain Rust types. Adapter:
//! [`crate::connect_cases`].

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::enrichment::ReaderError;
use crate::event::{FieldValue, RelatedItem, RelatedItemType};

/// One page of SearchCases.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CasePage {
    pub cases: Vec<FoundCase>,
    pub next_token: Option<String>,
    /// Cases matching the search (the service's `totalCount`).
    pub total_count: Option<u64>,
    /// When the request was sent: what the page's data is at least as new as.
    pub sent_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FoundCase {
    pub case_id: String,
    pub template_id: String,
    /// The requested fields that have a value (at most 25 per call).
    pub fields: BTreeMap<String, FieldValue>,
}

/// One page of related items, with the case each belongs to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RelatedItemPage {
    pub items: Vec<(String, RelatedItem)>,
    pub next_token: Option<String>,
    /// When the request was sent: the version of the items read (they carry no time of their
    /// own besides their association time).
    pub sent_at: DateTime<Utc>,
}

/// One change in a case's audit history (GetCaseAuditEvents).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Unique within its case.
    pub id: String,
    /// `Case.Created`, `Case.Updated`, `RelatedItem.Created`, ...
    pub kind: String,
    pub related_item_type: Option<RelatedItemType>,
    pub performed_at: DateTime<Utc>,
    pub fields: Vec<AuditField>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditField {
    pub id: String,
    pub old: Option<FieldValue>,
    pub new: Option<FieldValue>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub next_token: Option<String>,
}

/// How SearchCases pages are asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSearch<'a> {
    pub domain_id: &'a str,
    pub page_size: u32,
    /// At most 25 field ids.
    pub fields: &'a [String],
    pub next_token: Option<&'a str>,
    /// Newest-updated first (`last_updated_datetime` descending), for reconcile.
    pub newest_first: bool,
}

/// Reading a whole domain: search cases, their related items and their audit history.
pub trait CaseDirectory: Send + Sync {
    fn search_cases(
        &self,
        search: &CaseSearch<'_>,
    ) -> impl Future<Output = Result<CasePage, ReaderError>> + Send;

    fn search_related_items(
        &self,
        domain_id: &str,
        case_id: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<RelatedItemPage, ReaderError>> + Send;

    /// Domain-wide; `newest_first`: by association time, newest first (for reconcile).
    fn search_all_related_items(
        &self,
        domain_id: &str,
        newest_first: bool,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<RelatedItemPage, ReaderError>> + Send;

    fn audit_events(
        &self,
        domain_id: &str,
        case_id: &str,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<AuditPage, ReaderError>> + Send;
}
