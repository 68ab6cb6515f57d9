//! Keeping a case item under DynamoDB's 400 KB item limit.
//!
//! A domain can configure up to 400 fields of up to 4,100 characters each (1.6 MB and more in
//! multi-byte text), so a case item can outgrow the limit. Rather than fail the record forever,
//! the case item holds the longest text values shortened until the estimate fits, lists their ids
//! in `trimmedFields`, and the full values go to overflow items beside it (see `store::item`).
//! Numbers, booleans and user ARNs are never trimmed.

use std::collections::BTreeMap;

use super::{CaseView, FieldValue};

const ELLIPSIS: char = '…';

/// Bytes a field costs in the case item: id twice (value and version maps), value, version.
fn field_cost(id: &str, value: &FieldValue, event_id_len: usize) -> usize {
    let value_len = match value {
        FieldValue::String(s) | FieldValue::UserArn(s) => s.len(),
        FieldValue::Double(_) => 21,
        FieldValue::Boolean(_) | FieldValue::Empty => 1,
    };
    2 * id.len() + value_len + 25 + event_id_len
}

/// Estimated bytes of the case item's field data.
pub fn estimated_field_bytes(view: &CaseView) -> usize {
    view.fields
        .iter()
        .map(|(id, f)| field_cost(id, &f.value, f.version.event_id.len()))
        .sum()
}

/// The values to store in place of the longest text values so that the field data fits
/// `budget` bytes: field id → value cut to one common cap (plus an ellipsis). The cap is the
/// largest that fits, so the longest values lose most and short ones are untouched. A function
/// of the full values alone: the same state is cut the same way whatever the order that built
/// it. Empty when the data fits.
pub fn trimmed_values(view: &CaseView, budget: usize) -> BTreeMap<String, String> {
    let total = estimated_field_bytes(view);
    if total <= budget {
        return BTreeMap::new();
    }
    let lengths: Vec<usize> = view
        .fields
        .values()
        .filter_map(|f| match &f.value {
            FieldValue::String(s) => Some(s.len()),
            _ => None,
        })
        .collect();
    let ellipsis = ELLIPSIS.len_utf8();
    // Bytes saved if every longer text value is cut to `cap` bytes plus the ellipsis.
    let saved = |cap: usize| -> usize {
        lengths
            .iter()
            .map(|l| l.saturating_sub(cap + ellipsis))
            .sum()
    };
    let excess = total - budget;
    let (mut lo, mut hi) = (0usize, lengths.iter().copied().max().unwrap_or(0));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if saved(mid) >= excess {
            lo = mid
        } else {
            hi = mid - 1
        }
    }
    let cap = lo;
    let mut cut_values = BTreeMap::new();
    for (id, field) in &view.fields {
        let FieldValue::String(s) = &field.value else {
            continue;
        };
        if s.len() <= cap + ellipsis {
            continue;
        }
        let mut cut = cap;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut value = s[..cut].to_owned();
        value.push(ELLIPSIS);
        cut_values.insert(id.clone(), value);
    }
    cut_values
}
