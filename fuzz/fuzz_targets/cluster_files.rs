//! What the provider reads back from the cluster as text, written by whoever may write there:
//! the `hashrings.json` of other resources' routers (a held scale-down, `lifecycle::hold`) and
//! a router's `/metrics` (an in-place ring reload, `hashring::running_config`). Never a panic;
//! a router's report of a file's hash is read back whatever came before it; a hold keeps the
//! StatefulSet between the size it keeps and the size it has, and exactly when some ring lists
//! a leaving pod.
#![no_main]

use libfuzzer_sys::fuzz_target;
use terraform_provider_thanos::lifecycle::hold::{Decision, Leaving, judge};
use thanos_cluster::{HashringFile, ObjectKey};
use thanos_render::hashring::{HashringEntry, config_hash_metric, running_config, to_json_text};
use thanos_render::receive::{Mode, ingestor_endpoints, own_ordinal};

fuzz_target!(|data: &[u8]| {
    let Some((&sizes, bytes)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(bytes);
    running_config(&text);
    // The input as the start of an exposition that ends with a router reporting the input
    // as the file it loaded: the router's last word counts.
    let exposition = format!(
        "{text}\nthanos_receive_config_hash {:e}\nthanos_receive_config_last_reload_successful 1\n",
        config_hash_metric(&text)
    );
    assert!(running_config(&exposition).runs(&text), "{exposition:?}");

    let (keep, live) = (i32::from(sizes & 0x0f), i32::from(sizes >> 4));
    let leaving = Leaving {
        workload: ObjectKey::new("StatefulSet", "ns", "thanosreceive-ing"),
        keep,
        own_rings: Some(ObjectKey::new("ConfigMap", "ns", "own")),
        ordinal: Box::new(|e: &str| own_ordinal("ing", "ns", e)),
    };
    // The input as a file, and next to it the resource's own file listing every pod the
    // StatefulSet has.
    let every = ingestor_endpoints("ing", "ns", i64::from(live), Mode::IngestorOnly);
    let own = HashringFile {
        config_map: ObjectKey::new("ConfigMap", "ns", "own"),
        text: to_json_text(&[HashringEntry::new("all", &[], &every)]),
    };
    let input = HashringFile {
        config_map: ObjectKey::new("ConfigMap", "other", "input"),
        text: text.into_owned(),
    };
    match judge(&leaving, live, &[input, own.clone()]) {
        Decision::Hold {
            live: held_live,
            size,
            listed,
        } => {
            assert_eq!(held_live, live);
            assert!(
                size > keep && size <= live,
                "held at {size} of {live}, keeping {keep}"
            );
            assert!(!listed.is_empty());
            assert!(
                listed.iter().all(|l| l.config_map.name == "input"),
                "own rings are not held for"
            );
        }
        Decision::Shrink { live: shrunk_live } => assert_eq!(shrunk_live, live),
        Decision::Nothing => unreachable!("judge decides between holding and shrinking"),
    }
    // The same file in another resource's ConfigMap holds every leaving pod.
    let other = HashringFile {
        config_map: ObjectKey::new("ConfigMap", "other", "router"),
        ..own
    };
    if live > keep {
        assert_eq!(judge(&leaving, live, &[other]).held(), Some(live));
    }
});
