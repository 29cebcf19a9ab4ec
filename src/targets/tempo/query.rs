//! Tempo's query API: trace by ID (v2, or v1), TraceQL search, tags and tag values; reading their
//! answers as real Tempo gives them (`tests/fixtures/tempo/`: v1 answers a missing trace with
//! 404 and an empty body, v2 with 200 and `{"trace":{}}`); and the `QueryRunner` of the Tempo
//! query load.

use super::config::{TempoQuery, TempoQueryKind, TraceApi};
use super::otlp::shape::{hex, IdSource, RUN_ATTRIBUTE};
use super::otlp::AckLedger;
use crate::client::http::{join_uri, Answer, HttpTarget, TransportError};
use crate::engine::queries::QueryRunner;
use crate::engine::readback::Feed;
use crate::stats::{OutcomeClass, PathId};
use crate::workload::Detail;
use bytes::Bytes;
use http::{HeaderMap, Method};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone)]
pub struct TempoApi {
    pub target: HttpTarget,
    pub base: String,
    pub api: TraceApi,
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TempoApi {
    /// The query API of the scenario's Tempo (its `query_url`, trace API and connection), with
    /// `pools` connections.
    pub fn of(t: &super::config::TempoSection, pools: usize) -> Result<TempoApi, crate::client::http::ClientSetupError> {
        Ok(TempoApi { target: HttpTarget::new(&t.connection, pools)?, base: t.query_url.trim_end_matches('/').to_string(), api: t.api })
    }

    pub(crate) async fn get(&self, pool: usize, path_and_query: &str) -> Result<Answer, TransportError> {
        let uri = join_uri(&self.base, path_and_query)?;
        self.target.send(pool, Method::GET, &uri, &HeaderMap::new(), Bytes::new()).await
    }

    pub async fn trace_by_id(&self, pool: usize, id_hex: &str) -> Result<Answer, TransportError> {
        match self.api {
            TraceApi::V2 => self.get(pool, &format!("/api/v2/traces/{id_hex}")).await,
            TraceApi::V1 => self.get(pool, &format!("/api/traces/{id_hex}")).await,
        }
    }

    pub async fn search(&self, pool: usize, traceql: &str, start: u64, end: u64, limit: u32) -> Result<Answer, TransportError> {
        self.get(pool, &format!("/api/search?q={}&start={start}&end={end}&limit={limit}", enc(traceql))).await
    }

    pub async fn tags(&self, pool: usize) -> Result<Answer, TransportError> {
        self.get(pool, "/api/v2/search/tags").await
    }

    pub async fn tag_values(&self, pool: usize, tag: &str) -> Result<Answer, TransportError> {
        self.get(pool, &format!("/api/v2/search/tag/{}/values", enc(tag))).await
    }

    pub async fn echo(&self) -> Result<Answer, TransportError> {
        self.get(0, "/api/echo").await
    }
}

/// What a trace-by-ID answer says.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceLookup {
    Found {
        spans: usize,
        services: BTreeSet<String>,
        run_ids: BTreeSet<String>,
    },
    /// `descriptive`: whether the answer said anything (Tempo 3.x sends nothing).
    NotFound {
        descriptive: bool,
    },
    Failed(OutcomeClass),
}

fn failure(answer: &Answer) -> OutcomeClass {
    let text = String::from_utf8_lossy(&answer.body);
    match answer.status.as_u16() {
        401 if text.contains("no org id") => OutcomeClass::MissingTenant,
        status => OutcomeClass::from_http_failure(status),
    }
}

fn attr<'a>(attrs: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    attrs.as_array()?.iter().find(|a| a["key"] == key)?["value"]["stringValue"].as_str()
}

/// Reads a trace-by-ID answer of either API version.
pub fn read_trace(answer: &Answer) -> TraceLookup {
    match answer.status.as_u16() {
        200 => {
            let Ok(json) = serde_json::from_slice::<serde_json::Value>(&answer.body) else {
                return TraceLookup::Failed(OutcomeClass::BadResponse);
            };
            let batches = if json.get("trace").is_some() { &json["trace"]["resourceSpans"] } else { &json["batches"] };
            let batches = match batches {
                serde_json::Value::Array(b) if !b.is_empty() => b,
                serde_json::Value::Null | serde_json::Value::Array(_) if json.get("trace").is_some() || json.get("batches").is_some() => {
                    return TraceLookup::NotFound { descriptive: false };
                }
                _ => return TraceLookup::Failed(OutcomeClass::BadResponse),
            };
            let (mut spans, mut services, mut run_ids) = (0, BTreeSet::new(), BTreeSet::new());
            for b in batches {
                let attrs = &b["resource"]["attributes"];
                services.extend(attr(attrs, "service.name").map(String::from));
                run_ids.extend(attr(attrs, RUN_ATTRIBUTE).map(String::from));
                for scope in b["scopeSpans"].as_array().into_iter().flatten() {
                    spans += scope["spans"].as_array().map_or(0, Vec::len);
                }
            }
            TraceLookup::Found { spans, services, run_ids }
        }
        404 => TraceLookup::NotFound { descriptive: !answer.body.iter().all(u8::is_ascii_whitespace) },
        _ => TraceLookup::Failed(failure(answer)),
    }
}

/// Trace IDs (hex) a search answer lists.
pub fn read_search(answer: &Answer) -> Result<Vec<String>, OutcomeClass> {
    if answer.status.as_u16() != 200 {
        return Err(failure(answer));
    }
    let json: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|_| OutcomeClass::BadResponse)?;
    let traces = json["traces"].as_array().ok_or(OutcomeClass::BadResponse)?;
    Ok(traces.iter().filter_map(|t| t["traceID"].as_str()).map(|id| format!("{id:0>32}")).collect())
}

/// A tags or tag-values answer: 200 with a JSON object.
pub fn read_tags(answer: &Answer) -> Result<u64, OutcomeClass> {
    if answer.status.as_u16() != 200 {
        return Err(failure(answer));
    }
    let json: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|_| OutcomeClass::BadResponse)?;
    let count = |v: &serde_json::Value| v.as_array().map_or(0, |a| a.len() as u64);
    match (&json["scopes"], &json["tagValues"], &json["tagNames"]) {
        (serde_json::Value::Array(scopes), _, _) => Ok(scopes.iter().map(|s| count(&s["tags"])).sum()),
        (_, v @ serde_json::Value::Array(_), _) | (_, _, v @ serde_json::Value::Array(_)) => Ok(count(v)),
        _ => Err(OutcomeClass::BadResponse),
    }
}

/// What a found trace must hold: all its spans, its services and this run's id.
#[derive(Clone, Debug)]
pub struct ExpectedTrace {
    pub spans: usize,
    pub services: BTreeSet<String>,
    pub run_id: String,
}

pub fn judge(lookup: &TraceLookup, expected: &ExpectedTrace) -> OutcomeClass {
    match lookup {
        TraceLookup::Found { spans, services, run_ids } => {
            if !run_ids.contains(&expected.run_id) {
                OutcomeClass::BadResponse
            } else if *spans >= expected.spans && *services == expected.services {
                OutcomeClass::Success
            } else {
                OutcomeClass::PartialTrace
            }
        }
        TraceLookup::NotFound { .. } => OutcomeClass::NotFound,
        TraceLookup::Failed(class) => *class,
    }
}

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}

/// Exports acknowledged at or before this instant are old enough for `q`.
fn old_enough(q: &TempoQuery) -> Option<tokio::time::Instant> {
    tokio::time::Instant::now().checked_sub(q.min_age.get())
}

/// Runs the scenario's Tempo queries against this run's traces.
pub struct TempoQueries {
    pub api: TempoApi,
    pub ledger: Arc<AckLedger>,
    pub ids: IdSource,
    /// The request templates: which shape request `n` had, and its first trace's index.
    pub mix: Arc<super::otlp::payload::Mix>,
    /// What a whole trace of each variant holds.
    pub expected: Vec<ExpectedTrace>,
    pub run_id: String,
    /// Where trace-by-ID misses go to be asked again, and each such query's recheck path.
    pub recheck: Option<Rechecks>,
}

/// An acknowledged trace a trace-by-ID query did not find.
#[derive(Clone, Debug)]
pub struct Miss {
    pub trace_id: String,
    pub missed_at: tokio::time::Instant,
    /// How long after its acknowledgement it was missed.
    pub age: Duration,
    /// The path the miss is resolved on (`tempo.recheck.<query>`).
    pub path: PathId,
    /// The trace's shape in the mix.
    pub variant: usize,
}

/// The recheck feed and the path of each trace-by-ID query's misses.
pub struct Rechecks {
    pub feed: Feed<Miss>,
    pub paths: BTreeMap<String, PathId>,
}

fn mix(x: u64) -> u64 {
    let x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^ (x >> 29)
}

impl QueryRunner for TempoQueries {
    type Spec = TempoQuery;

    fn ready(&self, q: &TempoQuery) -> bool {
        q.kind != TempoQueryKind::TraceById || old_enough(q).is_some_and(|cutoff| self.ledger.pick(0, cutoff).is_some())
    }

    async fn run(&self, pool: usize, q: &TempoQuery, ticket: crate::workload::Ticket) -> (OutcomeClass, u64, Option<Detail>) {
        let (class, items, key, answer) = self.ask(pool, q, ticket.seq, ticket.measured).await;
        (class, items, Some(Detail { key, answer }))
    }
}

impl TempoQueries {
    /// Hands an acknowledged trace the query `query` did not find to the recheck.
    fn recheck_later(&self, query: &str, trace_id: String, age: Duration, variant: usize) {
        if let Some(r) = &self.recheck {
            if let Some(&path) = r.paths.get(query) {
                r.feed.offer(Miss { trace_id, missed_at: tokio::time::Instant::now(), age, path, variant });
            }
        }
    }

    /// One query: its class and items, and its key and answer in words (kept when it failed). A
    /// measured miss of an acknowledged trace is handed to the recheck.
    async fn ask(&self, pool: usize, q: &TempoQuery, seq: u64, measured: bool) -> (OutcomeClass, u64, String, String) {
        let transport = |e: TransportError, key: String| (e.class(), 0, key, e.to_string());
        let answered = |a: &crate::client::http::Answer| format!("HTTP {}: {}", a.status.as_u16(), crate::engine::preflight::excerpt(&a.body));
        match q.kind {
            TempoQueryKind::TraceById => {
                // A trace of an Export acknowledged at least `min_age` ago, old or recent. `ready`
                // said there is one, and acknowledged Exports only ever grow old enough.
                let Some((request, acked)) = old_enough(q).and_then(|cutoff| self.ledger.pick_acked(mix(seq), cutoff)) else {
                    return (OutcomeClass::BadResponse, 0, "trace by ID".into(), "no acknowledged trace to ask for".into());
                };
                let t = request * self.mix.stride();
                let variant = self.mix.variant_of(request);
                let expected = &self.expected[variant];
                let id = hex(&self.ids.trace_id(t));
                let age = acked.elapsed();
                let key = format!("trace {id} (acknowledged {} earlier)", crate::units::fmt_micros(age.as_micros() as u64));
                match self.api.trace_by_id(pool, &id).await {
                    Ok(a) => {
                        let class = judge(&read_trace(&a), expected);
                        if class == OutcomeClass::NotFound && measured {
                            self.recheck_later(&q.name, id, age, variant);
                        }
                        (class, expected.spans as u64, key, answered(&a))
                    }
                    Err(e) => transport(e, key),
                }
            }
            TempoQueryKind::MissingTrace => {
                let missing = hex(&IdSource::new(mix(seq), "lgtm-bench-missing").trace_id(seq));
                let key = format!("missing trace {missing}");
                match self.api.trace_by_id(pool, &missing).await {
                    Ok(a) => match read_trace(&a) {
                        TraceLookup::NotFound { descriptive } => (OutcomeClass::Success, u64::from(descriptive), key, answered(&a)),
                        TraceLookup::Found { .. } => (OutcomeClass::BadResponse, 0, key, format!("{}: a trace came back", answered(&a))),
                        TraceLookup::Failed(c) => (c, 0, key, answered(&a)),
                    },
                    Err(e) => transport(e, key),
                }
            }
            TempoQueryKind::Traceql => {
                let traceql = q.query.as_deref().unwrap_or("{}").replace("$run_id", &self.run_id);
                let end = now_unix();
                let start = end.saturating_sub(q.range.map_or(3600, |r| r.get().as_secs()));
                let key = format!("TraceQL `{traceql}`");
                match self.api.search(pool, &traceql, start, end + 1, q.limit.unwrap_or(20)).await {
                    Ok(a) => read_search(&a)
                        .map_or_else(|c| (c, 0, key.clone(), answered(&a)), |ids| (OutcomeClass::Success, ids.len() as u64, key.clone(), answered(&a))),
                    Err(e) => transport(e, key),
                }
            }
            TempoQueryKind::Tags | TempoQueryKind::TagValues => {
                let answer = match (&q.kind, &q.tag) {
                    (TempoQueryKind::TagValues, Some(tag)) => self.api.tag_values(pool, tag).await,
                    _ => self.api.tags(pool).await,
                };
                let key = q.tag.as_ref().map_or("tags".to_string(), |t| format!("values of tag `{t}`"));
                match answer {
                    Ok(a) => read_tags(&a).map_or_else(|c| (c, 0, key.clone(), answered(&a)), |n| (OutcomeClass::Success, n, key.clone(), answered(&a))),
                    Err(e) => transport(e, key),
                }
            }
        }
    }
}
