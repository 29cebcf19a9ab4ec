//! A target's build information (version, revision), read once before the load so the results
//! say what was measured and `compare` can warn when the target changed between runs. Prometheus
//! and Mimir answer `{"status":"success","data":{…}}`, Tempo a flat object; a source build may
//! leave the version empty, which is kept as "unknown" rather than invented.

use super::http::{join_uri, HttpTarget};
use bytes::Bytes;
use http::{HeaderMap, Method};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the target says it is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BuildInfo {
    /// Where it was read.
    pub url: String,
    /// `Grafana Mimir`, when the target names itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The version, absent when the target left it empty or did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Why there is no version, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

impl BuildInfo {
    /// The version and revision as one text (`2.42.0 (rev 225c61122d88)`), or `unknown`.
    pub fn shown(&self) -> String {
        match (&self.version, &self.revision) {
            (Some(v), Some(r)) => format!("{v} (rev {})", &r[..r.len().min(12)]),
            (Some(v), None) => v.clone(),
            (None, Some(r)) => format!("unknown version (rev {})", &r[..r.len().min(12)]),
            (None, None) => "unknown".into(),
        }
    }
}

/// Reads the answer body of a build-info endpoint.
pub fn parse(url: &str, status: u16, body: &[u8]) -> BuildInfo {
    let mut info = BuildInfo { url: url.to_string(), ..BuildInfo::default() };
    if !(200..300).contains(&status) {
        info.missing = Some(format!("HTTP {status}"));
        return info;
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        info.missing = Some("not JSON".into());
        return info;
    };
    let fields = json.get("data").filter(|d| d.is_object()).unwrap_or(&json);
    let text = |k: &str| fields.get(k).and_then(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    info.application = text("application");
    info.version = text("version");
    info.revision = text("revision");
    if info.version.is_none() {
        info.missing = Some("the target's build info leaves the version empty (a source build)".into());
    }
    info
}

/// GETs `base` + `path` on `target` and reads it; never fails: a target without the endpoint
/// gets a `BuildInfo` that says why there is none.
pub async fn read(target: &HttpTarget, base: &str, path: &str) -> BuildInfo {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let uri = match join_uri(base, path) {
        Ok(u) => u,
        Err(e) => return BuildInfo { url, missing: Some(e.to_string()), ..BuildInfo::default() },
    };
    match target.send(0, Method::GET, &uri, &HeaderMap::new(), Bytes::new()).await {
        Ok(answer) => parse(&url, answer.status.as_u16(), &answer.body),
        Err(e) => BuildInfo { url, missing: Some(format!("no answer: {e}")), ..BuildInfo::default() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_and_mimir_wrap_it_in_data_tempo_does_not_and_an_empty_version_is_unknown() {
        let prom =
            parse("u", 200, br#"{"status":"success","data":{"version":"2.42.0","revision":"225c61122d88b01d1f0eaaee0e05b6f3e0567ac0","goVersion":"go1.19"}}"#);
        assert_eq!((prom.version.as_deref(), prom.shown().as_str()), (Some("2.42.0"), "2.42.0 (rev 225c61122d88)"));
        let mimir = parse("u", 200, br#"{"status":"success","data":{"application":"Grafana Mimir","version":"2.14.0","revision":"abc"}}"#);
        assert_eq!(mimir.application.as_deref(), Some("Grafana Mimir"));
        let tempo = parse("u", 200, br#"{"version":"","revision":"","branch":"","buildUser":"","buildDate":"","goVersion":"go1.27.3"}"#);
        assert_eq!((tempo.version.as_deref(), tempo.shown().as_str()), (None, "unknown"));
        assert!(tempo.missing.unwrap().contains("empty"));
        assert_eq!(parse("u", 404, b"").missing.as_deref(), Some("HTTP 404"));
    }
}
