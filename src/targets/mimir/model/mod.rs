//! `lgtm-bench model --prometheus URL`: a Mimir scenario modelled on what a Prometheus (or Mimir)
//! already holds. The series count and the top metrics by series (`census`: the TSDB status, else
//! Mimir's cardinality API), each kept by name with its own labels and their value counts, its type
//! (`/api/v1/metadata`, else its name's suffix: said so) and, for a classic histogram, its real
//! bucket bounds (`count by (le)`); the long tail as one counter family with the top label
//! cardinalities; the scrape interval from `/api/v1/status/config` (else the `up` series' sample
//! spacing); the ingestion rate from `prometheus_tsdb_head_samples_appended_total` and the churn from
//! `prometheus_tsdb_head_series_created_total`. The scenario it writes says where each figure came
//! from and what was assumed, validates, and runs as any other.

pub mod census;
mod scenario;

pub use scenario::{scenario, MemoryWatch};

use crate::client::promql::{unix_secs, PromApi};
use census::{data as get, Via};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// One modelled family.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    pub name: String,
    pub kind: &'static str,
    pub series: u64,
    pub buckets: Option<Vec<f64>>,
    /// A summary's quantiles (`count by (quantile)`).
    pub quantiles: Option<Vec<f64>>,
    /// Its unit from the metadata, where given.
    pub unit: Option<String>,
    /// Where its type came from.
    pub typed_by: &'static str,
    /// Its own labels and their value counts (empty: could not be read, the model's are used).
    pub labels: Vec<(String, u64)>,
}

/// Series created per hour over the head's series: the share replaced each hour.
#[derive(Clone, Debug, PartialEq)]
pub struct Churn {
    pub created_per_hour: f64,
    pub share_per_hour: f64,
}

/// What the model read: the figures and the families.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub source: String,
    pub read_at: String,
    pub via: Via,
    pub series: u64,
    pub families: Vec<Family>,
    /// The tail: series of metrics not among the top ones.
    pub tail: u64,
    pub labels: Vec<(String, u64)>,
    pub scrape_interval: Option<String>,
    /// Where the scrape interval came from.
    pub interval_from: &'static str,
    pub samples_per_second: Option<f64>,
    pub churn: Option<Churn>,
    /// What could not be read, and what was assumed.
    pub notes: Vec<String>,
}

/// The type a family has by its name alone (Prometheus's naming conventions).
fn by_name(name: &str) -> &'static str {
    if name.ends_with("_total") {
        "counter"
    } else {
        "gauge"
    }
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

/// A summary's quantiles, if `metric` has series with a `quantile` label.
async fn quantiles_of(api: &PromApi, metric: &str) -> Option<Vec<f64>> {
    let by = instant(api, &format!("count by (quantile) ({{__name__=\"{metric}\"}})")).await.ok()?;
    let mut q: Vec<f64> = by.iter().filter_map(|(l, _)| l.get("quantile")?.parse::<f64>().ok()).collect();
    q.sort_by(f64::total_cmp);
    q.dedup();
    (!q.is_empty()).then_some(q)
}

/// Whether `metric`'s samples are native histograms (`histogram_count` answers only for them).
async fn is_native(api: &PromApi, metric: &str) -> bool {
    instant(api, &format!("count(histogram_count({{__name__=\"{metric}\"}}))")).await.is_ok_and(|v| v.first().is_some_and(|s| s.1 > 0.0))
}

/// Reads the model from the API at `api`: fails only when neither the TSDB status nor Mimir's
/// cardinality API can be read.
pub async fn read(api: &PromApi) -> Result<Model, String> {
    let mut notes = Vec::new();
    let census = census::read(api).await?;
    let (series, by_metric) = (census.series, &census.by_metric);
    if by_metric.is_empty() && series > 0 {
        notes.push("the census lists no metric (Prometheus refreshes its TSDB status at most every 30 s): every series modelled as one counter family".into());
    }
    let metadata = get(api, "/api/v1/metadata").await.unwrap_or_else(|e| {
        notes.push(format!("no metadata ({e}): types assumed from the names"));
        serde_json::Value::Null
    });
    let type_of = |name: &str| metadata[name][0]["type"].as_str().map(String::from);
    let unit_of = |name: &str| metadata[name][0]["unit"].as_str().filter(|u| !u.is_empty()).map(String::from);
    let count_of = |name: &str| by_metric.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    let mut families = Vec::new();
    let mut modelled = 0;
    let mut unlabelled = Vec::new();
    // Summaries found so far: their `_sum` and `_count` are counted with them.
    let mut summaries: Vec<String> = Vec::new();
    for (name, count) in by_metric {
        let labels = match census::metric_labels(api, census.via, name).await {
            Ok(mut l) => {
                if l.len() > census::LABELS_PER_METRIC {
                    let left: Vec<String> = l.drain(census::LABELS_PER_METRIC..).map(|(n, c)| format!("{n} ({c})")).collect();
                    notes.push(format!("{name}: its {} largest labels kept; left out: {}", census::LABELS_PER_METRIC, left.join(", ")));
                }
                l
            }
            Err(e) => {
                unlabelled.push(format!("{name} ({e})"));
                Vec::new()
            }
        };
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
            families.push(Family {
                name: base.to_string(),
                kind: "histogram",
                series: total,
                buckets: (!bounds.is_empty()).then_some(bounds),
                quantiles: None,
                unit: unit_of(base),
                typed_by,
                labels,
            });
            continue;
        }
        let base = name.strip_suffix("_sum").or_else(|| name.strip_suffix("_count"));
        if base.is_some_and(|b| by_metric.iter().any(|(n, _)| *n == format!("{b}_bucket")) || summaries.iter().any(|s| s == b)) {
            continue; // counted with its histogram or summary
        }
        let quantiles = quantiles_of(api, name).await;
        let (kind, typed_by) = match (type_of(name).as_deref(), &quantiles) {
            (Some("counter"), _) => ("counter", "metadata"),
            (Some("gauge"), _) => ("gauge", "metadata"),
            (Some("summary"), _) => ("summary", "metadata"),
            (Some("histogram"), _) => ("native_histogram", "metadata"),
            (_, Some(_)) => ("summary", "its quantile series"),
            _ if is_native(api, name).await => ("native_histogram", "its samples (native histograms)"),
            _ => (by_name(name), "its name"),
        };
        let mut series = *count;
        if kind == "summary" {
            summaries.push(name.clone());
            let instances = count / quantiles.as_ref().map_or(1, |q| q.len() as u64).max(1);
            series += count_of(&format!("{name}_sum")).unwrap_or(instances) + count_of(&format!("{name}_count")).unwrap_or(instances);
        }
        modelled += series;
        let quantiles = quantiles.filter(|_| kind == "summary");
        families.push(Family { name: name.clone(), kind, series, buckets: None, quantiles, unit: unit_of(name), typed_by, labels });
    }
    if !unlabelled.is_empty() {
        notes.push(format!("the labels of {} could not be read: those families carry the top label cardinalities", unlabelled.join(", ")));
    }
    let (scrape_interval, interval_from) = scrape_interval(api, &mut notes).await;
    let samples_per_second = instant(api, "sum(rate(prometheus_tsdb_head_samples_appended_total[5m]))").await.ok().and_then(|v| v.first().map(|s| s.1));
    if samples_per_second.is_none() {
        notes.push(
            "no rate of prometheus_tsdb_head_samples_appended_total over 5m (not a Prometheus scraping itself, or not for long enough): the rate follows from the series and the scrape interval"
                .into(),
        );
    }
    let churn = churn(api, series, &mut notes).await;
    Ok(Model {
        source: api.base.clone(),
        read_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        via: census.via,
        series,
        tail: series.saturating_sub(modelled),
        families,
        labels: census.labels.into_iter().take(3).collect(),
        scrape_interval,
        interval_from,
        samples_per_second,
        churn,
        notes,
    })
}

/// The global scrape interval from the configuration, else the `up` series' sample spacing (the
/// median gap over its last 5 minutes), else none (15 s assumed, said so).
async fn scrape_interval(api: &PromApi, notes: &mut Vec<String>) -> (Option<String>, &'static str) {
    let config = get(api, "/api/v1/status/config").await;
    if let Ok(c) = &config {
        let global = c["yaml"].as_str().and_then(|y| serde_yaml_ng::from_str::<serde_json::Value>(y).ok());
        if let Some(i) = global.and_then(|y| y["global"]["scrape_interval"].as_str().map(String::from)) {
            return (Some(i), "/api/v1/status/config");
        }
    }
    let q: String = form_urlencoded::byte_serialize(b"up[5m]").collect();
    let spacing = get(api, &format!("/api/v1/query?query={q}&time={:.3}", unix_secs(SystemTime::now()))).await.ok().and_then(|d| {
        let values = d["result"][0]["values"].as_array()?.iter().filter_map(|v| v[0].as_f64()).collect::<Vec<f64>>();
        median_gap(&values)
    });
    match spacing {
        Some(secs) => (Some(format!("{}s", secs.round().max(1.0) as u64)), "the `up` series' sample spacing"),
        None => {
            let why = config.err().unwrap_or_else(|| "no global scrape_interval".into());
            notes.push(format!("the scrape interval could not be read ({why}; no `up` series to time): 15s assumed"));
            (None, "assumed")
        }
    }
}

/// The median gap between successive timestamps (seconds), if there are at least two.
fn median_gap(times: &[f64]) -> Option<f64> {
    let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).filter(|g| *g > 0.0).collect();
    gaps.sort_by(f64::total_cmp);
    gaps.get(gaps.len() / 2).copied()
}

/// Series created over the last hour against the head's series, read only from a Prometheus up
/// for over 65 minutes (before that its own start-up creates every series).
async fn churn(api: &PromApi, series: u64, notes: &mut Vec<String>) -> Option<Churn> {
    let up = instant(api, "min(time() - (process_start_time_seconds and on(job, instance) prometheus_tsdb_head_series_created_total))")
        .await
        .ok()
        .and_then(|v| v.first().map(|s| s.1));
    let created = instant(api, "sum(increase(prometheus_tsdb_head_series_created_total[1h]))").await.ok().and_then(|v| v.first().map(|s| s.1));
    match (up, created) {
        (Some(up), _) if up <= 3900.0 => {
            notes.push(format!(
                "churn not read: Prometheus has been up {:.0} min, and the series its start created are not churn (read after 65 min); none assumed",
                (up / 60.0).floor()
            ));
            None
        }
        (Some(_), Some(created)) => {
            let share = (created / series.max(1) as f64).min(1.0);
            Some(Churn { created_per_hour: created, share_per_hour: share })
        }
        _ => {
            notes
                .push("no prometheus_tsdb_head_series_created_total or process_start_time_seconds (not a Prometheus scraping itself): no churn assumed".into());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_scrape_interval_is_the_median_gap_between_samples() {
        assert_eq!(super::median_gap(&[0.0, 15.0, 30.0, 46.0, 60.0]), Some(15.0));
        assert_eq!(super::median_gap(&[10.0]), None);
    }
}
