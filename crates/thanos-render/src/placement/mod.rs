//! Where Thanos receive writes a series: the ingestors a hashring picks for a tenant's series,
//! reproduced exactly, so that a plan can say what share of series a hashring change moves to
//! other ingestors (a moved series starts a new head block elsewhere; its recent samples stay
//! on the old ingestor until they are uploaded).
//!
//! The rules below are those of the pinned Thanos (v0.42.5): `pkg/receive/hashring.go`
//! (`simpleHashring`, `ketamaHashring`, `calculateSectionReplicas`), `pkg/receive/config.go`
//! (endpoints and their `az`), `pkg/receive/handler.go` (`distributeTimeseriesToReplicas`: a
//! series is written to `GetN(tenant, series, n)` for every `n` below the replication factor)
//! and `pkg/store/labelpb/label.go` (`HashWithPrefix`). The tests hold this module to vectors
//! that Thanos's own code produced (`tests/placement_vectors/`).
//!
//! # The series hash
//! Both algorithms place a series by one 64-bit value: XXH64 with seed 0 (cespare/xxhash v2)
//! of the bytes `tenant 0xFF (name 0xFF value 0xFF)*`, labels in the order the write request
//! lists them. Thanos hashes more than 1 KiB of labels through a streaming hasher, which sees
//! the same bytes. Prometheus sends labels sorted by name; the router hashes before anything
//! validates the order, so an unsorted label set is placed by the order given (and then
//! refused by the ingestor).
//!
//! # `hashmod`
//! The endpoints are sorted by address (their order in `hashrings.json` does not matter) and
//! replica `n` is endpoint `(hash + n) mod len`, the addition wrapping at 2^64. Because a
//! series' position depends on the ring's length, adding one endpoint to a ring of `N` moves
//! about `N/(N+1)` of all series. An address listed twice stays twice: it receives twice the
//! share, and both replicas of a series can land on it. Thanos refuses a hashmod ring with any
//! `az`; with fewer endpoints than the replication factor it loads the ring but fails every
//! write, which is refused here when the ring is built.
//!
//! # `ketama`
//! Every endpoint owns 1000 sections of the ring (`SectionsPerNode`); section `k` (1..=1000)
//! of an endpoint sits at XXH64(`address:k`). Sections are sorted by that value; a series
//! belongs to the first section at or after its hash, wrapping to the first section. Its
//! replicas are found by walking the ring clockwise from that section and taking every
//! endpoint not taken yet, so adding one endpoint to a ring of `N` moves only about
//! `replication factor/(N+1)` of the series, those whose walk now meets it. Subtleties:
//! - Endpoints are kept in configuration order, but only addresses are hashed, so that order
//!   changes nothing.
//! - An endpoint listed twice is two endpoints with identical sections; both may be replicas
//!   of one series (the same address twice). Go's sort is not stable, so the order of such
//!   tied sections is Go's internal business; it changes nothing while both entries are the
//!   same address and zone. One address listed in two zones would make the result depend on
//!   it, so such a ring is refused here ([`PlacementError::ConflictingZones`]).
//! - Zones: every distinct `az` is a zone, and endpoints without one form the zone `""`. With
//!   more than one zone the walk skips an endpoint while its zone already holds more of the
//!   series' replicas than the least-used zone (zones holding none count), which spreads
//!   replicas evenly over zones. With one zone the rule is off.
//! - That rule can leave no endpoint to take: once a zone is exhausted, the others may hold at
//!   most one replica more than it, so at most `sum over zones of min(size, smallest size + 1)`
//!   replicas can be placed (zones of 3 and 1 endpoints: 3). Asked for more, Thanos walks the
//!   ring forever while loading the configuration (the receiver never applies it). Such a ring
//!   is refused here ([`PlacementError::ZoneSpreadUnsatisfiable`]).
//! - Thanos refuses a ketama ring with fewer endpoints than the replication factor.
//!
//! # A whole file
//! [`MultiRing`] is a whole `hashrings.json` (`NewMultiHashring`): a tenant is served by the
//! first ring whose tenants match it (exactly, or as a glob: [`glob_matches`], Go's
//! `filepath.Match`), a ring without tenants matching every tenant. With shuffle sharding a
//! tenant writes to a ketama ring of its own shard, chosen per zone by Go's `math/rand`
//! ([`GoRand`]) seeded from the MD5 of the tenant and zone (see [`shuffle`]).
//!
//! Not modelled: a tenant taken from a label (`--receive.split-tenant-label-name`, which also
//! removes that label before hashing), and unknown algorithm names (Thanos falls back to
//! hashmod; they are never rendered).
//!
//! # Share moved
//! [`movement`] compares two rings on a sample of series: a series is *changed* when its set of
//! ingestor addresses differs (replica order and zones do not matter: each ingestor stores the
//! series once, whatever its replica number), *disjoint* when the sets share no address. The
//! sample is [`synthetic_series`] per tenant: the hash spreads any distinct label sets
//! uniformly, so the fraction of a deterministic synthetic population estimates the fraction
//! of real series (at [`SAMPLE_SERIES_PER_TENANT`] within about one percentage point).

mod change;
mod glob;
mod gorand;
mod gorand_cooked;
mod multi;
mod shuffle;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use xxhash_rust::xxh64::{Xxh64, xxh64};

pub use crate::hashring::RingEndpoint as Endpoint;
pub use change::{
    FileSide, RingChange, RingSide, SAMPLE_SERIES, SAMPLE_SERIES_PER_MOVED_TENANT, SAMPLE_TENANTS,
    TenantMove, ring_change, sample_tenants, tenant_moves,
};
pub use glob::{BadPattern, check as check_glob, is_literal, matches as glob_matches};
pub use gorand::GoRand;
pub use multi::{MultiRing, TenantError, TenantRing};
pub use shuffle::{shard_seed, shard_take};

/// Sections per endpoint on a ketama ring (`SectionsPerNode` in `pkg/receive/hashring.go`).
pub const SECTIONS_PER_ENDPOINT: usize = 1000;

/// The byte between the tenant and every label name and value (`sep` in
/// `pkg/store/labelpb/label.go`).
const SEPARATOR: u8 = 0xff;

/// Series per tenant that [`sampled_movement`] callers are advised to use: the standard error
/// of an estimated share is then at most 0.5 percentage points.
pub const SAMPLE_SERIES_PER_TENANT: usize = 10_000;

/// Metric name of the [`synthetic_series`].
pub const SAMPLE_METRIC: &str = "thanos_placement_sample";

/// The hashring algorithms of `hashrings.json` (`algorithm`, or `--receive.hashrings-algorithm`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Hashmod,
    Ketama,
}

impl Algorithm {
    pub const VALUES: &[&str] = &["hashmod", "ketama"];

    pub fn parse(s: &str) -> Option<Algorithm> {
        match s {
            "hashmod" => Some(Algorithm::Hashmod),
            "ketama" => Some(Algorithm::Ketama),
            _ => None,
        }
    }

    /// The name `hashrings.json` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Hashmod => "hashmod",
            Algorithm::Ketama => "ketama",
        }
    }
}

/// Why a ring cannot place series (each one a ring that Thanos refuses, or could not use).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// With no replica nothing is written anywhere.
    #[error("the replication factor must be at least 1")]
    ZeroReplicationFactor,
    /// Fewer endpoints than replicas: Thanos refuses a ketama ring, and fails every write to a
    /// hashmod ring.
    #[error("{have} endpoints cannot hold {want} replicas of a series")]
    InsufficientEndpoints { have: usize, want: u64 },
    /// Thanos refuses to load a hashmod ring whose endpoints have zones.
    #[error("hashmod does not support availability zones (endpoint {address:?} has az {az:?})")]
    ZonesWithHashmod { address: String, az: String },
    /// One address in two zones: Thanos's placement would depend on its unstable sort.
    #[error("endpoint {address:?} is listed in zones {first:?} and {second:?}")]
    ConflictingZones {
        address: String,
        first: String,
        second: String,
    },
    /// Thanos refuses shuffle sharding on a hashmod ring.
    #[error("hashmod does not support shuffle sharding")]
    ShuffleWithHashmod,
    /// Thanos refuses a shard size larger than the ring.
    #[error("shard size {shard_size} is larger than the {endpoints} endpoints of the ring")]
    ShardLargerThanRing { shard_size: usize, endpoints: usize },
    /// Ketama cannot spread this many replicas evenly over the zones; Thanos never finishes
    /// loading such a ring.
    #[error(
        "ketama cannot spread {replication_factor} replicas evenly over zones of {zone_sizes:?} endpoints (at most {capacity})"
    )]
    ZoneSpreadUnsatisfiable {
        replication_factor: u64,
        /// Endpoints per zone, by zone name.
        zone_sizes: BTreeMap<String, usize>,
        /// The most replicas these zones can hold.
        capacity: u64,
    },
}

/// A hashring ready to place series (a ketama ring is built once; placing a series bisects it).
#[derive(Debug, Clone)]
pub struct Ring {
    algorithm: Algorithm,
    replication_factor: usize,
    /// Hashmod: sorted by address. Ketama: configuration order.
    endpoints: Vec<Endpoint>,
    /// Ketama only: section positions, ascending.
    section_hashes: Vec<u64>,
    /// Ketama only: the endpoint (index) each section belongs to.
    section_owners: Vec<u32>,
    /// Ketama only: for each section, `replication_factor` endpoint indices in replica order.
    section_replicas: Vec<u32>,
}

impl Ring {
    /// Builds the ring Thanos builds from these endpoints (in `hashrings.json` order) with
    /// `--receive.replication-factor` = `replication_factor`.
    pub fn new(
        algorithm: Algorithm,
        endpoints: Vec<Endpoint>,
        replication_factor: u64,
    ) -> Result<Ring, PlacementError> {
        if replication_factor == 0 {
            return Err(PlacementError::ZeroReplicationFactor);
        }
        match algorithm {
            Algorithm::Hashmod => hashmod(endpoints, replication_factor),
            Algorithm::Ketama => ketama(endpoints, replication_factor),
        }
    }

    /// Whether [`Ring::new`] builds this ring, without building it when the answer is plain:
    /// a ketama ring of distinct addresses builds exactly when the replication factor is at
    /// most its zones' capacity ([`zone_capacity`]; `zone_capacity_matches_the_walk` holds the
    /// two together). Validation asks at every plan of a router, and a ring of 1,000 sections
    /// per endpoint, walked section by section, is not free. Anything else is built.
    pub fn check(
        algorithm: Algorithm,
        endpoints: &[Endpoint],
        replication_factor: u64,
    ) -> Result<(), PlacementError> {
        if algorithm == Algorithm::Ketama && replication_factor > 0 {
            let mut zone_sizes: BTreeMap<&str, usize> = BTreeMap::new();
            let mut addresses = BTreeSet::new();
            for e in endpoints {
                *zone_sizes.entry(e.zone()).or_default() += 1;
                addresses.insert(e.address.as_str());
            }
            if addresses.len() == endpoints.len()
                && replication_factor <= zone_capacity(zone_sizes.into_values())
            {
                return Ok(());
            }
        }
        Ring::new(algorithm, endpoints.to_vec(), replication_factor).map(|_| ())
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn replication_factor(&self) -> u64 {
        self.replication_factor as u64
    }

    /// The endpoints (hashmod: sorted by address, as Thanos keeps them).
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The endpoints a series is written to, replica 0 first (Thanos's `GetN` for every `n`
    /// below the replication factor). `labels` are (name, value) pairs in request order.
    pub fn replicas<L: AsRef<str>>(&self, tenant: &str, labels: &[(L, L)]) -> Vec<&Endpoint> {
        let hash = series_hash(tenant, labels);
        let rf = self.replication_factor;
        match self.algorithm {
            Algorithm::Hashmod => {
                let len = self.endpoints.len() as u64;
                (0..rf as u64)
                    .map(|n| &self.endpoints[(hash.wrapping_add(n) % len) as usize])
                    .collect()
            }
            Algorithm::Ketama => {
                let mut i = self.section_hashes.partition_point(|&h| h < hash);
                if i == self.section_hashes.len() {
                    i = 0;
                }
                self.section_replicas[i * rf..(i + 1) * rf]
                    .iter()
                    .map(|&e| &self.endpoints[e as usize])
                    .collect()
            }
        }
    }

    /// The distinct addresses that store a series: what a ring change must keep to not move it.
    pub fn ingestors<L: AsRef<str>>(&self, tenant: &str, labels: &[(L, L)]) -> BTreeSet<&str> {
        self.replicas(tenant, labels)
            .into_iter()
            .map(|e| e.address.as_str())
            .collect()
    }
}

/// The value both algorithms place a series by (`labelpb.HashWithPrefix(tenant, labels)`).
pub fn series_hash<L: AsRef<str>>(tenant: &str, labels: &[(L, L)]) -> u64 {
    let mut h = Xxh64::new(0);
    h.update(tenant.as_bytes());
    h.update(&[SEPARATOR]);
    for (name, value) in labels {
        h.update(name.as_ref().as_bytes());
        h.update(&[SEPARATOR]);
        h.update(value.as_ref().as_bytes());
        h.update(&[SEPARATOR]);
    }
    h.digest()
}

fn hashmod(mut endpoints: Vec<Endpoint>, replication_factor: u64) -> Result<Ring, PlacementError> {
    if let Some(e) = endpoints.iter().find(|e| !e.zone().is_empty()) {
        return Err(PlacementError::ZonesWithHashmod {
            address: e.address.clone(),
            az: e.zone().to_owned(),
        });
    }
    if (endpoints.len() as u64) < replication_factor {
        return Err(PlacementError::InsufficientEndpoints {
            have: endpoints.len(),
            want: replication_factor,
        });
    }
    // Entries with equal addresses are equal (no zones here), so any sort gives Thanos's order.
    endpoints.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(Ring {
        algorithm: Algorithm::Hashmod,
        replication_factor: replication_factor as usize,
        endpoints,
        section_hashes: Vec::new(),
        section_owners: Vec::new(),
        section_replicas: Vec::new(),
    })
}

fn ketama(endpoints: Vec<Endpoint>, replication_factor: u64) -> Result<Ring, PlacementError> {
    if (endpoints.len() as u64) < replication_factor {
        return Err(PlacementError::InsufficientEndpoints {
            have: endpoints.len(),
            want: replication_factor,
        });
    }
    let mut zone_of_address: BTreeMap<&str, &str> = BTreeMap::new();
    for e in &endpoints {
        let first = *zone_of_address.entry(&e.address).or_insert(e.zone());
        if first != e.zone() {
            return Err(PlacementError::ConflictingZones {
                address: e.address.clone(),
                first: first.to_owned(),
                second: e.zone().to_owned(),
            });
        }
    }
    // Zone ids in name order; `zone_of[endpoint index]` is one of them.
    let zone_names: BTreeSet<&str> = endpoints.iter().map(Endpoint::zone).collect();
    let zone_names: Vec<&str> = zone_names.into_iter().collect();
    let zone_of: Vec<usize> = endpoints
        .iter()
        .map(|e| zone_names.binary_search(&e.zone()).expect("zone listed"))
        .collect();

    let mut sections: Vec<(u64, u32)> = Vec::with_capacity(endpoints.len() * SECTIONS_PER_ENDPOINT);
    let mut key = String::new();
    for (index, e) in endpoints.iter().enumerate() {
        for k in 1..=SECTIONS_PER_ENDPOINT {
            key.clear();
            write!(key, "{}:{k}", e.address).expect("writing to a String");
            sections.push((xxh64(key.as_bytes(), 0), index as u32));
        }
    }
    // Ties are sections of one address listed twice (same zone, checked above): whichever
    // comes first, the walk meets the same address and zone, so the order of ties is free.
    sections.sort_unstable();

    let rf = replication_factor as usize;
    let mut section_replicas = Vec::with_capacity(sections.len() * rf);
    let mut walk = Walk {
        taken: Vec::with_capacity(rf),
        per_zone: vec![0; zone_names.len()],
    };
    for start in 0..sections.len() {
        if !walk.run(&sections, start, rf, &zone_of) {
            let mut zone_sizes = BTreeMap::new();
            for &z in &zone_of {
                *zone_sizes.entry(zone_names[z].to_owned()).or_insert(0) += 1;
            }
            return Err(PlacementError::ZoneSpreadUnsatisfiable {
                replication_factor,
                capacity: zone_capacity(zone_sizes.values().copied()),
                zone_sizes,
            });
        }
        section_replicas.extend_from_slice(&walk.taken);
    }
    Ok(Ring {
        algorithm: Algorithm::Ketama,
        replication_factor: rf,
        endpoints,
        section_hashes: sections.iter().map(|&(h, _)| h).collect(),
        section_owners: sections.iter().map(|&(_, e)| e).collect(),
        section_replicas,
    })
}

/// The buffers of one section's replica walk, reused from section to section.
struct Walk {
    /// Endpoint indices taken, in replica order.
    taken: Vec<u32>,
    /// Replicas taken per zone id.
    per_zone: Vec<u64>,
}

impl Walk {
    /// The replicas of the series that land on section `start` (`calculateSectionReplicas`):
    /// walk clockwise, take each endpoint not taken yet unless, with several zones, its zone
    /// already holds more replicas than the least-used zone. False when a whole lap takes no
    /// endpoint: nothing changes from lap to lap after that, which is where Thanos loops
    /// forever.
    fn run(&mut self, sections: &[(u64, u32)], start: usize, rf: usize, zone_of: &[usize]) -> bool {
        self.taken.clear();
        self.per_zone.fill(0);
        let zones = self.per_zone.len();
        let mut j = start;
        let mut since_last_take = 0;
        while self.taken.len() < rf {
            if since_last_take == sections.len() {
                return false;
            }
            let endpoint = sections[j].1;
            j = (j + 1) % sections.len();
            since_last_take += 1;
            if self.taken.contains(&endpoint) {
                continue;
            }
            let zone = zone_of[endpoint as usize];
            // Thanos also asks that the zone holds at least one replica, which this implies.
            let least = self.per_zone.iter().copied().min().unwrap_or(0);
            if zones > 1 && self.per_zone[zone] > least {
                continue;
            }
            self.taken.push(endpoint);
            self.per_zone[zone] += 1;
            since_last_take = 0;
        }
        true
    }
}

/// The most replicas ketama can spread over zones of these sizes: every zone can reach the
/// smallest zone's size, and one more where it has the endpoints; with one zone, all of them.
pub fn zone_capacity(zone_sizes: impl IntoIterator<Item = usize>) -> u64 {
    let sizes: Vec<usize> = zone_sizes.into_iter().collect();
    match sizes.iter().min() {
        None => 0,
        Some(_) if sizes.len() == 1 => sizes[0] as u64,
        Some(&smallest) => sizes.iter().map(|&s| s.min(smallest + 1) as u64).sum(),
    }
}

/// One series: a tenant and its labels in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub tenant: String,
    pub labels: Vec<(String, String)>,
}

/// `count` distinct series of `tenant`, always the same ones:
/// `{__name__="thanos_placement_sample", series="<i>"}` for `i` in `0..count`.
pub fn synthetic_series(tenant: &str, count: usize) -> Vec<Series> {
    (0..count)
        .map(|i| Series {
            tenant: tenant.to_owned(),
            labels: vec![
                ("__name__".to_owned(), SAMPLE_METRIC.to_owned()),
                ("series".to_owned(), i.to_string()),
            ],
        })
        .collect()
}

/// How a ring change treats a population of series (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Movement {
    /// Series compared.
    pub series: usize,
    /// Series whose set of ingestor addresses differs after the change.
    pub changed: usize,
    /// Series none of whose ingestors after the change held them before.
    pub disjoint: usize,
}

impl Movement {
    /// Fraction of series whose set of ingestors changes (0 for no series).
    pub fn changed_share(&self) -> f64 {
        share(self.changed, self.series)
    }

    /// Fraction of series that move to only new ingestors (0 for no series).
    pub fn disjoint_share(&self) -> f64 {
        share(self.disjoint, self.series)
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Compares where `before` and `after` put each series.
pub fn movement<'a>(
    before: &Ring,
    after: &Ring,
    series: impl IntoIterator<Item = &'a Series>,
) -> Movement {
    let mut m = Movement::default();
    for s in series {
        let old = before.ingestors(&s.tenant, &s.labels);
        let new = after.ingestors(&s.tenant, &s.labels);
        m.series += 1;
        if old != new {
            m.changed += 1;
        }
        if old.is_disjoint(&new) {
            m.disjoint += 1;
        }
    }
    m
}

/// [`movement`] over `series_per_tenant` [`synthetic_series`] of every tenant.
pub fn sampled_movement(
    before: &Ring,
    after: &Ring,
    tenants: &[&str],
    series_per_tenant: usize,
) -> Movement {
    let mut total = Movement::default();
    for tenant in tenants {
        let m = movement(before, after, &synthetic_series(tenant, series_per_tenant));
        total.series += m.series;
        total.changed += m.changed;
        total.disjoint += m.disjoint;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pods(n: usize) -> Vec<Endpoint> {
        (0..n)
            .map(|i| Endpoint::new(format!("ingestor-{i}.ingestor.monitoring.svc:10901")))
            .collect()
    }

    fn ring(algorithm: Algorithm, endpoints: Vec<Endpoint>, rf: u64) -> Ring {
        Ring::new(algorithm, endpoints, rf).unwrap()
    }

    const TENANTS: &[&str] = &["default-tenant", "team-a", "team-b"];
    const PER_TENANT: usize = 4000;

    fn grown(algorithm: Algorithm, n: usize, rf: u64) -> Movement {
        let before = ring(algorithm, pods(n), rf);
        let after = ring(algorithm, pods(n + 1), rf);
        sampled_movement(&before, &after, TENANTS, PER_TENANT)
    }

    fn assert_near(what: &str, got: f64, want: f64, tolerance: f64) {
        assert!(
            (got - want).abs() <= tolerance,
            "{what}: got {got:.4}, want {want:.4} ± {tolerance}"
        );
    }

    #[test]
    fn hashmod_growth_moves_most_series() {
        // A series stays only where hash mod N == hash mod N+1: about 1 in N+1.
        for n in [1, 2, 3, 5, 8] {
            let m = grown(Algorithm::Hashmod, n, 1);
            assert_eq!(m.series, TENANTS.len() * PER_TENANT);
            let want = n as f64 / (n + 1) as f64;
            assert_near(
                &format!("hashmod {n}→{}", n + 1),
                m.changed_share(),
                want,
                0.02,
            );
            // with one replica, a changed set is a disjoint one
            assert_eq!(m.changed, m.disjoint);
        }
    }

    #[test]
    fn ketama_growth_moves_about_one_share() {
        // Only series whose section now belongs to the new endpoint move: about 1/(N+1) (the
        // 1000 sections per endpoint leave a few percent of unevenness).
        for n in [1, 2, 3, 5, 8] {
            let m = grown(Algorithm::Ketama, n, 1);
            let want = 1.0 / (n + 1) as f64;
            assert_near(
                &format!("ketama {n}→{}", n + 1),
                m.changed_share(),
                want,
                0.03,
            );
            assert_eq!(m.changed, m.disjoint);
        }
    }

    #[test]
    fn ketama_growth_with_replicas() {
        // With 3 replicas a series' set changes when the new endpoint is among the first three
        // met: about 3/(N+1); it never loses all of its ingestors at once.
        for n in [3, 5, 8] {
            let m = grown(Algorithm::Ketama, n, 3);
            let want = 3.0 / (n + 1) as f64;
            assert_near(
                &format!("ketama rf3 {n}→{}", n + 1),
                m.changed_share(),
                want,
                0.04,
            );
            assert_eq!(m.disjoint, 0);
        }
    }

    #[test]
    fn unchanged_ring_moves_nothing() {
        for algorithm in [Algorithm::Hashmod, Algorithm::Ketama] {
            let a = ring(algorithm, pods(4), 2);
            let mut reordered = pods(4);
            reordered.reverse();
            let b = ring(algorithm, reordered, 2);
            let m = sampled_movement(&a, &b, TENANTS, 1000);
            assert_eq!((m.series, m.changed, m.disjoint), (3000, 0, 0));
        }
        let empty = ring(Algorithm::Hashmod, pods(1), 1);
        assert_eq!(
            sampled_movement(&empty, &empty, &[], 10).changed_share(),
            0.0
        );
    }

    #[test]
    fn synthetic_population_is_fixed() {
        let s = synthetic_series("t", 3);
        assert_eq!(s.len(), 3);
        assert_eq!(s, synthetic_series("t", 3));
        assert_eq!(s[2].labels[1], ("series".to_owned(), "2".to_owned()));
    }

    #[test]
    fn refused_rings() {
        use PlacementError::*;
        let err = |alg, eps, rf| Ring::new(alg, eps, rf).unwrap_err();
        assert_eq!(err(Algorithm::Ketama, pods(3), 0), ZeroReplicationFactor);
        assert_eq!(
            err(Algorithm::Hashmod, pods(2), 3),
            InsufficientEndpoints { have: 2, want: 3 }
        );
        assert!(matches!(
            err(Algorithm::Hashmod, vec![Endpoint::with_az("x:1", "a")], 1),
            ZonesWithHashmod { .. }
        ));
        // an empty az is no zone, as in Thanos
        Ring::new(Algorithm::Hashmod, vec![Endpoint::with_az("x:1", "")], 1).unwrap();
        let conflicting = vec![Endpoint::with_az("x:1", "a"), Endpoint::with_az("x:1", "b")];
        assert!(matches!(
            err(Algorithm::Ketama, conflicting, 1),
            ConflictingZones { .. }
        ));
    }

    /// The closed form of the capacity agrees with the walk that detects Thanos's endless
    /// loop, for every layout of up to three zones of up to three endpoints.
    #[test]
    fn zone_capacity_matches_the_walk() {
        let mut layouts = Vec::new();
        for a in 1..=3usize {
            for b in 0..=3usize {
                for c in 0..=if b == 0 { 0 } else { 3 } {
                    layouts.push([a, b, c]);
                }
            }
        }
        for sizes in layouts {
            let mut eps = Vec::new();
            for (zone, &size) in ["a", "b", "c"].iter().zip(&sizes) {
                for i in 0..size {
                    eps.push(Endpoint::with_az(format!("{zone}-{i}:10901"), *zone));
                }
            }
            let capacity = zone_capacity(sizes.iter().copied().filter(|&s| s > 0));
            for rf in 1..=eps.len() as u64 {
                let built = Ring::new(Algorithm::Ketama, eps.clone(), rf);
                match built {
                    Ok(_) => assert!(rf <= capacity, "{sizes:?} rf {rf}"),
                    Err(PlacementError::ZoneSpreadUnsatisfiable { capacity: c, .. }) => {
                        assert!(rf > capacity, "{sizes:?} rf {rf}");
                        assert_eq!(c, capacity);
                    }
                    Err(e) => panic!("{sizes:?} rf {rf}: {e}"),
                }
            }
        }
    }

    /// `check` answers as `new` does, also where it does not build: zones, repeated
    /// addresses, conflicting zones, too few endpoints, hashmod.
    #[test]
    fn check_answers_as_building_does() {
        let e = |address: &str, zone: &str| Endpoint::with_az(format!("{address}:10901"), zone);
        let layouts: Vec<Vec<Endpoint>> = vec![
            vec![],
            vec![e("a", "")],
            vec![e("a", ""), e("b", ""), e("c", "")],
            vec![e("a", ""), e("a", ""), e("b", "")],
            vec![e("a", "x"), e("a", "y")],
            vec![e("a", "x"), e("b", "x"), e("c", "y")],
            vec![e("a", "x"), e("b", "x"), e("c", "x"), e("d", "y")],
            vec![
                e("a", "x"),
                e("b", "y"),
                e("c", "z"),
                e("d", "z"),
                e("f", "z"),
            ],
        ];
        for eps in layouts {
            for algorithm in [Algorithm::Ketama, Algorithm::Hashmod] {
                for rf in 0..=eps.len() as u64 + 1 {
                    assert_eq!(
                        Ring::check(algorithm, &eps, rf),
                        Ring::new(algorithm, eps.clone(), rf).map(|_| ()),
                        "{algorithm:?} rf {rf} {eps:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn zones_spread_replicas() {
        // 3 zones × 2 endpoints, 3 replicas: always one per zone.
        let eps: Vec<Endpoint> = (0..6)
            .map(|i| Endpoint::with_az(format!("i-{i}:10901"), ["a", "b", "c"][i % 3]))
            .collect();
        let r = ring(Algorithm::Ketama, eps, 3);
        for s in synthetic_series("t", 500) {
            let zones: BTreeSet<&str> = r
                .replicas(&s.tenant, &s.labels)
                .iter()
                .map(|e| e.zone())
                .collect();
            assert_eq!(zones.len(), 3);
        }
    }
}
