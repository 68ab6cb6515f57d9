//! Soak: a long stream (50,000 events by default) with injected faults through the release
//! Lambda binary on a local runtime API, DynamoDB Local and the Cases stand-in.
//!
//! Creates and most updates carry every field the read model wants; a quarter of updates change
//! a field the event configuration leaves out and carry only the configured ones, as real events
//! do, so the projector must enrich them with GetCase (past the instance's GetCase budget, or
//! throttled past the SDK's retries, the enrichment is deferred: the record is still applied).
//! Faults: GetCase answers 429 (10%) and 500 (5%) throughout; DynamoDB Local is frozen
//! (SIGSTOP) for a few seconds twice. Failed messages are redelivered the way SQS does (later,
//! in new batches; to a DLQ after 5 receives). Malformed bodies (~0.5%) are mixed in.
//!
//! Watched from outside, every 200 ms: the process's RSS (`VmRSS`), open file descriptors and
//! sockets (`/proc/<pid>/fd`), threads. Tokio tasks are not observable from outside the process;
//! open sockets stand in for them (every connection is a task of the HTTP clients).
//!
//! Checks: every record ends applied or reported (one `record` log line each; malformed ones
//! non-retryable, none left pending), RSS after warm-up within the case cache's bound, sockets and
//! descriptors not growing. Then deferred-only reconciles (in this process) fill the cases left
//! deferred. Writes `docs/soak-rss.svg` and prints a markdown summary.
//!
//! `scripts/soak` (builds the release binary first). `SOAK_EVENTS` overrides the length; the
//! projector's settings (`CASE_CACHE_BYTES`, `GET_CASE_RATE`, ...) pass through from the
//! environment. An example rather than a bench: the driver needs no optimisation, only the Lambda
//! binary does.

#[path = "../benches/common/lambda_host.rs"]
mod lambda_host;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cases_projector::backfill::Limiter;
use cases_projector::connect_cases::CasesApi;
use cases_projector::reconcile::{Options, Reconcile};
use cases_projector::store::DomainStore;
use cases_projector::store::dynamodb::DynamoStore;
use lambda_host::{RuntimeApi, lambda_env, release};
use serde_json::{Value, json};
use support::cases_standin::{CaseFixture, CasesStandIn, Fault, FaultRule};
use support::*;
use tokio::io::{AsyncBufReadExt, BufReader};

const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
const CASES: usize = 5_000;
const BATCH: usize = 10;
const MAX_RECEIVES: usize = 5;
const CONFIGURED: [&str; 3] = ["status", "title", "case_reason"];
const NOT_CONFIGURED: [&str; 2] = ["priority", "summary"];
const FREEZE: Duration = Duration::from_secs(4);

/// The projector's `CASE_CACHE_BYTES` as the binary reads it (it inherits this environment).
fn case_cache_bytes() -> u64 {
    std::env::var("CASE_CACHE_BYTES")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(8 << 20)
}

fn events_wanted() -> usize {
    std::env::var("SOAK_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
}

fn case_id(c: usize) -> String {
    format!("{c:08x}-5a5a-4000-8000-000000000000")
}

/// One SQS message: its id and body.
#[derive(Clone)]
struct Message {
    id: String,
    body: String,
    malformed: bool,
}

struct Stream {
    messages: Vec<Message>,
    fixture: support::cases_standin::Fixture,
}

fn generate(n: usize) -> Stream {
    let mut rng = Rng(0x50A4_0000_0014);
    let template = read_json("events/02-case-updated.json");
    let comment = read_json("events/05-related-item-comment-created.json");
    let mut created = vec![false; CASES];
    let mut deleted = vec![false; CASES];
    let mut items = vec![0usize; CASES];
    let mut clock = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut events: Vec<Message> = Vec::new();
    while events.len() < n {
        let c = rng.below(CASES);
        if deleted[c] {
            continue;
        }
        clock += chrono::Duration::milliseconds(50 + rng.below(500) as i64);
        let at = clock.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let id = format!("{:016x}-{}", rng.next(), events.len());
        let message_id = format!("msg-{}", events.len());
        if rng.chance(5) {
            // Malformed: no change time, or not JSON at all.
            let body = if rng.chance(500) {
                let mut e = template.clone();
                e["id"] = json!(id);
                e["detail"]
                    .as_object_mut()
                    .unwrap()
                    .remove("approximateChangeTime");
                e.to_string()
            } else {
                format!("{{\"id\": \"{id}\", \"detail\": [")
            };
            events.push(Message {
                id: message_id,
                body,
                malformed: true,
            });
            continue;
        }
        let e = if created[c] && rng.chance(200) {
            items[c] += 1;
            let mut e = comment.clone();
            e["id"] = json!(id);
            e["detail"]["approximateChangeTime"] = json!(at);
            e["detail"]["relatedItem"]["caseId"] = json!(case_id(c));
            e["detail"]["relatedItem"]["relatedItemId"] =
                json!(format!("{}-ri-{}", case_id(c), items[c]));
            e
        } else {
            let mut needs_get_case = false;
            let (event_type, changed): (&str, Vec<&str>) = if !created[c] {
                created[c] = true;
                (
                    "CASE.CREATED",
                    CONFIGURED.iter().chain(&NOT_CONFIGURED).copied().collect(),
                )
            } else if rng.chance(10) {
                deleted[c] = true;
                ("CASE.DELETED", vec![])
            } else if rng.chance(250) {
                // Only GetCase can provide it: the event carries the configured fields only.
                needs_get_case = true;
                ("CASE.UPDATED", vec![NOT_CONFIGURED[rng.below(2)]])
            } else {
                ("CASE.UPDATED", vec![CONFIGURED[rng.below(3)]])
            };
            let mut e = template.clone();
            e["id"] = json!(id);
            e["detail"]["eventType"] = json!(event_type);
            e["detail"]["approximateChangeTime"] = json!(at);
            e["detail"]["changedFieldIds"] = json!(changed);
            e["detail"]["case"]["caseId"] = json!(case_id(c));
            e["detail"]["case"]["templateId"] = json!("tpl");
            if event_type == "CASE.DELETED" {
                e["detail"]["case"]
                    .as_object_mut()
                    .unwrap()
                    .remove("fields");
            } else {
                let status = if rng.chance(300) { "closed" } else { "open" };
                let reason = ["billing", "technical"][rng.below(2)];
                let mut fields = json!({
                    "status": {"value": {"stringValue": status}},
                    "title": {"value": {"stringValue": format!("case {c} title {}", rng.below(1000))}},
                    "case_reason": {"value": {"stringValue": reason}},
                });
                if !needs_get_case {
                    fields["priority"] = json!({"value": {"doubleValue": (c % 5) as f64}});
                    fields["summary"] =
                        json!({"value": {"stringValue": format!("summary of {c}")}});
                }
                e["detail"]["case"]["fields"] = fields;
            }
            e
        };
        events.push(Message {
            id: message_id,
            body: e.to_string(),
            malformed: false,
        });
    }
    // Best effort: ~3% delivered twice (a copy later, under its own message id).
    let mut messages = events.clone();
    for (i, m) in events.iter().enumerate() {
        if !m.malformed && rng.chance(30) {
            let at = (i + 1 + rng.below(200)).min(messages.len());
            let mut copy = m.clone();
            copy.id = format!("{}-copy", m.id);
            messages.insert(at, copy);
        }
    }

    let mut fixture = sample_fixture();
    let domain = fixture.domains.get_mut(DOMAIN).unwrap();
    domain.fields.retain(|f| {
        let id = f["fieldId"].as_str().unwrap();
        CONFIGURED.contains(&id) || NOT_CONFIGURED.contains(&id)
    });
    domain.fields.push(
        json!({"fieldId": "priority", "name": "Priority", "type": "Number", "namespace": "Custom"}),
    );
    domain.fields.dedup_by(|a, b| a["fieldId"] == b["fieldId"]);
    domain.event_configuration = json!({"enabled": true, "includedData": {"caseData": {"fields": CONFIGURED.map(|f| json!({"id": f}))}, "relatedItemData": {"includeContent": true}}});
    domain.cases = (0..CASES)
        .filter(|c| created[*c] && !deleted[*c])
        .map(|c| {
            let fields = vec![
                json!({"id": "status", "value": {"stringValue": "open"}}),
                json!({"id": "priority", "value": {"doubleValue": (c % 5) as f64}}),
                json!({"id": "summary", "value": {"stringValue": format!("summary of {c}")}}),
            ];
            (case_id(c), CaseFixture::new("tpl", fields))
        })
        .collect();
    Stream { messages, fixture }
}

#[derive(Clone, Copy)]
struct Sample {
    seconds: f64,
    events: usize,
    rss_kb: u64,
    fds: usize,
    sockets: usize,
    threads: u64,
}

fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn sample(pid: u32, started: Instant, events: usize) -> Sample {
    let mut fds = 0;
    let mut sockets = 0;
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for entry in dir.flatten() {
            fds += 1;
            if std::fs::read_link(entry.path())
                .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
            {
                sockets += 1;
            }
        }
    }
    Sample {
        seconds: started.elapsed().as_secs_f64(),
        events,
        rss_kb: status_kb(pid, "VmRSS:"),
        fds,
        sockets,
        threads: status_kb(pid, "Threads:"),
    }
}

/// The last `record` log line of every message: (outcome, retryable).
type Outcomes = Arc<Mutex<HashMap<String, (String, bool)>>>;

/// Sums of the function's EMF metrics over the run.
type Metrics = Arc<Mutex<BTreeMap<String, f64>>>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = events_wanted();
    let stream = generate(n);
    let malformed = stream.messages.iter().filter(|m| m.malformed).count();
    eprintln!(
        "soak: {} messages ({} distinct events, {malformed} malformed)",
        stream.messages.len(),
        n
    );

    let dynamo = Arc::new(DynamoLocal::start());
    let store = new_store(&dynamo, "soak").await;
    let standin = CasesStandIn::start(stream.fixture.clone()).await;
    for (fault, rate) in [(Fault::Throttle, 0.10), (Fault::Internal, 0.05)] {
        standin.inject(FaultRule {
            operation: Some("GetCase"),
            case_id: None,
            fault,
            rate,
            times: None,
        });
    }
    let api = RuntimeApi::start().await;
    // `SOAK_BINARY` runs another build of the Lambda (e.g. a debug one, to try the driver).
    let binary = std::env::var_os("SOAK_BINARY")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| release("cases-projector"));
    let mut cmd = tokio::process::Command::new(binary);
    lambda_env(&mut cmd, &api);
    cmd.env("TABLE_NAME", "soak")
        .env("AWS_ENDPOINT_URL_DYNAMODB", dynamo.endpoint())
        .env("AWS_ENDPOINT_URL_CONNECTCASES", standin.endpoint())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id().unwrap();
    let stdout = child.stdout.take().unwrap();
    let outcomes: Outcomes = Default::default();
    let metrics: Metrics = Default::default();
    let reader_outcomes = outcomes.clone();
    let reader_metrics = metrics.clone();
    let reader = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("\"_aws\"") {
                if let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(&line) {
                    let mut sums = reader_metrics.lock().unwrap();
                    for name in ["GetCaseCalls", "EnrichmentDeferred"] {
                        *sums.entry(name.to_owned()).or_default() +=
                            doc.get(name).and_then(Value::as_f64).unwrap_or(0.0);
                    }
                }
                continue;
            }
            if line.contains("GetCase throttled: enrichment deferred") {
                *reader_metrics
                    .lock()
                    .unwrap()
                    .entry("ThrottledDeferrals".to_owned())
                    .or_default() += 1.0;
            }
            if !line.contains("\"record\"") {
                continue;
            }
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let get = |k: &str| v.get(k).or_else(|| v.get("fields").and_then(|f| f.get(k)));
            let (Some(id), Some(outcome)) = (
                get("message_id").and_then(Value::as_str),
                get("outcome").and_then(Value::as_str),
            ) else {
                continue;
            };
            let retryable = get("retryable").and_then(Value::as_bool).unwrap_or(false);
            if get("reason")
                .and_then(Value::as_str)
                .is_some_and(|r| r.starts_with("retryable: enrichment:"))
            {
                *reader_metrics
                    .lock()
                    .unwrap()
                    .entry("EnrichmentFailures".to_owned())
                    .or_default() += 1.0;
            }
            reader_outcomes
                .lock()
                .unwrap()
                .insert(id.to_owned(), (outcome.to_owned(), retryable));
        }
    });
    api.wait_first_next().await;

    let started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let samples: Arc<Mutex<Vec<Sample>>> = Default::default();
    let sampler = {
        let (done, samples) = (done.clone(), samples.clone());
        tokio::spawn(async move {
            loop {
                let s = sample(pid, started, done.load(Ordering::Relaxed));
                samples.lock().unwrap().push(s);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    // SQS: batches of 10; failed messages come back later in new batches, to the DLQ after 5
    // receives.
    let by_id: HashMap<String, Message> = stream
        .messages
        .iter()
        .map(|m| (m.id.clone(), m.clone()))
        .collect();
    let mut queue: VecDeque<String> = stream.messages.iter().map(|m| m.id.clone()).collect();
    let mut receives: HashMap<String, usize> = HashMap::new();
    let mut dlq: Vec<String> = Vec::new();
    let mut delayed: VecDeque<(usize, String)> = VecDeque::new();
    let mut invocations = 0usize;
    let mut redelivered = 0usize;
    let mut freezes: Vec<(f64, f64)> = Vec::new();
    let freeze_at = [
        stream.messages.len() * 3 / 10,
        stream.messages.len() * 7 / 10,
    ];
    let mut sent = 0usize;
    while !queue.is_empty() || !delayed.is_empty() {
        // Redeliveries become visible again 30 invocations later (the visibility timeout).
        while delayed
            .front()
            .is_some_and(|(due, _)| *due <= invocations || queue.is_empty())
        {
            queue.push_back(delayed.pop_front().unwrap().1);
        }
        let batch: Vec<String> = (0..BATCH).filter_map(|_| queue.pop_front()).collect();
        if batch.is_empty() {
            continue;
        }
        if freeze_at
            .iter()
            .any(|f| (sent..sent + batch.len()).contains(f))
        {
            let dynamo = dynamo.clone();
            let from = started.elapsed().as_secs_f64();
            freezes.push((from, from + FREEZE.as_secs_f64()));
            dynamo.freeze();
            tokio::spawn(async move {
                tokio::time::sleep(FREEZE).await;
                dynamo.thaw();
            });
        }
        sent += batch.len();
        let records: Vec<Value> = batch
            .iter()
            .map(|id| {
                *receives.entry(id.clone()).or_default() += 1;
                json!({
                    "messageId": id, "receiptHandle": "rh", "body": by_id[id].body,
                    "attributes": {"ApproximateReceiveCount": receives[id].to_string()},
                    "messageAttributes": {}, "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:soak",
                    "awsRegion": "us-west-2"
                })
            })
            .collect();
        invocations += 1;
        let request = format!("soak-{invocations}");
        api.push(request.clone(), json!({ "Records": records }));
        let answer = api.wait_for(std::slice::from_ref(&request)).await.remove(0);
        api.state.lock().unwrap().responses.remove(&request);
        let failed: Vec<String> = answer["batchItemFailures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
            .collect();
        assert!(
            answer.get("batchItemFailures").is_some(),
            "not an SQS answer: {answer}"
        );
        for id in &failed {
            if receives[id] >= MAX_RECEIVES {
                dlq.push(id.clone());
            } else {
                redelivered += 1;
                delayed.push_back((invocations + 30, id.clone()));
            }
        }
        done.fetch_add(batch.len() - failed.len(), Ordering::Relaxed);
    }
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(400)).await;
    sampler.abort();
    let final_sample = sample(pid, started, done.load(Ordering::Relaxed));
    let cpu = proc_cpu_seconds(pid);
    let hwm_kb = status_kb(pid, "VmHWM:");
    let _ = child.kill().await;
    let _ = reader.await;
    let metrics = metrics.lock().unwrap().clone();
    let get_case = GetCaseFigures {
        requests: standin.calls("GetCase"),
        injected_429: standin.injected("GetCase", 429),
        injected_500: standin.injected("GetCase", 500),
        calls_reported: metrics.get("GetCaseCalls").copied().unwrap_or(0.0),
        deferrals_reported: metrics.get("EnrichmentDeferred").copied().unwrap_or(0.0),
        throttled_deferrals: metrics.get("ThrottledDeferrals").copied().unwrap_or(0.0),
        failed_records: metrics.get("EnrichmentFailures").copied().unwrap_or(0.0),
    };
    let deferred_after_run = store.deferred_cases(DOMAIN).await.unwrap().len();
    let reconcile = reconcile_deferred(&store, &standin, deferred_after_run).await;
    let mut samples = samples.lock().unwrap().clone();
    samples.push(final_sample);

    // Every record ends applied or reported.
    let outcomes = outcomes.lock().unwrap().clone();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut missing = 0;
    let mut malformed_reported = 0;
    let mut pending = 0;
    for m in &stream.messages {
        match outcomes.get(&m.id) {
            None => missing += 1,
            Some((outcome, retryable)) => {
                *tally.entry(outcome.clone()).or_default() += 1;
                if outcome == "failed" && !retryable && m.malformed {
                    malformed_reported += 1;
                }
                if outcome == "failed" && *retryable && !dlq.contains(&m.id) {
                    pending += 1;
                }
            }
        }
    }

    // Warm-up: the first 10% of the stream.
    let warm = samples.iter().position(|s| s.events >= n / 10).unwrap_or(0);
    let after = &samples[warm..];
    let rss_warm = samples[warm].rss_kb;
    let rss_peak_after = after.iter().map(|s| s.rss_kb).max().unwrap_or(0);
    let quarter = after.len() / 4;
    let max_of = |s: &[Sample], f: fn(&Sample) -> u64| s.iter().map(f).max().unwrap_or(0);
    let second_quarter = &after[quarter..2 * quarter];
    let last_quarter = &after[3 * quarter..];
    let fds_q2 = max_of(second_quarter, |s| s.fds as u64);
    let fds_q4 = max_of(last_quarter, |s| s.fds as u64);
    let sockets_q2 = max_of(second_quarter, |s| s.sockets as u64);
    let sockets_q4 = max_of(last_quarter, |s| s.sockets as u64);
    let rss_q2 = max_of(second_quarter, |s| s.rss_kb);
    let rss_q4 = max_of(last_quarter, |s| s.rss_kb);
    let threads = max_of(after, |s| s.threads);

    let cache_kb = case_cache_bytes() / 1024;
    let rss_ok = rss_peak_after <= rss_warm + cache_kb;
    let fds_ok = fds_q4 <= fds_q2 + 4 && sockets_q4 <= sockets_q2 + 4;
    let records_ok = missing == 0 && pending == 0 && malformed_reported == malformed;

    println!(
        "soak: {} messages ({n} distinct events, ~3% delivered twice, {malformed} malformed), SQS batches of {BATCH}",
        stream.messages.len()
    );
    println!(
        "faults: GetCase 429 at 10% and 500 at 5% of calls; DynamoDB Local frozen {}s at {:?} s",
        FREEZE.as_secs(),
        freezes.iter().map(|f| f.0.round()).collect::<Vec<_>>()
    );
    println!();
    println!("| figure | value |\n|---|---|");
    println!(
        "| wall time | {seconds:.1} s ({:.0} messages/s) |",
        stream.messages.len() as f64 / seconds
    );
    println!("| invocations | {invocations} |");
    println!(
        "| CPU | {cpu:.1} s ({:.3} ms/message) |",
        cpu * 1000.0 / stream.messages.len() as f64
    );
    println!(
        "| GetCase requests seen by the stand-in (SDK retries included) | {} |",
        get_case.requests
    );
    println!(
        "| of them answered with an injected 429 / 500 | {} / {} |",
        get_case.injected_429, get_case.injected_500
    );
    println!(
        "| GetCase calls / enrichments deferred, as the function reported them (EMF; a deferred case tries again with its next event) | {} / {} |",
        get_case.calls_reported, get_case.deferrals_reported
    );
    println!(
        "| of the deferrals, GetCase throttled past the SDK's retries / records failed retryably by a GetCase error | {} / {} |",
        get_case.throttled_deferrals, get_case.failed_records
    );
    println!("| cases left deferred after the stream | {deferred_after_run} |");
    println!("| {reconcile}");
    println!("| redeliveries (retryable failures) | {redelivered} |");
    println!("| to the DLQ (5 receives) | {} |", dlq.len());
    println!("| final outcomes | {tally:?} |");
    println!("| records without an outcome / still pending | {missing} / {pending} |");
    println!("| malformed reported, not retried | {malformed_reported} of {malformed} |");
    println!(
        "| RSS at warm-up end (10% of events) | {:.1} MB |",
        rss_warm as f64 / 1024.0
    );
    println!(
        "| peak RSS after warm-up | {:.1} MB (bound: warm-up + CASE_CACHE_BYTES = {:.1} MB) |",
        rss_peak_after as f64 / 1024.0,
        (rss_warm + cache_kb) as f64 / 1024.0
    );
    println!(
        "| peak RSS 2nd / last quarter after warm-up | {:.1} / {:.1} MB |",
        rss_q2 as f64 / 1024.0,
        rss_q4 as f64 / 1024.0
    );
    println!("| VmHWM (whole run) | {:.1} MB |", hwm_kb as f64 / 1024.0);
    println!("| open fds, 2nd / last quarter (max) | {fds_q2} / {fds_q4} |");
    println!("| open sockets, 2nd / last quarter (max) | {sockets_q2} / {sockets_q4} |");
    println!("| threads (max) | {threads} |");
    println!();
    println!(
        "checks: records {}; RSS within bound {}; fds/sockets flat {}",
        verdict(records_ok),
        verdict(rss_ok),
        verdict(fds_ok)
    );

    let svg = root().join("docs/soak-rss.svg");
    plot(&svg, &samples, &freezes, rss_warm + cache_kb).unwrap();
    eprintln!("wrote {}", svg.display());
    if !(records_ok && rss_ok && fds_ok) {
        // `exit` runs no destructors: DynamoDB Local would outlive the run.
        drop(dynamo);
        std::process::exit(1);
    }
}

struct GetCaseFigures {
    requests: usize,
    injected_429: usize,
    injected_500: usize,
    calls_reported: f64,
    deferrals_reported: f64,
    /// Deferred because GetCase stayed throttled past the SDK's retries (not the budget).
    throttled_deferrals: f64,
    /// Records failed retryably by a GetCase error past the SDK's retries (a 500).
    failed_records: f64,
}

/// Deferred-only reconciles, as `casesctl reconcile --deferred-only` runs them, at a rate the
/// stand-in allows (it enforces no quota here; the injected faults stay on). A case whose
/// GetCase fails past the SDK's retries stays deferred for the next run, as with the scheduled
/// reconciler: up to 10 runs. A table row's cells.
async fn reconcile_deferred(store: &DynamoStore, standin: &CasesStandIn, before: usize) -> String {
    const RATE: f64 = 100.0;
    let limiter = Limiter::new(RATE);
    let api = CasesApi::new(cases_client_with_attempts(&standin.endpoint(), 3));
    let options = Options {
        owner: "soak".into(),
        deferred_only: true,
        ..support::reconcile_options(DOMAIN, RATE)
    };
    let started = Instant::now();
    let (mut runs, mut stopped) = (0, Vec::new());
    while runs < 10 {
        runs += 1;
        match Reconcile::new(&api, store, &limiter, options.clone())
            .run()
            .await
        {
            Ok(s) if s.deferred_left == 0 => break,
            Ok(_) => {}
            Err(e) => stopped.push(e.to_string()),
        }
    }
    let left = store.deferred_cases(DOMAIN).await.unwrap().len();
    format!(
        "deferred-only reconcile ({RATE} Cases requests/s) | {} of {before} filled, {left} left; {runs} runs in {:.1} s, {} stopped by an error ({}) |",
        before - left,
        started.elapsed().as_secs_f64(),
        stopped.len(),
        stopped.first().map_or("none", String::as_str),
    )
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "FAILED" }
}

fn proc_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(close) = stat.rfind(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

fn plot(
    path: &std::path::Path,
    samples: &[Sample],
    freezes: &[(f64, f64)],
    bound_kb: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    let x_max = samples.last().map_or(1.0, |s| s.seconds).max(1.0);
    let mb = |kb: u64| kb as f64 / 1024.0;
    let y_max = (samples
        .iter()
        .map(|s| mb(s.rss_kb))
        .fold(0.0, f64::max)
        .max(mb(bound_kb))
        * 1.15)
        .ceil();
    let area = SVGBackend::new(path, (760, 360)).into_drawing_area();
    area.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&area)
        .caption("cases-projector soak: RSS over time", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_desc("VmRSS (MB)")
        .draw()?;
    for (from, to) in freezes {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(*from, 0.0), (*to, y_max)],
            RGBColor(255, 200, 200).filled(),
        )))?;
    }
    chart
        .draw_series(LineSeries::new(
            [(0.0, mb(bound_kb)), (x_max, mb(bound_kb))],
            RED.stroke_width(1),
        ))?
        .label("bound after warm-up (warm-up RSS + case cache)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .draw_series(LineSeries::new(
            samples.iter().map(|s| (s.seconds, mb(s.rss_kb))),
            BLUE.stroke_width(2),
        ))?
        .label("VmRSS of the Lambda process (shaded: DynamoDB Local frozen)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    area.present()?;
    Ok(())
}
