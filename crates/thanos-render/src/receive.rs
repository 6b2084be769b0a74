//! `thanos_receive`: a router Deployment, an ingestor StatefulSet, or a router + ingestor
//! StatefulSet (mode as the seed: `router` only → router; `ingestor` only or neither →
//! ingestor; both → router + ingestor), its headless Service, `hashrings.json` for router
//! modes, a PDB when replicas > 1 and the remote-write Ingress.
//!
//! Discovery is an input: rings that select their members (`endpoints_selector`) take their
//! endpoints from the `discovered` map (ring name → endpoint strings, as produced by
//! [`crate::discovery::endpoints_from_slices`]), so rendering stays pure.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use serde::Deserialize;

use crate::Error;
use crate::args::{self, DENY_ALWAYS, Denied};
use crate::common::{
    self, CommonRef, DataVolume, DataVolumeSource, IngressSpec, LabelSelector, RenderContext,
    Resources, SecretKeyRef, Toleration, TopologySpreadConstraint, required,
};
use crate::hashring::{self, HashringEntry};
use crate::meta::{self, DerivedName, GRPC_PORT, HTTP_PORT, Kind, REMOTE_WRITE_PORT};
use crate::object::{Object, Rendered};
use crate::validate::{self, Invalid, Path, Report};
use crate::workload::{self, ThanosContainer};

/// The hashrings ConfigMap gets its own directory: nothing is ever mounted inside a ConfigMap
/// volume (the objstore Secret sits next to it, not below it).
pub const HASHRINGS_DIR: &str = "/etc/thanos/hashrings";
pub const HASHRINGS_PATH: &str = "/etc/thanos/hashrings/hashrings.json";
pub const OBJSTORE_DIR: &str = "/etc/thanos/objstore";
pub const DATA_DIR: &str = "/thanos";

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiveSpec {
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
    pub resources: Option<Resources>,
    pub extra_args: Option<Vec<String>>,
    /// Default 1.
    pub replicas: Option<i64>,
    pub tenant_header: Option<String>,
    pub default_tenant_id: Option<String>,
    pub tenant_label_name: Option<String>,
    pub router: Option<Router>,
    pub ingestor: Option<Ingestor>,
}

/// `router` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Router {
    pub hashrings_refresh_interval: Option<String>,
    /// Default 1.
    pub replication_factor: Option<i64>,
    pub remote_write_ingress: Option<IngressSpec>,
    pub hard_tenant_hashrings: Option<Vec<Hashring>>,
    pub soft_tenant_hashring: Option<Hashring>,
}

/// A hashring: static `endpoints` or members selected by `endpoints_selector` (in this
/// namespace, or in the namespaces `endpoints_namespace_selector` selects).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hashring {
    pub name: Option<String>,
    pub tenants: Option<Vec<String>>,
    pub endpoints: Option<Vec<String>>,
    pub endpoints_selector: Option<LabelSelector>,
    pub endpoints_namespace_selector: Option<LabelSelector>,
}

/// `ingestor` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ingestor {
    pub local_tsdb_retention: Option<String>,
    pub object_storage_config: Option<SecretKeyRef>,
    pub data_volume: Option<DataVolume>,
    /// `Retain` (default) or `Delete`.
    pub pvc_retention_on_delete: Option<String>,
    /// `Retain` (default) or `Delete`.
    pub pvc_retention_on_scale_down: Option<String>,
}

/// Running mode, decided by which blocks are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    RouterOnly,
    IngestorOnly,
    RouterIngestor,
}

impl Mode {
    pub fn of(spec: &ReceiveSpec) -> Mode {
        match (spec.router.is_some(), spec.ingestor.is_some()) {
            (true, true) => Mode::RouterIngestor,
            (true, false) => Mode::RouterOnly,
            _ => Mode::IngestorOnly,
        }
    }
    pub fn is_router(self) -> bool {
        self != Mode::IngestorOnly
    }
    pub fn is_ingestor(self) -> bool {
        self != Mode::RouterOnly
    }
    /// Mode labels on object metadata, pod templates and Service selectors (never on
    /// workload selectors).
    pub fn labels(self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        if self.is_router() {
            m.insert(meta::RECEIVE_ROUTER.to_owned(), "true".to_owned());
        }
        if self.is_ingestor() {
            m.insert(meta::RECEIVE_INGESTOR.to_owned(), "true".to_owned());
        }
        m
    }
}

impl ReceiveSpec {
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

    /// Hard rings in spec order, then the soft ring, with their attribute paths.
    pub fn rings(&self) -> Vec<(Path, &Hashring)> {
        let Some(r) = &self.router else {
            return Vec::new();
        };
        let base = Path::root().attr("router");
        let mut v: Vec<(Path, &Hashring)> = r
            .hard_tenant_hashrings
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, h)| (base.attr("hard_tenant_hashrings").index(i), h))
            .collect();
        if let Some(s) = &r.soft_tenant_hashring {
            v.push((base.attr("soft_tenant_hashring"), s));
        }
        v
    }
}

/// Object names.
pub fn workload_name(name: &str) -> String {
    format!("thanosreceive-{name}")
}
pub fn service_name(name: &str) -> String {
    format!("thanosreceive-{name}-operated")
}
pub fn hashrings_config_map_name(name: &str) -> String {
    format!("thanosreceive-{name}-hashrings")
}
/// Name of the data volume (and of its volume claim template: PVCs are
/// `thanosreceive-<name>-tsdb-thanosreceive-<name>-<ordinal>`, as the seed's).
pub fn data_volume_name(name: &str) -> String {
    format!("thanosreceive-{name}-tsdb")
}

/// Computed `ingestor_endpoints`: `thanosreceive-<name>-<i>.thanosreceive-<name>-operated.<ns>.svc:10901`
/// for each replica, derived from replicas and names alone (empty in router-only mode).
/// `None` while the name is unknown (the caller must not call this with unknown replicas).
pub fn ingestor_endpoints(spec: &ReceiveSpec) -> Option<Vec<String>> {
    let name = spec.name.as_deref()?;
    if !Mode::of(spec).is_ingestor() {
        return Some(Vec::new());
    }
    // Unset replicas means the default, 1.
    let replicas = spec.replicas.unwrap_or(1).max(0);
    let ns = common::namespace_of(&spec.namespace);
    Some(
        (0..replicas)
            .map(|i| {
                crate::discovery::pod_endpoint(
                    &format!("{}-{i}", workload_name(name)),
                    &service_name(name),
                    ns,
                    GRPC_PORT,
                )
            })
            .collect(),
    )
}

/// What this pod passes as `--receive.local-endpoint`: the same canonical string as
/// [`ingestor_endpoints`], with the pod name from the `NAME` env var.
pub fn local_endpoint_arg(name: &str, namespace: &str) -> String {
    format!(
        "--receive.local-endpoint=$(NAME).{}.{namespace}.svc:{GRPC_PORT}",
        service_name(name)
    )
}

/// Computed `store_endpoint` (for `thanos_query.stores`):
/// `dnssrv+_grpc._tcp.thanosreceive-<name>-operated.<ns>.svc`: one address that resolves, via
/// the headless Service's SRV records, to every ready ingestor pod, so it never changes when
/// the resource scales. `None` in router-only mode (a router holds no data).
pub fn store_endpoint(spec: &ReceiveSpec) -> Option<String> {
    let name = spec.name.as_deref()?;
    if !Mode::of(spec).is_ingestor() {
        return None;
    }
    let ns = common::namespace_of(&spec.namespace);
    Some(format!("dnssrv+_grpc._tcp.{}.{ns}.svc", service_name(name)))
}

/// Computed `remote_write_url`: `http://thanosreceive-<name>-operated.<ns>.svc:19291/api/v1/receive`.
pub fn remote_write_url(spec: &ReceiveSpec) -> Option<String> {
    let name = spec.name.as_deref()?;
    let ns = common::namespace_of(&spec.namespace);
    Some(format!(
        "http://{}.{ns}.svc:{REMOTE_WRITE_PORT}/api/v1/receive",
        service_name(name)
    ))
}

/// Computed `hashrings`: exactly what `hashrings.json` contains. Rings with static `endpoints`
/// use them; rings with `endpoints_selector` take `discovered[ring name]`; a selector ring
/// missing from `discovered` is [`Error::Undiscovered`] (the resources layer plans it as
/// "known after apply"). Empty for ingestor-only mode.
pub fn hashrings(
    spec: &ReceiveSpec,
    discovered: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<HashringEntry>, Error> {
    let mut out = Vec::new();
    for (path, ring) in spec.rings() {
        let name = required(&ring.name, &path.attr("name"))?;
        let tenants = ring.tenants.clone().unwrap_or_default();
        let endpoints = match (&ring.endpoints, &ring.endpoints_selector) {
            (Some(e), _) => e.clone(),
            (None, Some(_)) => discovered
                .get(name)
                .cloned()
                .ok_or_else(|| Error::Undiscovered { ring: name.clone() })?,
            (None, None) => {
                return Err(Error::Missing {
                    path: validate::display_path(&path.attr("endpoints").0),
                });
            }
        };
        out.push(HashringEntry::new(name, &tenants, &endpoints));
    }
    Ok(out)
}

/// Warnings about discovered rings (never errors: membership is only known at apply time):
/// a discovered ring with fewer endpoints than the replication factor cannot accept writes.
pub fn discovery_warnings(
    spec: &ReceiveSpec,
    discovered: &BTreeMap<String, Vec<String>>,
) -> Vec<Invalid> {
    let rf = replication_factor(spec);
    let mut r = Report::default();
    for (path, ring) in spec.rings() {
        if ring.endpoints.is_some() || ring.endpoints_selector.is_none() {
            continue;
        }
        let Some(name) = &ring.name else { continue };
        let Some(found) = discovered.get(name) else {
            continue;
        };
        let n = hashring::sorted_unique(found).len();
        if (n as i64) < rf {
            r.push(
                &path.attr("endpoints_selector"),
                "Hashring smaller than the replication factor",
                format!(
                    "hashring {name:?} selects {n} ready endpoint(s) but replication_factor is {rf}: writes to its tenants fail until enough members are ready"
                ),
            );
        }
    }
    r.0
}

fn replication_factor(spec: &ReceiveSpec) -> i64 {
    spec.router
        .as_ref()
        .and_then(|r| r.replication_factor)
        .unwrap_or(1)
}

const DENY_RECEIVE: &[Denied] = &[
    Denied {
        flag: "--remote-write.address",
        why: "the remote-write listen address is managed: the Service, the Ingress and remote_write_url use port 19291",
    },
    Denied {
        flag: "--tsdb.path",
        why: "the TSDB lives on the managed data volume mounted at /thanos",
    },
    Denied {
        flag: "--receive.local-endpoint",
        why: "the local endpoint must be the canonical per-pod DNS name the hashring uses, or a router + ingestor pod would forward its own share to itself",
    },
    Denied {
        flag: "--objstore.config-file",
        why: "object storage is configured with ingestor.object_storage_config (mounted from its Secret)",
    },
];

const DENY_RING: &[Denied] = &[
    Denied {
        flag: "--receive.hashrings-file",
        why: "the hashring is managed (router.hard_tenant_hashrings / soft_tenant_hashring); on an ingestor-only receive a hashring would turn it into a router",
    },
    Denied {
        flag: "--receive.hashrings",
        why: "the hashring is managed (router.hard_tenant_hashrings / soft_tenant_hashring); on an ingestor-only receive a hashring would turn it into a router",
    },
];

/// Plan-time validation; skips unknown (`None`) values.
pub fn validate(spec: &ReceiveSpec) -> Vec<Invalid> {
    let mut r = Report::default();
    let root = Path::root();
    spec.common().validate(&mut r);
    args::validate_extra_args(
        &mut r,
        &spec.extra_args,
        &[DENY_ALWAYS, DENY_RECEIVE, DENY_RING],
    );
    common::validate_resources(&mut r, &root.attr("resources"), &spec.resources);
    common::validate_replicas(&mut r, &root.attr("replicas"), spec.replicas);
    if let Some(name) = &spec.name {
        let mut names = vec![
            DerivedName {
                name: service_name(name),
                limit: 63,
                what: "Service name",
            },
            DerivedName {
                name: meta::part_of(Kind::Receive, name),
                limit: 63,
                what: "ownership label value",
            },
        ];
        if Mode::of(spec).is_ingestor() {
            // The StatefulSet controller labels pods with `<statefulset>-<10-char hash>`.
            names.push(DerivedName {
                name: format!("{}-0123456789", workload_name(name)),
                limit: 63,
                what: "StatefulSet revision label (controller-revision-hash)",
            });
        }
        meta::check_derived_names(&mut r, &names);
    }
    if let Some(h) = &spec.tenant_header
        && let Err(e) = validate::http_header_name(h)
    {
        r.push(&root.attr("tenant_header"), "Invalid tenant_header", e);
    }
    if let Some(t) = &spec.default_tenant_id
        && t.is_empty()
    {
        r.push(
            &root.attr("default_tenant_id"),
            "Invalid default_tenant_id",
            "the default tenant must not be empty",
        );
    }
    if let Some(l) = &spec.tenant_label_name
        && let Err(e) = validate::prometheus_label_name(l)
    {
        r.push(
            &root.attr("tenant_label_name"),
            "Invalid tenant_label_name",
            e,
        );
    }
    if let Some(router) = &spec.router {
        validate_router(&mut r, spec, router);
    }
    if let Some(ing) = &spec.ingestor {
        let p = root.attr("ingestor");
        common::validate_duration(
            &mut r,
            &p.attr("local_tsdb_retention"),
            &ing.local_tsdb_retention,
        );
        common::validate_secret_key_ref(
            &mut r,
            &p.attr("object_storage_config"),
            &ing.object_storage_config,
        );
        common::validate_data_volume(&mut r, &p.attr("data_volume"), &ing.data_volume);
        for attr in ["pvc_retention_on_delete", "pvc_retention_on_scale_down"] {
            let v = if attr == "pvc_retention_on_delete" {
                &ing.pvc_retention_on_delete
            } else {
                &ing.pvc_retention_on_scale_down
            };
            common::check_enum(&mut r, &p.attr(attr), v, &["Retain", "Delete"]);
        }
    }
    r.0
}

fn validate_router(r: &mut Report, spec: &ReceiveSpec, router: &Router) {
    let p = Path::root().attr("router");
    common::validate_duration(
        r,
        &p.attr("hashrings_refresh_interval"),
        &router.hashrings_refresh_interval,
    );
    let rf = router.replication_factor;
    if let Some(n) = rf
        && !(1..=i64::from(i32::MAX)).contains(&n)
    {
        r.push(
            &p.attr("replication_factor"),
            "Invalid replication_factor",
            format!("{n} must be at least 1"),
        );
    }
    common::validate_ingress(
        r,
        &p.attr("remote_write_ingress"),
        &router.remote_write_ingress,
    );
    // An unknown list also arrives as None; a router's rings are rarely unknown at plan time
    // and render needs the answer anyway.
    if router
        .hard_tenant_hashrings
        .as_ref()
        .is_none_or(Vec::is_empty)
        && router.soft_tenant_hashring.is_none()
    {
        r.push(
            &p,
            "Router without a hashring",
            "a router needs at least one hashring to forward writes to: set soft_tenant_hashring (all tenants) or hard_tenant_hashrings",
        );
    }
    let mut names: BTreeMap<&str, Path> = BTreeMap::new();
    let mut tenants: BTreeMap<&str, Path> = BTreeMap::new();
    for (path, ring) in spec.rings() {
        let soft = matches!(path.0.last(), Some(validate::PathSegment::Attr(a)) if a == "soft_tenant_hashring");
        if let Some(n) = &ring.name {
            if n.is_empty() {
                r.push(
                    &path.attr("name"),
                    "Invalid hashring name",
                    "the name must not be empty",
                );
            } else if let Some(first) = names.insert(n, path.clone()) {
                r.push(
                    &path.attr("name"),
                    "Duplicate hashring name",
                    format!(
                        "{n:?} is already the name of {}",
                        validate::display_path(&first.0)
                    ),
                );
            }
        }
        match (&ring.tenants, soft) {
            (Some(t), false) if t.is_empty() => r.push(
                &path.attr("tenants"),
                "Hard hashring without tenants",
                "a hard tenant hashring must list its tenants; use soft_tenant_hashring for the ring that takes every other tenant",
            ),
            (Some(t), true) if !t.is_empty() => r.push(
                &path.attr("tenants"),
                "Soft hashring with tenants",
                "the soft tenant hashring takes every tenant no hard hashring lists, so it must not list tenants",
            ),
            _ => {}
        }
        if let Some(ts) = &ring.tenants {
            for (i, t) in ts.iter().enumerate() {
                let tp = path.attr("tenants").index(i);
                if t.is_empty() {
                    r.push(&tp, "Invalid tenant", "a tenant must not be empty");
                } else if let Some(first) = tenants.insert(t, tp.clone()) {
                    r.push(
                        &tp,
                        "Tenant in two places",
                        format!("tenant {t:?} is already listed at {}; Thanos would only ever use the first ring", validate::display_path(&first.0)),
                    );
                }
            }
        }
        match (&ring.endpoints, &ring.endpoints_selector) {
            (Some(_), Some(_)) => r.push(
                &path.attr("endpoints_selector"),
                "Conflicting hashring members",
                "set either endpoints (static) or endpoints_selector (discovered), not both",
            ),
            (Some(eps), None) => {
                let mut seen = BTreeSet::new();
                for (i, e) in eps.iter().enumerate() {
                    let ep = path.attr("endpoints").index(i);
                    if let Err(err) = validate::host_port(e) {
                        r.push(&ep, "Invalid endpoint", err);
                    }
                    if !seen.insert(e) {
                        r.push(&ep, "Duplicate endpoint", format!("{e:?} is listed twice"));
                    }
                }
                let n = seen.len() as i64;
                let rf = rf.unwrap_or(1);
                if n == 0 {
                    r.push(
                        &path.attr("endpoints"),
                        "Empty hashring",
                        "a hashring needs at least one endpoint to accept writes",
                    );
                } else if n < rf {
                    r.push(
                        &path.attr("endpoints"),
                        "Hashring smaller than the replication factor",
                        format!("{n} endpoint(s) cannot hold {rf} replicas of each series (replication_factor = {rf})"),
                    );
                }
            }
            (None, None) => {
                // Only an error when both are known to be unset; the resources layer passes
                // None for unknown too, so the check is left to render time.
            }
            (None, Some(_)) => {}
        }
        if ring.endpoints_namespace_selector.is_some()
            && ring.endpoints_selector.is_none()
            && ring.endpoints.is_none()
        {
            r.push(
                &path.attr("endpoints_namespace_selector"),
                "Namespace selector without endpoints selector",
                "endpoints_namespace_selector only chooses where endpoints_selector looks; set endpoints_selector too",
            );
        }
        common::validate_label_selector(
            r,
            &path.attr("endpoints_selector"),
            &ring.endpoints_selector,
        );
        common::validate_label_selector(
            r,
            &path.attr("endpoints_namespace_selector"),
            &ring.endpoints_namespace_selector,
        );
    }
}

/// Renders every object. `discovered`: endpoints of selector rings, by ring name.
pub fn render(
    spec: &ReceiveSpec,
    ctx: &RenderContext,
    discovered: &BTreeMap<String, Vec<String>>,
) -> Result<Rendered, Error> {
    let invalid = validate(spec);
    if !invalid.is_empty() {
        return Err(Error::Invalid(invalid));
    }
    let root = Path::root();
    let name = required(&spec.name, &root.attr("name"))?.as_str();
    let ns = common::namespace_of(&spec.namespace);
    let mode = Mode::of(spec);
    let mode_labels = mode.labels();
    let labels = meta::object_labels(Kind::Receive, name, None, &mode_labels, &spec.labels);
    let selector = meta::selector_labels(Kind::Receive, name, None);
    let mut pod_selector = selector.clone();
    pod_selector.extend(mode_labels.clone());
    let om = |n: String| meta::object_meta(n, ns, labels.clone(), &spec.annotations);

    let mut objects = Vec::new();
    let hashrings_cm = if mode.is_router() {
        let rings = hashrings(spec, discovered)?;
        for ((path, _), ring) in spec.rings().iter().zip(&rings) {
            if ring.endpoints.is_empty() {
                return Err(Error::Invalid(vec![Invalid {
                    path: path.attr("endpoints_selector").0,
                    summary: "Empty hashring".into(),
                    detail: format!(
                        "hashring {:?} has no ready endpoints; Thanos cannot write its tenants to an empty ring. Check endpoints_selector, or create the ingestors first.",
                        ring.name
                    ),
                }]));
            }
        }
        Some(core::ConfigMap {
            metadata: om(hashrings_config_map_name(name)),
            data: Some(BTreeMap::from([(
                "hashrings.json".to_owned(),
                hashring::to_json_text(&rings),
            )])),
            ..Default::default()
        })
    } else {
        None
    };

    // Args.
    let mut a = vec![
        "receive".to_owned(),
        format!("--grpc-address=[$(POD_IP)]:{GRPC_PORT}"),
        format!("--http-address=[$(POD_IP)]:{HTTP_PORT}"),
        format!("--remote-write.address=[$(POD_IP)]:{REMOTE_WRITE_PORT}"),
        "--label=receive_replica=\"$(NAME)\"".to_owned(),
        format!("--tsdb.path={DATA_DIR}"),
    ];
    a.extend(workload::log_args(&spec.log_level, &spec.log_format));
    if let Some(h) = &spec.tenant_header {
        a.push(format!("--receive.tenant-header={h}"));
    }
    if let Some(t) = &spec.default_tenant_id {
        a.push(format!("--receive.default-tenant-id={t}"));
    }
    if let Some(l) = &spec.tenant_label_name {
        a.push(format!("--receive.tenant-label-name={l}"));
    }
    let mut volumes = Vec::new();
    let mut mounts = vec![workload::mount(&data_volume_name(name), DATA_DIR, false)];
    let mut secret_refs = Vec::new();
    if mode.is_ingestor() {
        a.push(local_endpoint_arg(name, ns));
        let ing = spec.ingestor.clone().unwrap_or_default();
        if let Some(rt) = &ing.local_tsdb_retention {
            a.push(format!("--tsdb.retention={rt}"));
        }
        if let Some(os) = &ing.object_storage_config {
            let op = root.attr("ingestor").attr("object_storage_config");
            let secret = required(&os.name, &op.attr("name"))?;
            let key = required(&os.key, &op.attr("key"))?;
            a.push(format!("--objstore.config-file={OBJSTORE_DIR}/{key}"));
            volumes.push(workload::secret_volume("objstore", secret, Some(key)));
            mounts.push(workload::mount("objstore", OBJSTORE_DIR, true));
            secret_refs.push(format!("{secret}/{key}"));
        }
    }
    if let Some(router) = spec.router.as_ref().filter(|_| mode.is_router()) {
        a.push(format!("--receive.hashrings-file={HASHRINGS_PATH}"));
        if let Some(i) = &router.hashrings_refresh_interval {
            a.push(format!("--receive.hashrings-file-refresh-interval={i}"));
        }
        a.push(format!(
            "--receive.replication-factor={}",
            replication_factor(spec)
        ));
        volumes.insert(
            0,
            workload::config_map_volume("hashrings", &hashrings_config_map_name(name)),
        );
        mounts.push(workload::mount("hashrings", HASHRINGS_DIR, true));
    }
    let a = args::merge_extra_args(a, &spec.extra_args);

    let container = ThanosContainer {
        name: "thanosreceive",
        image: spec
            .image
            .clone()
            .unwrap_or_else(|| ctx.thanos_image.clone()),
        image_pull_policy: spec.image_pull_policy.clone(),
        args: a,
        ports: vec![
            workload::port("grpc", GRPC_PORT),
            workload::port("http", HTTP_PORT),
            workload::port("remote-write", REMOTE_WRITE_PORT),
        ],
        pod_name_env: true,
        resources: common::resource_requirements(&spec.resources),
        mounts,
    }
    .build();

    let hash = workload::config_hash(&hashrings_cm.iter().collect::<Vec<_>>(), &secret_refs);
    let replicas = workload::replicas_i32(spec.replicas);
    let service = workload::headless_service(
        om(service_name(name)),
        pod_selector,
        &[
            ("grpc", GRPC_PORT),
            ("http", HTTP_PORT),
            ("remote-write", REMOTE_WRITE_PORT),
        ],
    );

    let workload_obj = if mode.is_ingestor() {
        let ing = spec.ingestor.clone().unwrap_or_default();
        let mut claim_labels = meta::ownership_labels(Kind::Receive, name);
        claim_labels.extend(selector.clone());
        let source = common::data_volume_source(
            &data_volume_name(name),
            &ing.data_volume,
            &claim_labels,
            &root.attr("ingestor").attr("data_volume"),
        )?;
        let mut vcts = None;
        match source {
            DataVolumeSource::EmptyDir(v) => volumes.push(*v),
            DataVolumeSource::Claim(c) => vcts = Some(vec![*c]),
        }
        let mut pod = workload::base_pod_spec(vec![container], volumes);
        common::apply_placement(&spec.common(), &selector, &mut pod)?;
        Object::StatefulSet(apps::StatefulSet {
            metadata: om(workload_name(name)),
            spec: Some(apps::StatefulSetSpec {
                replicas: Some(replicas),
                service_name: Some(service_name(name)),
                // Ingestors are independent peers: start and replace them in parallel
                // (rolling updates still go one pod at a time).
                pod_management_policy: Some("Parallel".into()),
                selector: workload::selector(selector.clone()),
                template: workload::pod_template(labels.clone(), Some(hash), pod),
                volume_claim_templates: vcts,
                persistent_volume_claim_retention_policy: Some(
                    apps::StatefulSetPersistentVolumeClaimRetentionPolicy {
                        when_deleted: Some(
                            ing.pvc_retention_on_delete
                                .clone()
                                .unwrap_or_else(|| "Retain".into()),
                        ),
                        when_scaled: Some(
                            ing.pvc_retention_on_scale_down
                                .clone()
                                .unwrap_or_else(|| "Retain".into()),
                        ),
                    },
                ),
                ..Default::default()
            }),
            ..Default::default()
        })
    } else {
        // A router holds no data: its TSDB path is a scratch emptyDir.
        volumes.push(core::Volume {
            name: data_volume_name(name),
            empty_dir: Some(Default::default()),
            ..Default::default()
        });
        let mut pod = workload::base_pod_spec(vec![container], volumes);
        common::apply_placement(&spec.common(), &selector, &mut pod)?;
        Object::Deployment(apps::Deployment {
            metadata: om(workload_name(name)),
            spec: Some(apps::DeploymentSpec {
                replicas: Some(replicas),
                selector: workload::selector(selector.clone()),
                template: workload::pod_template(labels.clone(), Some(hash), pod),
                ..Default::default()
            }),
            ..Default::default()
        })
    };

    if let Some(cm) = hashrings_cm {
        objects.push(Object::ConfigMap(cm));
    }
    objects.push(Object::Service(service));
    objects.push(workload_obj);
    if replicas > 1 {
        objects.push(Object::PodDisruptionBudget(workload::pdb(
            om(workload_name(name)),
            selector.clone(),
            pdb_max_unavailable(spec),
        )));
    }
    if let Some(ing) = spec
        .router
        .as_ref()
        .and_then(|r| r.remote_write_ingress.as_ref())
    {
        objects.push(Object::Ingress(common::build_ingress(
            &format!("thanosreceive-{name}-remote-write"),
            ns,
            &labels,
            &spec.annotations,
            &[],
            ing,
            &service_name(name),
            REMOTE_WRITE_PORT,
            &root.attr("router").attr("remote_write_ingress"),
        )?));
    }
    Ok(Rendered { objects })
}

/// PDB `maxUnavailable`: routers are stateless (1); ingestors keep write quorum, so at most
/// floor(RF/2) may be down at once, but never 0 (which would block every node drain forever;
/// with RF 1 there is no redundancy to protect).
pub fn pdb_max_unavailable(spec: &ReceiveSpec) -> i32 {
    if !Mode::of(spec).is_ingestor() {
        return 1;
    }
    i32::try_from((replication_factor(spec) / 2).max(1)).unwrap_or(1)
}
