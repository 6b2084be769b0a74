//! The production fields (issue 15) on every workload of every resource: goldens of each
//! resource with all of them set (a created and annotated ServiceAccount, image pull secrets,
//! pod annotations, a priority class, both security contexts changed, a Secret, a ConfigMap and
//! an emptyDir mounted, ServiceMonitors), of the query frontend, an invariant that holds them
//! on every pod template of every mode, and their validation at attribute paths.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use serde_json::{Value, json};
use terraform_provider_thanos::resources::rule::Rule;
use terraform_provider_thanos::resources::{query::Query, receive::Receive, storage::Storage};
use terraform_provider_thanos::testing::{Absent, findings};
use thanos_render::validate::display_path;
use thanos_render::{Invalid, Object, Rendered};
use thanos_render::{query, receive, rule, storage};

use crate::support::*;

/// The production fields, as a platform team on a cloud cluster writes them, merged into a
/// resource's configuration `base`.
fn with_production_fields(mut base: Value) -> Value {
    let fields = json!({
        "service_account": {
            "create": true,
            "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/thanos"},
        },
        "image_pull_secrets": ["registry-credentials"],
        "pod_annotations": {
            "sidecar.istio.io/inject": "false",
            "kubectl.kubernetes.io/restartedAt": "2026-11-30T12:00:00Z",
        },
        "priority_class_name": "monitoring-critical",
        "security_context": {
            "pod": r#"{"runAsUser": null, "runAsGroup": null, "fsGroup": null}"#,
            "container": r#"{"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}"#,
        },
        "extra_volumes": [
            {"name": "http-config", "mount_path": "/etc/thanos-http",
             "secret": {"name": "thanos-http-config", "items": {"http.yaml": "config.yaml"}}},
            {"name": "tracing", "mount_path": "/etc/thanos-tracing",
             "config_map": {"name": "thanos-tracing"}},
            {"name": "scratch", "mount_path": "/tmp/scratch",
             "empty_dir": {"medium": "Memory", "size_limit": "64Mi"}},
        ],
        "service_monitor": {"interval": "30s", "labels": {"release": "kube-prometheus-stack"}},
        "extra_args": [
            "--http.config=/etc/thanos-http/config.yaml",
            "--tracing.config-file=/etc/thanos-tracing/tracing.yaml",
        ],
    });
    let base_map = base.as_object_mut().unwrap();
    for (k, v) in fields.as_object().unwrap() {
        base_map.entry(k.clone()).or_insert_with(|| v.clone());
    }
    base
}

fn query_config() -> Value {
    with_production_fields(json!({
        "name": "global",
        "namespace": "monitoring",
        "replicas": 2,
        "tls_mode": "envoy",
        "stores": [
            {"address": "thanosstorage-lts-gateway-operated.monitoring.svc:10901"},
            {"address": "member-1.example.com:443", "secret_name": "member-ca"},
        ],
        "http_ingress": {"host": "thanos.example.com"},
        "frontend": {
            "replicas": 2,
            "split_interval": "12h",
            "max_retries": 3,
            "downstream_timeout": "2m",
            "results_cache": {"in_memory_max_size": "512MB"},
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
            "extra_args": ["--query-frontend.compress-responses"],
        },
    }))
}

fn receive_config() -> Value {
    with_production_fields(json!({
        "name": "metrics",
        "namespace": "monitoring",
        "replicas": 2,
        "router": {
            "replication_factor": 1,
            "soft_tenant_hashring": {
                "name": "default",
                "endpoints_selector": {"match_labels": {"app.kubernetes.io/instance": "metrics"}},
            },
        },
        "ingestor": {
            "object_storage_config": {"name": "thanos-objstore", "key": "objstore.yaml"},
            "data_volume": {"pvc": {"size": "10Gi"}},
        },
    }))
}

fn storage_config() -> Value {
    with_production_fields(json!({
        "name": "lts",
        "namespace": "monitoring",
        "object_storage_config": {"name": "thanos-objstore", "key": "objstore.yaml"},
        "gateway": {"replicas": 2},
        "compact": {},
    }))
}

fn rule_config() -> Value {
    with_production_fields(json!({
        "name": "global",
        "namespace": "monitoring",
        "query_endpoints": ["http://thanosquery-global-frontend-operated.monitoring.svc:10902"],
        "rule_groups": {"slo": "groups: []\n"},
    }))
}

fn rendered_query(config: Value) -> Rendered {
    query::render(&spec::<Query>(config), &ctx()).unwrap()
}
fn rendered_receive(config: Value) -> Rendered {
    let spec = spec::<Receive>(config);
    // What the ring discovers: the ingestors of the full configuration.
    let ingestors = endpoints(&self::spec::<Receive>(receive_config()));
    let ring = BTreeMap::from([("default".to_owned(), ingestors)]);
    receive::render(&spec, &ctx(), &ring).unwrap()
}
fn rendered_storage(config: Value) -> Rendered {
    storage::render(&spec::<Storage>(config), &ctx())
}
fn rendered_rule(config: Value) -> Rendered {
    rule::render(&spec::<Rule>(config), &ctx())
}

// ---------------------------------------------------------------------------------------------
// Goldens. A change in one changes users' pods on the next apply: review every line.

/// The querier (with its envoy sidecar), the query frontend in front of it (two replicas, its
/// PDB), the HTTP Ingress serving the frontend, the created ServiceAccount, and a
/// ServiceMonitor for the querier and one for the frontend.
#[test]
fn production_query() {
    insta::assert_yaml_snapshot!(rendered_query(query_config()).to_json());
}

/// Router and ingestor in one StatefulSet (the other modes are in the invariant below).
#[test]
fn production_receive() {
    insta::assert_yaml_snapshot!(rendered_receive(receive_config()).to_json());
}

/// A router alone is a Deployment: the same fields on its pods.
#[test]
fn production_receive_router() {
    let mut router_only = receive_config();
    router_only.as_object_mut().unwrap().remove("ingestor");
    let r = rendered_receive(router_only);
    let deployment = r
        .objects
        .iter()
        .find(|o| o.kind() == "Deployment")
        .unwrap_or_else(|| panic!("no router Deployment: {:?}", r.keys()));
    insta::assert_yaml_snapshot!(serde_json::to_value(deployment).unwrap());
}

/// Gateway and compactor.
#[test]
fn production_storage() {
    insta::assert_yaml_snapshot!(rendered_storage(storage_config()).to_json());
}

/// The ruler.
#[test]
fn production_rule() {
    insta::assert_yaml_snapshot!(rendered_rule(rule_config()).to_json());
}

/// A frontend block with nothing set: one replica, Thanos's split interval and retries, the
/// default in-memory cache, no tripper configuration; no ServiceMonitors without their block.
#[test]
fn frontend_defaults() {
    let r = rendered_query(json!({"name": "q", "frontend": {}}));
    let objects: Vec<Value> = r
        .objects
        .iter()
        .filter(|o| o.name().contains("frontend"))
        .map(|o| serde_json::to_value(o).unwrap())
        .collect();
    insta::assert_yaml_snapshot!(objects);
    assert!(
        r.get("PodDisruptionBudget", "thanosquery-q-frontend")
            .is_none()
    );
    assert!(!r.keys().iter().any(|(k, _)| *k == "ServiceMonitor"));
}

/// A cache configuration is passed as written (trimmed), not wrapped in ours.
#[test]
fn frontend_with_a_shared_cache_configuration() {
    let config = "type: MEMCACHED\nconfig:\n  addresses: [\"dnssrv+_client._tcp.memcached.monitoring.svc\"]\n";
    let r = rendered_query(json!({
        "name": "q",
        "frontend": {"results_cache": {"config": config}},
    }));
    insta::assert_yaml_snapshot!(args(&r, "Deployment", "thanosquery-q-frontend"));
}

/// An existing ServiceAccount is named, not rendered; the token is mounted when asked; the
/// hardened contexts stay ours when `security_context` is absent.
#[test]
fn an_existing_service_account_with_its_token() {
    let r = rendered_storage(json!({
        "name": "lts",
        "object_storage_config": {"name": "thanos-objstore", "key": "objstore.yaml"},
        "service_account": {"name": "thanos", "automount_token": true},
        "gateway": {},
        "compact": {},
    }));
    assert!(!r.keys().iter().any(|(k, _)| *k == "ServiceAccount"));
    for sts in ["thanosstorage-lts-gateway", "thanosstorage-lts-compact"] {
        let pod = pod_spec(&r, "StatefulSet", sts);
        assert_eq!(pod.service_account_name.as_deref(), Some("thanos"));
        assert_eq!(pod.automount_service_account_token, Some(true));
        assert_eq!(
            pod.security_context,
            Some(thanos_render::security::default_pod())
        );
        assert_eq!(
            pod.containers[0].security_context,
            Some(thanos_render::security::default_container())
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Every workload of every resource, in every mode.

/// Every rendered object of every resource with the production fields, in each mode.
fn every_production_stack() -> Vec<(&'static str, Rendered)> {
    let mut router_only = receive_config();
    router_only.as_object_mut().unwrap().remove("ingestor");
    let mut ingestor_only = receive_config();
    ingestor_only.as_object_mut().unwrap().remove("router");
    let mut native_query = query_config();
    native_query["tls_mode"] = json!("native");
    vec![
        ("query (envoy)", rendered_query(query_config())),
        ("query (native)", rendered_query(native_query)),
        (
            "receive (router + ingestor)",
            rendered_receive(receive_config()),
        ),
        ("receive (router)", rendered_receive(router_only)),
        ("receive (ingestor)", rendered_receive(ingestor_only)),
        ("storage", rendered_storage(storage_config())),
        ("rule", rendered_rule(rule_config())),
    ]
}

fn templates(r: &Rendered) -> Vec<(String, core::PodTemplateSpec)> {
    r.objects
        .iter()
        .filter_map(|o| match o {
            Object::Deployment(d) => Some((o.name().to_owned(), d.spec.clone()?.template)),
            Object::StatefulSet(s) => Some((o.name().to_owned(), s.spec.clone()?.template)),
            _ => None,
        })
        .collect()
}

#[test]
fn every_pod_of_every_resource_has_every_production_field() {
    for (what, r) in every_production_stack() {
        let workloads = templates(&r);
        assert!(!workloads.is_empty(), "{what}: no workloads");
        let accounts: Vec<&Object> = r
            .objects
            .iter()
            .filter(|o| o.kind() == "ServiceAccount")
            .collect();
        assert_eq!(accounts.len(), 1, "{what}: one created ServiceAccount");
        let account = accounts[0].name().to_owned();
        for (name, t) in workloads {
            let at = format!("{what}: {name}");
            let annotations = t.metadata.unwrap().annotations.unwrap_or_default();
            assert_eq!(
                annotations
                    .get("sidecar.istio.io/inject")
                    .map(String::as_str),
                Some("false"),
                "{at}"
            );
            assert!(
                annotations.contains_key("kubectl.kubernetes.io/restartedAt"),
                "{at}"
            );
            let pod = t.spec.unwrap();
            assert_eq!(pod.service_account_name.as_deref(), Some(&*account), "{at}");
            assert_eq!(pod.automount_service_account_token, Some(false), "{at}");
            assert_eq!(
                pod.image_pull_secrets,
                Some(vec![core::LocalObjectReference {
                    name: "registry-credentials".into()
                }]),
                "{at}"
            );
            assert_eq!(
                pod.priority_class_name.as_deref(),
                Some("monitoring-critical"),
                "{at}"
            );
            let psc = pod.security_context.unwrap();
            assert_eq!(
                (psc.run_as_user, psc.run_as_group, psc.fs_group),
                (None, None, None),
                "{at}"
            );
            assert_eq!(psc.run_as_non_root, Some(true), "{at}: the rest stays ours");
            for c in &pod.containers {
                let csc = c.security_context.clone().unwrap();
                assert_eq!(
                    csc.capabilities.unwrap().add,
                    Some(vec!["NET_BIND_SERVICE".to_owned()]),
                    "{at}: container {}",
                    c.name
                );
                assert_eq!(csc.read_only_root_filesystem, Some(true), "{at}");
            }
            let volumes: BTreeMap<String, core::Volume> = pod
                .volumes
                .unwrap_or_default()
                .into_iter()
                .map(|v| (v.name.clone(), v))
                .collect();
            let mounts: BTreeMap<String, core::VolumeMount> = pod.containers[0]
                .volume_mounts
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|m| (m.name.clone(), m))
                .collect();
            for (volume, path, read_only) in [
                ("extra-http-config", "/etc/thanos-http", Some(true)),
                ("extra-tracing", "/etc/thanos-tracing", Some(true)),
                ("extra-scratch", "/tmp/scratch", None),
            ] {
                assert!(volumes.contains_key(volume), "{at}: volume {volume}");
                let m = &mounts[volume];
                assert_eq!(
                    (m.mount_path.as_str(), m.read_only),
                    (path, read_only),
                    "{at}"
                );
            }
            for c in &pod.containers[1..] {
                assert!(
                    !c.volume_mounts
                        .iter()
                        .flatten()
                        .any(|m| m.name.starts_with("extra-")),
                    "{at}: the extra volumes are the Thanos container's only ({})",
                    c.name
                );
            }
        }
    }
}

/// Each Service with an HTTP port has exactly one ServiceMonitor, which selects only it (by
/// labels that Service has and no other Service of the stack has all of).
#[test]
fn every_service_has_a_service_monitor_that_selects_it_alone() {
    for (what, r) in every_production_stack() {
        let services: Vec<(String, BTreeMap<String, String>)> = r
            .objects
            .iter()
            .filter_map(|o| match o {
                Object::Service(s) => Some((
                    o.name().to_owned(),
                    s.metadata.labels.clone().unwrap_or_default(),
                )),
                _ => None,
            })
            .collect();
        let monitors: Vec<Value> = r
            .objects
            .iter()
            .filter(|o| o.kind() == "ServiceMonitor")
            .map(|o| serde_json::to_value(o).unwrap())
            .collect();
        assert_eq!(monitors.len(), services.len(), "{what}: {:?}", r.keys());
        for m in &monitors {
            let selector: BTreeMap<String, String> =
                serde_json::from_value(m["spec"]["selector"]["matchLabels"].clone()).unwrap();
            let matched: Vec<&String> = services
                .iter()
                .filter(|(_, labels)| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
                .map(|(n, _)| n)
                .collect();
            assert_eq!(matched.len(), 1, "{what}: {m} selects {matched:?}");
            assert_eq!(m["spec"]["endpoints"][0]["port"], "http", "{what}");
            assert_eq!(m["spec"]["endpoints"][0]["interval"], "30s", "{what}");
            assert_eq!(
                m["metadata"]["labels"]["release"], "kube-prometheus-stack",
                "{what}"
            );
        }
    }
}

/// The paths each resource declares as its own (what an extra volume may not touch) cover
/// every path it really mounts into a Thanos container, in every mode: otherwise a user's
/// volume could hide one of ours and the plan would not say so.
#[test]
fn declared_mount_paths_cover_every_rendered_mount() {
    let declared = |what: &str| -> &'static [&'static str] {
        match what.split(' ').next().unwrap() {
            "query" => query::MOUNT_PATHS,
            "receive" => receive::MOUNT_PATHS,
            "storage" => storage::MOUNT_PATHS,
            "rule" => rule::MOUNT_PATHS,
            other => panic!("{other}"),
        }
    };
    let mut stacks = every_production_stack();
    // Native TLS with client certificates mounts the most Secrets.
    stacks.push((
        "query native mTLS",
        rendered_query(json!({
            "name": "q",
            "tls_mode": "native",
            "stores": [{"address": "a.example.com:443", "secret_name": "ca",
                        "client_secret_name": "client"}],
        })),
    ));
    stacks.push((
        "rule with TLS Alertmanagers",
        rendered_rule(json!({
            "name": "r",
            "query_endpoints": ["http://q:10902"],
            "rule_groups": {"a": "groups: []\n"},
            "alertmanagers": [{"url": "https://am.example.com:9093", "secret_name": "am-ca",
                               "client_secret_name": "am-client",
                               "basic_auth": {"username": "u", "secret_name": "am-auth"}}],
            "data_volume": {"pvc": {"size": "1Gi"}},
        })),
    ));
    for (what, r) in stacks {
        for (name, t) in templates(&r) {
            if name.ends_with("-frontend") {
                continue;
            }
            let thanos = &t.spec.unwrap().containers[0];
            for m in thanos.volume_mounts.iter().flatten() {
                if m.name.starts_with(thanos_render::pod::VOLUME_PREFIX) {
                    continue;
                }
                assert!(
                    declared(what)
                        .iter()
                        .any(|d| thanos_render::pod::nested(&m.mount_path, d)),
                    "{what}: {name} mounts {} at {}, which is not in its MOUNT_PATHS",
                    m.name,
                    m.mount_path
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation at attribute paths.

fn at<'a>(found: &'a [Invalid], path: &str) -> &'a Invalid {
    found
        .iter()
        .find(|i| display_path(&i.path) == path)
        .unwrap_or_else(|| panic!("no finding at {path}: {found:#?}"))
}

/// Findings of a configuration of every resource type with `fields` added (as written: what
/// is left out is unset), with the resource type's name.
fn everywhere(fields: Value) -> Vec<(&'static str, Vec<Invalid>)> {
    let merge = |mut base: Value| {
        for (k, v) in fields.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    vec![
        (
            "thanos_query",
            findings::<Query>(&merge(json!({"name": "q"})), Absent::Null),
        ),
        (
            "thanos_receive",
            findings::<Receive>(&merge(json!({"name": "r"})), Absent::Null),
        ),
        (
            "thanos_storage",
            findings::<Storage>(
                &merge(
                    json!({"name": "s", "object_storage_config": {"name": "o", "key": "k"},
                               "gateway": {}}),
                ),
                Absent::Null,
            ),
        ),
        (
            "thanos_rule",
            findings::<Rule>(
                &merge(json!({"name": "r", "query_endpoints": ["http://q:10902"],
                               "rule_groups": {"a": "groups: []\n"}})),
                Absent::Null,
            ),
        ),
    ]
}

/// Values not known yet (from resources not created yet) are judged at apply, not now.
#[test]
fn unknown_values_are_skipped() {
    let unknown = json!({
        "service_account": {},
        "security_context": {},
        "extra_volumes": [{}, {"secret": {}}],
        "service_monitor": {},
        "frontend": {"results_cache": {}},
    });
    assert_eq!(findings::<Query>(&unknown, Absent::Unknown), []);
    assert_eq!(findings::<Receive>(&unknown, Absent::Unknown), []);
}

/// The production fields of every test below are valid on their own.
#[test]
fn the_production_fields_are_valid_on_every_resource() {
    for (what, found) in everywhere(json!({})) {
        assert_eq!(found, [], "{what}: the base configuration");
    }
    assert_eq!(findings::<Query>(&query_config(), Absent::Null), []);
    assert_eq!(findings::<Receive>(&receive_config(), Absent::Null), []);
    assert_eq!(findings::<Storage>(&storage_config(), Absent::Null), []);
    assert_eq!(findings::<Rule>(&rule_config(), Absent::Null), []);
}

#[test]
fn bad_annotation_keys() {
    for (what, found) in everywhere(json!({
        "pod_annotations": {"not a key": "x", "config/hash/x": "y"},
        "service_account": {"create": true, "annotations": {"-bad": "z"}},
    })) {
        let f = at(&found, r#"pod_annotations["not a key"]"#);
        assert!(f.summary.contains("annotation key"), "{what}: {f:?}");
        at(&found, r#"pod_annotations["config/hash/x"]"#);
        at(&found, r#"service_account.annotations["-bad"]"#);
        assert_eq!(found.len(), 3, "{what}: {found:#?}");
    }
    for (what, found) in everywhere(json!({
        "pod_annotations": {"thanos.paodin.io/config-hash": "x"},
    })) {
        let f = at(&found, r#"pod_annotations["thanos.paodin.io/config-hash"]"#);
        assert!(f.detail.contains("set by the provider"), "{what}: {f:?}");
    }
}

#[test]
fn mount_path_collisions() {
    // A path of the provider's in each resource, one above, one below.
    for (ty, ours) in [
        ("thanos_query", "/etc/thanos"),
        ("thanos_receive", receive::MOUNT_PATHS[0]),
        ("thanos_storage", storage::MOUNT_PATHS[0]),
        ("thanos_rule", rule::MOUNT_PATHS[0]),
    ] {
        let parent = ours.rsplit_once('/').unwrap().0;
        for path in [ours.to_owned(), format!("{ours}/x"), parent.to_owned()] {
            if path.is_empty() {
                continue;
            }
            let found = everywhere(json!({"extra_volumes": [
                {"name": "v", "mount_path": path, "empty_dir": {}},
            ]}));
            let (_, found) = found.iter().find(|(t, _)| *t == ty).unwrap();
            let f = at(found, "extra_volumes[0].mount_path");
            assert_eq!(
                f.summary, "Mount path collides with the provider's",
                "{ty} {path}"
            );
            assert!(f.detail.contains(ours), "{ty} {path}: {f:?}");
        }
    }
    for (what, found) in everywhere(json!({"extra_volumes": [
        {"name": "a", "mount_path": "/etc/extra", "empty_dir": {}},
        {"name": "b", "mount_path": "/etc/extra/b", "empty_dir": {}},
        {"name": "a", "mount_path": "/etc/other", "empty_dir": {}},
        {"name": "token", "mount_path": "/var/run/secrets/kubernetes.io", "empty_dir": {}},
        {"name": "rel", "mount_path": "etc/x", "empty_dir": {}},
        {"name": "two", "mount_path": "/etc/two", "empty_dir": {}, "config_map": {"name": "c"}},
        {"name": "none", "mount_path": "/etc/none"},
        {"name": "items", "mount_path": "/etc/items",
         "secret": {"name": "s", "items": {"k": "../up"}}},
    ]})) {
        assert_eq!(
            at(&found, "extra_volumes[1].mount_path").summary,
            "Mount path collides with another extra volume",
            "{what}"
        );
        assert_eq!(
            at(&found, "extra_volumes[2].name").summary,
            "Duplicate volume name"
        );
        assert_eq!(
            at(&found, "extra_volumes[3].mount_path").summary,
            "Mount path collides with the provider's",
            "{what}: the service account token's directory"
        );
        assert_eq!(
            at(&found, "extra_volumes[4].mount_path").summary,
            "Invalid mount_path"
        );
        assert_eq!(
            at(&found, "extra_volumes[5]").summary,
            "Invalid extra volume"
        );
        assert_eq!(
            at(&found, "extra_volumes[6]").summary,
            "Invalid extra volume"
        );
        assert_eq!(
            at(&found, r#"extra_volumes[7].secret.items["k"]"#).summary,
            "Invalid item path"
        );
        assert_eq!(found.len(), 7, "{what}: {found:#?}");
    }
}

#[test]
fn unknown_security_context_fields() {
    for (what, found) in everywhere(json!({"security_context": {
        "pod": r#"{"runAsUsr": 1000}"#,
        "container": r#"{"capabilities": {"drop": ["ALL"], "adds": ["NET_ADMIN"]}}"#,
    }})) {
        let f = at(&found, "security_context.pod");
        assert_eq!(f.summary, "Invalid pod security context", "{what}");
        assert!(
            f.detail.contains(r#"unknown field "runAsUsr""#),
            "{what}: {f:?}"
        );
        let f = at(&found, "security_context.container");
        assert!(
            f.detail.contains(r#"unknown field "capabilities.adds""#),
            "{what}: {f:?}"
        );
        assert_eq!(found.len(), 2, "{what}: {found:#?}");
    }
}

#[test]
fn service_account_names() {
    for (what, found) in everywhere(json!({"service_account": {"name": "Thanos_SA"}})) {
        let f = at(&found, "service_account.name");
        assert_eq!(f.summary, "Invalid ServiceAccount name", "{what}");
        assert_eq!(found.len(), 1, "{what}: {found:#?}");
    }
    for (what, found) in everywhere(json!({"service_account": {}})) {
        let f = at(&found, "service_account.name");
        assert_eq!(f.summary, "Missing ServiceAccount name", "{what}");
    }
    for (what, found) in everywhere(json!({"service_account": {
        "name": "thanos", "annotations": {"iam.gke.io/gcp-service-account": "x@p.iam.gserviceaccount.com"},
    }})) {
        at(&found, "service_account.annotations");
        assert_eq!(found.len(), 1, "{what}: {found:#?}");
    }
    // Created without a name: named after the resource.
    let r = rendered_storage(json!({
        "name": "lts",
        "object_storage_config": {"name": "o", "key": "k"},
        "service_account": {"create": true},
        "gateway": {},
    }));
    assert!(
        r.get("ServiceAccount", "thanosstorage-lts").is_some(),
        "{:?}",
        r.keys()
    );
}

#[test]
fn other_pod_fields_and_service_monitors() {
    for (what, found) in everywhere(json!({
        "image_pull_secrets": ["ok", "Not_OK", "ok"],
        "priority_class_name": "High Priority",
        "service_monitor": {"interval": "30 seconds", "labels": {"app.kubernetes.io/managed-by": "me"}},
    })) {
        at(&found, "image_pull_secrets[1]");
        at(&found, "image_pull_secrets[2]");
        at(&found, "priority_class_name");
        at(&found, "service_monitor.interval");
        at(
            &found,
            r#"service_monitor.labels["app.kubernetes.io/managed-by"]"#,
        );
        assert_eq!(found.len(), 5, "{what}: {found:#?}");
    }
}

#[test]
fn frontend_settings() {
    let q = |frontend: Value| {
        findings::<Query>(&json!({"name": "q", "frontend": frontend}), Absent::Null)
    };
    let found = q(json!({
        "replicas": -1,
        "split_interval": "0s",
        "max_retries": -1,
        "downstream_timeout": "two minutes",
        "extra_args": ["--query-frontend.downstream-url=http://elsewhere:10902"],
    }));
    for path in [
        "frontend.replicas",
        "frontend.split_interval",
        "frontend.max_retries",
        "frontend.downstream_timeout",
        "frontend.extra_args[0]",
    ] {
        at(&found, path);
    }
    let found = q(json!({"results_cache": {}}));
    assert_eq!(
        at(&found, "frontend.results_cache").summary,
        "Empty results_cache"
    );
    let found = q(json!({"results_cache": {"in_memory_max_size": "1GB", "config": "type: REDIS"}}));
    assert_eq!(
        at(&found, "frontend.results_cache.config").summary,
        "Conflicting results_cache"
    );
    let found = q(json!({"results_cache": {"config": "type: DISK"}}));
    assert!(
        at(&found, "frontend.results_cache.config")
            .detail
            .contains("DISK")
    );
    let found = q(json!({"results_cache": {"in_memory_max_size": "lots"}}));
    at(&found, "frontend.results_cache.in_memory_max_size");
    // The tripper is the user's when downstream_timeout is unset, and ours when it is set.
    let tripper = json!(["--query-frontend.downstream-tripper-config={\"max_idle_conns\": 10}"]);
    assert_eq!(q(json!({"extra_args": tripper})), []);
    at(
        &q(json!({"extra_args": tripper, "downstream_timeout": "1m"})),
        "frontend.extra_args[0]",
    );
    // The frontend's Service name has a limit of its own.
    let long = "a".repeat(38);
    let without = findings::<Query>(&json!({"name": long}), Absent::Null);
    assert_eq!(without, []);
    let with = findings::<Query>(&json!({"name": long, "frontend": {}}), Absent::Null);
    assert!(
        with.iter().any(|f| display_path(&f.path) == "name"),
        "{with:#?}"
    );
}
