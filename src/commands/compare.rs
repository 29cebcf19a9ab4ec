//! `compare`: runs against baseline runs, each side a results file or a folder of kept runs of one
//! scenario (a group); exit 1 on a regression, 6 when the runs do not measure the same thing.

use super::groups::{self, Pick};
use lgtm_bench::cli::exit;
use lgtm_bench::report::compare::{self, Tolerance};
use std::path::Path;

pub fn compare(baseline: &Path, current: &Path, max_regression: f64, all_paths: bool, include_noisy: bool) -> u8 {
    let pick = |side| Pick { scenario: None, newest: usize::MAX, include_noisy, side };
    let sides = groups::load(baseline, &pick("baseline")).and_then(|b| Ok((b, groups::load(current, &pick("current"))?)));
    match sides {
        Ok((b, c)) => {
            let cmp = compare::compare_groups(
                &b.iter().collect::<Vec<_>>(),
                &c.iter().collect::<Vec<_>>(),
                Tolerance { latency: max_regression, all_paths, ..Tolerance::default() },
            );
            print!("{}", compare::render(&cmp));
            match (cmp.comparable, cmp.regressed) {
                (false, _) => exit::NOT_COMPARABLE,
                (true, true) => exit::OBJECTIVES_FAILED,
                (true, false) => exit::PASSED,
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
    }
}
