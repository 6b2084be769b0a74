//! Arbitrary configurations of every resource type, generated along its schema type, through
//! the provider's tfplugin6 service as Terraform sends them: ValidateResourceConfig, then
//! PlanResourceChange of a create (offline, no cluster). Never a panic, never a diagnostic that
//! calls the input a bug of the provider; a plan without errors has a planned state of the
//! schema type, and planning again gives the same bytes.
#![no_main]

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use terraform_provider_thanos_fuzz::{
    assert_no_internal_error, block_on, config, dynamic, has_errors, resources, service,
};
use tfplugin::pb::tfplugin6 as pb;
use tfplugin::pb::tfplugin6::provider_server::Provider as _;
use tfvalue::Value;

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
    let write_only_allowed = u.arbitrary::<bool>().unwrap_or(true);
    let Some(dv) = dynamic(&config, ty) else {
        return;
    };
    let capabilities = pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: write_only_allowed,
    };
    let validated = block_on(service().validate_resource_config(tonic::Request::new(
        pb::validate_resource_config::Request {
            type_name: (*type_name).into(),
            config: Some(dv.clone()),
            client_capabilities: Some(capabilities.clone()),
        },
    )))
    .expect("diagnostics, never a gRPC error")
    .into_inner();
    assert_no_internal_error("ValidateResourceConfig", &validated.diagnostics);
    let plan = || {
        block_on(service().plan_resource_change(tonic::Request::new(
            pb::plan_resource_change::Request {
                type_name: (*type_name).into(),
                prior_state: dynamic(&Value::Null, ty),
                proposed_new_state: Some(dv.clone()),
                config: Some(dv.clone()),
                client_capabilities: Some(capabilities.clone()),
                ..Default::default()
            },
        )))
        .expect("diagnostics, never a gRPC error")
        .into_inner()
    };
    let planned = plan();
    assert_no_internal_error("PlanResourceChange", &planned.diagnostics);
    if !has_errors(&planned.diagnostics) {
        let state = planned.planned_state.as_ref().expect("a planned state");
        tfvalue::msgpack::decode(&state.msgpack, ty).expect("the planned state decodes");
        let again = plan();
        assert_eq!(
            again.planned_state, planned.planned_state,
            "planning the same configuration twice gave different plans"
        );
    }
});
