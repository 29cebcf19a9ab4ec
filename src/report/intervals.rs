//! The run over time: per results interval, every path's latency, service-time and send-lateness
//! histograms, streamed to HdrHistogram's interval-log format (`.hlog`, tagged per path, readable by
//! HdrHistogram's own tools) as each interval closes, so a long run holds only a few intervals'
//! histograms in memory; and per interval the calls by class and the counters, kept in the JSON
//! results. Summing the intervals gives the whole run, exactly.

use crate::stats::{Counters, OutcomeClass, PathStats, Recorder};
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// One path in one interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IntervalPath {
    pub calls: u64,
    /// Latency p50 and p99 of the interval (from the intended send, successful calls), the samples
    /// `compare` tests a baseline against; absent when nothing succeeded in the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_us: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_us: Option<u64>,
    #[serde(default)]
    pub outcomes: BTreeMap<String, u64>,
    #[serde(flatten)]
    pub counters: Counters,
}

/// One interval: from `start_s` seconds after the plan's start, for the report's `seconds`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IntervalCounts {
    pub index: u64,
    pub start_s: f64,
    pub paths: BTreeMap<String, IntervalPath>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IntervalsReport {
    /// Length of an interval.
    pub seconds: f64,
    /// The interval log beside the results file (`.hlog`): per interval and path, tagged
    /// `<path>` (latency from the intended send), `service/<path>` and `lateness/<path>`.
    pub log: Option<String>,
    /// Why there is no log, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_error: Option<String>,
    pub counts: Vec<IntervalCounts>,
}

/// One results interval as it closes, for what streams a run out while it goes (`run
/// --export-metrics`, the canary's `/metrics`): its counts, and each path's latency histograms (from
/// the intended send) by outcome class.
#[derive(Clone, Debug)]
pub struct ClosedInterval {
    pub run_id: String,
    pub index: u64,
    /// Its start and length on the wall clock.
    pub start_unix_ms: i64,
    pub length_ms: i64,
    pub paths: BTreeMap<String, IntervalPath>,
    /// Each path's latency by outcome class (`success`, and each other class that occurred); the
    /// answered calls' latency is that of `success` and `transient` together.
    pub latency_by_class: BTreeMap<(String, crate::stats::OutcomeClass), crate::stats::histogram::Latency>,
    /// The targets' memory as last read when it closed.
    pub memory: crate::watch::MemoryBoard,
}

impl ClosedInterval {
    pub fn end_unix_ms(&self) -> i64 {
        self.start_unix_ms + self.length_ms
    }
}

/// Where closed intervals go, and what they are stamped with.
#[derive(Clone, Debug)]
pub struct IntervalStream {
    pub to: tokio::sync::mpsc::UnboundedSender<ClosedInterval>,
    pub run_id: String,
    pub start_unix_ms: i64,
}

/// Which of a path's histograms.
type Pick = fn(&PathStats) -> &crate::stats::histogram::Latency;

/// The tags of a path's histograms in the interval log.
pub fn tags(path: &str) -> [(String, Pick); 3] {
    [(path.to_string(), |p| &p.latency), (format!("service/{path}"), |p| &p.service), (format!("lateness/{path}"), |p| &p.lateness)]
}

/// The interval log being written.
pub struct IntervalLog {
    file: std::io::BufWriter<std::fs::File>,
    serializer: V2DeflateSerializer,
    interval: Duration,
}

impl IntervalLog {
    /// Creates the log at `path`; `start` is the plan's start on the wall clock.
    pub fn create(path: &Path, start: SystemTime, interval: Duration) -> std::io::Result<IntervalLog> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut serializer = V2DeflateSerializer::new();
        IntervalLogWriterBuilder::new()
            .add_comment("lgtm-bench interval log: latency in microseconds; tags <path>, service/<path>, lateness/<path>")
            .with_start_time(start)
            .with_base_time(start)
            .begin_log_with(&mut file, &mut serializer)?;
        Ok(IntervalLog { file, serializer, interval })
    }

    /// Writes interval `index`'s histograms of every path in `recorder` (named by `names`).
    pub fn write(&mut self, index: u64, recorder: &Recorder, names: &[String]) -> std::io::Result<()> {
        let mut writer = IntervalLogWriterBuilder::new().begin_log_with(&mut self.file, &mut self.serializer)?;
        let start = self.interval * index as u32;
        for (id, stats) in recorder.paths() {
            let Some(name) = names.get(id.0) else { continue };
            for (tag, histogram) in tags(name) {
                let h = histogram(stats);
                if h.is_empty() {
                    continue;
                }
                writer.write_histogram(h, start, self.interval, Tag::new(&tag)).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
            }
        }
        self.file.flush()
    }
}

/// The interval's latency percentiles of every path in `recorder` (its histograms, as closed).
pub fn set_percentiles(recorder: &Recorder, names: &[String], into: &mut BTreeMap<String, IntervalPath>) {
    for (id, stats) in recorder.paths() {
        let Some(name) = names.get(id.0) else { continue };
        if stats.latency.is_empty() {
            continue;
        }
        let entry = into.entry(name.clone()).or_default();
        entry.p50_us = Some(stats.latency.value_at_quantile(0.5));
        entry.p99_us = Some(stats.latency.value_at_quantile(0.99));
    }
}

/// Per-interval counts of one recorder, by path name.
pub fn counts_of(recorder: &Recorder, names: &[String], into: &mut BTreeMap<String, IntervalPath>) {
    for (id, stats) in recorder.paths() {
        let Some(name) = names.get(id.0) else { continue };
        let entry = into.entry(name.clone()).or_default();
        entry.calls += stats.calls();
        for class in OutcomeClass::ALL {
            let n = stats.count(*class);
            if n > 0 {
                *entry.outcomes.entry(class.as_str().to_string()).or_default() += n;
            }
        }
        entry.counters.add(&stats.counters);
    }
}
