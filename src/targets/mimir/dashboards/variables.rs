//! A dashboard's variables resolved as Grafana resolves them on opening it: in order (a variable's
//! query may use the ones before it), query variables through the same HTTP calls Grafana's
//! Prometheus datasource makes (`label_values(label)` → `/api/v1/label/<label>/values`,
//! `label_values(selector, label)` → the same with `match[]`, `metrics(regex)` → the metric names,
//! `query_result(query)` → an instant query), filtered by the variable's `regex`; then the value
//! pinned in the scenario, else the dashboard's saved one if it is still an option, else the
//! first option (or All when the saved one was All).

use crate::client::http::{Answer, TransportError};
use crate::client::promql::PromApi;
use crate::grafana::dashboard::{Variable, VariableKind};
use crate::grafana::interpolate::{interpolate, Chosen};
use crate::grafana::plan::choose;
use std::collections::BTreeMap;

/// One HTTP call made to resolve a variable: what it asked and how it went.
#[derive(Clone, Debug)]
pub struct Lookup {
    pub variable: String,
    pub path: String,
    pub sent_at: tokio::time::Instant,
    pub done: tokio::time::Instant,
    pub class: crate::stats::OutcomeClass,
}

/// The call a query variable makes: the path (with its query string) under the API.
pub fn lookup_path(query: &str, start: f64, end: f64) -> Option<String> {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let window = format!("start={start:.0}&end={end:.0}");
    let q = query.trim();
    if let Some(args) = q.strip_prefix("label_values(").and_then(|r| r.strip_suffix(')')) {
        // The label is after the last comma outside braces.
        let (selector, label) = match split_last_arg(args) {
            Some((sel, label)) => (Some(sel.trim()), label.trim()),
            None => (None, args.trim()),
        };
        return Some(match selector {
            Some(sel) => format!("/api/v1/label/{label}/values?match[]={}&{window}", enc(sel)),
            None => format!("/api/v1/label/{label}/values?{window}"),
        });
    }
    if q.starts_with("metrics(") {
        return Some(format!("/api/v1/label/__name__/values?{window}"));
    }
    if let Some(inner) = q.strip_prefix("query_result(").and_then(|r| r.strip_suffix(')')) {
        return Some(format!("/api/v1/query?query={}&time={end:.0}", enc(inner)));
    }
    None
}

fn split_last_arg(args: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    let mut last = None;
    for (i, c) in args.char_indices() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => last = Some(i),
            _ => {}
        }
    }
    last.map(|i| (&args[..i], &args[i + 1..]))
}

/// The options an answer gives: label values, metric names (filtered by `metrics(regex)`), or one
/// line per series of a query result (`{labels} value timestamp`, as Grafana writes them).
pub fn options_of(query: &str, body: &[u8]) -> Result<Vec<String>, String> {
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("not the Prometheus API's JSON: {e}"))?;
    if json["status"] != "success" {
        return Err(format!("status {}: {}", json["status"], json["error"].as_str().unwrap_or_default()));
    }
    if query.trim().starts_with("query_result(") {
        return Ok(json["data"]["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let metric = s["metric"].as_object().map(|m| {
                    let name = m.get("__name__").and_then(|v| v.as_str()).unwrap_or_default();
                    let labels: Vec<String> =
                        m.iter().filter(|(k, _)| *k != "__name__").map(|(k, v)| format!("{k}=\"{}\"", v.as_str().unwrap_or_default())).collect();
                    format!("{name}{{{}}}", labels.join(", "))
                });
                format!("{} {} {}", metric.unwrap_or_default(), s["value"][1].as_str().unwrap_or_default(), s["value"][0])
            })
            .collect());
    }
    let mut values: Vec<String> = json["data"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect();
    if let Some(pattern) = query.trim().strip_prefix("metrics(").and_then(|r| r.strip_suffix(')')) {
        let re = regex::Regex::new(pattern.trim()).map_err(|e| format!("metrics({pattern}): {e}"))?;
        values.retain(|v| re.is_match(v));
    }
    Ok(values)
}

/// Grafana's `regex` filter: `/pattern/flags`; a capture group gives the value (the `text` and
/// `value` named groups too).
pub fn filtered(options: Vec<String>, regex: &str) -> Result<Vec<String>, String> {
    let Some(body) = regex.strip_prefix('/') else { return Ok(options) };
    let (pattern, flags) = body.rsplit_once('/').unwrap_or((body, ""));
    let re = regex::Regex::new(&if flags.contains('i') { format!("(?i){pattern}") } else { pattern.to_string() }).map_err(|e| format!("regex {regex}: {e}"))?;
    let mut out = Vec::new();
    for o in options {
        if let Some(c) = re.captures(&o) {
            let value = c.name("value").or_else(|| c.get(1)).map_or(o.as_str(), |m| m.as_str()).to_string();
            if !out.contains(&value) {
                out.push(value);
            }
        }
    }
    Ok(out)
}

/// Every variable of a dashboard resolved in order; `ask` makes one call (its path under the API)
/// and the calls made are returned with the values.
pub async fn resolve(
    variables: &[Variable],
    pins: &BTreeMap<String, Vec<String>>,
    builtins: &BTreeMap<String, Chosen>,
    window: (f64, f64),
    api: &PromApi,
    pool: usize,
) -> (BTreeMap<String, Chosen>, Vec<Lookup>, Vec<String>) {
    let mut chosen: BTreeMap<String, Chosen> = BTreeMap::new();
    let mut lookups = Vec::new();
    let mut problems = Vec::new();
    for v in variables {
        let mut known = builtins.clone();
        known.extend(chosen.iter().map(|(k, c)| (k.clone(), c.clone())));
        let options = match &v.kind {
            VariableKind::Query => {
                let query = interpolate(&v.query, &known);
                match lookup_path(&query, window.0, window.1) {
                    Some(path) => {
                        let sent_at = tokio::time::Instant::now();
                        let answer: Result<Answer, TransportError> = api.get(pool, &path).await;
                        let (class, options) = match answer {
                            Ok(a) if a.status.is_success() => match options_of(&query, &a.body).and_then(|o| filtered(o, &v.regex)) {
                                Ok(o) => (crate::stats::OutcomeClass::Success, o),
                                Err(e) => {
                                    problems.push(format!("${}: {e}", v.name));
                                    (crate::stats::OutcomeClass::BadResponse, vec![])
                                }
                            },
                            Ok(a) => {
                                problems.push(format!("${}: HTTP {}", v.name, a.status.as_u16()));
                                (crate::stats::OutcomeClass::from_http_failure(a.status.as_u16()), vec![])
                            }
                            Err(e) => {
                                problems.push(format!("${}: {e}", v.name));
                                (e.class(), vec![])
                            }
                        };
                        lookups.push(Lookup { variable: v.name.clone(), path, sent_at, done: tokio::time::Instant::now(), class });
                        options
                    }
                    None => {
                        problems.push(format!("${}: `{}` is not a query lgtm-bench resolves (label_values, metrics, query_result)", v.name, v.query));
                        v.current.clone()
                    }
                }
            }
            VariableKind::Custom => v.options.clone(),
            VariableKind::Datasource => vec![String::new()],
            _ => {
                let mut o = v.current.clone();
                if o.is_empty() {
                    o.push(v.query.clone());
                }
                o
            }
        };
        chosen.insert(v.name.clone(), choose(v, &options, pins.get(&v.name)));
    }
    (chosen, lookups, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_the_calls_grafana_makes() {
        let p = |q: &str| lookup_path(q, 100.0, 200.0).unwrap();
        assert_eq!(p("label_values(namespace)"), "/api/v1/label/namespace/values?start=100&end=200");
        assert_eq!(
            p(r#"label_values(kube_pod_info{namespace="a", pod=~"x,y"}, pod)"#),
            "/api/v1/label/pod/values?match[]=kube_pod_info%7Bnamespace%3D%22a%22%2C+pod%3D%7E%22x%2Cy%22%7D&start=100&end=200"
        );
        assert_eq!(p("metrics(^node_)"), "/api/v1/label/__name__/values?start=100&end=200");
        assert_eq!(p("query_result(up)"), "/api/v1/query?query=up&time=200");
        assert!(lookup_path("something_else()", 0.0, 1.0).is_none());
    }

    #[test]
    fn answers_are_filtered_and_a_value_chosen_as_grafana_chooses() {
        let body = br#"{"status":"success","data":["node_cpu","node_mem","up"]}"#;
        assert_eq!(options_of("metrics(^node_)", body).unwrap(), ["node_cpu", "node_mem"]);
        assert_eq!(filtered(vec!["pod-a-1".into(), "pod-b-2".into(), "x".into()], "/pod-(\\w)-.*/").unwrap(), ["a", "b"]);
        let result = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"j"},"value":[1,"1"]}]}}"#;
        assert_eq!(options_of("query_result(up)", result).unwrap(), [r#"up{job="j"} 1 1"#]);
        let v = Variable {
            name: "ns".into(),
            kind: VariableKind::Query,
            query: String::new(),
            regex: String::new(),
            multi: true,
            include_all: true,
            all_value: None,
            current: vec!["b".into()],
            options: vec![],
            source: crate::grafana::dashboard::Source::Prometheus,
        };
        let options = vec!["a".to_string(), "b".to_string()];
        assert_eq!(choose(&v, &options, None).values, ["b"], "the saved value, still offered");
        assert_eq!(choose(&Variable { current: vec!["gone".into()], ..v.clone() }, &options, None).values, ["a"], "else the first");
        let all = choose(&Variable { current: vec!["$__all".into()], ..v.clone() }, &options, None);
        assert!(all.all && all.formatted() == "(a|b)");
        assert_eq!(choose(&v, &options, Some(&vec!["a".to_string()])).formatted(), "a", "pinned in the scenario");
    }
}
