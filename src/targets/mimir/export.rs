//! `run --export-metrics URL`: a run's figures streamed to a remote-write endpoint while it runs,
//! so a CI run, a capacity search or the canary can be watched live in Grafana. Each results
//! interval, as it closes, becomes samples stamped at its end and labelled with the run id, the
//! scenario and the path: the interval's calls by class and its latency p50/p99 (gauges), and
//! running totals of calls by class (counters, for `rate()`). They leave through the load's own
//! remote-write pieces: remote-write 1.0 protobuf + snappy, the same classification of answers,
//! and Prometheus's queue rules (`queue::policy`): one sender, in order, a batch of at most
//! `max_samples_per_send`, 5xx/timeouts retried with backoff, other 4xx refused and counted. A
//! tenant of its own (`--export-tenant`) keeps the figures apart from the load's.

use super::config::QueueSection;
use super::write::classify::{classify, retry_after};
use super::write::headers_for;
use super::write::proto::{Label, Sample, TimeSeries, WriteRequest};
use super::write::queue::policy::{decide, Backoff, Decision};
use crate::client::http::{join_uri, HttpTarget};
use crate::report::intervals::ClosedInterval;
use crate::scenario::Connection;
use bytes::Bytes;
use http::Method;
use prost::Message;
use std::collections::BTreeMap;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// Where the figures go and how.
#[derive(Clone, Debug)]
pub struct ExportSettings {
    pub url: String,
    pub tenant: Option<String>,
    /// The scenario's name (label `scenario`).
    pub scenario: String,
    pub queue: QueueSection,
}

/// What the export came to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportSummary {
    pub intervals: u64,
    pub samples_sent: u64,
    pub samples_refused: u64,
    pub retries: u64,
    /// The last refusal or failure in words.
    pub last_error: Option<String>,
}

impl ExportSummary {
    pub fn line(&self, url: &str) -> String {
        let mut s = format!("exported {} interval(s), {} samples, to {url}", self.intervals, self.samples_sent);
        if self.samples_refused > 0 || self.retries > 0 {
            s += &format!("; {} samples refused, {} retries", self.samples_refused, self.retries);
        }
        if let Some(e) = &self.last_error {
            s += &format!(" (last: {e})");
        }
        s
    }
}

/// The series of the figures: metric names and what they hold.
pub const INTERVAL_CALLS: &str = "lgtm_bench_interval_calls";
pub const INTERVAL_LATENCY: &str = "lgtm_bench_interval_latency_seconds";
pub const CALLS_TOTAL: &str = "lgtm_bench_calls_total";

/// The samples of one closed interval: per path its calls (all classes, and by class) and latency
/// p50/p99 in the interval, and the running totals by class (`totals` carries them on).
pub fn interval_series(closed: &ClosedInterval, scenario: &str, totals: &mut BTreeMap<(String, String), u64>, now_ms: i64) -> Vec<TimeSeries> {
    // At its end, or now for the last interval a run stopped in (never in the future).
    let at = closed.end_unix_ms().min(now_ms);
    let series = |name: &str, path: &str, extra: &[(&str, &str)], value: f64| {
        let mut labels = vec![
            Label { name: "__name__".into(), value: name.into() },
            Label { name: "path".into(), value: path.into() },
            Label { name: "run_id".into(), value: closed.run_id.clone() },
            Label { name: "scenario".into(), value: scenario.into() },
            Label { name: "target".into(), value: crate::stats::paths::target_of(path).into() },
        ];
        labels.extend(extra.iter().map(|(k, v)| Label { name: (*k).into(), value: (*v).into() }));
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        TimeSeries { labels, samples: vec![Sample { value, timestamp: at }], ..Default::default() }
    };
    let mut out = Vec::new();
    for (path, p) in &closed.paths {
        out.push(series(INTERVAL_CALLS, path, &[("class", "all")], p.calls as f64));
        for (class, n) in &p.outcomes {
            out.push(series(INTERVAL_CALLS, path, &[("class", class)], *n as f64));
            *totals.entry((path.clone(), class.clone())).or_default() += n;
        }
        for (q, v) in [("0.5", p.p50_us), ("0.99", p.p99_us)] {
            if let Some(us) = v {
                out.push(series(INTERVAL_LATENCY, path, &[("quantile", q)], us as f64 / 1e6));
            }
        }
    }
    for ((path, class), n) in totals.iter() {
        out.push(series(CALLS_TOTAL, path, &[("class", class)], *n as f64));
    }
    out
}

/// An empty write, before the run: `Err((true, why))` when the endpoint does not answer,
/// `Err((false, why))` when it refuses remote-write.
/// (`preflight::check_write` does the same for the load, but its fixes name the load's keys.)
pub async fn preflight(settings: &ExportSettings) -> Result<(), (bool, String)> {
    let (http, uri) = client(settings).map_err(|e| (false, e))?;
    let body = Bytes::from(snap::raw::Encoder::new().compress_vec(&WriteRequest::default().encode_to_vec()).unwrap_or_default());
    match http.send(0, Method::POST, &uri, &headers_for(super::config::WriteProtocol::Rw1), body).await {
        Ok(a) if a.status.is_success() => Ok(()),
        Ok(a) => Err((
            false,
            format!(
                "{}: is it a remote-write endpoint (Prometheus: --web.enable-remote-write-receiver, /api/v1/write; Mimir: /api/v1/push with --export-tenant)?",
                super::write::classify::in_words(&a)
            ),
        )),
        Err(e) => Err((true, format!("did not answer: {e}"))),
    }
}

/// Starts the exporter: closed intervals go to the returned sender; the task ends once the sender
/// is dropped and everything is sent (or refused), with its summary.
pub fn start(settings: ExportSettings) -> Result<(UnboundedSender<ClosedInterval>, tokio::task::JoinHandle<ExportSummary>), String> {
    let (http, uri) = client(&settings)?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    Ok((tx, tokio::spawn(send_all(rx, http, uri, settings))))
}

/// The export's client (its own tenant) and endpoint.
fn client(settings: &ExportSettings) -> Result<(HttpTarget, http::Uri), String> {
    let connection = Connection { tenant: settings.tenant.clone(), ..Connection::default() };
    let http = HttpTarget::new(&connection, 1).map_err(|e| format!("--export-metrics: {e}"))?;
    let uri = join_uri(&settings.url, "").map_err(|e| format!("--export-metrics {}: {e}", settings.url))?;
    Ok((http, uri))
}

async fn send_all(mut rx: UnboundedReceiver<ClosedInterval>, http: HttpTarget, uri: http::Uri, settings: ExportSettings) -> ExportSummary {
    let mut summary = ExportSummary::default();
    let mut totals = BTreeMap::new();
    let headers = headers_for(super::config::WriteProtocol::Rw1);
    while let Some(closed) = rx.recv().await {
        summary.intervals += 1;
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let series = interval_series(&closed, &settings.scenario, &mut totals, now_ms);
        for batch in series.chunks(settings.queue.max_samples_per_send.max(1)) {
            let body = WriteRequest { timeseries: batch.to_vec(), ..Default::default() }.encode_to_vec();
            let body = Bytes::from(snap::raw::Encoder::new().compress_vec(&body).unwrap_or_default());
            let mut backoff = Backoff::new(settings.queue.min_backoff.get(), settings.queue.max_backoff.get());
            loop {
                let (class, wait, words) = match http.send(0, Method::POST, &uri, &headers, body.clone()).await {
                    Ok(a) => (classify(a.status, &a.body), retry_after(&a.headers), super::write::classify::in_words(&a)),
                    Err(e) => (e.class(), None, e.to_string()),
                };
                match decide(class, true) {
                    Decision::Delivered => {
                        summary.samples_sent += batch.len() as u64;
                        break;
                    }
                    Decision::Refused => {
                        summary.samples_refused += batch.len() as u64;
                        summary.last_error = Some(words);
                        break;
                    }
                    Decision::Retry => {
                        summary.retries += 1;
                        summary.last_error = Some(words);
                        tokio::time::sleep(backoff.wait(wait)).await;
                    }
                }
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::intervals::IntervalPath;

    #[test]
    fn an_interval_becomes_its_calls_by_class_latency_and_running_totals_at_its_end() {
        let path = IntervalPath {
            calls: 3,
            p50_us: Some(1500),
            p99_us: Some(9000),
            outcomes: BTreeMap::from([("success".into(), 2), ("server_error".into(), 1)]),
            ..Default::default()
        };
        let closed = |index| ClosedInterval {
            run_id: "r1".into(),
            index,
            start_unix_ms: 1_000_000 + index as i64 * 2000,
            length_ms: 2000,
            paths: BTreeMap::from([("mimir.write".into(), path.clone())]),
            latency_by_class: BTreeMap::new(),
            memory: Default::default(),
        };
        let mut totals = BTreeMap::new();
        interval_series(&closed(0), "s", &mut totals, i64::MAX);
        let second = interval_series(&closed(1), "s", &mut totals, i64::MAX);
        let cut = interval_series(&closed(2), "s", &mut BTreeMap::new(), 1_005_000);
        assert_eq!(cut[0].samples[0].timestamp, 1_005_000, "an interval still running is stamped now, not at its end");
        let value = |name: &str, extra: (&str, &str)| {
            second
                .iter()
                .find(|t| t.labels.iter().any(|l| l.name == "__name__" && l.value == name) && t.labels.iter().any(|l| l.name == extra.0 && l.value == extra.1))
                .map(|t| (t.samples[0].value, t.samples[0].timestamp))
        };
        assert_eq!(value(INTERVAL_CALLS, ("class", "all")), Some((3.0, 1_004_000)), "stamped at the interval's end");
        assert_eq!(value(INTERVAL_LATENCY, ("quantile", "0.99")), Some((0.009, 1_004_000)));
        assert_eq!(value(CALLS_TOTAL, ("class", "success")), Some((4.0, 1_004_000)), "totals run on");
        assert!(second.iter().all(|t| t.labels.windows(2).all(|w| w[0].name < w[1].name)), "labels sorted");
        assert!(second[0].labels.iter().any(|l| l.name == "target" && l.value == "mimir"));
    }
}
