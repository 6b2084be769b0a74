//! `thanos_query`: a Thanos Querier Deployment, its headless Service, the store-sd file, the
//! envoy store-proxy sidecar (only when some store needs TLS), a PDB when replicas > 1 and
//! optional HTTP/gRPC Ingresses.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;

use crate::Error;
use crate::args::{self, Denied};
use crate::common::{self, Common, Ingress, IngressTarget, RenderContext, Resources};
use crate::envoy::{self, ProxiedStore};
use crate::meta::{self, DerivedName, GRPC_PORT, HTTP_PORT, Kind};
use crate::object::{Object, Rendered};
use crate::validate;
use crate::workload::{self, ThanosContainer};

/// Replica labels deduplicated by default: Prometheus HA pairs and replicated receive data.
pub const DEFAULT_REPLICA_LABELS: &[&str] = &["prometheus_replica", "receive_replica"];
/// Where the store-sd ConfigMap is mounted in the query container.
pub const STORE_SD_PATH: &str = "/etc/thanos/store-sd.yaml";
/// Default key of the CA bundle in a store's `secret_name`.
pub const DEFAULT_CA_KEY: &str = "ca.crt";

/// A validated `thanos_query`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySpec {
    pub common: Common,
    pub replicas: i32,
    pub resources: Resources,
    pub stores: Vec<Store>,
    /// Rendered sorted, Go-quoted.
    pub selector_labels: BTreeMap<String, String>,
    pub replica_labels: Vec<String>,
    pub http_ingress: Option<Ingress>,
    pub grpc_ingress: Option<Ingress>,
    pub envoy: Envoy,
}

impl QuerySpec {
    /// A query named `name` with every setting at its default.
    pub fn new(common: Common) -> Self {
        QuerySpec {
            common,
            replicas: 1,
            resources: Resources::default(),
            stores: Vec::new(),
            selector_labels: BTreeMap::new(),
            replica_labels: DEFAULT_REPLICA_LABELS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            http_ingress: None,
            grpc_ingress: None,
            envoy: Envoy::default(),
        }
    }
}

/// One entry of `stores`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// Direct stores: `host:port`, `dns+host:port`, `dnssrv+name`, `dnssrvnoa+name`.
    /// TLS-proxied stores: `host:port`.
    pub address: String,
    /// Set: the store is reached with TLS through the envoy sidecar.
    pub tls: Option<StoreTls>,
}

impl Store {
    pub fn direct(address: &str) -> Self {
        Store {
            address: address.to_owned(),
            tls: None,
        }
    }
}

/// How a store is reached with TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreTls {
    /// Secret with the CA bundle, and the key holding it.
    pub secret_name: String,
    pub ca_key: String,
    /// Secret with `tls.crt`/`tls.key`: the sidecar presents it (mTLS).
    pub client_secret_name: Option<String>,
    /// SNI and the name the server certificate must carry; `None`: the host of `address`.
    pub server_name: Option<String>,
}

/// The envoy sidecar's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envoy {
    /// `None`: the provider's default envoy image.
    pub image: Option<String>,
    /// `None`: `IfNotPresent`.
    pub image_pull_policy: Option<String>,
    pub resources: Resources,
}

/// Object names.
pub fn deployment_name(name: &str) -> String {
    format!("thanosquery-{name}")
}
pub fn service_name(name: &str) -> String {
    format!("thanosquery-{name}-operated")
}
pub fn store_sd_config_map_name(name: &str) -> String {
    format!("thanosquery-{name}-store-sd")
}
pub fn envoy_config_map_name(name: &str) -> String {
    format!("thanosquery-{name}-envoy")
}

/// Computed `grpc_endpoint`: `thanosquery-<name>-operated.<namespace>.svc:10901`.
pub fn grpc_endpoint(name: &str, namespace: &str) -> String {
    format!("{}.{namespace}.svc:{GRPC_PORT}", service_name(name))
}

/// Computed `http_url`: `http://thanosquery-<name>-operated.<namespace>.svc:10902`.
pub fn http_url(name: &str, namespace: &str) -> String {
    format!("http://{}.{namespace}.svc:{HTTP_PORT}", service_name(name))
}

/// Names Kubernetes derives from a query's name, with their limits.
pub fn derived_names(name: &str) -> Vec<DerivedName> {
    vec![
        DerivedName {
            name: service_name(name),
            limit: 63,
            what: "Service name",
        },
        DerivedName {
            name: meta::part_of(Kind::Query, name),
            limit: 63,
            what: "ownership label value",
        },
    ]
}

/// Flags of the query container that `extra_args` may not set, besides [`args::DENY_ALWAYS`].
pub const DENY_QUERY: &[Denied] = &[Denied {
    flag: "--store.sd-files",
    why: "the store list is managed through `stores`; add further stores there or with --endpoint",
}];

/// Checks the address of a store reached directly (no TLS through the sidecar).
pub fn direct_address(a: &str) -> Result<(), String> {
    if let Some(name) = a
        .strip_prefix("dnssrv+")
        .or_else(|| a.strip_prefix("dnssrvnoa+"))
    {
        // An SRV name (`_grpc._tcp.<service>`): DNS labels that may start with '_', no port.
        let ok = !name.is_empty()
            && name.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "{a:?}: {name:?} is not a valid DNS SRV name, e.g. \"_grpc._tcp.thanos-store.monitoring.svc\""
            ))
        };
    }
    let hp = a.strip_prefix("dns+").unwrap_or(a);
    validate::host_port(hp).map(|_| ()).map_err(|e| {
        format!("{e} (prefixes dns+, dnssrv+ and dnssrvnoa+ are allowed for direct stores)")
    })
}

/// The store-sd targets, in spec order: direct targets, then the sidecar's local listeners.
pub struct StoreTargets {
    pub direct: Vec<String>,
    pub proxied: Vec<ProxiedStore>,
}

pub fn store_targets(spec: &QuerySpec) -> Result<StoreTargets, Error> {
    let mut t = StoreTargets {
        direct: Vec::new(),
        proxied: Vec::new(),
    };
    for s in &spec.stores {
        match &s.tls {
            None => t.direct.push(s.address.clone()),
            Some(tls) => {
                let (host, port) = validate::host_port(&s.address).map_err(|e| {
                    Error::Unvalidated(format!("proxied store address {:?}: {e}", s.address))
                })?;
                t.proxied.push(ProxiedStore {
                    index: t.proxied.len(),
                    server_name: tls.server_name.clone().unwrap_or_else(|| host.clone()),
                    host,
                    port,
                    ca_secret: tls.secret_name.clone(),
                    ca_key: tls.ca_key.clone(),
                    client_secret: tls.client_secret_name.clone(),
                });
            }
        }
    }
    Ok(t)
}

/// The store-sd file: a Prometheus file-SD target-group list (JSON, which is valid YAML).
pub fn store_sd_text(t: &StoreTargets) -> String {
    let mut groups = Vec::new();
    if !t.direct.is_empty() {
        groups.push(serde_json::json!({"targets": t.direct}));
    }
    if !t.proxied.is_empty() {
        let local: Vec<String> = t.proxied.iter().map(ProxiedStore::local_address).collect();
        groups.push(serde_json::json!({"targets": local}));
    }
    let mut s = serde_json::to_string_pretty(&groups).expect("store-sd serializes");
    s.push('\n');
    s
}

pub fn render(spec: &QuerySpec, ctx: &RenderContext) -> Result<Rendered, Error> {
    let c = &spec.common;
    let name = c.name.as_str();
    let ns = c.namespace.as_str();
    let labels = meta::object_labels(Kind::Query, name, None, &BTreeMap::new(), &c.labels);
    let selector = meta::selector_labels(Kind::Query, name, None);
    let om = |n: String| meta::object_meta(n, ns, labels.clone(), &c.annotations);

    let targets = store_targets(spec)?;
    let mut objects = Vec::new();

    // ConfigMaps.
    let store_sd = core::ConfigMap {
        metadata: om(store_sd_config_map_name(name)),
        data: Some(BTreeMap::from([(
            "store-sd.yaml".to_owned(),
            store_sd_text(&targets),
        )])),
        ..Default::default()
    };
    let envoy_cm = if targets.proxied.is_empty() {
        None
    } else {
        let files = envoy::build(ns, name, &targets.proxied)?;
        Some(core::ConfigMap {
            metadata: om(envoy_config_map_name(name)),
            data: Some(BTreeMap::from([
                (envoy::BOOTSTRAP_KEY.to_owned(), files.bootstrap),
                (envoy::LDS_KEY.to_owned(), files.lds),
                (envoy::CDS_KEY.to_owned(), files.cds),
            ])),
            ..Default::default()
        })
    };

    // Query container.
    let mut a = vec![
        "query".to_owned(),
        format!("--grpc-address=[$(POD_IP)]:{GRPC_PORT}"),
        format!("--http-address=[$(POD_IP)]:{HTTP_PORT}"),
        format!("--store.sd-files={STORE_SD_PATH}"),
        "--store.sd-interval=2m".to_owned(),
    ];
    a.extend(
        spec.replica_labels
            .iter()
            .map(|l| format!("--query.replica-label={l}")),
    );
    // BTreeMap: sorted by key, so the args never change order between renders.
    a.extend(
        spec.selector_labels
            .iter()
            .map(|(k, v)| format!("--selector-label={k}={}", meta::go_quote(v))),
    );
    a.extend(workload::log_args(&c.log_level, &c.log_format));
    let a = args::merge_extra_args(a, &c.extra_args);

    let mut containers = vec![
        ThanosContainer {
            name: "thanosquery",
            image: c.image(ctx),
            image_pull_policy: c.image_pull_policy.clone(),
            args: a,
            ports: workload::grpc_http_ports(),
            pod_name_env: false,
            resources: common::resource_requirements(&spec.resources),
            mounts: vec![workload::mount("store-sd", "/etc/thanos", true)],
        }
        .build(),
    ];
    let mut volumes = vec![workload::config_map_volume(
        "store-sd",
        &store_sd_config_map_name(name),
    )];
    let mut secret_refs = Vec::new();

    if envoy_cm.is_some() {
        // Each distinct Secret once, in order of first use.
        let mut secrets: Vec<String> = Vec::new();
        for s in &targets.proxied {
            secret_refs.push(format!("{}/{}", s.ca_secret, s.ca_key));
            if let Some(c) = &s.client_secret {
                secret_refs.push(format!("{c}/tls.crt"));
                secret_refs.push(format!("{c}/tls.key"));
            }
            for secret in std::iter::once(&s.ca_secret).chain(s.client_secret.as_ref()) {
                if !secrets.contains(secret) {
                    secrets.push(secret.clone());
                }
            }
        }
        volumes.push(workload::config_map_volume(
            "envoy-config",
            &envoy_config_map_name(name),
        ));
        let mut mounts = vec![workload::mount("envoy-config", envoy::CONFIG_DIR, true)];
        for (k, secret) in secrets.iter().enumerate() {
            let vol = format!("tls-{k}");
            volumes.push(workload::secret_volume(&vol, secret, None));
            mounts.push(workload::mount(
                &vol,
                &format!("{}/{secret}", envoy::SECRETS_DIR),
                true,
            ));
        }
        let e = &spec.envoy;
        containers.push(core::Container {
            name: "envoy-sidecar".into(),
            image: Some(e.image.clone().unwrap_or_else(|| ctx.envoy_image.clone())),
            image_pull_policy: Some(
                e.image_pull_policy
                    .clone()
                    .unwrap_or_else(|| "IfNotPresent".into()),
            ),
            args: Some(vec![
                "-c".into(),
                format!("{}/{}", envoy::CONFIG_DIR, envoy::BOOTSTRAP_KEY),
                "--log-level".into(),
                "info".into(),
                // No shared memory for hot restart: works with a read-only root filesystem.
                "--disable-hot-restart".into(),
            ]),
            resources: common::resource_requirements(&e.resources),
            volume_mounts: Some(mounts),
            security_context: Some(workload::container_security_context()),
            termination_message_policy: Some("FallbackToLogsOnError".into()),
            ..Default::default()
        });
    }

    let hash = workload::config_hash(
        &std::iter::once(&store_sd)
            .chain(envoy_cm.as_ref())
            .collect::<Vec<_>>(),
        &secret_refs,
    );
    let mut pod = workload::base_pod_spec(containers, volumes);
    common::apply_placement(&c.placement, &selector, &mut pod);
    let replicas = spec.replicas;
    let deployment = apps::Deployment {
        metadata: om(deployment_name(name)),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(replicas),
            selector: workload::selector(selector.clone()),
            template: workload::pod_template(labels.clone(), Some(hash), pod),
            ..Default::default()
        }),
        ..Default::default()
    };
    let service = workload::headless_service(
        om(service_name(name)),
        selector.clone(),
        &[("grpc", GRPC_PORT), ("http", HTTP_PORT)],
    );

    objects.push(Object::ConfigMap(store_sd));
    if let Some(cm) = envoy_cm {
        objects.push(Object::ConfigMap(cm));
    }
    objects.push(Object::Service(service));
    objects.push(Object::Deployment(deployment));
    if replicas > 1 {
        objects.push(Object::PodDisruptionBudget(workload::pdb(
            om(deployment_name(name)),
            selector.clone(),
            1,
        )));
    }
    let target = |name: String, default_annotations, port| IngressTarget {
        name,
        namespace: ns,
        labels: &labels,
        object_annotations: &c.annotations,
        default_annotations,
        service: service_name(c.name.as_str()),
        port,
    };
    if let Some(ing) = &spec.http_ingress {
        objects.push(Object::Ingress(common::build_ingress(
            target(format!("thanosquery-{name}-http"), &[], HTTP_PORT),
            ing,
        )));
    }
    if let Some(ing) = &spec.grpc_ingress {
        objects.push(Object::Ingress(common::build_ingress(
            target(
                format!("thanosquery-{name}-grpc"),
                // ingress-nginx: gRPC to the backend (cleartext HTTP/2), TLS at the edge.
                &[
                    ("nginx.ingress.kubernetes.io/backend-protocol", "GRPC"),
                    ("nginx.ingress.kubernetes.io/force-ssl-redirect", "true"),
                ],
                GRPC_PORT,
            ),
            ing,
        )));
    }
    Ok(Rendered { objects })
}
