//! Perf-regression checks against a baseline: a run compared with itself passes; a slower
//! percentile, a higher error ratio or a path that is no longer measured is a regression, and
//! `run --baseline` fails (exit 1) on one, keeping the comparison in the results file.

mod support;

use lgtm_bench::report::compare::{compare, compare_groups, Tolerance};
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

/// The run with `path`'s p99 set to `p99` (and its p50 to half of it): one run of a group.
fn with_p99(report: &Report, path: &str, p99: u64) -> Report {
    tweak(report, |v| {
        v["paths"][path]["latency"]["p99_us"] = serde_json::json!(p99);
        v["paths"][path]["latency"]["p50_us"] = serde_json::json!(p99 / 2);
    })
}

#[tokio::test]
async fn latency_is_judged_on_runs_against_the_baselines_own_spread() {
    let server = ReplayServer::start(vec![Canned::new(204, "")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, file, _) = one_run(&server.base(), dir.path(), &[]).await;
    let run = json::read(&file).unwrap();
    let tol = Tolerance { latency: 0.1, ..Tolerance::default() };
    let group = |p99s: &[u64]| p99s.iter().map(|p| with_p99(&run, "mimir.write", *p)).collect::<Vec<_>>();
    let judged = |b: &[Report], c: &[Report]| {
        let cmp = compare_groups(&b.iter().collect::<Vec<_>>(), &c.iter().collect::<Vec<_>>(), tol);
        (cmp.changes.iter().find(|c| c.path == "mimir.write" && c.stat == "p99").unwrap().clone(), cmp)
    };
    // Five baseline runs that vary by about ±8% between them.
    let baseline = group(&[100_000, 109_000, 95_000, 104_000, 99_000]);
    // Candidates inside that spread: no regression, and the spread is shown.
    let (p99, _) = judged(&baseline, &group(&[103_000, 97_000, 106_000]));
    assert!(!p99.regressed && p99.assessment == "no significant change", "{p99:?}");
    assert!(p99.shown.contains("baseline runs vary ±8% (5 baseline runs and 3 runs)") && p99.shown.contains("p = "), "{}", p99.shown);
    // A real +30% in three candidate runs: regressed, with its interval.
    let slow = group(&[131_000, 128_000, 135_000]);
    let (p99, worse) = judged(&baseline, &slow);
    assert!(p99.regressed && p99.assessment == "regressed" && worse.regressed, "{p99:?}");
    let [est, lo, hi] = p99.change.unwrap();
    assert!(lo > 0.1 && lo < est && est < hi && p99.p_value.unwrap() < 0.05 && p99.spread.unwrap() < est, "{p99:?}");
    assert_eq!((worse.baseline_runs.len(), worse.current_runs.len()), (5, 3));
    // Faster is an improvement, never a regression.
    let (p99, _) = judged(&slow, &baseline);
    assert_eq!((p99.assessment.as_str(), p99.regressed), ("improved", false));
    // One baseline run: run-to-run noise cannot be estimated; the tolerance decides, saying so.
    let (p99, _) = judged(&baseline[..1], &slow[..1]);
    assert!(p99.regressed && p99.p_value.is_none(), "{p99:?}");
    assert!(p99.shown.contains("noise cannot be estimated from fewer than 3 baseline runs, judged on the tolerance"), "{}", p99.shown);
    // Significant, but the figure moved by less than the 1 ms floor: said, not failed.
    let (p99, small) = judged(&group(&[1_000, 1_010, 990, 1_005, 995]), &group(&[1_300, 1_310, 1_290]));
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
    let pages = dir.path().join("pages");
    let (code, result, stdout) =
        one_run(&server.base(), dir.path(), &["--baseline", baseline.to_str().unwrap(), "--max-regression", "10%", "--report", pages.to_str().unwrap()]).await;
    assert_eq!(code, 1, "{stdout}");
    // The HTML overlays the run on its baseline, path by path, and draws the comparison.
    let html = std::fs::read_dir(&pages).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "html")).unwrap();
    let html = std::fs::read_to_string(html).unwrap();
    let run_id = json::read(&result).unwrap().run.id;
    assert!(html.contains("<section id=\"baseline\"><h2>Compared with baseline run") && html.contains("REGRESSION"), "the comparison section");
    assert!(html.contains(&format!("(1: {})", fast.run.id)) && html.contains(&format!("(2: {run_id})")), "baseline and run overlaid");
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
    let (code, _, stdout) = one_run(&server.base(), dir.path(), &["--baseline", kept.to_str().unwrap(), "--baseline-runs", "1"]).await;
    assert_eq!(code, 1, "the newest kept baseline of `cmp` (the impossibly fast one) was taken: {stdout}");
    // The newest kept runs form the baseline group (5 by default; here both of `cmp`).
    let (_, _, stderr) = one_run(&server.base(), dir.path(), &["--baseline", kept.to_str().unwrap()]).await;
    assert!(stderr.contains("baseline: 2 runs of `cmp`") && stderr.contains("cmp-20000101T000000Z.json"), "{stderr}");
    assert!(stderr.contains("fewer than 3 baseline runs"), "two runs cannot estimate the noise, and it says so: {stderr}");
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

#[tokio::test]
async fn run_repeat_keeps_a_group_resets_the_target_before_each_run_and_judges_the_group() {
    let server = ReplayServer::start(vec![Canned::new(204, "")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, file, _) = one_run(&server.base(), dir.path(), &[]).await;
    let resets = dir.path().join("resets.log");
    let reset = format!("echo reset >> {}", resets.display());
    let out = dir.path().join("groups");
    let repeat = |extra: &[&str]| {
        let mut args: Vec<String> =
            vec!["run".into(), dir.path().join("s.toml").to_str().unwrap().into(), "--quiet".into(), "--out".into(), out.to_str().unwrap().into()];
        args.extend(["--repeat", "3", "--fresh-target-command", &reset].iter().map(|s| s.to_string()));
        args.extend(extra.iter().map(|s| s.to_string()));
        tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench")).args(args).output()
    };
    let first = repeat(&[]).await.unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(std::fs::read_to_string(&resets).unwrap().lines().count(), 3, "the target was reset before each run");
    let group: Vec<std::path::PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(group.len(), 1, "one folder for the group: {group:?}");
    assert!(group[0].file_name().unwrap().to_string_lossy().starts_with("cmp-repeat-"));
    assert_eq!(std::fs::read_dir(&group[0]).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json")).count(), 3);

    // The next group, judged as a whole against the first (a folder of three kept runs).
    let second = repeat(&["--baseline", group[0].to_str().unwrap(), "--max-regression", "1000%"]).await.unwrap();
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&second.stderr));
    assert!(stdout.contains("compared with baseline 3 runs") && stdout.contains("candidate: 3 runs"), "{stdout}");
    assert!(stdout.contains("baseline runs vary ±") && stdout.contains("(3 baseline runs and 3 runs)"), "{stdout}");
    let newest = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p != &group[0]).unwrap();
    let kept: lgtm_bench::report::compare::Comparison = serde_json::from_slice(&std::fs::read(newest.join("group-comparison.json")).unwrap()).unwrap();
    assert_eq!((kept.baseline_runs.len(), kept.current_runs.len()), (3, 3));

    // A reset that fails stops before any load, with the fix.
    let failing = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["run", dir.path().join("s.toml").to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap(), "--fresh-target-command", "exit 3"])
        .output()
        .await
        .unwrap();
    assert_eq!(failing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&failing.stderr).contains("--fresh-target-command `exit 3` failed"), "{}", String::from_utf8_lossy(&failing.stderr));
    drop(file);
}

#[tokio::test]
async fn runs_held_back_by_their_generator_or_machine_are_left_out_of_a_group() {
    let server = ReplayServer::start(vec![Canned::new(204, "")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, file, _) = one_run(&server.base(), dir.path(), &[]).await;
    let clean = json::read(&file).unwrap();
    let busy = tweak(&clean, |v| v["generator"]["host_busy"] = serde_json::json!(["host busy: the machine's 2 CPU(s) were 97% busy"]));
    let kept = dir.path().join("kept");
    std::fs::create_dir_all(&kept).unwrap();
    json::write_to(&kept.join("cmp-20260101T000000Z.json"), &clean).unwrap();
    json::write_to(&kept.join("cmp-20260102T000000Z.json"), &busy).unwrap();
    let cli = |extra: &[&str]| {
        let mut args = vec!["compare", kept.to_str().unwrap(), file.to_str().unwrap()];
        args.extend_from_slice(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench")).args(args).output().unwrap()
    };
    let out = cli(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("left out") && stderr.contains("cmp-20260102T000000Z.json") && stderr.contains("baseline: 1 run of `cmp`"), "{stderr}");
    let with = cli(&["--include-noisy"]);
    let stderr = String::from_utf8_lossy(&with.stderr);
    assert!(stderr.contains("baseline: 2 runs of `cmp`"), "{stderr}");
    assert!(String::from_utf8_lossy(&with.stdout).contains("was held back by its generator or its machine"), "kept, but marked");
}
