//! The canary's state file: every run it made (id, clock start, the last instant it was seen
//! running) with its scenario's fingerprint, so a restarted canary rebuilds and re-reads what its
//! earlier runs of the same scenario wrote (the scenario itself, secrets included, stays in its
//! file). Small (one entry per start), written atomically.

use crate::engine::reread::Written;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One canary run and the fingerprint of the scenario it ran (its run duration left out).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incarnation {
    #[serde(flatten)]
    pub written: Written,
    pub scenario: String,
}

/// The fingerprint a run's writes are rebuilt by: the resolved scenario without `run.duration`
/// (a canary restarted with another `--duration` wrote the same data).
pub fn scenario_fingerprint(resolved: &serde_json::Value) -> String {
    let mut s = resolved.clone();
    if let Some(run) = s.get_mut("run").and_then(|r| r.as_object_mut()) {
        run.remove("duration");
    }
    crate::scenario::shard::fingerprint(&s.to_string())
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub runs: Vec<Incarnation>,
}

impl State {
    /// The state at `path`; an empty one when there is no file yet. A file that is not a canary
    /// state is an error naming it (never overwritten silently).
    pub fn load(path: &Path) -> Result<State, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| format!("{} is not a canary state file ({e}); move it away or pass --state FILE", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(format!("{} cannot be read: {e}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), String> {
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path)).map_err(|e| format!("{} cannot be written: {e}", path.display()))
    }

    /// Forgets runs last seen before `oldest_unix_ms` (older than the longest age asked).
    pub fn forget_before(&mut self, oldest_unix_ms: i64) {
        self.runs.retain(|r| r.written.last_seen_unix_ms >= oldest_unix_ms);
    }

    /// Marks run `run_id` as seen running at `now_unix_ms`.
    pub fn seen(&mut self, run_id: &str, now_unix_ms: i64) {
        if let Some(r) = self.runs.iter_mut().find(|r| r.written.run_id == run_id) {
            r.written.last_seen_unix_ms = r.written.last_seen_unix_ms.max(now_unix_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_survives_a_restart_and_a_stranger_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("canary.state");
        assert_eq!(State::load(&path).unwrap(), State::default());
        let mut s = State::default();
        s.runs.push(Incarnation { written: Written { run_id: "a".into(), start_unix_ms: 1000, last_seen_unix_ms: 1000 }, scenario: "abc".into() });
        s.seen("a", 5000);
        s.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap().runs[0].written.last_seen_unix_ms, 5000);
        std::fs::write(&path, "not json").unwrap();
        assert!(State::load(&path).unwrap_err().contains("is not a canary state file"));
    }
}
