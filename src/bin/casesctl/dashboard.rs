//! One self-contained HTML page (no network request: inline SVG and CSS) of the case metrics:
//! daily created / resolved / reopened, current cases by status, average resolution time,
//! first-contact resolution, and a breakdown per dimension. Every chart has a table of its
//! numbers under it; table cells carry `data-*` attributes so a test can read them back.

use std::fmt::Write as _;

use cases_projector::analytics::model::{Report, Row};
use plotters::prelude::*;

const WIDTH: u32 = 560;
const HEIGHT: u32 = 240;
const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One line of a chart: its name and its value for a row (if any).
type Series<'a> = (&'a str, &'a dyn Fn(&Row) -> Option<f64>);

/// A line chart of `series` over the rows' days.
fn line_chart(title: &str, rows: &[&Row], series: &[Series<'_>]) -> String {
    let mut svg = String::new();
    {
        let backend = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT));
        let area = backend.into_drawing_area();
        let _ = area.fill(&WHITE);
        let max = rows
            .iter()
            .flat_map(|r| series.iter().filter_map(|(_, f)| f(r)))
            .fold(0.0f64, f64::max)
            .max(1.0);
        let n = rows.len().max(1) as f64;
        let Ok(mut chart) = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..n, 0.0..max * 1.1)
        else {
            return String::new();
        };
        let labels: Vec<String> = rows
            .iter()
            .map(|r| r.start.format("%m-%d").to_string())
            .collect();
        let _ = chart
            .configure_mesh()
            .x_labels(8)
            .x_label_formatter(&|x| labels.get(*x as usize).cloned().unwrap_or_default())
            .draw();
        for (i, (name, f)) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let points: Vec<(f64, f64)> = rows
                .iter()
                .enumerate()
                .filter_map(|(x, r)| f(r).map(|y| (x as f64 + 0.5, y)))
                .collect();
            if let Ok(drawn) = chart.draw_series(LineSeries::new(points, colour.stroke_width(2))) {
                drawn
                    .label(*name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
            }
        }
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw();
        let _ = area.present();
    }
    svg
}

/// A bar chart of (label, value).
fn bar_chart(title: &str, bars: &[(String, f64)]) -> String {
    let mut svg = String::new();
    {
        let backend = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT));
        let area = backend.into_drawing_area();
        let _ = area.fill(&WHITE);
        let max = bars.iter().map(|(_, v)| *v).fold(0.0f64, f64::max).max(1.0);
        let n = bars.len().max(1) as f64;
        let Ok(mut chart) = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..n, 0.0..max * 1.1)
        else {
            return String::new();
        };
        let names: Vec<String> = bars
            .iter()
            .map(|(l, _)| l.chars().take(14).collect())
            .collect();
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len().max(1))
            .x_label_formatter(&|x| names.get(*x as usize).cloned().unwrap_or_default())
            .draw();
        let _ = chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
            Rectangle::new(
                [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, *v)],
                COLOURS[0].filled(),
            )
        }));
        let _ = area.present();
    }
    svg
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())
}

/// A table of rows; each cell names its metric, interval start, grouping (`by`, empty for the
/// daily tables) and group.
fn metric_table(rows: &[&Row], metrics: &[(&str, &str)], by: Option<&str>) -> String {
    let group_header = by.is_some();
    let mut t = String::from("<table><thead><tr><th>");
    t.push_str(if group_header { "group" } else { "day" });
    t.push_str("</th>");
    for (_, header) in metrics {
        let _ = write!(t, "<th>{}</th>", escape(header));
    }
    t.push_str("</tr></thead><tbody>");
    for r in rows {
        let group = r.group.clone().unwrap_or_default();
        let first = if group_header {
            r.label
                .clone()
                .or(r.group.clone())
                .unwrap_or_else(|| "(none)".into())
        } else {
            r.start.to_string()
        };
        let _ = write!(t, "<tr><td>{}</td>", escape(&first));
        for (id, _) in metrics {
            let value = match *id {
                "CASES_CREATED" => r.cases_created.to_string(),
                "RESOLVED_CASE_ACTIONS" => r.resolved_case_actions.to_string(),
                "REOPENED_CASE_ACTIONS" => r.reopened_case_actions.to_string(),
                "AVG_CASE_RESOLUTION_TIME" => num(r.avg_case_resolution_time),
                "AVG_CASE_RELATED_CONTACTS" => num(r.avg_case_related_contacts),
                "PERCENT_CASES_FIRST_CONTACT_RESOLVED" => {
                    num(r.percent_cases_first_contact_resolved)
                }
                "CASES_DELETED" => r.cases_deleted.to_string(),
                "RELATED_ITEMS_CREATED" => r.related_items_created.to_string(),
                // RELATED_ITEMS_CREATED_BY_TYPE.<Type>
                other => other
                    .split_once('.')
                    .and_then(|(_, t)| r.related_items_created_by_type.get(t))
                    .copied()
                    .unwrap_or(0)
                    .to_string(),
            };
            let _ = write!(
                t,
                "<td data-metric=\"{id}\" data-by=\"{}\" data-start=\"{}\" data-group=\"{}\">{value}</td>",
                escape(by.unwrap_or_default()),
                r.start,
                escape(&group)
            );
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table>");
    t
}

fn panel(out: &mut String, title: &str, chart: Option<String>, table: String) {
    let _ = write!(out, "<section><h2>{}</h2>", escape(title));
    match chart {
        Some(svg) => out.push_str(&svg),
        None => out.push_str("<p class=\"empty\">no data</p>"),
    }
    out.push_str(&table);
    out.push_str("</section>");
}

pub fn page(daily: &Report, breakdowns: &[Report]) -> String {
    let rows: Vec<&Row> = daily.rows.iter().collect();
    let has = |f: &dyn Fn(&Row) -> bool| rows.iter().any(|r| f(r));
    let mut body = String::new();
    let counts = line_chart(
        "Cases created, resolved, reopened per day",
        &rows,
        &[
            ("created", &|r: &Row| Some(r.cases_created as f64)),
            ("resolved", &|r: &Row| Some(r.resolved_case_actions as f64)),
            ("reopened", &|r: &Row| Some(r.reopened_case_actions as f64)),
        ],
    );
    panel(
        &mut body,
        "Created, resolved, reopened",
        has(&|r| r.cases_created + r.resolved_case_actions + r.reopened_case_actions > 0)
            .then_some(counts),
        metric_table(
            &rows,
            &[
                ("CASES_CREATED", "created"),
                ("RESOLVED_CASE_ACTIONS", "resolved"),
                ("REOPENED_CASE_ACTIONS", "reopened"),
            ],
            None,
        ),
    );
    let activity = line_chart(
        "Cases deleted and related items created per day",
        &rows,
        &[
            ("deleted", &|r: &Row| Some(r.cases_deleted as f64)),
            ("related items", &|r: &Row| {
                Some(r.related_items_created as f64)
            }),
        ],
    );
    panel(
        &mut body,
        "Deleted cases and related items created",
        has(&|r| r.cases_deleted + r.related_items_created > 0).then_some(activity),
        metric_table(
            &rows,
            &[
                ("CASES_DELETED", "deleted"),
                ("RELATED_ITEMS_CREATED", "related items"),
                ("RELATED_ITEMS_CREATED_BY_TYPE.Contact", "contacts"),
                ("RELATED_ITEMS_CREATED_BY_TYPE.Comment", "comments"),
                ("RELATED_ITEMS_CREATED_BY_TYPE.File", "files"),
                ("RELATED_ITEMS_CREATED_BY_TYPE.Sla", "SLAs"),
                ("RELATED_ITEMS_CREATED_BY_TYPE.ConnectCase", "linked cases"),
                ("RELATED_ITEMS_CREATED_BY_TYPE.Custom", "custom"),
            ],
            None,
        ),
    );
    let current: Vec<(String, f64)> = daily
        .current_cases
        .iter()
        .flat_map(|c| c.statuses.iter().map(|(s, n)| (s.clone(), *n as f64)))
        .collect();
    let mut current_table =
        String::from("<table><thead><tr><th>status</th><th>cases</th></tr></thead><tbody>");
    for (status, n) in &current {
        let _ = write!(
            current_table,
            "<tr><td>{}</td><td data-metric=\"CURRENT_CASES\" data-status=\"{}\">{n}</td></tr>",
            escape(status),
            escape(status)
        );
    }
    current_table.push_str("</tbody></table>");
    panel(
        &mut body,
        "Current cases by status",
        (!current.is_empty()).then(|| bar_chart("Current cases by status", &current)),
        current_table,
    );
    let resolution = line_chart(
        "Average resolution time (hours)",
        &rows,
        &[("hours", &|r: &Row| {
            r.avg_case_resolution_time.map(|s| s / 3600.0)
        })],
    );
    panel(
        &mut body,
        "Average case resolution time (seconds in the table)",
        has(&|r| r.avg_case_resolution_time.is_some()).then_some(resolution),
        metric_table(&rows, &[("AVG_CASE_RESOLUTION_TIME", "seconds")], None),
    );
    let fcr = line_chart(
        "First-contact resolution (%) and contacts per case",
        &rows,
        &[
            ("FCR %", &|r: &Row| r.percent_cases_first_contact_resolved),
            ("contacts per case", &|r: &Row| r.avg_case_related_contacts),
        ],
    );
    panel(
        &mut body,
        "First-contact resolution and contacts per case",
        has(&|r| {
            r.percent_cases_first_contact_resolved.is_some()
                || r.avg_case_related_contacts.is_some()
        })
        .then_some(fcr),
        metric_table(
            &rows,
            &[
                ("PERCENT_CASES_FIRST_CONTACT_RESOLVED", "FCR %"),
                ("AVG_CASE_RELATED_CONTACTS", "contacts per case"),
            ],
            None,
        ),
    );
    for b in breakdowns {
        let Some(by) = &b.by else { continue };
        let rows: Vec<&Row> = b.rows.iter().collect();
        let bars: Vec<(String, f64)> = rows
            .iter()
            .map(|r| {
                (
                    r.label
                        .clone()
                        .or(r.group.clone())
                        .unwrap_or_else(|| "(none)".into()),
                    r.cases_created as f64,
                )
            })
            .collect();
        panel(
            &mut body,
            &format!("By {} (cases created in the range)", by.name),
            (!bars.is_empty()).then(|| bar_chart(&format!("Cases created by {}", by.name), &bars)),
            metric_table(
                &rows,
                &[
                    ("CASES_CREATED", "created"),
                    ("RESOLVED_CASE_ACTIONS", "resolved"),
                    ("REOPENED_CASE_ACTIONS", "reopened"),
                    ("AVG_CASE_RESOLUTION_TIME", "avg resolution (s)"),
                    ("PERCENT_CASES_FIRST_CONTACT_RESOLVED", "FCR %"),
                ],
                Some(&by.id),
            ),
        );
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cases: {domain}</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>\
body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}}\
main{{display:grid;grid-template-columns:repeat(auto-fill,minmax(580px,1fr));gap:1rem}}\
section{{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.75rem;overflow-x:auto}}\
h1{{font-size:1.3rem}}h2{{font-size:1rem;margin:.2rem 0 .5rem}}\
table{{border-collapse:collapse;font-size:.8rem;margin-top:.5rem;width:100%}}\
td,th{{border-bottom:1px solid #eee;padding:2px 6px;text-align:right}}td:first-child,th:first-child{{text-align:left}}\
.empty{{color:#888;font-style:italic;height:60px}}svg{{max-width:100%;height:auto}}\
</style></head><body><h1>Cases of domain {domain}: {from} to {to} (exclusive)</h1>\
<p>Generated {generated}. Metrics as Amazon Connect defines them; see docs/metrics.md.</p><main>{body}</main></body></html>\n",
        domain = escape(&daily.domain_id),
        from = daily.from,
        to = daily.to,
        generated = daily.generated_at.format("%Y-%m-%d %H:%M UTC"),
    )
}
