//! What one case contributes to the metric aggregates, as a function of its current state
//! alone: its creation day, the status transitions in its history (resolutions, reopenings,
//! resolution times), its contacts, its current status; each under every group it belongs to
//! now. Writing the difference between a case's contribution before and after a commit, in the
//! same transaction as the case item, keeps the aggregates exact under any delivery order.
//! Pure.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::event::{FieldValue, RelatedItemType};
use crate::projection::CaseView;

/// Where a contribution goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bucket {
    /// `METRICS#<domain>` / `DAY#<day>`.
    Day(NaiveDate),
    /// `METRICS#<domain>` / `CURRENT`.
    Current,
}

pub const CREATED: &str = "created";
pub const RESOLVED: &str = "resolved";
pub const REOPENED: &str = "reopened";
pub const RESOLUTION_SECONDS: &str = "resolutionSeconds";
/// Contacts of the cases created that day.
pub const CONTACTS: &str = "contacts";
/// Resolutions of cases whose only contact (VOICE, CHAT or EMAIL) was the first.
pub const FIRST_CONTACT_RESOLVED: &str = "firstContactResolved";
pub const STATUS_PREFIX: &str = "status=";
/// Separates a metric from its group in an attribute name: `created@case_reason=billing`.
pub const GROUP_SEPARATOR: char = '@';
pub const TEMPLATE_GROUP: &str = "template";
pub const STATUS_GROUP: &str = "status";

const CLOSED: &str = "closed";
const FCR_CHANNELS: [&str; 3] = ["VOICE", "CHAT", "EMAIL"];

/// Contributions: bucket → attribute → amount.
pub type Contributions = BTreeMap<Bucket, BTreeMap<String, i64>>;

fn text(value: Option<&FieldValue>) -> String {
    match value {
        Some(FieldValue::String(s) | FieldValue::UserArn(s)) => s.clone(),
        Some(FieldValue::Double(d)) => d.to_string(),
        Some(FieldValue::Boolean(b)) => b.to_string(),
        Some(FieldValue::Empty) | None => String::new(),
    }
}

/// The groups a case belongs to now: `template=…`, `status=…` and one per dimension.
pub fn groups(view: &CaseView, dimensions: &[String]) -> Vec<String> {
    let mut groups = vec![
        format!(
            "{TEMPLATE_GROUP}={}",
            view.template_id.clone().unwrap_or_default()
        ),
        format!("{STATUS_GROUP}={}", view.status().unwrap_or_default()),
    ];
    for d in dimensions {
        if d != TEMPLATE_GROUP && d != STATUS_GROUP {
            groups.push(format!(
                "{d}={}",
                text(view.fields.get(d).map(|f| &f.value))
            ));
        }
    }
    groups
}

fn is_closed(status: &str) -> bool {
    status.eq_ignore_ascii_case(CLOSED)
}

/// The case's contribution under the ungrouped total and each of its groups.
pub fn contributions(view: Option<&CaseView>, dimensions: &[String]) -> Contributions {
    let mut out = Contributions::new();
    let Some(view) = view else {
        return out;
    };
    let groups = groups(view, dimensions);
    let mut add = |bucket: Bucket, metric: &str, n: i64| {
        if n == 0 {
            return;
        }
        let attrs = out.entry(bucket).or_default();
        *attrs.entry(metric.to_owned()).or_default() += n;
        for g in &groups {
            *attrs
                .entry(format!("{metric}{GROUP_SEPARATOR}{g}"))
                .or_default() += n;
        }
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
        add(day.clone(), CREATED, 1);
        add(day, CONTACTS, live_contacts.len() as i64);
    }
    let mut previous: Option<&str> = None;
    // Nothing happens to a case after its delete.
    let before_delete =
        |v: &&crate::projection::Version| view.deleted.as_ref().is_none_or(|d| *v < d);
    for (version, status) in view.status_history.iter().filter(|(v, _)| before_delete(v)) {
        let day = Bucket::Day(version.at.date_naive());
        match previous {
            Some(p) if !is_closed(p) && is_closed(status) => {
                add(day.clone(), RESOLVED, 1);
                if first_contact {
                    add(day.clone(), FIRST_CONTACT_RESOLVED, 1);
                }
                if let Some(created) = view.created_at {
                    add(
                        day,
                        RESOLUTION_SECONDS,
                        (version.at - created).num_seconds().max(0),
                    );
                }
            }
            Some(p) if is_closed(p) && !is_closed(status) => add(day, REOPENED, 1),
            _ => {}
        }
        previous = Some(status);
    }
    if let (false, Some(status)) = (view.is_deleted(), view.status()) {
        add(Bucket::Current, &format!("{STATUS_PREFIX}{status}"), 1);
    }
    out
}

/// What to add to each aggregate so it reflects `after` instead of `before`.
pub fn delta(
    before: Option<&CaseView>,
    after: Option<&CaseView>,
    dimensions: &[String],
) -> Contributions {
    let mut out = contributions(after, dimensions);
    for (bucket, attrs) in contributions(before, dimensions) {
        let entry = out.entry(bucket).or_default();
        for (name, n) in attrs {
            *entry.entry(name).or_default() -= n;
        }
    }
    out.retain(|_, attrs| {
        attrs.retain(|_, n| *n != 0);
        !attrs.is_empty()
    });
    out
}
