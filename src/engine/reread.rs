//! Re-reading old data: what a run wrote follows from its scenario, seed, run id and clock start
//! (`Written`), so a target can rebuild the item it wrote at any instant and ask for it again,
//! however long ago (continuous-test's way). Each target implements `Reread` for its own data
//! (`TargetPlan::reread`); the canary asks at each age band on a schedule and counts found or lost.

use std::future::Future;
use std::pin::Pin;

/// One run whose writes can be rebuilt: its id and clock start, and the last instant it was known
/// to be running (nothing after it was written by this run).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Written {
    pub run_id: String,
    pub start_unix_ms: i64,
    pub last_seen_unix_ms: i64,
}

impl Written {
    /// Whether this run was writing at `at_unix_ms`.
    pub fn covers(&self, at_unix_ms: i64) -> bool {
        self.start_unix_ms <= at_unix_ms && at_unix_ms <= self.last_seen_unix_ms
    }
}

/// One run's writes as a target rebuilds them: the run and the open-loop plan its requests
/// followed (at its steady `rate`).
pub struct Writes {
    pub written: Written,
    pub schedule: super::schedule::Schedule,
    pub rate: f64,
}

impl Writes {
    /// The request this run sent at (or last before) `at_unix_ms`: its number and its send time
    /// (unix ms); `None` when the run was not writing then.
    pub fn request_at(&self, at_unix_ms: i64) -> Option<(u64, i64)> {
        let w = &self.written;
        if !w.covers(at_unix_ms) {
            return None;
        }
        let (seq, offset_ms) = self.schedule.call_at(at_unix_ms - w.start_unix_ms, self.rate)?;
        Some((seq, w.start_unix_ms + offset_ms))
    }
}

/// What asking again for one item came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// There, whole, with its value.
    Found,
    /// The target answered, and it is not there (or not as written).
    Lost,
    /// The target did not answer: nothing is known, nothing is counted lost.
    Unanswered,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Found => "found",
            Outcome::Lost => "lost",
            Outcome::Unanswered => "unanswered",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub outcome: Outcome,
    /// The item and the answer, in words (for the log).
    pub what: String,
}

pub type ReadingFuture<'a> = Pin<Box<dyn Future<Output = Option<Reading>> + Send + 'a>>;

/// A target's re-reader for one run's writes.
pub trait Reread: Send + Sync {
    /// The target (`mimir`, `tempo`).
    fn target(&self) -> &'static str;
    /// Asks again for what was written at or just before `at_unix_ms`; `None` when this run wrote
    /// nothing by then (before its start, after it was last seen).
    fn check(&self, at_unix_ms: i64) -> ReadingFuture<'_>;
}

/// An age band: how old the data asked for is, and its label (`5m`, `1h`, `7d`).
#[derive(Clone, Debug, PartialEq)]
pub struct Age {
    pub label: String,
    pub ms: i64,
}

/// How long a target keeps what it was sent, as it says so itself.
#[derive(Clone, Debug, PartialEq)]
pub enum Kept {
    /// Deleted once older than `ms`; `source` names the setting and where it was read.
    For { ms: i64, source: String },
    /// Never deleted by age.
    Forever { source: String },
    /// Not read: why.
    Unknown { why: String },
}

impl Kept {
    /// The oldest age worth asking for: data older than this is deleted by design.
    pub fn limit_ms(&self) -> Option<i64> {
        match self {
            Kept::For { ms, .. } => Some(*ms),
            _ => None,
        }
    }

    /// One line for the canary's start: what the target keeps, and which ages it is not asked.
    pub fn describe(&self, target: &str, ages: &[Age]) -> String {
        match self {
            Kept::For { ms, source } => {
                let beyond: Vec<&str> = ages.iter().filter(|a| a.ms > *ms).map(|a| a.label.as_str()).collect();
                let kept = crate::units::Dur::millis(*ms as u64);
                if beyond.is_empty() {
                    format!("canary: {target} keeps data {kept} ({source}): every age is within it")
                } else {
                    format!("canary: {target} keeps data {kept} ({source}): ages {} are not asked of {target} (deleted by design, not lost)", beyond.join(", "))
                }
            }
            Kept::Forever { source } => format!("canary: {target} keeps data forever ({source})"),
            Kept::Unknown { why } => {
                format!("canary: {target}'s retention was not read ({why}): an age beyond it would count as lost; keep --max-age within it")
            }
        }
    }
}

pub type KeptFuture<'a> = Pin<Box<dyn Future<Output = Kept> + Send + 'a>>;

/// The re-readers of every run known, newest run first, and how long each target keeps its data
/// (by target; an age beyond it is not asked of that target).
pub struct Rereaders {
    pub runs: Vec<(Written, Vec<Box<dyn Reread>>)>,
    pub kept_ms: std::collections::BTreeMap<&'static str, i64>,
}

impl Rereaders {
    /// Asks, for each age band, for what was written `age` before `now_unix_ms` (by the newest run
    /// that was writing then), and hands each reading to `seen(run, target, band, reading)` (`run`:
    /// the index of the run in `runs`). Something
    /// not there is asked for once more after `grace` (a write retried after an outage may still
    /// be on its way) and only then counted lost.
    pub async fn ask(&self, now_unix_ms: i64, ages: &[Age], grace: std::time::Duration, mut seen: impl FnMut(usize, &str, &str, &Reading)) {
        for age in ages {
            let at = now_unix_ms - age.ms;
            let Some(run) = self.runs.iter().position(|(w, _)| w.covers(at)) else { continue };
            let readers = &self.runs[run].1;
            for r in readers.iter().filter(|r| self.kept_ms.get(r.target()).is_none_or(|kept| age.ms <= *kept)) {
                let Some(mut reading) = r.check(at).await else { continue };
                if reading.outcome == Outcome::Lost {
                    tokio::time::sleep(grace).await;
                    reading = r.check(at).await.unwrap_or(reading);
                }
                seen(run, r.target(), &age.label, &reading);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A target whose every item is found, counting how often it was asked.
    struct Counting(&'static str, Arc<AtomicUsize>);

    impl Reread for Counting {
        fn target(&self) -> &'static str {
            self.0
        }
        fn check(&self, _at_unix_ms: i64) -> ReadingFuture<'_> {
            self.1.fetch_add(1, Ordering::Relaxed);
            Box::pin(async { Some(Reading { outcome: Outcome::Found, what: String::new() }) })
        }
    }

    #[tokio::test]
    async fn an_age_beyond_a_targets_retention_is_not_asked_of_it() {
        let (mimir, tempo) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let day = 86_400_000;
        let written = Written { run_id: "r".into(), start_unix_ms: 0, last_seen_unix_ms: 30 * day };
        let rereaders = Rereaders {
            runs: vec![(written, vec![Box::new(Counting("mimir", mimir.clone())), Box::new(Counting("tempo", tempo.clone()))])],
            // Tempo keeps traces a day; Mimir's retention is unknown (every age asked).
            kept_ms: std::collections::BTreeMap::from([("tempo", day)]),
        };
        let ages = [Age { label: "1h".into(), ms: 3_600_000 }, Age { label: "7d".into(), ms: 7 * day }];
        let mut seen = Vec::new();
        rereaders.ask(20 * day, &ages, std::time::Duration::ZERO, |_, target, band, _| seen.push(format!("{target} {band}"))).await;
        assert_eq!(seen, ["mimir 1h", "tempo 1h", "mimir 7d"]);
        assert_eq!((mimir.load(Ordering::Relaxed), tempo.load(Ordering::Relaxed)), (2, 1));
        let kept = Kept::For { ms: day, source: "block_retention 24h".into() };
        assert_eq!(
            kept.describe("tempo", &ages),
            "canary: tempo keeps data 24h (block_retention 24h): ages 7d are not asked of tempo (deleted by design, not lost)"
        );
    }
}
