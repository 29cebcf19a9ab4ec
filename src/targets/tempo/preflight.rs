//! Tempo's preflight: the OTLP endpoint takes an empty Export (right endpoint, TLS and tenant), and
//! the query API answers `/api/echo` and, with a tenant, the tags search.

use super::otlp::{classify, Exporter};
use super::query::{read_tags, TempoApi};
use crate::engine::preflight::{excerpt, unreachable, PreflightError};
use crate::stats::OutcomeClass;
use bytes::Bytes;

/// Exports an empty request: Tempo accepts it (writing nothing) if the endpoint, TLS and tenant
/// are right.
pub async fn check_otlp(exporter: &Exporter, url: &str) -> Result<(), PreflightError> {
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
pub async fn check_tempo_query(api: &TempoApi, with_tenant: bool) -> Result<(), PreflightError> {
    let what = "Tempo query API";
    let url = format!("{}/api/echo", api.base);
    let echo = api.echo().await.map_err(|e| unreachable(what, &url, e))?;
    if !echo.status.is_success() {
        let hint = "No Tempo there: check tempo.query_url (Tempo's query API listens on 3200).".to_string();
        return Err(PreflightError::Rejected { what, url, answer: format!("HTTP {} with {}", echo.status, excerpt(&echo.body)), hint });
    }
    if with_tenant {
        let url = format!("{}/api/v2/search/tags", api.base);
        let answer = api.tags(0).await.map_err(|e| unreachable(what, &url, e))?;
        if let Err(class) = read_tags(&answer) {
            let hint = match class {
                OutcomeClass::MissingTenant => "Tempo runs multi-tenant: set tempo.connection.tenant (sent as X-Scope-OrgID).",
                _ => "Check tempo.query_url and tempo.connection.",
            };
            return Err(PreflightError::Rejected { what, url, answer: format!("HTTP {} with {}", answer.status, excerpt(&answer.body)), hint: hint.into() });
        }
    }
    Ok(())
}
