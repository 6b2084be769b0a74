//! `hashrings.json` from a router's rings, and what the plan says about them: rings a router
//! would refuse (errors), shards that fail their tenants' writes, and discovered rings too
//! small for the replication factor (warnings).

use super::*;

/// Computed `hashrings`: exactly what `hashrings.json` contains. Static rings use their
/// endpoints; selector rings take `discovered[ring name]`; a selector ring missing from
/// `discovered` is [`Error::Undiscovered`] (the resources layer plans it as "known after
/// apply").
pub fn hashrings(router: &Router, discovered: &Discovered) -> Result<Vec<HashringEntry>, Error> {
    router
        .rings()
        .into_iter()
        .map(|(_, ring)| {
            let endpoints = match &ring.members {
                Members::Static(e) => e.clone(),
                Members::Selected(_) => {
                    discovered
                        .get(&ring.name)
                        .cloned()
                        .ok_or_else(|| Error::Undiscovered {
                            ring: ring.name.clone(),
                        })?
                }
            };
            Ok(ring.entry(&endpoints))
        })
        .collect()
}

/// The algorithm a router is started with (`--receive.hashrings-algorithm`): `ketama` when
/// every ring is ketama, else Thanos's default, `hashmod`. Every ketama ring names its
/// algorithm in the file anyway; the flag matters to a router + ingestor, which flushes its
/// TSDB head (and is not ready meanwhile) on every ring change unless the flag is ketama
/// (`startTSDBAndUpload` in `cmd/thanos/receive.go`): ketama moves few series, so that flush
/// is not needed.
pub fn default_algorithm(router: &Router) -> Algorithm {
    let rings = router.rings();
    if !rings.is_empty() && rings.iter().all(|(_, r)| r.algorithm == Algorithm::Ketama) {
        Algorithm::Ketama
    } else {
        Algorithm::Hashmod
    }
}

/// What a router would do with these rings (one entry per ring of `router`, in order), as
/// findings at the rings' paths: the rings Thanos refuses to load (a router given such a
/// file exits), and the shards that fail every write of their tenants.
pub fn ring_findings(router: &Router, entries: &[HashringEntry]) -> Vec<Invalid> {
    let rf = router.replication_factor.max(0) as u64;
    let mut r = Report::default();
    for ((path, ring), entry) in router.rings().into_iter().zip(entries) {
        let members = path.attr(match ring.members {
            Members::Static(_) => "endpoints",
            Members::Selected(_) => "endpoints_selector",
        });
        let n = entry.endpoints.len();
        if n == 0 {
            continue;
        }
        if let Err((_, e)) = MultiRing::check(std::slice::from_ref(entry), Algorithm::Hashmod, rf) {
            // A router loads a hashmod ring smaller than the replication factor (and fails
            // its writes): static rings are refused by validation, discovered ones warned of
            // (`discovery_warnings`).
            if ring.algorithm == Algorithm::Hashmod
                && matches!(e, PlacementError::InsufficientEndpoints { .. })
            {
                continue;
            }
            let (at, summary) = match &e {
                PlacementError::ZonesWithHashmod { .. } => {
                    (path.attr("endpoint_zones"), "Zones on a hashmod ring")
                }
                PlacementError::ConflictingZones { .. }
                | PlacementError::ZoneSpreadUnsatisfiable { .. } => (
                    path.attr("endpoint_zones"),
                    "Zones cannot hold the replicas",
                ),
                PlacementError::ShuffleWithHashmod => (
                    path.attr("shuffle_sharding"),
                    "Shuffle sharding on a hashmod ring",
                ),
                PlacementError::ShardLargerThanRing { .. } => (
                    path.attr("shuffle_sharding").attr("shard_size"),
                    "Shard larger than the hashring",
                ),
                PlacementError::InsufficientEndpoints { .. }
                | PlacementError::ZeroReplicationFactor => (
                    members.clone(),
                    "Hashring smaller than the replication factor",
                ),
            };
            r.push(
                &at,
                summary,
                format!(
                    "hashring {:?}: {e}; a router refuses to load such a hashrings.json and exits",
                    ring.name
                ),
            );
            continue;
        }
        if let Some(s) = &entry.shuffle_sharding {
            shard_findings(ring, entry, s, rf, &path.attr("shuffle_sharding"), &mut r);
        }
    }
    r.0
}

/// Shard sizes that fail every write of their tenants: smaller than the replication factor,
/// or taking more endpoints from a zone than it has (zone-aware shards only).
fn shard_findings(
    ring: &Hashring,
    entry: &HashringEntry,
    s: &ShuffleSharding,
    rf: u64,
    path: &Path,
    r: &mut Report,
) {
    // Without zone awareness the shard is drawn from all endpoints as one zone.
    let mut zones: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for e in &entry.endpoints {
        let zone = if s.zone_awareness_disabled {
            ""
        } else {
            e.zone()
        };
        zones.entry(zone).or_default().insert(e.address.as_str());
    }
    let sizes = std::iter::once((path.attr("shard_size"), s.shard_size)).chain(
        s.overrides.iter().enumerate().map(|(i, o)| {
            (
                path.attr("overrides").index(i).attr("shard_size"),
                o.shard_size,
            )
        }),
    );
    for (at, size) in sizes {
        if (size as u64) < rf {
            r.push(
                &at,
                "Shard smaller than the replication factor",
                format!(
                    "hashring {:?}: a shard of {size} endpoint(s) cannot hold {rf} replicas of a series: every write of its tenants would fail",
                    ring.name
                ),
            );
            continue;
        }
        let take = placement::shard_take(size, zones.len());
        if let Some((zone, have)) = zones
            .iter()
            .map(|(z, eps)| (*z, eps.len()))
            .find(|&(_, have)| take > have)
        {
            let zone = if zone.is_empty() {
                "without an az".to_owned()
            } else {
                format!("{zone:?}")
            };
            r.push(
                &at,
                "Shard larger than a zone",
                format!(
                    "hashring {:?}: a shard of {size} takes {take} endpoint(s) from each of its {} zone(s), but zone {zone} has {have}: every write of its tenants would fail",
                    ring.name,
                    zones.len()
                ),
            );
        }
    }
}

/// Warnings about discovered rings (never errors: membership is only known at apply time):
/// a discovered ring with fewer endpoints than the replication factor cannot accept writes.
pub fn discovery_warnings(router: &Router, discovered: &Discovered) -> Vec<Invalid> {
    let rf = router.replication_factor;
    let mut r = Report::default();
    for (path, ring) in router.rings() {
        if !matches!(ring.members, Members::Selected(_)) {
            continue;
        }
        let Some(found) = discovered.get(&ring.name) else {
            continue;
        };
        let n = hashring::sorted_unique(found).len();
        // A smaller ketama ring is an error (a router refuses it): see `ring_findings`.
        if (n as i64) < rf && ring.algorithm == Algorithm::Hashmod {
            r.push(
                &path.attr("endpoints_selector"),
                "Hashring smaller than the replication factor",
                format!(
                    "hashring {:?} selects {n} ready endpoint(s) but replication_factor is {rf}: writes to its tenants fail until enough members are ready",
                    ring.name
                ),
            );
        }
    }
    r.0
}
