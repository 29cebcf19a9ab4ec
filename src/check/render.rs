//! The check results as a person and a CI system read them: a self-contained HTML page (the
//! criteria table with their evidence, no script) and JUnit XML (one test case per criterion,
//! SKIPPED as skipped). The terminal list and Markdown live with the model.

use super::model::{CheckReport, Status};
use crate::report::chart::esc;
use crate::report::junit::escape;
use std::fmt::Write;

pub fn html(r: &CheckReport) -> String {
    let verdict = if r.passed() { "pass" } else { "fail" };
    let mut b = format!(
        "<section class=\"verdict {verdict}\" id=\"verdict\"><h2>check: {}</h2><p>{} passed, {} failed, {} skipped ({}, {})</p></section><table id=\"criteria\"><tr><th>status</th><th>id</th><th>criterion</th><th>evidence</th></tr>",
        if r.passed() { "PASS" } else { "FAIL" },
        r.count(Status::Pass),
        r.count(Status::Fail),
        r.count(Status::Skipped),
        esc(&r.mode),
        esc(&r.started_at)
    );
    for c in &r.criteria {
        let class = match c.status {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
        };
        let mut facts: Vec<String> = c.reason.iter().map(|r| format!("<strong>{}</strong>", esc(r))).collect();
        facts.extend(c.evidence.iter().map(|e| esc(e)));
        let _ = write!(
            b,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.status.as_str(),
            esc(&c.id),
            esc(&c.title),
            facts.join("<br>")
        );
    }
    b.push_str("</table>");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lgtm-bench check: {name}</title><style>{}tr.skipped td{{color:#777}}</style></head><body><h1>lgtm-bench check: {name}</h1>{b}<footer>lgtm-bench {}</footer></body></html>\n",
        crate::report::html::STYLE,
        esc(&r.tool.version),
        name = esc(&r.scenario_name)
    )
}

pub fn junit(r: &CheckReport) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"lgtm-bench check\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        r.criteria.len(),
        r.count(Status::Fail),
        r.count(Status::Skipped)
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" timestamp=\"{}\">",
        escape(&r.scenario_name),
        r.criteria.len(),
        r.count(Status::Fail),
        r.count(Status::Skipped),
        escape(&r.started_at)
    );
    for c in &r.criteria {
        let _ = write!(x, "    <testcase classname=\"{}\" name=\"{}\">", escape(&c.id), escape(&c.title));
        let detail = escape(&c.evidence.join("\n"));
        match c.status {
            Status::Pass => {}
            Status::Fail => {
                let _ = write!(x, "<failure message=\"{}\">{detail}</failure>", escape(c.reason.as_deref().unwrap_or("failed")));
            }
            Status::Skipped => {
                let _ = write!(x, "<skipped message=\"{}\"/>", escape(c.reason.as_deref().unwrap_or("not configured")));
            }
        }
        if !c.evidence.is_empty() && c.status == Status::Pass {
            let _ = write!(x, "<system-out>{detail}</system-out>");
        }
        x.push_str("</testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
