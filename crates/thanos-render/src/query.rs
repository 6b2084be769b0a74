//! `thanos_query`: a Thanos Querier Deployment, its headless Service, the store-sd file, the
//! envoy store-proxy sidecar (only when some store needs TLS), a PDB when replicas > 1 and
//! optional HTTP/gRPC Ingresses.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use serde::Deserialize;

use crate::Error;
use crate::args::{self, DENY_ALWAYS, Denied};
use crate::common::{
    self, CommonRef, IngressSpec, RenderContext, Resources, Toleration, TopologySpreadConstraint,
    required,
};
use crate::envoy::{self, ProxiedStore};
use crate::meta::{self, DerivedName, GRPC_PORT, HTTP_PORT, Kind};
use crate::object::{Object, Rendered};
use crate::validate::{self, Invalid, Path, Report};
use crate::workload::{self, ThanosContainer};

/// Replica labels deduplicated by default: Prometheus HA pairs and replicated receive data.
pub const DEFAULT_REPLICA_LABELS: &[&str] = &["prometheus_replica", "receive_replica"];
/// Where the store-sd ConfigMap is mounted in the query container.
pub const STORE_SD_PATH: &str = "/etc/thanos/store-sd.yaml";
/// Default key of the CA bundle in a store's `secret_name`.
pub const DEFAULT_CA_KEY: &str = "ca.crt";

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuerySpec {
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
    pub stores: Option<Vec<Store>>,
    pub selector_labels: Option<BTreeMap<String, String>>,
    /// Default [`DEFAULT_REPLICA_LABELS`].
    pub replica_labels: Option<Vec<String>>,
    pub http_ingress: Option<IngressSpec>,
    pub grpc_ingress: Option<IngressSpec>,
    pub envoy: Option<EnvoySpec>,
}

/// One entry of `stores`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Store {
    /// Required. Direct stores: `host:port`, `dns+host:port`, `dnssrv+name`, `dnssrvnoa+name`.
    /// TLS-proxied stores: `host:port`.
    pub address: Option<String>,
    /// Secret with the CA bundle: the store is reached through the envoy sidecar with TLS.
    pub secret_name: Option<String>,
    /// Default `ca.crt`.
    pub ca_key: Option<String>,
    /// Secret with `tls.crt`/`tls.key`: the sidecar presents it (mTLS).
    pub client_secret_name: Option<String>,
    /// SNI and the name the server certificate must carry; default: the host of `address`.
    pub server_name: Option<String>,
}

/// `envoy` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvoySpec {
    pub image: Option<String>,
    /// Default `IfNotPresent`.
    pub image_pull_policy: Option<String>,
    pub resources: Option<Resources>,
}

impl QuerySpec {
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
pub fn grpc_endpoint(spec: &QuerySpec) -> Option<String> {
    let name = spec.name.as_deref()?;
    let ns = common::namespace_of(&spec.namespace);
    Some(format!("{}.{ns}.svc:{GRPC_PORT}", service_name(name)))
}

/// Computed `http_url`: `http://thanosquery-<name>-operated.<namespace>.svc:10902`.
pub fn http_url(spec: &QuerySpec) -> Option<String> {
    let name = spec.name.as_deref()?;
    let ns = common::namespace_of(&spec.namespace);
    Some(format!(
        "http://{}.{ns}.svc:{HTTP_PORT}",
        service_name(name)
    ))
}

const DENY_QUERY: &[Denied] = &[Denied {
    flag: "--store.sd-files",
    why: "the store list is managed through `stores`; add further stores there or with --endpoint",
}];

/// Plan-time validation; skips unknown (`None`) values.
pub fn validate(spec: &QuerySpec) -> Vec<Invalid> {
    let mut r = Report::default();
    let root = Path::root();
    let c = spec.common();
    c.validate(&mut r);
    args::validate_extra_args(&mut r, &spec.extra_args, &[DENY_ALWAYS, DENY_QUERY]);
    common::validate_resources(&mut r, &root.attr("resources"), &spec.resources);
    common::validate_replicas(&mut r, &root.attr("replicas"), spec.replicas);
    if let Some(name) = &spec.name {
        meta::check_derived_names(
            &mut r,
            &[
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
            ],
        );
    }
    if let Some(stores) = &spec.stores {
        validate_stores(&mut r, &root.attr("stores"), stores);
    }
    if let Some(m) = &spec.selector_labels {
        // Any string is a valid value: it is Go-quoted when rendered.
        for k in m.keys() {
            if let Err(e) = validate::prometheus_label_name(k) {
                r.push(
                    &root.attr("selector_labels").key(k),
                    "Invalid selector label",
                    e,
                );
            }
        }
    }
    if let Some(ls) = &spec.replica_labels {
        let mut seen = std::collections::BTreeSet::new();
        for (i, l) in ls.iter().enumerate() {
            let p = root.attr("replica_labels").index(i);
            if let Err(e) = validate::prometheus_label_name(l) {
                r.push(&p, "Invalid replica label", e);
            }
            if !seen.insert(l) {
                r.push(
                    &p,
                    "Duplicate replica label",
                    format!("{l:?} is listed twice"),
                );
            }
        }
    }
    common::validate_ingress(&mut r, &root.attr("http_ingress"), &spec.http_ingress);
    common::validate_ingress(&mut r, &root.attr("grpc_ingress"), &spec.grpc_ingress);
    if let Some(e) = &spec.envoy {
        let p = root.attr("envoy");
        if let Some(i) = &e.image
            && (i.is_empty() || i.chars().any(char::is_whitespace))
        {
            r.push(
                &p.attr("image"),
                "Invalid image",
                format!("{i:?} must be a non-empty image reference without spaces"),
            );
        }
        common::check_enum(
            &mut r,
            &p.attr("image_pull_policy"),
            &e.image_pull_policy,
            common::PULL_POLICIES,
        );
        common::validate_resources(&mut r, &p.attr("resources"), &e.resources);
    }
    r.0
}

fn validate_stores(r: &mut Report, path: &Path, stores: &[Store]) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in stores.iter().enumerate() {
        let p = path.index(i);
        if let Some(a) = &s.address {
            if let Some(first) = seen.insert(a.as_str(), i) {
                r.push(
                    &p.attr("address"),
                    "Duplicate store",
                    format!("{a:?} is already stores[{first}]; each store may be listed once (duplicate proxied stores would also give Envoy duplicate listeners)"),
                );
            }
            if s.secret_name.is_some() {
                if let Err(e) = validate::host_port(a) {
                    r.push(
                        &p.attr("address"),
                        "Invalid proxied store address",
                        format!("a store with secret_name is reached through the TLS sidecar, so its address must be a plain host:port without a dns+/dnssrv+ prefix: {e}"),
                    );
                }
            } else if let Err(e) = direct_address(a) {
                r.push(&p.attr("address"), "Invalid store address", e);
            }
        }
        if s.secret_name.is_none() {
            for (attr, v) in [
                ("ca_key", &s.ca_key),
                ("client_secret_name", &s.client_secret_name),
                ("server_name", &s.server_name),
            ] {
                if v.is_some() {
                    r.push(
                        &p.attr(attr),
                        "Unused TLS setting",
                        format!("{attr} only applies to a store reached with TLS: set secret_name (the Secret holding the CA bundle) too"),
                    );
                }
            }
        }
        for (attr, v) in [
            ("secret_name", &s.secret_name),
            ("client_secret_name", &s.client_secret_name),
        ] {
            if let Some(n) = v
                && let Err(e) = validate::dns_subdomain(n)
            {
                r.push(&p.attr(attr), "Invalid Secret name", e);
            }
        }
        if let Some(k) = &s.ca_key
            && let Err(e) = validate::config_key(k)
        {
            r.push(&p.attr("ca_key"), "Invalid ca_key", e);
        }
        if let Some(n) = &s.server_name
            && let Err(e) = validate::host(n)
        {
            r.push(&p.attr("server_name"), "Invalid server_name", e);
        }
    }
}

fn direct_address(a: &str) -> Result<(), String> {
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
    for (i, s) in spec.stores.iter().flatten().enumerate() {
        let p = Path::root().attr("stores").index(i);
        let address = required(&s.address, &p.attr("address"))?;
        match &s.secret_name {
            None => t.direct.push(address.clone()),
            Some(secret) => {
                let (host, port) = validate::host_port(address).map_err(|e| {
                    Error::Invalid(vec![Invalid {
                        path: p.attr("address").0,
                        summary: "Invalid proxied store address".into(),
                        detail: e,
                    }])
                })?;
                t.proxied.push(ProxiedStore {
                    index: t.proxied.len(),
                    server_name: s.server_name.clone().unwrap_or_else(|| host.clone()),
                    host,
                    port,
                    ca_secret: secret.clone(),
                    ca_key: s.ca_key.clone().unwrap_or_else(|| DEFAULT_CA_KEY.into()),
                    client_secret: s.client_secret_name.clone(),
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
    let invalid = validate(spec);
    if !invalid.is_empty() {
        return Err(Error::Invalid(invalid));
    }
    let root = Path::root();
    let name = required(&spec.name, &root.attr("name"))?.as_str();
    let ns = common::namespace_of(&spec.namespace);
    let labels = meta::object_labels(Kind::Query, name, None, &BTreeMap::new(), &spec.labels);
    let selector = meta::selector_labels(Kind::Query, name, None);
    let om = |n: String| meta::object_meta(n, ns, labels.clone(), &spec.annotations);

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
    let replica_labels = spec.replica_labels.clone().unwrap_or_else(|| {
        DEFAULT_REPLICA_LABELS
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    });
    a.extend(
        replica_labels
            .iter()
            .map(|l| format!("--query.replica-label={l}")),
    );
    // BTreeMap: sorted by key, so the args never change order between renders.
    a.extend(
        spec.selector_labels
            .iter()
            .flatten()
            .map(|(k, v)| format!("--selector-label={k}={}", meta::go_quote(v))),
    );
    a.extend(workload::log_args(&spec.log_level, &spec.log_format));
    let a = args::merge_extra_args(a, &spec.extra_args);

    let mut containers = vec![
        ThanosContainer {
            name: "thanosquery",
            image: spec
                .image
                .clone()
                .unwrap_or_else(|| ctx.thanos_image.clone()),
            image_pull_policy: spec.image_pull_policy.clone(),
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
        let e = spec.envoy.clone().unwrap_or_default();
        containers.push(core::Container {
            name: "envoy-sidecar".into(),
            image: Some(e.image.unwrap_or_else(|| ctx.envoy_image.clone())),
            image_pull_policy: Some(e.image_pull_policy.unwrap_or_else(|| "IfNotPresent".into())),
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
    common::apply_placement(&spec.common(), &selector, &mut pod)?;
    let replicas = workload::replicas_i32(spec.replicas);
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
    if let Some(ing) = &spec.http_ingress {
        objects.push(Object::Ingress(common::build_ingress(
            &format!("thanosquery-{name}-http"),
            ns,
            &labels,
            &spec.annotations,
            &[],
            ing,
            &service_name(name),
            HTTP_PORT,
            &root.attr("http_ingress"),
        )?));
    }
    if let Some(ing) = &spec.grpc_ingress {
        objects.push(Object::Ingress(common::build_ingress(
            &format!("thanosquery-{name}-grpc"),
            ns,
            &labels,
            &spec.annotations,
            // ingress-nginx: gRPC to the backend (cleartext HTTP/2), TLS at the edge.
            &[
                ("nginx.ingress.kubernetes.io/backend-protocol", "GRPC"),
                ("nginx.ingress.kubernetes.io/force-ssl-redirect", "true"),
            ],
            ing,
            &service_name(name),
            GRPC_PORT,
            &root.attr("grpc_ingress"),
        )?));
    }
    Ok(Rendered { objects })
}
