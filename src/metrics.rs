//! One CloudWatch Embedded Metric Format (EMF) line per invocation: CloudWatch turns it into
//! metrics without any API call from the function.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::report::InvocationReport;

pub const NAMESPACE: &str = "CasesProjector";

/// The EMF document for one invocation, observed at `now` (for the end-to-end lag).
pub fn emf(report: &InvocationReport, function_name: &str, now: DateTime<Utc>) -> Value {
    let lags: Vec<f64> = report
        .records
        .iter()
        .filter_map(|r| r.changed_at)
        .map(|t| (now - t).num_milliseconds().max(0) as f64)
        .collect();
    let (lag_max, lag_avg) = match lags.len() {
        0 => (0.0, 0.0),
        n => (
            lags.iter().copied().fold(0.0, f64::max),
            lags.iter().sum::<f64>() / n as f64,
        ),
    };
    let counts = report.counts();
    let metrics: [(&str, &str, f64); 13] = [
        ("EventsReceived", "Count", report.records.len() as f64),
        ("EventsApplied", "Count", counts.applied as f64),
        ("EventsStale", "Count", counts.stale as f64),
        ("EventsDuplicate", "Count", counts.duplicate as f64),
        ("EventsSkipped", "Count", counts.skipped as f64),
        ("EventsFailed", "Count", counts.failed as f64),
        (
            "GetCaseCalls",
            "Count",
            f64::from(report.work.get_case_calls),
        ),
        (
            "EnrichmentDeferred",
            "Count",
            f64::from(report.work.enrichment_deferred),
        ),
        ("WriteUnits", "Count", report.work.write_units),
        (
            "WriteRequests",
            "Count",
            f64::from(report.work.write_requests),
        ),
        ("LagMaxMs", "Milliseconds", lag_max),
        ("LagAvgMs", "Milliseconds", lag_avg),
        (
            "RetryableFailures",
            "Count",
            counts.retryable_failures as f64,
        ),
    ];
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    doc.insert("FunctionName".into(), json!(function_name));
    for (name, _, value) in metrics {
        doc.insert(name.into(), json!(value));
    }
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::Outcome;
    use crate::report::{InvocationKind, RecordOutcome, RecordReport, Work};

    fn record(outcome: RecordOutcome, changed_at: &str) -> RecordReport {
        RecordReport {
            message_id: None,
            event_id: None,
            case_id: None,
            event_type: None,
            changed_at: Some(changed_at.parse().unwrap()),
            outcome,
        }
    }

    #[test]
    fn one_document_declares_and_carries_every_metric() {
        let report = InvocationReport {
            kind: InvocationKind::Sqs,
            records: vec![
                record(
                    RecordOutcome::Done(Outcome::Applied),
                    "2026-11-29T10:00:00.000Z",
                ),
                record(
                    RecordOutcome::Done(Outcome::Duplicate),
                    "2026-11-29T10:00:01.000Z",
                ),
                record(
                    RecordOutcome::Failed {
                        error: "x".into(),
                        retryable: true,
                    },
                    "2026-11-29T10:00:02.000Z",
                ),
            ],
            unrecognised: None,
            work: Work {
                write_units: 6.0,
                write_requests: 2,
                get_case_calls: 1,
                enrichment_deferred: 0,
            },
        };
        let doc = emf(
            &report,
            "projector",
            "2026-11-29T10:00:04.000Z".parse().unwrap(),
        );
        let declared = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], NAMESPACE);
        assert_eq!(declared["Dimensions"], json!([["FunctionName"]]));
        for m in declared["Metrics"].as_array().unwrap() {
            let name = m["Name"].as_str().unwrap();
            assert!(doc[name].is_number(), "{name} is declared and present");
        }
        assert_eq!(doc["_aws"]["Timestamp"], 1_795_946_404_000i64);
        assert_eq!(doc["EventsReceived"], 3.0);
        assert_eq!(doc["EventsApplied"], 1.0);
        assert_eq!(doc["EventsDuplicate"], 1.0);
        assert_eq!(doc["EventsFailed"], 1.0);
        assert_eq!(doc["RetryableFailures"], 1.0);
        assert_eq!(doc["GetCaseCalls"], 1.0);
        assert_eq!(doc["WriteUnits"], 6.0);
        assert_eq!(doc["WriteRequests"], 2.0);
        assert_eq!(doc["LagMaxMs"], 4000.0);
        assert_eq!(doc["LagAvgMs"], 3000.0);
        assert_eq!(doc["FunctionName"], "projector");
    }
}
