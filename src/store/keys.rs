//! Every key of the read model, built in one place: the adapters, `casesctl` and the tests use
//! these, never a prefix typed again. The layout is documented in `docs/read-model.md`.

use chrono::NaiveDate;

pub const CASE_PREFIX: &str = "CASE#";
pub const CASE_SK: &str = "CASE";
pub const RELATED_PREFIX: &str = "RELATED#";
/// Overflow items beside a case item: the full values of the fields the case item holds cut.
pub const OVERFLOW_PREFIX: &str = "FULL#";
pub const EVENT_PREFIX: &str = "EVENT#";
pub const EVENT_SK: &str = "EVENT";
pub const STATS_PREFIX: &str = "STATS#";
pub const DAY_PREFIX: &str = "DAY#";
pub const FIELDS_PREFIX: &str = "FIELDS#";
pub const FIELD_PREFIX: &str = "FIELD#";
pub const DOMAIN_PREFIX: &str = "DOMAIN#";
/// The domain's counting cut-over instant (see `docs/read-model.md`).
pub const CUTOVER_SK: &str = "CUTOVER";
/// A long-running command's checkpoint (`BACKFILL`, `RECONCILE`).
pub const CHECKPOINT_PREFIX: &str = "CHECKPOINT#";

/// A `(pk, sk)` pair.
pub type Key = (String, String);

pub fn case_pk(case_id: &str) -> String {
    format!("{CASE_PREFIX}{case_id}")
}

pub fn case_key(case_id: &str) -> Key {
    (case_pk(case_id), CASE_SK.into())
}

pub fn related_key(case_id: &str, related_item_id: &str) -> Key {
    (
        case_pk(case_id),
        format!("{RELATED_PREFIX}{related_item_id}"),
    )
}

pub fn overflow_key(case_id: &str, index: usize) -> Key {
    (case_pk(case_id), format!("{OVERFLOW_PREFIX}{index:03}"))
}

/// The marker of a counted event.
pub fn event_key(event_id: &str) -> Key {
    (format!("{EVENT_PREFIX}{event_id}"), EVENT_SK.into())
}

/// A domain's counters for one UTC day.
pub fn stats_key(domain_id: &str, day: NaiveDate) -> Key {
    (stats_pk(domain_id), format!("{DAY_PREFIX}{day}"))
}

pub fn stats_pk(domain_id: &str) -> String {
    format!("{STATS_PREFIX}{domain_id}")
}

pub fn fields_pk(domain_id: &str) -> String {
    format!("{FIELDS_PREFIX}{domain_id}")
}

/// A field's metadata.
pub fn field_key(domain_id: &str, field_id: &str) -> Key {
    (fields_pk(domain_id), format!("{FIELD_PREFIX}{field_id}"))
}

/// The field id of a field-metadata sort key.
pub fn field_id_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(FIELD_PREFIX)
}

/// The related item id of a related item's sort key.
pub fn related_item_id_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(RELATED_PREFIX)
}

pub fn cutover_key(domain_id: &str) -> Key {
    (format!("{DOMAIN_PREFIX}{domain_id}"), CUTOVER_SK.into())
}

pub fn checkpoint_key(domain_id: &str, name: &str) -> Key {
    (
        format!("{DOMAIN_PREFIX}{domain_id}"),
        format!("{CHECKPOINT_PREFIX}{name}"),
    )
}

/// A lease of a long-running command (`RECONCILE`): one run at a time per domain.
pub const LEASE_PREFIX: &str = "LEASE#";

pub fn lease_key(domain_id: &str, name: &str) -> Key {
    (
        format!("{DOMAIN_PREFIX}{domain_id}"),
        format!("{LEASE_PREFIX}{name}"),
    )
}

/// The case id of a case item's partition key.
pub fn case_id_of(pk: &str) -> Option<&str> {
    pk.strip_prefix(CASE_PREFIX)
}

/// The sparse index of cases whose enrichment is deferred (`deferredKey`, `deferredSince`).
pub const BY_DEFERRED: &str = "byDeferred";
/// Live cases of a domain in a status by `updatedAt` (`statusKey`, `updatedAt`).
pub const BY_STATUS: &str = "byStatus";

/// The marker id of an audit event counted by backfill (audit event ids are per case).
pub fn audit_marker_id(case_id: &str, audit_event_id: &str) -> String {
    format!("audit/{case_id}/{audit_event_id}")
}

pub const METRICS_PREFIX: &str = "METRICS#";
pub const CURRENT_SK: &str = "CURRENT";
pub const CODE_PREFIX: &str = "CODE#";

pub fn metrics_pk(domain_id: &str) -> String {
    format!("{METRICS_PREFIX}{domain_id}")
}

/// A domain's metric aggregates for one UTC day.
pub fn metrics_day_key(domain_id: &str, day: NaiveDate) -> Key {
    (metrics_pk(domain_id), format!("{DAY_PREFIX}{day}"))
}

/// A domain's current-cases aggregate.
pub fn metrics_current_key(domain_id: &str) -> Key {
    (metrics_pk(domain_id), CURRENT_SK.into())
}

/// The text an aggregate attribute-name code stands for (`analytics::codes`).
pub fn metrics_code_key(domain_id: &str, code: &str) -> Key {
    (metrics_pk(domain_id), format!("{CODE_PREFIX}{code}"))
}
