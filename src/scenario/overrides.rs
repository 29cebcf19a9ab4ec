//! `--set key=value` overrides, applied to the parsed TOML before it is turned into a `Scenario`,
//! so an override is checked exactly like the same key written in the file.

use toml::{Table, Value};

/// A `--set` argument that cannot be applied, with how to write it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OverrideError {
    #[error("`{0}` is not key=value; write e.g. --set mimir.write.rate=500")]
    NotKeyValue(String),
    #[error("`{0}` is not a dotted key like mimir.write.rate")]
    NotDotted(String),
    #[error("--set {key}: `{parent}` is not a table")]
    NotATable { key: String, parent: String },
    #[error("--set: `{0}` is a value, not a table")]
    AValue(String),
    #[error("--set: `{0}` indexes a list; use a number (0 is the first entry)")]
    NotAnIndex(String),
    #[error("--set: `{key}`: the list has {len} entries")]
    OutOfRange { key: String, len: usize },
}

/// One `--set` argument split into its dotted key and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub key: String,
    pub value: Value,
}

impl std::str::FromStr for Override {
    type Err = OverrideError;
    fn from_str(arg: &str) -> Result<Self, OverrideError> {
        let (key, raw) = arg.split_once('=').ok_or_else(|| OverrideError::NotKeyValue(arg.to_string()))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(OverrideError::NotDotted(key.to_string()));
        }
        Ok(Override { key: key.to_string(), value: parse_value(raw.trim()) })
    }
}

/// A value is read as a TOML literal (`500`, `0.5`, `true`, `["a"]`); anything else is a string,
/// so `--set run.duration=30s` works without quoting.
fn parse_value(raw: &str) -> Value {
    let doc = format!("v = {raw}");
    match doc.parse::<Table>() {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| Value::String(raw.into())),
        Err(_) => Value::String(raw.to_string()),
    }
}

/// Sets `ov.key` in `root`, creating tables on the way; numeric segments index arrays
/// (`mimir.queries.0.query`).
pub fn apply(root: &mut Value, ov: &Override) -> Result<(), OverrideError> {
    let parts: Vec<&str> = ov.key.split('.').collect();
    let (last, path) = parts.split_last().ok_or_else(|| OverrideError::NotDotted(ov.key.clone()))?;
    let mut node: &mut Value = root;
    for (depth, part) in path.iter().enumerate() {
        node = step(node, part, &parts[..=depth].join("."))?;
    }
    match node {
        Value::Table(t) => {
            t.insert((*last).to_string(), ov.value.clone());
            Ok(())
        }
        Value::Array(a) => {
            let slot = index(a, last, &ov.key)?;
            *slot = ov.value.clone();
            Ok(())
        }
        _ => Err(OverrideError::NotATable { key: ov.key.clone(), parent: path.join(".") }),
    }
}

fn step<'a>(node: &'a mut Value, part: &str, shown: &str) -> Result<&'a mut Value, OverrideError> {
    match node {
        Value::Table(t) => Ok(t.entry(part.to_string()).or_insert_with(|| Value::Table(Table::new()))),
        Value::Array(a) => index(a, part, shown),
        _ => Err(OverrideError::AValue(shown.to_string())),
    }
}

fn index<'a>(a: &'a mut [Value], part: &str, shown: &str) -> Result<&'a mut Value, OverrideError> {
    let i: usize = part.parse().map_err(|_| OverrideError::NotAnIndex(shown.to_string()))?;
    let len = a.len();
    a.get_mut(i).ok_or_else(|| OverrideError::OutOfRange { key: shown.to_string(), len })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        Value::Table(text.parse::<Table>().unwrap())
    }

    #[test]
    fn numbers_strings_and_nested_keys_are_set() {
        let mut root = doc("[mimir.write]\nrate = 10\n[[mimir.queries]]\nname = \"a\"\n");
        for arg in ["mimir.write.rate=500", "run.duration=30s", "mimir.queries.0.name=b"] {
            apply(&mut root, &arg.parse().unwrap()).unwrap();
        }
        assert_eq!(root["mimir"]["write"]["rate"].as_integer(), Some(500));
        assert_eq!(root["run"]["duration"].as_str(), Some("30s"));
        assert_eq!(root["mimir"]["queries"][0]["name"].as_str(), Some("b"));
    }

    #[test]
    fn malformed_overrides_say_how_to_write_them() {
        assert!("rate".parse::<Override>().unwrap_err().to_string().contains("key=value"));
        assert!("a..b=1".parse::<Override>().unwrap_err().to_string().contains("dotted key"));
        let mut root = doc("[[q]]\nname = \"a\"\n");
        let err = apply(&mut root, &"q.3.name=x".parse().unwrap()).unwrap_err().to_string();
        assert!(err.contains("1 entries"), "{err}");
        let err = apply(&mut root, &"q.name=x".parse().unwrap()).unwrap_err().to_string();
        assert!(err.contains("use a number"), "{err}");
    }
}
