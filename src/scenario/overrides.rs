//! `--set key=value` overrides, applied to the parsed TOML before it is turned into a `Scenario`,
//! so an override is checked exactly like the same key written in the file.

use toml::{Table, Value};

/// One `--set` argument split into its dotted key and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub key: String,
    pub value: Value,
}

impl std::str::FromStr for Override {
    type Err = String;
    fn from_str(arg: &str) -> Result<Self, String> {
        let (key, raw) = arg
            .split_once('=')
            .ok_or_else(|| format!("`{arg}` is not key=value; write e.g. --set mimir.write.rate=500"))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(format!("`{key}` is not a dotted key like mimir.write.rate"));
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
pub fn apply(root: &mut Value, ov: &Override) -> Result<(), String> {
    let parts: Vec<&str> = ov.key.split('.').collect();
    let (last, path) = parts.split_last().expect("key has at least one segment");
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
        _ => Err(format!("--set {}: `{}` is not a table", ov.key, path.join("."))),
    }
}

fn step<'a>(node: &'a mut Value, part: &str, shown: &str) -> Result<&'a mut Value, String> {
    match node {
        Value::Table(t) => Ok(t.entry(part.to_string()).or_insert_with(|| Value::Table(Table::new()))),
        Value::Array(a) => index(a, part, shown),
        _ => Err(format!("--set: `{shown}` is a value, not a table")),
    }
}

fn index<'a>(a: &'a mut [Value], part: &str, shown: &str) -> Result<&'a mut Value, String> {
    let i: usize = part
        .parse()
        .map_err(|_| format!("--set: `{shown}` indexes a list; use a number (0 is the first entry)"))?;
    let len = a.len();
    a.get_mut(i).ok_or_else(|| format!("--set: `{shown}`: the list has {len} entries"))
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
        assert!("rate".parse::<Override>().unwrap_err().contains("key=value"));
        assert!("a..b=1".parse::<Override>().unwrap_err().contains("dotted key"));
        let mut root = doc("[[q]]\nname = \"a\"\n");
        let err = apply(&mut root, &"q.3.name=x".parse().unwrap()).unwrap_err();
        assert!(err.contains("1 entries"), "{err}");
        let err = apply(&mut root, &"q.name=x".parse().unwrap()).unwrap_err();
        assert!(err.contains("use a number"), "{err}");
    }
}
