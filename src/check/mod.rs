//! `check`: the deployment's acceptance criteria as one command with evidence. Each target checks
//! its own criteria (`targets/<t>/check.rs`: write acknowledged, readable, queries within their
//! objectives, blocks in the bucket); the core adds what no single target owns (the cluster
//! Prometheus's remote-write queue, Grafana's datasources, the manifests' secrets, memory and
//! restarts) and turns it all into one list. `--record` keeps what was written, `--verify` reads it
//! back after a restart. Nothing unconfigured passes silently: it is SKIPPED with the key to set.

pub mod cluster;
pub mod config;
pub mod grafana;
pub mod manifests;
pub mod model;
pub mod queue;
pub mod render;
pub mod s3;
pub mod target_metrics;

use crate::engine::target::TargetPlan;
use config::CheckSection;
use model::{CheckReport, Criterion};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;
use target_metrics::Credentials;
use tokio_util::sync::CancellationToken;

/// What `check` was asked to do.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Check every criterion it can reach.
    Check,
    /// Check, and keep what was written in this file for `Verify`.
    Record(PathBuf),
    /// Read back everything a `Record` wrote (after a restart or a credential rotation).
    Verify(PathBuf),
}

#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub mode: Mode,
    /// Wait up to this long for the written data to reach the object store (Tempo: 10 minutes).
    pub wait_s3: Option<Duration>,
    /// A kubernetes/ tree whose secrets and HelmReleases are checked.
    pub manifests: Option<PathBuf>,
    pub scenario_file: String,
    /// The S3 credentials are broken on purpose (`--s3-broken`, AC-lgtm-002-04 and AC-lgtm-003-04).
    pub credentials: Credentials,
    /// `--verify`: wait up to this long for a target that does not answer yet (still restarting).
    pub wait: Option<Duration>,
}

/// What a target's checks get from the core.
pub struct CheckContext<'a> {
    pub section: Option<&'a CheckSection>,
    /// The object store, when `[check.s3]` is set and its credentials are in the environment.
    pub s3: Option<Result<s3::S3, String>>,
    pub wait_s3: Option<Duration>,
    /// Marks what the checks write, so it can be found again (`lgtm_bench_run`).
    pub run_id: String,
    /// Whether the S3 credentials are broken on purpose.
    pub credentials: Credentials,
    /// The criteria checked so far, in order: kept when Ctrl-C stops a target's checks midway.
    checked: std::sync::Mutex<Vec<Criterion>>,
}

impl CheckContext<'_> {
    /// Keeps a criterion as checked.
    pub fn checked(&self, c: Criterion) {
        self.checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(c);
    }

    fn take_checked(&self) -> Vec<Criterion> {
        std::mem::take(&mut *self.checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The object store and the bucket a criterion reads (`pick` names it in `[check.s3]`), or
    /// the criterion already SKIPPED (not configured: `key` says what to set) or FAILED.
    pub fn bucket(&self, id: &str, title: &str, pick: fn(&config::S3Section) -> Option<String>, key: &str) -> Result<(&s3::S3, String), Criterion> {
        let bucket = self.section.and_then(|c| c.s3.as_ref()).and_then(pick);
        match (&self.s3, bucket) {
            (None, _) => Err(Criterion::skipped(id, title, format!("set [check.s3] endpoint and {key} to check it"))),
            (Some(_), None) => Err(Criterion::skipped(id, title, format!("set check.s3.{key}"))),
            (Some(Err(e)), _) => Err(Criterion::new(id, title).fail(e.clone())),
            (Some(Ok(s3)), Some(b)) => Ok((s3, b)),
        }
    }

    /// Starts the `--wait-s3` wait for `what` (e.g. "this check's samples") to reach `bucket`,
    /// saying so on stderr; without `--wait-s3` the bucket is listed once.
    pub fn wait_for_bucket(&self, what: &str, bucket: &str) -> BucketWait {
        if let Some(w) = self.wait_s3 {
            eprintln!("waiting up to {} for {what} to reach {bucket}…", model::took(w));
        }
        BucketWait { deadline: self.wait_s3.map(|w| tokio::time::Instant::now() + w) }
    }
}

/// How long a bucket criterion may still list the bucket again (`--wait-s3`).
pub struct BucketWait {
    deadline: Option<tokio::time::Instant>,
}

impl BucketWait {
    /// Whether `--wait-s3` was given: the criterion then waits for a block covering what it wrote.
    pub fn waits(&self) -> bool {
        self.deadline.is_some()
    }

    /// Sleeps until the next listing (at most 10 s) and returns true, or returns false at once
    /// when the wait is over or there is none.
    pub async fn again(&self) -> bool {
        let Some(deadline) = self.deadline.filter(|d| tokio::time::Instant::now() < *d) else {
            return false;
        };
        tokio::time::sleep(deadline.saturating_duration_since(tokio::time::Instant::now()).min(Duration::from_secs(10))).await;
        true
    }
}

/// What `--verify` reads back with: how the record was made and how long to wait for the target.
pub struct VerifyContext<'a> {
    /// One target's part of the record (its `written`).
    pub recorded: &'a serde_json::Value,
    /// The record was made while the S3 credentials were broken (`--record --s3-broken`): reading
    /// it back also answers "nothing lost during the credential fix" (AC-lgtm-002-04, -003-04).
    pub recorded_with: Credentials,
    /// Wait up to this long for a target that does not answer yet.
    pub wait: Option<Duration>,
    /// Marks what the verification writes (ingestion after recovery).
    pub run_id: String,
}

impl VerifyContext<'_> {
    /// Runs `attempt` until it is not `unreachable` or the `--wait` is over, saying so on stderr.
    pub async fn when_answering<T, F, Fut>(&self, target: &str, mut attempt: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = (T, bool)>,
    {
        let deadline = self.wait.map(|w| tokio::time::Instant::now() + w);
        let mut said = false;
        loop {
            let (out, unreachable) = attempt().await;
            match deadline {
                Some(d) if unreachable && tokio::time::Instant::now() < d => {
                    if !said {
                        eprintln!("{target} does not answer yet: waiting up to {} (--wait) for it…", crate::units::Dur(self.wait.unwrap_or_default()));
                        said = true;
                    }
                    tokio::time::sleep(Duration::from_secs(2).min(d.saturating_duration_since(tokio::time::Instant::now()))).await;
                }
                _ => return out,
            }
        }
    }
}

/// What a target's checks wrote (kept by `--record`); their criteria go to `CheckContext::checked`.
#[derive(Default)]
pub struct Acceptance {
    pub written: Option<serde_json::Value>,
}

/// A future a target's check returns.
pub type CheckFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A target's own acceptance checks, implemented in its folder (`targets/<t>/check.rs`); its name
/// and memory section come from its `TargetPlan`.
pub trait TargetChecks: TargetPlan {
    /// Checks its criteria (handing each to `ctx.checked`), writing a little known data; returns what it wrote.
    fn acceptance<'a>(&'a self, ctx: &'a CheckContext<'a>) -> CheckFuture<'a, Acceptance>;
    /// Reads back what an earlier `acceptance` wrote (`ctx.recorded` is its `written`), then
    /// writes anew and reads that back (ingestion resumes after the restart).
    fn verify<'a>(&'a self, ctx: &'a VerifyContext<'a>) -> CheckFuture<'a, Vec<Criterion>>;
}

/// What `check` runs on: the scenario's name, each target's checks, its `[check]` section.
pub type Checks = (String, Vec<Box<dyn TargetChecks>>, Option<CheckSection>);

/// The file `--record` writes and `--verify` reads: per target, what was written.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Recording {
    pub schema: String,
    pub run_id: String,
    pub recorded_at: String,
    /// Recorded with the S3 credentials broken on purpose (`--s3-broken`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub s3_broken: bool,
    pub targets: BTreeMap<String, serde_json::Value>,
}

/// `work`, unless Ctrl-C comes first.
async fn or_stop<T>(cancel: &CancellationToken, work: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        v = work => Some(v),
        _ = cancel.cancelled() => None,
    }
}

/// Runs every check; Ctrl-C (`cancel`) stops at once and keeps the criteria checked so far.
pub async fn run(
    scenario_name: &str,
    targets: &[Box<dyn TargetChecks>],
    section: Option<&CheckSection>,
    opts: &CheckOptions,
    cancel: &CancellationToken,
) -> Result<CheckReport, String> {
    let started = chrono::Utc::now();
    let run_id = crate::engine::runner::new_run_id();
    let ctx = CheckContext {
        section,
        s3: section.and_then(|c| c.s3.as_ref()).map(s3::S3::from_section),
        wait_s3: opts.wait_s3,
        run_id: run_id.clone(),
        credentials: opts.credentials,
        checked: Default::default(),
    };
    let mut criteria = Vec::new();
    let mut written = BTreeMap::new();
    match &opts.mode {
        Mode::Verify(file) => {
            let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let rec: Recording = serde_json::from_str(&text).map_err(|e| format!("{} is not a `check --record` file: {e}", file.display()))?;
            let recorded_with = if rec.s3_broken { Credentials::Broken } else { Credentials::Working };
            for t in targets {
                match rec.targets.get(t.name()) {
                    Some(w) => {
                        let vctx = VerifyContext { recorded: w, recorded_with, wait: opts.wait, run_id: run_id.clone() };
                        criteria.extend(or_stop(cancel, t.verify(&vctx)).await.unwrap_or_default())
                    }
                    None => criteria.push(Criterion::skipped(
                        "NFR-RECOVER-001",
                        &format!("{} data written before the restart read back", t.name()),
                        format!("{} holds nothing of {}", file.display(), t.name()),
                    )),
                }
            }
        }
        Mode::Check | Mode::Record(_) => {
            for t in targets {
                let acceptance = or_stop(cancel, t.acceptance(&ctx)).await;
                criteria.extend(ctx.take_checked());
                let Some(a) = acceptance else { break };
                if let Some(w) = a.written {
                    written.insert(t.name().to_string(), w);
                }
            }
            let core = async {
                let mut out = cluster::memory_and_restarts(targets).await;
                out.push(queue::check(section.and_then(|c| c.remote_write_queue.as_ref())).await);
                out.extend(grafana::check(section.and_then(|c| c.grafana.as_ref())).await);
                out.extend(manifests::check(opts.manifests.as_deref(), targets, section));
                out
            };
            if !cancel.is_cancelled() {
                criteria.extend(or_stop(cancel, core).await.unwrap_or_default());
            }
        }
    }
    if let Mode::Record(file) = &opts.mode {
        let rec = Recording {
            schema: "lgtm-bench/check-record/v1".into(),
            run_id,
            recorded_at: started.to_rfc3339(),
            s3_broken: opts.credentials == Credentials::Broken,
            targets: written,
        };
        let text = serde_json::to_string_pretty(&rec).map_err(|e| e.to_string())?;
        std::fs::write(file, text).map_err(|e| format!("cannot write {}: {e}; check the path", file.display()))?;
    }
    Ok(CheckReport {
        schema: model::SCHEMA.into(),
        tool: crate::report::Tool { name: "lgtm-bench".into(), version: env!("CARGO_PKG_VERSION").into() },
        scenario_name: scenario_name.to_string(),
        scenario_file: opts.scenario_file.clone(),
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        mode: match opts.mode {
            Mode::Check => "check",
            Mode::Record(_) => "record",
            Mode::Verify(_) => "verify",
        }
        .into(),
        interrupted: cancel.is_cancelled(),
        criteria,
    })
}
