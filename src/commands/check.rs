//! `check`: the deployment's acceptance criteria, each PASS, FAIL or SKIPPED with its evidence;
//! the list on the terminal, the results as JSON, Markdown, HTML and JUnit. Exit 0 when every checked criterion
//! holds, 1 when one fails, 3 when every failure is a target that did not answer, 2 for bad input.

use lgtm_bench::check::{self, CheckOptions};
use lgtm_bench::cli::exit;
use lgtm_bench::report::json;
use lgtm_bench::scenario::Override;
use lgtm_bench::targets;
use std::path::Path;

pub fn check(file: &Path, overrides: &[Override], opts: CheckOptions, out: &Path) -> u8 {
    let (name, checks, section) = match targets::load_checks(file, overrides) {
        Ok(l) => l,
        Err(e) => {
            eprint!("{e}");
            return exit::BAD_INPUT;
        }
    };
    eprintln!("checking the acceptance criteria of `{name}`…");
    let work = async {
        let cancel = tokio_util::sync::CancellationToken::new();
        tokio::spawn(super::run::stop_on_signal(cancel.clone()));
        check::run(&name, &checks, section.as_ref(), &opts, &cancel).await
    };
    let report = match super::block_on(work) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
        Err(code) => return code,
    };
    print!("{}", report.render());
    let stem = format!("{name}-check-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"));
    let written = std::fs::create_dir_all(out)
        .and_then(|_| json::write_to(&out.join(format!("{stem}.json")), &report))
        .and_then(|_| std::fs::write(out.join(format!("{stem}.md")), report.markdown()))
        .and_then(|_| std::fs::write(out.join(format!("{stem}.html")), check::render::html(&report)))
        .and_then(|_| std::fs::write(out.join(format!("{stem}.xml")), check::render::junit(&report)));
    match written {
        Ok(()) => println!("results: {}", out.join(format!("{stem}.json")).display()),
        Err(e) => {
            eprintln!("error: the check results could not be written to {}: {e}; make the folder writable or pass --out DIR", out.display());
            return exit::RESULTS_NOT_WRITTEN;
        }
    }
    if let check::Mode::Record(f) = &opts.mode {
        println!("recorded what was written in {}: after the restart, run `lgtm-bench check {} --verify {}`", f.display(), file.display(), f.display());
    }
    if report.interrupted {
        exit::INTERRUPTED
    } else if report.passed() {
        exit::PASSED
    } else if report.only_unreachable() {
        exit::UNREACHABLE
    } else {
        exit::OBJECTIVES_FAILED
    }
}
