//! Grafana's HTTP API as lgtm-bench reads it: a service-account token (Bearer) from an environment
//! variable, JSON answers with their status. `check` reads datasources through it, `model` the
//! dashboards people open (`pick`).

use crate::client::http::{join_uri, HttpTarget};
use crate::scenario::Connection;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

/// The `Authorization: Bearer` header from the token in `token_env`; `Ok(None)` when it is unset.
pub fn bearer(token_env: &str) -> Result<Option<HeaderMap>, String> {
    let Ok(token) = std::env::var(token_env) else { return Ok(None) };
    let mut v = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| format!("the token in {token_env} is not a valid header value"))?;
    v.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, v);
    Ok(Some(headers))
}

/// A request to Grafana and its JSON answer (`Null` when the body is not JSON) with its status.
pub async fn send_json(
    http: &HttpTarget,
    base: &str,
    method: Method,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(u16, serde_json::Value), String> {
    let uri = join_uri(base, path).map_err(|e| e.to_string())?;
    let answer = http.send(0, method, &uri, headers, body).await.map_err(|e| format!("Grafana at {base} did not answer: {e}"))?;
    let json = serde_json::from_slice(&answer.body).unwrap_or(serde_json::Value::Null);
    Ok((answer.status.as_u16(), json))
}

/// Why Grafana gave no usable answer: it did not answer at all, or it answered with a refusal or
/// something that is not its API.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GrafanaError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Refused(String),
}

/// One Grafana, with its token.
pub struct GrafanaApi {
    http: HttpTarget,
    pub base: String,
    headers: HeaderMap,
    token_env: String,
}

impl GrafanaApi {
    /// Fails when the token's variable is unset or not a header value, naming it.
    pub fn new(base: &str, token_env: &str) -> Result<GrafanaApi, String> {
        let headers = bearer(token_env)?.ok_or_else(|| format!("the environment variable {token_env} (a Grafana service-account token) is not set"))?;
        let http = HttpTarget::new(&Connection::default(), 1).map_err(|e| e.to_string())?;
        Ok(GrafanaApi { http, base: base.trim_end_matches('/').to_string(), headers, token_env: token_env.to_string() })
    }

    /// GET `path`; a 2xx's JSON, else an error naming the status (401/403: the token).
    pub async fn get(&self, path: &str) -> Result<serde_json::Value, GrafanaError> {
        match send_json(&self.http, &self.base, Method::GET, path, &self.headers, Bytes::new()).await.map_err(GrafanaError::Unreachable)? {
            (200..=299, json) => Ok(json),
            (code @ (401 | 403), _) => Err(GrafanaError::Refused(format!(
                "Grafana refused the token in {} ({code}) for {path}: it needs the dashboards:read and folders:read permissions",
                self.token_env
            ))),
            (code, json) => Err(GrafanaError::Refused(format!("{}{path}: HTTP {code} {}", self.base, json["message"].as_str().unwrap_or_default()))),
        }
    }
}
