//! Memory budgets and restarts: the recorded `/metrics` of real Tempo and Cortex parse; the
//! cluster path reads container working sets and OOM kills; a real Prometheus is scraped during a
//! run, and a restart of it mid-run is detected and fails the run.

mod support;

use lgtm_bench::client::http::HttpTarget;
use lgtm_bench::client::promql::PromApi;
use lgtm_bench::engine::runner::{self, RunOptions};
use lgtm_bench::scenario::{ClusterMemory, Connection};
use lgtm_bench::stats::OutcomeClass;
use lgtm_bench::stats::PathTable;
use lgtm_bench::watch::exposition;
use lgtm_bench::watch::scrape::{ClusterProbe, MemoryWatch};
use lgtm_bench::watch::{MemoryEvent, MemoryKind};
use lgtm_bench::workload::{RunClock, Ticket, Workload};
use support::prometheus::Prometheus;
use support::replay::{Canned, ReplayServer};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[test]
fn recorded_metrics_of_real_tempo_and_cortex_parse() {
    for target in ["tempo", "mimir"] {
        let (_, f) = support::fixtures::all(target).into_iter().find(|(n, _)| n == "metrics").unwrap();
        let text = String::from_utf8(support::fixtures::response_body(&f)).unwrap();
        let figures = exposition::parse(&text).unwrap_or_else(|e| panic!("{target}: {e}"));
        assert!(figures.resident_bytes > 1e6, "{target}");
        assert!(figures.heap_inuse_bytes.unwrap() > 1e6, "{target}");
        let expected_counter = if target == "tempo" { "tempo_distributor_spans_received_total" } else { "cortex_discarded_samples_total" };
        assert!(figures.counters.contains_key(expected_counter), "{target}: {:?}", figures.counters);
    }
}

fn vector(pod: &str, value: f64) -> Canned {
    Canned::new(200, format!(r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"pod":"{pod}"}},"value":[1,"{value}"]}}]}}}}"#))
}

#[tokio::test]
async fn the_cluster_path_reads_working_sets_and_reports_an_oom_kill() {
    // Per tick the probe asks: working set, restarts, last termination reason.
    let server = ReplayServer::start(vec![
        vector("mimir-ingester-0", 100e6),
        vector("mimir-ingester-0", 0.0),
        vector("mimir-ingester-0", 0.0),
        vector("mimir-ingester-0", 300e6),
        vector("mimir-ingester-0", 1.0),
        vector("mimir-ingester-0", 1.0),
    ])
    .await;
    let spec = ClusterMemory {
        query_url: server.base(),
        query_prefix: String::new(),
        connection: Connection::default(),
        namespace: "monitoring".into(),
        pod_regex: "mimir-.*".into(),
        container: Some("ingester".into()),
    };
    let api = PromApi::new(HttpTarget::new(&Connection::default(), 1).unwrap(), &server.base(), "");
    let (log, mut events) = tokio::sync::mpsc::unbounded_channel();
    let watch = MemoryWatch {
        target: "mimir".into(),
        http: HttpTarget::new(&Connection::default(), 1).unwrap(),
        urls: vec![],
        cluster: Some(ClusterProbe { api, spec }),
        path: PathTable::default().register("mimir.memory.scrape"),
        log,
        clock: RunClock::starting_at(Instant::now()),
    };
    let mut state = watch.new_state(0);
    for seq in 0..2 {
        let out = watch.call(&mut state, Ticket { seq, intended: Instant::now(), measured: true }).await;
        assert_eq!(out.class, OutcomeClass::Success);
    }
    drop(watch);
    let mut working_sets = vec![];
    let mut restarts = vec![];
    while let Some(e) = events.recv().await {
        match e {
            MemoryEvent::Sample { target, sample } if target == "mimir" => {
                assert_eq!(sample.kind, MemoryKind::ContainerWorkingSet);
                working_sets.push((sample.source, sample.bytes));
            }
            MemoryEvent::Restart { event, .. } => restarts.push(event),
            _ => {}
        }
    }
    assert_eq!(working_sets, [("mimir-ingester-0".to_string(), 100e6), ("mimir-ingester-0".to_string(), 300e6)]);
    assert_eq!(restarts.len(), 1);
    assert!(restarts[0].detail.starts_with("OOMKilled"), "{:?}", restarts[0]);
    let queries: Vec<String> = server.received().iter().map(|r| urlencoding_decode(&r.uri)).collect();
    assert!(queries[0].contains(r#"container_memory_working_set_bytes{namespace="monitoring",pod=~"mimir-.*",container="ingester""#), "{}", queries[0]);
    assert!(queries[1].contains("kube_pod_container_status_restarts_total"));
    assert!(queries[2].contains(r#"reason="OOMKilled""#));
}

fn urlencoding_decode(uri: &str) -> String {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn memory_section(base: &str) -> String {
    format!("[mimir.memory]\nbudget = \"1.5Gi\"\ninterval = \"300ms\"\nmetrics_urls = [\"{base}/metrics\"]\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_records_the_targets_memory_and_checks_its_budget() {
    let prom = Prometheus::start();
    let text = support::small_scenario("mem", &prom.base(), &memory_section(&prom.base()));
    let s = support::scenario(&text);
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { scenario_file: "mem".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
    let report = runner::run(&support::plan(&s), opts, CancellationToken::new()).await.unwrap().report;
    let m = &report.memory["mimir"];
    let rss: Vec<f64> = m.samples.iter().filter(|s| s.kind == MemoryKind::Rss).map(|s| s.bytes).collect();
    assert!(rss.len() >= 2, "one reading per 300ms over 3s: {}", rss.len());
    assert!(m.samples.iter().any(|s| s.kind == MemoryKind::HeapInuse));
    assert_eq!(m.checked, MemoryKind::Rss);
    assert_eq!(m.peak_bytes, rss.iter().copied().reduce(f64::max));
    assert_eq!(m.budget_bytes, Some(1610612736));
    assert!(m.restarts.is_empty());
    // The first reading is taken at the plan's start, before any load; growth is measured from it.
    let first = &m.samples[0];
    assert_eq!((first.at_seconds, first.kind), (0.0, MemoryKind::Rss));
    assert_eq!(m.before_load_bytes, Some(first.bytes));
    assert_eq!(m.growth_bytes, m.peak_bytes.map(|p| p - first.bytes));
    assert_eq!(m.growth_per_load_unit, m.growth_bytes.map(|g| g / 60.0), "growth per active series, not the whole RSS");
    assert_eq!(m.load_unit.as_deref(), Some("active series"));
    assert!(m.counter_increase["prometheus_tsdb_head_samples_appended_total"] > 0.0, "{:?}", m.counter_increase);
    assert!(!m.counter_increase.contains_key("prometheus_tsdb_head_series"), "a gauge is not a counter: {:?}", m.counter_increase);
    assert!(m.gauges_last["prometheus_tsdb_head_series"] >= 60.0, "{:?}", m.gauges_last);
    assert!(report.memory["generator"].peak_rss_bytes.unwrap() > 0.0);
    // The generator's CPU seconds are read beside its RSS at every interval, and only grow.
    let cpu: Vec<f64> = report.memory["generator"].samples.iter().filter(|s| s.kind == MemoryKind::CpuSeconds).map(|s| s.bytes).collect();
    assert_eq!(cpu.len(), rss.len(), "one CPU reading per memory reading");
    assert!(cpu.windows(2).all(|w| w[1] >= w[0]) && cpu.last() > cpu.first(), "{cpu:?}");
    let implied: Vec<&str> = report.verdict.objectives.iter().map(|o| o.objective.as_str()).filter(|o| o.starts_with("mimir.memory")).collect();
    assert_eq!(implied, ["mimir.memory peak <= 1.50Gi", "mimir.memory restarts == 0"]);
    assert!(report.verdict.passed, "{:?}", report.verdict);
    assert_eq!(report.paths["mimir.memory.scrape"].error_ratio, Some(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_run_is_detected_reported_and_fails_the_run() {
    let prom = tokio::task::spawn_blocking(Prometheus::start).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = support::small_scenario("restart", &prom.base(), &memory_section(&prom.base()));
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("r");
    let mut started = support::Started::spawn(&["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--set", "run.duration=120s"], &[]);
    started.wait_for(|line| line.starts_with('[') && line.contains("mimir mem")).await; // a first reading was taken
    let prom = tokio::task::spawn_blocking(move || {
        let (data, port) = prom.stop();
        Prometheus::start_in(data, port)
    })
    .await
    .unwrap();
    started.wait_for(|line| line.starts_with('[') && line.contains("RESTARTS 1")).await;
    let (code, summary, _) = started.interrupt().await;
    assert_eq!(code, Some(130));
    assert!(summary.contains("RESTART at") && summary.contains("FAIL mimir.memory restarts == 0"), "{summary}");
    let file = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    let report = lgtm_bench::report::json::read(&file).unwrap();
    let restarts = &report.memory["mimir"].restarts;
    assert_eq!(restarts.len(), 1);
    assert!(restarts[0].detail.contains("process_start_time_seconds changed"));
    assert!(restarts[0].source.contains(&prom.port.to_string()));
    assert!(!report.verdict.passed);
}
