//! Structured JSON logs for CloudWatch: one object per line with timestamp, level, message, the
//! event's fields, and the request id of the invocation being handled.
//!
//! A small formatter instead of tracing-subscriber's JSON `with_current_span`: that one re-parses
//! the runtime span's fields on every line, which cost about a quarter of the projector's CPU per
//! event (docs/benchmarks.md). The request id is set once per invocation instead.

use std::fmt;
use std::sync::RwLock;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

static REQUEST_ID: RwLock<Option<String>> = RwLock::new(None);

/// Tags every following log line with this invocation's request id.
pub fn set_request_id(request_id: &str) {
    if let Ok(mut current) = REQUEST_ID.write() {
        *current = Some(request_id.to_owned());
    }
}

/// The variables the log level is read from, in order (`AWS_LAMBDA_LOG_LEVEL` is set by Lambda
/// from the function's `ApplicationLogLevel`).
pub const LEVEL_VARIABLES: [&str; 2] = ["RUST_LOG", "AWS_LAMBDA_LOG_LEVEL"];

/// Level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else info.
pub fn init() {
    let [rust_log, lambda_level] = LEVEL_VARIABLES;
    let filter = std::env::var(rust_log)
        .or_else(|_| std::env::var(lambda_level))
        .map(|level| EnvFilter::new(level.to_lowercase()))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(JsonLines)
        .try_init()
        .ok();
}

pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writeln!(writer, "{}", json_line(event, chrono::Utc::now()))
    }
}

fn json_line(event: &Event<'_>, now: chrono::DateTime<chrono::Utc>) -> Value {
    let mut line = Map::new();
    line.insert(
        "timestamp".into(),
        Value::String(now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
    );
    line.insert(
        "level".into(),
        Value::String(event.metadata().level().as_str().to_owned()),
    );
    event.record(&mut Fields(&mut line));
    if let Some(id) = REQUEST_ID.read().ok().and_then(|r| r.clone()) {
        line.insert("requestId".into(), Value::String(id));
    }
    Value::Object(line)
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_one_json_object_with_fields_and_request_id() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonLines)
            .with_writer(move || sink.clone())
            .finish();
        set_request_id("req-123");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(event_id = "e-1", applied = 3u64, retryable = false, kind = ?Some(1), "record");
            tracing::warn!("second");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["message"], "record");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["event_id"], "e-1");
        assert_eq!(lines[0]["applied"], 3);
        assert_eq!(lines[0]["retryable"], false);
        assert_eq!(lines[0]["kind"], "Some(1)");
        assert_eq!(lines[0]["requestId"], "req-123");
        assert_eq!(lines[1]["level"], "WARN");
        assert_eq!(lines[1]["requestId"], "req-123");
    }
}
