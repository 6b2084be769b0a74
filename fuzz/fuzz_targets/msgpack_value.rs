//! msgpack decoding against each resource's schema type (and the provider's): whatever the
//! bytes, decoding returns a value or an error, never panics; a decoded value encodes, and
//! decodes again to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use terraform_provider_thanos_fuzz::resources;
use tfvalue::msgpack;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let resources = resources();
    let provider_type;
    let ty = match resources.get(usize::from(pick) % (resources.len() + 1)) {
        Some((_, _, ty)) => ty,
        None => {
            provider_type = terraform_provider_thanos::provider::schema().value_type();
            &provider_type
        }
    };
    let Ok(value) = msgpack::decode(bytes, ty) else {
        return;
    };
    let encoded = msgpack::encode(&value, ty).expect("a decoded value encodes");
    let again = msgpack::decode(&encoded, ty).expect("an encoded value decodes");
    assert_eq!(again, value, "msgpack round trip");
});
