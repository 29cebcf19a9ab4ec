//! `run`: load and resolve the scenario, drive it, print progress and the summary, write the
//! results. Ctrl-C (or SIGTERM) stops the run and still writes partial results.

use super::groups::{self, Pick};
use lgtm_bench::cli::exit;
use lgtm_bench::cli::RunArgs;
use lgtm_bench::engine::plan::Plan;
use lgtm_bench::engine::runner::{self, RunError, RunOptions};
use lgtm_bench::engine::target::TargetError;
use lgtm_bench::report::compare::{self, Tolerance};
use lgtm_bench::report::{summary, Report};
use lgtm_bench::targets;
use lgtm_bench::targets::mimir::config::ExportSection;
use lgtm_bench::targets::mimir::export::{self, ExportSettings, ExportSummary};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

pub fn run(args: RunArgs) -> u8 {
    let plan = match targets::load(&args.scenario, &args.overrides, args.shard, args.shard_group.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{e}");
            return exit::BAD_INPUT;
        }
    };
    let pick = Pick { scenario: Some(&plan.run.name), newest: args.baseline_runs, include_noisy: args.include_noisy, side: "baseline" };
    let (baseline, newest) = match args.baseline.as_deref().map(|b| groups::load_with_files(b, &pick)).transpose() {
        Ok(Some(runs)) => {
            let newest = runs.last().map(|(r, f)| (r.clone(), f.clone()));
            (Some((runs.into_iter().map(|(r, _)| r).collect(), Tolerance { latency: args.max_regression, ..Tolerance::default() })), newest)
        }
        Ok(None) => (None, None),
        Err(e) => {
            eprintln!("error: --baseline: {e}");
            return exit::BAD_INPUT;
        }
    };
    super::block_on(drive(plan, args, baseline, newest)).unwrap_or_else(|code| code)
}

async fn drive(plan: Plan, args: RunArgs, baseline: Option<(Vec<Report>, Tolerance)>, newest: Option<(Report, PathBuf)>) -> u8 {
    let cancel = CancellationToken::new();
    tokio::spawn(stop_on_signal(cancel.clone()));
    eprintln!("{}", plan.describe().trim_end());
    let scenario_file = args.scenario.display().to_string();
    if args.repeat <= 1 {
        let opts = RunOptions { scenario_file, out_dir: args.out.clone(), progress: !args.quiet, baseline };
        return match one_run(&plan, opts, &args, newest.as_ref(), &cancel).await {
            Ok(report) => exit_code(&report, report.baseline.as_ref()),
            Err(code) => code,
        };
    }
    // A group: every run into one folder, judged as a whole against the baseline at the end.
    let group = args.out.join(format!("{}-repeat-{}", plan.run.name, chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
    let mut runs = Vec::new();
    for i in 1..=args.repeat {
        eprintln!("\n=== run {i} of {} (group {}) ===", args.repeat, group.display());
        let opts = RunOptions { scenario_file: scenario_file.clone(), out_dir: group.clone(), progress: !args.quiet, baseline: None };
        match one_run(&plan, opts, &args, newest.as_ref(), &cancel).await {
            Ok(report) if report.run.interrupted => return exit::INTERRUPTED,
            Ok(report) => runs.push(report),
            Err(code) => return code,
        }
    }
    let failed = runs.iter().filter(|r| !r.passed()).count();
    eprintln!("\n{} runs kept as one group in {}; {failed} failed an objective", runs.len(), group.display());
    let Some((base, tolerance)) = baseline else {
        return if failed > 0 { exit::OBJECTIVES_FAILED } else { exit::PASSED };
    };
    let comparison = compare::compare_groups(&base.iter().collect::<Vec<_>>(), &runs.iter().collect::<Vec<_>>(), tolerance);
    print!("{}", compare::render(&comparison));
    match serde_json::to_vec_pretty(&comparison).map(|json| std::fs::write(group.join("group-comparison.json"), json)) {
        Ok(Ok(())) => eprintln!("comparison: {}", group.join("group-comparison.json").display()),
        Ok(Err(e)) => eprintln!("warning: the group's comparison could not be written to {}: {e}", group.display()),
        Err(e) => eprintln!("warning: the group's comparison could not be written: {e}"),
    }
    if failed > 0 || comparison.failed() {
        exit::OBJECTIVES_FAILED
    } else if !comparison.comparable {
        exit::NOT_COMPARABLE
    } else {
        exit::PASSED
    }
}

fn exit_code(report: &Report, comparison: Option<&compare::Comparison>) -> u8 {
    if report.run.interrupted {
        exit::INTERRUPTED
    } else if !report.passed() {
        exit::OBJECTIVES_FAILED
    } else if comparison.is_some_and(|c| !c.comparable) {
        exit::NOT_COMPARABLE
    } else {
        exit::PASSED
    }
}

/// One run, after resetting the target when asked: prints its summary, writes its reports; the
/// exit code when it could not run or its results could not be written.
async fn one_run(plan: &Plan, opts: RunOptions, args: &RunArgs, overlay: Option<&(Report, PathBuf)>, cancel: &CancellationToken) -> Result<Report, u8> {
    if let Some(cmd) = &args.fresh_target_command {
        eprintln!("resetting the target: {cmd}");
        if let Err(e) = runner::fresh_target(cmd, cancel).await {
            eprintln!("error: {e}");
            return Err(if matches!(e, runner::FreshTargetError::Interrupted) { exit::INTERRUPTED } else { exit::BAD_INPUT });
        }
    }
    let exporter = start_export(plan, args.export_metrics.clone(), args.export_tenant.clone()).await?;
    let streaming = runner::Streaming { to: exporter.as_ref().map(|e| e.to.clone()), keep_last_intervals: None };
    let result = runner::run_streaming(plan, opts, cancel.clone(), streaming).await;
    if let Some(e) = exporter {
        e.finish().await;
    }
    match result {
        Ok(outcome) => {
            print!("{}", summary::render(&outcome.report, Some(&outcome.results_file.display().to_string())));
            if let Some(dir) = &args.report {
                if let Err(e) = super::report::write_all(&outcome.report, &outcome.results_file, dir, overlay.map(|(r, f)| (r, f.as_path()))) {
                    eprintln!("error: {e}");
                    return Err(exit::RESULTS_NOT_WRITTEN);
                }
            }
            if outcome.report.run.interrupted {
                eprintln!("interrupted: partial results written to {}", outcome.results_file.display());
            }
            Ok(outcome.report)
        }
        Err(e) => Err(failed(e)),
    }
}

/// Says why a run could not run or be written, and its exit code.
pub fn failed(e: RunError) -> u8 {
    match e {
        RunError::Target(TargetError::Preflight(e)) => {
            eprintln!("error: preflight failed, no load was sent: {e}");
            if e.is_unreachable() {
                exit::UNREACHABLE
            } else {
                exit::TARGET_REJECTED
            }
        }
        RunError::Target(TargetError::Setup(e)) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
        RunError::WriteResults { dir, source, report } => {
            print!("{}", summary::render(&report, None));
            eprintln!("error: the results could not be written to {dir}: {source}; make the folder writable or pass --out DIR");
            exit::RESULTS_NOT_WRITTEN
        }
    }
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

/// A running export of each interval's figures.
pub struct Export {
    pub to: tokio::sync::mpsc::UnboundedSender<lgtm_bench::report::intervals::ClosedInterval>,
    task: tokio::task::JoinHandle<ExportSummary>,
    url: String,
}

impl Export {
    /// Waits (30 s at most) for what is left to be sent, and says what the export came to.
    pub async fn finish(self) {
        let Export { to, task, url } = self;
        drop(to);
        match tokio::time::timeout(std::time::Duration::from_secs(30), task).await {
            Ok(Ok(summary)) => eprintln!("{}", summary.line(&url)),
            Ok(Err(e)) => eprintln!("warning: the metrics export stopped: {e}"),
            Err(_) => eprintln!("warning: the metrics export was still sending 30s after the run; what was left is not sent"),
        }
    }
}

/// Starts the export of each interval's figures, when `--export-metrics` or the scenario's
/// `[export] url` asks for it (the flags win), after an empty write checks that the endpoint takes
/// remote-write (exit 3 when it does not answer, 4 when it refuses).
pub async fn start_export(plan: &Plan, url: Option<String>, tenant: Option<String>) -> Result<Option<Export>, u8> {
    let section: ExportSection = serde_json::from_value(plan.scenario["export"].clone()).unwrap_or_default();
    let Some(url) = url.or(section.url) else { return Ok(None) };
    let settings = ExportSettings { url: url.clone(), tenant: tenant.or(section.tenant), scenario: plan.run.name.clone(), queue: section.queue };
    if let Err((unreachable, e)) = export::preflight(&settings).await {
        eprintln!("error: --export-metrics {url}: {e}");
        return Err(if unreachable { exit::UNREACHABLE } else { exit::TARGET_REJECTED });
    }
    let (to, task) = export::start(settings).map_err(|e| {
        eprintln!("error: {e}");
        exit::BAD_INPUT
    })?;
    eprintln!("exporting each interval's figures to {url}");
    Ok(Some(Export { to, task, url }))
}
