//! Related-item events: one record per related item, content from the newest event that carried
//! any, deletes absorbing whatever their order.

use std::collections::BTreeMap;

use super::{CaseView, Outcome, ProjectionOptions, RelatedItemView, SkipReason, Version};
use crate::event::{FieldValue, Operation, RelatedItem, RelatedItemChange, RelatedItemContent};

pub(super) fn apply_related(
    view: &mut CaseView,
    change: &RelatedItemChange,
    version: &Version,
    options: &ProjectionOptions,
) -> (Outcome, Vec<String>) {
    let RelatedItem {
        id,
        item_type,
        created_at,
        content,
    } = &change.item;
    let case_deleted = view.deleted.is_some();
    let deletes = change.operation == Operation::Deleted;
    let Some(item) = view.related_items.get_mut(id) else {
        let mut item = RelatedItemView {
            id: id.clone(),
            item_type: item_type.clone(),
            created_at: *created_at,
            version: version.clone(),
            content_version: None,
            deleted: false,
            content: BTreeMap::new(),
            custom_fields: None,
        };
        if let (Some(content), false) = (content, deletes) {
            (item.content, item.custom_fields) = stored_content(content, options);
            item.content_version = Some(version.clone());
        }
        // Recorded even after a delete so the item exists whatever the arrival order.
        if deletes || case_deleted {
            tombstone_related(&mut item);
        }
        view.related_items.insert(id.clone(), item);
        let outcome = match &view.deleted {
            Some(deleted) if version < deleted => Outcome::Stale,
            Some(_) => Outcome::Skipped(SkipReason::AfterDelete),
            None => Outcome::Applied,
        };
        return (outcome, vec![id.clone()]);
    };
    if item.version == *version {
        return (Outcome::Duplicate, Vec::new());
    }
    let before = item.clone();
    if item.created_at.is_none() {
        item.created_at = *created_at;
    }
    let newer = *version > item.version;
    let outcome = if !newer {
        Outcome::Stale
    } else if item.deleted || case_deleted {
        Outcome::Skipped(SkipReason::AfterDelete)
    } else {
        Outcome::Applied
    };
    // Content comes from the newest event that carried any, so an older event with content
    // still fills it after a newer one without (`includeContent` switched off meanwhile).
    let newest_content = item.content_version.as_ref().is_none_or(|v| version > v);
    if let (Some(content), false, false, true) = (content, deletes, item.deleted, newest_content) {
        (item.content, item.custom_fields) = stored_content(content, options);
        item.content_version = Some(version.clone());
    }
    if newer {
        item.version = version.clone();
    }
    // Deletes are absorbing whatever their version, so any order converges on the tombstone.
    if deletes || case_deleted {
        tombstone_related(item);
    }
    let changed = if *item != before {
        vec![id.clone()]
    } else {
        Vec::new()
    };
    (outcome, changed)
}

/// Makes `item` a tombstone; returns whether anything changed.
pub(super) fn tombstone_related(item: &mut RelatedItemView) -> bool {
    let changed = !item.deleted
        || !item.content.is_empty()
        || item.custom_fields.is_some()
        || item.content_version.is_some();
    item.deleted = true;
    item.content.clear();
    item.custom_fields = None;
    item.content_version = None;
    changed
}

/// Splits event content into what the read model may keep.
fn stored_content(
    content: &RelatedItemContent,
    options: &ProjectionOptions,
) -> (
    BTreeMap<String, FieldValue>,
    Option<BTreeMap<String, FieldValue>>,
) {
    let mut attrs = BTreeMap::new();
    let mut put = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            attrs.insert(k.to_owned(), FieldValue::String(v.clone()));
        }
    };
    let mut custom = None;
    match content {
        RelatedItemContent::Contact {
            contact_arn,
            channel,
        } => {
            put("contactArn", Some(contact_arn));
            put("channel", channel.as_ref());
        }
        RelatedItemContent::Comment { body, content_type } => {
            put("contentType", content_type.as_ref());
            if options.store_customer_content {
                put("commentBody", Some(body));
            }
        }
        RelatedItemContent::File { file_arn } => put("fileArn", Some(file_arn)),
        RelatedItemContent::Sla {
            name,
            sla_type,
            status,
            target_time,
            completion_time,
        } => {
            put("slaName", Some(name));
            put("slaType", sla_type.as_ref());
            put("slaStatus", status.as_ref());
            put("slaTargetTime", target_time.as_ref());
            put("slaCompletionTime", completion_time.as_ref());
        }
        RelatedItemContent::ConnectCase { case_id } => put("linkedCaseId", Some(case_id)),
        RelatedItemContent::Custom { fields } => {
            if options.store_customer_content {
                custom = Some(fields.clone());
            }
        }
    }
    (attrs, custom)
}
