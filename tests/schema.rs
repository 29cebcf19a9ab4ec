//! `results/schema.json` (and `capacity-schema.json`, `check-schema.json`) are the schemas of what the
//! code writes.

#[test]
fn committed_schema_matches_the_report_types() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/results/schema.json");
    let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(committed, lgtm_bench::report::schema(), "results/schema.json is stale: regenerate it with `cargo run -- schema > results/schema.json`");
}

#[test]
fn committed_capacity_and_check_schemas_match_their_types() {
    for (file, of, schema) in
        [("capacity-schema.json", "capacity", lgtm_bench::capacity::model::schema()), ("check-schema.json", "check", lgtm_bench::check::model::schema())]
    {
        let path = format!("{}/results/{file}", env!("CARGO_MANIFEST_DIR"));
        let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(committed, schema, "results/{file} is stale: regenerate it with `cargo run -- schema {of} > results/{file}`");
    }
}
