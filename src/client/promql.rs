//! The Prometheus HTTP query API, as Prometheus serves it and Mimir serves it under `/prometheus`:
//! the base URL, instant queries at an exact time and what an answer means. Mimir's query load,
//! the read-back and the cluster memory watch all speak it.

use super::http::{join_uri, Answer, HttpTarget, TransportError};
use crate::stats::OutcomeClass;
use bytes::Bytes;
use http::header::HeaderMap;
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

    /// An instant query at an exact time, for read-back and preflight.
    pub async fn instant(&self, pool: usize, query: &str, at_unix_secs: f64) -> Result<Answer, TransportError> {
        let params = form_urlencoded::Serializer::new(String::new()).append_pair("query", query).append_pair("time", &format!("{at_unix_secs:.3}")).finish();
        self.get(pool, &format!("/api/v1/query?{params}")).await
    }

    /// `GET <base><path_and_query>`.
    pub async fn get(&self, pool: usize, path_and_query: &str) -> Result<Answer, TransportError> {
        let uri = join_uri(&self.base, path_and_query).map_err(TransportError::from)?;
        self.target.send(pool, Method::GET, &uri, &HeaderMap::new(), Bytes::new()).await
    }
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
