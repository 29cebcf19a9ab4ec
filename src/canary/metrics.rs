//! The canary's metrics, kept from the closed intervals of its run (bounded: a few figures per
//! path and class, a histogram per path, a rolling window) and encoded with `prometheus-client`
//! (OpenMetrics text). Every name is stable and documented in the README's metrics table; units
//! are in the names (`_seconds`, `_bytes`).

use super::window::Window;
use crate::report::intervals::ClosedInterval;
use crate::stats::paths::target_of;
use crate::verdict::{evaluate, Objective};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Upper bounds (seconds) of the latency histograms: Prometheus's defaults widened to a minute.
pub const LATENCY_BUCKETS: [f64; 15] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// One path's latency histogram for one outcome class, cumulative since the canary started.
#[derive(Clone, Debug, Default)]
struct Buckets {
    /// Per bucket (not cumulative), the last one `+Inf`.
    counts: Vec<u64>,
    sum_seconds: f64,
    count: u64,
}

impl Buckets {
    fn add(&mut self, h: &crate::stats::histogram::Latency) {
        if self.counts.is_empty() {
            self.counts = vec![0; LATENCY_BUCKETS.len() + 1];
        }
        let mut below = 0;
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let upto = h.count_between(0, (bound * 1e6) as u64);
            self.counts[i] += upto - below;
            below = upto;
        }
        self.counts[LATENCY_BUCKETS.len()] += h.len() - below;
        self.count += h.len();
        self.sum_seconds += h.mean() * h.len() as f64 / 1e6;
    }
}

/// A target's memory as last read: bytes now, its budget, restarts seen.
type Memory = (f64, Option<u64>, usize);

/// Everything the metrics show.
#[derive(Debug)]
struct State {
    started_unix_s: f64,
    intervals: u64,
    last_interval_end_unix_s: f64,
    requests: BTreeMap<(String, String), u64>,
    latency: BTreeMap<(String, &'static str), Buckets>,
    items: BTreeMap<(String, &'static str), u64>,
    queue: BTreeMap<String, [u64; 3]>,
    memory: BTreeMap<String, Memory>,
    objectives: Vec<Objective>,
    window: Window,
    /// Lost items found by re-reading old data, by target and age band; and every re-read.
    lost: BTreeMap<(String, String), u64>,
    reread: BTreeMap<(String, String, &'static str), u64>,
}

/// The canary's metrics: fed by closed intervals (and re-reads), read by scrapes.
#[derive(Debug)]
pub struct CanaryMetrics(Mutex<State>);

impl CanaryMetrics {
    /// `objectives` are judged over the newest `window_ms` of intervals.
    pub fn new(objectives: Vec<Objective>, window_ms: i64) -> CanaryMetrics {
        let started_unix_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        CanaryMetrics(Mutex::new(State {
            started_unix_s,
            intervals: 0,
            last_interval_end_unix_s: 0.0,
            requests: BTreeMap::new(),
            latency: BTreeMap::new(),
            items: BTreeMap::new(),
            queue: BTreeMap::new(),
            memory: BTreeMap::new(),
            objectives,
            window: Window::new(window_ms),
            lost: BTreeMap::new(),
            reread: BTreeMap::new(),
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds one closed interval.
    pub fn add(&self, closed: ClosedInterval) {
        let mut s = self.state();
        s.intervals += 1;
        s.last_interval_end_unix_s = closed.end_unix_ms() as f64 / 1000.0;
        for (path, p) in &closed.paths {
            for (class, n) in &p.outcomes {
                *s.requests.entry((path.clone(), class.clone())).or_default() += n;
            }
            for (result, n) in [("ok", p.counters.items_ok), ("failed", p.counters.items_failed), ("rejected", p.counters.items_rejected)] {
                if n > 0 {
                    *s.items.entry((path.clone(), result)).or_default() += n;
                }
            }
            let c = &p.counters;
            if c.queue_shards_max > 0 || c.queue_pending_max > 0 || c.queue_lag_max_ms > 0 {
                s.queue.insert(path.clone(), [c.queue_pending_max, c.queue_lag_max_ms, c.queue_shards_max]);
            }
        }
        for ((path, class), h) in &closed.latency_by_class {
            s.latency.entry((path.clone(), class.as_str())).or_default().add(h);
        }
        for (target, m) in &closed.memory {
            s.memory.insert(target.clone(), (m.current, m.budget, m.restarts));
        }
        s.window.push(closed);
    }

    /// Counts one re-read of old data in an age band: found whole, lost, or not answered.
    pub fn reread(&self, target: &str, band: &str, outcome: crate::engine::reread::Outcome) {
        let mut s = self.state();
        *s.reread.entry((target.to_string(), band.to_string(), outcome.as_str())).or_default() += 1;
        // Every band asked shows, at 0 until something is lost.
        let lost = s.lost.entry((target.to_string(), band.to_string())).or_default();
        if outcome == crate::engine::reread::Outcome::Lost {
            *lost += 1;
        }
    }

    /// The metrics as OpenMetrics text.
    pub fn encode(self: &std::sync::Arc<Self>) -> String {
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(self.clone()));
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

/// A gauge or counter value with no labels of its own (the family's labels come with it).
struct Value(f64, MetricType);

impl EncodeMetric for Value {
    fn encode(&self, mut encoder: prometheus_client::encoding::MetricEncoder) -> Result<(), std::fmt::Error> {
        match self.1 {
            MetricType::Counter => encoder.encode_counter::<NoLabelSet, _, f64>(&self.0, None),
            _ => encoder.encode_gauge(&self.0),
        }
    }
    fn metric_type(&self) -> MetricType {
        self.1
    }
}

type Labels = Vec<(&'static str, String)>;

fn family(encoder: &mut DescriptorEncoder, name: &str, help: &str, kind: MetricType, rows: Vec<(Labels, f64)>) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, v) in rows {
        Value(v, kind).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for CanaryMetrics {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.state();
        use MetricType::{Counter, Gauge};
        family(&mut e, "lgtm_bench_canary_start_time_seconds", "When this canary started (unix seconds).", Gauge, vec![(vec![], s.started_unix_s)])?;
        family(&mut e, "lgtm_bench_canary_intervals", "Results intervals closed since the canary started.", Counter, vec![(vec![], s.intervals as f64)])?;
        family(
            &mut e,
            "lgtm_bench_canary_last_interval_end_seconds",
            "End of the newest closed interval (unix seconds).",
            Gauge,
            vec![(vec![], s.last_interval_end_unix_s)],
        )?;
        let rows =
            s.requests.iter().map(|((p, c), n)| (vec![("target", target_of(p).to_string()), ("path", p.clone()), ("class", c.clone())], *n as f64)).collect();
        family(&mut e, "lgtm_bench_requests", "Calls by target, path and outcome class.", Counter, rows)?;
        let rows =
            s.items.iter().map(|((p, r), n)| (vec![("target", target_of(p).to_string()), ("path", p.clone()), ("result", r.to_string())], *n as f64)).collect();
        family(
            &mut e,
            "lgtm_bench_items",
            "Items (samples, spans, series) carried by calls: ok (acknowledged), failed, rejected inside accepted calls.",
            Counter,
            rows,
        )?;
        {
            let mut metric = e.encode_descriptor(
                "lgtm_bench_request_duration_seconds",
                "Latency from the intended send time (no coordinated omission), by target, path and outcome class (a failure's: until it failed).",
                None,
                MetricType::Histogram,
            )?;
            for ((path, class), b) in &s.latency {
                let labels: Labels = vec![("target", target_of(path).to_string()), ("path", path.clone()), ("class", class.to_string())];
                let mut buckets: Vec<(f64, u64)> = LATENCY_BUCKETS.iter().copied().zip(b.counts.iter().copied()).collect();
                buckets.push((f64::INFINITY, b.counts.last().copied().unwrap_or(0)));
                metric.encode_family(&labels)?.encode_histogram::<NoLabelSet>(b.sum_seconds, b.count, &buckets, None)?;
            }
        }
        let q = |i: usize, scale: f64| {
            s.queue.iter().map(|(p, v)| (vec![("target", target_of(p).to_string()), ("path", p.clone())], v[i] as f64 * scale)).collect()
        };
        family(&mut e, "lgtm_bench_queue_pending_samples", "Remote-write queue: the most samples pending in the newest interval.", Gauge, q(0, 1.0))?;
        family(
            &mut e,
            "lgtm_bench_queue_lag_seconds",
            "Remote-write queue: the largest lag of the newest acknowledged sample behind the newest scraped, in the newest interval.",
            Gauge,
            q(1, 1e-3),
        )?;
        family(&mut e, "lgtm_bench_queue_shards", "Remote-write queue: the most shards in the newest interval.", Gauge, q(2, 1.0))?;
        let mem = |f: fn(&Memory) -> Option<f64>| s.memory.iter().filter_map(|(t, m)| Some((vec![("target", t.clone())], f(m)?))).collect();
        family(&mut e, "lgtm_bench_target_memory_bytes", "The target's memory as last read (working set, else resident).", Gauge, mem(|m| Some(m.0)))?;
        family(&mut e, "lgtm_bench_target_memory_budget_bytes", "The target's memory budget.", Gauge, mem(|m| m.1.map(|b| b as f64)))?;
        family(&mut e, "lgtm_bench_target_restarts", "Target restarts (or OOM kills) seen since the canary started.", Gauge, mem(|m| Some(m.2 as f64)))?;
        let verdict = evaluate(&s.objectives, &s.window);
        let passing = verdict
            .objectives
            .iter()
            .filter(|o| o.observed.is_some())
            .map(|o| (vec![("objective", o.objective.clone())], if o.passed { 1.0 } else { 0.0 }))
            .collect();
        family(
            &mut e,
            "lgtm_bench_objective_passing",
            "Each objective over the rolling window: 1 holds, 0 broken (absent while not measured).",
            Gauge,
            passing,
        )?;
        let observed = verdict.objectives.iter().filter_map(|o| Some((vec![("objective", o.objective.clone())], o.observed?))).collect();
        family(
            &mut e,
            "lgtm_bench_objective_observed",
            "Each objective's figure over the rolling window, in its base unit (latency µs, ratio, count, bytes).",
            Gauge,
            observed,
        )?;
        let rows = s.reread.iter().map(|((t, b, r), n)| (vec![("target", t.clone()), ("age_band", b.clone()), ("result", r.to_string())], *n as f64)).collect();
        family(
            &mut e,
            "lgtm_bench_reread",
            "Old data read again at an age band: found whole, lost, or unanswered (the target did not answer).",
            Counter,
            rows,
        )?;
        let rows = s.lost.iter().map(|((t, b), n)| (vec![("target", t.clone()), ("age_band", b.clone())], *n as f64)).collect();
        family(&mut e, "lgtm_bench_lost", "Items written and acknowledged but not found again, by age band.", Counter, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::intervals::IntervalPath;
    use crate::stats::OutcomeClass;

    fn interval(index: u64, calls: u64, errors: u64, latency_us: &[u64]) -> ClosedInterval {
        let mut h = crate::stats::histogram::Latency::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in latency_us {
            h.record(*v).unwrap();
        }
        let mut outcomes = BTreeMap::from([("success".to_string(), calls - errors)]);
        if errors > 0 {
            outcomes.insert("server_error".into(), errors);
        }
        let path = IntervalPath { calls, outcomes, ..Default::default() };
        let mut latency_by_class = BTreeMap::from([(("mimir.write".to_string(), OutcomeClass::Success), h)]);
        if errors > 0 {
            let mut failed = crate::stats::histogram::new_latency();
            failed.record_n(2_000_000, errors).unwrap();
            latency_by_class.insert(("mimir.write".to_string(), OutcomeClass::ServerError), failed);
        }
        ClosedInterval {
            run_id: "r".into(),
            index,
            start_unix_ms: index as i64 * 1000,
            length_ms: 1000,
            paths: BTreeMap::from([("mimir.write".to_string(), path)]),
            latency_by_class,
            memory: Default::default(),
        }
    }

    #[test]
    fn intervals_add_up_to_counters_a_histogram_and_objectives_over_the_window() {
        let objectives = vec![Objective::parse("mimir.write error_ratio < 10%").unwrap(), Objective::parse("mimir.write p99 < 1s").unwrap()];
        let m = std::sync::Arc::new(CanaryMetrics::new(objectives, 2000));
        m.add(interval(0, 10, 5, &[2_000_000]));
        let text = m.encode();
        assert!(text.contains(r#"lgtm_bench_requests_total{target="mimir",path="mimir.write",class="server_error"} 5"#), "{text}");
        assert!(text.contains(r#"lgtm_bench_objective_passing{objective="mimir.write error_ratio < 10%"} 0"#), "{text}");
        assert!(text.contains(r#"lgtm_bench_objective_passing{objective="mimir.write p99 < 1s"} 0"#), "{text}");
        // One clean interval later the window holds both: the merged p99 still breaks.
        m.add(interval(1, 10, 0, &[5_000]));
        assert!(m.encode().contains(r#"lgtm_bench_objective_passing{objective="mimir.write p99 < 1s"} 0"#));
        // Two clean intervals later the failing one has left the 2 s window.
        m.add(interval(2, 10, 0, &[5_000]));
        let text = m.encode();
        assert!(text.contains(r#"lgtm_bench_objective_passing{objective="mimir.write error_ratio < 10%"} 1"#), "{text}");
        assert!(text.contains(r#"lgtm_bench_requests_total{target="mimir",path="mimir.write",class="success"} 25"#), "{text}");
        let success = r#"target="mimir",path="mimir.write",class="success""#;
        assert!(text.contains(&format!("lgtm_bench_request_duration_seconds_bucket{{le=\"0.005\",{success}}} 2")), "{text}");
        assert!(text.contains(&format!("lgtm_bench_request_duration_seconds_bucket{{le=\"+Inf\",{success}}} 3")), "{text}");
        // The first interval's five server errors, each answered after 2 s: their own histogram.
        let failed = r#"target="mimir",path="mimir.write",class="server_error""#;
        assert!(text.contains(&format!("lgtm_bench_request_duration_seconds_bucket{{le=\"1.0\",{failed}}} 0")), "{text}");
        assert!(text.contains(&format!("lgtm_bench_request_duration_seconds_bucket{{le=\"2.5\",{failed}}} 5")), "{text}");
        assert!(text.contains(&format!("lgtm_bench_request_duration_seconds_count{{{failed}}} 5")), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
