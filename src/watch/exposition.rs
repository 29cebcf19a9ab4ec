//! Reading a target's `/metrics` (Prometheus text exposition) for the figures that matter here:
//! memory, process start time and the ingestion/discard counters. Parsing is `prometheus-parse`'s;
//! this file survives any text (it never panics) and says clearly when the answer is not usable.

use std::collections::BTreeMap;

/// Counters that explain what a target did with the load (summed over their labels): their
/// increase over the run is reported.
pub const LOAD_COUNTERS: &[&str] = &[
    // Mimir / Cortex
    "cortex_distributor_received_samples_total",
    "cortex_distributor_samples_in_total",
    "cortex_discarded_samples_total",
    "cortex_ingester_ingested_samples_total",
    // Prometheus
    "prometheus_tsdb_head_samples_appended_total",
    // Tempo
    "tempo_distributor_spans_received_total",
    "tempo_discarded_spans_total",
    // Any Go or client-library process: its CPU, so a target on the generator's own machine is
    // told apart from other processes competing for it.
    "process_cpu_seconds_total",
];

/// Gauges of what a target holds (summed over their labels): their last reading is reported.
pub const LOAD_GAUGES: &[&str] = &["cortex_ingester_memory_series", "prometheus_tsdb_head_series", "tempo_ingester_live_traces"];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessFigures {
    pub resident_bytes: f64,
    pub heap_inuse_bytes: Option<f64>,
    pub start_time_seconds: Option<f64>,
    pub counters: BTreeMap<String, f64>,
}

/// A `/metrics` answer that is not usable, with what to check.
#[derive(Debug, thiserror::Error)]
pub enum ExpositionError {
    #[error("the exposition text could not be parsed")]
    Unparsable,
    #[error("the exposition text could not be parsed: {0}")]
    Malformed(#[source] std::io::Error),
    #[error("no process_resident_memory_bytes in the answer; point metrics_urls at the target's /metrics endpoint")]
    NoResidentMemory,
}

/// Extracts the process figures; an answer without `process_resident_memory_bytes` is an error
/// that says what to check.
pub fn parse(text: &str) -> Result<ProcessFigures, ExpositionError> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape =
        std::panic::catch_unwind(|| prometheus_parse::Scrape::parse(lines)).map_err(|_| ExpositionError::Unparsable)?.map_err(ExpositionError::Malformed)?;
    let mut figures = ProcessFigures::default();
    let mut resident = None;
    for s in &scrape.samples {
        let value = match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => continue,
        };
        if !value.is_finite() {
            continue;
        }
        match s.metric.as_str() {
            "process_resident_memory_bytes" => resident = Some(value),
            "go_memstats_heap_inuse_bytes" => figures.heap_inuse_bytes = Some(value),
            "process_start_time_seconds" => figures.start_time_seconds = Some(value),
            name if LOAD_COUNTERS.contains(&name) || LOAD_GAUGES.contains(&name) => *figures.counters.entry(name.to_string()).or_default() += value,
            _ => {}
        }
    }
    figures.resident_bytes = resident.ok_or(ExpositionError::NoResidentMemory)?;
    Ok(figures)
}

/// One sample of an exposition: its name (a histogram's `_count` keeps its suffix), labels, value.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every counter, gauge and untyped sample of an exposition text (histogram buckets and summary
/// quantiles are left out; their `_count` and `_sum` lines are kept).
pub fn samples(text: &str) -> Result<Vec<MetricSample>, ExpositionError> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape =
        std::panic::catch_unwind(|| prometheus_parse::Scrape::parse(lines)).map_err(|_| ExpositionError::Unparsable)?.map_err(ExpositionError::Malformed)?;
    Ok(scrape
        .samples
        .into_iter()
        .filter_map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => return None,
            };
            let labels = s.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            value.is_finite().then_some(MetricSample { name: s.metric, labels, value })
        })
        .collect())
}

/// The generator's own resident memory (Linux `/proc/self/status`), if it can be read.
pub fn own_resident_bytes() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// The generator's own CPU time so far, user + system, in seconds (Linux `/proc/self/stat`,
/// fields 14 and 15, in USER_HZ ticks: 100 a second on every Linux ABI).
pub fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    Some((utime + stime) / 100.0)
}

/// The whole machine's busy CPU seconds so far (all CPUs: user, nice, system, irq, softirq,
/// steal; not idle or iowait) and how many CPUs it has, from `/proc/stat`.
pub fn host_cpu_busy_seconds() -> Option<(f64, usize)> {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

fn parse_proc_stat(text: &str) -> Option<(f64, usize)> {
    let mut lines = text.lines();
    let total = lines.next()?.strip_prefix("cpu ")?;
    let ticks: Vec<f64> = total.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    let busy: f64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| ticks.get(i)).sum();
    let cpus = lines.filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit)).count();
    Some((busy / 100.0, cpus.max(1)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn proc_stat_busy_time_leaves_out_idle_and_iowait() {
        let text = "cpu  100 20 30 5000 40 5 5 0 0 0\ncpu0 50 10 15 2500 20 2 3 0 0 0\ncpu1 50 10 15 2500 20 3 2 0 0 0\nintr 1\n";
        assert_eq!(super::parse_proc_stat(text), Some((1.6, 2)));
    }

    use super::*;

    #[test]
    fn reads_memory_start_time_and_counters() {
        let text = "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1.2e+08\n\
                    go_memstats_heap_inuse_bytes 5e7\nprocess_start_time_seconds 1.7e9\n\
                    cortex_discarded_samples_total{reason=\"a\",user=\"x\"} 2\ncortex_discarded_samples_total{reason=\"b\",user=\"x\"} 3\n";
        let f = parse(text).unwrap();
        assert_eq!(f.resident_bytes, 1.2e8);
        assert_eq!(f.heap_inuse_bytes, Some(5e7));
        assert_eq!(f.start_time_seconds, Some(1.7e9));
        assert_eq!(f.counters["cortex_discarded_samples_total"], 5.0);
    }

    #[test]
    fn malformed_text_never_panics_and_says_what_is_missing() {
        let long = "x".repeat(100_000);
        for text in [
            "",
            "garbage",
            "{{{{",
            "process_resident_memory_bytes",
            "process_resident_memory_bytes NaN",
            "a{b=\"c} 1",
            "\u{0}\u{1}\u{2}",
            "# TYPE x histogram\nx_bucket{le=\"+Inf\"} 1",
            &long,
            "process_resident_memory_bytes{a=\"b\"} 1 2 3 4",
        ] {
            let r = parse(text);
            if let Err(e) = r {
                let e = e.to_string();
                assert!(e.contains("process_resident_memory_bytes") || e.contains("could not be parsed"), "{e}");
            }
        }
    }

    #[test]
    fn own_memory_is_readable_on_linux() {
        assert!(own_resident_bytes().unwrap() > 1024.0);
    }

    #[test]
    fn own_cpu_time_grows_with_work() {
        let before = own_cpu_seconds().unwrap();
        let mut x = 0u64;
        while own_cpu_seconds().unwrap() < before + 0.02 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        assert!(own_cpu_seconds().unwrap() >= before + 0.02, "{x}");
    }
}
