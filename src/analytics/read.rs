//! Reads what a report needs from the read model: the day aggregates of a range, the
//! current-cases aggregate (both with their attribute names spelled out, through the domain's
//! codes), and the grouping field's name and option labels.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta};

use super::codes::{Codes, expand};
use super::report::Aggregate;
use crate::store::item::Item;
use crate::store::keys::{
    CODE_PREFIX, CURRENT_SK, DAY_PREFIX, FIELD_PREFIX, fields_pk, metrics_pk,
};
use crate::store::{PlanExecutor, StoreError};

/// The counters of an aggregate item, by spelled-out name. A name that does not expand is
/// taken as it is: aggregates written before the compact names were spelled out, and the deltas
/// written since add up with them.
fn numbers(item: &Item, codes: &Codes) -> Aggregate {
    let mut out = Aggregate::new();
    for (name, value) in item {
        let Some(n) = value.as_n().ok().and_then(|n| n.parse::<i64>().ok()) else {
            continue;
        };
        let name = expand(name, codes).unwrap_or_else(|| name.clone());
        *out.entry(name).or_default() += n;
    }
    out
}

/// The texts of a domain's aggregate codes.
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
            Some((code.to_owned(), i.get("text")?.as_s().ok()?.clone()))
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

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::analytics::codes::compact;

    #[test]
    fn counters_written_spelled_out_before_the_compact_names_add_up_with_the_new_ones() {
        // Given a day item holding counters of both forms, and the codes' texts.
        let open_billing = "status=open@case_reason=billing";
        let (created, _) = compact("created");
        let (open_billing_compact, codes) = compact(open_billing);
        let number = |n: &str| AttributeValue::N(n.into());
        let item = Item::from([
            ("pk".to_owned(), AttributeValue::S("METRICS#d".into())),
            ("created".to_owned(), number("2")),
            (created, number("1")),
            (open_billing.to_owned(), number("1")),
            (open_billing_compact, number("-1")),
        ]);
        // When it is read.
        let read = numbers(&item, &codes.into_iter().collect());
        // Then each metric is the sum of both forms.
        assert_eq!(read.get("created"), Some(&3));
        assert_eq!(read.get(open_billing), Some(&0));
        assert_eq!(read.len(), 2);
    }
}
