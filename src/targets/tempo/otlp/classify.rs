//! What an OTLP Export answer means, after the answers of a real Tempo (`tests/fixtures/tempo/`)
//! and opentelemetry-otlp's status handling: success, partial success (rejected spans counted),
//! rate limited or too large (`RESOURCE_EXHAUSTED`, `RATE_LIMITED:`), missing tenant
//! (`UNAVAILABLE` "no org id"), other gRPC codes, HTTP statuses.

use crate::stats::OutcomeClass;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use tonic::Code;

/// Class and rejected span count of an accepted Export.
pub fn classify_response(resp: &ExportTraceServiceResponse) -> (OutcomeClass, u64) {
    match &resp.partial_success {
        Some(p) if p.rejected_spans > 0 => (OutcomeClass::PartialSuccess, p.rejected_spans as u64),
        _ => (OutcomeClass::Success, 0),
    }
}

fn too_large(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("batch size") || m.contains("too large") || m.contains("max_bytes_per_trace") || m.contains("trace_too_large")
}

pub fn classify_status(code: Code, message: &str) -> OutcomeClass {
    match code {
        Code::ResourceExhausted if too_large(message) => OutcomeClass::TooLarge,
        Code::ResourceExhausted => OutcomeClass::RateLimited,
        Code::Unavailable if message.contains("no org id") => OutcomeClass::MissingTenant,
        Code::Unavailable => OutcomeClass::ConnectionFailure,
        Code::DeadlineExceeded => OutcomeClass::Timeout,
        Code::Unauthenticated | Code::PermissionDenied => OutcomeClass::Unauthenticated,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => OutcomeClass::BadRequest,
        Code::Internal | Code::Unknown | Code::DataLoss => OutcomeClass::ServerError,
        _ => OutcomeClass::GrpcOther,
    }
}

/// OTLP/HTTP: the status, and for 200 the protobuf `ExportTraceServiceResponse` in the body.
pub fn classify_http(status: u16, body: &[u8]) -> (OutcomeClass, u64) {
    use prost::Message;
    let text = || String::from_utf8_lossy(&body[..body.len().min(512)]).to_string();
    match status {
        200..=299 => match ExportTraceServiceResponse::decode(body) {
            Ok(resp) => classify_response(&resp),
            Err(_) => (OutcomeClass::BadResponse, 0),
        },
        401 if text().contains("no org id") => (OutcomeClass::MissingTenant, 0),
        413 => (OutcomeClass::TooLarge, 0),
        s @ 400..=499 if !matches!(s, 401 | 403 | 429) && too_large(&text()) => (OutcomeClass::TooLarge, 0),
        503 if text().contains("RATE_LIMITED") => (OutcomeClass::RateLimited, 0),
        s => (OutcomeClass::from_http_failure(s), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;

    #[test]
    fn partial_success_counts_rejected_spans() {
        let resp = ExportTraceServiceResponse { partial_success: Some(ExportTracePartialSuccess { rejected_spans: 7, error_message: "x".into() }) };
        assert_eq!(classify_response(&resp), (OutcomeClass::PartialSuccess, 7));
        assert_eq!(classify_response(&ExportTraceServiceResponse::default()), (OutcomeClass::Success, 0));
        assert_eq!(classify_status(Code::DeadlineExceeded, ""), OutcomeClass::Timeout);
        assert_eq!(classify_http(200, &[0xff, 0xff]).0, OutcomeClass::BadResponse);
    }
}
