//! The output of rendering: typed Kubernetes objects in apply order.

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::monitor::{self, ServiceMonitor};
use crate::secret::OwnedSecret;

/// Everything one resource renders, in apply order: its ServiceAccount, Secrets and ConfigMaps,
/// Services, workloads, PDBs, Ingresses, ServiceMonitors (so a workload never starts before the
/// ServiceAccount it runs as and the config it mounts, and an Ingress or a ServiceMonitor never
/// points at a Service that does not exist yet). Delete in reverse order.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Rendered {
    pub objects: Vec<Object>,
}

impl Rendered {
    /// Finds an object by kind and name (test and caller convenience).
    pub fn get(&self, kind: &str, name: &str) -> Option<&Object> {
        self.objects
            .iter()
            .find(|o| o.kind() == kind && o.name() == name)
    }

    /// `(kind, name)` of every object, in apply order.
    pub fn keys(&self) -> Vec<(&'static str, String)> {
        self.objects
            .iter()
            .map(|o| (o.kind(), o.name().to_owned()))
            .collect()
    }

    /// The objects as one JSON array (canonical: object keys sorted by serde_json's map); an
    /// owned Secret in its public form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(self.objects.iter().map(Object::to_json).collect())
    }
}

/// One owned Kubernetes object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Object {
    /// A Secret with write-only content: see [`OwnedSecret`] for its public and sealed forms.
    Secret(OwnedSecret),
    ConfigMap(ConfigMap),
    Service(Service),
    Deployment(Deployment),
    StatefulSet(StatefulSet),
    Ingress(Ingress),
    PodDisruptionBudget(PodDisruptionBudget),
    ServiceAccount(ServiceAccount),
    /// prometheus-operator's custom resource (see [`crate::monitor`]).
    ServiceMonitor(ServiceMonitor),
}

impl Object {
    pub fn api_version(&self) -> &'static str {
        match self {
            Object::Secret(_) => Secret::API_VERSION,
            Object::ConfigMap(_) => ConfigMap::API_VERSION,
            Object::Service(_) => Service::API_VERSION,
            Object::Deployment(_) => Deployment::API_VERSION,
            Object::StatefulSet(_) => StatefulSet::API_VERSION,
            Object::Ingress(_) => Ingress::API_VERSION,
            Object::PodDisruptionBudget(_) => PodDisruptionBudget::API_VERSION,
            Object::ServiceAccount(_) => ServiceAccount::API_VERSION,
            Object::ServiceMonitor(_) => monitor::API_VERSION,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Object::Secret(_) => Secret::KIND,
            Object::ConfigMap(_) => ConfigMap::KIND,
            Object::Service(_) => Service::KIND,
            Object::Deployment(_) => Deployment::KIND,
            Object::StatefulSet(_) => StatefulSet::KIND,
            Object::Ingress(_) => Ingress::KIND,
            Object::PodDisruptionBudget(_) => PodDisruptionBudget::KIND,
            Object::ServiceAccount(_) => ServiceAccount::KIND,
            Object::ServiceMonitor(_) => monitor::KIND,
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Object::Secret(o) => &o.public().metadata,
            Object::ConfigMap(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::StatefulSet(o) => &o.metadata,
            Object::Ingress(o) => &o.metadata,
            Object::PodDisruptionBudget(o) => &o.metadata,
            Object::ServiceAccount(o) => &o.metadata,
            Object::ServiceMonitor(o) => &o.metadata,
        }
    }

    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> &str {
        self.metadata().namespace.as_deref().unwrap_or_default()
    }

    /// The object as JSON, with `apiVersion` and `kind` (k8s-openapi serializes them).
    /// serde_json's map is a BTreeMap here (no `preserve_order`), so keys come out sorted
    /// and the value is canonical. An owned Secret comes out in its public form: this is
    /// what plans, hashes and golden files see; [`Object::apply_json`] is what the cluster
    /// gets.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("k8s-openapi objects always serialize")
    }

    /// The object as the API server must receive it: [`Object::to_json`], except that an
    /// owned Secret carries its sealed data. `None` for an owned Secret whose write-only
    /// values are withheld (a refresh or an import): it cannot be applied then.
    pub fn apply_json(&self) -> Option<serde_json::Value> {
        match self {
            Object::Secret(s) => s
                .sealed()
                .map(|sealed| serde_json::to_value(sealed).expect("Secrets always serialize")),
            other => Some(other.to_json()),
        }
    }

    /// sha256 (lowercase hex) of the canonical JSON text of [`Object::to_json`]. Equal objects
    /// have equal hashes; any change in any field changes it. An owned Secret's hash covers its
    /// public form: it changes with the bucket and with a credentials version, never with a
    /// credential, so the state (where it is kept) cannot reveal or confirm one.
    pub fn content_hash(&self) -> String {
        sha256_hex(self.to_json().to_string().as_bytes())
    }
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from_digit(u32::from(b >> 4), 16).expect("nibble"));
        out.push(char::from_digit(u32::from(b & 0xf), 16).expect("nibble"));
    }
    out
}
