//! Structured JSON logs for CloudWatch.

use tracing_subscriber::EnvFilter;

/// JSON lines, one object per event, with the current span (the runtime's, which carries the
/// request id) on every line. Level from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else info.
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .map(|level| EnvFilter::new(level.to_lowercase()))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .try_init()
        .ok();
}
