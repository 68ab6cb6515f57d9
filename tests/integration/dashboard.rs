//! The case-metrics panels in a real browser (Debian's chromium, headless) on DynamoDB Local: the
//! CloudWatch widget's answer to every invocation of `events/widget/` at the widget's size, and
//! `casesctl dashboard` (the same panels on one page, through the real binary). The numbers in
//! the rendered DOM equal `casesctl report --format json` over the same range. Screenshots are
//! kept in `target/widget-*.png` and `target/dashboard.png`.

use crate::support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use support::*;

const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
/// The sample events' template, and its name in the fixture's ListTemplates.
const TEMPLATE_ID: &str = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
const TEMPLATE_NAME: &str = "Billing dispute";

/// The template breakdown shows each template's name (the projector cached it from
/// ListTemplates), never its id, cut or whole: ids stay in `data-group` only.
fn shows_template_names(dom: &str, what: &str) {
    let row = format!("<th scope=\"row\" title=\"{TEMPLATE_NAME}\">{TEMPLATE_NAME}</th>");
    assert!(dom.contains(&row), "{what}: the template's name: {dom}");
    let id_start = &TEMPLATE_ID[..13];
    assert_eq!(
        dom.matches(id_start).count(),
        dom.matches(&format!("data-group=\"{TEMPLATE_ID}\""))
            .count(),
        "{what}: the template id only in data-group"
    );
}

fn casesctl(server: &DynamoLocal, args: &[&str]) -> Output {
    output_logged(
        local_casesctl(env!("CARGO_BIN_EXE_casesctl"), &server.target(), None)
            .args(args)
            .env("REPORT_DIMENSIONS", "case_reason"),
    )
}

fn chromium(args: &[&str]) -> Output {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tempfile::tempdir().unwrap().keep().display()
        ))
        .args(args)
        .output()
        .expect("chromium is installed (scripts/test installs Debian's package when missing)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The attributes of every element with a `data-metric`, keyed by (metric, start, by, group,
/// status), each to its `data-value`.
type Marks = BTreeMap<(String, String, String, String, String), String>;

fn marks(dom: &str, into: &mut Marks) {
    for part in dom.split(" data-metric=\"").skip(1) {
        let tag = part.split('>').next().unwrap();
        let attr = |name: &str| {
            tag.split(&format!(" data-{name}=\""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_default()
                .replace("&amp;", "&")
        };
        let metric = tag.split('"').next().unwrap().to_owned();
        into.insert(
            (
                metric,
                attr("start"),
                attr("by"),
                attr("group"),
                attr("status"),
            ),
            attr("value"),
        );
    }
}

fn mark<'a>(
    marks: &'a Marks,
    metric: &str,
    start: &str,
    by: &str,
    group: &str,
    status: &str,
) -> Option<&'a String> {
    marks.get(&(
        metric.to_owned(),
        start.to_owned(),
        by.to_owned(),
        group.to_owned(),
        status.to_owned(),
    ))
}

/// `rendered` (a `data-value`) is the report's `expected`: the same number, or both absent.
fn same(rendered: Option<&String>, expected: &Value, what: &str) {
    match expected {
        Value::Null => assert!(
            rendered.is_none_or(|r| r.is_empty()),
            "{what}: nothing to show, shown {rendered:?}"
        ),
        Value::Number(n) => {
            let r: f64 = rendered
                .unwrap_or_else(|| panic!("{what} is rendered"))
                .parse()
                .unwrap();
            assert!((r - n.as_f64().unwrap()).abs() < 1e-9, "{what}: {r} vs {n}");
        }
        other => panic!("{what}: {other}"),
    }
}

/// The reports the panels are compared with, from `casesctl report --format json`.
struct Reports {
    daily: Value,
    total: Value,
    by: Vec<(String, Value)>,
}

/// Compares what `marks` shows with the reports; returns how many numbers were compared. Each
/// kind of mark is compared only where `marks` has some (a widget shows one panel).
fn compare(marks: &Marks, reports: &Reports) -> usize {
    let has = |metric: &str| marks.keys().any(|k| k.0 == metric);
    let mut compared = 0;
    let mut check = |rendered: Option<&String>, expected: &Value, what: String| {
        same(rendered, expected, &what);
        compared += 1;
    };
    for row in reports.daily["rows"].as_array().unwrap() {
        let start = row["start"].as_str().unwrap();
        for metric in [
            "CASES_CREATED",
            "RESOLVED_CASE_ACTIONS",
            "REOPENED_CASE_ACTIONS",
            "AVG_CASE_RESOLUTION_TIME",
            "PERCENT_CASES_FIRST_CONTACT_RESOLVED",
        ] {
            // Daily marks carry their day; the range's tiles do not.
            if marks.keys().any(|k| k.0 == metric && !k.1.is_empty()) {
                check(
                    mark(marks, metric, start, "", "", ""),
                    &row[metric],
                    format!("{metric} {start}"),
                );
            }
        }
    }
    let total = &reports.total["rows"][0];
    for metric in [
        "CASES_CREATED",
        "RESOLVED_CASE_ACTIONS",
        "REOPENED_CASE_ACTIONS",
        "AVG_CASE_RESOLUTION_TIME",
        "PERCENT_CASES_FIRST_CONTACT_RESOLVED",
        "AVG_CASE_RELATED_CONTACTS",
        "CASES_DELETED",
        "RELATED_ITEMS_CREATED",
    ] {
        if marks
            .keys()
            .any(|k| k.0 == metric && k.1.is_empty() && k.2.is_empty())
        {
            check(
                mark(marks, metric, "", "", "", ""),
                &total[metric],
                format!("range {metric}"),
            );
        }
    }
    if has("RELATED_ITEMS_CREATED_BY_TYPE.Contact") {
        for kind in ["Contact", "Comment", "File", "Sla", "ConnectCase", "Custom"] {
            let metric = format!("RELATED_ITEMS_CREATED_BY_TYPE.{kind}");
            let n = total["RELATED_ITEMS_CREATED_BY_TYPE"]
                .get(kind)
                .cloned()
                .unwrap_or(0.into());
            check(mark(marks, &metric, "", "", "", ""), &n, metric);
        }
    }
    let statuses = reports.total["CURRENT_CASES"][0]["statuses"]
        .as_object()
        .unwrap();
    if has("CURRENT_OPEN") {
        let open: i64 = statuses
            .iter()
            .filter(|(s, _)| s.as_str() != "closed")
            .map(|(_, n)| n.as_i64().unwrap())
            .sum();
        check(
            mark(marks, "CURRENT_OPEN", "", "", "", ""),
            &open.into(),
            "open now".into(),
        );
    }
    if has("CURRENT_CASES") {
        for (status, n) in statuses {
            check(
                mark(marks, "CURRENT_CASES", "", "", "", status),
                n,
                format!("current {status}"),
            );
        }
    }
    for (by, report) in &reports.by {
        if !marks.keys().any(|k| &k.2 == by) {
            continue;
        }
        for row in report["rows"].as_array().unwrap() {
            let group = row["group"].as_str().unwrap_or_default();
            for metric in [
                "CASES_CREATED",
                "RESOLVED_CASE_ACTIONS",
                "AVG_CASE_RESOLUTION_TIME",
                "PERCENT_CASES_FIRST_CONTACT_RESOLVED",
            ] {
                check(
                    mark(marks, metric, "", by, group, ""),
                    &row[metric],
                    format!("{by} {group} {metric}"),
                );
            }
        }
    }
    compared
}

#[tokio::test]
async fn the_panels_in_a_browser_show_the_report_numbers_and_bad_input_is_explained() {
    let server = DynamoLocal::start();
    let store = new_store(&server, "cases").await;
    // Enriched through the Cases stand-in: the projector caches field metadata and template
    // names (ListTemplates) beside the numbers.
    let standin = support::cases_standin::CasesStandIn::start(sample_fixture()).await;
    let enricher = cases_projector::enrichment::Enricher::new(
        cases_projector::connect_cases::CasesApi::new(cases_client(&standin.endpoint())),
        cases_projector::enrichment::EnricherSettings {
            case_fields: None,
            cache_ttl: Duration::from_secs(900),
            max_snapshot_age: Duration::from_secs(3600),
        },
    );
    let projector = projector(store)
        .with_enricher(enricher)
        .with_dimensions(vec!["case_reason".into()]);
    for event in sample_stream() {
        assert_eq!(handle(&projector, event).await.counts().failed, 0);
    }
    assert_eq!(
        standin.calls("ListTemplates"),
        1,
        "one template, named once"
    );
    // The range of the widget invocations in events/widget/.
    let range = [
        "--domain-id",
        DOMAIN,
        "--from",
        "2026-11-19",
        "--to",
        "2026-11-23",
    ];
    let json = |extra: &[&str]| -> Value {
        let out = casesctl(
            &server,
            &[&["report", "--format", "json"], extra, &range[..]].concat(),
        );
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let reports = Reports {
        daily: json(&[]),
        total: json(&["--interval", "total"]),
        by: ["template", "status", "case_reason"]
            .map(|by| (by.to_owned(), json(&["--interval", "total", "--by", by])))
            .into(),
    };
    assert_eq!(
        reports.daily["rows"].as_array().unwrap().len(),
        4,
        "one row per day"
    );
    let by_template = &reports.by[0].1["rows"];
    assert!(
        by_template
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["group"] == TEMPLATE_ID && r["label"] == TEMPLATE_NAME),
        "the report names the template: {by_template}"
    );
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");

    // The widget: every sample invocation, in the browser at the widget's size.
    let settings = cases_projector::widget::Settings::from_lookup(|name| match name {
        "TABLE_NAME" => Some("cases".into()),
        "CASES_DOMAIN_ID" => Some(DOMAIN.into()),
        "REPORT_DIMENSIONS" => Some("case_reason".into()),
        _ => None,
    })
    .unwrap();
    let reader = cases_projector::store::dynamodb::DynamoStore::new(
        server.client(Duration::from_secs(5)),
        "cases",
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("events/widget"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut widget_marks = Marks::new();
    let mut per_widget = BTreeMap::new();
    for file in &files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
        let event = read_json(file);
        let answer =
            cases_projector::widget::answer(&reader, &settings, &event, chrono::Utc::now()).await;
        if name == "describe" {
            let md = answer["markdown"]
                .as_str()
                .expect("describe answers markdown");
            assert!(md.contains("`panel`") && md.contains("UTC days"));
            continue;
        }
        let html = answer
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {answer}"));
        for fetch in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "<link",
            "<script",
            "@import",
        ] {
            assert!(!html.contains(fetch), "{name}: no network request: {fetch}");
        }
        let (w, h) = (
            event["widgetContext"]["width"].as_u64().unwrap(),
            event["widgetContext"]["height"].as_u64().unwrap(),
        );
        let page = tmp.join(format!("widget-{name}.html"));
        std::fs::write(&page, format!("<!doctype html><meta charset=\"utf-8\"><body style=\"margin:0;padding:8px;background:#fff\">{html}</body>")).unwrap();
        let url = format!("file://{}", page.display());
        let dom = String::from_utf8(chromium(&["--dump-dom", &url]).stdout).unwrap();
        let mut these = Marks::new();
        marks(&dom, &mut these);
        if name == "breakdown-template" {
            shows_template_names(&dom, &name);
        }
        if name == "documented-context" {
            assert!(dom.contains("needs a `panel` parameter"), "{dom}");
        } else {
            assert!(!these.is_empty(), "{name} shows numbers");
            per_widget.insert(name.clone(), compare(&these, &reports));
        }
        widget_marks.extend(these);
        let shot = target.join(format!("widget-{name}.png"));
        chromium(&[
            &format!("--screenshot={}", shot.display()),
            &format!("--window-size={},{}", w + 16, h + 16),
            &url,
        ]);
        assert!(std::fs::metadata(&shot).unwrap().len() > 2_000, "{name}");
    }
    assert!(per_widget.values().all(|n| *n > 0), "{per_widget:?}");
    let in_widgets = compare(&widget_marks, &reports);
    assert!(in_widgets > 40, "the numbers were compared: {in_widgets}");

    // casesctl dashboard: the same panels on one page.
    let out = tmp.join("dashboard.html");
    let written = casesctl(
        &server,
        &[&["dashboard", "--out", out.to_str().unwrap()], &range[..]].concat(),
    );
    assert!(written.status.success());
    let html = std::fs::read_to_string(&out).unwrap();
    for fetch in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "<link",
        "<script",
        "@import",
    ] {
        assert!(!html.contains(fetch), "no network request: {fetch}");
    }
    let url = format!("file://{}", out.display());
    let dom = String::from_utf8(chromium(&["--dump-dom", &url]).stdout).unwrap();
    let mut page_marks = Marks::new();
    marks(&dom, &mut page_marks);
    shows_template_names(&dom, "casesctl dashboard");
    // Every widget's panel, and the breakdown by the stack's dimension besides.
    let on_page = compare(&page_marks, &reports);
    assert!(
        on_page > in_widgets,
        "the page shows what the widgets show: {on_page}"
    );
    let screenshot = target.join("dashboard.png");
    chromium(&[
        &format!("--screenshot={}", screenshot.display()),
        "--window-size=1366,1700",
        &url,
    ]);
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);

    // Bad input: clear messages, exit 2 where the request cannot be answered.
    let unknown = casesctl(
        &server,
        &[&["report", "--by", "priority"], &range[..]].concat(),
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("REPORT_DIMENSIONS"));
    let empty = casesctl(
        &server,
        &[
            "report",
            "--domain-id",
            DOMAIN,
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
        ],
    );
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("empty range"));
    let nothing = casesctl(
        &server,
        &[
            "report",
            "--domain-id",
            DOMAIN,
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-08",
        ],
    );
    assert!(nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no data"));
    let other = "00000000-0000-4000-8000-000000000000";
    let none_out = tmp.join("empty-dashboard.html");
    let no_cases = casesctl(
        &server,
        &[
            "dashboard",
            "--domain-id",
            other,
            "--out",
            none_out.to_str().unwrap(),
        ],
    );
    assert!(no_cases.status.success());
    let stderr = String::from_utf8_lossy(&no_cases.stderr);
    assert_eq!(
        stderr.matches("holds no cases").count(),
        1,
        "said once: {stderr}"
    );
    let empty_page = std::fs::read_to_string(&none_out).unwrap();
    assert!(
        empty_page.contains("No cases in the read model yet"),
        "panels say so rather than fail"
    );
    // The widget of a domain without data, and of a table that is not there.
    let kpis = read_json(root().join("events/widget/kpis.json"));
    let unknown_domain = cases_projector::widget::Settings {
        domain_id: other.into(),
        ..settings.clone()
    };
    let answer =
        cases_projector::widget::answer(&reader, &unknown_domain, &kpis, chrono::Utc::now()).await;
    assert!(
        answer.as_str().unwrap().contains("No case metrics yet"),
        "{answer}"
    );
    let missing = cases_projector::store::dynamodb::DynamoStore::new(
        server.client(Duration::from_secs(5)),
        "not-a-table",
    );
    let answer =
        cases_projector::widget::answer(&missing, &settings, &kpis, chrono::Utc::now()).await;
    assert!(
        answer.as_str().unwrap().contains("could not be read"),
        "{answer}"
    );
    assert!(!answer.as_str().unwrap().contains("panicked"));
}
