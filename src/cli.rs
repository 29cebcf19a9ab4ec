//! Command line: the commands, their flags, and the exit codes every command returns.

use crate::scenario::Override;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes (also in README.md).
pub mod exit {
    /// The run completed and every objective was met.
    pub const PASSED: u8 = 0;
    /// The run completed and at least one objective failed.
    pub const OBJECTIVES_FAILED: u8 = 1;
    /// The scenario file or the command line is invalid.
    pub const BAD_INPUT: u8 = 2;
    /// A target could not be reached at the preflight check.
    pub const UNREACHABLE: u8 = 3;
    /// A target answered the preflight, but wrongly (auth, wrong path, not the expected API).
    pub const TARGET_REJECTED: u8 = 4;
    /// The results file could not be written (the summary is still printed).
    pub const RESULTS_NOT_WRITTEN: u8 = 5;
    /// Compared with a baseline that does not measure the same thing (another plan, a path
    /// missing): neither pass nor regression.
    pub const NOT_COMPARABLE: u8 = 6;
    /// Interrupted by Ctrl-C or SIGTERM; partial results were written.
    pub const INTERRUPTED: u8 = 130;
}

/// A percentage flag that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PercentError {
    #[error("`{0}` is not a percentage; write e.g. 20%")]
    NotAPercentage(String),
    #[error("`{0}` must be 0% or more")]
    Negative(String),
}

/// `20%` or `0.2` as a fraction.
pub fn parse_percent(s: &str) -> Result<f64, PercentError> {
    let v = match s.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => s.trim().parse::<f64>(),
    }
    .map_err(|_| PercentError::NotAPercentage(s.to_string()))?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(PercentError::Negative(s.to_string()))
    }
}

#[derive(Debug, Parser)]
#[command(name = "lgtm-bench", version, about = "Open-loop load and latency benchmarks for Grafana Mimir (and Tempo) with objectives and a verdict")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: drive the planned load, measure, check the objectives, write the results.
    Run(RunArgs),
    /// Always on: the scenario's load and queries at its rates until stopped, its figures on
    /// /metrics for Prometheus (requests by class, latency histograms, items, the queue, the
    /// targets' memory against their budgets, each objective's state over a rolling window).
    Canary(CanaryArgs),
    /// Render results files as a self-contained HTML report, a Markdown summary and JUnit XML
    /// (several files are overlaid, e.g. a baseline and a run).
    Report {
        /// Results files of runs (overlaid in one report), or one capacity or check results file;
        /// the runs' interval logs beside them are read too.
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// Write the self-contained HTML report: to FILE, or without a value beside the first
        /// results file (or into --out) as <results name>.html.
        #[arg(long, value_name = "FILE", num_args = 0..=1)]
        html: Option<Option<PathBuf>>,
        /// Write the Markdown summary (a CI job summary, a pull-request comment): to FILE, or
        /// without a value as <results name>.md.
        #[arg(long, value_name = "FILE", num_args = 0..=1)]
        markdown: Option<Option<PathBuf>>,
        /// Write JUnit XML (a test case per objective and per baseline check): to FILE, or
        /// without a value as <results name>.xml.
        #[arg(long, value_name = "FILE", num_args = 0..=1)]
        junit: Option<Option<PathBuf>>,
        /// Where reports without a file name go (default: beside the first results file).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Compare a results file with a baseline results file; exit 1 on a regression.
    Compare {
        /// The baseline: a results file, or a folder of kept runs of one scenario (a group).
        baseline: PathBuf,
        /// The runs to check: a results file, or a folder of them (e.g. `run --repeat`'s).
        current: PathBuf,
        /// Keep runs whose generator or machine was saturated (left out of a folder by default).
        #[arg(long)]
        include_noisy: bool,
        /// How much a latency percentile may grow (e.g. 20%).
        #[arg(long, value_name = "PERCENT", default_value = "20%", value_parser = parse_percent)]
        max_regression: f64,
        /// Compare every path, not only the load and query paths.
        #[arg(long)]
        all_paths: bool,
    },
    /// Merge results files of shards of one run (histograms added, counts summed) and check the
    /// objectives on the whole.
    Merge {
        /// The shards' results files.
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// Where to write the merged results file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a scenario and print the resolved plan without sending anything.
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Override any scenario key, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<Override>,
    },
    /// Drive the scenario's write load as fast as it goes into a local sink (nothing leaves the
    /// machine) and print the generator's ceiling here and its headroom against the plan.
    Selftest {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// How long to drive it (after a 1 s warm-up).
        #[arg(long, value_name = "DURATION", default_value = "10s")]
        duration: crate::units::Dur,
        /// Override any scenario key, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<Override>,
    },
    /// Find the most load the scenario's target takes within all its objectives (memory budget
    /// and no restarts included): grow one load dimension step by step, bisect, confirm.
    Capacity {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// The scenario key to grow, e.g. mimir.write.series.active, mimir.write.rate,
        /// tempo.write.rate, mimir.query_load.concurrency (default: the scenario's first write load).
        #[arg(long, value_name = "KEY")]
        dimension: Option<String>,
        /// The first level tried: a number, or a multiple of the scenario's level such as 1x
        /// (default: 0.25x).
        #[arg(long, value_name = "LEVEL")]
        from: Option<crate::capacity::Level>,
        /// The highest level tried, a number or a multiple such as 16x (default: 64x).
        #[arg(long, value_name = "LEVEL")]
        to: Option<crate::capacity::Level>,
        /// Growth factor per step (default 1.25; 2 with --fresh-target-command, as bisection follows).
        #[arg(long)]
        factor: Option<f64>,
        /// With --fresh-target-command: bisect until the bracket between the last pass and the
        /// first fail is this narrow.
        #[arg(long, value_name = "PERCENT", default_value = "10%", value_parser = parse_percent)]
        precision: f64,
        /// The steady time of each step (after the scenario's warm-up and ramp).
        #[arg(long, value_name = "DURATION", default_value = "1m")]
        step_duration: crate::units::Dur,
        /// The steady time of the final step that confirms the answer (default: 3 × step).
        #[arg(long, value_name = "DURATION")]
        confirm_duration: Option<crate::units::Dur>,
        /// At most this many steps.
        #[arg(long, default_value_t = 30)]
        max_steps: usize,
        /// A shell command run before every step that resets the target (e.g. a rollout restart
        /// that waits for readiness), so no step carries over an earlier one's data. Without it
        /// levels only go up (no bisection, no confirmation below a fail).
        #[arg(long, value_name = "COMMAND")]
        fresh_target_command: Option<String>,
        /// Override any scenario key, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<Override>,
        /// Folder for the capacity report (<scenario>-capacity-<time>.json, .html, .md) and the
        /// steps' results (in the folder of the same name).
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Do not print the steps' progress lines.
        #[arg(long)]
        quiet: bool,
    },
    /// Check the deployment's acceptance criteria, by the task list's own ids (Tempo AC-lgtm-002-…,
    /// Mimir AC-lgtm-003-…, secrets AC-lgtm-004-…, Grafana AC-lgtm-005-…, NFR-SCALE-002 resources,
    /// NFR-RECOVER-001 recovery) and print each PASS, FAIL or SKIPPED with its evidence.
    Check {
        /// The scenario file (TOML): its targets and its [check] section.
        scenario: PathBuf,
        /// Also keep what the checks wrote in FILE, for `--verify FILE` after a restart.
        #[arg(long, value_name = "FILE", conflicts_with = "verify")]
        record: Option<PathBuf>,
        /// Read back everything a `--record FILE` wrote (after restarting the pods or rotating
        /// credentials): nothing lost, or the exact list of what was.
        #[arg(long, value_name = "FILE")]
        verify: Option<PathBuf>,
        /// Wait up to this long for this check's data to reach the S3 buckets (Tempo: 10m).
        #[arg(long, value_name = "DURATION")]
        wait_s3: Option<crate::units::Dur>,
        /// With --verify: wait up to this long for a target that does not answer yet (a pod still
        /// restarting) before reading back; without it such a target is "could not check" (exit 3).
        #[arg(long, value_name = "DURATION", requires = "verify")]
        wait: Option<crate::units::Dur>,
        /// The S3 credentials are broken on purpose (AC-lgtm-002-04, AC-lgtm-003-04): writes must
        /// still be acknowledged and the targets' own counters must show S3 errors. Use with
        /// --record, fix the credentials, then --verify: nothing may be lost.
        #[arg(long, conflicts_with = "verify")]
        s3_broken: bool,
        /// Check the secrets and HelmReleases under this folder (e.g. kubernetes/).
        #[arg(long, value_name = "DIR")]
        manifests: Option<PathBuf>,
        /// Override any scenario key, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<Override>,
        /// Folder for the check results (<scenario>-check-<time>.json and .md).
        #[arg(long, default_value = "results")]
        out: PathBuf,
    },
    /// Write a scenario modelled on what a Prometheus or Mimir already holds: its series, the top
    /// metrics by series with their types and bucket bounds, the long tail, label cardinalities and
    /// scrape interval; `--scale 2` for twice that.
    Model {
        /// The Prometheus (or Mimir) query API to read, e.g. http://prometheus:9090.
        #[arg(long, value_name = "URL", required_unless_present = "tempo")]
        prometheus: Option<String>,
        /// The Tempo query API to read traces from, e.g. http://tempo.monitoring.svc:3200.
        #[arg(long, value_name = "URL")]
        tempo: Option<String>,
        /// Where the modelled Tempo section writes its OTLP (gRPC).
        #[arg(long, value_name = "URL", default_value = "http://tempo.monitoring.svc:4317")]
        otlp_url: String,
        /// How long the span rate is measured over (Tempo's spans-received counter read twice).
        #[arg(long, value_name = "DURATION", default_value = "10s")]
        rate_window: crate::units::Dur,
        /// The API's prefix under the URL ("/prometheus" for Mimir).
        #[arg(long, value_name = "PREFIX", default_value = "")]
        query_prefix: String,
        /// The tenant to read (X-Scope-OrgID), for Mimir.
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
        /// Scale the series (2 = twice today's).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Where the modelled scenario writes (default: Mimir's gateway in the home lab).
        #[arg(long, value_name = "URL", default_value = "http://mimir-gateway.monitoring.svc:8080/api/v1/push")]
        write_url: String,
        /// Write the scenario here instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// A Grafana to take the dashboards to replay from (the most viewed where it counts views,
        /// else every dashboard of --grafana-folder); they are written beside --out.
        #[arg(long, value_name = "URL", requires = "out")]
        grafana: Option<String>,
        /// The environment variable holding a Grafana service-account token.
        #[arg(long, value_name = "VAR", default_value = "GRAFANA_TOKEN")]
        grafana_token_env: String,
        /// The folder (uid) whose dashboards to replay when Grafana does not count views.
        #[arg(long, value_name = "UID")]
        grafana_folder: Option<String>,
        /// The modelled Mimir's memory budget, for capacity's answer (the home lab's: 1.5Gi).
        #[arg(long, value_name = "SIZE", default_value = "1.5Gi")]
        memory_budget: crate::units::ByteSize,
        /// Where the modelled Mimir's process figures are read (its /metrics) for the memory watch.
        #[arg(long, value_name = "URL")]
        memory_url: Option<String>,
        /// How many of the most viewed dashboards to replay.
        #[arg(long, value_name = "N", default_value_t = 5)]
        dashboards: usize,
    },
    /// Print the JSON Schema of the results file (also in results/schema.json), or of a capacity
    /// report or check results.
    Schema {
        /// Which file: `run` (results/schema.json), `capacity` (results/capacity-schema.json) or
        /// `check` (results/check-schema.json).
        #[arg(default_value = "run", value_parser = ["run", "capacity", "check"])]
        of: String,
    },
}

/// `run`'s flags (the command takes them as they are).
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML), e.g. scenarios/homelab.toml.
    pub scenario: PathBuf,
    /// Folder for the results file (<scenario>-<UTC timestamp>.json).
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Override any scenario key, e.g. --set mimir.write.rate=500 --set run.duration=2m (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<Override>,
    /// Do not print the progress line.
    #[arg(long)]
    pub quiet: bool,
    /// Run share INDEX of COUNT of the load (e.g. 0/4), for one scenario split over several
    /// generators (a Kubernetes Indexed Job); merge the shards' results with `merge`.
    #[arg(long, value_name = "INDEX/COUNT")]
    pub shard: Option<crate::scenario::shard::Shard>,
    /// With --shard: the id the shards of one run share (e.g. the Indexed Job's uid), checked by
    /// `merge`; by default the scenario's fingerprint.
    #[arg(long, value_name = "ID", env = "LGTM_BENCH_SHARD_GROUP", requires = "shard")]
    pub shard_group: Option<String>,
    /// A previous results file to compare with, or a folder of kept results (the newest runs of
    /// this scenario are taken, see --baseline-runs); a regression fails the run (exit 1) like
    /// an objective.
    #[arg(long, value_name = "FILE|DIR")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: how much a latency percentile may grow (e.g. 20%).
    #[arg(long, value_name = "PERCENT", default_value = "20%", value_parser = parse_percent)]
    pub max_regression: f64,
    /// With --baseline DIR: the newest N kept runs of the scenario are the baseline group; their
    /// spread is the run-to-run noise the gate allows for (at least 3 to estimate it).
    #[arg(long, value_name = "N", default_value_t = 5, requires = "baseline")]
    pub baseline_runs: usize,
    /// With --baseline: keep baseline runs whose generator or machine was saturated (left out
    /// by default: their figures are not the target's alone).
    #[arg(long, requires = "baseline")]
    pub include_noisy: bool,
    /// Run the scenario N times, one after another, kept as one group (a folder under --out);
    /// with --baseline the group is judged as a whole.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub repeat: u64,
    /// Before each run, reset the target with this shell command (`sh -c`), e.g. a restart on
    /// an empty data folder, so that every run meets a target in the same state.
    #[arg(long, value_name = "CMD")]
    pub fresh_target_command: Option<String>,
    /// Also write the HTML, Markdown and JUnit reports into this folder (also for an
    /// interrupted run).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Stream each results interval's figures (calls by class, latency p50/p99, running
    /// totals; labelled run_id, scenario, path) to this remote-write endpoint while running,
    /// e.g. http://prometheus:9090/api/v1/write or Mimir's /api/v1/push.
    #[arg(long, value_name = "URL")]
    pub export_metrics: Option<String>,
    /// The tenant (X-Scope-OrgID) the exported figures go to, apart from the load's (default:
    /// the scenario's [export] tenant).
    #[arg(long, value_name = "TENANT")]
    pub export_tenant: Option<String>,
}

/// `canary`'s flags (the command takes them as they are).
#[derive(clap::Args, Debug)]
pub struct CanaryArgs {
    /// The scenario file (TOML), at canary rates.
    pub scenario: PathBuf,
    /// Where /metrics is served.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464")]
    pub listen: std::net::SocketAddr,
    /// Stop after this long (default: run until stopped).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<crate::units::Dur>,
    /// The window each objective is judged over.
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub window: crate::units::Dur,
    /// With --duration: keep serving /metrics after the run until stopped (a last scrape).
    #[arg(long, requires = "duration")]
    pub linger: bool,
    /// The canary's state file: its runs, so a restarted canary re-reads what they wrote
    /// (default: <out>/canary.state).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The ages at which written data is read again (each an age band of the lost counts).
    #[arg(long, value_name = "AGES", value_delimiter = ',', default_value = "5m,1h,6h,1d,7d")]
    pub ages: Vec<crate::units::Dur>,
    /// The oldest age asked (keep it within the targets' retention).
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub max_age: crate::units::Dur,
    /// How often the ages are read again.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub reread_every: crate::units::Dur,
    /// Also stream each interval's figures to this remote-write endpoint (as `run`).
    #[arg(long, value_name = "URL")]
    pub export_metrics: Option<String>,
    /// The tenant the exported figures go to.
    #[arg(long, value_name = "TENANT")]
    pub export_tenant: Option<String>,
    /// Where the results file goes when it stops.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<crate::scenario::Override>,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
}
