//! The Mimir target in a run: clients and preflight, then remote-write load, PromQL load,
//! read-back and memory watching.

use super::launch::{query_mode, Launch};
use super::runner::{write_plan, RunError};
use crate::generator::remote_write::series::SeriesSet;
use crate::generator::remote_write::RemoteWrite;
use crate::probe::preflight;
use crate::probe::promql::PromApi;
use crate::probe::{Prepared as Query, RotatingQueries};
use crate::probe::visibility::{self, CheckerSettings, PromReadBack};
use crate::scenario::MimirSection;
use crate::target::http::{check_url, HttpTarget};
use std::sync::Arc;

pub struct Prepared<'a> {
    m: &'a MimirSection,
    write_target: HttpTarget,
    api: PromApi,
}

/// Builds the clients and checks every endpoint the scenario uses before any load.
pub async fn prepare(m: &MimirSection) -> Result<Prepared<'_>, RunError> {
    let write_target = HttpTarget::new(&m.connection, m.write.as_ref().map_or(1, |w| w.connections))?;
    let api = PromApi::new(HttpTarget::new(&m.connection, 4)?, &m.query_url, &m.query_prefix);
    if m.write.is_some() {
        preflight::check_write(&write_target, &check_url(&m.write_url).expect("validated URL")).await?;
    }
    if !m.queries.is_empty() || m.visibility.is_some() {
        preflight::check_query(&api).await?;
    }
    Ok(Prepared { m, write_target, api })
}

impl Prepared<'_> {
    pub fn launch(self, l: &mut Launch) -> Result<(), RunError> {
        let Prepared { m, write_target, api } = self;
        if let Some(w) = &m.write {
            let path = l.table.register("mimir.write");
            let feed = m.visibility.as_ref().map(|v| {
                let vpath = l.table.register("mimir.visibility");
                let settings = CheckerSettings { poll_interval: v.poll_interval.get(), deadline: v.deadline.get(), concurrency: v.concurrency };
                let reader = PromReadBack { api: api.clone(), settings, path: vpath };
                let (feed, checker) = visibility::channel(reader, v.sample_every, v.concurrency, vpath);
                l.checker(checker);
                feed
            });
            let series = Arc::new(SeriesSet::new(&w.series, &l.run_id, l.run.seed));
            let uri = check_url(&m.write_url).expect("validated URL");
            let writer = RemoteWrite::new(write_target, uri, series, path, l.clock, w.connections, m.connection.timeout.get(), feed);
            l.open_loop(writer, write_plan(w).rate, w.max_in_flight, "mimir.write");
        }
        if !m.queries.is_empty() {
            let names: Vec<String> = m.queries.iter().map(|q| format!("mimir.query.{}", q.name)).collect();
            let queries = m.queries.iter().zip(&names).map(|(q, n)| Query { spec: q.clone(), path: l.table.register(n.clone()) }).collect();
            let load = RotatingQueries { runner: api, queries, connections: 4 };
            l.query_load(load, query_mode(m.query_load.as_ref()), "mimir.query", names);
        }
        if let Some(mem) = &m.memory {
            l.memory("mimir", mem, &m.connection)?;
        }
        Ok(())
    }
}
