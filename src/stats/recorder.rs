//! Per-worker recorders. Each worker owns one and sends it to the collector as a delta now and
//! then; nothing on the hot path is shared. Recorders merge with `add`.

use super::histogram::{self, Latency};
use super::outcome::{OutcomeClass, CLASS_COUNT};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Index of a measured path (`mimir.write`, `mimir.query.range-7d`, …) in the run's path table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PathId(pub usize);

/// The counts of one path besides its outcomes and histograms. The same struct is kept in memory
/// and written, flattened, in the results file's path report, so a new counter is one edit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Counters {
    /// Calls that started more than `LATE_AFTER` after their planned time.
    pub late_starts: u64,
    /// Planned calls never sent because the in-flight bound was reached.
    pub skipped: u64,
    /// Calls repeated after a `Retry-After`.
    pub retries: u64,
    /// Calls still in flight when the run was stopped (drain timeout or Ctrl-C): never answered.
    pub abandoned: u64,
    /// Items carried by successful calls (samples written, series returned).
    pub items_ok: u64,
    /// Items carried by failed calls (not necessarily lost: a 400 can be a partial write).
    pub items_failed: u64,
    /// Items refused inside accepted calls (OTLP partial success: rejected spans).
    #[serde(default)]
    pub items_rejected: u64,
    /// Planned calls not made because there was nothing the workload could honestly ask yet (a
    /// trace by ID before any acknowledged trace was old enough).
    #[serde(default)]
    pub not_ready: u64,
    /// First and last connection failure, in seconds since the plan started: when the target was
    /// unreachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_failures_from_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_failures_until_s: Option<f64>,
    /// Remote-write queue: the most samples pending in its shards at once (enqueued, not yet
    /// acknowledged, refused or dropped), as Prometheus's `prometheus_remote_storage_samples_pending`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queue_pending_max: u64,
    /// Remote-write queue: the most shards running at once.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queue_shards_max: u64,
    /// Remote-write queue: the largest lag, newest sample scraped minus newest sample acknowledged
    /// (milliseconds), as Prometheus's highest-timestamp gauges show it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queue_lag_max_ms: u64,
    /// Remote-write queue: the samples each shard may hold (`capacity`) and the shards it may run
    /// (`max_shards`), and the most shards its rule asked for (before the bound): needed vs allowed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queue_capacity: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queue_shards_allowed: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queue_shards_wanted_max: u64,
    /// Remote-write queue: times the shards were resharded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queue_reshards: u64,
    /// Samples carried by requests that were retried, once per retry (`retried_samples_total`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub samples_retried: u64,
    /// Samples refused for good: a 4xx (or a 429 when 429s are not retried), never retried.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub samples_failed: u64,
    /// Samples dropped unsent because they were older than `sample_age_limit`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub samples_dropped: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Counters {
    pub fn add(&mut self, o: &Counters) {
        self.late_starts += o.late_starts;
        self.skipped += o.skipped;
        self.retries += o.retries;
        self.abandoned += o.abandoned;
        self.items_ok += o.items_ok;
        self.items_failed += o.items_failed;
        self.items_rejected += o.items_rejected;
        self.not_ready += o.not_ready;
        self.connection_failures_from_s = min_of(self.connection_failures_from_s, o.connection_failures_from_s);
        self.connection_failures_until_s = max_of(self.connection_failures_until_s, o.connection_failures_until_s);
        self.queue_pending_max = self.queue_pending_max.max(o.queue_pending_max);
        self.queue_shards_max = self.queue_shards_max.max(o.queue_shards_max);
        self.queue_lag_max_ms = self.queue_lag_max_ms.max(o.queue_lag_max_ms);
        self.queue_reshards += o.queue_reshards;
        self.queue_capacity = self.queue_capacity.max(o.queue_capacity);
        self.queue_shards_allowed = self.queue_shards_allowed.max(o.queue_shards_allowed);
        self.queue_shards_wanted_max = self.queue_shards_wanted_max.max(o.queue_shards_wanted_max);
        self.samples_retried += o.samples_retried;
        self.samples_failed += o.samples_failed;
        self.samples_dropped += o.samples_dropped;
    }

    /// A sending queue's figures in one line, when this path carries them.
    pub fn queue_summary(&self) -> Option<String> {
        (self.queue_shards_max > 0).then(|| {
            format!(
                "queue: up to {} shards ({} reshards), up to {} samples pending, lag up to {}; samples retried {}, refused {}, dropped {}",
                self.queue_shards_max,
                self.queue_reshards,
                self.queue_pending_max,
                crate::units::fmt_micros(self.queue_lag_max_ms * 1000),
                self.samples_retried,
                self.samples_failed,
                self.samples_dropped
            )
        })
    }

    /// A call could not connect at `at` seconds since the plan started.
    pub fn connection_failed_at(&mut self, at: f64) {
        self.connection_failures_from_s = min_of(self.connection_failures_from_s, Some(at));
        self.connection_failures_until_s = max_of(self.connection_failures_until_s, Some(at));
    }
}

fn min_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    a.into_iter().chain(b).reduce(f64::min)
}

fn max_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    a.into_iter().chain(b).reduce(f64::max)
}

/// One failed call kept as an example, so a person can tell a transient miss from lost data:
/// what was asked (its key), what came back, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Example {
    pub class: String,
    /// The request's key: a series selector, a query, a trace id (with its age).
    pub key: String,
    /// The answer: status and an excerpt of its body, or the transport error.
    pub answer: String,
    /// Seconds since the plan started.
    pub at_s: f64,
}

/// Examples kept per path and class: the first ones.
pub const EXAMPLES_PER_CLASS: usize = 5;

/// Everything measured for one path.
#[derive(Clone, Debug)]
pub struct PathStats {
    /// Completion minus intended start, answered calls only (includes queueing: no coordinated
    /// omission); for a recheck path, from the miss until the trace was found.
    pub latency: Latency,
    /// Completion minus actual send, successful calls only.
    pub service: Latency,
    /// Actual start minus intended start, every planned call made (open loop only): how far the
    /// generator fell behind its own plan.
    pub lateness: Latency,
    pub outcomes: [u64; CLASS_COUNT],
    /// Completion minus intended start of the calls of every class but `success` (failures, and
    /// `transient` misses timed from the miss), by class: made on a class's first call, so a run
    /// without failures carries none. The canary's latency by class reads them.
    pub other_latency: BTreeMap<OutcomeClass, Latency>,
    pub counters: Counters,
    /// The first few failed calls of each class, as examples.
    pub examples: Vec<Example>,
}

impl Default for PathStats {
    fn default() -> Self {
        PathStats {
            latency: histogram::new_latency(),
            service: histogram::new_latency(),
            lateness: histogram::new_latency(),
            outcomes: [0; CLASS_COUNT],
            other_latency: BTreeMap::new(),
            counters: Counters::default(),
            examples: Vec::new(),
        }
    }
}

impl PathStats {
    pub fn add(&mut self, other: &PathStats) {
        histogram::add(&mut self.latency, &other.latency);
        histogram::add(&mut self.service, &other.service);
        histogram::add(&mut self.lateness, &other.lateness);
        for (mine, theirs) in self.outcomes.iter_mut().zip(other.outcomes) {
            *mine += theirs;
        }
        for (class, h) in &other.other_latency {
            histogram::add(self.other_latency.entry(*class).or_insert_with(histogram::new_latency), h);
        }
        self.counters.add(&other.counters);
        for e in &other.examples {
            self.keep_example(e.clone());
        }
    }

    /// Keeps `e` unless its class has its examples already (the earliest are kept).
    pub fn keep_example(&mut self, e: Example) {
        let same: Vec<usize> = self.examples.iter().enumerate().filter(|(_, x)| x.class == e.class).map(|(i, _)| i).collect();
        if same.len() < EXAMPLES_PER_CLASS {
            self.examples.push(e);
        } else if let Some(&latest) = same.iter().max_by(|a, b| self.examples[**a].at_s.total_cmp(&self.examples[**b].at_s)) {
            if self.examples[latest].at_s > e.at_s {
                self.examples[latest] = e;
            }
        }
    }

    pub fn calls(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// Latency by outcome class: `success` (the answered calls' histogram less the `transient`
    /// ones), then every other class that occurred. Empty histograms are left out.
    pub fn latency_by_class(&self) -> Vec<(OutcomeClass, Latency)> {
        let mut success = self.latency.clone();
        if let Some(transient) = self.other_latency.get(&OutcomeClass::Transient) {
            let _ = success.subtract(transient);
        }
        std::iter::once((OutcomeClass::Success, success))
            .chain(self.other_latency.iter().map(|(c, h)| (*c, h.clone())))
            .filter(|(_, h)| !h.is_empty())
            .collect()
    }

    /// Records a call's latency under its class when that class is not `success`.
    fn record_other(&mut self, class: OutcomeClass, latency: Duration, n: u64) {
        if class.is_success() || n == 0 {
            return;
        }
        histogram::record_n(self.other_latency.entry(class).or_insert_with(histogram::new_latency), latency, n);
    }

    pub fn count(&self, class: OutcomeClass) -> u64 {
        self.outcomes[class.index()]
    }

    /// Calls that came to an error (a `transient` miss found later is not one).
    pub fn failures(&self) -> u64 {
        self.calls() - self.count(OutcomeClass::Success) - self.count(OutcomeClass::Transient)
    }
}

/// One call's measurement, as a worker hands it to its recorder.
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    pub class: OutcomeClass,
    pub latency: Duration,
    pub service: Duration,
    pub items: u64,
    pub late: bool,
    /// How late the call started against its plan (open-loop calls only).
    pub lateness: Option<Duration>,
    pub retries: u64,
    pub rejected: u64,
}

/// Stats for the paths one worker touched; paths are created on first use.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    paths: Vec<Option<PathStats>>,
    /// The results interval these measurements were taken in (a worker's delta holds one).
    pub interval: u64,
}

impl Recorder {
    pub fn path_mut(&mut self, id: PathId) -> &mut PathStats {
        if self.paths.len() <= id.0 {
            self.paths.resize_with(id.0 + 1, || None);
        }
        self.paths[id.0].get_or_insert_with(PathStats::default)
    }

    pub fn path(&self, id: PathId) -> Option<&PathStats> {
        self.paths.get(id.0).and_then(Option::as_ref)
    }

    pub fn record(&mut self, id: PathId, m: Measurement) {
        let p = self.path_mut(id);
        p.outcomes[m.class.index()] += 1;
        p.record_other(m.class, m.latency, 1);
        p.counters.late_starts += u64::from(m.late);
        if let Some(lateness) = m.lateness {
            histogram::record_zero_ok(&mut p.lateness, lateness);
        }
        p.counters.retries += m.retries;
        p.counters.items_rejected += m.rejected;
        if m.class.is_answered() {
            histogram::record(&mut p.latency, m.latency);
            histogram::record(&mut p.service, m.service);
            p.counters.items_ok += m.items;
        } else {
            p.counters.items_failed += m.items;
        }
    }

    /// Records `n` items that came to the same class at once (a remote-write batch's samples), each
    /// with `latency` when it succeeded: the path counts items, not calls.
    pub fn record_items(&mut self, id: PathId, class: OutcomeClass, latency: Duration, n: u64) {
        if n == 0 {
            return;
        }
        let p = self.path_mut(id);
        p.outcomes[class.index()] += n;
        p.record_other(class, latency, n);
        if class.is_success() {
            histogram::record_n(&mut p.latency, latency, n);
            p.counters.items_ok += n;
        } else {
            p.counters.items_failed += n;
        }
    }

    pub fn add(&mut self, other: &Recorder) {
        for (i, stats) in other.paths.iter().enumerate() {
            if let Some(stats) = stats {
                self.path_mut(PathId(i)).add(stats);
            }
        }
    }

    /// The paths recorded, with their stats.
    pub fn paths(&self) -> impl Iterator<Item = (PathId, &PathStats)> {
        self.paths.iter().enumerate().filter_map(|(i, p)| p.as_ref().map(|p| (PathId(i), p)))
    }

    pub fn is_empty(&self) -> bool {
        self.paths.iter().all(Option::is_none)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(ms: u64) -> Measurement {
        Measurement {
            class: OutcomeClass::Success,
            latency: Duration::from_millis(ms),
            service: Duration::from_millis(ms / 2),
            items: 10,
            late: false,
            lateness: None,
            retries: 0,
            rejected: 0,
        }
    }

    #[test]
    fn merging_two_workers_adds_counts_and_histograms() {
        let (mut a, mut b) = (Recorder::default(), Recorder::default());
        a.record(PathId(0), ok(10));
        b.record(PathId(0), ok(30));
        b.record(PathId(2), Measurement { class: OutcomeClass::RateLimited, late: true, ..ok(5) });
        a.add(&b);
        let write = a.path(PathId(0)).unwrap();
        assert_eq!(write.calls(), 2);
        assert_eq!(write.latency.len(), 2);
        assert_eq!(write.counters.items_ok, 20);
        let other = a.path(PathId(2)).unwrap();
        assert_eq!(other.count(OutcomeClass::RateLimited), 1);
        assert_eq!(other.latency.len(), 0, "failures stay out of the latency histogram");
        assert_eq!(other.counters.items_failed, 10);
        assert_eq!(other.counters.late_starts, 1);
        assert!(a.path(PathId(1)).is_none());
    }

    #[test]
    fn latency_by_class_keeps_failures_and_found_later_misses_apart_from_successes() {
        let (mut a, mut b) = (Recorder::default(), Recorder::default());
        a.record(PathId(0), ok(10));
        a.record(PathId(0), Measurement { class: OutcomeClass::Timeout, ..ok(2000) });
        b.record(PathId(0), Measurement { class: OutcomeClass::Transient, ..ok(700) });
        b.record_items(PathId(0), OutcomeClass::ServerError, Duration::from_millis(40), 5);
        a.add(&b);
        let by_class: Vec<(OutcomeClass, u64, u64)> =
            a.path(PathId(0)).unwrap().latency_by_class().iter().map(|(c, h)| (*c, h.len(), h.max() / 1000)).collect();
        assert_eq!(
            by_class,
            [(OutcomeClass::Success, 1, 10), (OutcomeClass::ServerError, 5, 40), (OutcomeClass::Timeout, 1, 2000), (OutcomeClass::Transient, 1, 700)]
                .map(|(c, n, ms)| (c, n, ms))
                .to_vec()
        );
        assert_eq!(a.path(PathId(0)).unwrap().latency.len(), 2, "the answered calls' histogram still holds success and transient");
    }
}
