//! Test support: a real Prometheus started per test, the recorded fixtures of real Tempo and
//! Cortex servers, a replay HTTP server and scenario helpers. Everything listens on loopback only.
#![allow(dead_code)]

pub mod browser;
pub mod fault_proxy;
pub mod fixtures;
pub mod http_faults;
pub mod otlp_receiver;
pub mod prometheus;
pub mod replay;
pub mod s3;

use lgtm_bench::engine::plan::Plan;
use lgtm_bench::targets::{self, Scenario};
use std::net::TcpListener;

/// A scenario's text as its typed value (checked structurally, as `run` reads it).
pub fn scenario(text: &str) -> Scenario {
    lgtm_bench::scenario::parse(text, "test", &[], |s: Scenario| Ok(s)).unwrap()
}

/// The resolved plan of a scenario, as `run` builds it.
pub fn plan(s: &Scenario) -> Plan {
    targets::resolve(s.clone()).unwrap_or_else(|problems| panic!("{problems:?}"))
}

/// A loopback port that nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A small scenario against `base` (Prometheus layout: write at /api/v1/write, API at the root).
pub fn small_scenario(name: &str, base: &str, extra: &str) -> String {
    format!(
        r#"
objectives = ["mimir.write p99 < 30s", "mimir.write error_ratio < 1%", "mimir.query p99 < 30s", "mimir.visibility lost == 0"]
[run]
name = "{name}"
seed = 7
warmup = "1s"
duration = "2s"
progress_interval = "500ms"
[mimir]
write_url = "{base}/api/v1/write"
query_url = "{base}"
[mimir.write]
rate = 10
max_in_flight = 8
connections = 2
[mimir.write.series]
active = 60
samples_per_request = 20
metrics = ["lgtm_test_a_total", "lgtm_test_b_total"]
labels = [{{ name = "pod", cardinality = 3 }}]
[mimir.query_load]
concurrency = 2
[[mimir.queries]]
name = "sum"
query = "sum(lgtm_test_a_total)"
[[mimir.queries]]
name = "range-7d"
kind = "range"
query = "count(lgtm_test_b_total)"
range = "7d"
step = "1h"
[mimir.visibility]
sample_every = 3
poll_interval = "50ms"
deadline = "20s"
{extra}
"#
    )
}

/// The binary under test, started and read line by line on stderr (progress, steps), so a test can
/// act at a point the run itself announces: no sleeps.
pub struct Started {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStderr>>,
}

impl Started {
    /// Starts `lgtm-bench args…` with `env` added to its environment.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Started {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
            .args(args)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        Started { child, lines }
    }

    /// Reads stderr up to the first line `wanted` accepts; the process must not end before it.
    pub async fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) {
        loop {
            let line = self.lines.next_line().await.unwrap().expect("the process ended before the line it was to print");
            if wanted(&line) {
                return;
            }
        }
    }

    /// Sends Ctrl-C (SIGINT) and waits for the process: its exit code, stdout, and the rest of stderr.
    pub async fn interrupt(self) -> (Option<i32>, String, String) {
        let pid = self.child.id().unwrap().to_string();
        assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
        self.finish().await
    }

    /// Waits for the process to end by itself: its exit code, stdout, and the rest of stderr.
    pub async fn finish(mut self) -> (Option<i32>, String, String) {
        let mut rest = String::new();
        while let Some(l) = self.lines.next_line().await.unwrap() {
            rest += &l;
            rest.push('\n');
        }
        let output = self.child.wait_with_output().await.unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into(), rest)
    }
}

/// Runs the binary on a scenario's text (`run --quiet` into a temporary folder): its exit code,
/// what it printed, and its results when it wrote them.
pub async fn run_binary(text: &str) -> (Option<i32>, String, Option<lgtm_bench::report::Report>) {
    run_binary_with(text, &[]).await
}

/// `run_binary` with more flags for `run`.
pub async fn run_binary_with(text: &str, flags: &[&str]) -> (Option<i32>, String, Option<lgtm_bench::report::Report>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("r");
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_lgtm-bench"))
        .args(["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .args(flags)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_dir(&out)
        .ok()
        .and_then(|d| d.map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")))
        .map(|p| lgtm_bench::report::json::read(&p).unwrap());
    (o.status.code(), printed, report)
}
