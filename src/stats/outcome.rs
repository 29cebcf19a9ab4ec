//! What a call to a target came to. Target failures are values counted by class, never panics or
//! errors that unwind the run.

use serde::{Deserialize, Serialize};

macro_rules! outcome_classes {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// The class of one call's outcome, as counted in the results.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum OutcomeClass { $(#[doc = $doc] $variant,)* }

        impl OutcomeClass {
            pub const ALL: &'static [OutcomeClass] = &[$(OutcomeClass::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(OutcomeClass::$variant => $name,)* }
            }
            pub fn describe(self) -> &'static str {
                match self { $(OutcomeClass::$variant => $doc,)* }
            }
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some(OutcomeClass::$variant),)* _ => None }
            }
        }
    };
}

outcome_classes! {
    Success => "success", "accepted (2xx) or a query answered with status success";
    OutOfOrder => "out_of_order", "400: sample older than the newest of its series";
    TooOld => "too_old", "400: sample outside the accepted time window (out of bounds)";
    Duplicate => "duplicate", "400: same timestamp with a new value";
    SeriesLimit => "series_limit", "400: per-tenant or per-metric series limit (the request may be partly written)";
    BadRequest => "bad_request", "other 4xx: the target refused the request as malformed (includes PromQL bad_data)";
    Unauthenticated => "unauthenticated", "401/403: missing or wrong tenant or credentials";
    RateLimited => "rate_limited", "429: the tenant's ingestion or query rate limit";
    ServerError => "server_error", "5xx";
    Timeout => "timeout", "no answer within the request timeout";
    ConnectionFailure => "connection_failure", "could not connect or the connection broke";
    BadResponse => "bad_response", "an answer that is not what the API promises (garbage, wrong JSON)";
    Lost => "lost", "read-after-write: never read back within the deadline";
    PartialSuccess => "partial_success", "OTLP: accepted with some spans rejected (partial_success.rejected_spans)";
    TooLarge => "too_large", "the request or trace is larger than the target accepts";
    MissingTenant => "missing_tenant", "multi-tenant target without X-Scope-OrgID (\"no org id\"): set the tenant";
    NotFound => "not_found", "a trace by ID that is not (yet) there";
    PartialTrace => "partial_trace", "a trace by ID that came back with fewer spans than were written";
    GrpcOther => "grpc_other", "any other gRPC status";
    Dropped => "dropped", "remote-write queue: older than sample_age_limit when (re)sent, dropped unsent as Prometheus does";
    PartialWrite => "partial_write", "remote-write 2.0: accepted, but its written-count headers say fewer samples or histograms were written than sent";
    Transient => "transient", "asked again after a not_found: found later, so the miss was a gap in serving, not lost data";
}

pub const CLASS_COUNT: usize = OutcomeClass::ALL.len();

impl OutcomeClass {
    pub fn is_success(self) -> bool {
        self == OutcomeClass::Success
    }
    /// Came to an answer that is not an error: a success, or a miss found again later
    /// (`transient`, timed from the miss). These are the calls the latency histograms hold.
    pub fn is_answered(self) -> bool {
        matches!(self, OutcomeClass::Success | OutcomeClass::Transient)
    }
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class of an HTTP answer that is not the API's success, by its status alone. Paths with
    /// more to say (remote-write body markers, Tempo's "no org id", OTLP's size limits) decide
    /// those cases first and fall back to this.
    pub fn from_http_failure(status: u16) -> OutcomeClass {
        match status {
            401 | 403 => OutcomeClass::Unauthenticated,
            429 => OutcomeClass::RateLimited,
            400..=499 => OutcomeClass::BadRequest,
            500..=599 => OutcomeClass::ServerError,
            _ => OutcomeClass::BadResponse,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for &class in OutcomeClass::ALL {
            assert_eq!(OutcomeClass::from_name(class.as_str()), Some(class));
            assert_eq!(OutcomeClass::ALL[class.index()], class);
        }
        assert_eq!(OutcomeClass::from_name("nope"), None);
    }

    #[test]
    fn failed_http_answers_are_classed_by_status() {
        let c = OutcomeClass::from_http_failure;
        assert_eq!(
            [c(401), c(403), c(429), c(404), c(400), c(503), c(204), c(302)],
            [
                OutcomeClass::Unauthenticated,
                OutcomeClass::Unauthenticated,
                OutcomeClass::RateLimited,
                OutcomeClass::BadRequest,
                OutcomeClass::BadRequest,
                OutcomeClass::ServerError,
                OutcomeClass::BadResponse,
                OutcomeClass::BadResponse,
            ]
        );
    }
}
