//! Mimir's acceptance criteria (AC-lgtm-003), checked with a handful of known samples: the write
//! is acknowledged, the samples are queryable with their values, PromQL answers within 3 s (recent,
//! 7-day range, a metric that does not exist, 10 at once), blocks reach the bucket, a malformed
//! write is refused with a reason; Mimir's own counters: failed object-storage operations (none
//! with working credentials, some with `--s3-broken`), compactor runs and shipped blocks.
//! `--record` keeps the samples; `verify` reads them back after the restart and writes anew.

use super::write::proto::{Label, Sample, TimeSeries, WriteRequest};
use super::write::protocol_headers;
use super::MimirPlan;
use crate::check::model::{took, Criterion, Status};
use crate::check::target_metrics::{self, Credentials, StoreRequests};
use crate::check::{Acceptance, CheckContext, VerifyContext};
use crate::client::http::HttpTarget;
use crate::client::promql::{unix_secs, PromApi};
use crate::engine::preflight::excerpt;
use crate::watch::exposition::MetricSample;
use bytes::Bytes;
use http::Method;
use prost::Message;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant, SystemTime};

const METRIC: &str = "lgtm_bench_check";
const SERIES: u64 = 10;
const WRITE_WITHIN: Duration = Duration::from_secs(60);
const VISIBLE_WITHIN: Duration = Duration::from_secs(60);
const QUERY_WITHIN: Duration = Duration::from_secs(3);

/// A sample the check wrote: enough to read it back later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Written {
    pub selector: String,
    pub timestamp_ms: i64,
    pub value: f64,
}

fn request(run_id: &str, at_ms: i64) -> (Vec<u8>, Vec<Written>) {
    let mut req = WriteRequest::default();
    let mut written = Vec::new();
    for i in 0..SERIES {
        let value = i as f64 * 10.0 + 0.5;
        let labels = vec![
            Label { name: "__name__".into(), value: METRIC.into() },
            Label { name: "lgtm_bench_run".into(), value: run_id.into() },
            Label { name: "series".into(), value: i.to_string() },
        ];
        req.timeseries.push(TimeSeries { labels, samples: vec![Sample { value, timestamp: at_ms }], histograms: vec![], exemplars: vec![] });
        written.push(Written { selector: format!("{METRIC}{{lgtm_bench_run=\"{run_id}\",series=\"{i}\"}}"), timestamp_ms: at_ms, value });
    }
    let body = snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).unwrap_or_default();
    (body, written)
}

struct Clients {
    write: HttpTarget,
    api: PromApi,
}

pub async fn acceptance(plan: &MimirPlan, ctx: &CheckContext<'_>) -> Acceptance {
    let m = &plan.section;
    let clients = HttpTarget::new(&m.connection, 1)
        .and_then(|w| Ok(Clients { write: w, api: PromApi::new(HttpTarget::new(&m.connection, 10)?, &m.query_url, &m.query_prefix) }));
    let c = match clients {
        Ok(c) => c,
        Err(e) => {
            ctx.checked(Criterion::new("AC-lgtm-003-02", "remote-write acknowledged").fail(e.to_string()));
            return Acceptance::default();
        }
    };
    let now_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let (body, written) = request(&ctx.run_id, now_ms);
    let ack = write_acknowledged(plan, &c, body).await;
    let (acked, down) = (ack.status == Status::Pass, ack.unreachable);
    ctx.checked(ack);
    ctx.checked(malformed_write(plan, &c).await);
    if acked {
        ctx.checked(queryable(&c.api, &written).await);
    } else {
        let c = Criterion::new("AC-lgtm-003-02", "the samples are queryable within 1 minute with their values");
        ctx.checked(if down { c.unreachable("not checked: the write endpoint did not answer") } else { c.fail("not checked: the write was not acknowledged") });
    }
    queries(&c.api, &ctx.run_id, &written).await.into_iter().for_each(|c| ctx.checked(c));
    ctx.checked(match ctx.credentials {
        Credentials::Working => blocks(m.connection.tenant.as_deref().unwrap_or("anonymous"), ctx, now_ms).await,
        Credentials::Broken => {
            Criterion::skipped(BLOCKS_ID, BLOCKS_TITLE, "the S3 credentials are broken on purpose (--s3-broken): no block can reach the bucket")
        }
    });
    own_metrics(plan, ctx.credentials, (!down).then_some(acked)).await.into_iter().for_each(|c| ctx.checked(c));
    Acceptance { written: acked.then(|| serde_json::json!({ "samples": written })) }
}

async fn write_acknowledged(plan: &MimirPlan, c: &Clients, body: Vec<u8>) -> Criterion {
    let crit = Criterion::new("AC-lgtm-003-02", "remote-write of known samples acknowledged (2xx) within 1 minute");
    let started = Instant::now();
    match c.write.send(0, Method::POST, &plan.write_uri, &protocol_headers(), Bytes::from(body)).await {
        Ok(a) => {
            let t = started.elapsed();
            crit.expect(
                a.status.is_success() && t <= WRITE_WITHIN,
                format!("{SERIES} samples: HTTP {} in {}", a.status.as_u16(), took(t)),
                format!("HTTP {} ({}) in {}", a.status.as_u16(), excerpt(&a.body), took(t)),
            )
        }
        Err(e) => crit.unreachable(format!("{} did not answer: {e}", plan.section.write_url)),
    }
}

async fn malformed_write(plan: &MimirPlan, c: &Clients) -> Criterion {
    let crit = Criterion::new("AC-lgtm-003-02", "a malformed write is refused with a descriptive error (TASK-lgtm-012)");
    match c.write.send(0, Method::POST, &plan.write_uri, &protocol_headers(), Bytes::from_static(b"this is not a snappy protobuf")).await {
        Ok(a) => {
            let text = String::from_utf8_lossy(&a.body).trim().to_string();
            crit.expect(
                a.status.is_client_error() && text.len() >= 8,
                format!("HTTP {}: {}", a.status.as_u16(), excerpt(&a.body)),
                if a.status.is_client_error() {
                    "refused without saying why (empty body)".to_string()
                } else {
                    format!("accepted or misanswered: HTTP {}", a.status.as_u16())
                },
            )
        }
        Err(e) => crit.unreachable(format!("no answer: {e}")),
    }
}

/// Reads each written sample at its own timestamp; the ones missing or with another value.
async fn read_back(api: &PromApi, written: &[Written]) -> Result<Vec<String>, String> {
    let mut wrong = Vec::new();
    for w in written {
        match at_time(api, &w.selector, w.timestamp_ms as f64 / 1000.0).await? {
            Some(v) if v == w.value => {}
            Some(v) => wrong.push(format!("{} = {v}, written {}", w.selector, w.value)),
            None => wrong.push(format!("{} missing", w.selector)),
        }
    }
    Ok(wrong)
}

/// The sample's value at `at` (an instant query at that time), if there is one.
async fn at_time(api: &PromApi, selector: &str, at: f64) -> Result<Option<f64>, String> {
    Ok(crate::check::cluster::vector_at(api, selector, at).await?.first().map(|(_, v)| *v))
}

async fn queryable(api: &PromApi, written: &[Written]) -> Criterion {
    let crit = Criterion::new("AC-lgtm-003-02", "the samples are queryable within 1 minute with their values");
    let started = Instant::now();
    loop {
        match read_back(api, written).await {
            Ok(wrong) if wrong.is_empty() => {
                return crit.saw(format!("{} of {} samples read back equal after {}", written.len(), written.len(), took(started.elapsed())))
            }
            Ok(wrong) if started.elapsed() > VISIBLE_WITHIN => return crit.fail(format!("after {}: {}", took(started.elapsed()), wrong.join("; "))),
            Err(e) => return crit.fail(e),
            Ok(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Runs one query and says how long it took and what came back.
async fn timed(api: &PromApi, path: &str) -> Result<(Duration, u16, serde_json::Value), String> {
    let started = Instant::now();
    let a = api.get(0, path).await.map_err(|e| format!("no answer: {e}"))?;
    let t = started.elapsed();
    Ok((t, a.status.as_u16(), serde_json::from_slice(&a.body).unwrap_or(serde_json::Value::Null)))
}

fn q(query: &str) -> String {
    form_urlencoded::Serializer::new(String::new()).append_pair("query", query).finish()
}

async fn queries(api: &PromApi, run_id: &str, written: &[Written]) -> Vec<Criterion> {
    let now = unix_secs(SystemTime::now());
    let id = "AC-lgtm-003-05";
    let within = |crit: Criterion, r: Result<(Duration, u16, serde_json::Value), String>, check: &dyn Fn(&serde_json::Value) -> Result<String, String>| match r
    {
        Err(e) => crit.unreachable(e),
        Ok((t, status, json)) => {
            let crit = crit.expect(t <= QUERY_WITHIN, format!("answered in {}", took(t)), format!("took {}, over 3s", took(t)));
            match (status, check(&json)) {
                (200, Ok(fact)) => crit.saw(fact),
                (200, Err(why)) => crit.fail(why),
                (s, _) => crit.fail(format!("HTTP {s}: {}", json["error"].as_str().unwrap_or_default())),
            }
        }
    };
    let sum: f64 = written.iter().map(|w| w.value).sum();
    let recent = timed(api, &format!("/api/v1/query?{}&time={now:.3}", q(&format!("sum({METRIC}{{lgtm_bench_run=\"{run_id}\"}})")))).await;
    let end = now.ceil() + 1.0;
    let week = timed(api, &format!("/api/v1/query_range?{}&start={:.0}&end={end:.0}&step=3600", q(&format!("count({METRIC})")), end - 7.0 * 86400.0)).await;
    let missing = timed(api, &format!("/api/v1/query?{}&time={now:.3}", q(&format!("lgtm_bench_no_such_metric_{run_id}")))).await;
    let first_value = |j: &serde_json::Value| j["data"]["result"][0]["value"][1].as_str().and_then(|s| s.parse::<f64>().ok());
    let mut out = vec![
        within(Criterion::new(id, "PromQL within 3s: a recent query"), recent, &|j| match first_value(j) {
            Some(v) if v == sum => Ok(format!("sum of the written samples = {v}")),
            Some(v) => Err(format!("sum = {v}, written {sum}")),
            None => Err(format!("no value came back, written {sum}")),
        }),
        within(Criterion::new(id, "PromQL within 3s: a 7-day range query"), week, &|j| {
            Ok(format!("{} series over 7 days at 1h steps", j["data"]["result"].as_array().map_or(0, Vec::len)))
        }),
        within(Criterion::new(id, "PromQL within 3s: a metric that does not exist is HTTP 200 with an empty result"), missing, &|j| match j["data"]["result"]
            .as_array()
        {
            Some(r) if r.is_empty() => Ok("empty result".into()),
            Some(r) => Err(format!("expected an empty result, got {} series", r.len())),
            None => Err("expected an empty result, got no result list".into()),
        }),
    ];
    out.push(concurrent(api, run_id, now).await);
    out
}

async fn concurrent(api: &PromApi, run_id: &str, now: f64) -> Criterion {
    let crit = Criterion::new("AC-lgtm-003-05", "PromQL within 3s: 10 queries at once");
    let path = format!("/api/v1/query?{}&time={now:.3}", q(&format!("count({METRIC}{{lgtm_bench_run=\"{run_id}\"}})")));
    let tasks: Vec<_> = (0..10).map(|_| timed(api, &path)).collect();
    let mut slowest = Duration::ZERO;
    let mut failures = Vec::new();
    for r in futures_util::future::join_all(tasks).await {
        match r {
            Ok((t, 200, _)) => slowest = slowest.max(t),
            Ok((t, s, _)) => failures.push(format!("HTTP {s} in {}", took(t))),
            Err(e) => failures.push(e),
        }
    }
    if failures.len() == 10 && failures.iter().all(|f| f.starts_with("no answer")) {
        return crit.unreachable(failures[0].clone());
    }
    crit.expect(
        failures.is_empty() && slowest <= QUERY_WITHIN,
        format!("10 answered, the slowest in {}", took(slowest)),
        format!("slowest {}; {}", took(slowest), failures.join("; ")),
    )
}

/// A ULID: 26 characters of Crockford's base32.
fn is_ulid(s: &str) -> bool {
    s.len() == 26 && s.chars().all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c)))
}

const BLOCKS_ID: &str = "AC-lgtm-003-01";
const BLOCKS_TITLE: &str = "the S3 bucket reachable, with blocks (a ULID folder with meta.json under the tenant)";

async fn blocks(tenant: &str, ctx: &CheckContext<'_>, written_ms: i64) -> Criterion {
    let (title, id) = (BLOCKS_TITLE, BLOCKS_ID);
    let (s3, bucket) = match ctx.bucket(id, title, |s| s.mimir_bucket.clone(), "mimir_bucket (e.g. \"mimir-blocks\")") {
        Ok(b) => b,
        Err(skipped_or_failed) => return skipped_or_failed,
    };
    let wait = ctx.wait_for_bucket("this check's samples", &bucket);
    loop {
        let crit = Criterion::new(id, title);
        let listing = match s3.list(&bucket, &format!("{tenant}/")).await {
            Ok(l) => l,
            Err(e) => return crit.fail(crate::check::s3::explain(&bucket, &e)),
        };
        let mut metas: Vec<&str> =
            listing.iter().map(|o| o.key.as_str()).filter(|k| k.ends_with("/meta.json") && k.split('/').nth(1).is_some_and(is_ulid)).collect();
        metas.sort();
        let Some(newest) = metas.last() else {
            if wait.again().await {
                continue;
            }
            return crit.fail(format!(
                "no block with meta.json under {bucket}/{tenant}/ ({} objects): blocks ship every 2h, or POST /ingester/flush; --wait-s3 waits",
                listing.len()
            ));
        };
        let meta: serde_json::Value = match s3.object(&bucket, newest).await {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(e) => return crit.fail(crate::check::s3::explain(&bucket, &e)),
        };
        let max_time = meta["maxTime"].as_i64().unwrap_or(0);
        if wait.waits() && max_time < written_ms && wait.again().await {
            continue;
        }
        let org = meta["thanos"]["labels"]["__org_id__"].as_str().unwrap_or_default().to_string();
        let crit = crit
            .saw(format!("{} block(s) under {bucket}/{tenant}/; newest {newest}", metas.len()))
            .saw(format!("its meta.json: {} series, {} samples, tenant `{org}`", meta["stats"]["numSeries"], meta["stats"]["numSamples"]))
            .expect(org.is_empty() || org == tenant, "the block belongs to the tenant", format!("the block's tenant is `{org}`, not `{tenant}`"));
        return if wait.waits() {
            crit.expect(
                max_time >= written_ms,
                "the newest block covers the samples written by this check",
                "no block covers this check's samples yet (within --wait-s3)",
            )
        } else {
            crit.saw("this check's own samples ship with the next block (every 2h); --wait-s3 DURATION waits for them")
        };
    }
}

/// The criteria read from Mimir's own `/metrics`: its object-storage operations (AC-lgtm-003-01,
/// or AC-lgtm-003-04 with `--s3-broken`) and compaction and shipping (AC-lgtm-003-03).
async fn own_metrics(plan: &MimirPlan, credentials: Credentials, acked: Option<bool>) -> Vec<Criterion> {
    let m = &plan.section;
    let (store_title, compaction_title) = ("Mimir's object-storage operations", COMPACTION_TITLE);
    let store_id = match credentials {
        Credentials::Working => "AC-lgtm-003-01",
        Credentials::Broken => "AC-lgtm-003-04",
    };
    let samples = match (&m.memory, target_metrics::read(m.memory.as_ref(), &m.connection).await) {
        (Some(mem), Ok(s)) if !mem.metrics_urls.is_empty() => s,
        (Some(mem), Err(e)) if !mem.metrics_urls.is_empty() => {
            return vec![
                target_metrics::unread(store_id, store_title, "mimir", Some(e.clone())),
                target_metrics::unread("AC-lgtm-003-03", compaction_title, "mimir", Some(e)),
            ];
        }
        _ => {
            return vec![
                target_metrics::unread(store_id, store_title, "mimir", None),
                target_metrics::unread("AC-lgtm-003-03", compaction_title, "mimir", None),
            ];
        }
    };
    let (ops, failures) = ("thanos_objstore_bucket_operations_total", "thanos_objstore_bucket_operation_failures_total");
    let store = if target_metrics::sum(&samples, ops, |_| true).is_none() && target_metrics::sum(&samples, failures, |_| true).is_none() {
        Criterion::skipped(store_id, store_title, format!("no {ops} in the target's /metrics: it is not Mimir (or keeps no object store)"))
    } else {
        let seen = StoreRequests {
            source: failures,
            requests: target_metrics::sum(&samples, ops, |_| true),
            failures: target_metrics::by_labels(&samples, failures, &["component", "operation"], |_| true),
        };
        target_metrics::store_criterion("Mimir", ("AC-lgtm-003-01", "AC-lgtm-003-04"), credentials, &seen, acked)
    };
    vec![store, compaction(&samples, unix_secs(SystemTime::now()))]
}

const COMPACTION_TITLE: &str = "the compactor ran and the ingester shipped its blocks to S3, none left unshipped (local copies are then removed)";

/// Mimir's own account of compaction and shipping (AC-lgtm-003-03): compactor runs completed and
/// none failed, blocks uploaded by the shipper and none failed, and no block waiting to ship for
/// more than an hour (Mimir's own `IngesterHasUnshippedBlocks` alert) at `now` (unix seconds).
pub fn compaction(samples: &[MetricSample], now: f64) -> Criterion {
    let id = "AC-lgtm-003-03";
    let get = |name: &str| target_metrics::sum(samples, name, |_| true);
    let (runs, failed_runs) = (get("cortex_compactor_runs_completed_total"), get("cortex_compactor_runs_failed_total").unwrap_or(0.0));
    let (uploads, failed_uploads) = (get("cortex_ingester_shipper_uploads_total"), get("cortex_ingester_shipper_upload_failures_total").unwrap_or(0.0));
    let oldest_unshipped = get("cortex_ingester_oldest_unshipped_block_timestamp_seconds");
    if runs.is_none() && uploads.is_none() {
        return Criterion::skipped(
            id,
            COMPACTION_TITLE,
            "no cortex_compactor_* or cortex_ingester_shipper_* in the target's /metrics: it is not Mimir (or runs neither compactor nor ingester there)",
        );
    }
    let c = Criterion::new(id, COMPACTION_TITLE);
    let c = match runs {
        Some(r) => c.expect(
            r > 0.0,
            format!("compactor runs completed: {r:.0} (cortex_compactor_runs_completed_total)"),
            "the compactor has not completed a run yet (cortex_compactor_runs_completed_total = 0): it runs every compaction_interval (1h by default)",
        ),
        None => c.fail("no cortex_compactor_runs_completed_total: is the compactor running in this Mimir?"),
    }
    .expect(failed_runs == 0.0, "no compactor run failed", format!("{failed_runs:.0} compactor run(s) failed (cortex_compactor_runs_failed_total)"));
    let c = match uploads {
        Some(u) => c.expect(
            u > 0.0,
            format!("blocks uploaded by the ingester: {u:.0} (cortex_ingester_shipper_uploads_total)"),
            "the ingester has not uploaded a block yet: it cuts one every 2h of data (blocks-storage.tsdb.block-ranges-period)",
        ),
        None => c.fail("no cortex_ingester_shipper_uploads_total: is the ingester running in this Mimir?"),
    }
    .expect(
        failed_uploads == 0.0,
        "no upload failed",
        format!("{failed_uploads:.0} block upload(s) failed (cortex_ingester_shipper_upload_failures_total)"),
    );
    match oldest_unshipped {
        Some(t) if t > 0.0 && now - t > 3600.0 => {
            c.fail(format!("a block has waited {:.1}h to be shipped (cortex_ingester_oldest_unshipped_block_timestamp_seconds)", (now - t) / 3600.0))
        }
        Some(t) if t > 0.0 => c.saw(format!("a block cut {:.0} min ago waits to be shipped", ((now - t) / 60.0).max(0.0))),
        Some(_) => c.saw("no block waiting to be shipped"),
        None => c,
    }
}

/// Reads back what a `--record` wrote: every sample, value equal (NFR-RECOVER-001; AC-lgtm-003-04
/// when it was written while S3 was broken); then writes anew and reads that back.
pub async fn verify(plan: &MimirPlan, ctx: &VerifyContext<'_>) -> Vec<Criterion> {
    let m = &plan.section;
    let crit = Criterion::new("NFR-RECOVER-001", "Mimir: samples written before the restart read back, values equal");
    let written: Vec<Written> = match serde_json::from_value(ctx.recorded["samples"].clone()) {
        Ok(w) => w,
        Err(e) => return vec![crit.fail(format!("the record's mimir part cannot be read: {e}"))],
    };
    let clients = HttpTarget::new(&m.connection, 1)
        .and_then(|w| Ok(Clients { write: w, api: PromApi::new(HttpTarget::new(&m.connection, 10)?, &m.query_url, &m.query_prefix) }));
    let c = match clients {
        Ok(c) => c,
        Err(e) => return vec![crit.fail(e.to_string())],
    };
    let api = &c.api;
    let answering = ctx
        .when_answering("Mimir", move || async move {
            let probe = api.instant(0, "vector(1)", unix_secs(SystemTime::now())).await;
            let down = probe.as_ref().err().map(ToString::to_string);
            (down.clone(), down.is_some())
        })
        .await;
    if let Some(e) = answering {
        return vec![
            crit.unreachable(format!("could not check: Mimir at {} did not answer ({e}); wait for it (--wait 5m) and run --verify again", m.query_url))
        ];
    }
    let started = Instant::now();
    let read = match read_back(&c.api, &written).await {
        Ok(lost) if lost.is_empty() => crit.saw(format!("{} of {} samples read back equal in {}", written.len(), written.len(), took(started.elapsed()))),
        Ok(lost) => crit.fail(format!("{} of {} lost or changed: {}", lost.len(), written.len(), lost.join("; "))),
        Err(e) => crit.fail(e),
    };
    let mut out = vec![read.clone()];
    if ctx.recorded_with == Credentials::Broken {
        out.push(Criterion {
            id: "AC-lgtm-003-04".into(),
            title: "no sample written while the S3 credentials were broken is lost once they are fixed".into(),
            ..read
        });
    }
    out.push(ingestion_resumes(plan, &c, &ctx.run_id).await);
    out
}

/// After the restart: new samples are acknowledged and read back with their values.
async fn ingestion_resumes(plan: &MimirPlan, c: &Clients, run_id: &str) -> Criterion {
    let crit = Criterion::new("NFR-RECOVER-001", "after the restart Mimir takes new samples again: acknowledged and read back with their values");
    let now_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let (body, written) = request(run_id, now_ms);
    let ack = write_acknowledged(plan, c, body).await;
    if ack.status != Status::Pass {
        let why = ack.reason.unwrap_or_default();
        return if ack.unreachable { crit.unreachable(why) } else { crit.fail(format!("the new samples were not acknowledged: {why}")) };
    }
    let read = queryable(&c.api, &written).await;
    let crit = ack.evidence.into_iter().fold(crit, Criterion::saw);
    match read.status {
        Status::Pass => read.evidence.into_iter().fold(crit, Criterion::saw),
        _ => crit.fail(read.reason.unwrap_or_default()),
    }
}
