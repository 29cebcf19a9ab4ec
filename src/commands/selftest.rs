//! `selftest`: the generator's own ceiling on this machine. The scenario's write paths run as fast
//! as their in-flight bounds allow, together, into a local sink that answers at once without
//! decoding; the figures say how much one generator carries and the headroom against the plan
//! (how many shards an Indexed Job needs).

use lgtm_bench::cli::exit;
use lgtm_bench::engine::runner::{self, RunOptions};
use lgtm_bench::engine::sink::Sink;
use lgtm_bench::engine::target::WriteLoad;
use lgtm_bench::report::Report;
use lgtm_bench::scenario::{self, Override};
use lgtm_bench::targets::{self, Scenario};
use lgtm_bench::units::{ByteSize, Dur};
use lgtm_bench::watch::exposition::own_resident_bytes;
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// Below this headroom one generator is not enough: leave room for the target's own slowness.
const ENOUGH: f64 = 1.25;

pub fn selftest(file: &Path, overrides: &[Override], duration: Dur) -> u8 {
    let planned = match targets::load(file, overrides, None, None) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{e}");
            return exit::BAD_INPUT;
        }
    };
    let loads: Vec<WriteLoad> = planned.targets.iter().filter_map(|t| t.write_load()).collect();
    if loads.is_empty() {
        eprintln!("error: {} has no write load to measure; add [mimir.write] or [tempo.write]", file.display());
        return exit::BAD_INPUT;
    }
    let scenario = match scenario::load(file, overrides, |s: Scenario| Ok::<_, Vec<_>>(s)) {
        Ok(s) => s,
        Err(e) => {
            eprint!("{e}");
            return exit::BAD_INPUT;
        }
    };
    super::block_on(async {
        let sink = match Sink::start().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: the local sink could not listen on 127.0.0.1: {e}");
                return exit::UNREACHABLE;
            }
        };
        let s = targets::write_load_into(scenario, &sink.url(), &sink.url(), duration);
        let s_for_protocols = s.clone();
        let mut plan = match targets::resolve(s) {
            Ok(p) => p,
            Err(problems) => {
                let problems: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.key, p.message)).collect();
                eprintln!("error: the scenario's write load could not be aimed at the sink: {}", problems.join("; "));
                return exit::BAD_INPUT;
            }
        };
        plan.full_speed = true;
        let out = std::env::temp_dir().join(format!("lgtm-bench-selftest-{}", std::process::id()));
        eprintln!("selftest: {} write path(s) of {} at full speed into a local sink for {duration} (after a 1s warm-up)…", loads.len(), file.display());
        let opts = RunOptions { scenario_file: file.display().to_string(), out_dir: out.clone(), progress: true, baseline: None };
        let outcome = runner::run(&plan, opts, CancellationToken::new()).await;
        let _ = std::fs::remove_dir_all(&out);
        let report = match outcome {
            Ok(o) => o.report,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_INPUT;
            }
        };
        print!("{}", render(&report, &loads, file));
        print!("{}", other_protocols(&s_for_protocols, &sink, file, duration).await);
        exit::PASSED
    })
    .unwrap_or_else(|code| code)
}

/// Mimir's write path alone in each protocol the scenario does not use, one run each: the
/// generator's ceiling per protocol (encoding costs differ: a symbols table, OTLP's data points).
async fn other_protocols(s: &Scenario, sink: &Sink, file: &Path, duration: Dur) -> String {
    use lgtm_bench::targets::mimir::config::WriteProtocol;
    let Some(own) = s.mimir.as_ref().and_then(|m| m.write.as_ref()).map(|w| w.protocol) else { return String::new() };
    let mut out = String::new();
    for protocol in [WriteProtocol::Rw1, WriteProtocol::Rw2, WriteProtocol::Otlp].into_iter().filter(|p| *p != own) {
        let mut one = s.clone();
        one.tempo = None;
        if let Some(m) = &mut one.mimir {
            lgtm_bench::targets::mimir::speaking(m, protocol);
            // The sink answers any path; these are the ones Mimir serves.
            let path = if protocol == WriteProtocol::Otlp { "/otlp/v1/metrics" } else { "/api/v1/push" };
            m.write_url = format!("{}{path}", sink.url());
        }
        let mut plan = match targets::resolve(one) {
            Ok(p) => p,
            Err(_) => continue,
        };
        plan.full_speed = true;
        let dir = std::env::temp_dir().join(format!("lgtm-bench-selftest-{}-{}", std::process::id(), protocol_word(protocol)));
        eprintln!("selftest: mimir.write as {} at full speed for {duration}…", protocol_word(protocol));
        let opts = RunOptions { scenario_file: file.display().to_string(), out_dir: dir.clone(), progress: false, baseline: None };
        let outcome = runner::run(&plan, opts, CancellationToken::new()).await;
        let _ = std::fs::remove_dir_all(&dir);
        let (Ok(o), Some(load)) = (outcome, plan.targets.iter().find_map(|t| t.write_load().filter(|l| l.path == "mimir.write"))) else { continue };
        let Some(p) = o.report.paths.get("mimir.write") else { continue };
        let items = p.items_ok_per_second.unwrap_or(0.0);
        out += &format!(
            "{:<14} {:>12.1} {:>20} {:>20} {:>9.1}x   (as {})\n",
            format!("  {}", protocol_word(protocol)),
            p.achieved_rate.unwrap_or(0.0),
            format!("{items:.0} {}/s", load.unit),
            format!("{:.0} {}/s", load.items, load.unit),
            items / load.items.max(1e-9),
            protocol_word(protocol)
        );
        if p.error_ratio.unwrap_or(0.0) > 0.0 {
            out += &format!("{:<14} note: {} calls failed against the sink\n", "", p.calls - p.count(lgtm_bench::stats::OutcomeClass::Success));
        }
    }
    if !out.is_empty() {
        out = format!("mimir.write in the other protocols (each alone, same series):\n{out}");
    }
    out
}

fn protocol_word(p: lgtm_bench::targets::mimir::config::WriteProtocol) -> &'static str {
    use lgtm_bench::targets::mimir::config::WriteProtocol;
    match p {
        WriteProtocol::Rw1 => "rw1",
        WriteProtocol::Rw2 => "rw2",
        WriteProtocol::Otlp => "otlp",
    }
}

fn render(report: &Report, loads: &[WriteLoad], file: &Path) -> String {
    let mut out = format!(
        "\nselftest of {} on {} ({} core(s)), {:.1}s measured at full speed:\n",
        file.display(),
        report.host.hostname,
        report.host.cpus,
        report.run.measured_seconds
    );
    out += &format!("{:<14} {:>12} {:>20} {:>20} {:>10}\n", "path", "requests/s", "ceiling", "planned", "headroom");
    let mut shards = 1.0_f64;
    for load in loads {
        let Some(p) = report.paths.get(&load.path) else { continue };
        let (requests, items) = (p.achieved_rate.unwrap_or(0.0), p.items_ok_per_second.unwrap_or(0.0));
        let headroom = if load.items > 0.0 { items / load.items } else { f64::INFINITY };
        shards = shards.max((ENOUGH / headroom).ceil());
        out += &format!(
            "{:<14} {:>12.1} {:>20} {:>20} {:>9.1}x\n",
            load.path,
            requests,
            format!("{:.0} {}/s", items, load.unit),
            format!("{:.0} {}/s", load.items, load.unit),
            headroom
        );
        if p.error_ratio.unwrap_or(0.0) > 0.0 {
            out += &format!(
                "{:<14} note: {} calls failed against the sink: {}\n",
                "",
                p.calls - p.count(lgtm_bench::stats::OutcomeClass::Success),
                p.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
            );
        }
    }
    if let Some(g) = &report.generator {
        let share = g.cpu_seconds / (g.wall_seconds.max(1e-9) * g.cores.max(1) as f64);
        out += &format!("generator: {:.2} CPU-s over {:.1}s ({:.0}% of {} core(s))", g.cpu_seconds, g.wall_seconds, share * 100.0, g.cores);
        for load in loads {
            if let Some(p) = report.paths.get(&load.path) {
                let per_cpu = p.counters.items_ok as f64 / g.cpu_seconds.max(1e-9);
                out += &format!("; {per_cpu:.0} {} per CPU-second (all paths together)", load.unit);
            }
        }
        out += "\n";
    }
    if let Some(rss) = own_resident_bytes() {
        out += &format!("generator RSS at the end: {}\n", ByteSize(rss as u64));
    }
    if shards <= 1.0 {
        out += &format!("one generator carries the planned load with at least {ENOUGH}x headroom on every path\n");
    } else {
        out += &format!("one generator is not enough here: split the run over {shards:.0} shards (run --shard I/{shards:.0}, the Indexed Job)\n");
    }
    out
}
