//! One file per command: each wires the resolved plan (or results files) to the engine and the
//! renderers, and says which exit code the outcome is.

pub mod capacity;
pub mod check;
pub mod compare;
pub mod merge;
pub mod report;
pub mod run;
pub mod selftest;
pub mod validate;

use lgtm_bench::cli::exit;

/// `schema`: the JSON Schema of the results file.
pub fn schema() -> u8 {
    match serde_json::to_string_pretty(&lgtm_bench::report::schema()) {
        Ok(text) => {
            println!("{text}");
            exit::PASSED
        }
        Err(e) => {
            eprintln!("error: the schema could not be printed: {e}");
            exit::RESULTS_NOT_WRITTEN
        }
    }
}
