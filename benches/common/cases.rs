//! A realistic stream of cases for the cost benches (`metrics`, `export`), which include it by
//! path.
#![allow(dead_code)]

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::support::streams::{case_event, related_event, text};

pub fn at(minutes: i64) -> String {
    let t: DateTime<Utc> =
        "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::minutes(minutes);
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A realistic case, created within `days` days from 2026-11-01: two field updates, a comment,
/// a contact, closed; every fourth reopened and closed again. About 7.5 events.
pub fn case_events(n: usize, days: i64) -> Vec<Value> {
    let id = format!("c0000000-0000-4000-8000-{n:012}");
    let start = (n as i64 * 37) % (days * 1440);
    let fields = |status: &str| {
        json!({
            "status": text(status),
            "case_reason": text(["billing", "technical", "delivery", "other"][n % 4]),
            "assigned_queue": text(&format!("queue-{}", n % 6)),
            "assigned_user": text(&format!("arn:aws:connect:::agent/{}", n % 40)),
            "priority": {"value": {"doubleValue": (n % 3) as f64}},
        })
    };
    let mut out = Vec::new();
    let mut push = |kind: &str, m: i64, f: Value, k: usize| {
        let mut e = case_event(&format!("{n}-{k}"), &at(start + m), kind, &id, f);
        e["detail"]["case"]["createdDateTime"] = json!(at(start));
        out.push(e);
    };
    push("CREATED", 0, fields("open"), 0);
    push(
        "UPDATED",
        10,
        json!({"title": text(&format!("case {n}"))}),
        1,
    );
    push("UPDATED", 20, json!({"summary": text("details")}), 2);
    push("UPDATED", 200, fields("closed"), 3);
    if n.is_multiple_of(4) {
        push("UPDATED", 300, fields("open"), 4);
        push("UPDATED", 400, fields("closed"), 5);
    }
    out.push(related_event(
        &format!("{n}-c"),
        &at(start + 5),
        "CREATED",
        &id,
        &format!("{n}-comment"),
        "Comment",
        Some(json!({"comment": {"body": "b", "contentType": "Text/Plain"}})),
    ));
    out.push(related_event(
        &format!("{n}-k"),
        &at(start + 1),
        "CREATED",
        &id,
        &format!("{n}-contact"),
        "Contact",
        Some(json!({"contact": {"contactArn": format!("arn:c/{n}"), "channel": "VOICE"}})),
    ));
    out
}
