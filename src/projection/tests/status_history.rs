//! The status history stays bounded, and the numbers with it.

use super::*;

/// Statuses observed at the given days after 2026-01-01 (event ids `e<day>`).
fn history(observations: &[(i64, &str)]) -> BTreeMap<Version, String> {
    observations
        .iter()
        .map(|(day, status)| {
            let version = Version {
                at: ts("2026-01-01T00:00:00Z") + chrono::TimeDelta::days(*day),
                event_id: format!("e{day}"),
            };
            (version, (*status).to_owned())
        })
        .collect()
}

#[test]
fn same_status_observations_past_the_horizon_go_and_every_metric_stays() {
    // Given a case whose status was observed again and again over months.
    let observed = [
        (0, "open"),
        (1, "open"),
        (2, "closed"),
        (3, "closed"),
        (4, "open"),
        (5, "open"),
        (90, "open"),
        (100, "open"),
    ];
    let mut full = CaseView {
        created_at: Some(ts("2026-01-01T00:00:00Z")),
        status_history: history(&observed),
        ..CaseView::default()
    };
    full.domain_id = "d".into();
    // When it is compacted.
    let mut compacted = full.clone();
    compact_status_history(&mut compacted.status_history);
    // Then repeats more than 35 days before the newest are gone; the transitions and the
    // recent observations stay...
    assert_eq!(
        compacted.status_history,
        history(&[
            (0, "open"),
            (2, "closed"),
            (4, "open"),
            (90, "open"),
            (100, "open")
        ])
    );
    // ...and so does everything the metrics read from the history.
    let dims = ["priority".to_owned()];
    assert_eq!(
        contribution::contributions(&compacted, &dims),
        contribution::contributions(&full, &dims)
    );
}

#[test]
fn a_flood_of_status_observations_is_capped_transitions_last() {
    // Given 3,000 observations within an hour, alternating every tenth.
    let mut view = CaseView::default();
    for i in 0..3000u32 {
        let version = Version {
            at: ts("2026-01-01T00:00:00Z") + chrono::TimeDelta::seconds(i.into()),
            event_id: format!("e{i:04}"),
        };
        let status = if (i / 10) % 2 == 0 { "open" } else { "closed" };
        // When each is recorded.
        record_status(&mut view, &version, status);
    }
    // Then the history holds the cap: the 300 transitions, then the newest repeats.
    assert_eq!(view.status_history.len(), MAX_STATUS_HISTORY);
    let statuses: Vec<&String> = view.status_history.values().collect();
    let transitions = statuses.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(transitions, 299);
    assert!(view.status_history.keys().any(|v| v.event_id == "e2999"));
}
