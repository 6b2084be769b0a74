//! `thanos_storage`: a store gateway StatefulSet (+ headless Service, PDB when replicas > 1)
//! and a compactor StatefulSet (always 1 replica, + headless Service for its HTTP port) on one
//! object storage bucket.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use serde::Deserialize;

use crate::Error;
use crate::args::{self, DENY_ALWAYS, Denied};
use crate::common::{
    self, CommonRef, DataVolume, DataVolumeSource, RenderContext, Resources, SecretKeyRef,
    Toleration, TopologySpreadConstraint, required,
};
use crate::meta::{self, DerivedName, GRPC_PORT, HTTP_PORT, Kind};
use crate::object::{Object, Rendered};
use crate::validate::{self, Invalid, Path, Report};
use crate::workload::{self, ThanosContainer};

pub const OBJSTORE_DIR: &str = "/etc/thanos/objstore";
pub const DATA_DIR: &str = "/thanos";

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSpec {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub image: Option<String>,
    pub image_pull_policy: Option<String>,
    pub log_level: Option<String>,
    pub log_format: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub node_selector: Option<BTreeMap<String, String>>,
    pub tolerations: Option<Vec<Toleration>>,
    pub affinity: Option<String>,
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    pub extra_args: Option<Vec<String>>,
    /// Required.
    pub object_storage_config: Option<SecretKeyRef>,
    pub gateway: Option<Gateway>,
    pub compact: Option<Compact>,
}

/// `gateway` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gateway {
    /// Default 1.
    pub replicas: Option<i64>,
    pub resources: Option<Resources>,
    pub data_volume: Option<DataVolume>,
    pub min_time: Option<String>,
    pub max_time: Option<String>,
}

/// `compact` block. The compactor is a singleton: always 1 replica.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Compact {
    pub resources: Option<Resources>,
    pub downsampling_disable: Option<bool>,
    pub retention: Option<Retention>,
    pub data_volume: Option<DataVolume>,
}

/// `compact.retention` block (Prometheus durations; `0d` keeps forever).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    pub raw: Option<String>,
    pub five_minutes: Option<String>,
    pub one_hour: Option<String>,
}

impl StorageSpec {
    fn common(&self) -> CommonRef<'_> {
        CommonRef {
            name: &self.name,
            namespace: &self.namespace,
            image: &self.image,
            image_pull_policy: &self.image_pull_policy,
            log_level: &self.log_level,
            log_format: &self.log_format,
            labels: &self.labels,
            annotations: &self.annotations,
            node_selector: &self.node_selector,
            tolerations: &self.tolerations,
            affinity: &self.affinity,
            topology_spread_constraints: &self.topology_spread_constraints,
        }
    }
}

/// Object names (`sub` is `gateway` or `compact`).
pub fn workload_name(name: &str, sub: &str) -> String {
    format!("thanosstorage-{name}-{sub}")
}
pub fn service_name(name: &str, sub: &str) -> String {
    format!("thanosstorage-{name}-{sub}-operated")
}
pub fn data_volume_name(name: &str, sub: &str) -> String {
    format!("thanosstorage-{name}-{sub}-tsdb")
}

/// Computed `store_endpoint` of the gateway (`None` without a gateway):
/// `dnssrv+_grpc._tcp.thanosstorage-<name>-gateway-operated.<ns>.svc`.
pub fn store_endpoint(spec: &StorageSpec) -> Option<String> {
    let name = spec.name.as_deref()?;
    spec.gateway.as_ref()?;
    let ns = common::namespace_of(&spec.namespace);
    Some(format!(
        "dnssrv+_grpc._tcp.{}.{ns}.svc",
        service_name(name, "gateway")
    ))
}

const DENY_STORAGE: &[Denied] = &[
    Denied {
        flag: "--data-dir",
        why: "the data directory is the managed data volume mounted at /thanos",
    },
    Denied {
        flag: "--objstore.config-file",
        why: "object storage is configured with object_storage_config (mounted from its Secret)",
    },
    Denied {
        flag: "--objstore.config",
        why: "object storage is configured with object_storage_config (mounted from its Secret)",
    },
];

/// Plan-time validation; skips unknown (`None`) values.
pub fn validate(spec: &StorageSpec) -> Vec<Invalid> {
    let mut r = Report::default();
    let root = Path::root();
    spec.common().validate(&mut r);
    args::validate_extra_args(&mut r, &spec.extra_args, &[DENY_ALWAYS, DENY_STORAGE]);
    common::validate_secret_key_ref(
        &mut r,
        &root.attr("object_storage_config"),
        &spec.object_storage_config,
    );
    if let Some(name) = &spec.name {
        let mut names = vec![DerivedName {
            name: meta::part_of(Kind::Storage, name),
            limit: 63,
            what: "ownership label value",
        }];
        for sub in ["gateway", "compact"] {
            names.push(DerivedName {
                name: service_name(name, sub),
                limit: 63,
                what: "Service name",
            });
            names.push(DerivedName {
                name: format!("{}-0123456789", workload_name(name, sub)),
                limit: 63,
                what: "StatefulSet revision label (controller-revision-hash)",
            });
        }
        meta::check_derived_names(&mut r, &names);
    }
    if spec.gateway.is_none() && spec.compact.is_none() {
        r.push(
            &root,
            "Nothing to deploy",
            "set a gateway block (serves the bucket's blocks to thanos_query), a compact block (compacts, downsamples and applies retention), or both",
        );
    }
    if let Some(g) = &spec.gateway {
        let p = root.attr("gateway");
        common::validate_replicas(&mut r, &p.attr("replicas"), g.replicas);
        common::validate_resources(&mut r, &p.attr("resources"), &g.resources);
        common::validate_data_volume(&mut r, &p.attr("data_volume"), &g.data_volume);
        for (attr, v) in [("min_time", &g.min_time), ("max_time", &g.max_time)] {
            if let Some(t) = v
                && let Err(e) = validate::thanos_time_or_duration(t)
            {
                r.push(&p.attr(attr), "Invalid time", e);
            }
        }
    }
    if let Some(c) = &spec.compact {
        let p = root.attr("compact");
        common::validate_resources(&mut r, &p.attr("resources"), &c.resources);
        common::validate_data_volume(&mut r, &p.attr("data_volume"), &c.data_volume);
        if let Some(ret) = &c.retention {
            let rp = p.attr("retention");
            common::validate_duration(&mut r, &rp.attr("raw"), &ret.raw);
            common::validate_duration(&mut r, &rp.attr("five_minutes"), &ret.five_minutes);
            common::validate_duration(&mut r, &rp.attr("one_hour"), &ret.one_hour);
        }
    }
    r.0
}

pub fn render(spec: &StorageSpec, ctx: &RenderContext) -> Result<Rendered, Error> {
    let invalid = validate(spec);
    if !invalid.is_empty() {
        return Err(Error::Invalid(invalid));
    }
    let root = Path::root();
    let name = required(&spec.name, &root.attr("name"))?.as_str();
    let ns = common::namespace_of(&spec.namespace);
    let osc_path = root.attr("object_storage_config");
    let osc = required(&spec.object_storage_config, &osc_path)?;
    let secret = required(&osc.name, &osc_path.attr("name"))?;
    let key = required(&osc.key, &osc_path.attr("key"))?;
    let secret_refs = vec![format!("{secret}/{key}")];

    let mut services = Vec::new();
    let mut workloads = Vec::new();
    let mut pdbs = Vec::new();

    let mut build = |sub: &'static str,
                     replicas: i32,
                     args: Vec<String>,
                     ports: Vec<(&'static str, i32)>,
                     resources: &Option<Resources>,
                     data_volume: &Option<DataVolume>|
     -> Result<(), Error> {
        let sub_labels = BTreeMap::new();
        let labels = meta::object_labels(Kind::Storage, name, Some(sub), &sub_labels, &spec.labels);
        let selector = meta::selector_labels(Kind::Storage, name, Some(sub));
        let om = |n: String| meta::object_meta(n, ns, labels.clone(), &spec.annotations);
        let args = args::merge_extra_args(args, &spec.extra_args);
        let container = ThanosContainer {
            name: "thanosstorage",
            image: spec
                .image
                .clone()
                .unwrap_or_else(|| ctx.thanos_image.clone()),
            image_pull_policy: spec.image_pull_policy.clone(),
            args,
            ports: ports.iter().map(|(n, p)| workload::port(n, *p)).collect(),
            pod_name_env: true,
            resources: common::resource_requirements(resources),
            mounts: vec![
                workload::mount("objstore", OBJSTORE_DIR, true),
                workload::mount(&data_volume_name(name, sub), DATA_DIR, false),
            ],
        }
        .build();
        let mut claim_labels = meta::ownership_labels(Kind::Storage, name);
        claim_labels.extend(selector.clone());
        let mut volumes = vec![workload::secret_volume("objstore", secret, Some(key))];
        let mut vcts = None;
        match common::data_volume_source(
            &data_volume_name(name, sub),
            data_volume,
            &claim_labels,
            &root.attr(sub).attr("data_volume"),
        )? {
            DataVolumeSource::EmptyDir(v) => volumes.push(*v),
            DataVolumeSource::Claim(c) => vcts = Some(vec![*c]),
        }
        let mut pod = workload::base_pod_spec(vec![container], volumes);
        common::apply_placement(&spec.common(), &selector, &mut pod)?;
        let hash = workload::config_hash(&[], &secret_refs);
        services.push(Object::Service(workload::headless_service(
            om(service_name(name, sub)),
            selector.clone(),
            &ports,
        )));
        workloads.push(Object::StatefulSet(apps::StatefulSet {
            metadata: om(workload_name(name, sub)),
            spec: Some(apps::StatefulSetSpec {
                replicas: Some(replicas),
                service_name: Some(service_name(name, sub)),
                pod_management_policy: Some("Parallel".into()),
                selector: workload::selector(selector.clone()),
                template: workload::pod_template(labels.clone(), Some(hash), pod),
                volume_claim_templates: vcts,
                ..Default::default()
            }),
            ..Default::default()
        }));
        if replicas > 1 {
            pdbs.push(Object::PodDisruptionBudget(workload::pdb(
                om(workload_name(name, sub)),
                selector.clone(),
                1,
            )));
        }
        Ok(())
    };

    if let Some(g) = &spec.gateway {
        let mut a = vec![
            "store".to_owned(),
            format!("--grpc-address=[$(POD_IP)]:{GRPC_PORT}"),
            format!("--http-address=[$(POD_IP)]:{HTTP_PORT}"),
            format!("--data-dir={DATA_DIR}"),
            format!("--objstore.config-file={OBJSTORE_DIR}/{key}"),
        ];
        if let Some(t) = &g.min_time {
            a.push(format!("--min-time={t}"));
        }
        if let Some(t) = &g.max_time {
            a.push(format!("--max-time={t}"));
        }
        a.extend(workload::log_args(&spec.log_level, &spec.log_format));
        build(
            "gateway",
            workload::replicas_i32(g.replicas),
            a,
            vec![("grpc", GRPC_PORT), ("http", HTTP_PORT)],
            &g.resources,
            &g.data_volume,
        )?;
    }
    if let Some(c) = &spec.compact {
        let mut a = vec![
            "compact".to_owned(),
            "--wait".to_owned(),
            format!("--http-address=[$(POD_IP)]:{HTTP_PORT}"),
            format!("--data-dir={DATA_DIR}"),
            format!("--objstore.config-file={OBJSTORE_DIR}/{key}"),
        ];
        if c.downsampling_disable == Some(true) {
            a.push("--downsampling.disable".to_owned());
        }
        if let Some(r) = &c.retention {
            for (flag, v) in [
                ("raw", &r.raw),
                ("5m", &r.five_minutes),
                ("1h", &r.one_hour),
            ] {
                if let Some(v) = v {
                    a.push(format!("--retention.resolution-{flag}={v}"));
                }
            }
        }
        a.extend(workload::log_args(&spec.log_level, &spec.log_format));
        // A compactor must be a singleton: two would compact the same blocks concurrently.
        build(
            "compact",
            1,
            a,
            vec![("http", HTTP_PORT)],
            &c.resources,
            &c.data_volume,
        )?;
    }
    let mut objects = services;
    objects.extend(workloads);
    objects.extend(pdbs);
    Ok(Rendered { objects })
}
