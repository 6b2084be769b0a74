//! `thanos_rule`: a Thanos Ruler StatefulSet (+ headless Service, PDB when replicas > 1) that
//! evaluates recording and alerting rules through Thanos Query, sends firing alerts to
//! Alertmanagers, serves what it records over the Store API and, with object storage, ships
//! its blocks.
//!
//! Its rule files come from two places, each in ConfigMaps of their own:
//! - the inline `rule_groups`, checked by [`crate::rules`] and rendered in their canonical form
//!   (so Thanos reads exactly what was checked), in `thanosrule-<name>-rules`;
//! - the PrometheusRule objects the selectors pick, turned into rule files by
//!   [`prometheus_rule_file`] when they are read (a cluster input, like receive's discovered
//!   ring members), packed into `thanosrule-<name>-prometheus-rules-<i>` of at most
//!   [`SHARD_BYTES`] each, as prometheus-operator packs a ThanosRuler's rule files
//!   (`makeRulesConfigMaps` in its `pkg/thanos/rules.go`, v0.85.0).
//!
//! Thanos reads rule files only at start or on a reload signal (`--rule-file` in
//! `cmd/thanos/rule.go`, v0.42.5), so every rule ConfigMap is part of the pod template's config
//! hash: a changed rule rolls the pods, and the apply waits until they run it.
//!
//! Flags (all from `cmd/thanos/rule.go` and `cmd/thanos/config.go`, v0.42.5): `--query` per
//! query endpoint (HTTP; `clientconfig.BuildConfigFromHTTPAddresses`), `--alertmanagers.config-file`
//! (`alert.LoadAlertingConfig`: per Alertmanager its scheme, addresses, path prefix, timeout and
//! `http_config` with TLS files and basic auth), `--label` per external label and the replica
//! label, `--alert.label-drop` of the replica label (so both replicas' alerts are one alert
//! to Alertmanager), `--eval-interval`, `--tsdb.retention`, `--objstore.config-file`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;

use crate::args::{self, Denied};
use crate::common::{self, Common, DataVolume, RenderContext, Resources, SecretKeyRef};
use crate::meta::{self, DerivedName, GRPC_PORT, HTTP_PORT, Kind};
use crate::object::{Object, Rendered, sha256_hex};
use crate::rules::{self, RuleError, RuleFile};
use crate::workload::{self, ThanosContainer};

pub const RULES_DIR: &str = "/etc/thanos/rules";
pub const PROMETHEUS_RULES_DIR: &str = "/etc/thanos/prometheus-rules";
pub const ALERTMANAGERS_DIR: &str = "/etc/thanos/alertmanagers";
pub const ALERTMANAGERS_FILE: &str = "alertmanagers.yaml";
/// Secrets of Alertmanager `<i>` sit in `<dir>/<i>/{ca,client,basic-auth}`: never inside the
/// ConfigMap volume above.
pub const ALERTMANAGER_SECRETS_DIR: &str = "/etc/thanos/alertmanager-secrets";
pub const OBJSTORE_DIR: &str = "/etc/thanos/objstore";
pub const DATA_DIR: &str = "/thanos";
/// Every path a ruler mounts into its Thanos container (whichever of rule files, selected
/// PrometheusRules, Alertmanagers and object storage it has): an extra volume may not be at,
/// above or below any of them.
pub const MOUNT_PATHS: &[&str] = &[
    DATA_DIR,
    RULES_DIR,
    PROMETHEUS_RULES_DIR,
    ALERTMANAGERS_DIR,
    ALERTMANAGER_SECRETS_DIR,
    OBJSTORE_DIR,
];
/// The label that tells the replicas of one ruler apart, as prometheus-operator names it for a
/// ThanosRuler (`pkg/thanos/statefulset.go`, v0.85.0).
pub const DEFAULT_REPLICA_LABEL: &str = "thanos_ruler_replica";
/// Largest data of one PrometheusRule ConfigMap: half of Kubernetes' 1 MiB, as
/// prometheus-operator's `MaxConfigMapDataSize` (`pkg/operator/rules.go`, v0.85.0), which also
/// refuses a single PrometheusRule whose rule file is larger.
pub const SHARD_BYTES: usize = 512 * 1024;
/// Largest total of the inline rule files, which share one ConfigMap (Kubernetes' limit).
pub const INLINE_BYTES: usize = 1024 * 1024;
/// The Secret keys a client certificate is read from (as for `thanos_query` stores).
pub const CLIENT_CERT_KEY: &str = "tls.crt";
pub const CLIENT_KEY_KEY: &str = "tls.key";
pub const DEFAULT_CA_KEY: &str = "ca.crt";
pub const DEFAULT_PASSWORD_KEY: &str = "password";

/// A validated `thanos_rule`.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub common: Common,
    pub replicas: i32,
    pub resources: Resources,
    /// Query API endpoints the rules are evaluated through (`--query`), in order.
    pub query_endpoints: Vec<String>,
    pub alertmanagers: Vec<Alertmanager>,
    /// `--alert.query-url`: the Thanos Query URL alerts link to.
    pub alert_query_url: Option<String>,
    pub external_labels: BTreeMap<String, String>,
    pub replica_label: String,
    pub evaluation_interval: Option<String>,
    pub local_tsdb_retention: Option<String>,
    pub data_volume: DataVolume,
    pub object_storage_config: Option<SecretKeyRef>,
    /// `Retain` or `Delete`.
    pub pvc_retention_on_delete: String,
    /// `Retain` or `Delete`.
    pub pvc_retention_on_scale_down: String,
    /// The inline rule files, checked, by name (the file is `<name>.yaml`).
    pub rule_files: BTreeMap<String, RuleFile>,
    /// The selected PrometheusRule objects' rule files (canonical text) by
    /// `<namespace>/<name>`; `None` without a PrometheusRule selector.
    pub prometheus_rules: Option<BTreeMap<String, String>>,
}

/// One Alertmanager (or a DNS name that resolves to a cluster of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alertmanager {
    /// As written; [`alertmanager_address`] accepts it.
    pub url: String,
    /// Prometheus duration.
    pub timeout: Option<String>,
    /// The CA that signs the Alertmanager's certificate (unset: the image's system roots).
    pub ca: Option<SecretKeyRef>,
    /// Secret with `tls.crt` and `tls.key` presented to the Alertmanager (mutual TLS).
    pub client_secret_name: Option<String>,
    pub server_name: Option<String>,
    pub basic_auth: Option<BasicAuth>,
}

/// HTTP basic authentication with a password read from a Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub username: String,
    pub password: SecretKeyRef,
}

/// Object names.
pub fn workload_name(name: &str) -> String {
    format!("thanosrule-{name}")
}
pub fn service_name(name: &str) -> String {
    format!("thanosrule-{name}-operated")
}
pub fn rules_config_map_name(name: &str) -> String {
    format!("thanosrule-{name}-rules")
}
pub fn prometheus_rules_config_map_name(name: &str, shard: usize) -> String {
    format!("thanosrule-{name}-prometheus-rules-{shard}")
}
pub fn alertmanagers_config_map_name(name: &str) -> String {
    format!("thanosrule-{name}-alertmanagers")
}
/// Name of the data volume (and of its claim template: claims are
/// `thanosrule-<name>-data-thanosrule-<name>-<ordinal>`).
pub fn data_volume_name(name: &str) -> String {
    format!("thanosrule-{name}-data")
}

/// Computed `store_endpoint` (for `thanos_query.stores`):
/// `dnssrv+_grpc._tcp.thanosrule-<name>-operated.<ns>.svc`, every ready ruler pod.
pub fn store_endpoint(name: &str, namespace: &str) -> String {
    format!("dnssrv+_grpc._tcp.{}.{namespace}.svc", service_name(name))
}

/// Names Kubernetes derives from a ruler's name, with their limits.
pub fn derived_names(name: &str) -> Vec<DerivedName> {
    vec![
        DerivedName {
            name: service_name(name),
            limit: 63,
            what: "Service name",
        },
        DerivedName {
            name: meta::part_of(Kind::Rule, name),
            limit: 63,
            what: "ownership label value",
        },
        // The StatefulSet controller labels pods with `<statefulset>-<10-char hash>`.
        DerivedName {
            name: format!("{}-0123456789", workload_name(name)),
            limit: 63,
            what: "StatefulSet revision label (controller-revision-hash)",
        },
    ]
}

const MANAGED_RULE_FILES: &str =
    "rule files are managed: rule_groups and the PrometheusRule objects the selectors pick";
const MANAGED_QUERY: &str = "the rules are evaluated through query_endpoints";
const MANAGED_ALERTMANAGERS: &str = "alerts go to the alertmanagers attribute, rendered as --alertmanagers.config-file (Thanos refuses both at once)";

/// Flags of a ruler that `extra_args` may not set, besides [`args::DENY_ALWAYS`].
pub const DENY_RULE: &[Denied] = &[
    Denied {
        flag: "--data-dir",
        why: "the TSDB lives on the managed data volume mounted at /thanos",
    },
    Denied {
        flag: "--rule-file",
        why: MANAGED_RULE_FILES,
    },
    Denied {
        flag: "--query",
        why: MANAGED_QUERY,
    },
    Denied {
        flag: "--query.config",
        why: MANAGED_QUERY,
    },
    Denied {
        flag: "--query.config-file",
        why: MANAGED_QUERY,
    },
    Denied {
        flag: "--query.sd-files",
        why: MANAGED_QUERY,
    },
    Denied {
        flag: "--grpc-query-endpoint",
        why: MANAGED_QUERY,
    },
    Denied {
        flag: "--alertmanagers.url",
        why: MANAGED_ALERTMANAGERS,
    },
    Denied {
        flag: "--alertmanagers.config",
        why: MANAGED_ALERTMANAGERS,
    },
    Denied {
        flag: "--alertmanagers.config-file",
        why: MANAGED_ALERTMANAGERS,
    },
    Denied {
        flag: "--label",
        why: "labels are external_labels plus the replica label (replica_label), which HA deduplication and alert deduplication rely on",
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

/// Where an Alertmanager is, as the alerting configuration spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertmanagerAddress {
    /// `http` or `https`.
    pub scheme: String,
    /// `host:port`, `dns+host:port`, `dnssrv+<SRV name>` or `dnssrvnoa+<SRV name>`.
    pub address: String,
    /// The path prefix of the Alertmanager API (empty for none).
    pub path_prefix: String,
}

/// Parses an Alertmanager URL: `[dns+|dnssrv+|dnssrvnoa+]<http|https>://<host>[/<path prefix>]`,
/// the host with a port unless it is an SRV name (`dnssrv+`, `dnssrvnoa+`), as the ruler's
/// `--alertmanagers.url` reads it (`alert.BuildAlertmanagerConfig`). Credentials never go in
/// the URL (they would be in the pod spec for everyone to read): `basic_auth` reads them from
/// a Secret.
pub fn alertmanager_address(url: &str) -> Result<AlertmanagerAddress, String> {
    let (dns, rest) = ["dnssrvnoa+", "dnssrv+", "dns+"]
        .iter()
        .find_map(|p| url.strip_prefix(p).map(|r| (*p, r)))
        .unwrap_or(("", url));
    let (scheme, rest) = rest
        .split_once("://")
        .filter(|(s, _)| *s == "http" || *s == "https")
        .ok_or_else(|| {
            format!(
                "{url:?} must start with http:// or https:// (optionally prefixed with dns+, dnssrv+ or dnssrvnoa+), e.g. \"http://alertmanager.monitoring.svc:9093\""
            )
        })?;
    if rest.contains(['?', '#']) {
        return Err(format!(
            "{url:?}: an Alertmanager URL takes no query string or fragment"
        ));
    }
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    if host.contains('@') {
        return Err(format!(
            "{url:?}: put no credentials in the URL (they would be readable in the pod spec); set basic_auth, which reads the password from a Secret"
        ));
    }
    let address = format!("{dns}{host}");
    crate::query::direct_address(&address).map_err(|e| {
        if dns.starts_with("dnssrv") {
            e
        } else {
            format!("{url:?}: the host needs a port, e.g. :9093 ({e})")
        }
    })?;
    Ok(AlertmanagerAddress {
        scheme: scheme.to_owned(),
        address,
        path_prefix: path.to_owned(),
    })
}

/// Checks a query endpoint as the ruler's `--query` reads it
/// (`clientconfig.BuildConfigFromHTTPAddresses`): `http://` or `https://` with a host, an
/// optional port and path prefix (a `thanos_query`'s `http_url`), or a bare address
/// (`host:port`, `dns+host:port`, `dnssrv+<SRV name>`), which Thanos reaches over HTTP.
pub fn query_endpoint(endpoint: &str) -> Result<(), String> {
    let example = "e.g. a thanos_query's http_url such as \"http://thanosquery-global-operated.monitoring.svc:10902\"";
    if endpoint.contains(['?', '#', '@']) || endpoint.chars().any(char::is_whitespace) {
        return Err(format!(
            "{endpoint:?} must be a URL without credentials, query string or fragment, {example}"
        ));
    }
    match endpoint.split_once("://") {
        Some((scheme, rest)) => {
            if scheme != "http" && scheme != "https" {
                return Err(format!(
                    "{endpoint:?}: the scheme must be http or https, {example}"
                ));
            }
            let host = rest.split('/').next().unwrap_or_default();
            let bare = ["dnssrvnoa+", "dnssrv+", "dns+"]
                .iter()
                .find_map(|p| host.strip_prefix(p))
                .unwrap_or(host);
            if host.starts_with("dnssrv") || bare.contains(':') {
                crate::query::direct_address(host).map_err(|e| format!("{endpoint:?}: {e}"))
            } else {
                crate::validate::host(bare).map_err(|e| format!("{endpoint:?}: {e}"))
            }
        }
        None => crate::query::direct_address(endpoint)
            .map_err(|e| format!("{e}; or write a URL, {example}")),
    }
}

/// The rule file of a PrometheusRule's `spec` (monitoring.coreos.com/v1), checked exactly as an
/// inline rule file is. The spec has a rule file's shape (`groups`, each with `name`,
/// `interval`, `rules`, ...; `expr` may be a number), so its JSON (which is YAML) is checked as
/// the file; the positions of errors are dropped, as they would point into that JSON, not into
/// anything the user wrote.
pub fn prometheus_rule_file(spec: &serde_json::Value) -> Result<RuleFile, Vec<RuleError>> {
    let groups = spec
        .get("groups")
        .cloned()
        .unwrap_or(serde_json::Value::Array(Vec::new()));
    let text = serde_json::to_string_pretty(&serde_json::json!({ "groups": groups }))
        .expect("JSON values always serialize");
    rules::check_rule_file(&text).map_err(|errors| {
        errors
            .into_iter()
            .map(|mut e| {
                e.location.pos = None;
                e
            })
            .collect()
    })
}

/// The file name of the PrometheusRule `<namespace>/<name>` in its ConfigMap:
/// `<namespace>.<name>.yaml` (a namespace has no dots, so two objects never share a name),
/// shortened with a hash where it would pass Kubernetes' 253-character key limit.
pub fn prometheus_rule_file_name(key: &str) -> String {
    let plain = format!("{}.yaml", key.replacen('/', ".", 1));
    if plain.len() <= 253 {
        return plain;
    }
    let hash = &sha256_hex(key.as_bytes())[..16];
    let mut cut = 200;
    while !plain.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{hash}.yaml", &plain[..cut])
}

/// The selected rule files by file name, packed into ConfigMap data of at most
/// [`SHARD_BYTES`] each, in name order (a file larger than that is alone in its shard). Always
/// at least one shard, so a selection that is empty today still shows as a ConfigMap.
pub fn shards(files: &BTreeMap<String, String>) -> Vec<BTreeMap<String, String>> {
    let mut out = vec![BTreeMap::new()];
    let mut size = 0;
    for (name, text) in files {
        let len = name.len() + text.len();
        if size + len > SHARD_BYTES && !out.last().expect("one shard").is_empty() {
            out.push(BTreeMap::new());
            size = 0;
        }
        out.last_mut()
            .expect("one shard")
            .insert(name.clone(), text.clone());
        size += len;
    }
    out
}

/// The ruler's alerting configuration (`--alertmanagers.config-file`), as JSON, which YAML
/// reads alike: the cluster translation of the data-path tests reads JSON files.
pub fn alertmanagers_config(alertmanagers: &[Alertmanager]) -> String {
    let entries: Vec<serde_json::Value> = alertmanagers
        .iter()
        .enumerate()
        .map(|(i, am)| {
            // Validation accepted the URL; an unparsable one here is a bug in the caller.
            let address = alertmanager_address(&am.url).unwrap_or_else(|_| AlertmanagerAddress {
                scheme: "http".into(),
                address: am.url.clone(),
                path_prefix: String::new(),
            });
            let dir = format!("{ALERTMANAGER_SECRETS_DIR}/{i}");
            let mut http = serde_json::Map::new();
            let mut tls = serde_json::Map::new();
            if let Some(ca) = &am.ca {
                tls.insert("ca_file".into(), format!("{dir}/ca/{}", ca.key).into());
            }
            if am.client_secret_name.is_some() {
                tls.insert(
                    "cert_file".into(),
                    format!("{dir}/client/{CLIENT_CERT_KEY}").into(),
                );
                tls.insert(
                    "key_file".into(),
                    format!("{dir}/client/{CLIENT_KEY_KEY}").into(),
                );
            }
            if let Some(s) = &am.server_name {
                tls.insert("server_name".into(), s.clone().into());
            }
            if !tls.is_empty() {
                http.insert("tls_config".into(), tls.into());
            }
            if let Some(b) = &am.basic_auth {
                http.insert(
                    "basic_auth".into(),
                    serde_json::json!({
                        "username": b.username,
                        "password_file": format!("{dir}/basic-auth/{}", b.password.key),
                    }),
                );
            }
            let mut entry = serde_json::json!({
                "scheme": address.scheme,
                "static_configs": [address.address],
            });
            if !address.path_prefix.is_empty() {
                entry["path_prefix"] = address.path_prefix.into();
            }
            if let Some(t) = &am.timeout {
                entry["timeout"] = t.clone().into();
            }
            if !http.is_empty() {
                entry["http_config"] = http.into();
            }
            entry
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&serde_json::json!({ "alertmanagers": entries }))
        .expect("JSON values always serialize");
    text.push('\n');
    text
}

/// The Secret volumes (and their mounts) an Alertmanager's TLS and basic auth read.
fn alertmanager_secrets(
    i: usize,
    am: &Alertmanager,
    volumes: &mut Vec<core::Volume>,
    mounts: &mut Vec<core::VolumeMount>,
    refs: &mut Vec<String>,
) {
    let mut add = |what: &str, secret: &str, keys: &[&str]| {
        let volume = format!("alertmanager-{i}-{what}");
        volumes.push(core::Volume {
            name: volume.clone(),
            secret: Some(core::SecretVolumeSource {
                secret_name: Some(secret.into()),
                items: Some(
                    keys.iter()
                        .map(|k| core::KeyToPath {
                            key: (*k).into(),
                            path: (*k).into(),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.push(workload::mount(
            &volume,
            &format!("{ALERTMANAGER_SECRETS_DIR}/{i}/{what}"),
            true,
        ));
        refs.extend(keys.iter().map(|k| format!("{secret}/{k}")));
    };
    if let Some(ca) = &am.ca {
        add("ca", &ca.name, &[&ca.key]);
    }
    if let Some(client) = &am.client_secret_name {
        add("client", client, &[CLIENT_CERT_KEY, CLIENT_KEY_KEY]);
    }
    if let Some(b) = &am.basic_auth {
        add("basic-auth", &b.password.name, &[&b.password.key]);
    }
}

/// Renders every object of a ruler.
pub fn render(spec: &RuleSpec, ctx: &RenderContext) -> Rendered {
    let c = &spec.common;
    let name = c.name.as_str();
    let ns = c.namespace.as_str();
    let labels = meta::object_labels(Kind::Rule, name, None, &BTreeMap::new(), &c.labels);
    let selector = meta::selector_labels(Kind::Rule, name, None);
    let om = |n: String| meta::object_meta(n, ns, labels.clone(), &c.annotations);

    let mut config_maps = Vec::new();
    let mut volumes = Vec::new();
    let mut mounts = vec![workload::mount(&data_volume_name(name), DATA_DIR, false)];
    let mut secret_refs = Vec::new();
    let mut rule_file_args = Vec::new();

    if !spec.rule_files.is_empty() {
        config_maps.push(core::ConfigMap {
            metadata: om(rules_config_map_name(name)),
            data: Some(
                spec.rule_files
                    .iter()
                    .map(|(n, f)| (format!("{n}.yaml"), f.to_yaml()))
                    .collect(),
            ),
            ..Default::default()
        });
        volumes.push(workload::config_map_volume(
            "rules",
            &rules_config_map_name(name),
        ));
        mounts.push(workload::mount("rules", RULES_DIR, true));
        rule_file_args.push(format!("--rule-file={RULES_DIR}/*.yaml"));
    }
    if let Some(selected) = &spec.prometheus_rules {
        let files: BTreeMap<String, String> = selected
            .iter()
            .map(|(key, text)| (prometheus_rule_file_name(key), text.clone()))
            .collect();
        for (i, data) in shards(&files).into_iter().enumerate() {
            let cm_name = prometheus_rules_config_map_name(name, i);
            let volume = format!("prometheus-rules-{i}");
            let dir = format!("{PROMETHEUS_RULES_DIR}/{i}");
            config_maps.push(core::ConfigMap {
                metadata: om(cm_name.clone()),
                data: Some(data),
                ..Default::default()
            });
            volumes.push(workload::config_map_volume(&volume, &cm_name));
            mounts.push(workload::mount(&volume, &dir, true));
            rule_file_args.push(format!("--rule-file={dir}/*.yaml"));
        }
    }
    if !spec.alertmanagers.is_empty() {
        config_maps.push(core::ConfigMap {
            metadata: om(alertmanagers_config_map_name(name)),
            data: Some(BTreeMap::from([(
                ALERTMANAGERS_FILE.to_owned(),
                alertmanagers_config(&spec.alertmanagers),
            )])),
            ..Default::default()
        });
        volumes.push(workload::config_map_volume(
            "alertmanagers",
            &alertmanagers_config_map_name(name),
        ));
        mounts.push(workload::mount("alertmanagers", ALERTMANAGERS_DIR, true));
        for (i, am) in spec.alertmanagers.iter().enumerate() {
            alertmanager_secrets(i, am, &mut volumes, &mut mounts, &mut secret_refs);
        }
    }

    let mut a = vec![
        "rule".to_owned(),
        format!("--grpc-address=[$(POD_IP)]:{GRPC_PORT}"),
        format!("--http-address=[$(POD_IP)]:{HTTP_PORT}"),
        format!("--data-dir={DATA_DIR}"),
        format!("--label={}=\"$(NAME)\"", spec.replica_label),
    ];
    a.extend(
        spec.external_labels
            .iter()
            .map(|(k, v)| format!("--label={k}={}", meta::go_quote(v))),
    );
    if let Some(i) = &spec.evaluation_interval {
        a.push(format!("--eval-interval={i}"));
    }
    if let Some(r) = &spec.local_tsdb_retention {
        a.push(format!("--tsdb.retention={r}"));
    }
    a.extend(rule_file_args);
    a.extend(spec.query_endpoints.iter().map(|q| format!("--query={q}")));
    if !spec.alertmanagers.is_empty() {
        a.push(format!(
            "--alertmanagers.config-file={ALERTMANAGERS_DIR}/{ALERTMANAGERS_FILE}"
        ));
    }
    a.push(format!("--alert.label-drop={}", spec.replica_label));
    if let Some(u) = &spec.alert_query_url {
        a.push(format!("--alert.query-url={u}"));
    }
    if let Some(os) = &spec.object_storage_config {
        a.push(format!("--objstore.config-file={OBJSTORE_DIR}/{}", os.key));
        volumes.push(workload::secret_volume("objstore", &os.name, Some(&os.key)));
        mounts.push(workload::mount("objstore", OBJSTORE_DIR, true));
        secret_refs.push(format!("{}/{}", os.name, os.key));
    }
    a.extend(workload::log_args(&c.log_level, &c.log_format));
    let a = args::merge_extra_args(a, &c.extra_args);

    let container = ThanosContainer {
        name: "thanosrule",
        image: c.image(ctx),
        image_pull_policy: c.image_pull_policy.clone(),
        args: a,
        ports: workload::grpc_http_ports(),
        pod_name_env: true,
        resources: common::resource_requirements(&spec.resources),
        mounts,
    }
    .build();

    let vcts = common::data_volume(
        &data_volume_name(name),
        &spec.data_volume,
        (Kind::Rule, name),
        &selector,
        &mut volumes,
    );
    let hash = workload::config_hash(&config_maps.iter().collect::<Vec<_>>(), &secret_refs);
    let template = workload::pod_template(
        c,
        labels.clone(),
        &selector,
        Some(hash),
        vec![container],
        volumes,
    );

    let mut objects: Vec<Object> = config_maps.into_iter().map(Object::ConfigMap).collect();
    objects.push(Object::Service(workload::headless_service(
        om(service_name(name)),
        selector.clone(),
        &[("grpc", GRPC_PORT), ("http", HTTP_PORT)],
    )));
    // Replicas evaluate the same rules independently: peers.
    objects.push(Object::StatefulSet(workload::peer_statefulset(
        om(workload_name(name)),
        spec.replicas,
        service_name(name),
        &selector,
        template,
        vcts,
        Some(workload::ClaimRetention {
            on_delete: &spec.pvc_retention_on_delete,
            on_scale_down: &spec.pvc_retention_on_scale_down,
        }),
    )));
    if spec.replicas > 1 {
        objects.push(Object::PodDisruptionBudget(workload::pdb(
            om(workload_name(name)),
            selector,
            1,
        )));
    }
    workload::finish(Kind::Rule, c, objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertmanager_urls_as_thanos_reads_them() {
        let a = alertmanager_address("http://am.monitoring.svc:9093").unwrap();
        assert_eq!(
            (
                a.scheme.as_str(),
                a.address.as_str(),
                a.path_prefix.as_str()
            ),
            ("http", "am.monitoring.svc:9093", "")
        );
        let a = alertmanager_address("dnssrv+https://_web._tcp.am.monitoring.svc/am/").unwrap();
        assert_eq!(
            (
                a.scheme.as_str(),
                a.address.as_str(),
                a.path_prefix.as_str()
            ),
            ("https", "dnssrv+_web._tcp.am.monitoring.svc", "/am")
        );
        let a = alertmanager_address("dns+http://am:9093").unwrap();
        assert_eq!(a.address, "dns+am:9093");
        for bad in [
            "am:9093",
            "ftp://am:9093",
            "http://am",
            "http://user:pw@am:9093",
            "http://am:9093/?x=1",
            "dns+http://am",
        ] {
            assert!(alertmanager_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_endpoints_as_thanos_reads_them() {
        for good in [
            "http://thanosquery-g-operated.monitoring.svc:10902",
            "https://query.example.com",
            "https://query.example.com/prefix",
            "thanosquery-g-operated.monitoring.svc:10902",
            "dns+query:10902",
            "dnssrv+_http._tcp.query.monitoring.svc",
            "http://dnssrv+_http._tcp.query.monitoring.svc",
        ] {
            assert_eq!(query_endpoint(good), Ok(()), "{good}");
        }
        for bad in [
            "grpc://q:10901",
            "q",
            "http://",
            "http://u:p@q:1",
            "http://q:1?x",
            "http://q:notaport",
        ] {
            assert!(query_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prometheus_rule_specs_are_checked_as_rule_files() {
        let spec = serde_json::json!({"groups": [{"name": "g", "rules": [
            {"record": "a:b", "expr": 1},
            {"alert": "A", "expr": "up == 0", "for": "5m", "labels": {"severity": "page"}},
        ]}]});
        let file = prometheus_rule_file(&spec).unwrap();
        assert_eq!(file.rule_count(), 2);
        assert_eq!(file.groups[0].rules[0].expr, "1");
        assert_eq!(
            prometheus_rule_file(&serde_json::json!({})).unwrap(),
            RuleFile::default()
        );
        let bad = serde_json::json!({"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up =="}]}]});
        let errors = prometheus_rule_file(&bad).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].location.pos, None);
        assert!(
            errors[0]
                .to_string()
                .starts_with("group 0 \"g\", rule 0 (alert \"A\"), expr:"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn file_names_are_unique_and_short_enough() {
        assert_eq!(prometheus_rule_file_name("team-a/cpu"), "team-a.cpu.yaml");
        assert_eq!(prometheus_rule_file_name("a/b.c"), "a.b.c.yaml");
        let long = format!("ns/{}", "x".repeat(300));
        let n = prometheus_rule_file_name(&long);
        assert!(n.len() <= 253 && n.ends_with(".yaml"), "{n}");
        assert_ne!(n, prometheus_rule_file_name(&format!("{long}y")));
    }

    #[test]
    fn shards_pack_in_order_and_never_split_a_file() {
        assert_eq!(shards(&BTreeMap::new()), vec![BTreeMap::new()]);
        let big = "x".repeat(SHARD_BYTES / 2);
        let files: BTreeMap<String, String> = ["a", "b", "c"]
            .iter()
            .map(|n| ((*n).to_owned(), big.clone()))
            .collect();
        let s = shards(&files);
        assert_eq!(
            s.len(),
            3,
            "each half-shard file plus its name overflows a pair"
        );
        assert_eq!(s[0].keys().collect::<Vec<_>>(), ["a"]);
        let huge = BTreeMap::from([("h".to_owned(), "x".repeat(SHARD_BYTES * 2))]);
        assert_eq!(shards(&huge).len(), 1);
    }
}
