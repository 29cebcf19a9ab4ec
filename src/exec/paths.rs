//! The table of measured paths of one run (`mimir.write`, `mimir.query.<name>`, …): workloads
//! register their paths while the plan is built and record by index afterwards.

use crate::stats::PathId;

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
