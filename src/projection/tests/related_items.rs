//! Given / when / then for related items.

use super::*;

#[test]
fn related_item_for_unknown_case_is_recorded_and_counted() {
    let d = when(&None, "06-related-item-contact-created.json");
    assert_eq!(d.outcome, Outcome::Applied);
    assert!(d.case_changed, "a placeholder case item carries the counts");
    assert_eq!(d.view.version, None, "no case event seen yet");
    assert_eq!(d.view.related_item_counts().get("Contact"), Some(&1));
    let item = &d.view.related_items[&d.changed_related_items[0]];
    assert_eq!(item.item_type, RelatedItemType::Contact);
    assert_eq!(
        item.content.get("channel"),
        Some(&FieldValue::String("VOICE".into()))
    );
    assert!(
        matches!(item.content.get("contactArn"), Some(FieldValue::String(a)) if a.contains("/contact/"))
    );
    let day = item.created_at.unwrap().date_naive().to_string();
    let n = numbers(&d.view);
    assert_eq!(
        n.get(&on(
            &day,
            Metric::RelatedItemsCreatedOf(RelatedItemType::Contact)
        )),
        Some(&1)
    );
}

#[test]
fn comment_bodies_are_kept_only_when_configured() {
    let event = sample("05-related-item-comment-created.json");
    let off = decide(None, &event, &ProjectionOptions::default());
    let item = off.view.related_items.values().next().unwrap();
    assert!(!item.content.contains_key("commentBody"));
    assert_eq!(
        item.content.get("contentType"),
        Some(&FieldValue::String("Text/Plain".into()))
    );

    let on = decide(
        None,
        &event,
        &ProjectionOptions {
            store_customer_content: true,
        },
    );
    let item = on.view.related_items.values().next().unwrap();
    assert!(
        matches!(item.content.get("commentBody"), Some(FieldValue::String(b)) if b.contains("3DS"))
    );
}

#[test]
fn custom_related_item_fields_are_customer_content() {
    let event = sample("10-related-item-custom-created.json");
    let off = decide(None, &event, &ProjectionOptions::default());
    assert_eq!(
        off.view
            .related_items
            .values()
            .next()
            .unwrap()
            .custom_fields,
        None
    );
    let on = decide(
        None,
        &event,
        &ProjectionOptions {
            store_customer_content: true,
        },
    );
    let fields = on
        .view
        .related_items
        .values()
        .next()
        .unwrap()
        .custom_fields
        .clone()
        .unwrap();
    assert_eq!(fields.get("attempts"), Some(&FieldValue::Double(3.0)));
}

#[test]
fn sla_file_and_linked_case_keep_their_non_sensitive_content() {
    let sla = when(&None, "08-related-item-sla-created.json").view;
    let item = sla.related_items.values().next().unwrap();
    assert_eq!(
        item.content.get("slaName"),
        Some(&FieldValue::String("Resolve within 24h".into()))
    );
    assert_eq!(
        item.content.get("slaStatus"),
        Some(&FieldValue::String("Active".into()))
    );
    assert_eq!(
        item.content.get("slaTargetTime"),
        Some(&FieldValue::String("2026-11-21T09:10:30.000Z".into()))
    );
    let linked = when(&None, "09-related-item-connectcase-created.json").view;
    let item = linked.related_items.values().next().unwrap();
    assert_eq!(
        item.content.get("linkedCaseId"),
        Some(&FieldValue::String(
            "9c2e7f10-3b4a-4c5d-9e8f-1a2b3c4d5e6f".into()
        ))
    );
    let file = when(&None, "07-related-item-file-created.json").view;
    assert!(
        file.related_items
            .values()
            .next()
            .unwrap()
            .content
            .contains_key("fileArn")
    );
}

#[test]
fn related_item_update_replaces_content_and_delete_tombstones_it() {
    let opts = ProjectionOptions {
        store_customer_content: true,
    };
    let created = decide(None, &sample("05-related-item-comment-created.json"), &opts).view;
    let updated = decide(
        Some(&created),
        &sample("11-related-item-comment-updated-legacy-detail-type.json"),
        &opts,
    );
    assert_eq!(updated.outcome, Outcome::Applied);
    let item = updated.view.related_items.values().next().unwrap();
    assert!(
        matches!(item.content.get("commentBody"), Some(FieldValue::String(b)) if b.contains("attached"))
    );
    assert_eq!(
        numbers(&updated.view),
        numbers(&created),
        "an update creates nothing"
    );

    let file = given(&["07-related-item-file-created.json"]);
    let deleted = when(&file, "12-related-item-file-deleted.json");
    let item = deleted.view.related_items.values().next().unwrap();
    assert!(item.deleted && item.content.is_empty());
    assert!(deleted.view.related_item_counts().is_empty());
}

#[test]
fn a_related_item_older_than_the_delete_is_stale_and_recorded_as_deleted() {
    let state = given(&["19-case-deleted.json"]);
    let mut comment = sample("05-related-item-comment-created.json");
    comment.case_id = state.as_ref().unwrap().case_id.clone();
    let d = decide(state.as_ref(), &comment, &ProjectionOptions::default());
    assert_eq!(d.outcome, Outcome::Stale, "it happened before the delete");
    let item = d.view.related_items.values().next().unwrap();
    assert!(item.deleted && item.content.is_empty());
    let day = item.created_at.unwrap().date_naive().to_string();
    assert_eq!(
        numbers(&d.view).get(&on(
            &day,
            Metric::RelatedItemsCreatedOf(RelatedItemType::Comment)
        )),
        Some(&1),
        "it still counts as created on its day"
    );

    comment.changed_at = ts("2026-12-01T00:00:00.000Z");
    comment.id = "later".into();
    let later = decide(state.as_ref(), &comment, &ProjectionOptions::default());
    assert_eq!(later.outcome, Outcome::Skipped(SkipReason::AfterDelete));
}
