//! Grafana's datasources, through its HTTP API: each expected datasource is provisioned
//! (`/api/datasources/uid/{uid}`) with the expected type and URL (AC-lgtm-005-01), and its health
//! check passes (`/api/datasources/uid/{uid}/health`, AC-lgtm-005-03), its own message shown when it
//! does not. The token comes from an environment variable. Auto-loading after a Grafana restart
//! (AC-lgtm-005-02) and the message for an unreachable datasource (AC-lgtm-005-04) are not checked.

use super::config::GrafanaSection;
use super::model::Criterion;
use crate::client::http::{join_uri, HttpTarget};
use crate::scenario::Connection;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

const ID: &str = "AC-lgtm-005-01";
const HEALTH: &str = "AC-lgtm-005-03";

pub async fn check(section: Option<&GrafanaSection>) -> Vec<Criterion> {
    let Some(g) = section else {
        return vec![Criterion::skipped(
            ID,
            "Grafana has the Tempo and Mimir datasources and they are healthy",
            "set [check.grafana] url, token_env and datasources to check it",
        )];
    };
    let mut headers = HeaderMap::new();
    match std::env::var(&g.token_env).ok().map(|t| HeaderValue::from_str(&format!("Bearer {t}"))) {
        Some(Ok(mut v)) => {
            v.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, v);
        }
        Some(Err(_)) => return vec![Criterion::new(ID, "Grafana datasources").fail(format!("the token in {} is not a valid header value", g.token_env))],
        None => {
            return vec![Criterion::skipped(
                ID,
                "Grafana datasources",
                format!("the environment variable {} (a Grafana service-account token) is not set", g.token_env),
            )];
        }
    }
    let http = match HttpTarget::new(&Connection::default(), 1) {
        Ok(h) => h,
        Err(e) => return vec![Criterion::new(ID, "Grafana datasources").fail(e.to_string())],
    };
    let mut out = Vec::new();
    for ds in &g.datasources {
        let mut c = Criterion::new(ID, &format!("Grafana datasource `{}` is provisioned with its type and URL", ds.uid));
        match get_json(&http, &g.url, &format!("/api/datasources/uid/{}", ds.uid), &headers).await {
            Ok((200, v)) => {
                let (kind, url) = (v["type"].as_str().unwrap_or_default(), v["url"].as_str().unwrap_or_default());
                c = c.saw(format!("name `{}`, type {kind}, url {url}", v["name"].as_str().unwrap_or_default()));
                if let Some(want) = &ds.kind {
                    c = c.expect(kind == want, format!("type is {want}"), format!("type is {kind}, expected {want}"));
                }
                if let Some(want) = &ds.url {
                    c = c.expect(url.trim_end_matches('/') == want.trim_end_matches('/'), format!("url is {want}"), format!("url is {url}, expected {want}"));
                }
            }
            Ok((404, _)) => c = c.fail(format!("no datasource with uid `{}`: provision it (HelmRelease datasources)", ds.uid)),
            Ok((401 | 403, _)) => c = c.fail(format!("Grafana refused the token in {}: it needs the datasources:read permission", g.token_env)),
            Ok((status, v)) => c = c.fail(format!("HTTP {status}: {}", v["message"].as_str().unwrap_or_default())),
            Err(e) => c = c.fail(e),
        }
        let health_title = format!("Grafana datasource `{}` passes its health check", ds.uid);
        let health = if c.status == super::model::Status::Fail {
            Criterion::skipped(HEALTH, &health_title, "not checked: the datasource is not provisioned as expected (see AC-lgtm-005-01)")
        } else {
            let h = Criterion::new(HEALTH, &health_title);
            match get_json(&http, &g.url, &format!("/api/datasources/uid/{}/health", ds.uid), &headers).await {
                Ok((200, v)) if v["status"] == "OK" => h.saw(format!("health: OK ({})", v["message"].as_str().unwrap_or_default())),
                Ok((status, v)) => {
                    h.fail(format!("health check: HTTP {status} {} {}", v["status"].as_str().unwrap_or_default(), v["message"].as_str().unwrap_or_default()))
                }
                Err(e) => h.fail(e),
            }
        };
        out.push(c);
        out.push(health);
    }
    out
}

async fn get_json(http: &HttpTarget, base: &str, path: &str, headers: &HeaderMap) -> Result<(u16, serde_json::Value), String> {
    let uri = join_uri(base, path).map_err(|e| e.to_string())?;
    let answer = http.send(0, Method::GET, &uri, headers, Bytes::new()).await.map_err(|e| format!("Grafana at {base} did not answer: {e}"))?;
    let json = serde_json::from_slice(&answer.body).unwrap_or(serde_json::Value::Null);
    Ok((answer.status.as_u16(), json))
}
