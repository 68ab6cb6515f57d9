//! One export run: the days whose numbers changed since the last export (each day's file
//! replaced in one write), then a new snapshot of the current-state tables, published by
//! replacing each table's manifest. Resumable: the state (the fingerprint of every day as
//! written, the published snapshots, an unfinished run's progress) is a checkpoint in the read
//! model, saved after every part, so an interrupted run leaves the previous export readable and
//! the next one goes on under the same export id.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::ExportError;
use super::parquet::write;
use super::sink::ObjectSink;
use super::tables::{
    CASE_FIELDS, CASE_METRICS_DAILY, CASES, DailyRow, FieldNames, RELATED_ITEMS, SNAPSHOT_TABLES,
    case_rows, fingerprint,
};
use crate::analytics::model::{Grouping, Interval};
use crate::analytics::read;
use crate::analytics::report::{Aggregate, ReportRequest, build};
use crate::projection::contribution::{STATUS_GROUP, TEMPLATE_GROUP};
use crate::store::item::{Item, view_from_items};
use crate::store::keys::{Key, case_id_of};
use crate::store::{DomainStore, PlanExecutor, StoreError};

/// Cases per part file of the snapshot tables (and per checkpoint).
pub const PART_CASES: usize = 10_000;
/// Days written between two saves of the state.
const DAYS_PER_SAVE: usize = 50;

#[derive(Debug, Clone)]
pub struct Options {
    pub domain_id: String,
    /// `REPORT_DIMENSIONS`: besides template and status, the groupings exported.
    pub dimensions: Vec<String>,
    /// `STORE_CUSTOMER_CONTENT`: export comment bodies and custom related-item fields.
    pub include_content: bool,
    /// Only days in `[from, to)` are considered (default: every day).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub part_cases: usize,
    /// Names a new export (its snapshot folder).
    pub now: DateTime<Utc>,
}

impl Options {
    pub fn new(domain_id: impl Into<String>, now: DateTime<Utc>) -> Self {
        Options {
            domain_id: domain_id.into(),
            dimensions: Vec::new(),
            include_content: false,
            from: None,
            to: None,
            part_cases: PART_CASES,
            now,
        }
    }
}

/// A published snapshot: its id and its files per table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Snapshot {
    id: String,
    files: BTreeMap<String, Vec<String>>,
}

/// An export begun and not finished.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Pending {
    snapshot: Snapshot,
    /// The last key of the last case partition written to a part.
    after: Option<Key>,
    counts: Counts,
}

/// What the current-state tables hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub cases: u64,
    pub field_values: u64,
    pub related_items: u64,
}

/// The export's state, kept in the read model per domain and destination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct State {
    /// Each day's fingerprint as last written.
    days: BTreeMap<NaiveDate, String>,
    current: Option<Snapshot>,
    previous: Option<Snapshot>,
    pending: Option<Pending>,
    /// Files of a superseded snapshot not removed yet (a run stopped between publishing and
    /// removing them): the next run removes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    superseded: Vec<String>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub export_id: String,
    /// Went on from an interrupted run.
    pub resumed: bool,
    /// Days with numbers in the range.
    pub days: usize,
    /// Days whose file was (re)written.
    pub days_written: Vec<NaiveDate>,
    pub counts: Counts,
    pub files_written: u64,
    pub bytes_written: u64,
    /// Read units of the Scan of the case items (the aggregate, field and state reads are a few
    /// Query and GetItem requests besides).
    pub scan_read_units: f64,
    /// Files of a superseded snapshot removed.
    pub files_deleted: u64,
}

/// The state's checkpoint name for a destination.
fn state_name(sink: &impl ObjectSink) -> String {
    format!("EXPORT {}", sink.location(""))
}

async fn load(store: &impl DomainStore, domain: &str, name: &str) -> Result<State, StoreError> {
    match store.checkpoint(domain, name).await? {
        None => Ok(State::default()),
        Some(raw) => serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt {
            key: format!("checkpoint {name} of {domain}"),
            reason: e.to_string(),
        }),
    }
}

async fn save(
    store: &impl DomainStore,
    domain: &str,
    name: &str,
    state: &State,
) -> Result<(), StoreError> {
    let raw = serde_json::to_string(state).expect("the state serialises");
    store.put_checkpoint(domain, name, &raw).await
}

/// The groupings `casesctl report` accepts, each with its name and labels: none, template,
/// status, every dimension.
fn groupings(
    dimensions: &[String],
    names: &FieldNames,
) -> Vec<(Option<Grouping>, BTreeMap<String, String>)> {
    let mut out = vec![(None, BTreeMap::new())];
    let ids = [TEMPLATE_GROUP, STATUS_GROUP]
        .into_iter()
        .map(str::to_owned)
        .chain(dimensions.iter().cloned());
    for id in ids {
        let (name, labels) = names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| (id.clone(), BTreeMap::new()));
        out.push((Some(Grouping { id, name }), labels));
    }
    out
}

/// Every day's rows of `case_metrics_daily`: the report of that one day under each grouping,
/// from the same build `casesctl report` uses. Current cases are no daily number and are left
/// out, so a group shows on a day only with a number that day.
pub fn day_rows(
    domain_id: &str,
    days: &BTreeMap<NaiveDate, Aggregate>,
    groupings: &[(Option<Grouping>, BTreeMap<String, String>)],
    generated_at: DateTime<Utc>,
) -> BTreeMap<NaiveDate, Vec<DailyRow>> {
    let nothing = Aggregate::new();
    days.keys()
        .map(|day| {
            let rows = groupings
                .iter()
                .flat_map(|(by, labels)| {
                    let request = ReportRequest {
                        domain_id: domain_id.to_owned(),
                        from: *day,
                        to: *day + TimeDelta::days(1),
                        interval: Interval::Day,
                        by: by.clone(),
                        labels: labels.clone(),
                    };
                    build(&request, days, &nothing, generated_at)
                        .rows
                        .iter()
                        .map(|r| DailyRow::from_report(r, by.as_ref()))
                        .collect::<Vec<_>>()
                })
                .collect();
            (*day, rows)
        })
        .collect()
}

pub fn day_key(day: NaiveDate) -> String {
    format!("{}/day={day}/part-00000.parquet", CASE_METRICS_DAILY.name)
}

pub fn manifest_key(table: &str) -> String {
    format!("{table}/current/manifest")
}

/// Rows of one part of the snapshot tables.
#[derive(Default)]
struct Part {
    cases: Vec<Vec<super::parquet::Cell>>,
    fields: Vec<Vec<super::parquet::Cell>>,
    related: Vec<Vec<super::parquet::Cell>>,
}

pub async fn run<S: PlanExecutor, K: ObjectSink>(
    store: &S,
    sink: &K,
    options: &Options,
) -> Result<Summary, ExportError> {
    let domain = options.domain_id.as_str();
    let name = state_name(sink);
    let mut state = load(store, domain, &name).await?;
    let resumed = state.pending.is_some();
    let mut pending = state.pending.take().unwrap_or_else(|| Pending {
        snapshot: Snapshot {
            id: options.now.format("%Y%m%dT%H%M%S%.3fZ").to_string(),
            files: BTreeMap::new(),
        },
        ..Pending::default()
    });
    state.pending = Some(pending.clone());
    save(store, domain, &name, &state).await?;
    let mut summary = Summary {
        export_id: pending.snapshot.id.clone(),
        resumed,
        ..Summary::default()
    };

    // 1. The days whose rows changed.
    let mut names = read::described_fields(store, domain).await?;
    // Template names ride with the field names under the template grouping's id (no field has
    // it): the metrics' labels and the cases' `template_name` read them there.
    names.insert(
        TEMPLATE_GROUP.to_owned(),
        (
            "Template".to_owned(),
            crate::analytics::source::templates(store, domain).await?,
        ),
    );
    let codes = read::codes(store, domain).await?;
    let from = options
        .from
        .unwrap_or(NaiveDate::from_ymd_opt(1970, 1, 1).expect("a day"));
    let to = options
        .to
        .unwrap_or(NaiveDate::from_ymd_opt(9999, 1, 1).expect("a day"));
    let days = read::days(store, domain, &codes, from, to).await?;
    let rows = day_rows(
        domain,
        &days,
        &groupings(&options.dimensions, &names),
        options.now,
    );
    summary.days = rows.len();
    for (day, rows) in rows {
        let print = fingerprint(day, &rows);
        if state.days.get(&day) == Some(&print) {
            continue;
        }
        let cells: Vec<_> = rows.iter().map(DailyRow::cells).collect();
        let body = write(CASE_METRICS_DAILY.columns, &cells)?;
        summary.bytes_written += body.len() as u64;
        sink.put(&day_key(day), body).await?;
        summary.files_written += 1;
        state.days.insert(day, print);
        summary.days_written.push(day);
        if summary.days_written.len().is_multiple_of(DAYS_PER_SAVE) {
            save(store, domain, &name, &state).await?;
        }
    }
    save(store, domain, &name, &state).await?;

    // 2. A snapshot of the current state, part by part, from where an interrupted run stopped.
    let mut part = Part::default();
    let mut partition: Vec<Item> = Vec::new();
    let mut after = pending.after.clone();
    loop {
        let page = store.case_items_page(after.as_ref()).await?;
        summary.scan_read_units += page.read_units;
        let last = page.next.is_none();
        let mut items = page.items.into_iter().peekable();
        while let Some(item) = items.next() {
            let pk = |i: &Item| i.get("pk").and_then(|v| v.as_s().ok()).cloned();
            let item_pk = pk(&item);
            // The partition a page ended in may have ended with it.
            let ended_before = partition.first().is_some_and(|first| pk(first) != item_pk);
            if ended_before {
                add_case(&mut part, &mut pending, &partition, domain, &names, options)?;
                partition.clear();
            }
            partition.push(item);
            // A partition ends where the next begins, or with the last page.
            let ends = match items.peek() {
                Some(next) => pk(next) != item_pk,
                None => last,
            };
            if ends {
                add_case(&mut part, &mut pending, &partition, domain, &names, options)?;
                partition.clear();
            }
            if part.cases.len() >= options.part_cases {
                flush(sink, &mut pending, std::mem::take(&mut part), &mut summary).await?;
                state.pending = Some(pending.clone());
                save(store, domain, &name, &state).await?;
            }
        }
        // The last page may hold no case item (the Scan's filter): the partition the page
        // before ended in ends here.
        if last && !partition.is_empty() {
            add_case(&mut part, &mut pending, &partition, domain, &names, options)?;
            partition.clear();
        }
        if last && (!part.cases.is_empty() || pending.snapshot.files.is_empty()) {
            flush(sink, &mut pending, std::mem::take(&mut part), &mut summary).await?;
            state.pending = Some(pending.clone());
            save(store, domain, &name, &state).await?;
        }
        if last {
            break;
        }
        after = page.next;
    }

    // 3. Publish: each table's manifest names the new files (one write each).
    for table in SNAPSHOT_TABLES {
        let files = pending.snapshot.files.get(table.name);
        let body: String = files
            .into_iter()
            .flatten()
            .map(|key| format!("{}\n", sink.location(key)))
            .collect();
        sink.put(&manifest_key(table.name), body.into_bytes())
            .await?;
    }
    summary.counts = pending.counts;
    let superseded = state.previous.take();
    state.previous = state.current.take();
    state.current = Some(pending.snapshot);
    state.pending = None;
    state.superseded.extend(
        superseded
            .into_iter()
            .flat_map(|s| s.files.into_values().flatten()),
    );
    save(store, domain, &name, &state).await?;

    // 4. The snapshot before the previous one: no query reads it any more.
    for key in &state.superseded {
        sink.delete(key).await?;
        summary.files_deleted += 1;
    }
    if !state.superseded.is_empty() {
        state.superseded.clear();
        save(store, domain, &name, &state).await?;
    }
    Ok(summary)
}

/// Adds the case whose partition is `items` to `part`, if it is one of `domain`, and marks its
/// partition done.
fn add_case(
    part: &mut Part,
    pending: &mut Pending,
    items: &[Item],
    domain: &str,
    names: &FieldNames,
    options: &Options,
) -> Result<(), ExportError> {
    let key = |i: &Item| -> Option<Key> {
        Some((
            i.get("pk")?.as_s().ok()?.clone(),
            i.get("sk")?.as_s().ok()?.clone(),
        ))
    };
    let last = items.last().and_then(key);
    let case_id = last
        .as_ref()
        .and_then(|(pk, _)| case_id_of(pk))
        .unwrap_or_default();
    if let Some(stored) = view_from_items(case_id, items)?
        && stored.view.domain_id == domain
    {
        let (case, fields, related) = case_rows(&stored.view, names, options.include_content);
        pending.counts.cases += 1;
        pending.counts.field_values += fields.len() as u64;
        pending.counts.related_items += related.len() as u64;
        part.cases.push(case);
        part.fields.extend(fields);
        part.related.extend(related);
    }
    pending.after = last;
    Ok(())
}

async fn flush(
    sink: &impl ObjectSink,
    pending: &mut Pending,
    part: Part,
    summary: &mut Summary,
) -> Result<(), ExportError> {
    let index = pending.snapshot.files.get(CASES.name).map_or(0, Vec::len);
    for (table, rows) in [
        (CASES, part.cases),
        (CASE_FIELDS, part.fields),
        (RELATED_ITEMS, part.related),
    ] {
        let key = format!(
            "{}/snapshots/{}/part-{index:05}.parquet",
            table.name, pending.snapshot.id
        );
        let body = write(table.columns, &rows)?;
        summary.bytes_written += body.len() as u64;
        sink.put(&key, body).await?;
        summary.files_written += 1;
        pending
            .snapshot
            .files
            .entry(table.name.to_owned())
            .or_default()
            .push(key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::contribution::{Counter, Group, Metric};

    #[test]
    fn each_day_holds_every_grouping_and_only_groups_with_numbers_that_day() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let counter = |metric, group: Option<(&str, &str)>| Counter {
            metric,
            group: group.map(|(f, v)| Group {
                field: f.into(),
                value: v.into(),
            }),
        };
        let days = BTreeMap::from([
            (
                day("2026-11-20"),
                Aggregate::from([
                    (counter(Metric::Created, None), 2),
                    (
                        counter(Metric::Created, Some(("case_reason", "billing"))),
                        2,
                    ),
                    (counter(Metric::Created, Some(("template", "t1"))), 2),
                ]),
            ),
            (
                day("2026-11-22"),
                Aggregate::from([
                    (counter(Metric::Resolved, None), 1),
                    (counter(Metric::ResolutionSeconds, None), 90),
                    (
                        counter(Metric::Resolved, Some(("case_reason", "refund"))),
                        1,
                    ),
                    (
                        counter(Metric::ResolutionSeconds, Some(("case_reason", "refund"))),
                        90,
                    ),
                ]),
            ),
        ]);
        let names = FieldNames::from([(
            "case_reason".into(),
            (
                "Reason".into(),
                BTreeMap::from([("refund".into(), "Refund".into())]),
            ),
        )]);
        let groupings = groupings(&["case_reason".into()], &names);
        assert_eq!(groupings.len(), 4, "none, template, status, case_reason");
        let rows = day_rows("d", &days, &groupings, Utc::now());
        assert_eq!(rows.len(), 2);
        let first = &rows[&day("2026-11-20")];
        let reasons: Vec<_> = first
            .iter()
            .filter(|r| r.dimension.as_deref() == Some("case_reason"))
            .map(|r| r.group_value.clone())
            .collect();
        assert_eq!(
            reasons,
            [Some("billing".to_owned())],
            "refund has nothing that day"
        );
        assert_eq!(first.iter().filter(|r| r.dimension.is_none()).count(), 1);
        let refund = rows[&day("2026-11-22")]
            .iter()
            .find(|r| r.group_value.as_deref() == Some("refund"))
            .unwrap();
        assert_eq!(refund.dimension_name.as_deref(), Some("Reason"));
        assert_eq!(refund.group_label.as_deref(), Some("Refund"));
        assert_eq!(refund.resolution_seconds, 90);
        assert_eq!(refund.avg_case_resolution_time, Some(90.0));
    }

    #[test]
    fn keys_are_hive_style() {
        let day = "2026-11-20".parse().unwrap();
        assert_eq!(
            day_key(day),
            "case_metrics_daily/day=2026-11-20/part-00000.parquet"
        );
        assert_eq!(manifest_key("cases"), "cases/current/manifest");
    }
}
