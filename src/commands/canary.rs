//! `canary`: the scenario's load and queries at its (low) rates until stopped, its figures on
//! `/metrics` for Prometheus (`--listen`), so a Deployment watches the targets for weeks. The run is
//! the ordinary engine with a duration that does not end (or `--duration` for a bounded one) and a
//! bounded window of intervals; Ctrl-C or SIGTERM stops it and still writes the results (exit 0:
//! stopping is how a canary ends). Exit codes as `run` when it cannot start.

use super::run::{failed, stop_on_signal};
use lgtm_bench::canary::metrics::CanaryMetrics;
use lgtm_bench::canary::serve::serve;
use lgtm_bench::cli::exit;
use lgtm_bench::engine::runner::{self, RunOptions, Streaming};
use lgtm_bench::report::summary;
use lgtm_bench::scenario::Override;
use lgtm_bench::targets;
use lgtm_bench::units::Dur;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Intervals' counts a canary keeps for its results file (the newest).
const KEPT_INTERVALS: usize = 360;

pub struct CanaryArgs {
    pub file: PathBuf,
    pub listen: SocketAddr,
    /// Stop after this long (tests, trials); by default it runs until stopped.
    pub duration: Option<Dur>,
    /// The objectives' rolling window.
    pub window: Dur,
    pub out: PathBuf,
    pub overrides: Vec<Override>,
    pub quiet: bool,
    /// After a `--duration` run: keep serving `/metrics` until stopped, for a last scrape.
    pub linger: bool,
}

pub fn canary(args: CanaryArgs) -> u8 {
    let duration = args.duration.map_or_else(|| "87600h".to_string(), |d| d.to_string());
    let mut overrides = args.overrides.clone();
    match format!("run.duration={duration}").parse::<Override>() {
        Ok(o) => overrides.push(o),
        Err(e) => {
            eprintln!("error: --duration: {e}");
            return exit::BAD_INPUT;
        }
    }
    let plan = match targets::load(&args.file, &overrides, None, None) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{e}");
            return exit::BAD_INPUT;
        }
    };
    let work = async move {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signal(cancel.clone()));
        let metrics = Arc::new(CanaryMetrics::new(plan.objectives.clone(), args.window.get().as_millis() as i64));
        let bound = match serve(args.listen, metrics.clone(), cancel.clone()).await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_INPUT;
            }
        };
        eprintln!("{}", plan.describe().trim_end());
        eprintln!("canary: metrics on http://{bound}/metrics; objectives judged over the last {}; Ctrl-C or SIGTERM stops it", args.window);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let fed = metrics.clone();
        let feeder = tokio::spawn(async move {
            while let Some(closed) = rx.recv().await {
                fed.add(closed);
            }
        });
        let opts = RunOptions { scenario_file: args.file.display().to_string(), out_dir: args.out.clone(), progress: !args.quiet, baseline: None };
        let streaming = Streaming { to: Some(tx), keep_last_intervals: Some(KEPT_INTERVALS) };
        let result = runner::run_streaming(&plan, opts, cancel.clone(), streaming).await;
        let _ = feeder.await;
        if args.linger && !cancel.is_cancelled() {
            eprintln!("canary: the run ended; /metrics still served on http://{bound}/metrics until Ctrl-C or SIGTERM (--linger)");
            cancel.cancelled().await;
        }
        match result {
            Ok(outcome) => {
                print!("{}", summary::render(&outcome.report, Some(&outcome.results_file.display().to_string())));
                if outcome.report.run.interrupted {
                    eprintln!("canary stopped; results (the last {KEPT_INTERVALS} intervals) written to {}", outcome.results_file.display());
                    exit::PASSED
                } else if outcome.report.passed() {
                    exit::PASSED
                } else {
                    exit::OBJECTIVES_FAILED
                }
            }
            Err(e) => failed(e),
        }
    };
    super::block_on(work).unwrap_or_else(|code| code)
}
