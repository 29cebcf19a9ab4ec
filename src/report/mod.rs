//! One report model (`model.rs`) and its renderers: the JSON results file, the end-of-run summary
//! table and the progress line printed while a run is going.

pub mod attribution;
pub mod axis;
pub mod chart;
pub mod compare;
pub mod html;
pub mod intervals;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod model;
pub mod parts;
pub(crate) mod progress;
pub mod recheck;
pub mod significance;
pub mod summary;

pub use model::*;
