//! A whole `hashrings.json`, as a router builds it (`NewMultiHashring`): every ring built (a
//! file with one ring Thanos refuses is refused as a whole, and the router exits), and a tenant
//! served by the first ring whose tenants match it.

use std::borrow::Cow;

use super::glob::{BadPattern, matches};
use super::shuffle::{ShardError, tenant_shard};
use super::{Algorithm, PlacementError, Ring};
use crate::hashring::{HashringEntry, ShuffleSharding, TenantMatcher};

/// A built `hashrings.json`.
#[derive(Debug, Clone)]
pub struct MultiRing {
    rings: Vec<Built>,
}

#[derive(Debug, Clone)]
struct Built {
    name: String,
    tenants: Vec<String>,
    matcher: TenantMatcher,
    ring: Ring,
    shuffle: Option<ShuffleSharding>,
}

/// The shuffle sharding of ring `e` (built with `algorithm`), when it has one Thanos accepts.
fn shuffle_of(
    e: &HashringEntry,
    algorithm: Algorithm,
) -> Result<Option<ShuffleSharding>, PlacementError> {
    let shuffle = e.shuffle_sharding.clone().filter(|s| s.shard_size > 0);
    if let Some(s) = &shuffle {
        if algorithm == Algorithm::Hashmod {
            return Err(PlacementError::ShuffleWithHashmod);
        }
        if s.shard_size > e.endpoints.len() {
            return Err(PlacementError::ShardLargerThanRing {
                shard_size: s.shard_size,
                endpoints: e.endpoints.len(),
            });
        }
    }
    Ok(shuffle)
}

/// Why one tenant's writes fail while the file itself loads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    #[error("no hashring serves tenant {0:?}")]
    NoRing(String),
    /// A ring the tenant is checked against has a malformed glob.
    #[error("hashring {ring:?} has a malformed glob {pattern:?}")]
    BadPattern { ring: String, pattern: String },
    #[error("hashring {ring:?}: {error}")]
    Shard { ring: String, error: ShardError },
}

/// The ring one tenant writes to.
#[derive(Debug, Clone)]
pub struct TenantRing<'a> {
    /// The name of the file's ring that serves the tenant.
    pub name: &'a str,
    /// The ring that places its series: the file's ring, or the tenant's shard of it.
    pub ring: Cow<'a, Ring>,
}

impl MultiRing {
    /// Builds every ring of `entries` for `replication_factor`, rings without an `algorithm`
    /// with `default` (the router's `--receive.hashrings-algorithm`).
    pub fn new(
        entries: &[HashringEntry],
        default: Algorithm,
        replication_factor: u64,
    ) -> Result<MultiRing, (String, PlacementError)> {
        let mut rings = Vec::with_capacity(entries.len());
        for e in entries {
            let fail = |error| (e.name.clone(), error);
            let algorithm = e.algorithm_or(default);
            let ring =
                Ring::new(algorithm, e.endpoints.clone(), replication_factor).map_err(fail)?;
            let shuffle = shuffle_of(e, algorithm).map_err(fail)?;
            rings.push(Built {
                name: e.name.clone(),
                tenants: e.tenants.clone(),
                matcher: e.tenant_matcher,
                ring,
                shuffle,
            });
        }
        Ok(MultiRing { rings })
    }

    /// Whether [`MultiRing::new`] builds `entries`, the same error when not, without building
    /// what need not be built ([`Ring::check`]).
    pub fn check(
        entries: &[HashringEntry],
        default: Algorithm,
        replication_factor: u64,
    ) -> Result<(), (String, PlacementError)> {
        for e in entries {
            let fail = |error| (e.name.clone(), error);
            let algorithm = e.algorithm_or(default);
            Ring::check(algorithm, &e.endpoints, replication_factor).map_err(fail)?;
            shuffle_of(e, algorithm).map_err(fail)?;
        }
        Ok(())
    }

    /// The ring `tenant` writes to (`multiHashring.GetN`'s choice, then the shard).
    pub fn for_tenant(&self, tenant: &str) -> Result<TenantRing<'_>, TenantError> {
        let built = self.ring_of(tenant)?;
        let ring = match &built.shuffle {
            None => Cow::Borrowed(&built.ring),
            Some(s) => Cow::Owned(tenant_shard(&built.ring, s, tenant).map_err(|error| {
                TenantError::Shard {
                    ring: built.name.clone(),
                    error,
                }
            })?),
        };
        Ok(TenantRing {
            name: &built.name,
            ring,
        })
    }

    /// The name of the ring that serves `tenant`.
    pub fn ring_name(&self, tenant: &str) -> Result<&str, TenantError> {
        self.ring_of(tenant).map(|b| b.name.as_str())
    }

    fn ring_of(&self, tenant: &str) -> Result<&Built, TenantError> {
        for b in &self.rings {
            if b.tenants.is_empty() {
                return Ok(b);
            }
            match b.matcher {
                TenantMatcher::Exact if b.tenants.iter().any(|t| t == tenant) => return Ok(b),
                TenantMatcher::Exact => {}
                TenantMatcher::Glob => {
                    // Thanos tries the patterns in map order; they only disagree when one is
                    // malformed, which validation refuses.
                    for pattern in &b.tenants {
                        match matches(pattern, tenant) {
                            Ok(true) => return Ok(b),
                            Ok(false) => {}
                            Err(BadPattern) => {
                                return Err(TenantError::BadPattern {
                                    ring: b.name.clone(),
                                    pattern: pattern.clone(),
                                });
                            }
                        }
                    }
                }
            }
        }
        Err(TenantError::NoRing(tenant.to_owned()))
    }
}
