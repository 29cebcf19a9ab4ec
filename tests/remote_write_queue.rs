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

/// Runs the binary on a scenario: its results, what it printed, and its exit code.
async fn run(scenario: &str) -> (lgtm_bench::report::Report, String, Option<i32>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.path().join("r");
    let o = Command::new(BIN).args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).stdin(Stdio::null()).output().await.unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let results: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap_or_else(|e| panic!("no results in {} ({e}):\n{printed}", out.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    (lgtm_bench::report::json::read(&results[0]).unwrap(), printed, o.status.code())
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
    let (report, stdout, code) = run(&text).await;

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
    assert_eq!(code, Some(0), "{stdout}");
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

/// What the target received on its write path, decoded: each request's samples as (series label,
/// timestamp), in the order they arrived.
fn writes_received(server: &support::replay::ReplayServer) -> Vec<Vec<(String, i64)>> {
    use prost::Message;
    server
        .received()
        .iter()
        .filter(|r| r.uri.ends_with("/api/v1/write") && !r.body.is_empty())
        .map(|r| snap::raw::Decoder::new().decompress_vec(&r.body).unwrap())
        .map(|raw| lgtm_bench::targets::mimir::write::proto::WriteRequest::decode(raw.as_slice()).unwrap())
        .filter(|w| !w.timeseries.is_empty())
        .map(|w| w.timeseries.iter().map(|ts| (ts.labels.iter().find(|l| l.name == "series").unwrap().value.clone(), ts.samples[0].timestamp)).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_blocks_its_shard_and_a_refusal_is_counted_never_retried() {
    use support::replay::{Canned, ReplayServer};
    // The preflight's empty write and the build-info read, then: the first batch refused twice
    // (429, then 503) and accepted on its third attempt; the second refused for good (400).
    let server = ReplayServer::start(vec![
        Canned::new(204, ""),
        Canned::new(404, ""),
        Canned::new(429, "ingestion rate limit exceeded"),
        Canned::new(503, "ingester unavailable"),
        Canned::new(204, ""),
        Canned::new(400, "out of order sample"),
        Canned::new(204, ""),
    ])
    .await;
    // One shard; each tick's 100 samples are one full batch.
    let text = format!(
        r#"
objectives = ["mimir.delivery errors == 0"]
[run]
name = "one-shard"
warmup = "0s"
duration = "1s"
progress_interval = "500ms"
drain_timeout = "10s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
rate = 10
[mimir.write.series]
active = 1000
samples_per_request = 100
[mimir.write.queue]
min_shards = 1
max_shards = 1
max_samples_per_send = 100
capacity = 1000
batch_send_deadline = "30s"
min_backoff = "10ms"
max_backoff = "20ms"
"#,
        base = server.base()
    );
    let (report, stdout, code) = run(&text).await;

    let sent = writes_received(&server);
    assert_eq!(sent.len(), 10 + 2, "10 batches, the first sent three times:\n{stdout}");
    // The shard waited: its retries carry the same batch, and nothing later went out in between.
    assert_eq!((&sent[0], &sent[1]), (&sent[2], &sent[2]));
    assert_ne!(sent[3], sent[2], "the refused batch is the next one, sent once");
    assert!(sent[4..].iter().all(|b| *b != sent[3]), "a refused batch is never retried");
    let first_ticks: Vec<i64> = sent[2..].iter().map(|b| b[0].1).collect();
    assert!(first_ticks.windows(2).all(|w| w[0] < w[1]), "batches leave in scrape order: {first_ticks:?}");

    let write = &report.paths["mimir.write"];
    let delivery = &report.paths["mimir.delivery"];
    let queue = &report.paths["mimir.queue"];
    assert_eq!((write.count(lgtm_bench::stats::OutcomeClass::RateLimited), write.count(lgtm_bench::stats::OutcomeClass::ServerError)), (1, 1), "{stdout}");
    assert_eq!((write.counters.retries, queue.counters.samples_retried), (2, 200));
    assert_eq!(queue.counters.samples_failed, 100);
    assert_eq!((delivery.count(lgtm_bench::stats::OutcomeClass::Success), delivery.count(lgtm_bench::stats::OutcomeClass::OutOfOrder)), (900, 100));
    assert_eq!(code, Some(1), "100 samples refused: `mimir.delivery errors == 0` fails\n{stdout}");
    // Each failed attempt's class keeps an example: the batch (its first series) and the answer.
    let example = |class: &str| write.examples.iter().find(|e| e.class == class).unwrap_or_else(|| panic!("no {class} example: {:?}", write.examples)).clone();
    let limited = example("rate_limited");
    assert!(
        limited.key.starts_with("a batch of 100 samples, first lgtm_bench_samples_total{lgtm_bench_run=")
            && limited.answer == "HTTP 429: ingestion rate limit exceeded (retried)",
        "{limited:?}"
    );
    assert_eq!(example("server_error").answer, "HTTP 503: ingester unavailable (retried)");
    assert_eq!(example("out_of_order").answer, "HTTP 400: out of order sample (refused for good)");
    assert!(stdout.contains("e.g. out_of_order at "), "{stdout}");
}

/// A measurement, not run by the suite (`cargo test --release --test remote_write_queue -- --ignored
/// --nocapture`): the same high-rate write into a real Prometheus while the last two seconds of
/// every five are answered 429 by the proxy, with the deployment's short `max_backoff`
/// (100ms) and with Prometheus's default (5s), side by side: requests reaching the target,
/// retries, lag and end-to-end latency. Both must deliver every sample, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn short_and_default_max_backoff_under_429_bursts_side_by_side() {
    use support::http_faults::Faults;
    let mut lines = vec![format!(
        "{:<12} {:>9} {:>11} {:>9} {:>9} {:>10} {:>9} {:>10} {:>12}",
        "max_backoff", "attempts", "reached/s", "429s", "retries", "retried", "lag max", "delivery", "p99 scrape→ack"
    )];
    for max_backoff in ["100ms", "5s"] {
        let prom = Prometheus::start();
        let faults = Faults::ByTime { period: Duration::from_secs(5), refused: Duration::from_secs(2), status: 429 };
        let proxy = HttpFaults::start_with(prom.port, faults).await;
        let before = appended(&prom);
        let text = format!(
            r#"
[run]
name = "backoff-{max_backoff}"
warmup = "0s"
ramp = "0s"
duration = "30s"
progress_interval = "5s"
drain_timeout = "60s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
rate = 20
connections = 2
[mimir.write.series]
active = 20000
samples_per_request = 5000
[mimir.write.queue]
max_shards = 200
max_samples_per_send = 1000
capacity = 10000
batch_send_deadline = "5s"
min_backoff = "30ms"
max_backoff = "{max_backoff}"
"#,
            base = proxy.base()
        );
        let (report, stdout, _) = run(&text).await;
        let (write, delivery, queue) = (&report.paths["mimir.write"], &report.paths["mimir.delivery"], &report.paths["mimir.queue"]);
        assert_eq!(write.outcomes.get("out_of_order"), None, "{stdout}");
        assert_eq!(delivery.count(lgtm_bench::stats::OutcomeClass::Success), delivery.planned_calls.unwrap(), "{stdout}");
        assert_eq!(appended(&prom) - before, delivery.planned_calls.unwrap() as f64);
        lines.push(format!(
            "{:<12} {:>9} {:>11.1} {:>9} {:>9} {:>10} {:>8.2}s {:>10} {:>12}",
            max_backoff,
            write.calls,
            write.calls as f64 / report.run.measured_seconds,
            write.count(lgtm_bench::stats::OutcomeClass::RateLimited),
            write.counters.retries,
            queue.counters.samples_retried,
            queue.counters.queue_lag_max_ms as f64 / 1000.0,
            delivery.calls,
            lgtm_bench::units::fmt_micros(delivery.latency.p99_us.unwrap_or(0)),
        ));
    }
    eprintln!("{}", lines.join("\n"));
}
