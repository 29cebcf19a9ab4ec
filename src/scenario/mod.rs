//! Loading a scenario: TOML text → `--set` overrides → typed `Scenario` → semantic validation.
//! Every problem found is reported at once, each with its key, what is wrong and how to fix it.

pub mod model;
pub mod overrides;
pub mod shard;
pub mod validate;

pub use model::*;
pub use overrides::Override;

use std::fmt;
use std::path::Path;
use toml::Value;

/// One thing wrong with a scenario: the dotted key and a sentence saying what and how to fix it.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl Problem {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { key: key.into(), message: message.into() }
    }
}

/// All problems of one scenario file.
#[derive(Debug)]
pub struct ScenarioError {
    pub origin: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(f, "{}: {n} problem{} in the scenario", self.origin, if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            let key = if p.key.is_empty() { "(file)" } else { &p.key };
            writeln!(f, "  - {key}: {}", p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Reads, overrides and validates the scenario at `path`.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        origin: origin.clone(),
        problems: vec![Problem::new("", format!("cannot read the file ({e}); check the path"))],
    })?;
    parse(&text, &origin, overrides)
}

/// Same as `load` for text already in memory (`origin` names it in messages).
pub fn parse(text: &str, origin: &str, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let fail = |problems| ScenarioError { origin: origin.to_string(), problems };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| fail(vec![Problem::new("", format!("not valid TOML: {}", e.to_string().trim()))]))?;
    let mut value = Value::Table(table);
    let mut problems = Vec::new();
    for ov in overrides {
        if let Err(e) = overrides::apply(&mut value, ov) {
            problems.push(Problem::new(ov.key.clone(), e));
        }
    }
    let scenario = deserialize_collecting(value, &mut problems);
    match scenario {
        Some(s) if problems.is_empty() => Ok(s),
        _ => Err(fail(problems)),
    }
}

/// Deserializes with `deny_unknown_fields` intact, yet collects every structural problem: after an
/// error the offending key is removed (or, if it is required, given a placeholder of a type that
/// fits) and deserialization is tried again. Semantic problems of placeholder keys are not reported.
fn deserialize_collecting(mut value: Value, problems: &mut Vec<Problem>) -> Option<Scenario> {
    let mut replaced: Vec<String> = Vec::new();
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, Scenario>(value.clone()) {
            Ok(s) => {
                let structural = problems.len();
                let semantic: Vec<Problem> =
                    validate::problems(&s).into_iter().filter(|p| !replaced.iter().any(|r| p.key.starts_with(r.as_str()))).collect();
                problems.extend(semantic);
                return (problems.len() == structural && replaced.is_empty()).then_some(s);
            }
            Err(err) => {
                let key = err.path().to_string();
                let key = if key == "." { String::new() } else { key };
                let message = first_line(&err.inner().to_string());
                if let Some(field) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
                    let full = if key.is_empty() { field.to_string() } else { format!("{key}.{field}") };
                    if replaced.contains(&full) && try_placeholders(&mut value, &full) {
                        continue;
                    }
                    problems.push(Problem::new(full, explain_structural(&message)));
                    return None;
                }
                problems.push(Problem::new(key.clone(), explain_structural(&message)));
                if !remove_at(&mut value, &key) {
                    return None;
                }
                replaced.push(key);
            }
        }
    }
    None
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_string()
}

/// Puts the first placeholder under `dotted` with which deserialization gets past that key.
fn try_placeholders(value: &mut Value, dotted: &str) -> bool {
    let candidates = [Value::String("1s".into()), Value::Integer(1), Value::Float(1.0), Value::Boolean(true)];
    for candidate in candidates {
        let mut trial = value.clone();
        let set = overrides::Override { key: dotted.to_string(), value: candidate };
        if overrides::apply(&mut trial, &set).is_err() {
            return false;
        }
        let still_bad = match serde_path_to_error::deserialize::<_, Scenario>(trial.clone()) {
            Ok(_) => false,
            Err(e) => e.path().to_string() == dotted || first_line(&e.inner().to_string()).contains(&format!("`{}`", dotted.rsplit('.').next().unwrap_or(dotted))),
        };
        if !still_bad {
            *value = trial;
            return true;
        }
    }
    false
}

fn explain_structural(message: &str) -> String {
    if message.starts_with("unknown field") {
        format!("{message}; remove the key or correct its spelling")
    } else if message.starts_with("missing field") {
        format!("{message}; add it (see the scenario reference in README.md)")
    } else {
        message.to_string()
    }
}

fn remove_at(root: &mut Value, dotted: &str) -> bool {
    let parts: Vec<&str> = dotted.split('.').collect();
    let Some((last, path)) = parts.split_last() else { return false };
    let mut node = root;
    for part in path {
        node = match node {
            Value::Table(t) => match t.get_mut(*part) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(a) => match part.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match node {
        Value::Table(t) => t.remove(*last).is_some(),
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}
