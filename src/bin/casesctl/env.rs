//! The environment each command reads, in one list per command: its help prints the list, and
//! its configuration is read through it, so the help cannot leave out what the command uses.

use cases_projector::config::{Config, ConfigError};

pub struct Var {
    pub name: &'static str,
    pub meaning: &'static str,
}

const fn var(name: &'static str, meaning: &'static str) -> Var {
    Var { name, meaning }
}

const TABLE_NAME: Var = var("TABLE_NAME", "the read-model table (required)");
const STORE_TIMEOUT_MS: Var = var(
    "STORE_TIMEOUT_MS",
    "budget of one DynamoDB operation, retries included (default 3000)",
);
const DYNAMODB_ENDPOINT: Var = var("AWS_ENDPOINT_URL_DYNAMODB", "e.g. DynamoDB Local");
const REPORT_DIMENSIONS: Var = var(
    "REPORT_DIMENSIONS",
    "comma-separated field ids the numbers are grouped by, besides template and status",
);
const CASE_FIELDS: Var = var(
    "CASE_FIELDS",
    "comma-separated case field ids to keep (default every field of the domain)",
);
const STORE_CUSTOMER_CONTENT: Var = var(
    "STORE_CUSTOMER_CONTENT",
    "true keeps comment bodies and custom related-item fields (default false)",
);
const CASES_TIMEOUT_MS: Var = var(
    "CASES_TIMEOUT_MS",
    "budget of one Cases API operation, retries included (default 5000)",
);
const CASES_ENDPOINT: Var = var(
    "AWS_ENDPOINT_URL_CONNECTCASES",
    "e.g. the Connect Cases stand-in",
);

pub const TABLE: &[Var] = &[TABLE_NAME, STORE_TIMEOUT_MS, DYNAMODB_ENDPOINT];
pub const REPORT: &[Var] = &[
    TABLE_NAME,
    REPORT_DIMENSIONS,
    STORE_TIMEOUT_MS,
    DYNAMODB_ENDPOINT,
];
pub const EXPORT: &[Var] = &[
    TABLE_NAME,
    REPORT_DIMENSIONS,
    STORE_CUSTOMER_CONTENT,
    STORE_TIMEOUT_MS,
    DYNAMODB_ENDPOINT,
    var(
        "AWS_ENDPOINT_URL_S3",
        "e.g. a local S3 (for an s3:// destination)",
    ),
];
pub const EVENT_CONFIG_SHOW: &[Var] = &[CASES_ENDPOINT];
pub const EVENT_CONFIG_APPLY: &[Var] = &[CASE_FIELDS, CASES_ENDPOINT];
/// Backfill: both sides, and what decides what a case keeps.
pub const BACKFILL: &[Var] = &[
    TABLE_NAME,
    CASE_FIELDS,
    REPORT_DIMENSIONS,
    STORE_CUSTOMER_CONTENT,
    CASES_TIMEOUT_MS,
    STORE_TIMEOUT_MS,
    DYNAMODB_ENDPOINT,
    CASES_ENDPOINT,
];
pub const RECONCILE: &[Var] = &[
    TABLE_NAME,
    CASE_FIELDS,
    REPORT_DIMENSIONS,
    STORE_CUSTOMER_CONTENT,
    CASES_TIMEOUT_MS,
    STORE_TIMEOUT_MS,
    DYNAMODB_ENDPOINT,
    CASES_ENDPOINT,
    var("HOSTNAME", "names this run on the domain's lease"),
];
/// Replay runs the Lambda's handler: everything the function reads.
pub const REPLAY: &[Var] = &[
    TABLE_NAME,
    var("ENRICHMENT", "off: no GetCase calls (default on)"),
    CASE_FIELDS,
    REPORT_DIMENSIONS,
    STORE_CUSTOMER_CONTENT,
    var(
        "FIELD_CACHE_TTL_SECONDS",
        "how long field metadata is cached (default 900)",
    ),
    var(
        "SNAPSHOT_MAX_AGE_SECONDS",
        "a stored snapshot older than this is read again in full (default 21600)",
    ),
    var("CASE_CONCURRENCY", "cases processed at once (default 8)"),
    var(
        "CASE_CACHE_BYTES",
        "memory for case states between invocations (default 8 MiB)",
    ),
    var(
        "GET_CASE_RATE",
        "GetCase calls per second at most (default 1)",
    ),
    var(
        "GETCASE_QUOTA_PER_SECOND",
        "the account's GetCase quota, when GET_CASE_RATE is unset (default 4)",
    ),
    var(
        "GETCASE_QUOTA_SHARE",
        "the projector's share of that quota (default 0.5)",
    ),
    var(
        "MAX_CONCURRENCY",
        "function instances sharing that share (default 2)",
    ),
    CASES_TIMEOUT_MS,
    STORE_TIMEOUT_MS,
    DYNAMODB_ENDPOINT,
    CASES_ENDPOINT,
];

/// The help's Environment section for a command reading `vars`.
pub fn help(vars: &[Var]) -> String {
    let width = vars.iter().map(|v| v.name.len()).max().unwrap_or(0);
    let mut text = String::from("Environment:\n");
    for v in vars {
        text.push_str(&format!("  {:width$}  {}\n", v.name, v.meaning));
    }
    text.push_str("  and the standard AWS ones (AWS_REGION, AWS_PROFILE, credentials)");
    text
}

/// The configuration as `vars` set it; every other setting keeps its default.
pub fn config(vars: &[Var]) -> Result<Config, ConfigError> {
    Config::from_lookup(|name| {
        vars.iter()
            .any(|v| v.name == name)
            .then(|| std::env::var(name).ok())
            .flatten()
    })
}
