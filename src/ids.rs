//! The run's deterministic identities that targets share: trace and span ids follow from the seed,
//! the run id and the trace's index, so Tempo's path writes them and Mimir's exemplars point at the
//! same traces, and anything written can be rebuilt and checked.

/// Deterministic identities of a run's traces.
#[derive(Clone, Copy, Debug)]
pub struct IdSource {
    key: u64,
}

impl IdSource {
    pub fn new(seed: u64, run_id: &str) -> IdSource {
        let run = run_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        IdSource { key: splitmix64(seed ^ run) }
    }

    pub fn trace_id(&self, t: u64) -> [u8; 16] {
        let hi = splitmix64(self.key ^ t.wrapping_mul(2)) | 1;
        let lo = splitmix64(self.key ^ t.wrapping_mul(2).wrapping_add(1));
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&hi.to_be_bytes());
        id[8..].copy_from_slice(&lo.to_be_bytes());
        id
    }

    pub fn span_id(&self, t: u64, j: usize) -> [u8; 8] {
        (splitmix64(self.key ^ splitmix64(t) ^ (j as u64).wrapping_mul(0xA24B_AED4_963E_E407)) | 1).to_be_bytes()
    }

    /// Whether trace `t` carries an error (a share `ratio` of traces do).
    pub fn is_error(&self, t: u64, ratio: f64) -> bool {
        (splitmix64(self.key ^ t ^ 0x5555) % 1_000_000) as f64 / 1_000_000.0 < ratio
    }
}

/// Lower-case hex, as Tempo's API and exemplars write ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
