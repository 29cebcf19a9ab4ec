//! A pooled HTTP client for one target: hyper with keep-alive, TLS by rustls with HTTP/2 offered by
//! ALPN, optional HTTP/2 with prior knowledge for plaintext, and the target's tenant, auth and
//! extra headers on every request. Transport failures come back as values.

use super::config::{Auth, Connection};
use crate::stats::OutcomeClass;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, USER_AGENT};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

pub const USER_AGENT_VALUE: &str = concat!("lgtm-bench/", env!("CARGO_PKG_VERSION"));

/// A problem in the connection settings found while building the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    #[error("environment variable {0} is not set; export it or remove the auth section")]
    MissingEnv(String),
    #[error("cannot read CA file {path}: {reason}; check tls.ca_file")]
    CaFile { path: String, reason: String },
    #[error("header {name}: {reason}")]
    Header { name: String, reason: String },
    #[error("{url} is not a usable endpoint ({reason}); check the URL and TLS settings")]
    Endpoint { url: String, reason: String },
}

/// How a request failed before any HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("no answer within the timeout")]
    Timeout,
    #[error("{0}")]
    Connect(String),
}

impl TransportError {
    /// The outcome class of a call that failed this way: the one mapping every path uses.
    pub fn class(&self) -> OutcomeClass {
        match self {
            TransportError::Timeout => OutcomeClass::Timeout,
            TransportError::Connect(_) => OutcomeClass::ConnectionFailure,
        }
    }
}

impl From<UrlError> for TransportError {
    fn from(e: UrlError) -> TransportError {
        TransportError::Connect(e.to_string())
    }
}

/// A URL that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("`{url}` is not a URL ({reason})")]
    Malformed { url: String, reason: String },
    #[error("`{url}` must be an absolute http:// or https:// URL with a host")]
    NotAbsolute { url: String },
}

/// An HTTP answer, body read in full.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

type Pool = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Several independent pools (one HTTP/2 connection each) shared by a target's workers.
#[derive(Clone)]
pub struct HttpTarget {
    pools: Vec<Pool>,
    headers: HeaderMap,
    timeout: Duration,
}

impl HttpTarget {
    pub fn new(conn: &Connection, pools: usize) -> Result<HttpTarget, ClientSetupError> {
        let tls = tls_config(conn)?;
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(conn.connect_timeout.get()));
        http.set_nodelay(true);
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_all_versions().wrap_connector(http);
        let pools = (0..pools.max(1))
            .map(|_| {
                let mut b = Client::builder(TokioExecutor::new());
                b.pool_idle_timeout(Duration::from_secs(90));
                if conn.tls.http2_prior_knowledge {
                    b.http2_only(true);
                }
                b.build(connector.clone())
            })
            .collect();
        Ok(HttpTarget { pools, headers: common_headers(conn)?, timeout: conn.timeout.get() })
    }

    /// Sends one request on pool `pool % pools`, with the target's headers added.
    pub async fn send(&self, pool: usize, method: Method, uri: &Uri, extra: &HeaderMap, body: Bytes) -> Result<Answer, TransportError> {
        let mut req = Request::builder().method(method).uri(uri.clone()).body(Full::new(body)).expect("valid parts");
        let headers = req.headers_mut();
        headers.extend(self.headers.clone());
        headers.extend(extra.clone());
        let client = &self.pools[pool % self.pools.len()];
        let exchange = async {
            let resp = client.request(req).await.map_err(|e| TransportError::Connect(describe(&e)))?;
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.map_err(|e| TransportError::Connect(format!("reading the answer failed: {e}")))?.to_bytes();
            Ok(Answer { status: parts.status, headers: parts.headers, body })
        };
        tokio::time::timeout(self.timeout, exchange).await.unwrap_or(Err(TransportError::Timeout))
    }
}

/// The whole error chain, so "connection refused" shows instead of "client error (Connect)".
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn env(name: &str) -> Result<String, ClientSetupError> {
    std::env::var(name).map_err(|_| ClientSetupError::MissingEnv(name.to_string()))
}

/// The `Authorization` value of a connection (basic or bearer, from its environment variables).
pub fn authorization(conn: &Connection) -> Result<Option<String>, ClientSetupError> {
    use base64::Engine;
    Ok(match &conn.auth {
        Some(Auth::Basic { username_env, password_env }) => {
            let pair = format!("{}:{}", env(username_env)?, env(password_env)?);
            Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
        }
        Some(Auth::Bearer { token_env }) => Some(format!("Bearer {}", env(token_env)?)),
        None => None,
    })
}

fn common_headers(conn: &Connection) -> Result<HeaderMap, ClientSetupError> {
    let mut h = HeaderMap::new();
    h.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    let value = |name: &str, v: &str| HeaderValue::from_str(v).map_err(|e| ClientSetupError::Header { name: name.to_string(), reason: e.to_string() });
    if let Some(tenant) = &conn.tenant {
        h.insert("x-scope-orgid", value("X-Scope-OrgID", tenant)?);
    }
    if let Some(auth) = authorization(conn)? {
        let mut v = value("Authorization", &auth)?;
        v.set_sensitive(true);
        h.insert(AUTHORIZATION, v);
    }
    for (name, v) in &conn.headers {
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|e| ClientSetupError::Header { name: name.clone(), reason: e.to_string() })?;
        h.insert(n, value(name, v)?);
    }
    Ok(h)
}

fn tls_config(conn: &Connection) -> Result<rustls::ClientConfig, ClientSetupError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = &conn.tls.ca_file {
        let ca_error = |reason: String| ClientSetupError::CaFile { path: path.clone(), reason };
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))?.collect::<Result<_, _>>().map_err(|e| ca_error(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_error("no PEM certificate in it".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Joins a base URL and a path with its query string into a `Uri`.
pub fn join_uri(base: &str, path_and_query: &str) -> Result<Uri, UrlError> {
    let joined = format!("{}{}", base.trim_end_matches('/'), path_and_query);
    joined.parse::<Uri>().map_err(|e| UrlError::Malformed { url: joined.clone(), reason: e.to_string() })
}

/// Checks that `url` is an absolute http(s) URL with a host.
pub fn check_url(url: &str) -> Result<Uri, UrlError> {
    let uri: Uri = url.parse().map_err(|e: http::uri::InvalidUri| UrlError::Malformed { url: url.to_string(), reason: e.to_string() })?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) => Ok(uri),
        _ => Err(UrlError::NotAbsolute { url: url.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_comes_from_the_named_environment_variables() {
        std::env::set_var("LGTM_TEST_USER", "bench");
        std::env::set_var("LGTM_TEST_PASS", "s3cret");
        std::env::set_var("LGTM_TEST_TOKEN", "tok");
        let with = |auth| Connection { auth: Some(auth), ..Connection::default() };
        let basic = with(Auth::Basic { username_env: "LGTM_TEST_USER".into(), password_env: "LGTM_TEST_PASS".into() });
        assert_eq!(authorization(&basic).unwrap().as_deref(), Some("Basic YmVuY2g6czNjcmV0"));
        let bearer = with(Auth::Bearer { token_env: "LGTM_TEST_TOKEN".into() });
        assert_eq!(authorization(&bearer).unwrap().as_deref(), Some("Bearer tok"));
        assert_eq!(authorization(&Connection::default()).unwrap(), None);
        let missing = with(Auth::Bearer { token_env: "LGTM_TEST_NOT_SET".into() });
        assert!(authorization(&missing).unwrap_err().to_string().contains("LGTM_TEST_NOT_SET"));
    }
}
