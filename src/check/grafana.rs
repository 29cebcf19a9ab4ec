//! Grafana's datasources, through its HTTP API: each expected datasource is provisioned
//! (`/api/datasources/uid/{uid}`) with the expected type and URL (AC-lgtm-005-01); it comes from
//! Grafana's provisioning files (`readOnly`), so Grafana loads it again at every start
//! (AC-lgtm-005-02); its health check passes (`/api/datasources/uid/{uid}/health`, AC-lgtm-005-03),
//! its own message shown when it does not; and a datasource that cannot be reached is answered
//! with a message that names the cause (AC-lgtm-005-04): judged on a failing datasource's own
//! message, or with `probe_unreachable` on a temporary datasource at an address nothing listens
//! on. The token comes from an environment variable.

use super::config::GrafanaSection;
use super::model::Criterion;
use crate::client::http::HttpTarget;
use crate::grafana::api::{bearer, send_json};
use crate::scenario::Connection;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

const ID: &str = "AC-lgtm-005-01";
const RELOADED: &str = "AC-lgtm-005-02";
const HEALTH: &str = "AC-lgtm-005-03";
const UNREACHABLE: &str = "AC-lgtm-005-04";
const UNREACHABLE_TITLE: &str = "a datasource that cannot be reached fails its health check with a message naming the cause";
/// Words of a health-check message that name why a datasource could not be reached.
const CAUSES: [&str; 7] = ["connection refused", "no such host", "dial tcp", "timeout", "unreachable", "connect:", "network"];

pub async fn check(section: Option<&GrafanaSection>) -> Vec<Criterion> {
    let Some(g) = section else {
        return vec![Criterion::skipped(
            ID,
            "Grafana has the Tempo and Mimir datasources and they are healthy",
            "set [check.grafana] url, token_env and datasources to check it",
        )];
    };
    let headers = match bearer(&g.token_env) {
        Ok(Some(h)) => h,
        Err(e) => return vec![Criterion::new(ID, "Grafana datasources").fail(e)],
        Ok(None) => {
            return vec![Criterion::skipped(
                ID,
                "Grafana datasources",
                format!("the environment variable {} (a Grafana service-account token) is not set", g.token_env),
            )];
        }
    };
    let http = match HttpTarget::new(&Connection::default(), 1) {
        Ok(h) => h,
        Err(e) => return vec![Criterion::new(ID, "Grafana datasources").fail(e.to_string())],
    };
    let mut out = Vec::new();
    let mut reloaded = Vec::new();
    // The messages of failed health checks, for AC-lgtm-005-04.
    let mut failed_health = Vec::new();
    for ds in &g.datasources {
        let mut c = Criterion::new(ID, &format!("Grafana datasource `{}` is provisioned with its type and URL", ds.uid));
        match get_json(&http, &g.url, &format!("/api/datasources/uid/{}", ds.uid), &headers).await {
            Ok((200, v)) => {
                reloaded.push(provisioned(&ds.uid, &v));
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
                    let message = v["message"].as_str().unwrap_or_default().to_string();
                    failed_health.push((ds.uid.clone(), message.clone()));
                    h.fail(format!("health check: HTTP {status} {} {message}", v["status"].as_str().unwrap_or_default()))
                }
                Err(e) => h.fail(e),
            }
        };
        out.push(c);
        out.push(health);
    }
    out.extend(reloaded);
    out.push(if g.probe_unreachable { probe_unreachable(&http, &g.url, &headers).await } else { judge_messages(&failed_health) });
    out
}

/// AC-lgtm-005-02: a datasource from Grafana's provisioning files is `readOnly` in the API and is
/// loaded again at every start; one added by hand or through the API is not.
fn provisioned(uid: &str, v: &serde_json::Value) -> Criterion {
    Criterion::new(RELOADED, &format!("Grafana datasource `{uid}` is provisioned from configuration, so it loads again after a restart")).expect(
        v["readOnly"].as_bool() == Some(true),
        "readOnly: provisioned from Grafana's datasource files (the HelmRelease's datasources), reloaded at every start",
        "not readOnly: added by hand or through the API, it is lost when a Grafana without persistent storage restarts; provision it in the HelmRelease (datasources)",
    )
}

/// AC-lgtm-005-04 from the health checks that failed: each message names the cause.
fn judge_messages(failed: &[(String, String)]) -> Criterion {
    if failed.is_empty() {
        return Criterion::skipped(
            UNREACHABLE,
            UNREACHABLE_TITLE,
            "every datasource is healthy, so no error message was seen: set check.grafana.probe_unreachable = true to try one at an address nothing listens on",
        );
    }
    failed.iter().fold(Criterion::new(UNREACHABLE, UNREACHABLE_TITLE), |c, (uid, message)| {
        c.expect(names_cause(message), format!("`{uid}`: {message}"), format!("`{uid}` failed with a message that does not say why: `{message}`"))
    })
}

fn names_cause(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    CAUSES.iter().any(|c| m.contains(c))
}

/// AC-lgtm-005-04 on a temporary Prometheus datasource at `http://127.0.0.1:1` (nothing listens
/// there): its health check must fail with a message naming the cause; it is deleted afterwards.
async fn probe_unreachable(http: &HttpTarget, base: &str, headers: &HeaderMap) -> Criterion {
    let c = Criterion::new(UNREACHABLE, UNREACHABLE_TITLE);
    let name = format!("lgtm-bench-unreachable-{}", crate::engine::runner::new_run_id());
    let body = serde_json::json!({ "name": name, "type": "prometheus", "access": "proxy", "url": "http://127.0.0.1:1" });
    let mut headers = headers.clone();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let created = match send_json(http, base, Method::POST, "/api/datasources", &headers, Bytes::from(body.to_string())).await {
        Ok((200, v)) => v,
        Ok((401 | 403, _)) => return c.fail("Grafana refused to add the probe datasource: the token needs datasources:create and datasources:delete"),
        Ok((status, v)) => return c.fail(format!("adding the probe datasource: HTTP {status} {}", v["message"].as_str().unwrap_or_default())),
        Err(e) => return c.unreachable(e),
    };
    let Some(uid) = created["datasource"]["uid"].as_str().map(str::to_string) else {
        return c.fail("Grafana added the probe datasource but did not say its uid");
    };
    let health = send_json(http, base, Method::GET, &format!("/api/datasources/uid/{uid}/health"), &headers, Bytes::new()).await;
    let deleted = send_json(http, base, Method::DELETE, &format!("/api/datasources/uid/{uid}"), &headers, Bytes::new()).await;
    let c = match health {
        Ok((200, v)) if v["status"] == "OK" => c.fail("a datasource at http://127.0.0.1:1 passed its health check"),
        Ok((status, v)) => {
            let message = v["message"].as_str().unwrap_or_default();
            c.expect(
                names_cause(message),
                format!("`{name}` at http://127.0.0.1:1: HTTP {status} {} `{message}`", v["status"].as_str().unwrap_or_default()),
                format!("the health check failed without saying why: HTTP {status} `{message}`"),
            )
        }
        Err(e) => c.unreachable(e),
    };
    match deleted {
        Ok((200, _)) => c.saw("the probe datasource was deleted"),
        _ => c.saw(format!("the probe datasource `{name}` could not be deleted: remove it in Grafana")),
    }
}

async fn get_json(http: &HttpTarget, base: &str, path: &str, headers: &HeaderMap) -> Result<(u16, serde_json::Value), String> {
    send_json(http, base, Method::GET, path, headers, Bytes::new()).await
}
