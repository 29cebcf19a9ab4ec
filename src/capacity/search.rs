//! The capacity search as a pure state machine, so its logic is tested without any load: grow the
//! level geometrically from `from` until a step fails, bisect between the last pass and the first
//! fail until the bracket is within the precision, then confirm the answer with a longer step. A
//! step the generator could not drive ends the search with "at least" the last pass.

use serde::{Deserialize, Serialize};

/// How the search moves.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SearchSettings {
    /// The first level tried.
    pub from: f64,
    /// The highest level tried; passing it ends the search with "at least" it.
    pub to: f64,
    /// Growth factor of the geometric phase (2 doubles the level each step).
    pub factor: f64,
    /// The bracket `(first fail − last pass) / last pass` at which bisection stops.
    pub precision: f64,
    /// Levels are whole numbers (series, concurrency).
    pub whole: bool,
    /// No level below this is tried (the lowest the scenario allows).
    pub floor: f64,
    /// Levels only go up (the target keeps its state between steps, so a lower level after a
    /// higher one would be judged with the higher one's data still in it): no bisection and no
    /// confirmation below the first fail; the answer is bracketed to within one growth factor.
    pub ascending: bool,
    /// At most this many steps in all; then the best bracket so far is the answer.
    pub max_steps: usize,
    /// How many times levels below a failed confirmation are tried before giving up.
    pub max_confirmations: usize,
}

/// Why a step was run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Growing geometrically to find the first level that fails.
    Grow,
    /// The first level failed: stepping down geometrically to find one that passes.
    Descend,
    /// Halving the bracket between the last pass and the first fail.
    Bisect,
    /// A longer step at the answer, to confirm it.
    Confirm,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Grow => "grow",
            StepKind::Descend => "descend",
            StepKind::Bisect => "bisect",
            StepKind::Confirm => "confirm",
        }
    }
}

/// What a step came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// Every objective held.
    Pass,
    /// An objective broke (the target's, or the memory budget, or a restart).
    Fail,
    /// The generator could not drive the level as planned (skipped or late calls, CPU saturated):
    /// the step says nothing about the target.
    GeneratorLimited,
}

/// How the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The most load within the objectives, confirmed by a longer step.
    Found,
    /// The bracket was found but the confirmation kept failing (or the step limit came first):
    /// the answer is the last pass, not confirmed.
    Unconfirmed,
    /// The generator fell behind before any objective broke: the answer is a lower bound.
    AtLeastGeneratorLimited,
    /// Even `to` passed: the answer is a lower bound; raise `--to`.
    AtLeastReachedTo,
    /// Even the lowest level tried failed.
    NoneFits,
    /// Levels only went up (the target kept its state): the answer lies between the last pass and
    /// the first fail, one growth factor apart.
    Bracketed,
    /// Stopped (Ctrl-C or an error) before an answer: the bracket so far.
    Stopped,
}

impl Outcome {
    /// How the search ended, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Outcome::Found => "found and confirmed",
            Outcome::Unconfirmed => "found, not confirmed",
            Outcome::AtLeastGeneratorLimited => "the generator fell behind: a lower bound",
            Outcome::AtLeastReachedTo => "the highest level searched passed: a lower bound",
            Outcome::NoneFits => "no level tried fits",
            Outcome::Bracketed => "bracketed between the last pass and the first fail",
            Outcome::Stopped => "stopped",
        }
    }
}

/// The answer: the most load that passed, and the least that failed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Answer {
    pub outcome: Outcome,
    /// The highest level that passed (the answer), if any did.
    pub level: Option<f64>,
    /// The lowest level that failed above it, if any did.
    pub first_fail: Option<f64>,
}

/// The next thing to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    Step { level: f64, kind: StepKind },
    Done(Answer),
}

/// The search's state: what every step came to.
pub struct Search {
    s: SearchSettings,
    steps: Vec<(f64, StepKind, Judgement)>,
    failed_confirmations: usize,
    done: Option<Answer>,
}

impl Search {
    pub fn new(settings: SearchSettings) -> Search {
        Search { s: settings, steps: vec![], failed_confirmations: 0, done: None }
    }

    /// The steps so far: level, why, and what it came to.
    pub fn steps(&self) -> &[(f64, StepKind, Judgement)] {
        &self.steps
    }

    /// The highest level that passed a probe or a confirmation, and never failed one.
    fn best_pass(&self) -> Option<f64> {
        let failed_at_or_below = |l: f64| self.steps.iter().any(|(f, _, j)| *j == Judgement::Fail && *f <= l);
        self.steps.iter().filter(|(l, _, j)| *j == Judgement::Pass && !failed_at_or_below(*l)).map(|(l, _, _)| *l).reduce(f64::max)
    }

    /// The lowest level that failed.
    fn first_fail(&self) -> Option<f64> {
        self.steps.iter().filter(|(_, _, j)| *j == Judgement::Fail).map(|(l, _, _)| *l).reduce(f64::min)
    }

    fn answer(&self, outcome: Outcome) -> Answer {
        let level = self.best_pass();
        let first_fail = self.first_fail().filter(|f| level.is_none_or(|l| *f > l));
        Answer { outcome, level, first_fail }
    }

    /// Stops the search where it is (Ctrl-C, a step that could not run).
    pub fn stop(&mut self) -> Answer {
        let a = self.answer(Outcome::Stopped);
        self.done = Some(a);
        a
    }

    fn round(&self, level: f64) -> f64 {
        if self.s.whole {
            level.round().max(1.0)
        } else {
            level
        }
    }

    fn finish(&mut self, outcome: Outcome) -> Next {
        let a = self.answer(outcome);
        self.done = Some(a);
        Next::Done(a)
    }

    /// What to do next, given every step so far.
    pub fn next_step(&mut self) -> Next {
        if let Some(a) = self.done {
            return Next::Done(a);
        }
        if self.steps.iter().any(|(_, _, j)| *j == Judgement::GeneratorLimited) {
            return self.finish(Outcome::AtLeastGeneratorLimited);
        }
        if self.steps.len() >= self.s.max_steps {
            return self.finish(if self.best_pass().is_some() { Outcome::Unconfirmed } else { Outcome::Stopped });
        }
        let Some(&(_, last_kind, last)) = self.steps.last() else {
            return Next::Step { level: self.round(self.s.from), kind: StepKind::Grow };
        };
        if last_kind == StepKind::Confirm {
            if last == Judgement::Pass {
                return self.finish(Outcome::Found);
            }
            self.failed_confirmations += 1;
            if self.failed_confirmations >= self.s.max_confirmations {
                return self.finish(if self.best_pass().is_some() { Outcome::Unconfirmed } else { Outcome::NoneFits });
            }
        }
        match (self.best_pass(), self.first_fail()) {
            (Some(_), Some(_)) if self.s.ascending => self.finish(Outcome::Bracketed),
            (None, Some(_)) if self.s.ascending => self.finish(Outcome::NoneFits),
            (Some(pass), None) if pass >= self.s.to => self.finish(Outcome::AtLeastReachedTo),
            (Some(pass), None) => Next::Step { level: self.round((pass * self.s.factor).min(self.s.to)), kind: StepKind::Grow },
            (None, Some(fail)) => {
                let lowest = self.round(self.s.from / self.s.factor.powi(3)).max(self.s.floor);
                let down = self.round(fail / self.s.factor);
                if fail <= lowest || down >= fail {
                    self.finish(Outcome::NoneFits)
                } else {
                    Next::Step { level: down.max(lowest), kind: StepKind::Descend }
                }
            }
            (Some(pass), Some(fail)) => self.narrow(pass, fail),
            (None, None) => Next::Step { level: self.round(self.s.from), kind: StepKind::Grow },
        }
    }

    /// Bisects `[pass, fail]`, or confirms `pass` once the bracket is within the precision.
    fn narrow(&self, pass: f64, fail: f64) -> Next {
        let mid = self.round((pass * fail).sqrt());
        let within = (fail - pass) / pass <= self.s.precision;
        if within || mid <= pass || mid >= fail {
            return Next::Step { level: pass, kind: StepKind::Confirm };
        }
        Next::Step { level: mid, kind: StepKind::Bisect }
    }

    /// Records what the step asked for by the last `next_step` came to.
    pub fn record(&mut self, level: f64, kind: StepKind, judgement: Judgement) {
        self.steps.push((level, kind, judgement));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SearchSettings {
        SearchSettings {
            from: 1000.0,
            to: 1_000_000.0,
            factor: 2.0,
            precision: 0.1,
            whole: true,
            floor: 1.0,
            ascending: false,
            max_steps: 40,
            max_confirmations: 3,
        }
    }

    /// Runs the search against a target whose capacity is `capacity` (levels above it fail),
    /// and a generator that can drive at most `generator` (levels above it are limited).
    fn search(s: SearchSettings, judge: impl Fn(f64, StepKind) -> Judgement) -> (Answer, Vec<(f64, StepKind, Judgement)>) {
        let mut search = Search::new(s);
        loop {
            match search.next_step() {
                Next::Step { level, kind } => search.record(level, kind, judge(level, kind)),
                Next::Done(a) => return (a, search.steps().to_vec()),
            }
        }
    }

    fn capacity(c: f64) -> impl Fn(f64, StepKind) -> Judgement {
        move |l, _| if l <= c { Judgement::Pass } else { Judgement::Fail }
    }

    #[test]
    fn grows_geometrically_then_bisects_to_the_precision_and_confirms() {
        let (a, steps) = search(settings(), capacity(37_000.0));
        let grow: Vec<f64> = steps.iter().filter(|s| s.1 == StepKind::Grow).map(|s| s.0).collect();
        assert_eq!(grow, vec![1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 32000.0, 64000.0]);
        assert!(steps.iter().any(|s| s.1 == StepKind::Bisect));
        assert_eq!(steps.last().map(|s| s.1), Some(StepKind::Confirm));
        assert_eq!(a.outcome, Outcome::Found);
        let (pass, fail) = (a.level.unwrap(), a.first_fail.unwrap());
        assert!(pass <= 37_000.0 && fail > 37_000.0, "bracket [{pass}, {fail}] must hold the capacity");
        assert!((fail - pass) / pass <= 0.1, "bracket [{pass}, {fail}] within 10%");
    }

    #[test]
    fn a_finer_precision_takes_more_steps_and_a_narrower_bracket() {
        let coarse = search(SearchSettings { precision: 0.25, ..settings() }, capacity(37_000.0));
        let fine = search(SearchSettings { precision: 0.02, ..settings() }, capacity(37_000.0));
        assert!(fine.1.len() > coarse.1.len());
        let width = |a: Answer| (a.first_fail.unwrap() - a.level.unwrap()) / a.level.unwrap();
        assert!(width(fine.0) <= 0.02 && width(coarse.0) <= 0.25 && width(fine.0) < width(coarse.0));
    }

    #[test]
    fn the_generator_falling_behind_ends_the_search_with_at_least_the_last_pass() {
        let (a, steps) = search(settings(), |l, _| if l > 10_000.0 { Judgement::GeneratorLimited } else { Judgement::Pass });
        assert_eq!(a.outcome, Outcome::AtLeastGeneratorLimited);
        assert_eq!(a.level, Some(8000.0));
        assert_eq!(a.first_fail, None);
        assert_eq!(steps.last().map(|s| s.0), Some(16000.0), "no step after the limited one");
    }

    #[test]
    fn a_failed_confirmation_moves_the_bracket_down_and_confirms_again() {
        // Passes short probes up to 37,000 but only 30,000 for the longer confirmation.
        let (a, steps) = search(settings(), |l, k| {
            let cap = if k == StepKind::Confirm { 30_000.0 } else { 37_000.0 };
            if l <= cap {
                Judgement::Pass
            } else {
                Judgement::Fail
            }
        });
        let confirms: Vec<(f64, Judgement)> = steps.iter().filter(|s| s.1 == StepKind::Confirm).map(|s| (s.0, s.2)).collect();
        assert!(confirms.len() >= 2 && confirms[0].1 == Judgement::Fail, "{confirms:?}");
        assert_eq!(a.outcome, Outcome::Found);
        assert!(a.level.unwrap() <= 30_000.0 && a.first_fail.unwrap() > 30_000.0, "{a:?}");
    }

    #[test]
    fn confirmations_that_keep_failing_end_unconfirmed() {
        let (a, _) = search(settings(), |l, k| if k == StepKind::Confirm || l > 37_000.0 { Judgement::Fail } else { Judgement::Pass });
        assert_eq!(a.outcome, Outcome::Unconfirmed);
    }

    #[test]
    fn passing_to_is_at_least_to() {
        let (a, steps) = search(SearchSettings { to: 5000.0, ..settings() }, capacity(1e9));
        assert_eq!(a.outcome, Outcome::AtLeastReachedTo);
        assert_eq!(a.level, Some(5000.0));
        assert_eq!(steps.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1000.0, 2000.0, 4000.0, 5000.0]);
    }

    #[test]
    fn a_failing_first_level_steps_down_and_finds_a_pass() {
        let (a, steps) = search(settings(), capacity(300.0));
        assert_eq!(steps[1].1, StepKind::Descend);
        assert_eq!(a.outcome, Outcome::Found);
        assert!(a.level.unwrap() <= 300.0 && a.first_fail.unwrap() > 300.0, "{a:?}");
    }

    #[test]
    fn nothing_fits_when_every_level_down_to_an_eighth_of_from_fails() {
        let (a, steps) = search(settings(), capacity(10.0));
        assert_eq!(a.outcome, Outcome::NoneFits);
        assert_eq!(a.level, None);
        assert_eq!(steps.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1000.0, 500.0, 250.0, 125.0]);
    }

    #[test]
    fn stepping_down_stops_at_the_floor() {
        let (a, steps) = search(SearchSettings { floor: 400.0, ..settings() }, capacity(10.0));
        assert_eq!(a.outcome, Outcome::NoneFits);
        assert_eq!(steps.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1000.0, 500.0, 400.0]);
    }

    #[test]
    fn a_target_that_keeps_its_state_is_only_stepped_up_and_bracketed_within_one_factor() {
        let (a, steps) = search(SearchSettings { ascending: true, factor: 1.25, ..settings() }, capacity(3000.0));
        assert_eq!(a.outcome, Outcome::Bracketed);
        assert!(steps.windows(2).all(|w| w[1].0 > w[0].0), "only up: {steps:?}");
        assert!(steps.iter().all(|s| s.1 == StepKind::Grow));
        let (pass, fail) = (a.level.unwrap(), a.first_fail.unwrap());
        assert!(pass <= 3000.0 && fail > 3000.0 && fail <= (pass * 1.25).round());
        let (a, steps) = search(SearchSettings { ascending: true, ..settings() }, capacity(10.0));
        assert_eq!((a.outcome, steps.len()), (Outcome::NoneFits, 1), "no stepping down either");
    }

    #[test]
    fn the_step_limit_ends_with_the_bracket_so_far() {
        let (a, steps) = search(SearchSettings { max_steps: 8, ..settings() }, capacity(37_000.0));
        assert_eq!(steps.len(), 8);
        assert_eq!(a.outcome, Outcome::Unconfirmed);
        assert_eq!(a.level, Some(32000.0));
    }

    #[test]
    fn fractional_levels_are_kept_when_not_whole() {
        let (a, _) = search(SearchSettings { from: 0.5, whole: false, ..settings() }, capacity(3.3));
        assert!(a.level.unwrap() <= 3.3 && a.first_fail.unwrap() > 3.3 && a.level.unwrap() > 2.9, "{a:?}");
    }
}
