//! The layout's rules, checked on the source: the core never names a target (targets import the
//! core, never the reverse), and the README's layout section names every folder of `src/`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_core_never_names_a_target() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let core: Vec<&PathBuf> =
        files.iter().filter(|f| !f.starts_with("src/targets") && !f.starts_with("src/commands") && !f.ends_with("main.rs") && !f.ends_with("lib.rs")).collect();
    assert!(core.len() > 20, "the core was found: {core:?}");
    for file in core {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            assert!(
                !code.contains("targets::") && !code.contains("mimir::") && !code.contains("tempo::"),
                "{}:{} reaches into a target: {line}",
                file.display(),
                n + 1
            );
        }
    }
}

#[test]
fn targets_do_not_import_each_other() {
    for (target, other) in [("mimir", "tempo"), ("tempo", "mimir")] {
        let mut files = Vec::new();
        rust_files(&Path::new("src/targets").join(target), &mut files);
        assert!(!files.is_empty());
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(!text.contains(&format!("targets::{other}")), "{} imports {other}", file.display());
        }
    }
}

#[test]
fn the_readme_layout_names_every_source_folder() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let layout = readme.split("## Layout").nth(1).and_then(|s| s.split("\n## ").next()).expect("README has a layout section");
    let mut dirs = vec![PathBuf::from("src")];
    let mut i = 0;
    while i < dirs.len() {
        for entry in std::fs::read_dir(&dirs[i]).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
        i += 1;
    }
    for dir in &dirs[1..] {
        let name = dir.file_name().unwrap().to_string_lossy();
        assert!(layout.contains(&format!("{name}/")), "the README's layout section does not name {}", dir.display());
    }
}

/// Every file of the repository's code, scripts and build set-up that could read a path: `src/`,
/// `tests/` (but the recorded fixtures themselves), `benches/`, `scenarios/`, `.ci/` and `Cargo.toml`.
fn code_and_scripts() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.starts_with("tests/fixtures") {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = vec![PathBuf::from("Cargo.toml")];
    for dir in ["src", "tests", "benches", "scenarios", ".ci"] {
        walk(Path::new(dir), &mut files);
    }
    files
}

#[test]
fn nothing_reads_outside_the_repository() {
    // Spelled in pieces so that this file does not name what it forbids.
    let forbidden = [concat!("..", "/shared"), concat!("CARGO_MANIFEST_DIR\"), \"/", ".."), concat!(".join(\"", "..")];
    let files = code_and_scripts();
    assert!(
        files.iter().any(|f| f.ends_with("run-all.sh")) && files.iter().any(|f| f.ends_with("fixtures.rs")),
        "the scan found the scripts and the tests: {files:?}"
    );
    let mut found = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        for (n, line) in text.lines().enumerate() {
            if let Some(bad) = forbidden.iter().find(|f| line.contains(*f)) {
                found.push(format!("{}:{}: `{bad}` in {line}", file.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "these lines read outside the repository, which a clone elsewhere does not have (copy what they need into tests/fixtures/):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_fixtures_carry_their_provenance_and_checksums() {
    let readme = std::fs::read_to_string("tests/fixtures/README.md").unwrap();
    let sums = std::fs::read_to_string("tests/fixtures/SHA256SUMS").unwrap();
    for dir in std::fs::read_dir("tests/fixtures").unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()) {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        assert!(readme.contains(&format!("`{name}/`")), "tests/fixtures/README.md says nothing of {name}/");
        let mut files = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for p in std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()) {
                if p.is_dir() {
                    stack.push(p)
                } else {
                    files.push(p)
                }
            }
        }
        for f in files {
            let rel = format!("./{}", f.strip_prefix("tests/fixtures").unwrap().display());
            assert!(sums.lines().any(|l| l.ends_with(&format!("  {rel}"))), "{rel} has no line in tests/fixtures/SHA256SUMS");
        }
    }
}
