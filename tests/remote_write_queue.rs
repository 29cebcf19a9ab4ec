//! The remote-write queue against a real Prometheus started without an out-of-order window (as
//! Mimir runs by default): a high-rate write over several shards, through a proxy that answers
//! bursts of 429 and 503 itself and stalls answers for 300 ms. Sent as Prometheus's queue sends,
//! nothing may come back out of order or too old, every sample is stored exactly once with the
//! value it was written with, and the counts match the target's own.

mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use support::http_faults::{Fault, HttpFaults};
use support::prometheus::Prometheus;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lgtm-bench");

/// Prometheus's own count of samples appended to its head, from its /metrics.
fn appended(prom: &Prometheus) -> f64 {
    let out = std::process::Command::new("curl").args(["-fsS", &format!("{}/metrics", prom.base())]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().filter(|l| l.starts_with("prometheus_tsdb_head_samples_appended_total")).map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap()).sum()
}

fn scalar(prom: &Prometheus, promql: &str) -> f64 {
    let v = prom.query(promql);
    let result = &v["data"]["result"];
    assert_eq!(result.as_array().map(Vec::len), Some(1), "{promql}: {v}");
    result[0]["value"][1].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_storm_through_the_queue_stores_every_sample_once_in_order() {
    let prom = Prometheus::start();
    // Every 20 requests: fourteen passed through (the preflight's first), three 429s (no
    // Retry-After, as Cortex answers), two 503s, one answer held for 300 ms.
    let mut pattern = vec![Fault::Pass; 14];
    pattern.extend([Fault::Answer(429, "ingestion rate limit exceeded"); 3]);
    pattern.extend([Fault::Answer(503, "ingester unavailable"); 2]);
    pattern.push(Fault::Stall(Duration::from_millis(300)));
    let proxy = HttpFaults::start(prom.port, pattern).await;
    let before = appended(&prom);
    // 4,000 series, each written every 200 ms (20,000 samples/s), over 4 to 8 shards.
    let text = format!(
        r#"
[run]
name = "queue-storm"
warmup = "0s"
ramp = "0s"
duration = "4s"
progress_interval = "1s"
drain_timeout = "30s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
rate = 20
connections = 2
[mimir.write.series]
active = 4000
samples_per_request = 1000
[mimir.write.queue]
min_shards = 4
max_shards = 8
max_samples_per_send = 500
capacity = 2000
batch_send_deadline = "200ms"
min_backoff = "30ms"
max_backoff = "100ms"
"#,
        base = proxy.base()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("storm.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("r");
    let o = Command::new(BIN).args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).stdin(Stdio::null()).output().await.unwrap();
    let stdout = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let results: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap_or_else(|e| panic!("no results in {} ({e}):\n{stdout}", out.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    let report = lgtm_bench::report::json::read(&results[0]).unwrap();

    let write = &report.paths["mimir.write"];
    let delivery = &report.paths["mimir.delivery"];
    let queue = &report.paths["mimir.queue"];
    // The faults happened, and were retried.
    assert!(write.count(lgtm_bench::stats::OutcomeClass::RateLimited) > 0 && write.count(lgtm_bench::stats::OutcomeClass::ServerError) > 0, "{stdout}");
    assert!(queue.counters.samples_retried > 0 && write.counters.retries > 0, "{stdout}");
    // None of the tool's own making: no sample of a series overtook an earlier one.
    for class in ["out_of_order", "too_old", "duplicate"] {
        assert_eq!(write.outcomes.get(class), None, "{class}\n{stdout}");
    }
    // Every planned sample was delivered, none refused, dropped or abandoned.
    let planned = delivery.planned_calls.unwrap();
    assert_eq!(planned, 80 * 1000, "4 s × 20 ticks × 1,000 samples");
    assert_eq!((delivery.calls, delivery.count(lgtm_bench::stats::OutcomeClass::Success), delivery.counters.abandoned), (planned, planned, 0), "{stdout}");
    assert_eq!((queue.counters.samples_failed, queue.counters.samples_dropped), (0, 0));
    assert!(queue.counters.queue_shards_max >= 4 && queue.counters.queue_pending_max > 0, "{:?}", queue.counters);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    // The target's own count: exactly the samples acknowledged, each once.
    assert_eq!(appended(&prom) - before, planned as f64, "Prometheus's prometheus_tsdb_head_samples_appended_total");
    // Stored with their values: each series got one sample every 4th tick, its value the tick's
    // number plus the series' own offset, so max - min = 4 × (samples - 1) for every series.
    let run = &report.run.id;
    let sel = format!("lgtm_bench_samples_total{{lgtm_bench_run=\"{run}\"}}");
    assert_eq!(scalar(&prom, &format!("sum(count_over_time({sel}[1h]))")), planned as f64);
    assert_eq!(scalar(&prom, &format!("count(count_over_time({sel}[1h]))")), 4000.0);
    assert_eq!(scalar(&prom, &format!("sum(abs(max_over_time({sel}[1h]) - min_over_time({sel}[1h]) - 4 * (count_over_time({sel}[1h]) - 1)))")), 0.0);
    assert_eq!(scalar(&prom, &format!("sum(resets({sel}[1h]))")), 0.0, "every series' values rise in the order they were scraped");
}
