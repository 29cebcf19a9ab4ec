//! Reports as a person and a CI system meet them: one real run against Prometheus writes the HTML,
//! Markdown and JUnit reports (`run --report DIR`); Debian's chromium opens the HTML headless with
//! networking off and finds every plot drawn and the verdict the results file holds; the JUnit file
//! has the shape CI systems read; the Markdown says what the results say.

mod support;

use lgtm_bench::report::Report;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lgtm-bench");

fn with_ext(dir: &Path, ext: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == ext))
        .unwrap_or_else(|| panic!("no .{ext} in {}", dir.display()))
}

#[test]
fn one_run_writes_all_three_reports_and_the_html_reads_right_offline() {
    let prom = support::prometheus::Prometheus::start();
    let dir = tempfile::tempdir().unwrap();
    let memory = format!("[mimir.memory]\nbudget = \"1.5Gi\"\ninterval = \"500ms\"\nmetrics_urls = [\"{}/metrics\"]\n", prom.base());
    // Written through the remote-write queue, whose figures get plots of their own.
    let memory = format!("{memory}[mimir.write.queue]\nmax_samples_per_send = 20\nbatch_send_deadline = \"200ms\"\n");
    let scenario = dir.path().join("s.toml");
    std::fs::write(&scenario, support::small_scenario("report", &prom.base(), &memory)).unwrap();
    let (out, reports) = (dir.path().join("results"), dir.path().join("reports"));
    let run = Command::new(BIN)
        .args(["run", scenario.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap(), "--report", reports.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let report: Report = lgtm_bench::report::json::read(&with_ext(&out, "json")).unwrap();
    let verdict = if report.passed() { "PASS" } else { "FAIL" };

    // HTML: self-contained, and as the browser renders it.
    let page = with_ext(&reports, "html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("src=") && !html.contains("<script") && !html.contains("@import"), "nothing is fetched at view time");
    assert!(html.matches("href=\"").count() == html.matches("href=\"#").count(), "links only within the page");
    charts_read_at_a_glance(&html);
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let (dom, log) = support::browser::chromium(&page, &shot);
    assert!(dom.contains(&format!("verdict: {verdict}")), "the verdict shown is the results file's ({verdict})");
    assert!(!log.contains("Uncaught") && !log.contains(":CONSOLE("), "console errors: {log}");
    // The plots, as the browser rendered them.
    let figure = |id: &str| -> &str {
        let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no plot {id}"));
        let rest = &dom[at..];
        &rest[..rest.find("</figure>").unwrap_or(rest.len())]
    };
    let points = regex::Regex::new(r#"points="([^"]*)""#).unwrap();
    let drawn = |id: &str| points.captures_iter(figure(id)).map(|c| c[1].split_whitespace().count()).max().unwrap_or(0);
    for path in ["mimir.write", "mimir.query", "mimir.query.sum", "mimir.visibility"] {
        assert!(drawn(&format!("latency-{path}")) >= 2, "{path}: latency over time has data points");
        assert!(drawn(&format!("spectrum-{path}")) >= 10, "{path}: percentile spectrum has data points");
    }
    // A latency point says its interval and how many calls it rests on.
    assert!(regex::Regex::new(r"<title>p99: [^<]+ at [^<]+ \(the interval from [0-9.]+ s, [0-9,]+ calls\)</title>")
        .unwrap()
        .is_match(figure("latency-mimir.write")));
    // The objective (p99 < 30 s) is far above loopback latencies: named at the edge, not squashing the data.
    assert!(
        figure("latency-mimir.write").contains("threshold-label offscale") && figure("latency-mimir.write").contains("off scale: 30 s"),
        "objective thresholds drawn"
    );
    assert!(drawn("memory-mimir") >= 2, "memory over time");
    // 1.5 GiB against a few tens of MiB: the budget is named at the edge.
    assert!(figure("memory-mimir").contains("budget 1.50Gi (off scale: 1.50 GiB"), "the budget drawn");
    assert!(drawn("throughput") >= 2, "throughput planned and achieved");
    for queue in ["queue-pending", "queue-lag", "queue-shards"] {
        assert!(drawn(queue) >= 2, "{queue}: the remote-write queue over time");
    }
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "a screenshot was taken: {}", shot.display());
    // At 1280 px the charts fill the content width (1280 less the page's 2 × 2em padding).
    let chart_width = support::browser::widest_run(&shot, [0xfa, 0xfa, 0xfa]);
    assert!(chart_width >= 1100, "the widest chart is {chart_width} px wide in a 1280 px window");

    // Two results files (a baseline and a run) are overlaid, one colour each.
    let results = with_ext(&out, "json");
    let both = dir.path().join("both.html");
    let overlay = Command::new(BIN).args(["report", results.to_str().unwrap(), results.to_str().unwrap(), "--html", both.to_str().unwrap()]).output().unwrap();
    assert_eq!(overlay.status.code(), Some(0), "{}", String::from_utf8_lossy(&overlay.stderr));
    let both = std::fs::read_to_string(&both).unwrap();
    for n in [1, 2] {
        assert!(both.contains(&format!("p99 ({n}: {})", report.run.id)), "run {n} is overlaid");
    }

    // JUnit: the shape CI systems read — testsuites > testsuite > testcase, counts that add up.
    let junit = std::fs::read_to_string(with_ext(&reports, "xml")).unwrap();
    let xml = roxmltree::Document::parse(&junit).unwrap();
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites.len(), 1);
    let cases: Vec<_> = suites[0].children().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), report.verdict.objectives.len());
    assert_eq!(suites[0].attribute("tests"), Some(cases.len().to_string().as_str()));
    let failed = cases.iter().filter(|c| c.children().any(|n| n.has_tag_name("failure"))).count();
    assert_eq!(failed, report.verdict.objectives.iter().filter(|o| !o.passed).count());
    assert_eq!(suites[0].attribute("failures"), Some(failed.to_string().as_str()));
    assert!(cases.iter().all(|c| c.attribute("name").is_some() && c.attribute("classname") == Some("objectives")));

    // Markdown: the verdict, every objective and every path with the results file's counts.
    let md = std::fs::read_to_string(with_ext(&reports, "md")).unwrap();
    assert!(md.contains(&format!("lgtm-bench `report`: {}", if report.passed() { "✅ PASS" } else { "❌ FAIL" })), "{md}");
    for o in &report.verdict.objectives {
        assert!(md.contains(&format!("`{}` | {} |", o.objective, o.observed_display)), "{}", o.objective);
    }
    for (name, p) in &report.paths {
        assert!(md.contains(&format!("| `{name}` | {} |", p.calls)), "{name}");
    }
    let q = &report.paths["mimir.queue"].counters;
    assert!(
        md.contains(&format!(
            "`mimir.queue` queue: up to {} shards ({} reshards), up to {} samples pending",
            q.queue_shards_max, q.queue_reshards, q.queue_pending_max
        )),
        "{md}"
    );
}

#[test]
fn the_report_command_refuses_nothing_to_write_and_unreadable_files() {
    let none = Command::new(BIN).args(["report", "nope.json"]).output().unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--html"));
    let missing = Command::new(BIN).args(["report", "nope.json", "--markdown", "/dev/null"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// A tick label's number in its unit (`1,500`, `20 ms`, `0.5 s`, `99%` → 1500, 20, 0.5, 99).
fn tick_number(label: &str) -> f64 {
    let number: String = label.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',' || *c == '-').filter(|c| *c != ',').collect();
    number.parse().unwrap_or_else(|_| panic!("tick label `{label}` has no number"))
}

fn is_one_two_five(v: f64) -> bool {
    let m = v / 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().any(|n| (m - n).abs() < 1e-6)
}

/// Every chart scales with the page, every point carries its value, and every axis ticks on 1-2-5
/// steps of its unit (decades, 2 and 5 on log axes).
fn charts_read_at_a_glance(html: &str) {
    let svgs: Vec<&str> = html.split("<svg ").skip(1).map(|s| &s[..s.find("</svg>").unwrap()]).collect();
    assert!(svgs.len() >= 10, "{} charts", svgs.len());
    let tick = regex::Regex::new(r#"<text class="tick" data-axis="(x|y)" data-scale="(linear|log)"[^>]*>([^<]*)</text>"#).unwrap();
    let titled = regex::Regex::new(r"<circle [^>]*><title>[^<]+</title></circle>").unwrap();
    for svg in &svgs {
        assert!(svg.starts_with("viewBox=") && svg.contains("width:100%"), "a chart that does not scale: {}", &svg[..80]);
        let circles = svg.matches("<circle ").count();
        assert!(circles > 0 && svg.matches("</circle>").count() == circles && titled.find_iter(svg).count() == circles, "every point has a title");
        for axis in ["x", "y"] {
            for scale in ["linear", "log"] {
                let values: Vec<(f64, String)> =
                    tick.captures_iter(svg).filter(|c| &c[1] == axis && &c[2] == scale).map(|c| (tick_number(&c[3]), c[3].to_string())).collect();
                if values.len() < 2 {
                    continue;
                }
                if scale == "log" {
                    assert!(values.iter().all(|(v, _)| is_one_two_five(*v)), "log ticks off decades/2/5: {values:?}");
                    continue;
                }
                // Within one unit, steps are equal and one of 1, 2 or 5 × 10ⁿ.
                let unit = |l: &str| l.trim_start_matches(|c: char| c.is_ascii_digit() || ".,- ".contains(c)).to_string();
                let same: Vec<&(f64, String)> = values.iter().filter(|(_, l)| unit(l) == unit(&values[1].1)).collect();
                let steps: Vec<f64> = same.windows(2).map(|w| w[1].0 - w[0].0).collect();
                assert!(
                    steps.iter().all(|s| (s - steps[0]).abs() < 1e-6 * steps[0].abs().max(1.0)) && is_one_two_five(steps[0]),
                    "{axis} ticks not on a 1-2-5 step: {values:?}"
                );
            }
        }
    }
}
