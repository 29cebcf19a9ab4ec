//! The capacity report as a person reads it: the answer, the headroom and the memory slope first;
//! one chart per objective with its statistic against the load, its threshold and the answer
//! marked (the knee); every step in a table with what broke and what it may carry over. HTML
//! (self-contained, inline SVG, no script) and Markdown, from the one model.

use super::model::{show_level, CapacityReport};
use super::search::Judgement;
use crate::report::axis::Unit;
use crate::report::chart::{esc, Chart, Dash, Series};
use crate::units::ByteSize;
use crate::verdict::{Objective, Stat};
use std::collections::BTreeMap;
use std::fmt::Write;

fn judgement_word(j: Judgement) -> &'static str {
    match j {
        Judgement::Pass => "PASS",
        Judgement::Fail => "FAIL",
        Judgement::GeneratorLimited => "GENERATOR LIMITED",
    }
}

fn y_unit(stat: Stat) -> Unit {
    match stat {
        Stat::Latency { .. } | Stat::Service { .. } | Stat::Lateness { .. } | Stat::LagMax => Unit::Micros,
        Stat::Peak => Unit::Bytes,
        Stat::ErrorRatio => Unit::Ratio,
        _ => Unit::Count,
    }
}

/// Each objective's figure at each step's level, in the order the objectives are written.
fn by_objective(r: &CapacityReport) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut order: Vec<String> = Vec::new();
    let mut points: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for s in &r.steps {
        for o in &s.report.verdict.objectives {
            if !order.contains(&o.objective) {
                order.push(o.objective.clone());
            }
            if let Some(v) = o.observed {
                points.entry(o.objective.clone()).or_default().push((s.level, v));
            }
        }
    }
    order
        .into_iter()
        .map(|o| {
            let mut p = points.remove(&o).unwrap_or_default();
            p.sort_by(|a, b| a.0.total_cmp(&b.0));
            (o, p)
        })
        .collect()
}

fn chart(r: &CapacityReport, objective: &str, points: Vec<(f64, f64)>) -> Option<String> {
    let o = Objective::parse(objective).ok()?;
    if points.is_empty() || matches!(o.stat, Stat::Skipped | Stat::Abandoned | Stat::Restarts | Stat::Lost | Stat::Errors) && points.iter().all(|p| p.1 == 0.0)
    {
        return None;
    }
    let unit = y_unit(o.stat);
    let mut series = vec![Series {
        name: format!("{} {}", o.subject, objective.split_whitespace().nth(1).unwrap_or("")),
        colour: "#1f77b4",
        points: points.clone(),
        dash: Dash::Solid,
        notes: Vec::new(),
    }];
    if let (Stat::Peak, Some(m)) = (o.stat, r.memory.as_ref().filter(|m| objective.starts_with(&format!("{}.memory", m.target)))) {
        let top = points.iter().map(|p| p.0).fold(0.0, f64::max).max(m.projected_level.unwrap_or(0.0).min(points.last().map_or(0.0, |p| p.0) * 2.0));
        series.push(Series {
            name: "before load + slope × level (projection)".into(),
            colour: "#9467bd",
            points: vec![(0.0, m.before_load_bytes), (top, m.before_load_bytes + m.bytes_per_unit * top)],
            dash: Dash::Dashed,
            notes: Vec::new(),
        });
    }
    let mut marks = Vec::new();
    if let Some(l) = r.answer.level {
        marks.push((l, format!("answer: {}", show_level(l, &r.dimension.unit))));
    }
    if let Some(f) = r.answer.first_fail {
        marks.push((f, format!("first fail: {}", show_level(f, &r.dimension.unit))));
    }
    // The bracket the answer lies in, shaded and named.
    let shaded = match (r.answer.level, r.answer.first_fail) {
        (Some(pass), Some(fail)) if fail > pass => {
            vec![(pass, fail, format!("bracket: passed {} / failed {}", show_level(pass, &r.dimension.unit), show_level(fail, &r.dimension.unit)))]
        }
        _ => vec![],
    };
    let c = Chart {
        id: format!("objective-{}-{}", o.subject, objective.split_whitespace().nth(1).unwrap_or("")),
        title: format!("{objective}: against {}", r.dimension.key),
        x_label: r.dimension.unit.clone(),
        y_label: objective.split_whitespace().take(2).collect::<Vec<_>>().join(" "),
        log_y: false,
        series,
        thresholds: vec![(o.threshold, format!("threshold {}", crate::report::axis::show(o.threshold, unit)))],
        shaded,
        marks,
        x_unit: if r.dimension.unit.contains("/s") { Unit::Plain } else { Unit::Count },
        y_unit: unit,
        x_ticks: None,
        empty: None,
    };
    Some(c.svg())
}

/// The self-contained HTML page.
pub fn html(r: &CapacityReport) -> String {
    let mut b = String::new();
    let class = if r.answer.level.is_some() { "pass" } else { "fail" };
    let _ = write!(b, "<section class=\"verdict {class}\" id=\"answer\"><h2>{}</h2>", esc(&r.answer_text));
    if let Some(share) = r.share_of_capacity() {
        let _ = write!(b, "<p id=\"headroom\">{}: {}.</p>", esc(&r.scenario_name), esc(&share));
    }
    if let Some(m) = r.memory_sentence() {
        let _ = write!(b, "<p id=\"memory-slope\">{}</p>", esc(&m));
    }
    let _ = write!(
        b,
        "<p>Searched <code>{}</code> ({}) from {} to {}, ×{} then bisected to {:.0}%; steps of {:.0}s, confirmation {:.0}s. Stopped: {}.</p>",
        esc(&r.dimension.key),
        esc(&r.dimension.note),
        esc(&show_level(r.settings.from, &r.dimension.unit)),
        esc(&show_level(r.settings.to, &r.dimension.unit)),
        r.settings.factor,
        r.settings.precision * 100.0,
        r.step_seconds,
        r.confirm_seconds,
        esc(&r.stop_reason)
    );
    if !r.fresh_target {
        b.push_str("<p class=\"warn\">The target kept its state between steps (no --fresh-target-command): later steps ran on a target still holding earlier steps' data; the table says which.</p>");
    }
    b.push_str("</section><h2>Steps</h2>");
    steps_table(&mut b, r);
    b.push_str("<h2>Each objective against the load</h2>");
    for (objective, points) in by_objective(r) {
        if let Some(svg) = chart(r, &objective, points) {
            b.push_str(&svg);
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lgtm-bench capacity: {name}</title><style>{}</style></head><body><h1>lgtm-bench capacity: {name}</h1>{b}<footer>lgtm-bench {}</footer></body></html>\n",
        crate::report::html::STYLE,
        esc(&r.tool.version),
        name = esc(&r.scenario_name)
    )
}

fn peak(s: &super::model::StepReport, target: &str) -> String {
    s.report.memory.get(target).and_then(|m| m.peak_bytes).map_or_else(|| "–".into(), |b| ByteSize(b as u64).to_string())
}

fn steps_table(b: &mut String, r: &CapacityReport) {
    let target = r.dimension.key.split('.').next().unwrap_or_default();
    b.push_str("<table id=\"steps\"><tr><th>step</th><th>why</th><th>level</th><th>verdict</th><th>what broke</th><th>memory peak</th><th>carries over</th><th>results</th></tr>");
    for s in &r.steps {
        let class = if s.judgement == Judgement::Pass { "pass" } else { "fail" };
        let what = if s.broken.is_empty() { s.generator_limited_by.join("; ") } else { s.broken.join("; ") };
        let _ = write!(
            b,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            s.index,
            s.kind.as_str(),
            esc(&show_level(s.level, &r.dimension.unit)),
            judgement_word(s.judgement),
            esc(&what),
            peak(s, target),
            esc(s.carry_over.as_deref().unwrap_or("")),
            esc(&s.results_file)
        );
    }
    b.push_str("</table>");
}

/// The Markdown summary (CI pages, pull requests).
pub fn markdown(r: &CapacityReport) -> String {
    let target = r.dimension.key.split('.').next().unwrap_or_default();
    let mut m = format!("# lgtm-bench capacity: {}\n\n**{}**\n\n", r.scenario_name, r.answer_text);
    if let Some(share) = r.share_of_capacity() {
        let _ = writeln!(m, "- {share}");
    }
    if let Some(s) = r.memory_sentence() {
        let _ = writeln!(m, "- {s}");
    }
    let _ = writeln!(m, "- searched `{}` ({}); stopped: {}", r.dimension.key, r.dimension.note, r.stop_reason);
    if !r.fresh_target {
        let _ = writeln!(m, "- the target kept its state between steps: see \"carries over\"");
    }
    m.push_str("\n| step | why | level | verdict | what broke | memory peak | carries over |\n|---|---|---|---|---|---|---|\n");
    for s in &r.steps {
        let what = if s.broken.is_empty() { s.generator_limited_by.join("; ") } else { s.broken.join("; ") };
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} |",
            s.index,
            s.kind.as_str(),
            show_level(s.level, &r.dimension.unit),
            judgement_word(s.judgement),
            what.replace('|', "\\|"),
            peak(s, target),
            s.carry_over.as_deref().unwrap_or("")
        );
    }
    m
}
