//! `lgtm-bench model --prometheus URL`: a Mimir scenario modelled on what a Prometheus (or Mimir)
//! already holds. The series count and the top metrics by series from `/api/v1/status/tsdb`, each
//! kept by name with its type (`/api/v1/metadata`, else its name's suffix: said so) and, for a
//! classic histogram, its real bucket bounds (`count by (le)`); the long tail as one counter family;
//! the top label cardinalities; the scrape interval from `/api/v1/status/config`; the ingestion rate
//! from `prometheus_tsdb_head_samples_appended_total`. The scenario it writes says where each
//! figure came from and what was assumed, validates, and runs as any other.

use crate::client::promql::{unix_secs, PromApi};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::SystemTime;

/// Label names the generator sets itself or that are not a series' own dimensions.
const NOT_DIMENSIONS: [&str; 8] = ["__name__", "job", "instance", "le", "quantile", "series", "lgtm_bench_run", "endpoint"];

/// One modelled family.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    pub name: String,
    pub kind: &'static str,
    pub series: u64,
    pub buckets: Option<Vec<f64>>,
    /// Where its type came from.
    pub typed_by: &'static str,
}

/// What the model read: the figures and the families.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub source: String,
    pub read_at: String,
    pub series: u64,
    pub families: Vec<Family>,
    /// The tail: series of metrics not among the top ones.
    pub tail: u64,
    pub labels: Vec<(String, u64)>,
    pub scrape_interval: Option<String>,
    pub samples_per_second: Option<f64>,
    /// What could not be read, and what was assumed.
    pub notes: Vec<String>,
}

async fn get(api: &PromApi, path: &str) -> Result<serde_json::Value, String> {
    let a = api.get(0, path).await.map_err(|e| format!("{}{path}: {e}", api.base))?;
    if !a.status.is_success() {
        return Err(format!("{}{path}: HTTP {}", api.base, a.status.as_u16()));
    }
    let json: serde_json::Value = serde_json::from_slice(&a.body).map_err(|e| format!("{}{path}: not the Prometheus API's JSON: {e}", api.base))?;
    if json["status"] != "success" {
        return Err(format!("{}{path}: {}", api.base, json["error"].as_str().unwrap_or("status not success")));
    }
    Ok(json["data"].clone())
}

async fn instant(api: &PromApi, query: &str) -> Result<Vec<(BTreeMap<String, String>, f64)>, String> {
    let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let data = get(api, &format!("/api/v1/query?query={q}&time={:.3}", unix_secs(SystemTime::now()))).await?;
    Ok(data["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let labels = s["metric"].as_object()?.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect();
            Some((labels, s["value"][1].as_str()?.parse().ok()?))
        })
        .collect())
}

/// The type a family has by its name alone (Prometheus's naming conventions).
fn by_name(name: &str) -> &'static str {
    if name.ends_with("_total") {
        "counter"
    } else {
        "gauge"
    }
}

/// Reads the model from the API at `api`: fails only when the TSDB status cannot be read.
pub async fn read(api: &PromApi) -> Result<Model, String> {
    let mut notes = Vec::new();
    let status =
        get(api, "/api/v1/status/tsdb").await.map_err(|e| format!("the TSDB status could not be read ({e}): is this a Prometheus or Mimir query API?"))?;
    let series = status["headStats"]["numSeries"].as_u64().unwrap_or(0);
    let by_metric: Vec<(String, u64)> = status["seriesCountByMetricName"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["name"].as_str()?.to_string(), m["value"].as_u64()?)))
        .collect();
    if by_metric.is_empty() && series > 0 {
        notes.push("the TSDB status lists no metric (Prometheus refreshes it at most every 30 s): every series modelled as one counter family".into());
    }
    let metadata = get(api, "/api/v1/metadata").await.unwrap_or_else(|e| {
        notes.push(format!("no metadata ({e}): types assumed from the names"));
        serde_json::Value::Null
    });
    let type_of = |name: &str| metadata[name][0]["type"].as_str().map(String::from);
    let count_of = |name: &str| by_metric.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    let mut families = Vec::new();
    let mut modelled = 0;
    for (name, count) in &by_metric {
        if let Some(base) = name.strip_suffix("_bucket") {
            // A classic histogram: its buckets with their bounds, `_sum` and `_count`.
            let le = instant(api, &format!("count by (le) ({{__name__=\"{name}\"}})")).await.unwrap_or_default();
            let mut bounds: Vec<f64> = le.iter().filter_map(|(l, _)| l.get("le")?.parse::<f64>().ok()).filter(|b| b.is_finite()).collect();
            bounds.sort_by(f64::total_cmp);
            bounds.dedup();
            let width = bounds.len() as u64 + 1;
            let instances = (count / width.max(1)).max(1);
            let total = count + count_of(&format!("{base}_sum")).unwrap_or(instances) + count_of(&format!("{base}_count")).unwrap_or(instances);
            if bounds.is_empty() {
                notes.push(format!("{base}: its bucket bounds could not be read; Prometheus's defaults assumed"));
            }
            modelled += total;
            let typed_by = if type_of(base).is_some() { "metadata" } else { "its _bucket series" };
            families.push(Family { name: base.to_string(), kind: "histogram", series: total, buckets: (!bounds.is_empty()).then_some(bounds), typed_by });
            continue;
        }
        let base = name.strip_suffix("_sum").or_else(|| name.strip_suffix("_count"));
        if base.is_some_and(|b| by_metric.iter().any(|(n, _)| *n == format!("{b}_bucket"))) {
            continue; // counted with its histogram
        }
        let (kind, typed_by) = match type_of(name).as_deref() {
            Some("counter") => ("counter", "metadata"),
            Some("gauge") => ("gauge", "metadata"),
            Some("summary") => ("summary", "metadata"),
            Some("histogram") => ("native_histogram", "metadata"),
            _ => (by_name(name), "its name"),
        };
        modelled += count;
        families.push(Family { name: name.clone(), kind, series: *count, buckets: None, typed_by });
    }
    let labels: Vec<(String, u64)> = status["labelValueCountByLabelName"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| Some((l["name"].as_str()?.to_string(), l["value"].as_u64()?)))
        .filter(|(n, _)| !NOT_DIMENSIONS.contains(&n.as_str()) && !n.starts_with("__"))
        .take(3)
        .collect();
    let scrape_interval = match get(api, "/api/v1/status/config").await {
        Ok(c) => c["yaml"]
            .as_str()
            .and_then(|y| serde_yaml_ng::from_str::<serde_json::Value>(y).ok())
            .and_then(|y| y["global"]["scrape_interval"].as_str().map(String::from)),
        Err(e) => {
            notes.push(format!("the configuration could not be read ({e}): scrape interval 15s assumed"));
            None
        }
    };
    let samples_per_second = instant(api, "sum(rate(prometheus_tsdb_head_samples_appended_total[5m]))").await.ok().and_then(|v| v.first().map(|s| s.1));
    if samples_per_second.is_none() {
        notes.push(
            "no prometheus_tsdb_head_samples_appended_total (not a Prometheus scraping itself): the rate follows from the series and the scrape interval"
                .into(),
        );
    }
    Ok(Model {
        source: api.base.clone(),
        read_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        series,
        tail: series.saturating_sub(modelled),
        families,
        labels,
        scrape_interval,
        samples_per_second,
        notes,
    })
}

/// The scenario the model describes at `scale` (1.0: as it is), writing to `write_url`.
pub fn scenario(m: &Model, scale: f64, write_url: &str, query_url: &str) -> String {
    let mut out = String::new();
    let interval = m.scrape_interval.clone().unwrap_or_else(|| "15s".into());
    let _ = writeln!(out, "# Modelled by `lgtm-bench model` on {} at {} (scale {scale}).", m.source, m.read_at);
    let _ = writeln!(out, "# Series and series per metric: /api/v1/status/tsdb; types: /api/v1/metadata, else the name;");
    let _ = writeln!(out, "# bucket bounds: count by (le); scrape interval: /api/v1/status/config; labels: the TSDB status's");
    let _ = writeln!(out, "# label cardinalities (every family carries them: the model has one label set for all).");
    if let Some(r) = m.samples_per_second {
        let _ = writeln!(out, "# Ingestion measured: {r:.0} samples/s (rate(prometheus_tsdb_head_samples_appended_total[5m])).");
    }
    for n in &m.notes {
        let _ = writeln!(out, "# Assumed: {n}");
    }
    let active = ((m.series as f64) * scale).round().max(1.0) as u64;
    let _ = writeln!(out, "objectives = [\"mimir.write error_ratio < 0.1%\"]\n\n[run]\nname = \"modelled\"\nwarmup = \"30s\"\nduration = \"5m\"\n");
    let _ = writeln!(out, "[mimir]\nwrite_url = {write_url:?}\nquery_url = {query_url:?}\n\n[mimir.write]\n\n[mimir.write.queue]\n");
    let _ = writeln!(out, "[mimir.write.series]\nactive = {active}                 # {} series × {scale}\nscrape_interval = {interval:?}", m.series);
    let _ = writeln!(out, "samples_per_request = {}", active.clamp(1, 2000));
    let labels: Vec<String> = m.labels.iter().map(|(n, c)| format!("{{ name = {n:?}, cardinality = {c} }}")).collect();
    let _ = writeln!(out, "labels = [{}]\n", labels.join(", "));
    for f in &m.families {
        let _ = writeln!(out, "[[mimir.write.series.families]]             # {} series, type from {}", f.series, f.typed_by);
        let _ = writeln!(out, "name = {:?}\ntype = {:?}\nshare = {:.6}", f.name, f.kind, f.series as f64 / m.series.max(1) as f64);
        if let Some(b) = &f.buckets {
            let b: Vec<String> = b.iter().map(|v| format!("{v}")).collect();
            let _ = writeln!(out, "buckets = [{}]", b.join(", "));
        }
        out.push('\n');
    }
    if m.tail > 0 || m.families.is_empty() {
        let _ = writeln!(out, "[[mimir.write.series.families]]             # the long tail: {} series of the other metrics, as counters", m.tail.max(1));
        let _ = writeln!(out, "name = \"lgtm_bench_tail_total\"\ntype = \"counter\"\nshare = {:.6}", m.tail.max(1) as f64 / m.series.max(1) as f64);
    }
    out
}
