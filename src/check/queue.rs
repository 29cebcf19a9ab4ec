//! The remote-write queue of the cluster's Prometheus (the monitoring stack writing into Mimir),
//! through PromQL on that Prometheus: samples pending under the bound, no failed samples over the
//! last 5 minutes, the newest sent sample still advancing over a watch window with no retries,
//! and the queue settings in force.

use super::cluster::{scalar, vector};
use super::config::QueueSection;
use super::model::Criterion;
use crate::client::http::HttpTarget;
use crate::client::promql::PromApi;
use crate::scenario::Connection;

/// TASK-lgtm-017: the cluster Prometheus remote-writes into Mimir (AC-lgtm-003-02).
const ID: &str = "AC-lgtm-003-02";
const TITLE: &str = "(TASK-lgtm-017) the cluster Prometheus's remote-write queue into Mimir is healthy";

pub async fn check(section: Option<&QueueSection>) -> Criterion {
    let Some(q) = section else {
        return Criterion::skipped(ID, TITLE, "set [check.remote_write_queue] prometheus_url (the Prometheus that remote-writes into Mimir) to check it");
    };
    let api = match HttpTarget::new(&Connection::default(), 1) {
        Ok(h) => PromApi::new(h, &q.prometheus_url, ""),
        Err(e) => return Criterion::new(ID, TITLE).fail(e.to_string()),
    };
    match watch(&api, q).await {
        Ok(c) => c,
        Err(e) => Criterion::new(ID, TITLE).fail(format!("{} could not be read: {e}", q.prometheus_url)),
    }
}

async fn watch(api: &PromApi, q: &QueueSection) -> Result<Criterion, String> {
    let sel = format!("url=~\"{}\"", q.url_regex);
    let mut c = Criterion::new(ID, TITLE);
    let queues = vector(api, &format!("prometheus_remote_storage_samples_pending{{{sel}}}")).await?;
    if queues.is_empty() {
        return Ok(c.fail(format!("no remote-write queue with {{{sel}}}: is remote_write configured on {}?", q.prometheus_url)));
    }
    for (labels, pending) in &queues {
        let url = labels.get("url").cloned().unwrap_or_default();
        c = c.expect(
            *pending < q.max_pending,
            format!("{url}: {pending:.0} samples pending"),
            format!("{pending:.0} samples pending (bound {:.0})", q.max_pending),
        );
    }
    let failed = scalar(api, &format!("sum(increase(prometheus_remote_storage_samples_failed_total{{{sel}}}[5m]))")).await?.unwrap_or(0.0);
    c = c.expect(failed == 0.0, format!("failed samples over the last 5m: {failed:.0}"), format!("{failed:.0} samples failed over the last 5m"));
    let sent = format!("max(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{{{sel}}})");
    let retried = format!("sum(prometheus_remote_storage_samples_retried_total{{{sel}}})");
    let (sent_before, retried_before) = (scalar(api, &sent).await?.unwrap_or(0.0), scalar(api, &retried).await?.unwrap_or(0.0));
    tokio::time::sleep(q.window.get()).await;
    let (sent_after, retried_after) = (scalar(api, &sent).await?.unwrap_or(0.0), scalar(api, &retried).await?.unwrap_or(0.0));
    c = c.expect(
        sent_after > sent_before,
        format!("newest sample sent: {} → {} over {}", stamp(sent_before), stamp(sent_after), q.window),
        format!("nothing new was sent over {} (the remote is down or refusing)", q.window),
    );
    let retries = retried_after - retried_before;
    c = c.expect(retries == 0.0, format!("samples retried over the window: {retries:.0}"), format!("{retries:.0} samples retried over {}", q.window));
    if let Ok(Some(lag)) = scalar(api, &format!("max(prometheus_remote_storage_highest_timestamp_in_seconds) - {sent}")).await {
        c = c.saw(format!("behind the newest sample by {lag:.0}s"));
    }
    for (metric, name) in [
        ("prometheus_remote_storage_shards", "shards"),
        ("prometheus_remote_storage_shards_max", "max shards"),
        ("prometheus_remote_storage_shard_capacity", "capacity per shard"),
        ("prometheus_remote_storage_max_samples_per_send", "max samples per send"),
    ] {
        if let Some(v) = scalar(api, &format!("max({metric}{{{sel}}})")).await? {
            c = c.saw(format!("{name}: {v:.0}"));
        }
    }
    Ok(c)
}

fn stamp(unix: f64) -> String {
    if unix <= 0.0 {
        return "never".into();
    }
    chrono::DateTime::from_timestamp(unix as i64, 0).map_or_else(|| format!("{unix:.0}"), |t| t.format("%H:%M:%S").to_string())
}
