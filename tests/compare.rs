//! Perf-regression checks against a baseline: a run compared with itself passes; a slower
//! percentile, a higher error ratio or a path that is no longer measured is a regression, and
//! `run --baseline` fails (exit 1) on one, keeping the comparison in the results file.

mod support;

use lgtm_bench::report::compare::{compare, Tolerance};
use lgtm_bench::report::{json, Report};
use support::replay::{Canned, ReplayServer};

async fn one_run(base: &str, dir: &std::path::Path, extra_args: &[&str]) -> (i32, std::path::PathBuf, String) {
    let text = "[run]\nname = \"cmp\"\nwarmup = \"0s\"\nduration = \"1s\"\n[mimir]\nwrite_url = \"BASE/api/v1/write\"\nquery_url = \"BASE\"\n[mimir.write]\nrate = 20\n[mimir.write.series]\nactive = 10\nsamples_per_request = 10\n"
        .replace("BASE", base);
    let file = dir.join("s.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join(format!("r{}", std::fs::read_dir(dir).unwrap().count()));
    let mut args = vec!["run", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra_args);
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench")).args(&args).output().await.unwrap();
    let result = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    // What it printed: stdout, then stderr.
    (o.status.code().unwrap(), result, format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn tweak(report: &Report, f: impl FnOnce(&mut serde_json::Value)) -> Report {
    let mut v = serde_json::to_value(report).unwrap();
    f(&mut v);
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn regressions_are_found_and_noise_is_not() {
    let server = ReplayServer::start(vec![Canned::new(204, "")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (code, file, _) = one_run(&server.base(), dir.path(), &[]).await;
    assert_eq!(code, 0);
    let base = json::read(&file).unwrap();
    let tol = Tolerance::default();

    let same = compare(&base, &base, tol);
    assert!(!same.regressed, "{same:?}");
    assert!(same.changes.iter().any(|c| c.path == "mimir.write" && c.stat == "p99"));

    let slower = tweak(&base, |v| v["paths"]["mimir.write"]["latency"]["p99_us"] = serde_json::json!(5_000_000));
    let c = compare(&base, &slower, tol);
    assert!(c.regressed);
    let regressed: Vec<(&str, &str)> = c.changes.iter().filter(|c| c.regressed).map(|c| (c.path.as_str(), c.stat.as_str())).collect();
    assert_eq!(regressed, [("mimir.write", "p99")]);

    let p50 = base.paths["mimir.write"].latency.p50_us.unwrap();
    let noise = tweak(&base, |v| v["paths"]["mimir.write"]["latency"]["p50_us"] = serde_json::json!(p50 + 500));
    assert!(!compare(&base, &noise, tol).regressed, "500µs more is under the 1ms floor");

    // Error ratios are compared as proportions: 1 failure in 20 is not evidence, 10 in 20 is.
    let one = tweak(&base, |v| v["paths"]["mimir.write"]["error_ratio"] = serde_json::json!(0.05));
    assert!(compare(&base, &one, tol).changes.iter().any(|c| c.stat == "error_ratio" && !c.regressed && c.p_value.unwrap() > 0.05));
    let errors = tweak(&base, |v| v["paths"]["mimir.write"]["error_ratio"] = serde_json::json!(0.5));
    assert!(compare(&base, &errors, tol).changes.iter().any(|c| c.stat == "error_ratio" && c.regressed && c.p_value.unwrap() < 0.05));

    let gone = tweak(&base, |v| {
        v["paths"].as_object_mut().unwrap().remove("mimir.write");
    });
    assert_eq!(compare(&base, &gone, tol).missing, ["mimir.write"]);
}

/// A report whose `path` has per-interval p50 and p99 latencies `p99s` (p50 half of them).
fn with_intervals(report: &Report, path: &str, p99s: &[u64]) -> Report {
    tweak(report, |v| {
        let counts: Vec<serde_json::Value> = p99s
            .iter()
            .enumerate()
            .map(|(i, p99)| serde_json::json!({"index": i, "start_s": i as f64, "paths": {path: {"calls": 10, "p50_us": p99 / 2, "p99_us": p99, "late_starts": 0, "skipped": 0, "retries": 0, "abandoned": 0, "items_ok": 10, "items_failed": 0}}}))
            .collect();
        v["intervals"] = serde_json::json!({"seconds": 1.0, "log": null, "counts": counts});
        v["run"]["warmup_seconds"] = serde_json::json!(0.0);
        v["paths"][path]["latency"]["p99_us"] = serde_json::json!(p99s.iter().max());
    })
}

#[test]
fn pooled_baselines_give_one_sample_of_every_runs_intervals() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(ReplayServer::start(vec![Canned::new(204, "")]));
    let dir = tempfile::tempdir().unwrap();
    let (_, file, _) = rt.block_on(one_run(&server.base(), dir.path(), &[]));
    let base = json::read(&file).unwrap();
    let (a, b) = (with_intervals(&base, "mimir.write", &[100; 6]), with_intervals(&base, "mimir.write", &[120; 6]));
    let pooled = lgtm_bench::report::compare::pooled(vec![a, b.clone()]).unwrap();
    assert_eq!(pooled.intervals.as_ref().unwrap().counts.len(), 12, "6 + 6 intervals");
    assert_eq!(pooled.paths["mimir.write"].latency.p99_us, b.paths["mimir.write"].latency.p99_us, "the newest's figures");
    // Six intervals a side are too few to test; pooled, the baseline has twelve and the test runs.
    let current = with_intervals(&base, "mimir.write", &[110; 8]);
    let judged = |baseline: &Report| {
        compare(baseline, &current, Tolerance::default()).changes.iter().find(|c| c.path == "mimir.write" && c.stat == "p99").unwrap().p_value
    };
    assert!(judged(&b).is_none() && judged(&pooled).is_some());
}

#[tokio::test]
async fn latency_is_judged_on_the_runs_intervals_with_an_interval_and_a_p_value() {
    let server = ReplayServer::start(vec![Canned::new(204, "")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, file, _) = one_run(&server.base(), dir.path(), &[]).await;
    let run = json::read(&file).unwrap();
    let tol = Tolerance { latency: 0.1, ..Tolerance::default() };
    let noisy = |seed: u64, scale: f64| -> Vec<u64> { (0..20).map(|i| ((100_000 + (seed * 7919 + i * 104_729) % 40_000) as f64 * scale) as u64).collect() };
    // Two runs drawn from the same spread: no significant change.
    let (a, a2) = (with_intervals(&run, "mimir.write", &noisy(1, 1.0)), with_intervals(&run, "mimir.write", &noisy(2, 1.0)));
    let same = compare(&a, &a2, tol);
    let p99 = same.changes.iter().find(|c| c.path == "mimir.write" && c.stat == "p99").unwrap();
    assert!(!p99.regressed && p99.assessment == "no significant change", "{p99:?}");
    assert!(p99.shown.contains("p = ") && p99.shown.contains('['), "{}", p99.shown);
    // A real 30% slowdown in every interval: regressed, with its interval.
    let slow = with_intervals(&run, "mimir.write", &noisy(3, 1.3));
    let worse = compare(&a, &slow, tol);
    let p99 = worse.changes.iter().find(|c| c.path == "mimir.write" && c.stat == "p99").unwrap();
    assert!(p99.regressed && p99.assessment == "regressed", "{p99:?}");
    let [est, lo, hi] = p99.change.unwrap();
    assert!(lo > 0.1 && lo < est && est < hi && p99.p_value.unwrap() < 0.05, "{p99:?}");
    assert!(worse.regressed);
    // And faster is an improvement, never a regression.
    let better = compare(&slow, &a, tol);
    assert_eq!(better.changes.iter().find(|c| c.path == "mimir.write" && c.stat == "p99").unwrap().assessment, "improved");
    assert!(!better.regressed);
    // Significant, but the whole-run figure moved by less than the 1 ms floor: said, not failed.
    let tiny = |us: u64| with_intervals(&run, "mimir.write", &[us, us + 20, us + 40, us + 10, us + 30, us + 5, us + 25, us + 15, us + 35, us]);
    let small = compare(&tiny(1_000), &tiny(1_300), tol);
    let p99 = small.changes.iter().find(|c| c.path == "mimir.write" && c.stat == "p99").unwrap();
    assert_eq!((p99.regressed, p99.assessment.as_str()), (false, "slower, but by less than the floor"), "{p99:?}");
    assert!(lgtm_bench::report::compare::render(&small).contains("  small     mimir.write"));
}

#[tokio::test]
async fn interrupted_or_other_plans_are_called_out_and_the_watcher_is_not_compared() {
    let server = ReplayServer::start(vec![Canned::new(204, "")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, file, _) = one_run(&server.base(), dir.path(), &[]).await;
    let base = json::read(&file).unwrap();
    let tol = Tolerance::default();
    assert!(compare(&base, &base, tol).warnings.is_empty());
    let cut = tweak(&base, |v| {
        v["run"]["interrupted"] = serde_json::json!(true);
        v["run"]["measured_seconds"] = serde_json::json!(0.4);
    });
    let c = compare(&base, &cut, tol);
    assert!(c.warnings.iter().any(|w| w.contains("this run") && w.contains("interrupted after 0.4s of 1.0s")), "{c:?}");
    assert!(c.comparable, "an interrupted side is a warning, not another plan");
    let doubled = tweak(&base, |v| v["paths"]["mimir.write"]["planned_calls"] = serde_json::json!(40));
    let other_plan = compare(&base, &doubled, tol);
    assert!(other_plan.warnings.iter().any(|w| w.contains("planned 20 calls in the baseline and 40")));
    assert!(!other_plan.comparable && !other_plan.failed(), "another plan is not comparable, and no regression");
    let faster_rate = tweak(&base, |v| v["scenario"]["mimir"]["write"]["rate"] = serde_json::json!(40));
    assert!(!compare(&base, &faster_rate, tol).comparable, "another rate in the scenario");
    let gone = tweak(&base, |v| {
        v["paths"].as_object_mut().unwrap().remove("mimir.write");
    });
    assert!(!compare(&base, &gone, tol).comparable, "a path missing is not comparable");
    // A target that holds more before this run than before the baseline is called out: its state
    // changed (a whole-tenant query measures more data), not the code under test.
    let held = |series: f64| {
        tweak(&base, move |v| {
            v["memory"]["mimir"] = serde_json::json!({"checked": "rss", "restarts": [], "counter_increase": {}, "samples": [],
                "gauges_at_start": {"prometheus_tsdb_head_series": series}});
        })
    };
    let grown = compare(&held(0.0), &held(4000.0), tol);
    assert!(grown.target_changed && !compare(&base, &base, tol).target_changed);
    assert!(grown.warnings.iter().any(|w| w.contains("held 0 prometheus_tsdb_head_series before the baseline's load and 4000")), "{:?}", grown.warnings);
    assert!(compare(&held(4000.0), &held(4100.0), tol).warnings.is_empty(), "a little more is the same state");
    // Another build of the target (its build info, read before the load) is called out too.
    let build = |version: &str| tweak(&base, move |v| v["targets"] = serde_json::json!({"mimir": {"url": "u", "version": version, "revision": "abc"}}));
    let upgraded = compare(&build("2.42.0"), &build("2.43.0"), tol);
    assert!(upgraded.warnings.iter().any(|w| w.contains("mimir was 2.42.0 (rev abc) for the baseline and 2.43.0 (rev abc)")), "{:?}", upgraded.warnings);
    assert!(compare(&build("2.42.0"), &build("2.42.0"), tol).warnings.is_empty());
    // The gate's exit code says so: 6, neither pass nor regression.
    let (b, c) = (dir.path().join("b.json"), dir.path().join("c.json"));
    json::write_to(&b, &base).unwrap();
    json::write_to(&c, &doubled).unwrap();
    let cli =
        tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench")).args(["compare", b.to_str().unwrap(), c.to_str().unwrap()]).output().await.unwrap();
    assert_eq!(cli.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&cli.stdout).contains("NOT COMPARABLE"));
    // A slower memory scrape is the watcher's own business, not a regression of the target.
    let scrape = |v: &mut serde_json::Value, p99: u64| {
        let mut path = v["paths"]["mimir.write"].clone();
        path["latency"]["p99_us"] = serde_json::json!(p99);
        v["paths"]["mimir.memory.scrape"] = path;
    };
    let (b, c) = (tweak(&base, |v| scrape(v, 1_000)), tweak(&base, |v| scrape(v, 900_000)));
    assert!(!compare(&b, &c, tol).regressed);
    assert!(compare(&b, &c, Tolerance { all_paths: true, ..tol }).regressed, "asked for, it is compared");
}

#[tokio::test]
async fn run_with_a_baseline_fails_on_a_regression_and_keeps_the_comparison() {
    let server = ReplayServer::start(vec![Canned::new(204, "")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, file, _) = one_run(&server.base(), dir.path(), &[]).await;
    // A baseline that was impossibly fast: any real run regresses against it.
    let fast = tweak(&json::read(&file).unwrap(), |v| {
        let l = &mut v["paths"]["mimir.write"]["latency"];
        l["p50_us"] = serde_json::json!(1);
        l["p99_us"] = serde_json::json!(1);
    });
    let baseline = dir.path().join("baseline.json");
    json::write_to(&baseline, &fast).unwrap();
    let (code, result, stdout) = one_run(&server.base(), dir.path(), &["--baseline", baseline.to_str().unwrap(), "--max-regression", "10%"]).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("REGRESSED") && stdout.contains("verdict: FAIL"), "{stdout}");
    let report = json::read(&result).unwrap();
    assert!(report.verdict.passed, "the objectives themselves still pass");
    assert!(report.baseline.as_ref().unwrap().regressed);
    assert_eq!(report.baseline.as_ref().unwrap().tolerance.latency, 0.1);

    let compare_cli = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["compare", result.to_str().unwrap(), result.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert_eq!(compare_cli.status.code(), Some(0), "a run compared with itself: no regression");
    let bad = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench")).args(["compare", "nope.json", result.to_str().unwrap()]).output().await.unwrap();
    assert_eq!(bad.status.code(), Some(2));

    // A folder of kept baselines: the newest of this scenario is taken.
    let kept = dir.path().join("kept");
    std::fs::create_dir_all(&kept).unwrap();
    json::write_to(&kept.join("cmp-20991231T000000Z.json"), &fast).unwrap();
    json::write_to(&kept.join("cmp-20000101T000000Z.json"), &json::read(&result).unwrap()).unwrap();
    json::write_to(&kept.join("cmp-other-21001231T000000Z.json"), &json::read(&result).unwrap()).unwrap();
    let (code, _, stdout) = one_run(&server.base(), dir.path(), &["--baseline", kept.to_str().unwrap()]).await;
    assert_eq!(code, 1, "the newest kept baseline of `cmp` (the impossibly fast one) was taken: {stdout}");
    // Several kept runs pooled into one baseline sample.
    let (_, _, stderr) = one_run(&server.base(), dir.path(), &["--baseline", kept.to_str().unwrap(), "--baseline-runs", "2"]).await;
    assert!(stderr.contains("2 kept runs pooled into one sample"), "{stderr}");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let none = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args([
            "run",
            dir.path().join("s.toml").to_str().unwrap(),
            "--quiet",
            "--out",
            dir.path().join("x").to_str().unwrap(),
            "--baseline",
            empty.to_str().unwrap(),
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no kept results of scenario `cmp`"));
}
