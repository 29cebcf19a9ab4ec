//! Verdicts at the edges, against a real Prometheus (started per test on loopback), with faults put
//! in between by a TCP proxy: a run that could not deliver its plan fails, every planned call ends
//! in exactly one class whatever the connection does, and a scenario without write load still runs
//! its full time. No timing thresholds: counts, and figures relative to the plan's own truth.

mod support;

use lgtm_bench::report::Report;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use support::fault_proxy::{FaultProxy, Mode};
use support::prometheus::Prometheus;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lgtm-bench");

/// These tests each run a real Prometheus and the binary at full rate: one at a time, so that on a
/// small machine none measures the others' load.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
    report: Option<Report>,
}

/// Runs the binary on `scenario` with results into a fresh folder.
async fn run(dir: &Path, scenario: &str, extra: &[&str]) -> Ran {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join("results");
    let mut args = vec!["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    let o = Command::new(BIN).args(&args).stdin(Stdio::null()).output().await.unwrap();
    let files: Vec<PathBuf> =
        std::fs::read_dir(&out).map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect()).unwrap_or_default();
    let report = files.first().map(|f| lgtm_bench::report::json::read(f).unwrap());
    Ran { code: o.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&o.stdout).into(), stderr: String::from_utf8_lossy(&o.stderr).into(), report }
}

/// A run of the binary under way: started on `file`, and read up to the first progress line that
/// shows measured calls of `path`.
struct Running {
    child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    out: PathBuf,
}

impl Running {
    async fn start(file: &Path, out: &Path, path: &str) -> Running {
        let mut child = Command::new(BIN)
            .args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with('[') && !line.contains("warm-up") && line.contains(path) {
                break;
            }
        }
        Running { child, lines, out: out.to_path_buf() }
    }

    /// Reads the rest of the run: its stderr, stdout, exit code and results.
    async fn finish(mut self) -> Ran {
        let mut stderr = String::new();
        while let Some(line) = self.lines.next_line().await.unwrap() {
            stderr += &line;
            stderr.push('\n');
        }
        let o = self.child.wait_with_output().await.unwrap();
        let files: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect())
            .unwrap_or_default();
        let report = files.first().map(|f| lgtm_bench::report::json::read(f).unwrap());
        Ran { code: o.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&o.stdout).into(), stderr, report }
    }
}

/// Writes only, at `rate` requests per second with at most `in_flight` in flight.
fn writes(base: &str, rate: u32, in_flight: u32) -> String {
    format!(
        r#"
objectives = ["mimir.write error_ratio < 0.1%"]
[run]
name = "edge"
warmup = "1s"
duration = "3s"
progress_interval = "500ms"
drain_timeout = "2s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.connection]
timeout = "2s"
[mimir.write]
rate = {rate}
max_in_flight = {in_flight}
connections = 1
[mimir.write.series]
active = 40
samples_per_request = 20
"#
    )
}

async fn prometheus() -> Prometheus {
    tokio::task::spawn_blocking(Prometheus::start).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_that_was_never_sent_fails_the_verdict() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = prometheus().await;
    // Every answer takes 200 ms; the plan wants 20 writes a second with one in flight: at most 5 fit.
    let proxy = FaultProxy::start(prom.port, Mode::Slow(Duration::from_millis(200))).await;
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &writes(&proxy.base(), 20, 1), &[]).await;
    let report = r.report.expect("results are written");
    let w = &report.paths["mimir.write"];
    let planned = w.planned_calls.unwrap();
    assert_eq!(planned, 60);
    assert!(w.counters.skipped > 0, "the in-flight bound was reached: {w:?}");
    assert_eq!(w.calls + w.counters.skipped + w.counters.abandoned, planned, "every planned call ends in exactly one place");
    assert_eq!(w.error_ratio, Some(0.0), "the target answered every call it was sent");
    let skipped = report.verdict.objectives.iter().find(|o| o.objective == "mimir.write skipped == 0").expect("implied");
    assert!(!skipped.passed);
    assert!(!report.verdict.passed);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains(&format!("planned {planned}, sent {}", planned - w.counters.skipped)), "{}", r.stdout);
    assert!(r.stdout.contains("raise max_in_flight or lower the rate"), "{}", r.stdout);
    // The target held the plan back (200 ms × 20/s needs 4 in flight, 1 is allowed), not the
    // generator, whose CPU was idle: the report names the target, with the figures.
    let g = report.generator.as_ref().expect("the generator's own figures");
    assert!(g.cpu_seconds > 0.0 && g.wall_seconds > 3.0);
    assert!(g.limited_by.is_empty(), "{g:?}");
    assert_eq!(g.target_fell_behind.len(), 1, "{g:?}");
    let why = &g.target_fell_behind[0];
    assert!(why.contains("skipped at the in-flight bound") && why.contains("late (p99)") && why.contains("needs 4 in flight, 1 allowed"), "{why}");
    assert!(w.lateness.as_ref().unwrap().p99_us.unwrap() > 10_000);
    assert!(r.stdout.contains("verdict: FAIL (TARGET DID NOT KEEP UP"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_may_state_its_own_bound_on_skipped_calls() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = prometheus().await;
    let proxy = FaultProxy::start(prom.port, Mode::Slow(Duration::from_millis(200))).await;
    let dir = tempfile::tempdir().unwrap();
    let text = writes(&proxy.base(), 20, 1).replace(r#"objectives = ["#, r#"objectives = ["mimir.write skipped <= 60", "#);
    let r = run(dir.path(), &text, &[]).await;
    let report = r.report.unwrap();
    let judged: Vec<&str> = report.verdict.objectives.iter().map(|o| o.objective.as_str()).collect();
    assert!(!judged.contains(&"mimir.write skipped == 0"), "the stated bound replaces the implied one: {judged:?}");
    assert!(report.verdict.objectives.iter().any(|o| o.objective == "mimir.write skipped <= 60" && o.passed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_end_every_call_in_exactly_one_class() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = prometheus().await;
    let proxy = FaultProxy::start(prom.port, Mode::Reset).await;
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &writes(&proxy.base(), 20, 4), &["--set", "mimir.write.series.active=40"]).await;
    // The preflight meets the reset target first: it is unreachable, and no load was sent.
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.report.is_none());
    // Resets that begin once the run is under way are counted, never panics.
    let proxy = FaultProxy::start(prom.port, Mode::Pass).await;
    let scenario = writes(&proxy.base(), 20, 4);
    let file = dir.path().join("resets.toml");
    std::fs::write(&file, &scenario).unwrap();
    let out = dir.path().join("resets");
    // Once a progress line shows measured writes, every connection is reset.
    let running = Running::start(&file, &out, "mimir.write").await;
    proxy.set(Mode::Reset);
    let r = running.finish().await;
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let report = r.report.expect("results are written");
    let w = &report.paths["mimir.write"];
    assert_eq!(w.calls + w.counters.skipped + w.counters.abandoned, w.planned_calls.unwrap(), "{w:?}");
    assert!(w.count(lgtm_bench::stats::OutcomeClass::ConnectionFailure) > 0, "{w:?}");
    assert_eq!(r.code, 1, "connection failures fail the error objective");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_only_scenario_runs_its_full_time() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = prometheus().await;
    let dir = tempfile::tempdir().unwrap();
    let base = prom.base();
    let text = format!(
        r#"
objectives = ["mimir.query error_ratio < 1%"]
[run]
name = "queries-only"
warmup = "1s"
duration = "3s"
drain_timeout = "1s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.query_load]
concurrency = 2
[[mimir.queries]]
name = "up"
query = "vector(1)"
"#
    );
    let r = run(dir.path(), &text, &[]).await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let report = r.report.unwrap();
    assert_eq!(report.run.measured_seconds, 3.0, "the whole planned phase was measured");
    let q = &report.paths["mimir.query"];
    assert!(q.calls > 0);
    assert_eq!(q.achieved_rate, Some(q.calls as f64 / 3.0));
    assert!(!r.stdout.contains("rate        -"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_carries_every_label_value() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = prometheus().await;
    let dir = tempfile::tempdir().unwrap();
    let base = prom.base();
    // Two metrics and cardinalities that share a factor with them: the case where the digits of the
    // series index used to overlap (each metric saw half the pods).
    let text = format!(
        r#"
[run]
name = "cardinality"
warmup = "0s"
duration = "1s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
rate = 4
[mimir.write.series]
active = 48
samples_per_request = 48
metrics = ["lgtm_card_a_total", "lgtm_card_b_total"]
labels = [{{ name = "pod", cardinality = 4 }}, {{ name = "zone", cardinality = 6 }}]
"#
    );
    let r = run(dir.path(), &text, &[]).await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let run_id = r.report.unwrap().run.id;
    for metric in ["lgtm_card_a_total", "lgtm_card_b_total"] {
        for (label, cardinality) in [("pod", "4"), ("zone", "6")] {
            let q = format!("count(count by ({label}) ({metric}{{lgtm_bench_run=\"{run_id}\"}}))");
            assert_eq!(prom.query(&q)["data"]["result"][0]["value"][1], cardinality, "{q}");
        }
        assert_eq!(prom.query(&format!("count({metric}{{lgtm_bench_run=\"{run_id}\"}})"))["data"]["result"][0]["value"][1], "24");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_bypass_the_results_cache_unless_allowed() {
    let _one = ONE_AT_A_TIME.lock().await;
    use support::replay::{Canned, ReplayServer};
    let fixture = support::fixtures::all("mimir").into_iter().find(|(name, _)| name.starts_with("query-instant-ok")).expect("fixture").1;
    let server = ReplayServer::start(vec![Canned::from_fixture(&fixture)]).await;
    let base = server.base();
    let text = format!(
        r#"
[run]
name = "cache"
warmup = "0s"
duration = "1s"
[mimir]
write_url = "{base}/api/v1/push"
query_url = "{base}"
query_prefix = "/prometheus"
[mimir.query_load]
rate = 10
max_in_flight = 2
[[mimir.queries]]
name = "cold"
query = "sum(up)"
[[mimir.queries]]
name = "warm"
query = "count(up)"
cache = "allow"
[[mimir.queries]]
name = "mine"
query = 'sum({{lgtm_bench_run="$run_id"}})'
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &text, &[]).await;
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let queries: Vec<_> = server.received().into_iter().filter(|q| q.uri.contains("query=") && !q.uri.contains("vector")).collect();
    assert_eq!(queries.len(), 10);
    let run_id = r.report.as_ref().unwrap().run.id.clone();
    assert!(queries.iter().any(|q| q.uri.contains(&format!("lgtm_bench_run%3D%22{run_id}%22"))), "$run_id is this run's id");
    assert!(!queries.iter().any(|q| q.uri.contains("%24run_id")));
    for q in queries {
        let no_store = q.headers.get("cache-control").is_some_and(|v| v == "no-store");
        assert_eq!(no_store, q.uri.contains("sum"), "{} {:?}", q.uri, q.headers);
    }
    let v = Command::new(BIN).args(["validate", dir.path().join("scenario.toml").to_str().unwrap()]).output().await.unwrap();
    let shown = String::from_utf8_lossy(&v.stdout);
    assert!(shown.contains("results cache bypass") && shown.contains("results cache allow"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_goes_down_is_not_hammered_and_the_outage_is_shown() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = prometheus().await;
    let proxy = FaultProxy::start(prom.port, Mode::Pass).await;
    let base = proxy.base();
    let text = format!(
        r#"
[run]
name = "down"
warmup = "0s"
duration = "4s"
progress_interval = "500ms"
drain_timeout = "1s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.connection]
timeout = "2s"
connect_timeout = "1s"
[mimir.query_load]
concurrency = 4
[[mimir.queries]]
name = "up"
query = "vector(1)"
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("down.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("r");
    let running = Running::start(&file, &out, "mimir.query").await;
    // The target goes down for the rest of the run: every connection is refused with a reset.
    proxy.set(Mode::Reset);
    let before = proxy.accepted();
    let r = running.finish().await;
    let attempts = proxy.accepted() - before;
    // Four workers backing off from 100 ms, doubling: a handful of attempts each, not thousands.
    assert!(attempts <= 4 * 8, "{attempts} connection attempts while the target was down");
    let report = r.report.expect("results are written");
    let q = &report.paths["mimir.query"];
    let failed = q.count(lgtm_bench::stats::OutcomeClass::ConnectionFailure);
    assert!(failed > 0 && failed <= 4 * 8, "failed calls are bounded like the attempts: {failed} (attempts on new connections {attempts})");
    let (from, until) = (q.counters.connection_failures_from_s.unwrap(), q.counters.connection_failures_until_s.unwrap());
    assert!(from <= until && until <= 4.0 + 1.0, "{from} {until}");
    assert!(r.stdout.contains("unreachable: connection failures from"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_in_the_latency_as_the_schedule_says_it_must() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = prometheus().await;
    let proxy = FaultProxy::start(prom.port, Mode::Pass).await;
    let base = proxy.base();
    let rate = 100.0;
    let text = format!(
        r#"
[run]
name = "stall"
warmup = "1s"
duration = "4s"
progress_interval = "500ms"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
rate = {rate}
max_in_flight = 512
connections = 1
[mimir.write.series]
active = 100
samples_per_request = 10
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stall.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("r");
    let running = Running::start(&file, &out, "mimir.write").await;
    // The fault itself: every answer is held for one second, then released.
    let stalled_at = std::time::Instant::now();
    proxy.set(Mode::Stall);
    tokio::time::sleep(Duration::from_secs(1)).await;
    proxy.set(Mode::Pass);
    let stall = stalled_at.elapsed().as_secs_f64();
    let r = running.finish().await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.report.expect("results are written");
    let w = &report.paths["mimir.write"];
    assert_eq!((w.calls, w.counters.skipped), (w.planned_calls.unwrap(), 0), "every planned write was sent");
    // The schedule's truth: a call planned k/rate seconds into the stall waits until it ends, from
    // its intended time (however long it was held); every other call takes about the usual time.
    let usual = w.latency.p50_us.unwrap() as f64 / 1e6;
    let stalled = (stall * rate).round() as usize;
    let mut expected: Vec<f64> = (0..stalled).map(|k| stall - (k as f64 + 0.5) / rate).collect();
    expected.resize(w.calls as usize, usual);
    expected.sort_by(|a, b| b.total_cmp(a));
    let histogram = w.latency.decode().unwrap();
    for q in [0.9, 0.95, 0.99, 0.999] {
        let rank = ((1.0 - q) * w.calls as f64).floor() as usize;
        let want = expected[rank];
        let got = histogram.value_at_quantile(q) as f64 / 1e6;
        assert!((got - want).abs() <= 0.1 * want, "p{}: written {got:.3}s, the schedule says {want:.3}s\n{}", q * 100.0, r.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deliberate_slowdown_is_a_regression_with_its_interval() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = prometheus().await;
    let proxy = FaultProxy::start(prom.port, Mode::Pass).await;
    // Five baseline runs (their spread is the noise), then one run with every answer held 20 ms
    // longer: several times the usual loopback latency. With three baseline runs and a 5 ms delay
    // a loaded CI host (baseline runs varying ±16%) left the t-test on 2 degrees of freedom at
    // p = 0.051 after Holm's adjustment: the gate rightly said "no significant change" then, so the
    // test gives it enough runs and a change that noise cannot hide.
    let text = writes(&proxy.base(), 20, 8);
    let mut baseline = Vec::new();
    for _ in 0..5 {
        let d = tempfile::tempdir().unwrap();
        baseline.push(run(d.path(), &text, &[]).await.report.unwrap());
    }
    proxy.set(Mode::Slow(Duration::from_millis(20)));
    let slow_dir = tempfile::tempdir().unwrap();
    let slow = run(slow_dir.path(), &text, &[]).await.report.unwrap();
    let c = lgtm_bench::report::compare::compare_groups(&baseline.iter().collect::<Vec<_>>(), &[&slow], lgtm_bench::report::compare::Tolerance::default());
    assert!(c.comparable, "{:?}", c.warnings);
    let p50 = c.changes.iter().find(|ch| ch.path == "mimir.write" && ch.stat == "p50").unwrap();
    assert!(p50.regressed, "{p50:?}");
    let [est, lo, _] = p50.change.expect("judged on the runs");
    assert!(lo > 0.2 && est > lo && est > p50.spread.unwrap() && p50.p_value.unwrap() < 0.05, "{p50:?}");
    assert!(p50.shown.contains("p50 +") && p50.shown.contains("baseline runs vary ±") && p50.shown.contains("5 baseline runs and 1 run"), "{}", p50.shown);
    eprintln!("{}", lgtm_bench::report::compare::render(&c));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_host_is_named_and_its_figures_not_trusted() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = prometheus().await;
    // Other processes' work: one spinning thread per CPU for as long as the run lasts (it ends with it).
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let burners: Vec<_> = (0..std::thread::available_parallelism().map_or(2, |n| n.get()))
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 1u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &writes(&prom.base(), 5, 8), &[]).await;
    stop.store(true, Ordering::Relaxed);
    burners.into_iter().for_each(|b| b.join().unwrap());
    let g = r.report.expect("results are written").generator.expect("the generator's figures");
    assert_eq!(g.host_busy.len(), 1, "{g:?}\n{}", r.stdout);
    assert!(g.host_busy[0].starts_with("host busy: the machine's") && g.host_busy[0].contains("not trustworthy"), "{g:?}");
    assert!(g.target_fell_behind.is_empty() && g.limited_by.is_empty(), "the target and the generator are not blamed: {g:?}");
    assert!(r.stdout.contains("HOST BUSY: host busy") && r.stdout.contains("(HOST BUSY: other processes saturated the machine"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_bound_generator_is_named_and_the_target_not_blamed() {
    let _one = ONE_AT_A_TIME.lock().await;
    // A target that answers at once without reading what it gets, and a generator pinned to one
    // core asked for far more than one core builds and sends: 2,000 requests/s of 2,000 samples.
    let sink = lgtm_bench::engine::sink::Sink::start().await.unwrap();
    let text = format!(
        r#"
[run]
name = "cpu-bound"
warmup = "1s"
duration = "2s"
progress_interval = "500ms"
drain_timeout = "2s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
rate = 2000
max_in_flight = 64
connections = 1
[mimir.write.series]
active = 20000
samples_per_request = 2000
"#,
        base = sink.url()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("results");
    let o = Command::new("taskset")
        .args(["-c", "0", BIN, "run", file.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("taskset (util-linux) runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let results: Vec<PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    let g = lgtm_bench::report::json::read(&results[0]).unwrap().generator.expect("the generator's figures");
    assert_eq!(g.cores, 1, "pinned to one core");
    assert!(g.limited_by.first().is_some_and(|w| w.contains("of its 1 core(s): it was CPU-bound")), "{g:?}\n{stdout}");
    assert!(g.target_fell_behind.is_empty() && g.host_busy.is_empty(), "neither the target nor the host is blamed: {g:?}");
    assert!(stdout.contains("(GENERATOR-LIMITED: the generator held the plan back"), "{stdout}");
}
