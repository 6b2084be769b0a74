//! The kinds one resource can own, and their API resources.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::core::ApiResource;

/// Kinds we render, in apply order (delete in reverse), then PersistentVolumeClaim (created
/// by StatefulSets, never rendered, deleted last and only when asked).
pub const OWNED_KINDS: &[&str] = &[
    "Secret",
    "ConfigMap",
    "Service",
    "Deployment",
    "StatefulSet",
    "PodDisruptionBudget",
    "Ingress",
    "PersistentVolumeClaim",
];

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
