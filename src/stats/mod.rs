//! Measurement: outcome classes, per-worker recorders of HDR histograms and counts, merged by `add`.

pub mod histogram;
pub mod outcome;
pub mod recorder;

pub use outcome::OutcomeClass;
pub use recorder::{PathId, PathStats, Recorder};
