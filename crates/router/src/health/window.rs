//! A sliding window of outcomes, kept as ten buckets so memory does not grow with traffic.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

const BUCKETS: u32 = 10;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// When its outcomes leave the window: its start plus the window (`None`: beyond
    /// what an `Instant` can hold, so never).
    leaves: Option<Instant>,
    /// When it stops taking outcomes: its start plus the bucket length (`None`: never).
    ends: Option<Instant>,
    successes: u32,
    failures: u32,
}

impl Bucket {
    /// Whether `now.saturating_duration_since(start) >= len`, given `at = start + len`
    /// (`None` when that overflows), as an instant comparison.
    fn passed(at: Option<Instant>, len: Duration, now: Instant) -> bool {
        len.is_zero() || at.is_some_and(|at| now >= at)
    }
}

/// Successes and failures over the last `window`, at a granularity of a tenth of it.
#[derive(Debug)]
pub(crate) struct OutcomeWindow {
    window: Duration,
    bucket_len: Duration,
    buckets: VecDeque<Bucket>,
}

impl OutcomeWindow {
    pub(crate) fn new(window: Duration) -> Self {
        let bucket_len = (window / BUCKETS).max(Duration::from_millis(1));
        Self {
            window,
            bucket_len,
            buckets: VecDeque::with_capacity(BUCKETS as usize + 1),
        }
    }

    // The ends of buckets are computed once, when a bucket starts, so each outcome costs
    // instant comparisons rather than instant arithmetic.
    fn expire(&mut self, now: Instant) {
        while let Some(front) = self.buckets.front() {
            if Bucket::passed(front.leaves, self.window, now) {
                self.buckets.pop_front();
            } else {
                break;
            }
        }
    }

    pub(crate) fn record(&mut self, now: Instant, failed: bool) {
        self.expire(now);
        let fresh = match self.buckets.back() {
            Some(back) => Bucket::passed(back.ends, self.bucket_len, now),
            None => true,
        };
        if fresh {
            self.buckets.push_back(Bucket {
                leaves: now.checked_add(self.window),
                ends: now.checked_add(self.bucket_len),
                successes: 0,
                failures: 0,
            });
        }
        if let Some(back) = self.buckets.back_mut() {
            if failed {
                back.failures = back.failures.saturating_add(1);
            } else {
                back.successes = back.successes.saturating_add(1);
            }
        }
    }

    /// `(requests, failures)` within the window ending at `now`.
    pub(crate) fn counts(&mut self, now: Instant) -> (u32, u32) {
        self.expire(now);
        self.buckets
            .iter()
            .fold((0u32, 0u32), |(total, failed), b| {
                (
                    total.saturating_add(b.successes).saturating_add(b.failures),
                    failed.saturating_add(b.failures),
                )
            })
    }

    pub(crate) fn clear(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn old_outcomes_leave_the_window() {
        let mut w = OutcomeWindow::new(Duration::from_secs(10));
        let t0 = Instant::now();
        w.record(t0, true);
        w.record(t0 + Duration::from_secs(5), false);
        assert_eq!(w.counts(t0 + Duration::from_secs(6)), (2, 1));
        assert_eq!(w.counts(t0 + Duration::from_secs(11)), (1, 0));
        assert_eq!(w.counts(t0 + Duration::from_secs(16)), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn outcomes_leave_exactly_a_window_after_their_bucket_starts() {
        let mut w = OutcomeWindow::new(Duration::from_secs(10));
        let t0 = Instant::now();
        w.record(t0, true);
        w.record(t0 + Duration::from_millis(999), false);
        // A bucket is a tenth of the window: this one starts a second bucket.
        w.record(t0 + Duration::from_secs(1), true);
        let ns = Duration::from_nanos(1);
        assert_eq!(w.counts(t0 + Duration::from_secs(10) - ns), (3, 2));
        assert_eq!(w.counts(t0 + Duration::from_secs(10)), (1, 1));
        assert_eq!(w.counts(t0 + Duration::from_secs(11) - ns), (1, 1));
        assert_eq!(w.counts(t0 + Duration::from_secs(11)), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_window_keeps_nothing_even_from_a_later_instant() {
        let mut w = OutcomeWindow::new(Duration::ZERO);
        let t0 = Instant::now();
        w.record(t0 + Duration::from_secs(5), true);
        assert_eq!(w.counts(t0), (0, 0));
    }
}
