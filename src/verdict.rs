//! Objectives → verdict. An objective is one line, `<subject> <stat> <op> <threshold>`, e.g.
//! `mimir.write p99 < 1s`, `mimir.write error_ratio < 0.1%`, `mimir.visibility lost == 0`.
//! `evaluate` is a pure function of the objectives and what was observed.

use crate::units::{fmt_micros, ByteSize, Dur, UnitError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A statistic an objective can bound.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    /// Latency quantile from the intended start (`p50`, `p90`, `p99`, `p99.9`, `max` as 1.0).
    Latency {
        quantile: f64,
    },
    /// Service-time quantile (`service_p99`, …).
    Service {
        quantile: f64,
    },
    /// Send-lateness quantile (`lateness_p99`, …): how late calls started against the plan.
    Lateness {
        quantile: f64,
    },
    /// Failed calls over all calls.
    ErrorRatio,
    /// Failed calls.
    Errors,
    /// Read-after-write checks never satisfied; trace-by-ID misses still missing when asked again.
    Lost,
    /// Trace-by-ID misses found when asked again (`tempo.recheck.<query>`).
    Transient,
    /// Planned calls skipped at the in-flight bound.
    Skipped,
    /// Planned calls sent but never answered when the run stopped (drain timeout or Ctrl-C).
    Abandoned,
    /// Peak of a watched byte figure (memory).
    Peak,
    /// Target restarts (or OOM kills) seen during the run.
    Restarts,
    /// Remote-write queue: the most samples pending at once.
    PendingMax,
    /// Remote-write queue: the largest lag of the newest acknowledged sample behind the newest scraped.
    LagMax,
    /// Remote-write queue: the most shards at once.
    ShardsMax,
    /// Samples refused for good, dropped by age, or carried by retried requests.
    SamplesFailed,
    SamplesDropped,
    SamplesRetried,
}

impl Stat {
    pub fn parse(text: &str) -> Option<Stat> {
        let (prefix, q) = match (text.strip_prefix("service_"), text.strip_prefix("lateness_")) {
            (Some(rest), _) => ("service", rest),
            (_, Some(rest)) => ("lateness", rest),
            _ => ("", text),
        };
        let quantile = match q {
            "p50" => Some(0.5),
            "p90" => Some(0.9),
            "p95" => Some(0.95),
            "p99" => Some(0.99),
            "p99.9" => Some(0.999),
            "max" => Some(1.0),
            _ => None,
        };
        match (quantile, prefix, text) {
            (Some(quantile), "", _) => Some(Stat::Latency { quantile }),
            (Some(quantile), "service", _) => Some(Stat::Service { quantile }),
            (Some(quantile), _, _) => Some(Stat::Lateness { quantile }),
            (None, _, "error_ratio") => Some(Stat::ErrorRatio),
            (None, _, "errors") => Some(Stat::Errors),
            (None, _, "lost") => Some(Stat::Lost),
            (None, _, "transient") => Some(Stat::Transient),
            (None, _, "skipped") => Some(Stat::Skipped),
            (None, _, "abandoned") => Some(Stat::Abandoned),
            (None, _, "peak") => Some(Stat::Peak),
            (None, _, "restarts") => Some(Stat::Restarts),
            (None, _, "pending_max") => Some(Stat::PendingMax),
            (None, _, "lag_max") => Some(Stat::LagMax),
            (None, _, "shards_max") => Some(Stat::ShardsMax),
            (None, _, "samples_failed") => Some(Stat::SamplesFailed),
            (None, _, "samples_dropped") => Some(Stat::SamplesDropped),
            (None, _, "samples_retried") => Some(Stat::SamplesRetried),
            _ => None,
        }
    }

    /// A figure of this statistic as people read it (`120ms`, `0.100%`, `1.5GiB`).
    pub fn show(self, v: f64) -> String {
        self.unit().show(v)
    }

    /// Whether the figure is a duration in microseconds, a ratio, a count or bytes.
    pub fn is_bytes(self) -> bool {
        self.unit() == Unit::Bytes
    }

    fn unit(self) -> Unit {
        match self {
            Stat::Latency { .. } | Stat::Service { .. } | Stat::Lateness { .. } | Stat::LagMax => Unit::Micros,
            Stat::ErrorRatio => Unit::Ratio,
            Stat::Errors | Stat::Lost | Stat::Transient | Stat::Skipped | Stat::Abandoned | Stat::Restarts => Unit::Count,
            Stat::PendingMax | Stat::ShardsMax | Stat::SamplesFailed | Stat::SamplesDropped | Stat::SamplesRetried => Unit::Count,
            Stat::Peak => Unit::Bytes,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    Micros,
    Ratio,
    Count,
    Bytes,
}

/// An objective line that cannot be read, with how to write it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ObjectiveError {
    #[error("`{text}` has {words} words; write it as `<subject> <stat> <op> <threshold>`, e.g. \"mimir.write p99 < 1s\"")]
    Form { text: String, words: usize },
    #[error("`{0}` is not a statistic; use p50, p90, p95, p99, p99.9, max, service_p99, lateness_p99, error_ratio, errors, lost, skipped, abandoned, peak, restarts, or for a remote-write queue pending_max, lag_max, shards_max, samples_failed, samples_dropped, samples_retried")]
    Stat(String),
    #[error("`{0}` is not a comparison; use <, <= or ==")]
    Op(String),
    #[error("`{0}` is not a percentage")]
    Percentage(String),
    #[error("`{0}` is not a ratio; write 0.001 or 0.1%")]
    Ratio(String),
    #[error("`{0}` is not a whole number")]
    Count(String),
    #[error(transparent)]
    Unit(#[from] UnitError),
}

impl Unit {
    fn parse(self, text: &str) -> Result<f64, ObjectiveError> {
        let t = || text.to_string();
        match self {
            Unit::Micros => Ok(text.parse::<Dur>().map(|d| d.get().as_micros() as f64)?),
            Unit::Ratio => match text.strip_suffix('%') {
                Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0).map_err(|_| ObjectiveError::Percentage(t())),
                None => text.parse::<f64>().map_err(|_| ObjectiveError::Ratio(t())),
            },
            Unit::Count => text.parse::<u64>().map(|v| v as f64).map_err(|_| ObjectiveError::Count(t())),
            Unit::Bytes => Ok(text.parse::<ByteSize>().map(|b| b.0 as f64)?),
        }
    }

    fn show(self, v: f64) -> String {
        match self {
            Unit::Micros => fmt_micros(v as u64),
            Unit::Ratio => format!("{:.3}%", v * 100.0),
            Unit::Count => format!("{}", v as u64),
            Unit::Bytes => ByteSize(v as u64).to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    fn holds(self, observed: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => observed < threshold,
            Op::Le => observed <= threshold,
            Op::Eq => observed == threshold,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
        })
    }
}

/// A parsed objective line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub text: String,
    pub subject: String,
    pub stat: Stat,
    pub op: Op,
    /// In base units: microseconds, a ratio, a count or bytes.
    pub threshold: f64,
}

impl Objective {
    pub fn parse(text: &str) -> Result<Objective, ObjectiveError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let [subject, stat, op, threshold] = words[..] else {
            return Err(ObjectiveError::Form { text: text.to_string(), words: words.len() });
        };
        let stat = Stat::parse(stat).ok_or_else(|| ObjectiveError::Stat(stat.to_string()))?;
        let op = match op {
            "<" => Op::Lt,
            "<=" => Op::Le,
            "==" => Op::Eq,
            _ => return Err(ObjectiveError::Op(op.to_string())),
        };
        let threshold = stat.unit().parse(threshold)?;
        Ok(Objective { text: text.to_string(), subject: subject.to_string(), stat, op, threshold })
    }
}

/// What a finished (or interrupted) run observed; implemented by the report.
pub trait Observations {
    /// `None` when the subject was not measured at all (then the objective fails: no figure is invented).
    fn observe(&self, subject: &str, stat: Stat) -> Option<f64>;

    /// The calls a latency figure rests on: (succeeded, made). A percentile over few successes of
    /// many calls says so.
    fn calls(&self, _subject: &str) -> Option<(u64, u64)> {
        None
    }
}

/// Errors above this share of the calls are named beside a latency figure.
const NOTED_ERROR_SHARE: f64 = 0.01;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ObjectiveResult {
    pub objective: String,
    pub passed: bool,
    /// The measured figure in base units; absent when nothing was measured.
    pub observed: Option<f64>,
    /// The figure as people read it, or why there is none.
    pub observed_display: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    pub passed: bool,
    pub objectives: Vec<ObjectiveResult>,
}

impl Verdict {
    pub fn failed(&self) -> impl Iterator<Item = &ObjectiveResult> {
        self.objectives.iter().filter(|o| !o.passed)
    }
}

/// Checks every objective against what was observed. Every failed objective is listed.
pub fn evaluate(objectives: &[Objective], observed: &impl Observations) -> Verdict {
    let results: Vec<ObjectiveResult> = objectives
        .iter()
        .map(|o| {
            let figure = observed.observe(&o.subject, o.stat);
            let unit = o.stat.unit();
            // A latency percentile over the successful calls only: say on how many, when errors took a share.
            let on = match (o.stat, observed.calls(&o.subject)) {
                (Stat::Latency { .. } | Stat::Service { .. }, Some((ok, made))) if made > 0 && (made - ok) as f64 > NOTED_ERROR_SHARE * made as f64 => {
                    format!(" on {ok} of {made} calls ({:.0}% errors)", (made - ok) as f64 / made as f64 * 100.0)
                }
                _ => String::new(),
            };
            match figure {
                Some(v) => ObjectiveResult {
                    objective: o.text.clone(),
                    passed: o.op.holds(v, o.threshold),
                    observed: Some(v),
                    observed_display: format!("{}{on}", unit.show(v)),
                },
                None => ObjectiveResult { objective: o.text.clone(), passed: false, observed: None, observed_display: "not measured".into() },
            }
        })
        .collect();
    Verdict { passed: results.iter().all(|r| r.passed), objectives: results }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fixed(HashMap<(&'static str, &'static str), f64>);
    impl Observations for Fixed {
        fn observe(&self, subject: &str, stat: Stat) -> Option<f64> {
            let key = match stat {
                Stat::Latency { quantile: 0.99 } => "p99",
                Stat::ErrorRatio => "error_ratio",
                Stat::Lost => "lost",
                _ => return None,
            };
            self.0.iter().find(|((s, k), _)| *s == subject && *k == key).map(|(_, v)| *v)
        }
    }

    /// 13 of 340 calls succeeded, their p99 1.6 s.
    struct FewSucceeded;
    impl Observations for FewSucceeded {
        fn observe(&self, _: &str, stat: Stat) -> Option<f64> {
            matches!(stat, Stat::Latency { .. }).then_some(1_600_000.0)
        }
        fn calls(&self, _: &str) -> Option<(u64, u64)> {
            Some((13, 340))
        }
    }

    #[test]
    fn a_percentile_of_few_successes_says_so() {
        let v = evaluate(&[Objective::parse("tempo.query p99 < 5s").unwrap()], &FewSucceeded);
        assert_eq!(v.objectives[0].observed_display, "1.600s on 13 of 340 calls (96% errors)");
    }

    #[test]
    fn parses_each_unit() {
        let o = Objective::parse("mimir.write p99 < 1s").unwrap();
        assert_eq!((o.subject.as_str(), o.stat, o.op, o.threshold), ("mimir.write", Stat::Latency { quantile: 0.99 }, Op::Lt, 1e6));
        assert_eq!(Objective::parse("mimir.write error_ratio < 0.1%").unwrap().threshold, 0.001);
        assert_eq!(Objective::parse("mimir.visibility lost == 0").unwrap().threshold, 0.0);
        assert_eq!(Objective::parse("mimir.memory peak <= 1.5Gi").unwrap().threshold, 1610612736.0);
        assert_eq!(Objective::parse("mimir.write service_p99.9 < 2s").unwrap().stat, Stat::Service { quantile: 0.999 });
        assert_eq!(Objective::parse("mimir.write lateness_p99 < 5ms").unwrap().stat, Stat::Lateness { quantile: 0.99 });
        assert_eq!(Objective::parse("mimir.write lateness_p99 < 5ms").unwrap().threshold, 5_000.0);
    }

    #[test]
    fn bad_objectives_explain_the_form() {
        let err = |text: &str| Objective::parse(text).unwrap_err().to_string();
        assert!(err("mimir.write p99 1s").contains("<subject> <stat> <op> <threshold>"));
        assert!(err("mimir.write p98 < 1s").contains("not a statistic"));
        assert!(err("mimir.write p99 > 1s").contains("use <, <= or =="));
        assert!(err("mimir.write p99 < fast").contains("not a duration"));
    }

    #[test]
    fn verdict_lists_every_failure_and_fails_unmeasured_subjects() {
        let seen = Fixed(HashMap::from([(("mimir.write", "p99"), 1_500_000.0), (("mimir.write", "error_ratio"), 0.0)]));
        let objectives: Vec<Objective> =
            ["mimir.write p99 < 1s", "mimir.write error_ratio < 0.1%", "mimir.query p99 < 3s"].iter().map(|t| Objective::parse(t).unwrap()).collect();
        let v = evaluate(&objectives, &seen);
        assert!(!v.passed);
        let failed: Vec<&str> = v.failed().map(|r| r.objective.as_str()).collect();
        assert_eq!(failed, ["mimir.write p99 < 1s", "mimir.query p99 < 3s"]);
        assert_eq!(v.objectives[0].observed_display, "1.500s");
        assert_eq!(v.objectives[2].observed_display, "not measured");
        assert!(evaluate(&objectives[1..2], &seen).passed);
    }
}
