//! One test per bug or gap of the seed operator (reference §9, items 1-14). Each fails if the
//! bug comes back.

use std::collections::BTreeMap;

use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use terraform_provider_thanos::resources::{query::Query, receive::Receive, storage::Storage};
use terraform_provider_thanos::testing::{Absent, findings};
use thanos_render::discovery::endpoints_from_slices;
use thanos_render::query::{self, QuerySpec};
use thanos_render::receive::{self, ReceiveSpec};
use thanos_render::storage::{self, StorageSpec};
use thanos_render::{Error, Object, PathSegment};

use crate::support::*;

fn attr(s: &str) -> PathSegment {
    PathSegment::Attr(s.into())
}

fn q(v: serde_json::Value) -> QuerySpec {
    spec::<Query>(v)
}
fn rcv(v: serde_json::Value) -> ReceiveSpec {
    spec::<Receive>(v)
}
fn st(v: serde_json::Value) -> StorageSpec {
    spec::<Storage>(v)
}

fn slice(ns: &str, svc: &str, port: Option<&str>, eps: Vec<Endpoint>) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            name: Some(format!("{svc}-abcde")),
            namespace: Some(ns.into()),
            labels: Some(BTreeMap::from([(
                "kubernetes.io/service-name".to_owned(),
                svc.to_owned(),
            )])),
            ..Default::default()
        },
        address_type: "IPv4".into(),
        endpoints: eps,
        ports: Some(vec![EndpointPort {
            name: port.map(Into::into),
            port: Some(10901),
            ..Default::default()
        }]),
    }
}

fn ep(ip: &str, hostname: Option<&str>, ready: Option<bool>) -> Endpoint {
    Endpoint {
        addresses: vec![ip.into()],
        hostname: hostname.map(Into::into),
        conditions: Some(EndpointConditions {
            ready,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// §9.1: `--selector-label` followed Go map order. Now sorted by key and Go-quoted.
#[test]
fn seed_bug_01_selector_label_order() {
    let spec = q(serde_json::json!({
        "name": "q",
        "selector_labels": {"zone": "eu-1", "cluster": "a\"b\\c", "env": "prod"}
    }));
    let r = query::render(&spec, &ctx()).unwrap();
    let sel: Vec<String> = args(&r, "Deployment", "thanosquery-q")
        .into_iter()
        .filter(|a| a.starts_with("--selector-label="))
        .collect();
    assert_eq!(
        sel,
        [
            r#"--selector-label=cluster="a\"b\\c""#,
            r#"--selector-label=env="prod""#,
            r#"--selector-label=zone="eu-1""#,
        ]
    );
}

/// §9.2: hashring endpoints followed cache list order. Now sorted and de-duplicated whatever
/// order discovery or the user gives.
#[test]
fn seed_bug_02_hashring_endpoint_order() {
    let router = receive("quickstart_router");
    let mut eps = vec![
        "10.0.0.3:10901",
        "10.0.0.1:10901",
        "10.0.0.2:10901",
        "10.0.0.1:10901",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    let router = router.router.unwrap();
    let a =
        receive::hashrings(&router, &BTreeMap::from([("test".to_owned(), eps.clone())])).unwrap();
    eps.reverse();
    let b = receive::hashrings(&router, &BTreeMap::from([("test".to_owned(), eps)])).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a[0].addresses(),
        ["10.0.0.1:10901", "10.0.0.2:10901", "10.0.0.3:10901"]
    );

    let s1 = slice(
        "ns",
        "svc",
        Some("grpc"),
        vec![ep("10.0.0.2", None, Some(true))],
    );
    let s2 = slice(
        "ns",
        "svc",
        Some("grpc"),
        vec![ep("10.0.0.1", None, Some(true))],
    );
    assert_eq!(
        endpoints_from_slices(&[s1.clone(), s2.clone()]),
        endpoints_from_slices(&[s2, s1])
    );
}

/// §9.3: `"endpoints": null`, whole-file `null` and empty rings were rendered. Now every field
/// is present, a router without rings is invalid and an empty ring refuses to render.
#[test]
fn seed_bug_03_hashring_never_null_or_empty() {
    let (_, router, _) = quickstart();
    let text = config_map_data(&router, "thanosreceive-router-hashrings", "hashrings.json");
    assert!(!text.contains("null"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["tenants"], serde_json::json!([]));
    assert!(v[0]["endpoints"].as_array().is_some_and(|e| !e.is_empty()));

    let invalid = findings::<Receive>(
        &serde_json::json!({"name": "r", "router": {}}),
        Absent::Null,
    );
    assert!(
        invalid.iter().any(|i| i.path == [attr("router")]),
        "{invalid:?}"
    );

    let empty = BTreeMap::from([("test".to_owned(), Vec::new())]);
    let err = receive::render(&receive("quickstart_router"), &ctx(), &empty).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
}

/// §9.4: a subset without a `grpc` port aborted the rest of the object, IPv6 was not bracketed,
/// not-ready addresses vanished silently. Now: other slices still count, IPv6 is bracketed,
/// only endpoints whose ready condition is false are left out.
#[test]
fn seed_bug_04_endpoint_slice_handling() {
    let no_grpc = slice(
        "ns",
        "svc",
        Some("http"),
        vec![ep("10.0.0.9", None, Some(true))],
    );
    let good = slice(
        "ns",
        "svc",
        Some("grpc"),
        vec![
            ep("10.0.0.1", None, Some(true)),
            ep("10.0.0.2", None, Some(false)),
            ep("10.0.0.3", None, None),
            ep("fd00::1", None, Some(true)),
        ],
    );
    assert_eq!(
        endpoints_from_slices(&[no_grpc, good]),
        ["10.0.0.1:10901", "10.0.0.3:10901", "[fd00::1]:10901"]
    );
}

/// §9.5: `--receive.local-endpoint=[$(POD_IP)]:19291` never matched the ring's `IP:10901`. Now
/// one canonical string: the local endpoint (with the pod name), `ingestor_endpoints` and what
/// discovery yields for our own pods are identical.
#[test]
fn seed_bug_05_local_endpoint_matches_hashring() {
    let spec = rcv(serde_json::json!({
        "name": "ri",
        "namespace": "mon",
        "replicas": 2,
        "router": {"soft_tenant_hashring": {"name": "all", "endpoints_selector": {"match_labels": {"app.kubernetes.io/instance": "ri"}}}},
        "ingestor": {}
    }));
    let own = endpoints(&spec);
    let r = receive::render(
        &spec,
        &ctx(),
        &BTreeMap::from([("all".to_owned(), own.clone())]),
    )
    .unwrap();
    let local = args(&r, "StatefulSet", "thanosreceive-ri")
        .into_iter()
        .find_map(|a| {
            a.strip_prefix("--receive.local-endpoint=")
                .map(String::from)
        })
        .unwrap();
    let per_pod: Vec<String> = (0..2)
        .map(|i| local.replace("$(NAME)", &format!("thanosreceive-ri-{i}")))
        .collect();
    assert_eq!(per_pod, own);
    let ring: serde_json::Value = serde_json::from_str(&config_map_data(
        &r,
        "thanosreceive-ri-hashrings",
        "hashrings.json",
    ))
    .unwrap();
    assert_eq!(ring[0]["endpoints"], serde_json::json!(own));
    let discovered = endpoints_from_slices(&[slice(
        "mon",
        "thanosreceive-ri-operated",
        Some("grpc"),
        vec![
            ep("10.0.0.1", Some("thanosreceive-ri-1"), Some(true)),
            ep("10.0.0.2", Some("thanosreceive-ri-0"), Some(true)),
        ],
    )]);
    assert_eq!(discovered, own);
}

/// §9.6: receive ignored placement and tenant fields, storage ignored placement and
/// `compact.dataVolume`. Now every workload gets placement, tenant flags are rendered, and the
/// compactor uses its own data volume.
#[test]
fn seed_bug_06_placement_tenants_and_compact_volume_honoured() {
    let placement = serde_json::json!({
        "node_selector": {"pool": "monitoring"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": "{\"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":100,\"podAffinityTerm\":{\"topologyKey\":\"kubernetes.io/hostname\"}}]}}",
        "topology_spread_constraints": [{"max_skew": 1, "topology_key": "topology.kubernetes.io/zone"}]
    });
    let mut rv = placement.clone();
    rv["name"] = "r".into();
    rv["tenant_header"] = "X-Tenant".into();
    rv["default_tenant_id"] = "anon".into();
    rv["tenant_label_name"] = "tenant".into();
    let r = receive::render(&rcv(rv), &ctx(), &BTreeMap::new()).unwrap();
    let mut sv = placement.clone();
    sv["name"] = "s".into();
    sv["object_storage_config"] = serde_json::json!({"name": "os", "key": "k"});
    sv["gateway"] = serde_json::json!({"data_volume": {"pvc": {"size": "1Gi"}}});
    sv["compact"] = serde_json::json!({"data_volume": {"pvc": {"size": "9Gi"}}});
    let s = storage::render(&st(sv), &ctx());
    for (rendered, kind, name) in [
        (&r, "StatefulSet", "thanosreceive-r"),
        (&s, "StatefulSet", "thanosstorage-s-gateway"),
        (&s, "StatefulSet", "thanosstorage-s-compact"),
    ] {
        let pod = pod_spec(rendered, kind, name);
        assert_eq!(pod.node_selector.unwrap()["pool"], "monitoring", "{name}");
        assert_eq!(
            pod.tolerations.unwrap()[0].key.as_deref(),
            Some("dedicated")
        );
        assert!(pod.affinity.unwrap().pod_anti_affinity.is_some());
        assert_eq!(pod.topology_spread_constraints.unwrap()[0].max_skew, 1);
    }
    let a = args(&r, "StatefulSet", "thanosreceive-r");
    for f in [
        "--receive.tenant-header=X-Tenant",
        "--receive.default-tenant-id=anon",
        "--receive.tenant-label-name=tenant",
    ] {
        assert!(a.contains(&f.to_owned()), "{f} missing from {a:?}");
    }
    let Some(Object::StatefulSet(compact)) = s.get("StatefulSet", "thanosstorage-s-compact") else {
        panic!()
    };
    let vct = &compact
        .spec
        .as_ref()
        .unwrap()
        .volume_claim_templates
        .as_ref()
        .unwrap()[0];
    assert_eq!(
        vct.spec
            .as_ref()
            .unwrap()
            .resources
            .as_ref()
            .unwrap()
            .requests
            .as_ref()
            .unwrap()["storage"]
            .0,
        "9Gi"
    );
}

/// §9.7: no `--query.replica-label`, so replicated receive data was never deduplicated.
#[test]
fn seed_bug_07_query_replica_label() {
    let (_, _, q) = quickstart();
    let a = args(&q, "Deployment", "thanosquery-sample");
    assert!(
        a.contains(&"--query.replica-label=receive_replica".to_owned()),
        "{a:?}"
    );
}

/// §9.8: quoted data dir, pointer-printed downsampling flag, retention flags without `=`, 1h
/// retention from the 5m field, compactor replicas from the gateway (and a panic without one),
/// compactor volume from the gateway, a compactor serviceName pointing nowhere, silence without
/// objectStorageConfig, workloads without objstore flag for an empty name.
#[test]
fn seed_bug_08_storage_flags() {
    let config = serde_json::json!({
        "name": "s",
        "object_storage_config": {"name": "os", "key": "objstore.yaml"},
        "compact": {
            "downsampling_disable": true,
            "retention": {"raw": "7d", "five_minutes": "30d", "one_hour": "1y"}
        }
    });
    let r = storage::render(&st(config.clone()), &ctx());
    let a = args(&r, "StatefulSet", "thanosstorage-s-compact");
    for f in [
        "--data-dir=/thanos",
        "--downsampling.disable",
        "--retention.resolution-raw=7d",
        "--retention.resolution-5m=30d",
        "--retention.resolution-1h=1y",
        "--objstore.config-file=/etc/thanos/objstore/objstore.yaml",
    ] {
        assert!(a.contains(&f.to_owned()), "{f} missing from {a:?}");
    }
    assert!(!a.iter().any(|x| x.contains('"')), "{a:?}");
    // Compact without gateway renders (no panic), with exactly one replica, and its
    // serviceName names a Service that is rendered.
    let Some(Object::StatefulSet(c)) = r.get("StatefulSet", "thanosstorage-s-compact") else {
        panic!()
    };
    let cs = c.spec.as_ref().unwrap();
    assert_eq!(cs.replicas, Some(1));
    assert!(
        r.get("Service", cs.service_name.as_deref().unwrap())
            .is_some()
    );
    // Gateway replicas never leak into the compactor.
    let mut with_gw = config.clone();
    with_gw["gateway"] = serde_json::json!({"replicas": 3});
    let r = storage::render(&st(with_gw), &ctx());
    let Some(Object::StatefulSet(c)) = r.get("StatefulSet", "thanosstorage-s-compact") else {
        panic!()
    };
    assert_eq!(c.spec.as_ref().unwrap().replicas, Some(1));
    // Downsampling enabled: no flag at all.
    let mut on = config.clone();
    on["compact"]["downsampling_disable"] = false.into();
    let r = storage::render(&st(on), &ctx());
    assert!(
        !args(&r, "StatefulSet", "thanosstorage-s-compact")
            .iter()
            .any(|a| a.starts_with("--downsampling"))
    );
    // No object storage config: an error, never silence.
    let mut none = config.clone();
    none.as_object_mut()
        .unwrap()
        .remove("object_storage_config");
    let invalid = findings::<Storage>(&none, Absent::Null);
    assert!(
        invalid
            .iter()
            .any(|i| i.path == [attr("object_storage_config")]),
        "{invalid:?}"
    );
    let mut empty = config;
    empty["object_storage_config"]["name"] = "".into();
    let invalid = findings::<Storage>(&empty, Absent::Null);
    assert!(
        invalid
            .iter()
            .any(|i| i.path == [attr("object_storage_config"), attr("name")])
    );
}

/// §9.9: objects no longer desired were never deleted. Cleanup needs every owned object to
/// carry the two ownership labels, including PVC templates, in every mode.
#[test]
fn seed_bug_09_every_object_is_findable_for_prune() {
    let (a, b, c) = quickstart();
    let s = storage::render(&storage("storage"), &ctx());
    let m1 = query::render(&query("usage_mode1_query"), &ctx()).unwrap();
    for r in [&a, &b, &c, &s, &m1] {
        for o in &r.objects {
            let labels = o.metadata().labels.clone().unwrap();
            assert_eq!(
                labels["app.kubernetes.io/managed-by"],
                "terraform-provider-thanos"
            );
            assert!(
                labels["app.kubernetes.io/part-of"].starts_with("thanos-"),
                "{}",
                o.name()
            );
            if let Object::StatefulSet(sts) = o {
                for vct in sts
                    .spec
                    .as_ref()
                    .unwrap()
                    .volume_claim_templates
                    .iter()
                    .flatten()
                {
                    let l = vct.metadata.labels.as_ref().unwrap();
                    assert_eq!(
                        l["app.kubernetes.io/managed-by"],
                        "terraform-provider-thanos"
                    );
                    assert_eq!(
                        l["app.kubernetes.io/part-of"],
                        labels["app.kubernetes.io/part-of"]
                    );
                }
            }
        }
    }
}

/// §9.10: mode labels were in immutable selectors. Now the workload selector is the same in
/// every mode, and user labels never enter it.
#[test]
fn seed_bug_10_mode_labels_not_in_selectors() {
    let mut selectors = Vec::new();
    for (router, ingestor) in [(true, false), (false, true), (true, true), (false, false)] {
        let mut v = serde_json::json!({"name": "m", "labels": {"team": "x"}});
        if router {
            v["router"] = serde_json::json!({"soft_tenant_hashring": {"name": "s", "endpoints": ["a.b:10901"]}});
        }
        if ingestor {
            v["ingestor"] = serde_json::json!({});
        }
        let r = receive::render(&rcv(v), &ctx(), &BTreeMap::new()).unwrap();
        let sel = match r
            .get("Deployment", "thanosreceive-m")
            .or(r.get("StatefulSet", "thanosreceive-m"))
        {
            Some(Object::Deployment(d)) => d.spec.clone().unwrap().selector,
            Some(Object::StatefulSet(s)) => s.spec.clone().unwrap().selector,
            _ => panic!(),
        };
        selectors.push(sel.match_labels.unwrap());
    }
    assert!(selectors.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        selectors[0].keys().collect::<Vec<_>>(),
        ["app.kubernetes.io/component", "app.kubernetes.io/instance"]
    );
}

/// §9.11: config changes did not roll pods and Envoy missed LDS/CDS updates. Now the pod
/// template hash follows the mounted config and Envoy watches its config directory.
#[test]
fn seed_bug_11_config_change_rolls_pods() {
    let hash = |r: &thanos_render::Rendered, kind, name| {
        pod_template(r, kind, name)
            .metadata
            .unwrap()
            .annotations
            .unwrap()["thanos.paodin.io/config-hash"]
            .clone()
    };
    let base = fixture_json("usage_mode1_query");
    let mut more = base.clone();
    more["stores"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "address": "member-3.example.com:443", "secret_name": "member-ca"
        }));
    let a = query::render(&q(base.clone()), &ctx()).unwrap();
    let b = query::render(&q(more), &ctx()).unwrap();
    assert_ne!(
        hash(&a, "Deployment", "thanosquery-sample"),
        hash(&b, "Deployment", "thanosquery-sample")
    );
    // A different CA key (same Secret) also rolls the pods.
    let mut key = base;
    key["stores"][1]["ca_key"] = "other.crt".into();
    let c = query::render(&q(key), &ctx()).unwrap();
    assert_ne!(
        hash(&a, "Deployment", "thanosquery-sample"),
        hash(&c, "Deployment", "thanosquery-sample")
    );
    // A ring membership change rolls routers that restart to load it, and leaves alone
    // the ones that reload it in place (the apply waits until they report it instead).
    let ing = receive("quickstart_ingestor");
    let mut router = receive("quickstart_router");
    let rings = |router: &ReceiveSpec| {
        let r1 = receive::render(router, &ctx(), &discovered("test", &ing)).unwrap();
        let r2 = receive::render(
            router,
            &ctx(),
            &BTreeMap::from([("test".to_owned(), vec!["x.y:10901".to_owned()])]),
        )
        .unwrap();
        (
            hash(&r1, "Deployment", "thanosreceive-router"),
            hash(&r2, "Deployment", "thanosreceive-router"),
        )
    };
    let (before, after) = rings(&router);
    assert_eq!(
        router.router.as_ref().unwrap().reload,
        receive::Reload::InPlace
    );
    assert_eq!(before, after);
    router.router.as_mut().unwrap().reload = receive::Reload::Restart;
    let (before, after) = rings(&router);
    assert_ne!(before, after);
    let boot = config_map_data(&a, "thanosquery-sample-envoy", "envoy.yaml");
    let v: serde_json::Value = serde_json::from_str(&boot).unwrap();
    for src in ["lds_config", "cds_config"] {
        assert_eq!(
            v["dynamic_resources"][src]["path_config_source"]["watched_directory"]["path"],
            "/etc/envoy/config"
        );
        assert!(v["dynamic_resources"][src].get("path").is_none());
    }
}

/// §9.12: debug logging, deprecated names and fields, ALPN offering http/1.1, no SAN check, no
/// mTLS, raw-address names (duplicates break Envoy), a bad address blocking everything.
#[test]
fn seed_bug_12_envoy_modern_config() {
    let r = query::render(&query("usage_mode1_query"), &ctx()).unwrap();
    let pod = pod_spec(&r, "Deployment", "thanosquery-sample");
    let envoy_args = pod.containers[1].args.clone().unwrap();
    assert!(
        envoy_args.windows(2).any(|w| w == ["--log-level", "info"]),
        "{envoy_args:?}"
    );
    assert!(!envoy_args.iter().any(|a| a == "debug"));
    let lds: serde_json::Value =
        serde_json::from_str(&config_map_data(&r, "thanosquery-sample-envoy", "lds.yaml")).unwrap();
    let cds: serde_json::Value =
        serde_json::from_str(&config_map_data(&r, "thanosquery-sample-envoy", "cds.yaml")).unwrap();
    for l in lds["resources"].as_array().unwrap() {
        let f = &l["filter_chains"][0]["filters"][0];
        assert_eq!(f["name"], "envoy.filters.network.http_connection_manager");
        let router = &f["typed_config"]["http_filters"][0];
        assert_eq!(router["name"], "envoy.filters.http.router");
        assert!(
            router["typed_config"]["@type"]
                .as_str()
                .unwrap()
                .ends_with("router.v3.Router")
        );
    }
    let names: Vec<&str> = cds["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_ne!(names[0], names[1]);
    for c in cds["resources"].as_array().unwrap() {
        assert!(c.get("http2_protocol_options").is_none());
        assert!(c["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]["explicit_http_config"]["http2_protocol_options"].is_object());
        let tls = &c["transport_socket"]["typed_config"];
        assert_eq!(
            tls["common_tls_context"]["alpn_protocols"],
            serde_json::json!(["h2"])
        );
        let san =
            &tls["common_tls_context"]["validation_context"]["match_typed_subject_alt_names"][0];
        assert_eq!(san["matcher"]["exact"], tls["sni"]);
    }
    let mtls = &cds["resources"][1]["transport_socket"]["typed_config"]["common_tls_context"]["tls_certificates"]
        [0];
    assert_eq!(
        mtls["certificate_chain"]["filename"],
        "/etc/envoy/secrets/query-client-tls/tls.crt"
    );
    // Duplicate proxied address and a bad address: validation errors on the store's path.
    let invalid = findings::<Query>(
        &serde_json::json!({"name": "q", "stores": [
            {"address": "a.example.com:443", "secret_name": "ca"},
            {"address": "a.example.com:443", "secret_name": "ca"},
            {"address": "dns+b.example.com:443", "secret_name": "ca"},
        ]}),
        Absent::Null,
    );
    let paths: Vec<_> = invalid.iter().map(|i| i.path.clone()).collect();
    assert!(
        paths.contains(&vec![
            attr("stores"),
            PathSegment::Index(1),
            attr("address")
        ]),
        "{invalid:?}"
    );
    assert!(
        paths.contains(&vec![
            attr("stores"),
            PathSegment::Index(2),
            attr("address")
        ]),
        "{invalid:?}"
    );
    // No proxied store: no sidecar and no envoy ConfigMap at all.
    let (_, _, qs) = quickstart();
    assert!(qs.get("ConfigMap", "thanosquery-sample-envoy").is_none());
    assert_eq!(
        pod_spec(&qs, "Deployment", "thanosquery-sample")
            .containers
            .len(),
        1
    );
}

/// §9.13: updates wiped annotations. The renderer puts the user's `annotations` on every owned
/// object (and the ingress block's own on the Ingress, next to our protocol defaults), so SSA
/// keeps them and never claims foreign ones.
#[test]
fn seed_bug_13_annotations_on_every_object() {
    let spec = q(serde_json::json!({
        "name": "q",
        "replicas": 2,
        "annotations": {"owner": "team-x"},
        "tls_mode": "envoy",
        "stores": [{"address": "a.example.com:443", "secret_name": "ca"}],
        "grpc_ingress": {"host": "grpc.example.com", "annotations": {"cert-manager.io/cluster-issuer": "le"}},
        "http_ingress": {"host": "http.example.com"}
    }));
    let r = query::render(&spec, &ctx()).unwrap();
    assert_eq!(r.objects.len(), 7);
    for o in &r.objects {
        assert_eq!(
            o.metadata().annotations.as_ref().unwrap()["owner"],
            "team-x",
            "{}",
            o.name()
        );
    }
    let grpc = r
        .get("Ingress", "thanosquery-q-grpc")
        .unwrap()
        .metadata()
        .annotations
        .clone()
        .unwrap();
    assert_eq!(grpc["cert-manager.io/cluster-issuer"], "le");
    assert_eq!(grpc["nginx.ingress.kubernetes.io/backend-protocol"], "GRPC");
}

/// §9.14: negative replicas became 0; durations, label names, tenants and name lengths were
/// never validated.
#[test]
fn seed_bug_14_validation() {
    let config = serde_json::json!({
        "name": "a-very-long-receive-name-that-will-not-fit-anywhere",
        "replicas": -1,
        "tenant_label_name": "tenant-id",
        "router": {
            "hashrings_refresh_interval": "1.5m",
            "replication_factor": 3,
            "hard_tenant_hashrings": [
                {"name": "a", "tenants": [], "endpoints": ["x.y:10901"]},
                {"name": "b", "tenants": ["t1", "t1"], "endpoints": ["x.y:10901", "z.y:10901"]}
            ],
            "soft_tenant_hashring": {"name": "a", "tenants": ["t2"], "endpoints": ["x.y:10901"]}
        },
        "ingestor": {"local_tsdb_retention": "15 days"}
    });
    let invalid = findings::<Receive>(&config, Absent::Null);
    let has = |path: Vec<PathSegment>| invalid.iter().any(|i| i.path == path);
    let hard = |i: usize| {
        vec![
            attr("router"),
            attr("hard_tenant_hashrings"),
            PathSegment::Index(i),
        ]
    };
    let soft = vec![attr("router"), attr("soft_tenant_hashring")];
    let with = |mut p: Vec<PathSegment>, s: &str| {
        p.push(attr(s));
        p
    };
    assert!(has(vec![attr("name")]), "{invalid:#?}");
    assert!(has(vec![attr("replicas")]));
    assert!(has(vec![attr("tenant_label_name")]));
    assert!(has(vec![
        attr("router"),
        attr("hashrings_refresh_interval")
    ]));
    assert!(has(with(hard(0), "tenants")), "hard ring without tenants");
    assert!(has(with(hard(0), "endpoints")), "1 endpoint < RF 3");
    assert!(
        has(vec![
            attr("router"),
            attr("hard_tenant_hashrings"),
            PathSegment::Index(1),
            attr("tenants"),
            PathSegment::Index(1)
        ]),
        "tenant twice"
    );
    assert!(has(with(soft.clone(), "tenants")), "soft ring with tenants");
    assert!(has(with(soft, "name")), "duplicate ring name");
    assert!(has(vec![attr("ingestor"), attr("local_tsdb_retention")]));
    // An invalid configuration never becomes a spec, so it can never be rendered.
    assert!(terraform_provider_thanos::testing::spec::<Receive>(&config).is_err());
}
