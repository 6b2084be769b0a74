//! `thanos_receive`: a router Deployment, an ingestor StatefulSet, or a router + ingestor
//! StatefulSet (mode as the seed: `router` only → router; `ingestor` only or neither →
//! ingestor; both → router + ingestor), its headless Service, `hashrings.json` for router
//! modes, a PDB when replicas > 1 and the remote-write Ingress.
//!
//! Discovery is an input: rings that select their members (`endpoints_selector`) take their
//! endpoints from the `discovered` map (ring name → endpoint strings, as produced by
//! [`crate::discovery::endpoints_from_slices`]), so rendering stays pure.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;

use crate::Error;
use crate::args::{self, Denied};
use crate::common::{
    self, Common, DataVolume, Ingress, IngressTarget, LabelSelector, RenderContext, Resources,
};
use crate::hashring::{self, HashringEntry, RingEndpoint, ShuffleSharding, TenantMatcher};
use crate::meta::{self, DerivedName, GRPC_PORT, HTTP_PORT, Kind, REMOTE_WRITE_PORT};
use crate::object::{Object, Rendered};
use crate::objstore::Bucket;
use crate::placement::{self, Algorithm, MultiRing, PlacementError};
use crate::validate::{Invalid, Path, Report};
use crate::workload::{self, ThanosContainer};

mod own_pods;
mod rings;

pub use own_pods::{
    Resize, endpoint_slice_labels, interim, is_own_endpoint, own_ordinal, selects_own,
    with_own_members,
};
pub use rings::{default_algorithm, discovery_warnings, hashrings, ring_findings};

/// The hashrings ConfigMap gets its own directory: nothing is ever mounted inside a ConfigMap
/// volume (the objstore Secret sits next to it, not below it).
pub const HASHRINGS_DIR: &str = "/etc/thanos/hashrings";
pub const HASHRINGS_PATH: &str = "/etc/thanos/hashrings/hashrings.json";
/// The key of the router's ConfigMap that holds `hashrings.json`.
pub const HASHRINGS_FILE: &str = "hashrings.json";
pub const OBJSTORE_DIR: &str = "/etc/thanos/objstore";
pub const DATA_DIR: &str = "/thanos";
/// Every path a receive mounts into its Thanos container (whichever mode): an extra volume may
/// not be at, above or below any of them.
pub const MOUNT_PATHS: &[&str] = &[DATA_DIR, HASHRINGS_DIR, OBJSTORE_DIR];

/// A validated `thanos_receive`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiveSpec {
    pub common: Common,
    pub replicas: i32,
    pub resources: Resources,
    pub tenant_header: Option<String>,
    pub default_tenant_id: Option<String>,
    pub tenant_label_name: Option<String>,
    pub router: Option<Router>,
    pub ingestor: Option<Ingestor>,
    /// How long a pod may take to stop (`terminationGracePeriodSeconds`): an ingestor flushes
    /// its head and uploads its last block, a router finishes its requests. `None`: the
    /// rendering of the versions before this setting existed, kept for receives they applied
    /// (Kubernetes' default of 30 seconds, and pods that restart whenever a hashring changes).
    pub termination_grace_period_seconds: Option<i64>,
    /// Ingestor pods kept running above `replicas` while hashrings of other resources still
    /// list them (a scale-down held back; see `crate::discovery::PUBLISHED_BELOW_LABEL`): the
    /// StatefulSet keeps this many pods, while the Service tells ring discovery to publish
    /// only the first `replicas`. `None`: the StatefulSet has `replicas` pods.
    pub held_replicas: Option<i32>,
}

/// What a new receive gets: 15 minutes (kube-thanos's value), time for an ingestor to cut and
/// upload a block of a full head. A pod that is done sooner stops sooner.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 900;

impl ReceiveSpec {
    /// A receive with every setting at its default (an ingestor: neither block set).
    pub fn new(common: Common) -> Self {
        ReceiveSpec {
            common,
            replicas: 1,
            resources: Resources::default(),
            tenant_header: None,
            default_tenant_id: None,
            tenant_label_name: None,
            router: None,
            ingestor: None,
            termination_grace_period_seconds: Some(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS),
            held_replicas: None,
        }
    }

    /// How many pods the workload runs: `replicas`, or more while a scale-down is held.
    pub fn workload_replicas(&self) -> i32 {
        self.held_replicas
            .filter(|held| *held > self.replicas && self.mode().is_ingestor())
            .unwrap_or(self.replicas)
    }

    pub fn mode(&self) -> Mode {
        Mode::of(self.router.is_some(), self.ingestor.is_some())
    }

    /// Hard rings in spec order, then the soft ring, with their attribute paths.
    pub fn rings(&self) -> Vec<(Path, &Hashring)> {
        self.router.as_ref().map(Router::rings).unwrap_or_default()
    }
}

/// How a router's pods load a changed `hashrings.json`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reload {
    /// The pods roll: the file's content is part of the pod template's config hash. What
    /// every router applied before the choice existed renders.
    #[default]
    Restart,
    /// The pods keep running and read the new file (Thanos watches it, and re-reads it every
    /// `hashrings_refresh_interval`, [`IN_PLACE_REFRESH_INTERVAL`] unless set): the config
    /// hash leaves the file out. Only a router without ingestor (a Deployment): a router +
    /// ingestor's own ring changes are ordered by rolling its pods.
    InPlace,
}

impl Reload {
    pub const VALUES: &'static [&'static str] = &["in_place", "restart"];

    pub fn parse(s: &str) -> Option<Reload> {
        match s {
            "in_place" => Some(Reload::InPlace),
            "restart" => Some(Reload::Restart),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reload::InPlace => "in_place",
            Reload::Restart => "restart",
        }
    }
}

/// How often a router that reloads in place re-reads `hashrings.json` unless
/// `hashrings_refresh_interval` says otherwise. Thanos also watches the file, but the kubelet
/// replaces a ConfigMap volume's files by renaming a directory over the old one, which can end
/// the watch (`pkg/receive/config.go` `ConfigWatcher`); re-reading a small file this often
/// costs nothing and bounds how long a router keeps an old ring.
pub const IN_PLACE_REFRESH_INTERVAL: &str = "15s";

/// `router` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Router {
    pub hashrings_refresh_interval: Option<String>,
    /// How the pods load a changed ring (router without ingestor only).
    pub reload: Reload,
    pub replication_factor: i64,
    pub remote_write_ingress: Option<Ingress>,
    pub hard_tenant_hashrings: Vec<Hashring>,
    pub soft_tenant_hashring: Option<Hashring>,
}

impl Router {
    /// Hard rings in spec order, then the soft ring, with their attribute paths.
    pub fn rings(&self) -> Vec<(Path, &Hashring)> {
        let base = Path::root().attr("router");
        let mut v: Vec<(Path, &Hashring)> = self
            .hard_tenant_hashrings
            .iter()
            .enumerate()
            .map(|(i, h)| (base.attr("hard_tenant_hashrings").index(i), h))
            .collect();
        if let Some(s) = &self.soft_tenant_hashring {
            v.push((base.attr("soft_tenant_hashring"), s));
        }
        v
    }
}

/// A hashring: which tenants it serves, who its members are and how series are placed on
/// them (the fields of Thanos's `HashringConfig`, `pkg/receive/config.go`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashring {
    pub name: String,
    pub tenants: Vec<String>,
    pub tenant_matcher: TenantMatcher,
    pub members: Members,
    pub algorithm: Algorithm,
    /// Availability zone by endpoint address (ketama only).
    pub endpoint_zones: BTreeMap<String, String>,
    /// Labels the ingestors that read this file add to the blocks of the ring's tenants.
    pub external_labels: BTreeMap<String, String>,
    pub shuffle_sharding: Option<ShuffleSharding>,
}

impl Hashring {
    /// A ring with every optional field at its default: exact tenants, `hashmod` (what every
    /// ring was before the algorithm could be chosen), no zones, labels or sharding.
    pub fn new(name: &str, tenants: Vec<String>, members: Members) -> Self {
        Hashring {
            name: name.to_owned(),
            tenants,
            tenant_matcher: TenantMatcher::Exact,
            members,
            algorithm: Algorithm::Hashmod,
            endpoint_zones: BTreeMap::new(),
            external_labels: BTreeMap::new(),
            shuffle_sharding: None,
        }
    }

    /// The ring's entry of `hashrings.json` with these members: sorted, de-duplicated, each
    /// with its zone; fields at Thanos's defaults left out.
    pub fn entry(&self, endpoints: &[String]) -> HashringEntry {
        let mut e = HashringEntry::new(&self.name, &self.tenants, endpoints);
        e.endpoints = e
            .endpoints
            .into_iter()
            .map(|ep| match self.endpoint_zones.get(&ep.address) {
                Some(az) if !az.is_empty() => RingEndpoint::with_az(ep.address, az.clone()),
                _ => ep,
            })
            .collect();
        e.tenant_matcher = self.tenant_matcher;
        // hashmod is the router's default (`--receive.hashrings-algorithm`, which
        // `extra_args` may not set): left out, so rings applied before the attribute existed
        // keep exactly the file they had.
        e.algorithm = (self.algorithm == Algorithm::Ketama).then_some(Algorithm::Ketama);
        e.external_labels = self.external_labels.clone();
        e.shuffle_sharding = self.shuffle_sharding.clone();
        e
    }
}

/// The members of a hashring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// Listed in the configuration.
    Static(Vec<String>),
    /// The ready endpoints the selector finds in the cluster, discovered at plan and apply time.
    Selected(RingSelector),
}

/// What a ring's `endpoints_selector` (in this namespace, or in the namespaces
/// `endpoints_namespace_selector` selects) picks from the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingSelector {
    pub endpoints_selector: LabelSelector,
    pub namespace_selector: Option<LabelSelector>,
}

/// `ingestor` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingestor {
    pub local_tsdb_retention: Option<String>,
    /// Where completed blocks are shipped; `None` keeps them local only.
    pub object_storage: Option<Bucket>,
    pub data_volume: DataVolume,
    /// `Retain` or `Delete`.
    pub pvc_retention_on_delete: String,
    /// `Retain` or `Delete`.
    pub pvc_retention_on_scale_down: String,
}

/// What happens to an ingestor's claims by default: kept, so unshipped data survives.
pub const DEFAULT_PVC_RETENTION: &str = "Retain";

impl Default for Ingestor {
    fn default() -> Self {
        Ingestor {
            local_tsdb_retention: None,
            object_storage: None,
            data_volume: DataVolume::default(),
            pvc_retention_on_delete: DEFAULT_PVC_RETENTION.into(),
            pvc_retention_on_scale_down: DEFAULT_PVC_RETENTION.into(),
        }
    }
}

/// Running mode, decided by which blocks are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    RouterOnly,
    IngestorOnly,
    RouterIngestor,
}

impl Mode {
    /// Mode as the seed: `router` only → router; `ingestor` only or neither → ingestor;
    /// both → router + ingestor.
    pub fn of(router: bool, ingestor: bool) -> Mode {
        match (router, ingestor) {
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
/// The Secret holding the objstore file rendered from `ingestor.object_storage`.
pub fn objstore_secret_name(name: &str) -> String {
    format!("thanosreceive-{name}-objstore")
}
/// Name of the data volume (and of its volume claim template: PVCs are
/// `thanosreceive-<name>-tsdb-thanosreceive-<name>-<ordinal>`, as the seed's).
pub fn data_volume_name(name: &str) -> String {
    format!("thanosreceive-{name}-tsdb")
}

/// Computed `ingestor_endpoints`: `thanosreceive-<name>-<i>.thanosreceive-<name>-operated.<ns>.svc:10901`
/// for each replica, derived from replicas and names alone (empty unless the mode ingests).
pub fn ingestor_endpoints(name: &str, namespace: &str, replicas: i64, mode: Mode) -> Vec<String> {
    if !mode.is_ingestor() {
        return Vec::new();
    }
    (0..replicas.max(0))
        .map(|i| {
            crate::discovery::pod_endpoint(
                &format!("{}-{i}", workload_name(name)),
                &service_name(name),
                namespace,
                GRPC_PORT,
            )
        })
        .collect()
}

/// The most a ConfigMap holds (Kubernetes' 1 MiB): the routers' `hashrings.json` among them.
pub const CONFIG_MAP_BYTES: u64 = 1024 * 1024;

/// Bytes the [`ingestor_endpoints`] of `replicas` pods take in `hashrings.json` (each quoted on
/// a line of its own, as [`crate::hashring::to_json_text`] writes them), counted without
/// listing them: a plan must not build two billion strings to find out they do not fit.
pub fn ingestor_endpoints_bytes(name: &str, namespace: &str, replicas: i64) -> u64 {
    // The endpoint of pod `i` is this many bytes plus the digits of `i`.
    let prefix = format!("{}-", workload_name(name));
    let fixed = crate::discovery::pod_endpoint(&prefix, &service_name(name), namespace, GRPC_PORT)
        .len() as u64;
    // Indentation, quotes, comma and newline.
    const PER_LINE: u64 = 10;
    let n = u64::try_from(replicas).unwrap_or(0);
    let (mut total, mut from, mut digits, mut next) = (0u64, 0u64, 1u64, 10u64);
    while from < n {
        let to = next.min(n);
        total = total.saturating_add((to - from) * (fixed + digits + PER_LINE));
        (from, digits, next) = (to, digits + 1, next.saturating_mul(10));
    }
    total
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
pub fn store_endpoint(name: &str, namespace: &str, mode: Mode) -> Option<String> {
    mode.is_ingestor()
        .then(|| format!("dnssrv+_grpc._tcp.{}.{namespace}.svc", service_name(name)))
}

/// Computed `remote_write_url`: `http://thanosreceive-<name>-operated.<ns>.svc:19291/api/v1/receive`.
pub fn remote_write_url(name: &str, namespace: &str) -> String {
    format!(
        "http://{}.{namespace}.svc:{REMOTE_WRITE_PORT}/api/v1/receive",
        service_name(name)
    )
}

/// Discovered hashring members by ring name.
pub type Discovered = BTreeMap<String, Vec<String>>;

/// Names Kubernetes derives from a receive's name, with their limits.
pub fn derived_names(name: &str, mode: Mode) -> Vec<DerivedName> {
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
    if mode.is_ingestor() {
        // The StatefulSet controller labels pods with `<statefulset>-<10-char hash>`.
        names.push(DerivedName {
            name: format!("{}-0123456789", workload_name(name)),
            limit: 63,
            what: "StatefulSet revision label (controller-revision-hash)",
        });
    }
    names
}

/// Flags of a receive that `extra_args` may not set, besides [`args::DENY_ALWAYS`].
pub const DENY_RECEIVE: &[Denied] = &[
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
        why: "object storage is configured with ingestor.object_storage or ingestor.object_storage_config (mounted from its Secret)",
    },
];

/// Flags that would give a receive a hashring other than the managed one.
pub const DENY_RING: &[Denied] = &[
    Denied {
        flag: "--receive.hashrings-file",
        why: "the hashring is managed (router.hard_tenant_hashrings / soft_tenant_hashring); on an ingestor-only receive a hashring would turn it into a router",
    },
    Denied {
        flag: "--receive.hashrings",
        why: "the hashring is managed (router.hard_tenant_hashrings / soft_tenant_hashring); on an ingestor-only receive a hashring would turn it into a router",
    },
    Denied {
        flag: "--receive.hashrings-algorithm",
        why: "each hashring sets its own algorithm (router.*_hashring*.algorithm); the provider sets this default to match them",
    },
];

/// Whether `spec`'s pods load a changed ring without rolling: a router without ingestor set
/// to [`Reload::InPlace`].
pub fn reloads_in_place(spec: &ReceiveSpec) -> bool {
    spec.mode() == Mode::RouterOnly
        && spec
            .router
            .as_ref()
            .is_some_and(|r| r.reload == Reload::InPlace)
}

/// Renders every object. `discovered`: endpoints of selector rings, by ring name.
pub fn render(
    spec: &ReceiveSpec,
    ctx: &RenderContext,
    discovered: &Discovered,
) -> Result<Rendered, Error> {
    let c = &spec.common;
    let name = c.name.as_str();
    let ns = c.namespace.as_str();
    let mode = spec.mode();
    let mode_labels = mode.labels();
    let labels = meta::object_labels(Kind::Receive, name, None, &mode_labels, &c.labels);
    let selector = meta::selector_labels(Kind::Receive, name, None);
    let mut pod_selector = selector.clone();
    pod_selector.extend(mode_labels.clone());
    let om = |n: String| meta::object_meta(n, ns, labels.clone(), &c.annotations);

    let mut objects = Vec::new();
    let router = spec.router.as_ref().filter(|_| mode.is_router());
    let hashrings_cm = match router {
        Some(router) => {
            let rings = hashrings(router, &with_own_members(spec, discovered))?;
            for ((path, _), ring) in router.rings().iter().zip(&rings) {
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
            // What only discovery could tell: a router would refuse the file (and exit), or
            // fail every write of some tenants. Static rings were refused at validation.
            let findings = ring_findings(router, &rings);
            if !findings.is_empty() {
                return Err(Error::Invalid(findings));
            }
            Some(core::ConfigMap {
                metadata: om(hashrings_config_map_name(name)),
                data: Some(BTreeMap::from([(
                    HASHRINGS_FILE.to_owned(),
                    hashring::to_json_text(&rings),
                )])),
                ..Default::default()
            })
        }
        None => None,
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
    a.extend(workload::log_args(&c.log_level, &c.log_format));
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
    let mut objstore_secret = None;
    let ingestor = spec.ingestor.clone().unwrap_or_default();
    if mode.is_ingestor() {
        a.push(local_endpoint_arg(name, ns));
        if let Some(rt) = &ingestor.local_tsdb_retention {
            a.push(format!("--tsdb.retention={rt}"));
        }
        if let Some(bucket) = &ingestor.object_storage {
            let owned = objstore_secret_name(name);
            let os = bucket.secret_ref(&owned);
            a.push(format!("--objstore.config-file={OBJSTORE_DIR}/{}", os.key));
            volumes.push(workload::secret_volume("objstore", &os.name, Some(&os.key)));
            mounts.push(workload::mount("objstore", OBJSTORE_DIR, true));
            secret_refs.push(bucket.hash_input(&owned));
            objstore_secret = bucket.owned_secret(om(owned));
        }
    }
    if let Some(router) = router {
        a.push(format!("--receive.hashrings-file={HASHRINGS_PATH}"));
        let refresh = router
            .hashrings_refresh_interval
            .as_deref()
            .or((reloads_in_place(spec)).then_some(IN_PLACE_REFRESH_INTERVAL));
        if let Some(i) = refresh {
            a.push(format!("--receive.hashrings-file-refresh-interval={i}"));
        }
        a.push(format!(
            "--receive.replication-factor={}",
            router.replication_factor
        ));
        if default_algorithm(router) == Algorithm::Ketama {
            a.push("--receive.hashrings-algorithm=ketama".to_owned());
        }
        volumes.insert(
            0,
            workload::config_map_volume("hashrings", &hashrings_config_map_name(name)),
        );
        mounts.push(workload::mount("hashrings", HASHRINGS_DIR, true));
    }
    let a = args::merge_extra_args(a, &c.extra_args);

    let container = ThanosContainer {
        name: "thanosreceive",
        image: c.image(ctx),
        image_pull_policy: c.image_pull_policy.clone(),
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

    // Routers that reload in place do not roll when only their ring changes.
    let rolled_by: Vec<&core::ConfigMap> = hashrings_cm
        .iter()
        .filter(|_| !reloads_in_place(spec))
        .collect();
    let hash = workload::config_hash(&rolled_by, &secret_refs);
    let replicas = spec.workload_replicas();
    let mut service_meta = om(service_name(name));
    if replicas > spec.replicas {
        // Copied by the EndpointSlice controller onto the Service's slices, where ring
        // discovery reads it: the held pods are no longer published.
        service_meta
            .labels
            .get_or_insert_with(Default::default)
            .insert(
                crate::discovery::PUBLISHED_BELOW_LABEL.to_owned(),
                spec.replicas.to_string(),
            );
    }
    let service = workload::headless_service(
        service_meta,
        pod_selector,
        &[
            ("grpc", GRPC_PORT),
            ("http", HTTP_PORT),
            ("remote-write", REMOTE_WRITE_PORT),
        ],
    );

    // Ingestor or router: the same pod, with the grace period to flush (and upload) its TSDB.
    let template_with = |volumes: Vec<core::Volume>| {
        let mut template = workload::pod_template(
            c,
            labels.clone(),
            &selector,
            Some(hash),
            vec![container],
            volumes,
        );
        if let Some(pod) = template.spec.as_mut() {
            pod.termination_grace_period_seconds = spec.termination_grace_period_seconds;
        }
        template
    };
    let workload_obj = if mode.is_ingestor() {
        let vcts = common::data_volume(
            &data_volume_name(name),
            &ingestor.data_volume,
            (Kind::Receive, name),
            &selector,
            &mut volumes,
        );
        let template = template_with(volumes);
        // Ingestors are independent peers.
        Object::StatefulSet(workload::peer_statefulset(
            om(workload_name(name)),
            replicas,
            service_name(name),
            &selector,
            template,
            vcts,
            Some(workload::ClaimRetention {
                on_delete: &ingestor.pvc_retention_on_delete,
                on_scale_down: &ingestor.pvc_retention_on_scale_down,
            }),
        ))
    } else {
        // A router holds no data: its TSDB path is a scratch emptyDir.
        volumes.push(core::Volume {
            name: data_volume_name(name),
            empty_dir: Some(Default::default()),
            ..Default::default()
        });
        let template = template_with(volumes);
        Object::Deployment(apps::Deployment {
            metadata: om(workload_name(name)),
            spec: Some(apps::DeploymentSpec {
                replicas: Some(replicas),
                selector: workload::selector(selector.clone()),
                template,
                ..Default::default()
            }),
            ..Default::default()
        })
    };

    if let Some(s) = objstore_secret {
        objects.push(Object::Secret(s));
    }
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
            IngressTarget {
                name: format!("thanosreceive-{name}-remote-write"),
                namespace: ns,
                labels: &labels,
                object_annotations: &c.annotations,
                default_annotations: &[],
                service: service_name(name),
                port: REMOTE_WRITE_PORT,
            },
            ing,
        )));
    }
    Ok(workload::finish(Kind::Receive, c, objects))
}

/// PDB `maxUnavailable`: routers are stateless (1); ingestors keep write quorum, so at most
/// floor(RF/2) may be down at once, but never 0 (which would block every node drain forever;
/// with RF 1 there is no redundancy to protect).
pub fn pdb_max_unavailable(spec: &ReceiveSpec) -> i32 {
    if !spec.mode().is_ingestor() {
        return 1;
    }
    let rf = spec.router.as_ref().map_or(1, |r| r.replication_factor);
    i32::try_from((rf / 2).max(1)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingestor_endpoints_bytes_counts_what_the_file_holds() {
        let empty =
            crate::hashring::to_json_text(&[crate::hashring::HashringEntry::new("r", &[], &[])]);
        for replicas in [1, 9, 10, 11, 99, 100, 101, 1234] {
            let listed = ingestor_endpoints("ing", "mon", replicas, Mode::IngestorOnly);
            let ring = crate::hashring::HashringEntry::new("r", &[], &listed);
            let text = crate::hashring::to_json_text(&[ring]);
            let counted = empty.len() as u64 + ingestor_endpoints_bytes("ing", "mon", replicas);
            // Within a few bytes of the real file (brackets, the last line's comma).
            assert!(
                (text.len() as u64).abs_diff(counted) <= 8,
                "{replicas}: {} vs {counted}",
                text.len()
            );
        }
        assert_eq!(ingestor_endpoints_bytes("ing", "mon", 0), 0);
        assert!(ingestor_endpoints_bytes("ing", "mon", i64::from(i32::MAX)) > CONFIG_MAP_BYTES);
    }
}
