//! The `lgtm-bench` binary: parse the command line, load the scenario, run it, map the outcome to
//! an exit code. Ctrl-C (or SIGTERM) stops the run and still writes partial results.

use clap::Parser;
use lgtm_bench::cli::{exit, Cli, Command};
use lgtm_bench::exec::runner::{self, RunError, RunOptions};
use lgtm_bench::report::compare::{self, Tolerance};
use lgtm_bench::report::{json, summary};
use lgtm_bench::scenario;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let code = match Cli::parse().command {
        Command::Validate { scenario, overrides } => validate(&scenario, &overrides),
        Command::Schema => {
            println!("{}", serde_json::to_string_pretty(&lgtm_bench::report::schema()).expect("schema prints"));
            exit::PASSED
        }
        Command::Merge { files, out } => merge(&files, &out),
        Command::Compare { baseline, current, max_regression } => compare_files(&baseline, &current, max_regression),
        Command::Run { scenario, out, overrides, quiet, shard, baseline, max_regression } => {
            run_command(scenario, out, &overrides, quiet, shard, baseline, max_regression)
        }
    };
    ExitCode::from(code)
}

fn validate(file: &Path, overrides: &[scenario::Override]) -> u8 {
    match scenario::load(file, overrides) {
        Ok(s) => {
            println!("{} is valid.\n\n{}", file.display(), runner::describe(&s));
            match toml::to_string_pretty(&s) {
                Ok(resolved) => println!("# The scenario as it will run (overrides applied, defaults filled in):\n{resolved}"),
                Err(e) => eprintln!("note: the resolved scenario could not be printed: {e}"),
            }
            exit::PASSED
        }
        Err(e) => {
            eprint!("{e}");
            exit::BAD_INPUT
        }
    }
}

fn merge(files: &[PathBuf], out: &Path) -> u8 {
    let report = match lgtm_bench::report::merge::merge_files(files) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    if let Err(e) = json::write_to(out, &report) {
        eprintln!("error: cannot write {}: {e}; check the path", out.display());
        return exit::RESULTS_NOT_WRITTEN;
    }
    print!("{}", summary::render(&report, Some(&out.display().to_string())));
    if report.passed() { exit::PASSED } else { exit::OBJECTIVES_FAILED }
}

fn compare_files(baseline: &Path, current: &Path, max_regression: f64) -> u8 {
    match (json::read(baseline), json::read(current)) {
        (Ok(b), Ok(c)) => {
            let cmp = compare::compare(&b, &c, Tolerance { latency: max_regression, ..Tolerance::default() });
            print!("{}", compare::render(&cmp));
            if cmp.regressed { exit::OBJECTIVES_FAILED } else { exit::PASSED }
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
    }
}

fn run_command(
    file: PathBuf,
    out: PathBuf,
    overrides: &[scenario::Override],
    quiet: bool,
    shard: Option<scenario::shard::Shard>,
    baseline: Option<PathBuf>,
    max_regression: f64,
) -> u8 {
    let baseline = match baseline.map(|b| json::read(&b)).transpose() {
        Ok(b) => b.map(|b| (b, Tolerance { latency: max_regression, ..Tolerance::default() })),
        Err(e) => {
            eprintln!("error: --baseline: {e}");
            return exit::BAD_INPUT;
        }
    };
    let mut s = match scenario::load(&file, overrides) {
        Ok(s) => s,
        Err(e) => {
            eprint!("{e}");
            return exit::BAD_INPUT;
        }
    };
    if let Some(shard) = shard {
        scenario::shard::apply(&mut s, shard);
    }
    let opts = RunOptions { scenario_file: file.display().to_string(), out_dir: out, progress: !quiet, baseline };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime starts");
    rt.block_on(run(s, opts))
}

async fn run(s: scenario::Scenario, opts: RunOptions) -> u8 {
    let cancel = CancellationToken::new();
    tokio::spawn(stop_on_signal(cancel.clone()));
    eprintln!("{}", runner::describe(&s).trim_end());
    match runner::run(s, opts, cancel.clone()).await {
        Ok(outcome) => {
            print!("{}", summary::render(&outcome.report, Some(&outcome.results_file.display().to_string())));
            if outcome.report.run.interrupted {
                eprintln!("interrupted: partial results written to {}", outcome.results_file.display());
                exit::INTERRUPTED
            } else if outcome.report.passed() {
                exit::PASSED
            } else {
                exit::OBJECTIVES_FAILED
            }
        }
        Err(RunError::Preflight(e)) => {
            eprintln!("error: preflight failed, no load was sent: {e}");
            if e.is_unreachable() { exit::UNREACHABLE } else { exit::TARGET_REJECTED }
        }
        Err(RunError::Setup(e)) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
        Err(RunError::WriteResults { dir, error, report }) => {
            print!("{}", summary::render(&report, None));
            eprintln!("error: the results could not be written to {dir}: {error}; make the folder writable or pass --out DIR");
            exit::RESULTS_NOT_WRITTEN
        }
    }
}

/// First Ctrl-C or SIGTERM: stop the load and write what was measured. Second: leave at once.
async fn stop_on_signal(cancel: CancellationToken) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler installs");
    for round in 0..2 {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        if round == 0 {
            eprintln!("\nstopping: finishing up and writing partial results (press Ctrl-C again to quit at once)");
            cancel.cancel();
        } else {
            std::process::exit(exit::INTERRUPTED as i32);
        }
    }
}
