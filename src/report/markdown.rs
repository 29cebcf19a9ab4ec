//! The Markdown summary: what renders well as a CI job summary or a pull-request comment — the
//! verdict, the objectives, one row per path, and the comparison with the baseline when there is one.

use super::Report;
use crate::units::fmt_micros;
use std::fmt::Write;

fn us(v: Option<u64>) -> String {
    v.map_or("-".into(), fmt_micros)
}

pub fn render(reports: &[Report]) -> String {
    let mut out = String::new();
    for r in reports {
        section(&mut out, r);
    }
    out
}

fn section(out: &mut String, r: &Report) {
    let verdict = if r.passed() { "✅ PASS" } else { "❌ FAIL" };
    let _ = writeln!(out, "## lgtm-bench `{}`: {verdict}\n", r.run.scenario_name);
    let _ = writeln!(
        out,
        "Run `{}`, measured {:.1}s of {:.1}s planned{}, started {}.\n",
        r.run.id,
        r.run.measured_seconds,
        r.run.planned_measured_seconds,
        if r.run.interrupted { format!(" (**INTERRUPTED**: {})", r.run.stop_reason) } else { String::new() },
        r.run.started_at
    );
    if !r.verdict.objectives.is_empty() {
        let _ = writeln!(out, "| | objective | observed |\n|---|---|---|");
        for o in &r.verdict.objectives {
            let _ = writeln!(out, "| {} | `{}` | {} |", if o.passed { "✅" } else { "❌" }, o.objective, o.observed_display);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "| path | calls | rate | errors | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, p) in &r.paths {
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {} | {} | {} | {} | {} |",
            p.calls,
            p.achieved_rate.map_or("-".into(), |v| format!("{v:.1}/s")),
            p.error_ratio.map_or("-".into(), |e| format!("{:.2}%", e * 100.0)),
            us(p.latency.p50_us),
            us(p.latency.p90_us),
            us(p.latency.p99_us),
            us(p.latency.max_us)
        );
    }
    out.push('\n');
    let examples: Vec<String> = r
        .paths
        .iter()
        .flat_map(|(name, p)| p.examples.iter().map(move |e| format!("- `{name}` {} at {:.1}s: {} → {}", e.class, e.at_s, e.key, e.answer)))
        .collect();
    for (parent, parts) in super::parts::slowest(r, 5) {
        let _ = writeln!(out, "Slowest parts of `{parent}` (p99 from each call's planned start):\n\n| part | p99 | asks |\n|---|---|---|");
        for (name, p) in parts {
            let _ = writeln!(out, "| {name} | {} | `{}` |", us(p.latency.p99_us), p.asks.as_deref().unwrap_or_default().replace('|', "\\|"));
        }
        out.push('\n');
    }
    for (query, found) in super::recheck::findings(r) {
        let _ = writeln!(out, "`{query}` misses: {found}\n");
    }
    if !examples.is_empty() {
        let _ = writeln!(out, "Errors and misses, with examples (the first of each class):\n\n{}\n", examples.join("\n"));
    }
    for (name, p) in &r.paths {
        if let Some(queue) = p.counters.queue_summary() {
            let _ = writeln!(out, "`{name}` {queue}\n");
        }
    }
    if let Some(g) = &r.generator {
        for (title, whys) in [
            ("**Target did not keep up** (a failure of the target):", &g.target_fell_behind),
            ("**Host busy** (other processes saturated the machine; these figures are not trustworthy):", &g.host_busy),
            ("**Generator-limited** (the target is not blamed for these):", &g.limited_by),
        ] {
            if !whys.is_empty() {
                let _ = writeln!(out, "{title}\n");
                for why in whys {
                    let _ = writeln!(out, "- {why}");
                }
                out.push('\n');
            }
        }
    }
    if let Some(c) = &r.baseline {
        let _ = writeln!(out, "### Compared with baseline `{}`\n", c.baseline_run);
        for w in &c.warnings {
            let _ = writeln!(out, "> ⚠️ {w}\n");
        }
        let _ = writeln!(out, "| | path | statistic | change |\n|---|---|---|---|");
        for ch in &c.changes {
            let mark = if ch.regressed { "❌ regressed" } else { ch.assessment.as_str() };
            let _ = writeln!(out, "| {mark} | `{}` | {} | {} |", ch.path, ch.stat, ch.shown);
        }
        for m in &c.missing {
            let _ = writeln!(out, "| ❌ regressed | `{m}` | - | not measured in this run |");
        }
        out.push('\n');
    }
}
