//! A generated Cases domain whose truth is known: cases with an audit history over the last ~60
//! days, related items and final field values consistent with that history, and per UTC day the
//! counts a reporting backfill must find (cases created, resolutions, reopenings, related items
//! per type). Deterministic for a seed and a "now"; no clock, no `rand`.
//!
//! Shapes follow the Cases API model: fields are `FieldValue` (`{id, value: FieldValueUnion}`);
//! audit events are `AuditEvent` with `performedTime` an ISO 8601 string; related items are
//! `SearchRelatedItemsResponseItem`. Date-time field values are `stringValue`s such as
//! `2026-11-20T09:00:00.125Z`, as GetCase returns them. The `fields` of a `RelatedItem.Created`
//! audit event are not documented; here they are `contact.channel`, `comment.body` or
//! `file.fileArn`.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use super::cases_standin::{CaseFixture, DomainFixture, Fixture};

pub const DOMAIN_ID: &str = "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d";
pub const TEMPLATE_ID: &str = "generated-template";
/// The template's name (ListTemplates), which dashboards show instead of its id.
pub const TEMPLATE_NAME: &str = "Generated inquiries";
pub const STATUSES: [&str; 3] = ["open", "pending", "closed"];
pub const CHANNELS: [&str; 3] = ["VOICE", "CHAT", "EMAIL"];
pub const SYSTEM_FIELDS: [&str; 5] = [
    "status",
    "title",
    "created_datetime",
    "last_updated_datetime",
    "last_closed_datetime",
];
const HISTORY_SECS: u64 = 60 * 86_400;

/// xorshift64*: tiny, deterministic, good enough for fixtures.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng((seed ^ 0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `low..high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low)
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn uuid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// What happened on one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCounts {
    /// `Case.Created` events.
    pub created: usize,
    /// `status` changed to `closed` from another value.
    pub resolved: usize,
    /// `status` changed from `closed` to another value.
    pub reopened: usize,
    /// `RelatedItem.Created` events per related item type (`Contact`, `Comment`, `File`).
    pub related_items: BTreeMap<String, usize>,
}

/// The truth about one case.
#[derive(Debug, Clone)]
pub struct CaseTruth {
    pub created: DateTime<Utc>,
    /// Final field values: field id → `FieldValueUnion`.
    pub fields: BTreeMap<String, Value>,
    /// Related items (`SearchRelatedItemsResponseItem`), in association order.
    pub related_items: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct GeneratedDomain {
    pub domain_id: String,
    pub now: DateTime<Utc>,
    pub domain: DomainFixture,
    /// Ids of the generated custom fields (`custom_000`, ...): even indexes Text, odd Number.
    pub custom_fields: Vec<String>,
    /// Case id → truth.
    pub cases: BTreeMap<String, CaseTruth>,
    /// UTC day → counts.
    pub days: BTreeMap<NaiveDate, DayCounts>,
}

impl GeneratedDomain {
    /// A fixture with this one domain, for [`super::cases_standin::CasesStandIn::start`].
    pub fn fixture(&self) -> Fixture {
        Fixture {
            domains: [(self.domain_id.clone(), self.domain.clone())].into(),
        }
    }

    /// The counts summed over every day.
    pub fn totals(&self) -> DayCounts {
        let mut total = DayCounts::default();
        for day in self.days.values() {
            total.created += day.created;
            total.resolved += day.resolved;
            total.reopened += day.reopened;
            for (kind, n) in &day.related_items {
                *total.related_items.entry(kind.clone()).or_default() += n;
            }
        }
        total
    }
}

/// The fixed "now" of [`generate`]: 2026-12-01T12:00:00Z.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

/// [`generate_at`] with [`default_now`].
pub fn generate(seed: u64, cases: usize, wanted_fields: usize) -> GeneratedDomain {
    generate_at(seed, cases, wanted_fields, default_now())
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn string(s: impl Into<String>) -> Value {
    json!({ "stringValue": s.into() })
}

/// `cases` cases created over the 60 days before `now`, with `wanted_fields` custom fields in the
/// domain. Every 5th case (from the 2nd) sets more than 25 custom fields when `wanted_fields` > 25;
/// every 7th (from the 4th) has more than 25 related items (when created more than a minute ago); every 4th (from the 1st) goes
/// open → closed → open → pending → closed first (a reopening, then open → pending after it).
pub fn generate_at(
    seed: u64,
    cases: usize,
    wanted_fields: usize,
    now: DateTime<Utc>,
) -> GeneratedDomain {
    let mut rng = Rng::new(seed);
    let custom_fields: Vec<String> = (0..wanted_fields)
        .map(|i| format!("custom_{i:03}"))
        .collect();
    let mut fields = vec![
        json!({"fieldId": "status", "name": "Status", "type": "SingleSelect", "namespace": "System"}),
        json!({"fieldId": "title", "name": "Title", "type": "Text", "namespace": "System"}),
    ];
    for (id, name) in [
        ("created_datetime", "Created"),
        ("last_updated_datetime", "Last updated"),
        ("last_closed_datetime", "Last closed"),
    ] {
        fields
            .push(json!({"fieldId": id, "name": name, "type": "DateTime", "namespace": "System"}));
    }
    for (i, id) in custom_fields.iter().enumerate() {
        let kind = if i.is_multiple_of(2) {
            "Text"
        } else {
            "Number"
        };
        fields.push(json!({"fieldId": id, "name": format!("Custom {i}"), "type": kind, "namespace": "Custom"}));
    }
    let options = STATUSES
        .iter()
        .map(|s| json!({"name": s[..1].to_uppercase() + &s[1..], "value": s, "active": true}))
        .collect();
    let mut generated = GeneratedDomain {
        domain_id: DOMAIN_ID.to_owned(),
        now,
        domain: DomainFixture {
            fields,
            options: [("status".to_owned(), options)].into(),
            event_configuration: json!({"enabled": true}),
            templates: vec![
                json!({"templateId": TEMPLATE_ID, "name": TEMPLATE_NAME, "status": "Active"}),
            ],
            cases: Default::default(),
        },
        custom_fields,
        cases: BTreeMap::new(),
        days: BTreeMap::new(),
    };
    for index in 0..cases {
        generate_case(&mut rng, index, &mut generated);
    }
    generated
}

enum Step {
    Status(&'static str),
    Field,
    Related,
}

struct CaseBuilder<'a> {
    rng: &'a mut Rng,
    values: BTreeMap<String, Value>,
    events: Vec<Value>,
    related: Vec<Value>,
    days: &'a mut BTreeMap<NaiveDate, DayCounts>,
}

impl CaseBuilder<'_> {
    /// Sets `id` to `new`, recording the change as an `AuditEventField`.
    fn set(&mut self, changes: &mut Vec<Value>, id: &str, new: Value) {
        let mut change = json!({ "eventFieldId": id, "newValue": new });
        match self.values.insert(id.to_owned(), new) {
            Some(old) => change["oldValue"] = old,
            // Set for the first time after creation: it was empty.
            None if !self.events.is_empty() => {
                change["oldValue"] = json!({ "emptyValue": {} });
            }
            None => {}
        }
        changes.push(change);
    }

    fn event(
        &mut self,
        kind: &str,
        related_type: Option<&str>,
        at: DateTime<Utc>,
        fields: Vec<Value>,
    ) {
        let agent = self.rng.below(20);
        let mut event = json!({
            "eventId": self.rng.uuid(),
            "type": kind,
            "performedTime": iso(at),
            "fields": fields,
            "performedBy": {
                "iamPrincipalArn": "arn:aws:iam::123456789012:role/ConnectAgent",
                "user": { "userArn": format!("arn:aws:connect:us-west-2:123456789012:instance/generated/agent/agent-{agent:02}") },
            },
        });
        if let Some(t) = related_type {
            event["relatedItemType"] = json!(t);
        }
        self.events.push(event);
    }

    fn day(&mut self, at: DateTime<Utc>) -> &mut DayCounts {
        self.days.entry(at.date_naive()).or_default()
    }

    fn random_value(&mut self, custom_index: usize) -> Value {
        if custom_index.is_multiple_of(2) {
            string(format!("text-{}", self.rng.below(100_000)))
        } else {
            json!({ "doubleValue": self.rng.below(1_000_000) as f64 / 100.0 })
        }
    }
}

fn generate_case(rng: &mut Rng, index: usize, out: &mut GeneratedDomain) {
    let case_id = rng.uuid();
    let many_fields = out.custom_fields.len() > 25 && index % 5 == 1;
    let many_items = index % 7 == 3;
    let scripted = index.is_multiple_of(4);
    let window = rng.range(3_600, HISTORY_SECS);
    let created = out.now - chrono::Duration::seconds(window as i64);
    let steps = if many_items {
        rng.range(40, 50)
    } else {
        rng.range(4, 14)
    };
    // Step times: distinct seconds strictly between creation and now.
    let mut offsets: Vec<u64> = (0..steps).map(|_| rng.range(1, window)).collect();
    offsets.sort_unstable();
    offsets.dedup();

    // Custom fields this case sets: a random subset.
    let total_custom = out.custom_fields.len();
    let count = if many_fields {
        rng.range(26, total_custom as u64 + 1) as usize
    } else {
        total_custom.min(2 + rng.below(6) as usize)
    };
    let mut pool: Vec<usize> = (0..total_custom).collect();
    for i in 0..count {
        let j = i + rng.below((total_custom - i) as u64) as usize;
        pool.swap(i, j);
    }
    let chosen: Vec<usize> = pool[..count].to_vec();

    let mut b = CaseBuilder {
        rng,
        values: BTreeMap::new(),
        events: Vec::new(),
        related: Vec::new(),
        days: &mut out.days,
    };
    let mut changes = Vec::new();
    b.set(&mut changes, "status", string("open"));
    b.set(
        &mut changes,
        "title",
        string(format!("Generated case {index}")),
    );
    b.set(&mut changes, "created_datetime", string(iso(created)));
    b.set(&mut changes, "last_updated_datetime", string(iso(created)));
    for &i in &chosen {
        let value = b.random_value(i);
        b.set(&mut changes, &out.custom_fields[i], value);
    }
    b.event("Case.Created", None, created, changes);
    b.day(created).created += 1;

    let script = ["closed", "open", "pending", "closed"];
    for (n, offset) in offsets.into_iter().enumerate() {
        let at = created + chrono::Duration::seconds(offset as i64);
        let current = b.values["status"]["stringValue"]
            .as_str()
            .unwrap()
            .to_owned();
        let step = if scripted && n < script.len() {
            Step::Status(script[n])
        } else if many_items && n % 10 != 9 {
            Step::Related
        } else {
            let roll = b.rng.below(100);
            if roll < 40 {
                Step::Status(match current.as_str() {
                    "open" => ["pending", "closed"][b.rng.below(2) as usize],
                    "pending" => ["open", "closed"][b.rng.below(2) as usize],
                    _ => ["open", "open", "pending"][b.rng.below(3) as usize],
                })
            } else if roll < 70 && !chosen.is_empty() {
                Step::Field
            } else {
                Step::Related
            }
        };
        let mut changes = Vec::new();
        match step {
            Step::Status(new) => {
                b.set(&mut changes, "status", string(new));
                b.set(&mut changes, "last_updated_datetime", string(iso(at)));
                if new == "closed" {
                    b.set(&mut changes, "last_closed_datetime", string(iso(at)));
                }
                b.event("Case.Updated", None, at, changes);
                let day = b.day(at);
                if new == "closed" && current != "closed" {
                    day.resolved += 1;
                }
                if current == "closed" && new != "closed" {
                    day.reopened += 1;
                }
            }
            Step::Field => {
                let i = chosen[b.rng.below(chosen.len() as u64) as usize];
                let value = b.random_value(i);
                b.set(&mut changes, &out.custom_fields[i], value);
                b.set(&mut changes, "last_updated_datetime", string(iso(at)));
                b.event("Case.Updated", None, at, changes);
            }
            Step::Related => {
                let (kind, content, audit_field) = match b.rng.below(3) {
                    0 => {
                        let channel = CHANNELS[b.rng.below(3) as usize];
                        let arn = format!(
                            "arn:aws:connect:us-west-2:123456789012:instance/generated/contact/{}",
                            b.rng.uuid()
                        );
                        (
                            "Contact",
                            json!({"contact": {"contactArn": arn, "channel": channel, "connectedToSystemTime": iso(at)}}),
                            json!({"eventFieldId": "contact.channel", "newValue": string(channel)}),
                        )
                    }
                    1 => {
                        let body = format!("Comment {}", b.related.len());
                        (
                            "Comment",
                            json!({"comment": {"body": body, "contentType": "Text/Plain"}}),
                            json!({"eventFieldId": "comment.body", "newValue": string(body)}),
                        )
                    }
                    _ => {
                        let arn = format!(
                            "arn:aws:connect:us-west-2:123456789012:instance/generated/file/{}",
                            b.rng.uuid()
                        );
                        (
                            "File",
                            json!({"file": {"fileArn": arn}}),
                            json!({"eventFieldId": "file.fileArn", "newValue": string(arn)}),
                        )
                    }
                };
                let item = json!({
                    "relatedItemId": b.rng.uuid(),
                    "type": kind,
                    "associationTime": iso(at),
                    "content": content,
                    "performedBy": { "userArn": "arn:aws:connect:us-west-2:123456789012:instance/generated/agent/agent-00" },
                    "tags": {},
                });
                b.related.push(item);
                b.event("RelatedItem.Created", Some(kind), at, vec![audit_field]);
                *b.day(at).related_items.entry(kind.to_owned()).or_default() += 1;
            }
        }
    }

    let CaseBuilder {
        values,
        events,
        related,
        ..
    } = b;
    out.domain.cases.insert(
        case_id.clone(),
        CaseFixture {
            template_id: TEMPLATE_ID.to_owned(),
            fields: values
                .iter()
                .map(|(id, value)| json!({ "id": id, "value": value }))
                .collect(),
            related_items: related.clone(),
            audit_events: events,
            tags: Default::default(),
        },
    );
    out.cases.insert(
        case_id,
        CaseTruth {
            created,
            fields: values,
            related_items: related,
        },
    );
}
