//! The readable end-of-run summary: one row per measured path and each objective PASS or FAIL.

use super::{LatencyReport, PathReport, Report};
use crate::units::{fmt_micros, ByteSize};
use std::fmt::Write;

fn lat(v: Option<u64>) -> String {
    v.map_or("-".into(), fmt_micros)
}

fn row(out: &mut String, name: &str, calls: u64, rate: Option<f64>, err: Option<f64>, l: &LatencyReport) {
    let _ = writeln!(
        out,
        "{name:<30} {calls:>9} {:>9} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}",
        rate.map_or("-".into(), |r| format!("{r:.1}/s")),
        err.map_or("-".into(), |e| format!("{:.2}%", e * 100.0)),
        lat(l.p50_us),
        lat(l.p90_us),
        lat(l.p99_us),
        lat(l.p99_9_us),
        lat(l.max_us),
    );
}

/// Says plainly when an open-loop path did not deliver its plan, and what to change.
fn undelivered(p: &PathReport) -> Option<String> {
    let planned = p.planned_calls?;
    let c = &p.counters;
    if c.skipped + c.abandoned == 0 {
        return None;
    }
    let mut why = format!("planned {planned}, sent {}", planned.saturating_sub(c.skipped));
    if c.skipped > 0 {
        why += &format!(
            ": {} skipped because every worker was busy (the generator or its in-flight bound fell behind); raise max_in_flight or lower the rate",
            c.skipped
        );
    }
    if c.abandoned > 0 {
        why += &format!("{} {} never answered before the run stopped", if c.skipped > 0 { ";" } else { ":" }, c.abandoned);
    }
    Some(why)
}

pub fn render(report: &Report, results_file: Option<&str>) -> String {
    let mut out = String::new();
    let r = &report.run;
    let _ = writeln!(
        out,
        "\n{} — measured {:.1}s of {:.1}s planned{}",
        r.scenario_name,
        r.measured_seconds,
        r.planned_measured_seconds,
        if r.interrupted { format!(" (INTERRUPTED: {})", r.stop_reason) } else { String::new() }
    );
    for (target, b) in &report.targets {
        let _ = writeln!(out, "{target}: {}{} at {}", b.application.as_deref().map(|a| format!("{a} ")).unwrap_or_default(), b.shown(), b.url);
    }
    let _ =
        writeln!(out, "{:<30} {:>9} {:>9} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}", "path", "calls", "rate", "errors", "p50", "p90", "p99", "p99.9", "max");
    let rechecks = super::recheck::findings(report);
    for (name, p) in &report.paths {
        row(&mut out, name, p.calls, p.achieved_rate, p.error_ratio, &p.latency);
        let failures: Vec<String> = p.outcomes.iter().filter(|(k, _)| *k != "success").map(|(k, v)| format!("{k} {v}")).collect();
        let mut notes = failures;
        let c = &p.counters;
        for (label, n) in [("skipped", c.skipped), ("late", c.late_starts), ("abandoned", c.abandoned), ("retries", c.retries)] {
            if n > 0 {
                notes.push(format!("{label} {n}"));
            }
        }
        if let (Some(from), Some(until)) = (c.connection_failures_from_s, c.connection_failures_until_s) {
            notes.push(format!("unreachable: connection failures from {from:.1}s to {until:.1}s of the run"));
        }
        if !notes.is_empty() {
            let _ = writeln!(out, "{:<30}   {}", "", notes.join(", "));
        }
        if let Some(l) = p.lateness.as_ref().filter(|l| l.count > 0) {
            let _ = writeln!(out, "{:<30}   send lateness p50 {} p99 {} max {}", "", lat(l.p50_us), lat(l.p99_us), lat(l.max_us));
        }
        if let Some(why) = undelivered(p) {
            let _ = writeln!(out, "{:<30}   {why}", "");
        }
        if let Some(queue) = c.queue_summary() {
            let _ = writeln!(out, "{:<30}   {queue}", "");
        }
        if let Some((_, found)) = rechecks.iter().find(|(q, _)| q == name) {
            let _ = writeln!(out, "{:<30}   {found}", "");
        }
        for e in &p.examples {
            let _ = writeln!(out, "{:<30}   e.g. {} at {:.1}s: {} → {}", "", e.class, e.at_s, e.key, e.answer);
        }
    }
    let _ = writeln!(out, "latency is from the intended send time (service time from the actual send is in the results file)");
    for (parent, parts) in super::parts::slowest(report, 5) {
        let _ = writeln!(out, "slowest parts of {parent} (p99 from each call's planned start):");
        for (name, p) in parts {
            let _ = writeln!(out, "  {:<40} p99 {:>10}  {}", name, lat(p.latency.p99_us), p.asks.as_deref().unwrap_or_default());
        }
    }
    for (target, m) in &report.memory {
        let show = |v: Option<f64>| v.map_or("-".to_string(), |b| ByteSize(b as u64).to_string());
        let budget = m.budget_bytes.map_or(String::new(), |b| format!(" (budget {})", ByteSize(b)));
        let per_series = match (m.before_load_bytes, m.growth_bytes) {
            (Some(before), Some(grew)) => {
                let per_unit = match (m.growth_per_load_unit, &m.load_unit) {
                    (Some(b), Some(unit)) => format!(": {b:.0} bytes per {unit}"),
                    _ => String::new(),
                };
                format!(", grew {} over {} before load{per_unit}", ByteSize(grew.max(0.0) as u64), ByteSize(before as u64))
            }
            _ => String::new(),
        };
        let _ = writeln!(out, "memory {target}: peak {}{budget}, p99 {} [{}]{per_series}", show(m.peak_bytes), show(m.p99_bytes), m.checked.as_str());
        for r in &m.restarts {
            let _ = writeln!(out, "  RESTART at {:.1}s: {} ({})", r.at_seconds, r.source, r.detail);
        }
    }
    if !report.verdict.objectives.is_empty() {
        let _ = writeln!(out, "\nobjectives:");
        for o in &report.verdict.objectives {
            let _ = writeln!(out, "  {} {:<45} observed {}", if o.passed { "PASS" } else { "FAIL" }, o.objective, o.observed_display);
        }
    }
    if let Some(c) = &report.baseline {
        out += &super::compare::render(c);
    }
    if let Some(g) = &report.generator {
        let host = match (g.cpu().host_share(), g.host_cpus) {
            (Some(share), Some(n)) => format!("; the machine's {n} CPU(s) {:.0}% busy", share * 100.0),
            _ => String::new(),
        };
        let _ = writeln!(out, "\ngenerator: {:.2} CPU-s over {:.1}s on {} core(s){host}", g.cpu_seconds, g.wall_seconds, g.cores);
        for why in &g.limited_by {
            let _ = writeln!(out, "  GENERATOR-LIMITED: {why}");
        }
        for why in &g.host_busy {
            let _ = writeln!(out, "  HOST BUSY: {why}");
        }
        for why in &g.target_fell_behind {
            let _ = writeln!(out, "  TARGET DID NOT KEEP UP: {why}");
        }
        if g.inconclusive() {
            let _ =
                writeln!(out, "  these figures show the generator's or the machine's limits as well as the target's: do not read them as the target's alone");
        }
    }
    let _ = writeln!(out, "\nverdict: {}{}", if report.passed() { "PASS" } else { "FAIL" }, held_back(report));
    if let Some(f) = results_file {
        let _ = writeln!(out, "results: {f}");
    }
    out
}

/// Who held the run back, for the verdict line.
pub fn held_back(report: &Report) -> &'static str {
    let Some(g) = &report.generator else { return "" };
    if !g.target_fell_behind.is_empty() {
        " (TARGET DID NOT KEEP UP with the plan: a failure of the target)"
    } else if !g.host_busy.is_empty() {
        " (HOST BUSY: other processes saturated the machine; these figures are not trustworthy)"
    } else if !g.limited_by.is_empty() {
        " (GENERATOR-LIMITED: the generator held the plan back; the target is not blamed for that)"
    } else {
        ""
    }
}
