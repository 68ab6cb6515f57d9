//! `casesctl backfill` through the real binary, DynamoDB Local and the REST-JSON Cases stand-in
//! (real SDK, real wire protocol), against generated domains whose truth is known.

use crate::support;

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cases_projector::store::dynamodb::DynamoStore;
use cases_projector::store::{CaseStore, DomainStore};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use support::cases_standin::CasesStandIn;
use support::domain_gen::{DOMAIN_ID, GeneratedDomain, generate_at};
use support::*;

struct Setup {
    dynamo: DynamoLocal,
    standin: CasesStandIn,
    store: DynamoStore,
    domain: GeneratedDomain,
}

/// History until an hour ago: all of it before a backfill started now.
async fn setup(seed: u64, cases: usize, fields: usize) -> Setup {
    let dynamo = DynamoLocal::start();
    let domain = generate_at(
        seed,
        cases,
        fields,
        Utc::now() - chrono::TimeDelta::hours(1),
    );
    let standin = CasesStandIn::start(domain.fixture()).await;
    let store = new_store(&dynamo, "cases").await;
    Setup {
        dynamo,
        standin,
        store,
        domain,
    }
}

fn casesctl(s: &Setup, args: &[&str]) -> Command {
    let mut cmd = local_casesctl(
        env!("CARGO_BIN_EXE_casesctl"),
        &s.dynamo.target(),
        Some(&s.standin.endpoint()),
    );
    cmd.arg("backfill")
        .args(["--domain-id", DOMAIN_ID])
        .args(args);
    cmd
}

fn run(s: &Setup, args: &[&str]) -> Output {
    output_logged(&mut casesctl(s, args))
}

/// Every case holds the truth's fields and related items.
async fn assert_cases_equal_the_truth(s: &Setup) {
    for (case_id, truth) in &s.domain.cases {
        let stored = s.store.load(case_id).await.unwrap().expect(case_id);
        for (id, value) in &truth.fields {
            let got = stored.view.fields.get(id).map(|f| &f.value);
            assert_eq!(got, Some(&field_value(value)), "{case_id}.{id}");
        }
        let ids: Vec<&str> = truth
            .related_items
            .iter()
            .map(|r| r["relatedItemId"].as_str().unwrap())
            .collect();
        for id in &ids {
            assert!(
                stored.view.related_items.contains_key(*id),
                "{case_id}: {id}"
            );
        }
        assert_eq!(stored.view.related_items.len(), ids.len(), "{case_id}");
    }
}

/// The report's daily numbers, under the names the truth uses: day → name → value.
async fn counters(store: &DynamoStore) -> BTreeMap<NaiveDate, BTreeMap<String, i64>> {
    report_rows(store, DOMAIN_ID, "2020-01-01", "2030-01-01")
        .await
        .into_iter()
        .map(|r| {
            let mut m = BTreeMap::new();
            let mut put = |k: String, v: i64| {
                if v != 0 {
                    m.insert(k, v);
                }
            };
            put("casesCreated".into(), r.cases_created);
            put("caseResolutions".into(), r.resolved_case_actions);
            put("relatedItemsCreated".into(), r.related_items_created);
            for (kind, n) in &r.related_items_created_by_type {
                put(format!("relatedItemsCreated{kind}"), *n);
            }
            (r.start, m)
        })
        .filter(|(_, m)| !m.is_empty())
        .collect()
}

/// The report's created, resolved and reopened per day (ungrouped).
async fn metric_days(store: &DynamoStore) -> BTreeMap<NaiveDate, (i64, i64, i64)> {
    report_rows(store, DOMAIN_ID, "2020-01-01", "2030-01-01")
        .await
        .into_iter()
        .map(|r| {
            (
                r.start,
                (
                    r.cases_created,
                    r.resolved_case_actions,
                    r.reopened_case_actions,
                ),
            )
        })
        .filter(|(_, v)| *v != (0, 0, 0))
        .collect()
}

/// The truth's created, resolved and reopened per day (Connect's definitions).
fn expected_metric_days(domain: &GeneratedDomain) -> BTreeMap<NaiveDate, (i64, i64, i64)> {
    domain
        .days
        .iter()
        .map(|(day, c)| {
            (
                *day,
                (c.created as i64, c.resolved as i64, c.reopened as i64),
            )
        })
        .filter(|(_, v)| *v != (0, 0, 0))
        .collect()
}

/// The truth's counts in the read model's counter names.
fn expected_counters(domain: &GeneratedDomain) -> BTreeMap<NaiveDate, BTreeMap<String, i64>> {
    domain
        .days
        .iter()
        .map(|(day, c)| {
            let mut m = BTreeMap::new();
            let mut put = |k: &str, v: usize| {
                if v > 0 {
                    m.insert(k.to_owned(), v as i64);
                }
            };
            put("casesCreated", c.created);
            put("caseResolutions", c.resolved);
            put("relatedItemsCreated", c.related_items.values().sum());
            for (kind, n) in &c.related_items {
                put(&format!("relatedItemsCreated{kind}"), *n);
            }
            (*day, m)
        })
        .filter(|(_, m)| !m.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_backfills_to_the_truth_and_a_second_run_counts_nothing_more() {
    let s = setup(11, 60, 30).await;
    let out = run(&s, &["--rate", "20"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("backfill plan: 60 case(s)"), "{stderr}");
    assert!(
        stderr.contains("domain-wide"),
        "the fewest requests: {stderr}"
    );
    assert!(
        s.standin.calls("GetCase") > 0,
        "fields beyond 25 come from GetCase"
    );
    assert_cases_equal_the_truth(&s).await;
    let first = counters(&s.store).await;
    assert_eq!(first, expected_counters(&s.domain));
    let metrics = metric_days(&s.store).await;
    assert_eq!(
        metrics,
        expected_metric_days(&s.domain),
        "created, resolved, reopened per day"
    );
    let reopened: i64 = metrics.values().map(|(_, _, r)| r).sum();
    assert!(reopened > 0, "the history has reopenings");
    // The template's name, for dashboards: one ListTemplates per run.
    let template_name = |table: &BTreeMap<String, BTreeMap<String, String>>| {
        let key = table_key(cases_projector::store::keys::template_key(
            DOMAIN_ID,
            support::domain_gen::TEMPLATE_ID,
        ));
        attr(table, &key, "name").map(str::to_owned)
    };
    assert_eq!(s.standin.calls("ListTemplates"), 1);
    assert_eq!(
        template_name(&snapshot_table(&s.store).await).as_deref(),
        Some(support::domain_gen::TEMPLATE_NAME)
    );

    // Renamed meanwhile: the next run stores the new name.
    s.standin
        .with_domain(DOMAIN_ID, |d| d.templates[0]["name"] = json!("Renamed"));
    let again = run(&s, &["--rate", "20"]);
    assert!(again.status.success());
    assert_eq!(
        counters(&s.store).await,
        first,
        "a second run counts nothing twice"
    );
    assert_eq!(s.standin.calls("ListTemplates"), 2);
    assert_eq!(
        template_name(&snapshot_table(&s.store).await).as_deref(),
        Some("Renamed")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_run_then_resumed_gives_the_same_result_counting_nothing_twice() {
    let s = setup(12, 40, 10).await;
    let mut child = casesctl(&s, &["--rate", "20", "--page-size", "5"])
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while s.standin.calls("SearchCases") < 4 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let checkpoint = s.store.checkpoint(DOMAIN_ID, "BACKFILL").await.unwrap();
    assert!(checkpoint.is_some_and(|c| c.contains("\"finished\":false")));

    let fresh = run(&s, &[]);
    assert_eq!(
        fresh.status.code(),
        Some(2),
        "an unfinished run is not silently restarted"
    );
    let searches_before = s.standin.calls("SearchCases");
    let resumed = run(&s, &["--rate", "20", "--resume", "--page-size", "5"]);
    assert!(resumed.status.success());
    let pages = 40usize.div_ceil(5);
    assert!(
        s.standin.calls("SearchCases") - searches_before < pages,
        "finished pages are not read again"
    );
    assert_cases_equal_the_truth(&s).await;
    assert_eq!(counters(&s.store).await, expected_counters(&s.domain));

    let restarted = run(&s, &["--rate", "20", "--restart"]);
    assert!(restarted.status.success());
    assert_eq!(counters(&s.store).await, expected_counters(&s.domain));
    assert_eq!(metric_days(&s.store).await, expected_metric_days(&s.domain));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_shared_4_per_second_quota_a_2_per_second_run_completes_and_counts_throttles() {
    let s = setup(13, 6, 5).await;
    s.standin.set_quota(None, 4.0, 2.0);
    // Agents' desktops use the same account quota meanwhile: about 3 GetCase/s.
    let client = cases_client_with_attempts(&s.standin.endpoint(), 1);
    let case_id = s.domain.cases.keys().next().unwrap().clone();
    let load = tokio::spawn(async move {
        for _ in 0..60 {
            let _ = client
                .get_case()
                .domain_id(DOMAIN_ID)
                .case_id(&case_id)
                .fields(
                    aws_sdk_connectcases::types::FieldIdentifier::builder()
                        .id("title")
                        .build()
                        .unwrap(),
                )
                .send()
                .await;
            tokio::time::sleep(Duration::from_millis(330)).await;
        }
    });
    let out = tokio::task::spawn_blocking({
        let mut cmd = casesctl(&s, &["--rate", "2"]);
        move || cmd.output().unwrap()
    })
    .await
    .unwrap();
    load.abort();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "throttling never aborts a run");
    let throttled: usize = [
        "SearchCases",
        "GetCase",
        "SearchAllRelatedItems",
        "GetCaseAuditEvents",
        "ListFields",
    ]
    .iter()
    .map(|op| s.standin.throttled(op))
    .sum();
    assert!(throttled > 0, "the quota was hit");
    assert_cases_equal_the_truth(&s).await;
    assert_eq!(counters(&s.store).await, expected_counters(&s.domain));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_exit_2_with_the_missing_action_and_store_failures_keep_the_checkpoint() {
    let s = setup(14, 3, 3).await;
    let unknown = {
        let mut cmd = casesctl(&s, &[]);
        cmd.args(["--domain-id", "00000000-0000-4000-8000-000000000000"]);
        cmd.output().unwrap()
    };
    assert_eq!(unknown.status.code(), Some(2));
    s.standin.inject(support::cases_standin::FaultRule {
        operation: Some("SearchCases"),
        case_id: None,
        fault: support::cases_standin::Fault::AccessDenied,
        rate: 1.0,
        times: None,
    });
    let denied = run(&s, &[]);
    assert_eq!(denied.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&denied.stderr).contains("cases:SearchCases"));
    s.standin.clear_faults();
    // Without cases:ListTemplates only the templates' names are missing: the run completes.
    s.standin.inject(support::cases_standin::FaultRule {
        operation: Some("ListTemplates"),
        case_id: None,
        fault: support::cases_standin::Fault::AccessDenied,
        rate: 1.0,
        times: None,
    });
    let no_names = run(&s, &["--restart"]);
    assert!(no_names.status.success());
    assert!(String::from_utf8_lossy(&no_names.stderr).contains("cases:ListTemplates"));
    s.standin.clear_faults();

    let missing_table = {
        let mut cmd = casesctl(&s, &[]);
        cmd.env("TABLE_NAME", "no-such-table");
        cmd.output().unwrap()
    };
    // Something to change first: refused, saying what.
    assert_eq!(missing_table.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing_table.stderr);
    assert!(stderr.contains("casesctl table create"), "{stderr}");
}

/// What the live projector and a backfill see must add up to each event counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_interleaved_with_live_events_counts_each_change_once_and_rolls_nothing_back() {
    let s = setup(15, 20, 5).await;
    let projector = projector(s.store.clone());
    let case_id = s.domain.cases.keys().next().unwrap().clone();
    // A live event from before the backfill (late, redelivered): a fact the history holds too
    // (the case was open right after its creation), so it changes no number.
    let old_time = s.domain.cases[&case_id].created;
    let mut old_event = live_event(
        "live-old",
        old_time + chrono::TimeDelta::seconds(1),
        &case_id,
        "CASE.UPDATED",
        "open",
    );
    old_event["detail"]["case"]["createdDateTime"] =
        json!(old_time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    // Live events while the backfill runs: a new case created now and closed, delivered twice.
    let new_case = "5e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b";
    let backfill = tokio::task::spawn_blocking({
        let mut cmd = casesctl(&s, &["--rate", "20"]);
        move || cmd.output().unwrap()
    });
    // Let the backfill start reading first.
    let started = Instant::now();
    while s.standin.calls("SearchCases") == 0 {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let now = Utc::now() + chrono::TimeDelta::seconds(1);
    let mut created = live_event("live-1", now, new_case, "CASE.CREATED", "open");
    let created_at = json!(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    created["detail"]["case"]["createdDateTime"] = created_at.clone();
    let mut closed = live_event(
        "live-2",
        now + chrono::TimeDelta::seconds(1),
        new_case,
        "CASE.UPDATED",
        "closed",
    );
    closed["detail"]["case"]["createdDateTime"] = created_at;
    // The first case changes live meanwhile: its new title must survive the backfill.
    let mut retitled = live_event(
        "live-3",
        now + chrono::TimeDelta::seconds(2),
        &case_id,
        "CASE.UPDATED",
        "open",
    );
    retitled["detail"]["case"]["fields"] =
        json!({"title": {"value": {"stringValue": "changed live"}}});
    retitled["detail"]["changedFieldIds"] = json!(["title"]);
    retitled["detail"]["case"]["createdDateTime"] =
        json!(old_time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    for e in [
        old_event.clone(),
        created.clone(),
        closed.clone(),
        retitled,
        created,
        closed,
        old_event,
    ] {
        let report = handle(&projector, e).await;
        assert_eq!(report.counts().failed, 0, "{report:?}");
    }
    let out = backfill.await.unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());

    let mut expected = expected_counters(&s.domain);
    let today = now.date_naive();
    let day = expected.entry(today).or_default();
    *day.entry("casesCreated".into()).or_default() += 1;
    *day.entry("caseResolutions".into()).or_default() += 1;
    assert_eq!(counters(&s.store).await, expected);
    let stored = s.store.load(&case_id).await.unwrap().unwrap();
    assert_eq!(
        stored.view.title(),
        Some("changed live"),
        "no field rolled back"
    );
}

fn live_event(id: &str, at: DateTime<Utc>, case_id: &str, kind: &str, status: &str) -> Value {
    let mut e = read_json("events/02-case-updated.json");
    e["id"] = json!(id);
    e["resources"] = json!([format!(
        "arn:aws:cases:us-west-2:123456789012:domain/{DOMAIN_ID}"
    )]);
    e["detail"]["eventType"] = json!(kind);
    e["detail"]["approximateChangeTime"] =
        json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    e["detail"]["case"]["caseId"] = json!(case_id);
    e["detail"]["changedFieldIds"] = json!(["status"]);
    e["detail"]["case"]["fields"] = json!({"status": {"value": {"stringValue": status}}});
    e
}

/// Sends SIGINT, as Ctrl-C in a terminal does.
fn interrupt(child: &std::process::Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_says_what_was_kept_and_the_command_to_go_on_which_then_completes() {
    let s = setup(16, 20, 5).await;
    let child = casesctl(&s, &["--rate", "4", "--page-size", "5"])
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    // The second search page is asked for once the first page is done and checkpointed.
    while s.standin.calls("SearchCases") < 2 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "casesctl backfill: interrupted: the checkpoint of the last page done is kept"
        ),
        "{stderr}"
    );
    assert!(
        last.contains(&format!(
            "casesctl backfill --domain-id {DOMAIN_ID} --resume"
        )),
        "{stderr}"
    );

    let resumed = run(&s, &["--rate", "20", "--page-size", "5", "--resume"]);
    assert!(resumed.status.success());
    assert_cases_equal_the_truth(&s).await;
    assert_eq!(counters(&s.store).await, expected_counters(&s.domain));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_with_nothing_to_resume_is_refused_and_a_dry_run_makes_the_calls_its_help_names() {
    let s = setup(17, 4, 3).await;
    let nothing = run(&s, &["--resume"]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("nothing to resume"));
    assert_eq!(s.standin.all_calls().values().sum::<usize>(), 0);

    let dry = run(&s, &["--dry-run", "--rate", "20"]);
    assert!(dry.status.success());
    let stderr = String::from_utf8_lossy(&dry.stderr);
    assert!(
        stderr.starts_with("planning: reading the size of domain"),
        "something is said before the first call: {stderr}"
    );
    assert!(stderr.contains("ListFields"), "{stderr}");
    assert!(
        stderr.contains("ListTemplates"),
        "the run's calls, all: {stderr}"
    );
    assert!(stderr.contains("at 20 call(s)/s"), "{stderr}");
    assert_eq!(
        s.standin.all_calls(),
        BTreeMap::from([
            ("ListFields".to_owned(), 1),
            ("SearchAllRelatedItems".to_owned(), 1),
            ("SearchCases".to_owned(), 1),
        ]),
        "what `backfill --help` says a dry run calls"
    );
    assert_eq!(
        s.store.checkpoint(DOMAIN_ID, "BACKFILL").await.unwrap(),
        None
    );

    assert!(run(&s, &["--rate", "20"]).status.success());
    for op in s.standin.all_calls().keys() {
        assert!(
            stderr.contains(op.as_str()),
            "the plan lists {op}, which the run calls: {stderr}"
        );
    }
    let finished = run(&s, &["--resume"]);
    assert_eq!(
        finished.status.code(),
        Some(2),
        "a finished run has nothing to resume"
    );
}
