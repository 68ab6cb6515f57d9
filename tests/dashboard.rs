//! `casesctl report` and `casesctl dashboard` through the real binary on DynamoDB Local, and the
//! dashboard in a real browser (Debian's chromium, headless): the numbers it renders equal
//! `report --format json` for the same table. The screenshot is kept in `target/dashboard.png`.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use support::*;

const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";

fn casesctl(server: &DynamoLocal, args: &[&str]) -> Output {
    output_logged(
        local_casesctl(env!("CARGO_BIN_EXE_casesctl"), &server.endpoint(), None)
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

/// `data-metric` cells of the first table of each panel: (metric, start, group) → text.
fn rendered_cells(dom: &str) -> BTreeMap<(String, String, String), String> {
    let mut cells = BTreeMap::new();
    for part in dom.split("<td data-metric=\"").skip(1) {
        let attr = |name: &str| {
            part.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_default()
                .to_owned()
        };
        let metric = part.split('"').next().unwrap().to_owned();
        let text = part
            .split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        if !attr("data-by").is_empty() {
            continue; // a breakdown table, not the daily ones
        }
        if metric == "CURRENT_CASES" {
            cells.insert((metric, attr("data-status"), String::new()), text);
        } else {
            cells.insert((metric, attr("data-start"), attr("data-group")), text);
        }
    }
    cells
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Number(n) if n.is_i64() => n.to_string(),
        Value::Number(n) => format!("{:.2}", n.as_f64().unwrap()),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn the_dashboard_in_a_browser_shows_the_report_numbers_and_bad_input_is_explained() {
    let server = DynamoLocal::start();
    let store = new_store(&server, "cases").await;
    let projector = projector(store).with_dimensions(vec!["case_reason".into()]);
    for event in sample_stream() {
        handle(&projector, event).await;
    }
    let range = [
        "--domain-id",
        DOMAIN,
        "--from",
        "2026-11-19",
        "--to",
        "2026-11-23",
    ];

    let json = casesctl(
        &server,
        &[&["report", "--format", "json"], &range[..]].concat(),
    );
    assert!(json.status.success());
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        report["rows"].as_array().unwrap().len(),
        4,
        "one row per day"
    );

    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.html");
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
    let cells = rendered_cells(&dom);
    let mut compared = 0;
    for row in report["rows"].as_array().unwrap() {
        let start = row["start"].as_str().unwrap().to_owned();
        for metric in [
            "CASES_CREATED",
            "RESOLVED_CASE_ACTIONS",
            "REOPENED_CASE_ACTIONS",
            "AVG_CASE_RESOLUTION_TIME",
            "AVG_CASE_RELATED_CONTACTS",
            "PERCENT_CASES_FIRST_CONTACT_RESOLVED",
        ] {
            let rendered = cells
                .get(&(metric.to_owned(), start.clone(), String::new()))
                .unwrap_or_else(|| panic!("{metric} {start} is rendered"));
            assert_eq!(rendered, &shown(&row[metric]), "{metric} {start}");
            compared += 1;
        }
        for metric in ["CASES_DELETED", "RELATED_ITEMS_CREATED"] {
            let rendered = &cells[&(metric.to_owned(), start.clone(), String::new())];
            assert_eq!(rendered, &row[metric].to_string(), "{metric} {start}");
            compared += 1;
        }
        for (kind, n) in row["RELATED_ITEMS_CREATED_BY_TYPE"].as_object().unwrap() {
            let metric = format!("RELATED_ITEMS_CREATED_BY_TYPE.{kind}");
            let rendered = &cells[&(metric.clone(), start.clone(), String::new())];
            assert_eq!(rendered, &n.to_string(), "{metric} {start}");
            compared += 1;
        }
    }
    for current in report["CURRENT_CASES"].as_array().unwrap() {
        for (status, n) in current["statuses"].as_object().unwrap() {
            let rendered = &cells[&("CURRENT_CASES".to_owned(), status.clone(), String::new())];
            assert_eq!(rendered, &n.to_string(), "current {status}");
            compared += 1;
        }
    }
    assert!(compared > 24, "the numbers were compared: {compared}");

    let screenshot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dashboard.png");
    chromium(&[
        &format!("--screenshot={}", screenshot.display()),
        "--window-size=1366,2200",
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
    let none_out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("empty-dashboard.html");
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
    assert!(String::from_utf8_lossy(&no_cases.stderr).contains("holds no cases"));
    let empty_page = std::fs::read_to_string(&none_out).unwrap();
    assert!(
        empty_page.contains("no data"),
        "panels say so rather than fail"
    );
}
