//! OTLP metrics at Mimir's `/otlp/v1/metrics` (OTLP/HTTP, protobuf, gzip optional): the same
//! series model sent as an OpenTelemetry SDK or collector would, each instance one data point of
//! its family's metric (counters monotonic cumulative sums, gauges, explicit-bucket histograms,
//! summaries, exponential histograms). The target's name translation decides the names read back:
//! with `otlp_names = "suffixes"` (Mimir's and Cortex's default) a family is sent without its
//! `_total` and unit suffix and with an OTLP unit, so the target rebuilds the Prometheus name;
//! with `none` it is sent as named. `service.name` = `lgtm-bench` becomes the `job` label.

use super::families::{Family, Member};
use super::series::{SeriesSet, JOB};
use crate::targets::mimir::config::{FamilyKind, OtlpNames};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point, summary_data_point::ValueAtQuantile, AggregationTemporality,
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use std::collections::BTreeMap;

/// The OTLP unit of a family's unit word, as the target maps it back to a suffix (UCUM).
pub fn otlp_unit(unit: &str) -> &str {
    match unit {
        "seconds" => "s",
        "milliseconds" => "ms",
        "bytes" => "By",
        "celsius" => "Cel",
        "ratio" => "1",
        other => other,
    }
}

/// The name and unit a family is sent under so that the target's translation yields its name.
pub fn otlp_name(f: &Family, names: OtlpNames) -> (String, String) {
    if names == OtlpNames::None {
        return (f.name.clone(), String::new());
    }
    let mut name = f.name.as_str();
    if f.kind == FamilyKind::Counter {
        name = name.strip_suffix("_total").unwrap_or(name);
    }
    if !f.unit.is_empty() {
        name = name.strip_suffix(&format!("_{}", f.unit)).unwrap_or(name);
    }
    (name.to_string(), otlp_unit(&f.unit).to_string())
}

fn kv(key: &str, value: String) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value)) }) }
}

/// What one built request carries: data points, and the series the target makes of them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BuiltMetrics {
    pub data_points: u64,
    pub series_samples: u64,
}

/// Builds OTLP metrics requests from the series model.
pub struct OtlpMetricsBuilder {
    pub series: std::sync::Arc<SeriesSet>,
    pub names: OtlpNames,
    pub start_unix_ns: u64,
}

impl OtlpMetricsBuilder {
    /// The request for the series of request `seq` at `timestamp_ms`: one data point for each
    /// instance whose first series falls in it (its other series belong to that data point).
    pub fn build(&self, seq: u64, timestamp_ms: i64, offset_ms: u64) -> (Vec<u8>, BuiltMetrics) {
        let set = &*self.series;
        let time = timestamp_ms as u64 * 1_000_000;
        let mut metrics: BTreeMap<usize, Metric> = BTreeMap::new();
        let mut built = BuiltMetrics::default();
        for k in 0..set.per_request.min(set.active) {
            let index = set.series_in_request(seq, k);
            let p = set.place(index);
            if !matches!(p.member, Member::Plain | Member::Native | Member::Bucket(0) | Member::Quantile(0)) {
                continue;
            }
            let id = set.series_id(index, offset_ms);
            let attributes: Vec<KeyValue> = set
                .labels(index, id)
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "__name__" | "job" | "le" | "quantile"))
                .map(|(k, v)| kv(&k, v))
                .collect();
            let family_index = set.families().iter().position(|f| std::ptr::eq(f, p.family)).unwrap_or(0);
            let metric = metrics.entry(family_index).or_insert_with(|| self.empty_metric(p.family));
            built.data_points += 1;
            built.series_samples += p.family.width();
            self.add_point(metric, index, seq, attributes, time);
        }
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource { attributes: vec![kv("service.name", JOB.into())], dropped_attributes_count: 0, entity_refs: vec![] }),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: "lgtm-bench".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                        attributes: vec![],
                        dropped_attributes_count: 0,
                    }),
                    metrics: metrics.into_values().collect(),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        (request.encode_to_vec(), built)
    }

    fn empty_metric(&self, f: &Family) -> Metric {
        let (name, unit) = otlp_name(f, self.names);
        let cumulative = AggregationTemporality::Cumulative as i32;
        let data = match f.kind {
            FamilyKind::Counter => Data::Sum(Sum { data_points: vec![], aggregation_temporality: cumulative, is_monotonic: true }),
            FamilyKind::Gauge => Data::Gauge(Gauge { data_points: vec![] }),
            FamilyKind::Histogram => Data::Histogram(Histogram { data_points: vec![], aggregation_temporality: cumulative }),
            FamilyKind::Summary => Data::Summary(Summary { data_points: vec![] }),
            FamilyKind::NativeHistogram => Data::ExponentialHistogram(ExponentialHistogram { data_points: vec![], aggregation_temporality: cumulative }),
        };
        Metric { name, description: f.help.clone(), unit, metadata: vec![], data: Some(data) }
    }

    /// Adds the data point of series `index`'s instance at request `seq`, with the same values the
    /// remote-write path writes for its series.
    fn add_point(&self, metric: &mut Metric, index: u64, seq: u64, attributes: Vec<KeyValue>, time: u64) {
        let set = &*self.series;
        let start = self.start_unix_ns;
        match metric.data.as_mut() {
            Some(Data::Sum(s)) => {
                let mut point = number(attributes, start, time, set.value(seq, index));
                point.exemplars.extend(self.exemplar(seq, index, time));
                s.data_points.push(point);
            }
            Some(Data::Gauge(g)) => g.data_points.push(number(attributes, start, time, set.value(seq, index))),
            Some(Data::Histogram(h)) => {
                let f = set.place(index).family;
                // The instance's members follow its first: buckets (cumulative), +Inf, _sum, _count.
                let cumulative: Vec<u64> = (0..=f.bounds.len() as u64).map(|b| set.value(seq, index + b) as u64).collect();
                let bucket_counts = cumulative.iter().scan(0, |prev, c| Some(c - std::mem::replace(prev, *c))).collect();
                let sum = set.value(seq, index + f.bounds.len() as u64 + 1);
                h.data_points.push(HistogramDataPoint {
                    attributes,
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    count: cumulative.last().copied().unwrap_or(0),
                    sum: Some(sum),
                    bucket_counts,
                    explicit_bounds: f.bounds.clone(),
                    exemplars: (0..=f.bounds.len() as u64).filter_map(|b| self.exemplar(seq, index + b, time)).collect(),
                    ..Default::default()
                });
            }
            Some(Data::Summary(s)) => {
                let f = set.place(index).family;
                let q = f.quantiles.len() as u64;
                s.data_points.push(SummaryDataPoint {
                    attributes,
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    count: set.value(seq, index + q + 1) as u64,
                    sum: set.value(seq, index + q),
                    quantile_values: f
                        .quantiles
                        .iter()
                        .enumerate()
                        .map(|(i, quantile)| ValueAtQuantile { quantile: *quantile, value: set.value(seq, index + i as u64) })
                        .collect(),
                    flags: 0,
                });
            }
            Some(Data::ExponentialHistogram(e)) => {
                let h = set.native(seq, index);
                e.data_points.push(ExponentialHistogramDataPoint {
                    attributes,
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    count: h.count,
                    sum: Some(h.sum),
                    scale: h.schema,
                    zero_count: h.zero_count,
                    // OTLP's bucket i is (base^i, base^(i+1)]; Prometheus's bucket i is (base^(i-1), base^i].
                    positive: Some(Buckets { offset: h.offset - 1, bucket_counts: h.counts.clone() }),
                    zero_threshold: super::families::ZERO_THRESHOLD,
                    ..Default::default()
                });
            }
            None => {}
        }
    }
}

impl OtlpMetricsBuilder {
    /// The exemplar series `index` carries at request `seq`, as OTLP writes one.
    fn exemplar(&self, seq: u64, index: u64, time: u64) -> Option<opentelemetry_proto::tonic::metrics::v1::Exemplar> {
        let (trace, value) = self.series.exemplar(seq, index)?;
        Some(opentelemetry_proto::tonic::metrics::v1::Exemplar {
            time_unix_nano: time,
            trace_id: self.series.trace_id(trace).to_vec(),
            value: Some(opentelemetry_proto::tonic::metrics::v1::exemplar::Value::AsDouble(value)),
            ..Default::default()
        })
    }
}

fn number(attributes: Vec<KeyValue>, start: u64, time: u64, value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

/// The OTLP metrics load: one request per tick, as the remote-write direct service sends.
pub struct OtlpMetricsWrite {
    pub target: crate::client::http::HttpTarget,
    pub uri: http::Uri,
    pub builder: OtlpMetricsBuilder,
    pub path: crate::stats::PathId,
    pub clock: crate::workload::RunClock,
    pub connections: usize,
    pub gzip: bool,
    pub visibility: Option<crate::engine::readback::Feed<crate::targets::mimir::readback::WrittenSample>>,
}

/// The headers of an OTLP/HTTP protobuf request.
pub fn headers(gzip: bool) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/x-protobuf"));
    if gzip {
        h.insert(http::header::CONTENT_ENCODING, http::HeaderValue::from_static("gzip"));
    }
    h
}

/// Gzips a request body.
pub fn gzipped(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(body);
    e.finish().unwrap_or_default()
}

/// An OTLP answer's class, the items it refused, and words for an example.
pub fn judge(answer: &crate::client::http::Answer) -> (crate::stats::OutcomeClass, u64, String) {
    use crate::stats::OutcomeClass;
    let class = super::classify::classify(answer.status, &answer.body);
    if !class.is_success() {
        return (class, 0, super::classify::in_words(answer));
    }
    match rejected(&answer.body) {
        Ok(0) => (OutcomeClass::Success, 0, String::new()),
        Ok(n) => (OutcomeClass::PartialSuccess, n, format!("HTTP {}: {n} data points rejected (partial_success)", answer.status.as_u16())),
        Err(e) => (OutcomeClass::BadResponse, 0, format!("HTTP {}: the answer is not an ExportMetricsServiceResponse: {e}", answer.status.as_u16())),
    }
}

impl crate::workload::Workload for OtlpMetricsWrite {
    type State = usize;

    fn path_of(&self, _: &crate::workload::Ticket) -> crate::stats::PathId {
        self.path
    }

    fn new_state(&self, worker: usize) -> usize {
        worker % self.connections.max(1)
    }

    async fn call(&self, pool: &mut usize, ticket: crate::workload::Ticket) -> crate::workload::CallOutcome {
        let timestamp_ms = self.clock.unix_ms(ticket.intended);
        let offset_ms = self.clock.offset_ms(ticket.intended);
        let (body, built) = self.builder.build(ticket.seq, timestamp_ms, offset_ms);
        let body = if self.gzip { gzipped(&body) } else { body };
        let sent_at = tokio::time::Instant::now();
        let (class, rejected, words) = match self.target.send(*pool, http::Method::POST, &self.uri, &headers(self.gzip), bytes::Bytes::from(body)).await {
            Ok(a) => judge(&a),
            Err(e) => (e.class(), 0, e.to_string()),
        };
        let set = &self.builder.series;
        let first = set.series_in_request(ticket.seq, 0);
        let id = set.series_id(first, offset_ms);
        if class.is_success() && ticket.measured {
            if let Some(feed) = self.visibility.as_ref().filter(|f| f.wants(ticket.seq)) {
                feed.offer(crate::targets::mimir::readback::WrittenSample {
                    selector: set.read_back_query(first, id),
                    timestamp_ms,
                    value: set.value(ticket.seq, first),
                    acked: tokio::time::Instant::now(),
                });
            }
        }
        let key = || format!("request {} ({} data points), first {}", ticket.seq, built.data_points, set.selector(first, id));
        crate::workload::CallOutcome { path: self.path, class, sent_at, items: built.series_samples, retries: 0, rejected, detail: None, parts: vec![] }
            .with_detail(key, || words)
    }
}

/// The data points a successful answer says were rejected (`partial_success`); an empty body (as
/// Mimir and Cortex answer) rejects none.
pub fn rejected(body: &[u8]) -> Result<u64, prost::DecodeError> {
    Ok(ExportMetricsServiceResponse::decode(body)?.partial_success.map_or(0, |p| p.rejected_data_points as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::mimir::config::{FamilySpec, SeriesModel};
    use crate::units::Dur;

    fn family(name: &str, kind: FamilyKind, unit: &str) -> FamilySpec {
        FamilySpec {
            name: name.into(),
            kind,
            share: 1.0,
            buckets: Some(vec![0.1, 1.0]),
            quantiles: None,
            schema: 2,
            native_buckets: 3,
            help: None,
            unit: (!unit.is_empty()).then(|| unit.into()),
            labels: None,
        }
    }

    fn set() -> std::sync::Arc<SeriesSet> {
        let model = SeriesModel {
            active: 60,
            metrics: vec![],
            labels: vec![],
            samples_per_request: 60,
            scrape_interval: None,
            churn_share: 0.0,
            churn_period: Dur::secs(60),
            families: vec![
                family("bench_requests_total", FamilyKind::Counter, ""),
                family("bench_temperature_celsius", FamilyKind::Gauge, "celsius"),
                family("bench_latency_seconds", FamilyKind::Histogram, "seconds"),
                family("bench_gc_seconds", FamilyKind::Summary, "seconds"),
                family("bench_payload_size_bytes", FamilyKind::NativeHistogram, "bytes"),
            ],
            preset: None,
            exemplar_share: 0.0,
        };
        std::sync::Arc::new(SeriesSet::new(&model, "run1", 3))
    }

    #[test]
    fn names_are_sent_so_the_targets_translation_yields_the_family_name() {
        // As recorded against Cortex (tests/fixtures/mimir-rw2-otlp): a monotonic Sum `bench.requests`
        // becomes bench_requests_total, a Gauge in `Cel` bench_temperature_celsius, a histogram in
        // `s` bench_latency_seconds_*, an exponential histogram in `By` bench_payload_size_bytes.
        let s = set();
        let sent: Vec<(String, String)> = s.families().iter().map(|f| otlp_name(f, OtlpNames::Suffixes)).collect();
        assert_eq!(
            sent,
            [("bench_requests", ""), ("bench_temperature", "Cel"), ("bench_latency", "s"), ("bench_gc", "s"), ("bench_payload_size", "By")]
                .map(|(n, u)| (n.to_string(), u.to_string()))
        );
        assert_eq!(otlp_name(&s.families()[0], OtlpNames::None), ("bench_requests_total".to_string(), String::new()));
    }

    #[test]
    fn a_request_decodes_field_by_field_with_the_values_remote_write_sends() {
        let s = set();
        let b = OtlpMetricsBuilder { series: s.clone(), names: OtlpNames::Suffixes, start_unix_ns: 1 };
        let (body, built) = b.build(4, 1_800_000_000_000, 0);
        let req = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap();
        let rm = &req.resource_metrics[0];
        assert_eq!(rm.resource.as_ref().unwrap().attributes[0].key, "service.name");
        let metrics = &rm.scope_metrics[0].metrics;
        assert_eq!(metrics.len(), 5);
        let instances: u64 = s.families().iter().map(|f| f.instances).sum();
        assert_eq!(built, BuiltMetrics { data_points: instances, series_samples: s.active });
        for m in metrics {
            let f = s.families().iter().find(|f| otlp_name(f, OtlpNames::Suffixes).0 == m.name).unwrap();
            let index = f.first_series;
            match m.data.as_ref().unwrap() {
                Data::Sum(sum) => {
                    assert!(sum.is_monotonic && sum.aggregation_temporality == AggregationTemporality::Cumulative as i32);
                    assert_eq!(sum.data_points[0].value, Some(number_data_point::Value::AsDouble(s.value(4, index))));
                    assert_eq!(sum.data_points[0].time_unix_nano, 1_800_000_000_000_000_000);
                }
                Data::Histogram(h) => {
                    let p = &h.data_points[0];
                    assert_eq!(p.explicit_bounds, [0.1, 1.0]);
                    assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count, "non-cumulative buckets add up to the count");
                    assert_eq!(p.count as f64, s.value(4, index + 4), "the _count series' value");
                    assert_eq!(p.sum, Some(s.value(4, index + 3)));
                    assert!(p.attributes.iter().all(|a| a.key != "le"));
                }
                Data::Summary(sm) => {
                    let p = &sm.data_points[0];
                    assert_eq!(p.quantile_values.iter().map(|q| q.quantile).collect::<Vec<_>>(), [0.5, 0.9, 0.99]);
                    assert_eq!(p.quantile_values[0].value, s.value(4, index));
                }
                Data::ExponentialHistogram(e) => {
                    let p = &e.data_points[0];
                    let h = s.native(4, index);
                    assert_eq!((p.count, p.scale, p.zero_count), (h.count, 2, h.zero_count));
                    assert_eq!(p.positive.as_ref().unwrap().offset, h.offset - 1);
                    assert_eq!(p.positive.as_ref().unwrap().bucket_counts.iter().sum::<u64>() + p.zero_count, p.count);
                }
                Data::Gauge(g) => assert_eq!(g.data_points[0].value, Some(number_data_point::Value::AsDouble(s.value(4, index)))),
            }
        }
    }

    #[test]
    fn an_empty_success_rejects_nothing_and_a_partial_success_is_counted() {
        assert_eq!(rejected(b"").unwrap(), 0);
        let partial = ExportMetricsServiceResponse {
            partial_success: Some(opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsPartialSuccess {
                rejected_data_points: 3,
                error_message: "x".into(),
            }),
        };
        assert_eq!(rejected(&partial.encode_to_vec()).unwrap(), 3);
    }
}
