//! Loading a scenario file, whatever targets it names: TOML text → `--set` overrides → a typed
//! value → the caller's semantic checks and resolution. Every problem found is reported at once,
//! each with its key, what is wrong and how to fix it. The sections every target shares live in
//! `sections.rs`, their checks in `checks.rs`.

pub(crate) mod checks;
pub(crate) mod overrides;
pub(crate) mod sections;
pub mod shard;

pub use overrides::Override;
pub use sections::*;

use serde::de::DeserializeOwned;
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

/// Reads the file at `path`, applies the overrides, deserializes it as `T` and hands it to
/// `finish` (semantic checks and resolution), collecting every problem on the way.
pub fn load<T: DeserializeOwned, P>(path: &Path, overrides: &[Override], finish: impl Fn(T) -> Result<P, Vec<Problem>>) -> Result<P, ScenarioError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::InvalidData {
            "is not a text file (it is not UTF-8): give the path of a TOML scenario such as scenarios/homelab.toml".to_string()
        } else {
            format!("cannot read the file ({e}); check the path")
        };
        ScenarioError { origin: origin.clone(), problems: vec![Problem::new("", message)] }
    })?;
    parse(&text, &origin, overrides, finish)
}

/// Same as `load` for text already in memory (`origin` names it in messages).
pub fn parse<T: DeserializeOwned, P>(
    text: &str,
    origin: &str,
    overrides: &[Override],
    finish: impl Fn(T) -> Result<P, Vec<Problem>>,
) -> Result<P, ScenarioError> {
    let fail = |problems| ScenarioError { origin: origin.to_string(), problems };
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| fail(vec![Problem::new("", format!("not valid TOML: {}", e.to_string().trim()))]))?;
    let mut value = Value::Table(table);
    let mut problems = Vec::new();
    for ov in overrides {
        if let Err(e) = overrides::apply(&mut value, ov) {
            problems.push(Problem::new(ov.key.clone(), e.to_string()));
        }
    }
    match deserialize_collecting(value, &mut problems, finish) {
        Some(resolved) if problems.is_empty() => Ok(resolved),
        _ => {
            for p in &mut problems {
                if let Some(ov) = overrides.iter().find(|ov| p.key == ov.key || p.key.starts_with(&format!("{}.", ov.key))) {
                    p.message += &format!(" (from --set {})", ov.key);
                }
            }
            Err(fail(problems))
        }
    }
}

/// Deserializes with `deny_unknown_fields` intact, yet collects every structural problem: after an
/// error the offending key is removed (or, if it is required, given a placeholder of a type that
/// fits) and deserialization is tried again. Semantic problems of placeholder keys are not reported.
fn deserialize_collecting<T: DeserializeOwned, P>(mut value: Value, problems: &mut Vec<Problem>, finish: impl Fn(T) -> Result<P, Vec<Problem>>) -> Option<P> {
    let mut replaced: Vec<String> = Vec::new();
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(s) => {
                return match finish(s) {
                    Ok(resolved) => replaced.is_empty().then_some(resolved),
                    Err(semantic) => {
                        problems.extend(semantic.into_iter().filter(|p| !replaced.iter().any(|r| p.key.starts_with(r.as_str()))));
                        None
                    }
                };
            }
            Err(err) => {
                let key = err.path().to_string();
                let key = if key == "." { String::new() } else { key };
                let message = first_line(&err.inner().to_string());
                if let Some(field) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
                    let full = if key.is_empty() { field.to_string() } else { format!("{key}.{field}") };
                    if replaced.contains(&full) && try_placeholders::<T>(&mut value, &full) {
                        continue;
                    }
                    problems.push(Problem::new(full.clone(), explain_structural(&full, &message)));
                    return None;
                }
                problems.push(Problem::new(key.clone(), explain_structural(&key, &message)));
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
fn try_placeholders<T: DeserializeOwned>(value: &mut Value, dotted: &str) -> bool {
    let candidates = [Value::String("1s".into()), Value::Integer(1), Value::Float(1.0), Value::Boolean(true)];
    for candidate in candidates {
        let mut trial = value.clone();
        let set = overrides::Override { key: dotted.to_string(), value: candidate };
        if overrides::apply(&mut trial, &set).is_err() {
            return false;
        }
        let still_bad = match serde_path_to_error::deserialize::<_, T>(trial.clone()) {
            Ok(_) => false,
            Err(e) => {
                e.path().to_string() == dotted || first_line(&e.inner().to_string()).contains(&format!("`{}`", dotted.rsplit('.').next().unwrap_or(dotted)))
            }
        };
        if !still_bad {
            *value = trial;
            return true;
        }
    }
    false
}

fn explain_structural(key: &str, message: &str) -> String {
    if message.starts_with("unknown field") {
        format!("{message}; remove the key or correct its spelling")
    } else if message.starts_with("missing field") {
        format!("{message}; add it (see the scenario reference in README.md)")
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        explain_type(key, rest).unwrap_or_else(|| message.to_string())
    } else {
        message.to_string()
    }
}

/// serde's "invalid type: string \"abc\", expected f64" in the scenario's words: what was written,
/// what the key takes, and an example.
fn explain_type(key: &str, rest: &str) -> Option<String> {
    let (found, expected) = rest.split_once(", expected ")?;
    let (kind, example) = match expected {
        "f64" | "f32" => ("a number", "50"),
        "u64" | "u32" | "usize" | "u16" | "u8" | "i64" | "i32" => ("a whole number", "10"),
        "a boolean" => ("true or false", "true"),
        "a string" => ("text", "\"30s\""),
        "a sequence" => ("a list", "[\"a\", \"b\"]"),
        _ => return None,
    };
    let found = match found.split_once(' ') {
        Some(("string", value)) => format!("{value} is text"),
        Some((what, value)) => format!("{value} is {what}"),
        None => format!("it is {found}"),
    };
    let name = if key.is_empty() { "the value" } else { key };
    Some(format!("{found}, but {name} takes {kind}, e.g. {name} = {example}"))
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
