//! A case-metrics report: Connect's seven case metrics (GetMetricDataV2 ids), per interval and
//! group, computed from the read model's aggregates. Plain data, serialisable as the documented
//! JSON shape (`docs/metrics.md`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Week,
    Total,
}

/// What a report is grouped by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grouping {
    /// `template`, `status`, or a field id from `REPORT_DIMENSIONS`.
    pub id: String,
    /// A name for people (the field's name when known).
    pub name: String,
}

/// One interval (and group) of the six interval metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// First UTC day of the interval (ISO date).
    pub start: NaiveDate,
    /// The group's value (the case's current value of the grouping field); `null` ungrouped or
    /// for cases without a value.
    pub group: Option<String>,
    /// The value's label (SingleSelect option label) when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(rename = "CASES_CREATED")]
    pub cases_created: i64,
    #[serde(rename = "RESOLVED_CASE_ACTIONS")]
    pub resolved_case_actions: i64,
    #[serde(rename = "REOPENED_CASE_ACTIONS")]
    pub reopened_case_actions: i64,
    /// Seconds; `null` when nothing was resolved in the interval.
    #[serde(rename = "AVG_CASE_RESOLUTION_TIME")]
    pub avg_case_resolution_time: Option<f64>,
    /// `null` when no case was created in the interval.
    #[serde(rename = "AVG_CASE_RELATED_CONTACTS")]
    pub avg_case_related_contacts: Option<f64>,
    /// 0–100; `null` when nothing was resolved in the interval.
    #[serde(rename = "PERCENT_CASES_FIRST_CONTACT_RESOLVED")]
    pub percent_cases_first_contact_resolved: Option<f64>,
    /// Cases deleted in the interval (by the delete's time).
    #[serde(rename = "CASES_DELETED")]
    pub cases_deleted: i64,
    /// Related items associated in the interval, of every known type (deleted since or not).
    #[serde(rename = "RELATED_ITEMS_CREATED")]
    pub related_items_created: i64,
    /// The same per related-item type (`Contact`, `Comment`, ...); types with none left out.
    #[serde(rename = "RELATED_ITEMS_CREATED_BY_TYPE")]
    pub related_items_created_by_type: BTreeMap<String, i64>,
    /// What the averages divide, for consumers that add intervals up (the Parquet export): an
    /// average over several intervals is a sum over sums. Not in the JSON shape.
    #[serde(skip)]
    pub sums: Sums,
}

/// The numerators of a row's averages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Creation-to-resolution seconds over the interval's resolutions.
    pub resolution_seconds: i64,
    /// Live contacts of the cases created in the interval.
    pub contacts: i64,
    /// Resolutions of cases with exactly one contact on a first-contact channel.
    pub first_contact_resolved: i64,
}

/// Current cases (not deleted) by status, for one group, at query time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurrentCases {
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Status → cases.
    pub statuses: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub domain_id: String,
    /// Inclusive.
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub interval: Interval,
    pub by: Option<Grouping>,
    pub rows: Vec<Row>,
    #[serde(rename = "CURRENT_CASES")]
    pub current_cases: Vec<CurrentCases>,
    pub generated_at: DateTime<Utc>,
}
