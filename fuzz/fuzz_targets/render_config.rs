//! Arbitrary configurations of every resource type, with arbitrary members for selector
//! rings, taken straight through validation and rendering (`testing::validate_and_render`):
//! many more executions than through the protocol. Rendering never fails on a spec validation
//! accepted, never panics, and is deterministic.
#![no_main]

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use terraform_provider_thanos::testing::{Outcome, validate_and_render};
use terraform_provider_thanos_fuzz::{config, discovered, resources};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let resources = resources();
    let Ok(pick) = u.choose_index(resources.len()) else {
        return;
    };
    let (type_name, _, ty) = &resources[pick];
    let Ok(config) = config(&mut u, type_name, ty) else {
        return;
    };
    let rings = discovered(&mut u).unwrap_or_default();
    match validate_and_render(type_name, &config, &rings) {
        Outcome::Internal(e) => panic!("rendering failed on a validated spec: {e}"),
        Outcome::Rendered(objects) => match validate_and_render(type_name, &config, &rings) {
            Outcome::Rendered(again) => assert_eq!(again, objects, "rendering is deterministic"),
            other => panic!("the same configuration rendered, then came to {other:?}"),
        },
        _ => {}
    }
});
