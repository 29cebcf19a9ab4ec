//! The targets' own `/metrics`, read for what only a target can tell: its failed object-storage
//! requests (the S3 errors AC-lgtm-002-04 and AC-lgtm-003-04 expect while the credentials are
//! broken, and that AC-lgtm-002-01 and AC-lgtm-003-01 expect absent) and, for Mimir, compaction
//! and shipping (AC-lgtm-003-03). Read from `[<target>.memory] metrics_urls`, the same endpoints
//! the memory watch reads. The counters count since the target started.

use super::model::Criterion;
use crate::client::http::{check_url, HttpTarget};
use crate::scenario::{Connection, MemorySection};
use crate::watch::exposition::{samples, MetricSample};
use bytes::Bytes;
use http::{HeaderMap, Method};
use std::collections::BTreeMap;

/// Every sample of the target's `/metrics` endpoints; `Err` names the endpoint that failed and
/// whether it did not answer at all (`true`).
pub async fn read(memory: Option<&MemorySection>, conn: &Connection) -> Result<Vec<MetricSample>, (String, bool)> {
    let urls = memory.map(|m| m.metrics_urls.as_slice()).unwrap_or_default();
    let http = HttpTarget::new(conn, 1).map_err(|e| (e.to_string(), false))?;
    let mut out = Vec::new();
    for url in urls {
        let uri = check_url(url).map_err(|e| (format!("{url}: {e}"), false))?;
        let answer = http.send(0, Method::GET, &uri, &HeaderMap::new(), Bytes::new()).await.map_err(|e| (format!("{url} did not answer: {e}"), true))?;
        if !answer.status.is_success() {
            return Err((format!("{url}: HTTP {}", answer.status.as_u16()), false));
        }
        let text = String::from_utf8_lossy(&answer.body);
        out.extend(samples(&text).map_err(|e| (format!("{url}: {e}"), false))?);
    }
    Ok(out)
}

/// The sum of `name` over the samples whose labels `keep`; `None` when no sample has that name.
pub fn sum(samples: &[MetricSample], name: &str, keep: impl Fn(&BTreeMap<String, String>) -> bool) -> Option<f64> {
    let mut matching = samples.iter().filter(|s| s.name == name).peekable();
    matching.peek()?;
    Some(matching.filter(|s| keep(&s.labels)).map(|s| s.value).sum())
}

/// `name` summed by the values of `labels` (joined with ` `), leaving out the samples `keep` refuses.
pub fn by_labels(samples: &[MetricSample], name: &str, labels: &[&str], keep: impl Fn(&BTreeMap<String, String>) -> bool) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for s in samples.iter().filter(|s| s.name == name && keep(&s.labels)) {
        let key: Vec<&str> = labels.iter().map(|l| s.labels.get(*l).map_or("?", String::as_str)).collect();
        *out.entry(key.join(" ")).or_insert(0.0) += s.value;
    }
    out
}

/// What a target's object-storage counters say: requests made and failures by kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreRequests {
    /// The counter the figures come from, for the evidence.
    pub source: &'static str,
    pub requests: Option<f64>,
    pub failures: BTreeMap<String, f64>,
}

impl StoreRequests {
    pub fn failed(&self) -> f64 {
        self.failures.values().sum()
    }

    fn shown(&self) -> String {
        let kinds: Vec<String> = self.failures.iter().filter(|(_, n)| **n > 0.0).map(|(k, n)| format!("{k}: {n:.0}")).collect();
        format!(
            "{:.0} failed of {} object-storage requests since it started ({}){}",
            self.failed(),
            self.requests.map_or("?".into(), |r| format!("{r:.0}")),
            self.source,
            if kinds.is_empty() { String::new() } else { format!(": {}", kinds.join(", ")) }
        )
    }
}

/// Whether the S3 credentials are broken on purpose (`check --s3-broken`), which turns the
/// object-storage criterion around: failures are then what it expects to see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials {
    Working,
    Broken,
}

/// The object-storage criterion of `target` from its counters: with working credentials no
/// request may fail (`working_id`); with broken ones (`broken_id`) the failures must show, and the
/// write must still have been acknowledged (buffered).
pub fn store_criterion(target: &str, ids: (&str, &str), credentials: Credentials, seen: &StoreRequests, write_acked: Option<bool>) -> Criterion {
    match credentials {
        Credentials::Working => Criterion::new(ids.0, &format!("{target}'s object-storage requests succeed: no S3 authentication or connection errors"))
            .expect(
                seen.failed() == 0.0,
                seen.shown(),
                format!("{}: check the S3 endpoint and the credentials in the secret {target} reads (a fix counts from the next restart)", seen.shown()),
            ),
        Credentials::Broken => {
            let c = Criterion::new(ids.1, &format!("with the S3 credentials broken, {target} still accepts writes (buffering) and counts its S3 errors"));
            let c = match write_acked {
                Some(true) => c.saw("the write was acknowledged while the credentials were broken"),
                Some(false) => c.fail("the write was not acknowledged while the credentials were broken: it must be buffered"),
                None => c,
            };
            c.expect(
                seen.failed() > 0.0,
                seen.shown(),
                format!(
                    "{}: no S3 error counted yet; {target} touches the bucket at its next flush or poll, so wait (--wait-s3 10m) and check again, or the credentials are not broken",
                    seen.shown()
                ),
            )
            .saw("after fixing the credentials, `check --verify` reads back what this run recorded: nothing may be lost")
        }
    }
}

/// The criterion when the counters could not be read: SKIPPED without `metrics_urls`, else FAILED
/// (unreachable when the endpoint did not answer).
pub fn unread(id: &str, title: &str, target: &str, why: Option<(String, bool)>) -> Criterion {
    match why {
        None => Criterion::skipped(id, title, format!("set [{target}.memory] metrics_urls ({target}'s /metrics) to read its own counters")),
        Some((e, true)) => Criterion::new(id, title).unreachable(e),
        Some((e, false)) => Criterion::new(id, title).fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(failures: &[(&str, f64)]) -> StoreRequests {
        StoreRequests { source: "x_total", requests: Some(40.0), failures: failures.iter().map(|(k, v)| (k.to_string(), *v)).collect() }
    }

    #[test]
    fn working_credentials_want_no_failure_and_broken_ones_want_some() {
        use super::super::model::Status;
        let clean = store(&[]);
        let failing = store(&[("PUT 403", 12.0)]);
        let ids = ("AC-lgtm-002-01", "AC-lgtm-002-04");
        assert_eq!(store_criterion("tempo", ids, Credentials::Working, &clean, None).status, Status::Pass);
        let c = store_criterion("tempo", ids, Credentials::Working, &failing, None);
        assert_eq!(c.status, Status::Fail);
        assert!(c.reason.unwrap().starts_with("12 failed of 40 object-storage requests since it started (x_total): PUT 403: 12"));
        let broken = store_criterion("tempo", ids, Credentials::Broken, &failing, Some(true));
        assert_eq!((broken.status, broken.id.as_str()), (Status::Pass, "AC-lgtm-002-04"));
        assert_eq!(store_criterion("tempo", ids, Credentials::Broken, &clean, Some(true)).status, Status::Fail);
        assert_eq!(store_criterion("tempo", ids, Credentials::Broken, &failing, Some(false)).status, Status::Fail, "a write refused is not buffered");
    }

    #[test]
    fn sums_tell_an_absent_metric_from_zero() {
        let text = "# TYPE a_total counter\na_total{code=\"200\"} 3\na_total{code=\"403\"} 2\n";
        let s = samples(text).unwrap();
        assert_eq!(sum(&s, "a_total", |_| true), Some(5.0));
        assert_eq!(sum(&s, "a_total", |l| l["code"] != "200"), Some(2.0));
        assert_eq!(sum(&s, "b_total", |_| true), None);
        assert_eq!(by_labels(&s, "a_total", &["code"], |_| true), BTreeMap::from([("200".into(), 3.0), ("403".into(), 2.0)]));
    }
}
