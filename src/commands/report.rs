//! `report`: results files rendered as a self-contained HTML report, a Markdown summary and JUnit
//! XML; and `run --report DIR`, which writes all three for the run just finished.

use lgtm_bench::cli::exit;
use lgtm_bench::report::{html, json, junit, markdown, Report};
use std::path::{Path, PathBuf};

/// Where a report without a file name goes: `<results name>.<ext>` beside the first results file,
/// or in `out`.
pub fn beside(files: &[PathBuf], out: Option<&Path>, ext: &str) -> PathBuf {
    let first = files.first().map(PathBuf::as_path).unwrap_or(Path::new("results.json"));
    let name = first.with_extension(ext).file_name().map(|n| n.to_owned()).unwrap_or_default();
    match out {
        Some(dir) => dir.join(name),
        None => first.with_extension(ext),
    }
}

pub fn report(files: &[PathBuf], html_out: Option<&Path>, markdown_out: Option<&Path>, junit_out: Option<&Path>) -> u8 {
    if html_out.is_none() && markdown_out.is_none() && junit_out.is_none() {
        eprintln!("error: say what to write: --html, --markdown and/or --junit (each with a FILE, or without one to write beside the results file)");
        return exit::BAD_INPUT;
    }
    if let [one] = files {
        match other_kind(one) {
            Ok(Some(pages)) => return write_pages(&pages, html_out, markdown_out, junit_out),
            Ok(None) => {}
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_INPUT;
            }
        }
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
        let written = path.parent().filter(|d| !d.as_os_str().is_empty()).map_or(Ok(()), std::fs::create_dir_all).and_then(|_| std::fs::write(path, text));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}; check the path", path.display());
            return exit::RESULTS_NOT_WRITTEN;
        }
        eprintln!("wrote {}", path.display());
    }
    exit::PASSED
}

/// The pages of a `check` or `capacity` results file (`None` for a run's results): HTML,
/// Markdown, JUnit (a capacity search has no JUnit).
fn other_kind(file: &Path) -> Result<Option<[Option<String>; 3]>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let head: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", file.display()))?;
    let schema = head["schema"].as_str().unwrap_or_default();
    if schema.starts_with("lgtm-bench/check/") {
        let r: lgtm_bench::check::model::CheckReport =
            serde_json::from_value(head).map_err(|e| format!("{} is not a check results file: {e}", file.display()))?;
        return Ok(Some([Some(lgtm_bench::check::render::html(&r)), Some(r.markdown()), Some(lgtm_bench::check::render::junit(&r))]));
    }
    if schema.starts_with("lgtm-bench/capacity/") {
        let r: lgtm_bench::capacity::model::CapacityReport =
            serde_json::from_value(head).map_err(|e| format!("{} is not a capacity report: {e}", file.display()))?;
        return Ok(Some([Some(lgtm_bench::capacity::render::html(&r)), Some(lgtm_bench::capacity::render::markdown(&r)), None]));
    }
    Ok(None)
}

fn write_pages(pages: &[Option<String>; 3], html_out: Option<&Path>, markdown_out: Option<&Path>, junit_out: Option<&Path>) -> u8 {
    for (path, page, what) in [(html_out, &pages[0], "HTML"), (markdown_out, &pages[1], "Markdown"), (junit_out, &pages[2], "JUnit")] {
        let Some(path) = path else { continue };
        let Some(text) = page else {
            eprintln!("error: a capacity report has no {what} view; ask for --html or --markdown");
            return exit::BAD_INPUT;
        };
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}; check the path", path.display());
            return exit::RESULTS_NOT_WRITTEN;
        }
        eprintln!("wrote {}", path.display());
    }
    exit::PASSED
}

/// Writes the HTML, Markdown and JUnit reports of one run into `dir`, named after its results file.
/// The run's three reports into `dir`; with `baseline` (the newest baseline run and its results
/// file), the HTML overlays the run on it, path by path.
pub fn write_all(report: &Report, results_file: &Path, dir: &Path, baseline: Option<(&Report, &Path)>) -> Result<(), String> {
    let stem = results_file.file_stem().map_or("report".into(), |s| s.to_string_lossy().to_string());
    let source_dir = results_file.parent().unwrap_or(Path::new("."));
    let reports = std::slice::from_ref(report);
    let page = match baseline {
        Some((base, file)) => html::render(&[base.clone(), report.clone()], &[file.parent().unwrap_or(Path::new(".")), source_dir]),
        None => html::render(reports, &[source_dir]),
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}; check the path", dir.display()))?;
    for (ext, text) in [("html", page), ("md", markdown::render(reports)), ("xml", junit::render(reports))] {
        let path = dir.join(format!("{stem}.{ext}"));
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}; check the path", path.display()))?;
        eprintln!("report: {}", path.display());
    }
    Ok(())
}
