//! The results file: `results/<scenario>-<UTC timestamp>.json`, written atomically (temporary
//! file in the same folder, then rename), so a reader never sees half a report.

use super::Report;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn file_name(scenario_name: &str, started: chrono::DateTime<chrono::Utc>) -> String {
    format!("{scenario_name}-{}.json", started.format("%Y%m%dT%H%M%SZ"))
}

pub fn write_atomically(dir: &Path, name: &str, report: &Report) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let target = dir.join(name);
    write_to(&target, report)?;
    Ok(target)
}

/// Writes `report` (a run's, or a capacity search's) to exactly `target`, through a temporary
/// file beside it and a rename.
pub fn write_to(target: &Path, report: &impl serde::Serialize) -> std::io::Result<()> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().ok_or_else(|| std::io::Error::other("no file name"))?.to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        serde_json::to_writer_pretty(&mut f, report).map_err(std::io::Error::other)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, target)?;
    Ok(())
}

/// A results file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not an lgtm-bench report: {source}")]
    NotAReport { path: String, source: serde_json::Error },
}

pub fn read(path: &Path) -> Result<Report, ReadError> {
    let shown = || path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io { path: shown(), source })?;
    serde_json::from_str(&text).map_err(|source| ReadError::NotAReport { path: shown(), source })
}
