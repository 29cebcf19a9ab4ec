//! The one trait that every writer and query probe implements. A workload knows how to make one
//! call; when and how often it is called is the scheduler's business (`exec`).

use crate::stats::{OutcomeClass, PathId};
use std::future::Future;
use tokio::time::Instant;

/// One planned call handed to a worker.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    /// Position in the plan; workloads derive their payload from it (deterministic with the seed).
    pub seq: u64,
    /// When the plan wanted the call to start; latency is measured from here.
    pub intended: Instant,
    /// False during warm-up.
    pub measured: bool,
}

/// What a failed call asked and what came back, kept as an example (`Example`).
#[derive(Clone, Debug, PartialEq)]
pub struct Detail {
    pub key: String,
    pub answer: String,
}

/// What one call came to.
#[derive(Clone, Debug)]
pub struct CallOutcome {
    pub path: PathId,
    pub class: OutcomeClass,
    /// When the request actually left (for service time).
    pub sent_at: Instant,
    /// Samples written, series returned, spans sent: whatever the path counts.
    pub items: u64,
    /// Times the call was repeated after a `Retry-After`.
    pub retries: u64,
    /// Items the target refused although it accepted the call (OTLP partial success).
    pub rejected: u64,
    /// For a failed call: what was asked and what came back.
    pub detail: Option<Box<Detail>>,
    /// A call made of several requests (a dashboard's variable look-ups and panel queries): each
    /// recorded on its own path, its latency from the call's intended start.
    pub parts: Vec<Part>,
}

/// One request of a call made of several.
#[derive(Clone, Debug)]
pub struct Part {
    pub path: PathId,
    pub class: OutcomeClass,
    pub sent_at: Instant,
    pub done: Instant,
    pub items: u64,
    pub detail: Option<Detail>,
}

impl CallOutcome {
    /// A call that carried `items` and was neither retried nor partly rejected.
    pub fn plain(path: PathId, class: OutcomeClass, sent_at: Instant, items: u64) -> CallOutcome {
        CallOutcome { path, class, sent_at, items, retries: 0, rejected: 0, detail: None, parts: Vec::new() }
    }

    /// The same, with what was asked and what came back when it failed.
    pub fn with_detail(mut self, key: impl FnOnce() -> String, answer: impl FnOnce() -> String) -> CallOutcome {
        if !self.class.is_success() {
            self.detail = Some(Box::new(Detail { key: key(), answer: answer() }));
        }
        self
    }
}

/// The query a rotating query load runs for call `seq`: every query gets an equal share.
pub fn nth_query<T>(queries: &[T], seq: u64) -> &T {
    &queries[(seq % queries.len() as u64) as usize]
}

pub trait Workload: Send + Sync + 'static {
    /// Per-worker state (payload buffers, connection choice): never shared between workers.
    type State: Send + 'static;

    /// The path a planned call is charged to when it is skipped or abandoned before it could
    /// name its own: the path the call would have been recorded under.
    fn path_of(&self, ticket: &Ticket) -> PathId;

    fn new_state(&self, worker: usize) -> Self::State;

    /// Whether the workload has something it can honestly ask for this ticket (a trace-by-ID query
    /// needs an acknowledged trace old enough to be served). A ticket that is not ready is no call:
    /// an open loop counts it as `not_ready`, a closed loop waits a moment and asks again.
    fn ready(&self, _ticket: &Ticket) -> bool {
        true
    }

    fn call(&self, state: &mut Self::State, ticket: Ticket) -> impl Future<Output = CallOutcome> + Send;
}

/// Maps the monotonic clock to wall-clock milliseconds, fixed once at the plan's start, so sample
/// timestamps follow intended send times exactly.
#[derive(Clone, Copy, Debug)]
pub struct RunClock {
    pub start: Instant,
    pub start_unix_ms: i64,
}

impl RunClock {
    pub fn starting_at(start: Instant) -> RunClock {
        let now_unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_millis() as i64;
        let ahead = start.saturating_duration_since(Instant::now()).as_millis() as i64;
        RunClock { start, start_unix_ms: now_unix + ahead }
    }

    pub fn unix_ms(&self, at: Instant) -> i64 {
        self.start_unix_ms + at.saturating_duration_since(self.start).as_millis() as i64
    }

    pub fn offset_ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_millis() as u64
    }
}
