//! Keeping a case item under DynamoDB's 400 KB item limit.
//!
//! A domain can configure up to 400 fields of up to 4,100 characters each (1.6 MB and more in
//! multi-byte text), so a case item can outgrow the limit. Rather than fail the record forever,
//! the longest text values are shortened until the estimate fits, and their ids are listed in
//! `trimmedFields` so dashboards can tell. Numbers, booleans and user ARNs are never trimmed.

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

/// Shortens the longest text values until the field data fits `budget` bytes. Every text value
/// longer than one common cap is cut to it (plus an ellipsis), and the cap is the largest that
/// fits: the longest values lose most, short ones are untouched, and the result is
/// deterministic. Returns the ids trimmed by this call (also recorded in `view.trimmed_fields`).
pub fn trim_to_budget(view: &mut CaseView, budget: usize) -> Vec<String> {
    let total = estimated_field_bytes(view);
    if total <= budget {
        return Vec::new();
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
    let mut trimmed = Vec::new();
    for (id, field) in view.fields.iter_mut() {
        let FieldValue::String(s) = &mut field.value else {
            continue;
        };
        if s.len() <= cap + ellipsis {
            continue;
        }
        let mut cut = cap;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push(ELLIPSIS);
        trimmed.push(id.clone());
    }
    for id in &trimmed {
        if !view.trimmed_fields.contains(id) {
            view.trimmed_fields.push(id.clone());
        }
    }
    view.trimmed_fields.sort();
    trimmed
}
