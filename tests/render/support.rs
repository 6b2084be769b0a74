//! Shared helpers of the rendering tests: configurations from fixtures or JSON, the seed
//! quickstart stack, and getters into rendered objects.
#![allow(dead_code)]

use std::collections::BTreeMap;

use terraform_provider_thanos::lifecycle::Kind;
use terraform_provider_thanos::resources::{query::Query, receive::Receive, storage::Storage};
use terraform_provider_thanos::testing;
use thanos_render::query::QuerySpec;
use thanos_render::receive::{self, ReceiveSpec};
use thanos_render::storage::StorageSpec;
use thanos_render::{RenderContext, Rendered};

pub fn fixture_json(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/tests/render/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The validated spec of a complete configuration; panics with the findings if it is invalid.
pub fn spec<K: Kind>(json: serde_json::Value) -> K::Spec {
    testing::spec::<K>(&json).unwrap_or_else(|e| panic!("invalid configuration: {e:#?}"))
}

pub fn ctx() -> RenderContext {
    RenderContext::default()
}

pub fn query(name: &str) -> QuerySpec {
    spec::<Query>(fixture_json(name))
}
pub fn receive(name: &str) -> ReceiveSpec {
    spec::<Receive>(fixture_json(name))
}
pub fn storage(name: &str) -> StorageSpec {
    spec::<Storage>(fixture_json(name))
}

/// The per-pod endpoints of a receive's ingestors.
pub fn endpoints(r: &ReceiveSpec) -> Vec<String> {
    receive::ingestor_endpoints(
        &r.common.name,
        &r.common.namespace,
        i64::from(r.replicas),
        r.mode(),
    )
}

/// Endpoints a router's ring discovers when it selects `ingestor` (what the cluster layer
/// would get from the ingestor's EndpointSlices).
pub fn discovered(ring: &str, ingestor: &ReceiveSpec) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(ring.to_owned(), endpoints(ingestor))])
}

/// The seed README quickstart: ingestor, router (soft ring `test`), query.
pub fn quickstart() -> (Rendered, Rendered, Rendered) {
    let ingestor = receive("quickstart_ingestor");
    let router = receive("quickstart_router");
    let query = query("quickstart_query");
    let ctx = ctx();
    (
        receive::render(&ingestor, &ctx, &BTreeMap::new()).unwrap(),
        receive::render(&router, &ctx, &discovered("test", &ingestor)).unwrap(),
        thanos_render::query::render(&query, &ctx).unwrap(),
    )
}

/// Renders the quickstart stack to one string (determinism checks).
pub fn quickstart_bytes() -> String {
    let (a, b, c) = quickstart();
    let mut s = String::new();
    for r in [a, b, c] {
        for o in &r.objects {
            s.push_str(&serde_json::to_string(o).unwrap());
            s.push('\n');
        }
    }
    s
}

/// The container args of the first container of the named workload.
pub fn args(r: &Rendered, kind: &str, name: &str) -> Vec<String> {
    pod_spec(r, kind, name).containers[0].args.clone().unwrap()
}

pub fn pod_spec(r: &Rendered, kind: &str, name: &str) -> k8s_openapi::api::core::v1::PodSpec {
    use thanos_render::Object;
    match r
        .get(kind, name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
    {
        Object::Deployment(d) => d.spec.clone().unwrap().template.spec.unwrap(),
        Object::StatefulSet(s) => s.spec.clone().unwrap().template.spec.unwrap(),
        other => panic!("{} is not a workload", other.kind()),
    }
}

pub fn pod_template(
    r: &Rendered,
    kind: &str,
    name: &str,
) -> k8s_openapi::api::core::v1::PodTemplateSpec {
    use thanos_render::Object;
    match r.get(kind, name).unwrap() {
        Object::Deployment(d) => d.spec.clone().unwrap().template,
        Object::StatefulSet(s) => s.spec.clone().unwrap().template,
        other => panic!("{} is not a workload", other.kind()),
    }
}

pub fn config_map_data(r: &Rendered, name: &str, key: &str) -> String {
    use thanos_render::Object;
    match r
        .get("ConfigMap", name)
        .unwrap_or_else(|| panic!("no ConfigMap {name}"))
    {
        Object::ConfigMap(c) => c.data.clone().unwrap()[key].clone(),
        _ => unreachable!(),
    }
}
