//! `compare`: a results file against a baseline results file; exit 1 on a regression, 6 when the
//! runs do not measure the same thing.

use lgtm_bench::cli::exit;
use lgtm_bench::report::compare::{self, Tolerance};
use lgtm_bench::report::json;
use std::path::Path;

pub fn compare(baseline: &Path, current: &Path, max_regression: f64, all_paths: bool) -> u8 {
    match (json::read(baseline), json::read(current)) {
        (Ok(b), Ok(c)) => {
            let cmp = compare::compare(&b, &c, Tolerance { latency: max_regression, all_paths, ..Tolerance::default() });
            print!("{}", compare::render(&cmp));
            match (cmp.comparable, cmp.regressed) {
                (false, _) => exit::NOT_COMPARABLE,
                (true, true) => exit::OBJECTIVES_FAILED,
                (true, false) => exit::PASSED,
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
    }
}
