//! The case-metrics panels, data → HTML with inline SVG: one renderer for the CloudWatch custom
//! widget (one panel per call, [`widget`]) and for `casesctl dashboard` (every panel on one
//! page, [`page`]). Pure: no I/O, no AWS types; every number shown comes from the reports built
//! by [`crate::analytics::report::build`].
//!
//! Each number is in the DOM twice: as people read it (`1 h 05 m`, `42 %`) and, on the element
//! that shows it, as `data-metric` / `data-start` / `data-group` / `data-value` with the
//! report's own value, so a test can compare it with `casesctl report --format json`.

pub mod chart;
pub mod format;
pub mod widget;

use std::fmt::Write as _;

use crate::analytics::model::{Interval, Report, Row};
use crate::analytics::source::{Names, Note};
use crate::projection::contribution::{CLOSED, STATUS_GROUP, TEMPLATE_GROUP};
use chart::{BarSeries, Scale};
use format::{NONE, escape};

/// One panel of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Panel {
    /// KPI tiles for the range: created, resolved, reopened, average resolution time,
    /// first-contact resolution, open now.
    Kpis,
    /// Created, resolved and reopened per interval, as bars.
    Volume,
    /// Current cases by status.
    Status,
    /// Average resolution time per interval.
    Resolution,
    /// First-contact resolution per interval, with contacts per case for the range.
    FirstContact,
    /// Created, resolved, average resolution and FCR per group, top N and "others".
    Breakdown { by: String },
    /// Deleted cases and related items created, per type, for the range.
    Activity,
}

impl Panel {
    /// The `panel` parameter naming it.
    pub const NAMES: [&str; 7] = [
        "kpis",
        "volume",
        "status",
        "resolution",
        "fcr",
        "breakdown",
        "activity",
    ];

    pub fn title(&self, names: &Names) -> String {
        match self {
            Panel::Kpis => "Cases at a glance".into(),
            Panel::Volume => "Cases created, resolved and reopened".into(),
            Panel::Status => "Cases now, by status".into(),
            Panel::Resolution => "Average resolution time".into(),
            Panel::FirstContact => "First-contact resolution".into(),
            Panel::Breakdown { by } => format!("By {}", names.grouping(by).0.name.to_lowercase()),
            Panel::Activity => "Deleted cases and related items".into(),
        }
    }
}

/// What the panels are drawn from: reports built from one read of the aggregates.
pub struct Data<'a> {
    /// `Interval::Total`, ungrouped: one row for the range.
    pub total: &'a Report,
    /// `Interval::Day` or `Week`, ungrouped.
    pub series: &'a Report,
    /// `Interval::Total`, one per grouping shown.
    pub breakdowns: &'a [Report],
    pub names: &'a Names,
    pub notes: &'a [Note],
    /// Groups shown at most in a breakdown or the status panel (the rest are "others").
    pub top: usize,
}

/// The space a panel has, in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    pub width: f64,
    pub height: f64,
}

const ROW_HEIGHT: f64 = 24.0;

fn message(text: &str) -> String {
    format!("<p class=\"message\">{}</p>", escape(text))
}

/// One panel's HTML (no title: the widget's frame or the page's heading gives it).
pub fn panel(panel: &Panel, data: &Data<'_>, size: Size) -> String {
    match panel {
        Panel::Kpis => kpis(data),
        Panel::Volume => volume(data, size),
        Panel::Status => status(data, size),
        Panel::Resolution => trend(data, size, Scale::Duration),
        Panel::FirstContact => trend(data, size, Scale::Percent),
        Panel::Breakdown { by } => breakdown(data, by, size),
        Panel::Activity => activity(data),
    }
}

fn total_row<'a>(data: &'a Data<'_>) -> Option<&'a Row> {
    data.total.rows.first()
}

/// Cases now in a status other than closed.
fn open_now(report: &Report) -> i64 {
    report
        .current_cases
        .iter()
        .filter(|c| c.group.is_none())
        .flat_map(|c| c.statuses.iter())
        .filter(|(s, _)| s.as_str() != CLOSED)
        .map(|(_, n)| n)
        .sum()
}

fn tile(out: &mut String, metric: &str, value: Option<f64>, shown: &str, label: &str) {
    let _ = write!(
        out,
        "<div class=\"tile\"><div class=\"value\" data-metric=\"{metric}\" data-value=\"{}\">{}</div><div class=\"label\">{}</div></div>",
        format::data_value(value),
        escape(shown),
        escape(label)
    );
}

/// A tile of a whole number.
fn count_tile(out: &mut String, metric: &str, n: i64, label: &str) {
    tile(out, metric, Some(n as f64), &format::count(n), label);
}

fn kpis(data: &Data<'_>) -> String {
    let Some(r) = total_row(data) else {
        return message("No data for this range.");
    };
    let mut out = String::from("<div class=\"tiles\">");
    count_tile(&mut out, "CASES_CREATED", r.cases_created, "created");
    count_tile(
        &mut out,
        "RESOLVED_CASE_ACTIONS",
        r.resolved_case_actions,
        "resolved",
    );
    count_tile(
        &mut out,
        "REOPENED_CASE_ACTIONS",
        r.reopened_case_actions,
        "reopened",
    );
    tile(
        &mut out,
        "AVG_CASE_RESOLUTION_TIME",
        r.avg_case_resolution_time,
        &format::opt_duration(r.avg_case_resolution_time),
        "average resolution time",
    );
    tile(
        &mut out,
        "PERCENT_CASES_FIRST_CONTACT_RESOLVED",
        r.percent_cases_first_contact_resolved,
        &format::percent(r.percent_cases_first_contact_resolved),
        "resolved on first contact",
    );
    let open = open_now(data.total);
    count_tile(&mut out, "CURRENT_OPEN", open, "open now");
    out.push_str("</div>");
    out
}

/// Room left for a chart under a line of text.
fn chart_size(size: Size, lines: f64) -> (f64, f64) {
    (
        (size.width - 4.0).max(120.0),
        (size.height - 4.0 - lines * 18.0).max(80.0),
    )
}

fn weekly(report: &Report) -> bool {
    report.interval == Interval::Week
}

fn volume(data: &Data<'_>, size: Size) -> String {
    let rows = &data.series.rows;
    let starts: Vec<_> = rows.iter().map(|r| r.start).collect();
    let series = [
        BarSeries {
            metric: "CASES_CREATED",
            name: "created",
            values: rows.iter().map(|r| r.cases_created).collect(),
        },
        BarSeries {
            metric: "RESOLVED_CASE_ACTIONS",
            name: "resolved",
            values: rows.iter().map(|r| r.resolved_case_actions).collect(),
        },
        BarSeries {
            metric: "REOPENED_CASE_ACTIONS",
            name: "reopened",
            values: rows.iter().map(|r| r.reopened_case_actions).collect(),
        },
    ];
    let (w, h) = chart_size(size, 0.0);
    chart::bars(&starts, &series, w, h, weekly(data.series))
}

fn trend(data: &Data<'_>, size: Size, scale: Scale) -> String {
    let rows = &data.series.rows;
    let starts: Vec<_> = rows.iter().map(|r| r.start).collect();
    let (metric, values, summary): (&str, Vec<Option<f64>>, String) = match scale {
        Scale::Duration => (
            "AVG_CASE_RESOLUTION_TIME",
            rows.iter().map(|r| r.avg_case_resolution_time).collect(),
            format!(
                "Range: {} over {} resolutions",
                format::opt_duration(total_row(data).and_then(|r| r.avg_case_resolution_time)),
                format::count(total_row(data).map_or(0, |r| r.resolved_case_actions)),
            ),
        ),
        Scale::Percent => {
            let contacts = total_row(data).and_then(|r| r.avg_case_related_contacts);
            (
                "PERCENT_CASES_FIRST_CONTACT_RESOLVED",
                rows.iter()
                    .map(|r| r.percent_cases_first_contact_resolved)
                    .collect(),
                format!(
                    "Range: {} resolved on first contact · <span data-metric=\"AVG_CASE_RELATED_CONTACTS\" data-value=\"{}\">{}</span> contacts per case created",
                    format::percent(
                        total_row(data).and_then(|r| r.percent_cases_first_contact_resolved)
                    ),
                    format::data_value(contacts),
                    format::ratio(contacts),
                ),
            )
        }
    };
    let mut out = format!("<p class=\"summary\">{summary}</p>");
    if values.iter().all(Option::is_none) {
        out.push_str(&message("Nothing was resolved in this range."));
        return out;
    }
    let (w, h) = chart_size(size, 1.0);
    out.push_str(&chart::points(
        &starts,
        metric,
        &values,
        scale,
        w,
        h,
        weekly(data.series),
    ));
    out
}

/// A row of a bar table: label, bar of `value` against `max`, the shown value, and extra cells.
fn bar_row(out: &mut String, label: &str, attrs: &str, value: i64, max: i64, extra: &str) {
    let pct = if max > 0 {
        value as f64 * 100.0 / max as f64
    } else {
        0.0
    };
    let _ = write!(
        out,
        "<tr><th scope=\"row\" title=\"{label}\">{label}</th><td class=\"barcell\"><span class=\"bar\" style=\"width:{pct:.1}%\"></span><span class=\"n\" {attrs} data-value=\"{value}\">{}</span></td>{extra}</tr>",
        format::count(value),
        label = escape(label),
    );
}

/// How many rows fit under a header, at most `top`, at least 3.
fn rows_that_fit(size: Size, top: usize) -> usize {
    (((size.height - 2.0 * ROW_HEIGHT) / ROW_HEIGHT).floor() as usize).clamp(3, top.max(3))
}

fn status(data: &Data<'_>, size: Size) -> String {
    let mut statuses: Vec<(&String, i64)> = data
        .total
        .current_cases
        .iter()
        .filter(|c| c.group.is_none())
        .flat_map(|c| c.statuses.iter().map(|(s, n)| (s, *n)))
        .collect();
    if statuses.is_empty() {
        return message("No cases in the read model yet.");
    }
    statuses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let max = statuses.first().map_or(0, |s| s.1);
    let fit = rows_that_fit(size, data.top);
    let mut out = String::from(
        "<table class=\"bars\"><thead><tr><th>status</th><th>cases</th></tr></thead><tbody>",
    );
    let shown = if statuses.len() > fit { fit - 1 } else { fit };
    for (s, n) in statuses.iter().take(shown) {
        let attrs = format!(
            "data-metric=\"CURRENT_CASES\" data-status=\"{}\"",
            escape(s)
        );
        bar_row(&mut out, &data.names.status_label(s), &attrs, *n, max, "");
    }
    if statuses.len() > shown {
        let rest = &statuses[shown..];
        let n: i64 = rest.iter().map(|s| s.1).sum();
        let attrs = "data-metric=\"CURRENT_CASES\" data-status=\"(others)\"".to_owned();
        bar_row(
            &mut out,
            &format!("{} others", rest.len()),
            &attrs,
            n,
            max.max(n),
            "",
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// A group's name for people: its label, its value, or "(no value)".
fn group_name(row: &Row, by: &str) -> String {
    match (&row.label, &row.group) {
        (Some(l), _) => l.clone(),
        (None, Some(g)) => g.clone(),
        (None, None) if by == TEMPLATE_GROUP => "(no template)".into(),
        (None, None) if by == STATUS_GROUP => "(no status)".into(),
        (None, None) => "(no value)".into(),
    }
}

fn breakdown(data: &Data<'_>, by: &str, size: Size) -> String {
    let Some(report) = data
        .breakdowns
        .iter()
        .find(|r| r.by.as_ref().is_some_and(|b| b.id == by))
    else {
        return message(&format!("No breakdown by {by}."));
    };
    let mut rows: Vec<&Row> = report.rows.iter().collect();
    if rows
        .iter()
        .all(|r| r.cases_created == 0 && r.resolved_case_actions == 0)
    {
        return message("No case was created or resolved in this range.");
    }
    rows.sort_by(|a, b| {
        b.cases_created
            .cmp(&a.cases_created)
            .then(b.resolved_case_actions.cmp(&a.resolved_case_actions))
            .then(group_name(a, by).cmp(&group_name(b, by)))
    });
    let max = rows.first().map_or(0, |r| r.cases_created);
    let fit = rows_that_fit(size, data.top);
    let shown = if rows.len() > fit { fit - 1 } else { fit };
    let name = report.by.as_ref().map_or(by, |b| b.name.as_str());
    let wide = size.width >= 420.0;
    let mut out = format!(
        "<table class=\"bars\"><thead><tr><th>{}</th><th>created</th><th>resolved</th>{}</tr></thead><tbody>",
        escape(&name.to_lowercase()),
        if wide {
            "<th>avg resolution</th><th>first contact</th>"
        } else {
            ""
        }
    );
    let cell = |metric: &str, group: &str, value: String, shown: String| {
        format!(
            "<td data-metric=\"{metric}\" data-by=\"{}\" data-group=\"{}\" data-value=\"{value}\">{}</td>",
            escape(by),
            escape(group),
            escape(&shown)
        )
    };
    for r in rows.iter().take(shown) {
        let group = r.group.clone().unwrap_or_default();
        let mut extra = cell(
            "RESOLVED_CASE_ACTIONS",
            &group,
            r.resolved_case_actions.to_string(),
            format::count(r.resolved_case_actions),
        );
        if wide {
            extra.push_str(&cell(
                "AVG_CASE_RESOLUTION_TIME",
                &group,
                format::data_value(r.avg_case_resolution_time),
                format::opt_duration(r.avg_case_resolution_time),
            ));
            extra.push_str(&cell(
                "PERCENT_CASES_FIRST_CONTACT_RESOLVED",
                &group,
                format::data_value(r.percent_cases_first_contact_resolved),
                format::percent(r.percent_cases_first_contact_resolved),
            ));
        }
        let attrs = format!(
            "data-metric=\"CASES_CREATED\" data-by=\"{}\" data-group=\"{}\"",
            escape(by),
            escape(&group)
        );
        bar_row(
            &mut out,
            &group_name(r, by),
            &attrs,
            r.cases_created,
            max,
            &extra,
        );
    }
    if rows.len() > shown {
        let rest = &rows[shown..];
        let created: i64 = rest.iter().map(|r| r.cases_created).sum();
        let resolved: i64 = rest.iter().map(|r| r.resolved_case_actions).sum();
        let mut extra = format!("<td>{}</td>", format::count(resolved));
        if wide {
            // Averages are per group: the others' are not shown rather than derived.
            let _ = write!(extra, "<td>{NONE}</td><td>{NONE}</td>");
        }
        let attrs = format!(
            "data-metric=\"CASES_CREATED\" data-by=\"{}\" data-group=\"(others)\"",
            escape(by)
        );
        bar_row(
            &mut out,
            &format!("{} others", rest.len()),
            &attrs,
            created,
            max.max(created),
            &extra,
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn activity(data: &Data<'_>) -> String {
    let Some(r) = total_row(data) else {
        return message("No data for this range.");
    };
    let mut out = String::from("<div class=\"tiles\">");
    count_tile(&mut out, "CASES_DELETED", r.cases_deleted, "cases deleted");
    count_tile(
        &mut out,
        "RELATED_ITEMS_CREATED",
        r.related_items_created,
        "related items added",
    );
    for (kind, label) in [
        ("Contact", "contacts"),
        ("Comment", "comments"),
        ("File", "files"),
        ("Sla", "SLAs"),
        ("ConnectCase", "linked cases"),
        ("Custom", "custom items"),
    ] {
        let n = r
            .related_items_created_by_type
            .get(kind)
            .copied()
            .unwrap_or(0);
        tile(
            &mut out,
            &format!("RELATED_ITEMS_CREATED_BY_TYPE.{kind}"),
            Some(n as f64),
            &format::count(n),
            label,
        );
    }
    out.push_str("</div>");
    out
}

/// The style every panel uses (the widget's and the page's).
pub const STYLE: &str = "\
.cm{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#16191f;font-size:13px}\
.cm .tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:8px}\
.cm .tile{border:1px solid #e9ebed;border-radius:6px;padding:8px 10px;background:#fff}\
.cm .tile .value{font-size:24px;font-weight:600;line-height:1.2}\
.cm .tile .label{color:#5f6b7a;font-size:12px}\
.cm .summary{margin:0 0 2px;color:#414d5c}\
.cm .message{color:#5f6b7a;font-style:italic;margin:8px 0}\
.cm .notes{color:#8d6605;font-size:12px;margin:4px 0}\
.cm .foot{color:#5f6b7a;font-size:11px;margin:4px 0 0}\
.cm table.bars{border-collapse:collapse;width:100%;table-layout:auto}\
.cm table.bars th,.cm table.bars td{padding:2px 6px;border-bottom:1px solid #f2f3f3;text-align:right;white-space:nowrap;height:19px}\
.cm table.bars th:first-child{text-align:left;max-width:200px;overflow:hidden;text-overflow:ellipsis;font-weight:normal}\
.cm table.bars thead th{color:#5f6b7a;font-weight:600;font-size:12px}\
.cm td.barcell{width:45%;text-align:left;position:relative}\
.cm .bar{display:inline-block;height:12px;background:#1f77b4;vertical-align:middle;margin-right:6px;border-radius:2px}\
.cm svg{display:block;max-width:100%}";

/// The line under a panel: the range, in UTC days, and the notes.
pub fn footer(report: &Report, notes: &[Note], timezone: Option<&str>) -> String {
    let mut out = String::new();
    for note in notes {
        let _ = write!(out, "<p class=\"notes\">{}</p>", escape(&note.to_string()));
    }
    let _ = write!(
        out,
        "<p class=\"foot\">{} · UTC days{}</p>",
        escape(&format::range(report.from, report.to)),
        timezone
            .map(|t| format!(" · {}", escape(t)))
            .unwrap_or_default()
    );
    out
}

/// Every panel on one self-contained page (`casesctl dashboard`): KPIs first, then trends, then
/// breakdowns.
pub fn page(data: &Data<'_>) -> String {
    let wide = Size {
        width: 760.0,
        height: 300.0,
    };
    let half = Size {
        width: 560.0,
        height: 300.0,
    };
    let mut panels = vec![
        (Panel::Kpis, wide, "full"),
        (Panel::Volume, wide, "full"),
        (Panel::Status, half, ""),
        (Panel::Resolution, half, ""),
        (Panel::FirstContact, half, ""),
    ];
    for b in data.breakdowns {
        if let Some(by) = &b.by {
            panels.push((Panel::Breakdown { by: by.id.clone() }, half, ""));
        }
    }
    panels.push((Panel::Activity, half, ""));
    let mut body = String::new();
    for (p, size, class) in &panels {
        let _ = write!(
            body,
            "<section class=\"{class}\"><h2>{}</h2>{}</section>",
            escape(&p.title(data.names)),
            panel(p, data, *size)
        );
    }
    let notes: String = data
        .notes
        .iter()
        .map(|n| format!("<p class=\"notes\">{}</p>", escape(&n.to_string())))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Case metrics: {range}</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}\
body{{margin:1.5rem;background:#f2f3f3}}h1{{font-size:1.3rem;margin:0}}\
h2{{font-size:14px;margin:0 0 6px}}\
main{{display:grid;grid-template-columns:repeat(auto-fill,minmax(580px,1fr));gap:12px;margin-top:12px}}\
section{{background:#fff;border:1px solid #e9ebed;border-radius:8px;padding:10px 12px;overflow:hidden}}\
section.full{{grid-column:1/-1}}.sub{{color:#5f6b7a;margin:2px 0 0}}\
</style></head><body class=\"cm\"><h1>Case metrics</h1>\
<p class=\"sub\">{range} (UTC days) · domain <code>{domain}</code> · generated {generated}</p>{notes}\
<main>{body}</main></body></html>\n",
        range = escape(&format::range(data.total.from, data.total.to)),
        domain = escape(&data.total.domain_id),
        generated = data.total.generated_at.format("%Y-%m-%d %H:%M UTC"),
    )
}
