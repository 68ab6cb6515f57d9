//! `casesctl report` and `casesctl dashboard`: Connect's case metrics from the read model's
//! aggregates, as a table, JSON or CSV, or as one self-contained HTML page.

use std::fmt::Write as _;

use cases_projector::analytics::model::{Interval, Report};
use cases_projector::analytics::source::{self, Note};
use cases_projector::config::Config;
use cases_projector::projection::contribution::{STATUS_GROUP, TEMPLATE_GROUP};
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::wiring;
use chrono::{NaiveDate, Utc};

use crate::env;
use crate::outcome::{Failure, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

pub struct Query {
    pub domain_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub interval: Interval,
    pub by: Option<String>,
}

async fn store() -> Result<(Config, DynamoStore), Failure> {
    let config = env::config(env::REPORT)?;
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    Ok((config, store))
}

/// Builds the report.
pub async fn make(config: &Config, store: &DynamoStore, q: &Query) -> Result<Report, Failure> {
    if q.from >= q.to {
        return Err(Failure::Refused(format!(
            "empty range: --from {} must be before --to {} (exclusive)",
            q.from, q.to
        )));
    }
    let by = match q.by.as_deref() {
        None => None,
        Some(id) if id == TEMPLATE_GROUP || id == STATUS_GROUP => Some(id.to_owned()),
        Some(id) if config.report_dimensions.iter().any(|d| d == id) => Some(id.to_owned()),
        Some(id) => {
            return Err(Failure::Refused(format!(
                "`{id}` is not a report dimension: group by template, status, or a field listed in REPORT_DIMENSIONS (now: {}). Add it there, then run `casesctl regroup --domain-id D` to regroup the cases already stored",
                if config.report_dimensions.is_empty() {
                    "empty".to_owned()
                } else {
                    config.report_dimensions.join(",")
                }
            )));
        }
    };
    let fields: Vec<&str> = by.as_deref().into_iter().collect();
    let names = source::names(store, &q.domain_id, &fields).await?;
    let aggregates = source::aggregates(store, &q.domain_id, q.from, q.to).await?;
    print_notes(&aggregates.notes);
    Ok(aggregates.report(q.interval, by.as_deref(), &names, Utc::now()))
}

/// What a reader of the numbers should know, on stderr, each once.
pub fn print_notes(notes: &[Note]) {
    for note in notes {
        match note {
            Note::NeedsRegroup { .. } => eprintln!("warning: {note}"),
            _ => eprintln!("note: {note}"),
        }
    }
}

pub async fn report(q: Query, format: Format) -> Outcome {
    let (config, store) = store().await?;
    let report = make(&config, &store, &q).await?;
    print!("{}", render(&report, format));
    Ok(())
}

/// `Contact=3;Comment=1`: related items created per type, for one CSV cell.
fn by_type(r: &cases_projector::analytics::model::Row) -> String {
    r.related_items_created_by_type
        .iter()
        .map(|(t, n)| format!("{t}={n}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn cell(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

/// What a group is called: its label, else its value; `(none)` for cases without a value,
/// `all` when the report is not grouped.
fn group_name(report: &Report, group: &Option<String>, label: &Option<String>) -> String {
    label.clone().or(group.clone()).unwrap_or_else(|| {
        if report.by.is_some() {
            "(none)".into()
        } else {
            "all".into()
        }
    })
}

/// `s` in at most `width` characters, an ellipsis marking a cut.
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A CSV cell, quoted when it must be.
fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub fn render(report: &Report, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Json => {
            out = serde_json::to_string_pretty(report).unwrap_or_default();
            out.push('\n');
        }
        Format::Csv => {
            // CURRENT_CASES: the group's cases now (every status), at `generated_at`; the same
            // in each row of the group.
            let current: std::collections::BTreeMap<Option<String>, i64> = report
                .current_cases
                .iter()
                .map(|c| (c.group.clone(), c.statuses.values().sum()))
                .collect();
            out.push_str("start,group,label,CASES_CREATED,RESOLVED_CASE_ACTIONS,REOPENED_CASE_ACTIONS,AVG_CASE_RESOLUTION_TIME,AVG_CASE_RELATED_CONTACTS,PERCENT_CASES_FIRST_CONTACT_RESOLVED,CASES_DELETED,RELATED_ITEMS_CREATED,RELATED_ITEMS_CREATED_BY_TYPE,CURRENT_CASES\n");
            for r in &report.rows {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    r.start,
                    csv(r.group.as_deref().unwrap_or_default()),
                    csv(&group_name(report, &r.group, &r.label)),
                    r.cases_created,
                    r.resolved_case_actions,
                    r.reopened_case_actions,
                    cell(r.avg_case_resolution_time),
                    cell(r.avg_case_related_contacts),
                    cell(r.percent_cases_first_contact_resolved),
                    r.cases_deleted,
                    r.related_items_created,
                    csv(&by_type(r)),
                    current.get(&r.group).copied().unwrap_or_default()
                );
            }
        }
        Format::Table => {
            let _ = writeln!(
                out,
                "{:<10}  {:<24} {:>7} {:>8} {:>8} {:>12} {:>9} {:>7} {:>7} {:>7}",
                "start",
                "group",
                "created",
                "resolved",
                "reopened",
                "avg res (h)",
                "contacts",
                "FCR %",
                "deleted",
                "related"
            );
            for r in &report.rows {
                let _ = writeln!(
                    out,
                    "{:<10}  {:<24} {:>7} {:>8} {:>8} {:>12} {:>9} {:>7} {:>7} {:>7}",
                    r.start.to_string(),
                    fit(&group_name(report, &r.group, &r.label), 24),
                    r.cases_created,
                    r.resolved_case_actions,
                    r.reopened_case_actions,
                    cell(r.avg_case_resolution_time.map(|s| s / 3600.0)),
                    cell(r.avg_case_related_contacts),
                    cell(r.percent_cases_first_contact_resolved),
                    r.cases_deleted,
                    r.related_items_created
                );
            }
            let _ = writeln!(
                out,
                "\ncurrent cases (at {}):",
                report.generated_at.format("%Y-%m-%d %H:%M:%SZ")
            );
            // A group with no current case (all deleted, or only in past days) says nothing.
            for c in report
                .current_cases
                .iter()
                .filter(|c| !c.statuses.is_empty())
            {
                let statuses: Vec<String> =
                    c.statuses.iter().map(|(s, n)| format!("{s}={n}")).collect();
                let group = fit(&group_name(report, &c.group, &c.label), 24);
                let _ = writeln!(out, "  {group:<24} {}", statuses.join(" "));
            }
        }
    }
    out
}

pub async fn dashboard(q: Query, out: std::path::PathBuf) -> Outcome {
    let (config, store) = store().await?;
    crate::dashboard::write(&config, &store, &q, &out).await
}
