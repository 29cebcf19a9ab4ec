//! Planned send times. An open-loop plan is a list of stages (warm-up, ramp, steady), each with a
//! rate that may change linearly; the k-th call's intended offset follows from the cumulative rate,
//! independent of how fast the target answers.

use serde::Serialize;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stage {
    pub name: &'static str,
    #[serde(with = "secs")]
    pub duration: Duration,
    pub from_rate: f64,
    pub to_rate: f64,
    /// Whether calls in this stage count in the results (warm-up does not).
    pub measured: bool,
}

impl Stage {
    /// Calls planned in this stage (the area under the rate).
    pub fn planned_calls(&self) -> f64 {
        (self.from_rate + self.to_rate) / 2.0 * self.duration.as_secs_f64()
    }

    /// Offset in the stage at which the cumulative count reaches `n` (n ≤ planned_calls).
    fn time_of(&self, n: f64) -> f64 {
        let (a, b, d) = (self.from_rate, self.to_rate, self.duration.as_secs_f64());
        let slope = (b - a) / d;
        if slope.abs() < 1e-12 {
            n / a
        } else {
            (-a + (a * a + 2.0 * slope * n).max(0.0).sqrt()) / slope
        }
    }
}

mod secs {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// The stages of one workload's plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Schedule {
    pub stages: Vec<Stage>,
    /// One unmeasured call at the plan's very start, before any load (a watcher's reading of the
    /// target as it was).
    #[serde(skip)]
    pub call_at_start: bool,
}

/// One planned call: its offset from the plan's start and whether it is measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlannedCall {
    pub offset: Duration,
    pub measured: bool,
}

impl Schedule {
    /// The plan an open-loop workload of `run` at `rate` follows: its warm-up, ramp and duration.
    /// The launch and the canary's re-readers (rebuilding what a run sent when) share it.
    pub fn of(run: &crate::scenario::RunSection, rate: f64) -> Schedule {
        Schedule::open_loop(rate, run.warmup.get(), run.ramp.get(), run.duration.get())
    }

    /// Warm-up at the full rate, a linear ramp from zero, then the steady rate.
    pub fn open_loop(rate: f64, warmup: Duration, ramp: Duration, steady: Duration) -> Schedule {
        let candidates = [
            Stage { name: "warmup", duration: warmup, from_rate: rate, to_rate: rate, measured: false },
            Stage { name: "ramp", duration: ramp, from_rate: 0.0, to_rate: rate, measured: true },
            Stage { name: "steady", duration: steady, from_rate: rate, to_rate: rate, measured: true },
        ];
        Schedule { stages: candidates.into_iter().filter(|s| !s.duration.is_zero()).collect(), call_at_start: false }
    }

    pub fn total(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// Offset at which measurement starts (the end of the warm-up).
    pub fn measured_from(&self) -> Duration {
        self.stages.iter().take_while(|s| !s.measured).map(|s| s.duration).sum()
    }

    /// The area under the measured stages' rate: calls per second × seconds, fractional.
    pub fn planned_measured_calls(&self) -> f64 {
        self.stages.iter().filter(|s| s.measured).map(Stage::planned_calls).sum()
    }

    /// Whole calls the plan sends in its measured stages: exactly those `calls()` yields as measured.
    pub fn planned_measured_count(&self) -> u64 {
        let mut carry = 0.0_f64;
        let mut measured = 0;
        for stage in &self.stages {
            let total = stage.planned_calls() + carry;
            let count = total.floor() as u64;
            carry = total - count as f64;
            if stage.measured {
                measured += count;
            }
        }
        measured
    }

    /// The same plan with one unmeasured call at its start.
    pub fn with_call_at_start(mut self) -> Schedule {
        self.call_at_start = true;
        self
    }

    /// Every planned call, in order.
    pub fn calls(&self) -> impl Iterator<Item = PlannedCall> + '_ {
        let first = self.call_at_start.then_some(PlannedCall { offset: Duration::ZERO, measured: false });
        first.into_iter().chain(self.staged_calls())
    }

    /// Call `seq`'s offset, as `calls()` gives it, without walking the calls before it (a canary
    /// rebuilds what it wrote weeks ago from the request number); `None` past the plan's end.
    pub fn offset_of(&self, seq: u64) -> Option<Duration> {
        let mut k = seq;
        if self.call_at_start {
            if k == 0 {
                return Some(Duration::ZERO);
            }
            k -= 1;
        }
        let (mut stage_start, mut carry, mut before) = (Duration::ZERO, 0.0_f64, 0u64);
        for stage in &self.stages {
            let area = stage.planned_calls();
            let count = (area + carry).floor() as u64;
            if k < before + count {
                let j = k - before + 1;
                let n = (j as f64 - carry).max(0.0);
                let t = stage.time_of(n).min(stage.duration.as_secs_f64());
                return Some(stage_start + Duration::from_secs_f64(t));
            }
            before += count;
            carry = (area + carry) - count as f64;
            stage_start += stage.duration;
        }
        None
    }

    /// The last call at or before `offset_ms` into the plan, and its offset (ms): which request a
    /// run sent at that instant. `rate` (the steady rate) gives the first guess; `offset_of` the
    /// exact answer.
    pub fn call_at(&self, offset_ms: i64, rate: f64) -> Option<(u64, i64)> {
        let at = |seq: u64| self.offset_of(seq).map(|d| d.as_millis() as i64);
        let mut seq = ((offset_ms as f64 / 1000.0 * rate).floor() as i64 - 1).max(0) as u64;
        while at(seq + 1).is_some_and(|o| o <= offset_ms) {
            seq += 1;
        }
        while seq > 0 && at(seq).is_none_or(|o| o > offset_ms) {
            seq -= 1;
        }
        at(seq).filter(|o| *o <= offset_ms).map(|o| (seq, o))
    }

    fn staged_calls(&self) -> impl Iterator<Item = PlannedCall> + '_ {
        let mut stage_start = Duration::ZERO;
        let mut carry = 0.0_f64; // part of the next call already accumulated in earlier stages
        self.stages.iter().flat_map(move |stage| {
            let start = stage_start;
            stage_start += stage.duration;
            let area = stage.planned_calls();
            let first_carry = carry;
            let count = (area + first_carry).floor() as u64;
            carry = (area + first_carry) - count as f64;
            (1..=count).map(move |j| {
                let n = (j as f64 - first_carry).max(0.0);
                let t = stage.time_of(n).min(stage.duration.as_secs_f64());
                PlannedCall { offset: start + Duration::from_secs_f64(t), measured: stage.measured }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn any_calls_offset_is_found_without_walking_the_calls() {
        let plans = [
            Schedule::open_loop(7.3, secs(3), secs(0), secs(50)),
            Schedule::open_loop(2.0, secs(1), secs(4), secs(9)).with_call_at_start(),
            Schedule::open_loop(0.25, Duration::ZERO, Duration::ZERO, secs(100)),
        ];
        for s in plans {
            let calls: Vec<_> = s.calls().collect();
            for (seq, call) in calls.iter().enumerate() {
                assert_eq!(s.offset_of(seq as u64), Some(call.offset), "call {seq} of {s:?}");
            }
            assert_eq!(s.offset_of(calls.len() as u64), None);
        }
    }

    #[test]
    fn the_call_sent_at_an_instant_is_the_last_one_planned_by_then() {
        let s = Schedule::open_loop(4.0, secs(2), secs(2), secs(10));
        let calls: Vec<_> = s.calls().collect();
        for t in (0..14_000).step_by(37) {
            let want = calls.iter().enumerate().rev().find(|(_, c)| c.offset.as_millis() as i64 <= t).map(|(i, c)| (i as u64, c.offset.as_millis() as i64));
            assert_eq!(s.call_at(t, 4.0), want, "at {t} ms");
        }
    }

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let s = Schedule::open_loop(10.0, Duration::ZERO, Duration::ZERO, secs(2));
        let calls: Vec<_> = s.calls().collect();
        assert_eq!(calls.len(), 20);
        assert_eq!(calls[0].offset, Duration::from_millis(100));
        assert_eq!(calls[19].offset, secs(2));
        assert!(calls.windows(2).all(|w| (w[1].offset - w[0].offset) == Duration::from_millis(100)));
    }

    #[test]
    fn warmup_is_planned_but_not_measured() {
        let s = Schedule::open_loop(5.0, secs(2), Duration::ZERO, secs(4));
        let calls: Vec<_> = s.calls().collect();
        assert_eq!(calls.iter().filter(|c| !c.measured).count(), 10);
        assert_eq!(calls.iter().filter(|c| c.measured).count(), 20);
        assert!(calls.iter().filter(|c| c.measured).all(|c| c.offset > s.measured_from()));
        assert_eq!(s.measured_from(), secs(2));
        assert_eq!(s.total(), secs(6));
    }

    #[test]
    fn ramp_accelerates_linearly() {
        let s = Schedule::open_loop(100.0, Duration::ZERO, secs(10), Duration::ZERO);
        let calls: Vec<_> = s.calls().collect();
        assert_eq!(calls.len(), 500);
        let first_half = calls.iter().filter(|c| c.offset <= secs(5)).count();
        assert_eq!(first_half, 125, "a linear ramp plans a quarter of its calls in its first half");
        assert!(calls.windows(2).all(|w| w[1].offset >= w[0].offset));
    }

    #[test]
    fn fractional_rates_carry_across_stages() {
        let s = Schedule::open_loop(0.5, secs(3), Duration::ZERO, secs(3));
        assert_eq!(s.calls().count(), 3);
        assert_eq!(s.planned_measured_calls(), 1.5);
        assert_eq!(s.planned_measured_count(), s.calls().filter(|c| c.measured).count() as u64);
        assert_eq!(s.planned_measured_count(), 2, "whole calls: the one carried over the warm-up lands in the measured stage");
    }
}
