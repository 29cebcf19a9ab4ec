//! JUnit XML: one test case per objective (and per baseline check), failures carrying the observed
//! value, so CI systems show them natively.

use super::Report;
use std::fmt::Write;

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

struct Case {
    class: &'static str,
    name: String,
    failure: Option<String>,
}

fn cases(r: &Report) -> Vec<Case> {
    let mut out: Vec<Case> = r
        .verdict
        .objectives
        .iter()
        .map(|o| Case { class: "objectives", name: o.objective.clone(), failure: (!o.passed).then(|| format!("observed {}", o.observed_display)) })
        .collect();
    if let Some(c) = &r.baseline {
        out.extend(c.changes.iter().map(|ch| Case {
            class: "baseline",
            name: format!("{} {}", ch.path, ch.stat),
            failure: ch.regressed.then(|| format!("regressed: {}", ch.shown)),
        }));
        out.extend(c.missing.iter().map(|m| Case { class: "baseline", name: format!("{m} measured"), failure: Some("not measured in this run".into()) }));
    }
    out
}

pub fn render(reports: &[Report]) -> String {
    let suites: Vec<(&Report, Vec<Case>)> = reports.iter().map(|r| (r, cases(r))).collect();
    let tests: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites.iter().map(|(_, c)| c.iter().filter(|c| c.failure.is_some()).count()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"lgtm-bench\" tests=\"{tests}\" failures=\"{failures}\">");
    for (r, cases) in &suites {
        let failed = cases.iter().filter(|c| c.failure.is_some()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" time=\"{:.3}\" timestamp=\"{}\">",
            escape(&format!("{} ({})", r.run.scenario_name, r.run.id)),
            cases.len(),
            r.run.measured_seconds,
            escape(&r.run.started_at)
        );
        for c in cases {
            let head = format!("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"", c.class, escape(&c.name));
            match &c.failure {
                None => {
                    let _ = writeln!(out, "{head}/>");
                }
                Some(why) => {
                    let _ =
                        writeln!(out, "{head}>\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>", escape(why), c.class, escape(why));
                }
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}
