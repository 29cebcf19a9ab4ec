//! The capacity report: the dimension searched, every step with its full run report, the answer,
//! memory per unit of load with the level at which the budget would be reached, and the headroom
//! against the scenario's own load. One model; `render` draws it as HTML and Markdown.

use super::search::{Answer, Judgement, Outcome, SearchSettings, StepKind};
use crate::report::{Report, Tool};
use crate::units::ByteSize;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "lgtm-bench/capacity/v1";

/// The JSON Schema of the capacity report (`results/capacity-schema.json`).
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(CapacityReport)).expect("schema serializes")
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CapacityReport {
    pub schema: String,
    pub tool: Tool,
    pub scenario_name: String,
    pub scenario_file: String,
    pub started_at: String,
    pub finished_at: String,
    pub dimension: DimensionReport,
    pub settings: SearchSettings,
    pub step_seconds: f64,
    pub confirm_seconds: f64,
    /// Whether the target was reset before every step (`--fresh-target-command`); otherwise later
    /// steps run on a target that still holds the earlier steps' data.
    pub fresh_target: bool,
    pub interrupted: bool,
    /// What stopped the search before its answer, if anything did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_failure: Option<super::StepFailure>,
    /// Why the search stopped where it did.
    pub stop_reason: String,
    pub steps: Vec<StepReport>,
    pub answer: Answer,
    /// The answer in one sentence.
    pub answer_text: String,
    /// Memory growth per unit of the dimension, from the steps, and where the budget would be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemorySlope>,
    /// The answer over the scenario's own level (`3.6` = 3.6× headroom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DimensionReport {
    pub key: String,
    pub unit: String,
    /// The level the scenario is written with.
    pub configured: f64,
    /// Other keys moved with it, as `key = factor × level`.
    pub scaled_with: Vec<(String, f64)>,
    pub note: String,
    /// A higher level's data contains a lower one's (one run id for every step).
    #[serde(default)]
    pub nested: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct StepReport {
    /// 1-based.
    pub index: usize,
    pub kind: StepKind,
    pub level: f64,
    pub judgement: Judgement,
    /// The objectives that broke, in the scenario's words.
    pub broken: Vec<String>,
    /// Why the generator, not the target, limited the step.
    pub generator_limited_by: Vec<String>,
    /// What the target may still hold from earlier steps when this one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carry_over: Option<String>,
    pub results_file: String,
    /// The step's full results, the same model as `run` writes.
    pub report: Report,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct MemorySlope {
    /// The target whose memory it is (`mimir`, `tempo`).
    pub target: String,
    /// The checked figure before the first step's load.
    pub before_load_bytes: f64,
    /// Memory per unit of the dimension (least squares through the origin over the steps): for a
    /// nested dimension the peak over the first step's pre-load reading (the target holds the
    /// current level), otherwise the growth over each step's own pre-load reading.
    pub bytes_per_unit: f64,
    pub budget_bytes: Option<u64>,
    /// The level at which `before_load + bytes_per_unit × level` reaches the budget.
    pub projected_level: Option<f64>,
    /// The steps the slope was fitted on.
    pub steps_used: usize,
}

impl MemorySlope {
    /// Fits the slope over the steps that watched `target`'s memory.
    pub fn fit(target: &str, steps: &[StepReport], nested: bool) -> Option<MemorySlope> {
        let before = steps.iter().find_map(|s| s.report.memory.get(target).and_then(|m| m.before_load_bytes))?;
        let cost = |m: &crate::report::MemoryReport| if nested { m.peak_bytes.map(|p| p - before) } else { m.growth_bytes };
        let points: Vec<(f64, f64, &crate::report::MemoryReport)> =
            steps.iter().filter_map(|s| s.report.memory.get(target).and_then(|m| cost(m).map(|g| (s.level, g, m)))).collect();
        let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(xy, xx), (l, g, _)| (xy + l * g, xx + l * l));
        if points.is_empty() || sxx <= 0.0 {
            return None;
        }
        let slope = sxy / sxx;
        let budget = points.iter().find_map(|(_, _, m)| m.budget_bytes);
        let projected = budget.filter(|_| slope > 0.0).map(|b| ((b as f64 - before) / slope).max(0.0));
        Some(MemorySlope {
            target: target.to_string(),
            before_load_bytes: before,
            bytes_per_unit: slope,
            budget_bytes: budget,
            projected_level: projected,
            steps_used: points.len(),
        })
    }
}

/// A level as people read it: `180,000` for whole levels, `12.5` otherwise.
pub fn show_level(level: f64, unit: &str) -> String {
    let n = if level.fract() == 0.0 && level.abs() < 1e15 { group_thousands(level as u64) } else { format!("{level:.2}") };
    format!("{n} {unit}")
}

/// `spans/s` → `span/s`, `concurrent queries` → `concurrent query`; `series` stays.
fn singular(unit: &str) -> String {
    let (word, rest) = unit.split_once('/').map_or((unit, String::new()), |(w, r)| (w, format!("/{r}")));
    let one = if let Some(stem) = word.strip_suffix("ies").filter(|_| !word.ends_with("series")) {
        format!("{stem}y")
    } else if word.ends_with('s') && !word.ends_with("series") {
        word[..word.len() - 1].to_string()
    } else {
        word.to_string()
    };
    one + &rest
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl CapacityReport {
    /// The answer in one sentence, with the first objective to break above it.
    pub fn sentence(&self) -> String {
        let d = &self.dimension;
        let target = d.key.split('.').next().unwrap_or("the target");
        let level = |l: f64| show_level(l, &d.unit);
        let first_broken = self.answer.first_fail.and_then(|f| self.steps.iter().find(|s| s.level == f && s.judgement == Judgement::Fail));
        let broke = first_broken
            .map(|s| format!("; the first objective to break at {} was `{}`", level(s.level), s.broken.first().map_or("?", String::as_str)))
            .unwrap_or_default();
        match (self.answer.outcome, self.answer.level) {
            (Outcome::Found, Some(l)) => format!("{target} holds {} ({}) within all objectives{broke}", level(l), d.note),
            (Outcome::Unconfirmed, Some(l)) => format!("{target} held {} in its steps, but the longer confirmation did not hold{broke}: treat it as unconfirmed", level(l)),
            (Outcome::AtLeastGeneratorLimited, l) => format!(
                "{target} holds at least {}: the generator fell behind above it, so the target's limit was not reached; add shards or cores",
                l.map_or_else(|| "nothing measured".into(), level)
            ),
            (Outcome::AtLeastReachedTo, Some(l)) => format!("{target} holds at least {} (the highest level searched); raise --to to search further", level(l)),
            (Outcome::Bracketed, Some(l)) => format!(
                "{target} holds {} ({}) within all objectives, and not {}{broke}. The search only stepped up (the target kept its state): for a narrower answer use a smaller --factor or --fresh-target-command",
                level(l),
                d.note,
                self.answer.first_fail.map_or_else(String::new, level)
            ),
            (Outcome::NoneFits, _) => format!("no level tried fits: even {} broke an objective{broke}", self.steps.iter().map(|s| s.level).reduce(f64::min).map_or_else(|| "the lowest".into(), level)),
            (_, Some(l)) => format!("stopped before an answer: {} passed{}", level(l), self.answer.first_fail.map(|f| format!(", {} failed", level(f))).unwrap_or_default()),
            (_, None) => "stopped before any level passed".into(),
        }
    }

    /// The scenario's own level as a share of capacity: "is 31% of capacity (3.2× headroom)"; "at
    /// most" when the answer is a lower bound.
    pub fn share_of_capacity(&self) -> Option<String> {
        let h = self.headroom.filter(|h| *h > 0.0)?;
        let bound = matches!(self.answer.outcome, super::search::Outcome::AtLeastGeneratorLimited | super::search::Outcome::AtLeastReachedTo);
        Some(format!(
            "the scenario's {} is {}{:.0}% of capacity ({h:.1}× headroom)",
            super::model::show_level(self.dimension.configured, &self.dimension.unit),
            if bound { "at most " } else { "" },
            100.0 / h
        ))
    }

    /// The memory line: slope and the level at which the budget would be reached.
    pub fn memory_sentence(&self) -> Option<String> {
        let m = self.memory.as_ref()?;
        let per = ByteSize(m.bytes_per_unit.max(0.0).round() as u64);
        let unit = singular(&self.dimension.unit);
        let mut s = format!("{} memory: {} before load, +{per} per {unit} (from {} step(s))", m.target, ByteSize(m.before_load_bytes as u64), m.steps_used);
        if let (Some(b), Some(p)) = (m.budget_bytes, m.projected_level) {
            s += &format!("; the {} budget would be reached at about {} by that slope", ByteSize(b), show_level(p.round(), &self.dimension.unit));
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn units_read_in_the_singular() {
        assert_eq!(super::singular("active series"), "active series");
        assert_eq!(super::singular("spans/s"), "span/s");
        assert_eq!(super::singular("concurrent queries"), "concurrent query");
        assert_eq!(super::show_level(180000.0, "active series"), "180,000 active series");
    }
}
