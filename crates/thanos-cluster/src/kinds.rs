//! The kinds one resource can own, and their API resources.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::core::{ApiResource, GroupVersionKind};

use crate::error::ObjectKey;
use crate::select::ForeignKind;

/// prometheus-operator's ServiceMonitor: rendered (`service_monitor`), but served only where
/// its CustomResourceDefinition is installed.
pub const SERVICE_MONITOR: ForeignKind = ForeignKind {
    group: "monitoring.coreos.com",
    version: "v1",
    kind: "ServiceMonitor",
    plural: "servicemonitors",
};

/// Kinds we render, in apply order (delete in reverse), then PersistentVolumeClaim (created
/// by StatefulSets, never rendered, deleted last and only when asked). A ServiceAccount comes
/// first (pods cannot be created before the ServiceAccount they run as) and goes last; a
/// ServiceMonitor comes after the Service it selects.
pub const OWNED_KINDS: &[&str] = &[
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "Service",
    "Deployment",
    "StatefulSet",
    "PodDisruptionBudget",
    "Ingress",
    "ServiceMonitor",
    "PersistentVolumeClaim",
];

/// Kinds a resource may own that a cluster may not let every credential list (a role made
/// before the resource owned them) or may not serve at all (a CRD not installed): not seeing
/// them means owning none, rather than failing every read of every resource.
pub const OPTIONAL_KINDS: &[&str] = &["Secret", "ServiceAccount", "ServiceMonitor"];

/// The API resource of one of [`OWNED_KINDS`].
pub fn api_resource(kind: &str) -> Option<ApiResource> {
    Some(match kind {
        "Secret" => ApiResource::erase::<Secret>(&()),
        "ConfigMap" => ApiResource::erase::<ConfigMap>(&()),
        "Service" => ApiResource::erase::<Service>(&()),
        "Deployment" => ApiResource::erase::<Deployment>(&()),
        "StatefulSet" => ApiResource::erase::<StatefulSet>(&()),
        "PodDisruptionBudget" => ApiResource::erase::<PodDisruptionBudget>(&()),
        "Ingress" => ApiResource::erase::<Ingress>(&()),
        "PersistentVolumeClaim" => ApiResource::erase::<PersistentVolumeClaim>(&()),
        "ServiceAccount" => ApiResource::erase::<ServiceAccount>(&()),
        "ServiceMonitor" => ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(
                SERVICE_MONITOR.group,
                SERVICE_MONITOR.version,
                SERVICE_MONITOR.kind,
            ),
            SERVICE_MONITOR.plural,
        ),
        _ => return None,
    })
}

/// Position in apply order (unknown kinds last).
pub fn order(kind: &str) -> usize {
    OWNED_KINDS
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(OWNED_KINDS.len())
}

/// Sorts `keys` in apply order, by name within a kind.
pub(crate) fn sort_in_apply_order(keys: &mut [ObjectKey]) {
    keys.sort_by(|a, b| (order(&a.kind), &a.name).cmp(&(order(&b.kind), &b.name)));
}

/// The step of an apply a kind belongs to: objects of one step are written concurrently, the
/// steps one after the other. What the pods need exists before the workloads that create
/// them (a ServiceAccount, the Secrets and ConfigMaps they mount; the Services, which nothing
/// needs first but which belong with them); the workloads next; last what only refers to
/// them (PodDisruptionBudgets, Ingresses, ServiceMonitors). The order within the first step
/// does not matter to Kubernetes: a pod is created by a controller after its workload exists.
pub fn apply_phase(kind: &str) -> u8 {
    match kind {
        "ServiceAccount" | "Secret" | "ConfigMap" | "Service" => 0,
        "Deployment" | "StatefulSet" => 1,
        _ => 2,
    }
}
