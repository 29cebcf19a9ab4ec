//! Mimir (and Prometheus, which speaks the same APIs): everything lgtm-bench knows about it.
//! `config` is its scenario section and `validate` its checks; `write/` the remote-write load,
//! `query` the PromQL load, `readback` read-after-write, `preflight` the checks before any load.
//! This file resolves the section into the target's plan (describe, subjects, memory) and starts
//! its workloads on the run's clock.

pub mod check;
pub mod config;
pub mod dashboards;
pub mod export;
pub mod model;
pub(crate) mod preflight;
pub(crate) mod query;
pub(crate) mod readback;
pub mod reread;
pub mod retention;
pub(crate) mod validate;
pub mod write;

use crate::client::buildinfo::{self, BuildInfo};
use crate::client::http::{check_url, HttpTarget};
use crate::client::promql::PromApi;
use crate::engine::launch::Launch;
use crate::engine::plan::{describe_memory, spelled};
use crate::engine::queries::{Prepared as Query, QueryMode, RotatingQueries};
use crate::engine::readback::channel as read_back;
use crate::engine::schedule::Schedule;
use crate::engine::target::{concurrency_dimension, LoadDimension, PrepareFuture, Prepared, PreparedTarget, TargetError, TargetPaths, TargetPlan, WriteLoad};
use crate::scenario::shard::{shard_in_flight, shard_queries, share, Shard};
use crate::scenario::{MemorySection, Problem, RunSection};
use config::{MimirSection, WriteProtocol, WriteSection};
use http::Uri;
use query::PromQueries;
use readback::PromReadBack;
use std::sync::Arc;
use write::queue::{self, QueuePaths};
use write::series::SeriesSet;
use write::RemoteWrite;

/// Derived figures of the write plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WritePlan {
    pub rate: f64,
    pub samples_per_second: f64,
    /// How often each series gets a sample.
    pub scrape_interval: f64,
}

impl WritePlan {
    pub fn of(w: &WriteSection) -> WritePlan {
        let s = &w.series;
        let active = write::series::series_count(s);
        let per_request = s.samples_per_request.min(active).max(1) as f64;
        let rate = w.rate.unwrap_or_else(|| {
            let interval = s.scrape_interval.map_or(15.0, |i| i.get().as_secs_f64());
            active as f64 / (per_request * interval)
        });
        WritePlan { rate, samples_per_second: rate * per_request, scrape_interval: active as f64 / (rate * per_request) }
    }
}

/// The write protocol as the plan prints it.
fn protocol_words(w: &WriteSection) -> String {
    let exemplars = if w.series.exemplar_share > 0.0 {
        format!(", exemplars on {:.0}% of counter and bucket samples", w.series.exemplar_share * 100.0)
    } else {
        String::new()
    };
    match w.protocol {
        WriteProtocol::Rw1 => format!("remote-write 1.0 (snappy protobuf, metadata once a minute{exemplars})"),
        WriteProtocol::Rw2 => format!("remote-write 2.0 (snappy protobuf, symbols table, metadata inline, written-count headers checked{exemplars})"),
        WriteProtocol::Otlp => {
            format!("OTLP metrics (protobuf{}, names for the target's {} translation{exemplars})", if w.gzip { ", gzip" } else { "" }, spelled(&w.otlp_names))
        }
    }
}

/// The same scenario writing Mimir with `protocol` (no queue for OTLP, which sends one request a
/// tick; no gzip for remote-write): how `selftest` measures every protocol's ceiling.
pub fn speaking(m: &mut MimirSection, protocol: WriteProtocol) {
    if let Some(w) = &mut m.write {
        w.protocol = protocol;
        if protocol == WriteProtocol::Otlp {
            w.queue = None;
        } else {
            w.gzip = false;
        }
    }
}

/// The `[mimir]` section resolved: parsed endpoints and the derived write plan.
pub struct MimirPlan {
    section: MimirSection,
    write_uri: Uri,
    write_plan: Option<WritePlan>,
    /// The dashboards read and planned, in the scenario's order.
    dashboards: Vec<dashboards::PlannedDashboard>,
}

/// Checks the section and resolves it; `None` when it has problems (all pushed to `out`).
pub fn resolve(section: &MimirSection, out: &mut Vec<Problem>) -> Option<MimirPlan> {
    let before = out.len();
    validate::problems(section, out);
    // `validate` reports a bad write_url; the parsed URI is kept so nothing parses it again.
    let mut planned = Vec::new();
    for (i, d) in section.dashboards.iter().enumerate() {
        match dashboards::plan(d) {
            Ok(p) => planned.push(p),
            Err(e) => out.push(Problem::new(format!("mimir.dashboards.{i}.file"), e)),
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, p) in planned.iter().enumerate() {
        if !names.insert(p.name.clone()) {
            out.push(Problem::new(format!("mimir.dashboards.{i}.name"), format!("`{}` is used twice: give each dashboard its own name", p.name)));
        }
    }
    match check_url(&section.write_url) {
        Ok(write_uri) if out.len() == before => {
            Some(MimirPlan { write_plan: section.write.as_ref().map(WritePlan::of), section: section.clone(), write_uri, dashboards: planned })
        }
        _ => None,
    }
}

/// This shard's part of the section: its share of the series, rate, in-flight bound and queries;
/// only shard 0 watches memory.
pub fn shard(m: &mut MimirSection, shard: Shard) {
    if let Some(w) = &mut m.write {
        w.series.active = share(w.series.active, shard).max(1);
        w.series.samples_per_request = w.series.samples_per_request.min(w.series.active);
        w.rate = w.rate.map(|r| r / shard.count as f64);
        w.max_in_flight = shard_in_flight(w.max_in_flight, shard);
    }
    shard_queries(&mut m.query_load, !m.queries.is_empty(), shard);
    if shard.index != 0 {
        m.memory = None;
    }
}

/// Only the write load, aimed at a local sink (`selftest`).
pub fn into_sink(m: &mut MimirSection, sink: &str) {
    m.write_url = format!("{sink}/api/v1/write");
    m.query_url = sink.to_string();
    m.connection = Default::default();
    // The generator's own ceiling: every tick a request, no queue between (its shards would pace it).
    if let Some(w) = &mut m.write {
        w.queue = None;
    }
    m.queries.clear();
    m.query_load = None;
    m.dashboards.clear();
    m.visibility = None;
    m.memory = None;
}

impl TargetPlan for MimirPlan {
    fn name(&self) -> &'static str {
        "mimir"
    }

    fn paths(&self) -> TargetPaths<'_> {
        let m = &self.section;
        TargetPaths {
            target: "mimir",
            writes: m.write.is_some(),
            queued: m.write.as_ref().is_some_and(|w| w.queue.is_some()),
            queries: m.queries.iter().map(|q| q.name.as_str()).collect(),
            query_load: m.query_load.as_ref(),
            read_back: if m.visibility.is_some() { vec!["visibility"] } else { vec![] },
            rechecked: vec![],
            memory: m.memory.is_some(),
            composite: self.dashboards.iter().map(|d| (d.path(), d.part_paths())).collect(),
        }
    }

    fn write_load(&self) -> Option<WriteLoad> {
        self.write_plan.map(|p| WriteLoad { path: "mimir.write".into(), requests: p.rate, items: p.samples_per_second, unit: "samples" })
    }

    fn memory(&self) -> Option<&MemorySection> {
        self.section.memory.as_ref()
    }

    fn memory_load(&self) -> Option<(f64, &'static str)> {
        self.section.write.as_ref().map(|w| (w.series.active as f64, "active series"))
    }

    fn load_dimensions(&self) -> Vec<LoadDimension> {
        let mut out = Vec::new();
        if let (Some(w), Some(p)) = (&self.section.write, self.write_plan) {
            let active = w.series.active as f64;
            out.push(LoadDimension {
                key: "mimir.write.series.active".into(),
                unit: "active series".into(),
                configured: active,
                whole: true,
                // A stated rate moves with the series; a scrape interval already derives it.
                scaled_with: w.rate.map(|_| ("mimir.write.rate".to_string(), p.rate / active)).into_iter().collect(),
                minimum: w.series.samples_per_request as f64,
                nested: true,
                note: format!("each series written every {:.2}s; the write rate grows with the series", p.scrape_interval),
            });
            out.push(LoadDimension {
                key: "mimir.write.rate".into(),
                unit: "requests/s".into(),
                configured: p.rate,
                whole: false,
                scaled_with: vec![],
                minimum: 0.001,
                nested: true,
                note: format!("{} active series × {} samples per request: each series is written more often", w.series.active, w.series.samples_per_request),
            });
        }
        out.extend(concurrency_dimension("mimir", self.section.query_load.as_ref()));
        out
    }

    fn asks(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self.section.queries.iter().map(|q| (format!("mimir.query.{}", q.name), q.query.clone())).collect();
        for d in &self.dashboards {
            out.extend(d.asks());
        }
        out
    }

    fn describe(&self, r: &RunSection) -> String {
        let m = &self.section;
        let mut out = String::new();
        if let (Some(w), Some(p)) = (&m.write, self.write_plan) {
            let sched = Schedule::open_loop(p.rate, r.warmup.get(), r.ramp.get(), r.duration.get());
            let sending = match &w.queue {
                Some(_) => format!("{} measured scrape ticks into the queue, sent over {} connection(s)", sched.planned_measured_count(), w.connections),
                None => {
                    format!("{} measured requests; at most {} in flight over {} connection(s)", sched.planned_measured_count(), w.max_in_flight, w.connections)
                }
            };
            let families = write::series::family_specs(&w.series).0.len();
            out +=
                &format!(
                "mimir.write: {} POST {} at {:.2} {} × {} samples = {:.0} samples/s; {} active series over {} metric famil{}, each written every {:.2}s; {sending}\n",
                protocol_words(w), m.write_url, p.rate, if w.queue.is_some() { "ticks/s" } else { "req/s" }, w.series.samples_per_request, p.samples_per_second,
                write::series::series_count(&w.series), families, if families == 1 { "y" } else { "ies" }, p.scrape_interval
            );
            out += &write::series::describe_families(&w.series);
            match &w.queue {
                Some(q) => out += &format!(
                    "  queue (as Prometheus's): {}..{} shards, {} samples per send, capacity {} per shard, batch deadline {}, backoff {}..{}{}{}; each series through one shard, in order\n",
                    q.min_shards, q.max_shards, q.max_samples_per_send, q.capacity, q.batch_send_deadline, q.min_backoff, q.max_backoff,
                    if q.retry_on_http_429 { ", 429 retried" } else { ", 429 dropped" },
                    if q.sample_age_limit.get().is_zero() { String::new() } else { format!(", samples older than {} dropped", q.sample_age_limit) },
                ),
                None if p.scrape_interval < 1.0 || w.max_in_flight > 1 && p.scrape_interval < 5.0 => out += "  note: no [mimir.write.queue]: each tick is sent as soon as a slot is free, so a slow request can be overtaken by a later one for the same series and refused as out of order (Mimir has no out-of-order window by default); add [mimir.write.queue] to send as Prometheus does\n",
                None => {}
            }
        }
        for q in &m.queries {
            let over = q.range.map_or(String::new(), |rg| format!(" over {rg}"));
            out += &format!("mimir.query.{}: {} `{}`{over}, results cache {}\n", q.name, spelled(&q.kind), q.query, spelled(&q.cache));
        }
        if !m.queries.is_empty() {
            out += &QueryMode::of(m.query_load.as_ref()).describe("mimir", &format!("{}{}", m.query_url, m.query_prefix));
        }
        for d in &self.dashboards {
            out += &d.describe();
        }
        if let Some(mem) = &m.memory {
            out += &describe_memory("mimir", mem);
        }
        if let Some(v) = &m.visibility {
            out += &format!(
                "mimir.visibility: every {}th acknowledged write read back, polling every {}, lost after {}\n",
                v.sample_every, v.poll_interval, v.deadline
            );
        }
        out
    }

    fn prepare(&self) -> PrepareFuture<'_> {
        Box::pin(async move { Ok(Box::new(prepare(self).await?) as Prepared<'_>) })
    }

    fn retention(&self) -> crate::engine::reread::KeptFuture<'_> {
        Box::pin(async move {
            let m = &self.section;
            match HttpTarget::new(&m.connection, 1) {
                Ok(target) => retention::read(&PromApi::new(target.clone(), &m.query_url, &m.query_prefix), &PromApi::new(target, &m.query_url, "")).await,
                Err(e) => crate::engine::reread::Kept::Unknown { why: e.to_string() },
            }
        })
    }

    fn reread(&self, run: &RunSection, written: &crate::engine::reread::Written) -> Option<Box<dyn crate::engine::reread::Reread>> {
        let m = &self.section;
        let (w, plan) = (m.write.as_ref()?, self.write_plan.as_ref()?);
        let api = PromApi::new(HttpTarget::new(&m.connection, 1).ok()?, &m.query_url, &m.query_prefix);
        Some(Box::new(reread::MimirReread {
            api,
            series: SeriesSet::new(&w.series, &written.run_id, run.seed),
            writes: crate::engine::reread::Writes {
                written: written.clone(),
                schedule: crate::engine::schedule::Schedule::of(run, plan.rate),
                rate: plan.rate,
            },
        }))
    }
}

/// Mimir with its clients built and its endpoints checked.
struct Ready<'a> {
    plan: &'a MimirPlan,
    write_target: HttpTarget,
    api: PromApi,
    build: BuildInfo,
}

/// Builds the clients and checks every endpoint the scenario uses before any load.
async fn prepare(plan: &MimirPlan) -> Result<Ready<'_>, TargetError> {
    let m = &plan.section;
    let write_target = HttpTarget::new(&m.connection, m.write.as_ref().map_or(1, |w| w.connections))?;
    let api = PromApi::new(HttpTarget::new(&m.connection, 4)?, &m.query_url, &m.query_prefix);
    if let Some(w) = &m.write {
        preflight::check_write(&write_target, &plan.write_uri, w.protocol, w.gzip).await?;
    }
    if !m.queries.is_empty() || m.visibility.is_some() || !m.dashboards.is_empty() {
        preflight::check_query(&api).await?;
    }
    // Mimir serves it under its Prometheus prefix (its gateway at the root too), Prometheus at the root.
    let build = buildinfo::read(&api.target, &api.base, "/api/v1/status/buildinfo").await;
    Ok(Ready { plan, write_target, api, build })
}

impl PreparedTarget for Ready<'_> {
    fn build_info(&self) -> Option<BuildInfo> {
        Some(self.build.clone())
    }

    fn launch(self: Box<Self>, l: &mut Launch) -> Result<(), TargetError> {
        let Ready { plan, write_target, api, .. } = *self;
        let m = &plan.section;
        if let (Some(w), Some(write_plan)) = (&m.write, plan.write_plan) {
            let path = l.table.register("mimir.write");
            let feed = m.visibility.as_ref().map(|v| {
                let vpath = l.table.register("mimir.visibility");
                let reader = PromReadBack { api: api.clone(), poll_interval: v.poll_interval.get(), deadline: v.deadline.get(), path: vpath };
                let (feed, checker) = read_back(reader, v.sample_every, v.concurrency, vpath);
                l.checker(checker);
                feed
            });
            let series = Arc::new(SeriesSet::new(&w.series, &l.run_id, l.run.seed));
            match (&w.queue, w.protocol) {
                (_, WriteProtocol::Otlp) => {
                    let start_unix_ns = l.clock.start_unix_ms.max(0) as u64 * 1_000_000;
                    let builder = write::otlp::OtlpMetricsBuilder { series, names: w.otlp_names, start_unix_ns };
                    let writer = write::otlp::OtlpMetricsWrite {
                        target: write_target,
                        uri: plan.write_uri.clone(),
                        builder,
                        path,
                        clock: l.clock,
                        connections: w.connections,
                        gzip: w.gzip,
                        visibility: feed,
                    };
                    l.open_loop(writer, write_plan.rate, w.max_in_flight, "mimir.write");
                }
                (Some(q), protocol) => {
                    let paths = QueuePaths { queue: l.table.register(queue::QUEUE_PATH), write: path, delivery: l.table.register(queue::DELIVERY_PATH) };
                    let shared =
                        queue::Shared::new(write_target, plan.write_uri.clone(), w.connections, series, l.clock, q.clone(), paths, feed).speaking(protocol);
                    queue::launch(l, shared, write_plan.rate);
                }
                (None, protocol) => {
                    let mut writer =
                        RemoteWrite::new(write_target, plan.write_uri.clone(), series, path, l.clock, w.connections, m.connection.timeout.get(), feed)
                            .speaking(protocol);
                    writer.metadata_every = (write_plan.rate * 60.0).round().max(1.0) as u64;
                    l.open_loop(writer, write_plan.rate, w.max_in_flight, "mimir.write");
                }
            }
        }
        if !m.queries.is_empty() {
            let names: Vec<String> = m.queries.iter().map(|q| format!("mimir.query.{}", q.name)).collect();
            // `$run_id` scopes a query to this run's own series (`{lgtm_bench_run="$run_id"}`): repeatable in CI.
            let this_run = |q: &config::QuerySpec| config::QuerySpec { query: q.query.replace("$run_id", &l.run_id), ..q.clone() };
            let queries = m.queries.iter().zip(&names).map(|(q, n)| Query { spec: this_run(q), path: l.table.register(n.clone()) }).collect();
            let load = RotatingQueries { runner: PromQueries { api: api.clone() }, queries, connections: 4 };
            l.query_load(load, QueryMode::of(m.query_load.as_ref()), "mimir.query", names);
        }
        for d in &plan.dashboards {
            crate::grafana::load::launch(l, d, dashboards::PromSource { api: api.clone() });
        }
        if let Some(mem) = &m.memory {
            l.memory("mimir", mem, &m.connection)?;
        }
        Ok(())
    }
}

impl crate::check::TargetChecks for MimirPlan {
    fn acceptance<'a>(&'a self, ctx: &'a crate::check::CheckContext<'a>) -> crate::check::CheckFuture<'a, crate::check::Acceptance> {
        Box::pin(check::acceptance(self, ctx))
    }

    fn verify<'a>(&'a self, ctx: &'a crate::check::VerifyContext<'a>) -> crate::check::CheckFuture<'a, Vec<crate::check::model::Criterion>> {
        Box::pin(check::verify(self, ctx))
    }
}
