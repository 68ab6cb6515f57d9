//! Inline SVG charts sized to the space they are given: bars per interval (counts: integer
//! ticks, one bar per series and interval, a lone day is a bar, not a spike) and points per
//! interval joined where consecutive (averages: a day without resolutions is a gap, not a zero).
//! Every mark carries `data-metric`, `data-start` and `data-value`, so the numbers can be read
//! back from the DOM.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::format::{self, escape};

pub const COLOURS: [&str; 3] = ["#1f77b4", "#2ca02c", "#d62728"];

const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 20.0;
/// Room for one x-axis label ("Nov 19").
const LABEL_WIDTH: f64 = 46.0;

/// One series of a bar chart: its metric id, its name, and its value per interval.
pub struct BarSeries<'a> {
    pub metric: &'a str,
    pub name: &'a str,
    pub values: Vec<i64>,
}

/// A step of 1, 2 or 5 × 10^n giving about `ticks` ticks up to `max`, at least 1.
fn integer_step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks.max(1.0)).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

fn svg_open(out: &mut String, width: f64, height: f64, label: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{}\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"system-ui, sans-serif\" font-size=\"11\">",
        escape(label)
    );
}

/// Horizontal grid lines and y labels at `ticks` (value, label), on a scale of `max`.
fn y_axis(out: &mut String, ticks: &[(f64, String)], max: f64, width: f64, height: f64) {
    let plot_h = height - TOP - BOTTOM;
    for (v, label) in ticks {
        let y = TOP + plot_h - v / max * plot_h;
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e5e5e5\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            width - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            escape(label)
        );
    }
}

/// X labels under interval bands, as many as fit without overlapping.
fn x_labels(out: &mut String, starts: &[NaiveDate], band: f64, height: f64, weekly: bool) {
    let every = (LABEL_WIDTH / band).ceil().max(1.0) as usize;
    for (i, start) in starts.iter().enumerate() {
        if !i.is_multiple_of(every) {
            continue;
        }
        let x = LEFT + band * (i as f64 + 0.5);
        let text = if weekly {
            format!("w/c {}", format::day(*start))
        } else {
            format::day(*start)
        };
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            height - 6.0,
            escape(&text)
        );
    }
}

fn legend(out: &mut String, names: &[&str]) {
    let mut x = LEFT;
    for (i, name) in names.iter().enumerate() {
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.1}\" y=\"13\" fill=\"#333\">{}</text>",
            COLOURS[i % COLOURS.len()],
            x + 14.0,
            escape(name)
        );
        x += 22.0 + 6.5 * name.chars().count() as f64;
    }
}

/// Grouped bars: per interval start, one bar per series.
pub fn bars(
    starts: &[NaiveDate],
    series: &[BarSeries<'_>],
    width: f64,
    height: f64,
    weekly: bool,
) -> String {
    let mut out = String::new();
    svg_open(&mut out, width, height, "bars per interval");
    let max_value = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let plot_h = height - TOP - BOTTOM;
    let step = integer_step(max_value, (plot_h / 28.0).floor());
    let max = (max_value / step).ceil() * step;
    let ticks: Vec<(f64, String)> = (0..=((max / step) as i64))
        .map(|i| {
            let v = i as f64 * step;
            (v, format::count(v as i64))
        })
        .collect();
    y_axis(&mut out, &ticks, max, width, height);
    let n = starts.len().max(1) as f64;
    let band = (width - LEFT - RIGHT) / n;
    // At most 28 px a bar: a few days read as bars, not as blocks.
    let bar = (band * 0.8 / series.len().max(1) as f64).clamp(0.5, 28.0);
    let group = bar * series.len() as f64;
    for (i, start) in starts.iter().enumerate() {
        let x0 = LEFT + band * i as f64 + (band - group) / 2.0;
        for (k, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0);
            let h = v as f64 / max * plot_h;
            let _ = write!(
                out,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{bar:.2}\" height=\"{h:.2}\" fill=\"{}\" data-metric=\"{}\" data-start=\"{start}\" data-value=\"{v}\"><title>{}: {} {}</title></rect>",
                x0 + bar * k as f64,
                TOP + plot_h - h,
                COLOURS[k % COLOURS.len()],
                s.metric,
                escape(&format::day(*start)),
                format::count(v),
                escape(s.name)
            );
        }
    }
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>",
        width - RIGHT,
        TOP + plot_h,
        TOP + plot_h
    );
    x_labels(&mut out, starts, band, height, weekly);
    legend(&mut out, &series.iter().map(|s| s.name).collect::<Vec<_>>());
    out.push_str("</svg>");
    out
}

/// How a points chart's y axis reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// 0–100 %.
    Percent,
    /// Seconds, labelled in minutes, hours or days.
    Duration,
}

/// Ticks of a duration axis up to `max` seconds: whole minutes, hours or days.
fn duration_ticks(max: f64, ticks: f64) -> (f64, Vec<(f64, String)>) {
    let unit = if max <= 2.0 * 3600.0 {
        60.0
    } else if max <= 3.0 * 86_400.0 {
        3600.0
    } else {
        86_400.0
    };
    let step = integer_step(max / unit, ticks) * unit;
    let top = ((max / step).ceil() * step).max(step);
    let labels = (0..=((top / step).round() as i64))
        .map(|i| {
            let v = i as f64 * step;
            let text = match unit as i64 {
                60 => format!("{} m", (v / 60.0).round()),
                3600 => format!("{} h", (v / 3600.0).round()),
                _ => format!("{} d", (v / 86_400.0).round()),
            };
            (v, text)
        })
        .collect();
    (top, labels)
}

/// Points per interval, joined where consecutive intervals both have a value.
pub fn points(
    starts: &[NaiveDate],
    metric: &str,
    values: &[Option<f64>],
    scale: Scale,
    width: f64,
    height: f64,
    weekly: bool,
) -> String {
    let mut out = String::new();
    svg_open(&mut out, width, height, metric);
    let plot_h = height - TOP - BOTTOM;
    let ticks_wanted = (plot_h / 28.0).floor();
    let (max, ticks) = match scale {
        Scale::Percent => (
            100.0,
            [0.0, 25.0, 50.0, 75.0, 100.0]
                .into_iter()
                .filter(|v| ticks_wanted >= 4.0 || *v as i64 % 50 == 0)
                .map(|v| (v, format!("{v} %")))
                .collect(),
        ),
        Scale::Duration => {
            let top = values.iter().flatten().fold(0.0f64, |a, b| a.max(*b));
            duration_ticks(top.max(60.0), ticks_wanted)
        }
    };
    y_axis(&mut out, &ticks, max, width, height);
    let n = starts.len().max(1) as f64;
    let band = (width - LEFT - RIGHT) / n;
    let at = |i: usize, v: f64| {
        (
            LEFT + band * (i as f64 + 0.5),
            TOP + plot_h - v.clamp(0.0, max) / max * plot_h,
        )
    };
    for i in 1..values.len() {
        if let (Some(a), Some(b)) = (values[i - 1], values[i]) {
            let ((x1, y1), (x2, y2)) = (at(i - 1, a), at(i, b));
            let _ = write!(
                out,
                "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{}\" stroke-width=\"2\"/>",
                COLOURS[0]
            );
        }
    }
    for (i, (start, v)) in starts.iter().zip(values).enumerate() {
        let Some(v) = v else { continue };
        let (x, y) = at(i, *v);
        let shown = match scale {
            Scale::Percent => format::percent(Some(*v)),
            Scale::Duration => format::duration(*v),
        };
        let _ = write!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{}\" data-metric=\"{metric}\" data-start=\"{start}\" data-value=\"{v}\"><title>{}: {}</title></circle>",
            COLOURS[0],
            escape(&format::day(*start)),
            escape(&shown)
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>",
        width - RIGHT,
        TOP + plot_h,
        TOP + plot_h
    );
    x_labels(&mut out, starts, band, height, weekly);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<NaiveDate> {
        let first: NaiveDate = "2026-11-01".parse().unwrap();
        (0..n)
            .map(|i| first + chrono::TimeDelta::days(i as i64))
            .collect()
    }

    #[test]
    fn count_axes_have_whole_ticks_and_every_interval_a_bar() {
        let starts = days(4);
        let svg = bars(
            &starts,
            &[BarSeries {
                metric: "CASES_CREATED",
                name: "created",
                values: vec![0, 1, 0, 2],
            }],
            400.0,
            200.0,
            false,
        );
        assert_eq!(
            svg.matches("<rect x=").count(),
            4 + 1,
            "a bar per day, a legend key"
        );
        assert!(svg.contains("data-start=\"2026-11-04\" data-value=\"2\""));
        for tick in [">0<", ">1<", ">2<"] {
            assert!(svg.contains(tick), "{tick}");
        }
        assert!(!svg.contains(">0.5<") && !svg.contains(">1.5<"));
    }

    #[test]
    fn labels_thin_out_to_fit_and_ticks_step_in_ones_twos_and_fives() {
        let svg = bars(
            &days(90),
            &[BarSeries {
                metric: "CASES_CREATED",
                name: "created",
                values: vec![3; 90],
            }],
            600.0,
            200.0,
            false,
        );
        let labels = svg.matches("text-anchor=\"middle\"").count();
        assert!((5..=600 / 46 + 1).contains(&labels), "{labels}");
        assert_eq!(integer_step(7.0, 4.0), 2.0);
        assert_eq!(integer_step(0.5, 4.0), 1.0);
        assert_eq!(integer_step(230.0, 5.0), 50.0);
    }

    #[test]
    fn points_leave_gaps_where_there_is_no_value_and_durations_tick_in_hours() {
        let svg = points(
            &days(4),
            "AVG_CASE_RESOLUTION_TIME",
            &[Some(3600.0), None, Some(7200.0), Some(10_800.0)],
            Scale::Duration,
            400.0,
            200.0,
            false,
        );
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(
            svg.matches("stroke-width=\"2\"").count(),
            1,
            "only the last two days are joined"
        );
        assert!(svg.contains(">3 h<") || svg.contains(">2 h<"), "{svg}");
    }
}
