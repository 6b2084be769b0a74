//! What the provider reads back from the cluster as text, written by whoever may write there:
//! the `hashrings.json` of other resources' routers (a held scale-down, `lifecycle::hold`) and
//! a router's `/metrics` (an in-place ring reload, `hashring::running_config`). Never a panic;
//! a hold keeps the StatefulSet between the size it keeps and the size it has, and exactly
//! when some ring lists a leaving pod.
#![no_main]

use libfuzzer_sys::fuzz_target;
use terraform_provider_thanos::lifecycle::hold::{Decision, Leaving, judge};
use thanos_cluster::{HashringFile, ObjectKey};
use thanos_render::hashring::running_config;
use thanos_render::receive::{Mode, ingestor_endpoints, own_ordinal};

fuzz_target!(|data: &[u8]| {
    let Some((&sizes, bytes)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(bytes);
    let running = running_config(&text);
    // A router runs a file only when it reports that file's hash and a good reload.
    if running.runs(&text) {
        assert_eq!(running.last_reload_ok, Some(true));
    }

    let (keep, live) = (i32::from(sizes & 0x0f), i32::from(sizes >> 4));
    let leaving = Leaving {
        workload: ObjectKey::new("StatefulSet", "ns", "thanosreceive-ing"),
        keep,
        own_rings: Some(ObjectKey::new("ConfigMap", "ns", "own")),
        ordinal: Box::new(|e: &str| own_ordinal("ing", "ns", e)),
    };
    // The input as a file, and next to it a file listing every pod the StatefulSet has.
    let every = ingestor_endpoints("ing", "ns", i64::from(live), Mode::IngestorOnly);
    let listed =
        thanos_render::hashring::to_json_text(&[thanos_render::hashring::HashringEntry::new(
            "all",
            &[],
            &every,
        )]);
    let files = [
        HashringFile {
            config_map: ObjectKey::new("ConfigMap", "other", "input"),
            text: text.into_owned(),
        },
        HashringFile {
            config_map: ObjectKey::new("ConfigMap", "ns", "own"),
            text: listed.clone(),
        },
    ];
    match judge(&leaving, live, &files) {
        Decision::Hold {
            live: l,
            size,
            listed,
        } => {
            assert_eq!(l, live);
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
        Decision::Shrink { live: l } => assert_eq!(l, live),
        Decision::Nothing => unreachable!("judge decides between holding and shrinking"),
    }
    // A ring of another resource that lists every pod holds every leaving one.
    let mut all = files[1].clone();
    all.config_map = ObjectKey::new("ConfigMap", "other", "router");
    if live > keep {
        assert_eq!(judge(&leaving, live, &[all]).held(), Some(live));
    }
});
