//! Mimir's preflight: the remote-write endpoint takes an empty request, and the query API answers
//! `vector(1)` like the Prometheus API. Fails fast with the URL, the answer and the fix.

use super::write::protocol_headers;
use crate::client::http::HttpTarget;
use crate::client::promql::{classify_query, unix_secs, PromApi};
use crate::engine::preflight::{excerpt, unreachable, PreflightError};
use bytes::Bytes;
use http::{Method, Uri};
use std::time::SystemTime;

/// Sends an empty `WriteRequest`: accepted by any remote-write receiver, writes nothing.
pub async fn check_write(target: &HttpTarget, uri: &Uri) -> Result<(), PreflightError> {
    let what = "remote-write endpoint";
    let url = uri.to_string();
    let empty = snap::raw::Encoder::new().compress_vec(&[]).expect("empty input compresses");
    let answer = target.send(0, Method::POST, uri, &protocol_headers(), Bytes::from(empty)).await.map_err(|e| unreachable(what, &url, e))?;
    let hint = match answer.status.as_u16() {
        200..=299 => return Ok(()),
        401 | 403 => "The target wants a tenant or credentials: set mimir.connection.tenant (X-Scope-OrgID) or mimir.connection.auth.",
        404 | 405 => "Nothing accepts remote-write there: Mimir uses /api/v1/push, Prometheus /api/v1/write (started with --web.enable-remote-write-receiver).",
        _ => "Check write_url and the target's logs.",
    };
    Err(PreflightError::Rejected { what, url, answer: format!("HTTP {} with {}", answer.status, excerpt(&answer.body)), hint: hint.into() })
}

/// Runs `vector(1)`: the answer must be the Prometheus API's JSON with status success.
pub async fn check_query(api: &PromApi) -> Result<(), PreflightError> {
    let what = "query API";
    let url = format!("{}/api/v1/query", api.base);
    let answer = api.instant(0, "vector(1)", unix_secs(SystemTime::now())).await.map_err(|e| unreachable(what, &url, e))?;
    let (class, _) = classify_query(&answer);
    let hint = match answer.status.as_u16() {
        200 if class.is_success() => return Ok(()),
        200 => "It answered, but not with the Prometheus API's JSON: check query_url and query_prefix (\"/prometheus\" for Mimir, \"\" for Prometheus).",
        401 | 403 => "The target wants a tenant or credentials: set mimir.connection.tenant (X-Scope-OrgID) or mimir.connection.auth.",
        404 => "No query API there: check query_prefix (\"/prometheus\" for Mimir, \"\" for Prometheus).",
        _ => "Check query_url and the target's logs.",
    };
    Err(PreflightError::Rejected { what, url, answer: format!("HTTP {} with {}", answer.status, excerpt(&answer.body)), hint: hint.into() })
}
