//! The binary as a user meets it: bad input gets a clear message and a distinct exit code, and an
//! interrupted run still writes its (partial) results.

mod support;

use std::path::Path;
use std::process::Stdio;
use support::replay::{Canned, ReplayServer};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lgtm-bench");

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn lgtm(args: &[&str]) -> Ran {
    let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().await.unwrap();
    Ran { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
}

fn write_scenario(dir: &Path, text: &str) -> String {
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The results files (JSON) in `dir`; each has its interval log (`.hlog`) beside it.
fn results_in(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect()).unwrap_or_default()
}

#[tokio::test]
async fn help_explains_every_flag() {
    let run = lgtm(&["run", "--help"]).await;
    assert_eq!(run.code, 0);
    for flag in ["--out", "--set", "--quiet", "mimir.write.rate=500"] {
        assert!(run.stdout.contains(flag), "run --help lacks {flag}:\n{}", run.stdout);
    }
    assert!(lgtm(&["validate", "--help"]).await.stdout.contains("without sending anything"));
    assert_eq!(lgtm(&["frobnicate"]).await.code, 2);
}

#[tokio::test]
async fn validate_prints_the_plan_of_every_shipped_scenario() {
    // Every protocol is shipped, and the plan says which, per metric type.
    let rw2 = lgtm(&["validate", "scenarios/homelab-rw2.toml"]).await.stdout;
    assert!(rw2.contains("remote-write 2.0") && rw2.contains("native_histogram"), "{rw2}");
    let otlp = lgtm(&["validate", "scenarios/homelab-otlp.toml"]).await.stdout;
    assert!(otlp.contains("OTLP metrics (protobuf, gzip") && otlp.contains("histogram"), "{otlp}");
    let mut files: Vec<String> =
        std::fs::read_dir("scenarios").unwrap().map(|e| e.unwrap().path().display().to_string()).filter(|p| p.ends_with(".toml")).collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for file in &files {
        let file = file.as_str();
        let v = lgtm(&["validate", file]).await;
        assert_eq!(v.code, 0, "{file}: {}", v.stderr);
        assert!(v.stdout.contains("mimir.write: ") && v.stdout.contains(" POST http"), "{}", v.stdout);
        assert!(v.stdout.contains("objective:"));
        let resolved = v.stdout.split("defaults filled in):").nth(1).expect("the resolved scenario is printed");
        let back: lgtm_bench::targets::Scenario = toml::from_str(resolved).unwrap_or_else(|e| panic!("{file}: {e}\n{resolved}"));
        assert!(resolved.contains("drain_timeout"), "defaults are filled in");
        assert_eq!(back.run.name, lgtm_bench::targets::load(std::path::Path::new(file), &[], None, None).unwrap().run.name);
    }
}

#[tokio::test]
async fn a_malformed_file_is_a_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_scenario(dir.path(), "[run\nname = ");
    let r = lgtm(&["run", &f]).await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not valid TOML"), "{}", r.stderr);
    let missing = lgtm(&["run", "does/not/exist.toml"]).await;
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("cannot read the file"), "{}", missing.stderr);
}

#[tokio::test]
async fn every_problem_is_reported_at_once_with_its_key_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        support::small_scenario("bad", "http://127.0.0.1:9", "").replace("rate = 10", "rate = -3\nratee = 4").replace("cardinality = 3", "cardinality = 0");
    let f = write_scenario(dir.path(), &text);
    let r = lgtm(&["run", &f, "--set", "run.duration=soon"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    for expected in [
        "4 problems",
        "mimir.write.ratee: unknown field `ratee`",
        "mimir.write.rate: -3 is not a rate; use a positive number",
        "mimir.write.series.labels.0.cardinality: must be at least 1",
        "run.duration: `soon` is not a duration",
    ] {
        assert!(r.stderr.contains(expected), "missing `{expected}` in:\n{}", r.stderr);
    }
    let bad_set = lgtm(&["validate", &f, "--set", "rate"]).await;
    assert_eq!(bad_set.code, 2);
    assert!(bad_set.stderr.contains("key=value"), "{}", bad_set.stderr);
}

#[tokio::test]
async fn an_unreachable_target_fails_fast_at_preflight() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{}", support::free_port());
    let f = write_scenario(dir.path(), &support::small_scenario("down", &base, ""));
    let out = dir.path().join("results");
    let r = lgtm(&["run", &f, "--quiet", "--out", out.to_str().unwrap()]).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{base}/api/v1/write")), "{}", r.stderr);
    assert!(r.stderr.contains("unreachable") && r.stderr.contains("onnection refused"), "{}", r.stderr);
    assert!(results_in(&out).is_empty(), "no load was sent, so no results");
}

#[tokio::test]
async fn a_target_answering_garbage_is_refused_at_preflight() {
    let server = ReplayServer::start(vec![Canned::new(200, "<html>hello</html>")]).await;
    let dir = tempfile::tempdir().unwrap();
    let f = write_scenario(dir.path(), &support::small_scenario("garbage", &server.base(), ""));
    let r = lgtm(&["run", &f, "--quiet", "--out", dir.path().join("r").to_str().unwrap()]).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("not with the Prometheus API's JSON") && r.stderr.contains("query_prefix"), "{}", r.stderr);
}

#[tokio::test]
async fn garbage_during_the_run_is_counted_and_fails_the_objectives() {
    let writes = ReplayServer::start(vec![Canned::new(204, "")]).await;
    let ok = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
    let queries = ReplayServer::start(vec![Canned::new(200, ok), Canned::new(200, "garbage")]).await;
    let dir = tempfile::tempdir().unwrap();
    let text = support::small_scenario("midrun", &writes.base(), "")
        .replace(&format!("query_url = \"{}\"", writes.base()), &format!("query_url = \"{}\"", queries.base()))
        .replace("sample_every = 3", "sample_every = 1000000")
        .replace("deadline = \"20s\"", "deadline = \"1s\"");
    let f = write_scenario(dir.path(), &text);
    let out = dir.path().join("r");
    let r = lgtm(&["run", &f, "--quiet", "--out", out.to_str().unwrap(), "--set", "objectives=[\"mimir.query error_ratio < 1%\"]"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("FAIL mimir.query error_ratio < 1%"), "{}", r.stdout);
    assert!(r.stdout.contains("bad_response"), "{}", r.stdout);
    let report = lgtm_bench::report::json::read(&results_in(&out)[0]).unwrap();
    let q = &report.paths["mimir.query"];
    assert!(q.calls > 0);
    assert_eq!(q.count(lgtm_bench::stats::OutcomeClass::BadResponse), q.calls);
    // Each query keeps its first failures as examples: the query asked and the answer that came back.
    let sum = &report.paths["mimir.query.sum"].examples;
    assert!(!sum.is_empty() && sum.len() <= 5, "{sum:?}");
    assert!(sum.iter().all(|e| e.class == "bad_response" && e.key == "sum `sum(lgtm_test_a_total)`" && e.answer == "HTTP 200: garbage"), "{sum:?}");
    assert!(sum.windows(2).all(|w| w[0].at_s <= w[1].at_s), "in time order");
    assert!(r.stdout.contains("e.g. bad_response at ") && r.stdout.contains("sum `sum(lgtm_test_a_total)` → HTTP 200: garbage"), "{}", r.stdout);
}

#[tokio::test]
async fn results_that_cannot_be_written_have_their_own_exit_code() {
    let writes = ReplayServer::start(vec![Canned::new(204, "")]).await;
    let dir = tempfile::tempdir().unwrap();
    let text = "[run]\nname = \"nowrite\"\nwarmup = \"0s\"\nduration = \"300ms\"\n[mimir]\nwrite_url = \"WRITE/api/v1/write\"\nquery_url = \"WRITE\"\n[mimir.write]\nrate = 10\n[mimir.write.series]\nactive = 10\nsamples_per_request = 10\n"
        .replace("WRITE", &writes.base());
    let f = write_scenario(dir.path(), &text);
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let r = lgtm(&["run", &f, "--quiet", "--out", blocker.to_str().unwrap()]).await;
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stdout.contains("mimir.write"), "the summary is still printed: {}", r.stdout);
    assert!(r.stderr.contains("could not be written") && r.stderr.contains("--out"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_run_writes_partial_results() {
    let prom = tokio::task::spawn_blocking(support::prometheus::Prometheus::start).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = write_scenario(dir.path(), &support::small_scenario("interrupted", &prom.base(), ""));
    let out = dir.path().join("r");
    let mut started = support::Started::spawn(&["run", &f, "--out", out.to_str().unwrap(), "--set", "run.duration=120s"], &[]);
    // Wait for a progress line that shows measured writes, then interrupt.
    started.wait_for(|line| line.starts_with('[') && !line.contains("warm-up") && line.contains("mimir.write") && line.contains("/s err")).await;
    let (code, _, rest) = started.interrupt().await;
    assert_eq!(code, Some(130), "{rest}");
    assert!(rest.contains("partial results written"), "{rest}");
    let files = results_in(&out);
    assert_eq!(files.len(), 1);
    let report = lgtm_bench::report::json::read(&files[0]).unwrap();
    assert!(report.run.interrupted);
    assert!(report.run.stop_reason.contains("Ctrl-C"));
    assert!(report.run.measured_seconds < report.run.planned_measured_seconds);
    assert!(report.paths["mimir.write"].calls > 0);
}

#[tokio::test]
async fn tempo_requests_over_the_receivers_message_limit_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[run]\nname = \"big\"\nduration = \"1s\"\n[tempo]\notlp_url = \"http://127.0.0.1:4317\"\nquery_url = \"http://127.0.0.1:3200\"\n[tempo.write]\nrate = 100\nspans_per_request = 50000\n[tempo.traces]\nattribute_value_size = 200\n";
    let f = write_scenario(dir.path(), text);
    let r = lgtm(&["validate", &f]).await;
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("tempo.write.spans_per_request") && r.stderr.contains("4 MiB message limit"), "{}", r.stderr);
    let ok = lgtm(&["validate", &f, "--set", "tempo.write.spans_per_request=500"]).await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}

#[test]
fn expected_restarts_drop_the_implied_restart_objective() {
    let text = support::small_scenario("mem", "http://127.0.0.1:9", "[mimir.memory]\nbudget = \"1Gi\"\nmetrics_urls = [\"http://127.0.0.1:9/metrics\"]\n");
    let objectives_of = |plan: lgtm_bench::engine::plan::Plan| plan.objectives.iter().map(|o| o.text.clone()).collect::<Vec<_>>();
    let s = lgtm_bench::targets::parse(&text, "t", &[]).unwrap();
    let implied = objectives_of(s);
    assert!(implied.contains(&"mimir.memory peak <= 1.00Gi".to_string()) && implied.contains(&"mimir.memory restarts == 0".to_string()));
    let expected = lgtm_bench::targets::parse(&text, "t", &["mimir.memory.restarts_expected=true".parse().unwrap()]).unwrap();
    assert!(!objectives_of(expected).iter().any(|o| o.contains("restarts")));
    let own_peak = lgtm_bench::targets::parse(&text, "t", &["objectives=[\"mimir.memory peak <= 512Mi\"]".parse().unwrap()]).unwrap();
    let objectives = objectives_of(own_peak);
    assert_eq!(objectives.iter().filter(|o| o.contains("peak")).collect::<Vec<_>>(), ["mimir.memory peak <= 512Mi"], "the scenario's own bound wins");
}

#[tokio::test]
async fn messages_name_the_key_the_kind_and_where_the_problem_came_from() {
    let r = lgtm(&["validate", "scenarios/local-prometheus.toml", "--set", "mimir.write.rate=abc"]).await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("mimir.write.rate takes a number, e.g. mimir.write.rate = 50"), "{}", r.stderr);
    assert!(r.stderr.contains("(from --set mimir.write.rate)"), "{}", r.stderr);
    assert!(!r.stderr.contains("expected f64"), "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("scenario.toml");
    std::fs::write(&binary, [0u8, 159, 146, 150, 255]).unwrap();
    let r = lgtm(&["validate", binary.to_str().unwrap()]).await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a text file"), "{}", r.stderr);
    // The plan printout speaks the scenario's own words.
    let v = lgtm(&["validate", "scenarios/homelab.toml"]).await;
    for spelled in ["range-7d: range", "over 7d", "over 24h", "by-id: trace_by_id", "search: traceql", "OTLP/grpc"] {
        assert!(v.stdout.contains(spelled), "{spelled} missing:\n{}", v.stdout);
    }
    for rust_name in ["7days", "TraceById", "Traceql", "Instant", "Range "] {
        assert!(!v.stdout.contains(rust_name), "{rust_name} shown:\n{}", v.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_header_value_is_ever_shown_or_written() {
    const SECRET: &str = "tok-0d1e5ecret9";
    let header = format!("mimir.connection.headers={{\"Authorization\"=\"Bearer {SECRET}\",\"X-Team\"=\"{SECRET}\"}}");
    let v = lgtm(&["validate", "scenarios/local-prometheus.toml", "--set", &header]).await;
    assert_eq!(v.code, 0, "{}", v.stderr);
    assert!(v.stdout.contains("<redacted>"), "{}", v.stdout);
    assert!(!v.stdout.contains(SECRET) && !v.stderr.contains(SECRET), "validate shows the secret");
    let prom = tokio::task::spawn_blocking(support::prometheus::Prometheus::start).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = write_scenario(dir.path(), &support::small_scenario("secret", &prom.base(), ""));
    let out = dir.path().join("r");
    let r = lgtm(&["run", &f, "--out", out.to_str().unwrap(), "--set", &header]).await;
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(!r.stdout.contains(SECRET) && !r.stderr.contains(SECRET), "run shows the secret");
    let files = results_in(&out);
    assert_eq!(files.len(), 1);
    let written = std::fs::read_to_string(&files[0]).unwrap();
    assert!(written.contains("<redacted>") && !written.contains(SECRET), "the results file holds the secret");
}

#[tokio::test]
async fn selftest_reports_every_write_path_with_its_ceiling() {
    let r = lgtm(&["selftest", "scenarios/homelab.toml", "--duration", "1s"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    for path in ["mimir.write", "tempo.write"] {
        let line = r.stdout.lines().find(|l| l.starts_with(path)).unwrap_or_else(|| panic!("{path} missing:\n{}", r.stdout));
        let words: Vec<&str> = line.split_whitespace().collect();
        let requests: f64 = words[1].parse().unwrap();
        let ceiling: f64 = words[2].parse().unwrap();
        assert!(requests > 0.0 && ceiling > 0.0, "{line}");
        assert!(words.last().unwrap().ends_with('x'), "headroom shown: {line}");
    }
    assert!(r.stdout.contains("CPU-s") && r.stdout.contains("RSS"), "{}", r.stdout);
    assert!(r.stdout.contains("one generator"), "{}", r.stdout);
    // The other protocols' ceilings, each measured alone (homelab writes rw1).
    for protocol in ["rw2", "otlp"] {
        let line = r.stdout.lines().find(|l| l.ends_with(&format!("(as {protocol})"))).unwrap_or_else(|| panic!("{protocol} missing:\n{}", r.stdout));
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(words[1].parse::<f64>().unwrap() > 0.0 && words[2].parse::<f64>().unwrap() > 0.0, "{line}");
        assert!(!r.stdout.contains("calls failed against the sink"), "{}", r.stdout);
    }
    let none = lgtm(&["selftest", "scenarios/homelab.toml", "--set", "run.duration=abc"]).await;
    assert_eq!(none.code, 2);
}
