//! The projector against a peer written the way AWS samples are (`benches/peer/consumer.py`:
//! one GetCase and one PutItem per event), on the same generated stream, DynamoDB Local and
//! Cases stand-in; plus cold start against a bare lambda_runtime function.
//!
//! Run with `scripts/bench-peer` (builds the release binaries and the peer's venv first).
//! Prints one markdown table; figures are recorded in `docs/benchmarks.md`.

#[path = "common/lambda_host.rs"]
mod lambda_host;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cases_projector::store::keys;
use lambda_host::{RuntimeApi, lambda_env, release};
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const DOMAIN: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
const CASES: usize = 1_000;
const EVENTS: usize = 10_000;
/// SQS batch size (Lambda's default); `BENCH_BATCH` overrides it.
fn batch_size() -> usize {
    std::env::var("BENCH_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(10)
}
const CONFIGURED: [&str; 3] = ["status", "title", "case_reason"];
const NOT_CONFIGURED: [&str; 3] = ["priority", "summary", "assigned_user"];

// ---------------------------------------------------------------------------------------------
// The stream

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

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Clone, Default)]
struct CaseState {
    created: bool,
    deleted: bool,
    values: BTreeMap<&'static str, Value>,
    items: usize,
}

struct Stream {
    /// In delivery order (with duplicates and reordering).
    delivered: Vec<Value>,
    /// Distinct events.
    distinct: usize,
    fixture: support::cases_standin::Fixture,
    final_state: HashMap<String, CaseState>,
}

fn case_id(c: usize) -> String {
    format!("{c:08x}-0000-4000-8000-000000000000")
}

fn value(field: &str, rng: &mut Rng) -> Value {
    match field {
        "status" => json!({"stringValue": if rng.chance(40) { "closed" } else { "open" }}),
        "priority" => json!({"doubleValue": rng.below(5) as f64}),
        "assigned_user" => {
            json!({"userArnValue": format!("arn:aws:connect:us-west-2:123456789012:instance/i/agent/{}", rng.below(50))})
        }
        "case_reason" => {
            let reason = ["billing", "technical", "delivery"][rng.below(3)];
            json!({ "stringValue": reason })
        }
        other => json!({"stringValue": format!("{other} {}", rng.next() % 100_000)}),
    }
}

fn generate() -> Stream {
    let mut rng = Rng(0x5EED_CA5E_0000_0001);
    let mut cases: Vec<CaseState> = vec![CaseState::default(); CASES];
    let mut events: Vec<Value> = Vec::new();
    let mut clock = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let template = read_json("events/02-case-updated.json");
    let comment = read_json("events/05-related-item-comment-created.json");
    while events.len() < EVENTS {
        let c = rng.below(CASES);
        if cases[c].deleted {
            continue;
        }
        // Bursts: agents touch a case several times in a row.
        for _ in 0..1 + rng.below(5) {
            clock += chrono::Duration::milliseconds(100 + rng.below(2000) as i64);
            let at = clock.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let id = format!("{:016x}-{}", rng.next(), events.len());
            let state = &mut cases[c];
            let (event_type, changed): (&str, Vec<&'static str>) = if !state.created {
                state.created = true;
                for f in CONFIGURED.iter().chain(&NOT_CONFIGURED) {
                    state.values.insert(f, value(f, &mut rng));
                }
                (
                    "CASE.CREATED",
                    CONFIGURED.iter().chain(&NOT_CONFIGURED).copied().collect(),
                )
            } else if rng.chance(2) {
                state.deleted = true;
                ("CASE.DELETED", vec![])
            } else if rng.chance(20) {
                state.items += 1;
                let mut e = comment.clone();
                e["id"] = json!(id);
                e["detail"]["approximateChangeTime"] = json!(at);
                e["detail"]["relatedItem"]["caseId"] = json!(case_id(c));
                e["detail"]["relatedItem"]["relatedItemId"] =
                    json!(format!("{}-ri-{}", case_id(c), state.items));
                e["detail"]["relatedItem"]["relatedItemType"] =
                    json!(if rng.chance(50) { "Comment" } else { "comment" });
                events.push(e);
                continue;
            } else {
                // A third of updates change a field the event configuration does not carry.
                let pool: &[&'static str] = if rng.chance(30) {
                    &NOT_CONFIGURED
                } else {
                    &CONFIGURED
                };
                let field = pool[rng.below(pool.len())];
                state.values.insert(field, value(field, &mut rng));
                ("CASE.UPDATED", vec![field])
            };
            let mut e = template.clone();
            e["id"] = json!(id);
            e["detail"]["eventType"] = json!(event_type);
            e["detail"]["approximateChangeTime"] = json!(at);
            e["detail"]["changedFieldIds"] = json!(changed);
            e["detail"]["case"]["caseId"] = json!(case_id(c));
            e["detail"]["case"]["templateId"] = json!("tpl");
            let carried: serde_json::Map<String, Value> = CONFIGURED
                .iter()
                .map(|f| (f.to_string(), json!({"value": state.values[f]})))
                .collect();
            if event_type == "CASE.DELETED" {
                e["detail"]["case"]
                    .as_object_mut()
                    .unwrap()
                    .remove("fields");
            } else {
                e["detail"]["case"]["fields"] = Value::Object(carried);
            }
            events.push(e);
            if state.deleted {
                break;
            }
        }
    }
    let distinct = events.len();
    // Best effort delivery: ~3% duplicated later, ~3% moved later.
    let mut delivered = events.clone();
    for (i, event) in events.iter().enumerate() {
        if rng.chance(3) {
            let at = (i + 1 + rng.below(50)).min(delivered.len());
            delivered.insert(at, event.clone());
        }
    }
    for i in 0..delivered.len() {
        if rng.chance(3) {
            let j = (i + 1 + rng.below(20)).min(delivered.len() - 1);
            delivered.swap(i, j);
        }
    }

    let mut fixture = sample_fixture();
    let domain = fixture.domains.get_mut(DOMAIN).unwrap();
    domain.fields.retain(|f| {
        CONFIGURED.contains(&f["fieldId"].as_str().unwrap())
            || NOT_CONFIGURED.contains(&f["fieldId"].as_str().unwrap())
    });
    domain.fields.push(
        json!({"fieldId": "priority", "name": "Priority", "type": "Number", "namespace": "Custom"}),
    );
    domain.fields.dedup_by(|a, b| a["fieldId"] == b["fieldId"]);
    domain.event_configuration = json!({"enabled": true, "includedData": {"caseData": {"fields": CONFIGURED.map(|f| json!({"id": f}))}, "relatedItemData": {"includeContent": true}}});
    domain.cases.clear();
    let mut final_state = HashMap::new();
    for (c, state) in cases.iter().enumerate().filter(|(_, s)| s.created) {
        if !state.deleted {
            let fields = state
                .values
                .iter()
                .map(|(id, v)| json!({"id": id, "value": v}))
                .collect();
            domain.cases.insert(
                case_id(c),
                support::cases_standin::CaseFixture::new("tpl", fields),
            );
        }
        final_state.insert(case_id(c), state.clone());
    }
    Stream {
        delivered,
        distinct,
        fixture,
        final_state,
    }
}

fn batches(events: &[Value]) -> Vec<Value> {
    events
        .chunks(batch_size())
        .enumerate()
        .map(|(b, chunk)| {
            let mut batch = sqs_batch(chunk);
            for (i, r) in batch["Records"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .enumerate()
            {
                r["messageId"] = json!(format!("b{b}-m{i}"));
            }
            batch
        })
        .collect()
}

/// Median time from spawn to the runtime's first `next` request.
async fn startup(binary: &Path, extra_env: &[(&str, String)], runs: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let api = RuntimeApi::start().await;
        let mut cmd = tokio::process::Command::new(binary);
        lambda_env(&mut cmd, &api);
        cmd.envs(extra_env.iter().map(|(k, v)| (*k, v.clone())))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let ready = tokio::time::timeout(Duration::from_secs(10), api.wait_first_next())
            .await
            .expect("ready");
        times.push(ready - started);
        let _ = child.kill().await;
    }
    times.sort();
    times[times.len() / 2]
}

fn proc_stat(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hwm_kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    (ticks / 100.0, hwm_kb)
}

struct Run {
    events: usize,
    seconds: f64,
    cpu_seconds: f64,
    peak_rss_kb: u64,
    get_case: usize,
    write_requests: f64,
    write_units: f64,
    correct: String,
}

async fn standin_calls(endpoint: &str) -> usize {
    let mut stream = TcpStream::connect(endpoint.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(b"GET /_stats HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // The stand-in keeps connections open: read exactly one response.
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = tokio::io::AsyncReadExt::read(&mut stream, &mut chunk)
            .await
            .unwrap();
        assert!(n > 0, "stand-in closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length: usize = text[..end]
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap();
        if buf.len() >= end + 4 + length {
            let body: Value = serde_json::from_slice(&buf[end + 4..end + 4 + length]).unwrap();
            return body["calls"]["GetCase"].as_u64().unwrap_or(0) as usize;
        }
    }
}

async fn start_standin(
    fixture: &support::cases_standin::Fixture,
    dir: &Path,
) -> (tokio::process::Child, String) {
    let file = dir.join(format!("fixture-{}.json", std::process::id()));
    let domains: serde_json::Map<String, Value> = fixture
        .domains
        .iter()
        .map(|(id, d)| {
            let cases: serde_json::Map<String, Value> = d
                .cases
                .iter()
                .map(|(c, f)| (c.clone(), json!({"templateId": f.template_id, "fields": f.fields})))
                .collect();
            (id.clone(), json!({"fields": d.fields, "options": d.options, "eventConfiguration": d.event_configuration, "cases": cases}))
        })
        .collect();
    std::fs::write(&file, json!({ "domains": domains }).to_string()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(release("examples/cases_standin"))
        .arg(&file)
        .arg(port.to_string())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (child, endpoint)
}

async fn run_projector(dynamo: &DynamoLocal, stream: &Stream, dir: &Path) -> Run {
    let store = new_store(dynamo, "projector").await;
    let (_standin, cases_endpoint) = start_standin(&stream.fixture, dir).await;
    let api = RuntimeApi::start().await;
    let mut cmd = tokio::process::Command::new(release("cases-projector"));
    lambda_env(&mut cmd, &api);
    cmd.env("TABLE_NAME", "projector")
        .envs(dynamo.target().env())
        .env("AWS_ENDPOINT_URL_CONNECTCASES", &cases_endpoint)
        .env(
            "RUST_LOG",
            std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id().unwrap();
    let stdout = child.stdout.take().unwrap();
    let totals = Arc::new(Mutex::new((0.0f64, 0.0f64)));
    let reader_totals = totals.clone();
    let reader = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("\"CloudWatchMetrics\"") {
                let emf: Value = serde_json::from_str(&line).unwrap();
                let mut t = reader_totals.lock().unwrap();
                t.0 += emf["WriteRequests"].as_f64().unwrap();
                t.1 += emf["WriteUnits"].as_f64().unwrap();
            }
        }
    });
    api.wait_first_next().await;

    let started = Instant::now();
    let mut pending: Vec<Value> = batches(&stream.delivered);
    let mut invocation = 0;
    while !pending.is_empty() {
        let mut ids = Vec::new();
        for batch in &pending {
            invocation += 1;
            let id = format!("inv-{invocation}");
            api.push(id.clone(), batch.clone());
            ids.push(id);
        }
        let answers = api.wait_for(&ids).await;
        let mut retry = Vec::new();
        for (batch, answer) in pending.iter().zip(answers) {
            let failed: HashSet<&str> = answer["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["itemIdentifier"].as_str())
                .collect();
            let records: Vec<Value> = batch["Records"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| failed.contains(r["messageId"].as_str().unwrap()))
                .cloned()
                .collect();
            if !records.is_empty() {
                retry.push(json!({ "Records": records }));
            }
        }
        pending = retry;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (cpu_seconds, peak_rss_kb) = proc_stat(pid);
    let get_case = standin_calls(&cases_endpoint).await;
    let _ = child.kill().await;
    let _ = reader.await;
    let (write_requests, write_units) = *totals.lock().unwrap();
    let correct = check_projector(&store, stream).await;
    Run {
        events: stream.delivered.len(),
        seconds,
        cpu_seconds,
        peak_rss_kb,
        get_case,
        write_requests,
        write_units,
        correct,
    }
}

async fn run_peer(dynamo: &DynamoLocal, stream: &Stream, dir: &Path) -> Run {
    let store = new_store(dynamo, "peer").await;
    let (_standin, cases_endpoint) = start_standin(&stream.fixture, dir).await;
    let file = dir.join(format!("batches-{}.json", std::process::id()));
    std::fs::write(&file, Value::Array(batches(&stream.delivered)).to_string()).unwrap();
    let wanted: Vec<&str> = CONFIGURED.iter().chain(&NOT_CONFIGURED).copied().collect();
    let out = tokio::process::Command::new(root().join(".venv/bin/python"))
        .arg(root().join("benches/peer/consumer.py"))
        .arg(&file)
        .env("TABLE_NAME", "peer")
        .env("DYNAMODB_ENDPOINT", dynamo.endpoint())
        .env("DYNAMODB_ACCESS_KEY_ID", dynamo.target().access_key)
        .env("CASES_ENDPOINT", &cases_endpoint)
        .env("WANTED_FIELDS", json!(wanted).to_string())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let correct = check_peer(&store, stream).await;
    Run {
        events: m["events"].as_u64().unwrap() as usize,
        seconds: m["seconds"].as_f64().unwrap(),
        cpu_seconds: m["cpu_seconds"].as_f64().unwrap(),
        peak_rss_kb: m["peak_rss_kb"].as_u64().unwrap(),
        get_case: m["get_case"].as_u64().unwrap() as usize,
        write_requests: m["writes"].as_f64().unwrap(),
        write_units: m["write_units"].as_f64().unwrap(),
        correct,
    }
}

fn field_value(v: &Value) -> String {
    let (kind, inner) = v.as_object().unwrap().iter().next().unwrap();
    match kind.as_str() {
        "doubleValue" => {
            let d = inner.as_f64().unwrap();
            if d.fract() == 0.0 {
                format!("{d:.0}")
            } else {
                d.to_string()
            }
        }
        _ => inner.as_str().unwrap().to_owned(),
    }
}

/// Cases whose item is missing, or whose deleted flag or wanted fields differ from the truth.
fn wrong_cases(table: &BTreeMap<String, BTreeMap<String, String>>, stream: &Stream) -> String {
    let wrong = stream
        .final_state
        .iter()
        .filter(|(case, state)| {
            let (pk, sk) = keys::case_key(case);
            let Some(item) = table.get(&format!("{pk}|{sk}")) else {
                return true;
            };
            let right = if state.deleted {
                item.get("deleted").map(String::as_str) == Some("true")
            } else {
                let fields = item.get("fields").cloned().unwrap_or_default();
                state
                    .values
                    .iter()
                    .all(|(id, v)| fields.contains(&format!("\"{id}\": \"{}\"", field_value(v))))
            };
            !right
        })
        .count();
    if wrong == 0 {
        "all cases right".to_owned()
    } else {
        format!("{wrong} cases wrong")
    }
}

fn related_items(table: &BTreeMap<String, BTreeMap<String, String>>, stream: &Stream) -> String {
    let expected = stream.final_state.values().map(|s| s.items).sum::<usize>();
    let stored = table.keys().filter(|k| k.contains("|RELATED#")).count();
    format!("related items {stored}/{expected}")
}

/// Compares cases, related items and the daily numbers with the truth.
async fn check_projector(
    store: &cases_projector::store::dynamodb::DynamoStore,
    stream: &Stream,
) -> String {
    let table = snapshot_table(store).await;
    let stored = row_numbers(&report_rows(store, DOMAIN, "2020-01-01", "2030-01-01").await);
    let numbers_ok = stored == truth_numbers(&stream.delivered);
    let counters = if numbers_ok { "exact" } else { "WRONG" };
    format!(
        "{}; counters {counters}; {}",
        wrong_cases(&table, stream),
        related_items(&table, stream)
    )
}

async fn check_peer(
    store: &cases_projector::store::dynamodb::DynamoStore,
    stream: &Stream,
) -> String {
    let table = snapshot_table(store).await;
    format!(
        "{}; no counters; {}",
        wrong_cases(&table, stream),
        related_items(&table, stream)
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` / `--list` probes: nothing to do.
    }
    let dir = tempfile::tempdir().unwrap();
    let hello = startup(&release("examples/hello_runtime"), &[], 15).await;
    let projector_start = startup(
        &release("cases-projector"),
        &[("TABLE_NAME", "t".into())],
        15,
    )
    .await;

    let stream = generate();
    let dynamo = DynamoLocal::start();
    let ours = run_projector(&dynamo, &stream, dir.path()).await;
    if std::env::var_os("BENCH_SKIP_PEER").is_some() {
        let n = ours.events as f64;
        println!(
            "cases-projector: {:.0} events/s, {:.3} CPU ms/event, {:.1} MB",
            n / ours.seconds,
            ours.cpu_seconds * 1000.0 / n,
            ours.peak_rss_kb as f64 / 1024.0
        );
        return;
    }
    let peer = run_peer(&dynamo, &stream, dir.path()).await;

    println!(
        "stream: {} deliveries of {} distinct events over {} cases (~3% duplicated, ~3% reordered), SQS batches of {}\n",
        stream.delivered.len(),
        stream.distinct,
        stream.final_state.len(),
        batch_size()
    );
    println!(
        "| consumer | events/s | GetCase calls/event | DynamoDB write requests/event | write units/event | CPU ms/event | peak RSS | read model |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, r) in [
        ("cases-projector", &ours),
        ("peer (boto3, AWS-sample style)", &peer),
    ] {
        let n = r.events as f64;
        println!(
            "| {name} | {:.0} | {:.3} | {:.3} | {:.2} | {:.3} | {:.1} MB | {} |",
            n / r.seconds,
            r.get_case as f64 / n,
            r.write_requests / n,
            r.write_units / n,
            r.cpu_seconds * 1000.0 / n,
            r.peak_rss_kb as f64 / 1024.0,
            r.correct
        );
    }
    println!(
        "\nratios: {:.1}x the peer's events/s, {:.1}x less CPU per event",
        (ours.events as f64 / ours.seconds) / (peer.events as f64 / peer.seconds),
        (peer.cpu_seconds / peer.events as f64) / (ours.cpu_seconds / ours.events as f64),
    );
    println!(
        "cold start (spawn to first runtime `next`, median of 15): cases-projector {:.2} ms, bare lambda_runtime {:.2} ms ({:.2}x)",
        projector_start.as_secs_f64() * 1000.0,
        hello.as_secs_f64() * 1000.0,
        projector_start.as_secs_f64() / hello.as_secs_f64()
    );
    for (name, path) in [
        ("cases-projector", release("cases-projector")),
        ("hello_runtime", release("examples/hello_runtime")),
    ] {
        println!(
            "binary size ({}, host): {name} {:.1} MB",
            std::env::consts::ARCH,
            std::fs::metadata(path).unwrap().len() as f64 / 1e6
        );
    }
}
