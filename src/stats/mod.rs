//! Measurement: outcome classes, the table of measured paths, per-worker recorders of HDR
//! histograms and counters, merged by `add`.

pub mod histogram;
pub(crate) mod outcome;
pub(crate) mod paths;
pub(crate) mod recorder;

pub use outcome::OutcomeClass;
pub use paths::PathTable;
pub use recorder::{Counters, PathId, PathStats, Recorder};
