//! Reads from the targets: PromQL query load, read-after-write checks and the preflight that runs
//! before any load is sent.

pub mod preflight;
pub mod promql;
pub mod tempo;
pub mod visibility;

use crate::stats::{OutcomeClass, PathId};
use crate::workload::{nth_query, CallOutcome, Ticket, Workload};
use std::future::Future;

/// Runs one query of a kind (PromQL, Tempo) and says what it came to: class and item count.
pub trait QueryRunner: Send + Sync + 'static {
    type Spec: Send + Sync + 'static;
    fn run(&self, pool: usize, spec: &Self::Spec, seq: u64) -> impl Future<Output = (OutcomeClass, u64)> + Send;
}

/// A query from the scenario and the path it is recorded under.
pub struct Prepared<S> {
    pub spec: S,
    pub path: PathId,
}

/// Query load: call `k` runs query `k mod n`, so every query gets an equal share.
pub struct RotatingQueries<R: QueryRunner> {
    pub runner: R,
    pub queries: Vec<Prepared<R::Spec>>,
    pub connections: usize,
}

impl<R: QueryRunner> Workload for RotatingQueries<R> {
    type State = usize;

    fn primary_path(&self) -> PathId {
        self.queries[0].path
    }

    fn new_state(&self, worker: usize) -> usize {
        worker % self.connections.max(1)
    }

    async fn call(&self, pool: &mut usize, ticket: Ticket) -> CallOutcome {
        let q = nth_query(&self.queries, ticket.seq);
        let sent_at = tokio::time::Instant::now();
        let (class, items) = self.runner.run(*pool, &q.spec, ticket.seq).await;
        CallOutcome::plain(q.path, class, sent_at, items)
    }
}
