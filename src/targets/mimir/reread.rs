//! The canary's long-horizon read-back for Mimir: the sample a run wrote at any instant follows
//! from its scenario (series model, rate, warm-up), seed, run id and clock start, exactly as it was
//! written (the first series of the request sent at or before that instant, its value and
//! timestamp), so it is rebuilt and asked for with an instant query at its own timestamp, however
//! old. Found with its value, or lost. Remote-write 1.0 and 2.0 write that series in that request;
//! OTLP writes each instance's data point with its first member, so a series later in an instance
//! was written (same value, same scrape pass) by an earlier request of the pass, which the instant
//! query's look-back finds.

use super::readback::answer_shows;
use super::write::series::SeriesSet;
use crate::client::promql::{classify_query, PromApi};
use crate::engine::reread::{Outcome, Reading, ReadingFuture, Reread, Writes};

pub struct MimirReread {
    pub api: PromApi,
    pub series: SeriesSet,
    pub writes: Writes,
}

/// The sample a run wrote at an instant: series `series` (its selector), which asked for at
/// `timestamp_ms` must show `value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    pub series: u64,
    pub selector: String,
    pub timestamp_ms: i64,
    pub value: f64,
}

/// What a run wrote at (or last before) `at_unix_ms`: the first series of that request.
pub fn written_at(series: &SeriesSet, writes: &Writes, at_unix_ms: i64) -> Option<Expected> {
    let (seq, timestamp_ms) = writes.request_at(at_unix_ms)?;
    let offset_ms = timestamp_ms - writes.written.start_unix_ms;
    let index = series.series_in_request(seq, 0);
    let selector = series.read_back_query(index, series.series_id(index, offset_ms as u64));
    Some(Expected { series: index, selector, timestamp_ms, value: series.value(seq, index) })
}

impl Reread for MimirReread {
    fn target(&self) -> &'static str {
        "mimir"
    }

    fn check(&self, at_unix_ms: i64) -> ReadingFuture<'_> {
        Box::pin(async move {
            let Expected { selector, timestamp_ms, value, .. } = written_at(&self.series, &self.writes, at_unix_ms)?;
            let what = format!("{selector} = {value} at {}", crate::units::rfc3339_ms(timestamp_ms));
            let outcome = match self.api.instant(0, &selector, timestamp_ms as f64 / 1000.0).await {
                Ok(answer) if classify_query(&answer).0.is_success() => {
                    if answer_shows(&answer.body, value) {
                        Outcome::Found
                    } else {
                        Outcome::Lost
                    }
                }
                _ => Outcome::Unanswered,
            };
            Some(Reading { outcome, what })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::reread::Written;
    use crate::engine::schedule::Schedule;
    use crate::targets::mimir::config::{FamilyKind, FamilySpec, OtlpNames, SeriesModel};
    use crate::targets::mimir::write::families::Member;
    use crate::targets::mimir::write::otlp::OtlpMetricsBuilder;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
    use prost::Message;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    /// Every kind, with requests (7 series) that cut through instances (a histogram is 5 series,
    /// a summary 4): the series a re-read asks for is often not its instance's first.
    fn set() -> Arc<SeriesSet> {
        let family = |name: &str, kind| FamilySpec {
            name: name.into(),
            kind,
            share: 1.0,
            buckets: Some(vec![0.1, 1.0]),
            quantiles: Some(vec![0.5, 0.9]),
            schema: 2,
            native_buckets: 3,
            help: None,
            unit: None,
            labels: None,
        };
        let model = SeriesModel {
            active: 60,
            metrics: vec![],
            labels: vec![],
            samples_per_request: 7,
            scrape_interval: None,
            churn_share: 0.0,
            churn_period: crate::units::Dur::secs(60),
            families: vec![
                family("rr_requests_total", FamilyKind::Counter),
                family("rr_temperature", FamilyKind::Gauge),
                family("rr_latency_seconds", FamilyKind::Histogram),
                family("rr_gc_seconds", FamilyKind::Summary),
                family("rr_size_bytes", FamilyKind::NativeHistogram),
            ],
            preset: None,
            exemplar_share: 0.0,
        };
        Arc::new(SeriesSet::new(&model, "rr01", 5))
    }

    /// The samples, by series index, that one OTLP request gives the target once translated: each
    /// data point's members (buckets cumulative, `_sum`, `_count`; a native histogram's count).
    fn translated(set: &SeriesSet, seq: u64, time_ms: i64) -> BTreeMap<u64, (i64, f64)> {
        let b = OtlpMetricsBuilder { series: Arc::new(set.clone()), names: OtlpNames::None, start_unix_ns: 1 };
        let (body, _) = b.build(seq, time_ms, 0);
        let request = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap();
        let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
        let attributes_of = |index: u64| -> Vec<(String, String)> {
            set.labels(index, set.series_id(index, 0)).into_iter().filter(|(k, _)| !matches!(k.as_str(), "__name__" | "job" | "le" | "quantile")).collect()
        };
        let mut samples = BTreeMap::new();
        for k in 0..set.per_request {
            let first = set.series_in_request(seq, k);
            let p = set.place(first);
            if !matches!(p.member, Member::Plain | Member::Native | Member::Bucket(0) | Member::Quantile(0)) {
                continue;
            }
            let metric = metrics.iter().find(|m| m.name == p.family.name).unwrap();
            let want = attributes_of(first);
            let matches = |a: &[opentelemetry_proto::tonic::common::v1::KeyValue]| {
                let mut got: Vec<(String, String)> = a
                    .iter()
                    .map(|kv| {
                        (
                            kv.key.clone(),
                            match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                                Some(Any::StringValue(s)) => s.clone(),
                                _ => String::new(),
                            },
                        )
                    })
                    .collect();
                got.sort();
                let mut want = want.clone();
                want.sort();
                got == want
            };
            let number = |v: Option<number_data_point::Value>| match v {
                Some(number_data_point::Value::AsDouble(d)) => d,
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                None => f64::NAN,
            };
            let values: Vec<f64> = match metric.data.as_ref().unwrap() {
                Data::Sum(d) => vec![number(d.data_points.iter().find(|p| matches(&p.attributes)).unwrap().value)],
                Data::Gauge(d) => vec![number(d.data_points.iter().find(|p| matches(&p.attributes)).unwrap().value)],
                Data::Histogram(d) => {
                    let point = d.data_points.iter().find(|p| matches(&p.attributes)).unwrap();
                    let cumulative = point.bucket_counts.iter().scan(0u64, |a, c| {
                        *a += c;
                        Some(*a as f64)
                    });
                    cumulative.chain([point.sum.unwrap(), point.count as f64]).collect()
                }
                Data::Summary(d) => {
                    let point = d.data_points.iter().find(|p| matches(&p.attributes)).unwrap();
                    point.quantile_values.iter().map(|q| q.value).chain([point.sum, point.count as f64]).collect()
                }
                Data::ExponentialHistogram(d) => vec![d.data_points.iter().find(|p| matches(&p.attributes)).unwrap().count as f64],
            };
            for (member, value) in values.into_iter().enumerate() {
                samples.insert(first + member as u64, (time_ms, value));
            }
        }
        samples
    }

    #[test]
    fn what_an_otlp_run_wrote_at_any_instant_is_what_the_instant_query_finds() {
        let set = set();
        let (rate, start) = (10.0, 1_800_000_000_000_i64);
        let schedule = Schedule::open_loop(rate, std::time::Duration::ZERO, std::time::Duration::ZERO, std::time::Duration::from_secs(30));
        let writes = Writes { written: Written { run_id: "rr01".into(), start_unix_ms: start, last_seen_unix_ms: start + 30_000 }, schedule, rate };
        // Every request the run sent, translated as the target stores it: each series' samples.
        let mut stored: BTreeMap<u64, Vec<(i64, f64)>> = BTreeMap::new();
        for seq in 0..300 {
            let at = start + writes.schedule.offset_of(seq).unwrap().as_millis() as i64;
            for (index, sample) in translated(&set, seq, at) {
                stored.entry(index).or_default().push(sample);
            }
        }
        let mut not_first = 0;
        for k in 0..2900 {
            let at = start + 100 + k * 10 + 3;
            let e = written_at(&set, &writes, at).unwrap();
            // What an instant query at the sample's timestamp answers: the series' newest sample
            // at or before it, within the 5-minute look-back.
            let samples = &stored[&e.series];
            let &(time, value) = samples.iter().rev().find(|(t, _)| *t <= e.timestamp_ms).unwrap_or_else(|| panic!("{e:?}: nothing written before"));
            assert!(e.timestamp_ms - time < 300_000 && time <= at, "{e:?}");
            assert_eq!(value, e.value, "{e:?} (stored at {time})");
            not_first += usize::from(time < e.timestamp_ms);
        }
        assert!(not_first > 0, "some re-reads ask for a series its instance's data point wrote with an earlier request");
    }
}
