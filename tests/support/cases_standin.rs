//! A stand-in for Amazon Connect Cases that speaks its REST-JSON wire protocol (paths, bodies,
//! `x-amzn-ErrorType` errors, as in the Cases API model), so tests exercise the real
//! `aws-sdk-connectcases` client. It serves fixture domains and cases, counts requests per
//! operation, and injects faults per case or at a rate. Test support only: never part of the
//! Lambda binary. `examples/cases_standin.rs` runs it for the local main job.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// A path relative to this file, so the example that includes this file by path finds it too.
#[path = "cases_search.rs"]
mod search;

/// Fixture: domains with their fields, options, event configuration and cases.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fixture {
    pub domains: HashMap<String, DomainFixture>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainFixture {
    /// `FieldSummary` objects: `fieldId`, `name`, `type`, `namespace`.
    pub fields: Vec<Value>,
    /// Field id → `FieldOption` objects (`name`, `value`, `active`).
    #[serde(default)]
    pub options: HashMap<String, Vec<Value>>,
    /// `EventBridgeConfiguration`.
    #[serde(default)]
    pub event_configuration: Value,
    /// `TemplateSummary` objects: `templateId`, `name`, `status` (`Active` or `Inactive`);
    /// ListTemplates adds `templateArn`.
    #[serde(default)]
    pub templates: Vec<Value>,
    /// Case id → `{ "templateId", "fields": [ FieldValue ] }`.
    #[serde(default)]
    pub cases: HashMap<String, CaseFixture>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseFixture {
    pub template_id: String,
    pub fields: Vec<Value>,
    /// `SearchRelatedItemsResponseItem` objects (`relatedItemId`, `type`, `associationTime` as an
    /// ISO 8601 string, `content` union such as `{"contact": {...}}`, optional `performedBy`,
    /// `tags`), in association order.
    #[serde(default)]
    pub related_items: Vec<Value>,
    /// `AuditEvent` objects (`eventId`, `type`, `relatedItemType`, `performedTime` as an ISO 8601
    /// string, `fields: [{eventFieldId, oldValue?, newValue}]`, `performedBy`), oldest first.
    #[serde(default)]
    pub audit_events: Vec<Value>,
    /// Tags as SearchCases returns them.
    #[serde(default)]
    pub tags: HashMap<String, Option<String>>,
}

impl CaseFixture {
    /// A case with these fields and no related items, history or tags.
    pub fn new(template_id: impl Into<String>, fields: Vec<Value>) -> Self {
        CaseFixture {
            template_id: template_id.into(),
            fields,
            ..CaseFixture::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    NotFound,
    AccessDenied,
    Throttle,
    Internal,
    Validation,
    /// Answer correctly, after a delay.
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub struct FaultRule {
    /// Only this operation (`GetCase`, ...); `None` for all.
    pub operation: Option<&'static str>,
    /// Only this case; `None` for all.
    pub case_id: Option<String>,
    pub fault: Fault,
    /// Share of matching requests that fail, 0.0..=1.0 (deterministic sequence).
    pub rate: f64,
    /// Fail at most this many requests, then stop; `None` for no limit.
    pub times: Option<usize>,
}

/// A token bucket: `rate` tokens per second up to `burst`; a request takes one token.
#[derive(Debug, Clone)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
    }
}

#[derive(Default)]
struct State {
    fixture: Fixture,
    calls: HashMap<String, usize>,
    /// Requests answered 429 by a quota, per operation.
    throttled: HashMap<String, usize>,
    /// Requests answered with an injected fault: (operation, HTTP status) → count.
    injected: HashMap<(String, u16), usize>,
    /// Quotas: `Some(operation)` for one operation, `None` for one bucket shared by all.
    quotas: HashMap<Option<String>, Bucket>,
    faults: Vec<FaultRule>,
    /// Rules waiting for this many requests of their operation before they apply.
    later_faults: Vec<(usize, FaultRule)>,
    /// GetCase page size (fields per response page).
    page_size: usize,
    /// Deterministic pseudo-random sequence for rate-based faults.
    rng: u64,
    last_put_configuration: Option<Value>,
}

#[derive(Clone)]
pub struct CasesStandIn {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl CasesStandIn {
    /// Starts serving on a free loopback port, in the current tokio runtime.
    pub async fn start(fixture: Fixture) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, fixture)
    }

    pub fn serve(listener: TcpListener, fixture: Fixture) -> Self {
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            fixture,
            page_size: 220,
            rng: 0x9E37_79B9_7F4A_7C15,
            ..State::default()
        }));
        let server = CasesStandIn { addr, state };
        let accept = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let conn = accept.clone();
                tokio::spawn(async move { conn.connection(stream).await });
            }
        });
        server
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received for `operation` (every page and chunk counts: that is what the quota sees).
    pub fn calls(&self, operation: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .calls
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Requests received so far, per operation.
    pub fn all_calls(&self) -> std::collections::BTreeMap<String, usize> {
        let state = self.state.lock().unwrap();
        state.calls.iter().map(|(op, n)| (op.clone(), *n)).collect()
    }

    pub fn reset_calls(&self) {
        self.state.lock().unwrap().calls.clear();
    }

    pub fn inject(&self, rule: FaultRule) {
        self.state.lock().unwrap().faults.push(rule);
    }

    /// `rule` (for one operation) applies once `after` requests of its operation were answered:
    /// "the second page fails" is `inject_after(1, ...)`.
    pub fn inject_after(&self, after: usize, rule: FaultRule) {
        assert!(rule.operation.is_some(), "counted per operation");
        self.state.lock().unwrap().later_faults.push((after, rule));
    }

    pub fn clear_faults(&self) {
        let mut state = self.state.lock().unwrap();
        state.faults.clear();
        state.later_faults.clear();
    }

    pub fn set_page_size(&self, n: usize) {
        self.state.lock().unwrap().page_size = n;
    }

    pub fn with_domain<T>(&self, domain_id: &str, f: impl FnOnce(&mut DomainFixture) -> T) -> T {
        let mut state = self.state.lock().unwrap();
        f(state
            .fixture
            .domains
            .entry(domain_id.to_owned())
            .or_default())
    }

    /// Sets a token-bucket quota: `rate_per_s` requests per second with bursts of `burst`, for
    /// `operation` (`"SearchCases"`, ...) or, with `None`, one bucket shared by every operation
    /// (like an account quota). Both apply when both are set. A request over a quota gets HTTP 429
    /// `ThrottlingException` (the SDK retries it) and counts in [`Self::throttled`]. The bucket
    /// starts full.
    pub fn set_quota(&self, operation: Option<&str>, rate_per_s: f64, burst: f64) {
        self.state.lock().unwrap().quotas.insert(
            operation.map(str::to_owned),
            Bucket {
                rate: rate_per_s,
                burst,
                tokens: burst,
                last: Instant::now(),
            },
        );
    }

    pub fn clear_quotas(&self) {
        self.state.lock().unwrap().quotas.clear();
    }

    /// Requests for `operation` refused by a quota (fault injection does not count here).
    pub fn throttled(&self, operation: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .throttled
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Requests for `operation` answered with an injected fault of HTTP `status` (a quota's 429s
    /// are in [`Self::throttled`]).
    pub fn injected(&self, operation: &str, status: u16) -> usize {
        self.state
            .lock()
            .unwrap()
            .injected
            .get(&(operation.to_owned(), status))
            .copied()
            .unwrap_or(0)
    }

    /// Adds (or replaces) a case.
    pub fn add_case(&self, domain_id: &str, case_id: &str, case: CaseFixture) {
        self.with_domain(domain_id, |d| d.cases.insert(case_id.to_owned(), case));
    }

    /// Deletes a case: GetCase, SearchRelatedItems and GetCaseAuditEvents answer 404 for it, and
    /// SearchCases and SearchAllRelatedItems no longer return it.
    pub fn remove_case(&self, domain_id: &str, case_id: &str) -> Option<CaseFixture> {
        self.with_domain(domain_id, |d| d.cases.remove(case_id))
    }

    /// Deletes a whole domain: every operation on it answers 404 naming the domain (as a wrong
    /// domain id or Region would).
    pub fn remove_domain(&self, domain_id: &str) -> Option<DomainFixture> {
        self.state.lock().unwrap().fixture.domains.remove(domain_id)
    }

    /// Removes a field from the domain (ListFields no longer lists it; GetCase refuses its id
    /// with a ValidationException naming it). Case values are kept.
    pub fn remove_field(&self, domain_id: &str, field_id: &str) {
        self.with_domain(domain_id, |d| d.fields.retain(|f| f["fieldId"] != field_id));
    }

    /// Sets one field value (`value` a `FieldValueUnion`, such as `{"stringValue": "closed"}`) of
    /// an existing case. Panics when the case does not exist.
    pub fn set_case_field(&self, domain_id: &str, case_id: &str, field_id: &str, value: Value) {
        self.with_case(domain_id, case_id, |case| {
            match case.fields.iter_mut().find(|f| f["id"] == field_id) {
                Some(f) => f["value"] = value,
                None => case.fields.push(json!({ "id": field_id, "value": value })),
            }
        });
    }

    /// Appends an `AuditEvent` to a case's history. Panics when the case does not exist.
    pub fn append_audit_event(&self, domain_id: &str, case_id: &str, event: Value) {
        self.with_case(domain_id, case_id, |case| case.audit_events.push(event));
    }

    /// Appends a related item (`SearchRelatedItemsResponseItem` shape) to a case. Panics when the
    /// case does not exist.
    pub fn append_related_item(&self, domain_id: &str, case_id: &str, item: Value) {
        self.with_case(domain_id, case_id, |case| case.related_items.push(item));
    }

    /// Edits one existing case. Panics when the case does not exist.
    pub fn with_case<T>(
        &self,
        domain_id: &str,
        case_id: &str,
        f: impl FnOnce(&mut CaseFixture) -> T,
    ) -> T {
        self.with_domain(domain_id, |d| {
            f(d.cases
                .get_mut(case_id)
                .unwrap_or_else(|| panic!("no case {case_id} in domain {domain_id}")))
        })
    }

    pub fn last_put_configuration(&self) -> Option<Value> {
        self.state.lock().unwrap().last_put_configuration.clone()
    }

    async fn connection(&self, mut stream: TcpStream) {
        // One write per response and no Nagle delay: a stand-in must not add latency.
        let _ = stream.set_nodelay(true);
        let mut buf = Vec::new();
        loop {
            let Some((method, target, body)) = read_request(&mut stream, &mut buf).await else {
                return;
            };
            let (status, error_type, body, delay) = self.route(&method, &target, &body);
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let body = body.to_string();
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nx-amzn-RequestId: standin\r\n",
                reason(status),
                body.len()
            );
            if let Some(t) = error_type {
                head.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
            }
            head.push_str("\r\n");
            head.push_str(&body);
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    fn route(
        &self,
        method: &str,
        target: &str,
        body: &[u8],
    ) -> (u16, Option<&'static str>, Value, Option<Duration>) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let query: HashMap<&str, &str> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let request: Value = serde_json::from_slice(body).unwrap_or(json!({}));
        if (method, parts.as_slice()) == ("GET", ["_stats"].as_slice()) {
            // Not a Cases operation: lets a separate process (the benchmark) read the counts.
            let state = self.state.lock().unwrap();
            let body = json!({ "calls": state.calls, "throttled": state.throttled });
            return (200, None, body, None);
        }
        let (operation, domain_id, case_id) = match (method, parts.as_slice()) {
            ("POST", ["domains", d, "cases", c]) => ("GetCase", *d, Some(*c)),
            ("POST", ["domains", d, "cases-search"]) => ("SearchCases", *d, None),
            ("POST", ["domains", d, "cases", c, "related-items-search"]) => {
                ("SearchRelatedItems", *d, Some(*c))
            }
            ("POST", ["domains", d, "related-items-search"]) => ("SearchAllRelatedItems", *d, None),
            ("POST", ["domains", d, "cases", c, "audit-history"]) => {
                ("GetCaseAuditEvents", *d, Some(*c))
            }
            ("POST", ["domains", d, "fields-list"]) => ("ListFields", *d, None),
            ("POST", ["domains", d, "templates-list"]) => ("ListTemplates", *d, None),
            ("POST", ["domains", d, "fields-batch"]) => ("BatchGetField", *d, None),
            ("POST", ["domains", d, "fields", _, "options-list"]) => ("ListFieldOptions", *d, None),
            ("POST", ["domains", d, "case-event-configuration"]) => {
                ("GetCaseEventConfiguration", *d, None)
            }
            ("PUT", ["domains", d, "case-event-configuration"]) => {
                ("PutCaseEventConfiguration", *d, None)
            }
            _ => {
                return (
                    404,
                    Some("UnknownOperationException"),
                    json!({"message": format!("no route {method} {path}")}),
                    None,
                );
            }
        };
        let mut state = self.state.lock().unwrap();
        *state.calls.entry(operation.to_owned()).or_default() += 1;
        let answered = state.calls[operation] - 1;
        let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut state.later_faults)
            .into_iter()
            .partition(|(after, rule)| rule.operation == Some(operation) && answered >= *after);
        state.later_faults = waiting;
        state.faults.extend(due.into_iter().map(|(_, rule)| rule));
        if !take_quota(&mut state.quotas, operation) {
            *state.throttled.entry(operation.to_owned()).or_default() += 1;
            return (
                429,
                Some("ThrottlingException"),
                json!({ "message": "Rate exceeded" }),
                None,
            );
        }

        let mut delay = None;
        for index in 0..state.faults.len() {
            let rule = state.faults[index].clone();
            if rule.operation.is_some_and(|o| o != operation)
                || rule.case_id.as_deref().is_some_and(|c| Some(c) != case_id)
                || rule.times == Some(0)
            {
                continue;
            }
            state.rng ^= state.rng << 13;
            state.rng ^= state.rng >> 7;
            state.rng ^= state.rng << 17;
            if (state.rng % 10_000) as f64 >= rule.rate * 10_000.0 {
                continue;
            }
            if let Some(times) = &mut state.faults[index].times {
                *times -= 1;
            }
            let message = |m: &str| json!({ "message": m });
            let answer = match rule.fault {
                // As the service names what is missing: the case of a per-case operation, the
                // domain otherwise.
                Fault::NotFound => match case_id {
                    Some(case_id) => {
                        let (status, error, body) = case_not_found(case_id);
                        (status, error, body, None)
                    }
                    None => {
                        let (status, error, body) = domain_not_found(domain_id);
                        (status, error, body, None)
                    }
                },
                Fault::AccessDenied => (
                    403,
                    Some("AccessDeniedException"),
                    message("User is not authorized to perform this action"),
                    None,
                ),
                Fault::Throttle => (
                    429,
                    Some("ThrottlingException"),
                    message("Rate exceeded"),
                    None,
                ),
                Fault::Internal => (
                    500,
                    Some("InternalServerException"),
                    message("Internal error"),
                    None,
                ),
                Fault::Validation => (
                    400,
                    Some("ValidationException"),
                    message("Invalid request"),
                    None,
                ),
                Fault::Slow(d) => {
                    delay = Some(d);
                    continue;
                }
            };
            *state
                .injected
                .entry((operation.to_owned(), answer.0))
                .or_default() += 1;
            return answer;
        }
        let page_size = state.page_size;
        let Some(domain) = state.fixture.domains.get_mut(domain_id) else {
            let (status, error, body) = domain_not_found(domain_id);
            return (status, error, body, delay);
        };
        let (status, error, body) = match operation {
            "GetCase" => get_case(domain, case_id.unwrap(), &request, page_size),
            "ListFields" => list_fields(domain, &query),
            "ListTemplates" => list_templates(domain, &query, &statuses(target)),
            "BatchGetField" => batch_get_field(domain, &request),
            "ListFieldOptions" => {
                let field_id = parts[3];
                (
                    200,
                    None,
                    json!({ "options": domain.options.get(field_id).cloned().unwrap_or_default() }),
                )
            }
            "SearchCases" => search::search_cases(domain, &request),
            "SearchRelatedItems" => {
                search::search_related_items(domain, case_id.unwrap(), &request)
            }
            "SearchAllRelatedItems" => search::search_all_related_items(domain, &request),
            "GetCaseAuditEvents" => {
                search::get_case_audit_events(domain, case_id.unwrap(), &request)
            }
            "GetCaseEventConfiguration" => (
                200,
                None,
                json!({ "eventBridge": domain.event_configuration }),
            ),
            "PutCaseEventConfiguration" => {
                domain.event_configuration = request["eventBridge"].clone();
                state.last_put_configuration = Some(request);
                (200, None, json!({}))
            }
            _ => unreachable!(),
        };
        (status, error, body, delay)
    }
}

/// Takes one token from every quota that applies to `operation`; takes none and answers false
/// when one of them is empty.
fn take_quota(quotas: &mut HashMap<Option<String>, Bucket>, operation: &str) -> bool {
    let now = Instant::now();
    let mut applicable: Vec<&mut Bucket> = quotas
        .iter_mut()
        .filter(|(op, _)| op.as_deref().is_none_or(|o| o == operation))
        .map(|(_, bucket)| bucket)
        .collect();
    for bucket in applicable.iter_mut() {
        bucket.refill(now);
    }
    if applicable.iter().any(|b| b.tokens < 1.0) {
        return false;
    }
    for bucket in applicable {
        bucket.tokens -= 1.0;
    }
    true
}

/// ResourceNotFoundException for a domain that does not exist (any operation of it).
fn domain_not_found(domain_id: &str) -> (u16, Option<&'static str>, Value) {
    (
        404,
        Some("ResourceNotFoundException"),
        json!({"message": "Domain not found", "resourceId": domain_id, "resourceType": "Domain"}),
    )
}

/// ResourceNotFoundException for a case that does not exist (deleted): `resourceType` names
/// the case, `resourceId` is its id.
fn case_not_found(case_id: &str) -> (u16, Option<&'static str>, Value) {
    (
        404,
        Some("ResourceNotFoundException"),
        json!({"message": "Case not found", "resourceId": case_id, "resourceType": "Case"}),
    )
}

fn validation(message: String) -> (u16, Option<&'static str>, Value) {
    (
        400,
        Some("ValidationException"),
        json!({ "message": message }),
    )
}

/// The `fields: [{id}]` of a request, which must hold 1 to `max` ids.
fn requested_ids(
    request: &Value,
    max: usize,
) -> Result<Vec<&str>, (u16, Option<&'static str>, Value)> {
    let ids: Vec<&str> = request["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["id"].as_str())
        .collect();
    if ids.is_empty() || ids.len() > max {
        return Err(validation(format!(
            "fields must hold 1 to {max} items, got {}",
            ids.len()
        )));
    }
    Ok(ids)
}

fn get_case(
    domain: &DomainFixture,
    case_id: &str,
    request: &Value,
    page_size: usize,
) -> (u16, Option<&'static str>, Value) {
    let Some(case) = domain.cases.get(case_id) else {
        return case_not_found(case_id);
    };
    let requested = match requested_ids(request, 220) {
        Ok(ids) => ids,
        Err(refusal) => return refusal,
    };
    // Every requested id the domain does not have, named in the message (ValidationException
    // has no other member), as CreateCase is documented to do for deleted fields.
    let unknown: Vec<&str> = requested
        .iter()
        .copied()
        .filter(|id| !domain.fields.iter().any(|f| f["fieldId"] == *id))
        .collect();
    if !unknown.is_empty() {
        return validation(format!(
            "The following field ids do not exist in the domain: {}",
            unknown.join(", ")
        ));
    }
    let values: Vec<&Value> = requested
        .iter()
        .filter_map(|id| case.fields.iter().find(|f| f["id"] == *id))
        .collect();
    let start: usize = request["nextToken"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let end = (start + page_size).min(values.len());
    let mut body = json!({ "templateId": case.template_id, "fields": values[start.min(end)..end] });
    if end < values.len() {
        body["nextToken"] = json!(end.to_string());
    }
    (200, None, body)
}

fn list_fields(
    domain: &DomainFixture,
    query: &HashMap<&str, &str>,
) -> (u16, Option<&'static str>, Value) {
    let max: usize = query
        .get("maxResults")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100);
    if !(1..=100).contains(&max) {
        return validation("maxResults must be 1 to 100".into());
    }
    let start: usize = query
        .get("nextToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let end = (start + max).min(domain.fields.len());
    let fields: Vec<Value> = domain.fields[start.min(end)..end]
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f["fieldArn"] = json!(format!(
                "arn:aws:cases:us-west-2:123456789012:domain/d/field/{}",
                f["fieldId"].as_str().unwrap_or("")
            ));
            f
        })
        .collect();
    let mut body = json!({ "fields": fields });
    if end < domain.fields.len() {
        body["nextToken"] = json!(end.to_string());
    }
    (200, None, body)
}

/// The `status` values of a query string (the member is a list: one `status=` per value).
fn statuses(target: &str) -> Vec<String> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("status="))
        .map(str::to_owned)
        .collect()
}

/// ListTemplates: `maxResults` 1 to 100 (default 100), `nextToken`, and `status` (1 or 2 of
/// `Active`, `Inactive`; the service documents no default, here none filters nothing).
fn list_templates(
    domain: &DomainFixture,
    query: &HashMap<&str, &str>,
    statuses: &[String],
) -> (u16, Option<&'static str>, Value) {
    let max: usize = query
        .get("maxResults")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100);
    if !(1..=100).contains(&max) {
        return validation("maxResults must be 1 to 100".into());
    }
    if statuses.len() > 2
        || statuses
            .iter()
            .any(|s| !["Active", "Inactive"].contains(&s.as_str()))
    {
        return validation(format!(
            "status must be 1 or 2 of Active, Inactive: {statuses:?}"
        ));
    }
    let matching: Vec<&Value> = domain
        .templates
        .iter()
        .filter(|t| statuses.is_empty() || statuses.iter().any(|s| t["status"] == s.as_str()))
        .collect();
    let start: usize = query
        .get("nextToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let end = (start + max).min(matching.len());
    let templates: Vec<Value> = matching[start.min(end)..end]
        .iter()
        .map(|t| {
            let mut t = (*t).clone();
            t["templateArn"] = json!(format!(
                "arn:aws:cases:us-west-2:123456789012:domain/d/template/{}",
                t["templateId"].as_str().unwrap_or("")
            ));
            t
        })
        .collect();
    let mut body = json!({ "templates": templates });
    if end < matching.len() {
        body["nextToken"] = json!(end.to_string());
    }
    (200, None, body)
}

fn batch_get_field(domain: &DomainFixture, request: &Value) -> (u16, Option<&'static str>, Value) {
    let requested = match requested_ids(request, 50) {
        Ok(ids) => ids,
        Err(refusal) => return refusal,
    };
    let mut fields = Vec::new();
    let mut errors = Vec::new();
    for id in requested {
        match domain.fields.iter().find(|f| f["fieldId"] == id) {
            Some(f) => {
                let mut f = f.clone();
                f["fieldArn"] = json!(format!("arn:aws:cases:us-west-2:123456789012:domain/d/field/{id}"));
                fields.push(f);
            }
            None => errors.push(json!({"id": id, "errorCode": "ResourceNotFoundException", "message": "no such field"})),
        }
    }
    (200, None, json!({ "fields": fields, "errors": errors }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    }
}

/// Reads one HTTP/1.1 request: a Content-Length body (what the SDK sends) or a chunked one (what
/// lambda_runtime sends to the runtime API).
pub async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Option<(String, String, Vec<u8>)> {
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        fill(stream, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.drain(..end + 4);
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, target) = (
        request_line.next()?.to_owned(),
        request_line.next()?.to_owned(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let line_end = loop {
                if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                fill(stream, buf).await?;
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                fill(stream, buf).await?;
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
            if size == 0 {
                return Some((method, target, body));
            }
        }
    }
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < length {
        fill(stream, buf).await?;
    }
    body.extend(buf.drain(..length));
    Some((method, target, body))
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await.ok()?;
    if n == 0 {
        return None;
    }
    buf.extend_from_slice(&chunk[..n]);
    Some(())
}
