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
[mimir.memory]
budget = "1Gi"
interval = "1s"
metrics_urls = ["{target}/metrics"]
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
    let scraper = Prometheus::start_with(tempfile::tempdir().unwrap(), support::prometheus::FREE_PORT, &scrape);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("canary.toml");
    std::fs::write(&file, scenario(&target.base())).unwrap();
    let out = dir.path().join("results");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["canary", file.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}"), "--duration", "8s", "--linger", "--window", "1m"])
        .args(["--ages", "2s", "--reread-every", "500ms"])
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
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
    assert_eq!(
        scalar(&scraper, r#"sum(lgtm_bench_request_duration_seconds_count{path="mimir.write",class="success"})"#),
        Some(successes),
        "the latency histogram of successful writes holds every one of them"
    );
    // A run exports its intervals into the same Prometheus; then every panel of the shipped
    // dashboard, interpolated as Grafana does, returns data.
    let export = format!("{}/api/v1/write", scraper.base());
    let (code, printed, _) =
        support::run_binary_with(&scenario(&target.base()).replace("warmup = \"1s\"", "warmup = \"1s\"\nduration = \"3s\""), &["--export-metrics", &export])
            .await;
    assert!(code == Some(0) || code == Some(1), "{printed}");
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kubernetes/apps/monitoring/lgtm-bench/canary/dashboards/lgtm-bench-canary.json");
    let spec: lgtm_bench::grafana::spec::DashboardSpec =
        toml::from_str(&format!("file = {:?}\nrange = \"5m\"\nscrape_interval = \"1s\"", file.display().to_string())).unwrap();
    let d = lgtm_bench::targets::mimir::dashboards::plan(&spec).unwrap();
    let chosen = d.saved_variables();
    let mut asked = 0;
    for p in d.panels.iter().filter(|p| p.skipped.is_none()) {
        for (query, _) in d.queries(&p.panel, &chosen) {
            let answer = scraper.query(&query);
            assert_eq!(answer["status"], "success", "{}: {query}: {answer}", p.slug);
            assert!(answer["data"]["result"].as_array().is_some_and(|r| !r.is_empty()), "{}: `{query}` returns no data: {answer}", p.slug);
            asked += 1;
        }
    }
    assert!(asked >= 12, "every panel's queries asked: {asked}");
    // SIGTERM stops it: exit 0, the results already written.
    let pid = child.id().unwrap();
    std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("stops on SIGTERM").unwrap();
    assert_eq!(status.code(), Some(0));
}

/// The canary's own figure `name{labels…}` from its `/metrics` (0 when absent).
fn own(port: u16, name: &str, labels: &[(&str, &str)]) -> f64 {
    let out = std::process::Command::new("curl").args(["-fsS", &format!("http://127.0.0.1:{port}/metrics")]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Polls the canary until `done` holds (bounded: the test fails instead of hanging).
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never came: {what}");
}

/// Long-horizon read-back: what the canary wrote is asked for again at ages 2s and 5s. A
/// restart of the target on its data is seen (failed writes) and what was written before it is
/// found after it; a target started afresh on an empty data folder has lost what was written
/// before, and the canary counts it lost in the age bands that reach back before the wipe, every
/// lost sample one written before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_rereads_old_data_through_a_restart_and_counts_a_wipe_as_lost() {
    let target = Prometheus::start();
    let base = target.base();
    let port = support::free_port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("canary.toml");
    let text = scenario(&base).replace("batch_send_deadline = \"200ms\"", "batch_send_deadline = \"200ms\"\nmin_backoff = \"50ms\"\nmax_backoff = \"200ms\"");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("results");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["canary", file.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}"), "--ages", "2s,5s,16d", "--max-age", "20d"])
        .args(["--reread-every", "500ms", "--out", out.to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let found = |band: &str| own(port, "lgtm_bench_reread_total", &[("age_band", band), ("result", "found")]);
    let lost = |band: &str| own(port, "lgtm_bench_lost_total", &[("age_band", band)]);
    until("data 5s old found", || found("5s") >= 3.0).await;
    assert_eq!((lost("2s"), lost("5s")), (0.0, 0.0), "nothing lost while the target runs");

    // A restart on the same data: writes fail meanwhile (seen), what was written before is there after.
    let (data, prom_port) = target.stop();
    until("writes failing while the target is down", || {
        own(port, "lgtm_bench_requests_total", &[("path", "mimir.write"), ("class", "connection_failure")]) > 0.0
    })
    .await;
    let target = Prometheus::start_in(data, prom_port);
    let before = found("5s");
    until("data from before the restart found after it", || found("5s") >= before + 8.0).await;
    assert_eq!((lost("2s"), lost("5s")), (0.0, 0.0), "a restart loses nothing");

    // A wipe: the target back on an empty data folder. What was written before it is lost.
    let (_old, prom_port) = target.stop();
    let wiped_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let _fresh = Prometheus::start_in(tempfile::tempdir().unwrap(), prom_port);
    until("data from before the wipe lost at 5s", || lost("5s") >= 3.0).await;
    let pid = child.id().unwrap();
    std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let o = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.expect("stops on SIGTERM").unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lost_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("canary: LOST at age")).collect();
    assert!(lost_lines.len() >= 3, "{stderr}");
    // Prometheus keeps 15 days (its default, as its runtime information says): 16d is never asked.
    assert!(
        stderr.contains(r#"canary: mimir keeps data 15d (storageRetention "15d", from /api/v1/status/runtimeinfo): ages 16d are not asked of mimir"#),
        "{stderr}"
    );
    for line in lost_lines {
        let at = line.rsplit(" at ").next().unwrap();
        let ms = chrono::DateTime::parse_from_rfc3339(at).unwrap_or_else(|e| panic!("{at}: {e}")).timestamp_millis();
        assert!(ms < wiped_at, "only what was written before the wipe is lost: {line}");
    }
    // The state file knows this run, for a restarted canary.
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("canary.state")).unwrap()).unwrap();
    assert_eq!(state["runs"].as_array().unwrap().len(), 1);
}

/// The canary's own restart: the state file keeps its runs, so a new canary on the same scenario
/// re-reads what the stopped one wrote (and says so), while writing anew under its own run id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_canary_rereads_what_its_earlier_run_wrote() {
    let target = Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("canary.toml");
    std::fs::write(&file, scenario(&target.base())).unwrap();
    let out = dir.path().join("results");
    let start = |port: u16| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
            .args(["canary", file.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}"), "--ages", "3s", "--max-age", "1h"])
            .args(["--reread-every", "500ms", "--out", out.to_str().unwrap(), "--quiet"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let stop = |child: &tokio::process::Child| {
        std::process::Command::new("kill").args(["-TERM", &child.id().unwrap().to_string()]).status().unwrap();
    };
    let first_port = support::free_port();
    let first = start(first_port);
    until("the first run's data 3s old found", || own(first_port, "lgtm_bench_reread_total", &[("age_band", "3s"), ("result", "found")]) >= 2.0).await;
    stop(&first);
    let o = first.wait_with_output().await.unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let second_port = support::free_port();
    let mut second = start(second_port);
    let mut stderr = second.stderr.take().unwrap();
    let mut log = String::new();
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    // Its log says what it found of the earlier run (read until then; bounded by the canary's own reads).
    let found_earlier = tokio::time::timeout(Duration::from_secs(30), async {
        while !log.contains("found what the earlier run") {
            let n = stderr.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            log.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await;
    assert!(found_earlier.is_ok() && log.contains("1 earlier run(s) of this scenario to re-read"), "{log}");
    // Its own run joins the state once its clock start is known (its first closed interval).
    let runs = || {
        std::fs::read_to_string(out.join("canary.state"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .map_or(0, |s| s["runs"].as_array().map_or(0, Vec::len))
    };
    until("both runs in the state", || runs() == 2).await;
    assert_eq!(own(second_port, "lgtm_bench_lost_total", &[]), 0.0);
    stop(&second);
    let _ = second.wait().await;
}

/// Tempo's long-horizon read-back, on the in-process receiver and query API (answering as Tempo
/// 3.x): each trace written 2 s earlier is asked for by ID and found whole against its own shape
/// (a mix of two shapes); then the query API forgets every trace and the same ages count them lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_rereads_traces_by_id_and_counts_forgotten_ones_lost() {
    use support::otlp_receiver::{serve_query_api, Answer, Receiver};
    let receiver = Receiver::start(vec![Answer::Ok]).await;
    let (query_port, _api) = serve_query_api(receiver.shared.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("canary.toml");
    let text = format!(
        "[run]\nname = \"tempo-canary\"\nwarmup = \"1s\"\nresults_interval = \"1s\"\nprogress_interval = \"1s\"\n[tempo]\notlp_url = \"{}\"\nquery_url = \"http://127.0.0.1:{query_port}\"\n[tempo.connection]\ntenant = \"bench\"\n[tempo.write]\nrate = 20\nspans_per_request = 7\n[tempo.traces]\ndepth = 3\nfanout = 2\n[[tempo.traces.variants]]\nshare = 1\n[[tempo.traces.variants]]\nshare = 1\ndepth = 2\n",
        receiver.url()
    );
    std::fs::write(&file, text).unwrap();
    let port = support::free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["canary", file.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}"), "--ages", "2s", "--max-age", "1h", "--reread-every", "300ms"])
        .args(["--out", dir.path().join("results").to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let found = || own(port, "lgtm_bench_reread_total", &[("target", "tempo"), ("age_band", "2s"), ("result", "found")]);
    until("traces 2s old found whole", || found() >= 4.0).await;
    assert_eq!(own(port, "lgtm_bench_lost_total", &[("target", "tempo")]), 0.0);
    receiver.shared.forget_traces();
    until("forgotten traces counted lost", || own(port, "lgtm_bench_lost_total", &[("target", "tempo"), ("age_band", "2s")]) >= 2.0).await;
    std::process::Command::new("kill").args(["-TERM", &child.id().unwrap().to_string()]).status().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.unwrap().unwrap().status;
    assert_eq!(status.code(), Some(0));
}
