//! Numbers as people read them: durations in days, hours and minutes, shares in per cent, counts
//! with thousands separators, days as "Nov 19".

use chrono::NaiveDate;

/// What a missing average shows.
pub const NONE: &str = "–";

/// `3599` → `1 h 00 m`; `45` → `45 s`; `720` → `12 m`; `97200` → `1 d 03 h`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return NONE.into();
    }
    let s = seconds.round() as u64;
    let minutes = (s + 30) / 60;
    let hours = (s + 1800) / 3600;
    match s {
        0..60 => format!("{s} s"),
        _ if minutes < 60 => format!("{minutes} m"),
        _ if minutes < 24 * 60 => format!("{} h {:02} m", minutes / 60, minutes % 60),
        _ => format!("{} d {:02} h", hours / 24, hours % 24),
    }
}

/// `Some(3599.0)` → `1 h 00 m`, `None` → `–`.
pub fn opt_duration(seconds: Option<f64>) -> String {
    seconds.map(duration).unwrap_or_else(|| NONE.into())
}

/// `42.4` → `42 %`; `None` → `–`.
pub fn percent(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{} %", v.round() as i64),
        _ => NONE.into(),
    }
}

/// `1.25` → `1.3`; `None` → `–`.
pub fn ratio(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.1}"),
        _ => NONE.into(),
    }
}

/// `12345` → `12,345`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `2026-11-19` → `Nov 19`.
pub fn day(d: NaiveDate) -> String {
    d.format("%b %-d").to_string()
}

/// The days `[from, to)` as people say them: `Nov 19 – Nov 22, 2026` (the last day included).
pub fn range(from: NaiveDate, to: NaiveDate) -> String {
    let last = to.pred_opt().unwrap_or(to);
    if last <= from {
        format!("{}, {}", day(from), from.format("%Y"))
    } else if from.format("%Y").to_string() == last.format("%Y").to_string() {
        format!("{} – {}, {}", day(from), day(last), last.format("%Y"))
    } else {
        format!(
            "{}, {} – {}, {}",
            day(from),
            from.format("%Y"),
            day(last),
            last.format("%Y")
        )
    }
}

/// `&`, `<`, `>`, `"`, `'` escaped for HTML text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number as a `data-value` attribute: integers as such, others with their full precision,
/// nothing for `None`.
pub fn data_value(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_largest_useful_units() {
        assert_eq!(duration(45.0), "45 s");
        assert_eq!(duration(720.0), "12 m");
        assert_eq!(duration(3599.0), "1 h 00 m");
        assert_eq!(duration(3900.0), "1 h 05 m");
        assert_eq!(duration(97_200.0), "1 d 03 h");
        assert_eq!(opt_duration(None), "–");
        assert_eq!(duration(f64::NAN), "–");
    }

    #[test]
    fn shares_counts_and_days() {
        assert_eq!(percent(Some(42.4)), "42 %");
        assert_eq!(percent(Some(100.0)), "100 %");
        assert_eq!(percent(None), "–");
        assert_eq!(ratio(Some(1.26)), "1.3");
        assert_eq!(count(12_345), "12,345");
        assert_eq!(count(-1000), "-1,000");
        assert_eq!(count(7), "7");
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(day(d("2026-11-09")), "Nov 9");
        assert_eq!(
            range(d("2026-11-19"), d("2026-11-23")),
            "Nov 19 – Nov 22, 2026"
        );
        assert_eq!(range(d("2026-11-19"), d("2026-11-20")), "Nov 19, 2026");
        assert_eq!(
            range(d("2025-12-30"), d("2026-01-02")),
            "Dec 30, 2025 – Jan 1, 2026"
        );
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
