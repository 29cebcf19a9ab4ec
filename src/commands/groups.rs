//! Groups of kept runs, as `compare` and `run --baseline` take them: a results file is a group of
//! one; a folder holds the kept runs of a scenario (named `<scenario>-<UTC start>.json`), the newest
//! N taken, oldest first. Runs whose generator or machine was saturated are left out unless asked
//! for: their figures are not the target's alone.

use lgtm_bench::report::compare::noisy;
use lgtm_bench::report::{json, Report};
use std::path::{Path, PathBuf};

/// Which runs of a folder to take.
pub struct Pick<'a> {
    /// Only this scenario's runs; `None`: the scenario of the newest file in the folder.
    pub scenario: Option<&'a str>,
    pub newest: usize,
    pub include_noisy: bool,
    /// What the group is called in messages (`baseline`, `current`).
    pub side: &'a str,
}

pub fn load(path: &Path, pick: &Pick) -> Result<Vec<Report>, String> {
    Ok(load_with_files(path, pick)?.into_iter().map(|(r, _)| r).collect())
}

/// The same, each run with its results file (whose folder holds its interval log).
pub fn load_with_files(path: &Path, pick: &Pick) -> Result<Vec<(Report, PathBuf)>, String> {
    if !path.is_dir() {
        return Ok(vec![(json::read(path).map_err(|e| e.to_string())?, path.to_path_buf())]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort_by_key(|p| p.file_name().map(|n| start_of(&n.to_string_lossy())));
    let scenario = match pick.scenario {
        Some(s) => s.to_string(),
        None => files
            .last()
            .and_then(|f| scenario_of(f))
            .ok_or_else(|| format!("no results files in {} (files named <scenario>-<UTC start>.json)", path.display()))?,
    };
    let prefix = format!("{scenario}-");
    files.retain(|p| {
        p.file_name().is_some_and(|n| n.to_string_lossy().strip_prefix(&prefix).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit())))
    });
    if files.is_empty() {
        return Err(format!("no kept results of scenario `{scenario}` in {} (files named {prefix}<UTC start>.json)", path.display()));
    }
    let mut runs = Vec::new();
    for f in files.iter().rev() {
        if runs.len() == pick.newest.max(1) {
            break;
        }
        let r = json::read(f).map_err(|e| e.to_string())?;
        if noisy(&r) && !pick.include_noisy {
            eprintln!("{}: left out {} (its generator or machine was saturated; --include-noisy keeps it)", pick.side, f.display());
            continue;
        }
        eprintln!("{}: {}", pick.side, f.display());
        runs.push((r, f.clone()));
    }
    if runs.is_empty() {
        return Err(format!(
            "every kept run of `{scenario}` in {} was held back by its generator or machine; keep cleaner runs or pass --include-noisy",
            path.display()
        ));
    }
    runs.reverse();
    eprintln!("{}: {} run{} of `{scenario}`", pick.side, runs.len(), if runs.len() == 1 { "" } else { "s" });
    Ok(runs)
}

/// `<scenario>-<UTC start>.json` → the start, for ordering by time whatever the scenario's name.
fn start_of(name: &str) -> String {
    name.trim_end_matches(".json").rsplit('-').next().unwrap_or_default().to_string()
}

fn scenario_of(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_string_lossy().trim_end_matches(".json").to_string();
    name.rsplit_once('-').map(|(s, _)| s.to_string())
}
