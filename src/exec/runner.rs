//! One run, in order: build clients → preflight → start workloads on one clock → warm-up →
//! measured stages → drain → report. Ctrl-C cancels everything and still writes the results.

use super::collector::{self, ProgressSettings};
use super::launch::{query_mode, Launch, QueryMode};
use super::paths::PathTable;
use super::schedule::Schedule;
use super::worker::{WorkerContext, LATE_AFTER};
use crate::check::{self, Objective};
use crate::probe::preflight::PreflightError;
use crate::report::{self, Host, Report, RunInfo, Tool};
use crate::scenario::{MemorySection, Scenario, WriteSection};
use crate::target::http::ClientSetupError;
use crate::units::ByteSize;
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
    /// A previous run to compare with; a regression makes the run fail like an objective.
    pub baseline: Option<(Report, report::compare::Tolerance)>,
}

pub struct RunOutcome {
    pub report: Report,
    pub results_file: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Setup(#[from] ClientSetupError),
    #[error("preflight failed: {0}")]
    Preflight(#[from] PreflightError),
    #[error("the results could not be written to {dir}: {error}; check that the folder is writable or pass --out")]
    WriteResults { dir: String, error: String, report: Box<Report> },
}

/// Derived figures of the write plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WritePlan {
    pub rate: f64,
    pub samples_per_second: f64,
    /// How often each series gets a sample.
    pub scrape_interval: f64,
}

pub fn write_plan(w: &WriteSection) -> WritePlan {
    let s = &w.series;
    let per_request = s.samples_per_request.min(s.active).max(1) as f64;
    let rate = w.rate.unwrap_or_else(|| {
        let interval = s.scrape_interval.map_or(15.0, |i| i.get().as_secs_f64());
        s.active as f64 / (per_request * interval)
    });
    WritePlan { rate, samples_per_second: rate * per_request, scrape_interval: s.active as f64 / (rate * per_request) }
}

/// The scenario's objectives plus those its memory sections imply: `<t>.memory peak <= budget`
/// (unless the scenario bounds the peak itself) and `<t>.memory restarts == 0` (unless restarts are
/// expected).
pub fn objectives_of(s: &Scenario) -> Vec<String> {
    let mut out = s.objectives.clone();
    let states = |subject: &str, stat: &str| {
        s.objectives.iter().any(|o| {
            let w: Vec<&str> = o.split_whitespace().collect();
            w.first() == Some(&subject) && w.get(1) == Some(&stat)
        })
    };
    let memories = [
        ("tempo", s.tempo.as_ref().and_then(|t| t.memory.as_ref())),
        ("mimir", s.mimir.as_ref().and_then(|m| m.memory.as_ref())),
    ];
    for (target, mem) in memories {
        let Some(mem) = mem else { continue };
        let subject = format!("{target}.memory");
        if !states(&subject, "peak") {
            let shown = ByteSize(mem.budget.0).to_string();
            let budget = if shown.parse::<ByteSize>().ok() == Some(mem.budget) { shown } else { mem.budget.0.to_string() };
            out.push(format!("{subject} peak <= {budget}"));
        }
        if !mem.restarts_expected && !states(&subject, "restarts") {
            out.push(format!("{subject} restarts == 0"));
        }
    }
    out
}

fn describe_memory(target: &str, mem: &MemorySection) -> String {
    let mut sources: Vec<String> = mem.metrics_urls.clone();
    if let Some(c) = &mem.cluster {
        sources.push(format!("container_memory_working_set_bytes of pods ~ {} in {} via {}", c.pod_regex, c.namespace, c.query_url));
    }
    format!("{target}.memory: budget {}, read every {} from {}\n", mem.budget, mem.interval, sources.join(", "))
}

fn describe_queries(target: &str, load: Option<&crate::scenario::QueryLoad>, at: &str) -> String {
    match query_mode(load) {
        QueryMode::Concurrency(n) => format!("  {target} queries: {n} always in flight at {at}\n"),
        QueryMode::Rate(rate, _) => format!("  {target} queries: {rate} per second at {at}\n"),
    }
}

/// Human description of what `run` would do, printed by `validate`.
pub fn describe(s: &Scenario) -> String {
    let r = &s.run;
    let mut out = format!(
        "scenario `{}`: warm-up {} (not measured), ramp {}, steady {}; seed {}\n",
        r.name, r.warmup, r.ramp, r.duration, r.seed
    );
    if let Some(m) = &s.mimir {
        if let Some(w) = &m.write {
            let p = write_plan(w);
            let sched = Schedule::open_loop(p.rate, r.warmup.get(), r.ramp.get(), r.duration.get());
            out += &format!(
                "mimir.write: POST {} at {:.2} req/s × {} samples = {:.0} samples/s; {} active series over {} metric(s), each written every {:.2}s; ~{:.0} measured requests; at most {} in flight over {} connection(s)\n",
                m.write_url, p.rate, w.series.samples_per_request, p.samples_per_second, w.series.active,
                w.series.metrics.len(), p.scrape_interval, sched.planned_measured_calls(), w.max_in_flight, w.connections
            );
            if p.scrape_interval < 1.0 {
                out += "  note: each series is rewritten in under a second; a slow request overtaken by a later one is refused as out of order unless the target has an out-of-order window\n";
            }
        }
        for q in &m.queries {
            out += &format!("mimir.query.{}: {:?} `{}`{}\n", q.name, q.kind, q.query, q.range.map_or(String::new(), |rg| format!(" over {rg}")));
        }
        if !m.queries.is_empty() {
            out += &describe_queries("mimir", m.query_load.as_ref(), &format!("{}{}", m.query_url, m.query_prefix));
        }
        if let Some(mem) = &m.memory {
            out += &describe_memory("mimir", mem);
        }
        if let Some(v) = &m.visibility {
            out += &format!("mimir.visibility: every {}th acknowledged write read back, polling every {}, lost after {}\n", v.sample_every, v.poll_interval, v.deadline);
        }
    }
    if let Some(t) = &s.tempo {
        out += &super::tempo::describe(t, &s.run);
        if !t.queries.is_empty() {
            out += &describe_queries("tempo", t.query_load.as_ref(), &t.query_url);
        }
        if let Some(mem) = &t.memory {
            out += &describe_memory("tempo", mem);
        }
    }
    for o in objectives_of(s) {
        out += &format!("objective: {o}\n");
    }
    out
}

/// Secrets never reach the results: header values whose names look secret are replaced.
pub fn redacted(s: &Scenario) -> serde_json::Value {
    let mut v = serde_json::to_value(s).expect("scenario serializes");
    for pointer in ["/mimir/connection/headers", "/tempo/connection/headers"] {
        let Some(headers) = v.pointer_mut(pointer).and_then(|h| h.as_object_mut()) else { continue };
        for (name, value) in headers.iter_mut() {
            let n = name.to_ascii_lowercase();
            if ["auth", "token", "key", "secret", "cookie", "password"].iter().any(|w| n.contains(w)) {
                *value = serde_json::Value::String("<redacted>".into());
            }
        }
    }
    v
}

fn run_id() -> String {
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
    tokio::select! {
        _ = cancel.cancelled() => stop_reason = "interrupted (Ctrl-C)".into(),
        _ = join_all(planners) => {}
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
        stop_reason = "interrupted (Ctrl-C) while draining".into();
    }
    (load_end, stop_reason)
}

pub async fn run(scenario: Scenario, opts: RunOptions, cancel: CancellationToken) -> Result<RunOutcome, RunError> {
    let started_at = chrono::Utc::now();
    let r = &scenario.run;
    let mimir = match &scenario.mimir {
        Some(m) => Some(super::mimir::prepare(m).await?),
        None => None,
    };
    let tempo = match &scenario.tempo {
        Some(t) => Some(super::tempo::prepare(t).await?),
        None => None,
    };

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let flush_every = (r.progress_interval.get() / 2).max(Duration::from_millis(100));
    let worker_cancel = cancel.child_token();
    let (log_tx, log_rx) = tokio::sync::mpsc::unbounded_channel();
    let start = Instant::now() + Duration::from_millis(100);
    let measured_from = start + r.warmup.get();
    let end = measured_from + r.ramp.get() + r.duration.get();
    let mut l = Launch {
        run: r,
        run_id: run_id(),
        table: PathTable::default(),
        clock: RunClock::starting_at(start),
        start,
        measured_from,
        end,
        worker_ctx: WorkerContext { cancel: worker_cancel.clone(), deltas: tx.clone(), flush_every },
        root_ctx: WorkerContext { cancel: cancel.clone(), deltas: tx, flush_every },
        memory_log: log_tx,
        planners: vec![],
        workers: vec![],
        checkers: vec![],
        groups: vec![],
        planned: BTreeMap::new(),
        budgets: BTreeMap::new(),
    };
    if let Some(p) = tempo {
        p.launch(&mut l)?;
    }
    if let Some(p) = mimir {
        p.launch(&mut l)?;
    }
    let Launch { run_id: id, table, planners, workers, checkers, groups, planned, budgets, worker_ctx, root_ctx, memory_log, .. } = l;
    drop((worker_ctx, root_ctx, memory_log));
    let (board_tx, board) = tokio::sync::watch::channel(MemoryBoard::default());
    let memory_log = tokio::spawn(watch::keep_log(log_rx, budgets.clone(), board_tx));

    let progress = ProgressSettings { every: r.progress_interval.get(), start, measured_from, total: end - start, enabled: opts.progress };
    let rows = report::progress::rows(&table, &groups);
    let collector = tokio::spawn(collector::collect(rx, rows, progress, board));

    let (load_end, stop_reason) = drive(planners, workers, checkers, &cancel, &worker_cancel, r.drain_timeout, end).await;
    let totals = collector.await.expect("collector task does not panic");
    let records = memory_log.await.expect("memory log task does not panic");
    let memory = records
        .iter()
        .map(|(target, rec)| (target.clone(), report::MemoryReport::from_record(rec, budgets.get(target).copied(), load_units(&scenario, target))))
        .collect();

    let measured_seconds = load_end.saturating_duration_since(measured_from).as_secs_f64();
    let paths = report::model::path_reports(&table, &totals, &groups, measured_seconds, &planned);
    let objectives: Vec<Objective> = objectives_of(&scenario).iter().map(|o| Objective::parse(o).expect("validated")).collect();
    let mut report = Report {
        schema: report::SCHEMA.into(),
        tool: Tool { name: "lgtm-bench".into(), version: env!("CARGO_PKG_VERSION").into() },
        run: RunInfo {
            id,
            scenario_name: r.name.clone(),
            scenario_file: opts.scenario_file.clone(),
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            planned_measured_seconds: (r.ramp.get() + r.duration.get()).as_secs_f64(),
            measured_seconds,
            warmup_seconds: r.warmup.get().as_secs_f64(),
            interrupted: cancel.is_cancelled(),
            stop_reason,
            late_after_ms: LATE_AFTER.as_millis() as u64,
        },
        host: Host::current(),
        scenario: redacted(&scenario),
        paths,
        memory,
        verdict: check::Verdict { passed: true, objectives: vec![] },
        baseline: None,
    };
    report.verdict = check::evaluate(&objectives, &report);
    if let Some((base, tolerance)) = &opts.baseline {
        report.baseline = Some(report::compare::compare(base, &report, *tolerance));
    }

    let name = report::json::file_name(&r.name, started_at);
    match report::json::write_atomically(&opts.out_dir, &name, &report) {
        Ok(results_file) => Ok(RunOutcome { report, results_file }),
        Err(e) => Err(RunError::WriteResults { dir: opts.out_dir.display().to_string(), error: e.to_string(), report: Box::new(report) }),
    }
}

/// The load a target's memory is divided by in the report: active series for Mimir, planned
/// spans per second for Tempo.
fn load_units(s: &Scenario, target: &str) -> Option<(f64, &'static str)> {
    match target {
        "mimir" => s.mimir.as_ref()?.write.as_ref().map(|w| (w.series.active as f64, "active series")),
        "tempo" => {
            let t = s.tempo.as_ref()?;
            let w = t.write.as_ref()?;
            let shape = crate::generator::otlp_traces::shape::Shape::new(&t.traces);
            let spans = match w.unit {
                crate::scenario::RateUnit::Spans => w.rate,
                crate::scenario::RateUnit::Traces => w.rate * shape.spans_per_trace as f64,
            };
            Some((spans, "span/s"))
        }
        _ => None,
    }
}

async fn join_all(handles: Vec<JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}
