//! Keeping a case item under DynamoDB's 400 KB item limit.
//!
//! A domain can configure up to 400 fields of up to 4,100 characters each (1.6 MB), so a case
//! item can outgrow the limit. Rather than fail the record forever, the longest text values are
//! shortened (longest first, each to [`TRIMMED_LEN`] characters plus an ellipsis) until the
//! estimate fits, and their ids are listed in `trimmedFields` so dashboards can tell.

use super::{CaseView, FieldValue};

/// Characters kept of a trimmed text value.
pub const TRIMMED_LEN: usize = 512;
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

/// Shortens the longest text fields until the field data fits `budget` bytes. Returns the ids
/// trimmed by this call (also recorded in `view.trimmed_fields`).
pub fn trim_to_budget(view: &mut CaseView, budget: usize) -> Vec<String> {
    let mut total = estimated_field_bytes(view);
    if total <= budget {
        return Vec::new();
    }
    let mut candidates: Vec<(usize, String)> = view
        .fields
        .iter()
        .filter_map(|(id, f)| match &f.value {
            FieldValue::String(s) if s.chars().count() > TRIMMED_LEN => Some((s.len(), id.clone())),
            _ => None,
        })
        .collect();
    // Longest first; ties by id so the result is deterministic.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut trimmed = Vec::new();
    for (_, id) in candidates {
        if total <= budget {
            break;
        }
        let field = view.fields.get_mut(&id).expect("candidate exists");
        if let FieldValue::String(s) = &mut field.value {
            let before = s.len();
            let cut = s
                .char_indices()
                .nth(TRIMMED_LEN)
                .map_or(s.len(), |(i, _)| i);
            s.truncate(cut);
            s.push(ELLIPSIS);
            total -= before - s.len();
        }
        if !view.trimmed_fields.contains(&id) {
            view.trimmed_fields.push(id.clone());
        }
        trimmed.push(id);
    }
    view.trimmed_fields.sort();
    trimmed
}
