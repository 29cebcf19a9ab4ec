//! `capacity` end to end against a real Prometheus: a search over the active series with a memory
//! budget a few tens of MiB above Prometheus's own memory ends with a bracket that holds the level
//! where the budget breaks (checked against the steps' own memory figures); Ctrl-C keeps what was
//! found; a fresh-target command runs before every step; bad settings name the fix. The search
//! logic itself is tested on virtual levels in `capacity::search`.

mod support;

use lgtm_bench::capacity::model::CapacityReport;
use lgtm_bench::capacity::search::{Judgement, Outcome, StepKind};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use support::prometheus::Prometheus;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lgtm-bench");

/// The searches each run a real Prometheus: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn scenario(base: &str, budget: &str) -> String {
    format!(
        r#"
objectives = ["mimir.write error_ratio < 1%"]
[run]
name = "capacity"
seed = 11
warmup = "1s"
duration = "2s"
progress_interval = "1s"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
max_in_flight = 64
connections = 2
[mimir.write.series]
active = 4000
samples_per_request = 500
scrape_interval = "1s"
metrics = ["lgtm_cap_a_total", "lgtm_cap_b_total"]
labels = [{{ name = "pod", cardinality = 10 }}, {{ name = "route", cardinality = 10 }}]
[mimir.memory]
budget = "{budget}"
interval = "250ms"
metrics_urls = ["{base}/metrics"]
"#
    )
}

/// Prometheus's resident memory now, from its own /metrics.
fn resident_bytes(p: &Prometheus) -> f64 {
    let out = std::process::Command::new("curl").args(["-fsS", &format!("{}/metrics", p.base())]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("process_resident_memory_bytes ")).expect("process_resident_memory_bytes in /metrics");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn capacity_report(out: &Path) -> (CapacityReport, PathBuf) {
    let file = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json") && p.file_name().unwrap().to_string_lossy().contains("-capacity-"))
        .expect("a capacity report in the out folder");
    (serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap(), file)
}

async fn capacity(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN).arg("capacity").args(args).stdin(Stdio::null()).output().await.unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_over_active_series_brackets_the_level_where_the_memory_budget_breaks() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let budget = ((resident_bytes(&prom) + 48.0 * 1048576.0) / 1048576.0).round() as u64;
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, scenario(&prom.base(), &format!("{budget}Mi"))).unwrap();
    let out = dir.path().join("results");
    let (code, stdout, stderr) = capacity(&[
        file.to_str().unwrap(),
        "--from",
        "1000",
        "--factor",
        "1.5",
        "--step-duration",
        "2s",
        "--max-steps",
        "14",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
    .await;
    let (report, _) = capacity_report(&out);
    let budget_bytes = (budget * 1048576) as f64;
    let peak = |level: f64, j: Judgement| {
        report.steps.iter().filter(|s| s.level == level && s.judgement == j).filter_map(|s| s.report.memory["mimir"].peak_bytes).collect::<Vec<f64>>()
    };
    let (pass, fail) = (report.answer.level.expect(&stderr), report.answer.first_fail.expect(&stderr));
    // The target kept its state between steps: the search only went up, one factor at a time.
    assert_eq!(report.answer.outcome, Outcome::Bracketed, "{stderr}");
    assert!(pass < fail && fail <= (pass * 1.5).round(), "{pass} < {fail}");
    assert!(report.steps.windows(2).all(|w| w[1].level > w[0].level), "only up");
    // The bracket holds the break: the pass stayed within the budget, the fail went over it.
    assert!(peak(pass, Judgement::Pass).iter().all(|p| *p <= budget_bytes), "pass at {pass}: peaks {:?} over {budget_bytes}", peak(pass, Judgement::Pass));
    let failed = report.steps.iter().find(|s| s.level == fail && s.judgement == Judgement::Fail).unwrap();
    assert!(failed.broken.iter().any(|b| b.starts_with("mimir.memory peak")), "{:?}", failed.broken);
    assert!(peak(fail, Judgement::Fail).iter().any(|p| *p > budget_bytes), "fail at {fail}: peaks {:?}", peak(fail, Judgement::Fail));
    // Every step's results are complete, as `run` writes them.
    for s in &report.steps {
        let r = lgtm_bench::report::json::read(Path::new(&s.results_file)).unwrap();
        assert!(!r.run.interrupted && r.paths["mimir.write"].calls > 0, "step {}", s.index);
        assert_eq!(r.verdict.passed, s.judgement == Judgement::Pass, "step {}", s.index);
        assert_eq!(r.scenario["mimir"]["write"]["series"]["active"].as_f64(), Some(s.level), "step {} ran at its level", s.index);
    }
    // Later steps are marked as running on a target that kept the earlier steps' data.
    assert!(report.steps.iter().skip(1).all(|s| s.carry_over.is_some()) && report.steps[0].carry_over.is_none());
    assert!(report.memory.as_ref().is_some_and(|m| m.bytes_per_unit > 0.0), "{:?}", report.memory);
    assert!(stdout.contains(&report.answer_text), "{stdout}");
    let share = format!("{:.0}% of capacity", 100.0 * report.dimension.configured / pass);
    assert!(stdout.contains(&share), "the scenario's level as a share of capacity ({share}): {stdout}");
    // The HTML report as a person sees it: the answer, every step, the memory peak against the load.
    let page = out.join(format!("{}.html", report_stem(&out)));
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("capacity-screenshot.png");
    let (dom, log) = support::browser::chromium(&page, &shot);
    assert!(!log.contains("Uncaught") && !log.contains(":CONSOLE("), "console errors: {log}");
    assert!(dom.contains(&esc(&report.answer_text)) && dom.contains(&share), "the answer and the share of capacity are shown");
    assert_eq!(dom.matches("<tr class=").count(), report.steps.len(), "a row per step");
    let at = dom.find("id=\"objective-mimir.memory-peak\"").expect("memory peak against the load");
    let figure = &dom[at..at + dom[at..].find("</figure>").unwrap()];
    let points = figure.split("points=\"").nth(1).map_or(0, |p| p[..p.find('"').unwrap()].split_whitespace().count());
    assert_eq!(points, report.steps.len(), "one point per step");
    assert!(figure.contains("class=\"threshold\"") && figure.contains("class=\"mark\""), "the budget and the answer drawn");
    assert_eq!(code, 0, "{stderr}");
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn report_stem(out: &Path) -> String {
    let (_, file) = capacity_report(out);
    file.file_stem().unwrap().to_string_lossy().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_keeps_the_steps_found_so_far() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, scenario(&prom.base(), "1Gi")).unwrap();
    let out = dir.path().join("results");
    let mut started = support::Started::spawn(
        &["capacity", file.to_str().unwrap(), "--from", "500", "--step-duration", "2s", "--out", out.to_str().unwrap(), "--quiet"],
        &[],
    );
    started.wait_for(|line| line.starts_with("step 2 (")).await;
    let (code, _, _) = started.interrupt().await;
    assert_eq!(code, Some(130));
    let (report, _) = capacity_report(&out);
    assert!(report.interrupted);
    assert_eq!(report.steps[0].judgement, Judgement::Pass);
    assert_eq!(report.answer.outcome, Outcome::Stopped);
    assert_eq!(report.answer.level, Some(500.0), "what was found is kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_target_command_runs_before_every_step_and_its_failure_stops_the_search() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, scenario(&prom.base(), "1Gi")).unwrap();
    let marks = dir.path().join("resets");
    let out = dir.path().join("results");
    let reset = format!("echo reset >> {}", marks.display());
    let (code, stdout, stderr) = capacity(&[
        file.to_str().unwrap(),
        "--from",
        "500",
        "--to",
        "1000",
        "--step-duration",
        "1s",
        "--fresh-target-command",
        &reset,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
    .await;
    let (report, _) = capacity_report(&out);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report.answer.outcome, Outcome::AtLeastReachedTo, "{stdout}");
    assert_eq!(std::fs::read_to_string(&marks).unwrap().lines().count(), report.steps.len());
    assert!(report.fresh_target && report.steps.iter().all(|s| s.carry_over.is_none()));

    let out = dir.path().join("broken");
    let (code, _, stderr) = capacity(&[file.to_str().unwrap(), "--fresh-target-command", "exit 3", "--out", out.to_str().unwrap(), "--quiet"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--fresh-target-command `exit 3` failed"), "{stderr}");
    let (report, _) = capacity_report(&out);
    assert!(report.steps.is_empty() && report.answer.level.is_none());
}

#[tokio::test]
async fn bad_settings_name_the_problem_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, scenario("http://127.0.0.1:9", "1Gi")).unwrap();
    let (code, _, stderr) = capacity(&[file.to_str().unwrap(), "--dimension", "mimir.write.nope"]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("use one of: mimir.write.series.active, mimir.write.rate"), "{stderr}");
    let (code, _, stderr) = capacity(&[file.to_str().unwrap(), "--from", "100"]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("at least 500"), "{stderr}");
    let (code, _, stderr) = capacity(&[file.to_str().unwrap(), "--from", "0.01x"]).await;
    assert_eq!(code, 2, "a multiple of the scenario's level, below the floor too: {stderr}");
    assert!(stderr.contains("at least 500"), "{stderr}");
    let (code, _, stderr) = capacity(&[file.to_str().unwrap(), "--from", "lots"]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("give a number (2000) or a multiple of the scenario's level (1x, 0.5x)"), "{stderr}");
    let (code, _, stderr) = capacity(&[file.to_str().unwrap(), "--factor", "1"]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("above 1"), "{stderr}");
    // An unreachable target stops the search at its first step with the unreachable exit code.
    let out = dir.path().join("results");
    let (code, _, stderr) = capacity(&[file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("no load was sent"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tempo_search_grows_its_span_rate_over_the_wire() {
    use support::otlp_receiver::{Answer, Receiver};
    let receiver = Receiver::start(vec![Answer::Ok]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tempo.toml");
    let scenario = format!(
        "objectives = [\"tempo.write error_ratio < 1%\"]\n[run]\nname = \"cap-tempo\"\nwarmup = \"1s\"\nduration = \"1s\"\n[tempo]\notlp_url = \"{}\"\nquery_url = \"http://127.0.0.1:9\"\n[tempo.write]\nrate = 100\nspans_per_request = 10\n",
        receiver.url()
    );
    std::fs::write(&file, scenario).unwrap();
    let out = dir.path().join("results");
    let (code, stdout, stderr) =
        capacity(&[file.to_str().unwrap(), "--from", "50", "--to", "100", "--factor", "2", "--step-duration", "1s", "--out", out.to_str().unwrap(), "--quiet"])
            .await;
    assert_eq!(code, 0, "{stderr}");
    let (report, _) = capacity_report(&out);
    assert_eq!(report.dimension.key, "tempo.write.rate", "the scenario's first write load is the default dimension");
    assert_eq!(report.answer.outcome, Outcome::AtLeastReachedTo, "{stdout}");
    assert_eq!(report.steps.iter().map(|s| s.level).collect::<Vec<_>>(), vec![50.0, 100.0]);
    for s in &report.steps {
        let planned = s.report.paths["tempo.write"].planned_calls.unwrap();
        assert_eq!(s.report.paths["tempo.write"].calls, planned, "step {} sent its plan", s.index);
        assert_eq!(s.report.scenario["tempo"]["write"]["rate"].as_f64(), Some(s.level));
    }
    assert!(stdout.contains("tempo holds at least 100 spans/s"), "{stdout}");
}

/// A reset command as a user would write one: stop the Prometheus it started last (pid file),
/// start a fresh one on an empty data folder, and return once it answers ready.
const RESET: &str = r#"#!/bin/sh
set -e
state=$1; port=$2
if [ -f "$state/pid" ]; then
  pid=$(cat "$state/pid"); kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
fi
rm -rf "$state/data"; mkdir -p "$state/data"
printf 'global:\n  scrape_interval: 15s\nstorage:\n  tsdb:\n    out_of_order_time_window: 10m\n' > "$state/prometheus.yml"
prometheus --config.file="$state/prometheus.yml" --storage.tsdb.path="$state/data" \
  --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver > "$state/log" 2>&1 &
echo $! > "$state/pid"
for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && exit 0; sleep 0.1; done
exit 1
"#;

/// Stops the Prometheus the reset command left running.
struct Reset(PathBuf);
impl Drop for Reset {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.0.join("pid")) {
            let _ = std::process::Command::new("kill").arg(pid.trim()).status();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_fresh_target_per_step_the_search_bisects_and_confirms_on_a_real_prometheus() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("prom");
    std::fs::create_dir_all(&state).unwrap();
    let _cleanup = Reset(state.clone());
    let script = dir.path().join("reset.sh");
    std::fs::write(&script, RESET).unwrap();
    let port = support::free_port();
    let reset = format!("sh {} {} {port}", script.display(), state.display());
    assert!(std::process::Command::new("sh").arg("-c").arg(&reset).status().unwrap().success(), "the reset script starts Prometheus");
    let base = format!("http://127.0.0.1:{port}");
    let rss = {
        let out = std::process::Command::new("curl").args(["-fsS", &format!("{base}/metrics")]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.lines().find(|l| l.starts_with("process_resident_memory_bytes ")).unwrap().split_whitespace().nth(1).unwrap().parse::<f64>().unwrap()
    };
    let budget = ((rss + 40.0 * 1048576.0) / 1048576.0).round() as u64;
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, scenario(&base, &format!("{budget}Mi"))).unwrap();
    let out = dir.path().join("results");
    let args = [file.to_str().unwrap(), "--from", "1000", "--precision", "25%", "--step-duration", "2s", "--confirm-duration", "2s", "--max-steps", "14"];
    let (code, _, stderr) = capacity(&[&args[..], &["--fresh-target-command", &reset, "--out", out.to_str().unwrap(), "--quiet"]].concat()).await;
    let (report, _) = capacity_report(&out);
    let kinds: Vec<StepKind> = report.steps.iter().map(|s| s.kind).collect();
    assert!(kinds.contains(&StepKind::Bisect) && kinds.contains(&StepKind::Confirm), "{kinds:?}\n{stderr}");
    assert!(matches!(report.answer.outcome, Outcome::Found | Outcome::Unconfirmed), "{:?}\n{stderr}", report.answer);
    assert!(report.fresh_target && report.steps.iter().all(|s| s.carry_over.is_none()), "no step carries over another's data");
    // Every step judged by its own memory: within the budget when it passed, over it when memory broke.
    let budget_bytes = (budget * 1048576) as f64;
    for s in &report.steps {
        let peak = s.report.memory["mimir"].peak_bytes.unwrap();
        match s.judgement {
            Judgement::Pass => assert!(peak <= budget_bytes, "step {} passed at {peak}", s.index),
            Judgement::Fail => assert!(s.broken.iter().all(|b| !b.starts_with("mimir.memory peak")) || peak > budget_bytes, "step {}", s.index),
            Judgement::GeneratorLimited => panic!("step {} generator-limited: {:?}", s.index, s.generator_limited_by),
        }
    }
    eprintln!("{}", lgtm_bench::capacity::render::markdown(&report));
    if report.answer.outcome == Outcome::Found {
        let (pass, fail) = (report.answer.level.unwrap(), report.answer.first_fail.unwrap());
        assert!((fail - pass) / pass <= 0.25, "bracket [{pass}, {fail}] within the precision");
        assert_eq!(code, 0);
    }
}
