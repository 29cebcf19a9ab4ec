//! The Prometheus HTTP query API (Mimir serves it under `/prometheus`): building instant and range
//! queries, classifying answers, and the query-load `Workload`.

use crate::scenario::{QueryKind, QueryMethod, QuerySpec};
use crate::stats::OutcomeClass;
use crate::target::http::{join_uri, Answer, HttpTarget, TransportError};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use http::Method;
use serde::Deserialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The query API of one target: client plus `query_url` + `query_prefix`.
#[derive(Clone)]
pub struct PromApi {
    pub target: HttpTarget,
    pub base: String,
}

impl PromApi {
    pub fn new(target: HttpTarget, query_url: &str, prefix: &str) -> PromApi {
        let base = format!("{}/{}", query_url.trim_end_matches('/'), prefix.trim_matches('/'));
        PromApi { target, base: base.trim_end_matches('/').to_string() }
    }

    /// Runs `spec` as of `now` (range queries end at `now`).
    pub async fn run(&self, pool: usize, spec: &QuerySpec, now: SystemTime) -> Result<Answer, TransportError> {
        let (endpoint, params) = query_params(spec, unix_secs(now));
        match spec.method {
            QueryMethod::Get => {
                let uri = join_uri(&self.base, &format!("{endpoint}?{params}")).map_err(TransportError::Connect)?;
                self.target.send(pool, Method::GET, &uri, &HeaderMap::new(), Bytes::new()).await
            }
            QueryMethod::Post => {
                let uri = join_uri(&self.base, endpoint).map_err(TransportError::Connect)?;
                let mut h = HeaderMap::new();
                h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
                self.target.send(pool, Method::POST, &uri, &h, Bytes::from(params)).await
            }
        }
    }

    /// An instant query at an exact time, for read-back and preflight.
    pub async fn instant(&self, pool: usize, query: &str, at_unix_secs: f64) -> Result<Answer, TransportError> {
        let params = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", query)
            .append_pair("time", &format!("{at_unix_secs:.3}"))
            .finish();
        let uri = join_uri(&self.base, &format!("/api/v1/query?{params}")).map_err(TransportError::Connect)?;
        self.target.send(pool, Method::GET, &uri, &HeaderMap::new(), Bytes::new()).await
    }
}

/// The endpoint and form parameters of `spec` evaluated at `end` (unix seconds).
pub fn query_params(spec: &QuerySpec, end: f64) -> (&'static str, String) {
    let mut params = form_urlencoded::Serializer::new(String::new());
    params.append_pair("query", &spec.query);
    let endpoint = match spec.kind {
        QueryKind::Instant => {
            params.append_pair("time", &format!("{end:.3}"));
            "/api/v1/query"
        }
        QueryKind::Range => {
            let range = spec.range.map_or(3600.0, |r| r.get().as_secs_f64());
            let step = spec.step.map_or(60.0, |s| s.get().as_secs_f64());
            params.append_pair("start", &format!("{:.3}", end - range));
            params.append_pair("end", &format!("{end:.3}"));
            params.append_pair("step", &format!("{step}"));
            "/api/v1/query_range"
        }
    };
    (endpoint, params.finish())
}

pub fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs_f64()
}

#[derive(Deserialize)]
struct Envelope<'a> {
    status: &'a str,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    result: Option<serde_json::Value>,
}

/// A query succeeds only on 200 with `"status":"success"`; the item count is the number of series
/// (an unknown metric is a success with 0 series).
pub fn classify_query(answer: &Answer) -> (OutcomeClass, u64) {
    match answer.status.as_u16() {
        200 => match serde_json::from_slice::<Envelope>(&answer.body) {
            Ok(Envelope { status: "success", data: Some(Data { result: Some(result) }) }) => match result {
                serde_json::Value::Array(series) => (OutcomeClass::Success, series.len() as u64),
                serde_json::Value::Null => (OutcomeClass::BadResponse, 0),
                _ => (OutcomeClass::Success, 1), // scalar or string result
            },
            _ => (OutcomeClass::BadResponse, 0),
        },
        status => (OutcomeClass::from_http_failure(status), 0),
    }
}

pub fn transport_class(e: &TransportError) -> OutcomeClass {
    match e {
        TransportError::Timeout => OutcomeClass::Timeout,
        TransportError::Connect(_) => OutcomeClass::ConnectionFailure,
    }
}

impl super::QueryRunner for PromApi {
    type Spec = QuerySpec;

    async fn run(&self, pool: usize, spec: &QuerySpec, _seq: u64) -> (OutcomeClass, u64) {
        match PromApi::run(self, pool, spec, SystemTime::now()).await {
            Ok(answer) => classify_query(&answer),
            Err(e) => (transport_class(&e), 0),
        }
    }
}
