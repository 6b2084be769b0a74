//! EndpointSlices as the API server returns them (any JSON), through hashring discovery
//! (`discovery::endpoints_from_slices`) into `hashrings.json` and Thanos's placement: never a
//! panic; endpoints sorted and unique; the file reads back (as Thanos reads it) to the same
//! rings; a ring Thanos would accept places every series on exactly `replication_factor`
//! endpoints.
#![no_main]

use k8s_openapi::api::discovery::v1::EndpointSlice;
use libfuzzer_sys::fuzz_target;
use thanos_render::discovery::endpoints_from_slices;
use thanos_render::hashring::{HashringEntry, to_json_text};
use thanos_render::placement::{Algorithm, Endpoint, Ring};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, bytes)) = data.split_first() else {
        return;
    };
    let Ok(slices) = serde_json::from_slice::<Vec<EndpointSlice>>(bytes) else {
        return;
    };
    let endpoints = endpoints_from_slices(&slices);
    assert!(
        endpoints.windows(2).all(|w| w[0] < w[1]),
        "endpoints sorted and unique: {endpoints:?}"
    );
    let ring = HashringEntry::new("ring", &["tenant".to_owned()], &endpoints);
    let text = to_json_text(std::slice::from_ref(&ring));
    let read: serde_json::Value = serde_json::from_str(&text).expect("hashrings.json is JSON");
    assert_eq!(read[0]["hashring"], "ring");
    assert_eq!(read[0]["endpoints"], serde_json::json!(endpoints));

    let algorithm = if knobs & 1 == 0 {
        Algorithm::Hashmod
    } else {
        Algorithm::Ketama
    };
    let replication_factor = u64::from(knobs >> 1) % 5;
    let members = endpoints.iter().map(Endpoint::new).collect();
    if let Ok(ring) = Ring::new(algorithm, members, replication_factor) {
        for series in ["a", "b", "c"] {
            let placed = ring.replicas("tenant", &[("__name__", series)]);
            assert_eq!(placed.len() as u64, replication_factor);
        }
    }
});
