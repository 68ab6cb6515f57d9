//! What one commit writes, as plain data: the same plan runs on DynamoDB and on the in-memory
//! store, so both hold the same items and fail the same conditions.

use std::collections::BTreeMap;

use super::item::{Item, case_items, encode_version, overflow_item_count, related_item};
use super::keys::{
    event_key, metrics_code_key, metrics_current_key, metrics_day_key, overflow_key, stats_key,
};
use super::{CaseCommit, StoreError};
use crate::analytics::aggregate::Bucket;
use crate::analytics::codes::compact;
use crate::projection::{CountedEvent, CounterIncrements, RelatedItemView};

/// DynamoDB allows 100 actions per transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// No item with this key exists.
    Absent,
    /// The item's `rev` equals this (optimistic concurrency on the case item).
    Revision(u64),
    /// No item exists, or its `version` is not newer than this encoded version: a tombstone
    /// written ahead never replaces a newer record.
    VersionAtMost(String),
    /// A lease item: none exists, it expired (`leaseUntil` before `now`, epoch seconds), or
    /// `owner` holds it.
    LeaseFree { owner: String, now: u64 },
    /// No item exists, or its `text` is this one.
    TextIs(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Delete {
        pk: String,
        sk: String,
    },
    /// `ADD` each increment to a numeric attribute (created at 0).
    Add {
        pk: String,
        sk: String,
        increments: BTreeMap<String, i64>,
    },
}

impl Write {
    pub fn key(&self) -> (String, String) {
        let key_of = |item: &Item, k: &str| {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        match self {
            Write::Put { item, .. } => (key_of(item, "pk"), key_of(item, "sk")),
            Write::Delete { pk, sk } | Write::Add { pk, sk, .. } => (pk.clone(), sk.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct WritePlan {
    /// Tombstones of a case delete too many for one transaction: final whatever the order, so
    /// they may go first, each conditional on replacing no newer record. A failed condition is
    /// not an error (the transaction then loses its race and the case is decided again).
    pub ahead: Vec<Write>,
    /// All or nothing. The first write is the case item, conditional on the revision loaded.
    pub atomic: Vec<Write>,
    /// Index in `atomic` of each counted event's marker, with the event id.
    pub markers: Vec<(usize, String)>,
    /// `CODE#` items: the texts of the codes the aggregate updates name. The same whenever
    /// written, so they go first (each at most once per store instance), conditional on not
    /// replacing another text: a failed condition is a code collision, an error.
    pub codes: Vec<Write>,
}

impl WritePlan {
    /// Whether the atomic write at `index` is a counted event's marker.
    pub fn is_marker(&self, index: usize) -> bool {
        self.markers.iter().any(|(i, _)| *i == index)
    }
}

/// Plans `commit`. `expires_at` is the markers' TTL (epoch seconds).
pub fn plan(commit: &CaseCommit<'_>, expires_at: u64) -> WritePlan {
    let view = commit.view;
    let case_id = &view.case_id;
    let (case, overflow) = case_items(view, commit.new_revision());
    let condition = match commit.previous {
        None => Condition::Absent,
        Some(p) => Condition::Revision(p.revision),
    };
    let mut atomic = vec![Write::Put {
        item: case,
        condition: Some(condition),
    }];
    // Overflow items left from an earlier, longer state are deleted with the write.
    let written = overflow.len();
    let stored = commit.previous.map_or(0, |p| overflow_item_count(&p.view));
    atomic.extend(overflow.into_iter().map(|item| Write::Put {
        item,
        condition: None,
    }));
    atomic.extend((written..stored.max(written)).map(|i| {
        let (pk, sk) = overflow_key(case_id, i);
        Write::Delete { pk, sk }
    }));

    let merged = merge_counters(&commit.counted_events);

    // Related items a counted event creates commit with its marker; the others may go ahead
    // when they do not fit (only a case delete's tombstones are that many).
    let (with_marker, rest): (Vec<&RelatedItemView>, Vec<&RelatedItemView>) =
        commit.related_items.iter().copied().partition(|r| {
            commit
                .counted_events
                .iter()
                .any(|e| e.related_item_id.as_deref() == Some(r.id.as_str()))
        });
    let fixed = atomic.len() + commit.counted_events.len() + merged.len() + with_marker.len();
    let put = |r: &RelatedItemView| Write::Put {
        item: related_item(case_id, r),
        condition: None,
    };
    let mut ahead = Vec::new();
    if fixed + rest.len() > MAX_TRANSACTION_ITEMS {
        ahead.extend(rest.iter().map(|r| Write::Put {
            item: related_item(case_id, r),
            condition: Some(Condition::VersionAtMost(encode_version(&r.version))),
        }));
    } else {
        atomic.extend(rest.iter().map(|r| put(r)));
    }
    atomic.extend(with_marker.iter().map(|r| put(r)));
    let mut markers = Vec::new();
    for e in &commit.counted_events {
        markers.push((atomic.len(), e.event_id.clone()));
        atomic.push(Write::Put {
            item: marker(&e.event_id, case_id, Some(expires_at)),
            condition: Some(Condition::Absent),
        });
    }
    for c in &merged {
        let (pk, sk) = stats_key(&c.domain_id, c.day);
        atomic.push(Write::Add {
            pk,
            sk,
            increments: c.increments.clone(),
        });
    }
    // Pairs, not a map: two texts of one code both go to the store, whose condition refuses
    // the second.
    let mut texts = std::collections::BTreeSet::new();
    for (bucket, increments) in commit.metric_deltas {
        let (pk, sk) = match bucket {
            Bucket::Day(day) => metrics_day_key(&view.domain_id, *day),
            Bucket::Current => metrics_current_key(&view.domain_id),
        };
        let increments = increments
            .iter()
            .map(|(name, by)| {
                let (stored, coded) = compact(name);
                texts.extend(coded);
                (stored, *by)
            })
            .collect();
        atomic.push(Write::Add { pk, sk, increments });
    }
    let codes = texts
        .into_iter()
        .map(|(code, text)| code_item(&view.domain_id, &code, text))
        .collect();
    WritePlan {
        ahead,
        atomic,
        markers,
        codes,
    }
}

/// Counts `events` exactly once: a conditional marker per event and one `ADD` per domain and
/// day, all or nothing. A failed marker condition means that event was counted before. Markers
/// without `expires_at` are kept for good (audit history can be read again any time).
pub fn count_plan(events: &[CountedEvent], expires_at: Option<u64>) -> WritePlan {
    let mut atomic = Vec::new();
    let mut markers = Vec::new();
    for e in events {
        markers.push((atomic.len(), e.event_id.clone()));
        atomic.push(Write::Put {
            item: marker(&e.event_id, "", expires_at),
            condition: Some(Condition::Absent),
        });
    }
    for c in merge_counters(events) {
        let (pk, sk) = stats_key(&c.domain_id, c.day);
        atomic.push(Write::Add {
            pk,
            sk,
            increments: c.increments,
        });
    }
    WritePlan {
        atomic,
        markers,
        ..WritePlan::default()
    }
}

/// Counters of several events on the same domain and day, as one increment each.
fn merge_counters(events: &[CountedEvent]) -> Vec<CounterIncrements> {
    let mut merged: Vec<CounterIncrements> = Vec::new();
    for e in events {
        match merged
            .iter_mut()
            .find(|c| c.domain_id == e.counters.domain_id && c.day == e.counters.day)
        {
            Some(c) => {
                for (k, v) in &e.counters.increments {
                    *c.increments.entry(k.clone()).or_insert(0) += v;
                }
            }
            None => merged.push(e.counters.clone()),
        }
    }
    merged
}

/// Two texts share an aggregate code (60 bits: about 4 chances in 10^9 among 10^5 groups):
/// the second cannot be stored, and counting it under the first would be wrong.
pub fn code_collision(sk: &str) -> StoreError {
    StoreError::Rejected(format!(
        "aggregate code {sk} already stands for another text"
    ))
}

/// The `CODE#` item of an aggregate code.
fn code_item(domain_id: &str, code: &str, text: String) -> Write {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (pk, sk) = metrics_code_key(domain_id, code);
    Write::Put {
        item: Item::from([
            ("pk".into(), AttributeValue::S(pk)),
            ("sk".into(), AttributeValue::S(sk)),
            ("text".into(), AttributeValue::S(text.clone())),
        ]),
        condition: Some(Condition::TextIs(text)),
    }
}

/// A counted-event marker; `expires_at` `None` keeps it for good.
fn marker(event_id: &str, case_id: &str, expires_at: Option<u64>) -> Item {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (pk, sk) = event_key(event_id);
    let mut item = Item::from([
        ("pk".into(), AttributeValue::S(pk)),
        ("sk".into(), AttributeValue::S(sk)),
    ]);
    if !case_id.is_empty() {
        item.insert("caseId".into(), AttributeValue::S(case_id.into()));
    }
    if let Some(at) = expires_at {
        item.insert("expiresAt".into(), AttributeValue::N(at.to_string()));
    }
    item
}

/// Keys are bounded by DynamoDB (partition key < 2048 bytes, sort key < 1024): ids are validated
/// at parse time, this is the last line.
pub fn key_fits(pk: &str, sk: &str) -> bool {
    pk.len() < 2048 && sk.len() < 1024
}
