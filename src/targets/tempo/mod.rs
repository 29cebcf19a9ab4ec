//! Tempo: everything lgtm-bench knows about it. `config` is its scenario section and `validate` its
//! checks; `otlp/` the trace load (shape, template, transport, classes), `query` the Tempo query
//! load, `readback` trace read-after-write, `preflight` the checks before any load. This file
//! resolves the section into the target's plan (trace shape and template built once) and starts
//! its workloads on the run's clock.

pub mod check;
pub mod config;
pub mod dashboards;
pub mod model;
pub mod otlp;
pub(crate) mod preflight;
pub mod query;
pub(crate) mod readback;
pub mod reread;
pub mod retention;
pub(crate) mod validate;

use crate::client::buildinfo::{self, BuildInfo};
use crate::client::http::{check_url, join_uri, HttpTarget};
use crate::engine::launch::Launch;
use crate::engine::plan::{describe_memory, spelled};
use crate::engine::queries::{Prepared as Query, QueryMode, RotatingQueries};
use crate::engine::readback::channel as read_back;
use crate::engine::schedule::Schedule;
use crate::engine::target::{concurrency_dimension, LoadDimension, PrepareFuture, Prepared, PreparedTarget, TargetError, TargetPaths, TargetPlan, WriteLoad};
use crate::scenario::shard::{shard_in_flight, shard_queries, Shard};
use crate::scenario::{MemorySection, Problem, RunSection};
use crate::stats::PathId;
use config::TempoQueryKind;
use config::{OtlpProtocol, RateUnit, TempoSection, TraceWrite};
use http::Uri;
use otlp::payload::Mix;
use otlp::shape::{IdSource, Shape};
use otlp::transport::{GrpcExporter, HttpExporter};
use otlp::{AckLedger, Exporter, OtlpWrite};
use query::{ExpectedTrace, Rechecks, TempoApi, TempoQueries};
use readback::{TraceReadBack, TraceRecheck};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Export requests per second for a write section and the mix of templates.
pub fn requests_per_second(w: &TraceWrite, mix: &Mix) -> f64 {
    match w.unit {
        RateUnit::Spans => w.rate / mix.mean_spans_per_request(),
        RateUnit::Traces => w.rate / mix.mean_traces_per_request(),
    }
}

/// The `[tempo]` section resolved: the trace shape and request template, built once, and the
/// OTLP/HTTP endpoint when that protocol is used.
pub struct TempoPlan {
    section: TempoSection,
    /// The trace shapes with their shares, summing to 1 (one shape unless `[[tempo.traces.variants]]`).
    shapes: Vec<(f64, Arc<Shape>)>,
    /// Spans asked per request (the template rounds them down to whole traces); the template
    /// itself carries the run id, so it is built when the run starts.
    spans_per_request: u64,
    otlp_http_uri: Option<Uri>,
    /// The dashboards read and planned (their Tempo panels).
    dashboards: Vec<crate::grafana::plan::PlannedDashboard>,
}

/// Checks the section and resolves it; `None` when it has problems (all pushed to `out`).
pub fn resolve(section: &TempoSection, out: &mut Vec<Problem>) -> Option<TempoPlan> {
    let before = out.len();
    validate::problems(section, out);
    if out.len() > before {
        return None;
    }
    let otlp_http_uri = match section.protocol {
        OtlpProtocol::Http => match check_url(&section.otlp_url).and_then(|_| join_uri(&section.otlp_url, "/v1/traces")) {
            Ok(uri) => Some(uri),
            Err(e) => {
                out.push(Problem::new("tempo.otlp_url", e.to_string()));
                return None;
            }
        },
        OtlpProtocol::Grpc => None,
    };
    let mix = section.traces.mix();
    let total: f64 = mix.iter().map(|(w, _)| w).sum::<f64>().max(f64::MIN_POSITIVE);
    let shapes: Vec<(f64, Arc<Shape>)> = mix.iter().map(|(w, s)| (w / total, Arc::new(Shape::new(s)))).collect();
    let spans_per_request = section.write.as_ref().map_or(shapes[0].1.spans_per_trace as u64, |w| w.spans_per_request);
    let mut planned = Vec::new();
    for (i, d) in section.dashboards.iter().enumerate() {
        match dashboards::plan(d) {
            Ok(p) => planned.push(p),
            Err(e) => out.push(Problem::new(format!("tempo.dashboards.{i}.file"), e)),
        }
    }
    if out.len() > before {
        return None;
    }
    Some(TempoPlan { section: section.clone(), shapes, spans_per_request, otlp_http_uri, dashboards: planned })
}

/// This shard's part of the section: its share of the rate, in-flight bound and queries; only
/// shard 0 watches memory.
pub fn shard(t: &mut TempoSection, shard: Shard) {
    if let Some(w) = &mut t.write {
        w.rate /= shard.count as f64;
        w.max_in_flight = shard_in_flight(w.max_in_flight, shard);
    }
    shard_queries(&mut t.query_load, !t.queries.is_empty(), shard);
    if shard.index != 0 {
        t.memory = None;
    }
}

/// Only the write load, aimed at a local sink (`selftest`): OTLP/HTTP to `http`, gRPC to `grpc`.
pub fn into_sink(t: &mut TempoSection, http: &str, grpc: &str) {
    t.otlp_url = match t.protocol {
        OtlpProtocol::Grpc => grpc.to_string(),
        OtlpProtocol::Http => http.to_string(),
    };
    t.query_url = http.to_string();
    t.connection = Default::default();
    t.queries.clear();
    t.query_load = None;
    t.visibility = None;
    t.memory = None;
}

impl TempoPlan {
    fn mix(&self, run_id: &str) -> Mix {
        Mix::new(&self.shapes, run_id, self.spans_per_request)
    }

    /// Spans per trace, averaged over the mix by share.
    fn mean_spans_per_trace(&self) -> f64 {
        self.shapes.iter().map(|(share, s)| share * s.spans_per_trace as f64).sum()
    }

    /// What a whole trace of each variant holds.
    fn expected(&self, run_id: &str) -> Vec<ExpectedTrace> {
        self.shapes
            .iter()
            .map(|(_, shape)| ExpectedTrace {
                spans: shape.spans_per_trace,
                services: (0..shape.spans_per_trace).map(|j| shape.services[shape.service_of(j)].clone()).collect::<BTreeSet<_>>(),
                run_id: run_id.to_string(),
            })
            .collect()
    }

    fn exporter(&self) -> Result<Exporter, TargetError> {
        let t = &self.section;
        let (connections, gzip) = t.write.as_ref().map_or((1, false), |w| (w.connections, w.gzip));
        Ok(match &self.otlp_http_uri {
            None => Exporter::Grpc(GrpcExporter::new(&t.otlp_url, &t.connection, connections, gzip)?),
            Some(uri) => Exporter::Http(HttpExporter { target: HttpTarget::new(&t.connection, connections)?, uri: uri.clone(), gzip }),
        })
    }
}

impl TargetPlan for TempoPlan {
    fn name(&self) -> &'static str {
        "tempo"
    }

    fn paths(&self) -> TargetPaths<'_> {
        let t = &self.section;
        let read_back = match &t.visibility {
            Some(v) if v.search => vec!["visibility.by_id", "visibility.search"],
            Some(_) => vec!["visibility.by_id"],
            None => vec![],
        };
        TargetPaths {
            queued: false,
            target: "tempo",
            writes: t.write.is_some(),
            queries: t.queries.iter().map(|q| q.name.as_str()).collect(),
            query_load: t.query_load.as_ref(),
            read_back,
            rechecked: if t.recheck.after.is_empty() {
                vec![]
            } else {
                t.queries.iter().filter(|q| q.kind == TempoQueryKind::TraceById).map(|q| q.name.as_str()).collect()
            },
            memory: t.memory.is_some(),
            composite: self.dashboards.iter().map(|d| (d.path(), d.part_paths())).collect(),
        }
    }

    fn write_load(&self) -> Option<WriteLoad> {
        let w = self.section.write.as_ref()?;
        let mix = self.mix("describe");
        let requests = requests_per_second(w, &mix);
        Some(WriteLoad { path: "tempo.write".into(), requests, items: requests * mix.mean_spans_per_request(), unit: "spans" })
    }

    fn memory(&self) -> Option<&MemorySection> {
        self.section.memory.as_ref()
    }

    fn memory_load(&self) -> Option<(f64, &'static str)> {
        let w = self.section.write.as_ref()?;
        let spans = match w.unit {
            RateUnit::Spans => w.rate,
            RateUnit::Traces => w.rate * self.mean_spans_per_trace(),
        };
        Some((spans, "span/s"))
    }

    fn load_dimensions(&self) -> Vec<LoadDimension> {
        let mut out = Vec::new();
        if let Some(w) = &self.section.write {
            let unit = match w.unit {
                RateUnit::Spans => "spans/s",
                RateUnit::Traces => "traces/s",
            };
            out.push(LoadDimension {
                key: "tempo.write.rate".into(),
                unit: unit.into(),
                configured: w.rate,
                whole: false,
                scaled_with: vec![],
                minimum: 0.001,
                // Trace ids come from the run id: each step writes new traces.
                nested: false,
                note: format!("traces of {:.1} spans, {} spans per request", self.mean_spans_per_trace(), self.spans_per_request),
            });
        }
        out.extend(concurrency_dimension("tempo", self.section.query_load.as_ref()));
        out
    }

    fn asks(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self.section.queries.iter().filter_map(|q| Some((format!("tempo.query.{}", q.name), q.query.clone()?))).collect();
        for d in &self.dashboards {
            out.extend(d.asks());
        }
        out
    }

    fn describe(&self, run: &RunSection) -> String {
        let t = &self.section;
        let mut out = String::new();
        let mix = self.mix("describe");
        for ((share, shape), template) in self.shapes.iter().zip(&mix.templates) {
            let s = &shape.spec;
            let of = if self.shapes.len() > 1 {
                format!(" ({:.0}% of requests, {} traces each)", 100.0 * share, template.traces_per_request)
            } else {
                String::new()
            };
            out += &format!(
                "tempo traces{of}: {} spans each ({} levels × fan-out {}) over {} services, {:.1}% with an error, root {}\n",
                shape.spans_per_trace,
                s.depth,
                s.fanout,
                shape.services.len(),
                s.error_ratio * 100.0,
                s.root_duration
            );
        }
        if let Some(w) = &t.write {
            let rps = requests_per_second(w, &mix);
            let spans = rps * mix.mean_spans_per_request();
            let planned = Schedule::open_loop(rps, run.warmup.get(), run.ramp.get(), run.duration.get()).planned_measured_count();
            let template = &mix.templates[0];
            out += &format!(
                "tempo.write: OTLP/{} to {} at {rps:.2} Export/s × {:.0} spans ({:.1} traces, ~{} KiB) = {spans:.0} spans/s; {planned} measured requests; at most {} in flight over {} connection(s){}\n",
                spelled(&t.protocol), t.otlp_url, mix.mean_spans_per_request(), mix.mean_traces_per_request(), template.encoded_len() / 1024,
                w.max_in_flight, w.connections, if w.gzip { ", gzip" } else { "" }
            );
        }
        for q in &t.queries {
            out += &format!("tempo.query.{}: {}{}\n", q.name, spelled(&q.kind), q.query.as_ref().map_or(String::new(), |s| format!(" `{s}`")));
        }
        if !t.recheck.after.is_empty() && t.queries.iter().any(|q| q.kind == TempoQueryKind::TraceById) {
            let after: Vec<String> = t.recheck.after.iter().map(ToString::to_string).collect();
            out += &format!("tempo.recheck: a trace by ID not found is asked again {} after the miss: found → transient, else lost\n", after.join(" and "));
        }
        if let Some(v) = &t.visibility {
            out += &format!(
                "tempo.visibility: every {}th acknowledged Export read back by ID{}, polling every {}, lost after {}\n",
                v.sample_every,
                if v.search { " and by TraceQL search" } else { "" },
                v.poll_interval,
                v.deadline
            );
        }
        if !t.queries.is_empty() {
            out += &QueryMode::of(t.query_load.as_ref()).describe("tempo", &t.query_url);
        }
        if let Some(mem) = &t.memory {
            out += &describe_memory("tempo", mem);
        }
        for d in &self.dashboards {
            out += &d.describe();
        }
        out
    }

    fn prepare(&self) -> PrepareFuture<'_> {
        Box::pin(async move { Ok(Box::new(prepare(self).await?) as Prepared<'_>) })
    }

    fn retention(&self) -> crate::engine::reread::KeptFuture<'_> {
        Box::pin(async move {
            let t = &self.section;
            match TempoApi::of(t, 1) {
                Ok(api) => retention::read(&api).await,
                Err(e) => crate::engine::reread::Kept::Unknown { why: e.to_string() },
            }
        })
    }

    fn reread(&self, run: &RunSection, written: &crate::engine::reread::Written) -> Option<Box<dyn crate::engine::reread::Reread>> {
        let t = &self.section;
        let w = t.write.as_ref()?;
        let mix = self.mix(&written.run_id);
        let rate = requests_per_second(w, &mix);
        let api = TempoApi::of(t, 1).ok()?;
        Some(Box::new(reread::TempoReread {
            api,
            ids: IdSource::new(run.seed, &written.run_id),
            expected: self.expected(&written.run_id),
            mix,
            writes: crate::engine::reread::Writes { written: written.clone(), schedule: crate::engine::schedule::Schedule::of(run, rate), rate },
        }))
    }
}

/// Tempo with its clients built and its endpoints checked.
struct Ready<'a> {
    plan: &'a TempoPlan,
    exporter: Exporter,
    api: TempoApi,
    build: BuildInfo,
}

async fn prepare(plan: &TempoPlan) -> Result<Ready<'_>, TargetError> {
    let t = &plan.section;
    let exporter = plan.exporter()?;
    let api = TempoApi::of(t, 4)?;
    if t.write.is_some() {
        preflight::check_otlp(&exporter, &t.otlp_url).await?;
    }
    if !t.queries.is_empty() || t.visibility.is_some() || !t.dashboards.is_empty() {
        preflight::check_tempo_query(&api, true).await?;
    }
    let build = buildinfo::read(&api.target, &api.base, "/api/status/buildinfo").await;
    Ok(Ready { plan, exporter, api, build })
}

impl PreparedTarget for Ready<'_> {
    fn build_info(&self) -> Option<BuildInfo> {
        Some(self.build.clone())
    }

    fn launch(self: Box<Self>, l: &mut Launch) -> Result<(), TargetError> {
        let Ready { plan, exporter, api, .. } = *self;
        let t = &plan.section;
        let mix = Arc::new(plan.mix(&l.run_id));
        let ids = IdSource::new(l.run.seed, &l.run_id);
        let ledger = Arc::new(AckLedger::default());
        let expected = plan.expected(&l.run_id);
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
                let (feed, checker) = read_back(reader, v.sample_every, v.concurrency, by_id);
                l.checker(checker);
                feed
            });
            let rate = requests_per_second(w, &mix);
            let writer =
                OtlpWrite { exporter, mix: mix.clone(), ids, path, clock: l.clock, connections: w.connections, ledger: ledger.clone(), visibility: feed };
            l.open_loop(writer, rate, w.max_in_flight, "tempo.write");
        }
        if !t.queries.is_empty() {
            let names: Vec<String> = t.queries.iter().map(|q| format!("tempo.query.{}", q.name)).collect();
            let queries = t.queries.iter().zip(&names).map(|(q, n)| Query { spec: q.clone(), path: l.table.register(n.clone()) }).collect();
            let recheck = rechecks(t, &api, &expected, l);
            let runner = TempoQueries { api: api.clone(), ledger, ids, mix: mix.clone(), expected, run_id: l.run_id.clone(), recheck };
            let load = RotatingQueries { runner, queries, connections: 4 };
            l.query_load(load, QueryMode::of(t.query_load.as_ref()), "tempo.query", names);
        }
        for d in &plan.dashboards {
            crate::grafana::load::launch(l, d, dashboards::TempoSource { api: api.clone() });
        }
        if let Some(mem) = &t.memory {
            l.memory("tempo", mem, &t.connection)?;
        }
        Ok(())
    }
}

/// The recheck of trace-by-ID misses (`tempo.recheck.<query>` per trace-by-ID query), unless
/// `[tempo.recheck] after = []` or there is no such query.
fn rechecks(t: &TempoSection, api: &TempoApi, expected: &[ExpectedTrace], l: &mut Launch) -> Option<Rechecks> {
    let by_id: Vec<&str> = t.queries.iter().filter(|q| q.kind == TempoQueryKind::TraceById).map(|q| q.name.as_str()).collect();
    if by_id.is_empty() || t.recheck.after.is_empty() {
        return None;
    }
    let paths: BTreeMap<String, PathId> = by_id.iter().map(|n| (n.to_string(), l.table.register(format!("tempo.recheck.{n}")))).collect();
    let reader = TraceRecheck { api: api.clone(), expected: expected.to_vec(), after: t.recheck.after.clone() };
    let skip_path = *paths.values().next()?;
    let (feed, checker) = read_back(reader, 1, t.recheck.concurrency, skip_path);
    l.checker(checker);
    Some(Rechecks { feed, paths })
}

impl crate::check::TargetChecks for TempoPlan {
    fn acceptance<'a>(&'a self, ctx: &'a crate::check::CheckContext<'a>) -> crate::check::CheckFuture<'a, crate::check::Acceptance> {
        Box::pin(check::acceptance(self, ctx))
    }

    fn verify<'a>(&'a self, ctx: &'a crate::check::VerifyContext<'a>) -> crate::check::CheckFuture<'a, Vec<crate::check::model::Criterion>> {
        Box::pin(check::verify(self, ctx))
    }
}
