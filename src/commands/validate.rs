//! `validate`: every problem of a scenario at once, or the plan and the scenario as it will run.

use lgtm_bench::cli::exit;
use lgtm_bench::scenario::Override;
use lgtm_bench::targets;
use std::path::Path;

pub fn validate(file: &Path, overrides: &[Override]) -> u8 {
    match targets::load(file, overrides, None, None) {
        Ok(plan) => {
            println!("{} is valid.\n\n{}", file.display(), plan.describe());
            println!("# The scenario as it will run (overrides applied, defaults filled in):\n{}", plan.scenario_toml);
            exit::PASSED
        }
        Err(e) => {
            eprint!("{e}");
            exit::BAD_INPUT
        }
    }
}
