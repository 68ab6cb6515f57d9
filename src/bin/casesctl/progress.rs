//! Progress lines of long runs, as plain functions of what is known: one line that fits the
//! terminal, a total that covers every phase, the rate actually achieved, and an ETA that says
//! it is a lower bound.

use std::time::Duration;

use cases_projector::backfill::{Counts, Plan, RelatedStrategy};

/// Where a backfill stands.
pub struct Backfill<'a> {
    /// Cases API requests so far (each attempt counts).
    pub calls: u64,
    pub throttles: u64,
    /// Requests made before the plan was known (planning).
    pub calls_at_plan: u64,
    pub plan: &'a Plan,
    pub counts: &'a Counts,
    /// The limit, requests per second.
    pub rate: f64,
    pub elapsed: Duration,
}

impl Backfill<'_> {
    /// Requests still to make, at least: the cases left at the calls per case seen so far (the
    /// plan's estimate before the first page), and the domain-wide related-item pages, whose
    /// number no call tells in advance (at least one until they are done).
    fn remaining_calls(&self) -> f64 {
        let done = self.counts.cases + self.counts.cases_gone;
        let left = self.plan.cases.saturating_sub(done);
        let per_case = if done > 0 && left > 0 {
            self.calls.saturating_sub(self.calls_at_plan) as f64 / done as f64
        } else {
            self.plan.calls_per_case()
        };
        let related = match self.plan.related {
            RelatedStrategy::DomainWide => 1.0,
            RelatedStrategy::PerCase => 0.0,
        };
        left as f64 * per_case + related
    }

    /// Requests per second achieved: the first call goes at once, the rest one interval apart.
    fn achieved_rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs < 1.0 {
            return 0.0;
        }
        self.calls.saturating_sub(1) as f64 / secs
    }
}

/// `[#####·····] 42% 120/≥290 calls · 40/100 cases · 0.50/s · ETA ≥ 5m40s`, at most `width`
/// characters.
pub fn backfill_line(s: &Backfill<'_>, width: usize) -> String {
    let remaining = s.remaining_calls();
    let total = s.calls + remaining.ceil() as u64;
    let fraction = if total == 0 {
        1.0
    } else {
        s.calls as f64 / total as f64
    };
    let done = s.counts.cases + s.counts.cases_gone;
    let phase = if done < s.plan.cases {
        format!("{done}/{} cases", s.plan.cases)
    } else {
        format!("related items, {} so far", s.counts.related_items)
    };
    // Throttling slows the run below its limit: the ETA follows what is achieved then.
    let achieved = s.achieved_rate();
    let eta_rate = if s.calls >= 10 && achieved > 0.0 {
        achieved.min(s.rate)
    } else {
        s.rate
    };
    let mut text = format!(
        "{:>3}% {}/≥{total} calls · {phase} · {achieved:.2}/s · ETA ≥ {}",
        (fraction * 100.0).floor() as u32,
        s.calls,
        duration(remaining / eta_rate)
    );
    if s.throttles > 0 {
        text.push_str(&format!(" · {} throttled", s.throttles));
    }
    let room = width.saturating_sub(text.chars().count() + 3);
    let bar = room.min(20);
    let line = if bar >= 5 {
        let filled = ((fraction * bar as f64).floor() as usize).min(bar);
        format!(
            "[{}{}] {text}",
            "#".repeat(filled),
            "·".repeat(bar - filled)
        )
    } else {
        text
    };
    line.chars().take(width).collect()
}

/// `1h02m`, `5m40s`, `12s`.
pub fn duration(seconds: f64) -> String {
    let s = if seconds.is_finite() {
        seconds.max(0.0).round() as u64
    } else {
        u64::MAX
    };
    match s {
        u64::MAX => "?".into(),
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, s / 60 % 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(cases: u64, related: RelatedStrategy) -> Plan {
        Plan::new(cases, 25, 0, related, 0.5, true)
    }

    fn state<'a>(plan: &'a Plan, counts: &'a Counts, calls: u64, secs: u64) -> Backfill<'a> {
        Backfill {
            calls,
            throttles: 0,
            calls_at_plan: 3,
            plan,
            counts,
            rate: 0.5,
            elapsed: Duration::from_secs(secs),
        }
    }

    #[test]
    fn the_line_fits_an_80_column_terminal_at_any_size() {
        let plan = plan(1_000_000, RelatedStrategy::PerCase);
        let counts = Counts {
            cases: 123_456,
            related_items: 9_999_999,
            ..Counts::default()
        };
        let mut s = state(&plan, &counts, 400_000, 800_000);
        s.throttles = 12_345;
        let line = backfill_line(&s, 80);
        assert!(line.chars().count() <= 80, "{line}");
        assert!(line.contains("123456/1000000 cases"), "{line}");
    }

    #[test]
    fn the_bar_does_not_reach_the_end_while_history_and_related_items_remain() {
        // Every case page done, but the domain-wide related items not yet.
        let plan = plan(50, RelatedStrategy::DomainWide);
        let counts = Counts {
            cases: 50,
            ..Counts::default()
        };
        let line = backfill_line(&state(&plan, &counts, 110, 220), 80);
        assert!(!line.contains("100%"), "{line}");
        assert!(line.contains("related items"), "{line}");
        assert!(line.contains("/≥111 calls"), "{line}");
    }

    #[test]
    fn the_total_follows_the_calls_per_case_seen_not_only_the_plan() {
        // The plan guessed about 2 calls a case (related items, history); each took 4 so far.
        let plan = plan(100, RelatedStrategy::PerCase);
        let counts = Counts {
            cases: 25,
            ..Counts::default()
        };
        let line = backfill_line(&state(&plan, &counts, 3 + 100, 200), 80);
        // 75 cases left at 4 calls each.
        assert!(line.contains("103/≥403 calls"), "{line}");
        assert!(line.contains("ETA ≥ 10m00s"), "{line}");
    }

    #[test]
    fn the_rate_shown_is_the_rate_achieved() {
        // At 0.5/s, 5 calls take 8 s (0, 2, 4, 6, 8): 0.50/s, not 5/8.
        let plan = plan(10, RelatedStrategy::PerCase);
        let counts = Counts::default();
        let line = backfill_line(&state(&plan, &counts, 5, 8), 80);
        assert!(line.contains("0.50/s"), "{line}");
    }

    #[test]
    fn durations_read_as_hours_minutes_seconds() {
        assert_eq!(duration(3725.0), "1h02m");
        assert_eq!(duration(340.0), "5m40s");
        assert_eq!(duration(12.4), "12s");
        assert_eq!(duration(f64::INFINITY), "?");
    }
}
