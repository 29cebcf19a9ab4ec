//! The table of measured paths of one run (`mimir.write`, `mimir.query.<name>`, …): workloads
//! register their paths while the plan is built and record by index afterwards.

use super::{PathId, PathStats, Recorder};
use std::collections::BTreeMap;

/// The target a path belongs to: its first dotted part (`mimir` of `mimir.query.range-7d`).
pub fn target_of(path: &str) -> &str {
    path.split('.').next().unwrap_or(path)
}

#[derive(Clone, Debug, Default)]
pub struct PathTable {
    names: Vec<String>,
}

impl PathTable {
    pub fn register(&mut self, name: impl Into<String>) -> PathId {
        let name = name.into();
        if let Some(i) = self.names.iter().position(|n| *n == name) {
            return PathId(i);
        }
        self.names.push(name);
        PathId(self.names.len() - 1)
    }

    pub fn name(&self, id: PathId) -> &str {
        &self.names[id.0]
    }

    pub fn iter(&self) -> impl Iterator<Item = (PathId, &str)> {
        self.names.iter().enumerate().map(|(i, n)| (PathId(i), n.as_str()))
    }
}

/// Group paths (`mimir.query`) and their members (`mimir.query.<name>`).
pub type Groups = Vec<(String, Vec<String>)>;

/// The run's totals by path name, each group added as the merge of its members.
pub fn stats_by_name(table: &PathTable, totals: &Recorder, groups: &Groups) -> BTreeMap<String, PathStats> {
    let mut out: BTreeMap<String, PathStats> = table.iter().map(|(id, name)| (name.to_string(), totals.path(id).cloned().unwrap_or_default())).collect();
    for (group, members) in groups {
        let mut merged = PathStats::default();
        for m in members {
            if let Some(s) = out.get(m) {
                merged.add(s);
            }
        }
        out.insert(group.clone(), merged);
    }
    out
}

/// Where the misses of a query path are asked again: `tempo.query.by-id` → `tempo.recheck.by-id`.
pub fn recheck_path(query_path: &str) -> Option<String> {
    let (target, query) = query_path.split_once(".query.")?;
    Some(format!("{target}.recheck.{query}"))
}

/// The query path whose misses a recheck path asks again (`tempo.recheck.by-id` → `tempo.query.by-id`).
pub fn rechecked_query(path: &str) -> Option<String> {
    let (target, query) = path.split_once(".recheck.")?;
    Some(format!("{target}.query.{query}"))
}

pub fn is_recheck(path: &str) -> bool {
    rechecked_query(path).is_some()
}
