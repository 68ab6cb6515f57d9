//! Every number of the read model is what the stored cases contribute, as a function of each
//! case's state alone: its creation day, its delete, the status transitions in its history
//! (resolutions, reopenings, resolution times), its related items by association day, its
//! contacts, its current status; each under every group it belongs to. A commit writes the
//! difference between the case's contribution before (as it was written, under the groups it
//! was written under) and after, in the same transaction as the case item, so each number is
//! exact under any delivery order and duplication by construction. Pure.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{CaseView, Version};
use crate::event::{FieldValue, RelatedItemType};

/// Where a contribution goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bucket {
    /// One UTC day's aggregate.
    Day(NaiveDate),
    /// The current-cases aggregate.
    Current,
}

/// What is counted. Day metrics go to [`Bucket::Day`], `CurrentStatus` to [`Bucket::Current`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Cases created that day (`createdDateTime`).
    Created,
    /// Transitions into `closed`.
    Resolved,
    /// Transitions out of `closed`.
    Reopened,
    /// Seconds from creation to each resolution of the day.
    ResolutionSeconds,
    /// Live contacts of the cases created that day.
    Contacts,
    /// Resolutions of cases whose only contact (VOICE, CHAT or EMAIL) was the first.
    FirstContactResolved,
    /// Cases deleted that day.
    Deleted,
    /// Related items of one type associated that day (their total is the sum over the types: one
    /// counter fewer per group in every day's item, which DynamoDB bills by size).
    RelatedItemsCreatedOf(RelatedItemType),
    /// Live cases in this status now.
    CurrentStatus(String),
}

/// A group a case belongs to: the grouping field (`template`, `status` or a
/// `REPORT_DIMENSIONS` field id) and the case's value of it. Kept as two strings, never joined
/// into one, so no value can be mistaken for another group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Group {
    pub field: String,
    pub value: String,
}

/// One number: a metric, ungrouped or under one group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counter {
    pub metric: Metric,
    pub group: Option<Group>,
}

pub const TEMPLATE_GROUP: &str = "template";
pub const STATUS_GROUP: &str = "status";

/// The status whose cases are resolved (every other status is open).
pub const CLOSED: &str = "closed";
const FCR_CHANNELS: [&str; 3] = ["VOICE", "CHAT", "EMAIL"];

/// Contributions: bucket → counter → amount.
pub type Contributions = BTreeMap<Bucket, BTreeMap<Counter, i64>>;

fn text(value: Option<&FieldValue>) -> String {
    match value {
        Some(FieldValue::String(s) | FieldValue::UserArn(s)) => s.clone(),
        Some(FieldValue::Double(d)) => d.to_string(),
        Some(FieldValue::Boolean(b)) => b.to_string(),
        Some(FieldValue::Empty) | None => String::new(),
    }
}

/// The grouping fields besides template and status, as `REPORT_DIMENSIONS` lists them.
pub fn dimension_fields(dimensions: &[String]) -> impl Iterator<Item = &String> {
    dimensions
        .iter()
        .filter(|d| *d != TEMPLATE_GROUP && *d != STATUS_GROUP)
}

/// The groups a case belongs to now under `dimensions`: template, status and one per dimension.
pub fn groups(view: &CaseView, dimensions: &[String]) -> Vec<Group> {
    let group = |field: &str, value: String| Group {
        field: field.to_owned(),
        value,
    };
    let mut groups = vec![
        group(TEMPLATE_GROUP, view.template_id.clone().unwrap_or_default()),
        group(STATUS_GROUP, view.status().unwrap_or_default().to_owned()),
    ];
    for d in dimension_fields(dimensions) {
        groups.push(group(d, text(view.fields.get(d).map(|f| &f.value))));
    }
    groups
}

fn is_closed(status: &str) -> bool {
    status.eq_ignore_ascii_case(CLOSED)
}

/// The case's contribution under the ungrouped total and each of its groups under `dimensions`.
pub fn contributions(view: &CaseView, dimensions: &[String]) -> Contributions {
    let mut out = Contributions::new();
    let groups = groups(view, dimensions);
    let mut add = |bucket: Bucket, metric: Metric, n: i64| {
        if n == 0 {
            return;
        }
        let counters = out.entry(bucket).or_default();
        for g in &groups {
            *counters
                .entry(Counter {
                    metric: metric.clone(),
                    group: Some(g.clone()),
                })
                .or_default() += n;
        }
        *counters
            .entry(Counter {
                metric,
                group: None,
            })
            .or_default() += n;
    };
    let live_contacts: Vec<&str> = view
        .related_items
        .values()
        .filter(|r| !r.deleted && r.item_type == RelatedItemType::Contact)
        .map(|r| match r.content.get("channel") {
            Some(FieldValue::String(c)) => c.as_str(),
            _ => "",
        })
        .collect();
    let first_contact = live_contacts.len() == 1
        && FCR_CHANNELS
            .iter()
            .any(|c| c.eq_ignore_ascii_case(live_contacts[0]));
    if let Some(created) = view.created_at {
        let day = Bucket::Day(created.date_naive());
        add(day.clone(), Metric::Created, 1);
        add(day, Metric::Contacts, live_contacts.len() as i64);
    }
    if let Some(deleted) = &view.deleted {
        add(Bucket::Day(deleted.at.date_naive()), Metric::Deleted, 1);
    }
    // Created is created: an item deleted since still counts on its association day.
    for item in view.related_items.values() {
        let (Some(created), false) = (
            item.created_at,
            matches!(item.item_type, RelatedItemType::Unknown(_)),
        ) else {
            continue;
        };
        let day = Bucket::Day(created.date_naive());
        add(
            day,
            Metric::RelatedItemsCreatedOf(item.item_type.clone()),
            1,
        );
    }
    let mut previous: Option<&str> = None;
    // Nothing happens to a case after its delete.
    let before_delete = |v: &&Version| view.deleted.as_ref().is_none_or(|d| *v < d);
    for (version, status) in view.status_history.iter().filter(|(v, _)| before_delete(v)) {
        let day = Bucket::Day(version.at.date_naive());
        match previous {
            Some(p) if !is_closed(p) && is_closed(status) => {
                add(day.clone(), Metric::Resolved, 1);
                if first_contact {
                    add(day.clone(), Metric::FirstContactResolved, 1);
                }
                if let Some(created) = view.created_at {
                    add(
                        day,
                        Metric::ResolutionSeconds,
                        (version.at - created).num_seconds().max(0),
                    );
                }
            }
            Some(p) if is_closed(p) && !is_closed(status) => add(day, Metric::Reopened, 1),
            _ => {}
        }
        previous = Some(status);
    }
    if let (false, Some(status)) = (view.is_deleted(), view.status()) {
        add(Bucket::Current, Metric::CurrentStatus(status.to_owned()), 1);
    }
    out
}

/// What the stored case contributes now: computed under the dimensions it was written under
/// (`grouped_by`), so a change of `REPORT_DIMENSIONS` never subtracts what was never added.
/// Nothing for a case never written with a contribution (a table from before contributions
/// were kept per case, until `casesctl regroup` or its next change).
pub fn written_contributions(stored: Option<&CaseView>) -> Contributions {
    match stored {
        Some(view) => match &view.grouped_by {
            Some(dimensions) => contributions(view, dimensions),
            None => Contributions::new(),
        },
        None => Contributions::new(),
    }
}

/// Adds `sign` × `from` to `into`.
fn add_into(into: &mut Contributions, from: Contributions, sign: i64) {
    for (bucket, counters) in from {
        let entry = into.entry(bucket).or_default();
        for (counter, n) in counters {
            *entry.entry(counter).or_default() += sign * n;
        }
    }
}

/// Drops the zeros (a missing counter and a counter at 0 mean the same).
fn nonzero(mut contributions: Contributions) -> Contributions {
    contributions.retain(|_, counters| {
        counters.retain(|_, n| *n != 0);
        !counters.is_empty()
    });
    contributions
}

/// What to add to each aggregate so it holds `after` (written under `after.grouped_by`)
/// instead of what `before` contributed.
pub fn delta(before: Option<&CaseView>, after: Option<&CaseView>) -> Contributions {
    let mut out = written_contributions(after);
    add_into(&mut out, written_contributions(before), -1);
    nonzero(out)
}

/// The same sums, added up: what the aggregates hold for a set of cases (the truth tests and
/// benches compare the stored aggregates with).
pub fn total<'a>(cases: impl IntoIterator<Item = &'a CaseView>) -> Contributions {
    let mut out = Contributions::new();
    for view in cases {
        add_into(&mut out, written_contributions(Some(view)), 1);
    }
    nonzero(out)
}
