//! What audit history gives the read model. Counters, as the live projector keeps them, per UTC
//! day of `performedTime`: cases created, resolutions (status changed to `closed`), and related
//! items created per type; only changes before the domain's cut-over count here (after it, live
//! events count them). And the case's status history, from which the metric aggregates derive
//! resolutions and reopenings exactly. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::source::AuditEvent;
use crate::event::FieldValue;
use crate::projection::counters::{
    CASE_RESOLUTIONS, CASES_CREATED, RELATED_ITEMS_CREATED, related_items_created_of,
};
use crate::projection::{CountedEvent, CounterIncrements, Version};
use crate::store::keys::audit_marker_id;

const CLOSED: &str = "closed";

fn is_closed(v: Option<&FieldValue>) -> bool {
    matches!(v, Some(FieldValue::String(s)) if s.eq_ignore_ascii_case(CLOSED))
}

/// The counters `event` moves, by name.
fn counter_names(event: &AuditEvent) -> Vec<String> {
    let mut names = Vec::new();
    match event.kind.as_str() {
        "Case.Created" => names.push(CASES_CREATED.to_owned()),
        "Case.Updated" => {
            if let Some(status) = event.fields.iter().find(|f| f.id == "status")
                && !is_closed(status.old.as_ref())
                && is_closed(status.new.as_ref())
            {
                names.push(CASE_RESOLUTIONS.to_owned());
            }
        }
        "RelatedItem.Created" => {
            if let Some(t) = &event.related_item_type {
                names.push(RELATED_ITEMS_CREATED.to_owned());
                names.push(related_items_created_of(t));
            }
        }
        _ => {}
    }
    names
}

/// The statuses one case had, with the audit event that set each.
pub fn status_history(case_id: &str, events: &[AuditEvent]) -> Vec<(Version, String)> {
    events
        .iter()
        .filter_map(|e| {
            let status = e.fields.iter().find(|f| f.id == "status")?;
            let Some(FieldValue::String(s)) = &status.new else {
                return None;
            };
            let version = Version {
                at: e.performed_at,
                event_id: audit_marker_id(case_id, &e.id),
            };
            Some((version, s.clone()))
        })
        .collect()
}

/// The counted events of one case's history: those before `cutover`, each with a marker id of
/// its own so a second run counts nothing twice.
pub fn history_counters(
    domain_id: &str,
    case_id: &str,
    events: &[AuditEvent],
    cutover: DateTime<Utc>,
) -> Vec<CountedEvent> {
    events
        .iter()
        .filter(|e| e.performed_at < cutover)
        .filter_map(|e| {
            let names = counter_names(e);
            (!names.is_empty()).then(|| CountedEvent {
                event_id: audit_marker_id(case_id, &e.id),
                related_item_id: None,
                counters: CounterIncrements {
                    domain_id: domain_id.to_owned(),
                    day: e.performed_at.date_naive(),
                    increments: names
                        .into_iter()
                        .map(|n| (n, 1))
                        .collect::<BTreeMap<_, _>>(),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backfill::source::AuditField;
    use crate::event::RelatedItemType;

    fn status(id: &str, at: &str, old: Option<&str>, new: &str) -> AuditEvent {
        AuditEvent {
            id: id.into(),
            kind: "Case.Updated".into(),
            related_item_type: None,
            performed_at: at.parse().unwrap(),
            fields: vec![AuditField {
                id: "status".into(),
                old: old.map(|s| FieldValue::String(s.into())),
                new: Some(FieldValue::String(new.into())),
            }],
        }
    }

    #[test]
    fn only_changes_before_the_cutover_count_and_the_status_history_is_kept() {
        let created = AuditEvent {
            id: "a0".into(),
            kind: "Case.Created".into(),
            related_item_type: None,
            performed_at: "2026-11-01T10:00:00Z".parse().unwrap(),
            fields: vec![],
        };
        let contact = AuditEvent {
            id: "a5".into(),
            kind: "RelatedItem.Created".into(),
            related_item_type: Some(RelatedItemType::Contact),
            performed_at: "2026-11-01T10:30:00Z".parse().unwrap(),
            fields: vec![],
        };
        let events = vec![
            created,
            contact,
            status("a1", "2026-11-02T10:00:00Z", Some("open"), "closed"),
            status("a2", "2026-11-03T10:00:00Z", Some("closed"), "open"),
            // open → pending after a reopening is no reopening.
            status("a3", "2026-11-03T11:00:00Z", Some("open"), "pending"),
            status("a4", "2026-11-04T10:00:00Z", Some("pending"), "closed"),
            status("a6", "2026-11-05T10:00:00Z", Some("closed"), "open"),
        ];
        let counted = history_counters("d", "c", &events, "2026-11-05T00:00:00Z".parse().unwrap());
        let total = |name: &str| -> i64 {
            counted
                .iter()
                .filter_map(|c| c.counters.increments.get(name))
                .sum()
        };
        assert_eq!(total(CASES_CREATED), 1);
        assert_eq!(
            total(CASE_RESOLUTIONS),
            2,
            "a4 and a1; a6 is after the cut-over"
        );
        let statuses: Vec<String> = status_history("c", &events)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        assert_eq!(statuses, ["closed", "open", "pending", "closed", "open"]);
        assert_eq!(total("relatedItemsCreatedContact"), 1);
        assert_eq!(counted[0].event_id, "audit/c/a0");
    }
}
