//! `run`: load and resolve the scenario, drive it, print progress and the summary, write the
//! results. Ctrl-C (or SIGTERM) stops the run and still writes partial results.

use lgtm_bench::cli::exit;
use lgtm_bench::engine::plan::Plan;
use lgtm_bench::engine::runner::{self, RunError, RunOptions};
use lgtm_bench::engine::target::TargetError;
use lgtm_bench::report::compare::Tolerance;
use lgtm_bench::report::{json, summary};
use lgtm_bench::scenario::shard::Shard;
use lgtm_bench::scenario::Override;
use lgtm_bench::targets;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

pub struct RunArgs {
    pub file: PathBuf,
    pub out: PathBuf,
    pub overrides: Vec<Override>,
    pub quiet: bool,
    pub shard: Option<Shard>,
    pub shard_group: Option<String>,
    pub baseline: Option<PathBuf>,
    pub max_regression: f64,
    /// With a baseline folder: how many of the newest kept runs are pooled into one sample.
    pub baseline_runs: usize,
    pub report: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> u8 {
    let plan = match targets::load(&args.file, &args.overrides, args.shard, args.shard_group.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{e}");
            return exit::BAD_INPUT;
        }
    };
    let baseline = match args.baseline.as_deref().map(|b| baseline_of(b, &plan.run.name, args.baseline_runs)).transpose() {
        Ok(b) => b.map(|b| (b, Tolerance { latency: args.max_regression, ..Tolerance::default() })),
        Err(e) => {
            eprintln!("error: --baseline: {e}");
            return exit::BAD_INPUT;
        }
    };
    let opts = RunOptions { scenario_file: args.file.display().to_string(), out_dir: args.out, progress: !args.quiet, baseline };
    super::block_on(drive(plan, opts, args.report)).unwrap_or_else(|code| code)
}

async fn drive(plan: Plan, opts: RunOptions, report_dir: Option<PathBuf>) -> u8 {
    let cancel = CancellationToken::new();
    tokio::spawn(stop_on_signal(cancel.clone()));
    eprintln!("{}", plan.describe().trim_end());
    match runner::run(&plan, opts, cancel.clone()).await {
        Ok(outcome) => {
            print!("{}", summary::render(&outcome.report, Some(&outcome.results_file.display().to_string())));
            if let Some(dir) = &report_dir {
                if let Err(e) = super::report::write_all(&outcome.report, &outcome.results_file, dir) {
                    eprintln!("error: {e}");
                    return exit::RESULTS_NOT_WRITTEN;
                }
            }
            if outcome.report.run.interrupted {
                eprintln!("interrupted: partial results written to {}", outcome.results_file.display());
                exit::INTERRUPTED
            } else if !outcome.report.passed() {
                exit::OBJECTIVES_FAILED
            } else if outcome.report.baseline.as_ref().is_some_and(|c| !c.comparable) {
                exit::NOT_COMPARABLE
            } else {
                exit::PASSED
            }
        }
        Err(RunError::Target(TargetError::Preflight(e))) => {
            eprintln!("error: preflight failed, no load was sent: {e}");
            if e.is_unreachable() {
                exit::UNREACHABLE
            } else {
                exit::TARGET_REJECTED
            }
        }
        Err(RunError::Target(TargetError::Setup(e))) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
        Err(RunError::WriteResults { dir, source, report }) => {
            print!("{}", summary::render(&report, None));
            eprintln!("error: the results could not be written to {dir}: {source}; make the folder writable or pass --out DIR");
            exit::RESULTS_NOT_WRITTEN
        }
    }
}

/// The baseline: the results file given, or in a folder the newest kept results of the same
/// scenario (by the start time in their names), `runs` of them pooled into one sample.
fn baseline_of(path: &std::path::Path, scenario: &str, runs: usize) -> Result<lgtm_bench::report::Report, String> {
    if !path.is_dir() {
        return json::read(path).map_err(|e| e.to_string());
    }
    let prefix = format!("{scenario}-");
    let mut kept: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().strip_prefix(&prefix).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))))
        .collect();
    kept.sort();
    if kept.is_empty() {
        return Err(format!("no kept results of scenario `{scenario}` in {} (files named {prefix}<UTC start>.json)", path.display()));
    }
    let chosen = kept.split_off(kept.len().saturating_sub(runs.max(1)));
    for f in &chosen {
        eprintln!("baseline: {}", f.display());
    }
    if chosen.len() > 1 {
        eprintln!("baseline: {} kept runs pooled into one sample (the newest's figures, every run's intervals)", chosen.len());
    }
    let reports = chosen.iter().map(|f| json::read(f).map_err(|e| e.to_string())).collect::<Result<Vec<_>, _>>()?;
    lgtm_bench::report::compare::pooled(reports).ok_or_else(|| "no baseline".to_string())
}

/// First Ctrl-C or SIGTERM: stop the load and write what was measured. Second: leave at once.
pub async fn stop_on_signal(cancel: CancellationToken) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("note: SIGTERM cannot be caught ({e}); Ctrl-C still stops the run cleanly");
            None
        }
    };
    for round in 0..2 {
        let terminated = async {
            match &mut term {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        if round == 0 {
            eprintln!("\nstopping: finishing up and writing partial results (press Ctrl-C again to quit at once)");
            cancel.cancel();
        } else {
            std::process::exit(exit::INTERRUPTED as i32);
        }
    }
}
