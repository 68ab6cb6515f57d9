//! The scheduled exporter's settings and one invocation: an export of `CASES_DOMAIN_ID` to
//! `EXPORT_TO`. The payload may narrow the days considered: `{"from": "2026-11-01", "to":
//! "2026-12-01"}`.

use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::ExportError;
use super::run::{Options, Summary, run};
use super::sink::{Destination, ObjectSink};
use crate::config::{Config, ConfigError};
use crate::store::PlanExecutor;

#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    /// `CASES_DOMAIN_ID` (required).
    pub domain_id: String,
    /// `EXPORT_TO` (required): `s3://bucket[/prefix]`.
    pub bucket: String,
    pub prefix: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let config = Config::from_lookup(&lookup)?;
        let required = |name: &'static str, meaning: &'static str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Required { name, meaning })
        };
        let domain_id = required("CASES_DOMAIN_ID", "name the Cases domain to export")?;
        let to = required(
            "EXPORT_TO",
            "name the export's S3 location (s3://bucket/prefix)",
        )?;
        match Destination::parse(&to) {
            Ok(Destination::S3 { bucket, prefix }) => Ok(Settings {
                config,
                domain_id,
                bucket,
                prefix,
            }),
            _ => Err(ConfigError::Invalid {
                name: "EXPORT_TO",
                value: to,
                expected: "an S3 location, s3://bucket or s3://bucket/prefix",
            }),
        }
    }

    pub fn options(&self) -> Options {
        let mut options = Options::new(&self.domain_id, Utc::now());
        options.dimensions = self.config.report_dimensions.clone();
        options.include_content = self.config.projection.store_customer_content;
        options
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// One scheduled export. A scheduled event's payload (EventBridge's) narrows nothing.
pub async fn invoke(
    store: &impl PlanExecutor,
    sink: &impl ObjectSink,
    settings: &Settings,
    payload: &Value,
) -> Result<Summary, ExportError> {
    let payload: Payload = serde_json::from_value(payload.clone()).unwrap_or_default();
    let mut options = settings.options();
    options.from = payload.from;
    options.to = payload.to;
    run(store, sink, &options).await
}
