//! A per-instance GetCase budget: a token bucket the projector takes from without waiting. When
//! it is empty the case's enrichment is deferred (reconcile fills it), so concurrent instances
//! never storm the account's GetCase quota together.

use std::sync::Mutex;

use tokio::time::Instant;

#[derive(Debug)]
pub struct Budget {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

/// The account's GetCase quota (requests per second) as documented.
pub const DEFAULT_GET_CASE_QUOTA: f64 = 4.0;
/// Share of the quota the projector instances take together; the rest is left to reconcile,
/// backfill and other callers.
pub const DEFAULT_PROJECTOR_SHARE: f64 = 0.5;

impl Budget {
    /// `rate` calls per second, bursts of `burst` (at least 1); starts full.
    pub fn new(rate: f64, burst: f64) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            0.0
        };
        let burst = if burst.is_finite() {
            burst.max(1.0)
        } else {
            1.0
        };
        Budget {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// One instance's rate: `quota × share ÷ max_concurrency`.
    pub fn per_instance_rate(quota: f64, share: f64, max_concurrency: u32) -> f64 {
        quota * share / f64::from(max_concurrency.max(1))
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Takes a token if one is there; never waits.
    pub fn try_take(&self) -> bool {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        let (tokens, last) = *state;
        let tokens = (tokens + now.saturating_duration_since(last).as_secs_f64() * self.rate)
            .min(self.burst);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            true
        } else {
            *state = (tokens, now);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn takes_at_the_rate_and_never_waits() {
        let b = Budget::new(2.0, 2.0);
        assert!(b.try_take() && b.try_take());
        assert!(!b.try_take(), "burst spent");
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(b.try_take());
        assert!(!b.try_take());
        assert_eq!(Budget::per_instance_rate(4.0, 0.5, 2), 1.0);
        assert_eq!(Budget::per_instance_rate(4.0, 0.5, 5), 0.4);
    }
}
