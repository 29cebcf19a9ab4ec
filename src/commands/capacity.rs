//! `capacity`: search one load dimension of the scenario for the most load within every
//! objective, one full run per step; write the capacity report (JSON, HTML, Markdown) and print
//! the answer. Ctrl-C keeps what was found so far.

use lgtm_bench::capacity::model::CapacityReport;
use lgtm_bench::capacity::search::Outcome;
use lgtm_bench::capacity::{self, render, CapacityError, CapacityOptions, StepFailure};
use lgtm_bench::cli::exit;
use lgtm_bench::report::json;
use lgtm_bench::scenario::Override;
use lgtm_bench::targets;
use std::path::Path;
use tokio_util::sync::CancellationToken;

pub fn capacity(file: &Path, overrides: &[Override], opts: CapacityOptions) -> u8 {
    super::block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(super::run::stop_on_signal(cancel.clone()));
        let load = |step: &[Override]| {
            let all: Vec<Override> = overrides.iter().chain(step).cloned().collect();
            targets::load(file, &all, None, None)
        };
        match capacity::search(load, &opts, cancel).await {
            Ok((report, dir)) => finish(&report, &dir, &opts.out_dir),
            Err(CapacityError::Scenario(e)) => {
                eprint!("{e}");
                exit::BAD_INPUT
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::BAD_INPUT
            }
        }
    })
    .unwrap_or_else(|code| code)
}

/// Writes the report beside the steps' folder, prints the answer, and says which exit it is.
fn finish(report: &CapacityReport, steps_dir: &Path, out: &Path) -> u8 {
    let stem = steps_dir.file_name().map_or("capacity".into(), |n| n.to_string_lossy().to_string());
    let written = std::fs::create_dir_all(out).and_then(|_| {
        json::write_to(&out.join(format!("{stem}.json")), report)?;
        std::fs::write(out.join(format!("{stem}.html")), render::html(report))?;
        std::fs::write(out.join(format!("{stem}.md")), render::markdown(report))
    });
    println!("{}", report.answer_text);
    if let Some(share) = report.share_of_capacity() {
        println!("{share}");
    }
    if let Some(m) = report.memory_sentence() {
        println!("{m}");
    }
    println!("{} step(s); stopped: {}", report.steps.len(), report.stop_reason);
    if let Err(e) = written {
        eprintln!("error: the capacity report could not be written to {}: {e}; make the folder writable or pass --out DIR", out.display());
        return exit::RESULTS_NOT_WRITTEN;
    }
    println!("capacity report: {}", out.join(format!("{stem}.json")).display());
    println!("html: {}, markdown: {}", out.join(format!("{stem}.html")).display(), out.join(format!("{stem}.md")).display());
    match (report.step_failure, report.answer.outcome) {
        (Some(StepFailure::Interrupted), _) => exit::INTERRUPTED,
        (Some(StepFailure::Unreachable), _) => exit::UNREACHABLE,
        (Some(StepFailure::Rejected), _) => exit::TARGET_REJECTED,
        (Some(StepFailure::Results), _) => exit::RESULTS_NOT_WRITTEN,
        (Some(StepFailure::Scenario | StepFailure::FreshTarget), _) => exit::BAD_INPUT,
        (None, Outcome::Found | Outcome::Bracketed | Outcome::AtLeastGeneratorLimited | Outcome::AtLeastReachedTo) => exit::PASSED,
        (None, _) => exit::OBJECTIVES_FAILED,
    }
}
