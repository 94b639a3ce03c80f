//! A sliding window of outcomes, kept as ten buckets so memory does not grow with traffic.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

const BUCKETS: u32 = 10;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: Instant,
    successes: u32,
    failures: u32,
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

    fn expire(&mut self, now: Instant) {
        while let Some(front) = self.buckets.front() {
            if now.saturating_duration_since(front.start) >= self.window {
                self.buckets.pop_front();
            } else {
                break;
            }
        }
    }

    pub(crate) fn record(&mut self, now: Instant, failed: bool) {
        self.expire(now);
        let fresh = match self.buckets.back() {
            Some(back) => now.saturating_duration_since(back.start) >= self.bucket_len,
            None => true,
        };
        if fresh {
            self.buckets.push_back(Bucket {
                start: now,
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
}
