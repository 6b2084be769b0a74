//! The shared workload renderer: the Thanos container, probes, the pod template every
//! workload of every resource builds ([`pod_template`]: placement, the pod settings of
//! [`crate::pod`], the config-hash annotation), headless Service, PodDisruptionBudget, and
//! [`finish`], which adds what every resource may own besides its workloads (its
//! ServiceAccount and ServiceMonitors).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::common::{self, Common};
use crate::meta::{CONFIG_HASH, GRPC_PORT, HTTP_PORT, Kind};
use crate::object::{Object, Rendered, sha256_hex};
use crate::{monitor, pod};

pub(crate) fn port(name: &str, number: i32) -> core::ContainerPort {
    core::ContainerPort {
        name: Some(name.into()),
        container_port: number,
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

fn http_probe(path: &str, period: i32, failure: i32) -> core::Probe {
    core::Probe {
        http_get: Some(core::HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::Int(HTTP_PORT),
            scheme: Some("HTTP".into()),
            ..Default::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failure),
        ..Default::default()
    }
}

fn field_env(name: &str, path: &str) -> core::EnvVar {
    core::EnvVar {
        name: name.into(),
        value_from: Some(core::EnvVarSource {
            field_ref: Some(core::ObjectFieldSelector {
                field_path: path.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A Thanos container with the seed's ports, env, probes and our hardened security context.
pub(crate) struct ThanosContainer<'a> {
    pub name: &'a str,
    pub image: String,
    pub image_pull_policy: Option<String>,
    pub args: Vec<String>,
    pub ports: Vec<core::ContainerPort>,
    /// Adds `NAME` (the pod name) next to `POD_IP`.
    pub pod_name_env: bool,
    pub resources: Option<core::ResourceRequirements>,
    pub mounts: Vec<core::VolumeMount>,
}

impl ThanosContainer<'_> {
    pub(crate) fn build(self) -> core::Container {
        let mut env = vec![field_env("POD_IP", "status.podIP")];
        if self.pod_name_env {
            env.push(field_env("NAME", "metadata.name"));
        }
        core::Container {
            name: self.name.into(),
            image: Some(self.image),
            image_pull_policy: self.image_pull_policy,
            args: Some(self.args),
            ports: Some(self.ports),
            env: Some(env),
            resources: self.resources,
            volume_mounts: Some(self.mounts).filter(|m| !m.is_empty()),
            liveness_probe: Some(http_probe("/-/healthy", 30, 4)),
            readiness_probe: Some(http_probe("/-/ready", 5, 20)),
            // Set with every other container's by `pod_template` (crate::pod::apply).
            termination_message_policy: Some("FallbackToLogsOnError".into()),
            ..Default::default()
        }
    }
}

pub(crate) fn grpc_http_ports() -> Vec<core::ContainerPort> {
    vec![port("grpc", GRPC_PORT), port("http", HTTP_PORT)]
}

pub(crate) fn mount(name: &str, path: &str, read_only: bool) -> core::VolumeMount {
    core::VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

pub(crate) fn config_map_volume(volume: &str, config_map: &str) -> core::Volume {
    core::Volume {
        name: volume.into(),
        config_map: Some(core::ConfigMapVolumeSource {
            name: config_map.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn secret_volume(volume: &str, secret: &str, key: Option<&str>) -> core::Volume {
    core::Volume {
        name: volume.into(),
        secret: Some(core::SecretVolumeSource {
            secret_name: Some(secret.into()),
            items: key.map(|k| {
                vec![core::KeyToPath {
                    key: k.into(),
                    path: k.into(),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The content hash of what a pod mounts: the ConfigMaps' data and the Secret references. A
/// change of any of them changes the pod template, so the pods roll.
pub(crate) fn config_hash(config_maps: &[&core::ConfigMap], secret_refs: &[String]) -> String {
    let v = serde_json::json!({
        "configMaps": config_maps
            .iter()
            .map(|c| serde_json::json!({"name": c.metadata.name, "data": c.data}))
            .collect::<Vec<_>>(),
        "secrets": secret_refs,
    });
    sha256_hex(v.to_string().as_bytes())
}

/// The pod template of a workload of the resource `c` (of kind `kind`): `containers` (the
/// Thanos container first) and `volumes`, placed as `c` says (spread constraints select
/// `selector`), with every pod setting of `c` and the config-hash annotation that rolls the
/// pods when what they mount changes.
pub(crate) fn pod_template(
    c: &Common,
    labels: BTreeMap<String, String>,
    selector: &BTreeMap<String, String>,
    config_hash: Option<String>,
    containers: Vec<core::Container>,
    volumes: Vec<core::Volume>,
) -> core::PodTemplateSpec {
    let mut spec = core::PodSpec {
        containers,
        volumes: Some(volumes).filter(|v| !v.is_empty()),
        ..Default::default()
    };
    common::apply_placement(&c.placement, selector, &mut spec);
    let mut template = core::PodTemplateSpec {
        metadata: Some(meta::ObjectMeta {
            labels: Some(labels),
            annotations: config_hash.map(|h| BTreeMap::from([(CONFIG_HASH.to_owned(), h)])),
            ..Default::default()
        }),
        spec: Some(spec),
    };
    pod::apply(&c.pod, &mut template);
    template
}

/// Everything a resource renders: its own `objects` (in apply order) with the ServiceAccount
/// it creates first and a ServiceMonitor per Service last.
pub(crate) fn finish(kind: Kind, c: &Common, objects: Vec<Object>) -> Rendered {
    let mut out = Vec::with_capacity(objects.len() + 4);
    if let Some(sa) = c.pod.service_account.as_ref().filter(|s| s.create) {
        let mut annotations = c.annotations.clone();
        annotations.extend(sa.annotations.clone());
        out.push(Object::ServiceAccount(core::ServiceAccount {
            metadata: crate::meta::object_meta(
                sa.name.clone(),
                &c.namespace,
                crate::meta::object_labels(kind, &c.name, None, &BTreeMap::new(), &c.labels),
                &annotations,
            ),
            automount_service_account_token: Some(c.pod.automount_token),
            ..Default::default()
        }));
    }
    out.extend(objects);
    if let Some(settings) = &c.service_monitor {
        let monitors: Vec<Object> = out
            .iter()
            .filter_map(|o| match o {
                Object::Service(s) => monitor::for_service(s, settings, &c.annotations),
                _ => None,
            })
            .map(Object::ServiceMonitor)
            .collect();
        out.extend(monitors);
    }
    Rendered { objects: out }
}

/// A headless Service (`clusterIP: None`): per-pod DNS for StatefulSets, SRV records for
/// `dnssrv+` store discovery, and the seed's shape.
pub(crate) fn headless_service(
    metadata: meta::ObjectMeta,
    selector: BTreeMap<String, String>,
    ports: &[(&str, i32)],
) -> core::Service {
    core::Service {
        metadata,
        spec: Some(core::ServiceSpec {
            cluster_ip: Some("None".into()),
            type_: Some("ClusterIP".into()),
            selector: Some(selector),
            ports: Some(
                ports
                    .iter()
                    .map(|(name, p)| core::ServicePort {
                        name: Some((*name).into()),
                        port: *p,
                        target_port: Some(IntOrString::String((*name).into())),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What happens to a StatefulSet's claims when it shrinks or is deleted (Kubernetes'
/// `persistentVolumeClaimRetentionPolicy`: `Retain` or `Delete` each).
pub(crate) struct ClaimRetention<'a> {
    pub on_delete: &'a str,
    pub on_scale_down: &'a str,
}

/// A StatefulSet of peers, governed by the headless Service `service`: its pods start and are
/// replaced in parallel (rolling updates still go one pod at a time), each with the claims of
/// `claims`, kept or deleted as `retention` says (Kubernetes' default, `Retain`, when `None`).
pub(crate) fn peer_statefulset(
    metadata: meta::ObjectMeta,
    replicas: i32,
    service: String,
    selector: &BTreeMap<String, String>,
    template: core::PodTemplateSpec,
    claims: Option<Vec<core::PersistentVolumeClaim>>,
    retention: Option<ClaimRetention<'_>>,
) -> apps::StatefulSet {
    apps::StatefulSet {
        metadata,
        spec: Some(apps::StatefulSetSpec {
            replicas: Some(replicas),
            service_name: Some(service),
            pod_management_policy: Some("Parallel".into()),
            selector: self::selector(selector.clone()),
            template,
            volume_claim_templates: claims,
            persistent_volume_claim_retention_policy: retention.map(|r| {
                apps::StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some(r.on_delete.to_owned()),
                    when_scaled: Some(r.on_scale_down.to_owned()),
                }
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn pdb(
    metadata: meta::ObjectMeta,
    selector: BTreeMap<String, String>,
    max_unavailable: i32,
) -> policy::PodDisruptionBudget {
    policy::PodDisruptionBudget {
        metadata,
        spec: Some(policy::PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(max_unavailable)),
            selector: Some(meta::LabelSelector {
                match_labels: Some(selector),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn selector(labels: BTreeMap<String, String>) -> meta::LabelSelector {
    meta::LabelSelector {
        match_labels: Some(labels),
        ..Default::default()
    }
}

pub(crate) fn log_args(level: &Option<String>, format: &Option<String>) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(l) = level {
        v.push(format!("--log.level={l}"));
    }
    if let Some(f) = format {
        v.push(format!("--log.format={f}"));
    }
    v
}
