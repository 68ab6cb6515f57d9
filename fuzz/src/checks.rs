//! The invariants the fuzz targets check on every input. Shared, by path, with
//! `tests/integration/fuzz_regressions.rs`, which replays the seed corpora, the sample events and every
//! regression input through the same functions under `cargo test` (CI).
//!
//! - [`check_invocation_bytes`]: raw bytes as an invocation (EventBridge, SQS, array), as one
//!   event, and as one SQS body next to a valid record; then the whole projector on the in-memory
//!   store. Bad input ends the same way every time: a value-free error for that record, not
//!   retried, and the rest of the batch processed.
//! - [`check_decide`] / [`check_events`]: one case's events through `decide_case`: no panic,
//!   idempotent (a redelivery writes nothing), the same view in any order, deletes final, the
//!   metric deltas of any delivery order adding up to the final state's contribution, and the
//!   view surviving the trip to items and back.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use arbitrary::{Arbitrary, Unstructured};
use cases_projector::event::{
    CaseChange, CaseEvent, Change, FieldValue, Invocation, Operation, RelatedItem,
    RelatedItemChange, RelatedItemContent, RelatedItemType, parse_event, parse_event_value,
    parse_invocation,
};
use cases_projector::projection::contribution::{Contributions, contributions};
use cases_projector::projection::{
    CaseView, DecideContext, Outcome, ProjectionOptions, decide_case,
};
use cases_projector::projector::Projector;
use cases_projector::report::RecordOutcome;
use cases_projector::store::item::{case_items, related_item, view_from_items};
use cases_projector::store::memory::MemoryStore;
use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Target 1: raw bytes into the parser, then the projector

/// A valid record sent beside the fuzzed one: it must be processed whatever its neighbour is.
const CANARY_CASE: &str = "fuzz-canary-case";
const CANARY_ID: &str = "fuzz-canary-event";

fn canary_event() -> Value {
    json!({
        "version": "0", "id": CANARY_ID, "detail-type": "Amazon Connect Cases Change",
        "source": "aws.cases", "account": "123456789012", "time": "2026-11-20T09:00:00Z",
        "region": "us-west-2",
        "resources": ["arn:aws:cases:us-west-2:123456789012:domain/fuzz-domain"],
        "detail": {
            "version": "0", "eventType": "CASE.CREATED",
            "approximateChangeTime": "2026-11-20T09:00:00.000Z",
            "changedFieldIds": ["status"],
            "case": {"caseId": CANARY_CASE, "fields": {"status": {"value": {"stringValue": "open"}}}}
        }
    })
}

pub fn check_invocation_bytes(data: &[u8]) {
    let mut payload_strings = Vec::new();
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        collect_strings(&v, &mut payload_strings, 0);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        payload_strings.push(text.to_owned());
    }
    // Strings under 12 characters are not checked: they occur in messages by chance.
    for message in error_messages(data) {
        assert!(
            message.len() <= 1024,
            "error message of {} bytes",
            message.len()
        );
        for s in &payload_strings {
            if s.chars().count() >= 12 && !echoable(s) && message.contains(s.as_str()) {
                assert_fixed_text(data, s, &message);
            }
        }
    }
}

/// A message containing a payload string quotes it only if the message changes with it: the
/// fuzzer also writes strings that happen to be part of an error's fixed text (a key
/// "g `detail.ca" beside the message "missing `detail.case`"). The payload with that string
/// masked must give a message that still contains it.
fn assert_fixed_text(data: &[u8], quoted: &str, message: &str) {
    let needle = quoted.as_bytes();
    let mask = vec![b'Q'; needle.len()];
    let mut masked = Vec::with_capacity(data.len());
    let mut rest = data;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        masked.extend_from_slice(&rest[..at]);
        masked.extend_from_slice(&mask);
        rest = &rest[at + needle.len()..];
    }
    masked.extend_from_slice(rest);
    let fixed = masked != data && error_messages(&masked).iter().any(|m| m.contains(quoted));
    assert!(fixed, "error message quotes a payload value: {message}");
}

/// Runs the bytes through every reading (one EventBridge event as an SQS body is read, a direct
/// invocation, the body of an SQS message beside a valid one, each through the projector),
/// checks what must hold of each, and returns every error message a log line would carry.
fn error_messages(data: &[u8]) -> Vec<String> {
    let mut messages = Vec::new();
    let value = serde_json::from_slice::<Value>(data).ok();
    let direct = parse_event(data);
    match &direct {
        Ok(event) => check_parsed(event),
        Err(e) => messages.push(e.to_string()),
    }
    // Read from bytes or from a JSON value (direct invocation), an event is the same event.
    if let Some(v) = &value
        && let (Ok(a), Ok(b)) = (&direct, &parse_event_value(v.clone()))
    {
        assert_eq!(a, b, "bytes and JSON value parse to different events");
    }

    if let Some(v) = value {
        check_invocation(v, &mut messages, false);
    }
    if let Ok(body) = std::str::from_utf8(data) {
        let batch = json!({"Records": [
            {"messageId": "fuzzed", "body": body},
            {"messageId": "canary", "body": canary_event().to_string()},
        ]});
        check_invocation(batch, &mut messages, true);
    }
    messages
}

/// What holds for every event the parser accepts.
fn check_parsed(event: &CaseEvent) {
    assert!(!event.id.is_empty() && event.id.len() <= 256, "event id");
    assert!(!event.domain_id.is_empty(), "domain id");
    assert_eq!(
        event.changed_at.nanosecond() % 1_000_000,
        0,
        "change time keeps milliseconds only"
    );
}

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    RUNTIME.with(|rt| {
        let mut rt = rt.borrow_mut();
        let rt = rt.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap()
        });
        rt.block_on(f)
    })
}

/// Parses `payload` as an invocation and runs it through the projector on a fresh in-memory
/// store: every record ends applied or reported; a record that does not parse fails alone and
/// not retryable; every record that parses is processed (the store is healthy). Adds the error
/// messages to `messages`.
fn check_invocation(payload: Value, messages: &mut Vec<String>, with_canary: bool) {
    let invocation = parse_invocation(payload.clone());
    if let Invocation::Unrecognised(e) = &invocation {
        messages.push(e.to_string());
    }
    let parsed: Vec<Result<(), String>> = invocation
        .records()
        .iter()
        .map(|r| match &r.event {
            Ok(event) => {
                check_parsed(event);
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        })
        .collect();
    let projector = Projector::new(MemoryStore::new(), ProjectionOptions::default(), 4);
    let report = block_on(projector.handle(parse_invocation(payload), None));
    assert_eq!(report.records.len(), parsed.len(), "one report per record");
    for (record, parsed) in report.records.iter().zip(&parsed) {
        match (parsed, &record.outcome) {
            (Err(_), RecordOutcome::Failed { retryable, error }) => {
                assert!(!retryable, "malformed input is never retried");
                messages.push(error.clone());
            }
            (Err(_), outcome) => panic!("malformed record ended {outcome:?}"),
            (Ok(()), RecordOutcome::Done(_)) => {}
            (Ok(()), RecordOutcome::Failed { error, retryable }) => {
                panic!("a parsed record failed on a healthy store (retryable {retryable}): {error}")
            }
        }
    }
    if with_canary {
        let canary = report.records.last().expect("the canary record");
        assert!(
            matches!(canary.outcome, RecordOutcome::Done(_)),
            "the valid record beside a fuzzed one was not processed: {:?}",
            canary.outcome
        );
    }
}

/// Every string of a JSON value (keys too), and those inside string values that are JSON
/// themselves (SQS bodies).
fn collect_strings(v: &Value, out: &mut Vec<String>, depth: usize) {
    match v {
        Value::String(s) => {
            out.push(s.clone());
            if depth < 4
                && let Ok(inner) = serde_json::from_str::<Value>(s)
            {
                collect_strings(&inner, out, depth + 1);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out, depth)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                collect_strings(v, out, depth);
            }
        }
        _ => {}
    }
}

/// What the parser may echo: short identifier-like strings (`source`, `detail-type`, a field id).
fn echoable(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" -_.:/#@".contains(&b))
}

// ---------------------------------------------------------------------------------------------
// Target 2: structured event sequences through the pure per-case decision

/// A test-only description of one case's event stream; [`Spec::events`] makes real events.
#[derive(Debug, Clone, Arbitrary)]
pub struct Spec {
    pub store_customer_content: bool,
    /// How far the rotated delivery order is rotated.
    pub rotation: u8,
    /// Seed of one more (shuffled) delivery order.
    pub shuffle_seed: u64,
    pub events: Vec<EventSpec>,
}

#[derive(Debug, Clone, Arbitrary)]
pub struct EventSpec {
    /// Event ids come from a small set: a repeated id is a redelivery of the first event with
    /// that id (same content), as EventBridge ids are unique per event.
    pub id: u8,
    /// Milliseconds after 23:59:59.996, so ties happen and the counters' day changes.
    pub at: u8,
    pub kind: KindSpec,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum OpSpec {
    Created,
    Updated,
    Deleted,
}

#[derive(Debug, Clone, Arbitrary)]
pub enum KindSpec {
    Case {
        op: OpSpec,
        with_template: bool,
        with_created: bool,
        changed: Vec<u8>,
        /// `None`: a metadata-only event.
        fields: Option<Vec<(u8, ValueSpec)>>,
    },
    Related {
        op: OpSpec,
        /// The item (its type follows from it: a related item never changes type).
        item: u8,
        with_created: bool,
        /// Content tag; `None` when the domain does not include content.
        content: Option<u8>,
    },
    Unknown,
}

#[derive(Debug, Clone, Arbitrary)]
pub enum ValueSpec {
    Text(u8),
    Closed,
    Open,
    Number(i16),
    /// Out of DynamoDB's number range.
    Huge(bool),
    Bool(bool),
    Empty,
    User(u8),
    /// Kilobytes of text: a few of them outgrow the case item's field budget.
    Long(u8, u8),
}

pub const FUZZ_CASE: &str = "fuzz-case";
const FUZZ_DOMAIN: &str = "fuzz-domain";
const FIELD_IDS: [&str; 7] = [
    "status",
    "title",
    "priority",
    "last_closed_datetime",
    "notes",
    "vip",
    "assigned_user",
];
const MAX_EVENTS: usize = 48;

fn base_time() -> DateTime<Utc> {
    "2026-11-20T23:59:59.996Z".parse().unwrap()
}

fn operation(op: OpSpec) -> Operation {
    match op {
        OpSpec::Created => Operation::Created,
        OpSpec::Updated => Operation::Updated,
        OpSpec::Deleted => Operation::Deleted,
    }
}

fn value(v: &ValueSpec) -> FieldValue {
    match v {
        ValueSpec::Text(n) => FieldValue::String(format!("t{}", n % 8)),
        ValueSpec::Closed => FieldValue::String(["closed", "Closed", "CLOSED"][0].into()),
        ValueSpec::Open => FieldValue::String("open".into()),
        ValueSpec::Number(n) => FieldValue::Double(f64::from(*n) / 4.0),
        ValueSpec::Huge(big) => FieldValue::Double(if *big { 1e130 } else { -1e-131 }),
        ValueSpec::Bool(b) => FieldValue::Boolean(*b),
        ValueSpec::Empty => FieldValue::Empty,
        ValueSpec::User(n) => FieldValue::UserArn(format!(
            "arn:aws:connect:us-west-2:123456789012:instance/i/agent/{}",
            n % 4
        )),
        ValueSpec::Long(tag, kb) => FieldValue::String(
            char::from(b'a' + tag % 26)
                .to_string()
                .repeat(1024 * usize::from(kb % 96)),
        ),
    }
}

const ITEM_TYPES: [&str; 8] = [
    "Contact",
    "Comment",
    "File",
    "Sla",
    "ConnectCase",
    "Custom",
    "Widget",
    "comment",
];

fn content(item_type: &RelatedItemType, tag: u8) -> Option<RelatedItemContent> {
    let tag = tag % 4;
    Some(match item_type {
        RelatedItemType::Contact => RelatedItemContent::Contact {
            contact_arn: format!("arn:contact/{tag}"),
            channel: tag.is_multiple_of(2).then(|| "VOICE".into()),
        },
        RelatedItemType::Comment => RelatedItemContent::Comment {
            body: format!("body {tag}"),
            content_type: Some("Text/Plain".into()),
        },
        RelatedItemType::File => RelatedItemContent::File {
            file_arn: format!("arn:file/{tag}"),
        },
        RelatedItemType::Sla => RelatedItemContent::Sla {
            name: format!("sla {tag}"),
            sla_type: Some("CaseField".into()),
            status: Some(["Active", "Met", "NotMet", "Overdue"][usize::from(tag)].into()),
            target_time: Some("2026-11-21T09:10:30.000Z".into()),
            completion_time: None,
        },
        RelatedItemType::ConnectCase => RelatedItemContent::ConnectCase {
            case_id: format!("linked-{tag}"),
        },
        RelatedItemType::Custom => RelatedItemContent::Custom {
            fields: BTreeMap::from([("note".to_owned(), FieldValue::String(format!("n{tag}")))]),
        },
        RelatedItemType::Unknown(_) => return None,
    })
}

impl Spec {
    /// The events of one case in delivery order; a repeated id is an exact copy.
    pub fn events(&self) -> Vec<CaseEvent> {
        let mut by_id: HashMap<u8, CaseEvent> = HashMap::new();
        let mut out = Vec::new();
        for spec in self.events.iter().take(MAX_EVENTS) {
            let key = spec.id % 24;
            let event = by_id
                .entry(key)
                .or_insert_with(|| build_event(key, spec))
                .clone();
            out.push(event);
        }
        out
    }

    pub fn options(&self) -> ProjectionOptions {
        ProjectionOptions {
            store_customer_content: self.store_customer_content,
        }
    }
}

fn build_event(key: u8, spec: &EventSpec) -> CaseEvent {
    let changed_at = base_time() + Duration::milliseconds(i64::from(spec.at % 8));
    let change = match &spec.kind {
        KindSpec::Case {
            op,
            with_template,
            with_created,
            changed,
            fields,
        } => Change::Case(CaseChange {
            operation: operation(*op),
            // Immutable in Connect: every event that carries them carries the same values.
            template_id: with_template.then(|| "tpl-1".to_owned()),
            created_at: with_created.then(|| "2026-11-20T09:00:00.125Z".parse().unwrap()),
            changed_field_ids: changed
                .iter()
                .take(8)
                .map(|f| FIELD_IDS[usize::from(*f) % FIELD_IDS.len()].to_owned())
                .collect(),
            fields: fields.as_ref().map(|fields| {
                fields
                    .iter()
                    .take(8)
                    .map(|(f, v)| {
                        (
                            FIELD_IDS[usize::from(*f) % FIELD_IDS.len()].to_owned(),
                            value(v),
                        )
                    })
                    .collect()
            }),
        }),
        KindSpec::Related {
            op,
            item,
            with_created,
            content: tag,
        } => {
            let n = usize::from(*item) % 10;
            let item_type = RelatedItemType::parse(ITEM_TYPES[n % ITEM_TYPES.len()]);
            Change::RelatedItem(RelatedItemChange {
                operation: operation(*op),
                changed_attributes: Vec::new(),
                item: RelatedItem {
                    id: format!("ri-{n}"),
                    content: tag.and_then(|t| content(&item_type, t)),
                    item_type,
                    created_at: with_created.then(|| "2026-11-20T09:09:00.000Z".parse().unwrap()),
                },
            })
        }
        KindSpec::Unknown => Change::Unknown {
            event_type: "CASE.ARCHIVED".into(),
        },
    };
    CaseEvent {
        id: format!("ev-{key:02}"),
        domain_id: FUZZ_DOMAIN.into(),
        case_id: FUZZ_CASE.into(),
        changed_at,
        performed_by: None,
        change,
    }
}

/// Decodes fuzzer bytes as the decide target does (for replaying corpus files in tests).
pub fn check_decide_bytes(data: &[u8]) {
    if let Ok(spec) = Spec::arbitrary_take_rest(Unstructured::new(data)) {
        check_decide(&spec);
    }
}

pub fn check_decide(spec: &Spec) {
    let events = spec.events();
    let options = spec.options();
    check_events(&events, &options);
    let n = events.len();
    if n > 1 {
        let mut rotated = events.clone();
        rotated.rotate_left(usize::from(spec.rotation) % n);
        let mut shuffled = events.clone();
        shuffle(&mut shuffled, spec.shuffle_seed);
        let expected = decide_case(None, &events, &context(&options)).view;
        for (name, order) in [("rotated", rotated), ("shuffled", shuffled)] {
            let (view, metrics) = fold_one_at_a_time(&order, &options);
            assert_eq!(view, expected, "{name} delivery gives another state");
            assert_eq!(
                metrics,
                contribution(view.as_ref()),
                "{name} delivery's metric deltas"
            );
        }
    }
}

/// The invariants of `decide_case` on one case's events (delivery order as given).
pub fn check_events(events: &[CaseEvent], options: &ProjectionOptions) {
    let first = decide_case(None, events, &context(options));
    assert_eq!(first.outcomes.len(), events.len(), "one outcome per event");
    let mut seen = HashSet::new();
    for (event, outcome) in events.iter().zip(&first.outcomes) {
        if !seen.insert(event.id.as_str()) {
            assert_eq!(*outcome, Outcome::Duplicate, "a copy within the batch");
        }
    }
    if first.view.is_none() {
        assert!(!first.writes(), "nothing stored, nothing written");
    }
    assert_eq!(
        nonzero(first.metric_deltas.clone()),
        contribution(first.view.as_ref()),
        "a new case's deltas are its contribution"
    );

    // Applying the same events again changes nothing and writes nothing: every number follows
    // from the state, which already holds them.
    let again = decide_case(first.view.as_ref(), events, &context(options));
    assert!(!again.writes(), "redelivery writes: {again:?}");
    assert_eq!(again.view, first.view, "redelivery changes the state");
    assert!(again.metric_deltas.is_empty(), "redelivery moves a number");

    // Any order gives the same state and the same numbers.
    let mut reversed = events.to_vec();
    reversed.reverse();
    for order in [events.to_vec(), reversed] {
        let (view, metrics) = fold_one_at_a_time(&order, options);
        // The aggregates are written as deltas: whatever the order, they must add up to what
        // the final state contributes.
        assert_eq!(
            metrics,
            contribution(view.as_ref()),
            "another delivery order's metric deltas"
        );
        assert_eq!(
            view, first.view,
            "another delivery order gives another state"
        );
    }

    if let Some(view) = &first.view {
        check_deleted(events, view);
        check_items_round_trip(view);
    }
}

/// After a `CASE.DELETED`, in any order: a tombstone without fields, every related item a
/// tombstone without content.
fn check_deleted(events: &[CaseEvent], view: &CaseView) {
    let deleted = events
        .iter()
        .any(|e| matches!(&e.change, Change::Case(c) if c.operation == Operation::Deleted));
    if !deleted {
        assert!(!view.is_deleted());
        return;
    }
    assert!(view.is_deleted(), "a deleted case is live again");
    assert!(view.fields.is_empty(), "a tombstone keeps fields");
    for item in view.related_items.values() {
        assert!(item.deleted, "a live related item under a deleted case");
        assert!(item.content.is_empty() && item.custom_fields.is_none());
        assert!(item.content_version.is_none());
    }
    assert!(view.related_item_counts().is_empty());
}

/// What is written reads back as the same state (trimmed values restored from `FULL#` items).
fn check_items_round_trip(view: &CaseView) {
    let (case, overflow) = case_items(view, 7);
    let mut items = vec![case];
    items.extend(overflow);
    items.extend(
        view.related_items
            .values()
            .map(|r| related_item(&view.case_id, r)),
    );
    let stored = view_from_items(&view.case_id, &items)
        .expect("written items read back")
        .expect("a case item");
    assert_eq!(stored.revision, 7);
    assert_eq!(
        &stored.view, view,
        "state changed on its way through the items"
    );
}

/// Delivers events one per invocation; returns the state and the sum of the metric deltas
/// written.
fn fold_one_at_a_time(
    events: &[CaseEvent],
    options: &ProjectionOptions,
) -> (Option<CaseView>, Contributions) {
    let mut state: Option<CaseView> = None;
    let mut metrics = Contributions::new();
    for event in events {
        let d = decide_case(
            state.as_ref(),
            std::slice::from_ref(event),
            &context(options),
        );
        for (bucket, attrs) in d.metric_deltas {
            let sum = metrics.entry(bucket).or_default();
            for (name, n) in attrs {
                *sum.entry(name).or_default() += n;
            }
        }
        if d.view.is_some() {
            state = d.view;
        }
    }
    (state, nonzero(metrics))
}

/// Grouped by two of the fuzzed fields, so that changing them moves contributions.
const DIMENSIONS: [&str; 2] = ["priority", "assigned_user"];

fn dimensions() -> Vec<String> {
    DIMENSIONS.map(String::from).to_vec()
}

/// What a case in state `view` contributes to the aggregates.
fn contribution(view: Option<&CaseView>) -> Contributions {
    nonzero(
        view.map(|v| contributions(v, &dimensions()))
            .unwrap_or_default(),
    )
}

fn nonzero(mut c: Contributions) -> Contributions {
    c.retain(|_, attrs| {
        attrs.retain(|_, n| *n != 0);
        !attrs.is_empty()
    });
    c
}

/// Deterministic (xorshift) shuffle.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

/// The decision context of a live projector with no enrichment, reporting by [`DIMENSIONS`].
fn context(options: &ProjectionOptions) -> DecideContext<'_> {
    static DIMS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    DecideContext {
        enrichment: None,
        dimensions: DIMS.get_or_init(dimensions),
        options,
    }
}
