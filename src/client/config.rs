//! How to reach a target, as a scenario writes it: tenant, credentials (names of environment
//! variables only), TLS, timeouts and extra headers. The client owns this section; every target's
//! scenario section embeds one.

use crate::units::Dur;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How to reach a target: tenant, auth, TLS, timeouts, headers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Sent as `X-Scope-OrgID`; leave out for a single-tenant target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    #[serde(default)]
    pub tls: TlsOptions,
    /// Whole-request timeout.
    #[serde(default = "defaults::request_timeout")]
    pub timeout: Dur,
    #[serde(default = "defaults::connect_timeout")]
    pub connect_timeout: Dur,
    /// Extra headers on every request (their values are redacted wherever the scenario is shown).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            tenant: None,
            auth: None,
            tls: TlsOptions::default(),
            timeout: defaults::request_timeout(),
            connect_timeout: defaults::connect_timeout(),
            headers: BTreeMap::new(),
        }
    }
}

impl Connection {
    /// Replaces every header value (any of them may carry a credential), for printouts and
    /// results. Credentials themselves are never in the scenario: only the names of environment
    /// variables that hold them.
    pub fn redact(&mut self) {
        for value in self.headers.values_mut() {
            *value = "<redacted>".into();
        }
    }
}

/// Credentials are never written in the scenario: only the names of environment variables holding them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
pub enum Auth {
    Basic { username_env: String, password_env: String },
    Bearer { token_env: String },
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// PEM file of an extra CA to trust (besides the system roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Speak HTTP/2 without TLS (h2c, prior knowledge); over TLS HTTP/2 is negotiated by ALPN anyway.
    #[serde(default)]
    pub http2_prior_knowledge: bool,
}

mod defaults {
    use crate::units::Dur;
    pub fn request_timeout() -> Dur {
        Dur::secs(10)
    }
    pub fn connect_timeout() -> Dur {
        Dur::secs(3)
    }
}
