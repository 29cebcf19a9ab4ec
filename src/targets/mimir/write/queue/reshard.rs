//! How many shards the queue wants, by Prometheus's own rule: every 10 s, exponentially weighted
//! rates of samples in, samples out and the time spent sending; the shards needed to send the
//! incoming rate plus 5% of the backlog per second, at the time one sample takes to send. Changes
//! within 30% of the current count are ignored, the queue does not shrink while more than 10 s
//! behind, and the result stays between `min_shards` and `max_shards`.

use std::time::Duration;

/// How often the desired shard count is computed.
pub const SHARD_UPDATE: Duration = Duration::from_secs(10);
const EWMA_WEIGHT: f64 = 0.2;
const TOLERANCE: f64 = 0.3;
const CATCH_UP_PER_SECOND: f64 = 0.05;
const NO_SHRINK_WHEN_BEHIND_S: f64 = 10.0;

/// A rate of events per second, exponentially weighted over `SHARD_UPDATE` ticks; the first tick
/// with events sets it.
#[derive(Clone, Debug, Default)]
pub struct Ewma {
    rate: f64,
    started: bool,
}

impl Ewma {
    /// Folds in what happened over the last update period.
    pub fn tick(&mut self, events: f64, period: Duration) {
        let instant = events / period.as_secs_f64().max(1e-9);
        if self.started {
            self.rate += EWMA_WEIGHT * (instant - self.rate);
        } else if events > 0.0 {
            self.started = true;
            self.rate = instant;
        }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// What the rule reads.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Samples per second entering the queue.
    pub in_rate: f64,
    /// Samples per second leaving it (delivered or refused).
    pub out_rate: f64,
    /// Samples per second dropped by age.
    pub dropped_rate: f64,
    /// Seconds spent sending per second (over all shards).
    pub send_seconds_rate: f64,
    /// Newest sample scraped minus newest sample sent, in seconds.
    pub behind_s: f64,
}

/// The shards the rule asks for before any bound or tolerance (Prometheus's `shards_desired`);
/// `None` while nothing has been sent.
pub fn wanted(load: Load) -> Option<f64> {
    if load.out_rate <= 0.0 {
        return None;
    }
    let kept = load.out_rate / (load.dropped_rate + load.out_rate);
    let backlog = load.behind_s.max(0.0) * load.in_rate * kept;
    let time_per_sample = load.send_seconds_rate / load.out_rate;
    Some((time_per_sample * (load.in_rate * kept + CATCH_UP_PER_SECOND * backlog)).ceil())
}

/// The shard count to run next: the current one unless the rule wants a change.
pub fn desired(load: Load, current: usize, min: usize, max: usize) -> usize {
    let Some(wanted) = wanted(load) else { return current };
    let (lower, upper) = (current as f64 * (1.0 - TOLERANCE), current as f64 * (1.0 + TOLERANCE));
    if (lower..=upper).contains(&wanted) {
        return current;
    }
    let wanted = wanted as usize;
    if wanted < current && load.behind_s > NO_SHRINK_WHEN_BEHIND_S {
        return current;
    }
    wanted.clamp(min.max(1), max.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target whose send time per request moves: `latency_s` for a batch of `batch` samples, the
    /// sends of all shards taking as long as the shards need to keep up with `in_rate`.
    fn steady(in_rate: f64, latency_s: f64, batch: f64) -> Load {
        Load { in_rate, out_rate: in_rate, dropped_rate: 0.0, send_seconds_rate: in_rate / batch * latency_s, behind_s: 0.0 }
    }

    #[test]
    fn shards_follow_a_target_whose_latency_steps_up_and_down() {
        // 100,000 samples/s in batches of 1,000: 100 requests/s, each taking the target's latency.
        let mut shards = 1;
        let mut seen = Vec::new();
        for latency in [0.01, 0.01, 0.2, 0.2, 0.05, 0.01] {
            shards = desired(steady(100_000.0, latency, 1_000.0), shards, 1, 200);
            seen.push(shards);
        }
        // 10 ms → 1 shard (1.0 needed); 200 ms → 20; 50 ms → 5; 10 ms → 1.
        assert_eq!(seen, [1, 1, 20, 20, 5, 1]);
    }

    #[test]
    fn small_changes_are_ignored_and_the_bounds_hold() {
        assert_eq!(desired(steady(100_000.0, 0.11, 1_000.0), 10, 1, 200), 10, "11 wanted is within 30% of 10");
        assert_eq!(desired(steady(100_000.0, 5.0, 1_000.0), 10, 1, 200), 200, "500 wanted, capped at max_shards");
        assert_eq!(desired(steady(1.0, 0.001, 1_000.0), 10, 2, 200), 2, "never below min_shards");
    }

    #[test]
    fn a_backlog_asks_for_more_and_blocks_shrinking() {
        let behind = Load { behind_s: 60.0, ..steady(100_000.0, 0.1, 1_000.0) };
        // 10 shards for the rate, plus 5%/s of 60 s of backlog (6,000,000 samples): 0.0001 s × (100,000 + 300,000) = 40.
        assert_eq!(desired(behind, 10, 1, 200), 40);
        let quiet_but_behind = Load { behind_s: 60.0, in_rate: 100.0, out_rate: 100.0, send_seconds_rate: 0.01, dropped_rate: 0.0 };
        assert_eq!(desired(quiet_but_behind, 10, 1, 200), 10, "no shrinking while more than 10 s behind");
    }

    #[test]
    fn nothing_sent_changes_nothing_and_the_ewma_weighs_new_periods_by_a_fifth() {
        assert_eq!(desired(Load { out_rate: 0.0, ..steady(1.0, 1.0, 1.0) }, 7, 1, 200), 7);
        let mut e = Ewma::default();
        e.tick(0.0, SHARD_UPDATE);
        assert_eq!(e.rate(), 0.0);
        e.tick(1_000.0, SHARD_UPDATE);
        assert_eq!(e.rate(), 100.0);
        e.tick(2_000.0, SHARD_UPDATE);
        assert!((e.rate() - 120.0).abs() < 1e-9, "{}", e.rate());
    }
}
