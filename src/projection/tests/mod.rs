//! Given / when / then, against the sample events in `events/`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::contribution::{Bucket, Metric};
use super::*;
use crate::event::{CaseEvent, parse_event};

fn sample(name: &str) -> CaseEvent {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    parse_event(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn given(names: &[&str]) -> Option<CaseView> {
    let events: Vec<CaseEvent> = names.iter().map(|n| sample(n)).collect();
    fold(&events, &ProjectionOptions::default())
}

fn when(state: &Option<CaseView>, name: &str) -> Decision {
    decide(state.as_ref(), &sample(name), &ProjectionOptions::default())
}

fn field<'a>(view: &'a CaseView, id: &str) -> Option<&'a FieldValue> {
    view.fields.get(id).map(|f| &f.value)
}

fn ts(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// What a case contributes, ungrouped: (day, metric) → amount.
fn numbers(view: &CaseView) -> BTreeMap<(Bucket, Metric), i64> {
    contribution::contributions(view, &[])
        .into_iter()
        .flat_map(|(bucket, counters)| {
            counters
                .into_iter()
                .filter(|(c, _)| c.group.is_none())
                .map(move |(c, n)| ((bucket.clone(), c.metric), n))
        })
        .collect()
}

fn on(day: &str, metric: Metric) -> (Bucket, Metric) {
    (Bucket::Day(day.parse().unwrap()), metric)
}

#[test]
fn created_case_gets_metadata_fields_and_version() {
    let d = when(&None, "01-case-created.json");
    assert_eq!(d.outcome, Outcome::Applied);
    assert!(d.case_changed);
    let v = &d.view;
    assert_eq!(v.domain_id, "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d");
    assert_eq!(
        v.template_id.as_deref(),
        Some("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d")
    );
    assert_eq!(v.created_at, Some(ts("2026-11-20T09:00:00.125Z")));
    assert_eq!(v.status(), Some("open"));
    assert_eq!(v.title(), Some("Card declined at checkout"));
    assert_eq!(field(v, "priority"), Some(&FieldValue::Double(2.0)));
    assert_eq!(field(v, "vip"), Some(&FieldValue::Boolean(false)));
    let version = v.version.as_ref().unwrap();
    assert_eq!(version.at, ts("2026-11-20T09:00:00.125Z"));
    assert_eq!(version.event_id, "a1f0c9d2-0001-4e1a-9b1c-000000000001");
    let n = numbers(v);
    assert_eq!(n.get(&on("2026-11-20", Metric::Created)), Some(&1));
    assert_eq!(
        n.get(&on("2026-11-20", Metric::Resolved)),
        None,
        "an open case is not a resolution"
    );
}

#[test]
fn update_replaces_carried_fields_and_keeps_absent_ones() {
    let state = given(&["01-case-created.json"]);
    let d = when(&state, "02-case-updated.json");
    assert_eq!(d.outcome, Outcome::Applied);
    assert_eq!(
        d.view.title(),
        Some("Card declined at checkout (2 attempts)")
    );
    assert_eq!(field(&d.view, "priority"), Some(&FieldValue::Double(1.0)));
    // customer_id is not carried by the update: the stored value stays.
    assert_eq!(
        field(&d.view, "customer_id"),
        field(state.as_ref().unwrap(), "customer_id")
    );
    assert_eq!(
        numbers(&d.view),
        numbers(state.as_ref().unwrap()),
        "a plain update changes no number"
    );
}

#[test]
fn empty_value_is_stored_as_explicit_null_and_types_survive() {
    let state = given(&["01-case-created.json", "02-case-updated.json"]);
    let d = when(&state, "04-case-updated-empty-and-typed-values.json");
    assert_eq!(field(&d.view, "case_reason"), Some(&FieldValue::Empty));
    assert_eq!(
        field(&d.view, "refund_amount"),
        Some(&FieldValue::Double(129.99))
    );
    assert!(
        matches!(field(&d.view, "assigned_user"), Some(FieldValue::UserArn(a)) if a.contains("/agent/"))
    );
}

#[test]
fn redelivered_event_is_a_duplicate_that_changes_and_counts_nothing() {
    let state = given(&["01-case-created.json", "02-case-updated.json"]);
    let d = when(&state, "03-case-updated-duplicate-delivery.json");
    assert_eq!(d.outcome, Outcome::Duplicate);
    assert!(d.is_noop());
    assert_eq!(Some(d.view), state);
}

#[test]
fn older_event_never_overwrites_newer_state_but_fills_what_is_missing() {
    let state = given(&[
        "01-case-created.json",
        "13-case-updated-closed.json",
        "14-case-updated-reopened.json",
    ]);
    let d = when(&state, "15-case-updated-late-arrival.json");
    assert_eq!(d.outcome, Outcome::Stale);
    // title was set by newer events: the late draft title loses.
    assert_eq!(
        d.view.title(),
        Some("Card declined at checkout (2 attempts)")
    );
    assert_eq!(d.view.status(), Some("open"));
    // summary was never set by anything newer: the late event provides it.
    assert_eq!(
        field(&d.view, "summary"),
        Some(&FieldValue::String("Customer called twice".into()))
    );
    assert_eq!(
        d.view.version,
        state.unwrap().version,
        "the case version stays the newest"
    );
}

#[test]
fn ties_on_change_time_break_on_event_id() {
    let mut a = sample("02-case-updated.json");
    let mut b = a.clone();
    b.id = "ffffffff-0000-0000-0000-000000000000".into();
    a.id = "00000000-0000-0000-0000-000000000000".into();
    let Change::Case(c) = &mut b.change else {
        unreachable!()
    };
    c.fields
        .as_mut()
        .unwrap()
        .insert("title".into(), FieldValue::String("from b".into()));
    let opts = ProjectionOptions::default();
    let ab = fold([&a, &b], &opts).unwrap();
    let ba = fold([&b, &a], &opts).unwrap();
    assert_eq!(ab, ba);
    assert_eq!(ab.title(), Some("from b"), "the larger event id wins a tie");
}

#[test]
fn closing_counts_a_resolution_and_reopening_is_a_transition_of_the_status_history() {
    let state = given(&["01-case-created.json"]);
    let closed = when(&state, "13-case-updated-closed.json");
    let closed_day = closed.view.status_history.keys().next_back().unwrap().at;
    assert_eq!(
        numbers(&closed.view).get(&(Bucket::Day(closed_day.date_naive()), Metric::Resolved)),
        Some(&1)
    );
    let reopened = when(&Some(closed.view.clone()), "14-case-updated-reopened.json");
    let statuses: Vec<&str> = reopened
        .view
        .status_history
        .values()
        .map(String::as_str)
        .collect();
    assert_eq!(statuses, ["open", "closed", "open"]);
    assert_eq!(
        numbers(&reopened.view).get(&on("2026-11-21", Metric::Reopened)),
        Some(&1),
        "on the UTC day of the change"
    );
}

#[test]
fn delete_makes_a_tombstone_without_customer_data() {
    let state = Some(fold_with(
        None,
        &[
            "01-case-created.json",
            "05-related-item-comment-created.json",
            "06-related-item-contact-created.json",
        ],
    ));
    let mut delete = sample("19-case-deleted.json");
    delete.case_id = state.as_ref().unwrap().case_id.clone();
    let d = decide(state.as_ref(), &delete, &ProjectionOptions::default());
    assert_eq!(d.outcome, Outcome::Applied);
    assert!(d.view.is_deleted());
    assert!(
        d.view.fields.is_empty(),
        "no customer data stays on a tombstone"
    );
    assert!(
        d.view
            .related_items
            .values()
            .all(|i| i.deleted && i.content.is_empty())
    );
    assert!(d.view.related_item_counts().is_empty());
    let deleted_day = d.view.deleted.as_ref().unwrap().at.date_naive();
    assert_eq!(
        numbers(&d.view).get(&(Bucket::Day(deleted_day), Metric::Deleted)),
        Some(&1)
    );
    let related: i64 = numbers(&d.view)
        .iter()
        .filter(|((_, m), _)| matches!(m, Metric::RelatedItemsCreatedOf(_)))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(related, 2, "its related items were created all the same");
}

fn fold_with(state: Option<CaseView>, names: &[&str]) -> CaseView {
    let opts = ProjectionOptions::default();
    names
        .iter()
        .fold(state, |s, n| {
            Some(decide(s.as_ref(), &sample(n), &opts).view)
        })
        .unwrap()
}

#[test]
fn nothing_resurrects_a_deleted_case() {
    let state = given(&["19-case-deleted.json"]);
    let late = when(&state, "20-case-updated-after-delete.json");
    assert_eq!(late.outcome, Outcome::Stale, "older than the delete");
    assert!(late.view.is_deleted());
    assert!(late.view.fields.is_empty());

    let mut newer = sample("20-case-updated-after-delete.json");
    newer.changed_at = ts("2026-12-01T00:00:00.000Z");
    let d = decide(state.as_ref(), &newer, &ProjectionOptions::default());
    assert_eq!(d.outcome, Outcome::Skipped(SkipReason::AfterDelete));
    assert!(d.view.is_deleted() && d.view.fields.is_empty());
}

#[test]
fn created_event_arriving_after_the_delete_still_counts() {
    let state = given(&["19-case-deleted.json"]);
    let mut created = sample("01-case-created.json");
    created.case_id = state.as_ref().unwrap().case_id.clone();
    let d = decide(state.as_ref(), &created, &ProjectionOptions::default());
    assert!(d.view.is_deleted());
    let created_day = d.view.created_at.unwrap().date_naive();
    let n = numbers(&d.view);
    assert_eq!(
        n.get(&(Bucket::Day(created_day), Metric::Created)),
        Some(&1)
    );
    let created: i64 = n
        .iter()
        .filter(|((_, m), _)| *m == Metric::Created)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(created, 1, "once");
}

#[test]
fn unknown_event_and_related_item_types_are_skipped_without_writes() {
    let d = when(&None, "17-unknown-event-type.json");
    assert_eq!(d.outcome, Outcome::Skipped(SkipReason::UnknownEventType));
    assert!(d.is_noop());
    let path = format!("{}/events/21-events-array.json", env!("CARGO_MANIFEST_DIR"));
    let events: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let hologram = crate::event::parse_event_value(events[0].clone()).unwrap();
    let d = decide(None, &hologram, &ProjectionOptions::default());
    assert_eq!(
        d.outcome,
        Outcome::Skipped(SkipReason::UnknownRelatedItemType)
    );
    assert!(d.is_noop());
}

#[test]
fn snapshot_fills_fields_but_never_rolls_back_a_newer_event_value() {
    let state = given(&["01-case-created.json", "02-case-updated.json"]);
    let snapshot = Snapshot {
        // As of before event 02 (09:05:30.500), so its title is older.
        as_of: ts("2026-11-20T09:05:00.000Z"),
        fields: [
            (
                "title".to_owned(),
                FieldValue::String("Card declined at checkout".into()),
            ),
            (
                "summary".to_owned(),
                FieldValue::String("from GetCase".into()),
            ),
        ]
        .into(),
    };
    let d = when(&None, "16-case-updated-metadata-only.json");
    assert!(
        d.view.fields.is_empty(),
        "a metadata-only event carries no fields"
    );
    let mut metadata_only = sample("16-case-updated-metadata-only.json");
    metadata_only.case_id = state.as_ref().unwrap().case_id.clone();
    let d = decide_case(
        state.as_ref(),
        &[metadata_only],
        &DecideContext {
            enrichment: Some(EnrichmentResult {
                snapshot: Some(&snapshot),
                status: "fetched",
                deferred: None,
            }),
            dimensions: &[],
            options: &ProjectionOptions::default(),
        },
    );
    let view = d.view.unwrap();
    assert_eq!(view.title(), Some("Card declined at checkout (2 attempts)"));
    assert_eq!(
        field(&view, "summary"),
        Some(&FieldValue::String("from GetCase".into()))
    );
    assert_eq!(view.snapshot_at(), Some(snapshot.as_of));
    assert_eq!(view.enrichment.as_deref(), Some("fetched"));
}

#[test]
fn oversized_case_is_trimmed_longest_first_to_fit() {
    let mut view = given(&["01-case-created.json"]).unwrap();
    let version = view.version.clone().unwrap();
    for i in 0..400 {
        view.fields.insert(
            format!("notes_{i:03}"),
            Versioned {
                value: FieldValue::String("x".repeat(4100)),
                version: version.clone(),
            },
        );
    }
    let cut = trimmed_values(&view, 350_000);
    assert!(!cut.is_empty());
    assert!(!cut.contains_key("title"), "short fields are untouched");
    assert!(trim::estimated_field_bytes(&with_cut_values(&view, &cut)) <= 350_000);
    let s = cut.values().next().unwrap();
    assert!(s.ends_with('…') && s.len() < 4100, "cut, and marked as cut");
    assert_eq!(
        view.fields.len(),
        401 + given(&["01-case-created.json"]).unwrap().fields.len() - 1,
        "the state keeps every full value"
    );
}

fn with_cut_values(view: &CaseView, cut: &BTreeMap<String, String>) -> CaseView {
    let mut view = view.clone();
    for (id, value) in cut {
        view.fields.get_mut(id).unwrap().value = FieldValue::String(value.clone());
    }
    view
}

#[test]
fn multibyte_text_is_cut_on_a_character_boundary() {
    let mut view = given(&["01-case-created.json"]).unwrap();
    let version = view.version.clone().unwrap();
    for i in 0..100 {
        view.fields.insert(
            format!("notes_{i:03}"),
            Versioned {
                value: FieldValue::String("é".repeat(2000)),
                version: version.clone(),
            },
        );
    }
    let cut = trimmed_values(&view, 100_000);
    assert_eq!(cut.len(), 100);
    assert!(trim::estimated_field_bytes(&with_cut_values(&view, &cut)) <= 100_000);
}

mod related_items;
mod snapshots;
mod status_history;
