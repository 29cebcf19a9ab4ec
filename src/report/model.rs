//! The report of one run: what was planned, what was measured (counts, rates, percentiles and the
//! full histograms), the resolved scenario and the verdict. Built from the merged recorders.

use crate::stats::histogram::{self, HistogramError, Latency};
use crate::stats::paths::is_recheck;
use crate::stats::{Counters, OutcomeClass, PathStats};
use crate::verdict::{Observations, Stat, Verdict};
use crate::watch::{budget_kind, MemoryKind, MemoryRecord, MemorySample, RestartEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "lgtm-bench/report/v1";

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    pub run: RunInfo,
    pub host: Host,
    /// The scenario as run: file, overrides and defaults resolved; secrets redacted.
    pub scenario: serde_json::Value,
    pub paths: BTreeMap<String, PathReport>,
    /// Watched memory and restarts per target (`mimir`, …) and of the generator itself.
    #[serde(default)]
    pub memory: BTreeMap<String, MemoryReport>,
    pub verdict: Verdict,
    /// The run over time: per-interval counts, and the interval log of per-interval histograms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<super::intervals::IntervalsReport>,
    /// What the generator itself used, and whether it held the plan back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<GeneratorReport>,
    /// What each target said it is (version, revision) before the load.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, crate::client::buildinfo::BuildInfo>,
    /// The comparison with a baseline run, when one was given (`run --baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<super::compare::Comparison>,
}

/// A target's memory over the run, its restarts and what it did with the load.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct MemoryReport {
    pub budget_bytes: Option<u64>,
    /// The figure the budget is checked against: `container_working_set` when the cluster is
    /// watched (the kubelet's limit acts on it), else `rss`.
    pub checked: MemoryKind,
    /// Peak and p99 of the checked figure over all watched processes or pods.
    pub peak_bytes: Option<f64>,
    pub p99_bytes: Option<f64>,
    pub peak_rss_bytes: Option<f64>,
    pub peak_heap_inuse_bytes: Option<f64>,
    pub peak_container_working_set_bytes: Option<f64>,
    pub restarts: Vec<RestartEvent>,
    /// Increase of the target's ingestion and discard counters during the run.
    pub counter_increase: BTreeMap<String, f64>,
    /// Last reading of the target's gauges of what it holds (head series, live traces).
    #[serde(default)]
    pub gauges_last: BTreeMap<String, f64>,
    /// The same gauges at the plan's start, before any load: the state the target was in
    /// (`compare` warns when it changed between the runs).
    #[serde(default)]
    pub gauges_at_start: BTreeMap<String, f64>,
    /// The checked figure at the plan's start, before any load (of the source that grew most).
    #[serde(default)]
    pub before_load_bytes: Option<f64>,
    /// How much the checked figure grew above its reading before the load.
    #[serde(default)]
    pub growth_bytes: Option<f64>,
    /// Growth per unit of load (per active series for Mimir, per span/s for Tempo), for capacity
    /// extrapolation; `load_unit` names the unit. Not the whole memory divided by the load: a
    /// target's memory before any load is not a cost of the load.
    #[serde(default)]
    pub growth_per_load_unit: Option<f64>,
    pub load_unit: Option<String>,
    /// Every reading, in order.
    pub samples: Vec<MemorySample>,
}

impl MemoryReport {
    pub fn from_record(record: &MemoryRecord, budget: Option<u64>, load: Option<(f64, &str)>) -> MemoryReport {
        let checked = budget_kind(record);
        let peak = record.peak(checked);
        let growth = record.growth(checked);
        MemoryReport {
            budget_bytes: budget,
            checked,
            peak_bytes: peak,
            p99_bytes: record.p99(checked),
            peak_rss_bytes: record.peak(MemoryKind::Rss),
            peak_heap_inuse_bytes: record.peak(MemoryKind::HeapInuse),
            peak_container_working_set_bytes: record.peak(MemoryKind::ContainerWorkingSet),
            restarts: record.restarts.clone(),
            counter_increase: record.counter_deltas(),
            gauges_last: record.gauges_last(),
            gauges_at_start: record.gauges_first(),
            before_load_bytes: growth.map(|(before, _)| before),
            growth_bytes: growth.map(|(_, grew)| grew),
            growth_per_load_unit: growth.zip(load.filter(|(n, _)| *n > 0.0)).map(|((_, grew), (n, _))| grew / n),
            load_unit: load.map(|(_, unit)| unit.to_string()),
            samples: record.samples.clone(),
        }
    }
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The generator's own use of the machine over the run, and whether it was the bottleneck.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct GeneratorReport {
    /// User + system CPU seconds from the plan's start to the end of the drain.
    pub cpu_seconds: f64,
    /// Wall-clock seconds over which they were spent.
    pub wall_seconds: f64,
    /// Cores available to the process.
    pub cores: usize,
    /// Why the figures show the generator's limits rather than (only) the target's; empty when
    /// the generator kept up. A target is never blamed for these.
    pub limited_by: Vec<String>,
    /// The whole machine's CPU over the run: busy seconds of all its CPUs, and how many it has
    /// (`/proc/stat`), where it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_busy_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_cpus: Option<usize>,
    /// CPU seconds of the watched targets that run on this same machine (loopback `/metrics`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub local_targets_cpu_seconds: f64,
    /// The machine was saturated by other processes: the figures are not trustworthy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_busy: Vec<String>,
    /// The target did not keep up with the plan (needed vs allowed in flight, a full queue): a
    /// failure of the target, named as such.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_fell_behind: Vec<String>,
}

impl GeneratorReport {
    /// Send lateness (p99) above which a path counts as behind its plan.
    pub const LATE_P99_US: u64 = 10_000;

    /// Whether the generator or the host, not the target, held the run back: its figures are
    /// inconclusive about the target.
    pub fn inconclusive(&self) -> bool {
        !self.limited_by.is_empty() || !self.host_busy.is_empty()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RunInfo {
    pub id: String,
    pub scenario_name: String,
    pub scenario_file: String,
    pub started_at: String,
    pub finished_at: String,
    /// Seconds of load the plan asked for after warm-up.
    pub planned_measured_seconds: f64,
    /// Seconds actually measured (shorter when interrupted).
    pub measured_seconds: f64,
    pub warmup_seconds: f64,
    pub interrupted: bool,
    /// Why the run ended: "completed" or what stopped it.
    pub stop_reason: String,
    /// A call starting later than this after its planned time counts as a late start.
    pub late_after_ms: u64,
    /// Which shard of a sharded run this is (`run --shard`); `merge` checks that shards belong together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::scenario::shard::ShardInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Host {
    pub hostname: String,
    pub os: String,
    pub arch: String,
    pub cpus: usize,
}

impl Host {
    pub fn current() -> Host {
        let hostname =
            std::fs::read_to_string("/proc/sys/kernel/hostname").or_else(|_| std::env::var("HOSTNAME")).unwrap_or_else(|_| "unknown".into()).trim().to_string();
        Host {
            hostname,
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// One measured path: its calls by outcome, rates, counters and latency histograms.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PathReport {
    /// Calls measured (after warm-up), by outcome.
    pub calls: u64,
    pub outcomes: BTreeMap<String, u64>,
    /// Failed calls over all calls; absent when nothing was called.
    pub error_ratio: Option<f64>,
    /// Calls the plan intended in the measured window (open loop only).
    pub planned_calls: Option<u64>,
    pub achieved_rate: Option<f64>,
    #[serde(flatten)]
    pub counters: Counters,
    pub items_ok_per_second: Option<f64>,
    /// From the intended start (includes queueing: no coordinated omission).
    pub latency: LatencyReport,
    /// From the actual send.
    pub service_time: LatencyReport,
    /// Send lateness: actual start minus intended start, every call made (open-loop paths only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lateness: Option<LatencyReport>,
    /// Open-loop paths: the most calls allowed in flight (a planned call that finds them all busy is
    /// skipped), for judging whether the target or the generator held the plan back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight_bound: Option<u64>,
    /// The first failed calls of each class (up to 5), in time order: what was asked, what came back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<crate::stats::recorder::Example>,
    /// What the path asks, when it is one query (a dashboard panel's first query, interpolated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asks: Option<String>,
}

/// Percentiles in microseconds; absent when nothing was measured. `histogram` holds the whole
/// HDR histogram (V2 + DEFLATE, base64) so any other percentile can be recomputed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct LatencyReport {
    pub count: u64,
    pub mean_us: Option<f64>,
    pub p50_us: Option<u64>,
    pub p90_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub p99_9_us: Option<u64>,
    pub max_us: Option<u64>,
    pub histogram: String,
}

impl LatencyReport {
    pub fn from_histogram(h: &Latency) -> LatencyReport {
        let measured = !h.is_empty();
        let q = |quantile: f64| measured.then(|| h.value_at_quantile(quantile));
        LatencyReport {
            count: h.len(),
            mean_us: measured.then(|| h.mean()),
            p50_us: q(0.5),
            p90_us: q(0.9),
            p99_us: q(0.99),
            p99_9_us: q(0.999),
            max_us: measured.then(|| h.max()),
            histogram: histogram::encode(h),
        }
    }

    pub fn decode(&self) -> Result<Latency, HistogramError> {
        histogram::decode(&self.histogram)
    }
}

impl PathReport {
    pub fn from_stats(p: &PathStats, measured_seconds: f64, planned_calls: Option<u64>) -> PathReport {
        let calls = p.calls();
        let per_second = |n: u64| (measured_seconds > 0.0).then(|| n as f64 / measured_seconds);
        PathReport {
            calls,
            outcomes: OutcomeClass::ALL.iter().filter(|c| p.count(**c) > 0).map(|c| (c.as_str().to_string(), p.count(*c))).collect(),
            error_ratio: (calls > 0).then(|| p.failures() as f64 / calls as f64),
            planned_calls,
            achieved_rate: per_second(calls),
            counters: p.counters,
            items_ok_per_second: per_second(p.counters.items_ok),
            latency: LatencyReport::from_histogram(&p.latency),
            service_time: LatencyReport::from_histogram(&p.service),
            lateness: (!p.lateness.is_empty()).then(|| LatencyReport::from_histogram(&p.lateness)),
            in_flight_bound: None,
            asks: None,
            examples: {
                let mut e = p.examples.clone();
                e.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
                e
            },
        }
    }

    pub fn count(&self, class: OutcomeClass) -> u64 {
        self.outcomes.get(class.as_str()).copied().unwrap_or(0)
    }
}

/// Per-path reports from the run's (or the merged shards') stats by path name.
pub fn path_reports(stats: &BTreeMap<String, PathStats>, measured_seconds: f64, planned: &BTreeMap<String, u64>) -> BTreeMap<String, PathReport> {
    stats.iter().map(|(name, s)| (name.clone(), PathReport::from_stats(s, measured_seconds, planned.get(name).copied()))).collect()
}

impl Report {
    /// Every objective met and, when compared with a baseline, no regression.
    pub fn passed(&self) -> bool {
        self.verdict.passed && !self.baseline.as_ref().is_some_and(|c| c.failed()) && self.target_fell_behind().is_empty()
    }

    /// Why the target did not keep up with the plan, if it did not (`attribution`).
    pub fn target_fell_behind(&self) -> &[String] {
        self.generator.as_ref().map_or(&[], |g| g.target_fell_behind.as_slice())
    }

    /// Whether `path` is a group (`mimir.query`): the merge of the paths named under it.
    pub fn is_group(&self, path: &str) -> bool {
        self.paths.keys().any(|k| k.strip_prefix(path).is_some_and(|rest| rest.starts_with('.')))
    }
}

/// What a run measured, as objectives see it: the merged stats of every path (histograms not yet
/// encoded) and the memory reports.
pub struct Measured<'a> {
    pub paths: &'a BTreeMap<String, PathStats>,
    pub memory: &'a BTreeMap<String, MemoryReport>,
}

impl Observations for Measured<'_> {
    fn calls(&self, subject: &str) -> Option<(u64, u64)> {
        self.paths.get(subject).map(|p| (p.calls() - p.failures(), p.calls()))
    }

    fn observe(&self, subject: &str, stat: Stat) -> Option<f64> {
        if let Some(target) = subject.strip_suffix(".memory") {
            let m = self.memory.get(target)?;
            return match stat {
                Stat::Peak => m.peak_bytes,
                Stat::Restarts => Some(m.restarts.len() as f64),
                _ => None,
            };
        }
        let p = self.paths.get(subject)?;
        let calls = p.calls();
        let quantile = |h: &Latency, q: f64| (!h.is_empty()).then(|| if q >= 1.0 { h.max() as f64 } else { h.value_at_quantile(q) as f64 });
        match stat {
            Stat::Latency { quantile: q } => quantile(&p.latency, q),
            Stat::Service { quantile: q } => quantile(&p.service, q),
            Stat::Lateness { quantile: q } => quantile(&p.lateness, q),
            Stat::ErrorRatio => (calls > 0).then(|| p.failures() as f64 / calls as f64),
            Stat::Errors => (calls > 0).then(|| p.failures() as f64),
            // A recheck path with no calls had no miss to recheck: none lost, none transient.
            Stat::Lost => (calls > 0 || is_recheck(subject)).then(|| p.count(OutcomeClass::Lost) as f64),
            Stat::Transient => Some(p.count(OutcomeClass::Transient) as f64),
            Stat::Skipped => Some(p.counters.skipped as f64),
            Stat::Abandoned => Some(p.counters.abandoned as f64),
            Stat::PendingMax => Some(p.counters.queue_pending_max as f64),
            Stat::LagMax => Some(p.counters.queue_lag_max_ms as f64 * 1000.0),
            Stat::ShardsMax => Some(p.counters.queue_shards_max as f64),
            Stat::SamplesFailed => Some(p.counters.samples_failed as f64),
            Stat::SamplesDropped => Some(p.counters.samples_dropped as f64),
            Stat::SamplesRetried => Some(p.counters.samples_retried as f64),
            Stat::Peak | Stat::Restarts => None,
        }
    }
}

/// The JSON Schema of the results file (kept in `results/schema.json`).
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).expect("schema serializes")
}
