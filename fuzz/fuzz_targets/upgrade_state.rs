//! UpgradeResourceState from raw JSON state, through the provider's tfplugin6 service: never a
//! panic, never a diagnostic that calls the input a bug of the provider (a state can be edited
//! by hand), and an upgraded state that decodes with the schema type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use terraform_provider_thanos_fuzz::{
    assert_no_internal_error, block_on, has_errors, resources, service,
};
use tfplugin::pb::tfplugin6 as pb;
use tfplugin::pb::tfplugin6::provider_server::Provider as _;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let resources = resources();
    let (type_name, _, ty) = &resources[usize::from(pick) % resources.len()];
    let response = block_on(service().upgrade_resource_state(tonic::Request::new(
        pb::upgrade_resource_state::Request {
            type_name: (*type_name).into(),
            version: i64::from(pick >> 6),
            raw_state: Some(pb::RawState {
                json: bytes.to_vec(),
                flatmap: Default::default(),
            }),
        },
    )))
    .expect("diagnostics, never a gRPC error")
    .into_inner();
    assert_no_internal_error("UpgradeResourceState", &response.diagnostics);
    if !has_errors(&response.diagnostics) && !bytes.is_empty() {
        let state = response.upgraded_state.expect("an upgraded state");
        tfvalue::msgpack::decode(&state.msgpack, ty).expect("the upgraded state decodes");
    }
});
