//! The targets a scenario may name, one folder each, and the registry that ties them to the
//! target-agnostic core: the scenario file's top level (`Scenario`, one field per target), loading
//! it into a resolved `Plan`, sharding it, and redacting it for printouts and results. Adding a
//! target is a new folder and one line in `Scenario` and in `resolve`.

pub mod mimir;
pub mod tempo;

use crate::engine::plan::Plan;
use crate::engine::target::TargetPlan;
use crate::scenario::shard::{fingerprint, shard_run, Shard, ShardInfo};
use crate::scenario::{self, checks, MemorySection, Override, Problem, RunSection, ScenarioError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A scenario file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub run: RunSection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimir: Option<mimir::config::MimirSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tempo: Option<tempo::config::TempoSection>,
    /// Objectives such as `"mimir.write p99 < 1s"`; see `verdict.rs` for the grammar.
    #[serde(default)]
    pub objectives: Vec<String>,
    /// What `check` needs beyond the targets: S3, Grafana, the cluster Prometheus's queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<crate::check::config::CheckSection>,
    /// Where `run --export-metrics` and the canary stream each interval's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<mimir::config::ExportSection>,
}

impl Scenario {
    /// This shard's part of the whole scenario.
    pub fn shard(&mut self, shard: Shard) {
        if shard.count == 1 {
            return;
        }
        shard_run(&mut self.run, shard);
        if let Some(m) = &mut self.mimir {
            mimir::shard(m, shard);
        }
        if let Some(t) = &mut self.tempo {
            tempo::shard(t, shard);
        }
    }

    /// The scenario with secret-looking header values replaced, for printouts and results.
    pub fn redacted(&self) -> Scenario {
        let mut s = self.clone();
        if let Some(m) = &mut s.mimir {
            m.connection.redact();
            m.memory.iter_mut().for_each(MemorySection::redact);
        }
        if let Some(t) = &mut s.tempo {
            t.connection.redact();
            t.memory.iter_mut().for_each(MemorySection::redact);
        }
        s
    }
}

/// The scenario's write load alone, aimed at local sinks (`selftest`): queries, read-back and
/// memory watching are dropped, objectives cleared, and the run lasts `duration` after a 1 s
/// warm-up. `http` takes remote-write and OTLP/HTTP, `grpc` OTLP/gRPC.
pub fn write_load_into(mut s: Scenario, http: &str, grpc: &str, duration: crate::units::Dur) -> Scenario {
    s.objectives.clear();
    s.run.name = format!("{}-selftest", s.run.name);
    s.run.warmup = crate::units::Dur::secs(1);
    s.run.ramp = crate::units::Dur::default();
    s.run.duration = duration;
    if let Some(m) = &mut s.mimir {
        mimir::into_sink(m, http);
    }
    if let Some(t) = &mut s.tempo {
        tempo::into_sink(t, http, grpc);
    }
    s
}

/// Checks every section and resolves the scenario into the plan every command reads.
pub fn resolve(s: Scenario) -> Result<Plan, Vec<Problem>> {
    let mut problems = Vec::new();
    checks::run(&s.run, &mut problems);
    if let Some(c) = &s.check {
        crate::check::config::validate(c, &s.run, &mut problems);
    }
    if let Some(e) = &s.export {
        mimir::validate::export(e, &mut problems);
    }
    let mut targets: Vec<Box<dyn TargetPlan>> = Vec::new();
    if let Some(m) = &s.mimir {
        targets.extend(mimir::resolve(m, &mut problems).map(|p| Box::new(p) as Box<dyn TargetPlan>));
    }
    if let Some(t) = &s.tempo {
        targets.extend(tempo::resolve(t, &mut problems).map(|p| Box::new(p) as Box<dyn TargetPlan>));
    }
    if s.mimir.is_none() && s.tempo.is_none() {
        problems.push(Problem::new("", "no target to load; add a [mimir] and/or [tempo] section (see scenarios/homelab.toml)"));
    }
    if !problems.is_empty() {
        // Objectives are checked against the subjects only once every target resolved; their
        // form is checked now, so every problem is still reported at once.
        for (i, text) in s.objectives.iter().enumerate() {
            if let Err(e) = crate::verdict::Objective::parse(text) {
                problems.push(Problem::new(format!("objectives.{i}"), e.to_string()));
            }
        }
        return Err(problems);
    }
    let shown = s.redacted();
    let json = serde_json::to_value(&shown).map_err(|e| vec![Problem::new("", format!("the scenario cannot be written as JSON: {e}"))])?;
    let toml = toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# the resolved scenario could not be printed: {e}\n"));
    Plan::new(s.run, targets, &s.objectives, json, toml)
}

/// Reads, overrides and validates the scenario at `path` for `check`: its name, each target's
/// acceptance checks and the `[check]` section.
pub fn load_checks(path: &Path, overrides: &[Override]) -> Result<crate::check::Checks, ScenarioError> {
    scenario::load(path, overrides, |mut s: Scenario| {
        s.files_beside(path);
        resolve(s.clone())?;
        let mut problems = Vec::new();
        let mut checks: Vec<Box<dyn crate::check::TargetChecks>> = Vec::new();
        if let Some(m) = &s.mimir {
            checks.extend(mimir::resolve(m, &mut problems).map(|p| Box::new(p) as Box<dyn crate::check::TargetChecks>));
        }
        if let Some(t) = &s.tempo {
            checks.extend(tempo::resolve(t, &mut problems).map(|p| Box::new(p) as Box<dyn crate::check::TargetChecks>));
        }
        Ok((s.run.name.clone(), checks, s.check.clone()))
    })
}

/// Reads, overrides, shards and validates the scenario at `path`, and resolves it. `group` names
/// the sharded run the shard belongs to (by default the scenario's fingerprint).
pub fn load(path: &Path, overrides: &[Override], shard: Option<Shard>, group: Option<&str>) -> Result<Plan, ScenarioError> {
    scenario::load(path, overrides, |mut s: Scenario| {
        s.files_beside(path);
        match shard {
            Some(shard) => resolve_shard(s, shard, group),
            None => resolve(s),
        }
    })
}

impl Scenario {
    /// Files a scenario names (dashboards) are read beside the scenario file unless absolute.
    pub fn files_beside(&mut self, scenario_file: &Path) {
        let dir = scenario_file.parent().unwrap_or(Path::new(""));
        let specs = self.mimir.iter_mut().flat_map(|m| m.dashboards.iter_mut()).chain(self.tempo.iter_mut().flat_map(|t| t.dashboards.iter_mut()));
        for d in specs {
            if Path::new(&d.file).is_relative() {
                d.file = dir.join(&d.file).display().to_string();
            }
        }
    }
}

/// Resolves this shard's part of `s`, marked with the sharded run it belongs to.
pub fn resolve_shard(mut s: Scenario, shard: Shard, group: Option<&str>) -> Result<Plan, Vec<Problem>> {
    let whole = fingerprint(&serde_json::to_string(&s.redacted()).unwrap_or_default());
    s.shard(shard);
    let mut plan = resolve(s)?;
    let group = group.map_or_else(|| whole.clone(), str::to_string);
    plan.shard = Some(ShardInfo { index: shard.index, count: shard.count, group, scenario: whole });
    Ok(plan)
}

/// Same as `parse` for text to be written at `path`: the files it names are read beside it.
pub fn parse_beside(text: &str, path: &Path) -> Result<Plan, ScenarioError> {
    scenario::parse(text, &path.display().to_string(), &[], |mut s: Scenario| {
        s.files_beside(path);
        resolve(s)
    })
}

/// Same as `load` for text already in memory.
pub fn parse(text: &str, origin: &str, overrides: &[Override]) -> Result<Plan, ScenarioError> {
    scenario::parse(text, origin, overrides, resolve)
}
