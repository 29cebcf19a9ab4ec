//! One run, in order: prepare every target (clients, preflight) → start workloads on one clock →
//! warm-up → measured stages → drain → report. Ctrl-C cancels everything and still writes the
//! results.

use super::collector::{self, Intervals, ProgressSettings};
use super::launch::Launch;
use super::plan::Plan;
use super::target::{Prepared, TargetError};
use super::worker::{WorkerContext, LATE_AFTER};
use crate::report::attribution::Cpu;
use crate::report::intervals::{IntervalLog, IntervalStream};
use crate::report::{self, GeneratorReport, Host, Measured, Report, RunInfo, Tool};
use crate::stats::paths::{stats_by_name, PathTable};
use crate::verdict;
use crate::watch::exposition::{host_cpu_busy_seconds, own_cpu_seconds};
use crate::watch::{self, MemoryBoard};
use crate::workload::RunClock;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub struct RunOptions {
    pub scenario_file: String,
    pub out_dir: PathBuf,
    pub progress: bool,
    /// Previous runs to compare with (a group of kept baseline runs, oldest first); a regression
    /// makes the run fail like an objective.
    pub baseline: Option<(Vec<Report>, report::compare::Tolerance)>,
}

pub struct RunOutcome {
    pub report: Report,
    pub results_file: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("the results could not be written to {dir}: {source}; check that the folder is writable or pass --out")]
    WriteResults { dir: String, source: std::io::Error, report: Box<Report> },
}

/// CPU seconds used over the run by the watched targets that run on this machine (their `/metrics`
/// read over loopback): part of the system under test when the machine is judged busy.
fn local_targets_cpu(plan: &Plan, report: &Report) -> f64 {
    let loopback = |u: &String| {
        url::Url::parse(u).ok().and_then(|u| u.host_str().map(str::to_string)).is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]")
    };
    plan.targets
        .iter()
        .filter(|t| t.memory().is_some_and(|m| !m.metrics_urls.is_empty() && m.metrics_urls.iter().all(loopback)))
        .filter_map(|t| report.memory.get(t.name())?.counter_increase.get("process_cpu_seconds_total").copied())
        .sum()
}

/// Runs the user's command that resets the target (`sh -c`), before a capacity step or a run of
/// `run --repeat`; its failure is the error, with the fix.
pub async fn fresh_target(cmd: &str, cancel: &CancellationToken) -> Result<(), FreshTargetError> {
    let child = tokio::process::Command::new("sh").arg("-c").arg(cmd).kill_on_drop(true).status();
    let status = tokio::select! {
        s = child => s.map_err(|e| FreshTargetError::Start(e.to_string()))?,
        _ = cancel.cancelled() => return Err(FreshTargetError::Interrupted),
    };
    if status.success() {
        Ok(())
    } else {
        Err(FreshTargetError::Failed { cmd: cmd.to_string(), status: status.to_string() })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FreshTargetError {
    #[error("--fresh-target-command could not start: {0}")]
    Start(String),
    #[error("stopped by Ctrl-C while the target was being reset")]
    Interrupted,
    #[error("--fresh-target-command `{cmd}` failed ({status}); fix it, or leave it out to keep the target as it is")]
    Failed { cmd: String, status: String },
}

/// A new run id: 8 hex digits from the clock and the process id.
pub fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{:08x}", (nanos as u64 ^ (std::process::id() as u64) << 32) as u32)
}

/// Waits for the plan to end (or Ctrl-C), lets calls in flight finish within the drain timeout,
/// then waits for the read-back checks. Returns when the load ended and why the run stopped.
async fn drive(
    planners: Vec<JoinHandle<()>>,
    workers: Vec<JoinHandle<()>>,
    checkers: Vec<JoinHandle<()>>,
    cancel: &CancellationToken,
    worker_cancel: &CancellationToken,
    drain_timeout: crate::units::Dur,
    end: Instant,
) -> (Instant, String) {
    let mut stop_reason = "completed".to_string();
    // The plan lasts its full time whatever its workloads are (a query-only scenario has no planner).
    tokio::select! {
        _ = cancel.cancelled() => stop_reason = "stopped by Ctrl-C".into(),
        _ = async { tokio::join!(join_all(planners), tokio::time::sleep_until(end)) } => {}
    }
    let load_end = Instant::now().min(end);
    let drain = tokio::time::timeout(drain_timeout.get(), join_all(workers));
    tokio::select! {
        _ = cancel.cancelled() => worker_cancel.cancel(),
        finished = drain => if finished.is_err() {
            worker_cancel.cancel();
            if stop_reason == "completed" {
                stop_reason = format!("completed; calls still in flight after the {drain_timeout} drain were abandoned");
            }
        },
    }
    // Read-back checks resolve within their own deadline (or stop on Ctrl-C).
    join_all(checkers).await;
    if cancel.is_cancelled() && stop_reason == "completed" {
        stop_reason = "stopped by Ctrl-C while draining".into();
    }
    (load_end, stop_reason)
}

/// When the plan's stages begin and end on the monotonic clock.
struct Stages {
    start: Instant,
    measured_from: Instant,
    end: Instant,
}

impl Stages {
    fn of(r: &crate::scenario::RunSection) -> Stages {
        let start = Instant::now() + Duration::from_millis(100);
        let measured_from = start + r.warmup.get();
        Stages { start, measured_from, end: measured_from + r.ramp.get() + r.duration.get() }
    }
}

/// What the load came to, before it is judged and rendered.
struct Measurement {
    run_id: String,
    stats: BTreeMap<String, crate::stats::PathStats>,
    planned: BTreeMap<String, u64>,
    in_flight: BTreeMap<String, u64>,
    memory: BTreeMap<String, report::MemoryReport>,
    measured_seconds: f64,
    stop_reason: String,
    intervals: report::intervals::IntervalsReport,
}

/// What a run streams out while it goes: each closed interval to `to` (`run --export-metrics`,
/// the canary), and how many intervals' counts it keeps (a canary keeps a bounded window).
#[derive(Clone, Debug, Default)]
pub struct Streaming {
    pub to: Option<tokio::sync::mpsc::UnboundedSender<report::intervals::ClosedInterval>>,
    pub keep_last_intervals: Option<usize>,
}

pub async fn run(plan: &Plan, opts: RunOptions, cancel: CancellationToken) -> Result<RunOutcome, RunError> {
    run_streaming(plan, opts, cancel, Streaming::default()).await
}

/// `run`, streaming each closed interval out as it goes.
pub async fn run_streaming(plan: &Plan, opts: RunOptions, cancel: CancellationToken, streaming: Streaming) -> Result<RunOutcome, RunError> {
    let started_at = chrono::Utc::now();
    let mut prepared = Vec::with_capacity(plan.targets.len());
    for t in &plan.targets {
        prepared.push(t.prepare().await?);
    }
    let builds = plan.targets.iter().zip(&prepared).filter_map(|(t, p)| p.build_info().map(|b| (t.name().to_string(), b))).collect();
    let (cpu_before, host_before, wall_before) = (own_cpu_seconds(), host_cpu_busy_seconds(), Instant::now());
    let results_name = report::json::file_name(&plan.run.name, started_at);
    let log_name = format!("{}.hlog", results_name.trim_end_matches(".json"));
    let measurement = load(plan, prepared, opts.progress, &cancel, (&opts.out_dir, &log_name), streaming).await?;
    let mut report = report_of(plan, &opts, started_at, measurement, cancel.is_cancelled());
    report.targets = builds;
    if let (Some(before), Some(after)) = (cpu_before, own_cpu_seconds()) {
        let host = host_before.zip(host_cpu_busy_seconds()).map(|((busy0, cpus), (busy1, _))| (busy1 - busy0, cpus));
        let local_targets_seconds = local_targets_cpu(plan, &report);
        let cpu = Cpu { own_seconds: after - before, wall_seconds: wall_before.elapsed().as_secs_f64(), cores: report.host.cpus, host, local_targets_seconds };
        report.generator = Some(GeneratorReport::judge(cpu, &report.paths));
    }
    if let Some((base, tolerance)) = &opts.baseline {
        report.baseline = Some(report::compare::compare_groups(&base.iter().collect::<Vec<_>>(), &[&report], *tolerance));
    }
    match report::json::write_atomically(&opts.out_dir, &results_name, &report) {
        Ok(results_file) => Ok(RunOutcome { report, results_file }),
        Err(source) => Err(RunError::WriteResults { dir: opts.out_dir.display().to_string(), source, report: Box::new(report) }),
    }
}

/// Starts every prepared target's workloads on one clock, runs the plan to its end (or Ctrl-C),
/// drains, and gathers what was measured.
async fn load(
    plan: &Plan,
    prepared: Vec<Prepared<'_>>,
    progress: bool,
    cancel: &CancellationToken,
    (out_dir, log_name): (&std::path::Path, &str),
    streaming: Streaming,
) -> Result<Measurement, RunError> {
    let r = &plan.run;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let interval = r.results_interval.unwrap_or(r.progress_interval).get().max(Duration::from_millis(100));
    let worker_cancel = cancel.child_token();
    let (log_tx, log_rx) = tokio::sync::mpsc::unbounded_channel();
    let stages = Stages::of(r);
    let mut l = Launch {
        run: r,
        full_speed: plan.full_speed,
        run_id: plan.run_id.clone().unwrap_or_else(new_run_id),
        table: PathTable::default(),
        clock: RunClock::starting_at(stages.start),
        start: stages.start,
        measured_from: stages.measured_from,
        end: stages.end,
        worker_ctx: WorkerContext { cancel: worker_cancel.clone(), deltas: tx.clone(), interval, plan_start: stages.start },
        root_ctx: WorkerContext { cancel: cancel.clone(), deltas: tx, interval, plan_start: stages.start },
        memory_log: log_tx,
        planners: vec![],
        workers: vec![],
        checkers: vec![],
        groups: vec![],
        planned: BTreeMap::new(),
        in_flight: BTreeMap::new(),
        budgets: BTreeMap::new(),
    };
    for p in prepared {
        p.launch(&mut l)?;
    }
    let clock_start_unix_ms = l.clock.start_unix_ms;
    let Launch { run_id, table, planners, workers, checkers, groups, planned, in_flight, budgets, worker_ctx, root_ctx, memory_log, .. } = l;
    drop((worker_ctx, root_ctx, memory_log));
    let (board_tx, board) = tokio::sync::watch::channel(MemoryBoard::default());
    let memory_log = tokio::spawn(watch::keep_log(log_rx, budgets.clone(), board_tx));
    let settings = ProgressSettings {
        every: r.progress_interval.get(),
        start: stages.start,
        measured_from: stages.measured_from,
        total: stages.end - stages.start,
        enabled: progress,
    };
    let names: Vec<String> = table.iter().map(|(_, n)| n.to_string()).collect();
    let start_wall = std::time::SystemTime::now() + stages.start.saturating_duration_since(Instant::now());
    let log = std::fs::create_dir_all(out_dir)
        .and_then(|_| IntervalLog::create(&out_dir.join(log_name), start_wall, interval))
        .map(|log| (log, log_name.to_string()))
        .map_err(|e| format!("the interval log could not be created in {}: {e}", out_dir.display()));
    let stream = streaming.to.map(|to| IntervalStream {
        to,
        run_id: run_id.clone(),
        // The workloads' own clock: a sample's timestamp is this plus its call's offset.
        start_unix_ms: clock_start_unix_ms,
    });
    let intervals = Intervals::new(interval, names, log).streaming(stream).keeping_last(streaming.keep_last_intervals);
    let collector = tokio::spawn(collector::collect(rx, report::progress::rows(&table, &groups), settings, board, intervals));

    let (load_end, stop_reason) = drive(planners, workers, checkers, cancel, &worker_cancel, r.drain_timeout, stages.end).await;
    let (totals, intervals) = joined(collector).await;
    let memory = joined(memory_log)
        .await
        .iter()
        .map(|(target, rec)| {
            let load = plan.targets.iter().find(|t| t.name() == target).and_then(|t| t.memory_load());
            (target.clone(), report::MemoryReport::from_record(rec, budgets.get(target).copied(), load))
        })
        .collect();
    Ok(Measurement {
        run_id,
        stats: stats_by_name(&table, &totals, &groups),
        planned,
        in_flight,
        memory,
        measured_seconds: load_end.saturating_duration_since(stages.measured_from).as_secs_f64(),
        stop_reason,
        intervals,
    })
}

/// The report of a run: what was planned and measured, judged by the plan's objectives.
fn report_of(plan: &Plan, opts: &RunOptions, started_at: chrono::DateTime<chrono::Utc>, m: Measurement, interrupted: bool) -> Report {
    let r = &plan.run;
    let verdict = verdict::evaluate(&plan.objectives, &Measured { paths: &m.stats, memory: &m.memory });
    let asks: BTreeMap<String, String> = plan.targets.iter().flat_map(|t| t.asks()).map(|(path, q)| (path, q.replace("$run_id", &m.run_id))).collect();
    Report {
        schema: report::SCHEMA.into(),
        tool: Tool { name: "lgtm-bench".into(), version: env!("CARGO_PKG_VERSION").into() },
        run: RunInfo {
            id: m.run_id,
            scenario_name: r.name.clone(),
            scenario_file: opts.scenario_file.clone(),
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            planned_measured_seconds: (r.ramp.get() + r.duration.get()).as_secs_f64(),
            measured_seconds: m.measured_seconds,
            warmup_seconds: r.warmup.get().as_secs_f64(),
            interrupted,
            stop_reason: m.stop_reason,
            late_after_ms: LATE_AFTER.as_millis() as u64,
            shard: plan.shard.clone(),
        },
        host: Host::current(),
        scenario: plan.scenario.clone(),
        paths: report::path_reports(&m.stats, m.measured_seconds, &m.planned)
            .into_iter()
            .map(|(name, mut p)| {
                p.in_flight_bound = m.in_flight.get(&name).copied();
                p.asks = asks.get(&name).cloned();
                (name, p)
            })
            .collect(),
        memory: m.memory,
        verdict,
        generator: None,
        intervals: Some(m.intervals),
        targets: BTreeMap::new(),
        baseline: None,
    }
}

/// A task's result; a panic in it is a bug and is passed on as one.
async fn joined<T>(task: JoinHandle<T>) -> T {
    match task.await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

async fn join_all(handles: Vec<JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}
