//! `thanos_query`: a Thanos Querier Deployment, its headless Service, the file that lists its
//! stores, the envoy store-proxy sidecar (envoy mode, only when some store needs TLS), a PDB
//! when replicas > 1 and optional HTTP/gRPC Ingresses.
//!
//! Two ways to reach a store with TLS ([`TlsMode`]):
//! - **envoy** (the operator's way): the stores are listed in a Prometheus file-SD file
//!   (`--store.sd-files`); a TLS store is listed as a local listener of the envoy sidecar,
//!   which speaks TLS to the store (see [`crate::envoy`]). Strict stores are `--endpoint-strict`
//!   flags instead (a store in both would be deduplicated to the non-strict entry).
//! - **native**: no sidecar. Every store is an entry of Thanos's endpoint config
//!   (`--endpoint.sd-config-file`, `cmd/thanos/endpointset.go` of Thanos v0.42), a TLS store
//!   with its own `client_config.tls_config` and `server_name`, the Secrets mounted into the
//!   query container. Direct stores are in the same file: Thanos reads it (and resolves its
//!   `dns+` names) once at startup before the first endpoint update, while a file-SD target is
//!   only dialed after the next DNS-SD tick (`--store.sd-dns-interval`, 30 s).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;

use crate::Error;
use crate::args::{self, Denied};
use crate::common::{self, Common, Ingress, IngressTarget, RenderContext, Resources};
use crate::envoy::{self, ProxiedStore};
use crate::frontend::{self, Frontend};
use crate::meta::{self, DerivedName, GRPC_PORT, HTTP_PORT, Kind};
use crate::object::{Object, Rendered};
use crate::validate;
use crate::workload::{self, ThanosContainer};

/// Replica labels deduplicated by default: Prometheus HA pairs and replicated receive data.
pub const DEFAULT_REPLICA_LABELS: &[&str] = &["prometheus_replica", "receive_replica"];
/// Where the store-sd ConfigMap is mounted in the query container (envoy mode).
pub const STORE_SD_PATH: &str = "/etc/thanos/store-sd.yaml";
/// Where the endpoint config is mounted in the query container (native mode): the same
/// ConfigMap and mount as the store-sd file, another key.
pub const ENDPOINTS_PATH: &str = "/etc/thanos/endpoints.yaml";
/// Key of the store-sd file in the ConfigMap (envoy mode).
pub const STORE_SD_KEY: &str = "store-sd.yaml";
/// Key of the endpoint config in the ConfigMap (native mode).
pub const ENDPOINTS_KEY: &str = "endpoints.yaml";
/// Where native mode mounts each store Secret in the query container: `<dir>/<secret>`.
/// A sibling of `/etc/thanos`, never inside it: a mount point inside a read-only ConfigMap
/// volume cannot be created.
pub const NATIVE_SECRETS_DIR: &str = "/etc/thanos-tls";
/// The lowest TLS version native mode accepts, as the envoy sidecar does (`tls_params` in
/// [`crate::envoy`]): Thanos's client default is 1.3, which would refuse a store behind a
/// proxy that stops at 1.2 while the sidecar reaches it.
pub const NATIVE_MIN_TLS_VERSION: &str = "1.2";
/// Default key of the CA bundle in a store's `secret_name`.
pub const DEFAULT_CA_KEY: &str = "ca.crt";
/// Every path a query mounts into its Thanos container (the store list, native mode's
/// Secrets): an extra volume may not be at, above or below any of them.
pub const MOUNT_PATHS: &[&str] = &["/etc/thanos", NATIVE_SECRETS_DIR];

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
    pub tls_mode: TlsMode,
    pub envoy: Envoy,
    /// The query frontend in front of the querier (see [`crate::frontend`]).
    pub frontend: Option<Frontend>,
}

/// How the query reaches stores that need TLS (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Through the envoy sidecar.
    Envoy,
    /// Thanos's own gRPC client, TLS configured per endpoint.
    Native,
}

impl TlsMode {
    /// The values of `tls_mode`.
    pub const VALUES: &[&str] = &["envoy", "native"];

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Envoy => "envoy",
            TlsMode::Native => "native",
        }
    }

    /// `None` for anything but [`TlsMode::VALUES`].
    pub fn parse(s: &str) -> Option<TlsMode> {
        match s {
            "envoy" => Some(TlsMode::Envoy),
            "native" => Some(TlsMode::Native),
            _ => None,
        }
    }
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
            tls_mode: TlsMode::Native,
            envoy: Envoy::default(),
            frontend: None,
        }
    }
}

/// One entry of `stores`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// Direct stores: `host:port`, `dns+host:port`, `dnssrv+name`, `dnssrvnoa+name`.
    /// TLS-proxied stores: `host:port`.
    pub address: String,
    /// Set: the store is reached with TLS (through the sidecar or natively).
    pub tls: Option<StoreTls>,
    /// Thanos's strict endpoint: always queried, even while its health check fails, so its
    /// failure is a partial-response warning on every query instead of a store that silently
    /// drops out. Only for static addresses (`host:port`).
    pub strict: bool,
}

impl Store {
    pub fn direct(address: &str) -> Self {
        Store {
            address: address.to_owned(),
            tls: None,
            strict: false,
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

/// The querier's HTTP URL: `http://thanosquery-<name>-operated.<namespace>.svc:10902`, the
/// computed `http_url` of a query without a frontend.
pub fn querier_http_url(name: &str, namespace: &str) -> String {
    format!("http://{}.{namespace}.svc:{HTTP_PORT}", service_name(name))
}

/// Computed `http_url`: the frontend's URL when the query has one
/// ([`frontend::http_url`]), else the querier's ([`querier_http_url`]).
pub fn http_url(name: &str, namespace: &str, has_frontend: bool) -> String {
    if has_frontend {
        frontend::http_url(name, namespace)
    } else {
        querier_http_url(name, namespace)
    }
}

/// Names Kubernetes derives from a query's name, with their limits.
pub fn derived_names(name: &str, has_frontend: bool) -> Vec<DerivedName> {
    let mut names = vec![
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
    ];
    if has_frontend {
        names.push(DerivedName {
            name: frontend::service_name(name),
            limit: 63,
            what: "frontend Service name",
        });
    }
    names
}

/// Flags of the query container that `extra_args` may not set, besides [`args::DENY_ALWAYS`].
pub const DENY_QUERY: &[Denied] = &[Denied {
    flag: "--store.sd-files",
    why: "the store list is managed through `stores`; add further stores there or with --endpoint",
}];

/// Also denied in native mode, where the endpoint config file is the store list: a user's
/// flag would replace it and every store would be gone.
pub const DENY_QUERY_NATIVE: &[Denied] = &[
    Denied {
        flag: "--endpoint.sd-config-file",
        why: "with tls_mode = \"native\" the endpoint config is rendered from `stores`; add further stores there or with --endpoint",
    },
    Denied {
        flag: "--endpoint.sd-config",
        why: "with tls_mode = \"native\" the endpoint config is rendered from `stores` (in --endpoint.sd-config-file); add further stores there or with --endpoint",
    },
];

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

/// Where each store goes in envoy mode, in spec order.
pub struct StoreTargets {
    /// Direct targets of the store-sd file.
    pub direct: Vec<String>,
    /// Every store reached through the sidecar (strict or not).
    pub proxied: Vec<ProxiedStore>,
    /// The sidecar listeners of the store-sd file (the non-strict proxied stores).
    pub proxied_sd: Vec<String>,
    /// `--endpoint-strict` addresses: strict direct stores and the listeners of strict proxied
    /// ones.
    pub strict: Vec<String>,
}

pub fn store_targets(spec: &QuerySpec) -> Result<StoreTargets, Error> {
    let mut t = StoreTargets {
        direct: Vec::new(),
        proxied: Vec::new(),
        proxied_sd: Vec::new(),
        strict: Vec::new(),
    };
    for s in &spec.stores {
        let target = match &s.tls {
            None => s.address.clone(),
            Some(tls) => {
                let p = proxied_store(s, tls, t.proxied.len())?;
                let local = p.local_address();
                t.proxied.push(p);
                local
            }
        };
        match (s.strict, s.tls.is_some()) {
            (true, _) => t.strict.push(target),
            (false, false) => t.direct.push(target),
            (false, true) => t.proxied_sd.push(target),
        }
    }
    Ok(t)
}

fn proxied_store(s: &Store, tls: &StoreTls, index: usize) -> Result<ProxiedStore, Error> {
    let (host, port) = tls_host_port(s)?;
    Ok(ProxiedStore {
        index,
        server_name: tls.server_name.clone().unwrap_or_else(|| host.clone()),
        host,
        port,
        ca_secret: tls.secret_name.clone(),
        ca_key: tls.ca_key.clone(),
        client_secret: tls.client_secret_name.clone(),
    })
}

fn tls_host_port(s: &Store) -> Result<(String, u16), Error> {
    validate::host_port(&s.address)
        .map_err(|e| Error::Unvalidated(format!("TLS store address {:?}: {e}", s.address)))
}

/// The store-sd file: a Prometheus file-SD target-group list (JSON, which is valid YAML).
pub fn store_sd_text(t: &StoreTargets) -> String {
    let mut groups = Vec::new();
    if !t.direct.is_empty() {
        groups.push(serde_json::json!({"targets": t.direct}));
    }
    if !t.proxied_sd.is_empty() {
        groups.push(serde_json::json!({"targets": t.proxied_sd}));
    }
    let mut s = serde_json::to_string_pretty(&groups).expect("store-sd serializes");
    s.push('\n');
    s
}

/// The mounted files of a Secret in native mode: `<dir>/<secret>/<key>`.
pub fn native_secret_path(secret: &str, key: &str) -> String {
    format!("{NATIVE_SECRETS_DIR}/{secret}/{key}")
}

/// The endpoint config of native mode (JSON, which is valid YAML): one entry per store, in
/// spec order, as `cmd/thanos/endpointset.go` (`EndpointConfig`) reads it. A TLS store names
/// its CA (and client certificate) at the native mount paths and always its server name, the
/// host of its address unless overridden, the name the certificate is checked against (and
/// the gRPC authority, as the sidecar's host rewrite sets it).
pub fn endpoints_text(spec: &QuerySpec) -> Result<String, Error> {
    let mut endpoints = Vec::new();
    for s in &spec.stores {
        let mut e = serde_json::Map::new();
        e.insert("address".into(), s.address.clone().into());
        if s.strict {
            e.insert("strict".into(), true.into());
        }
        if let Some(tls) = &s.tls {
            let (host, _) = tls_host_port(s)?;
            let mut tls_config = serde_json::json!({
                "ca_file": native_secret_path(&tls.secret_name, &tls.ca_key),
                "min_version": NATIVE_MIN_TLS_VERSION,
            });
            if let Some(client) = &tls.client_secret_name {
                tls_config["cert_file"] = native_secret_path(client, "tls.crt").into();
                tls_config["key_file"] = native_secret_path(client, "tls.key").into();
            }
            e.insert(
                "client_config".into(),
                serde_json::json!({
                    "server_name": tls.server_name.clone().unwrap_or(host),
                    "tls_config": tls_config,
                }),
            );
        }
        endpoints.push(serde_json::Value::Object(e));
    }
    let mut s = serde_json::to_string_pretty(&serde_json::json!({ "endpoints": endpoints }))
        .expect("endpoint config serializes");
    s.push('\n');
    Ok(s)
}

/// Each distinct Secret the TLS stores use, once, in order of first use, and the keys read
/// from them (`<secret>/<key>`, for the pod template's config hash).
fn store_secrets(spec: &QuerySpec) -> (Vec<String>, Vec<String>) {
    let mut secrets: Vec<String> = Vec::new();
    let mut refs = Vec::new();
    for tls in spec.stores.iter().filter_map(|s| s.tls.as_ref()) {
        refs.push(format!("{}/{}", tls.secret_name, tls.ca_key));
        if let Some(c) = &tls.client_secret_name {
            refs.push(format!("{c}/tls.crt"));
            refs.push(format!("{c}/tls.key"));
        }
        for secret in std::iter::once(&tls.secret_name).chain(tls.client_secret_name.as_ref()) {
            if !secrets.contains(secret) {
                secrets.push(secret.clone());
            }
        }
    }
    (secrets, refs)
}

pub fn render(spec: &QuerySpec, ctx: &RenderContext) -> Result<Rendered, Error> {
    let c = &spec.common;
    let name = c.name.as_str();
    let ns = c.namespace.as_str();
    let labels = meta::object_labels(Kind::Query, name, None, &BTreeMap::new(), &c.labels);
    let selector = meta::selector_labels(Kind::Query, name, None);
    let om = |n: String| meta::object_meta(n, ns, labels.clone(), &c.annotations);

    let mut objects = Vec::new();
    let (secrets, secret_refs) = store_secrets(spec);

    // The store list: a store-sd file plus the sidecar's files (envoy), or the endpoint
    // config (native), in one ConfigMap mounted at /etc/thanos either way.
    let mut store_args = Vec::new();
    let (store_list_key, store_list, envoy_cm) = match spec.tls_mode {
        TlsMode::Envoy => {
            let targets = store_targets(spec)?;
            store_args.push(format!("--store.sd-files={STORE_SD_PATH}"));
            store_args.push("--store.sd-interval=2m".to_owned());
            store_args.extend(
                targets
                    .strict
                    .iter()
                    .map(|a| format!("--endpoint-strict={a}")),
            );
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
            (STORE_SD_KEY, store_sd_text(&targets), envoy_cm)
        }
        TlsMode::Native => {
            store_args.push(format!("--endpoint.sd-config-file={ENDPOINTS_PATH}"));
            (ENDPOINTS_KEY, endpoints_text(spec)?, None)
        }
    };
    let store_sd = core::ConfigMap {
        metadata: om(store_sd_config_map_name(name)),
        data: Some(BTreeMap::from([(store_list_key.to_owned(), store_list)])),
        ..Default::default()
    };

    // Query container.
    let mut a = vec![
        "query".to_owned(),
        format!("--grpc-address=[$(POD_IP)]:{GRPC_PORT}"),
        format!("--http-address=[$(POD_IP)]:{HTTP_PORT}"),
    ];
    a.extend(store_args);
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

    // Each Secret a TLS store uses is one volume, mounted into the container that speaks
    // TLS: the sidecar (envoy) or the query itself (native).
    let mut volumes = vec![workload::config_map_volume(
        "store-sd",
        &store_sd_config_map_name(name),
    )];
    if envoy_cm.is_some() {
        volumes.push(workload::config_map_volume(
            "envoy-config",
            &envoy_config_map_name(name),
        ));
    }
    let secret_dir = match spec.tls_mode {
        TlsMode::Envoy => envoy::SECRETS_DIR,
        TlsMode::Native => NATIVE_SECRETS_DIR,
    };
    let mut secret_mounts = Vec::new();
    for (k, secret) in secrets.iter().enumerate() {
        let vol = format!("tls-{k}");
        volumes.push(workload::secret_volume(&vol, secret, None));
        secret_mounts.push(workload::mount(
            &vol,
            &format!("{secret_dir}/{secret}"),
            true,
        ));
    }
    let mut query_mounts = vec![workload::mount("store-sd", "/etc/thanos", true)];
    if spec.tls_mode == TlsMode::Native {
        query_mounts.append(&mut secret_mounts);
    }

    let mut containers = vec![
        ThanosContainer {
            name: "thanosquery",
            image: c.image(ctx),
            image_pull_policy: c.image_pull_policy.clone(),
            args: a,
            ports: workload::grpc_http_ports(),
            pod_name_env: false,
            resources: common::resource_requirements(&spec.resources),
            mounts: query_mounts,
        }
        .build(),
    ];

    if envoy_cm.is_some() {
        let mut mounts = vec![workload::mount("envoy-config", envoy::CONFIG_DIR, true)];
        mounts.append(&mut secret_mounts);
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
    let template = workload::pod_template(
        c,
        labels.clone(),
        &selector,
        Some(hash),
        containers,
        volumes,
    );
    let replicas = spec.replicas;
    let deployment = apps::Deployment {
        metadata: om(deployment_name(name)),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(replicas),
            selector: workload::selector(selector.clone()),
            template,
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
    let front = spec
        .frontend
        .as_ref()
        .map(|f| frontend::render(c, f, &querier_http_url(name, ns), ctx));
    objects.push(Object::Service(service));
    if let Some((service, _, _)) = &front {
        objects.push(service.clone());
    }
    objects.push(Object::Deployment(deployment));
    if let Some((_, deployment, _)) = &front {
        objects.push(deployment.clone());
    }
    if replicas > 1 {
        objects.push(Object::PodDisruptionBudget(workload::pdb(
            om(deployment_name(name)),
            selector.clone(),
            1,
        )));
    }
    if let Some((_, _, Some(pdb))) = front {
        objects.push(pdb);
    }
    let target = |name: String, default_annotations, service, port| IngressTarget {
        name,
        namespace: ns,
        labels: &labels,
        object_annotations: &c.annotations,
        default_annotations,
        service,
        port,
    };
    if let Some(ing) = &spec.http_ingress {
        // With a frontend, the HTTP API is the frontend's (as `http_url` is).
        let service = match &spec.frontend {
            Some(_) => frontend::service_name(name),
            None => service_name(name),
        };
        objects.push(Object::Ingress(common::build_ingress(
            target(format!("thanosquery-{name}-http"), &[], service, HTTP_PORT),
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
                service_name(name),
                GRPC_PORT,
            ),
            ing,
        )));
    }
    Ok(workload::finish(Kind::Query, c, objects))
}
