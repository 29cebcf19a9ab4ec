//! One file per command: each wires the resolved plan (or results files) to the engine and the
//! renderers, and says which exit code the outcome is.

pub mod canary;
pub mod capacity;
pub mod check;
pub mod compare;
pub mod groups;
pub mod merge;
pub mod model;
pub mod report;
pub mod run;
pub mod selftest;
pub mod validate;

use lgtm_bench::cli::exit;

/// Runs `work` on a new multi-threaded runtime; one that cannot start is reported, and its exit
/// code returned as the error.
pub fn block_on<T>(work: impl std::future::Future<Output = T>) -> Result<T, u8> {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => Ok(rt.block_on(work)),
        Err(e) => {
            eprintln!("error: the async runtime could not start: {e}");
            Err(exit::BAD_INPUT)
        }
    }
}

/// `schema`: the JSON Schema of the results file (`run`), a capacity report or check results.
pub fn schema(of: &str) -> u8 {
    let schema = match of {
        "capacity" => lgtm_bench::capacity::model::schema(),
        "check" => lgtm_bench::check::model::schema(),
        _ => lgtm_bench::report::schema(),
    };
    match serde_json::to_string_pretty(&schema) {
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
