//! What the engine asks of a target (Mimir, Tempo, …): a `TargetPlan`, resolved once from the
//! target's scenario section, that describes itself, names the subjects objectives may use, and
//! prepares its clients and preflight; the prepared target then starts its workloads on the run's
//! clock. The engine knows targets only through these two traits.

use super::launch::Launch;
use super::preflight::PreflightError;
use super::queries::QueryMode;
use crate::client::http::ClientSetupError;
use crate::scenario::{MemorySection, QueryLoad, RunSection};
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

/// Why a target could not start: its clients could not be built, or its preflight failed.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0}")]
    Setup(#[from] ClientSetupError),
    #[error("preflight failed: {0}")]
    Preflight(#[from] PreflightError),
}

/// A target's planned write load: `requests` per second carrying `items` per second of `unit`.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteLoad {
    pub path: String,
    pub requests: f64,
    pub items: f64,
    pub unit: &'static str,
}

/// A load dimension a capacity search may grow, as the target defines it.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadDimension {
    /// The scenario key that sets the level, e.g. `mimir.write.series.active`.
    pub key: String,
    /// What one unit of the level is (`active series`, `spans/s`).
    pub unit: String,
    /// The level the scenario is written with.
    pub configured: f64,
    /// Levels are whole numbers.
    pub whole: bool,
    /// The lowest level the scenario allows (a request's samples need as many series).
    pub minimum: f64,
    /// A higher level's data contains a lower one's (series 0..n of one run id): the steps of a
    /// search share one run id, and a step up adds to what the target holds instead of piling a
    /// new set on top of the earlier steps'.
    pub nested: bool,
    /// Other keys that move with the level, each set to `factor × level` (the write rate with
    /// the active series, so that each series keeps its scrape interval).
    pub scaled_with: Vec<(String, f64)>,
    /// What stays fixed while it moves, for the plan printout and the report.
    pub note: String,
}

/// A query load's concurrency as a capacity dimension, when it is closed-loop.
pub fn concurrency_dimension(target: &str, load: Option<&QueryLoad>) -> Option<LoadDimension> {
    let c = load?.concurrency?;
    Some(LoadDimension {
        key: format!("{target}.query_load.concurrency"),
        unit: "concurrent queries".into(),
        configured: c as f64,
        whole: true,
        scaled_with: vec![],
        minimum: 1.0,
        nested: false,
        note: "each worker sends its next query when the last one is answered".into(),
    })
}

/// The paths a target measures, described the same way for every target.
pub struct TargetPaths<'a> {
    pub target: &'static str,
    /// A write load (`<target>.write`, open loop).
    pub writes: bool,
    /// The write load goes through a sending queue: the plan's ticks enter it as `<target>.queue`
    /// (open loop), its requests are `<target>.write` and each item's way from its tick to its
    /// acknowledgement is `<target>.delivery`.
    pub queued: bool,
    /// Query names (`<target>.query.<name>`, merged into `<target>.query`) and how they are driven.
    pub queries: Vec<&'a str>,
    pub query_load: Option<&'a QueryLoad>,
    /// Read-after-write paths (`<target>.visibility…`).
    pub read_back: Vec<&'static str>,
    /// Queries whose misses are asked again later (`<target>.recheck.<name>`: transient or lost).
    pub rechecked: Vec<&'a str>,
    /// Loads made of several requests, each an open-loop path with its parts' paths (a dashboard:
    /// `mimir.dashboard.<name>` and its variables and panels).
    pub composite: Vec<(String, Vec<String>)>,
    /// A memory watch (`<target>.memory` and its scrapes).
    pub memory: bool,
}

impl TargetPaths<'_> {
    /// The subjects objectives may name (`mimir.write`, `mimir.query.<name>`, …).
    pub fn subjects(&self) -> BTreeSet<String> {
        let t = self.target;
        let mut out = BTreeSet::new();
        if self.writes {
            out.insert(format!("{t}.write"));
        }
        if self.writes && self.queued {
            out.insert(format!("{t}.queue"));
            out.insert(format!("{t}.delivery"));
        }
        if !self.queries.is_empty() {
            out.insert(format!("{t}.query"));
            out.extend(self.queries.iter().map(|q| format!("{t}.query.{q}")));
        }
        out.extend(self.read_back.iter().map(|p| format!("{t}.{p}")));
        out.extend(self.rechecked.iter().map(|q| format!("{t}.recheck.{q}")));
        for (path, parts) in &self.composite {
            out.insert(path.clone());
            out.extend(parts.iter().cloned());
        }
        if self.memory {
            out.insert(format!("{t}.memory"));
            out.insert(format!("{t}.memory.scrape"));
        }
        out
    }

    /// The open-loop paths (the write load, a query group driven at a rate): each must deliver its
    /// whole plan, so each implies `<path> skipped == 0` and `<path> abandoned == 0`.
    pub fn open_loop(&self) -> Vec<String> {
        let mut out = Vec::new();
        match (self.writes, self.queued) {
            (true, false) => out.push(format!("{}.write", self.target)),
            // The queue takes every tick; every item it took must be delivered or accounted for.
            (true, true) => out.extend([format!("{}.queue", self.target), format!("{}.delivery", self.target)]),
            (false, _) => {}
        }
        if !self.queries.is_empty() && matches!(QueryMode::of(self.query_load), QueryMode::Rate(..)) {
            out.push(format!("{}.query", self.target));
        }
        out.extend(self.composite.iter().map(|(path, _)| path.clone()));
        out
    }
}

/// A target whose clients are built and whose endpoints answered the preflight.
pub type Prepared<'a> = Box<dyn PreparedTarget + 'a>;
pub type PrepareFuture<'a> = Pin<Box<dyn Future<Output = Result<Prepared<'a>, TargetError>> + Send + 'a>>;

/// One target of a resolved plan.
pub trait TargetPlan: Send + Sync {
    /// The first word of its paths and objectives (`mimir`, `tempo`).
    fn name(&self) -> &'static str;
    /// What it measures: the paths objectives may name.
    fn paths(&self) -> TargetPaths<'_>;
    /// Its planned write load, if it writes.
    fn write_load(&self) -> Option<WriteLoad>;
    /// Its memory budget and where memory is read, when watched.
    fn memory(&self) -> Option<&MemorySection>;
    /// The load its memory is divided by in the report: `(amount, unit)`.
    fn memory_load(&self) -> Option<(f64, &'static str)>;
    /// The load dimensions a capacity search may grow, the default first.
    fn load_dimensions(&self) -> Vec<LoadDimension>;
    /// Lines of the plan printout.
    fn describe(&self, run: &RunSection) -> String;
    /// What single-query paths ask (path, query), for the reports' slowest-parts tables.
    fn asks(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Builds the clients and checks every endpoint the scenario uses, before any load.
    fn prepare(&self) -> PrepareFuture<'_>;
    /// A re-reader of what the run `written` wrote (the canary's long-horizon read-back), for a
    /// target that writes and can rebuild its writes; `None` otherwise.
    fn reread(&self, _run: &RunSection, _written: &crate::engine::reread::Written) -> Option<Box<dyn crate::engine::reread::Reread>> {
        None
    }
    /// How long the target keeps what it is sent, read from the target itself (the canary asks no
    /// age beyond it).
    fn retention(&self) -> crate::engine::reread::KeptFuture<'_> {
        Box::pin(async { crate::engine::reread::Kept::Unknown { why: "this target's retention is not read".into() } })
    }
}

pub trait PreparedTarget: Send {
    /// Starts the target's writers, query loads, read-back checkers and memory watch.
    fn launch(self: Box<Self>, l: &mut Launch) -> Result<(), TargetError>;
    /// What the target said it is (version, revision) when it was prepared.
    fn build_info(&self) -> Option<crate::client::buildinfo::BuildInfo> {
        None
    }
}
