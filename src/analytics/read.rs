//! Reads what a report needs from the read model: the day aggregates of a range, the
//! current-cases aggregate, and the grouping field's name and option labels.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta};

use super::report::Aggregate;
use crate::store::item::Item;
use crate::store::keys::{CURRENT_SK, DAY_PREFIX, FIELD_PREFIX, fields_pk, metrics_pk};
use crate::store::{PlanExecutor, StoreError};

fn numbers(item: &Item) -> Aggregate {
    item.iter()
        .filter(|(k, _)| k.as_str() != "pk" && k.as_str() != "sk")
        .filter_map(|(k, v)| Some((k.clone(), v.as_n().ok()?.parse().ok()?)))
        .collect()
}

/// Day aggregates of `[from, to)`.
pub async fn days(
    store: &impl PlanExecutor,
    domain_id: &str,
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
            Some((day, numbers(i)))
        })
        .collect())
}

/// Current cases by status (and group).
pub async fn current(store: &impl PlanExecutor, domain_id: &str) -> Result<Aggregate, StoreError> {
    let items = store
        .query_range(&metrics_pk(domain_id), CURRENT_SK, CURRENT_SK)
        .await?;
    Ok(items.first().map(numbers).unwrap_or_default())
}

/// A field's name and its SingleSelect option labels (value → label), when described.
pub async fn field_labels(
    store: &impl PlanExecutor,
    domain_id: &str,
    field_id: &str,
) -> Result<Option<(String, BTreeMap<String, String>)>, StoreError> {
    let sk = format!("{FIELD_PREFIX}{field_id}");
    let items = store.query_range(&fields_pk(domain_id), &sk, &sk).await?;
    Ok(items.first().map(|i| {
        let name = i
            .get("name")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_else(|| field_id.to_owned());
        let labels = i
            .get("options")
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                    .collect()
            })
            .unwrap_or_default();
        (name, labels)
    }))
}
