//! Local operation (`casesctl`): replay event files through the handler and show the read model.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use aws_sdk_dynamodb::types::AttributeValue;

use cases_projector::enrichment::{CaseReader, EventConfiguration};
use cases_projector::event::{Invocation, ParseError, parse_invocation};
use cases_projector::projector::Projector;
use cases_projector::report::{InvocationReport, OutcomeCounts};
use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::store::keys;
use cases_projector::store::{RELATED_META, ReadModelStore, StoreError};

/// Files to replay, in order: a file as given; a folder's `*.json` files (not its sub-folders)
/// in name order.
pub fn replay_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(path)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()?;
            in_dir.retain(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"));
            in_dir.sort();
            files.extend(in_dir);
        } else {
            std::fs::metadata(path)?;
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Reads one file as one invocation, the way Lambda would receive it.
pub fn read_invocation(path: &Path) -> std::io::Result<Invocation> {
    let bytes = std::fs::read(path)?;
    Ok(match serde_json::from_slice(&bytes) {
        Ok(value) => parse_invocation(value),
        Err(e) => Invocation::Unrecognised(ParseError::not_json(&e)),
    })
}

/// Replays files through the handler, printing a row per record; returns the reports.
pub async fn replay<S: ReadModelStore, R: CaseReader>(
    projector: &Projector<S, R>,
    files: &[PathBuf],
    out: &mut String,
) -> std::io::Result<Vec<InvocationReport>> {
    let mut reports = Vec::new();
    let _ = writeln!(
        out,
        "{:<48} {:>3}  {:<10} {:<22} {:<10} {:<9} reason",
        "file", "#", "case", "event type", "event", "outcome"
    );
    for file in files {
        let invocation = read_invocation(file)?;
        let report = projector.handle(invocation, None).await;
        let name = file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(why) = &report.unrecognised {
            let _ = writeln!(
                out,
                "{name:<48} {:>3}  {:<10} {:<22} {:<10} {:<9} {why}",
                "-", "-", "-", "-", "failed"
            );
        }
        for (i, r) in report.records.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:<48} {:>3}  {:<10} {:<22} {:<10} {:<9} {}",
                name,
                i + 1,
                short(r.case_id.as_deref()),
                r.event_type.as_deref().unwrap_or("-"),
                short(r.event_id.as_deref()),
                r.outcome.label(),
                r.outcome.reason().unwrap_or_default()
            );
        }
        reports.push(report);
    }
    let mut total = OutcomeCounts::default();
    for r in &reports {
        total += r.counts();
    }
    let records: usize = reports.iter().map(|r| r.records.len()).sum();
    let unrecognised = reports.iter().filter(|r| r.unrecognised.is_some()).count();
    let units: f64 = reports.iter().map(|r| r.work.write_units).sum();
    let get_case: u32 = reports.iter().map(|r| r.work.get_case_calls).sum();
    let _ = writeln!(
        out,
        "\n{} file(s), {records} record(s): {} applied, {} stale, {} duplicate, {} skipped, {} failed{}; {units:.1} write units, {get_case} GetCase call(s)",
        files.len(),
        total.applied,
        total.stale,
        total.duplicate,
        total.skipped,
        total.failed,
        if unrecognised > 0 {
            format!(", {unrecognised} unrecognised file(s)")
        } else {
            String::new()
        },
    );
    Ok(reports)
}

fn short(id: Option<&str>) -> String {
    id.map(|i| i.chars().take(8).collect::<String>() + "…")
        .unwrap_or_else(|| "-".into())
}

fn text(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.clone(),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null(_) => "∅".into(),
        AttributeValue::M(m) => {
            let sorted: BTreeMap<_, _> = m.iter().collect();
            sorted
                .iter()
                .map(|(k, v)| format!("{k}={}", text(v)))
                .collect::<Vec<_>>()
                .join(" ")
        }
        AttributeValue::Ss(s) => s.join(","),
        other => format!("{other:?}"),
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// Renders the whole read model (a Scan: for local tables only).
pub async fn render_read_model(store: &DynamoStore) -> Result<String, StoreError> {
    let mut sorted = store.scan_all().await?;
    let get = |i: &std::collections::HashMap<String, AttributeValue>, k: &str| {
        i.get(k).map(text).unwrap_or_default()
    };
    sorted.sort_by_key(|i| (get(i, "pk"), get(i, "sk")));
    let mut out = String::new();

    let _ = writeln!(out, "CASES");
    let _ = writeln!(
        out,
        "{:<10} {:<8} {:<7} {:<38} {:<24} {:<24} related items",
        "case", "status", "deleted", "title", "created", "last updated"
    );
    for i in sorted.iter().filter(|i| get(i, "sk") == "CASE") {
        // The case's own last change: Connect's `last_updated_datetime` when the read model
        // holds it, else the time of the newest change it applied.
        let updated = match i.get("fields") {
            Some(AttributeValue::M(f)) => f.get("last_updated_datetime").map(text),
            _ => None,
        }
        .filter(|t| t != "∅")
        .unwrap_or_else(|| get(i, "updatedAt"));
        let _ = writeln!(
            out,
            "{:<10} {:<8} {:<7} {:<38} {:<24} {:<24} {}",
            short(Some(&get(i, "caseId"))),
            get(i, "status"),
            get(i, "deleted"),
            clip(&get(i, "title"), 38),
            get(i, "createdAt"),
            updated,
            get(i, "relatedItems"),
        );
        if let Some(AttributeValue::M(fields)) = i.get("fields") {
            let sorted: BTreeMap<_, _> = fields.iter().collect();
            for (k, v) in sorted {
                let _ = writeln!(out, "{:<10}   {k:<22} {}", "", clip(&text(v), 70));
            }
        }
    }
    let _ = writeln!(out, "\nRELATED ITEMS");
    let _ = writeln!(
        out,
        "{:<10} {:<12} {:<12} {:<7} {:<24} content",
        "case", "item", "type", "deleted", "created"
    );
    for i in sorted
        .iter()
        .filter(|i| get(i, "sk").starts_with(keys::RELATED_PREFIX))
    {
        let content: BTreeMap<_, _> = i
            .iter()
            .filter(|(k, _)| !RELATED_META.contains(&k.as_str()))
            .collect();
        let content = content
            .iter()
            .map(|(k, v)| format!("{k}={}", clip(&text(v), 40)))
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(
            out,
            "{:<10} {:<12} {:<12} {:<7} {:<24} {}",
            short(Some(&get(i, "caseId"))),
            short(Some(&get(i, "relatedItemId"))),
            get(i, "relatedItemType"),
            get(i, "deleted"),
            get(i, "createdAt"),
            content
        );
    }
    let _ = writeln!(
        out,
        "\nDAILY NUMBERS (from case state, as `casesctl report` gives them)"
    );
    let _ = writeln!(
        out,
        "{:<10} {:<10} {:>7} {:>8} {:>8} {:>7}  related items created",
        "domain", "day", "created", "resolved", "reopened", "deleted"
    );
    let domains: std::collections::BTreeSet<String> = sorted
        .iter()
        .filter_map(|i| {
            get(i, "pk")
                .strip_prefix(keys::METRICS_PREFIX)
                .map(str::to_owned)
        })
        .collect();
    for domain in domains {
        for row in daily_numbers(store, &domain).await? {
            let by_type = row
                .related_items_created_by_type
                .iter()
                .map(|(t, n)| format!("{t}={n}"))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(
                out,
                "{:<10} {:<10} {:>7} {:>8} {:>8} {:>7}  {} {}",
                short(Some(&domain)),
                row.start,
                row.cases_created,
                row.resolved_case_actions,
                row.reopened_case_actions,
                row.cases_deleted,
                row.related_items_created,
                if by_type.is_empty() {
                    String::new()
                } else {
                    format!("({by_type})")
                }
            );
        }
    }
    let _ = writeln!(out, "\nFIELD METADATA");
    for i in sorted
        .iter()
        .filter(|i| get(i, "pk").starts_with(keys::FIELDS_PREFIX))
    {
        let _ = writeln!(
            out,
            "{:<24} {:<20} {:<13} {:<7} {}",
            get(i, "fieldId"),
            get(i, "name"),
            get(i, "fieldType"),
            get(i, "namespace"),
            get(i, "options")
        );
    }
    let legacy = sorted
        .iter()
        .filter(|i| keys::legacy::is_legacy(&get(i, "pk"), &get(i, "sk")))
        .count();
    if legacy > 0 {
        let _ = writeln!(
            out,
            "\n{legacy} item(s) an earlier version wrote (daily event counters, markers, cut-over): \
             not read any more; `casesctl regroup` rebuilds every number from the cases"
        );
    }
    Ok(out)
}

/// The days with any number of `domain`, ungrouped, as `casesctl report --interval day` gives them.
async fn daily_numbers(
    store: &DynamoStore,
    domain: &str,
) -> Result<Vec<cases_projector::analytics::model::Row>, StoreError> {
    use cases_projector::analytics::{model::Interval, read, report};
    let codes = read::codes(store, domain).await?;
    let all = read::days(
        store,
        domain,
        &codes,
        chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date"),
        chrono::NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date"),
    )
    .await?;
    let (Some(first), Some(last)) = (all.keys().next(), all.keys().next_back()) else {
        return Ok(Vec::new());
    };
    let request = report::ReportRequest {
        domain_id: domain.to_owned(),
        from: *first,
        to: *last + chrono::TimeDelta::days(1),
        interval: Interval::Day,
        by: None,
        labels: BTreeMap::new(),
    };
    let built = report::build(&request, &all, &Default::default(), chrono::Utc::now());
    Ok(built
        .rows
        .into_iter()
        .filter(|r| all.get(&r.start).is_some_and(|a| !a.is_empty()))
        .collect())
}

/// System fields the dashboards read (status, title, reason, assignment, dates, reference).
pub const DASHBOARD_FIELDS: [&str; 10] = [
    "status",
    "title",
    "case_reason",
    "assigned_user",
    "assigned_queue",
    "created_datetime",
    "last_updated_datetime",
    "last_closed_datetime",
    "reference_number",
    "customer_id",
];

/// The event configuration the projector works best with: enabled, related-item content on,
/// and the current fields plus the dashboard fields plus `case_fields` (existing fields are
/// kept: other consumers may rely on them).
pub fn recommended_event_configuration(
    current: &EventConfiguration,
    case_fields: &[String],
) -> EventConfiguration {
    let mut fields = current.fields.clone();
    for id in DASHBOARD_FIELDS
        .iter()
        .map(|f| f.to_string())
        .chain(case_fields.iter().cloned())
    {
        if !fields.contains(&id) {
            fields.push(id);
        }
    }
    EventConfiguration {
        enabled: true,
        fields,
        include_related_item_content: true,
    }
}

pub fn render_event_configuration(c: &EventConfiguration) -> String {
    format!(
        "enabled: {}\nrelated-item content: {}\ncase fields ({}): {}\n",
        c.enabled,
        if c.include_related_item_content {
            "included"
        } else {
            "not included"
        },
        c.fields.len(),
        if c.fields.is_empty() {
            "(none: events carry metadata only)".to_owned()
        } else {
            c.fields.join(", ")
        }
    )
}

/// Line-per-change difference; empty when nothing changes.
pub fn event_configuration_diff(from: &EventConfiguration, to: &EventConfiguration) -> String {
    let mut out = String::new();
    if from.enabled != to.enabled {
        let _ = writeln!(out, "~ enabled: {} -> {}", from.enabled, to.enabled);
    }
    if from.include_related_item_content != to.include_related_item_content {
        let _ = writeln!(
            out,
            "~ related-item content: {} -> {}",
            from.include_related_item_content, to.include_related_item_content
        );
    }
    for f in to.fields.iter().filter(|f| !from.fields.contains(f)) {
        let _ = writeln!(out, "+ field {f}");
    }
    for f in from.fields.iter().filter(|f| !to.fields.contains(f)) {
        let _ = writeln!(out, "- field {f}");
    }
    out
}
