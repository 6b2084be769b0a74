//! What a change to one ring costs: who joins, who leaves, and what share of the ring's series
//! will be written to a different set of ingestors afterwards (for the ring's algorithm,
//! replication factor, zones and shuffle sharding, before and after).
//!
//! A series whose set of ingestors changes starts a new head series on every ingestor that did
//! not hold it (memory and index churn there) while its older samples stay where they were
//! until uploaded or expired; queries keep seeing both. A series none of whose ingestors held
//! it before (*disjoint*) also leaves its recent history on ingestors that no longer receive
//! it: with an ingestor that leaves without object storage, that history goes with it.
//!
//! The share is measured on [`super::synthetic_series`] of sample tenants: the tenants a ring
//! lists exactly (they are the only ones it serves), or [`SAMPLE_TENANTS`] synthetic ones for
//! a ring that serves every tenant or matches globs. The hash spreads any distinct label sets
//! uniformly, so the share of the sample estimates the share of real series; with shuffle
//! sharding each tenant has its own shard, and the estimate is the average over the sample
//! tenants.

use std::collections::{BTreeMap, BTreeSet};

use super::{Algorithm, Movement, MultiRing, movement, synthetic_series};
use crate::hashring::{HashringEntry, TenantMatcher};

/// Synthetic tenants measured for a ring that does not list its tenants exactly.
pub const SAMPLE_TENANTS: usize = 16;

/// Series measured in all (spread over the sample tenants): the estimate is within about one
/// percentage point.
pub const SAMPLE_SERIES: usize = 16_000;

/// One side of a ring change: the ring's entry in `hashrings.json` as the router reads it.
#[derive(Debug, Clone, Copy)]
pub struct RingSide<'a> {
    pub entry: &'a HashringEntry,
    /// The router's `--receive.hashrings-algorithm` (for an entry without `algorithm`).
    pub default_algorithm: Algorithm,
    pub replication_factor: u64,
}

impl RingSide<'_> {
    pub fn algorithm(&self) -> Algorithm {
        self.entry.algorithm_or(self.default_algorithm)
    }
}

/// What changing a ring from `before` to `after` does.
#[derive(Debug, Clone, PartialEq)]
pub struct RingChange {
    /// Addresses only in the new ring, sorted.
    pub joined: Vec<String>,
    /// Addresses only in the old ring, sorted.
    pub left: Vec<String>,
    /// How the sample's series move (`None` when one side cannot place series at all: an
    /// empty ring, or a ring Thanos refuses, which validation reports).
    pub movement: Option<Movement>,
    /// The tenants measured.
    pub tenants: Vec<String>,
}

impl RingChange {
    /// Whether anything about placement changed.
    pub fn moves_series(&self) -> bool {
        self.movement.is_some_and(|m| m.changed > 0)
    }
}

/// The tenants measured for a ring: its exact tenants (at most [`SAMPLE_TENANTS`]), else
/// synthetic ones.
pub fn sample_tenants(entry: &HashringEntry) -> Vec<String> {
    if entry.tenant_matcher == TenantMatcher::Exact && !entry.tenants.is_empty() {
        entry.tenants.iter().take(SAMPLE_TENANTS).cloned().collect()
    } else {
        (0..SAMPLE_TENANTS).map(|i| format!("tenant-{i}")).collect()
    }
}

/// The cost of changing one ring (see the module docs).
pub fn ring_change(before: RingSide<'_>, after: RingSide<'_>) -> RingChange {
    let old: BTreeSet<String> = before.entry.addresses().into_iter().collect();
    let new: BTreeSet<String> = after.entry.addresses().into_iter().collect();
    let tenants = sample_tenants(after.entry);
    let movement = measure(before, after, &tenants);
    RingChange {
        joined: new.difference(&old).cloned().collect(),
        left: old.difference(&new).cloned().collect(),
        movement,
        tenants,
    }
}

fn measure(before: RingSide<'_>, after: RingSide<'_>, tenants: &[String]) -> Option<Movement> {
    let build = |side: RingSide<'_>| {
        // Only this ring's own placement matters: build it alone, serving every tenant.
        let mut alone = side.entry.clone();
        alone.tenants.clear();
        MultiRing::new(
            std::slice::from_ref(&alone),
            side.default_algorithm,
            side.replication_factor,
        )
        .ok()
    };
    let (old, new) = (build(before)?, build(after)?);
    let per_tenant = (SAMPLE_SERIES / tenants.len().max(1)).max(1);
    let mut total = Movement::default();
    for tenant in tenants {
        // A tenant that one side cannot place (its shard cannot be built) is not measured:
        // validation reports such rings.
        let (Ok(a), Ok(b)) = (old.for_tenant(tenant), new.for_tenant(tenant)) else {
            continue;
        };
        let m = movement(&a.ring, &b.ring, &synthetic_series(tenant, per_tenant));
        total.series += m.series;
        total.changed += m.changed;
        total.disjoint += m.disjoint;
    }
    (total.series > 0).then_some(total)
}

/// Series measured for one tenant that changes rings.
pub const SAMPLE_SERIES_PER_MOVED_TENANT: usize = 1_000;

/// A whole `hashrings.json` on one side of a change, as a router reads it.
#[derive(Debug, Clone, Copy)]
pub struct FileSide<'a> {
    pub entries: &'a [HashringEntry],
    /// The router's `--receive.hashrings-algorithm` (for entries without `algorithm`).
    pub default_algorithm: Algorithm,
    pub replication_factor: u64,
}

/// A tenant that a different ring serves after the change: a hard ring added or removed, or
/// a tenant moved from one ring's list to another's.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantMove {
    pub tenant: String,
    /// The ring that served it before, and the one after (`None`: no ring serves it, so its
    /// writes fail on that side).
    pub from: Option<String>,
    pub to: Option<String>,
    /// How its sample series move (`None` when one side cannot place them).
    pub movement: Option<Movement>,
}

/// Every tenant listed exactly by a ring on either side whose serving ring changes
/// (Thanos's choice: the first ring whose tenants match, else the ring without tenants),
/// other than to the same ring under a new name (`renamed`: new name → old name). A
/// changed ring that keeps its tenants is [`ring_change`]'s; this is the part it cannot see.
/// Tenants matched only by globs or by a ring without tenants cannot be listed, and are not.
/// Empty when either file cannot be built (validation reports why).
pub fn tenant_moves(
    before: FileSide<'_>,
    after: FileSide<'_>,
    renamed: &BTreeMap<String, String>,
) -> Vec<TenantMove> {
    // The same file placed the same way serves every tenant from the same ring, so nothing
    // moves; every plan of an unchanged router asks, and building the rings costs.
    if before.entries == after.entries
        && before.default_algorithm == after.default_algorithm
        && before.replication_factor == after.replication_factor
    {
        return Vec::new();
    }
    let build = |side: FileSide<'_>| {
        MultiRing::new(
            side.entries,
            side.default_algorithm,
            side.replication_factor,
        )
        .ok()
    };
    let (Some(old), Some(new)) = (build(before), build(after)) else {
        return Vec::new();
    };
    let tenants: BTreeSet<&str> = before
        .entries
        .iter()
        .chain(after.entries)
        .filter(|e| e.tenant_matcher == TenantMatcher::Exact)
        .flat_map(|e| e.tenants.iter().map(String::as_str))
        .collect();
    let mut out = Vec::new();
    for tenant in tenants {
        let (a, b) = (old.for_tenant(tenant), new.for_tenant(tenant));
        let from = old.ring_name(tenant).ok().map(str::to_owned);
        let to = new.ring_name(tenant).ok().map(str::to_owned);
        let same = match (&from, &to) {
            (Some(f), Some(t)) => f == t || renamed.get(t) == Some(f),
            (None, None) => true,
            _ => false,
        };
        if same {
            continue;
        }
        let movement = match (a, b) {
            (Ok(a), Ok(b)) => Some(movement(
                &a.ring,
                &b.ring,
                &synthetic_series(tenant, SAMPLE_SERIES_PER_MOVED_TENANT),
            )),
            _ => None,
        };
        out.push(TenantMove {
            tenant: tenant.to_owned(),
            from,
            to,
            movement,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashring::ShuffleSharding;

    fn pods(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("ingestor-{i}.ingestor.monitoring.svc:10901"))
            .collect()
    }

    fn ring(n: usize, algorithm: Algorithm) -> HashringEntry {
        let mut e = HashringEntry::new("default", &[], &pods(n));
        e.algorithm = Some(algorithm);
        e
    }

    fn side(entry: &HashringEntry, rf: u64) -> RingSide<'_> {
        RingSide {
            entry,
            default_algorithm: Algorithm::Hashmod,
            replication_factor: rf,
        }
    }

    #[test]
    fn growth_by_one_costs_what_the_algorithm_says() {
        for (algorithm, rf, want) in [
            (Algorithm::Hashmod, 1, 3.0 / 4.0),
            (Algorithm::Ketama, 1, 1.0 / 4.0),
            (Algorithm::Ketama, 2, 2.0 / 4.0),
        ] {
            let (a, b) = (ring(3, algorithm), ring(4, algorithm));
            let c = ring_change(side(&a, rf), side(&b, rf));
            assert_eq!(c.joined, vec![pods(4)[3].clone()]);
            assert!(c.left.is_empty());
            let share = c.movement.unwrap().changed_share();
            assert!(
                (share - want).abs() < 0.04,
                "{algorithm:?} rf {rf}: {share} vs {want}"
            );
        }
    }

    #[test]
    fn nothing_changes_nothing_moves() {
        let a = ring(3, Algorithm::Ketama);
        let c = ring_change(side(&a, 2), side(&a, 2));
        assert!(!c.moves_series());
        assert!(c.joined.is_empty() && c.left.is_empty());
    }

    #[test]
    fn an_algorithm_change_moves_series_without_membership_change() {
        let (a, b) = (ring(4, Algorithm::Hashmod), ring(4, Algorithm::Ketama));
        let c = ring_change(side(&a, 1), side(&b, 1));
        assert!(c.joined.is_empty() && c.left.is_empty());
        assert!(c.movement.unwrap().changed_share() > 0.5);
    }

    #[test]
    fn shuffle_sharding_keeps_most_tenants_shards() {
        let mut a = ring(8, Algorithm::Ketama);
        a.shuffle_sharding = Some(ShuffleSharding {
            shard_size: 3,
            cache_size: 0,
            overrides: Vec::new(),
            zone_awareness_disabled: false,
        });
        let mut b = a.clone();
        b.endpoints = ring(9, Algorithm::Ketama).endpoints;
        let c = ring_change(side(&a, 1), side(&b, 1));
        assert_eq!(c.tenants.len(), SAMPLE_TENANTS);
        let share = c.movement.unwrap().changed_share();
        // A new endpoint enters a tenant's shard only where it wins a draw.
        assert!(share > 0.0 && share < 0.6, "{share}");
    }

    #[test]
    fn an_unbuildable_side_is_not_measured() {
        let a = ring(1, Algorithm::Ketama);
        let b = ring(3, Algorithm::Ketama);
        // One endpoint cannot hold 2 replicas.
        assert_eq!(ring_change(side(&a, 2), side(&b, 2)).movement, None);
    }

    #[test]
    fn listed_tenants_are_the_sample() {
        let e = HashringEntry::new("r", &["b".into(), "a".into()], &pods(2));
        assert_eq!(sample_tenants(&e), vec!["a".to_owned(), "b".to_owned()]);
    }

    fn tenants_ring(name: &str, tenants: &[&str], n: usize) -> HashringEntry {
        let tenants: Vec<String> = tenants.iter().map(|t| (*t).to_owned()).collect();
        let mut e = HashringEntry::new(name, &tenants, &pods(n));
        e.algorithm = Some(Algorithm::Ketama);
        e
    }

    fn file(entries: &[HashringEntry]) -> FileSide<'_> {
        FileSide {
            entries,
            default_algorithm: Algorithm::Ketama,
            replication_factor: 1,
        }
    }

    #[test]
    fn a_new_hard_ring_takes_its_tenant_out_of_the_soft_ring() {
        let before = vec![ring(3, Algorithm::Ketama)];
        let mut other = tenants_ring("team-a", &["team-a"], 2);
        for e in &mut other.endpoints {
            e.address = e.address.replace("ingestor-", "other-");
        }
        let after = vec![other, ring(3, Algorithm::Ketama)];
        let moves = tenant_moves(file(&before), file(&after), &BTreeMap::new());
        assert_eq!(moves.len(), 1, "{moves:#?}");
        let m = &moves[0];
        assert_eq!(m.tenant, "team-a");
        assert_eq!(m.from.as_deref(), Some("default"));
        assert_eq!(m.to.as_deref(), Some("team-a"));
        // Disjoint ingestors: every series of the tenant moves, and none keeps an ingestor.
        let mv = m.movement.unwrap();
        assert_eq!(mv.series, SAMPLE_SERIES_PER_MOVED_TENANT);
        assert_eq!((mv.changed, mv.disjoint), (mv.series, mv.series));
    }

    #[test]
    fn a_renamed_ring_keeps_its_tenants_where_they_were() {
        let before = vec![
            tenants_ring("old", &["team-a"], 3),
            ring(2, Algorithm::Ketama),
        ];
        let after = vec![
            tenants_ring("new", &["team-a"], 3),
            ring(2, Algorithm::Ketama),
        ];
        let renamed = BTreeMap::from([("new".to_owned(), "old".to_owned())]);
        assert!(tenant_moves(file(&before), file(&after), &renamed).is_empty());
        // Without the pairing it is a move, to the same ingestors: nothing changes placement.
        let moves = tenant_moves(file(&before), file(&after), &BTreeMap::new());
        assert_eq!(moves.len(), 1);
        assert_eq!(moves[0].movement.unwrap().changed, 0);
    }

    #[test]
    fn a_tenant_no_ring_serves_any_more_is_a_move_to_nowhere() {
        let before = vec![
            tenants_ring("team-a", &["team-a"], 2),
            ring(2, Algorithm::Ketama),
        ];
        let after = vec![tenants_ring("team-b", &["team-b"], 2)];
        let moves = tenant_moves(file(&before), file(&after), &BTreeMap::new());
        let a = moves.iter().find(|m| m.tenant == "team-a").unwrap();
        assert_eq!((a.from.as_deref(), a.to.as_deref()), (Some("team-a"), None));
        assert_eq!(a.movement, None);
        let b = moves.iter().find(|m| m.tenant == "team-b").unwrap();
        assert_eq!(
            (b.from.as_deref(), b.to.as_deref()),
            (Some("default"), Some("team-b"))
        );
    }
}
