//! JSON decoding (stored states, the import record) against each resource's schema type:
//! never a panic; a decoded value encodes, and decodes again to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use terraform_provider_thanos_fuzz::resources;
use tfvalue::json;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let resources = resources();
    let (_, _, ty) = &resources[usize::from(pick) % resources.len()];
    if let Ok(value) = json::decode(bytes, ty) {
        let encoded = json::encode(&value, ty).expect("a decoded value encodes");
        let again = json::decode(&encoded, ty).expect("an encoded value decodes");
        assert_eq!(again, value, "JSON round trip");
    }
    // The strict decoder (every attribute present) must not panic either.
    let _ = json::decode_strict(bytes, ty);
});
