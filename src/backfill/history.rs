//! What audit history gives the read model: the statuses a case had, each dated by its audit
//! event's `performedTime`, merged into the case's status history like any other observation
//! (the metric aggregates derive resolutions and reopenings from it). Counts nothing itself.
//! Pure.

use super::source::AuditEvent;
use crate::event::FieldValue;
use crate::projection::Version;

/// The version id of an audit event's observation (audit event ids are unique per case only).
pub fn audit_version_id(case_id: &str, audit_event_id: &str) -> String {
    format!("audit/{case_id}/{audit_event_id}")
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
                event_id: audit_version_id(case_id, &e.id),
            };
            Some((version, s.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backfill::source::AuditField;

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
    fn every_status_change_is_an_observation_dated_by_its_audit_event() {
        let created = AuditEvent {
            id: "a0".into(),
            kind: "Case.Created".into(),
            related_item_type: None,
            performed_at: "2026-11-01T10:00:00Z".parse().unwrap(),
            fields: vec![],
        };
        let events = vec![
            created,
            status("a1", "2026-11-02T10:00:00Z", Some("open"), "closed"),
            status("a2", "2026-11-03T10:00:00Z", Some("closed"), "open"),
        ];
        let history = status_history("c", &events);
        let statuses: Vec<&str> = history.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(statuses, ["closed", "open"]);
        assert_eq!(history[0].0.event_id, "audit/c/a1");
        assert_eq!(
            history[1].0.at,
            "2026-11-03T10:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
        );
    }
}
