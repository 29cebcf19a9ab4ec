//! The result of `check`: each acceptance criterion PASS, FAIL or SKIPPED with its evidence (what
//! was measured) or the reason it was not checked and the key to set. One model: the terminal
//! list, the JSON file and the Markdown are drawn from it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::time::Duration;

pub const SCHEMA: &str = "lgtm-bench/check/v1";

/// The JSON Schema of the check results (`results/check-schema.json`).
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(CheckReport)).expect("schema serializes")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Fail,
    /// Not checked: not configured (the reason names the key to set) or not reachable from here.
    Skipped,
}

impl Status {
    /// As the reports write it: PASS, FAIL, SKIPPED.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skipped => "SKIPPED",
        }
    }
}

/// One criterion as checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Criterion {
    /// The acceptance criterion's id, e.g. `AC-lgtm-003-01`.
    pub id: String,
    /// What was checked, in a few words.
    pub title: String,
    pub status: Status,
    /// What was measured, one fact a line.
    pub evidence: Vec<String>,
    /// Why it failed or was skipped, and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// It failed because something did not answer at all (exit 3 when every failure is this).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreachable: bool,
}

impl Criterion {
    pub fn new(id: &str, title: &str) -> Criterion {
        Criterion { id: id.into(), title: title.into(), status: Status::Pass, evidence: vec![], reason: None, unreachable: false }
    }

    pub fn skipped(id: &str, title: &str, reason: impl Into<String>) -> Criterion {
        Criterion { status: Status::Skipped, reason: Some(reason.into()), ..Criterion::new(id, title) }
    }

    /// Adds a fact.
    pub fn saw(mut self, fact: impl Into<String>) -> Criterion {
        self.evidence.push(fact.into());
        self
    }

    /// Marks it failed with why (the first failure's reason is kept, later ones become evidence).
    pub fn fail(mut self, why: impl Into<String>) -> Criterion {
        let why = why.into();
        if self.status == Status::Fail {
            self.evidence.push(format!("also: {why}"));
        } else {
            self.status = Status::Fail;
            self.reason = Some(why);
        }
        self
    }

    /// Fails because something did not answer at all.
    pub fn unreachable(self, why: impl Into<String>) -> Criterion {
        Criterion { unreachable: true, ..self.fail(why) }
    }

    /// Passes with `fact` as evidence when `ok`, else fails with `why` (which says what was
    /// measured instead).
    pub fn expect(self, ok: bool, fact: impl Into<String>, why: impl Into<String>) -> Criterion {
        if ok {
            self.saw(fact)
        } else {
            self.fail(why)
        }
    }
}

/// How long something took, as people read it.
pub fn took(d: Duration) -> String {
    crate::units::fmt_micros(d.as_micros() as u64)
}

/// Everything `check` found.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CheckReport {
    pub schema: String,
    pub tool: crate::report::Tool,
    pub scenario_name: String,
    pub scenario_file: String,
    pub started_at: String,
    pub finished_at: String,
    /// `check`, `record` (also wrote what a later `--verify` reads back) or `verify`.
    pub mode: String,
    /// Stopped by Ctrl-C: the criteria are those checked before it.
    #[serde(default)]
    pub interrupted: bool,
    pub criteria: Vec<Criterion>,
}

impl CheckReport {
    pub fn count(&self, status: Status) -> usize {
        self.criteria.iter().filter(|c| c.status == status).count()
    }

    /// Every failure is something that did not answer.
    pub fn only_unreachable(&self) -> bool {
        let mut failed = self.criteria.iter().filter(|c| c.status == Status::Fail).peekable();
        failed.peek().is_some() && failed.all(|c| c.unreachable)
    }

    /// Every checked criterion passed.
    pub fn passed(&self) -> bool {
        self.count(Status::Fail) == 0
    }

    /// The terminal list: one line per criterion, its evidence and reason indented under it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.criteria {
            let status = match c.status {
                Status::Pass => "PASS   ",
                Status::Fail => "FAIL   ",
                Status::Skipped => "SKIPPED",
            };
            let _ = writeln!(out, "{status} {:<16} {}", c.id, c.title);
            if let Some(r) = &c.reason {
                let _ = writeln!(out, "        {:<16} {}", "", r);
            }
            for e in &c.evidence {
                let _ = writeln!(out, "        {:<16} · {e}", "");
            }
        }
        if self.interrupted {
            let _ = writeln!(out, "\nINTERRUPTED: stopped by Ctrl-C; the criteria above are those checked before it");
        }
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} skipped: {}",
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skipped),
            if self.passed() { "every checked criterion holds" } else { "FAIL" }
        );
        out
    }

    /// A Markdown table for a CI page or a ticket.
    pub fn markdown(&self) -> String {
        let mut m = format!("# lgtm-bench check: {}\n\n| status | id | criterion | evidence |\n|---|---|---|---|\n", self.scenario_name);
        for c in &self.criteria {
            let mut facts = c.reason.iter().cloned().collect::<Vec<_>>();
            facts.extend(c.evidence.iter().cloned());
            let _ = writeln!(m, "| {} | {} | {} | {} |", c.status.as_str(), c.id, c.title, facts.join("<br>").replace('|', "\\|"));
        }
        m
    }
}
