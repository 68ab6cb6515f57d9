//! The CloudWatch custom widget's side of the panels, pure: the invocation the console sends
//! (`widgetContext`: time range, time zone, size, the widget's `params`) → which panel, which UTC
//! days, what size; the widget's documentation (`{"describe": true}`); and a readable message for
//! every request it cannot answer (never a panic, never a stack trace).
//!
//! **Days are UTC days.** The read model counts per UTC day, so a panel covers every UTC day the
//! dashboard's range touches: with a dashboard in UTC+02:00, a "day" runs from 02:00 to 02:00
//! local time, and the footer says so.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{Panel, Size};
use crate::analytics::model::Interval;
use crate::projection::contribution::{STATUS_GROUP, TEMPLATE_GROUP};

/// The longest range a widget shows: a read is one item per day, so this bounds its cost.
pub const MAX_DAYS: i64 = 400;
/// Ranges longer than this are shown per week unless `interval` says otherwise.
pub const WEEKLY_AFTER_DAYS: i64 = 62;
pub const DEFAULT_TOP: usize = 8;
const MAX_TOP: usize = 50;
/// Sizes are clamped to these (CSS pixels): a huge widget is drawn at the largest.
const WIDTH: (f64, f64) = (160.0, 3000.0);
const HEIGHT: (f64, f64) = (100.0, 3000.0);

/// The custom widget's invocation, as the CloudWatch console sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    #[serde(default)]
    pub describe: bool,
    pub widget_context: Option<WidgetContext>,
    /// The widget's parameters are also sent at the top level, beside `widgetContext`.
    #[serde(flatten)]
    pub top_level: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WidgetContext {
    pub dashboard_name: Option<String>,
    pub widget_id: Option<String>,
    pub account_id: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<Timezone>,
    pub period: Option<i64>,
    pub is_auto_period: Option<bool>,
    pub time_range: Option<TimeRange>,
    pub theme: Option<String>,
    pub link_charts: Option<bool>,
    pub title: Option<String>,
    pub forms: Option<Value>,
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    pub width: Option<f64>,
    pub height: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timezone {
    pub label: Option<String>,
    #[serde(rename = "offsetISO")]
    pub offset_iso: Option<String>,
    pub offset_in_minutes: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeRange {
    pub mode: Option<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub relative_start: Option<i64>,
    pub zoom: Option<Zoom>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Zoom {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// What one widget call is asked to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub panel: Panel,
    /// First UTC day (inclusive).
    pub from: NaiveDate,
    /// Last UTC day (exclusive).
    pub to: NaiveDate,
    pub interval: Interval,
    pub top: usize,
    pub size: Size,
    /// How the UTC days meet the dashboard's time zone, when it is not UTC.
    pub timezone_note: Option<String>,
}

/// A widget call that cannot be answered: shown to the viewer as is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WidgetError {
    #[error("This widget needs a `panel` parameter: one of {}.", Panel::NAMES.join(", "))]
    MissingPanel,
    #[error("`{0}` is not a panel of this widget: use one of {panels}.", panels = Panel::NAMES.join(", "))]
    UnknownPanel(String),
    #[error("The breakdown panel needs a `by` parameter: one of {list}.", list = .0.join(", "))]
    MissingGrouping(Vec<String>),
    #[error("`{by}` is not a grouping of this stack: use one of {}. Other fields become groupings when listed in the stack's ReportDimensions (then run casesctl regroup).", available.join(", "))]
    UnknownGrouping { by: String, available: Vec<String> },
    #[error("`{name}` = `{value}` is not valid: {expected}.")]
    BadParameter {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "The call has no dashboard time range (widgetContext.timeRange with start and end): open the widget on a CloudWatch dashboard, or invoke it with a widgetContext as in events/widget/*.json."
    )]
    NoTimeRange,
    #[error("The time range ends before it starts.")]
    EmptyRange,
    #[error(
        "The time range covers {0} days; this widget shows at most {MAX_DAYS}. Choose a shorter range."
    )]
    RangeTooLong(i64),
    #[error(
        "The read-model table could not be read: {0}. Check the function's TABLE_NAME and its permissions (the function's log has the request id)."
    )]
    Store(String),
}

/// A parameter as text: strings as they are, numbers and booleans written out.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    }
}

/// The groupings this stack has: template, status and the `REPORT_DIMENSIONS` fields.
pub fn groupings(dimensions: &[String]) -> Vec<String> {
    let mut all = vec![TEMPLATE_GROUP.to_owned(), STATUS_GROUP.to_owned()];
    for d in dimensions {
        if !all.contains(d) {
            all.push(d.clone());
        }
    }
    all
}

fn date(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// `+02:00` → `02:00`, `-05:00` → `19:00` (the day before): when a UTC day starts, local time.
fn utc_midnight_local(offset_minutes: i64) -> String {
    let m = offset_minutes.rem_euclid(24 * 60);
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// The widget's parameters and context → what to show. `dimensions`: the stack's
/// `REPORT_DIMENSIONS`.
pub fn request(invocation: &Invocation, dimensions: &[String]) -> Result<Request, WidgetError> {
    let context = invocation.widget_context.clone().unwrap_or_default();
    // The context's params first, then those sent beside it.
    let mut params = context.params.clone();
    for (k, v) in &invocation.top_level {
        params.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let param = |name: &str| params.get(name).map(text).filter(|s| !s.is_empty());
    let panel = match param("panel").as_deref() {
        None => return Err(WidgetError::MissingPanel),
        Some("kpis") => Panel::Kpis,
        Some("volume") => Panel::Volume,
        Some("status") => Panel::Status,
        Some("resolution") => Panel::Resolution,
        Some("fcr") => Panel::FirstContact,
        Some("activity") => Panel::Activity,
        Some("breakdown") => {
            let available = groupings(dimensions);
            match param("by") {
                None => return Err(WidgetError::MissingGrouping(available)),
                Some(by) if available.contains(&by) => Panel::Breakdown { by },
                Some(by) => return Err(WidgetError::UnknownGrouping { by, available }),
            }
        }
        Some(other) => return Err(WidgetError::UnknownPanel(other.chars().take(60).collect())),
    };
    let top = match param("top") {
        None => DEFAULT_TOP,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| (2..=MAX_TOP).contains(n))
            .ok_or(WidgetError::BadParameter {
                name: "top",
                value: t.chars().take(20).collect(),
                expected: "a whole number from 2 to 50",
            })?,
    };
    let range = context
        .time_range
        .as_ref()
        .ok_or(WidgetError::NoTimeRange)?;
    let zoomed = range
        .zoom
        .as_ref()
        .and_then(|z| Some((z.start?, z.end?)))
        .filter(|(s, e)| s < e);
    let (start, end) = match zoomed {
        Some(z) => z,
        None => (
            range.start.ok_or(WidgetError::NoTimeRange)?,
            range.end.ok_or(WidgetError::NoTimeRange)?,
        ),
    };
    let (Some(start), Some(end)) = (date(start), date(end)) else {
        return Err(WidgetError::NoTimeRange);
    };
    if end <= start {
        return Err(WidgetError::EmptyRange);
    }
    let from = start.date_naive();
    let to = (end - TimeDelta::milliseconds(1)).date_naive() + TimeDelta::days(1);
    let days = (to - from).num_days();
    if days > MAX_DAYS {
        return Err(WidgetError::RangeTooLong(days));
    }
    let interval = match param("interval").as_deref() {
        None | Some("auto") if days > WEEKLY_AFTER_DAYS => Interval::Week,
        None | Some("auto") | Some("day") => Interval::Day,
        Some("week") => Interval::Week,
        Some(other) => {
            return Err(WidgetError::BadParameter {
                name: "interval",
                value: other.chars().take(20).collect(),
                expected: "day, week or auto",
            });
        }
    };
    let clamp = |v: Option<f64>, default: f64, (lo, hi): (f64, f64)| {
        v.filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(default)
            .clamp(lo, hi)
    };
    let size = Size {
        width: clamp(context.width, 600.0, WIDTH),
        height: clamp(context.height, 300.0, HEIGHT),
    };
    let timezone_note = context.timezone.as_ref().and_then(|tz| {
        let offset = tz.offset_in_minutes.unwrap_or(0);
        (offset != 0).then(|| {
            let iso = tz
                .offset_iso
                .clone()
                .unwrap_or_else(|| format!("{offset:+} min"));
            format!(
                "the dashboard is in UTC{iso}: each day here starts at {} its time",
                utc_midnight_local(offset)
            )
        })
    });
    Ok(Request {
        panel,
        from,
        to,
        interval,
        top,
        size,
        timezone_note,
    })
}

/// The widget's documentation, shown by the console for `{"describe": true}`.
pub fn describe(dimensions: &[String]) -> String {
    format!(
        "## Case metrics\n\
Amazon Connect Cases metrics from the cases-projector read model (one read of the range's daily \
aggregates per call, whatever the number of cases). Numbers are Amazon Connect's case metrics: \
see docs/metrics.md.\n\n\
**Days are UTC days**: a panel covers every UTC day the dashboard's time range touches; on a \
dashboard in another time zone, each day starts at midnight UTC (the footer says when, locally).\n\n\
### Parameters\n\
| name | values | default |\n|---|---|---|\n\
| `panel` | `kpis` (tiles), `volume` (created / resolved / reopened bars), `status` (open cases by status), `resolution` (average resolution time), `fcr` (first-contact resolution), `breakdown`, `activity` (deletes, related items) | required |\n\
| `by` | for `breakdown`: {} | required for `breakdown` |\n\
| `interval` | `day`, `week`, `auto` | `auto`: weeks beyond {WEEKLY_AFTER_DAYS} days |\n\
| `top` | groups shown before \"others\", 2–50 | {DEFAULT_TOP} |\n\n\
Example: `{{\"panel\": \"breakdown\", \"by\": \"template\", \"top\": 6}}`. Ranges up to {MAX_DAYS} days.\n",
        groupings(dimensions)
            .iter()
            .map(|g| format!("`{g}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The `widgetContext` example of the CloudWatch user guide ("Details about custom widgets").
    fn documented() -> Value {
        serde_json::from_str(include_str!("../../events/widget/documented-context.json")).unwrap()
    }

    fn with(params: Value, range: (i64, i64), offset: i64) -> Invocation {
        serde_json::from_value(json!({
            "widgetContext": {
                "timezone": {"label": "Local", "offsetISO": "+02:00", "offsetInMinutes": offset},
                "timeRange": {"mode": "absolute", "start": range.0, "end": range.1},
                "params": params, "width": 588, "height": 369
            }
        }))
        .unwrap()
    }

    fn ms(s: &str) -> i64 {
        s.parse::<DateTime<Utc>>().unwrap().timestamp_millis()
    }

    #[test]
    fn the_documented_context_parses_and_without_a_panel_says_which_to_choose() {
        let invocation: Invocation = serde_json::from_value(documented()).unwrap();
        let context = invocation.widget_context.as_ref().unwrap();
        assert_eq!(context.width, Some(588.0));
        assert_eq!(
            context.timezone.as_ref().unwrap().offset_in_minutes,
            Some(0)
        );
        let err = request(&invocation, &[]).unwrap_err();
        assert_eq!(err, WidgetError::MissingPanel);
        assert!(err.to_string().contains("kpis, volume"));
    }

    #[test]
    fn given_a_range_when_asked_then_every_utc_day_it_touches_is_shown() {
        // 2026-11-19 22:00 UTC to 2026-11-22 00:00 UTC (exclusive): the 19th, 20th, 21st.
        let r = request(
            &with(
                json!({"panel": "volume"}),
                (ms("2026-11-19T22:00:00Z"), ms("2026-11-22T00:00:00Z")),
                120,
            ),
            &[],
        )
        .unwrap();
        assert_eq!(r.from.to_string(), "2026-11-19");
        assert_eq!(r.to.to_string(), "2026-11-22");
        assert_eq!(r.interval, Interval::Day);
        assert_eq!(
            r.timezone_note.as_deref(),
            Some("the dashboard is in UTC+02:00: each day here starts at 02:00 its time")
        );
        assert_eq!(utc_midnight_local(-300), "19:00");
    }

    #[test]
    fn zoom_wins_long_ranges_go_weekly_and_params_beside_the_context_count() {
        let mut invocation = with(
            json!({}),
            (ms("2026-01-01T00:00:00Z"), ms("2026-06-01T00:00:00Z")),
            0,
        );
        invocation
            .top_level
            .insert("panel".into(), json!("resolution"));
        let r = request(&invocation, &[]).unwrap();
        assert_eq!(
            (r.panel.clone(), r.interval),
            (Panel::Resolution, Interval::Week)
        );
        assert_eq!(r.timezone_note, None);
        invocation.widget_context.as_mut().unwrap().time_range = Some(TimeRange {
            start: Some(ms("2026-01-01T00:00:00Z")),
            end: Some(ms("2026-06-01T00:00:00Z")),
            zoom: Some(Zoom {
                start: Some(ms("2026-03-01T10:00:00Z")),
                end: Some(ms("2026-03-03T10:00:00Z")),
            }),
            ..TimeRange::default()
        });
        let r = request(&invocation, &[]).unwrap();
        assert_eq!(
            (r.from.to_string(), r.to.to_string()),
            ("2026-03-01".into(), "2026-03-04".into())
        );
        assert_eq!(r.interval, Interval::Day);
    }

    #[test]
    fn bad_input_gets_a_message_and_huge_sizes_are_clamped() {
        let day = (ms("2026-11-19T00:00:00Z"), ms("2026-11-20T00:00:00Z"));
        let err = |params: Value, range| {
            request(&with(params, range, 0), &["case_reason".into()]).unwrap_err()
        };
        assert!(
            matches!(err(json!({"panel": "pie"}), day), WidgetError::UnknownPanel(p) if p == "pie")
        );
        assert!(
            matches!(err(json!({"panel": "breakdown"}), day), WidgetError::MissingGrouping(g) if g.len() == 3)
        );
        let unknown = err(json!({"panel": "breakdown", "by": "priority"}), day);
        assert!(
            unknown
                .to_string()
                .contains("template, status, case_reason"),
            "{unknown}"
        );
        assert!(matches!(
            err(json!({"panel": "kpis", "top": 0}), day),
            WidgetError::BadParameter { name: "top", .. }
        ));
        assert!(matches!(
            err(json!({"panel": "kpis", "interval": "hour"}), day),
            WidgetError::BadParameter {
                name: "interval",
                ..
            }
        ));
        assert_eq!(
            err(json!({"panel": "kpis"}), (day.1, day.0)),
            WidgetError::EmptyRange
        );
        assert_eq!(
            err(json!({"panel": "kpis"}), (0, ms("2026-01-01T00:00:00Z"))),
            WidgetError::RangeTooLong(20454)
        );
        let none: Invocation = serde_json::from_value(json!({"panel": "kpis"})).unwrap();
        assert_eq!(request(&none, &[]).unwrap_err(), WidgetError::NoTimeRange);

        let mut huge = with(json!({"panel": "kpis"}), day, 0);
        let context = huge.widget_context.as_mut().unwrap();
        context.width = Some(1e12);
        context.height = Some(-4.0);
        let r = request(&huge, &[]).unwrap();
        assert_eq!(
            r.size,
            Size {
                width: 3000.0,
                height: 300.0
            }
        );
    }

    #[test]
    fn describe_lists_the_panels_and_this_stacks_groupings() {
        let md = describe(&["case_reason".into()]);
        for name in Panel::NAMES {
            assert!(md.contains(&format!("`{name}`")), "{name}");
        }
        assert!(md.contains("`case_reason`") && md.contains("UTC days"));
    }
}
