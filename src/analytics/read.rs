//! Reads what a report needs from the read model: the day aggregates of a range, the
//! current-cases aggregate (both with their attribute names spelled out, through the domain's
//! codes), and the grouping field's name and option labels.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta};

use super::report::Aggregate;
use crate::store::codes::{Codes, expand};
use crate::store::item::Item;
use crate::store::keys::{
    CODE_PREFIX, CURRENT_SK, DAY_PREFIX, FIELD_PREFIX, fields_pk, metrics_pk,
};
use crate::store::writes::code_meaning;
use crate::store::{PlanExecutor, StoreError};

/// The counters of an aggregate item. An attribute that is not a counter this version knows
/// (a code without its `CODE#` item) is left out, never guessed at.
fn numbers(item: &Item, codes: &Codes) -> Aggregate {
    let mut out = Aggregate::new();
    for (name, value) in item {
        let Some(n) = value.as_n().ok().and_then(|n| n.parse::<i64>().ok()) else {
            continue;
        };
        if let Some(counter) = expand(name, codes) {
            *out.entry(counter).or_default() += n;
        }
    }
    out
}

/// What a domain's aggregate codes stand for.
pub async fn codes(store: &impl PlanExecutor, domain_id: &str) -> Result<Codes, StoreError> {
    let items = store
        .query_range(
            &metrics_pk(domain_id),
            CODE_PREFIX,
            &format!("{CODE_PREFIX}\u{10FFFF}"),
        )
        .await?;
    Ok(items
        .iter()
        .filter_map(|i| {
            let code = i.get("sk")?.as_s().ok()?.strip_prefix(CODE_PREFIX)?;
            Some((code.to_owned(), code_meaning(i)?))
        })
        .collect())
}

/// Day aggregates of `[from, to)`.
pub async fn days(
    store: &impl PlanExecutor,
    domain_id: &str,
    codes: &Codes,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<NaiveDate, Aggregate>, StoreError> {
    let last = to - TimeDelta::days(1);
    let items = store
        .query_range(
            &metrics_pk(domain_id),
            &format!("{DAY_PREFIX}{from}"),
            &format!("{DAY_PREFIX}{last}"),
        )
        .await?;
    Ok(items
        .iter()
        .filter_map(|i| {
            let sk = i.get("sk")?.as_s().ok()?;
            let day = sk.strip_prefix(DAY_PREFIX)?.parse().ok()?;
            Some((day, numbers(i, codes)))
        })
        .collect())
}

/// Current cases by status (and group).
pub async fn current(
    store: &impl PlanExecutor,
    domain_id: &str,
    codes: &Codes,
) -> Result<Aggregate, StoreError> {
    let items = store
        .query_range(&metrics_pk(domain_id), CURRENT_SK, CURRENT_SK)
        .await?;
    Ok(items.first().map(|i| numbers(i, codes)).unwrap_or_default())
}

/// Whether the table holds numbers an earlier version kept (`METRICS#`/`STATS#` of the domain)
/// while no `casesctl regroup` has finished since: then the numbers cover only the cases written
/// since the upgrade.
pub async fn needs_regroup(store: &impl PlanExecutor, domain_id: &str) -> Result<bool, StoreError> {
    use crate::store::keys::legacy;
    if crate::regroup::finished(store, domain_id).await? {
        return Ok(false);
    }
    for prefix in [legacy::METRICS_PREFIX, legacy::STATS_PREFIX] {
        let pk = format!("{prefix}{domain_id}");
        if !store.query_range(&pk, " ", "\u{10FFFF}").await?.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A field's name and its SingleSelect option labels (value → label), when described.
pub async fn field_labels(
    store: &impl PlanExecutor,
    domain_id: &str,
    field_id: &str,
) -> Result<Option<(String, BTreeMap<String, String>)>, StoreError> {
    let sk = format!("{FIELD_PREFIX}{field_id}");
    let items = store.query_range(&fields_pk(domain_id), &sk, &sk).await?;
    Ok(items.first().map(|i| description(i, field_id)))
}

/// Every described field of the domain: field id → its name and option labels.
pub async fn described_fields(
    store: &impl PlanExecutor,
    domain_id: &str,
) -> Result<BTreeMap<String, (String, BTreeMap<String, String>)>, StoreError> {
    let items = store
        .query_range(
            &fields_pk(domain_id),
            FIELD_PREFIX,
            &format!("{FIELD_PREFIX}\u{10FFFF}"),
        )
        .await?;
    Ok(items
        .iter()
        .filter_map(|i| {
            let sk = i.get("sk")?.as_s().ok()?;
            let id = sk.strip_prefix(FIELD_PREFIX)?;
            Some((id.to_owned(), description(i, id)))
        })
        .collect())
}

fn description(item: &Item, field_id: &str) -> (String, BTreeMap<String, String>) {
    let name = item
        .get("name")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_else(|| field_id.to_owned());
    let labels = item
        .get("options")
        .and_then(|v| v.as_m().ok())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                .collect()
        })
        .unwrap_or_default();
    (name, labels)
}
