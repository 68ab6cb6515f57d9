//! The pure part of enrichment: what an event implies and what is worth a GetCase call.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};

use crate::event::{CaseEvent, Change, FieldValue, Operation};
use crate::projection::CaseView;

/// A configured field the event lists as changed but does not carry was emptied: the event
/// carries every non-null configured field as it is after the change. Makes that explicit so no
/// call is needed for it. Returns the ids filled with an explicit empty value.
///
/// Only changed fields: `configured` is a cached copy of the domain's event configuration, and
/// an unchanged absent field may just have left the configuration. Nulling those would write
/// over real values until the field next changed; leaving them alone keeps the stored value,
/// which is right in both cases.
pub fn fill_configured_nulls(event: &mut CaseEvent, configured: &BTreeSet<String>) -> Vec<String> {
    let Change::Case(case) = &mut event.change else {
        return Vec::new();
    };
    if case.operation == Operation::Deleted || configured.is_empty() {
        return Vec::new();
    }
    let fields = case.fields.get_or_insert_with(Default::default);
    let mut filled = Vec::new();
    for id in case
        .changed_field_ids
        .iter()
        .filter(|id| configured.contains(*id))
    {
        if !fields.contains_key(id) {
            fields.insert(id.clone(), FieldValue::Empty);
            filled.push(id.clone());
        }
    }
    filled
}

/// What decides whether a case needs a GetCase call.
#[derive(Debug, Clone)]
pub struct FetchContext<'a> {
    /// Fields the read model should hold (CASE_FIELDS, or every field of the domain).
    pub wanted: &'a BTreeSet<String>,
    /// Fields the domain's events carry (absent ones are null).
    pub configured: &'a BTreeSet<String>,
    pub stored: Option<&'a CaseView>,
    pub now: DateTime<Utc>,
    /// A snapshot older than this is refreshed in full: events can be lost.
    pub max_snapshot_age: TimeDelta,
}

/// The fields to fetch for one case, for all of `events` at once (one call per case per
/// invocation). Empty when the events carry everything needed.
///
/// - Never for a deleted case, a `CASE.DELETED` among the events, or related-item events.
/// - A case the read model does not hold yet, holds without any snapshot, or holds with a
///   snapshot older than `max_snapshot_age`: every wanted field the events do not carry.
/// - Otherwise only wanted fields an event lists in `changedFieldIds` and does not carry.
/// - And, while the case's enrichment is deferred, the fields still wanted: a later event that
///   gets its GetCase call fills them too.
pub fn fields_to_fetch(ctx: &FetchContext<'_>, events: &[&CaseEvent]) -> BTreeSet<String> {
    let case_events: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.change {
            Change::Case(c) => Some(c),
            _ => None,
        })
        .collect();
    let deleted = ctx.stored.is_some_and(CaseView::is_deleted)
        || case_events
            .iter()
            .any(|c| c.operation == Operation::Deleted);
    if deleted || case_events.is_empty() {
        return BTreeSet::new();
    }
    let full_refresh = match ctx.stored {
        Some(view) if view.version.is_some() => view
            .snapshot_at()
            .is_none_or(|taken| ctx.now - taken > ctx.max_snapshot_age),
        _ => true,
    };
    let mut needed = BTreeSet::new();
    for case in case_events {
        let carried = |id: &String| case.fields.as_ref().is_some_and(|f| f.contains_key(id));
        let candidates: Box<dyn Iterator<Item = &String>> = if full_refresh {
            Box::new(ctx.wanted.iter())
        } else {
            Box::new(
                case.changed_field_ids
                    .iter()
                    .filter(|id| ctx.wanted.contains(*id)),
            )
        };
        needed.extend(
            candidates
                .filter(|id| !carried(id) && !ctx.configured.contains(*id))
                .cloned(),
        );
    }
    if let Some(deferred) = ctx.stored.and_then(|v| v.deferred.as_ref()) {
        needed.extend(deferred.fields.iter().cloned());
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_event;
    use crate::projection::{ProjectionOptions, Snapshot, Version, Versioned, fold};

    fn sample(name: &str) -> CaseEvent {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        parse_event(&std::fs::read(path).unwrap()).unwrap()
    }

    fn ids(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn ctx<'a>(
        wanted: &'a BTreeSet<String>,
        configured: &'a BTreeSet<String>,
        stored: Option<&'a CaseView>,
    ) -> FetchContext<'a> {
        FetchContext {
            wanted,
            configured,
            stored,
            now: "2026-11-21T12:00:00Z".parse().unwrap(),
            max_snapshot_age: TimeDelta::hours(6),
        }
    }

    #[test]
    fn metadata_only_event_for_an_unknown_case_fetches_every_wanted_field() {
        let wanted = ids(&["status", "title", "summary"]);
        let none = BTreeSet::new();
        let e = sample("16-case-updated-metadata-only.json");
        assert_eq!(fields_to_fetch(&ctx(&wanted, &none, None), &[&e]), wanted);
    }

    #[test]
    fn an_event_carrying_every_wanted_field_needs_no_call() {
        let wanted = ids(&["status", "title", "case_reason"]);
        let none = BTreeSet::new();
        let e = sample("01-case-created.json");
        assert!(fields_to_fetch(&ctx(&wanted, &none, None), &[&e]).is_empty());
    }

    #[test]
    fn configured_fields_changed_but_absent_are_null_and_unchanged_ones_untouched() {
        let wanted = ids(&["status", "title", "summary", "customer_id"]);
        let configured = ids(&["status", "title", "summary", "customer_id"]);
        // 02 changes title, priority and vip and carries them; say it emptied summary too.
        let mut e = sample("02-case-updated.json");
        let Change::Case(c) = &mut e.change else {
            panic!()
        };
        c.changed_field_ids.push("summary".into());
        assert!(fields_to_fetch(&ctx(&wanted, &configured, None), &[&e]).is_empty());
        let filled = fill_configured_nulls(&mut e, &configured);
        assert_eq!(filled, ["summary"], "emptied by this change");
        let Change::Case(c) = &e.change else { panic!() };
        let fields = c.fields.as_ref().unwrap();
        assert_eq!(fields["summary"], FieldValue::Empty);
        assert!(
            !fields.contains_key("customer_id"),
            "unchanged and absent: maybe no longer configured, so the stored value stays"
        );
    }

    #[test]
    fn a_held_case_with_a_fresh_snapshot_fetches_only_changed_fields_not_carried() {
        let wanted = ids(&["status", "title", "summary", "priority", "customer_id"]);
        let none = BTreeSet::new();
        let mut stored = fold(
            &[sample("01-case-created.json")],
            &ProjectionOptions::default(),
        )
        .unwrap();
        let taken = "2026-11-21T11:00:00Z".parse().unwrap();
        stored.fields.insert(
            "summary".into(),
            Versioned {
                value: FieldValue::String("s".into()),
                version: Version::snapshot(taken),
            },
        );
        // 02 changes title, priority, vip and carries title and priority.
        let e = sample("02-case-updated.json");
        assert!(fields_to_fetch(&ctx(&wanted, &none, Some(&stored)), &[&e]).is_empty());
        // The metadata-only event says status and title changed and carries neither.
        let mut meta = sample("16-case-updated-metadata-only.json");
        meta.case_id = stored.case_id.clone();
        assert_eq!(
            fields_to_fetch(&ctx(&wanted, &none, Some(&stored)), &[&meta]),
            ids(&["status", "title"])
        );
    }

    #[test]
    fn an_old_snapshot_is_refreshed_in_full() {
        let wanted = ids(&["status", "title", "summary"]);
        let none = BTreeSet::new();
        let mut stored = fold(
            &[sample("01-case-created.json")],
            &ProjectionOptions::default(),
        )
        .unwrap();
        let old = "2026-11-20T01:00:00Z".parse().unwrap();
        crate::projection::apply_snapshot(
            &mut stored,
            &Snapshot {
                as_of: old,
                fields: [("summary".to_owned(), FieldValue::Empty)].into(),
            },
        );
        let e = sample("02-case-updated.json");
        assert_eq!(
            fields_to_fetch(&ctx(&wanted, &none, Some(&stored)), &[&e]),
            ids(&["summary"])
        );
    }

    #[test]
    fn deletes_and_related_items_never_fetch() {
        let wanted = ids(&["status", "title", "summary"]);
        let none = BTreeSet::new();
        let delete = sample("19-case-deleted.json");
        let update = sample("20-case-updated-after-delete.json");
        assert!(fields_to_fetch(&ctx(&wanted, &none, None), &[&update, &delete]).is_empty());
        let comment = sample("05-related-item-comment-created.json");
        assert!(fields_to_fetch(&ctx(&wanted, &none, None), &[&comment]).is_empty());
    }

    #[test]
    fn several_events_of_one_case_need_the_union_once() {
        let wanted = ids(&["status", "title", "summary", "case_reason"]);
        let none = BTreeSet::new();
        let a = sample("02-case-updated.json"); // carries status, title, case_reason
        let b = sample("13-case-updated-closed.json"); // carries status, title
        assert_eq!(
            fields_to_fetch(&ctx(&wanted, &none, None), &[&a, &b]),
            ids(&["summary", "case_reason"])
        );
    }
}
