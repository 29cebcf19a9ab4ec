//! The `lgtm-bench` binary: parse the command line, hand it to the command's own file in
//! `commands/`, and turn what it came to into an exit code.

mod commands;

use clap::Parser;
use lgtm_bench::cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let code = match Cli::parse().command {
        Command::Validate { scenario, overrides } => commands::validate::validate(&scenario, &overrides),
        Command::Schema { of } => commands::schema(&of),
        Command::Model {
            prometheus,
            tempo,
            otlp_url,
            rate_window,
            query_prefix,
            tenant,
            scale,
            write_url,
            out,
            grafana,
            grafana_token_env,
            grafana_folder,
            dashboards,
            memory_budget,
            memory_url,
        } => {
            let grafana = grafana.map(|url| commands::model::GrafanaSource { url, token_env: grafana_token_env, folder: grafana_folder, limit: dashboards });
            let sources = commands::model::Sources {
                prometheus,
                query_prefix,
                tenant,
                tempo,
                otlp_url,
                rate_window: rate_window.get(),
                grafana,
                memory_budget,
                memory_url,
            };
            commands::model::model(&sources, scale, &write_url, out.as_deref())
        }
        Command::Selftest { scenario, duration, overrides } => commands::selftest::selftest(&scenario, &overrides, duration),
        Command::Merge { files, out } => commands::merge::merge(&files, &out),
        Command::Compare { baseline, current, include_noisy, max_regression, all_paths } => {
            commands::compare::compare(&baseline, &current, max_regression, all_paths, include_noisy)
        }
        Command::Canary(args) => commands::canary::canary(args),
        Command::Run(args) => commands::run::run(args),
        Command::Capacity {
            scenario,
            dimension,
            from,
            to,
            factor,
            precision,
            step_duration,
            confirm_duration,
            max_steps,
            fresh_target_command,
            overrides,
            out,
            quiet,
        } => {
            let opts = lgtm_bench::capacity::CapacityOptions {
                dimension,
                from,
                to,
                factor,
                precision,
                max_steps,
                step_duration,
                confirm_duration,
                fresh_target_command,
                scenario_file: scenario.display().to_string(),
                out_dir: out,
                progress: !quiet,
            };
            commands::capacity::capacity(&scenario, &overrides, opts)
        }
        Command::Check { scenario, record, verify, wait_s3, wait, s3_broken, manifests, overrides, out } => {
            let mode = match (record, verify) {
                (Some(f), _) => lgtm_bench::check::Mode::Record(f),
                (_, Some(f)) => lgtm_bench::check::Mode::Verify(f),
                _ => lgtm_bench::check::Mode::Check,
            };
            let credentials =
                if s3_broken { lgtm_bench::check::target_metrics::Credentials::Broken } else { lgtm_bench::check::target_metrics::Credentials::Working };
            let opts = lgtm_bench::check::CheckOptions {
                mode,
                wait_s3: wait_s3.map(|d| d.get()),
                manifests,
                scenario_file: scenario.display().to_string(),
                credentials,
                wait: wait.map(|d| d.get()),
            };
            commands::check::check(&scenario, &overrides, opts, &out)
        }
        Command::Report { files, html, markdown, junit, out } => {
            let at = |choice: Option<Option<std::path::PathBuf>>, ext: &str| {
                choice.map(|c| c.unwrap_or_else(|| commands::report::beside(&files, out.as_deref(), ext)))
            };
            commands::report::report(&files, at(html, "html").as_deref(), at(markdown, "md").as_deref(), at(junit, "xml").as_deref())
        }
    };
    ExitCode::from(code)
}
