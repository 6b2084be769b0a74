//! `thanos_storage`: a store gateway StatefulSet (+ headless Service, PDB when replicas > 1)
//! and a compactor StatefulSet (always 1 replica, + headless Service for its HTTP port) on one
//! object storage bucket, whose configuration is a user's Secret or a Secret this resource
//! owns (rendered from `object_storage`).

use std::collections::BTreeMap;

use crate::args::{self, Denied};
use crate::common::{self, Common, DataVolume, RenderContext, Resources, SecretKeyRef};
use crate::meta::{self, DerivedName, GRPC_PORT, HTTP_PORT, Kind};
use crate::object::{Object, Rendered};
use crate::objstore::Bucket;
use crate::workload::{self, ThanosContainer};

pub const OBJSTORE_DIR: &str = "/etc/thanos/objstore";
pub const DATA_DIR: &str = "/thanos";
/// Every path the gateway and the compactor mount into their Thanos containers: an extra
/// volume may not be at, above or below any of them.
pub const MOUNT_PATHS: &[&str] = &[DATA_DIR, OBJSTORE_DIR];

/// A validated `thanos_storage`: at least one of `gateway` and `compact`.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageSpec {
    pub common: Common,
    pub object_storage: Bucket,
    pub gateway: Option<Gateway>,
    pub compact: Option<Compact>,
}

/// `gateway` block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gateway {
    pub replicas: i32,
    pub resources: Resources,
    pub data_volume: DataVolume,
    pub min_time: Option<String>,
    pub max_time: Option<String>,
}

/// `compact` block. The compactor is a singleton: always 1 replica.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Compact {
    pub resources: Resources,
    pub downsampling_disable: bool,
    pub retention: Retention,
    pub data_volume: DataVolume,
}

/// `compact.retention` block (Prometheus durations; `0d` keeps forever; `None` is Thanos's
/// default).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Retention {
    pub raw: Option<String>,
    pub five_minutes: Option<String>,
    pub one_hour: Option<String>,
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
/// The Secret holding the objstore file rendered from `object_storage` (gateway and compactor
/// share it).
pub fn objstore_secret_name(name: &str) -> String {
    format!("thanosstorage-{name}-objstore")
}

/// Computed `store_endpoint` of the gateway (`None` without a gateway):
/// `dnssrv+_grpc._tcp.thanosstorage-<name>-gateway-operated.<ns>.svc`.
pub fn store_endpoint(name: &str, namespace: &str, has_gateway: bool) -> Option<String> {
    has_gateway.then(|| {
        format!(
            "dnssrv+_grpc._tcp.{}.{namespace}.svc",
            service_name(name, "gateway")
        )
    })
}

/// Names Kubernetes derives from a storage stack's name, with their limits.
pub fn derived_names(name: &str) -> Vec<DerivedName> {
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
    names
}

/// Flags of the gateway and compactor that `extra_args` may not set, besides
/// [`args::DENY_ALWAYS`].
pub const DENY_STORAGE: &[Denied] = &[
    Denied {
        flag: "--data-dir",
        why: "the data directory is the managed data volume mounted at /thanos",
    },
    Denied {
        flag: "--objstore.config-file",
        why: "object storage is configured with object_storage or object_storage_config (mounted from its Secret)",
    },
    Denied {
        flag: "--objstore.config",
        why: "object storage is configured with object_storage or object_storage_config (mounted from its Secret)",
    },
];

/// Renders the gateway and the compactor (whichever are set) on the one bucket.
pub fn render(spec: &StorageSpec, ctx: &RenderContext) -> Rendered {
    let c = &spec.common;
    let name = c.name.as_str();
    let ns = c.namespace.as_str();
    let owned = objstore_secret_name(name);
    let SecretKeyRef { name: secret, key } = spec.object_storage.secret_ref(&owned);
    let (secret, key) = (secret.as_str(), key.as_str());
    let secret_refs = vec![spec.object_storage.hash_input(&owned)];

    let mut services = Vec::new();
    let mut workloads = Vec::new();
    let mut pdbs = Vec::new();

    let mut build = |sub: &'static str,
                     replicas: i32,
                     args: Vec<String>,
                     ports: Vec<(&'static str, i32)>,
                     resources: &Resources,
                     data_volume: &DataVolume| {
        let labels =
            meta::object_labels(Kind::Storage, name, Some(sub), &BTreeMap::new(), &c.labels);
        let selector = meta::selector_labels(Kind::Storage, name, Some(sub));
        let om = |n: String| meta::object_meta(n, ns, labels.clone(), &c.annotations);
        let args = args::merge_extra_args(args, &c.extra_args);
        let container = ThanosContainer {
            name: "thanosstorage",
            image: c.image(ctx),
            image_pull_policy: c.image_pull_policy.clone(),
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
        let mut volumes = vec![workload::secret_volume("objstore", secret, Some(key))];
        let vcts = common::data_volume(
            &data_volume_name(name, sub),
            data_volume,
            (Kind::Storage, name),
            &selector,
            &mut volumes,
        );
        let hash = workload::config_hash(&[], &secret_refs);
        let template = workload::pod_template(
            c,
            labels.clone(),
            &selector,
            Some(hash),
            vec![container],
            volumes,
        );
        services.push(Object::Service(workload::headless_service(
            om(service_name(name, sub)),
            selector.clone(),
            &ports,
        )));
        // The bucket keeps the data; the claims are caches Kubernetes' default retains.
        workloads.push(Object::StatefulSet(workload::peer_statefulset(
            om(workload_name(name, sub)),
            replicas,
            service_name(name, sub),
            &selector,
            template,
            vcts,
            None,
        )));
        if replicas > 1 {
            pdbs.push(Object::PodDisruptionBudget(workload::pdb(
                om(workload_name(name, sub)),
                selector.clone(),
                1,
            )));
        }
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
        a.extend(workload::log_args(&c.log_level, &c.log_format));
        build(
            "gateway",
            g.replicas,
            a,
            vec![("grpc", GRPC_PORT), ("http", HTTP_PORT)],
            &g.resources,
            &g.data_volume,
        );
    }
    if let Some(cp) = &spec.compact {
        let mut a = vec![
            "compact".to_owned(),
            "--wait".to_owned(),
            format!("--http-address=[$(POD_IP)]:{HTTP_PORT}"),
            format!("--data-dir={DATA_DIR}"),
            format!("--objstore.config-file={OBJSTORE_DIR}/{key}"),
        ];
        if cp.downsampling_disable {
            a.push("--downsampling.disable".to_owned());
        }
        let r = &cp.retention;
        for (flag, v) in [
            ("raw", &r.raw),
            ("5m", &r.five_minutes),
            ("1h", &r.one_hour),
        ] {
            if let Some(v) = v {
                a.push(format!("--retention.resolution-{flag}={v}"));
            }
        }
        a.extend(workload::log_args(&c.log_level, &c.log_format));
        // A compactor must be a singleton: two would compact the same blocks concurrently.
        build(
            "compact",
            1,
            a,
            vec![("http", HTTP_PORT)],
            &cp.resources,
            &cp.data_volume,
        );
    }
    let mut objects: Vec<Object> = spec
        .object_storage
        .owned_secret(meta::object_meta(
            owned,
            ns,
            meta::object_labels(Kind::Storage, name, None, &BTreeMap::new(), &c.labels),
            &c.annotations,
        ))
        .map(Object::Secret)
        .into_iter()
        .collect();
    objects.extend(services);
    objects.extend(workloads);
    objects.extend(pdbs);
    workload::finish(Kind::Storage, c, objects)
}
