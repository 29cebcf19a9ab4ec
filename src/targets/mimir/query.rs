//! Mimir's PromQL query load: building instant and range queries from the scenario (GET, or a POST
//! form as Grafana sends), and the `QueryRunner` that classifies their answers.

use super::config::{CachePolicy, QueryKind, QueryMethod, QuerySpec};
use crate::client::http::{join_uri, Answer, TransportError};
use crate::client::promql::{classify_query, unix_secs, PromApi};
use crate::engine::queries::QueryRunner;
use crate::stats::OutcomeClass;
use crate::workload::Detail;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::Method;
use std::time::SystemTime;

/// Runs `spec` against `api` as of `now` (range queries end at `now`).
pub async fn run_query(api: &PromApi, pool: usize, spec: &QuerySpec, now: SystemTime) -> Result<Answer, TransportError> {
    let (endpoint, params) = query_params(spec, unix_secs(now));
    let mut h = HeaderMap::new();
    if spec.cache == CachePolicy::Bypass {
        // Mimir's and Cortex's query-frontend then skip their results cache.
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    match spec.method {
        QueryMethod::Get => {
            let uri = join_uri(&api.base, &format!("{endpoint}?{params}"))?;
            api.target.send(pool, Method::GET, &uri, &h, Bytes::new()).await
        }
        QueryMethod::Post => {
            let uri = join_uri(&api.base, endpoint)?;
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
            api.target.send(pool, Method::POST, &uri, &h, Bytes::from(params)).await
        }
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
        QueryKind::Exemplars => {
            let range = spec.range.map_or(3600.0, |r| r.get().as_secs_f64());
            params.append_pair("start", &format!("{:.3}", end - range));
            params.append_pair("end", &format!("{end:.3}"));
            "/api/v1/query_exemplars"
        }
    };
    (endpoint, params.finish())
}

/// An exemplars answer: 200, `"status":"success"`, `data` a list of series each with its
/// `exemplars`; the items are the exemplars.
pub fn classify_exemplars(answer: &Answer) -> (OutcomeClass, u64) {
    if answer.status.as_u16() != 200 {
        return (OutcomeClass::from_http_failure(answer.status.as_u16()), 0);
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&answer.body) else { return (OutcomeClass::BadResponse, 0) };
    match (json["status"].as_str(), json["data"].as_array()) {
        (Some("success"), Some(series)) => (OutcomeClass::Success, series.iter().map(|s| s["exemplars"].as_array().map_or(0, Vec::len) as u64).sum()),
        _ => (OutcomeClass::BadResponse, 0),
    }
}

/// The scenario's PromQL queries, run against the target's query API.
#[derive(Clone)]
pub struct PromQueries {
    pub api: PromApi,
}

impl QueryRunner for PromQueries {
    type Spec = QuerySpec;

    async fn run(&self, pool: usize, spec: &QuerySpec, _ticket: crate::workload::Ticket) -> (OutcomeClass, u64, Option<Detail>) {
        let detail = |answer: String| Some(Detail { key: format!("{} `{}`", spec.name, spec.query), answer });
        match run_query(&self.api, pool, spec, SystemTime::now()).await {
            Ok(answer) => {
                let (class, items) = if spec.kind == QueryKind::Exemplars { classify_exemplars(&answer) } else { classify_query(&answer) };
                (class, items, detail(super::write::classify::in_words(&answer)))
            }
            Err(e) => (e.class(), 0, detail(e.to_string())),
        }
    }
}
