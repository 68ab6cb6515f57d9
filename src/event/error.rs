//! Why a record could not be parsed, and the helpers that describe a failure without quoting
//! any value from the payload.

/// Why one record could not be turned into a [`CaseEvent`](super::CaseEvent). Never retryable:
/// the same bytes would fail the same way forever.
///
/// Messages name where the record is wrong and what was expected, never a value from the
/// payload: records carry customer content, and error messages end up in logs and reports.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not an EventBridge event: {0}")]
    NotEventBridge(String),
    /// `source` and `detail-type` are echoed only when they are short identifiers
    /// (ASCII, at most 64 bytes); anything else shows as `(unexpected value)`.
    #[error(
        "not an Amazon Connect Cases event: source `{event_source}`, detail-type `{detail_type}`"
    )]
    WrongSource {
        event_source: String,
        detail_type: String,
    },
    #[error("invalid Cases event: {0}")]
    InvalidDetail(String),
    #[error("missing envelope field `{0}`")]
    MissingEnvelopeField(&'static str),
    #[error(
        "no domain ARN in `resources` (expected arn:aws:cases:REGION:ACCOUNT:domain/DOMAIN_ID)"
    )]
    NoDomainArn,
    #[error("missing `detail.{0}`")]
    MissingDetailField(&'static str),
    /// An id outside the limits the Cases service model (or, for the event id, the read model's
    /// keys) allows. The id itself is never part of the message.
    #[error("invalid `{field}`: {problem} ({limit})")]
    InvalidId {
        field: &'static str,
        problem: IdProblem,
        limit: IdLimit,
    },
}

impl ParseError {
    /// `NotJson` for bytes that do not parse as JSON, described without quoting them.
    pub fn not_json(e: &serde_json::Error) -> Self {
        ParseError::NotJson(describe(e))
    }
}

/// What is wrong with an id's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdProblem {
    TooShort,
    TooLong,
}

impl std::fmt::Display for IdProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdProblem::TooShort => "too short",
            IdProblem::TooLong => "too long",
        })
    }
}

/// The length limits of one kind of id, and where they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdLimit {
    /// The shape name, e.g. `CaseId`.
    pub shape: &'static str,
    pub min: usize,
    pub max: usize,
    /// Characters (Unicode scalar values, as Smithy `@length` counts them) or UTF-8 bytes.
    pub in_bytes: bool,
    pub source: &'static str,
}

impl std::fmt::Display for IdLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = if self.in_bytes { "bytes" } else { "characters" };
        write!(
            f,
            "{}: {} to {} {unit}, {}",
            self.shape, self.min, self.max, self.source
        )
    }
}

/// `s` if it is a short identifier-like string (ASCII letters, digits, spaces and `-_.:/#@`,
/// at most 64 bytes), else `(unexpected value)`: for echoing payload values that are names
/// (a `source`, a `detail-type`, a field id) without echoing content or a huge string.
pub(super) fn printable(s: &str) -> &str {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" -_.:/#@".contains(&b));
    if ok { s } else { "(unexpected value)" }
}

/// A JSON path as `serde_path_to_error` records it, with map keys (which come from the
/// payload) shown only when [`printable`] allows.
fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                let key = printable(key);
                out.push_str(if key.contains(' ') {
                    "(unexpected key)"
                } else {
                    key
                });
            }
            Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(printable(variant));
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// What went wrong in a `serde_json` error, without any payload value.
///
/// Syntax and end-of-input errors carry serde_json's fixed descriptions ("EOF while parsing a
/// string", "expected `,` or `}`", ...) and a position, never input text, so they are kept.
/// Data errors are built by `Deserialize` impls and quote the offending value (`invalid type:
/// string "...", expected f64`); only their kind, the field names serde puts in (missing or
/// duplicate field) and the `expected ...` part (which comes from code) are kept.
pub(super) fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => e.to_string(),
        Category::Io => "could not be read".into(),
        Category::Data => {
            let full = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = if e.line() > 0 {
                full.strip_suffix(&suffix).unwrap_or(&full)
            } else {
                &full
            };
            value_free(message)
        }
    }
}

fn value_free(message: &str) -> String {
    for kind in [
        "invalid type",
        "invalid value",
        "invalid length",
        "unknown variant",
        "unknown field",
    ] {
        if message.starts_with(kind) {
            // The value sits before the last `, expected `; what follows it comes from code.
            return match message.rsplit_once(", expected ") {
                Some((_, expected)) if expected.len() <= 120 && !expected.contains('"') => {
                    format!("{kind}, expected {expected}")
                }
                _ => kind.to_owned(),
            };
        }
    }
    for kind in ["missing field", "duplicate field"] {
        if let Some(name) = message.strip_prefix(kind) {
            let name = name.trim().trim_matches('`');
            return format!("{kind} `{}`", printable(name));
        }
    }
    // Fixed texts: serde's untagged enums, chrono's timestamp parser.
    const KNOWN: [&str; 8] = [
        "data did not match any variant of untagged enum",
        "input is out of range",
        "no possible date and time matching input",
        "input is not enough for unique date and time",
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "bad or unsupported format string",
    ];
    if KNOWN.iter().any(|k| message.starts_with(k)) && message.len() <= 120 {
        return message.to_owned();
    }
    "invalid value".into()
}

/// `prefix.path: what` for a `serde_path_to_error` failure.
pub(super) fn located(prefix: &str, e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = render_path(e.path());
    let what = describe(e.inner());
    match (prefix.is_empty(), path.is_empty() || path == ".") {
        (true, true) => what,
        (true, false) => format!("{path}: {what}"),
        (false, true) => format!("{prefix}: {what}"),
        (false, false) => format!("{prefix}.{path}: {what}"),
    }
}
