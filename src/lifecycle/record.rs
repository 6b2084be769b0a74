//! The record: a ConfigMap `<component>-<name>-terraform` that every apply writes next to the
//! resource's objects, holding its configuration (not its computed values). An import reads it
//! back, so the plan after `terraform import` is empty instead of a guess rebuilt from the
//! objects.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tfplugin::framework::{Block, Presence};
use tfvalue::{Type, Value};
use thanos_render::Object;
use thanos_render::meta::{self, Kind as Owner};

/// Key of the record ConfigMap that holds the configuration.
pub const KEY: &str = "terraform.json";

/// Name of the record of resource `name`.
pub fn name(owner: Owner, name: &str) -> String {
    format!("{}-{name}-terraform", owner.component())
}

/// The record object of a resource whose state is `state` (computed attributes are left out:
/// they are decided again after an import). `block`: the resource's schema.
pub fn object(
    owner: Owner,
    block: &Block,
    state: &Value,
    namespace: &str,
    resource: &str,
) -> Option<Object> {
    let json = tfvalue::json::encode(&configuration(block, state), &block.implied_type()).ok()?;
    let mut labels = meta::ownership_labels(owner, resource);
    labels.insert(meta::COMPONENT.into(), owner.component().into());
    labels.insert(meta::INSTANCE.into(), resource.into());
    Some(Object::ConfigMap(ConfigMap {
        metadata: ObjectMeta {
            name: Some(name(owner, resource)),
            namespace: Some(namespace.into()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                "thanos.paodin.io/purpose".to_string(),
                "The Terraform configuration of this resource, read by `terraform import`."
                    .to_string(),
            )])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            KEY.to_string(),
            String::from_utf8_lossy(&json).into_owned(),
        )])),
        ..Default::default()
    }))
}

/// `state` with every computed-only attribute null: what the user configured.
fn configuration(block: &Block, state: &Value) -> Value {
    let mut config = state.clone();
    for attribute in &block.attributes {
        if attribute.presence == Presence::Computed
            && let Some(slot) = config.get_attr_mut(&attribute.name)
        {
            *slot = Value::Null;
        }
    }
    config
}

/// Whether a live ConfigMap holds a configuration.
pub fn holds_configuration(live: &thanos_cluster::LiveObject) -> bool {
    live.json.pointer(&format!("/data/{KEY}")).is_some()
}

/// The configuration a record holds.
pub fn read(data: &serde_json::Value, ty: &Type) -> Result<Value, String> {
    let text = data
        .pointer(&format!("/data/{KEY}"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| format!("the ConfigMap has no key {KEY}"))?;
    tfvalue::json::decode(text.as_bytes(), ty).map_err(|e| e.to_string())
}
