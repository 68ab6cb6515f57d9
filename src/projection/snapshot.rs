//! A case as the Cases API shows it (backfill, reconcile): the same fold as events. Each read is
//! versioned by its own data's time ([`read_time`]): it fills and refreshes what older events
//! set, never rolls back what a newer event set (even from a search index that lags behind: its
//! answer is as old as its data says), and never resurrects a deleted case. The numbers follow
//! from the resulting state like any other change.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::case::CaseDecision;
use super::related::apply_related;
use super::{CaseView, ProjectionOptions, Snapshot, Version, apply_snapshot, with_contribution};
use crate::event::{FieldValue, Operation, RelatedItem, RelatedItemChange, RelatedItemType};

/// The system field every read asks for: the case's own time of its last change.
pub const LAST_UPDATED: &str = "last_updated_datetime";

/// The time a read's data is as of: the case's `last_updated_datetime` in the same answer, or
/// the instant the request was sent when the answer has none. Never the reader's clock after the
/// answer: a change made while the answer was in flight is newer than the read, so the read
/// cannot roll it back.
pub fn read_time(fields: &BTreeMap<String, FieldValue>, sent_at: DateTime<Utc>) -> DateTime<Utc> {
    match fields.get(LAST_UPDATED) {
        Some(FieldValue::String(t)) => t
            .parse::<DateTime<Utc>>()
            .ok()
            .and_then(|t| DateTime::from_timestamp_millis(t.timestamp_millis()))
            .unwrap_or(sent_at),
        _ => sent_at,
    }
}

/// What reads of the Cases API say about a case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSnapshot {
    pub case_id: String,
    pub domain_id: String,
    pub template_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// Field values, one entry per read (a search answer, then GetCase for the fields beyond
    /// it), each as of its own time; empty when only related items were read.
    pub reads: Vec<Snapshot>,
    /// Related items as read (content as the API returns it), and when that request was sent.
    pub related_items: Vec<RelatedItem>,
    pub related_read_at: DateTime<Utc>,
    /// Statuses the case had, from its audit history (`performedTime`, audit event id).
    pub status_history: Vec<(Version, String)>,
}

impl CaseSnapshot {
    /// One snapshot per case of a domain-wide related-item read (`(case id, item)` pairs) sent at
    /// `sent_at`: the items only, no fields.
    pub fn of_related_items(
        domain_id: &str,
        sent_at: DateTime<Utc>,
        items: impl IntoIterator<Item = (String, RelatedItem)>,
    ) -> Vec<CaseSnapshot> {
        let mut by_case: BTreeMap<String, Vec<RelatedItem>> = BTreeMap::new();
        for (case_id, item) in items {
            by_case.entry(case_id).or_default().push(item);
        }
        by_case
            .into_iter()
            .map(|(case_id, related_items)| CaseSnapshot {
                case_id,
                domain_id: domain_id.to_owned(),
                template_id: None,
                created_at: None,
                reads: Vec::new(),
                related_items,
                related_read_at: sent_at,
                status_history: Vec::new(),
            })
            .collect()
    }
}

/// Applies `snapshot` to the stored state.
pub fn decide_snapshot(
    stored: Option<&CaseView>,
    snapshot: &CaseSnapshot,
    dimensions: &[String],
    options: &ProjectionOptions,
) -> CaseDecision {
    let mut view = stored.cloned().unwrap_or_else(|| CaseView {
        case_id: snapshot.case_id.clone(),
        domain_id: snapshot.domain_id.clone(),
        ..CaseView::default()
    });
    let before = view.clone();
    if view.template_id.is_none() {
        view.template_id.clone_from(&snapshot.template_id);
    }
    if view.created_at.is_none() {
        view.created_at = snapshot.created_at;
    }
    let mut changed_related_items = std::collections::BTreeSet::new();
    for (version, status) in &snapshot.status_history {
        super::record_status(&mut view, version, status);
    }
    if !view.is_deleted() {
        for read in &snapshot.reads {
            // A case no event has touched yet is "as of the read".
            if view.version.is_none() {
                view.version = Some(Version::snapshot(read.as_of));
            }
            apply_snapshot(&mut view, read);
        }
        let version = Version::snapshot(snapshot.related_read_at);
        // Types this version does not know are skipped, as their events are.
        let known = snapshot
            .related_items
            .iter()
            .filter(|i| !matches!(i.item_type, RelatedItemType::Unknown(_)));
        for item in known {
            let change = RelatedItemChange {
                operation: Operation::Updated,
                changed_attributes: Vec::new(),
                item: item.clone(),
            };
            let (_, changed) = apply_related(&mut view, &change, &version, options);
            changed_related_items.extend(changed);
        }
    }
    // Every deferred field filled by this read: enrichment is complete again.
    if before.deferred.is_some() && view.deferred.is_none() && !view.is_deleted() {
        view.enrichment = Some("fetched".to_owned());
    }
    let case_changed = view != before;
    let (view, metric_deltas) = with_contribution(stored, view, dimensions);
    CaseDecision {
        outcomes: Vec::new(),
        view: (case_changed || stored.is_some()).then_some(view),
        case_changed,
        changed_related_items,
        metric_deltas,
    }
}

/// The Cases API says the case does not exist (GetCase 404 naming the case, for a request sent
/// at `sent_at`) while the read model holds it live: its `CASE.DELETED` was lost. The case
/// becomes a tombstone at `(sent_at, "")`, which the item records as `deletedBy = reconcile`; it
/// counts as deleted that day until the delete event, if it ever comes, moves it to its own
/// (earlier) time. Nothing changes for a case already deleted or not held.
pub fn decide_gone(
    stored: Option<&CaseView>,
    sent_at: DateTime<Utc>,
    dimensions: &[String],
) -> CaseDecision {
    let mut decision = CaseDecision {
        outcomes: Vec::new(),
        view: None,
        case_changed: false,
        changed_related_items: Default::default(),
        metric_deltas: Default::default(),
    };
    let Some(stored) = stored.filter(|v| !v.is_deleted()) else {
        decision.view = stored.cloned();
        return decision;
    };
    let mut view = stored.clone();
    let version = Version::snapshot(sent_at);
    // Never older than what the read model holds: the case was gone when read.
    let version = match &view.version {
        Some(v) if *v > version => v.clone(),
        _ => version,
    };
    view.deleted = Some(version.clone());
    view.version = Some(version);
    decision.changed_related_items = super::clear_tombstone(&mut view).into_iter().collect();
    decision.case_changed = true;
    let (view, metric_deltas) = with_contribution(Some(stored), view, dimensions);
    decision.metric_deltas = metric_deltas;
    decision.view = Some(view);
    decision
}

/// Moves a stored case's contribution to the groups of `dimensions` (`casesctl regroup`): from
/// what it was written under (nothing, for a case stored before contributions were kept) to
/// what it contributes now. Writes nothing when it is already grouped so.
pub fn decide_regroup(stored: Option<&CaseView>, dimensions: &[String]) -> CaseDecision {
    let current = stored.is_some_and(|v| v.grouped_by.as_deref() == Some(dimensions));
    let (view, metric_deltas) = match stored {
        Some(view) => {
            let (view, deltas) = with_contribution(stored, view.clone(), dimensions);
            (Some(view), deltas)
        }
        None => (None, Default::default()),
    };
    CaseDecision {
        outcomes: Vec::new(),
        view,
        case_changed: stored.is_some() && !current,
        changed_related_items: Default::default(),
        metric_deltas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{RelatedItemContent, RelatedItemType};
    use crate::projection::contribution::{Bucket, Metric, contributions};
    use crate::projection::{DecideContext, decide_case, fold};

    fn ts(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn sample(name: &str) -> crate::event::CaseEvent {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        crate::event::parse_event(&std::fs::read(path).unwrap()).unwrap()
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
        let reopened: i64 = contributions(&view, &[])
            .values()
            .flat_map(|c| c.iter())
            .filter(|(c, _)| c.metric == Metric::Reopened)
            .map(|(_, n)| *n)
            .sum();
        assert_eq!(reopened, 0);
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
}
