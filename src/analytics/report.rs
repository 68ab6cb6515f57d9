//! From the aggregates (per-day items and the current-cases item) to a [`Report`]: Connect's
//! metrics per interval and group. Pure: the caller reads the items.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use super::model::{CurrentCases, Grouping, Interval, Report, Row, Sums};
use crate::projection::contribution::{Counter, Group, Metric};

/// Counter → amount, as read from one aggregate item.
pub type Aggregate = BTreeMap<Counter, i64>;

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

/// `metric` for `group` (`None`: every case) in `attrs`.
fn value(attrs: &Aggregate, metric: Metric, group: Option<&Group>) -> i64 {
    attrs
        .get(&Counter {
            metric,
            group: group.cloned(),
        })
        .copied()
        .unwrap_or(0)
}

/// The values of grouping field `field` that some non-zero amount in `attrs` is grouped under
/// (a group whose cases all moved elsewhere leaves zeros behind: it has nothing to show).
fn groups_in<'a>(
    attrs: impl Iterator<Item = (&'a Counter, &'a i64)>,
    field: &str,
) -> BTreeSet<String> {
    attrs
        .filter(|(_, n)| **n != 0)
        .filter_map(|(c, _)| c.group.as_ref().filter(|g| g.field == field))
        .map(|g| g.value.clone())
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
        g.as_ref().zip(request.by.as_ref()).map(|(v, by)| Group {
            field: by.id.clone(),
            value: v.clone(),
        })
    };
    let label = |g: &Option<String>| g.as_ref().and_then(|v| request.labels.get(v).cloned());
    let mut rows = Vec::new();
    for (start, attrs) in &intervals {
        for g in &groups {
            let k = key(g);
            let k = k.as_ref();
            let v = |metric: Metric| value(attrs, metric, k);
            let resolved = v(Metric::Resolved);
            let created = v(Metric::Created);
            let by_type: BTreeMap<String, i64> = attrs
                .iter()
                .filter(|(c, n)| c.group.as_ref() == k && **n != 0)
                .filter_map(|(c, n)| match &c.metric {
                    Metric::RelatedItemsCreatedOf(t) => Some((t.as_str().to_owned(), *n)),
                    _ => None,
                })
                .collect();
            rows.push(Row {
                start: *start,
                group: g.clone().filter(|v| !v.is_empty()),
                label: label(g),
                cases_created: created,
                resolved_case_actions: resolved,
                reopened_case_actions: v(Metric::Reopened),
                avg_case_resolution_time: ratio(v(Metric::ResolutionSeconds), resolved, 1.0),
                avg_case_related_contacts: ratio(v(Metric::Contacts), created, 1.0),
                percent_cases_first_contact_resolved: ratio(
                    v(Metric::FirstContactResolved),
                    resolved,
                    100.0,
                ),
                cases_deleted: v(Metric::Deleted),
                related_items_created: by_type.values().sum(),
                related_items_created_by_type: by_type,
                sums: Sums {
                    resolution_seconds: v(Metric::ResolutionSeconds),
                    contacts: v(Metric::Contacts),
                    first_contact_resolved: v(Metric::FirstContactResolved),
                },
            });
        }
    }
    let current_cases = groups
        .iter()
        .map(|g| {
            let k = key(g);
            let statuses = current
                .iter()
                .filter(|(c, n)| c.group == k && **n != 0)
                .filter_map(|(c, n)| match &c.metric {
                    Metric::CurrentStatus(status) => Some((status.clone(), *n)),
                    _ => None,
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

    fn counter(metric: Metric, group: Option<(&str, &str)>) -> Counter {
        Counter {
            metric,
            group: group.map(|(field, value)| Group {
                field: field.into(),
                value: value.into(),
            }),
        }
    }

    #[test]
    fn days_sum_into_weeks_and_averages_over_nothing_are_null() {
        let billing = Some(("case_reason", "billing"));
        let days = BTreeMap::from([
            (
                day("2026-11-02"),
                Aggregate::from([
                    (counter(Metric::Created, None), 2),
                    (counter(Metric::Created, billing), 2),
                    // Every case of this reason moved to another: nothing to show.
                    (counter(Metric::Created, Some(("case_reason", "other"))), 0),
                    (counter(Metric::Contacts, None), 3),
                    (counter(Metric::Resolved, None), 1),
                    (counter(Metric::ResolutionSeconds, None), 3600),
                    (counter(Metric::FirstContactResolved, None), 1),
                    (
                        counter(
                            Metric::RelatedItemsCreatedOf(crate::event::RelatedItemType::Contact),
                            None,
                        ),
                        3,
                    ),
                    (
                        counter(
                            Metric::RelatedItemsCreatedOf(crate::event::RelatedItemType::Comment),
                            None,
                        ),
                        1,
                    ),
                ]),
            ),
            (
                day("2026-11-04"),
                Aggregate::from([
                    (counter(Metric::Resolved, None), 1),
                    (counter(Metric::ResolutionSeconds, None), 7200),
                    (counter(Metric::Deleted, None), 1),
                ]),
            ),
        ]);
        // A status holding `@` and `=` stays one status of one group.
        let status = || Metric::CurrentStatus("waiting@customer=1".into());
        let current = Aggregate::from([
            (counter(status(), None), 2),
            (counter(status(), billing), 2),
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
        assert_eq!(week.cases_deleted, 1);
        assert_eq!(week.related_items_created, 4);
        assert_eq!(
            week.related_items_created_by_type,
            BTreeMap::from([("Comment".into(), 1), ("Contact".into(), 3)])
        );
        assert_eq!(r.rows[0].avg_case_resolution_time, None);
        assert_eq!(r.current_cases[0].statuses["waiting@customer=1"], 2);

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
        assert_eq!(r.current_cases[0].statuses["waiting@customer=1"], 2);
    }
}
