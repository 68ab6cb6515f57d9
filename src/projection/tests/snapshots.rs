//! Reads of the Cases API (backfill, reconcile) applied as of their own data's time.

use std::collections::BTreeMap;

use super::{sample, ts};
use crate::event::{FieldValue, RelatedItem, RelatedItemContent, RelatedItemType};
use crate::projection::contribution::{Bucket, Metric, contributions};
use crate::projection::snapshot::*;
use crate::projection::{CaseView, DecideContext, ProjectionOptions, Snapshot, decide_case, fold};

/// What `view` contributes to `metric`, ungrouped, over every day.
fn in_all(metric: Metric, view: &CaseView) -> i64 {
    contributions(view, &[])
        .values()
        .flat_map(|c| c.iter())
        .filter(|(c, _)| c.group.is_none() && c.metric == metric)
        .map(|(_, n)| *n)
        .sum()
}

const CASE: &str = "4f1d2c3b-5a6e-4b5c-8d9e-0f1a2b3c4d5e";

fn snapshot(as_of: &str, title: &str) -> CaseSnapshot {
    CaseSnapshot {
        case_id: CASE.into(),
        domain_id: "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d".into(),
        template_id: Some("tpl".into()),
        created_at: Some(ts("2026-11-01T00:00:00Z")),
        reads: vec![Snapshot {
            as_of: ts(as_of),
            fields: BTreeMap::from([("title".to_owned(), FieldValue::String(title.into()))]),
        }],
        related_read_at: ts(as_of),
        status_history: Vec::new(),
        settled: Vec::new(),
        related_items: vec![RelatedItem {
            id: "ri-1".into(),
            item_type: RelatedItemType::Contact,
            created_at: Some(ts("2026-11-01T00:00:00Z")),
            content: Some(RelatedItemContent::Contact {
                contact_arn: "arn:c".into(),
                channel: Some("VOICE".into()),
            }),
        }],
    }
}

fn context() -> DecideContext<'static> {
    DecideContext {
        enrichment: None,
        dimensions: &[],
        options: &ProjectionOptions {
            store_customer_content: false,
        },
    }
}

fn events(names: &[&str]) -> Vec<crate::event::CaseEvent> {
    names
        .iter()
        .map(|n| {
            let mut e = sample(n);
            e.case_id = CASE.into();
            e
        })
        .collect()
}

#[test]
fn a_case_no_event_has_touched_is_created_from_the_read() {
    let d = decide_snapshot(
        None,
        &snapshot("2026-11-20T00:00:00Z", "t"),
        &[],
        &Default::default(),
    );
    let view = d.view.unwrap();
    assert_eq!(view.title(), Some("t"));
    assert_eq!(view.related_item_counts()["Contact"], 1);
    assert_eq!(d.changed_related_items.len(), 1);
    let created = Bucket::Day("2026-11-01".parse().unwrap());
    assert_eq!(
        d.metric_deltas[&created]
            .iter()
            .filter(|(c, _)| c.group.is_none() && c.metric == Metric::Created)
            .map(|(_, n)| *n)
            .sum::<i64>(),
        1,
        "its numbers follow from the state it gives"
    );
}

#[test]
fn a_read_never_rolls_back_a_newer_event_and_never_resurrects_a_delete() {
    // 02 (09:05:30) sets the title; a read as of before it must not win.
    let state = fold(
        &events(&["01-case-created.json", "02-case-updated.json"]),
        &Default::default(),
    );
    let older = snapshot("2026-11-20T09:01:00Z", "old");
    let d = decide_snapshot(state.as_ref(), &older, &[], &Default::default());
    assert_eq!(
        d.view.unwrap().title(),
        Some("Card declined at checkout (2 attempts)")
    );
    let newer = snapshot("2026-11-20T09:10:00Z", "new");
    let d = decide_snapshot(state.as_ref(), &newer, &[], &Default::default());
    assert_eq!(d.view.unwrap().title(), Some("new"));

    let deleted = decide_case(
        state.as_ref(),
        &events(&["19-case-deleted.json"]),
        &context(),
    );
    let tombstone = deleted.view.unwrap();
    let d = decide_snapshot(Some(&tombstone), &newer, &[], &Default::default());
    assert!(!d.case_changed, "a tombstone stays as it is");
}

#[test]
fn a_search_answer_older_than_a_live_close_neither_reopens_nor_rolls_back_the_case() {
    // Given a case closed live (13: status closed).
    let state = fold(
        &events(&["01-case-created.json", "13-case-updated-closed.json"]),
        &Default::default(),
    )
    .unwrap();
    let closed_at = state.status_history.keys().next_back().unwrap().at;
    // When a search answer arrives afterwards whose data is from before the close (a lagging
    // index, or an answer in flight during the close): still open, old title.
    let mut stale = snapshot("2026-11-20T09:00:00.125Z", "old title");
    let last_updated = "2026-11-20T09:00:00.125Z";
    stale.reads[0].fields.extend([
        ("status".to_owned(), FieldValue::String("open".into())),
        (
            LAST_UPDATED.to_owned(),
            FieldValue::String(last_updated.into()),
        ),
    ]);
    stale.reads[0].as_of = read_time(&stale.reads[0].fields, ts("2026-11-22T00:00:00Z"));
    assert_eq!(
        stale.reads[0].as_of,
        ts(last_updated),
        "the data's own time"
    );
    let view = decide_snapshot(Some(&state), &stale, &[], &Default::default())
        .view
        .unwrap();
    // Then it stays closed, and no reopening appears.
    assert_eq!(view.status(), Some("closed"));
    assert!(view.status_history.keys().next_back().unwrap().at == closed_at);
    assert_eq!(in_all(Metric::Reopened, &view), 0);
}

#[test]
fn a_read_without_its_own_time_is_as_of_when_it_was_sent() {
    let sent = ts("2026-11-20T10:00:00.123Z");
    assert_eq!(read_time(&BTreeMap::new(), sent), sent);
    let fields = BTreeMap::from([(
        LAST_UPDATED.to_owned(),
        FieldValue::String("2026-11-20T09:00:00.123456Z".into()),
    )]);
    assert_eq!(read_time(&fields, sent), ts("2026-11-20T09:00:00.123Z"));
}

#[test]
fn a_read_filling_the_deferred_fields_clears_the_marker_and_a_partial_one_keeps_the_rest() {
    let mut state = fold(&events(&["01-case-created.json"]), &Default::default()).unwrap();
    state.enrichment = Some("deferred".into());
    state.deferred = Some(crate::projection::Deferred {
        since: ts("2026-11-20T09:00:00Z"),
        fields: ["title".to_owned(), "summary".to_owned()].into(),
    });
    let partial = decide_snapshot(
        Some(&state),
        &snapshot("2026-11-20T09:10:00Z", "t"),
        &[],
        &Default::default(),
    )
    .view
    .unwrap();
    let left = partial.deferred.as_ref().unwrap();
    assert_eq!(left.fields, ["summary".to_owned()].into());
    assert_eq!(partial.enrichment.as_deref(), Some("deferred"));
    let mut full = snapshot("2026-11-20T09:10:00Z", "t");
    full.reads[0]
        .fields
        .insert("summary".into(), FieldValue::Empty);
    let filled = decide_snapshot(Some(&state), &full, &[], &Default::default())
        .view
        .unwrap();
    assert_eq!(filled.deferred, None);
    assert_eq!(filled.enrichment.as_deref(), Some("fetched"));
}

#[test]
fn a_case_gone_from_the_api_counts_deleted_until_its_delete_event_dates_it() {
    let state = fold(
        &events(&[
            "01-case-created.json",
            "05-related-item-comment-created.json",
        ]),
        &Default::default(),
    );
    let d = decide_gone(state.as_ref(), ts("2026-11-25T00:00:00Z"), &[]);
    let view = d.view.clone().unwrap();
    assert!(view.is_deleted() && view.deleted_by_reconcile());
    assert!(view.fields.is_empty());
    assert!(d.writes());
    assert!(view.related_items.values().all(|r| r.deleted));
    let deleted_on = |v: &CaseView| -> Vec<String> {
        contributions(v, &[])
            .iter()
            .filter(|(_, c)| c.keys().any(|c| c.metric == Metric::Deleted))
            .map(|(b, _)| format!("{b:?}"))
            .collect()
    };
    assert_eq!(deleted_on(&view), ["Day(2026-11-25)"]);
    // The lost delete, delivered after all: the case counts deleted on its day instead.
    let late = decide_case(Some(&view), &events(&["19-case-deleted.json"]), &context());
    let late_view = late.view.unwrap();
    assert!(!late_view.deleted_by_reconcile());
    let event_day = sample("19-case-deleted.json").changed_at.date_naive();
    assert_eq!(deleted_on(&late_view), [format!("Day({event_day})")]);
    // Nothing to do for a tombstone or an unknown case.
    assert!(!decide_gone(Some(&view), ts("2026-11-26T00:00:00Z"), &[]).writes());
    assert!(!decide_gone(None, ts("2026-11-26T00:00:00Z"), &[]).writes());
}

#[test]
fn regroup_moves_what_was_written_and_writes_nothing_when_current() {
    let mut with_reason = events(&["01-case-created.json"]);
    if let crate::event::Change::Case(c) = &mut with_reason[0].change {
        c.fields
            .get_or_insert_with(Default::default)
            .insert("case_reason".into(), FieldValue::String("billing".into()));
    }
    let written = decide_case(None, &with_reason, &context()).view.unwrap();
    assert_eq!(written.grouped_by.as_deref(), Some(&[][..]));
    let dims = vec!["case_reason".to_owned()];
    let d = decide_regroup(Some(&written), &dims);
    assert!(d.writes());
    let regrouped = d.view.unwrap();
    assert_eq!(regrouped.grouped_by.as_ref(), Some(&dims));
    // Only the new groups are added: nothing ungrouped moves.
    assert!(
        d.metric_deltas
            .values()
            .flat_map(|c| c.keys())
            .all(|c| c.group.as_ref().is_some_and(|g| g.field == "case_reason"))
    );
    assert!(!decide_regroup(Some(&regrouped), &dims).writes());
    // A case from before per-case contributions: all of it is added.
    let mut legacy = written.clone();
    legacy.grouped_by = None;
    let d = decide_regroup(Some(&legacy), &[]);
    assert_eq!(d.metric_deltas, contributions(&written, &[]));
}

/// Item 2 of "one truth": the same close seen by its event and by its audit event a millisecond
/// apart, in either order, is one resolution; so is a create seen by both.
#[test]
fn a_change_seen_by_its_event_and_by_audit_history_ms_apart_counts_once() {
    let created = events(&["01-case-created.json"]);
    let closed = events(&["13-case-updated-closed.json"]);
    let close_at = closed[0].changed_at;
    for audit_offset in [-1i64, 1] {
        let mut audit = snapshot("2026-11-19T00:00:00Z", "t");
        audit.reads.clear();
        audit.related_items.clear();
        (audit.template_id, audit.created_at) = (None, None);
        audit.status_history = vec![(
            crate::projection::Version {
                at: close_at + chrono::TimeDelta::milliseconds(audit_offset),
                event_id: "audit/c/a1".into(),
            },
            "closed".into(),
        )];
        // Event first, then the audit history.
        let live = decide_case(None, &[created[0].clone(), closed[0].clone()], &context())
            .view
            .unwrap();
        let both = decide_snapshot(Some(&live), &audit, &[], &Default::default())
            .view
            .unwrap();
        assert_eq!(
            in_all(Metric::Resolved, &both),
            1,
            "offset {audit_offset} ms"
        );
        // The audit history first, then the events.
        let read = decide_snapshot(None, &audit, &[], &Default::default())
            .view
            .unwrap();
        let then = decide_case(
            Some(&read),
            &[created[0].clone(), closed[0].clone()],
            &context(),
        )
        .view
        .unwrap();
        assert_eq!(
            in_all(Metric::Resolved, &then),
            1,
            "offset {audit_offset} ms"
        );
        assert_eq!(contributions(&then, &[]), contributions(&both, &[]));
    }
}

/// A related item of a type this version does not know counts nowhere, whoever reports it: its
/// events are skipped, and so is it in a read.
#[test]
fn a_read_skips_related_items_of_unknown_types_as_events_do() {
    let mut read = snapshot("2026-11-20T00:00:00Z", "t");
    read.related_items[0].item_type = RelatedItemType::Unknown("Task".into());
    let view = decide_snapshot(None, &read, &[], &Default::default())
        .view
        .unwrap();
    assert!(view.related_items.is_empty());
    assert!(
        contributions(&view, &[])
            .values()
            .flat_map(|c| c.keys())
            .all(|c| !matches!(c.metric, Metric::RelatedItemsCreatedOf(_)))
    );
}

/// A 404 that arrives after the case was closed (the request waited out throttling meanwhile,
/// or the reader's clock is behind) never cuts the close off: the tombstone comes after
/// everything the read model holds.
#[test]
fn a_case_gone_after_a_close_keeps_its_resolution_whatever_the_clocks() {
    let state = fold(
        &events(&["01-case-created.json", "13-case-updated-closed.json"]),
        &Default::default(),
    )
    .unwrap();
    let closed_at = state.status_history.keys().next_back().unwrap().at;
    assert_eq!(in_all(Metric::Resolved, &state), 1);
    for received in [closed_at - chrono::TimeDelta::hours(1), closed_at] {
        let gone = decide_gone(Some(&state), received, &[]).view.unwrap();
        assert!(gone.deleted.as_ref().unwrap().at > closed_at);
        assert_eq!(in_all(Metric::Resolved, &gone), 1, "received {received}");
    }
}

/// A read of many related items is applied in parts that each fit one transaction, and together
/// they give what the whole read gives.
#[test]
fn a_read_of_many_related_items_in_parts_gives_what_the_whole_read_gives() {
    let mut read = snapshot("2026-11-20T00:00:00Z", "t");
    let template = read.related_items[0].clone();
    read.related_items = (0..95)
        .map(|i| RelatedItem {
            id: format!("ri-{i}"),
            ..template.clone()
        })
        .collect();
    let whole = decide_snapshot(None, &read, &[], &Default::default())
        .view
        .unwrap();
    let parts = read.in_parts(40);
    assert_eq!(
        parts
            .iter()
            .map(|p| p.related_items.len())
            .collect::<Vec<_>>(),
        [40, 40, 15]
    );
    let mut state: Option<CaseView> = None;
    for part in &parts {
        let d = decide_snapshot(state.as_ref(), part, &[], &Default::default());
        assert!(d.changed_related_items.len() <= 40);
        state = d.view;
    }
    assert_eq!(state.unwrap(), whole);
}
