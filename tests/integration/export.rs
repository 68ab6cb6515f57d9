//! `casesctl export` and the exporter, end to end on real parts: a generated domain (four
//! dimensions, reopenings, reason changes, deletes) projected into DynamoDB Local, exported
//! through `aws-sdk-s3` to moto's S3 server, read back as Athena would (DuckDB over the Hive-style
//! folders and the manifests, pyarrow opening every file): the README's SQL answers what
//! `casesctl report --format json` says; a second export with nothing changed writes no metrics
//! partition; a changed day is rewritten and only it; an export cut short leaves the previous
//! one readable and the next run completes it. And the Glue tables of `template.yaml` declare
//! exactly the columns the files hold.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;

use cases_projector::export::ExportError;
use cases_projector::export::run::{Options, Summary, run};
use cases_projector::export::s3::S3Sink;
use cases_projector::export::sink::ObjectSink;
use cases_projector::export::tables::TABLES;
use cases_projector::store::dynamodb::DynamoStore;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use support::moto::{MotoS3, python};
use support::streams::{case_event, related_event, text};
use support::*;

const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
const DIMENSIONS: [&str; 4] = ["case_reason", "assigned_queue", "priority", "assigned_user"];
const BUCKET: &str = "analytics";
const PREFIX: &str = "cases/";
const CASES: usize = 36;

fn at(minutes: i64) -> DateTime<Utc> {
    "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::minutes(minutes)
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The events of case `n`: created with a value for each dimension, contacts and comments,
/// resolutions (every 4th case reopened and closed again), a reason change (every 6th), a
/// delete (every 9th).
fn case_events(n: usize, created: DateTime<Utc>) -> Vec<Value> {
    let id = format!("c0000000-0000-4000-8000-{n:012}");
    let template = ["tpl-billing", "tpl-support"][n % 2];
    let case = |suffix: &str, minutes: i64, op: &str, fields: Value| {
        let mut e = case_event(
            &format!("{n}-{suffix}"),
            &iso(created + TimeDelta::minutes(minutes)),
            op,
            &id,
            fields,
        );
        e["detail"]["case"]["createdDateTime"] = json!(iso(created));
        e["detail"]["case"]["templateId"] = json!(template);
        e
    };
    let related = |suffix: &str, minutes: i64, kind: &str, content: Value| {
        let when = iso(created + TimeDelta::minutes(minutes));
        let mut e = related_event(
            &format!("{n}-{suffix}"),
            &when,
            "CREATED",
            &id,
            &format!("ri-{n}-{suffix}"),
            kind,
            Some(content),
        );
        e["detail"]["relatedItem"]["createdDateTime"] = json!(when);
        e
    };
    let mut out = vec![case(
        "created",
        0,
        "CREATED",
        json!({
            "status": text("open"),
            "title": text(&format!("case {n}")),
            "reference_number": text(&format!("R-{n:04}")),
            "case_reason": text(["billing", "refund", "delivery"][n % 3]),
            "assigned_queue": text(["tier1", "tier2", "vip", "returns"][n % 4]),
            "priority": text(["high", "low"][n % 2]),
            "assigned_user": text(&format!("agent-{}", n % 5)),
        }),
    )];
    if n % 3 != 2 {
        let channel = ["VOICE", "CHAT", "EMAIL"][n % 3];
        out.push(related(
            "contact",
            10,
            "Contact",
            json!({"contact": {"contactArn": format!("arn:aws:connect:::contact/{n}"), "channel": channel}}),
        ));
    }
    if n.is_multiple_of(2) {
        out.push(related(
            "comment",
            20,
            "Comment",
            json!({"comment": {"body": "customer words", "contentType": "Text/Plain"}}),
        ));
    }
    let statuses: &[(i64, &str)] = match n % 4 {
        0 => &[(120, "closed"), (1440, "open"), (2880, "closed")],
        1 => &[(180, "closed")],
        2 => &[(60, "pending")],
        _ => &[],
    };
    for (i, (minutes, status)) in statuses.iter().enumerate() {
        out.push(case(
            &format!("status-{i}"),
            *minutes,
            "UPDATED",
            json!({"status": text(status)}),
        ));
    }
    if n % 6 == 5 {
        let reason = ["billing", "refund", "delivery"][(n + 1) % 3];
        out.push(case(
            "reason",
            4000,
            "UPDATED",
            json!({"case_reason": text(reason)}),
        ));
    }
    if n % 9 == 8 {
        out.push(case("deleted", 5000, "DELETED", json!({})));
    }
    out
}

async fn project(store: &DynamoStore, events: Vec<Value>) {
    let dimensions = DIMENSIONS.map(str::to_owned).to_vec();
    let projector = projector(store.clone()).with_dimensions(dimensions);
    for event in events {
        let report = handle(&projector, event).await;
        assert_eq!(report.counts().failed, 0, "{report:?}");
    }
}

/// A sink that records what it is asked to write and, when told, fails from the `n`th write on
/// (as a run killed there: nothing after it happens).
struct Recording<'a> {
    inner: &'a S3Sink,
    puts: Mutex<Vec<String>>,
    fail_from: Option<usize>,
}

impl<'a> Recording<'a> {
    fn new(inner: &'a S3Sink, fail_from: Option<usize>) -> Self {
        Recording {
            inner,
            puts: Mutex::default(),
            fail_from,
        }
    }

    fn metrics_puts(&self) -> Vec<String> {
        let puts = self.puts.lock().unwrap();
        puts.iter()
            .filter(|k| k.starts_with("case_metrics_daily/"))
            .cloned()
            .collect()
    }
}

impl ObjectSink for Recording<'_> {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), ExportError> {
        let written = self.puts.lock().unwrap().len();
        if self.fail_from.is_some_and(|n| written >= n) {
            return Err(ExportError::Sink {
                message: "killed".into(),
                retryable: true,
            });
        }
        self.inner.put(key, body).await?;
        self.puts.lock().unwrap().push(key.to_owned());
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), ExportError> {
        self.inner.delete(key).await
    }

    fn location(&self, key: &str) -> String {
        self.inner.location(key)
    }
}

fn options() -> Options {
    let mut options = Options::new(DOMAIN, Utc::now());
    options.dimensions = DIMENSIONS.map(str::to_owned).to_vec();
    // Several parts per snapshot, so resuming between parts is exercised.
    options.part_cases = 10;
    options
}

async fn export(store: &DynamoStore, sink: &Recording<'_>) -> Result<Summary, ExportError> {
    run(store, sink, &options()).await
}

/// `casesctl report --format json` with the test's dimensions.
fn report(server: &DynamoLocal, args: &[&str]) -> Value {
    let mut cmd = local_casesctl(env!("CARGO_BIN_EXE_casesctl"), &server.target(), None);
    cmd.env("REPORT_DIMENSIONS", DIMENSIONS.join(","))
        .args(["report", "--format", "json", "--domain-id", DOMAIN])
        .args(args);
    let out = output_logged(&mut cmd);
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The README's query after `<!-- export-sql: NAME -->`, run as of 2026-11-20.
fn readme_sql(name: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let after = readme
        .split(&format!("<!-- export-sql: {name} -->"))
        .nth(1)
        .unwrap_or_else(|| panic!("README query {name}"));
    let sql = after
        .split("```sql")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    sql.replace("current_date", "DATE '2026-11-20'")
}

/// Every number column of `case_metrics_daily`, and the report key it equals.
const NUMBERS: [(&str, &str); 10] = [
    ("cases_created", "CASES_CREATED"),
    ("resolved_case_actions", "RESOLVED_CASE_ACTIONS"),
    ("reopened_case_actions", "REOPENED_CASE_ACTIONS"),
    ("avg_case_resolution_time", "AVG_CASE_RESOLUTION_TIME"),
    ("avg_case_related_contacts", "AVG_CASE_RELATED_CONTACTS"),
    (
        "percent_cases_first_contact_resolved",
        "PERCENT_CASES_FIRST_CONTACT_RESOLVED",
    ),
    ("cases_deleted", "CASES_DELETED"),
    ("related_items_created", "RELATED_ITEMS_CREATED"),
    (
        "related_items_created_contact",
        "RELATED_ITEMS_CREATED_BY_TYPE.Contact",
    ),
    (
        "related_items_created_comment",
        "RELATED_ITEMS_CREATED_BY_TYPE.Comment",
    ),
];

fn report_number(row: &Value, key: &str) -> Value {
    match key.split_once('.') {
        Some((map, kind)) => row[map].get(kind).cloned().unwrap_or(json!(0)),
        None => row[key].clone(),
    }
}

fn is_zero(v: &Value) -> bool {
    v.is_null() || v.as_f64() == Some(0.0)
}

/// Reads the export (copied from moto) as Athena would and runs `queries` over it.
async fn read_back(moto: &MotoS3, queries: &BTreeMap<&str, String>) -> Value {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export-read");
    moto.mirror(BUCKET, PREFIX, &dir).await;
    let spec = json!({
        "root": dir,
        "location_prefix": format!("s3://{BUCKET}/{PREFIX}"),
        "queries": queries,
    });
    let mut child = std::process::Command::new(python())
        .arg(root().join("tests/support/read_export.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "reading the export failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The daily rows DuckDB reads equal the report's day rows under every grouping: each row the
/// export holds is the report's, and each report row it lacks is all zeros.
fn assert_daily_rows_equal_the_report(server: &DynamoLocal, daily: &[Value]) {
    let groupings: Vec<Option<&str>> = [None, Some("template"), Some("status")]
        .into_iter()
        .chain(DIMENSIONS.map(Some))
        .collect();
    let mut compared = 0;
    for by in groupings {
        let mut args = vec!["--from", "2026-10-01", "--to", "2027-01-01"];
        if let Some(by) = by {
            args.extend(["--by", by]);
        }
        let report = report(server, &args);
        let exported: BTreeMap<(String, Option<String>), &Value> = daily
            .iter()
            .filter(|r| r["dimension"].as_str() == by)
            .map(|r| {
                let group = r["group_value"].as_str().map(str::to_owned);
                ((r["day"].as_str().unwrap().to_owned(), group), r)
            })
            .collect();
        let mut seen = 0;
        for row in report["rows"].as_array().unwrap() {
            let key = (
                row["start"].as_str().unwrap().to_owned(),
                row["group"].as_str().map(str::to_owned),
            );
            match exported.get(&key) {
                Some(r) => {
                    seen += 1;
                    assert_eq!(
                        r["group_label"],
                        row.get("label").cloned().unwrap_or(Value::Null)
                    );
                    for (column, metric) in NUMBERS {
                        assert_eq!(
                            r[column],
                            report_number(row, metric),
                            "{by:?} {key:?} {column}"
                        );
                        compared += 1;
                    }
                }
                None => {
                    for (_, metric) in NUMBERS {
                        assert!(
                            is_zero(&report_number(row, metric)),
                            "{by:?} {key:?} {metric} is exported"
                        );
                    }
                }
            }
        }
        assert_eq!(
            seen,
            exported.len(),
            "{by:?}: every exported row is a report row"
        );
    }
    assert!(compared > 500, "{compared} numbers compared");
}

fn daily_query() -> String {
    "SELECT * EXCLUDE (day), CAST(day AS VARCHAR) AS day FROM case_metrics_daily".into()
}

/// The README's three queries against the report for the same range and grouping.
fn assert_readme_queries_equal_the_report(server: &DynamoLocal, answers: &Value) {
    let quarter = [
        "--from",
        "2026-10-01",
        "--to",
        "2027-01-01",
        "--interval",
        "total",
    ];
    let by_reason = report(server, &[&quarter[..], &["--by", "case_reason"]].concat());
    let rows = answers["resolution-by-reason"].as_array().unwrap();
    let reported = by_reason["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    for r in reported {
        let found = rows.iter().find(|a| a["reason"] == r["group"]);
        match found {
            Some(a) => {
                assert_eq!(a["resolutions"], r["RESOLVED_CASE_ACTIONS"], "{r}");
                assert_eq!(
                    a["avg_resolution_seconds"], r["AVG_CASE_RESOLUTION_TIME"],
                    "{r}"
                );
            }
            None => assert_eq!(r["RESOLVED_CASE_ACTIONS"], 0, "{r}"),
        }
    }
    assert!(
        rows.iter()
            .all(|a| reported.iter().any(|r| r["group"] == a["reason"]))
    );

    let by_template = report(server, &[&quarter[..], &["--by", "template"]].concat());
    let rows = answers["reopen-rate-by-template"].as_array().unwrap();
    let reported = by_template["rows"].as_array().unwrap();
    assert_eq!(rows.len(), reported.len());
    let mut reopenings = 0;
    for r in reported {
        let a = rows
            .iter()
            .find(|a| a["template_id"] == r["group"])
            .unwrap();
        let (reopened, resolved) = (
            r["REOPENED_CASE_ACTIONS"].as_i64().unwrap(),
            r["RESOLVED_CASE_ACTIONS"].as_i64().unwrap(),
        );
        assert_eq!(a["reopenings"], reopened);
        assert_eq!(a["resolutions"], resolved);
        let rate = (resolved > 0).then(|| (100 * reopened) as f64 / resolved as f64);
        assert_eq!(a["reopen_rate_percent"].as_f64(), rate, "{r}");
        reopenings += reopened;
    }
    assert!(reopenings > 0, "the domain has reopenings");

    let by_queue = report(
        server,
        &[&quarter[..], &["--by", "assigned_queue"]].concat(),
    );
    let open: BTreeMap<Option<String>, i64> = by_queue["CURRENT_CASES"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            let n = c["statuses"].get("open")?.as_i64()?;
            Some((c["group"].as_str().map(str::to_owned), n))
        })
        .collect();
    let queried: BTreeMap<Option<String>, i64> = answers["open-cases-by-queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["queue"].as_str().map(str::to_owned),
                a["open_cases"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(!open.is_empty());
    assert_eq!(queried, open);
}

fn queries() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("daily", daily_query()),
        ("resolution-by-reason", readme_sql("resolution-by-reason")),
        ("reopen-rate-by-template", readme_sql("reopen-rate-by-template")),
        ("open-cases-by-queue", readme_sql("open-cases-by-queue")),
        (
            "cases",
            "SELECT count(*) AS n, count(*) FILTER (WHERE deleted) AS deleted FROM cases".into(),
        ),
        (
            "templates",
            "SELECT template_id, template_name, count(*) AS n FROM cases \
             GROUP BY ALL ORDER BY template_id"
                .into(),
        ),
        (
            "content",
            "SELECT count(comment_body) AS bodies, count(contact_channel) AS channels FROM related_items".into(),
        ),
    ])
}

/// What pyarrow reads of each table's files is what the table declares (one schema per table).
fn assert_files_have_the_declared_columns(read: &Value) {
    let arrow = |kind: &str| match kind {
        "string" => "string",
        "bigint" => "int64",
        "double" => "double",
        "boolean" => "bool",
        "timestamp" => "timestamp[ms, tz=UTC]",
        other => panic!("{other}"),
    };
    for table in TABLES {
        let declared: Vec<Value> = table
            .columns
            .iter()
            .map(|c| json!([c.name, arrow(c.kind.glue())]))
            .collect();
        assert_eq!(
            read["schemas"][table.name],
            json!([declared]),
            "{}: one schema, the declared one",
            table.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_answers_the_readme_sql_as_the_report_and_rewrites_only_what_changed() {
    let server = DynamoLocal::start();
    let moto = MotoS3::start();
    let store = new_store(&server, "cases").await;
    let events: Vec<Value> = (0..CASES)
        .flat_map(|n| case_events(n, at(n as i64 * 17 * 60 + 7)))
        .collect();
    project(&store, events).await;
    // The names ListTemplates gave (the projector caches them with the field metadata).
    cases_projector::store::FieldMetadataStore::put_template_names(
        &store,
        DOMAIN,
        &[cases_projector::model::TemplateInfo {
            id: "tpl-billing".into(),
            name: "Billing dispute".into(),
        }],
    )
    .await
    .unwrap();
    moto.client()
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let s3 = S3Sink::new(moto.client(), BUCKET, PREFIX);

    // Given a first export,
    let sink = Recording::new(&s3, None);
    let first = export(&store, &sink).await.unwrap();
    assert!(!first.resumed);
    assert_eq!(first.counts.cases, CASES as u64);
    assert_eq!(sink.metrics_puts().len(), first.days, "every day once");
    let read = read_back(&moto, &queries()).await;
    assert_files_have_the_declared_columns(&read);
    assert_eq!(read["manifests"]["cases"], 4, "36 cases, 10 a part");
    // then SQL over the files says what the report says.
    assert_daily_rows_equal_the_report(&server, read["answers"]["daily"].as_array().unwrap());
    assert_readme_queries_equal_the_report(&server, &read["answers"]);
    let cases = &read["answers"]["cases"][0];
    assert_eq!(cases["n"], CASES);
    assert_eq!(cases["deleted"], CASES / 9);
    assert_eq!(
        read["answers"]["templates"],
        json!([
            {"template_id": "tpl-billing", "template_name": "Billing dispute", "n": CASES / 2},
            {"template_id": "tpl-support", "template_name": null, "n": CASES / 2},
        ]),
        "named where ListTemplates named it"
    );
    let content = &read["answers"]["content"][0];
    assert_eq!(
        content["bodies"], 0,
        "no customer content without STORE_CUSTOMER_CONTENT"
    );
    assert!(content["channels"].as_i64().unwrap() > 0);

    // When nothing changed, a second export writes no metrics partition (a new snapshot only).
    let sink = Recording::new(&s3, None);
    let second = export(&store, &sink).await.unwrap();
    assert_eq!(sink.metrics_puts(), Vec::<String>::new());
    assert!(second.days_written.is_empty());
    assert_eq!(second.counts, first.counts);

    // When one day changes (a case created on 2026-11-03 and nothing else), that day only is
    // rewritten.
    let new_case = "c0000000-0000-4000-8000-00000000fffe";
    let mut created = case_event(
        "new-created",
        "2026-11-03T08:00:00.000Z",
        "CREATED",
        new_case,
        json!({"status": text("open"), "assigned_queue": text("tier1")}),
    );
    created["detail"]["case"]["createdDateTime"] = json!("2026-11-03T08:00:00.000Z");
    project(&store, vec![created]).await;
    let sink = Recording::new(&s3, None);
    let third = export(&store, &sink).await.unwrap();
    assert_eq!(
        sink.metrics_puts(),
        ["case_metrics_daily/day=2026-11-03/part-00000.parquet"]
    );
    assert_eq!(third.counts.cases, CASES as u64 + 1);
    assert_eq!(
        third.files_deleted, 12,
        "the first snapshot: 4 parts of 3 tables"
    );

    // When the case is closed on 2026-11-06 (its creation day moves from status `open` to
    // `closed` too) and the export is cut short after those two days, one snapshot part and a
    // file of the next,
    let mut closed = case_event(
        "new-closed",
        "2026-11-06T08:00:00.000Z",
        "UPDATED",
        new_case,
        json!({"status": text("closed")}),
    );
    closed["detail"]["case"]["createdDateTime"] = json!("2026-11-03T08:00:00.000Z");
    project(&store, vec![closed]).await;
    let sink = Recording::new(&s3, Some(2 + 3 + 1));
    let cut = export(&store, &sink).await.unwrap_err();
    assert!(cut.is_retryable());
    assert_eq!(
        sink.metrics_puts(),
        [
            "case_metrics_daily/day=2026-11-03/part-00000.parquet",
            "case_metrics_daily/day=2026-11-06/part-00000.parquet"
        ]
    );
    // then the previous export is still whole and readable: its snapshot, with the case open,
    let read = read_back(&moto, &queries()).await;
    assert_files_have_the_declared_columns(&read);
    assert_eq!(read["answers"]["cases"][0]["n"], CASES + 1);
    let open_in_tier1 = |read: &Value| {
        read["answers"]["open-cases-by-queue"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["queue"] == "tier1")
            .map(|a| a["open_cases"].as_i64().unwrap())
    };
    let before = open_in_tier1(&read);
    // and the next run completes it, under the same export id, as the report says.
    let sink = Recording::new(&s3, None);
    let resumed = export(&store, &sink).await.unwrap();
    assert!(resumed.resumed);
    assert!(
        resumed.days_written.is_empty(),
        "the days were written before the cut"
    );
    assert_eq!(
        resumed.files_written,
        3 * 3,
        "parts 1 to 3 of the three tables: part 0 was written before the cut"
    );
    let read = read_back(&moto, &queries()).await;
    assert_eq!(
        open_in_tier1(&read),
        before.map(|n| n - 1).filter(|n| *n > 0)
    );
    assert_daily_rows_equal_the_report(&server, read["answers"]["daily"].as_array().unwrap());
    assert_readme_queries_equal_the_report(&server, &read["answers"]);
    let manifest_ids: BTreeSet<String> = read["manifests"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(manifest_ids.len(), 3);

    // casesctl export writes the same tables through the SDK's own configuration (a custom
    // endpoint: path-style), to another prefix.
    let mut cmd = local_casesctl(env!("CARGO_BIN_EXE_casesctl"), &server.target(), None);
    cmd.env("REPORT_DIMENSIONS", DIMENSIONS.join(","))
        .env("AWS_ENDPOINT_URL_S3", moto.endpoint())
        .args([
            "export",
            "--domain-id",
            DOMAIN,
            "--out",
            &format!("s3://{BUCKET}/cli"),
            "--format",
            "json",
        ]);
    let out = output_logged(&mut cmd);
    assert!(out.status.success());
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["cases"], CASES + 1);
    assert_eq!(
        summary["days_written"].as_array().unwrap().len(),
        resumed.days
    );
}

/// The Glue tables of `template.yaml` declare the columns (names, types, order) and partition
/// keys the files hold, and read them with the Parquet SerDe; the daily table projects its
/// `day` partitions, the current-state tables read the files their manifest names.
#[test]
fn the_glue_tables_declare_the_parquet_columns() {
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(cases_projector::table::TEMPLATE).unwrap();
    let resources = doc["Resources"].as_mapping().unwrap();
    let glue: BTreeMap<String, &serde_yaml_ng::Value> = resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Glue::Table"))
        .map(|r| {
            let input = &r["Properties"]["TableInput"];
            (input["Name"].as_str().unwrap().to_owned(), input)
        })
        .collect();
    assert_eq!(
        glue.keys().collect::<Vec<_>>(),
        {
            let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
            names.sort();
            names
        },
        "one Glue table per exported table"
    );
    let pairs = |v: &serde_yaml_ng::Value| -> Vec<(String, String)> {
        v.as_sequence()
            .map(|s| {
                s.iter()
                    .map(|c| {
                        (
                            c["Name"].as_str().unwrap().to_owned(),
                            c["Type"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    for table in TABLES {
        let input = glue[table.name];
        let storage = &input["StorageDescriptor"];
        let declared: Vec<(String, String)> = table
            .columns
            .iter()
            .map(|c| (c.name.to_owned(), c.kind.glue().to_owned()))
            .collect();
        assert_eq!(pairs(&storage["Columns"]), declared, "{}", table.name);
        assert_eq!(
            storage["SerdeInfo"]["SerializationLibrary"].as_str(),
            Some("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
        );
        let parameters = &input["Parameters"];
        match table.partition {
            Some(day) => {
                assert_eq!(
                    pairs(&input["PartitionKeys"]),
                    [(day.to_owned(), "date".to_owned())]
                );
                assert_eq!(parameters["projection.enabled"].as_str(), Some("true"));
                assert_eq!(
                    parameters[format!("projection.{day}.type").as_str()].as_str(),
                    Some("date")
                );
                assert_eq!(
                    parameters[format!("projection.{day}.format").as_str()].as_str(),
                    Some("yyyy-MM-dd")
                );
                let template =
                    serde_yaml_ng::to_string(&parameters["storage.location.template"]).unwrap();
                // `${!day}`: a literal `${day}` for Athena, not a CloudFormation substitution.
                assert!(
                    template.contains(&format!("/{}/{day}=${{!{day}}}", table.name)),
                    "{template}"
                );
            }
            None => {
                assert!(input.get("PartitionKeys").is_none());
                assert_eq!(
                    storage["InputFormat"].as_str(),
                    Some("org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat")
                );
                let location = serde_yaml_ng::to_string(&storage["Location"]).unwrap();
                assert!(
                    location.contains(&format!("/{}/current/", table.name)),
                    "{location}"
                );
            }
        }
    }
}
