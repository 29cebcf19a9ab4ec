//! Checks of the sections every target shares (run, connection, memory, query load), used by each
//! target's own validation. Every problem is collected (never just the first), each naming its
//! key, the bad value and the fix.

use super::{Auth, Connection, MemorySection, Problem, QueryLoad, RunSection};
use crate::client::http::check_url;
use std::time::Duration;

pub fn positive(out: &mut Vec<Problem>, key: &str, d: Duration, fix: &str) {
    if d.is_zero() {
        out.push(Problem::new(key, format!("must be longer than 0s; {fix}")));
    }
}

pub fn run(r: &RunSection, out: &mut Vec<Problem>) {
    if r.name.is_empty() || !r.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        out.push(Problem::new("run.name", format!("`{}` must be letters, digits, - or _ (it names the results file)", r.name)));
    }
    positive(out, "run.duration", r.duration.get(), "set how long to hold the planned rate, e.g. \"60s\"");
    if r.progress_interval.get() < Duration::from_millis(100) {
        out.push(Problem::new("run.progress_interval", format!("{} is too short; use at least \"100ms\"", r.progress_interval)));
    }
    if let Some(i) = r.results_interval.filter(|i| i.get() < Duration::from_millis(100)) {
        out.push(Problem::new("run.results_interval", format!("{i} is too short; use at least \"100ms\"")));
    }
}

pub fn rate_ok(out: &mut Vec<Problem>, key: &str, rate: f64) {
    if !(rate.is_finite() && rate > 0.0) {
        out.push(Problem::new(key, format!("{rate} is not a rate; use a positive number per second, e.g. 50")));
    }
}

/// Each `(key, url)` must be an absolute http(s) URL.
pub fn urls<'a>(out: &mut Vec<Problem>, urls: impl IntoIterator<Item = (&'a str, &'a String)>) {
    for (key, url) in urls {
        if let Err(e) = check_url(url) {
            out.push(Problem::new(key, e.to_string()));
        }
    }
}

pub fn memory(prefix: &str, m: &MemorySection, out: &mut Vec<Problem>) {
    if m.budget.0 == 0 {
        out.push(Problem::new(format!("{prefix}.budget"), "must be more than 0; write it like \"1Gi\" or \"1536Mi\""));
    }
    positive(out, &format!("{prefix}.interval"), m.interval.get(), "e.g. \"5s\"");
    if m.metrics_urls.is_empty() && m.cluster.is_none() {
        out.push(Problem::new(prefix, "nothing to read memory from: add metrics_urls (the target's /metrics) and/or [..memory.cluster]"));
    }
    for (i, url) in m.metrics_urls.iter().enumerate() {
        if let Err(e) = check_url(url) {
            out.push(Problem::new(format!("{prefix}.metrics_urls.{i}"), e.to_string()));
        }
    }
    if let Some(c) = &m.cluster {
        if let Err(e) = check_url(&c.query_url) {
            out.push(Problem::new(format!("{prefix}.cluster.query_url"), e.to_string()));
        }
        if c.pod_regex.trim().is_empty() {
            out.push(Problem::new(format!("{prefix}.cluster.pod_regex"), "give the target's pod names as a regular expression, e.g. \"mimir-.*\""));
        }
        connection(&format!("{prefix}.cluster.connection"), &c.connection, out);
    }
}

pub fn connection(prefix: &str, c: &Connection, out: &mut Vec<Problem>) {
    positive(out, &format!("{prefix}.timeout"), c.timeout.get(), "e.g. \"10s\"");
    positive(out, &format!("{prefix}.connect_timeout"), c.connect_timeout.get(), "e.g. \"3s\"");
    let envs: Vec<&String> = match &c.auth {
        Some(Auth::Basic { username_env, password_env }) => vec![username_env, password_env],
        Some(Auth::Bearer { token_env }) => vec![token_env],
        None => vec![],
    };
    for var in envs {
        if std::env::var_os(var).is_none() {
            out.push(Problem::new(format!("{prefix}.auth"), format!("environment variable {var} is not set; export it before the run")));
        }
    }
    if let Some(ca) = &c.tls.ca_file {
        if !std::path::Path::new(ca).is_file() {
            out.push(Problem::new(format!("{prefix}.tls.ca_file"), format!("`{ca}` is not a readable file; give the path of a PEM CA certificate")));
        }
    }
    for name in c.headers.keys() {
        if http::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            out.push(Problem::new(format!("{prefix}.headers"), format!("`{name}` is not a valid header name")));
        }
    }
}

/// `[<target>.query_load]`: exactly one of concurrency or rate, and queries to run.
pub fn query_load(target: &str, load: Option<&QueryLoad>, has_queries: bool, out: &mut Vec<Problem>) {
    let Some(load) = load else { return };
    let key = format!("{target}.query_load");
    match (load.concurrency, load.rate) {
        (Some(0), None) => out.push(Problem::new(format!("{key}.concurrency"), "must be at least 1")),
        (Some(_), None) => {}
        (None, Some(rate)) => rate_ok(out, &format!("{key}.rate"), rate),
        _ => out.push(Problem::new(key.clone(), "set exactly one of concurrency (queries always in flight) or rate (queries per second)")),
    }
    if !has_queries {
        out.push(Problem::new(key, format!("there are no [[{target}.queries]] to run")));
    }
}

/// Query names: non-empty, without spaces, unique within the target.
pub fn query_names<'a>(target: &str, names: impl IntoIterator<Item = &'a String>, out: &mut Vec<Problem>) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, name) in names.into_iter().enumerate() {
        let key = format!("{target}.queries.{i}.name");
        if name.is_empty() || name.contains(char::is_whitespace) {
            out.push(Problem::new(key, format!("`{name}` must be a non-empty name without spaces")));
        } else if !seen.insert(name) {
            out.push(Problem::new(key, format!("`{name}` is used twice; names must be unique")));
        }
    }
}
