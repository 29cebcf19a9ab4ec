//! Before any load: is each endpoint reachable, and does it answer like the API it claims to be?
//! Fails fast with the URL, what went wrong and how to fix it.

use super::promql::{unix_secs, PromApi};
use crate::generator::remote_write::protocol_headers;
use crate::target::http::{HttpTarget, TransportError};
use bytes::Bytes;
use http::{Method, Uri};
use std::time::SystemTime;

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("{what} at {url} is unreachable: {error}. Check the URL, that the target is running, and the network path to it.")]
    Unreachable { what: &'static str, url: String, error: String },
    #[error("{what} at {url} answered {answer}. {hint}")]
    Rejected { what: &'static str, url: String, answer: String, hint: String },
}

impl PreflightError {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, PreflightError::Unreachable { .. })
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let text = text.trim();
    if text.is_empty() { "an empty body".into() } else { format!("`{text}`") }
}

/// Sends an empty `WriteRequest`: accepted by any remote-write receiver, writes nothing.
pub async fn check_write(target: &HttpTarget, uri: &Uri) -> Result<(), PreflightError> {
    let what = "remote-write endpoint";
    let url = uri.to_string();
    let empty = snap::raw::Encoder::new().compress_vec(&[]).expect("empty input compresses");
    let answer = target
        .send(0, Method::POST, uri, &protocol_headers(), Bytes::from(empty))
        .await
        .map_err(|e| unreachable(what, &url, e))?;
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
    let answer = api
        .instant(0, "vector(1)", unix_secs(SystemTime::now()))
        .await
        .map_err(|e| unreachable(what, &url, e))?;
    let (class, _) = super::promql::classify_query(&answer);
    let hint = match answer.status.as_u16() {
        200 if class.is_success() => return Ok(()),
        200 => "It answered, but not with the Prometheus API's JSON: check query_url and query_prefix (\"/prometheus\" for Mimir, \"\" for Prometheus).",
        401 | 403 => "The target wants a tenant or credentials: set mimir.connection.tenant (X-Scope-OrgID) or mimir.connection.auth.",
        404 => "No query API there: check query_prefix (\"/prometheus\" for Mimir, \"\" for Prometheus).",
        _ => "Check query_url and the target's logs.",
    };
    Err(PreflightError::Rejected { what, url, answer: format!("HTTP {} with {}", answer.status, excerpt(&answer.body)), hint: hint.into() })
}

fn unreachable(what: &'static str, url: &str, e: TransportError) -> PreflightError {
    PreflightError::Unreachable { what, url: url.to_string(), error: e.to_string() }
}

/// Exports an empty request: Tempo accepts it (writing nothing) if the endpoint, TLS and tenant
/// are right.
pub async fn check_otlp(exporter: &crate::generator::otlp_traces::Exporter, url: &str) -> Result<(), PreflightError> {
    use crate::generator::otlp_traces::{classify, Exporter};
    use crate::stats::OutcomeClass;
    let what = "OTLP endpoint";
    let (class, answer) = match exporter {
        Exporter::Grpc(g) => match g.export(0, Bytes::new()).await {
            Ok(resp) => (classify::classify_response(&resp).0, "OK".to_string()),
            Err(status) => (classify::classify_status(status.code(), status.message()), format!("gRPC {:?} `{}`", status.code(), status.message())),
        },
        Exporter::Http(h) => match h.export(0, &[]).await {
            Ok(a) => (classify::classify_http(a.status.as_u16(), &a.body).0, format!("HTTP {} with {}", a.status, excerpt(&a.body))),
            Err(e) => return Err(unreachable(what, url, e)),
        },
    };
    let hint = match class {
        OutcomeClass::Success | OutcomeClass::PartialSuccess => return Ok(()),
        OutcomeClass::ConnectionFailure | OutcomeClass::Timeout => {
            return Err(PreflightError::Unreachable { what, url: url.into(), error: answer });
        }
        OutcomeClass::MissingTenant => "Tempo runs multi-tenant and wants a tenant: set tempo.connection.tenant (sent as X-Scope-OrgID).",
        OutcomeClass::Unauthenticated => "Check tempo.connection.auth.",
        _ => "Check otlp_url and protocol (\"grpc\" on 4317, \"http\" on 4318).",
    };
    Err(PreflightError::Rejected { what, url: url.into(), answer, hint: hint.into() })
}

/// Tempo's query API: `/api/echo` must answer, and with queries the tenant must be accepted.
pub async fn check_tempo_query(api: &super::tempo::TempoApi, with_tenant: bool) -> Result<(), PreflightError> {
    let what = "Tempo query API";
    let url = format!("{}/api/echo", api.base);
    let echo = api.echo().await.map_err(|e| unreachable(what, &url, e))?;
    if !echo.status.is_success() {
        let hint = "No Tempo there: check tempo.query_url (port 3200 in the plan; the chart's default is 3100).".to_string();
        return Err(PreflightError::Rejected { what, url, answer: format!("HTTP {} with {}", echo.status, excerpt(&echo.body)), hint });
    }
    if with_tenant {
        let url = format!("{}/api/v2/search/tags", api.base);
        let answer = api.tags(0).await.map_err(|e| unreachable(what, &url, e))?;
        if let Err(class) = super::tempo::read_tags(&answer) {
            let hint = match class {
                crate::stats::OutcomeClass::MissingTenant => "Tempo runs multi-tenant: set tempo.connection.tenant (sent as X-Scope-OrgID).",
                _ => "Check tempo.query_url and tempo.connection.",
            };
            return Err(PreflightError::Rejected { what, url, answer: format!("HTTP {} with {}", answer.status, excerpt(&answer.body)), hint: hint.into() });
        }
    }
    Ok(())
}
