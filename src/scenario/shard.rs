//! Splitting one scenario across N generator processes (an Indexed Job): shard `i` of `n` writes
//! its own share of the series at its share of the rate and runs its share of the queries, so
//! the shards together apply the whole planned load. Only shard 0 watches memory. Each target
//! shards its own section with these helpers.

use super::{QueryLoad, RunSection};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// A `--shard` argument that is not `INDEX/COUNT`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not INDEX/COUNT; write e.g. --shard 0/4 (index from 0 to COUNT-1)")]
pub struct ShardError(String);

impl std::str::FromStr for Shard {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// What a shard's results say of the sharded run they belong to, so `merge` can tell whether
/// files belong together.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ShardInfo {
    pub index: u64,
    pub count: u64,
    /// Shared by the shards of one run (`--shard-group`, e.g. the Indexed Job's uid); by default
    /// the scenario's fingerprint.
    pub group: String,
    /// Fingerprint of the whole (unsharded) scenario as resolved.
    pub scenario: String,
}

/// A short, stable fingerprint of a text (FNV-1a, 64 bits, hex).
pub fn fingerprint(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    format!("{hash:016x}")
}

/// `total` split into `count` parts that differ by at most one; part `index`.
pub fn share(total: u64, shard: Shard) -> u64 {
    total / shard.count + u64::from(shard.index < total % shard.count)
}

/// This shard's part of a query load; a missing load is the default (10 in flight), shared out too.
pub fn shard_queries(load: &mut Option<QueryLoad>, has_queries: bool, shard: Shard) {
    if !has_queries {
        return;
    }
    let load = load.get_or_insert(QueryLoad { concurrency: Some(10), rate: None, max_in_flight: 64 });
    load.concurrency = load.concurrency.map(|c| share(c as u64, shard).max(1) as usize);
    load.rate = load.rate.map(|r| r / shard.count as f64);
}

/// The run's name and seed for shard `shard` (each shard writes distinct values).
pub fn shard_run(run: &mut RunSection, shard: Shard) {
    run.name = format!("{}-shard-{}-of-{}", run.name, shard.index, shard.count);
    run.seed = run.seed.wrapping_add(shard.index);
}

/// A bound on calls in flight, split over the shards (at least one each).
pub fn shard_in_flight(max_in_flight: usize, shard: Shard) -> usize {
    max_in_flight.div_ceil(shard.count as usize).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!("1/4".parse::<Shard>().unwrap(), Shard { index: 1, count: 4 });
        for bad in ["4/4", "1", "a/b", "0/0"] {
            assert!(bad.parse::<Shard>().unwrap_err().to_string().contains("INDEX/COUNT"), "{bad}");
        }
    }

    #[test]
    fn a_default_query_load_is_shared_out_too() {
        let mut load = None;
        shard_queries(&mut load, true, Shard { index: 0, count: 4 });
        assert_eq!(load.unwrap().concurrency, Some(3), "10 in flight over 4 shards: 3, 3, 2, 2");
        let mut none = None;
        shard_queries(&mut none, false, Shard { index: 0, count: 4 });
        assert!(none.is_none());
    }

    #[test]
    fn shares_add_up_to_the_whole() {
        for total in [1u64, 7, 10, 50_000] {
            let sum: u64 = (0..3).map(|index| share(total, Shard { index, count: 3 })).sum();
            assert_eq!(sum, total);
        }
    }
}
