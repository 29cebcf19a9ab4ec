//! A Grafana dashboard as its JSON says it (exported from Grafana, or the JSON a ConfigMap holds
//! for Grafana's sidecar): its variables and its panels with their queries, rows flat or nested,
//! collapsed or not, repeats. Only what a replay needs is kept; what cannot be replayed says why.

use serde_json::Value;

/// A dashboard read from its file.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    pub title: String,
    pub uid: String,
    pub variables: Vec<Variable>,
    pub panels: Vec<Panel>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum VariableKind {
    /// `label_values(…)`, `query_result(…)`, `metrics(…)`: answered by the target.
    Query,
    /// Which datasource: this target.
    Datasource,
    Custom,
    Constant,
    Interval,
    Textbox,
    Other(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    pub name: String,
    pub kind: VariableKind,
    pub query: String,
    /// Grafana's `regex` filter (`/pattern/`), empty when none.
    pub regex: String,
    pub multi: bool,
    pub include_all: bool,
    pub all_value: Option<String>,
    /// The dashboard's saved current value(s); `$__all` means All.
    pub current: Vec<String>,
    /// A custom variable's options.
    pub options: Vec<String>,
    /// The datasource a query variable asks.
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A Prometheus datasource (Mimir's API).
    Prometheus,
    /// A Tempo datasource (TraceQL).
    Tempo,
    /// Anything else: its type or uid as written.
    Other(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub ref_id: String,
    pub expr: String,
    /// An instant query (`instant: true` and not `range: true`).
    pub instant: bool,
    /// The target's own minimum interval.
    pub interval: Option<String>,
    pub hidden: bool,
    /// Its datasource (a `-- Mixed --` panel names one per query).
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub id: u64,
    pub title: String,
    pub kind: String,
    pub source: Source,
    /// The panel's minimum interval (`interval`), e.g. `1m`.
    pub interval: Option<String>,
    pub max_data_points: Option<u64>,
    /// Its width in grid columns (of 24).
    pub width: u64,
    pub targets: Vec<Target>,
    /// Inside a collapsed row: Grafana loads it only when the row is opened.
    pub in_collapsed_row: bool,
    /// Repeated for each value of this variable.
    pub repeat: Option<String>,
}

/// Reads a dashboard from its file's text: the JSON itself, or a ConfigMap (YAML) whose first
/// `*.json` data key holds it.
pub fn parse(text: &str) -> Result<Dashboard, String> {
    let json: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(json_error) => {
            let yaml: Value = serde_yaml_ng::from_str(text).map_err(|_| format!("neither dashboard JSON ({json_error}) nor a ConfigMap"))?;
            let held = yaml["data"].as_object().and_then(|d| d.iter().find(|(k, _)| k.ends_with(".json"))).and_then(|(_, v)| v.as_str());
            let held = held.ok_or("a ConfigMap without a *.json data key holding the dashboard")?;
            serde_json::from_str(held).map_err(|e| format!("the ConfigMap's dashboard JSON: {e}"))?
        }
    };
    let dashboard = if json.get("dashboard").is_some() { &json["dashboard"] } else { &json };
    if !dashboard["panels"].is_array() && !dashboard["rows"].is_array() {
        return Err("no `panels`: not a Grafana dashboard".into());
    }
    // Each datasource variable and the kind it picks (its `query`: prometheus, tempo, …).
    let datasource_vars: Vec<(String, String)> = dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["type"] == "datasource")
        .filter_map(|v| Some((v["name"].as_str()?.to_string(), v["query"].as_str().unwrap_or("prometheus").to_string())))
        .collect();
    let mut panels = Vec::new();
    // A repeated row repeats its panels: they take its variable unless they repeat by their own.
    let mut row_repeat: Option<String> = None;
    let with_row = |mut p: Panel, repeat: &Option<String>| {
        if p.repeat.is_none() {
            p.repeat = repeat.clone();
        }
        p
    };
    for p in dashboard["panels"].as_array().into_iter().flatten() {
        if p["type"] == "row" {
            // A collapsed row keeps its panels inside it; an open one's follow it, flat.
            let collapsed = p["collapsed"].as_bool().unwrap_or(false);
            // The row itself is listed (it has no queries of its own).
            let row = panel(p, false, &datasource_vars);
            row_repeat = row.repeat.clone();
            panels.push(row);
            for inner in p["panels"].as_array().into_iter().flatten() {
                panels.push(with_row(panel(inner, collapsed, &datasource_vars), &row_repeat));
            }
            continue;
        }
        panels.push(with_row(panel(p, false, &datasource_vars), &row_repeat));
    }
    // The legacy layout: rows[].panels[].
    for row in dashboard["rows"].as_array().into_iter().flatten() {
        let collapsed = row["collapse"].as_bool().unwrap_or(false);
        for p in row["panels"].as_array().into_iter().flatten() {
            panels.push(panel(p, collapsed, &datasource_vars));
        }
    }
    Ok(Dashboard {
        title: dashboard["title"].as_str().unwrap_or("untitled").to_string(),
        uid: dashboard["uid"].as_str().unwrap_or_default().to_string(),
        variables: dashboard["templating"]["list"].as_array().into_iter().flatten().map(|v| variable(v, &datasource_vars)).collect(),
        panels,
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(text).collect(),
        Value::Null => vec![],
        other => vec![text(other)],
    }
}

fn variable(v: &Value, datasource_vars: &[(String, String)]) -> Variable {
    let kind = match v["type"].as_str().unwrap_or_default() {
        "query" => VariableKind::Query,
        "datasource" => VariableKind::Datasource,
        "custom" => VariableKind::Custom,
        "constant" => VariableKind::Constant,
        "interval" => VariableKind::Interval,
        "textbox" => VariableKind::Textbox,
        other => VariableKind::Other(other.to_string()),
    };
    // A query is a string, or (newer Grafana) an object with a `query` field.
    let query = if v["query"].is_object() { text(&v["query"]["query"]) } else { text(&v["query"]) };
    let options = match kind {
        VariableKind::Custom => query.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        _ => v["options"].as_array().into_iter().flatten().map(|o| text(&o["value"])).collect(),
    };
    Variable {
        name: v["name"].as_str().unwrap_or_default().to_string(),
        kind,
        query,
        regex: v["regex"].as_str().unwrap_or_default().to_string(),
        multi: v["multi"].as_bool().unwrap_or(false),
        include_all: v["includeAll"].as_bool().unwrap_or(false),
        all_value: v["allValue"].as_str().filter(|s| !s.is_empty()).map(String::from),
        current: strings(&v["current"]["value"]),
        options,
        source: source(&v["datasource"], datasource_vars),
    }
}

fn kind(name: &str) -> Source {
    match name {
        "prometheus" => Source::Prometheus,
        "tempo" => Source::Tempo,
        other => Source::Other(other.to_string()),
    }
}

/// What a datasource reference (object, string or absent) names; absent is the default
/// datasource, taken to be Prometheus.
fn source(d: &Value, datasource_vars: &[(String, String)]) -> Source {
    let variable = |s: &str| datasource_vars.iter().find(|(v, _)| s == format!("${v}") || s == format!("${{{v}}}")).map(|(_, k)| kind(k));
    match d {
        Value::Null => Source::Prometheus,
        Value::String(s) => variable(s).unwrap_or_else(|| if s == "default" { Source::Prometheus } else { kind(s) }),
        Value::Object(_) => {
            let (k, uid) = (d["type"].as_str().unwrap_or_default(), d["uid"].as_str().unwrap_or_default());
            match k {
                "" => variable(uid).unwrap_or(if uid.is_empty() { Source::Prometheus } else { Source::Other(uid.to_string()) }),
                k => kind(k),
            }
        }
        other => Source::Other(other.to_string()),
    }
}

fn panel(p: &Value, in_collapsed_row: bool, datasource_vars: &[(String, String)]) -> Panel {
    let mixed = p["datasource"]["uid"] == "-- Mixed --" || p["datasource"] == "-- Mixed --";
    let panel_source = if mixed { Source::Other("-- Mixed --".into()) } else { source(&p["datasource"], datasource_vars) };
    let mut targets: Vec<Target> = p["targets"]
        .as_array()
        .into_iter()
        .flatten()
        // A Prometheus query's `expr`, or a Tempo query's TraceQL `query`.
        .filter(|t| t["expr"].is_string() || t["query"].is_string())
        .map(|t| Target {
            ref_id: t["refId"].as_str().unwrap_or("A").to_string(),
            expr: if t["expr"].is_string() { text(&t["expr"]) } else { text(&t["query"]) },
            instant: t["instant"].as_bool().unwrap_or(false) && !t["range"].as_bool().unwrap_or(false),
            interval: t["interval"].as_str().filter(|s| !s.is_empty()).map(String::from),
            hidden: t["hide"].as_bool().unwrap_or(false),
            // A query without its own datasource takes the panel's.
            source: if t["datasource"].is_null() { panel_source.clone() } else { source(&t["datasource"], datasource_vars) },
        })
        .collect();
    // A mixed panel takes the kind of its first query; its queries of another kind are left out.
    let panel_source = if mixed { targets.first().map_or(Source::Prometheus, |t| t.source.clone()) } else { panel_source };
    targets.retain(|t| t.source == panel_source);
    Panel {
        id: p["id"].as_u64().unwrap_or(0),
        title: p["title"].as_str().unwrap_or_default().to_string(),
        kind: p["type"].as_str().unwrap_or_default().to_string(),
        source: panel_source,
        interval: p["interval"].as_str().filter(|s| !s.is_empty()).map(String::from),
        max_data_points: p["maxDataPoints"].as_u64(),
        width: p["gridPos"]["w"].as_u64().or_else(|| p["span"].as_u64().map(|s| s * 2)).unwrap_or(12),
        targets,
        in_collapsed_row,
        repeat: p["repeat"].as_str().filter(|s| !s.is_empty()).map(String::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_collapse_sources_and_config_maps_are_read() {
        let json = r#"{"title":"T","uid":"u1","templating":{"list":[
            {"type":"datasource","name":"datasource","query":"prometheus","current":{"value":"default"}},
            {"type":"query","name":"ns","query":{"query":"label_values(up, namespace)"},"multi":true,"includeAll":true,"allValue":".*","current":{"value":["$__all"]}},
            {"type":"custom","name":"q","query":"0.5, 0.9","current":{"value":"0.9"}}]},
          "panels":[
            {"type":"timeseries","id":1,"title":"a","datasource":{"type":"prometheus","uid":"${datasource}"},"gridPos":{"w":12},"targets":[{"refId":"A","expr":"up"}]},
            {"type":"row","id":2,"collapsed":true,"panels":[{"type":"stat","id":3,"title":"b","datasource":"$datasource","targets":[{"expr":"sum(up)","instant":true}]}]},
            {"type":"timeseries","id":4,"title":"c","datasource":{"type":"loki","uid":"L"},"targets":[{"expr":"{job=\"x\"}"}]},
            {"type":"text","id":5,"title":"d"}]}"#;
        let mut d = parse(json).unwrap();
        assert_eq!((d.title.as_str(), d.variables.len(), d.panels.len()), ("T", 3, 5));
        let row = d.panels.remove(1);
        assert_eq!((row.kind.as_str(), row.targets.len()), ("row", 0), "a row is listed, without queries");
        assert_eq!(d.variables[1].query, "label_values(up, namespace)");
        assert_eq!((d.variables[1].current.clone(), d.variables[1].all_value.clone()), (vec!["$__all".to_string()], Some(".*".to_string())));
        assert_eq!(d.variables[2].options, ["0.5", "0.9"]);
        assert_eq!((d.panels[0].source.clone(), d.panels[0].width), (Source::Prometheus, 12));
        assert!(d.panels[1].in_collapsed_row && d.panels[1].targets[0].instant && d.panels[1].source == Source::Prometheus);
        assert_eq!(d.panels[2].source, Source::Other("loki".into()));
        assert!(d.panels[3].targets.is_empty());
        let config_map = format!("apiVersion: v1\nkind: ConfigMap\ndata:\n  t.json: {}\n", serde_json::to_string(json).unwrap());
        assert_eq!(parse(&config_map).unwrap(), parse(json).unwrap());
        assert!(parse("{\"title\":1}").unwrap_err().contains("not a Grafana dashboard"));
        // A repeated row repeats the panels under it.
        let repeated = r#"{"panels":[{"type":"row","id":1,"repeat":"ns","panels":[]},{"type":"graph","id":2,"targets":[{"expr":"up"}]},
            {"type":"graph","id":3,"repeat":"pod","targets":[{"expr":"up"}]}]}"#;
        let d = parse(repeated).unwrap();
        assert_eq!((d.panels[1].repeat.as_deref(), d.panels[2].repeat.as_deref()), (Some("ns"), Some("pod")));
    }
}
