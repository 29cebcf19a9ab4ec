//! The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched at view
//! time) that a person reads and a CI job attaches. The verdict and every objective with its margin;
//! per path latency over time (p50, p99, max per interval, warm-up shaded); the percentile spectrum
//! with the objectives' thresholds; error classes over time; memory over time against the budget,
//! restarts marked; write throughput planned and achieved; the resolved scenario. Several results
//! files are overlaid, one colour each.

use super::axis::Unit;
use super::chart::{esc, Chart, Dash, Series};
use super::Report;
use crate::stats::histogram::Latency;
use crate::units::{fmt_micros, ByteSize};
use crate::verdict::{Objective, Stat};
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use super::chart::PALETTE as COLOURS;
/// Which figure of a point a line draws.
type PointValue = fn(&Point) -> f64;

/// One interval of one path: its start and latency percentiles.
struct Point {
    at: f64,
    p50: f64,
    p99: f64,
    max: f64,
    /// Successful calls in the interval.
    count: u64,
}

/// The per-interval percentiles of a report by tag, from its interval log (`dir` holds it), and of
/// each group (`mimir.query`) as the merge of its members. The log is read interval by interval,
/// so only one interval's histograms are held at a time, however long the run.
fn interval_points(r: &Report, dir: &Path) -> BTreeMap<String, Vec<Point>> {
    let mut out: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    let Some(log) = r.intervals.as_ref().and_then(|i| i.log.as_ref()) else { return out };
    let Ok(bytes) = std::fs::read(dir.join(log)) else { return out };
    let groups: Vec<&String> = r.paths.keys().filter(|g| r.is_group(g)).collect();
    let mut de = Deserializer::new();
    let mut block: Option<(f64, BTreeMap<String, Latency>)> = None;
    for entry in IntervalLogIterator::new(&bytes).flatten() {
        let LogEntry::Interval(h) = entry else { continue };
        let Ok(raw) = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, h.encoded_histogram()) else { continue };
        let Ok(histogram) = de.deserialize::<u64, _>(&mut raw.as_slice()) else { continue };
        let at = h.start_timestamp().as_secs_f64();
        if block.as_ref().is_some_and(|(start, _)| (*start - at).abs() > 1e-6) {
            finish(block.take(), &groups, &mut out);
        }
        let (_, tags) = block.get_or_insert_with(|| (at, BTreeMap::new()));
        let tag = h.tag().map(|t| t.as_str().to_string()).unwrap_or_default();
        match tags.get_mut(&tag) {
            Some(existing) => crate::stats::histogram::add(existing, &histogram),
            None => {
                tags.insert(tag, histogram);
            }
        }
    }
    finish(block, &groups, &mut out);
    for list in out.values_mut() {
        list.sort_by(|a, b| a.at.total_cmp(&b.at));
    }
    out
}

/// Turns one interval's histograms into points, its groups' too.
fn finish(block: Option<(f64, BTreeMap<String, Latency>)>, groups: &[&String], out: &mut BTreeMap<String, Vec<Point>>) {
    let Some((at, tags)) = block else { return };
    let point = |h: &Latency| Point { at, p50: h.value_at_quantile(0.5) as f64, p99: h.value_at_quantile(0.99) as f64, max: h.max() as f64, count: h.len() };
    for group in groups {
        let prefix = format!("{group}.");
        let mut merged = crate::stats::histogram::new_latency();
        for (_, h) in tags.iter().filter(|(t, _)| t.starts_with(&prefix) && !t.contains('/')) {
            crate::stats::histogram::add(&mut merged, h);
        }
        if !merged.is_empty() {
            out.entry(group.to_string()).or_default().push(point(&merged));
        }
    }
    for (tag, h) in tags.iter().filter(|(_, h)| !h.is_empty()) {
        out.entry(tag.clone()).or_default().push(point(h));
    }
}

/// The report of one or more runs (`dirs[i]` holds the interval log of `reports[i]`).
pub fn render(reports: &[Report], dirs: &[&Path]) -> String {
    let title = reports.iter().map(|r| r.run.scenario_name.as_str()).collect::<Vec<_>>().join(" vs ");
    let page = Page::new(reports, dirs);
    let mut body = String::new();
    for (i, r) in reports.iter().enumerate() {
        verdict_section(&mut body, r, &page.label(i, r));
    }
    for r in reports {
        if let Some(c) = &r.baseline {
            comparison_section(&mut body, c);
        }
    }
    page.latency_over_time(&mut body);
    page.spectrum(&mut body);
    page.errors_and_throughput(&mut body);
    page.queues(&mut body);
    page.memory(&mut body);
    page.scenario(&mut body);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lgtm-bench: {}</title><style>{}</style></head><body><h1>lgtm-bench: {}</h1>{body}<footer>lgtm-bench {}</footer></body></html>\n",
        esc(&title),
        STYLE,
        esc(&title),
        esc(reports.first().map_or("", |r| r.tool.version.as_str()))
    )
}

/// The runs being reported, their interval histograms and the paths they measured.
struct Page<'a> {
    reports: &'a [Report],
    logs: Vec<BTreeMap<String, Vec<Point>>>,
    paths: Vec<String>,
}

impl<'a> Page<'a> {
    fn new(reports: &'a [Report], dirs: &[&Path]) -> Page<'a> {
        let logs = reports.iter().zip(dirs).map(|(r, d)| interval_points(r, d)).collect();
        let mut paths: Vec<String> = reports.iter().flat_map(|r| r.paths.keys().cloned()).filter(|p| !p.ends_with(".memory.scrape")).collect();
        paths.sort();
        paths.dedup();
        Page { reports, logs, paths }
    }

    /// Which run a line belongs to, when several are overlaid.
    fn label(&self, i: usize, r: &Report) -> String {
        if self.reports.len() > 1 {
            format!(" ({}: {})", i + 1, r.run.id)
        } else {
            String::new()
        }
    }

    /// One figure per target: the p99 of each of its top-level paths (write, delivery, the query
    /// group, read-back) over time, so they read against each other; the paths' own charts follow.
    fn overview(&self, out: &mut String) {
        let top: Vec<&String> = self.paths.iter().filter(|p| p.matches('.').count() == 1).collect();
        let targets: std::collections::BTreeSet<&str> = top.iter().map(|p| crate::stats::paths::target_of(p)).collect();
        for target in targets {
            let mut chart = Chart {
                id: format!("overview-{target}"),
                title: format!("{target}: p99 of every path per interval"),
                x_label: "seconds since the plan started".into(),
                y_label: "p99".into(),
                log_y: true,
                x_unit: Unit::Seconds,
                y_unit: Unit::Micros,
                ..Default::default()
            };
            let mut k = 0;
            for path in top.iter().filter(|p| p.starts_with(&format!("{target}."))) {
                for (i, (r, log)) in self.reports.iter().zip(&self.logs).enumerate() {
                    let Some(list) = log.get(path.as_str()) else { continue };
                    let half = r.intervals.as_ref().map_or(0.0, |x| x.seconds) / 2.0;
                    let dash = [Dash::Solid, Dash::Dashed, Dash::Dotted][i % 3];
                    chart.series.push(Series {
                        name: format!("{path}{}", self.label(i, r)),
                        colour: COLOURS[k % COLOURS.len()],
                        points: list.iter().map(|p| (p.at + half, p.p99)).collect(),
                        dash,
                        notes: Vec::new(),
                    });
                }
                k += 1;
            }
            out.push_str(&chart.svg());
        }
    }

    fn latency_over_time(&self, out: &mut String) {
        out.push_str("<h2>Latency over time</h2><p>p50, p99 and max per interval, from the intended send (log scale); warm-up and ramp shaded. Hover a point for its value. First each target's paths together, then each path on its own.</p>");
        self.overview(out);
        for path in &self.paths {
            let mut chart = Chart {
                id: format!("latency-{path}"),
                title: format!("{path}: latency per interval"),
                x_label: "seconds since the plan started".into(),
                y_label: "latency".into(),
                log_y: true,
                x_unit: Unit::Seconds,
                y_unit: Unit::Micros,
                ..Default::default()
            };
            let several = self.reports.len() > 1;
            for (i, (r, log)) in self.reports.iter().zip(&self.logs).enumerate() {
                let intervals = r.intervals.as_ref().map_or(0.0, |x| x.seconds);
                let list = log.get(path).map_or(&[][..], Vec::as_slice);
                let stats: [(&str, PointValue, Dash); 3] =
                    [("p50", |p| p.p50, Dash::Dashed), ("p99", |p| p.p99, Dash::Solid), ("max", |p| p.max, Dash::Dotted)];
                // One run: a colour per statistic; several runs: a colour per run. The dash tells the
                // statistic either way, and max is drawn last so that it shows where it meets p99.
                for (k, (stat, value, dash)) in stats.into_iter().enumerate() {
                    let colour = COLOURS[if several { i } else { k } % COLOURS.len()];
                    let points = list.iter().map(|p| (p.at + intervals / 2.0, value(p))).collect();
                    let notes =
                        list.iter().map(|p| format!("the interval from {} s, {} calls", p.at, crate::report::axis::separated(p.count as f64, 0))).collect();
                    chart.series.push(Series { name: format!("{stat}{}", self.label(i, r)), colour, points, dash, notes });
                }
                if i == 0 && r.run.warmup_seconds > 0.0 {
                    chart.shaded.push((0.0, r.run.warmup_seconds, "warm-up (not measured)".into()));
                }
                let ramp = ramp_seconds(r);
                if i == 0 && ramp > 0.0 {
                    chart.shaded.push((r.run.warmup_seconds, r.run.warmup_seconds + ramp, "ramp (measured)".into()));
                }
            }
            thresholds(&mut chart, self.reports, path, |s| matches!(s, Stat::Latency { .. }));
            out.push_str(&chart.svg());
        }
    }

    fn spectrum(&self, out: &mut String) {
        out.push_str("<h2>Percentile spectrum</h2><p>Latency by percentile over the whole run (log scale), objectives drawn.</p>");
        for path in &self.paths {
            let ticks = vec![(0.0, "0%".into()), (1.0, "90%".into()), (2.0, "99%".into()), (3.0, "99.9%".into()), (4.0, "99.99%".into())];
            let mut chart = Chart {
                id: format!("spectrum-{path}"),
                title: format!("{path}: latency by percentile"),
                x_label: "percentile".into(),
                y_label: "latency".into(),
                log_y: true,
                y_unit: Unit::Micros,
                x_ticks: Some(ticks),
                ..Default::default()
            };
            for (i, r) in self.reports.iter().enumerate() {
                let Some(h) = r.paths.get(path).and_then(|p| p.latency.decode().ok()).filter(|h| !h.is_empty()) else { continue };
                let points = (0..=80)
                    .map(|k| 1.0 - 10f64.powf(-(k as f64) / 20.0))
                    .map(|q| (-(1.0 - q).max(1e-4).log10(), h.value_at_quantile(q.min(0.9999)) as f64))
                    .collect();
                chart.series.push(Series {
                    name: format!("latency{}", self.label(i, r)),
                    colour: COLOURS[i % COLOURS.len()],
                    points,
                    dash: Dash::Solid,
                    notes: Vec::new(),
                });
            }
            thresholds(&mut chart, self.reports, path, |s| matches!(s, Stat::Latency { .. }));
            out.push_str(&chart.svg());
        }
    }

    fn errors_and_throughput(&self, out: &mut String) {
        out.push_str("<h2>Errors over time</h2>");
        let mut errors = Chart {
            id: "errors".into(),
            title: "failed calls per interval, by class".into(),
            x_label: "seconds since the plan started".into(),
            y_label: "calls".into(),
            x_unit: Unit::Seconds,
            y_unit: Unit::Count,
            empty: Some("no errors: every call measured succeeded".into()),
            ..Default::default()
        };
        let mut throughput = Chart {
            id: "throughput".into(),
            title: "write throughput: achieved per interval and planned".into(),
            x_label: "seconds since the plan started".into(),
            y_label: "calls/s".into(),
            x_unit: Unit::Seconds,
            ..Default::default()
        };
        let mut colour = 0;
        for (i, r) in self.reports.iter().enumerate() {
            let Some(iv) = &r.intervals else { continue };
            let classes: std::collections::BTreeSet<&String> =
                iv.counts.iter().flat_map(|c| c.paths.values()).flat_map(|p| p.outcomes.keys()).filter(|c| *c != "success").collect();
            for class in classes {
                let points =
                    iv.counts.iter().map(|c| (c.start_s, c.paths.values().map(|p| p.outcomes.get(class).copied().unwrap_or(0)).sum::<u64>() as f64)).collect();
                errors.series.push(Series {
                    name: format!("{class}{}", self.label(i, r)),
                    colour: COLOURS[colour % COLOURS.len()],
                    points,
                    dash: Dash::Solid,
                    notes: Vec::new(),
                });
                colour += 1;
            }
            // The open-loop write plan: the write path's calls, or a sending queue's scrape ticks.
            for (path, p) in r.paths.iter().filter(|(n, p)| (n.ends_with(".write") || n.ends_with(".queue")) && p.planned_calls.is_some()) {
                // Each interval's calls over that interval's own length within the measured window:
                // the last interval of a run is usually partial.
                let end = r.run.warmup_seconds + r.run.measured_seconds;
                let points = iv
                    .counts
                    .iter()
                    .filter(|c| c.start_s < end)
                    .map(|c| {
                        let length = ((c.start_s + iv.seconds).min(end) - c.start_s).max(1e-9);
                        (c.start_s + length / 2.0, c.paths.get(path).map_or(0, |p| p.calls) as f64 / length)
                    })
                    .collect();
                let c = COLOURS[(i * 2) % COLOURS.len()];
                throughput.series.push(Series {
                    name: format!("{path} achieved{}", self.label(i, r)),
                    colour: c,
                    points,
                    dash: Dash::Solid,
                    notes: Vec::new(),
                });
                if let (Some(planned), true) = (p.planned_calls, r.run.planned_measured_seconds > 0.0) {
                    // The plan's own shape: a linear ramp from zero, then the steady rate. (Its
                    // average over ramp and steady is below the steady rate that the intervals reach.)
                    let (w, ramp) = (r.run.warmup_seconds, ramp_seconds(r));
                    let steady = (r.run.planned_measured_seconds - ramp).max(0.0);
                    let rate = planned as f64 / (ramp / 2.0 + steady).max(1e-9);
                    let points = if ramp > 0.0 { vec![(w, 0.0), (w + ramp, rate), (w + ramp + steady, rate)] } else { vec![(w, rate), (w + steady, rate)] };
                    throughput.series.push(Series {
                        name: format!("{path} planned{}", self.label(i, r)),
                        colour: c,
                        points,
                        dash: Dash::Dashed,
                        notes: Vec::new(),
                    });
                }
            }
        }
        out.push_str(&errors.svg());
        out.push_str("<h2>Write throughput</h2>");
        out.push_str(&throughput.svg());
    }

    /// A sending queue's figures per interval (the remote-write queue): samples pending, lag, shards.
    fn queues(&self, out: &mut String) {
        let queued: Vec<(usize, &String)> = self
            .reports
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.paths.iter().filter(|(_, p)| p.counters.queue_shards_max > 0).map(move |(n, _)| (i, n)))
            .collect();
        if queued.is_empty() {
            return;
        }
        out.push_str("<h2>Remote-write queue</h2><p>Per results interval, the most at any moment: samples pending in the shards, the lag of the newest acknowledged sample behind the newest scraped, and the shards running.</p>");
        type Pick = fn(&crate::stats::Counters) -> f64;
        type QueueChart = (&'static str, &'static str, &'static str, Pick, Unit);
        let charts: [QueueChart; 3] = [
            ("queue-pending", "samples pending", "samples", |c| c.queue_pending_max as f64, Unit::Count),
            ("queue-lag", "remote-write lag", "lag", |c| c.queue_lag_max_ms as f64 * 1000.0, Unit::Micros),
            ("queue-shards", "shards", "shards", |c| c.queue_shards_max as f64, Unit::Count),
        ];
        for (id, title, label, pick, unit) in charts {
            let mut chart = Chart {
                id: id.into(),
                title: title.into(),
                x_label: "seconds since the plan started".into(),
                y_label: label.into(),
                x_unit: Unit::Seconds,
                y_unit: unit,
                ..Default::default()
            };
            for (k, &(i, path)) in queued.iter().enumerate() {
                let r = &self.reports[i];
                let Some(iv) = &r.intervals else { continue };
                let points = iv
                    .counts
                    .iter()
                    .filter_map(|c| c.paths.get(path).filter(|p| p.counters.queue_shards_max > 0).map(|p| (c.start_s, pick(&p.counters))))
                    .collect();
                chart.series.push(Series {
                    name: format!("{path}{}", self.label(i, r)),
                    colour: COLOURS[k % COLOURS.len()],
                    points,
                    dash: Dash::Solid,
                    notes: Vec::new(),
                });
            }
            out.push_str(&chart.svg());
        }
    }

    fn memory(&self, out: &mut String) {
        out.push_str("<h2>Memory</h2><p>The figure each budget is checked against, over the run; restarts marked.</p>");
        let targets: std::collections::BTreeSet<&String> = self.reports.iter().flat_map(|r| r.memory.keys()).collect();
        for target in targets {
            let mut chart = Chart {
                id: format!("memory-{target}"),
                title: format!("{target}: memory"),
                x_label: "seconds since the plan started".into(),
                y_label: "bytes".into(),
                x_unit: Unit::Seconds,
                y_unit: Unit::Bytes,
                ..Default::default()
            };
            for (i, r) in self.reports.iter().enumerate() {
                let Some(m) = r.memory.get(target) else { continue };
                let mut by_source: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
                for s in m.samples.iter().filter(|s| s.kind == m.checked) {
                    by_source.entry(&s.source).or_default().push((s.at_seconds, s.bytes));
                }
                for (k, (source, points)) in by_source.into_iter().enumerate() {
                    chart.series.push(Series {
                        name: format!("{source}{}", self.label(i, r)),
                        colour: COLOURS[(i + k) % COLOURS.len()],
                        points,
                        dash: Dash::Solid,
                        notes: Vec::new(),
                    });
                }
                if let Some(b) = m.budget_bytes {
                    chart.thresholds.push((b as f64, format!("budget {}", ByteSize(b))));
                }
                for restart in &m.restarts {
                    chart.marks.push((restart.at_seconds, format!("restart: {} ({})", restart.source, restart.detail)));
                }
            }
            out.push_str(&chart.svg());
        }
    }

    fn scenario(&self, out: &mut String) {
        out.push_str("<h2>Scenario as run</h2>");
        for (i, r) in self.reports.iter().enumerate() {
            let _ = write!(
                out,
                "<details{}><summary>{}{}</summary><pre>{}</pre></details>",
                if i == 0 { " open" } else { "" },
                esc(&r.run.scenario_file),
                esc(&self.label(i, r)),
                esc(&as_toml(&r.scenario))
            );
        }
    }
}

/// The comparison with the baseline runs: one row per statistic, each run-level change drawn as
/// its 95% interval on a common scale (-50% … +100%) with zero, the tolerance and the baseline
/// runs' own spread marked, so a regression reads at a glance.
fn comparison_section(out: &mut String, c: &super::compare::Comparison) {
    let runs = if c.baseline_runs.len() > 1 { format!("{} baseline runs", c.baseline_runs.len()) } else { format!("baseline run {}", c.baseline_run) };
    let verdict = match (c.comparable, c.regressed) {
        (false, _) => "not comparable (see the warnings)",
        (true, true) => "REGRESSION",
        (true, false) => "no regression",
    };
    let _ = write!(
        out,
        "<section id=\"baseline\"><h2>Compared with {}: {}</h2><p>Latency judged on runs (tolerance {:.0}%): the bar is the change with its 95% interval, the grey band the baseline runs' own spread, the red line the tolerance.</p>",
        esc(&runs),
        verdict,
        c.tolerance.latency * 100.0
    );
    for w in &c.warnings {
        let _ = write!(out, "<p class=\"warn\">{}</p>", esc(w));
    }
    out.push_str("<table class=\"changes\"><tr><th></th><th>path</th><th>statistic</th><th>change</th><th>−50% … 0 … +100%</th></tr>");
    let pos = |v: f64| (v.clamp(-0.5, 1.0) + 0.5) / 1.5 * 100.0;
    for ch in &c.changes {
        let mark = if ch.regressed { "REGRESSED" } else { ch.assessment.as_str() };
        let bar = match (ch.change, ch.spread) {
            (Some([est, lo, hi]), spread) => {
                let spread = spread.unwrap_or(0.0);
                format!(
                    "<span class=\"interval\" title=\"{:+.0}% [{:+.0}%, {:+.0}%]\"><b style=\"left:{:.1}%;width:{:.1}%\"></b><u style=\"left:{:.1}%;width:{:.1}%\"></u><em style=\"left:{:.1}%\"></em><i style=\"left:{:.1}%\"></i><s style=\"left:{:.1}%\"></s></span>",
                    est * 100.0,
                    lo * 100.0,
                    hi * 100.0,
                    pos(-spread),
                    pos(spread) - pos(-spread),
                    pos(lo),
                    (pos(hi) - pos(lo)).max(0.5),
                    pos(est),
                    pos(0.0),
                    pos(c.tolerance.latency)
                )
            }
            _ => String::new(),
        };
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{bar}</td></tr>",
            if ch.regressed { "fail" } else { "pass" },
            esc(mark),
            esc(&ch.path),
            esc(&ch.stat),
            esc(&ch.shown)
        );
    }
    out.push_str("</table></section>");
}

/// The measured ramp's length, as the scenario ran it.
fn ramp_seconds(r: &Report) -> f64 {
    r.scenario["run"]["ramp"].as_str().and_then(|t| t.parse::<crate::units::Dur>().ok()).map_or(0.0, |d| d.get().as_secs_f64())
}

/// The scenario as the TOML it was written in (defaults filled in, secrets redacted); JSON if it
/// cannot be written as TOML.
fn as_toml(scenario: &serde_json::Value) -> String {
    fn without_nulls(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                serde_json::Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(without_nulls).collect()),
            other => other.clone(),
        }
    }
    toml::to_string_pretty(&without_nulls(scenario)).unwrap_or_else(|_| serde_json::to_string_pretty(scenario).unwrap_or_default())
}

/// Draws the thresholds of the objectives on `path` whose statistic `wanted` accepts.
fn thresholds(chart: &mut Chart, reports: &[Report], path: &str, wanted: fn(Stat) -> bool) {
    for r in reports.iter().take(1) {
        for o in r.verdict.objectives.iter().filter_map(|o| Objective::parse(&o.objective).ok()) {
            if o.subject == path && wanted(o.stat) {
                chart.thresholds.push((o.threshold, o.text.clone()));
            }
        }
    }
}

fn verdict_section(out: &mut String, r: &Report, label: &str) {
    let passed = r.passed();
    let _ = write!(
        out,
        "<section class=\"verdict {}\"><h2 id=\"verdict\">verdict: {}{}</h2><p>{} — run {}, measured {:.1}s of {:.1}s planned{}; started {}.</p>",
        if passed { "pass" } else { "fail" },
        if passed { "PASS" } else { "FAIL" },
        esc(label),
        esc(&r.run.scenario_name),
        esc(&r.run.id),
        r.run.measured_seconds,
        r.run.planned_measured_seconds,
        if r.run.interrupted { format!(" (INTERRUPTED: {})", esc(&r.run.stop_reason)) } else { String::new() },
        esc(&r.run.started_at)
    );
    // One look: every objective as a bar of observed against its threshold, failed ones first,
    // each linked to the chart that shows it.
    out.push_str("<table class=\"objectives\"><tr><th></th><th>objective</th><th>observed</th><th>against the threshold</th><th>margin</th></tr>");
    let mut objectives: Vec<_> = r.verdict.objectives.iter().collect();
    objectives.sort_by_key(|o| o.passed);
    for o in objectives {
        let parsed = Objective::parse(&o.objective).ok();
        let margin = match (&parsed, o.observed) {
            (Some(obj), Some(v)) if obj.threshold > 0.0 => format!("{:+.0}%", (obj.threshold - v) / obj.threshold * 100.0),
            (Some(_), Some(v)) => format!("{v}"),
            _ => "-".into(),
        };
        let fill = match (&parsed, o.observed) {
            (Some(obj), Some(v)) if obj.threshold > 0.0 => (v / obj.threshold).clamp(0.0, 1.5),
            (_, Some(v)) if v > 0.0 => 1.5,
            _ => 0.0,
        };
        let bar = format!(
            "<span class=\"bar\" title=\"{} of the threshold\"><span style=\"width:{:.1}%\"></span><i></i></span>",
            if fill >= 1.5 { "150% or more".to_string() } else { format!("{:.0}%", fill * 100.0) },
            fill / 1.5 * 100.0
        );
        let link = parsed.as_ref().map_or(String::new(), |obj| {
            let chart = if obj.subject.ends_with(".memory") {
                format!("memory-{}", obj.subject.trim_end_matches(".memory"))
            } else {
                format!("latency-{}", obj.subject)
            };
            format!("#{chart}")
        });
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td><a href=\"{}\"><code>{}</code></a></td><td>{}</td><td>{bar}</td><td>{}</td></tr>",
            if o.passed { "pass" } else { "fail" },
            if o.passed { "PASS" } else { "FAIL" },
            esc(&link),
            esc(&o.objective),
            esc(&o.observed_display),
            margin
        );
    }
    out.push_str("</table>");
    if let Some(g) = &r.generator {
        for (title, whys) in [
            ("Target did not keep up (a failure of the target):", &g.target_fell_behind),
            ("Host busy (other processes saturated the machine; these figures are not trustworthy):", &g.host_busy),
            ("Generator-limited (the target is not blamed for these):", &g.limited_by),
        ] {
            if !whys.is_empty() {
                let _ = write!(out, "<p class=\"warn\">{}</p><ul>", esc(title));
                for why in whys {
                    let _ = write!(out, "<li>{}</li>", esc(why));
                }
                out.push_str("</ul>");
            }
        }
    }
    let examples: Vec<(&String, &crate::stats::recorder::Example)> = r.paths.iter().flat_map(|(name, p)| p.examples.iter().map(move |e| (name, e))).collect();
    for (parent, parts) in super::parts::slowest(r, 5) {
        let _ = write!(out, "<details open class=\"slowest\"><summary>Slowest parts of <code>{}</code> (p99 from each call's planned start)</summary><table><tr><th>part</th><th>p99</th><th>asks</th></tr>", esc(&parent));
        for (name, p) in parts {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&name),
                p.latency.p99_us.map_or("-".into(), crate::units::fmt_micros),
                esc(p.asks.as_deref().unwrap_or_default())
            );
        }
        out.push_str("</table></details>");
    }
    for (query, found) in super::recheck::findings(r) {
        let _ = write!(out, "<p class=\"recheck\"><code>{}</code> misses: {}</p>", esc(&query), esc(&found));
    }
    if !examples.is_empty() {
        out.push_str("<details open id=\"examples\"><summary>Errors and misses, with examples (the first of each class): what was asked, what came back</summary><table><tr><th>path</th><th>class</th><th>at</th><th>asked</th><th>answer</th></tr>");
        for (name, e) in examples {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{:.1} s</td><td>{}</td><td>{}</td></tr>",
                esc(name),
                esc(&e.class),
                e.at_s,
                esc(&e.key),
                esc(&e.answer)
            );
        }
        out.push_str("</table></details>");
    }
    out.push_str("<table><tr><th>path</th><th>calls</th><th>rate</th><th>errors</th><th>p50</th><th>p99</th><th>max</th></tr>");
    let us = |v: Option<u64>| v.map_or("-".into(), fmt_micros);
    for (name, p) in &r.paths {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            p.calls,
            p.achieved_rate.map_or("-".into(), |v| format!("{v:.1}/s")),
            p.error_ratio.map_or("-".into(), |e| format!("{:.2}%", e * 100.0)),
            us(p.latency.p50_us),
            us(p.latency.p99_us),
            us(p.latency.max_us)
        );
    }
    out.push_str("</table></section>");
}

pub(crate) const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;padding:0 2em;max-width:1400px;color:#222}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}tr.fail td{background:#fde8e8}tr.pass td:first-child{color:#1a7f37}\
section.verdict.pass h2{color:#1a7f37}.interval{display:inline-block;position:relative;width:220px;height:12px;background:#f3f3f3}.interval *{position:absolute;top:0;bottom:0}.interval b{background:#ddd}.interval u{background:#0072B2;top:3px;bottom:3px}tr.fail .interval u{background:#c62828}.interval em{border-left:2px solid #000}.interval i{border-left:1px solid #666}.interval s{border-left:1px dashed #c62828}.bar{display:inline-block;position:relative;width:160px;height:10px;background:#eee}.bar span{position:absolute;left:0;top:0;bottom:0;background:#1a7f37}tr.fail .bar span{background:#c62828}.bar i{position:absolute;left:66.7%;top:-2px;bottom:-2px;border-left:2px solid #333}section.verdict.fail h2{color:#c62828}.warn{color:#a15c00;font-weight:600}\
figure{margin:1em 0}figcaption{font-weight:600}svg{display:block;width:100%;height:auto;background:#fafafa;border:1px solid #eee}.axis{stroke:#888}.grid{stroke:#e6e6e6}.tick{font-size:11px;fill:#555}.offscale{font-style:italic}.label{font-size:11px;fill:#333}\
.series{stroke-width:1.8}circle:hover{r:5}.threshold{stroke:#c62828;stroke-dasharray:4 3}.threshold-label{fill:#c62828}.mark{stroke:#a15c00;stroke-width:2}.shade{fill:#e8eef7}\
.legend span{margin-right:1em;font-size:12px}.legend i{display:inline-block;width:16px;height:0;margin-right:4px;vertical-align:middle}.empty{color:#888}pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:12px}footer{margin-top:2em;color:#888;font-size:12px}";
