//! The Lambda adapter: request id, deadline, logs, EMF metrics, and the answer Lambda (SQS
//! partial batch, or an error to retry a direct invocation) expects.

use std::time::Duration;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use chrono::Utc;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::enrichment::CaseReader;
use crate::projector::Projector;
use crate::report::{InvocationKind, InvocationReport, RecordOutcome};
use crate::store::ReadModelStore;

/// Time kept back from Lambda's deadline to report the batch.
const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

/// A retryable failure of a whole direct invocation: returned as the Lambda error so Lambda
/// (or EventBridge) delivers the event again.
#[derive(Debug, thiserror::Error)]
#[error("{failed} record(s) failed retryably; first: {first}")]
pub struct RetryInvocation {
    pub failed: usize,
    pub first: String,
}

/// Maps a report to what Lambda should return.
pub fn lambda_response(report: &InvocationReport) -> Result<Value, RetryInvocation> {
    match report.kind {
        InvocationKind::Sqs => {
            // A retryable failure without a message id cannot be named: retry the whole batch.
            if let Some(r) = report.retryable_failures().find(|r| r.message_id.is_none()) {
                return Err(RetryInvocation {
                    failed: 1,
                    first: r.outcome.reason().unwrap_or_default(),
                });
            }
            Ok(serde_json::to_value(sqs_response(report)).unwrap_or(Value::Null))
        }
        _ => {
            let failed: Vec<_> = report.retryable_failures().collect();
            match failed.first() {
                Some(first) => Err(RetryInvocation {
                    failed: failed.len(),
                    first: first.outcome.reason().unwrap_or_default(),
                }),
                None => Ok(json!({
                    "records": report.records.len(),
                    "applied": report.counts().applied,
                    "failed": report.counts().failed,
                })),
            }
        }
    }
}

/// The Lambda entry: detect the payload, project it, log and measure it, and map the report to
/// Lambda's answer.
pub async fn lambda_handler<S: ReadModelStore, R: CaseReader>(
    projector: &Projector<S, R>,
    function_name: &str,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    crate::telemetry::set_request_id(&event.context.request_id);
    // Stop early enough to report: whatever is unfinished then fails retryably. A deadline in
    // the past is not Lambda's (cargo lambda's emulator sends a relative 600000): rely on the
    // store timeouts alone then.
    let deadline = match event
        .context
        .deadline()
        .duration_since(std::time::SystemTime::now())
    {
        Ok(remaining) => Some(Instant::now() + remaining.saturating_sub(DEADLINE_MARGIN)),
        Err(_) => None,
    };
    let report = projector
        .handle(crate::event::parse_invocation(event.payload), deadline)
        .await;
    log_report(&report);
    println!(
        "{}",
        crate::metrics::emf(&report, function_name, Utc::now())
    );
    lambda_response(&report).map_err(Into::into)
}

/// The SQS partial-batch response: exactly the messages that failed retryably. Malformed
/// messages are left out on purpose: redelivering them cannot succeed (they are logged).
pub fn sqs_response(report: &InvocationReport) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = report
        .retryable_failures()
        .filter_map(|r| r.message_id.clone())
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// One line per record and one summary line. Ids, types and outcomes only: never field values,
/// comment bodies or other customer content.
pub fn log_report(report: &InvocationReport) {
    if let Some(why) = &report.unrecognised {
        tracing::error!(error = %why, "unrecognised payload acknowledged without processing");
    }
    for r in &report.records {
        let reason = r.outcome.reason();
        let fields = (
            r.message_id.as_deref().unwrap_or(""),
            r.event_id.as_deref().unwrap_or(""),
            r.case_id.as_deref().unwrap_or(""),
            r.event_type.as_deref().unwrap_or(""),
        );
        match &r.outcome {
            RecordOutcome::Failed { retryable, .. } => tracing::warn!(
                message_id = fields.0,
                event_id = fields.1,
                case_id = fields.2,
                event_type = fields.3,
                outcome = "failed",
                retryable,
                reason = reason.as_deref().unwrap_or(""),
                "record"
            ),
            outcome => tracing::info!(
                message_id = fields.0,
                event_id = fields.1,
                case_id = fields.2,
                event_type = fields.3,
                outcome = outcome.label(),
                reason = reason.as_deref().unwrap_or(""),
                "record"
            ),
        }
    }
    let counts = report.counts();
    tracing::info!(
        kind = ?report.kind,
        received = report.records.len(),
        applied = counts.applied,
        stale = counts.stale,
        duplicate = counts.duplicate,
        skipped = counts.skipped,
        failed = counts.failed,
        retryable_failures = counts.retryable_failures,
        write_units = report.work.write_units,
        write_requests = report.work.write_requests,
        get_case_calls = report.work.get_case_calls,
        "invocation summary"
    );
}
