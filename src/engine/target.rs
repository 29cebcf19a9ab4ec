//! What the engine asks of a target (Mimir, Tempo, …): a `TargetPlan`, resolved once from the
//! target's scenario section, that describes itself, names the subjects objectives may use, and
//! prepares its clients and preflight; the prepared target then starts its workloads on the run's
//! clock. The engine knows targets only through these two traits.

use super::launch::Launch;
use super::preflight::PreflightError;
use crate::client::http::ClientSetupError;
use crate::scenario::{MemorySection, RunSection};
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

/// A target whose clients are built and whose endpoints answered the preflight.
pub type Prepared<'a> = Box<dyn PreparedTarget + 'a>;
pub type PrepareFuture<'a> = Pin<Box<dyn Future<Output = Result<Prepared<'a>, TargetError>> + Send + 'a>>;

/// One target of a resolved plan.
pub trait TargetPlan: Send + Sync {
    /// The first word of its paths and objectives (`mimir`, `tempo`).
    fn name(&self) -> &'static str;
    /// The subjects objectives may name (`mimir.write`, `mimir.query.<name>`, …).
    fn subjects(&self) -> BTreeSet<String>;
    /// Its open-loop paths (`mimir.write`, a query group driven at a rate): each must deliver its
    /// whole plan, so each implies `<path> skipped == 0` and `<path> abandoned == 0`.
    fn open_loop_subjects(&self) -> Vec<String>;
    /// Its memory budget and where memory is read, when watched.
    fn memory(&self) -> Option<&MemorySection>;
    /// The load its memory is divided by in the report: `(amount, unit)`.
    fn memory_load(&self) -> Option<(f64, &'static str)>;
    /// Lines of the plan printout.
    fn describe(&self, run: &RunSection) -> String;
    /// Builds the clients and checks every endpoint the scenario uses, before any load.
    fn prepare(&self) -> PrepareFuture<'_>;
}

pub trait PreparedTarget: Send {
    /// Starts the target's writers, query loads, read-back checkers and memory watch.
    fn launch(self: Box<Self>, l: &mut Launch) -> Result<(), TargetError>;
}
