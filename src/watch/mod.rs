//! Watching the targets while they take the load: memory (process RSS, Go heap, container working
//! set), restarts and OOM kills, and the generator's own memory. The scraper (`scrape.rs`) is a
//! `Workload` on its own schedule; what it reads goes to the memory log kept here.

pub mod exposition;
pub mod scrape;

use std::collections::BTreeMap;
use tokio::sync::{mpsc, watch};

/// Which figure a memory sample is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKind {
    /// `process_resident_memory_bytes` from the process's `/metrics`.
    Rss,
    /// `go_memstats_heap_inuse_bytes`.
    HeapInuse,
    /// `container_memory_working_set_bytes`: what the kubelet's limit acts on.
    ContainerWorkingSet,
    /// Not memory: the generator's own CPU seconds so far (user + system), read with its RSS at
    /// every watch interval, so its CPU use per interval is the difference of two readings.
    CpuSeconds,
}

impl MemoryKind {
    /// As people read it: which figure was judged.
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryKind::Rss => "resident memory",
            MemoryKind::HeapInuse => "Go heap in use",
            MemoryKind::ContainerWorkingSet => "container working set",
            MemoryKind::CpuSeconds => "CPU seconds",
        }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct MemorySample {
    /// Seconds since the plan started.
    pub at_seconds: f64,
    /// The process URL or pod it was read from.
    pub source: String,
    pub kind: MemoryKind,
    pub bytes: f64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RestartEvent {
    pub at_seconds: f64,
    pub source: String,
    /// What showed it, e.g. "process_start_time_seconds changed" or "OOMKilled".
    pub detail: String,
}

/// What the scraper reports.
#[derive(Clone, Debug)]
pub enum MemoryEvent {
    Sample { target: String, sample: MemorySample },
    Restart { target: String, event: RestartEvent },
    Counters { target: String, source: String, counters: BTreeMap<String, f64> },
}

/// Everything watched for one target during the run.
#[derive(Clone, Debug, Default)]
pub struct MemoryRecord {
    pub samples: Vec<MemorySample>,
    pub restarts: Vec<RestartEvent>,
    /// First and last reading of each counter, per source.
    pub counters: BTreeMap<(String, String), (f64, f64)>,
}

impl MemoryRecord {
    pub fn peak(&self, kind: MemoryKind) -> Option<f64> {
        self.samples.iter().filter(|s| s.kind == kind).map(|s| s.bytes).reduce(f64::max)
    }

    /// The 99th percentile (nearest rank) of the samples of one kind.
    pub fn p99(&self, kind: MemoryKind) -> Option<f64> {
        let mut v: Vec<f64> = self.samples.iter().filter(|s| s.kind == kind).map(|s| s.bytes).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = ((0.99 * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Some(v[rank - 1])
    }

    /// Counter increase over the run, summed over sources (a restart resets counters: then the
    /// last reading is taken as the increase since the restart). Gauges are not counters.
    pub fn counter_deltas(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for ((_, name), (first, last)) in self.counters.iter().filter(|((_, n), _)| !exposition::LOAD_GAUGES.contains(&n.as_str())) {
            let delta = if last >= first { last - first } else { *last };
            *out.entry(name.clone()).or_insert(0.0) += delta;
        }
        out
    }

    /// The last reading of each gauge, summed over sources.
    pub fn gauges_last(&self) -> BTreeMap<String, f64> {
        self.gauges(|(_, last)| last)
    }

    /// The first reading of each gauge (at the plan's start, before any load), summed over sources:
    /// the state the target was in.
    pub fn gauges_first(&self) -> BTreeMap<String, f64> {
        self.gauges(|(first, _)| first)
    }

    fn gauges(&self, pick: fn((f64, f64)) -> f64) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for ((_, name), readings) in self.counters.iter().filter(|((_, n), _)| exposition::LOAD_GAUGES.contains(&n.as_str())) {
            *out.entry(name.clone()).or_insert(0.0) += pick(*readings);
        }
        out
    }

    /// The target's memory before the load (the reading at the plan's start) and the most any
    /// source grew above its own first reading, of the figure `kind`.
    pub fn growth(&self, kind: MemoryKind) -> Option<(f64, f64)> {
        let mut firsts: BTreeMap<&str, f64> = BTreeMap::new();
        let mut best: Option<(f64, f64)> = None;
        for s in self.samples.iter().filter(|s| s.kind == kind) {
            let first = *firsts.entry(&s.source).or_insert(s.bytes);
            let grew = s.bytes - first;
            if best.is_none_or(|(_, g)| grew > g) {
                best = Some((first, grew));
            }
        }
        best
    }

    fn latest(&self, kind: MemoryKind) -> Option<f64> {
        self.samples.iter().rev().find(|s| s.kind == kind).map(|s| s.bytes)
    }
}

/// The figure a target's budget is checked against: the container working set when the cluster
/// is watched (the kubelet's limit acts on it), otherwise the process RSS.
pub fn budget_kind(record: &MemoryRecord) -> MemoryKind {
    if record.samples.iter().any(|s| s.kind == MemoryKind::ContainerWorkingSet) {
        MemoryKind::ContainerWorkingSet
    } else {
        MemoryKind::Rss
    }
}

/// Current memory per target, for the progress line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryNow {
    pub current: f64,
    pub peak: f64,
    pub budget: Option<u64>,
    pub restarts: usize,
}

pub type MemoryBoard = BTreeMap<String, MemoryNow>;

/// Memory readings kept per target at most (the newest): hours of readings at any interval a run
/// uses, a bounded few MB for a canary that runs for weeks.
pub const KEPT_SAMPLES: usize = 20_000;

/// Collects the scraper's events until every scraper has hung up.
pub async fn keep_log(
    mut rx: mpsc::UnboundedReceiver<MemoryEvent>,
    budgets: BTreeMap<String, u64>,
    board: watch::Sender<MemoryBoard>,
) -> BTreeMap<String, MemoryRecord> {
    let mut records: BTreeMap<String, MemoryRecord> = BTreeMap::new();
    while let Some(event) = rx.recv().await {
        let target = match event {
            MemoryEvent::Sample { target, sample } => {
                let samples = &mut records.entry(target.clone()).or_default().samples;
                samples.push(sample);
                // A run that goes on for weeks (the canary) keeps the newest readings only.
                if samples.len() > KEPT_SAMPLES {
                    samples.drain(..KEPT_SAMPLES / 10);
                }
                target
            }
            MemoryEvent::Restart { target, event } => {
                records.entry(target.clone()).or_default().restarts.push(event);
                target
            }
            MemoryEvent::Counters { target, source, counters } => {
                let record = records.entry(target.clone()).or_default();
                for (name, value) in counters {
                    record.counters.entry((source.clone(), name)).and_modify(|fl| fl.1 = value).or_insert((value, value));
                }
                target
            }
        };
        let r = &records[&target];
        let kind = budget_kind(r);
        let now = MemoryNow {
            current: r.latest(kind).unwrap_or(0.0),
            peak: r.peak(kind).unwrap_or(0.0),
            budget: budgets.get(&target).copied(),
            restarts: r.restarts.len(),
        };
        board.send_modify(|b| {
            b.insert(target.clone(), now);
        });
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: f64, kind: MemoryKind, bytes: f64) -> MemorySample {
        MemorySample { at_seconds: at, source: "p".into(), kind, bytes }
    }

    #[tokio::test]
    async fn a_log_that_goes_on_for_weeks_keeps_the_newest_readings() {
        let (tx, rx) = mpsc::unbounded_channel();
        let (board, _) = watch::channel(MemoryBoard::default());
        for i in 0..KEPT_SAMPLES + 5 {
            tx.send(MemoryEvent::Sample { target: "mimir".into(), sample: sample(i as f64, MemoryKind::Rss, 1.0) }).unwrap();
        }
        drop(tx);
        let records = keep_log(rx, BTreeMap::new(), board).await;
        let kept = &records["mimir"].samples;
        assert!(kept.len() <= KEPT_SAMPLES);
        assert_eq!(kept.last().unwrap().at_seconds, (KEPT_SAMPLES + 4) as f64, "the newest kept");
    }

    #[test]
    fn peak_p99_and_budget_figure() {
        let mut r = MemoryRecord::default();
        for i in 1..=200 {
            r.samples.push(sample(i as f64, MemoryKind::Rss, i as f64));
        }
        assert_eq!(r.peak(MemoryKind::Rss), Some(200.0));
        assert_eq!(r.p99(MemoryKind::Rss), Some(198.0));
        assert_eq!(r.peak(MemoryKind::HeapInuse), None);
        assert_eq!(budget_kind(&r), MemoryKind::Rss);
        r.samples.push(sample(1.0, MemoryKind::ContainerWorkingSet, 5.0));
        assert_eq!(budget_kind(&r), MemoryKind::ContainerWorkingSet);
    }

    #[test]
    fn counters_survive_a_reset() {
        let mut r = MemoryRecord::default();
        r.counters.insert(("a".into(), "c".into()), (100.0, 150.0));
        r.counters.insert(("b".into(), "c".into()), (100.0, 20.0));
        assert_eq!(r.counter_deltas()["c"], 70.0);
    }
}
