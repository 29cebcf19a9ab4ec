//! The canary's alerts (`kubernetes/.../canary/prometheusrule.yaml`) evaluated by Prometheus's own
//! rule engine through `promtool test rules` (Debian's `prometheus` package ships it): data lost
//! after a wipe fires at once, an objective failing fires after 10 minutes, a canary not scraped
//! after 5; a healthy canary fires nothing.

use std::path::PathBuf;

fn rules_file(dir: &std::path::Path) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kubernetes/apps/monitoring/lgtm-bench/canary/prometheusrule.yaml");
    let rule: serde_yaml_ng::Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let groups = serde_yaml_ng::to_string(&rule["spec"]).unwrap();
    let file = dir.join("rules.yml");
    std::fs::write(&file, groups).unwrap();
    file
}

const TESTS: &str = r#"
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  # Healthy: up, every objective holding, nothing lost: silent.
  - interval: 1m
    input_series:
      - series: 'up{job="lgtm-bench-canary",instance="c:9464"}'
        values: '1x30'
      - series: 'lgtm_bench_lost_total{job="lgtm-bench-canary",target="mimir",age_band="1h"}'
        values: '0x30'
      - series: 'lgtm_bench_objective_passing{job="lgtm-bench-canary",objective="mimir.write p99 < 1s"}'
        values: '1x30'
    alert_rule_test:
      - {eval_time: 30m, alertname: LgtmBenchDataLost, exp_alerts: []}
      - {eval_time: 30m, alertname: LgtmBenchObjectiveFailing, exp_alerts: []}
      - {eval_time: 30m, alertname: LgtmBenchCanaryDown, exp_alerts: []}
  # A wipe: data written an hour before is not there from minute 5.
  - interval: 1m
    input_series:
      - series: 'up{job="lgtm-bench-canary",instance="c:9464"}'
        values: '1x30'
      - series: 'lgtm_bench_lost_total{job="lgtm-bench-canary",target="mimir",age_band="1h"}'
        values: '0 0 0 0 0 4 9 14 20 26 30'
      - series: 'lgtm_bench_lost_total{job="lgtm-bench-canary",target="mimir",age_band="5m"}'
        values: '0x10'
    alert_rule_test:
      - {eval_time: 4m, alertname: LgtmBenchDataLost, exp_alerts: []}
      - eval_time: 6m
        alertname: LgtmBenchDataLost
        exp_alerts:
          - exp_labels: {severity: critical, target: mimir, age_band: 1h}
            exp_annotations:
              summary: "mimir lost data written 1h ago"
              description: "The canary asked again for what it wrote and acknowledged 1h ago and it was not there (lgtm_bench_lost_total rose in the last 15 minutes). Its log lists each item (canary: LOST at age …)."
  # An objective broken from minute 2: fires once it has been for 10 minutes.
  - interval: 1m
    input_series:
      - series: 'up{job="lgtm-bench-canary",instance="c:9464"}'
        values: '1x20'
      - series: 'lgtm_bench_objective_passing{job="lgtm-bench-canary",objective="mimir.write p99 < 1s"}'
        values: '1 1 0x18'
    alert_rule_test:
      - {eval_time: 8m, alertname: LgtmBenchObjectiveFailing, exp_alerts: []}
      - eval_time: 13m
        alertname: LgtmBenchObjectiveFailing
        exp_alerts:
          - exp_labels: {severity: warning, objective: "mimir.write p99 < 1s"}
            exp_annotations:
              summary: "Objective failing for 10 minutes: mimir.write p99 < 1s"
              description: "Judged over the canary's rolling window; lgtm_bench_objective_observed has the figure."
  # The canary down from minute 2 (its scrapes fail), then gone entirely (no up series at all).
  - interval: 1m
    input_series:
      - series: 'up{job="lgtm-bench-canary",instance="c:9464"}'
        values: '1 1 0 0 0 0 0 0 0 0'
    alert_rule_test:
      - {eval_time: 4m, alertname: LgtmBenchCanaryDown, exp_alerts: []}
      - eval_time: 8m
        alertname: LgtmBenchCanaryDown
        exp_alerts:
          - exp_labels: {severity: critical}
            exp_annotations:
              summary: "The lgtm-bench canary is down or not scraped"
              description: "No successful scrape of the lgtm-bench-canary Service for 5 minutes: nothing watches Tempo and Mimir."
      - eval_time: 25m
        alertname: LgtmBenchCanaryDown
        exp_alerts:
          - exp_labels: {severity: critical}
            exp_annotations:
              summary: "The lgtm-bench canary is down or not scraped"
              description: "No successful scrape of the lgtm-bench-canary Service for 5 minutes: nothing watches Tempo and Mimir."
"#;

#[test]
fn the_canarys_alerts_fire_on_loss_failure_and_absence_and_stay_silent_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    rules_file(dir.path());
    std::fs::write(dir.path().join("tests.yml"), TESTS).unwrap();
    let out = std::process::Command::new("promtool")
        .current_dir(dir.path())
        .args(["test", "rules", "tests.yml"])
        .output()
        .expect("`promtool` must be installed: apt-get install -y prometheus (.ci/run does this)");
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("SUCCESS"), "{printed}");
    // And a rule that would not fire is caught: the same tests against a rule that never fires fail.
    let rules = std::fs::read_to_string(dir.path().join("rules.yml")).unwrap().replace("> 0", "> 1000000");
    std::fs::write(dir.path().join("rules.yml"), rules).unwrap();
    let out = std::process::Command::new("promtool").current_dir(dir.path()).args(["test", "rules", "tests.yml"]).output().unwrap();
    assert!(!out.status.success(), "the tests can fail");
}
