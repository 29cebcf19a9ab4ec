//! What a Prometheus or a Mimir says it holds: the series count, series per metric and label
//! cardinalities, from Prometheus's `/api/v1/status/tsdb` or, where that is missing (Mimir), from
//! Mimir's cardinality API (`/api/v1/cardinality/label_values` and `label_names`, enabled with
//! `-querier.cardinality-analysis-enabled`); and one metric's own labels with their value counts.

use crate::client::promql::PromApi;

/// Label names the generator sets itself or that are not a series' own dimensions.
pub const NOT_DIMENSIONS: [&str; 8] = ["__name__", "job", "instance", "le", "quantile", "series", "lgtm_bench_run", "endpoint"];
/// A metric's labels kept at most (by value count): the rest, the smallest, are said to be left out.
pub const LABELS_PER_METRIC: usize = 16;

/// Which API answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Prometheus's TSDB status and its labels API.
    TsdbStatus,
    /// Mimir's cardinality API.
    MimirCardinality,
}

impl Via {
    pub fn describe(self) -> &'static str {
        match self {
            Via::TsdbStatus => "/api/v1/status/tsdb",
            Via::MimirCardinality => "/api/v1/cardinality/label_values?label_names[]=__name__ (Mimir's cardinality API)",
        }
    }
}

/// The series, the top metrics by series and the top label cardinalities.
#[derive(Clone, Debug, PartialEq)]
pub struct Census {
    pub series: u64,
    pub by_metric: Vec<(String, u64)>,
    pub labels: Vec<(String, u64)>,
    pub via: Via,
}

/// GETs `path` and parses its JSON (any shape).
pub async fn json(api: &PromApi, path: &str) -> Result<serde_json::Value, String> {
    let a = api.get(0, path).await.map_err(|e| format!("{}{path}: {e}", api.base))?;
    if !a.status.is_success() {
        let body = String::from_utf8_lossy(&a.body);
        return Err(format!("{}{path}: HTTP {} {}", api.base, a.status.as_u16(), body.trim().chars().take(160).collect::<String>()));
    }
    serde_json::from_slice(&a.body).map_err(|e| format!("{}{path}: not JSON: {e}", api.base))
}

/// GETs a Prometheus API `path` and returns its `data`.
pub async fn data(api: &PromApi, path: &str) -> Result<serde_json::Value, String> {
    let json = json(api, path).await?;
    if json["status"] != "success" {
        return Err(format!("{}{path}: {}", api.base, json["error"].as_str().unwrap_or("status not success")));
    }
    Ok(json["data"].clone())
}

fn pairs(list: &serde_json::Value, name: &str, value: &str) -> Vec<(String, u64)> {
    list.as_array().into_iter().flatten().filter_map(|m| Some((m[name].as_str()?.to_string(), m[value].as_u64()?))).collect()
}

fn dimensions(labels: Vec<(String, u64)>) -> Vec<(String, u64)> {
    labels.into_iter().filter(|(n, _)| !NOT_DIMENSIONS.contains(&n.as_str()) && !n.starts_with("__")).collect()
}

/// The census from the TSDB status, else from Mimir's cardinality API; an error names both.
pub async fn read(api: &PromApi) -> Result<Census, String> {
    let tsdb = match data(api, "/api/v1/status/tsdb").await {
        Ok(status) => {
            return Ok(Census {
                series: status["headStats"]["numSeries"].as_u64().unwrap_or(0),
                by_metric: pairs(&status["seriesCountByMetricName"], "name", "value"),
                labels: dimensions(pairs(&status["labelValueCountByLabelName"], "name", "value")),
                via: Via::TsdbStatus,
            })
        }
        Err(e) => e,
    };
    let values = json(api, "/api/v1/cardinality/label_values?label_names[]=__name__&limit=20").await;
    let names = json(api, "/api/v1/cardinality/label_names?limit=20").await;
    match (values, names) {
        (Ok(values), Ok(names)) if values["series_count_total"].is_u64() => {
            let metrics = values["labels"].as_array().and_then(|l| l.iter().find(|l| l["label_name"] == "__name__")).map(|l| &l["cardinality"]);
            Ok(Census {
                series: values["series_count_total"].as_u64().unwrap_or(0),
                by_metric: metrics.map(|m| pairs(m, "label_value", "series_count")).unwrap_or_default(),
                labels: dimensions(pairs(&names["cardinality"], "label_name", "label_values_count")),
                via: Via::MimirCardinality,
            })
        }
        (Err(e), _) | (_, Err(e)) => Err(format!(
            "neither the TSDB status ({tsdb}) nor Mimir's cardinality API ({e}) could be read: is this a Prometheus, or a Mimir with -querier.cardinality-analysis-enabled (and --query-prefix /prometheus, --tenant)?"
        )),
        (Ok(_), Ok(_)) => Err(format!("the TSDB status could not be read ({tsdb}) and the cardinality API's answer has no series_count_total")),
    }
}

fn selector(metric: &str) -> String {
    form_urlencoded::byte_serialize(format!("{{__name__=\"{metric}\"}}").as_bytes()).collect()
}

/// `metric`'s own labels with their value counts, largest first (all of them), as `via` reads
/// them: Prometheus's labels API (`/api/v1/labels?match[]=`, then each label's values), or Mimir's
/// `label_names?selector=` in one request.
pub async fn metric_labels(api: &PromApi, via: Via, metric: &str) -> Result<Vec<(String, u64)>, String> {
    let sel = selector(metric);
    let mut labels = match via {
        Via::MimirCardinality => {
            let names = json(api, &format!("/api/v1/cardinality/label_names?selector={sel}&limit=100")).await?;
            dimensions(pairs(&names["cardinality"], "label_name", "label_values_count"))
        }
        Via::TsdbStatus => {
            let names = data(api, &format!("/api/v1/labels?match[]={sel}")).await?;
            let names: Vec<String> = names.as_array().into_iter().flatten().filter_map(|n| n.as_str().map(String::from)).collect();
            let mut out = Vec::new();
            for (name, _) in dimensions(names.into_iter().map(|n| (n, 0)).collect()) {
                let values = data(api, &format!("/api/v1/label/{name}/values?match[]={sel}")).await?;
                out.push((name, values.as_array().map_or(0, |v| v.len() as u64)));
            }
            out
        }
    };
    labels.retain(|(_, c)| *c > 0);
    labels.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(labels)
}
