//! `results/schema.json` is the schema of the report as the code writes it.

#[test]
fn committed_schema_matches_the_report_types() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/results/schema.json");
    let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(committed, lgtm_bench::report::schema(), "results/schema.json is stale: regenerate it with `cargo run -- schema > results/schema.json`");
}
