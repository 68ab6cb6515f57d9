//! Items round-trip the state.

use super::*;
use crate::event::parse_event;
use crate::projection::{ProjectionOptions, fold};

fn sample(name: &str) -> crate::event::CaseEvent {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    parse_event(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_case_round_trips_through_its_items() {
    let events: Vec<_> = [
        "01-case-created.json",
        "04-case-updated-empty-and-typed-values.json",
        "13-case-updated-closed.json",
        "15-case-updated-late-arrival.json",
        "05-related-item-comment-created.json",
        "08-related-item-sla-created.json",
        "10-related-item-custom-created.json",
    ]
    .iter()
    .map(|n| sample(n))
    .collect();
    let view = fold(
        &events,
        &ProjectionOptions {
            store_customer_content: true,
        },
    )
    .unwrap();
    let (case, overflow) = case_items(&view, 7);
    let mut items = vec![case];
    items.extend(overflow);
    items.extend(
        view.related_items
            .values()
            .map(|r| related_item(&view.case_id, r)),
    );
    let stored = view_from_items(&view.case_id, &items).unwrap().unwrap();
    assert_eq!(stored.revision, 7);
    assert_eq!(stored.view, view);
    assert!(
        items[0].contains_key("fieldVersions"),
        "the late event's field keeps its own version"
    );
}

#[test]
fn deleted_cases_leave_the_dashboard_indexes() {
    let live = fold(
        &[sample("01-case-created.json")],
        &ProjectionOptions::default(),
    )
    .unwrap();
    let (item, _) = case_items(&live, 1);
    assert_eq!(
        item["statusKey"].as_s().unwrap(),
        "b7e3a1c2-4d5f-4a6b-9c8d-0e1f2a3b4c5d#open"
    );
    assert!(item.contains_key("templateKey"));
    let mut deleted = live.clone();
    deleted.deleted = deleted.version.clone();
    let (item, _) = case_items(&deleted, 2);
    assert!(!item.contains_key("statusKey") && !item.contains_key("templateKey"));
}
