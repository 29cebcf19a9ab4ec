//! How long the metrics target keeps samples, read from the target: Prometheus says it in
//! `/api/v1/status/runtimeinfo` (`storageRetention`: `15d`, `15d or 512MiB`, `512MiB`), Mimir per
//! tenant in `/api/v1/user_limits` (`compactor_blocks_retention_period_seconds`, 0: never deleted).

use crate::client::promql::PromApi;
use crate::engine::reread::Kept;

/// Asks Prometheus's runtime information through `api` (query URL and prefix), then Mimir's tenant
/// limits through `root` (the query URL alone: Mimir serves them outside its Prometheus prefix).
pub async fn read(api: &PromApi, root: &PromApi) -> Kept {
    let mut tried = Vec::new();
    for (api, path, parse) in
        [(api, "/api/v1/status/runtimeinfo", from_runtimeinfo as fn(&[u8]) -> Option<Kept>), (root, "/api/v1/user_limits", from_user_limits)]
    {
        match api.get(0, path).await {
            Ok(a) if a.status.is_success() => match parse(&a.body) {
                Some(kept) => return kept,
                None => tried.push(format!("{path}: no retention in its answer")),
            },
            Ok(a) => tried.push(format!("{path}: HTTP {}", a.status.as_u16())),
            Err(e) => tried.push(format!("{path}: {e}")),
        }
    }
    Kept::Unknown { why: tried.join("; ") }
}

/// Prometheus: `{"status":"success","data":{"storageRetention":"15d"}}`; the time part of
/// `15d or 512MiB`; size alone keeps data for as long as the load lets it.
pub fn from_runtimeinfo(body: &[u8]) -> Option<Kept> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = json["data"]["storageRetention"].as_str()?;
    let source = format!("storageRetention {text:?}, from /api/v1/status/runtimeinfo");
    let time = text.split(" or ").find_map(|part| part.trim().parse::<crate::units::Dur>().ok());
    Some(match time {
        Some(d) if !d.get().is_zero() => Kept::For { ms: d.get().as_millis() as i64, source },
        _ => Kept::Unknown { why: format!("kept by size only ({source}): how long depends on the load") },
    })
}

/// Mimir: `{"compactor_blocks_retention_period_seconds": 2592000, …}` (0: never deleted).
pub fn from_user_limits(body: &[u8]) -> Option<Kept> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let secs = json["compactor_blocks_retention_period_seconds"].as_i64()?;
    let source = format!("compactor_blocks_retention_period {}, from /api/v1/user_limits", crate::units::Dur::secs(secs.max(0) as u64));
    Some(if secs > 0 { Kept::For { ms: secs * 1000, source } } else { Kept::Forever { source } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_says_its_retention_in_its_runtime_information() {
        // Prometheus 2.42 started without a retention flag (as the tests start it).
        let body = br#"{"status":"success","data":{"startTime":"2026-12-01T22:44:20.730274175Z","CWD":"/work","reloadConfigSuccess":true,"lastConfigTime":"2026-12-01T22:44:20Z","corruptionCount":0,"goroutineCount":28,"GOMAXPROCS":2,"GOGC":"","GODEBUG":"","storageRetention":"15d"}}"#;
        assert_eq!(from_runtimeinfo(body), Some(Kept::For { ms: 15 * 86_400_000, source: "storageRetention \"15d\", from /api/v1/status/runtimeinfo".into() }));
        let both = br#"{"status":"success","data":{"storageRetention":"30d or 10GiB"}}"#;
        assert_eq!(from_runtimeinfo(both).and_then(|k| k.limit_ms()), Some(30 * 86_400_000));
        let size = br#"{"status":"success","data":{"storageRetention":"10GiB"}}"#;
        assert!(matches!(from_runtimeinfo(size), Some(Kept::Unknown { .. })));
        assert_eq!(from_runtimeinfo(br#"{"status":"success","data":{}}"#), None);
    }

    #[test]
    fn mimir_says_its_tenants_retention_in_its_limits() {
        // Mimir's UserLimitsResponse (pkg/util/validation/user_limits_handler.go): in seconds.
        let body = br#"{"compactor_blocks_retention_period_seconds":2592000,"ingestion_rate":10000,"ingestion_burst_size":200000,"max_global_series_per_user":150000}"#;
        assert_eq!(from_user_limits(body).and_then(|k| k.limit_ms()), Some(30 * 86_400_000));
        let forever = br#"{"compactor_blocks_retention_period_seconds":0,"ingestion_rate":10000}"#;
        assert!(matches!(from_user_limits(forever), Some(Kept::Forever { .. })));
        assert_eq!(from_user_limits(b"not json"), None);
    }
}
