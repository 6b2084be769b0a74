//! Shuffle sharding (`shuffle_sharding_config`, `shuffleShardHashring` in
//! `pkg/receive/hashring.go`): each tenant writes to a small ketama ring of its own, a shard of
//! the whole ring, so one tenant's load (or a bad series) reaches only its shard.
//!
//! A tenant's shard, as Thanos picks it:
//! - its size: the first override whose tenants match it (`exact`: listed; `glob`: a pattern
//!   matches; an override without a matcher type never matches), else `shard_size`;
//! - the distinct endpoints of the ring are grouped by zone; from every zone Thanos takes
//!   `ceil(size / zones)` endpoints, and a zone with fewer fails every write of the tenant;
//! - in each zone, a Go `math/rand` source seeded with the first 8 bytes (big-endian) of
//!   MD5(`tenant`, or `tenant 0x00 zone` for a named zone) draws positions on the zone's ketama
//!   sections; each position takes the first endpoint at or after it (wrapping) not taken yet;
//!   With `zone_awareness_disabled`, every endpoint counts as one zone `""` for this draw
//!   (`size` endpoints, the seed without a zone);
//! - the shard is a new ketama ring of those endpoints (with their zones), which places the
//!   tenant's series as any ketama ring does. A shard smaller than the replication factor
//!   fails every write of the tenant.

use std::collections::{BTreeMap, BTreeSet};

use md5::{Digest, Md5};

use super::glob::matches;
use super::gorand::GoRand;
use super::{Endpoint, PlacementError, Ring};
use crate::hashring::{ShuffleSharding, TenantMatcher};

/// Why a tenant of a shuffle-sharded ring cannot write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("shard size {size} is larger than the {have} endpoints of zone {zone:?}")]
    ZoneTooSmall {
        size: usize,
        zone: String,
        have: usize,
    },
    /// The shard's own ring cannot be built (fewer endpoints than the replication factor, or
    /// zones it cannot spread replicas over: Thanos then never finishes placing the series).
    #[error("{0}")]
    Ring(PlacementError),
}

/// The shard size of `tenant` (`getShardSize`).
pub fn shard_size(config: &ShuffleSharding, tenant: &str) -> usize {
    for o in &config.overrides {
        let hit = match o.tenant_matcher {
            Some(TenantMatcher::Exact) => o.tenants.iter().any(|t| t == tenant),
            // A malformed pattern never matches here (Thanos ignores its error).
            Some(TenantMatcher::Glob) => o
                .tenants
                .iter()
                .any(|p| matches(p, tenant).unwrap_or(false)),
            None => false,
        };
        if hit {
            return o.shard_size;
        }
    }
    config.shard_size
}

/// How many endpoints a shard of `size` takes from each of `zones` zones.
pub fn shard_take(size: usize, zones: usize) -> usize {
    size.div_ceil(zones.max(1))
}

/// The seed of a tenant's source in a zone (`ShuffleShardSeed`).
pub fn shard_seed(tenant: &str, zone: &str) -> i64 {
    let mut h = Md5::new();
    h.update(tenant.as_bytes());
    if !zone.is_empty() {
        h.update([0u8]);
        h.update(zone.as_bytes());
    }
    let sum = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&sum[..8]);
    i64::from_be_bytes(first)
}

/// The ring `tenant` writes to: its shard of `base` (a ketama ring) as a ketama ring.
pub fn tenant_shard(
    base: &Ring,
    config: &ShuffleSharding,
    tenant: &str,
) -> Result<Ring, ShardError> {
    let size = shard_size(config, tenant);
    // Without zone awareness every endpoint counts as zone "" while the shard is drawn.
    let unaware = config.zone_awareness_disabled;
    // Distinct endpoints by zone (Thanos dedupes the ring's endpoints first).
    let mut by_zone: BTreeMap<&str, BTreeSet<&Endpoint>> = BTreeMap::new();
    for e in &base.endpoints {
        let zone = if unaware { "" } else { e.zone() };
        by_zone.entry(zone).or_default().insert(e);
    }
    // Unaware, that is one zone: `size` endpoints.
    let take = shard_take(size, by_zone.len());
    if let Some((zone, have)) = by_zone
        .iter()
        .map(|(z, eps)| (*z, eps.len()))
        .find(|&(_, have)| take > have)
    {
        return Err(ShardError::ZoneTooSmall {
            size,
            zone: zone.to_owned(),
            have,
        });
    }
    let mut shard = Vec::new();
    for zone in by_zone.keys() {
        // This zone's sections, in ring order.
        let sections: Vec<(u64, u32)> = base
            .section_hashes
            .iter()
            .zip(&base.section_owners)
            .filter(|&(_, &owner)| unaware || base.endpoints[owner as usize].zone() == *zone)
            .map(|(&h, &o)| (h, o))
            .collect();
        let mut rng = GoRand::new(shard_seed(tenant, zone));
        let mut taken: BTreeSet<u32> = BTreeSet::new();
        for _ in 0..take {
            let position = rng.uint64();
            let mut start = sections.partition_point(|&(h, _)| h < position);
            if start == sections.len() {
                start = 0;
            }
            let next = (0..sections.len())
                .map(|j| sections[(start + j) % sections.len()].1)
                .find(|owner| !taken.contains(owner));
            if let Some(owner) = next {
                taken.insert(owner);
                shard.push(base.endpoints[owner as usize].clone());
            }
        }
    }
    Ring::new(
        super::Algorithm::Ketama,
        shard,
        base.replication_factor as u64,
    )
    .map_err(ShardError::Ring)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_md5_of_tenant_and_zone() {
        // md5("") = d41d8cd98f00b204...
        assert_eq!(shard_seed("", ""), 0xd41d8cd98f00b204u64 as i64);
        assert_ne!(shard_seed("t", "a"), shard_seed("t", ""));
        assert_ne!(shard_seed("t", "a"), shard_seed("ta", ""));
    }

    #[test]
    fn take_is_spread_over_zones() {
        assert_eq!(shard_take(3, 1), 3);
        assert_eq!(shard_take(4, 3), 2);
        assert_eq!(shard_take(3, 3), 1);
        assert_eq!(shard_take(5, 2), 3);
    }
}
