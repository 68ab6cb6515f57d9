//! Settings, read once from the environment at start (names as in `template.yaml`).

use std::time::Duration;

use crate::enrichment::EnricherSettings;
use crate::projection::ProjectionOptions;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `TABLE_NAME` (required): the read-model table.
    pub table_name: String,
    /// `STORE_CUSTOMER_CONTENT` (default false): keep comment bodies and custom related-item fields.
    pub projection: ProjectionOptions,
    /// `CASE_CONCURRENCY` (default 8): cases processed at once within one invocation.
    pub case_concurrency: usize,
    /// `STORE_TIMEOUT_MS` (default 3000): budget for one DynamoDB operation, retries included.
    pub store_timeout: Duration,
    /// GetCase enrichment; `None` with `ENRICHMENT=off`. From `CASE_FIELDS` (comma-separated
    /// field ids; default every field of the domain), `FIELD_CACHE_TTL_SECONDS` (default 900),
    /// `SNAPSHOT_MAX_AGE_SECONDS` (default 21600).
    pub enrichment: Option<EnricherSettings>,
    /// `CASES_TIMEOUT_MS` (default 5000): budget for one Cases API operation, retries included.
    pub cases_timeout: Duration,
    /// `CASE_CACHE_BYTES` (default 8 MiB; 0 disables): memory for case states kept between
    /// invocations of a warm execution environment.
    pub case_cache_bytes: usize,
    /// This instance's GetCase calls per second at most (beyond it, enrichment is deferred to
    /// reconcile). `GET_CASE_RATE` if set; else `GETCASE_QUOTA_PER_SECOND` (default 4) ×
    /// `GETCASE_QUOTA_SHARE` (default 0.5) ÷ `MAX_CONCURRENCY` (default 2, the template's
    /// `MaximumConcurrency`).
    pub get_case_rate: f64,
    /// `REPORT_DIMENSIONS` (comma-separated field ids, default none): besides template and
    /// status, the fields the case-metric aggregates are grouped by (the case's current value).
    pub report_dimensions: Vec<String>,
}

/// A comma-separated list of ids, blanks dropped.
fn id_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set: it must name the read-model DynamoDB table")]
    Missing(&'static str),
    #[error("{name} is not set: it must {meaning}")]
    Required {
        name: &'static str,
        meaning: &'static str,
    },
    #[error("{name} = `{value}` is invalid: {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = lookup("TABLE_NAME")
            .filter(|t| !t.trim().is_empty())
            .ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let store_customer_content = match lookup("STORE_CUSTOMER_CONTENT").as_deref() {
            None | Some("") => false,
            Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => true,
            Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => false,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: "STORE_CUSTOMER_CONTENT",
                    value: v.into(),
                    expected: "true or false",
                });
            }
        };
        let number =
            |name: &'static str, default: u64| -> Result<u64, ConfigError> {
                match lookup(name) {
                    None => Ok(default),
                    Some(v) => v.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or(
                        ConfigError::Invalid {
                            name,
                            value: v,
                            expected: "a positive whole number",
                        },
                    ),
                }
            };
        let enrichment = match lookup("ENRICHMENT")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("") | Some("on") | Some("true") => Some(EnricherSettings {
                case_fields: lookup("CASE_FIELDS")
                    .map(|v| id_list(&v))
                    .filter(|f| !f.is_empty()),
                cache_ttl: Duration::from_secs(number("FIELD_CACHE_TTL_SECONDS", 900)?),
                max_snapshot_age: Duration::from_secs(number("SNAPSHOT_MAX_AGE_SECONDS", 21_600)?),
            }),
            Some("off") | Some("false") => None,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "ENRICHMENT",
                    value: lookup("ENRICHMENT").unwrap_or_default(),
                    expected: "on or off",
                });
            }
        };
        let case_cache_bytes = match lookup("CASE_CACHE_BYTES").as_deref().map(str::trim) {
            None => 8 << 20,
            Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
                name: "CASE_CACHE_BYTES",
                value: v.into(),
                expected: "a whole number of bytes (0 disables the cache)",
            })?,
        };
        let positive = |name, default| positive(&lookup, name, default);
        let get_case_rate = match lookup("GET_CASE_RATE") {
            Some(_) => positive("GET_CASE_RATE", 1.0)?,
            None => crate::enrichment::Budget::per_instance_rate(
                positive(
                    "GETCASE_QUOTA_PER_SECOND",
                    crate::enrichment::budget::DEFAULT_GET_CASE_QUOTA,
                )?,
                positive(
                    "GETCASE_QUOTA_SHARE",
                    crate::enrichment::budget::DEFAULT_PROJECTOR_SHARE,
                )?
                .min(1.0),
                number("MAX_CONCURRENCY", 2)?.min(u64::from(u32::MAX)) as u32,
            ),
        };
        Ok(Config {
            report_dimensions: lookup("REPORT_DIMENSIONS")
                .map(|v| id_list(&v))
                .unwrap_or_default(),
            get_case_rate,
            case_cache_bytes,
            enrichment,
            cases_timeout: Duration::from_millis(number("CASES_TIMEOUT_MS", 5000)?),
            table_name,
            projection: ProjectionOptions {
                store_customer_content,
            },
            case_concurrency: number("CASE_CONCURRENCY", 8)? as usize,
            store_timeout: Duration::from_millis(number("STORE_TIMEOUT_MS", 3000)?),
        })
    }
}

/// `CASES_DOMAIN_ID` (required): the domain a function serves; `meaning` says what for.
pub fn domain_id(
    lookup: &impl Fn(&str) -> Option<String>,
    meaning: &'static str,
) -> Result<String, ConfigError> {
    lookup("CASES_DOMAIN_ID")
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .ok_or(ConfigError::Required {
            name: "CASES_DOMAIN_ID",
            meaning,
        })
}

/// The positive number `name` holds, or `default` when unset.
pub fn positive(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: f64,
) -> Result<f64, ConfigError> {
    match lookup(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n > 0.0)
            .ok_or(ConfigError::Invalid {
                name,
                value: v,
                expected: "a positive number",
            }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn table_name_is_required_with_a_clear_message() {
        let err = config(&[]).unwrap_err();
        assert_eq!(err, ConfigError::Missing("TABLE_NAME"));
        assert!(err.to_string().contains("TABLE_NAME is not set"));
    }

    #[test]
    fn defaults_keep_customer_content_out() {
        let c = config(&[("TABLE_NAME", "t")]).unwrap();
        assert!(!c.projection.store_customer_content);
        assert_eq!(c.case_concurrency, 8);
        let e = c.enrichment.unwrap();
        assert_eq!(e.case_fields, None, "every field of the domain");
        assert_eq!(e.cache_ttl, Duration::from_secs(900));
        assert_eq!(c.get_case_rate, 1.0, "4/s × 0.5 ÷ 2 instances");
    }

    #[test]
    fn the_get_case_budget_follows_the_quota_and_the_concurrency() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("GETCASE_QUOTA_PER_SECOND", "10"),
            ("MAX_CONCURRENCY", "5"),
        ])
        .unwrap();
        assert_eq!(c.get_case_rate, 1.0);
        let c = config(&[("TABLE_NAME", "t"), ("GET_CASE_RATE", "0.25")]).unwrap();
        assert_eq!(c.get_case_rate, 0.25);
        assert!(config(&[("TABLE_NAME", "t"), ("GET_CASE_RATE", "-1")]).is_err());
    }

    #[test]
    fn case_fields_are_a_comma_separated_list_and_enrichment_can_be_off() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("CASE_FIELDS", "status, title,,priority"),
        ])
        .unwrap();
        assert_eq!(
            c.enrichment.unwrap().case_fields.unwrap(),
            ["status", "title", "priority"]
        );
        assert_eq!(
            config(&[("TABLE_NAME", "t"), ("ENRICHMENT", "off")])
                .unwrap()
                .enrichment,
            None
        );
        assert!(config(&[("TABLE_NAME", "t"), ("ENRICHMENT", "sometimes")]).is_err());
    }

    #[test]
    fn bad_values_are_named() {
        let err = config(&[
            ("TABLE_NAME", "t"),
            ("STORE_CUSTOMER_CONTENT", "yes please"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("STORE_CUSTOMER_CONTENT"));
        let err = config(&[("TABLE_NAME", "t"), ("CASE_CONCURRENCY", "0")]).unwrap_err();
        assert!(err.to_string().contains("CASE_CONCURRENCY"));
        assert!(
            config(&[("TABLE_NAME", "t"), ("STORE_CUSTOMER_CONTENT", "TRUE")])
                .unwrap()
                .projection
                .store_customer_content
        );
    }
}
