//! `run --export-metrics`: a run's per-interval figures streamed by remote-write into a second,
//! real Prometheus while it runs; read back with PromQL, they equal the results file's intervals
//! (calls, latency p50/p99, running totals), labelled with the run id and the scenario. A target
//! that does not take remote-write is refused before the run with the fix.

mod support;

use support::prometheus::Prometheus;

fn scenario(target: &str) -> String {
    format!(
        r#"
[run]
name = "exported"
warmup = "1s"
duration = "4s"
results_interval = "1s"
progress_interval = "1s"
[mimir]
write_url = "{target}/api/v1/write"
query_url = "{target}"
[mimir.write]
rate = 20
[mimir.write.series]
active = 100
samples_per_request = 50
"#
    )
}

/// Every raw sample of the series `selector` (timestamp ms, value), oldest first.
fn samples(prom: &Prometheus, selector: &str) -> Vec<(i64, f64)> {
    let r = prom.query(&format!("{selector}[1h]"));
    let mut out: Vec<(i64, f64)> = r["data"]["result"][0]["values"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| ((v[0].as_f64().unwrap() * 1000.0).round() as i64, v[1].as_str().unwrap().parse().unwrap()))
        .collect();
    out.sort_by_key(|s| s.0);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_intervals_exported_by_remote_write_equal_its_results_file() {
    let target = Prometheus::start();
    let watcher = Prometheus::start();
    let export = format!("{}/api/v1/write", watcher.base());
    let (code, printed, report) = support::run_binary_with(&scenario(&target.base()), &["--export-metrics", &export]).await;
    assert_eq!(code, Some(0), "{printed}");
    let report = report.unwrap();
    assert!(printed.contains(&format!("to {export}")) && !printed.contains("samples refused"), "{printed}");
    let id = &report.run.id;
    let intervals = report.intervals.as_ref().expect("per-interval results");
    let calls = samples(&watcher, &format!("lgtm_bench_interval_calls{{run_id=\"{id}\",scenario=\"exported\",path=\"mimir.write\",class=\"all\"}}"));
    let want: Vec<f64> = intervals.counts.iter().filter_map(|c| c.paths.get("mimir.write")).map(|p| p.calls as f64).collect();
    assert_eq!(calls.iter().map(|s| s.1).collect::<Vec<_>>(), want, "one sample per interval, equal to the results file's");
    let whole = &calls[..calls.len() - 1];
    assert!(whole.windows(2).all(|w| w[1].0 - w[0].0 == 1000), "stamped one interval apart (the last when sent): {calls:?}");
    let p99 = samples(&watcher, &format!("lgtm_bench_interval_latency_seconds{{run_id=\"{id}\",path=\"mimir.write\",quantile=\"0.99\"}}"));
    let want: Vec<f64> = intervals.counts.iter().filter_map(|c| c.paths.get("mimir.write")?.p99_us).map(|us| us as f64 / 1e6).collect();
    assert_eq!(p99.iter().map(|s| s.1).collect::<Vec<_>>(), want);
    // The running total ends at the run's count of successes, warm-up included.
    let total = samples(&watcher, &format!("lgtm_bench_calls_total{{run_id=\"{id}\",path=\"mimir.write\",class=\"success\"}}"));
    let successes: u64 = intervals.counts.iter().filter_map(|c| c.paths.get("mimir.write")?.outcomes.get("success")).sum();
    assert_eq!(total.last().map(|s| s.1), Some(successes as f64));
}

#[tokio::test]
async fn an_export_target_that_does_not_take_remote_write_is_refused_before_the_run() {
    let target = Prometheus::start();
    let not_a_receiver = format!("{}/api/v1/query", target.base());
    let (code, printed, report) = support::run_binary_with(&scenario(&target.base()), &["--export-metrics", &not_a_receiver]).await;
    assert_eq!(code, Some(4), "{printed}");
    assert!(printed.contains("is it a remote-write endpoint"), "{printed}");
    assert!(report.is_none(), "no run");
    let (code, printed, _) = support::run_binary_with(&scenario(&target.base()), &["--export-metrics", "http://127.0.0.1:1/api/v1/write"]).await;
    assert_eq!(code, Some(3), "{printed}");
    assert!(printed.contains("did not answer"), "{printed}");
}

/// The same from the scenario's `[export]` section (its url, a tenant of its own and queue
/// settings), without a flag; a bad section is refused with its key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_section_streams_without_a_flag_and_is_validated() {
    let target = Prometheus::start();
    let watcher = Prometheus::start();
    let section = format!("[export]\nurl = \"{}/api/v1/write\"\ntenant = \"figures\"\n[export.queue]\nmax_samples_per_send = 5\n", watcher.base());
    let (code, printed, report) = support::run_binary(&format!("{}{section}", scenario(&target.base()))).await;
    assert_eq!(code, Some(0), "{printed}");
    let id = report.unwrap().run.id;
    assert!(printed.contains("exporting each interval's figures to"), "{printed}");
    let calls = samples(&watcher, &format!("lgtm_bench_interval_calls{{run_id=\"{id}\",path=\"mimir.write\",class=\"all\"}}"));
    assert!(!calls.is_empty(), "{printed}");
    let (code, printed, _) = support::run_binary(&format!("{}{}", scenario(&target.base()), section.replace("= 5", "= 0"))).await;
    assert_eq!(code, Some(2), "{printed}");
    assert!(printed.contains("export.queue.max_samples_per_send"), "{printed}");
}
