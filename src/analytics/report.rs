//! From the aggregates (per-day items and the current-cases item) to a [`Report`]: Connect's
//! metrics per interval and group. Pure: the caller reads the items.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use super::aggregate::{
    CONTACTS, CREATED, FIRST_CONTACT_RESOLVED, GROUP_SEPARATOR, REOPENED, RESOLUTION_SECONDS,
    RESOLVED, STATUS_PREFIX,
};
use super::model::{CurrentCases, Grouping, Interval, Report, Row};

/// Attribute name → amount, as stored.
pub type Aggregate = BTreeMap<String, i64>;

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub domain_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub interval: Interval,
    pub by: Option<Grouping>,
    /// Value → label, for the grouping field's SingleSelect options.
    pub labels: BTreeMap<String, String>,
}

/// The first day of the interval `day` falls in.
fn interval_start(day: NaiveDate, request: &ReportRequest) -> NaiveDate {
    match request.interval {
        Interval::Day => day,
        // ISO weeks (Monday first), the first one clipped to the range.
        Interval::Week => {
            let monday = day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()));
            monday.max(request.from)
        }
        Interval::Total => request.from,
    }
}

/// Every interval start of the range, so days without data still show (as zeros).
fn interval_starts(request: &ReportRequest) -> BTreeSet<NaiveDate> {
    let mut starts = BTreeSet::new();
    let mut day = request.from;
    while day < request.to {
        starts.insert(interval_start(day, request));
        day += TimeDelta::days(1);
    }
    starts
}

/// `metric` for group `group` (`None`: every case) in `attrs`.
fn value(attrs: &Aggregate, metric: &str, group: Option<&str>) -> i64 {
    let name = match group {
        None => metric.to_owned(),
        Some(g) => format!("{metric}{GROUP_SEPARATOR}{g}"),
    };
    attrs.get(&name).copied().unwrap_or(0)
}

/// The values of `by` that some non-zero amount in `attrs` is grouped under (a group whose
/// cases all moved elsewhere leaves zeros behind: it has nothing to show).
fn groups_in<'a>(
    attrs: impl Iterator<Item = (&'a String, &'a i64)>,
    dim: &str,
) -> BTreeSet<String> {
    let prefix = format!("{GROUP_SEPARATOR}{dim}=");
    attrs
        .filter(|(_, n)| **n != 0)
        .filter_map(|(name, _)| name.split_once(&prefix).map(|(_, v)| v.to_owned()))
        .collect()
}

fn ratio(numerator: i64, denominator: i64, scale: f64) -> Option<f64> {
    (denominator != 0).then(|| numerator as f64 * scale / denominator as f64)
}

pub fn build(
    request: &ReportRequest,
    days: &BTreeMap<NaiveDate, Aggregate>,
    current: &Aggregate,
    generated_at: DateTime<Utc>,
) -> Report {
    // Sum the days of each interval.
    let mut intervals: BTreeMap<NaiveDate, Aggregate> = interval_starts(request)
        .into_iter()
        .map(|d| (d, Aggregate::new()))
        .collect();
    for (day, attrs) in days.range(request.from..request.to) {
        let sum = intervals.entry(interval_start(*day, request)).or_default();
        for (name, n) in attrs {
            *sum.entry(name.clone()).or_default() += n;
        }
    }
    let groups: Vec<Option<String>> = match &request.by {
        None => vec![None],
        Some(by) => {
            let amounts = intervals.values().flatten().chain(current);
            groups_in(amounts, &by.id).into_iter().map(Some).collect()
        }
    };
    let key = |g: &Option<String>| {
        g.as_ref()
            .zip(request.by.as_ref())
            .map(|(v, by)| format!("{}={v}", by.id))
    };
    let label = |g: &Option<String>| g.as_ref().and_then(|v| request.labels.get(v).cloned());
    let mut rows = Vec::new();
    for (start, attrs) in &intervals {
        for g in &groups {
            let k = key(g);
            let k = k.as_deref();
            let resolved = value(attrs, RESOLVED, k);
            let created = value(attrs, CREATED, k);
            rows.push(Row {
                start: *start,
                group: g.clone().map(|v| v.to_owned()).filter(|v| !v.is_empty()),
                label: label(g),
                cases_created: created,
                resolved_case_actions: resolved,
                reopened_case_actions: value(attrs, REOPENED, k),
                avg_case_resolution_time: ratio(value(attrs, RESOLUTION_SECONDS, k), resolved, 1.0),
                avg_case_related_contacts: ratio(value(attrs, CONTACTS, k), created, 1.0),
                percent_cases_first_contact_resolved: ratio(
                    value(attrs, FIRST_CONTACT_RESOLVED, k),
                    resolved,
                    100.0,
                ),
            });
        }
    }
    let current_cases = groups
        .iter()
        .map(|g| {
            let k = key(g);
            let statuses = current
                .iter()
                .filter_map(|(name, n)| {
                    let (metric, group) = match name.split_once(GROUP_SEPARATOR) {
                        Some((m, grp)) => (m, Some(grp)),
                        None => (name.as_str(), None),
                    };
                    let status = metric.strip_prefix(STATUS_PREFIX)?;
                    (group == k.as_deref() && *n != 0).then(|| (status.to_owned(), *n))
                })
                .collect();
            CurrentCases {
                group: g.clone().filter(|v| !v.is_empty()),
                label: label(g),
                statuses,
            }
        })
        .collect();
    Report {
        domain_id: request.domain_id.clone(),
        from: request.from,
        to: request.to,
        interval: request.interval,
        by: request.by.clone(),
        rows,
        current_cases,
        generated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn days_sum_into_weeks_and_averages_over_nothing_are_null() {
        let days = BTreeMap::from([
            (
                day("2026-11-02"),
                Aggregate::from([
                    ("created".into(), 2),
                    ("created@case_reason=billing".into(), 2),
                    // Every case of this reason moved to another: nothing to show.
                    ("created@case_reason=other".into(), 0),
                    ("contacts".into(), 3),
                    ("resolved".into(), 1),
                    ("resolutionSeconds".into(), 3600),
                    ("firstContactResolved".into(), 1),
                ]),
            ),
            (
                day("2026-11-04"),
                Aggregate::from([("resolved".into(), 1), ("resolutionSeconds".into(), 7200)]),
            ),
        ]);
        let current = Aggregate::from([
            ("status=open".into(), 2),
            ("status=open@case_reason=billing".into(), 2),
        ]);
        let request = ReportRequest {
            domain_id: "d".into(),
            from: day("2026-11-01"),
            to: day("2026-11-10"),
            interval: Interval::Week,
            by: None,
            labels: BTreeMap::new(),
        };
        let r = build(&request, &days, &current, Utc::now());
        let starts: Vec<String> = r.rows.iter().map(|r| r.start.to_string()).collect();
        assert_eq!(starts, ["2026-11-01", "2026-11-02", "2026-11-09"]);
        let week = &r.rows[1];
        assert_eq!((week.cases_created, week.resolved_case_actions), (2, 2));
        assert_eq!(week.avg_case_resolution_time, Some(5400.0));
        assert_eq!(week.avg_case_related_contacts, Some(1.5));
        assert_eq!(week.percent_cases_first_contact_resolved, Some(50.0));
        assert_eq!(r.rows[0].avg_case_resolution_time, None);
        assert_eq!(r.current_cases[0].statuses["open"], 2);

        let by = ReportRequest {
            by: Some(Grouping {
                id: "case_reason".into(),
                name: "Reason".into(),
            }),
            labels: BTreeMap::from([("billing".into(), "Billing".into())]),
            interval: Interval::Total,
            ..request
        };
        let r = build(&by, &days, &current, Utc::now());
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].group.as_deref(), Some("billing"));
        assert_eq!(r.rows[0].label.as_deref(), Some("Billing"));
        assert_eq!(r.rows[0].cases_created, 2);
        assert_eq!(r.current_cases[0].statuses["open"], 2);
    }
}
