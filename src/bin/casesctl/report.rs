//! `casesctl report` and `casesctl dashboard`: Connect's case metrics from the read model's
//! aggregates, as a table, JSON or CSV, or as one self-contained HTML page.

use std::fmt::Write as _;
use std::process::ExitCode;

use cases_projector::analytics::model::{Interval, Report};
use cases_projector::analytics::source::{self, Note};
use cases_projector::config::Config;
use cases_projector::projection::contribution::{STATUS_GROUP, TEMPLATE_GROUP};
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::wiring;
use chrono::{NaiveDate, Utc};

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

/// Why a report cannot be made; exit 2.
fn refuse(message: &str) -> ExitCode {
    eprintln!("casesctl: {message}");
    ExitCode::from(2)
}

async fn store() -> Result<(Config, DynamoStore), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let sdk = wiring::sdk_config().await;
    let store = wiring::store(&sdk, &config);
    Ok((config, store))
}

/// Builds the report; `Err` carries the message and exit code.
pub async fn make(config: &Config, store: &DynamoStore, q: &Query) -> Result<Report, (String, u8)> {
    if q.from >= q.to {
        return Err((
            format!(
                "empty range: --from {} must be before --to {} (exclusive)",
                q.from, q.to
            ),
            2,
        ));
    }
    let by = match q.by.as_deref() {
        None => None,
        Some(id) if id == TEMPLATE_GROUP || id == STATUS_GROUP => Some(id.to_owned()),
        Some(id) if config.report_dimensions.iter().any(|d| d == id) => Some(id.to_owned()),
        Some(id) => {
            return Err((
                format!(
                    "`{id}` is not a report dimension: group by template, status, or a field listed in REPORT_DIMENSIONS (now: {}). Add it there, then run `casesctl regroup --domain-id D` to regroup the cases already stored",
                    if config.report_dimensions.is_empty() {
                        "empty".to_owned()
                    } else {
                        config.report_dimensions.join(",")
                    }
                ),
                2,
            ));
        }
    };
    let err = |e: cases_projector::store::StoreError| (e.to_string(), 1);
    let fields: Vec<&str> = by.as_deref().into_iter().collect();
    let names = source::names(store, &q.domain_id, &fields)
        .await
        .map_err(err)?;
    let aggregates = source::aggregates(store, &q.domain_id, q.from, q.to)
        .await
        .map_err(err)?;
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

pub async fn report(q: Query, format: Format) -> ExitCode {
    let (config, store) = match store().await {
        Ok(s) => s,
        Err(e) => return refuse(&e),
    };
    match make(&config, &store, &q).await {
        Ok(report) => {
            print!("{}", render(&report, format));
            ExitCode::SUCCESS
        }
        Err((message, code)) => {
            eprintln!("casesctl report: {message}");
            ExitCode::from(code)
        }
    }
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

pub fn render(report: &Report, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Json => {
            out = serde_json::to_string_pretty(report).unwrap_or_default();
            out.push('\n');
        }
        Format::Csv => {
            out.push_str("start,group,CASES_CREATED,RESOLVED_CASE_ACTIONS,REOPENED_CASE_ACTIONS,AVG_CASE_RESOLUTION_TIME,AVG_CASE_RELATED_CONTACTS,PERCENT_CASES_FIRST_CONTACT_RESOLVED,CASES_DELETED,RELATED_ITEMS_CREATED,RELATED_ITEMS_CREATED_BY_TYPE\n");
            for r in &report.rows {
                let group = r.group.clone().unwrap_or_default().replace('"', "\"\"");
                let _ = writeln!(
                    out,
                    "{},\"{group}\",{},{},{},{},{},{},{},{},\"{}\"",
                    r.start,
                    r.cases_created,
                    r.resolved_case_actions,
                    r.reopened_case_actions,
                    cell(r.avg_case_resolution_time),
                    cell(r.avg_case_related_contacts),
                    cell(r.percent_cases_first_contact_resolved),
                    r.cases_deleted,
                    r.related_items_created,
                    by_type(r)
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
                let group = r.label.clone().or(r.group.clone()).unwrap_or_else(|| {
                    if report.by.is_some() {
                        "(none)".into()
                    } else {
                        "all".into()
                    }
                });
                let _ = writeln!(
                    out,
                    "{:<10}  {:<24} {:>7} {:>8} {:>8} {:>12} {:>9} {:>7} {:>7} {:>7}",
                    r.start.to_string(),
                    group.chars().take(24).collect::<String>(),
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
            for c in &report.current_cases {
                let statuses: Vec<String> =
                    c.statuses.iter().map(|(s, n)| format!("{s}={n}")).collect();
                let group = c
                    .label
                    .clone()
                    .or(c.group.clone())
                    .unwrap_or_else(|| "all".into());
                let _ = writeln!(out, "  {group:<24} {}", statuses.join(" "));
            }
        }
    }
    out
}

pub async fn dashboard(q: Query, out: std::path::PathBuf) -> ExitCode {
    let (config, store) = match store().await {
        Ok(s) => s,
        Err(e) => return refuse(&e),
    };
    crate::dashboard::write(&config, &store, &q, &out).await
}
