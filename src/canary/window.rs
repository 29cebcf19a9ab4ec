//! Each objective's state now: evaluated, as the verdict evaluates a run, over the intervals of a
//! rolling window (their calls, errors, latency histograms merged, queue and memory figures), so
//! an objective that fails shows within a window and clears once the window holds no failure. The
//! window keeps each interval's histograms compressed (HdrHistogram's V2 deflate encoding, about a
//! kilobyte instead of a few hundred): a ten-minute window costs little memory.

use crate::report::intervals::{ClosedInterval, IntervalPath};
use crate::stats::histogram::Latency;
use crate::stats::OutcomeClass;
use crate::verdict::{Observations, Stat};
use crate::watch::MemoryBoard;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use std::collections::{BTreeMap, VecDeque};

/// One interval as the window keeps it: its counts, memory, and compressed latency histograms.
#[derive(Debug)]
struct Kept {
    end_unix_ms: i64,
    paths: BTreeMap<String, IntervalPath>,
    latency: BTreeMap<String, Vec<u8>>,
    memory: MemoryBoard,
}

/// The newest intervals, at most `span_ms` of them.
#[derive(Debug, Default)]
pub struct Window {
    span_ms: i64,
    intervals: VecDeque<Kept>,
}

impl Window {
    pub fn new(span_ms: i64) -> Window {
        Window { span_ms, intervals: VecDeque::new() }
    }

    pub fn push(&mut self, closed: ClosedInterval) {
        let newest_end = closed.end_unix_ms();
        let mut serializer = V2DeflateSerializer::new();
        // The answered calls' latency per path: `success` and `transient` together, as a run's.
        let mut answered: BTreeMap<&str, Latency> = BTreeMap::new();
        for ((path, _), h) in closed.latency_by_class.iter().filter(|((_, class), _)| class.is_answered()) {
            crate::stats::histogram::add(answered.entry(path).or_insert_with(crate::stats::histogram::new_latency), h);
        }
        let latency = answered
            .into_iter()
            .filter_map(|(path, h)| {
                let mut bytes = Vec::new();
                serializer.serialize(&h, &mut bytes).ok()?;
                Some((path.to_string(), bytes))
            })
            .collect();
        self.intervals.push_back(Kept { end_unix_ms: newest_end, paths: closed.paths, latency, memory: closed.memory });
        while self.intervals.front().is_some_and(|i| i.end_unix_ms <= newest_end - self.span_ms) {
            self.intervals.pop_front();
        }
    }

    fn count(&self, path: &str, class: Option<OutcomeClass>) -> u64 {
        self.intervals
            .iter()
            .filter_map(|i| i.paths.get(path))
            .map(|p| match class {
                None => p.calls,
                Some(c) => p.outcomes.get(c.as_str()).copied().unwrap_or(0),
            })
            .sum()
    }

    fn latency(&self, path: &str) -> Option<Latency> {
        let mut merged: Option<Latency> = None;
        let mut de = Deserializer::new();
        for bytes in self.intervals.iter().filter_map(|i| i.latency.get(path)) {
            let Ok(h) = de.deserialize::<u64, _>(&mut bytes.as_slice()) else { continue };
            let h: Latency = h;
            match &mut merged {
                Some(m) => {
                    let _ = m.add(&h);
                }
                None => merged = Some(h),
            }
        }
        merged.filter(|h| !h.is_empty())
    }
}

impl Observations for Window {
    fn observe(&self, subject: &str, stat: Stat) -> Option<f64> {
        if let Some(target) = subject.strip_suffix(".memory") {
            let newest = self.intervals.back()?.memory.get(target)?;
            return match stat {
                Stat::Peak => Some(self.intervals.iter().filter_map(|i| i.memory.get(target)).map(|m| m.current).fold(newest.current, f64::max)),
                Stat::Restarts => Some(newest.restarts as f64),
                _ => None,
            };
        }
        let calls = self.count(subject, None);
        let answered = self.count(subject, Some(OutcomeClass::Success)) + self.count(subject, Some(OutcomeClass::Transient));
        let counter = |f: fn(&crate::stats::Counters) -> u64| self.intervals.iter().filter_map(|i| i.paths.get(subject)).map(|p| f(&p.counters)).sum::<u64>();
        let most = |f: fn(&crate::stats::Counters) -> u64| self.intervals.iter().filter_map(|i| i.paths.get(subject)).map(|p| f(&p.counters)).max();
        match stat {
            Stat::Latency { quantile } => self.latency(subject).map(|h| h.value_at_quantile(quantile) as f64),
            Stat::ErrorRatio => (calls > 0).then(|| (calls - answered) as f64 / calls as f64),
            Stat::Errors => Some((calls - answered) as f64),
            Stat::Lost => Some(self.count(subject, Some(OutcomeClass::Lost)) as f64),
            Stat::Transient => Some(self.count(subject, Some(OutcomeClass::Transient)) as f64),
            Stat::Skipped => Some(counter(|c| c.skipped) as f64),
            Stat::Abandoned => Some(counter(|c| c.abandoned) as f64),
            Stat::PendingMax => most(|c| c.queue_pending_max).map(|v| v as f64),
            Stat::LagMax => most(|c| c.queue_lag_max_ms).map(|v| v as f64 * 1000.0),
            Stat::ShardsMax => most(|c| c.queue_shards_max).map(|v| v as f64),
            Stat::SamplesFailed => Some(counter(|c| c.samples_failed) as f64),
            Stat::SamplesDropped => Some(counter(|c| c.samples_dropped) as f64),
            Stat::SamplesRetried => Some(counter(|c| c.samples_retried) as f64),
            Stat::Service { .. } | Stat::Lateness { .. } | Stat::Peak | Stat::Restarts => None,
        }
    }

    fn calls(&self, subject: &str) -> Option<(u64, u64)> {
        let calls = self.count(subject, None);
        Some((self.count(subject, Some(OutcomeClass::Success)), calls))
    }
}
