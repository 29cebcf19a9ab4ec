//! Mimir's preflight: the write endpoint takes an empty request of the scenario's protocol (a
//! remote-write 2.0 receiver answers it with written-count headers; one that does not speak 2.0
//! answers 415, or 2xx without them), and the query API answers `vector(1)` like the Prometheus
//! API. Fails fast with the URL, the answer and the fix.

use super::config::WriteProtocol;
use super::write::{classify, headers_for, otlp};
use crate::client::http::HttpTarget;
use crate::client::promql::{classify_query, unix_secs, PromApi};
use crate::engine::preflight::{excerpt, unreachable, PreflightError};
use bytes::Bytes;
use http::{Method, Uri};
use std::time::SystemTime;

/// Sends an empty request of `protocol`: accepted by any receiver of it, writes nothing.
pub async fn check_write(target: &HttpTarget, uri: &Uri, protocol: WriteProtocol, gzip: bool) -> Result<(), PreflightError> {
    let url = uri.to_string();
    let (what, body, headers) = match protocol {
        WriteProtocol::Otlp => {
            let empty = Vec::new();
            ("OTLP metrics endpoint", if gzip { otlp::gzipped(&empty) } else { empty }, otlp::headers(gzip))
        }
        // Remote-write 2.0: a symbols table holding only the empty string.
        WriteProtocol::Rw2 => ("remote-write endpoint", snap::raw::Encoder::new().compress_vec(&[0x22, 0x00]).expect("compresses"), headers_for(protocol)),
        WriteProtocol::Rw1 => ("remote-write endpoint", snap::raw::Encoder::new().compress_vec(&[]).expect("empty input compresses"), headers_for(protocol)),
    };
    let answer = target.send(0, Method::POST, uri, &headers, Bytes::from(body)).await.map_err(|e| unreachable(what, &url, e))?;
    let rejected = |hint: &str| PreflightError::Rejected {
        what,
        url: url.clone(),
        answer: format!("HTTP {} with {}", answer.status, excerpt(&answer.body)),
        hint: hint.into(),
    };
    let hint = match answer.status.as_u16() {
        200..=299 if protocol == WriteProtocol::Rw2 && classify::written_counts(&answer.headers).is_none() => {
            return Err(rejected(&format!("No written-count headers came back: {}", classify::READ_AS_V1)));
        }
        200..=299 => return Ok(()),
        415 if protocol == WriteProtocol::Rw2 => return Err(rejected(&format!("HTTP 415: {}", classify::NOT_V2))),
        401 | 403 => "The target wants a tenant or credentials: set mimir.connection.tenant (X-Scope-OrgID) or mimir.connection.auth.",
        404 | 405 if protocol == WriteProtocol::Otlp => {
            "Nothing accepts OTLP metrics there: Mimir serves /otlp/v1/metrics (Cortex /api/v1/otlp/v1/metrics); set write_url to it."
        }
        404 | 405 => "Nothing accepts remote-write there: Mimir uses /api/v1/push, Prometheus /api/v1/write (started with --web.enable-remote-write-receiver).",
        _ => "Check write_url and the target's logs.",
    };
    Err(rejected(hint))
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
