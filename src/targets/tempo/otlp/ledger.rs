//! Which Export requests Tempo acknowledged, and when: the trace-by-ID query load asks only for
//! traces of acknowledged Exports that are old enough for Tempo to serve, never for a trace of an
//! Export that failed, is still in flight, or was acknowledged a moment ago. Kept compact as runs of
//! consecutive acknowledged requests (acknowledgements mostly arrive in order).

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A run spans at most this much time, so a request becomes eligible at most this much later than
/// its own age says.
const RUN_SPAN: Duration = Duration::from_millis(250);
/// Runs kept at most (about 5 MB): a run that goes on for weeks (the canary) forgets its oldest
/// acknowledgements, a tenth at a time, and asks only for the newer ones.
const MAX_RUNS: usize = 100_000;

/// A run of consecutive acknowledged requests `first..=last`, acknowledged from `started` to `at`.
#[derive(Clone, Copy, Debug)]
struct Run {
    first: u64,
    last: u64,
    started: Instant,
    at: Instant,
    /// Acknowledged requests in all runs before this one.
    before: u64,
}

#[derive(Debug, Default)]
pub struct AckLedger {
    runs: Mutex<Vec<Run>>,
}

impl AckLedger {
    /// Request `seq` was acknowledged at `at`.
    pub fn ack(&self, seq: u64, at: Instant) {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let total = runs.last().map_or(0, |r| r.before + (r.last - r.first + 1));
        match runs.last_mut() {
            Some(r) if r.last.checked_add(1) == Some(seq) && at.saturating_duration_since(r.started) < RUN_SPAN => {
                r.last = seq;
                r.at = r.at.max(at);
            }
            _ => {
                let at = runs.last().map_or(at, |r| r.at.max(at));
                runs.push(Run { first: seq, last: seq, started: at, at, before: total });
                if runs.len() > MAX_RUNS {
                    runs.drain(..MAX_RUNS / 10);
                }
            }
        }
    }

    /// Acknowledged requests so far.
    pub fn acked(&self) -> u64 {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        runs.last().map_or(0, |r| r.before + (r.last - r.first + 1))
    }

    /// One of the requests acknowledged at or before `cutoff`, chosen by `key`; `None` while there
    /// is none.
    pub fn pick(&self, key: u64, cutoff: Instant) -> Option<u64> {
        self.pick_acked(key, cutoff).map(|(seq, _)| seq)
    }

    /// The same, with when it was acknowledged (at most `RUN_SPAN` earlier than this instant).
    pub fn pick_acked(&self, key: u64, cutoff: Instant) -> Option<(u64, Instant)> {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        // Runs are appended in acknowledgement order, so their `at` only grows.
        let old_enough = &runs[..runs.partition_point(|r| r.at <= cutoff)];
        let (first, last) = (old_enough.first()?, old_enough.last()?);
        let eligible = last.before + (last.last - last.first + 1) - first.before;
        let index = first.before + key % eligible;
        let run = &old_enough[old_enough.partition_point(|r| r.before <= index) - 1];
        Some((run.first + (index - run.before), run.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_that_goes_on_for_weeks_stays_bounded_and_picks_among_what_it_keeps() {
        let ledger = AckLedger::default();
        let t = Instant::now();
        // Every other request acknowledged: each its own run.
        for seq in (0..2 * (MAX_RUNS as u64 + 1)).step_by(2) {
            ledger.ack(seq, t);
        }
        assert!(ledger.runs.lock().unwrap().len() <= MAX_RUNS);
        let oldest_kept = ledger.runs.lock().unwrap()[0].first;
        assert!(oldest_kept > 0);
        assert!((0..1000).filter_map(|k| ledger.pick(k, t)).all(|seq| seq >= oldest_kept && seq % 2 == 0));
    }

    #[test]
    fn only_acknowledged_requests_are_picked() {
        let ledger = AckLedger::default();
        let t = Instant::now();
        // Request 2 failed, 5 is still in flight; 4 was acknowledged before 3.
        for seq in [0, 1, 4, 3, 6] {
            ledger.ack(seq, t);
        }
        assert_eq!(ledger.acked(), 5);
        let picked: std::collections::BTreeSet<u64> = (0..1000).filter_map(|k| ledger.pick(k, t)).collect();
        assert_eq!(picked, [0, 1, 3, 4, 6].into());
    }

    #[test]
    fn a_request_is_picked_only_once_it_is_old_enough() {
        let ledger = AckLedger::default();
        let t0 = Instant::now();
        assert_eq!(ledger.pick(7, t0), None, "nothing acknowledged: nothing to ask for");
        ledger.ack(0, t0);
        ledger.ack(1, t0 + Duration::from_secs(5));
        ledger.ack(7, t0 + Duration::from_secs(10));
        assert_eq!(ledger.pick(3, t0 - Duration::from_secs(1)), None, "acknowledged after the cutoff");
        assert!((0..50).all(|k| ledger.pick(k, t0 + Duration::from_secs(1)) == Some(0)));
        let by_6s: std::collections::BTreeSet<u64> = (0..50).filter_map(|k| ledger.pick(k, t0 + Duration::from_secs(6))).collect();
        assert_eq!(by_6s, [0, 1].into());
        let later: std::collections::BTreeSet<u64> = (0..50).filter_map(|k| ledger.pick(k, t0 + Duration::from_secs(20))).collect();
        assert_eq!(later, [0, 1, 7].into());
    }
}

#[cfg(test)]
mod steady {
    use super::*;

    #[test]
    fn acknowledgements_in_order_become_eligible_as_they_age() {
        let ledger = AckLedger::default();
        let t0 = Instant::now();
        // 40 acknowledgements a second, in order, for 10 seconds.
        for seq in 0..400u64 {
            ledger.ack(seq, t0 + Duration::from_millis(seq * 25));
        }
        let cutoff = t0 + Duration::from_secs(5);
        let picked: Vec<u64> = (0..2000).filter_map(|k| ledger.pick(k, cutoff)).collect();
        assert_eq!(picked.len(), 2000);
        let newest = *picked.iter().max().unwrap();
        assert!(newest <= 200, "nothing acknowledged after the cutoff: {newest}");
        assert!(newest >= 200 - 10, "at most one run's span behind the cutoff: {newest}");
    }
}
