//! The validated parts every resource shares ([`Common`]: identity, image, logging, labels,
//! placement, pod settings ([`crate::pod`]), ServiceMonitors, extra args), the shared blocks (resources, data volumes, ingresses, label
//! selectors, Secret keys), the provider-level defaults, and the helpers that turn them into
//! Kubernetes fields.
//!
//! These are fully known, validated values: the provider's resource layer builds them from a
//! Terraform configuration only after checking every rule, so rendering never re-checks and
//! never fails on user input. An `Option` here means "not set: Kubernetes or Thanos decides",
//! never "not known yet".

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

/// The provider's `default_thanos_image`: a current Thanos release (the seed's v0.22.0 has a
/// compactor deadlock, fixed upstream in v0.23.2). Must equal `THANOS_VERSION` in tools/versions.env.
pub const DEFAULT_THANOS_IMAGE: &str = "quay.io/thanos/thanos:v0.42.5";
/// The namespace of a resource that names none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Replicas of a workload that sets none.
pub const DEFAULT_REPLICAS: i64 = 1;

/// Provider-level defaults passed to every render function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderContext {
    pub thanos_image: String,
    pub envoy_image: String,
}

impl Default for RenderContext {
    fn default() -> Self {
        RenderContext {
            thanos_image: DEFAULT_THANOS_IMAGE.to_owned(),
            envoy_image: crate::envoy::DEFAULT_ENVOY_IMAGE.to_owned(),
        }
    }
}

/// What every resource has: the one struct the three resources (and any later one) share.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Common {
    pub name: String,
    pub namespace: String,
    /// `None`: the provider's default Thanos image.
    pub image: Option<String>,
    pub image_pull_policy: Option<String>,
    pub log_level: Option<String>,
    pub log_format: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub placement: Placement,
    /// ServiceAccount, pull secrets, annotations, priority, security, extra volumes of the pods.
    pub pod: crate::pod::PodSettings,
    /// `None`: no ServiceMonitors (the block is absent or disabled).
    pub service_monitor: Option<crate::monitor::MonitorSettings>,
    pub extra_args: Vec<String>,
}

impl Common {
    /// A resource named `name` in `namespace` with nothing else set.
    pub fn new(name: &str, namespace: &str) -> Self {
        Common {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            ..Default::default()
        }
    }

    /// The Thanos image of this resource's containers.
    pub fn image(&self, ctx: &RenderContext) -> String {
        self.image
            .clone()
            .unwrap_or_else(|| ctx.thanos_image.clone())
    }
}

/// Placement honoured on every workload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Placement {
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub affinity: Option<core::Affinity>,
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Toleration {
    pub key: Option<String>,
    pub operator: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
    pub toleration_seconds: Option<i64>,
}

/// The label selector of a spread constraint is always the component's own selector labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologySpreadConstraint {
    pub max_skew: i32,
    pub topology_key: String,
    pub when_unsatisfiable: String,
    pub min_domains: Option<i32>,
}

/// Compute resources of one container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resources {
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
}

/// Where a StatefulSet keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataVolume {
    /// `medium` `None` is the node's disk.
    EmptyDir {
        medium: Option<String>,
        size_limit: Option<String>,
    },
    Pvc(Pvc),
}

impl Default for DataVolume {
    fn default() -> Self {
        DataVolume::EmptyDir {
            medium: None,
            size_limit: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pvc {
    pub storage_class: Option<String>,
    pub size: String,
    pub access_modes: Vec<String>,
}

/// Access modes of a claim that names none.
pub const DEFAULT_ACCESS_MODES: &[&str] = &["ReadWriteOnce"];

/// An Ingress in front of one of a resource's ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    pub host: String,
    pub path: String,
    /// TLS Secret; when set the Ingress terminates TLS for `host` with it.
    pub secret_name: Option<String>,
    pub class_name: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

/// Path of an Ingress that names none.
pub const DEFAULT_INGRESS_PATH: &str = "/";

/// A Kubernetes label selector (`endpoints_selector`, `endpoints_namespace_selector`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelectorRequirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    pub values: Vec<String>,
}

/// A key of a Secret (the objstore config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

/// Parses the `affinity` JSON into a core/v1 Affinity, rejecting unknown fields: the JSON is
/// deserialized, serialized back and compared, so any field k8s-openapi silently dropped (a
/// typo, a wrong nesting level) is reported by its JSON path.
pub fn parse_affinity(s: &str) -> Result<core::Affinity, String> {
    let raw: serde_json::Value =
        serde_json::from_str(s).map_err(|e| format!("affinity is not valid JSON: {e}"))?;
    if !raw.is_object() {
        return Err("affinity must be a JSON object (a Kubernetes core/v1 Affinity)".into());
    }
    let parsed: core::Affinity = serde_json::from_value(raw.clone())
        .map_err(|e| format!("affinity is not a Kubernetes core/v1 Affinity: {e}"))?;
    let back = serde_json::to_value(&parsed).expect("Affinity serializes");
    if let Some(field) = first_unknown(&raw, &back, "") {
        return Err(format!(
            "affinity has an unknown field {field:?}: it must be a Kubernetes core/v1 Affinity in JSON (camelCase field names, e.g. {{\"podAntiAffinity\": {{...}}}})"
        ));
    }
    Ok(parsed)
}

pub(crate) fn first_unknown(
    raw: &serde_json::Value,
    back: &serde_json::Value,
    at: &str,
) -> Option<String> {
    use serde_json::Value;
    match (raw, back) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, v)| {
            let here = format!("{at}.{k}");
            match b.get(k) {
                None if v.is_null() => None,
                None => Some(here.trim_start_matches('.').to_owned()),
                Some(bv) => first_unknown(v, bv, &here),
            }
        }),
        (Value::Array(a), Value::Array(b)) => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_unknown(x, y, &format!("{at}[{i}]"))),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering helpers.

pub(crate) fn quantity_map(m: &BTreeMap<String, String>) -> Option<BTreeMap<String, Quantity>> {
    (!m.is_empty()).then(|| {
        m.iter()
            .map(|(k, v)| (k.clone(), Quantity(v.clone())))
            .collect()
    })
}

pub(crate) fn resource_requirements(res: &Resources) -> Option<core::ResourceRequirements> {
    let requests = quantity_map(&res.requests);
    let limits = quantity_map(&res.limits);
    if requests.is_none() && limits.is_none() {
        return None;
    }
    Some(core::ResourceRequirements {
        requests,
        limits,
        ..Default::default()
    })
}

/// Placement honoured on every workload: node selector, tolerations, affinity and topology
/// spread constraints (whose selector is always the component's own selector labels).
pub(crate) fn apply_placement(
    p: &Placement,
    selector: &BTreeMap<String, String>,
    pod: &mut core::PodSpec,
) {
    pod.node_selector = Some(p.node_selector.clone()).filter(|m| !m.is_empty());
    pod.tolerations = (!p.tolerations.is_empty()).then(|| {
        p.tolerations
            .iter()
            .map(|t| core::Toleration {
                key: t.key.clone().filter(|k| !k.is_empty()),
                operator: t.operator.clone(),
                value: t.value.clone().filter(|v| !v.is_empty()),
                effect: t.effect.clone(),
                toleration_seconds: t.toleration_seconds,
            })
            .collect()
    });
    pod.affinity = p.affinity.clone();
    if !p.topology_spread_constraints.is_empty() {
        pod.topology_spread_constraints = Some(
            p.topology_spread_constraints
                .iter()
                .map(|t| core::TopologySpreadConstraint {
                    max_skew: t.max_skew,
                    topology_key: t.topology_key.clone(),
                    when_unsatisfiable: t.when_unsatisfiable.clone(),
                    min_domains: t.min_domains,
                    label_selector: Some(meta::LabelSelector {
                        match_labels: Some(selector.clone()),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
        );
    }
}

/// The data volume of a StatefulSet of the resource `name` (of kind `kind`): an emptyDir added
/// to the pod's `volumes`, or the volume claim template, returned. Claim templates are
/// immutable, so they carry only the fixed ownership and `selector` labels (never the user's
/// `labels` or `annotations`, whose change would force a StatefulSet replacement); prune and
/// claim retention find the claims by them.
pub(crate) fn data_volume(
    volume_name: &str,
    dv: &DataVolume,
    (kind, name): (crate::meta::Kind, &str),
    selector: &BTreeMap<String, String>,
    volumes: &mut Vec<core::Volume>,
) -> Option<Vec<core::PersistentVolumeClaim>> {
    match dv {
        DataVolume::EmptyDir { medium, size_limit } => {
            volumes.push(core::Volume {
                name: volume_name.to_owned(),
                empty_dir: Some(core::EmptyDirVolumeSource {
                    medium: medium.clone().filter(|m| !m.is_empty()),
                    size_limit: size_limit.clone().map(Quantity),
                }),
                ..Default::default()
            });
            None
        }
        DataVolume::Pvc(p) => {
            let mut labels = crate::meta::ownership_labels(kind, name);
            labels.extend(selector.clone());
            Some(vec![core::PersistentVolumeClaim {
                metadata: meta::ObjectMeta {
                    name: Some(volume_name.to_owned()),
                    labels: Some(labels),
                    ..Default::default()
                },
                spec: Some(core::PersistentVolumeClaimSpec {
                    access_modes: Some(p.access_modes.clone()),
                    storage_class_name: p.storage_class.clone(),
                    resources: Some(core::VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([(
                            "storage".to_owned(),
                            Quantity(p.size.clone()),
                        )])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }])
        }
    }
}

/// An Ingress routing `host` + `path` to `service:port`.
pub(crate) struct IngressTarget<'a> {
    pub name: String,
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    /// The resource-wide `annotations`.
    pub object_annotations: &'a BTreeMap<String, String>,
    /// Ours, for the backend protocol; the resource's and the block's own override them.
    pub default_annotations: &'a [(&'a str, &'a str)],
    pub service: String,
    pub port: i32,
}

pub(crate) fn build_ingress(t: IngressTarget<'_>, spec: &Ingress) -> net::Ingress {
    // Ingress annotations: ours (defaults for the backend protocol), then the resource-wide
    // annotations, then the ingress block's own, each overriding the previous.
    let mut annotations: BTreeMap<String, String> = t
        .default_annotations
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    annotations.extend(t.object_annotations.clone());
    annotations.extend(spec.annotations.clone());
    net::Ingress {
        metadata: meta::ObjectMeta {
            name: Some(t.name),
            namespace: Some(t.namespace.to_owned()),
            labels: Some(t.labels.clone()),
            annotations: Some(annotations).filter(|a| !a.is_empty()),
            ..Default::default()
        },
        spec: Some(net::IngressSpec {
            ingress_class_name: spec.class_name.clone(),
            rules: Some(vec![net::IngressRule {
                host: Some(spec.host.clone()),
                http: Some(net::HTTPIngressRuleValue {
                    paths: vec![net::HTTPIngressPath {
                        path: Some(spec.path.clone()),
                        path_type: "Prefix".into(),
                        backend: net::IngressBackend {
                            service: Some(net::IngressServiceBackend {
                                name: t.service,
                                port: Some(net::ServiceBackendPort {
                                    number: Some(t.port),
                                    ..Default::default()
                                }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            tls: spec.secret_name.as_ref().map(|s| {
                vec![net::IngressTLS {
                    hosts: Some(vec![spec.host.clone()]),
                    secret_name: Some(s.clone()),
                }]
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}
