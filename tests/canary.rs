//! `lgtm-bench canary` against a real Prometheus, with a second real Prometheus scraping its
//! `/metrics`: what the scraper holds equals the canary's own results (calls by class, samples
//! written and acknowledged, nothing lost), each objective's state is there, and SIGTERM stops it
//! with its results written.

mod support;

use std::time::Duration;
use support::prometheus::Prometheus;

fn scenario(target: &str) -> String {
    format!(
        r#"
objectives = ["mimir.write p99 < 1s", "mimir.write error_ratio < 1%", "mimir.visibility lost == 0"]
[run]
name = "canary"
warmup = "1s"
results_interval = "1s"
progress_interval = "1s"
[mimir]
write_url = "{target}/api/v1/write"
query_url = "{target}"
[mimir.write]
rate = 10
[mimir.write.queue]
batch_send_deadline = "200ms"
[mimir.write.series]
active = 200
samples_per_request = 100
[mimir.visibility]
sample_every = 5
poll_interval = "100ms"
deadline = "5s"
"#
    )
}

/// The scraper's value of `query` (one number), if it has one.
fn scalar(prom: &Prometheus, query: &str) -> Option<f64> {
    prom.query(query)["data"]["result"][0]["value"][1].as_str().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_scraped_by_prometheus_shows_what_its_results_say() {
    let target = Prometheus::start();
    let port = support::free_port();
    let scrape =
        format!("scrape_configs:\n  - job_name: lgtm-bench-canary\n    scrape_interval: 1s\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n");
    let scraper = Prometheus::start_with(tempfile::tempdir().unwrap(), support::free_port(), &scrape);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("canary.toml");
    std::fs::write(&file, scenario(&target.base())).unwrap();
    let out = dir.path().join("results");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["canary", file.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}"), "--duration", "8s", "--linger", "--window", "1m"])
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The results are written when the bounded run ends; the canary then keeps serving (--linger).
    let mut results = None;
    for _ in 0..300 {
        results = std::fs::read_dir(&out).ok().and_then(|d| d.map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")));
        if results.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let report = lgtm_bench::report::json::read(&results.expect("the canary's results file")).unwrap();
    let intervals = report.intervals.as_ref().unwrap();
    let sum = |path: &str, f: &dyn Fn(&lgtm_bench::report::intervals::IntervalPath) -> u64| -> f64 {
        intervals.counts.iter().filter_map(|c| c.paths.get(path)).map(f).sum::<u64>() as f64
    };
    let successes = sum("mimir.write", &|p| p.outcomes.get("success").copied().unwrap_or(0));
    assert!(successes > 0.0);
    // The scraper catches up with the last interval (a scrape a second; bounded).
    let query = r#"sum(lgtm_bench_requests_total{job="lgtm-bench-canary",path="mimir.write",class="success"})"#;
    let mut seen = None;
    for _ in 0..100 {
        seen = scalar(&scraper, query);
        if seen == Some(successes) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen, Some(successes), "the scraped count of successful writes equals the results file's");
    let written = sum("mimir.write", &|p| p.counters.items_ok);
    assert_eq!(scalar(&scraper, r#"sum(lgtm_bench_items_total{path="mimir.write",result="ok"})"#), Some(written), "samples written and acknowledged");
    let read_back = sum("mimir.visibility", &|p| p.outcomes.get("success").copied().unwrap_or(0));
    assert!(read_back > 0.0);
    assert_eq!(scalar(&scraper, r#"sum(lgtm_bench_requests_total{path="mimir.visibility",class="success"})"#), Some(read_back));
    assert_eq!(scalar(&scraper, r#"sum(lgtm_bench_requests_total{path="mimir.visibility",class="lost"}) or vector(0)"#), Some(0.0), "nothing lost");
    assert_eq!(scalar(&scraper, r#"lgtm_bench_objective_passing{objective="mimir.visibility lost == 0"}"#), Some(1.0));
    assert!(
        scalar(&scraper, r#"sum(lgtm_bench_request_duration_seconds_count{path="mimir.write"})"#).is_some_and(|n| n > 0.0),
        "the latency histogram is scraped"
    );
    // SIGTERM stops it: exit 0, the results already written.
    let pid = child.id().unwrap();
    std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("stops on SIGTERM").unwrap();
    assert_eq!(status.code(), Some(0));
}
