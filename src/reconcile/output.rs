//! A run's summary for people (stderr) and CloudWatch (EMF), and the `--since` parser.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::Summary;
use crate::backfill::source::FoundCase;
use crate::event::FieldValue;

/// A date-time system field (`created_datetime`, ...) as the Cases API returns it.
pub(super) fn time_field(
    fields: &BTreeMap<String, FieldValue>,
    field_id: &str,
) -> Option<DateTime<Utc>> {
    match fields.get(field_id) {
        Some(FieldValue::String(t)) => t.parse().ok(),
        _ => None,
    }
}

pub(super) fn updated_at(found: &FoundCase) -> Option<DateTime<Utc>> {
    time_field(&found.fields, "last_updated_datetime")
}

/// The run's summary as one CloudWatch EMF line (namespace `CasesProjector`, dimension
/// `DomainId`): what reconcile found and fixed, and the oldest deferred case's age (alarmed);
/// `ReconcileStoppedAtDeadline` is 1 when the run stopped at its deadline (the next goes on).
pub fn emf(summary: &Summary, domain_id: &str, now: DateTime<Utc>) -> serde_json::Value {
    let c = &summary.counts;
    let metrics: [(&str, &str, f64); 12] = [
        ("ReconcileDeferredFilled", "Count", c.deferred_filled as f64),
        (
            "ReconcileDeferredUnfilled",
            "Count",
            c.deferred_unfilled as f64,
        ),
        ("ReconcileCasesCreated", "Count", c.cases_created as f64),
        (
            "ReconcileFieldsCorrected",
            "Count",
            c.fields_corrected as f64,
        ),
        ("ReconcileTombstones", "Count", c.tombstones as f64),
        (
            "ReconcileRelatedItemsAdded",
            "Count",
            c.related_items_added as f64,
        ),
        ("ReconcileCasesSearched", "Count", c.cases_searched as f64),
        ("DeferredCases", "Count", summary.deferred_left as f64),
        (
            "OldestDeferredAgeSeconds",
            "Seconds",
            summary
                .oldest_deferred_age
                .map_or(0.0, |a| a.as_secs_f64().floor()),
        ),
        (
            "ReconcileCasesCalls",
            "Count",
            summary.calls.values().sum::<u64>() as f64,
        ),
        ("ReconcileThrottles", "Count", summary.throttles as f64),
        (
            "ReconcileStoppedAtDeadline",
            "Count",
            f64::from(u8::from(summary.stopped_at_deadline)),
        ),
    ];
    emf_line(&metrics, domain_id, now)
}

/// One EMF line of `metrics` (name, unit, value) with the dimension `DomainId`.
pub(super) fn emf_line(
    metrics: &[(&str, &str, f64)],
    domain_id: &str,
    now: DateTime<Utc>,
) -> serde_json::Value {
    let mut doc = serde_json::Map::new();
    doc.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": crate::metrics::NAMESPACE,
                "Dimensions": [["DomainId"]],
                "Metrics": metrics
                    .iter()
                    .map(|(name, unit, _)| serde_json::json!({"Name": name, "Unit": unit}))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    doc.insert("DomainId".into(), domain_id.into());
    for (name, _, value) in metrics {
        doc.insert((*name).into(), (*value).into());
    }
    serde_json::Value::Object(doc)
}

/// A look-back window such as `90s`, `15m`, `6h` or `7d`.
pub fn parse_window(raw: &str) -> Result<TimeDelta, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{raw}`: expected a number and a unit, e.g. 15m, 6h, 7d"))?;
    let window = match unit {
        "s" => TimeDelta::try_seconds(n),
        "m" => TimeDelta::try_minutes(n),
        "h" => TimeDelta::try_hours(n),
        "d" => TimeDelta::try_days(n),
        _ => None,
    };
    // Ten years is more than any Cases domain holds, and keeps `now - window` representable.
    window
        .filter(|w| *w > TimeDelta::zero() && *w <= TimeDelta::days(3650))
        .ok_or_else(|| {
            format!("`{raw}`: expected a positive number and s, m, h or d, at most 3650d")
        })
}

/// The summary in one line, for a terminal or a log.
pub fn render(s: &Summary) -> String {
    let stopped = if s.stopped_at_deadline {
        " (stopped at its deadline: the next run goes on from its checkpoint)"
    } else {
        ""
    };
    let calls: Vec<String> = s.calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
    let c = &s.counts;
    let searched = if s.searched {
        format!(
            "{} case(s) searched since {}",
            c.cases_searched,
            crate::store::item::iso(s.since)
        )
    } else {
        "deferred cases only (no search)".to_owned()
    };
    format!(
        "reconcile done in {:.1}s{stopped}: {} deferred case(s) filled ({} left by a Cases API error), {} case(s) created, {} field(s) corrected in {} case(s), {} field value(s) filled in ({} of them empty in Connect), {} related item(s) added to {} case(s), {} tombstone(s); {searched}; {} deferred left (oldest {}s); calls: {}; {} throttled",
        s.elapsed.as_secs_f64(),
        c.deferred_filled,
        c.deferred_unfilled,
        c.cases_created,
        c.fields_corrected,
        c.cases_corrected,
        c.fields_filled,
        c.fields_filled_empty,
        c.related_items_added,
        c.cases_related_added,
        c.tombstones,
        s.deferred_left,
        s.oldest_deferred_age.map_or(0, |a| a.as_secs()),
        calls.join(", "),
        s.throttles,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_with_a_unit() {
        assert_eq!(parse_window("15m"), Ok(TimeDelta::minutes(15)));
        assert_eq!(parse_window("7d"), Ok(TimeDelta::days(7)));
        assert!(parse_window("7").is_err());
        assert!(parse_window("0h").is_err());
        assert!(parse_window("h").is_err());
    }
}
