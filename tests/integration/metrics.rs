//! Connect's case metrics from the read model equal a brute-force computation from the truth,
//! for every day and every group, under shuffled and duplicated delivery (property test on the
//! in-memory store; the adapter's aggregates are the same write plan on DynamoDB).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use cases_projector::analytics::model::{Grouping, Interval};
use cases_projector::analytics::{read, report};
use cases_projector::projector::Projector;
use cases_projector::store::memory::MemoryStore;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use support::streams::{DOMAIN, case_event, related_event, text};
use support::{shuffle, sqs_batch};

const REASONS: [&str; 3] = ["billing", "technical", "other"];
const CHANNELS: [&str; 4] = ["VOICE", "CHAT", "EMAIL", "TASK"];

/// One case's story: creation, status changes, contacts, maybe a delete; times in minutes.
#[derive(Debug, Clone)]
struct Story {
    reason: usize,
    created: i64,
    /// (minutes after creation, status)
    statuses: Vec<(i64, &'static str)>,
    /// (minutes after creation, channel, deleted later)
    contacts: Vec<(i64, usize, bool)>,
    /// Reason changed at the end (grouping is by the current value).
    new_reason: Option<usize>,
    deleted: bool,
}

fn story() -> impl Strategy<Value = Story> {
    (
        0usize..3,
        0i64..(3 * 1440),
        prop::collection::vec(
            (
                1i64..2000,
                prop::sample::select(vec!["open", "pending", "closed"]),
            ),
            0..6,
        ),
        prop::collection::vec((1i64..2000, 0usize..4, prop::bool::weighted(0.2)), 0..3),
        prop::option::of(0usize..3),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(reason, created, mut statuses, contacts, new_reason, deleted)| {
                statuses.sort();
                statuses.dedup_by_key(|s| s.0);
                Story {
                    reason,
                    created,
                    statuses,
                    contacts,
                    new_reason,
                    deleted,
                }
            },
        )
}

fn at(minutes: i64) -> DateTime<Utc> {
    "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::minutes(minutes)
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn case_id(n: usize) -> String {
    format!("c0000000-0000-4000-8000-{n:012}")
}

/// The events of one story, with their times.
fn events(n: usize, s: &Story) -> Vec<Value> {
    let id = case_id(n);
    let created = at(s.created);
    let mut out = Vec::new();
    let mut e = case_event(
        &format!("{n}-created"),
        &iso(created),
        "CREATED",
        &id,
        json!({"status": text("open"), "case_reason": text(REASONS[s.reason])}),
    );
    e["detail"]["case"]["createdDateTime"] = json!(iso(created));
    out.push(e);
    let mut last = 0;
    for (i, (m, status)) in s.statuses.iter().enumerate() {
        let mut e = case_event(
            &format!("{n}-status-{i}"),
            &iso(created + TimeDelta::minutes(*m)),
            "UPDATED",
            &id,
            json!({"status": text(status)}),
        );
        e["detail"]["case"]["createdDateTime"] = json!(iso(created));
        out.push(e);
        last = last.max(*m);
    }
    for (i, (m, channel, removed)) in s.contacts.iter().enumerate() {
        let content = json!({"contact": {"contactArn": format!("arn:aws:connect:::contact/{n}-{i}"), "channel": CHANNELS[*channel]}});
        out.push(related_event(
            &format!("{n}-contact-{i}"),
            &iso(created + TimeDelta::minutes(*m)),
            "CREATED",
            &id,
            &format!("ri-{n}-{i}"),
            "Contact",
            Some(content),
        ));
        if *removed {
            out.push(related_event(
                &format!("{n}-contact-{i}-gone"),
                &iso(created + TimeDelta::minutes(*m + 1)),
                "DELETED",
                &id,
                &format!("ri-{n}-{i}"),
                "Contact",
                None,
            ));
        }
    }
    if let Some(r) = s.new_reason {
        let mut e = case_event(
            &format!("{n}-reason"),
            &iso(created + TimeDelta::minutes(last + 5)),
            "UPDATED",
            &id,
            json!({"case_reason": text(REASONS[r])}),
        );
        e["detail"]["case"]["createdDateTime"] = json!(iso(created));
        out.push(e);
    }
    if s.deleted {
        let mut e = case_event(
            &format!("{n}-deleted"),
            &iso(created + TimeDelta::minutes(3000)),
            "DELETED",
            &id,
            json!({}),
        );
        e["detail"]["case"]["createdDateTime"] = json!(iso(created));
        out.push(e);
    }
    out
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Day {
    created: i64,
    resolved: i64,
    reopened: i64,
    resolution_seconds: i64,
    contacts: i64,
    first_contact: i64,
}

/// Per (day, group) the interval metrics' parts; per (group, status) the current cases.
type Truth = (
    BTreeMap<(NaiveDate, String), Day>,
    BTreeMap<(String, String), i64>,
);

/// Connect's definitions, computed directly from the stories.
fn truth(stories: &[Story]) -> Truth {
    let mut days: BTreeMap<(NaiveDate, String), Day> = BTreeMap::new();
    let mut current: BTreeMap<(String, String), i64> = BTreeMap::new();
    for s in stories {
        // Grouped by the case's current value; a deleted case keeps no field values.
        let group = if s.deleted {
            String::new()
        } else {
            REASONS[s.new_reason.unwrap_or(s.reason)].to_owned()
        };
        let live: Vec<usize> = if s.deleted {
            vec![]
        } else {
            s.contacts.iter().filter(|c| !c.2).map(|c| c.1).collect()
        };
        let first_contact = live.len() == 1 && live[0] < 3;
        let created = at(s.created);
        for g in [String::from("*"), group.clone()] {
            let d = days.entry((created.date_naive(), g.clone())).or_default();
            d.created += 1;
            d.contacts += live.len() as i64;
            let mut previous = "open";
            for (m, status) in &s.statuses {
                let t = created + TimeDelta::minutes(*m);
                let d = days.entry((t.date_naive(), g.clone())).or_default();
                if previous != "closed" && *status == "closed" {
                    d.resolved += 1;
                    d.resolution_seconds += m * 60;
                    d.first_contact += i64::from(first_contact);
                }
                if previous == "closed" && *status != "closed" {
                    d.reopened += 1;
                }
                previous = status;
            }
            if !s.deleted {
                *current.entry((g, previous.to_owned())).or_default() += 1;
            }
        }
    }
    (days, current)
}

#[test]
fn every_metric_every_day_and_group_equals_the_truth_under_any_delivery() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config::with_cases(256));
    runner
        .run(
            &(prop::collection::vec(story(), 1..12), any::<u64>()),
            |(stories, seed)| {
                rt.block_on(async {
                    let store = MemoryStore::new();
                    let projector = Projector::new(store, Default::default(), 4)
                        .with_dimensions(vec!["case_reason".into()]);
                    let mut all: Vec<Value> = stories
                        .iter()
                        .enumerate()
                        .flat_map(|(n, s)| events(n, s))
                        .flat_map(|e| [e.clone(), e])
                        .collect();
                    shuffle(&mut all, seed);
                    for batch in all.chunks(7) {
                        let r = support::handle(&projector, sqs_batch(batch)).await;
                        prop_assert_eq!(r.counts().failed, 0);
                    }
                    let (from, to) = ("2026-10-30".parse().unwrap(), "2026-11-10".parse().unwrap());
                    let codes = read::codes(projector.store(), DOMAIN).await.unwrap();
                    let days = read::days(projector.store(), DOMAIN, &codes, from, to)
                        .await
                        .unwrap();
                    let current = read::current(projector.store(), DOMAIN, &codes)
                        .await
                        .unwrap();
                    let (expected_days, expected_current) = truth(&stories);
                    for by in [None, Some("case_reason")] {
                        let request = report::ReportRequest {
                            domain_id: DOMAIN.into(),
                            from,
                            to,
                            interval: Interval::Day,
                            by: by.map(|id| Grouping {
                                id: id.into(),
                                name: id.into(),
                            }),
                            labels: BTreeMap::new(),
                        };
                        let r = report::build(&request, &days, &current, Utc::now());
                        for row in &r.rows {
                            let group = match by {
                                None => "*".to_owned(),
                                Some(_) => row.group.clone().unwrap_or_default(),
                            };
                            let want = expected_days
                                .get(&(row.start, group.clone()))
                                .cloned()
                                .unwrap_or_default();
                            let ctx = format!("{} {group}", row.start);
                            prop_assert_eq!(row.cases_created, want.created, "created {}", ctx);
                            prop_assert_eq!(
                                row.resolved_case_actions,
                                want.resolved,
                                "resolved {}",
                                ctx
                            );
                            prop_assert_eq!(
                                row.reopened_case_actions,
                                want.reopened,
                                "reopened {}",
                                ctx
                            );
                            let avg = (want.resolved > 0)
                                .then(|| want.resolution_seconds as f64 / want.resolved as f64);
                            prop_assert_eq!(
                                row.avg_case_resolution_time,
                                avg,
                                "resolution time {}",
                                ctx
                            );
                            let contacts = (want.created > 0)
                                .then(|| want.contacts as f64 / want.created as f64);
                            prop_assert_eq!(
                                row.avg_case_related_contacts,
                                contacts,
                                "contacts {}",
                                ctx
                            );
                            let fcr = (want.resolved > 0)
                                .then(|| want.first_contact as f64 * 100.0 / want.resolved as f64);
                            prop_assert_eq!(
                                row.percent_cases_first_contact_resolved,
                                fcr,
                                "FCR {}",
                                ctx
                            );
                        }
                        let groups_seen: BTreeSet<String> = r
                            .rows
                            .iter()
                            .map(|r| r.group.clone().unwrap_or_default())
                            .collect();
                        if by.is_some() {
                            for ((_, g), d) in &expected_days {
                                if g != "*" && *d != Day::default() {
                                    prop_assert!(
                                        groups_seen.contains(g),
                                        "group {} is reported",
                                        g
                                    );
                                }
                            }
                        }
                        for c in &r.current_cases {
                            let group = match by {
                                None => "*".to_owned(),
                                Some(_) => c.group.clone().unwrap_or_default(),
                            };
                            for (status, n) in &c.statuses {
                                let want = expected_current
                                    .get(&(group.clone(), status.clone()))
                                    .copied()
                                    .unwrap_or(0);
                                prop_assert_eq!(*n, want, "current {} {}", group, status);
                            }
                        }
                    }
                    Ok(())
                })
            },
        )
        .unwrap();
}
