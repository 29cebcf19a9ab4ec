//! How long Tempo keeps traces, read from its configuration (`/status/config`, YAML): Tempo 3.x
//! under `backend_worker.compaction.block_retention`, 2.x under `compactor.compaction.block_retention`
//! (Go durations such as `336h0m0s`). Per-tenant overrides are not read.

use super::query::TempoApi;
use crate::engine::reread::Kept;

pub async fn read(api: &TempoApi) -> Kept {
    match api.get(0, "/status/config").await {
        Ok(a) if a.status.is_success() => from_config(&a.body).unwrap_or_else(|| Kept::Unknown { why: "/status/config names no block_retention".into() }),
        Ok(a) => Kept::Unknown { why: format!("/status/config: HTTP {}", a.status.as_u16()) },
        Err(e) => Kept::Unknown { why: format!("/status/config: {e}") },
    }
}

/// The block retention in Tempo's configuration YAML.
pub fn from_config(body: &[u8]) -> Option<Kept> {
    let config: serde_yaml_ng::Value = serde_yaml_ng::from_slice(body).ok()?;
    let (section, text) = ["backend_worker", "compactor"]
        .into_iter()
        .find_map(|section| Some((section, config.get(section)?.get("compaction")?.get("block_retention")?.as_str()?.to_string())))?;
    let source = format!("{section}.compaction.block_retention {text}, from /status/config");
    let d = text.parse::<crate::units::Dur>().ok()?.get();
    Some(if d.is_zero() {
        Kept::Unknown { why: format!("{source}: 0, the per-tenant overrides decide") }
    } else {
        Kept::For { ms: d.as_millis() as i64, source }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tempo_says_its_block_retention_in_its_configuration() {
        // As Tempo's /status/config prints it (its configuration manifest): Go durations.
        let v2 = b"target: all\ncompactor:\n  compaction:\n    block_retention: 336h0m0s\n    compacted_block_retention: 1h0m0s\n";
        assert_eq!(
            from_config(v2),
            Some(Kept::For { ms: 14 * 86_400_000, source: "compactor.compaction.block_retention 336h0m0s, from /status/config".into() })
        );
        let v3 = b"target: all\nbackend_worker:\n  compaction:\n    block_retention: 24h0m0s\n";
        assert_eq!(from_config(v3).and_then(|k| k.limit_ms()), Some(86_400_000));
        assert_eq!(from_config(b"target: all\n"), None);
    }
}
