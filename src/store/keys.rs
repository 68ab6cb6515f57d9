//! Every key of the read model, built in one place: the adapters, `casesctl` and the tests use
//! these, never a prefix typed again. The layout is documented in `docs/read-model.md`.

use chrono::NaiveDate;

pub const CASE_PREFIX: &str = "CASE#";
pub const CASE_SK: &str = "CASE";
pub const RELATED_PREFIX: &str = "RELATED#";
/// Overflow items beside a case item: the full values of the fields the case item holds cut.
pub const OVERFLOW_PREFIX: &str = "FULL#";
pub const DAY_PREFIX: &str = "DAY#";
pub const FIELDS_PREFIX: &str = "FIELDS#";
pub const FIELD_PREFIX: &str = "FIELD#";
pub const DOMAIN_PREFIX: &str = "DOMAIN#";
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

pub fn fields_pk(domain_id: &str) -> String {
    format!("{FIELDS_PREFIX}{domain_id}")
}

/// A field's metadata.
pub fn field_key(domain_id: &str, field_id: &str) -> Key {
    (fields_pk(domain_id), format!("{FIELD_PREFIX}{field_id}"))
}

/// A template's name, cached beside the field metadata (`FIELDS#<domain>`, `TEMPLATE#<id>`).
pub const TEMPLATE_PREFIX: &str = "TEMPLATE#";

pub fn template_key(domain_id: &str, template_id: &str) -> Key {
    (
        fields_pk(domain_id),
        format!("{TEMPLATE_PREFIX}{template_id}"),
    )
}

/// The template id of a template-name sort key.
pub fn template_id_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(TEMPLATE_PREFIX)
}

/// The sort-key range of a domain's template names (from, to), for a range query of
/// [`fields_pk`].
pub fn template_range() -> (String, String) {
    (
        TEMPLATE_PREFIX.to_owned(),
        format!("{TEMPLATE_PREFIX}\u{10FFFF}"),
    )
}

/// The field id of a field-metadata sort key.
pub fn field_id_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(FIELD_PREFIX)
}

/// The related item id of a related item's sort key.
pub fn related_item_id_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(RELATED_PREFIX)
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

/// The case-metric aggregates: what every stored case contributes (see `docs/metrics.md`).
pub const METRICS_PREFIX: &str = "CASEMETRICS#";
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

/// What an aggregate attribute-name code stands for (`store::codes`).
pub fn metrics_code_key(domain_id: &str, code: &str) -> Key {
    (metrics_pk(domain_id), format!("{CODE_PREFIX}{code}"))
}

/// Items an earlier version wrote and this one neither reads nor writes: daily event counters
/// (`STATS#<domain>`), metric aggregates without per-case groups (`METRICS#<domain>`), the
/// counting cut-over (`DOMAIN#<domain>` / `CUTOVER`) and counted-event markers (`EVENT#…`).
/// `casesctl regroup` rebuilds every number from the cases; these stay until deleted.
pub mod legacy {
    pub const STATS_PREFIX: &str = "STATS#";
    pub const METRICS_PREFIX: &str = "METRICS#";
    pub const CUTOVER_SK: &str = "CUTOVER";
    pub const EVENT_PREFIX: &str = "EVENT#";

    /// Whether an item key is one of these.
    pub fn is_legacy(pk: &str, sk: &str) -> bool {
        pk.starts_with(STATS_PREFIX)
            || pk.starts_with(METRICS_PREFIX)
            || pk.starts_with(EVENT_PREFIX)
            || (pk.starts_with(super::DOMAIN_PREFIX) && sk == CUTOVER_SK)
    }
}
