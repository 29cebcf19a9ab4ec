//! `merge`: the results of a run's shards as one results file, objectives checked on the whole.

use lgtm_bench::cli::exit;
use lgtm_bench::report::{json, merge, summary};
use std::path::{Path, PathBuf};

pub fn merge(files: &[PathBuf], out: &Path) -> u8 {
    let report = match merge::merge_files(files) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    if let Err(e) = json::write_to(out, &report) {
        eprintln!("error: cannot write {}: {e}; check the path", out.display());
        return exit::RESULTS_NOT_WRITTEN;
    }
    print!("{}", summary::render(&report, Some(&out.display().to_string())));
    if report.passed() {
        exit::PASSED
    } else {
        exit::OBJECTIVES_FAILED
    }
}
