//! `canary`: the scenario's load and queries at its (low) rates until stopped, its figures on
//! `/metrics` for Prometheus (`--listen`), so a Deployment watches the targets for weeks. The run is
//! the ordinary engine with a duration that does not end (or `--duration` for a bounded one) and a
//! bounded window of intervals; Ctrl-C or SIGTERM stops it and still writes the results (exit 0:
//! stopping is how a canary ends). Exit codes as `run` when it cannot start.

use super::run::{failed, start_export, stop_on_signal};
use lgtm_bench::canary::metrics::CanaryMetrics;
use lgtm_bench::canary::serve::serve;
use lgtm_bench::canary::state::{scenario_fingerprint, Incarnation, State};
use lgtm_bench::cli::{exit, CanaryArgs};
use lgtm_bench::engine::plan::Plan;
use lgtm_bench::engine::reread::{Age, Rereaders, Written};
use lgtm_bench::engine::runner::{self, RunOptions, Streaming};
use lgtm_bench::report::summary;
use lgtm_bench::scenario::Override;
use lgtm_bench::targets;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Intervals' counts a canary keeps for its results file (the newest).
const KEPT_INTERVALS: usize = 360;

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
    let mut plan = match targets::load(&args.scenario, &overrides, None, None) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{e}");
            return exit::BAD_INPUT;
        }
    };
    if let Some(too_old) = args.ages.iter().find(|a| a.get() > args.max_age.get()) {
        eprintln!("error: --ages {too_old} is older than --max-age {}: raise --max-age (within the targets' retention) or drop that age", args.max_age);
        return exit::BAD_INPUT;
    }
    let state_file = args.state.clone().unwrap_or_else(|| args.out.join("canary.state"));
    let mut state = match std::fs::create_dir_all(&args.out).map_err(|e| e.to_string()).and_then(|_| State::load(&state_file)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --state: {e}");
            return exit::BAD_INPUT;
        }
    };
    let run_id = runner::new_run_id();
    plan.run_id = Some(run_id.clone());
    let fingerprint = scenario_fingerprint(&plan.scenario);
    // Shared with the re-read loop, which rebuilds each run's writes from it.
    let plan = Arc::new(plan);
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
        let exporter = match start_export(&plan, args.export_metrics.clone(), args.export_tenant.clone()).await {
            Ok(e) => e,
            Err(code) => return code,
        };
        let export_to = exporter.as_ref().map(|e| e.to.clone());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<lgtm_bench::report::intervals::ClosedInterval>();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<i64>();
        let fed = metrics.clone();
        let feeder = tokio::spawn(async move {
            let mut started = Some(started_tx);
            while let Some(closed) = rx.recv().await {
                if let Some(tx) = started.take() {
                    let _ = tx.send(closed.start_unix_ms - closed.index as i64 * closed.length_ms);
                }
                if let Some(to) = &export_to {
                    let _ = to.send(closed.clone());
                }
                fed.add(closed);
            }
        });
        let now = now_unix_ms();
        state.forget_before(now - args.max_age.get().as_millis() as i64);
        let earlier: Vec<Written> = state.runs.iter().filter(|r| r.scenario == fingerprint).map(|r| r.written.clone()).collect();
        let others = state.runs.len() - earlier.len();
        eprintln!(
            "canary: {} earlier run(s) of this scenario to re-read{}; state in {}",
            earlier.len(),
            if others > 0 { format!(" ({others} of another scenario are not)") } else { String::new() },
            state_file.display()
        );
        let ages: Vec<Age> = args.ages.iter().map(|a| Age { label: a.to_string(), ms: a.get().as_millis() as i64 }).collect();
        let kept_ms = retention(&plan, &ages).await;
        let reread = tokio::spawn(reread_loop(Reread {
            plan: plan.clone(),
            earlier,
            run_id: run_id.clone(),
            fingerprint,
            state,
            state_file,
            ages,
            kept_ms,
            every: args.reread_every.get(),
            metrics: metrics.clone(),
            started: started_rx,
            cancel: cancel.clone(),
        }));
        let opts = RunOptions { scenario_file: args.scenario.display().to_string(), out_dir: args.out.clone(), progress: !args.quiet, baseline: None };
        let streaming = Streaming { to: Some(tx), keep_last_intervals: Some(KEPT_INTERVALS) };
        let result = runner::run_streaming(&plan, opts, cancel.clone(), streaming).await;
        let _ = feeder.await;
        reread.abort();
        if let Some(e) = exporter {
            e.finish().await;
        }
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

fn now_unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Reads how long each target keeps its data and says so, with the ages not asked of it.
async fn retention(plan: &Plan, ages: &[Age]) -> BTreeMap<&'static str, i64> {
    let mut kept_ms = BTreeMap::new();
    for t in &plan.targets {
        let kept = t.retention().await;
        eprintln!("{}", kept.describe(t.name(), ages));
        if let Some(ms) = kept.limit_ms() {
            kept_ms.insert(t.name(), ms);
        }
    }
    kept_ms
}

/// What the re-read loop needs.
struct Reread {
    plan: Arc<Plan>,
    earlier: Vec<Written>,
    run_id: String,
    fingerprint: String,
    state: State,
    state_file: PathBuf,
    ages: Vec<Age>,
    /// How long each target keeps its data: no age beyond it is asked of it.
    kept_ms: BTreeMap<&'static str, i64>,
    every: std::time::Duration,
    metrics: Arc<CanaryMetrics>,
    started: tokio::sync::oneshot::Receiver<i64>,
    cancel: CancellationToken,
}

/// Every `every`, asks again for what was written at each age, by the earlier runs at once and by
/// this run once its clock start is known (its first closed interval, then recorded in the state),
/// counting found and lost by age band; the state is saved each round.
async fn reread_loop(mut r: Reread) {
    let plan = r.plan.clone();
    let build = |w: &Written| plan.targets.iter().filter_map(|t| t.reread(&plan.run, w)).collect::<Vec<_>>();
    // Built once: a run's series model is rebuilt for it. Newest run first.
    let mut rereaders = Rereaders { runs: r.earlier.iter().rev().map(|w| (w.clone(), build(w))).collect(), kept_ms: std::mem::take(&mut r.kept_ms) };
    let mut current: Option<Written> = None;
    let mut announced = std::collections::BTreeSet::new();
    let mut ticks = tokio::time::interval(r.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = r.cancel.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let now = now_unix_ms();
        if current.is_none() {
            if let Ok(start_unix_ms) = r.started.try_recv() {
                let written = Written { run_id: r.run_id.clone(), start_unix_ms, last_seen_unix_ms: start_unix_ms };
                r.state.runs.push(Incarnation { written: written.clone(), scenario: r.fingerprint.clone() });
                // This run's reads go up to now.
                rereaders.runs.insert(0, (written.clone(), build(&Written { last_seen_unix_ms: i64::MAX, ..written.clone() })));
                current = Some(written);
            }
        }
        if current.is_some() {
            // This run wrote up to now; what it wrote in the last round may still be on its way.
            rereaders.runs[0].0.last_seen_unix_ms = now - r.every.as_millis() as i64;
        }
        let ids: Vec<String> = rereaders.runs.iter().map(|(w, _)| w.run_id.clone()).collect();
        rereaders
            .ask(now, &r.ages, r.every * 2, |run, target, band, reading| {
                r.metrics.reread(target, band, reading.outcome);
                let earlier = ids[run] != r.run_id;
                if earlier && reading.outcome == lgtm_bench::engine::reread::Outcome::Found && announced.insert(run) {
                    eprintln!("canary: found what the earlier run {} wrote ({target}, age {band})", ids[run]);
                }
                if reading.outcome == lgtm_bench::engine::reread::Outcome::Lost {
                    eprintln!("canary: LOST at age {band}: {target} {}", reading.what);
                }
            })
            .await;
        r.state.seen(&r.run_id, now - r.every.as_millis() as i64);
        if let Err(e) = r.state.save(&r.state_file) {
            eprintln!("warning: {e}");
        }
    }
}
