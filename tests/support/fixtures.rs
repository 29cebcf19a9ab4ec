//! The recorded exchanges with real servers, copied into `tests/fixtures/` byte for byte (read-only:
//! never edited; `tests/fixtures/README.md` says where each was recorded).

use base64::Engine;
use serde_json::Value;
use std::path::PathBuf;

pub fn dir(target: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(target);
    assert!(root.is_dir(), "fixtures missing at {}: they are part of the repository (tests/fixtures/README.md)", root.display());
    root
}

/// Every fixture of a target, by file stem, sorted.
pub fn all(target: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir(target))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            let json: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (stem, json)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

/// The recorded response body as bytes (`body` text or `body_b64`).
pub fn response_body(fixture: &Value) -> Vec<u8> {
    let r = &fixture["response"];
    match (r["body"].as_str(), r["body_b64"].as_str()) {
        (Some(text), _) => text.as_bytes().to_vec(),
        (None, Some(b)) => b64(b),
        _ => Vec::new(),
    }
}
