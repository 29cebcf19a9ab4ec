//! The resolved plan, built once after a scenario is loaded and validated: the run's timing, each
//! target's resolved plan (parsed URIs, derived rates, templates), the objectives (the scenario's
//! and those its memory sections imply) already parsed, and the scenario as it will run with its
//! secrets redacted. `validate`, the plan printout, the runner and the results all read it.

use super::target::TargetPlan;
use crate::scenario::shard::ShardInfo;
use crate::scenario::{MemorySection, Problem, RunSection};
use crate::units::ByteSize;
use crate::verdict::Objective;
use std::collections::BTreeSet;

pub struct Plan {
    pub run: RunSection,
    pub targets: Vec<Box<dyn TargetPlan>>,
    /// Every objective checked: the scenario's, then the implied ones.
    pub objectives: Vec<Objective>,
    /// The scenario as it will run (overrides applied, defaults filled in), secrets redacted.
    pub scenario: serde_json::Value,
    /// The same as TOML, for `validate`.
    pub scenario_toml: String,
    /// Which shard of a sharded run this plan is, if any.
    pub shard: Option<ShardInfo>,
    /// Drive every open-loop workload as fast as its in-flight bound allows instead of at its
    /// planned rate (`selftest`: the generator's own ceiling).
    pub full_speed: bool,
    /// The run id to use instead of a new one: the steps of a capacity search over a dimension
    /// whose higher levels contain the lower ones (series 0..n) share one, so the target holds
    /// only the current level's series, not every step's.
    pub run_id: Option<String>,
}

impl Plan {
    /// Parses the scenario's objectives against the subjects its targets measure and adds the
    /// implied ones; every problem is reported with its key.
    pub fn new(
        run: RunSection,
        targets: Vec<Box<dyn TargetPlan>>,
        stated: &[String],
        scenario: serde_json::Value,
        scenario_toml: String,
    ) -> Result<Plan, Vec<Problem>> {
        let subjects: BTreeSet<String> = targets.iter().flat_map(|t| t.paths().subjects()).collect();
        let mut problems = Vec::new();
        let mut objectives = Vec::new();
        for (i, text) in stated.iter().enumerate() {
            let key = format!("objectives.{i}");
            match Objective::parse(text) {
                Ok(o) if !subjects.contains(&o.subject) => problems.push(Problem::new(
                    key,
                    format!("`{}` is not measured by this scenario; use one of: {}", o.subject, subjects.iter().cloned().collect::<Vec<_>>().join(", ")),
                )),
                Ok(o) => objectives.push(o),
                Err(e) => problems.push(Problem::new(key, e.to_string())),
            }
        }
        // A latency objective alone could pass on the few calls that succeeded: an error bound beside it.
        let errors = implied_error_objectives(&objectives, stated);
        for text in errors {
            if let Ok(o) = Objective::parse(&text) {
                objectives.push(o);
            }
        }
        for t in &targets {
            let implied = t.paths().open_loop().into_iter().flat_map(|path| implied_plan_objectives(&path, stated));
            let memory = t.memory().map(|mem| implied_memory_objectives(t.name(), mem, stated)).unwrap_or_default();
            for text in implied.chain(memory) {
                match Objective::parse(&text) {
                    Ok(o) => objectives.push(o),
                    Err(e) => problems.push(Problem::new(format!("{}.memory", t.name()), e.to_string())),
                }
            }
        }
        if problems.is_empty() {
            Ok(Plan { run, targets, objectives, scenario, scenario_toml, shard: None, full_speed: false, run_id: None })
        } else {
            Err(problems)
        }
    }

    /// Human description of what `run` would do, printed by `validate` and at the start of a run.
    pub fn describe(&self) -> String {
        let r = &self.run;
        let mut out = format!("scenario `{}`: warm-up {} (not measured), ramp {}, steady {}; seed {}\n", r.name, r.warmup, r.ramp, r.duration, r.seed);
        for t in &self.targets {
            out += &t.describe(r);
        }
        for o in &self.objectives {
            out += &format!("objective: {}\n", o.text);
        }
        out
    }
}

/// Whether the scenario states an objective on `subject`'s `stat` itself (then nothing is implied).
fn states(stated: &[String], subject: &str, stat: &str) -> bool {
    stated.iter().any(|o| {
        let w: Vec<&str> = o.split_whitespace().collect();
        w.first() == Some(&subject) && w.get(1) == Some(&stat)
    })
}

/// The error bound a latency objective implies when the scenario states none on its subject:
/// `<subject> error_ratio < 1%`, so a percentile of the few calls that succeeded cannot pass alone.
pub fn implied_error_objectives(objectives: &[Objective], stated: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in objectives.iter().filter(|o| matches!(o.stat, crate::verdict::Stat::Latency { .. } | crate::verdict::Stat::Service { .. })) {
        let text = format!("{} error_ratio < 1%", o.subject);
        if !states(stated, &o.subject, "error_ratio") && !states(stated, &o.subject, "errors") && !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// The objectives an open-loop path implies: it delivered its whole plan (`skipped == 0`: the
/// in-flight bound was never reached; `abandoned == 0`: nothing was still unanswered when the run
/// stopped). A scenario relaxes either by stating its own bound, e.g. `mimir.write skipped <= 10`.
pub fn implied_plan_objectives(path: &str, stated: &[String]) -> Vec<String> {
    ["skipped", "abandoned"].into_iter().filter(|stat| !states(stated, path, stat)).map(|stat| format!("{path} {stat} == 0")).collect()
}

/// The objectives a memory section implies: `<t>.memory peak <= budget` (unless the scenario bounds
/// the peak itself) and `<t>.memory restarts == 0` (unless restarts are expected).
pub fn implied_memory_objectives(target: &str, mem: &MemorySection, stated: &[String]) -> Vec<String> {
    let subject = format!("{target}.memory");
    let mut out = Vec::new();
    if !states(stated, &subject, "peak") {
        let shown = ByteSize(mem.budget.0).to_string();
        let budget = if shown.parse::<ByteSize>().ok() == Some(mem.budget) { shown } else { mem.budget.0.to_string() };
        out.push(format!("{subject} peak <= {budget}"));
    }
    if !mem.restarts_expected && !states(stated, &subject, "restarts") {
        out.push(format!("{subject} restarts == 0"));
    }
    out
}

/// The plan printout's line for a watched target's memory.
pub fn describe_memory(target: &str, mem: &MemorySection) -> String {
    let mut sources: Vec<String> = mem.metrics_urls.clone();
    if let Some(c) = &mem.cluster {
        sources.push(format!("container_memory_working_set_bytes of pods ~ {} in {} via {}", c.pod_regex, c.namespace, c.query_url));
    }
    format!("{target}.memory: budget {}, read every {} from {}\n", mem.budget, mem.interval, sources.join(", "))
}

/// A scenario value as the scenario spells it (`instant`, `trace_by_id`), for printouts.
pub fn spelled<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::from("?"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_objective_without_an_error_bound_gets_one() {
        let stated: Vec<String> =
            ["mimir.write p99 < 1s", "mimir.write p50 < 100ms", "mimir.query p99 < 3s", "mimir.query errors == 0"].map(String::from).to_vec();
        let objectives: Vec<Objective> = stated.iter().map(|s| Objective::parse(s).unwrap()).collect();
        assert_eq!(implied_error_objectives(&objectives, &stated), ["mimir.write error_ratio < 1%"], "once per subject, and not where one is stated");
    }
}
