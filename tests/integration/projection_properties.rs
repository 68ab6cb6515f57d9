//! The projection's two promises, for any generated stream of one case's events:
//! applying an event twice changes nothing, and any delivery order gives the same state.

use std::collections::BTreeMap;

use cases_projector::event::{
    CaseChange, CaseEvent, Change, FieldValue, Operation, RelatedItem, RelatedItemChange,
    RelatedItemContent, RelatedItemType,
};
use cases_projector::projection::{CaseView, ProjectionOptions, fold};
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

const FIELD_IDS: [&str; 5] = ["status", "title", "priority", "vip", "assigned_user"];
const ITEM_TYPES: [RelatedItemType; 6] = [
    RelatedItemType::Contact,
    RelatedItemType::Comment,
    RelatedItemType::File,
    RelatedItemType::Sla,
    RelatedItemType::ConnectCase,
    RelatedItemType::Custom,
];

fn value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        "[a-z]{0,6}".prop_map(FieldValue::String),
        (-1000i32..1000).prop_map(|n| FieldValue::Double(f64::from(n) / 4.0)),
        any::<bool>().prop_map(FieldValue::Boolean),
        Just(FieldValue::Empty),
        "[a-z]{1,4}".prop_map(|u| FieldValue::UserArn(format!("arn:aws:connect:::agent/{u}"))),
    ]
}

/// What one generated event does, before ids and times are assigned.
#[derive(Debug, Clone)]
enum Step {
    CaseCreated(BTreeMap<String, FieldValue>),
    CaseUpdated(BTreeMap<String, FieldValue>),
    CaseDeleted,
    Related {
        op: Operation,
        item: usize,
        body: String,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let fields = || {
        prop::collection::btree_map(
            prop::sample::select(FIELD_IDS.to_vec()).prop_map(str::to_owned),
            value(),
            0..4,
        )
    };
    prop_oneof![
        1 => fields().prop_map(Step::CaseCreated),
        6 => fields().prop_map(Step::CaseUpdated),
        1 => Just(Step::CaseDeleted),
        4 => (
            prop::sample::select(vec![Operation::Created, Operation::Updated, Operation::Deleted]),
            0usize..4,
            "[a-z]{1,5}",
        )
            .prop_map(|(op, item, body)| Step::Related { op, item, body }),
    ]
}

/// A stream for one case: times from a small range so ties happen, unique event ids.
fn stream() -> impl Strategy<Value = Vec<CaseEvent>> {
    (
        prop::collection::vec((step(), 0i64..20, any::<u16>()), 1..25),
        any::<bool>(),
    )
        .prop_map(|(steps, with_content)| {
            steps
                .into_iter()
                .enumerate()
                .map(|(n, (step, second, salt))| {
                    let at = Utc
                        .timestamp_millis_opt(1_763_600_000_000 + second * 1000)
                        .unwrap();
                    event(format!("{salt:04x}-{n:03}"), at, step, with_content)
                })
                .collect()
        })
}

fn event(id: String, at: DateTime<Utc>, step: Step, with_content: bool) -> CaseEvent {
    let case = |operation, fields: Option<BTreeMap<String, FieldValue>>| {
        Change::Case(CaseChange {
            operation,
            template_id: Some("tpl".into()),
            created_at: Some(Utc.timestamp_millis_opt(1_763_500_000_000).unwrap()),
            changed_field_ids: fields.iter().flat_map(|f| f.keys().cloned()).collect(),
            fields,
        })
    };
    let change = match step {
        Step::CaseCreated(f) => case(Operation::Created, Some(f)),
        Step::CaseUpdated(f) => case(Operation::Updated, Some(f)),
        Step::CaseDeleted => case(Operation::Deleted, None),
        Step::Related { op, item, body } => {
            let item_type = ITEM_TYPES[item % ITEM_TYPES.len()].clone();
            let content = with_content.then(|| match item_type {
                RelatedItemType::Comment => RelatedItemContent::Comment {
                    body,
                    content_type: None,
                },
                _ => RelatedItemContent::Contact {
                    contact_arn: format!("arn:{body}"),
                    channel: None,
                },
            });
            Change::RelatedItem(RelatedItemChange {
                operation: op,
                changed_attributes: vec![],
                item: RelatedItem {
                    id: format!("ri-{item}"),
                    item_type,
                    created_at: Some(
                        Utc.timestamp_millis_opt(1_763_550_000_000 + item as i64)
                            .unwrap(),
                    ),
                    content,
                },
            })
        }
    };
    CaseEvent {
        id,
        domain_id: "d".into(),
        case_id: "c".into(),
        changed_at: at,
        performed_by: None,
        change,
    }
}

fn project(events: &[CaseEvent]) -> Option<CaseView> {
    fold(
        events,
        &ProjectionOptions {
            store_customer_content: true,
        },
    )
}

fn in_order(events: &[CaseEvent]) -> Vec<CaseEvent> {
    let mut sorted = events.to_vec();
    sorted.sort_by(|a, b| (a.changed_at, &a.id).cmp(&(b.changed_at, &b.id)));
    sorted
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn applying_every_event_twice_changes_nothing(events in stream()) {
        let once = project(&events);
        let twice_each: Vec<CaseEvent> =
            events.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
        let replayed: Vec<CaseEvent> = events.iter().chain(events.iter()).cloned().collect();
        prop_assert_eq!(&project(&twice_each), &once);
        prop_assert_eq!(&project(&replayed), &once);
    }

    #[test]
    fn any_delivery_order_gives_the_in_order_state(
        (events, shuffled) in stream().prop_flat_map(|e| (Just(e.clone()), Just(e).prop_shuffle())),
        duplicated in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
    ) {
        let expected = project(&in_order(&events));
        let mut delivered = shuffled;
        for i in duplicated {
            let again = delivered[i.index(delivered.len())].clone();
            delivered.insert(i.index(delivered.len() + 1), again);
        }
        prop_assert_eq!(project(&delivered), expected);
    }

    #[test]
    fn a_deleted_case_stays_deleted_and_empty(events in stream()) {
        let view = project(&events);
        let has_delete = events.iter().any(|e| matches!(&e.change, Change::Case(c) if c.operation == Operation::Deleted));
        if let (true, Some(view)) = (has_delete, view) {
            prop_assert!(view.is_deleted());
            prop_assert!(view.fields.is_empty());
            prop_assert!(view.related_items.values().all(|i| i.deleted && i.content.is_empty()));
        }
    }
}
