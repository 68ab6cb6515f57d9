//! What one commit writes, as plain data: the same plan runs on DynamoDB and on the in-memory
//! store, so both hold the same items and fail the same conditions.

use std::collections::BTreeMap;

use super::codes::{CodeText, compact};
use super::item::{Item, case_items, encode_version, overflow_item_count, related_item};
use super::keys::{metrics_code_key, metrics_current_key, metrics_day_key, overflow_key};
use super::{CaseCommit, StoreError};
use crate::projection::RelatedItemView;
use crate::projection::contribution::Bucket;

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
    /// No item exists, or its `text` is this one (a code's canonical meaning).
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
    /// `CODE#` items: the texts of the codes the aggregate updates name. The same whenever
    /// written, so they go first (each at most once per store instance), conditional on not
    /// replacing another text: a failed condition is a code collision, an error.
    pub codes: Vec<Write>,
}

/// Plans `commit`.
pub fn plan(commit: &CaseCommit<'_>) -> WritePlan {
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

    let aggregates = commit.metric_deltas.len();
    let put = |r: &RelatedItemView, condition: Option<Condition>| Write::Put {
        item: related_item(case_id, r),
        condition,
    };
    // Related items go ahead when they do not fit (only a case delete's tombstones are that many).
    let mut ahead = Vec::new();
    if atomic.len() + aggregates + commit.related_items.len() > MAX_TRANSACTION_ITEMS {
        ahead.extend(commit.related_items.iter().map(|r| {
            put(
                r,
                Some(Condition::VersionAtMost(encode_version(&r.version))),
            )
        }));
    } else {
        atomic.extend(commit.related_items.iter().map(|r| put(r, None)));
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
            .map(|(counter, by)| {
                let (stored, coded) = compact(counter);
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
        codes,
    }
}

/// Two texts share an aggregate code (60 bits: about 4 chances in 10^9 among 10^5 groups):
/// the second cannot be stored, and counting it under the first would be wrong.
pub fn code_collision(sk: &str) -> StoreError {
    StoreError::Rejected(format!(
        "aggregate code {sk} already stands for another text"
    ))
}

/// The `CODE#` item of an aggregate code: its meaning as separate attributes (`field` and
/// `value` of a group, or `status`, or `relatedItemType`), and `text`, the canonical form the
/// condition compares.
fn code_item(domain_id: &str, code: &str, meaning: CodeText) -> Write {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (pk, sk) = metrics_code_key(domain_id, code);
    let text = meaning.canonical();
    let mut item = Item::from([
        ("pk".into(), AttributeValue::S(pk)),
        ("sk".into(), AttributeValue::S(sk)),
        ("text".into(), AttributeValue::S(text.clone())),
    ]);
    let s = |v: &str| AttributeValue::S(v.to_owned());
    match &meaning {
        CodeText::Group(g) => {
            item.insert("field".into(), s(&g.field));
            item.insert("value".into(), s(&g.value));
        }
        CodeText::Status(status) => {
            item.insert("status".into(), s(status));
        }
        CodeText::RelatedItemType(t) => {
            item.insert("relatedItemType".into(), s(t));
        }
    }
    Write::Put {
        item,
        condition: Some(Condition::TextIs(text)),
    }
}

/// The meaning of a stored `CODE#` item (see [`code_item`]).
pub fn code_meaning(item: &Item) -> Option<CodeText> {
    let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    if let (Some(field), Some(value)) = (s("field"), s("value")) {
        return Some(CodeText::Group(crate::projection::contribution::Group {
            field,
            value,
        }));
    }
    s("status")
        .map(CodeText::Status)
        .or_else(|| s("relatedItemType").map(CodeText::RelatedItemType))
}

/// Keys are bounded by DynamoDB (partition key < 2048 bytes, sort key < 1024): ids are validated
/// at parse time, this is the last line.
pub fn key_fits(pk: &str, sk: &str) -> bool {
    pk.len() < 2048 && sk.len() < 1024
}
