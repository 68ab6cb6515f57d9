//! One client-side limit for every Cases call of a run, shared by concurrent tasks: a token
//! bucket at `rate` requests per second (burst 1, so calls are spread evenly), and a retry loop
//! for throttling answers that backs off and never gives up on a throttle alone.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::enrichment::ReaderError;

pub struct Limiter {
    interval: Duration,
    next_slot: Mutex<Instant>,
    calls: AtomicU64,
    throttles: AtomicU64,
    /// Calls per operation (one per `call`, however many attempts it took).
    operations: Mutex<BTreeMap<&'static str, u64>>,
}

/// The longest pause after a throttling answer.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A call throttled this many times in a row is logged (and every time after).
const THROTTLES_LOGGED_FROM: u32 = 3;

impl Limiter {
    /// `rate` requests per second (> 0).
    pub fn new(rate: f64) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        Limiter {
            interval: Duration::from_secs_f64(1.0 / rate),
            next_slot: Mutex::new(Instant::now()),
            calls: AtomicU64::new(0),
            throttles: AtomicU64::new(0),
            operations: Mutex::new(BTreeMap::new()),
        }
    }

    /// Waits for the next free slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next_slot.lock().unwrap();
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Pushes every caller back (the service said slow down).
    fn back_off(&self, by: Duration) {
        let mut next = self.next_slot.lock().unwrap();
        *next = (*next).max(Instant::now() + by);
    }

    /// Calls `call` (the Cases API's `operation`) within the limit; a throttling answer backs off
    /// (exponentially up to 30 s, shared by all callers) and tries again, however long the
    /// service keeps throttling: a throttle never aborts a run. Other errors are returned.
    pub async fn call<T, F, Fut>(
        &self,
        operation: &'static str,
        mut call: F,
    ) -> Result<T, ReaderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ReaderError>>,
    {
        *self
            .operations
            .lock()
            .unwrap()
            .entry(operation)
            .or_default() += 1;
        let mut throttled = 0u32;
        loop {
            self.acquire().await;
            match call().await {
                Err(ReaderError::Throttled { .. }) => {
                    throttled = throttled.saturating_add(1);
                    self.throttles.fetch_add(1, Ordering::Relaxed);
                    let backoff = Duration::from_millis(250 << throttled.min(7)).min(MAX_BACKOFF);
                    if throttled >= THROTTLES_LOGGED_FROM {
                        // Between two progress lines, a long throttle shows here.
                        tracing::warn!(
                            operation,
                            throttled,
                            backoff_s = backoff.as_secs_f64(),
                            "throttled in a row: backing off, the run goes on"
                        );
                    }
                    self.back_off(backoff);
                }
                other => return other,
            }
        }
    }

    /// Requests made so far (each attempt counts).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls so far per operation.
    pub fn calls_by_operation(&self) -> BTreeMap<&'static str, u64> {
        self.operations.lock().unwrap().clone()
    }

    /// Throttling answers so far.
    pub fn throttles(&self) -> u64 {
        self.throttles.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_are_spread_at_the_rate_and_throttles_back_off_and_continue() {
        let limiter = Limiter::new(2.0);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(2),
            "5 calls at 2/s: 0, .5, 1, 1.5, 2 s"
        );

        let mut answers = vec![
            Ok(7),
            Err(ReaderError::Throttled {
                operation: "SearchCases",
                message: String::new(),
            }),
            Err(ReaderError::Throttled {
                operation: "SearchCases",
                message: String::new(),
            }),
        ];
        let got = limiter
            .call("SearchCases", || std::future::ready(answers.pop().unwrap()))
            .await;
        assert_eq!(got, Ok(7));
        assert_eq!(limiter.throttles(), 2);
        assert_eq!(
            limiter.calls_by_operation()["SearchCases"],
            1,
            "one call, three attempts"
        );
    }
}
