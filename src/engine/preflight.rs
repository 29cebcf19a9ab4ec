//! Before any load, each target checks its endpoints: is each reachable, and does it answer like
//! the API it claims to be? This is the error they fail with (the URL, what went wrong and how to
//! fix it) and the helpers they share.

use crate::client::http::TransportError;

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

/// The start of an answer's body, for messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let text = text.trim();
    if text.is_empty() {
        "an empty body".into()
    } else {
        format!("`{text}`")
    }
}

/// The target did not answer at all.
pub fn unreachable(what: &'static str, url: &str, e: TransportError) -> PreflightError {
    PreflightError::Unreachable { what, url: url.to_string(), error: e.to_string() }
}
