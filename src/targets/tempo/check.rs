//! Tempo's acceptance criteria (AC-lgtm-002), checked with ten known traces: Tempo is ready and
//! says what it is; the Export is acknowledged within 1 s with no span rejected; a trace is found by
//! ID within 5 s and complete; a trace that does not exist is answered "not found" within 5 s
//! (and whether the answer says anything: Tempo 3.x sends nothing); all ten queried at once within
//! 5 s and complete; blocks with `meta.json` under the tenant in the bucket; Tempo's own count of
//! failed object-storage requests (none with working credentials; some with `--s3-broken`).
//! `--record` keeps the trace ids; `verify` reads them back after the restart (AC-lgtm-002-03,
//! NFR-RECOVER-001) and writes a new trace to see ingestion resume.

use super::otlp::shape::{hex, RUN_ATTRIBUTE};
use super::otlp::Exporter;
use super::query::{judge, read_trace, ExpectedTrace, TempoApi, TraceLookup};
use super::TempoPlan;
use crate::check::model::{took, Criterion, Status};
use crate::check::target_metrics::{self, Credentials, StoreRequests};
use crate::check::{Acceptance, CheckContext, VerifyContext};
use crate::stats::OutcomeClass;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

const TRACES: u64 = 10;
const SPANS: usize = 3;
const SERVICE: &str = "lgtm-bench-check";
const ACK_WITHIN: Duration = Duration::from_secs(1);
const QUERY_WITHIN: Duration = Duration::from_secs(5);

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }) }
}

/// 16 bytes from the run id and the trace's index (never all zero).
fn trace_id(run_id: &str, i: u64) -> [u8; 16] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in run_id.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&h.to_be_bytes());
    id[8..].copy_from_slice(&(i + 1).to_be_bytes());
    id
}

/// How long before the Export its spans start.
const SPANS_START_BEFORE_NS: u64 = 50_000_000;

/// Ten traces of three spans (a root and two children), as one Export.
fn export(run_id: &str, now_ns: u64) -> (Vec<u8>, Vec<String>) {
    let mut spans = Vec::new();
    let mut ids = Vec::new();
    for i in 0..TRACES {
        let tid = trace_id(run_id, i);
        ids.push(hex(&tid));
        for s in 0..SPANS as u64 {
            let mut span_id = [0u8; 8];
            span_id.copy_from_slice(&(i * 16 + s + 1).to_be_bytes());
            let parent = if s == 0 { vec![] } else { (i * 16 + 1).to_be_bytes().to_vec() };
            spans.push(Span {
                trace_id: tid.to_vec(),
                span_id: span_id.to_vec(),
                parent_span_id: parent,
                name: format!("check-span-{s}"),
                kind: 2,
                start_time_unix_nano: now_ns - SPANS_START_BEFORE_NS,
                end_time_unix_nano: now_ns - 10_000_000 + s,
                ..Default::default()
            });
        }
    }
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![kv("service.name", SERVICE), kv(RUN_ATTRIBUTE, run_id)], ..Default::default() }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    };
    (req.encode_to_vec(), ids)
}

fn expected(run_id: &str) -> ExpectedTrace {
    ExpectedTrace { spans: SPANS, services: BTreeSet::from([SERVICE.to_string()]), run_id: run_id.into() }
}

pub async fn acceptance(plan: &TempoPlan, ctx: &CheckContext<'_>) -> Acceptance {
    let t = &plan.section;
    let api = match TempoApi::of(t, 10) {
        Ok(api) => api,
        Err(e) => {
            ctx.checked(Criterion::new("AC-lgtm-002-01", "Tempo ready").fail(e.to_string()));
            return Acceptance::default();
        }
    };
    ctx.checked(ready(&api).await);
    let now_ns = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let (body, ids) = export(&ctx.run_id, now_ns);
    let ack = match plan.exporter() {
        Ok(e) => acknowledged(&e, body).await,
        Err(e) => Criterion::new("AC-lgtm-002-02", "an OTLP trace is acknowledged within 1s").fail(e.to_string()),
    };
    let (acked, down) = (ack.status == Status::Pass, ack.unreachable);
    ctx.checked(ack);
    let want = expected(&ctx.run_id);
    if acked {
        ctx.checked(found_by_id(&api, &ids[0], &want).await);
    } else {
        let c = Criterion::new("AC-lgtm-002-05", "the trace is found by ID within 5s and complete");
        ctx.checked(if down { c.unreachable("not checked: the OTLP endpoint did not answer") } else { c.fail("not checked: the Export was not acknowledged") });
    }
    ctx.checked(missing(&api, &ctx.run_id).await);
    if acked {
        ctx.checked(concurrently(&api, &ids, &want).await);
    }
    ctx.checked(match ctx.credentials {
        Credentials::Working => blocks(t.connection.tenant.as_deref().unwrap_or("single-tenant"), ctx, now_ns - SPANS_START_BEFORE_NS).await,
        Credentials::Broken => {
            Criterion::skipped(BLOCKS_ID, BLOCKS_TITLE, "the S3 credentials are broken on purpose (--s3-broken): no block can reach the bucket")
        }
    });
    ctx.checked(object_storage(plan, ctx.credentials, (!down).then_some(acked)).await);
    Acceptance { written: acked.then(|| serde_json::json!({ "run_id": ctx.run_id, "trace_ids": ids })) }
}

async fn ready(api: &TempoApi) -> Criterion {
    let c = Criterion::new("AC-lgtm-002-01", "Tempo is ready and reports its build");
    let c = match api.get(0, "/ready").await {
        Ok(a) => c.expect(
            a.status.is_success(),
            format!("/ready: HTTP {}", a.status.as_u16()),
            format!("/ready: HTTP {} {}", a.status.as_u16(), String::from_utf8_lossy(&a.body).trim()),
        ),
        Err(e) => return c.unreachable(format!("{} did not answer: {e}", api.base)),
    };
    let info = crate::client::buildinfo::read(&api.target, &api.base, "/api/status/buildinfo").await;
    c.saw(format!("build: {}{}", info.shown(), info.missing.map(|m| format!(" ({m})")).unwrap_or_default()))
}

async fn acknowledged(exporter: &Exporter, body: Vec<u8>) -> Criterion {
    let c = Criterion::new("AC-lgtm-002-02", "an OTLP trace is acknowledged within 1s, no span rejected");
    let started = Instant::now();
    let answer: Result<ExportTraceServiceResponse, String> = match exporter {
        Exporter::Grpc(g) => g.export(0, Bytes::from(body)).await.map_err(|s| format!("gRPC {:?}: {}", s.code(), s.message())),
        Exporter::Http(h) => match h.export(0, &body).await {
            Ok(a) if a.status.is_success() => ExportTraceServiceResponse::decode(a.body.as_ref()).map_err(|e| format!("not an OTLP response: {e}")),
            Ok(a) => Err(format!("HTTP {} {}", a.status.as_u16(), String::from_utf8_lossy(&a.body).trim())),
            Err(e) => Err(format!("no answer: {e}")),
        },
    };
    let t = started.elapsed();
    match answer {
        Ok(r) => {
            let rejected = r.partial_success.map_or(0, |p| p.rejected_spans);
            c.expect(t <= ACK_WITHIN, format!("{TRACES} traces × {SPANS} spans acknowledged in {}", took(t)), format!("acknowledged in {}, over 1s", took(t)))
                .expect(rejected == 0, "no span rejected (partial_success)", format!("{rejected} spans rejected (partial_success)"))
        }
        Err(e) if e.starts_with("no answer") || e.contains("connection failed") => c.unreachable(e),
        Err(e) => c.fail(e),
    }
}

/// One trace-by-ID call: what it says, and the answer as shown in evidence.
async fn look_up_once(api: &TempoApi, id: &str) -> Result<(TraceLookup, String), String> {
    let a = api.trace_by_id(0, id).await.map_err(|e| format!("no answer: {e}"))?;
    Ok((read_trace(&a), format!("HTTP {} with {}", a.status.as_u16(), crate::engine::preflight::excerpt(&a.body))))
}

/// Looks the trace up until it is found (or `QUERY_WITHIN` passes); how long it took.
async fn look_up(api: &TempoApi, id: &str) -> (TraceLookup, Duration, String) {
    let started = Instant::now();
    loop {
        let (lookup, shown) = look_up_once(api, id).await.unwrap_or_else(|e| (TraceLookup::Failed(OutcomeClass::ConnectionFailure), e));
        if matches!(lookup, TraceLookup::Found { .. } | TraceLookup::Failed(_)) || started.elapsed() > QUERY_WITHIN {
            return (lookup, started.elapsed(), shown);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn complete(c: Criterion, lookup: &TraceLookup, want: &ExpectedTrace, id: &str) -> Criterion {
    match lookup {
        TraceLookup::Found { spans, services, .. } => {
            let ok = judge(lookup, want) == OutcomeClass::Success;
            c.expect(
                ok,
                format!("{id}: {spans} spans of {}", services.iter().cloned().collect::<Vec<_>>().join(", ")),
                format!("{id}: {spans} spans of {}, written {} of {SERVICE}", services.iter().cloned().collect::<Vec<_>>().join(", "), want.spans),
            )
        }
        TraceLookup::NotFound { .. } => c.fail(format!("{id}: not found")),
        TraceLookup::Failed(_) => c.fail(format!("{id}: {}", in_words(lookup, want.spans))),
    }
}

async fn found_by_id(api: &TempoApi, id: &str, want: &ExpectedTrace) -> Criterion {
    let c = Criterion::new("AC-lgtm-002-05", "the trace is found by ID within 5s and complete");
    let (lookup, t, _) = look_up(api, id).await;
    complete(c.expect(t <= QUERY_WITHIN, format!("found after {}", took(t)), format!("took {}, over 5s", took(t))), &lookup, want, id)
}

async fn missing(api: &TempoApi, run_id: &str) -> Criterion {
    let c = Criterion::new("AC-lgtm-002-05", "a trace that does not exist is answered \"not found\" within 5s (query non-existent trace)");
    let id = hex(&trace_id(&format!("{run_id}-missing"), u64::MAX - 1));
    let started = Instant::now();
    let (lookup, shown) = match look_up_once(api, &id).await {
        Ok(l) => l,
        Err(e) => return c.unreachable(e),
    };
    let t = started.elapsed();
    match lookup {
        TraceLookup::NotFound { descriptive } => c
            .expect(t <= QUERY_WITHIN, format!("not found in {}: {shown}", took(t)), format!("took {}, over 5s", took(t)))
            .saw(if descriptive { "the answer carries a message" } else { "the answer carries no descriptive message (Tempo sends none)" }),
        TraceLookup::Found { .. } => c.fail(format!("{id} was found, yet nothing was written under it")),
        TraceLookup::Failed(class) => c.fail(format!("{}: {shown}", class.as_str())),
    }
}

async fn concurrently(api: &TempoApi, ids: &[String], want: &ExpectedTrace) -> Criterion {
    let c = Criterion::new("AC-lgtm-002-05", "10 traces queried at once, all within 5s and complete");
    let lookups = futures_util::future::join_all(ids.iter().map(|id| look_up(api, id))).await;
    let slowest = lookups.iter().map(|(_, t, _)| *t).max().unwrap_or_default();
    let c = c.expect(
        slowest <= QUERY_WITHIN,
        format!("{} answered, the slowest in {}", lookups.len(), took(slowest)),
        format!("the slowest took {}", took(slowest)),
    );
    let incomplete: Vec<String> = ids
        .iter()
        .zip(&lookups)
        .filter(|(_, (l, _, _))| judge(l, want) != OutcomeClass::Success)
        .map(|(id, (l, _, _))| format!("{id}: {}", in_words(l, want.spans)))
        .collect();
    c.expect(incomplete.is_empty(), format!("all {} complete ({SPANS} spans each)", ids.len()), incomplete.join("; "))
}

/// A Tempo block id: a UUID.
fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.chars().enumerate().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// `spans_start_ns`: when this check's traces start.
const BLOCKS_ID: &str = "AC-lgtm-002-02";
const BLOCKS_TITLE: &str = "the traces reach the S3 bucket (blocks with meta.json under the tenant)";

async fn blocks(tenant: &str, ctx: &CheckContext<'_>, spans_start_ns: u64) -> Criterion {
    let (title, id) = (BLOCKS_TITLE, BLOCKS_ID);
    let (s3, bucket) = match ctx.bucket(id, title, |s| s.tempo_bucket.clone(), "tempo_bucket (e.g. \"tempo-traces\")") {
        Ok(b) => b,
        Err(skipped_or_failed) => return skipped_or_failed,
    };
    let wait = ctx.wait_for_bucket("this check's traces", &bucket);
    loop {
        let c = Criterion::new(id, title);
        let listing = match s3.list(&bucket, &format!("{tenant}/")).await {
            Ok(l) => l,
            Err(e) => return c.fail(crate::check::s3::explain(&bucket, &e)),
        };
        let metas: Vec<&str> =
            listing.iter().map(|o| o.key.as_str()).filter(|k| k.ends_with("/meta.json") && k.split('/').nth(1).is_some_and(is_uuid)).collect();
        let mut newest: Option<(String, serde_json::Value)> = None;
        for key in &metas {
            if let Ok(b) = s3.object(&bucket, key).await {
                let meta: serde_json::Value = serde_json::from_slice(&b).unwrap_or_default();
                if newest.as_ref().is_none_or(|(_, n)| meta["endTime"].as_str() > n["endTime"].as_str()) {
                    newest = Some((key.to_string(), meta));
                }
            }
        }
        // Tempo keeps a block's time range in whole seconds (its end is its newest trace's end,
        // truncated), so the block holding this check's traces ends in or after the second
        // they started.
        let covers = |m: &serde_json::Value| {
            m["endTime"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t.timestamp() >= (spans_start_ns / 1_000_000_000) as i64)
        };
        let waiting = wait.waits() && !newest.as_ref().is_some_and(|(_, m)| covers(m));
        if (newest.is_none() || waiting) && wait.again().await {
            continue;
        }
        let Some((key, meta)) = newest else {
            return c.fail(format!("no block with meta.json under {bucket}/{tenant}/ ({} objects); --wait-s3 waits for the first", listing.len()));
        };
        let c = c
            .saw(format!("{} block(s) under {bucket}/{tenant}/; newest {key}", metas.len()))
            .saw(format!(
                "its meta.json: {} traces, {} to {}, format {}",
                meta["totalObjects"],
                meta["startTime"].as_str().unwrap_or("?"),
                meta["endTime"].as_str().unwrap_or("?"),
                // Tempo 2.x and 3.x write `format` (e.g. vParquet5); older blocks said `version`.
                meta["format"].as_str().or(meta["version"].as_str()).unwrap_or("?")
            ))
            .expect(
                meta["tenantID"].as_str().is_none_or(|t| t == tenant),
                "the block belongs to the tenant",
                format!("the block's tenant is {}, not `{tenant}`", meta["tenantID"]),
            );
        return if wait.waits() {
            c.expect(covers(&meta), "the newest block covers this check's traces", "no block covers this check's traces yet (within --wait-s3)")
        } else {
            c.saw("this check's own traces reach the bucket when the ingester cuts its block (minutes); --wait-s3 10m waits for them")
        };
    }
}

/// Tempo's failed object-storage requests, from `tempodb_backend_request_duration_seconds_count`
/// by `status_code` (anything but 2xx; errors without an HTTP answer are counted by name).
async fn object_storage(plan: &TempoPlan, credentials: Credentials, acked: Option<bool>) -> Criterion {
    let t = &plan.section;
    let ids = ("AC-lgtm-002-01", "AC-lgtm-002-04");
    let id = if credentials == Credentials::Broken { ids.1 } else { ids.0 };
    let samples = match (&t.memory, target_metrics::read(t.memory.as_ref(), &t.connection).await) {
        (Some(m), Ok(s)) if !m.metrics_urls.is_empty() => s,
        (Some(m), Err(e)) if !m.metrics_urls.is_empty() => return target_metrics::unread(id, "Tempo's object-storage requests", "tempo", Some(e)),
        _ => return target_metrics::unread(id, "Tempo's object-storage requests", "tempo", None),
    };
    target_metrics::store_criterion("Tempo", ids, credentials, &store_requests(&samples), acked)
}

/// Tempo's object-storage requests and their failures (any `status_code` but 2xx).
fn store_requests(samples: &[crate::watch::exposition::MetricSample]) -> StoreRequests {
    const SOURCE: &str = "tempodb_backend_request_duration_seconds_count";
    let failed = |l: &std::collections::BTreeMap<String, String>| !l.get("status_code").is_some_and(|c| c.starts_with('2'));
    StoreRequests {
        source: SOURCE,
        requests: target_metrics::sum(samples, SOURCE, |_| true),
        failures: target_metrics::by_labels(samples, SOURCE, &["operation", "status_code"], failed),
    }
}

/// Reads back the traces a `--record` wrote: every one found and complete (AC-lgtm-002-03,
/// NFR-RECOVER-001; and AC-lgtm-002-04 when they were written while S3 was broken); then writes a
/// new trace and finds it (ingestion resumes after the restart).
pub async fn verify(plan: &TempoPlan, ctx: &VerifyContext<'_>) -> Vec<Criterion> {
    let t = &plan.section;
    let title = "NFR-RECOVER-001: traces written before the restart found by ID and complete";
    let c = Criterion::new("AC-lgtm-002-03", title);
    let recorded = ctx.recorded;
    let (Some(run_id), Some(ids)) = (recorded["run_id"].as_str(), recorded["trace_ids"].as_array()) else {
        return vec![c.fail("the record's tempo part has no run_id and trace_ids")];
    };
    let ids: Vec<&str> = ids.iter().filter_map(|v| v.as_str()).collect();
    let api = match TempoApi::of(t, 10) {
        Ok(api) => api,
        Err(e) => return vec![c.fail(e.to_string())],
    };
    let want = expected(run_id);
    let (api_ref, ids_ref, want_ref) = (&api, &ids, &want);
    let (lost, unanswered) = ctx
        .when_answering("Tempo", move || async move {
            let (lost, unanswered) = read_back(api_ref, ids_ref, want_ref).await;
            let none_answered = unanswered > 0 && unanswered == lost.len();
            ((lost, unanswered), none_answered)
        })
        .await;
    // A Tempo that does not answer has lost nothing this check knows of: it could not check.
    if unanswered > 0 && unanswered == lost.len() {
        return vec![c.unreachable(format!(
            "could not check: Tempo at {} did not answer for {unanswered} of {} traces (unreachable or still starting); wait for it (--wait 5m) and run --verify again",
            t.query_url,
            ids.len()
        ))];
    }
    let read = c.expect(
        lost.is_empty(),
        format!("{} of {} traces found complete", ids.len() - lost.len(), ids.len()),
        format!("{} of {} lost or incomplete: {}", lost.len(), ids.len(), lost.join("; ")),
    );
    let mut out = vec![read.clone()];
    if ctx.recorded_with == Credentials::Broken {
        let fixed = Criterion {
            id: "AC-lgtm-002-04".into(),
            title: "no trace written while the S3 credentials were broken is lost once they are fixed".into(),
            ..read
        };
        out.push(fixed);
    }
    out.push(ingestion_resumes(plan, &api, &ctx.run_id).await);
    out
}

/// Each recorded trace that is not found complete (in words), and how many got no answer at all.
async fn read_back(api: &TempoApi, ids: &[&str], want: &ExpectedTrace) -> (Vec<String>, usize) {
    let (mut lost, mut unanswered) = (Vec::new(), 0);
    for id in ids {
        let (lookup, _, _) = look_up(api, id).await;
        if judge(&lookup, want) != OutcomeClass::Success {
            unanswered += usize::from(matches!(lookup, TraceLookup::Failed(OutcomeClass::ConnectionFailure | OutcomeClass::Timeout)));
            lost.push(format!("{id}: {}", in_words(&lookup, want.spans)));
        }
    }
    (lost, unanswered)
}

/// After the restart: a new trace is acknowledged and found by ID within 5 s, complete.
async fn ingestion_resumes(plan: &TempoPlan, api: &TempoApi, run_id: &str) -> Criterion {
    let c = Criterion::new("AC-lgtm-002-03", "after the restart Tempo takes new traces again: one acknowledged and found by ID within 5s");
    let now_ns = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let (body, ids) = export(run_id, now_ns);
    let ack = match plan.exporter() {
        Ok(e) => acknowledged(&e, body).await,
        Err(e) => return c.fail(e.to_string()),
    };
    if ack.status != Status::Pass {
        let why = ack.reason.unwrap_or_default();
        return if ack.unreachable { c.unreachable(why) } else { c.fail(format!("the new trace was not acknowledged: {why}")) };
    }
    let found = found_by_id(api, &ids[0], &expected(run_id)).await;
    let c = ack.evidence.into_iter().fold(c, Criterion::saw);
    match found.status {
        Status::Pass => found.evidence.into_iter().fold(c, Criterion::saw),
        _ => c.fail(found.reason.unwrap_or_default()),
    }
}

/// What a trace lookup came to, as a person reads it.
fn in_words(lookup: &TraceLookup, expected_spans: usize) -> String {
    match lookup {
        TraceLookup::Found { spans, .. } => format!("incomplete ({spans} of {expected_spans} spans)"),
        TraceLookup::NotFound { .. } => "not found".into(),
        TraceLookup::Failed(class) => format!("not read: {} ({})", class.as_str(), class.describe()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn failed_object_storage_requests_are_read_from_the_histogram_count() {
        let text = "# HELP tempodb_backend_request_duration_seconds Time spent doing backend storage requests.\n\
            # TYPE tempodb_backend_request_duration_seconds histogram\n\
            tempodb_backend_request_duration_seconds_bucket{operation=\"PUT\",status_code=\"403\",le=\"+Inf\"} 12\n\
            tempodb_backend_request_duration_seconds_sum{operation=\"PUT\",status_code=\"403\"} 0.6\n\
            tempodb_backend_request_duration_seconds_count{operation=\"PUT\",status_code=\"403\"} 12\n\
            tempodb_backend_request_duration_seconds_bucket{operation=\"GET\",status_code=\"200\",le=\"+Inf\"} 30\n\
            tempodb_backend_request_duration_seconds_sum{operation=\"GET\",status_code=\"200\"} 1.2\n\
            tempodb_backend_request_duration_seconds_count{operation=\"GET\",status_code=\"200\"} 30\n";
        let seen = super::store_requests(&crate::watch::exposition::samples(text).unwrap());
        assert_eq!(seen.requests, Some(42.0));
        assert_eq!(seen.failures, std::collections::BTreeMap::from([("PUT 403".to_string(), 12.0)]));
    }
}
