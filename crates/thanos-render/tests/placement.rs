//! `thanos_render::placement` against Thanos's own hashring code: every placement recorded in
//! `placement_vectors/vectors.json` (written by the Go generator beside it, see its README)
//! must come out the same, and so must every refused or hanging ring: single rings, whole
//! `hashrings.json` files (tenant matching, shuffle sharding, zones), and Go's `math/rand`,
//! which shuffle sharding draws from. A second set of tests perturbs the vectors and proves
//! the comparison notices.

use serde::Deserialize;
use thanos_render::hashring::HashringEntry;
use thanos_render::placement::{
    Algorithm, Endpoint, GoRand, MultiRing, PlacementError, Ring, series_hash,
};

#[derive(Debug, Clone, Deserialize)]
struct Vectors {
    thanos: String,
    series: Vec<VectorSeries>,
    rings: Vec<VectorRing>,
    files: Vec<VectorFile>,
    go_rand: Vec<GoRandCase>,
}

/// A whole `hashrings.json` and where Thanos writes each tenant's series.
#[derive(Debug, Clone, Deserialize)]
struct VectorFile {
    name: String,
    replication_factor: u64,
    config: serde_json::Value,
    tenants: Vec<String>,
    series: usize,
    addresses: Vec<String>,
    outcome: String,
    #[serde(default)]
    error: String,
    /// Per tenant: "" or the error of its writes.
    #[serde(default)]
    tenant_errors: Vec<String>,
    /// Per tenant, per series: replicas as indices into `addresses`.
    #[serde(default)]
    replicas: Vec<Option<Vec<Vec<usize>>>>,
}

#[derive(Debug, Clone, Deserialize)]
struct GoRandCase {
    seed: i64,
    outputs: Vec<u64>,
}

#[derive(Debug, Clone, Deserialize)]
struct VectorSeries {
    tenant: String,
    labels: Vec<(String, String)>,
    hash: u64,
}

#[derive(Debug, Clone, Deserialize)]
struct VectorRing {
    name: String,
    algorithm: String,
    replication_factor: u64,
    endpoints: Vec<VectorEndpoint>,
    outcome: String,
    #[serde(default)]
    error: String,
    /// Per series, the chosen endpoints as positions in `endpoints` (the first with that
    /// address).
    #[serde(default)]
    replicas: Vec<Vec<usize>>,
}

#[derive(Debug, Clone, Deserialize)]
struct VectorEndpoint {
    address: String,
    #[serde(default)]
    az: String,
}

fn vectors() -> Vectors {
    let path = format!(
        "{}/tests/placement_vectors/vectors.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn build(v: &VectorRing) -> Result<Ring, PlacementError> {
    let algorithm = match v.algorithm.as_str() {
        "hashmod" => Algorithm::Hashmod,
        "ketama" => Algorithm::Ketama,
        other => panic!("{}: unknown algorithm {other}", v.name),
    };
    let endpoints = v
        .endpoints
        .iter()
        .map(|e| match e.az.as_str() {
            "" => Endpoint::new(&e.address),
            az => Endpoint::with_az(&e.address, az),
        })
        .collect();
    Ring::new(algorithm, endpoints, v.replication_factor)
}

/// Checks one ring of the vectors: `Ok(placements compared)`, or every disagreement.
fn check_ring(v: &VectorRing, series: &[VectorSeries]) -> Result<usize, Vec<String>> {
    check_built(v, &build(v), series)
}

/// [`check_ring`] with the ring already built from `v`'s configuration.
fn check_built(
    v: &VectorRing,
    built: &Result<Ring, PlacementError>,
    series: &[VectorSeries],
) -> Result<usize, Vec<String>> {
    let ring = match (v.outcome.as_str(), built) {
        ("ok", Ok(ring)) => ring,
        ("error", Err(e)) if same_refusal(&v.error, e) => return Ok(0),
        ("hangs", Err(PlacementError::ZoneSpreadUnsatisfiable { .. })) => return Ok(0),
        (outcome, built) => {
            return Err(vec![format!(
                "{}: Thanos: {outcome} {:?}; here: {:?}",
                v.name,
                v.error,
                built.as_ref().map(|_| "built")
            )]);
        }
    };
    if v.replicas.len() != series.len() {
        return Err(vec![format!(
            "{}: vector has no placement per series",
            v.name
        )]);
    }
    let mut wrong = Vec::new();
    for (s, want) in series.iter().zip(&v.replicas) {
        let got: Vec<&str> = ring
            .replicas(&s.tenant, &s.labels)
            .iter()
            .map(|e| e.address.as_str())
            .collect();
        let want: Vec<&str> = want
            .iter()
            .map(|&i| v.endpoints[i].address.as_str())
            .collect();
        if got != want {
            wrong.push(format!(
                "{}: tenant {:?} labels {:?}: Thanos {want:?}, here {got:?}",
                v.name, s.tenant, s.labels
            ));
        }
    }
    if wrong.is_empty() {
        Ok(series.len())
    } else {
        Err(wrong)
    }
}

/// Whether a refusal here is the one Thanos reported (by its message).
fn same_refusal(thanos: &str, here: &PlacementError) -> bool {
    match here {
        PlacementError::InsufficientEndpoints { .. } => {
            thanos.starts_with("insufficient nodes")
                || thanos.contains("amount of endpoints needs to be larger")
        }
        PlacementError::ZonesWithHashmod { .. } => {
            thanos.contains("does not support AZ aware hashring")
        }
        _ => false,
    }
}

fn check_hashes(series: &[VectorSeries]) -> Vec<String> {
    series
        .iter()
        .filter(|s| series_hash(&s.tenant, &s.labels) != s.hash)
        .map(|s| format!("hash of {:?} {:?}", s.tenant, s.labels))
        .collect()
}

#[test]
fn vectors_come_from_the_pinned_thanos() {
    let env = format!("{}/../../tools/versions.env", env!("CARGO_MANIFEST_DIR"));
    let env = std::fs::read_to_string(&env).unwrap_or_else(|e| panic!("{env}: {e}"));
    let pinned = env
        .lines()
        .find_map(|l| l.strip_prefix("THANOS_VERSION="))
        .expect("THANOS_VERSION in tools/versions.env");
    assert_eq!(
        vectors().thanos,
        pinned,
        "regenerate tests/placement_vectors (see its README)"
    );
}

#[test]
fn series_hashes_agree_with_thanos() {
    let v = vectors();
    assert_eq!(check_hashes(&v.series), Vec::<String>::new());
}

#[test]
fn every_placement_agrees_with_thanos() {
    let v = vectors();
    let mut compared = 0;
    let mut wrong = Vec::new();
    for ring in &v.rings {
        match check_ring(ring, &v.series) {
            Ok(n) => compared += n,
            Err(w) => wrong.extend(w),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements, first: {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    // The file covers what it claims (a regeneration that lost cases would show here).
    let outcomes = |o: &str| v.rings.iter().filter(|r| r.outcome == o).count();
    assert!(compared >= 50_000, "only {compared} placements compared");
    assert!(outcomes("error") >= 10 && outcomes("hangs") >= 3);
    assert!(
        v.rings
            .iter()
            .any(|r| r.endpoints.iter().any(|e| !e.az.is_empty()))
    );
    eprintln!(
        "{compared} placements of {} series on {} rings agree with Thanos {} ({} refused, {} hanging)",
        v.series.len(),
        v.rings.len(),
        v.thanos,
        outcomes("error"),
        outcomes("hangs")
    );
}

/// The rings whose series land on more than one address: where a wrong expectation is possible.
fn spread_rings(v: &Vectors) -> Vec<VectorRing> {
    v.rings
        .iter()
        .filter(|r| {
            r.outcome == "ok" && {
                let mut a: Vec<&str> = r.endpoints.iter().map(|e| e.address.as_str()).collect();
                a.sort();
                a.dedup();
                a.len() > 1
            }
        })
        .cloned()
        .collect()
}

#[test]
fn a_wrong_expected_endpoint_is_caught() {
    let v = vectors();
    let rings = spread_rings(&v);
    assert!(rings.len() > 40);
    for ring in rings {
        let built = build(&ring);
        // Series after series (a sample, as each check places all of them), one expects a
        // different endpoint for its last replica.
        for k in (0..v.series.len()).step_by(37) {
            let mut bad = ring.clone();
            let last = bad.replicas[k].last_mut().unwrap();
            let address = &ring.endpoints[*last].address;
            *last = ring
                .endpoints
                .iter()
                .position(|e| e.address != *address)
                .unwrap();
            assert!(
                check_built(&bad, &built, &v.series).is_err(),
                "{} series {k}",
                ring.name
            );
        }
    }
}

#[test]
fn a_perturbed_input_is_caught() {
    let v = vectors();
    // A series hash off by one bit.
    let mut series = v.series.clone();
    series[7].hash ^= 1;
    assert_eq!(check_hashes(&series).len(), 1);
    for ring in spread_rings(&v) {
        // The other algorithm on the same endpoints.
        let mut other = ring.clone();
        other.algorithm = match ring.algorithm.as_str() {
            "hashmod" => "ketama".into(),
            _ => "hashmod".into(),
        };
        other.endpoints.iter_mut().for_each(|e| e.az.clear());
        assert!(check_ring(&other, &v.series).is_err(), "{}", ring.name);
        // One more or one fewer replica.
        let mut rf = ring.clone();
        rf.replication_factor = if ring.replication_factor == 1 { 2 } else { 1 };
        assert!(check_ring(&rf, &v.series).is_err(), "{}", ring.name);
        // Another tenant for every series.
        let renamed: Vec<VectorSeries> = v
            .series
            .iter()
            .map(|s| VectorSeries {
                tenant: format!("{}-x", s.tenant),
                ..s.clone()
            })
            .collect();
        assert!(check_ring(&ring, &renamed).is_err(), "{}", ring.name);
    }
}

#[test]
fn a_wrong_outcome_is_caught() {
    let v = vectors();
    for ring in v.rings.iter().filter(|r| r.outcome != "ok") {
        let mut bad = ring.clone();
        bad.outcome = match ring.outcome.as_str() {
            "error" => "hangs".into(),
            _ => "error".into(),
        };
        assert!(check_ring(&bad, &v.series).is_err(), "{}", ring.name);
    }
}

/// Checks one whole file: `Ok(placements compared)`, or every disagreement.
fn check_file(f: &VectorFile, series: &[VectorSeries]) -> Result<usize, Vec<String>> {
    let entries: Vec<HashringEntry> =
        serde_json::from_value(f.config.clone()).unwrap_or_else(|e| {
            panic!(
                "{}: our hashrings.json model cannot read the file: {e}",
                f.name
            )
        });
    let built = MultiRing::new(&entries, Algorithm::Hashmod, f.replication_factor);
    let multi = match (f.outcome.as_str(), built) {
        ("ok", Ok(m)) => m,
        ("error", Err((_, e))) if same_file_refusal(&f.error, &e) => return Ok(0),
        (outcome, built) => {
            return Err(vec![format!(
                "{}: Thanos: {outcome} {:?}; here: {:?}",
                f.name,
                f.error,
                built.map(|_| "built")
            )]);
        }
    };
    let mut wrong = Vec::new();
    let mut compared = 0;
    for (t, tenant) in f.tenants.iter().enumerate() {
        let thanos_error = &f.tenant_errors[t];
        let ring = match (multi.for_tenant(tenant), thanos_error.is_empty()) {
            (Ok(r), true) => r,
            (Err(e), false) if same_tenant_error(thanos_error, &e.to_string()) => continue,
            (got, _) => {
                wrong.push(format!(
                    "{} tenant {tenant:?}: Thanos {thanos_error:?}, here {:?}",
                    f.name,
                    got.map(|r| r.name.to_owned())
                ));
                continue;
            }
        };
        let want = f.replicas[t]
            .as_ref()
            .expect("placements of a tenant without error");
        for (s, want) in series[..f.series].iter().zip(want) {
            let got: Vec<&str> = ring
                .ring
                .replicas(tenant, &s.labels)
                .iter()
                .map(|e| e.address.as_str())
                .collect();
            let want: Vec<&str> = want.iter().map(|&i| f.addresses[i].as_str()).collect();
            compared += 1;
            if got != want {
                wrong.push(format!(
                    "{} tenant {tenant:?} labels {:?}: Thanos {want:?}, here {got:?}",
                    f.name, s.labels
                ));
            }
        }
    }
    if wrong.is_empty() {
        Ok(compared)
    } else {
        Err(wrong)
    }
}

/// Whether a file refused here is refused by Thanos for that reason.
fn same_file_refusal(thanos: &str, here: &PlacementError) -> bool {
    match here {
        PlacementError::ShuffleWithHashmod => thanos.contains("does not support shuffle sharding"),
        PlacementError::ShardLargerThanRing { .. } => {
            thanos.contains("larger than number of nodes in hashring")
        }
        other => same_refusal(thanos, other),
    }
}

/// Whether a tenant's error here is Thanos's, by kind.
fn same_tenant_error(thanos: &str, here: &str) -> bool {
    let kinds = [
        ("no matching hashring", "no hashring serves"),
        ("syntax error in pattern", "malformed glob"),
        ("larger than number of nodes in AZ", "is larger than the"),
        ("amount of endpoints needs to be larger", "cannot hold"),
    ];
    kinds
        .iter()
        .any(|(t, h)| thanos.contains(t) && here.contains(h))
}

#[test]
fn whole_files_place_like_thanos() {
    let v = vectors();
    let mut compared = 0;
    let mut wrong = Vec::new();
    for f in &v.files {
        match check_file(f, &v.series) {
            Ok(n) => compared += n,
            Err(w) => wrong.extend(w),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements, first: {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    // The file covers what it claims.
    let tenant_errors: usize = v
        .files
        .iter()
        .map(|f| f.tenant_errors.iter().filter(|e| !e.is_empty()).count())
        .sum();
    assert!(compared >= 14_000, "only {compared} placements compared");
    assert!(tenant_errors >= 50, "only {tenant_errors} tenant errors");
    assert!(v.files.iter().filter(|f| f.outcome == "error").count() >= 2);
    assert!(
        v.files
            .iter()
            .filter(|f| f.name.starts_with("shuffle-zones"))
            .count()
            >= 5
    );
    eprintln!(
        "{compared} placements of {} files agree with Thanos {} ({tenant_errors} tenants refused)",
        v.files.len(),
        v.thanos
    );
}

#[test]
fn a_wrong_file_placement_is_caught() {
    let v = vectors();
    for f in v
        .files
        .iter()
        .filter(|f| f.outcome == "ok" && f.addresses.len() > 1)
    {
        let Some(t) = f.replicas.iter().position(Option::is_some) else {
            continue;
        };
        let mut bad = f.clone();
        let row = &mut bad.replicas[t].as_mut().unwrap()[0];
        let last = row.last_mut().unwrap();
        *last = (*last + 1) % f.addresses.len();
        assert!(check_file(&bad, &v.series).is_err(), "{}", f.name);
        // A tenant Thanos refused, expected to be placed (and the other way round).
        let mut flipped = f.clone();
        flipped.tenant_errors[t] = "no matching hashring to handle tenant".into();
        assert!(check_file(&flipped, &v.series).is_err(), "{}", f.name);
    }
}

#[test]
fn go_rand_matches_go() {
    let v = vectors();
    assert!(v.go_rand.len() >= 8);
    for c in &v.go_rand {
        let mut r = GoRand::new(c.seed);
        let got: Vec<u64> = c.outputs.iter().map(|_| r.uint64()).collect();
        assert_eq!(got, c.outputs, "seed {}", c.seed);
        // The comparison sees one output off.
        let mut r = GoRand::new(c.seed.wrapping_add(1));
        assert_ne!(r.uint64(), c.outputs[0], "seed {}", c.seed);
    }
}
