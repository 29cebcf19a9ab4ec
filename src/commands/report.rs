//! `report`: results files rendered as a self-contained HTML report, a Markdown summary and JUnit
//! XML; and `run --report DIR`, which writes all three for the run just finished.

use lgtm_bench::cli::exit;
use lgtm_bench::report::{html, json, junit, markdown, Report};
use std::path::{Path, PathBuf};

pub fn report(files: &[PathBuf], html_out: Option<&Path>, markdown_out: Option<&Path>, junit_out: Option<&Path>) -> u8 {
    if html_out.is_none() && markdown_out.is_none() && junit_out.is_none() {
        eprintln!("error: say what to write: --html FILE, --markdown FILE and/or --junit FILE");
        return exit::BAD_INPUT;
    }
    let mut reports = Vec::new();
    for f in files {
        match json::read(f) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_INPUT;
            }
        }
    }
    let dirs: Vec<&Path> = files.iter().map(|f| f.parent().unwrap_or(Path::new("."))).collect();
    let outputs = [(html_out, html::render(&reports, &dirs)), (markdown_out, markdown::render(&reports)), (junit_out, junit::render(&reports))];
    for (path, text) in outputs {
        let Some(path) = path else { continue };
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}; check the path", path.display());
            return exit::RESULTS_NOT_WRITTEN;
        }
        eprintln!("wrote {}", path.display());
    }
    exit::PASSED
}

/// Writes the HTML, Markdown and JUnit reports of one run into `dir`, named after its results file.
pub fn write_all(report: &Report, results_file: &Path, dir: &Path) -> Result<(), String> {
    let stem = results_file.file_stem().map_or("report".into(), |s| s.to_string_lossy().to_string());
    let source_dir = results_file.parent().unwrap_or(Path::new("."));
    let reports = std::slice::from_ref(report);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}; check the path", dir.display()))?;
    for (ext, text) in [("html", html::render(reports, &[source_dir])), ("md", markdown::render(reports)), ("xml", junit::render(reports))] {
        let path = dir.join(format!("{stem}.{ext}"));
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}; check the path", path.display()))?;
        eprintln!("report: {}", path.display());
    }
    Ok(())
}
