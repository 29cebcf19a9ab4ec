//! Whole runs against a real Prometheus (Debian's package, started per test on loopback): the exact
//! series and values written come back through PromQL, objectives are evaluated and the results
//! file holds what it should.

mod support;

use lgtm_bench::engine::runner::{self, RunOptions};
use lgtm_bench::engine::schedule::Schedule;
use lgtm_bench::report::json;
use lgtm_bench::targets::mimir::write::series::SeriesSet;

use lgtm_bench::stats::OutcomeClass;
use std::collections::BTreeMap;
use support::prometheus::Prometheus;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_writes_exactly_the_planned_series_and_values_and_reports_them() {
    let prom = Prometheus::start();
    let text = support::small_scenario("e2e", &prom.base(), "");
    let s = support::scenario(&text);
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { scenario_file: "e2e".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
    let outcome = runner::run(&support::plan(&s), opts, CancellationToken::new()).await.unwrap();
    let report = &outcome.report;
    // What the target is, from its build info: Debian's Prometheus names its version.
    let build = &report.targets["mimir"];
    assert!(build.version.as_deref().is_some_and(|v| v.starts_with("2.")), "{build:?}");
    assert!(build.url.ends_with("/api/v1/status/buildinfo"));

    // Every planned write was sent and accepted: 10/s over 1s warm-up + 2s measured.
    let write = &report.paths["mimir.write"];
    assert_eq!(write.planned_calls, Some(20));
    assert_eq!((write.calls, write.count(OutcomeClass::Success), write.counters.skipped), (20, 20, 0));
    assert_eq!(write.counters.items_ok, 20 * 20);
    assert_eq!(write.latency.count, 20);

    // Read back what Prometheus holds for this run and rebuild what should be there from the seed.
    let w = s.mimir.as_ref().unwrap().write.as_ref().unwrap();
    let set = SeriesSet::new(&w.series, &report.run.id, s.run.seed);
    let schedule = Schedule::open_loop(10.0, s.run.warmup.get(), s.run.ramp.get(), s.run.duration.get());
    let mut last_seq = BTreeMap::new();
    for seq in 0..schedule.calls().count() as u64 {
        for k in 0..w.series.samples_per_request {
            last_seq.insert(set.series_in_request(seq, k), seq);
        }
    }
    assert_eq!(last_seq.len(), 60);
    let stored = prom.query(&format!("{{lgtm_bench_run=\"{}\"}}", report.run.id));
    let result = stored["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 60, "every active series is stored, no more");
    let mut seen = 0;
    for series in result {
        let labels: Vec<(String, String)> = series["metric"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect();
        let index: u64 = series["metric"]["series"].as_str().unwrap().parse().unwrap();
        assert_eq!(labels, set.labels(index, index), "labels of series {index}");
        let value: f64 = series["value"][1].as_str().unwrap().parse().unwrap();
        assert_eq!(value, set.value(last_seq[&index], index), "latest value of series {index}");
        seen += 1;
    }
    assert_eq!(seen, 60);

    // Queries and read-back were measured; objectives evaluated.
    let queries = &report.paths["mimir.query"];
    assert!(queries.calls > 0);
    assert_eq!(queries.calls, report.paths["mimir.query.sum"].calls + report.paths["mimir.query.range-7d"].calls);
    assert_eq!(queries.error_ratio, Some(0.0));
    let vis = &report.paths["mimir.visibility"];
    assert!(vis.count(OutcomeClass::Success) > 0);
    assert_eq!(vis.count(OutcomeClass::Lost), 0);
    let judged: Vec<&str> = report.verdict.objectives.iter().map(|o| o.objective.as_str()).collect();
    assert_eq!(judged.len(), 7, "four stated, the write path's whole plan, and an error bound beside the lone query latency objective: {judged:?}");
    assert!(judged.contains(&"mimir.write skipped == 0") && judged.contains(&"mimir.write abandoned == 0"));
    assert!(judged.contains(&"mimir.query error_ratio < 1%"), "implied: {judged:?}");
    assert!(report.verdict.passed, "{:?}", report.verdict);
    let g = report.generator.as_ref().unwrap();
    assert!(g.cpu_seconds > 0.0 && !g.limited_by.iter().any(|w| w.contains("CPU-bound") || w.contains("skipped")), "a light run: {g:?}");

    // The results file holds the same report, the scenario and lossless histograms.
    let name = outcome.results_file.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.starts_with("e2e-") && name.ends_with("Z.json"), "{name}");
    let back = json::read(&outcome.results_file).unwrap();
    assert_eq!(back.schema, "lgtm-bench/report/v1");
    assert!(!back.run.interrupted);
    assert_eq!(back.scenario["mimir"]["write"]["series"]["active"], 60);
    let h = back.paths["mimir.write"].latency.decode().unwrap();
    assert_eq!(h.len(), 20);
    assert_eq!(Some(h.value_at_quantile(0.99)), back.paths["mimir.write"].latency.p99_us);
    assert_eq!(back.paths, report.paths);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objectives_that_cannot_hold_fail_the_verdict() {
    let prom = Prometheus::start();
    let extra = "";
    let text = support::small_scenario("strict", &prom.base(), extra).replace("\"mimir.write p99 < 30s\"", "\"mimir.write p99 < 1us\"");
    let s = support::scenario(&text);
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { scenario_file: "strict".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
    let report = runner::run(&support::plan(&s), opts, CancellationToken::new()).await.unwrap().report;
    assert!(!report.verdict.passed);
    let failed: Vec<&str> = report.verdict.failed().map(|o| o.objective.as_str()).collect();
    assert_eq!(failed, ["mimir.write p99 < 1us"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_of_one_run_merge_into_the_whole() {
    use lgtm_bench::scenario::shard::Shard;
    let prom = Prometheus::start();
    let text = support::small_scenario("sharded", &prom.base(), "");
    let out = tempfile::tempdir().unwrap();
    let mut files = vec![];
    for index in 0..2 {
        let whole = support::scenario(&text);
        let mut part = whole.clone();
        part.shard(Shard { index, count: 2 });
        assert_eq!(part.mimir.as_ref().unwrap().write.as_ref().unwrap().series.active, 30);
        let plan = lgtm_bench::targets::resolve_shard(whole, Shard { index, count: 2 }, Some("job-uid-1")).unwrap();
        let opts = RunOptions { scenario_file: "sharded".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
        files.push(runner::run(&plan, opts, CancellationToken::new()).await.unwrap().results_file);
    }
    let shards: Vec<_> = files.iter().map(|f| json::read(f).unwrap()).collect();
    assert!(shards[0].run.scenario_name.ends_with("-shard-0-of-2"));
    let merged = lgtm_bench::report::merge::merge_files(&files).unwrap();
    assert_eq!(merged.run.scenario_name, "sharded");
    let write = &merged.paths["mimir.write"];
    assert_eq!(write.calls, 20, "two shards at half the rate make the whole plan");
    assert_eq!(write.planned_calls, Some(20));
    assert_eq!(write.latency.decode().unwrap().len(), 20);
    let q = |r: &lgtm_bench::report::Report| r.paths["mimir.query"].calls;
    assert_eq!(q(&merged), q(&shards[0]) + q(&shards[1]));
    assert_eq!(merged.verdict.objectives.len(), 7);
    assert!(merged.verdict.passed, "{:?}", merged.verdict);
    // Only the shards of one run merge: the same file twice, a shard missing, a file that is no
    // shard, and shards of another group are refused, each naming the file.
    use lgtm_bench::report::merge::{merge_files, MergeError};
    let twice = merge_files(&[files[0].clone(), files[0].clone()]).unwrap_err();
    assert!(matches!(twice, MergeError::Duplicate { index: 0, .. }), "{twice}");
    assert!(twice.to_string().contains(&files[0].display().to_string()));
    assert!(matches!(merge_files(&files[..1]).unwrap_err(), MergeError::Missing { ref missing, count: 2 } if missing == &[1]));
    let merged_file = out.path().join("merged.json");
    lgtm_bench::report::json::write_to(&merged_file, &merged).unwrap();
    let not_a_shard = merge_files(&[files[0].clone(), merged_file.clone()]).unwrap_err();
    assert!(matches!(not_a_shard, MergeError::NotAShard { ref file } if file == &merged_file.display().to_string()), "{not_a_shard}");
    let mut other = shards[1].clone();
    other.run.shard.as_mut().unwrap().group = "another-run".into();
    let other_file = out.path().join("other.json");
    lgtm_bench::report::json::write_to(&other_file, &other).unwrap();
    assert!(matches!(merge_files(&[files[0].clone(), other_file.clone()]).unwrap_err(), MergeError::OtherGroup { .. }));
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["merge", files[0].to_str().unwrap(), files[0].to_str().unwrap(), "--out", out.path().join("bad.json").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(cli.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&cli.stderr).contains("both shard 0"));
    assert!(!out.path().join("bad.json").exists());
    // Both shards' series are stored: 2 × 30.
    let runs = format!("{{lgtm_bench_run=~\"{}|{}\"}}", shards[0].run.id, shards[1].run.id);
    assert_eq!(prom.query(&format!("count({runs})"))["data"]["result"][0]["value"][1], "60");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_over_time_adds_up_to_the_whole_run() {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;
    let prom = Prometheus::start();
    let text = support::small_scenario("intervals", &prom.base(), "")
        .replace("progress_interval = \"500ms\"", "progress_interval = \"500ms\"\nresults_interval = \"250ms\"");
    let s = support::scenario(&text);
    let out = tempfile::tempdir().unwrap();
    let opts = RunOptions { scenario_file: "intervals".into(), out_dir: out.path().to_path_buf(), progress: false, baseline: None };
    let report = runner::run(&support::plan(&s), opts, CancellationToken::new()).await.unwrap().report;
    let intervals = report.intervals.as_ref().expect("per-interval results");
    assert_eq!(intervals.seconds, 0.25);
    assert!(intervals.counts.len() >= 8, "2 s measured in 250 ms intervals: {}", intervals.counts.len());
    // Per-interval counts add up to the whole run's, path by path.
    for (name, p) in &report.paths {
        let calls: u64 = intervals.counts.iter().filter_map(|c| c.paths.get(name)).map(|c| c.calls).sum();
        if !name.ends_with(".memory.scrape") && name != "mimir.query" {
            assert_eq!(calls, p.calls, "{name}");
        }
    }
    // The interval log, read back with HdrHistogram's own reader: per tag, the intervals' histograms
    // add up to the whole run's histogram exactly.
    let log = std::fs::read(out.path().join(intervals.log.as_ref().expect("a log"))).unwrap();
    let mut summed: BTreeMap<String, hdrhistogram::Histogram<u64>> = BTreeMap::new();
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(&log) {
        if let LogEntry::Interval(h) = entry.unwrap() {
            let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, h.encoded_histogram()).unwrap();
            let histogram: hdrhistogram::Histogram<u64> = deserializer.deserialize(&mut bytes.as_slice()).unwrap();
            let tag = h.tag().map(|t| t.as_str().to_string()).unwrap_or_default();
            summed.entry(tag).or_insert_with(lgtm_bench::stats::histogram::new_latency).add(&histogram).unwrap();
        }
    }
    for name in ["mimir.write", "mimir.query.sum", "mimir.visibility"] {
        let whole = report.paths[name].latency.decode().unwrap();
        assert_eq!(summed[name], whole, "{name}: the intervals add up to the whole run");
        assert_eq!(summed[&format!("service/{name}")], report.paths[name].service_time.decode().unwrap());
    }
    assert_eq!(summed["lateness/mimir.write"], report.paths["mimir.write"].lateness.as_ref().unwrap().decode().unwrap());
}
