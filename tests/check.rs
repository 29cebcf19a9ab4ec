//! `check` end to end with real components: a real Prometheus stands in for Mimir (write, read
//! back, PromQL, malformed write), a real S3 server (`s3s-fs`) holds block layouts copied from what
//! Cortex and Tempo write, two real Prometheus instances make a remote-write queue (healthy, and
//! broken by a wrong port), `--record`/`--verify` span a real Prometheus restart, and Tempo's wire
//! and query side come from the in-process receiver that serves what it was sent.

mod support;

use lgtm_bench::check::model::{CheckReport, Status};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use support::prometheus::Prometheus;
use support::s3::{S3Server, ACCESS_KEY, SECRET_KEY};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lgtm-bench");

/// The checks that run real servers: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn mimir_scenario(prom: &str, extra: &str) -> String {
    format!(
        r#"
[run]
name = "check"
duration = "1s"
[mimir]
write_url = "{prom}/api/v1/write"
query_url = "{prom}"
[mimir.connection]
tenant = "perf"
[mimir.write]
rate = 1
[mimir.write.series]
active = 10
samples_per_request = 10
metrics = ["lgtm_check_load_total"]
{extra}
"#
    )
}

struct Checked {
    code: i32,
    stdout: String,
    stderr: String,
    report: Option<CheckReport>,
}

impl Checked {
    fn status(&self, id: &str, title_part: &str) -> Status {
        let r = self.report.as_ref().unwrap_or_else(|| panic!("no results: {}", self.stderr));
        r.criteria.iter().find(|c| c.id == id && c.title.contains(title_part)).unwrap_or_else(|| panic!("no {id} `{title_part}` in\n{}", self.stdout)).status
    }
    fn reason(&self, id: &str) -> String {
        self.report.as_ref().unwrap().criteria.iter().filter(|c| c.id == id).filter_map(|c| c.reason.clone()).collect::<Vec<_>>().join("; ")
    }
}

async fn check(dir: &Path, scenario: &str, args: &[&str], env: &[(&str, &str)]) -> Checked {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join("results");
    let _ = std::fs::remove_dir_all(&out);
    let mut cmd = Command::new(BIN);
    cmd.args(["check", file.to_str().unwrap(), "--out", out.to_str().unwrap()]).args(args).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().await.unwrap();
    let report = std::fs::read_dir(&out)
        .ok()
        .and_then(|d| d.map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")))
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap());
    Checked {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into(),
        stderr: String::from_utf8_lossy(&o.stderr).into(),
        report,
    }
}

const S3_ENV: [(&str, &str); 2] = [("LGTM_TEST_S3_KEY", ACCESS_KEY), ("LGTM_TEST_S3_SECRET", SECRET_KEY)];

fn s3_section(endpoint: &str, mimir_bucket: &str, tempo_bucket: &str) -> String {
    format!(
        "[check.s3]\nendpoint = \"{endpoint}\"\naccess_key_env = \"LGTM_TEST_S3_KEY\"\nsecret_key_env = \"LGTM_TEST_S3_SECRET\"\nmimir_bucket = \"{mimir_bucket}\"\ntempo_bucket = \"{tempo_bucket}\"\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn mimir_criteria_pass_on_a_real_prometheus_and_its_blocks_are_found_in_a_real_s3_server() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let s3 = S3Server::start().await;
    s3.seed_cortex("mimir-blocks");
    let dir = tempfile::tempdir().unwrap();
    let c = check(dir.path(), &mimir_scenario(&prom.base(), &s3_section(&s3.endpoint(), "mimir-blocks", "tempo-traces")), &[], &S3_ENV).await;
    assert_eq!(c.code, 0, "{}\n{}", c.stdout, c.stderr);
    for (id, part) in [
        ("AC-lgtm-003-02", "acknowledged"),
        ("AC-lgtm-003-02", "malformed"),
        ("AC-lgtm-003-02", "queryable"),
        ("AC-lgtm-003-05", "recent"),
        ("AC-lgtm-003-05", "7-day"),
        ("AC-lgtm-003-05", "does not exist"),
        ("AC-lgtm-003-05", "10 queries"),
        ("AC-lgtm-003-01", "S3 bucket"),
    ] {
        assert_eq!(c.status(id, part), Status::Pass, "{id} {part}\n{}", c.stdout);
    }
    // What is not configured is skipped, with the key to set, never passed.
    assert_eq!(c.status("AC-lgtm-005-01", "Grafana"), Status::Skipped);
    assert_eq!(c.status("AC-lgtm-003-02", "TASK-lgtm-017"), Status::Skipped);
    assert_eq!(c.status("AC-lgtm-004-01", "SOPS"), Status::Skipped);
    assert_eq!(c.status("NFR-SCALE-002", "mimir pods"), Status::Skipped);
    assert!(c.stdout.contains("set [check.remote_write_queue]"), "{}", c.stdout);
    // The evidence is what was measured: the written values read back, the block's own meta.json.
    assert!(c.stdout.contains("10 of 10 samples read back equal"), "{}", c.stdout);
    assert!(c.stdout.contains("40000 series, 1200000 samples, tenant `perf`"), "{}", c.stdout);
    assert!(c.stdout.contains("HTTP 400"), "the malformed write's answer is shown: {}", c.stdout);
    // The results as a person and a CI system read them: HTML in a browser, JUnit.
    let produced = |ext: &str| {
        std::fs::read_dir(dir.path().join("results")).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == ext)).unwrap()
    };
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("check-screenshot.png");
    let (dom, log) = support::browser::chromium(&produced("html"), &shot);
    assert!(!log.contains("Uncaught") && !log.contains(":CONSOLE("), "console errors: {log}");
    let criteria = c.report.as_ref().unwrap().criteria.len();
    assert!(dom.contains("check: PASS") && dom.matches("<tr class=").count() == criteria, "{dom}");
    let xml = std::fs::read_to_string(produced("xml")).unwrap();
    let junit = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(junit.descendants().filter(|n| n.has_tag_name("testcase")).count(), criteria);
    // Skipped: Tempo's and Grafana's criteria, the manifests, and Mimir's own counters (no metrics_urls).
    assert_eq!(junit.descendants().filter(|n| n.has_tag_name("skipped")).count(), 6);
    assert_eq!(junit.descendants().filter(|n| n.has_tag_name("failure")).count(), 0);
    // `report` renders a check results file like a run's.
    let page = dir.path().join("again.html");
    let again = std::process::Command::new(BIN).args(["report", produced("json").to_str().unwrap(), "--html", page.to_str().unwrap()]).output().unwrap();
    assert!(again.status.success() && std::fs::read_to_string(&page).unwrap().contains("AC-lgtm-003-01"));
    // Waiting for this check's own samples to reach the bucket: the seeded block is older, so no
    // block covers them within the wait.
    let waited =
        check(dir.path(), &mimir_scenario(&prom.base(), &s3_section(&s3.endpoint(), "mimir-blocks", "tempo-traces")), &["--wait-s3", "1s"], &S3_ENV).await;
    assert_eq!(waited.status("AC-lgtm-003-01", "S3 bucket"), Status::Fail);
    assert!(waited.reason("AC-lgtm-003-01").contains("no block covers this check's samples"), "{}", waited.stdout);
    // The credentials are never shown or written.
    let results = std::fs::read_dir(dir.path().join("results")).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect::<String>();
    for text in [&c.stdout, &c.stderr, &results] {
        assert!(!text.contains(SECRET_KEY), "the secret key leaked");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_bucket_refused_credentials_or_an_unset_variable_fail_with_the_fix() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let s3 = S3Server::start().await;
    s3.bucket("mimir-blocks");
    let dir = tempfile::tempdir().unwrap();
    let no_bucket = check(dir.path(), &mimir_scenario(&prom.base(), &s3_section(&s3.endpoint(), "no-such-bucket", "x")), &[], &S3_ENV).await;
    assert_eq!(no_bucket.code, 1);
    assert_eq!(no_bucket.status("AC-lgtm-003-01", "S3"), Status::Fail);
    assert!(no_bucket.reason("AC-lgtm-003-01").contains("does not exist"), "{}", no_bucket.stdout);
    let wrong = check(
        dir.path(),
        &mimir_scenario(&prom.base(), &s3_section(&s3.endpoint(), "mimir-blocks", "x")),
        &[],
        &[("LGTM_TEST_S3_KEY", ACCESS_KEY), ("LGTM_TEST_S3_SECRET", "wrong")],
    )
    .await;
    assert_eq!(wrong.status("AC-lgtm-003-01", "S3"), Status::Fail);
    assert!(wrong.reason("AC-lgtm-003-01").contains("credentials were refused"), "{}", wrong.stdout);
    let empty = check(dir.path(), &mimir_scenario(&prom.base(), &s3_section(&s3.endpoint(), "mimir-blocks", "x")), &[], &S3_ENV).await;
    assert!(empty.reason("AC-lgtm-003-01").contains("no block with meta.json"), "an empty bucket: {}", empty.stdout);
    let unset = check(dir.path(), &mimir_scenario(&prom.base(), &s3_section(&s3.endpoint(), "mimir-blocks", "x")), &[], &[]).await;
    assert!(unset.reason("AC-lgtm-003-01").contains("LGTM_TEST_S3_KEY"), "{}", unset.stdout);
    // An unreachable target: every failure is "did not answer", exit 3.
    let down = check(dir.path(), &mimir_scenario(&format!("http://127.0.0.1:{}", support::free_port()), ""), &[], &[]).await;
    assert_eq!(down.code, 3, "{}", down.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_samples_survive_a_real_restart_and_a_fresh_data_dir_loses_exactly_them() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record.json");
    let scenario = mimir_scenario(&prom.base(), "");
    let first = check(dir.path(), &scenario, &["--record", record.to_str().unwrap()], &[]).await;
    assert_eq!(first.status("AC-lgtm-003-02", "queryable"), Status::Pass, "{}", first.stdout);
    assert!(first.stdout.contains("--verify"), "it says how to verify: {}", first.stdout);
    let (data, port) = prom.stop_gracefully();
    // While it is down: nothing known to be lost, so "could not check" and the unreachable code.
    let down = check(dir.path(), &scenario, &["--verify", record.to_str().unwrap()], &[]).await;
    assert_eq!(down.code, 3, "{}\n{}", down.stdout, down.stderr);
    assert!(down.reason("NFR-RECOVER-001").starts_with("could not check: Mimir at"), "{}", down.stdout);
    // With --wait, the verification waits for the target to come back (started once it says so).
    let (prom, verified) = verify_once_back(dir.path(), &scenario, &record, data, port).await;
    assert_eq!(verified.code, 0, "{}\n{}", verified.stdout, verified.stderr);
    assert!(verified.stderr.contains("Mimir does not answer yet: waiting up to 1m"), "{}", verified.stderr);
    assert!(verified.stdout.contains("10 of 10 samples read back equal"), "{}", verified.stdout);
    assert_eq!(verified.status("NFR-RECOVER-001", "after the restart Mimir takes new samples again"), Status::Pass, "{}", verified.stdout);
    // A target that lost its data: the exact list of what was lost.
    let (_, port) = prom.stop_gracefully();
    let _fresh = Prometheus::start_in(tempfile::tempdir().unwrap(), port);
    let lost = check(dir.path(), &scenario, &["--verify", record.to_str().unwrap()], &[]).await;
    assert_eq!(lost.code, 1);
    let why = lost.reason("NFR-RECOVER-001");
    assert!(why.starts_with("10 of 10 lost or changed"), "{why}");
    let recorded: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    for s in recorded["targets"]["mimir"]["samples"].as_array().unwrap() {
        assert!(why.contains(s["selector"].as_str().unwrap()), "{why}");
    }
}

/// `check --verify --wait 1m` started while the target is down; the target (Prometheus on `data`
/// and `port`) is started again once the check says it waits for it.
async fn verify_once_back(dir: &Path, scenario: &str, record: &Path, data: tempfile::TempDir, port: u16) -> (Prometheus, Checked) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join("results");
    let _ = std::fs::remove_dir_all(&out);
    let mut child = Command::new(BIN)
        .args(["check", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--verify", record.to_str().unwrap(), "--wait", "1m"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut stderr = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        stderr += &line;
        stderr.push('\n');
        if line.contains("does not answer yet") {
            break;
        }
    }
    let prom = Prometheus::start_in(data, port);
    while let Some(line) = lines.next_line().await.unwrap() {
        stderr += &line;
        stderr.push('\n');
    }
    let o = child.wait_with_output().await.unwrap();
    let report = std::fs::read_dir(&out)
        .ok()
        .and_then(|d| d.map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")))
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap());
    (prom, Checked { code: o.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&o.stdout).into(), stderr, report })
}

/// A Prometheus that scrapes itself every second and remote-writes to `remote`.
fn sender(remote: &str) -> Prometheus {
    let extra = format!(
        "scrape_configs:\n  - job_name: self\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['127.0.0.1:$PORT']\nremote_write:\n  - url: {remote}\n    queue_config:\n      batch_send_deadline: 1s\n      min_backoff: 100ms\n      max_backoff: 1s\n"
    );
    Prometheus::start_with(tempfile::tempdir().unwrap(), support::prometheus::FREE_PORT, &extra)
}

/// Polls the sender's own metrics every 100 ms, for up to a minute, until `query` returns a
/// non-empty vector: Prometheus logs nothing when its remote-write queue first reports, so the
/// condition itself is waited on (a bounded poll, never a fixed sleep).
async fn until(p: &Prometheus, query: &str) {
    for _ in 0..600 {
        if p.query(query)["data"]["result"].as_array().is_some_and(|r| !r.is_empty()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("`{query}` stayed empty");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_remote_write_queue_of_a_real_prometheus_is_healthy_and_a_wrong_port_fails() {
    let _one = ONE_AT_A_TIME.lock().await;
    let receiver = Prometheus::start();
    let healthy = sender(&format!("{}/api/v1/write", receiver.base()));
    until(&healthy, "prometheus_remote_storage_queue_highest_sent_timestamp_seconds > 0").await;
    let dir = tempfile::tempdir().unwrap();
    let queue = |p: &Prometheus| format!("[check.remote_write_queue]\nprometheus_url = \"{}\"\nwindow = \"3s\"\n", p.base());
    let ok = check(dir.path(), &mimir_scenario(&receiver.base(), &queue(&healthy)), &[], &[]).await;
    assert_eq!(ok.status("AC-lgtm-003-02", "TASK-lgtm-017"), Status::Pass, "{}", ok.stdout);
    assert!(ok.stdout.contains("max samples per send"), "the queue settings in force: {}", ok.stdout);
    let broken = sender(&format!("http://127.0.0.1:{}/api/v1/write", support::free_port()));
    until(&broken, "prometheus_remote_storage_samples_pending").await;
    let bad = check(dir.path(), &mimir_scenario(&receiver.base(), &queue(&broken)), &[], &[]).await;
    assert_eq!(bad.status("AC-lgtm-003-02", "TASK-lgtm-017"), Status::Fail, "{}", bad.stdout);
    assert_eq!(bad.code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn tempo_criteria_over_the_wire_with_blocks_copied_from_what_tempo_writes() {
    let tempo = FakeTempo::start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = check(dir.path(), &tempo.scenario, &[], &S3_ENV).await;
    for (id, part) in [
        ("AC-lgtm-002-01", "ready"),
        ("AC-lgtm-002-02", "acknowledged"),
        ("AC-lgtm-002-05", "found by ID"),
        ("AC-lgtm-002-05", "10 traces"),
        ("AC-lgtm-002-05", "does not exist"),
        ("AC-lgtm-002-02", "S3 bucket"),
    ] {
        assert_eq!(c.status(id, part), Status::Pass, "{id} {part}\n{}", c.stdout);
    }
    assert_eq!(c.code, 0, "{}", c.stdout);
    // Tempo 3.x's build info leaves the version empty: said, not invented.
    assert!(c.stdout.contains("build: unknown"), "{}", c.stdout);
    assert!(c.stdout.contains("5320 traces") && c.stdout.contains("format vParquet5"), "the block's own meta.json: {}", c.stdout);
    assert!(c.stdout.contains("no descriptive message"), "{}", c.stdout);
    // The one Export carried the ten traces of three spans the queries then found complete.
    assert_eq!(tempo.receiver.received().iter().map(|r| r.spans().count()).sum::<usize>(), 30);
    // Recovery: what --record wrote is found after the "restart", and a new trace is taken and found.
    let record = dir.path().join("tempo-record.json");
    let recorded = check(dir.path(), &tempo.scenario, &["--record", record.to_str().unwrap()], &S3_ENV).await;
    assert_eq!(recorded.code, 0, "{}", recorded.stdout);
    let verified = check(dir.path(), &tempo.scenario, &["--verify", record.to_str().unwrap()], &[]).await;
    assert_eq!(verified.status("AC-lgtm-002-03", "written before the restart"), Status::Pass, "{}", verified.stdout);
    assert!(verified.stdout.contains("10 of 10 traces found complete"), "{}", verified.stdout);
    assert_eq!(verified.status("AC-lgtm-002-03", "takes new traces again"), Status::Pass, "{}", verified.stdout);
    assert_eq!(tempo.receiver.received().iter().map(|r| r.spans().count()).sum::<usize>(), 90, "the check's, the record's and the new trace's Exports");
}

/// Tempo over the wire: the in-process OTLP receiver, its query API serving what it got, and a real
/// S3 server seeded with the blocks Tempo wrote; `scenario` points a check at all three.
struct FakeTempo {
    receiver: support::otlp_receiver::Receiver,
    _query_api: tokio::task::JoinHandle<()>,
    s3: S3Server,
    scenario: String,
}

impl FakeTempo {
    async fn start() -> FakeTempo {
        use support::otlp_receiver::{serve_query_api, Answer, Receiver};
        let receiver = Receiver::start(vec![Answer::Ok]).await;
        let (query_port, _query_api) = serve_query_api(receiver.shared.clone()).await;
        let s3 = S3Server::start().await;
        s3.seed_tempo("tempo-traces");
        let scenario = format!(
            "[run]\nname = \"check-tempo\"\nduration = \"1s\"\n[tempo]\notlp_url = \"{}\"\nquery_url = \"http://127.0.0.1:{query_port}\"\n[tempo.connection]\ntenant = \"bench\"\n[tempo.write]\nrate = 1\n{}",
            receiver.url(),
            s3_section(&s3.endpoint(), "mimir-blocks", "tempo-traces")
        );
        FakeTempo { receiver, _query_api, s3, scenario }
    }
}

/// Starts `check` with `--wait-s3 5m`, lets `land` put a block into the bucket once the check says
/// it is waiting, and returns how the check ended: exit code and stdout.
async fn check_while_a_block_lands(dir: &Path, scenario: &str, land: impl FnOnce()) -> (Option<i32>, String) {
    let file = dir.join("scenario.toml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.join("results");
    let mut started = support::Started::spawn(&["check", file.to_str().unwrap(), "--wait-s3", "5m", "--out", out.to_str().unwrap()], &S3_ENV);
    started.wait_for(|line| line.starts_with("waiting up to")).await;
    land();
    let (code, stdout, _) = started.finish().await;
    (code, stdout)
}

/// `--wait-s3` for Tempo: the recorded block is older than this check's traces, so a short wait
/// fails; a block holding them (the recorded meta.json with a new id, its range ending in the
/// second they started, in whole seconds as Tempo writes it) that lands while the check waits passes.
#[tokio::test(flavor = "multi_thread")]
async fn waiting_for_tempo_blocks_fails_on_older_ones_and_passes_on_one_cut_after_the_write() {
    let tempo = FakeTempo::start().await;
    let dir = tempfile::tempdir().unwrap();
    let short = check(dir.path(), &tempo.scenario, &["--wait-s3", "1s"], &S3_ENV).await;
    assert_eq!(short.status("AC-lgtm-002-02", "S3 bucket"), Status::Fail, "{}", short.stdout);
    assert!(short.reason("AC-lgtm-002-02").contains("no block covers this check's traces"), "{}", short.stdout);
    assert_eq!(short.code, 1);

    let block = "6f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5";
    let (code, stdout) = check_while_a_block_lands(dir.path(), &tempo.scenario, || {
        let mut meta = support::s3::recorded_meta("tempo");
        // The block ends in the second this check's traces start (the newest Export's; the
        // receiver still holds the short check's), as Tempo truncates it: the earliest end a
        // block holding them can have.
        let start_ns = tempo.receiver.received().iter().flat_map(|r| r.spans().map(|span| span.start_time_unix_nano)).max().unwrap();
        let end = chrono::DateTime::from_timestamp((start_ns / 1_000_000_000) as i64, 0).unwrap();
        meta["blockID"] = block.into();
        meta["startTime"] = (end - chrono::Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into();
        meta["endTime"] = end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into();
        tempo.s3.put("tempo-traces", &format!("bench/{block}/meta.json"), meta.to_string().as_bytes());
    })
    .await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains(&format!("newest bench/{block}/meta.json")) && stdout.contains("covers this check's traces"), "{stdout}");
}

/// `--wait-s3` for Mimir: a block whose maxTime is after this check's samples (the recorded Cortex
/// meta.json under a new ULID) lands while the check waits, and the criterion passes on it.
#[tokio::test(flavor = "multi_thread")]
async fn waiting_for_mimir_blocks_passes_on_one_shipped_after_the_write() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let s3 = S3Server::start().await;
    s3.seed_cortex("mimir-blocks");
    let dir = tempfile::tempdir().unwrap();
    let scenario = mimir_scenario(&prom.base(), &s3_section(&s3.endpoint(), "mimir-blocks", "tempo-traces"));
    let mut ulid = String::new();
    let (code, stdout) = check_while_a_block_lands(dir.path(), &scenario, || {
        let mut meta = support::s3::recorded_meta("cortex");
        let now_ms = chrono::Utc::now().timestamp_millis();
        ulid = ulid_at(now_ms as u64);
        meta["ulid"] = ulid.clone().into();
        meta["minTime"] = (now_ms - 7_200_000).into();
        meta["maxTime"] = (now_ms + 1).into();
        s3.put("mimir-blocks", &format!("perf/{ulid}/meta.json"), meta.to_string().as_bytes());
    })
    .await;
    drop(prom);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains(&format!("newest perf/{ulid}/meta.json")) && stdout.contains("covers the samples written by this check"), "{stdout}");
}

/// A ULID made at `ms` (Crockford base32: 10 characters of time, then the random part, here zeros).
fn ulid_at(ms: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..10).rev().map(|i| ALPHABET[((ms >> (5 * i)) & 31) as usize] as char).chain(std::iter::repeat_n('0', 16)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn grafana_datasources_are_checked_through_its_api_with_the_token() {
    use support::replay::{Canned, ReplayServer};
    // As Grafana's API answers: a datasource from its provisioning files is `readOnly`.
    let ds = |uid: &str, kind: &str, url: &str, provisioned: bool| {
        Canned::new(
            200,
            format!(r#"{{"id":1,"uid":"{uid}","orgId":1,"name":"{uid}","type":"{kind}","access":"proxy","url":"{url}","readOnly":{provisioned}}}"#),
        )
    };
    let grafana = ReplayServer::start(vec![
        ds("tempo", "tempo", "http://tempo.monitoring.svc:3200", true),
        Canned::new(200, r#"{"status":"OK","message":"Data source is working"}"#),
        ds("mimir", "prometheus", "http://mimir-gateway.monitoring.svc:8080/prometheus", false),
        Canned::new(400, r#"{"status":"ERROR","message":"Post \"http://mimir-gateway/api/v1/query\": dial tcp: lookup mimir-gateway: no such host"}"#),
    ])
    .await;
    let prom = Prometheus::start();
    let section = format!(
        "[check.grafana]\nurl = \"{}\"\ntoken_env = \"LGTM_TEST_GRAFANA\"\ndatasources = [{{ uid = \"tempo\", kind = \"tempo\", url = \"http://tempo.monitoring.svc:3200\" }}, {{ uid = \"mimir\", kind = \"prometheus\" }}]\n",
        grafana.base()
    );
    let dir = tempfile::tempdir().unwrap();
    let c = check(dir.path(), &mimir_scenario(&prom.base(), &section), &[], &[("LGTM_TEST_GRAFANA", "glsa_test_token")]).await;
    assert_eq!(c.status("AC-lgtm-005-01", "`tempo`"), Status::Pass, "{}", c.stdout);
    assert_eq!(c.status("AC-lgtm-005-03", "`tempo`"), Status::Pass, "{}", c.stdout);
    assert_eq!(c.status("AC-lgtm-005-01", "`mimir`"), Status::Pass, "provisioned: {}", c.stdout);
    assert_eq!(c.status("AC-lgtm-005-03", "`mimir`"), Status::Fail, "{}", c.stdout);
    assert!(c.reason("AC-lgtm-005-03").contains("no such host"), "the health check's own message: {}", c.stdout);
    assert_eq!(c.status("AC-lgtm-005-02", "`tempo`"), Status::Pass, "provisioned, so reloaded at every start: {}", c.stdout);
    assert_eq!(c.status("AC-lgtm-005-02", "`mimir`"), Status::Fail, "added through the API: {}", c.stdout);
    assert_eq!(c.status("AC-lgtm-005-04", "naming the cause"), Status::Pass, "the failing health check said why: {}", c.stdout);
    let received = grafana.received.lock().unwrap().clone();
    assert_eq!(
        received.iter().map(|r| r.uri.as_str()).collect::<Vec<_>>(),
        ["/api/datasources/uid/tempo", "/api/datasources/uid/tempo/health", "/api/datasources/uid/mimir", "/api/datasources/uid/mimir/health"]
    );
    assert!(received.iter().all(|r| r.headers["authorization"] == "Bearer glsa_test_token"));
    assert!(!c.stdout.contains("glsa_test_token"));
    let unset = check(dir.path(), &mimir_scenario(&prom.base(), &section), &[], &[]).await;
    assert_eq!(unset.status("AC-lgtm-005-01", "Grafana"), Status::Skipped, "no token: skipped with the variable named");
}

/// AC-lgtm-005-04 with `probe_unreachable`: a temporary datasource at an address nothing listens
/// on is added, its health check read, and it is deleted; its message must name the cause.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_probe_datasource_is_added_judged_and_deleted() {
    use support::replay::{Canned, ReplayServer};
    let healthy = [
        Canned::new(200, r#"{"id":1,"uid":"tempo","name":"tempo","type":"tempo","url":"http://tempo.monitoring.svc:3200","readOnly":true}"#),
        Canned::new(200, r#"{"status":"OK","message":"Data source is working"}"#),
    ];
    let probe = |message: &str| {
        let mut answers = healthy.to_vec();
        answers.push(Canned::new(200, r#"{"datasource":{"id":7,"uid":"p7","name":"lgtm-bench-unreachable"},"id":7,"message":"Datasource added"}"#));
        answers.push(Canned::new(400, format!(r#"{{"status":"ERROR","message":"{message}"}}"#)));
        answers.push(Canned::new(200, r#"{"message":"Data source deleted"}"#));
        answers
    };
    let prom = Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    for (message, expected) in
        [(r#"Post \"http://127.0.0.1:1/api/v1/query\": dial tcp 127.0.0.1:1: connect: connection refused"#, Status::Pass), ("error", Status::Fail)]
    {
        let grafana = ReplayServer::start(probe(message)).await;
        let section = format!(
            "[check.grafana]\nurl = \"{}\"\ntoken_env = \"LGTM_TEST_GRAFANA\"\nprobe_unreachable = true\ndatasources = [{{ uid = \"tempo\" }}]\n",
            grafana.base()
        );
        let c = check(dir.path(), &mimir_scenario(&prom.base(), &section), &[], &[("LGTM_TEST_GRAFANA", "glsa_test_token")]).await;
        assert_eq!(c.status("AC-lgtm-005-04", "naming the cause"), expected, "{message}: {}", c.stdout);
        let received = grafana.received.lock().unwrap().clone();
        let calls: Vec<String> = received.iter().map(|r| format!("{} {}", r.method, r.uri)).collect();
        assert_eq!(calls[2..], ["POST /api/datasources", "GET /api/datasources/uid/p7/health", "DELETE /api/datasources/uid/p7"], "added, judged, deleted");
        let added: serde_json::Value = serde_json::from_slice(&received[2].body).unwrap();
        assert_eq!(added["url"], "http://127.0.0.1:1");
    }
}

/// Writes samples with the given labels into Prometheus through its remote-write receiver.
async fn push(prom: &Prometheus, series: &[(&[(&str, &str)], f64)]) {
    use lgtm_bench::targets::mimir::write::proto::{Label, Sample, TimeSeries, WriteRequest};
    use prost::Message;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let timeseries = series
        .iter()
        .map(|(labels, v)| {
            let mut labels: Vec<Label> = labels.iter().map(|(n, v)| Label { name: n.to_string(), value: v.to_string() }).collect();
            labels.sort_by(|a, b| a.name.cmp(&b.name));
            TimeSeries { labels, samples: vec![Sample { value: *v, timestamp: now }], histograms: vec![], exemplars: vec![] }
        })
        .collect();
    let body = snap::raw::Encoder::new().compress_vec(&WriteRequest { timeseries, metadata: vec![] }.encode_to_vec()).unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body).unwrap();
    let out = std::process::Command::new("curl")
        .args([
            "-fsS",
            "-X",
            "POST",
            "-H",
            "Content-Encoding: snappy",
            "-H",
            "Content-Type: application/x-protobuf",
            "-H",
            "X-Prometheus-Remote-Write-Version: 0.1.0",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", file.path().display()))
        .arg(format!("{}/api/v1/write", prom.base()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn pod_memory_limits_restarts_and_oom_kills_are_read_from_the_cluster_metrics() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let pod = |p: &'static str, c: &'static str| vec![("namespace", "monitoring"), ("pod", p), ("container", c)];
    let (ing, q) = (pod("mimir-ingester-0", "ingester"), pod("mimir-querier-0", "querier"));
    let with = |base: &Vec<(&'static str, &'static str)>, extra: &[(&'static str, &'static str)], name: &'static str| {
        let mut l = base.clone();
        l.extend_from_slice(extra);
        l.push(("__name__", name));
        l
    };
    let series = [
        (with(&ing, &[("resource", "memory")], "kube_pod_container_resource_limits"), 1.5 * 1073741824.0),
        (with(&q, &[("resource", "memory")], "kube_pod_container_resource_limits"), 2.0 * 1073741824.0),
        (with(&ing, &[], "container_memory_working_set_bytes"), 900.0 * 1048576.0),
        (with(&ing, &[], "kube_pod_container_status_restarts_total"), 0.0),
        (with(&q, &[], "kube_pod_container_status_restarts_total"), 1.0),
        (with(&q, &[("reason", "OOMKilled")], "kube_pod_container_status_last_terminated_reason"), 1.0),
    ];
    let refs: Vec<(&[(&str, &str)], f64)> = series.iter().map(|(l, v)| (l.as_slice(), *v)).collect();
    push(&prom, &refs).await;
    let memory = |regex: &str| {
        format!(
            "[mimir.memory]\nbudget = \"1.5Gi\"\n[mimir.memory.cluster]\nquery_url = \"{}\"\nnamespace = \"monitoring\"\npod_regex = \"{regex}\"\n",
            prom.base()
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let all = check(dir.path(), &mimir_scenario(&prom.base(), &memory("mimir-.*")), &[], &[]).await;
    assert_eq!(all.status("NFR-SCALE-002", "mimir pods"), Status::Fail, "{}", all.stdout);
    let c = all.report.as_ref().unwrap().criteria.iter().find(|c| c.id == "NFR-SCALE-002").unwrap().clone();
    let said = format!("{} {}", c.reason.unwrap_or_default(), c.evidence.join(" "));
    for fact in [
        "mimir-querier-0/querier: limit 2.00Gi is over the 1.50Gi budget",
        "1 restart(s)",
        "mimir-querier-0 was OOM-killed",
        "mimir-ingester-0: working set now 900.00Mi",
    ] {
        assert!(said.contains(fact), "`{fact}` in {said}");
    }
    let ingester = check(dir.path(), &mimir_scenario(&prom.base(), &memory("mimir-ingester-.*")), &[], &[]).await;
    assert_eq!(ingester.status("NFR-SCALE-002", "mimir pods"), Status::Pass, "{}", ingester.stdout);
}

#[test]
fn the_shipped_manifests_hold_placeholders_that_fail_and_an_encrypted_secret_passes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let k8s = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kubernetes");
    let down = format!("http://127.0.0.1:{}", support::free_port());
    let scenario = mimir_scenario(&down, &format!("[mimir.memory]\nbudget = \"1.5Gi\"\nmetrics_urls = [\"{down}/metrics\"]\n"));
    let shipped = rt.block_on(check(dir.path(), &scenario, &["--manifests", k8s.to_str().unwrap()], &[]));
    assert!(shipped.report.is_some(), "{}", shipped.stderr);
    let secret = shipped
        .report
        .as_ref()
        .unwrap()
        .criteria
        .iter()
        .find(|c| c.id == "AC-lgtm-004-01" && c.title.contains("mimir/app/secret.sops.yaml"))
        .unwrap_or_else(|| panic!("{}\n{}", shipped.stdout, shipped.stderr))
        .clone();
    assert_eq!(secret.status, Status::Fail);
    assert!(secret.reason.unwrap().contains("plaintext; encrypt it: sops --encrypt --in-place"));
    assert_eq!(shipped.status("NFR-SCALE-002", "mimir HelmRelease"), Status::Pass, "{}", shipped.stdout);
    assert_eq!(shipped.status("AC-lgtm-004-02", "mimir HelmRelease takes the S3 credentials"), Status::Pass, "envFrom mimir-s3-secret: {}", shipped.stdout);
    // The placeholders' endpoint is HTTPS, checked on its own.
    assert_eq!(shipped.status("AC-lgtm-004-04", "mimir/app/secret.sops.yaml"), Status::Pass, "{}", shipped.stdout);
    // The same secret as SOPS writes it: every value ENC[…], age recipients, a MAC.
    let enc = |v: &str| format!("ENC[AES256_GCM,data:{v},iv:aXY=,tag:dGFn,type:str]");
    let encrypted = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: mimir-s3-secret\n  namespace: monitoring\ntype: Opaque\nstringData:\n  S3_ACCESS_KEY_ID: {}\n  S3_SECRET_ACCESS_KEY: {}\n  S3_ENDPOINT: {}\n  S3_BUCKET: {}\nsops:\n  age:\n    - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n      enc: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        YWdl\n        -----END AGE ENCRYPTED FILE-----\n  lastmodified: \"2026-11-26T12:00:00Z\"\n  mac: {}\n  encrypted_regex: ^(data|stringData)$\n  version: 3.9.1\n",
        enc("QUtJQQ=="), enc("c2VjcmV0"), enc("aHR0cHM6Ly9zMy42OGNjLmlv"), enc("bWltaXItYmxvY2tz"), enc("bWFj")
    );
    let tree = dir.path().join("k8s");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("secret.sops.yaml"), &encrypted).unwrap();
    let ok = rt.block_on(check(dir.path(), &scenario, &["--manifests", tree.to_str().unwrap()], &[]));
    assert_eq!(ok.status("AC-lgtm-004-01", "secret.sops.yaml"), Status::Pass, "{}", ok.stdout);
    assert_eq!(ok.status("AC-lgtm-004-02", "secret.sops.yaml"), Status::Pass, "the S3 credentials are the secret's keys: {}", ok.stdout);
    std::fs::write(tree.join("secret.sops.yaml"), encrypted.replace(&enc("c2VjcmV0"), "hunter2")).unwrap();
    let leaked = rt.block_on(check(dir.path(), &scenario, &["--manifests", tree.to_str().unwrap()], &[]));
    assert!(leaked.reason("AC-lgtm-004-01").contains("stringData.S3_SECRET_ACCESS_KEY is plaintext"), "{}", leaked.stdout);
    // A HelmRelease with the access key written inline, and one that never mounts the secret.
    let release = std::fs::read_to_string(k8s.join("apps/monitoring/mimir/app/helmrelease.yaml")).unwrap();
    std::fs::write(tree.join("helmrelease.yaml"), release.replace("access_key_id: ${S3_ACCESS_KEY_ID}", "access_key_id: AKIAEXAMPLE")).unwrap();
    let inline = rt.block_on(check(dir.path(), &scenario, &["--manifests", tree.to_str().unwrap()], &[]));
    assert_eq!(inline.status("AC-lgtm-004-02", "mimir HelmRelease"), Status::Fail, "{}", inline.stdout);
    assert!(inline.reason("AC-lgtm-004-02").contains("access_key_id holds a literal credential"), "{}", inline.stdout);
    std::fs::write(tree.join("helmrelease.yaml"), release.replace("name: mimir-s3-secret", "name: something-else")).unwrap();
    let unmounted = rt.block_on(check(dir.path(), &scenario, &["--manifests", tree.to_str().unwrap()], &[]));
    assert!(unmounted.reason("AC-lgtm-004-02").contains("no envFrom/secretKeyRef naming a `mimir-s3-secret`"), "{}", unmounted.stdout);
}

/// Mimir's own counters, served as its `/metrics` would (names from Mimir's source and mixin:
/// `thanos_objstore_bucket_operation{s,_failures}_total`, `cortex_compactor_runs_*_total`,
/// `cortex_ingester_shipper_*`, `cortex_ingester_oldest_unshipped_block_timestamp_seconds`; the
/// text is written here, not recorded), with Prometheus as the write and query target.
fn mimir_metrics(failures: u32, unshipped_since: f64) -> String {
    format!(
        "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 4.2e+08\n\
         # TYPE thanos_objstore_bucket_operations_total counter\n\
         thanos_objstore_bucket_operations_total{{bucket=\"mimir-blocks\",component=\"compactor\",operation=\"iter\"}} 40\n\
         thanos_objstore_bucket_operations_total{{bucket=\"mimir-blocks\",component=\"ingester\",operation=\"upload\"}} 3\n\
         # TYPE thanos_objstore_bucket_operation_failures_total counter\n\
         thanos_objstore_bucket_operation_failures_total{{bucket=\"mimir-blocks\",component=\"compactor\",operation=\"iter\"}} {failures}\n\
         thanos_objstore_bucket_operation_failures_total{{bucket=\"mimir-blocks\",component=\"ingester\",operation=\"upload\"}} 0\n\
         # TYPE cortex_compactor_runs_completed_total counter\ncortex_compactor_runs_completed_total 5\n\
         # TYPE cortex_compactor_runs_failed_total counter\ncortex_compactor_runs_failed_total 0\n\
         # TYPE cortex_ingester_shipper_uploads_total counter\ncortex_ingester_shipper_uploads_total 3\n\
         # TYPE cortex_ingester_shipper_upload_failures_total counter\ncortex_ingester_shipper_upload_failures_total 0\n\
         # TYPE cortex_ingester_oldest_unshipped_block_timestamp_seconds gauge\ncortex_ingester_oldest_unshipped_block_timestamp_seconds {unshipped_since}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_errors_compaction_and_shipping_are_read_from_the_targets_own_counters() {
    use support::replay::{Canned, ReplayServer};
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let with_metrics = |url: &str| mimir_scenario(&prom.base(), &format!("[mimir.memory]\nbudget = \"1.5Gi\"\nmetrics_urls = [\"{url}/metrics\"]\n"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();

    // Working credentials: no failed operation, compactor ran, blocks shipped, nothing waiting.
    let clean = ReplayServer::start(vec![Canned::new(200, mimir_metrics(0, 0.0))]).await;
    let c = check(dir.path(), &with_metrics(&clean.base()), &[], &[]).await;
    assert_eq!(c.status("AC-lgtm-003-01", "object-storage requests succeed"), Status::Pass, "{}", c.stdout);
    assert_eq!(c.status("AC-lgtm-003-03", "compactor ran"), Status::Pass, "{}", c.stdout);
    assert!(c.stdout.contains("compactor runs completed: 5") && c.stdout.contains("no block waiting to be shipped"), "{}", c.stdout);

    // Failures with working credentials fail; a block unshipped for two hours fails compaction.
    let failing = ReplayServer::start(vec![Canned::new(200, mimir_metrics(12, now - 7200.0))]).await;
    let c = check(dir.path(), &with_metrics(&failing.base()), &[], &[]).await;
    assert_eq!(c.status("AC-lgtm-003-01", "object-storage requests succeed"), Status::Fail, "{}", c.stdout);
    assert!(c.reason("AC-lgtm-003-01").contains("compactor iter: 12"), "{}", c.stdout);
    assert!(c.reason("AC-lgtm-003-03").contains("waited 2.0h to be shipped"), "{}", c.stdout);

    // Broken on purpose: the write still acknowledged, the failures are what is expected; the
    // record made then is read back after the fix under AC-lgtm-003-04 too.
    let record = dir.path().join("broken.json");
    let c = check(dir.path(), &with_metrics(&failing.base()), &["--record", record.to_str().unwrap(), "--s3-broken"], &[]).await;
    assert_eq!(c.status("AC-lgtm-003-04", "still accepts writes"), Status::Pass, "{}", c.stdout);
    assert_eq!(c.status("AC-lgtm-003-01", "reach"), Status::Skipped, "no block can reach a bucket it cannot write: {}", c.stdout);
    let c = check(dir.path(), &with_metrics(&clean.base()), &["--record", dir.path().join("x.json").to_str().unwrap(), "--s3-broken"], &[]).await;
    assert!(c.reason("AC-lgtm-003-04").contains("no S3 error counted yet"), "{}", c.stdout);
    let fixed = check(dir.path(), &with_metrics(&clean.base()), &["--verify", record.to_str().unwrap()], &[]).await;
    assert_eq!(fixed.status("AC-lgtm-003-04", "no sample written while the S3 credentials were broken is lost"), Status::Pass, "{}", fixed.stdout);

    // Prometheus's own /metrics has none of it: SKIPPED, saying why.
    let own = check(dir.path(), &with_metrics(&prom.base()), &[], &[]).await;
    assert_eq!(own.status("AC-lgtm-003-03", "compactor"), Status::Skipped, "{}", own.stdout);
    assert_eq!(own.status("AC-lgtm-003-01", "object-storage"), Status::Skipped, "{}", own.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_waiting_for_the_bucket_keeps_the_criteria_checked_so_far() {
    let _one = ONE_AT_A_TIME.lock().await;
    let prom = Prometheus::start();
    let s3 = S3Server::start().await;
    s3.seed_cortex("mimir-blocks");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.toml");
    std::fs::write(&file, mimir_scenario(&prom.base(), &s3_section(&s3.endpoint(), "mimir-blocks", "x"))).unwrap();
    let out = dir.path().join("results");
    let mut started = support::Started::spawn(&["check", file.to_str().unwrap(), "--wait-s3", "10m", "--out", out.to_str().unwrap()], &S3_ENV);
    started.wait_for(|line| line.starts_with("waiting up to")).await;
    let (code, _, _) = started.interrupt().await;
    assert_eq!(code, Some(130));
    let results = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "json")).unwrap();
    let report: CheckReport = serde_json::from_str(&std::fs::read_to_string(results).unwrap()).unwrap();
    assert!(report.interrupted);
    assert!(report.criteria.iter().any(|c| c.id == "AC-lgtm-003-02" && c.status == Status::Pass), "checked before Ctrl-C: kept");
}

/// Every id `check` prints is one the deployment's task list uses (`AC-lgtm-…`, `NFR-…`): a renamed
/// or guessed id fails here.
#[test]
fn check_ids_are_the_documents_own() {
    const DOCUMENT: &[&str] = &[
        "AC-lgtm-002-01",
        "AC-lgtm-002-02",
        "AC-lgtm-002-03",
        "AC-lgtm-002-04",
        "AC-lgtm-002-05",
        "AC-lgtm-003-01",
        "AC-lgtm-003-02",
        "AC-lgtm-003-03",
        "AC-lgtm-003-04",
        "AC-lgtm-003-05",
        "AC-lgtm-004-01",
        "AC-lgtm-004-02",
        "AC-lgtm-004-04",
        "AC-lgtm-005-01",
        "AC-lgtm-005-02",
        "AC-lgtm-005-03",
        "AC-lgtm-005-04",
        "NFR-RECOVER-001",
        "NFR-SCALE-002",
    ];
    let id = regex::Regex::new(r#""((?:AC-lgtm|NFR|RW)-[A-Z0-9-]+)""#).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for dir in ["src/check", "src/targets/mimir", "src/targets/tempo"] {
        for f in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "rs")) {
            for c in id.captures_iter(&std::fs::read_to_string(&f).unwrap()) {
                assert!(DOCUMENT.contains(&&c[1]), "{}: `{}` is not an id of the deployment's task list", f.display(), &c[1]);
                seen.insert(c[1].to_string());
            }
        }
    }
    for expected in DOCUMENT {
        assert!(seen.contains(*expected), "{expected} is checked by nothing");
    }
    let readme = std::fs::read_to_string("README.md").unwrap();
    for s in &seen {
        assert!(readme.contains(&format!("| {s} |")), "the README's criteria table has no row for {s}");
    }
}

/// `check --verify` against a Tempo that does not answer: it lost nothing this check knows of, so
/// the criterion says it could not check (the unreachable exit code), in words, with no Rust
/// debug text.
#[tokio::test(flavor = "multi_thread")]
async fn verify_against_a_tempo_that_does_not_answer_could_not_check() {
    let dir = tempfile::tempdir().unwrap();
    let closed = support::free_port();
    let scenario = format!(
        "[run]\nname = \"check-tempo\"\nduration = \"1s\"\n[tempo]\notlp_url = \"http://127.0.0.1:{closed}\"\nquery_url = \"http://127.0.0.1:{closed}\"\n[tempo.write]\nrate = 1\n"
    );
    let record = dir.path().join("before.json");
    let recording = serde_json::json!({
        "schema": "lgtm-bench/check-record/v1", "run_id": "0badc0de", "recorded_at": "2026-12-01T00:00:00Z",
        "targets": { "tempo": { "run_id": "0badc0de", "trace_ids": ["a7f30000000000000000000000000001", "a7f30000000000000000000000000002"] } }
    });
    std::fs::write(&record, recording.to_string()).unwrap();
    let c = check(dir.path(), &scenario, &["--verify", record.to_str().unwrap()], &[]).await;
    assert_eq!(c.code, 3, "unreachable, not lost: {}\n{}", c.stdout, c.stderr);
    let why = c.reason("AC-lgtm-002-03");
    assert!(why.starts_with("could not check: Tempo at") && why.contains("did not answer for 2 of 2 traces"), "{why}");
    assert!(!c.stdout.contains("Failed(") && !c.stdout.contains("ConnectionFailure"), "no debug text: {}", c.stdout);
}
