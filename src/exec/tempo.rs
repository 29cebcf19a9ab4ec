//! The Tempo target in a run: clients and preflight, then OTLP trace load, Tempo query load,
//! trace read-back (by ID and by search) and memory watching.

use super::launch::{query_mode, Launch};
use super::runner::RunError;
use crate::generator::otlp_traces::payload::Template;
use crate::generator::otlp_traces::shape::{IdSource, Shape};
use crate::generator::otlp_traces::transport::{GrpcExporter, HttpExporter};
use crate::generator::otlp_traces::{AckLedger, Exporter, OtlpWrite};
use crate::probe::preflight;
use crate::probe::tempo::{ExpectedTrace, TempoApi, TempoQueries, TraceReadBack};
use crate::probe::{Prepared as Query, RotatingQueries};
use crate::probe::visibility;
use crate::scenario::{OtlpProtocol, RateUnit, TempoSection, TraceWrite};
use crate::target::http::{join_uri, HttpTarget};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Export requests per second for a write section and a template.
pub fn requests_per_second(w: &TraceWrite, template: &Template) -> f64 {
    match w.unit {
        RateUnit::Spans => w.rate / template.spans_per_request() as f64,
        RateUnit::Traces => w.rate / template.traces_per_request as f64,
    }
}

pub fn exporter(t: &TempoSection) -> Result<Exporter, RunError> {
    let (connections, gzip) = t.write.as_ref().map_or((1, false), |w| (w.connections, w.gzip));
    Ok(match t.protocol {
        OtlpProtocol::Grpc => Exporter::Grpc(GrpcExporter::new(&t.otlp_url, &t.connection, connections, gzip)?),
        OtlpProtocol::Http => Exporter::Http(HttpExporter {
            target: HttpTarget::new(&t.connection, connections)?,
            uri: join_uri(&t.otlp_url, "/v1/traces").expect("validated URL"),
            gzip,
        }),
    })
}

pub struct Prepared<'a> {
    t: &'a TempoSection,
    exporter: Exporter,
    api: TempoApi,
}

pub async fn prepare(t: &TempoSection) -> Result<Prepared<'_>, RunError> {
    let exporter = exporter(t)?;
    let api = TempoApi { target: HttpTarget::new(&t.connection, 4)?, base: t.query_url.trim_end_matches('/').to_string(), api: t.api };
    if t.write.is_some() {
        preflight::check_otlp(&exporter, &t.otlp_url).await?;
    }
    if !t.queries.is_empty() || t.visibility.is_some() {
        preflight::check_tempo_query(&api, true).await?;
    }
    Ok(Prepared { t, exporter, api })
}

impl Prepared<'_> {
    pub fn launch(self, l: &mut Launch) -> Result<(), RunError> {
        let Prepared { t, exporter, api } = self;
        let shape = Arc::new(Shape::new(&t.traces));
        let spans_per_request = t.write.as_ref().map_or(shape.spans_per_trace as u64, |w| w.spans_per_request);
        let template = Arc::new(Template::new(shape.clone(), &l.run_id, spans_per_request));
        let ids = IdSource::new(l.run.seed, &l.run_id);
        let ledger = Arc::new(AckLedger::default());
        let expected = ExpectedTrace {
            spans: shape.spans_per_trace,
            services: (0..shape.spans_per_trace).map(|j| shape.services[shape.service_of(j)].clone()).collect::<BTreeSet<_>>(),
            run_id: l.run_id.clone(),
        };
        if let Some(w) = &t.write {
            let path = l.table.register("tempo.write");
            let feed = t.visibility.as_ref().map(|v| {
                let by_id = l.table.register("tempo.visibility.by_id");
                let search = v.search.then(|| l.table.register("tempo.visibility.search"));
                let reader = TraceReadBack {
                    api: api.clone(),
                    expected: expected.clone(),
                    poll_interval: v.poll_interval.get(),
                    deadline: v.deadline.get(),
                    by_id,
                    search,
                };
                let (feed, checker) = visibility::channel(reader, v.sample_every, v.concurrency, by_id);
                l.checker(checker);
                feed
            });
            let rate = requests_per_second(w, &template);
            let writer = OtlpWrite {
                exporter,
                template: template.clone(),
                ids,
                path,
                clock: l.clock,
                connections: w.connections,
                ledger: ledger.clone(),
                visibility: feed,
            };
            l.open_loop(writer, rate, w.max_in_flight, "tempo.write");
        }
        if !t.queries.is_empty() {
            let names: Vec<String> = t.queries.iter().map(|q| format!("tempo.query.{}", q.name)).collect();
            let queries = t.queries.iter().zip(&names).map(|(q, n)| Query { spec: q.clone(), path: l.table.register(n.clone()) }).collect();
            let runner = TempoQueries {
                api,
                ledger,
                ids,
                traces_per_request: template.traces_per_request as u64,
                expected,
                run_id: l.run_id.clone(),
            };
            let load = RotatingQueries { runner, queries, connections: 4 };
            l.query_load(load, query_mode(t.query_load.as_ref()), "tempo.query", names);
        }
        if let Some(mem) = &t.memory {
            l.memory("tempo", mem, &t.connection)?;
        }
        Ok(())
    }
}

/// What `validate` prints for the Tempo section.
pub fn describe(t: &TempoSection, run: &crate::scenario::RunSection) -> String {
    let shape = Shape::new(&t.traces);
    let mut out = format!(
        "tempo traces: {} spans each ({} levels × fan-out {}) over {} services, {:.1}% with an error\n",
        shape.spans_per_trace, t.traces.depth, t.traces.fanout, shape.services.len(), t.traces.error_ratio * 100.0
    );
    if let Some(w) = &t.write {
        let template = Template::new(Arc::new(shape), "describe", w.spans_per_request);
        let rps = requests_per_second(w, &template);
        let spans = rps * template.spans_per_request() as f64;
        let planned = Schedule::open_loop(rps, run.warmup.get(), run.ramp.get(), run.duration.get()).planned_measured_calls();
        out += &format!(
            "tempo.write: OTLP/{} to {} at {rps:.2} Export/s × {} spans ({} traces, ~{} KiB) = {spans:.0} spans/s; ~{planned:.0} measured requests; at most {} in flight over {} connection(s){}\n",
            format!("{:?}", t.protocol).to_lowercase(), t.otlp_url, template.spans_per_request(), template.traces_per_request, template.encoded_len() / 1024,
            w.max_in_flight, w.connections, if w.gzip { ", gzip" } else { "" }
        );
    }
    for q in &t.queries {
        out += &format!("tempo.query.{}: {:?}{}\n", q.name, q.kind, q.query.as_ref().map_or(String::new(), |s| format!(" `{s}`")));
    }
    if let Some(v) = &t.visibility {
        out += &format!(
            "tempo.visibility: every {}th acknowledged Export read back by ID{}, polling every {}, lost after {}\n",
            v.sample_every, if v.search { " and by TraceQL search" } else { "" }, v.poll_interval, v.deadline
        );
    }
    out
}

use super::schedule::Schedule;
