//! What the remote-write queue does with an answer, as Prometheus's queue manager does: a 2xx is
//! delivered; a 5xx, a timeout, a broken connection (and a 429 when `retry_on_http_429`) is retried
//! after a backoff that blocks the shard; any other 4xx is refused for good, counted, never retried.

use crate::stats::OutcomeClass;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Delivered,
    Retry,
    Refused,
}

pub fn decide(class: OutcomeClass, retry_on_http_429: bool) -> Decision {
    match class {
        OutcomeClass::Success => Decision::Delivered,
        OutcomeClass::RateLimited if retry_on_http_429 => Decision::Retry,
        OutcomeClass::ServerError | OutcomeClass::Timeout | OutcomeClass::ConnectionFailure => Decision::Retry,
        _ => Decision::Refused,
    }
}

/// The waits between attempts of one batch: `min_backoff`, doubled after every retry up to
/// `max_backoff`. A `Retry-After` from the target replaces the wait of that retry (the backoff
/// still doubles), as Prometheus honours it.
#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff { next: min, max }
    }

    pub fn wait(&mut self, retry_after: Option<Duration>) -> Duration {
        let wait = retry_after.unwrap_or(self.next);
        self.next = (self.next * 2).min(self.max);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waits(min_ms: u64, max_ms: u64, n: usize) -> Vec<u64> {
        let mut b = Backoff::new(Duration::from_millis(min_ms), Duration::from_millis(max_ms));
        (0..n).map(|_| b.wait(None).as_millis() as u64).collect()
    }

    #[test]
    fn homelab_settings_back_off_from_30ms_to_100ms() {
        assert_eq!(waits(30, 100, 5), [30, 60, 100, 100, 100]);
    }

    #[test]
    fn prometheus_defaults_back_off_from_30ms_to_5s() {
        assert_eq!(waits(30, 5_000, 10), [30, 60, 120, 240, 480, 960, 1920, 3840, 5000, 5000]);
    }

    #[test]
    fn retry_after_replaces_the_wait_and_the_backoff_still_grows() {
        let mut b = Backoff::new(Duration::from_millis(30), Duration::from_secs(5));
        assert_eq!(b.wait(Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(b.wait(None), Duration::from_millis(60));
    }

    #[test]
    fn only_transient_failures_are_retried() {
        use OutcomeClass::*;
        assert_eq!(decide(Success, true), Decision::Delivered);
        for class in [ServerError, Timeout, ConnectionFailure] {
            assert_eq!(decide(class, false), Decision::Retry, "{class:?}");
        }
        assert_eq!(decide(RateLimited, true), Decision::Retry);
        assert_eq!(decide(RateLimited, false), Decision::Refused);
        for class in [OutOfOrder, TooOld, Duplicate, SeriesLimit, BadRequest, Unauthenticated, MissingTenant] {
            assert_eq!(decide(class, true), Decision::Refused, "{class:?}");
        }
    }
}
