//! Capacity planning: find the most load a target takes within every objective of the scenario
//! (its memory budget and "no restarts" included). One load dimension, named by its scenario key,
//! is searched with full open-loop runs as steps (`search` decides the levels); each step is
//! judged by the whole verdict, and a step the generator could not drive ends the search with a
//! lower bound instead of blaming the target. The core knows no target: a target offers its
//! dimensions, the command hands in how to load the scenario at a level.

pub mod model;
pub mod render;
pub mod search;

use crate::engine::plan::Plan;
use crate::engine::runner::{self, RunError, RunOptions};
use crate::engine::target::{LoadDimension, TargetError};
use crate::report::{GeneratorReport, Report, Tool};
use crate::scenario::{Override, ScenarioError};
use crate::units::Dur;
use crate::verdict::{Objective, Stat};
use model::{CapacityReport, DimensionReport, MemorySlope, StepReport};
use search::{Judgement, Next, Search, SearchSettings, StepKind};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// A level of the dimension as given: absolute (`2000`) or a multiple of the scenario's own level
/// (`1x`, `0.5x`: "from what the cluster does today").
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    Absolute(f64),
    Times(f64),
}

impl Level {
    /// The level for a scenario whose own level is `configured`.
    pub fn at(self, configured: f64) -> f64 {
        match self {
            Level::Absolute(v) => v,
            Level::Times(f) => f * configured,
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Level, String> {
        let bad = || format!("`{s}` is not a level: give a number (2000) or a multiple of the scenario's level (1x, 0.5x)");
        match s.trim().strip_suffix(['x', 'X', '×']) {
            Some(f) => f.trim().parse::<f64>().map(Level::Times).map_err(|_| bad()),
            None => s.trim().parse::<f64>().map(Level::Absolute).map_err(|_| bad()),
        }
    }
}

/// How the search is asked for.
#[derive(Clone, Debug)]
pub struct CapacityOptions {
    /// The dimension's key; the scenario's first dimension when absent.
    pub dimension: Option<String>,
    pub from: Option<Level>,
    pub to: Option<Level>,
    /// Growth factor; by default 2 with a fresh target per step (bisection follows), else 1.25.
    pub factor: Option<f64>,
    pub precision: f64,
    pub max_steps: usize,
    pub step_duration: Dur,
    pub confirm_duration: Option<Dur>,
    /// A shell command run before every step that gives the step a fresh target.
    pub fresh_target_command: Option<String>,
    pub scenario_file: String,
    pub out_dir: PathBuf,
    pub progress: bool,
}

/// A search that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("the scenario has no load to grow (no write load and no closed-loop query load); add a `write` section to a target")]
    NoDimension,
    #[error("--dimension {key}: this scenario cannot grow it; use one of: {offered}")]
    UnknownDimension { key: String, offered: String },
    #[error("--{flag} {value}: {why}")]
    BadSetting { flag: &'static str, value: String, why: String },
}

/// The dimension asked for, from the plan's targets.
pub fn dimension(plan: &Plan, key: Option<&str>) -> Result<LoadDimension, CapacityError> {
    let offered: Vec<LoadDimension> = plan.targets.iter().flat_map(|t| t.load_dimensions()).collect();
    match key {
        None => offered.into_iter().next().ok_or(CapacityError::NoDimension),
        Some(k) => offered.iter().find(|d| d.key == k).cloned().ok_or_else(|| CapacityError::UnknownDimension {
            key: k.to_string(),
            offered: if offered.is_empty() {
                "none (no write load or closed-loop query load)".into()
            } else {
                offered.iter().map(|d| d.key.as_str()).collect::<Vec<_>>().join(", ")
            },
        }),
    }
}

/// The search's settings from the options and the dimension: `from` a quarter of the scenario's
/// level, `to` 64 times it, unless given. With a fresh target per step the search grows ×2 and
/// bisects; without one it only goes up, by ×1.25 unless given, and is bracketed to that factor.
pub fn settings(opts: &CapacityOptions, dim: &LoadDimension) -> Result<SearchSettings, CapacityError> {
    let floor = dim.minimum.max(if dim.whole { 1.0 } else { 1e-3 });
    let from = opts.from.map_or((dim.configured / 4.0).max(floor), |l| l.at(dim.configured));
    let to = opts.to.map_or((dim.configured * 64.0).max(from), |l| l.at(dim.configured));
    let bad = |flag, value: f64, why: &str| Err(CapacityError::BadSetting { flag, value: value.to_string(), why: why.into() });
    if !(from.is_finite() && from >= floor) {
        return bad("from", from, &format!("the first level must be at least {floor} (the lowest this scenario allows for {})", dim.key));
    }
    if !(to.is_finite() && to >= from) {
        return bad("to", to, &format!("must be at least --from ({from})"));
    }
    let ascending = opts.fresh_target_command.is_none();
    let factor = opts.factor.unwrap_or(if ascending { 1.25 } else { 2.0 });
    if !(factor.is_finite() && factor > 1.0) {
        return bad("factor", factor, "the growth factor must be above 1 (e.g. 2)");
    }
    if !(opts.precision.is_finite() && opts.precision > 0.0) {
        return bad("precision", opts.precision, "must be above 0% (e.g. 10%)");
    }
    Ok(SearchSettings {
        from,
        to,
        factor,
        precision: opts.precision,
        whole: dim.whole,
        floor,
        ascending,
        max_steps: opts.max_steps.max(1),
        max_confirmations: 3,
    })
}

/// The `--set` overrides that put the scenario at `level` for one step.
pub fn step_overrides(dim: &LoadDimension, level: f64, duration: Dur) -> Vec<Override> {
    let value = |v: f64| if dim.whole && v.fract() == 0.0 { toml::Value::Integer(v as i64) } else { toml::Value::Float(v) };
    let mut out = vec![Override { key: dim.key.clone(), value: value(level) }];
    out.extend(dim.scaled_with.iter().map(|(key, factor)| Override { key: key.clone(), value: toml::Value::Float(factor * level) }));
    out.push(Override { key: "run.duration".into(), value: toml::Value::String(duration.to_string()) });
    out
}

/// Send lateness (p99) above which a step's generator counts as behind its plan. Higher than the
/// run report's flag (10 ms): a busy machine delays a few sends by milliseconds without the
/// generator falling behind; a generator that cannot keep up falls further behind every second.
pub const BEHIND_P99_US: u64 = 100_000;

/// Who held a step back, by the run report's own rule (`attribution`), with sends counting as
/// behind only past `BEHIND_P99_US`.
fn attribution(report: &Report) -> crate::report::attribution::Attribution {
    let cpu = report.generator.as_ref().map_or(
        crate::report::attribution::Cpu { own_seconds: 0.0, wall_seconds: 1.0, cores: 1, host: None, local_targets_seconds: 0.0 },
        GeneratorReport::cpu,
    );
    crate::report::attribution::attribute(cpu, &report.paths, BEHIND_P99_US)
}

/// How a finished step is judged: an objective of the target broken, or the target not keeping
/// up with the plan → fail; only the plan's own bounds (skipped, abandoned) broken, or the
/// generator or the host behind → inconclusive ("at least"), never the target's limit; else pass.
pub fn judge(report: &Report) -> (Judgement, Vec<String>, Vec<String>) {
    let mut broken: Vec<String> = report.verdict.failed().map(|o| o.objective.clone()).collect();
    let generator_bound = |text: &str| Objective::parse(text).is_ok_and(|o| matches!(o.stat, Stat::Skipped | Stat::Abandoned));
    let a = attribution(report);
    let limited: Vec<String> = a.generator.into_iter().chain(a.host).collect();
    let target_failed = !a.target.is_empty();
    broken.extend(a.target);
    // Memory and restarts are the target's own whoever was busy; latencies and errors measured on a
    // saturated generator or host are not.
    let memory = |text: &str| Objective::parse(text).is_ok_and(|o| o.subject.ends_with(".memory"));
    let judgement = if target_failed || broken.iter().any(|t| memory(t)) || (limited.is_empty() && broken.iter().any(|t| !generator_bound(t))) {
        Judgement::Fail
    } else if !limited.is_empty() || !broken.is_empty() {
        Judgement::GeneratorLimited
    } else {
        Judgement::Pass
    };
    (judgement, broken, limited)
}

/// Runs the search: one full run per step, each written like `run` writes it (under
/// `<out>/<scenario>-capacity-<time>/step-NN/`). Ctrl-C keeps what was found so far.
pub async fn search(
    load: impl Fn(&[Override]) -> Result<Plan, ScenarioError>,
    opts: &CapacityOptions,
    cancel: CancellationToken,
) -> Result<(CapacityReport, PathBuf), CapacityError> {
    let started = chrono::Utc::now();
    let first = load(&[])?;
    let dim = dimension(&first, opts.dimension.as_deref())?;
    let settings = settings(opts, &dim)?;
    let confirm = opts.confirm_duration.unwrap_or(Dur(opts.step_duration.get() * 3));
    let name = format!("{}-capacity-{}", first.run.name, started.format("%Y%m%dT%H%M%SZ"));
    let dir = opts.out_dir.join(&name);
    let how = if settings.ascending {
        format!("only up, ×{} per step: the target keeps its state between steps", settings.factor)
    } else {
        format!("×{} then bisect to {:.0}% and confirm for {confirm}, a fresh target per step", settings.factor, settings.precision * 100.0)
    };
    eprintln!(
        "capacity: {} from {} to {} ({how}), steps of {}; {}",
        dim.key,
        model::show_level(settings.from, &dim.unit),
        model::show_level(settings.to, &dim.unit),
        opts.step_duration,
        dim.note
    );
    let shared_run_id = dim.nested.then(runner::new_run_id);
    let mut search = Search::new(settings);
    let mut steps: Vec<StepReport> = Vec::new();
    let mut stop_reason = String::new();
    let mut step_failure = None;
    let answer = loop {
        let (level, kind) = match search.next_step() {
            Next::Done(a) => break a,
            Next::Step { level, kind } => (level, kind),
        };
        if cancel.is_cancelled() {
            stop_reason = "stopped by Ctrl-C".into();
            step_failure = Some(StepFailure::Interrupted);
            break search.stop();
        }
        let index = steps.len() + 1;
        let duration = if kind == StepKind::Confirm { confirm } else { opts.step_duration };
        eprintln!("step {index} ({}): {} for {duration}", kind_word(kind), model::show_level(level, &dim.unit));
        let step_dir = dir.join(format!("step-{index:02}"));
        match run_step(&load, opts, (&dim, shared_run_id.as_deref()), level, duration, &step_dir, &cancel).await {
            Ok((report, file)) => {
                let (judgement, broken, generator_limited_by) = judge(&report);
                eprintln!("step {index}: {}", step_line(judgement, &broken, &generator_limited_by));
                let interrupted = report.run.interrupted;
                let carry_over = carry_over(&steps, level, opts, dim.nested);
                let results_file = file.display().to_string();
                // A step cut short by Ctrl-C is kept, marked failed, and not judged by the search.
                let shown = if interrupted { Judgement::Fail } else { judgement };
                steps.push(StepReport { index, kind, level, judgement: shown, broken, generator_limited_by, carry_over, results_file, report });
                if interrupted {
                    stop_reason = format!("stopped by Ctrl-C during step {index}");
                    step_failure = Some(StepFailure::Interrupted);
                    break search.stop();
                }
                search.record(level, kind, judgement);
            }
            Err((failure, why)) => {
                eprintln!("step {index}: could not run: {why}");
                step_failure = Some(failure);
                stop_reason = format!("step {index} at {} could not run: {why}", model::show_level(level, &dim.unit));
                break search.stop();
            }
        }
    };
    if stop_reason.is_empty() {
        stop_reason = answer.outcome.describe().to_string();
    }
    let target = dim.key.split('.').next().unwrap_or_default().to_string();
    let memory = MemorySlope::fit(&target, &steps, dim.nested);
    let headroom = answer.level.filter(|_| dim.configured > 0.0).map(|l| l / dim.configured);
    let mut report = CapacityReport {
        schema: model::SCHEMA.into(),
        tool: Tool { name: "lgtm-bench".into(), version: env!("CARGO_PKG_VERSION").into() },
        scenario_name: first.run.name.clone(),
        scenario_file: opts.scenario_file.clone(),
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        dimension: DimensionReport {
            key: dim.key.clone(),
            unit: dim.unit.clone(),
            configured: dim.configured,
            scaled_with: dim.scaled_with.clone(),
            note: dim.note.clone(),
            nested: dim.nested,
        },
        settings,
        step_seconds: opts.step_duration.get().as_secs_f64(),
        confirm_seconds: confirm.get().as_secs_f64(),
        fresh_target: opts.fresh_target_command.is_some(),
        interrupted: cancel.is_cancelled(),
        step_failure,
        stop_reason,
        steps,
        answer,
        answer_text: String::new(),
        memory,
        headroom,
    };
    report.answer_text = report.sentence();
    Ok((report, dir))
}

fn kind_word(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Grow => "grow",
        StepKind::Descend => "step down",
        StepKind::Bisect => "bisect",
        StepKind::Confirm => "confirm",
    }
}

fn step_line(j: Judgement, broken: &[String], limited: &[String]) -> String {
    match j {
        Judgement::Pass => "PASS".into(),
        Judgement::Fail => format!("FAIL: {}", broken.join("; ")),
        Judgement::GeneratorLimited => format!("GENERATOR LIMITED: {}", limited.first().or(broken.first()).map_or("", String::as_str)),
    }
}

/// What the target may still hold from earlier steps (none with a fresh target per step).
fn carry_over(steps: &[StepReport], level: f64, opts: &CapacityOptions, nested: bool) -> Option<String> {
    if opts.fresh_target_command.is_some() || steps.is_empty() {
        return None;
    }
    let higher = steps.iter().filter(|s| s.level > level).max_by(|a, b| a.level.total_cmp(&b.level));
    let earlier = if steps.len() == 1 { "step 1's".to_string() } else { format!("steps 1–{}'s", steps.len()) };
    Some(match (higher, nested) {
        (Some(h), _) => format!("after step {} at a higher level ({}): the target may still hold its data, so memory may be overstated", h.index, h.level),
        (None, true) => format!("the target still holds {earlier} data, a part of this step's (one run id: the same series, fewer)"),
        (None, false) => format!("the target still holds {earlier} data besides this step's"),
    })
}

/// Why a step could not run; the search stops there and keeps what it found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepFailure {
    /// The scenario at this level is invalid (e.g. a level beyond what a key allows).
    Scenario,
    /// The target could not be reached at the step's preflight.
    Unreachable,
    /// The target answered the preflight wrongly.
    Rejected,
    /// The step's results could not be written.
    Results,
    /// The fresh-target command failed.
    FreshTarget,
    /// Ctrl-C.
    Interrupted,
}

/// One step: the fresh-target command (if any), the scenario at `level`, a full run.
async fn run_step(
    load: &impl Fn(&[Override]) -> Result<Plan, ScenarioError>,
    opts: &CapacityOptions,
    (dim, run_id): (&LoadDimension, Option<&str>),
    level: f64,
    duration: Dur,
    out_dir: &std::path::Path,
    cancel: &CancellationToken,
) -> Result<(Report, PathBuf), (StepFailure, String)> {
    if let Some(cmd) = &opts.fresh_target_command {
        fresh_target(cmd, cancel).await?;
    }
    let mut plan = load(&step_overrides(dim, level, duration)).map_err(|e| (StepFailure::Scenario, e.to_string().trim_end().to_string()))?;
    plan.run_id = run_id.map(str::to_string);
    let run_opts = RunOptions { scenario_file: opts.scenario_file.clone(), out_dir: out_dir.to_path_buf(), progress: opts.progress, baseline: None };
    match runner::run(&plan, run_opts, cancel.clone()).await {
        Ok(o) => Ok((o.report, o.results_file)),
        Err(RunError::WriteResults { dir, source, .. }) => Err((StepFailure::Results, format!("its results could not be written to {dir}: {source}"))),
        Err(RunError::Target(TargetError::Preflight(e))) => {
            let kind = if e.is_unreachable() { StepFailure::Unreachable } else { StepFailure::Rejected };
            Err((kind, format!("preflight failed, no load was sent in this step: {e}")))
        }
        Err(RunError::Target(e)) => Err((StepFailure::Scenario, e.to_string())),
    }
}

/// Runs the user's command that resets the target; a failure stops the search.
async fn fresh_target(cmd: &str, cancel: &CancellationToken) -> Result<(), (StepFailure, String)> {
    runner::fresh_target(cmd, cancel).await.map_err(|e| {
        let kind = if matches!(e, runner::FreshTargetError::Interrupted) { StepFailure::Interrupted } else { StepFailure::FreshTarget };
        (kind, e.to_string())
    })
}
