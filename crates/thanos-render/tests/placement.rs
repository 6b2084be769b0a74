//! `thanos_render::placement` against Thanos's own hashring code: every placement recorded in
//! `placement_vectors/vectors.json` (written by the Go generator beside it, see its README)
//! must come out the same, and so must every refused or hanging ring. A second set of tests
//! perturbs the vectors and proves the comparison notices.

use serde::Deserialize;
use thanos_render::placement::{Algorithm, Endpoint, PlacementError, Ring, series_hash};

#[derive(Debug, Clone, Deserialize)]
struct Vectors {
    thanos: String,
    series: Vec<VectorSeries>,
    rings: Vec<VectorRing>,
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
