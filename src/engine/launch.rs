//! Starting workloads on the run's clock. Every target adds its writers, query loads, read-back
//! checkers and memory watchers through this one context, so they share the plan's stages, the
//! path table and the cancellation tokens.

use super::queries::QueryMode;
use super::readback::{Checker, ReadBack};
use super::schedule::Schedule;
use super::worker::{spawn_closed_loop, spawn_open_loop, WorkerContext};
use crate::client::http::{check_url, ClientSetupError, HttpTarget};
use crate::client::promql::PromApi;
use crate::scenario::{Connection, MemorySection, RunSection};
use crate::stats::paths::PathTable;
use crate::watch::scrape::{ClusterProbe, MemoryWatch};
use crate::watch::MemoryEvent;
use crate::workload::{RunClock, Workload};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub struct Launch<'a> {
    pub run: &'a RunSection,
    /// Open-loop workloads run closed loop at their in-flight bound instead (`Plan::full_speed`).
    pub full_speed: bool,
    pub run_id: String,
    pub table: PathTable,
    pub clock: RunClock,
    pub start: Instant,
    pub measured_from: Instant,
    pub end: Instant,
    /// For workers stopped at the end of the drain.
    pub worker_ctx: WorkerContext,
    /// For read-back checkers, which run until their deadline.
    pub root_ctx: WorkerContext,
    pub memory_log: UnboundedSender<MemoryEvent>,
    pub planners: Vec<JoinHandle<()>>,
    pub workers: Vec<JoinHandle<()>>,
    pub checkers: Vec<JoinHandle<()>>,
    /// Group paths (`mimir.query`) and their members, merged in the report.
    pub groups: Vec<(String, Vec<String>)>,
    /// Calls planned in the measured window, per path.
    pub planned: BTreeMap<String, u64>,
    /// Each open-loop path's bound on calls in flight.
    pub in_flight: BTreeMap<String, u64>,
    pub budgets: BTreeMap<String, u64>,
}

impl Launch<'_> {
    pub fn schedule(&self, rate: f64) -> Schedule {
        Schedule::of(self.run, rate)
    }

    /// An open-loop workload at `rate` calls per second with at most `max_in_flight` in flight.
    pub fn open_loop<W: Workload>(&mut self, w: W, rate: f64, max_in_flight: usize, planned_as: &str) {
        if self.full_speed {
            let ctx = self.worker_ctx.clone();
            self.workers.extend(spawn_closed_loop(Arc::new(w), max_in_flight, self.measured_from, self.end, ctx));
            return;
        }
        let schedule = self.schedule(rate);
        self.open_loop_on(w, schedule, max_in_flight, planned_as);
    }

    fn open_loop_on<W: Workload>(&mut self, w: W, schedule: Schedule, max_in_flight: usize, planned_as: &str) {
        self.planned.insert(planned_as.to_string(), schedule.planned_measured_count());
        self.in_flight.insert(planned_as.to_string(), max_in_flight.max(1) as u64);
        let (planner, workers) = spawn_open_loop(Arc::new(w), schedule, max_in_flight, self.start, self.worker_ctx.clone(), self.worker_ctx.clone());
        self.planners.push(planner);
        self.workers.extend(workers);
    }

    /// A query load under `group` at a fixed concurrency or a planned rate.
    pub fn query_load<W: Workload>(&mut self, w: W, mode: QueryMode, group: &str, members: Vec<String>) {
        self.groups.push((group.to_string(), members));
        match mode {
            QueryMode::Concurrency(n) => {
                let ctx = self.worker_ctx.clone();
                self.workers.extend(spawn_closed_loop(Arc::new(w), n, self.measured_from, self.end, ctx));
            }
            QueryMode::Rate(rate, max_in_flight) => self.open_loop(w, rate, max_in_flight, group),
        }
    }

    pub fn checker<R: ReadBack>(&mut self, checker: Checker<R>) {
        self.checkers.push(tokio::spawn(checker.run(self.root_ctx.clone())));
    }

    /// Watches `target`'s memory as `<target>.memory` with its own scrape path.
    pub fn memory(&mut self, target: &str, mem: &MemorySection, conn: &Connection) -> Result<(), ClientSetupError> {
        self.budgets.insert(target.to_string(), mem.budget.0);
        let cluster = match &mem.cluster {
            Some(c) => Some(ClusterProbe { api: PromApi::new(HttpTarget::new(&c.connection, 1)?, &c.query_url, &c.query_prefix), spec: c.clone() }),
            None => None,
        };
        let watcher = MemoryWatch {
            target: target.into(),
            http: HttpTarget::new(conn, 1)?,
            urls: mem
                .metrics_urls
                .iter()
                .map(|u| check_url(u).map_err(|e| ClientSetupError::Endpoint { url: u.clone(), reason: e.to_string() }))
                .collect::<Result<_, _>>()?,
            cluster,
            path: self.table.register(format!("{target}.memory.scrape")),
            log: self.memory_log.clone(),
            clock: self.clock,
        };
        // The first reading is taken at the plan's start, before any load: the target as it was.
        let schedule = self.schedule(1.0 / mem.interval.get().as_secs_f64()).with_call_at_start();
        self.open_loop_on(watcher, schedule, 1, &format!("{target}.memory.scrape"));
        Ok(())
    }
}
