//! Properties that must hold for every rendered stack, plus determinism.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;
use terraform_provider_thanos::resources::query::Query;
use thanos_render::common::{LabelSelector, LabelSelectorRequirement};
use thanos_render::discovery::selector_matches;
use thanos_render::{Object, Rendered, query, receive, storage};

fn all_rendered() -> Vec<Rendered> {
    let (a, b, c) = quickstart();
    let ing = receive("quickstart_ingestor");
    vec![
        a,
        b,
        c,
        query::render(&query("usage_mode1_query"), &ctx()).unwrap(),
        query::render(&query("multicluster_native"), &ctx()).unwrap(),
        query::render(&query("multicluster_envoy"), &ctx()).unwrap(),
        receive::render(
            &receive("usage_mode2_router"),
            &ctx(),
            &discovered("soft", &ing),
        )
        .unwrap(),
        storage::render(&storage("storage"), &ctx()),
    ]
}

fn workloads(
    r: &Rendered,
) -> Vec<(
    BTreeMap<String, String>,
    k8s_openapi::api::core::v1::PodTemplateSpec,
)> {
    r.objects
        .iter()
        .filter_map(|o| match o {
            Object::Deployment(d) => {
                let s = d.spec.clone().unwrap();
                Some((s.selector.match_labels.unwrap(), s.template))
            }
            Object::StatefulSet(d) => {
                let s = d.spec.clone().unwrap();
                Some((s.selector.match_labels.unwrap(), s.template))
            }
            _ => None,
        })
        .collect()
}

fn subset(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> bool {
    a.iter().all(|(k, v)| b.get(k) == Some(v))
}

/// A selector that does not match its own pod template is rejected by the API server; a PDB or
/// Service selector that matches no pod silently protects or routes nothing.
#[test]
fn selectors_are_subsets_of_pod_template_labels() {
    for r in all_rendered() {
        let pods: Vec<_> = workloads(&r)
            .into_iter()
            .map(|(sel, t)| {
                let labels = t.metadata.unwrap().labels.unwrap();
                assert!(
                    subset(&sel, &labels),
                    "workload selector {sel:?} ⊄ {labels:?}"
                );
                labels
            })
            .collect();
        for o in &r.objects {
            let sel = match o {
                Object::Service(s) => s.spec.clone().unwrap().selector.unwrap(),
                Object::PodDisruptionBudget(p) => p
                    .spec
                    .clone()
                    .unwrap()
                    .selector
                    .unwrap()
                    .match_labels
                    .unwrap(),
                _ => continue,
            };
            assert!(
                pods.iter().any(|l| subset(&sel, l)),
                "{} {} selects no pod",
                o.kind(),
                o.name()
            );
        }
    }
}

/// Every Service port targets a named port of a container in the pods it selects.
#[test]
fn service_ports_target_container_ports() {
    for r in all_rendered() {
        let pods = workloads(&r);
        for o in &r.objects {
            let Object::Service(s) = o else { continue };
            let spec = s.spec.clone().unwrap();
            let sel = spec.selector.unwrap();
            let (_, tmpl) = pods
                .iter()
                .find(|(_, t)| subset(&sel, t.metadata.as_ref().unwrap().labels.as_ref().unwrap()))
                .unwrap();
            let ports: BTreeSet<(String, i32)> = tmpl
                .spec
                .as_ref()
                .unwrap()
                .containers
                .iter()
                .flat_map(|c| c.ports.clone().unwrap_or_default())
                .map(|p| (p.name.unwrap(), p.container_port))
                .collect();
            for p in spec.ports.unwrap() {
                let target = match p.target_port.unwrap() {
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s,
                    other => panic!("{other:?}"),
                };
                assert!(
                    ports.contains(&(target.clone(), p.port)),
                    "{}: port {target} not in {ports:?}",
                    s.metadata.name.as_deref().unwrap()
                );
            }
        }
    }
}

/// Every Ingress backend is a rendered Service port.
#[test]
fn ingress_backends_are_service_ports() {
    let spec = crate::support::spec::<Query>(serde_json::json!({
        "name": "q", "http_ingress": {"host": "h.example.com"}, "grpc_ingress": {"host": "g.example.com", "secret_name": "tls"}
    }));
    let mut rs = all_rendered();
    rs.push(query::render(&spec, &ctx()).unwrap());
    for r in rs {
        for o in &r.objects {
            let Object::Ingress(i) = o else { continue };
            let backend = i.spec.clone().unwrap().rules.unwrap()[0]
                .http
                .clone()
                .unwrap()
                .paths[0]
                .backend
                .service
                .clone()
                .unwrap();
            let Some(Object::Service(s)) = r.get("Service", &backend.name) else {
                panic!("{}", backend.name)
            };
            let port = backend.port.unwrap().number.unwrap();
            assert!(
                s.spec
                    .clone()
                    .unwrap()
                    .ports
                    .unwrap()
                    .iter()
                    .any(|p| p.port == port)
            );
        }
    }
}

/// The hashring entry for our own ingestors is exactly `ingestor_endpoints`, which is what the
/// ingestors' EndpointSlices yield (see seed_bug_05) and what `--receive.local-endpoint` says.
#[test]
fn hashring_endpoints_equal_ingestor_endpoints() {
    let ing = receive("quickstart_ingestor");
    let own = endpoints(&ing);
    assert_eq!(
        own,
        [
            "thanosreceive-ingestor-0.thanosreceive-ingestor-operated.default.svc:10901",
            "thanosreceive-ingestor-1.thanosreceive-ingestor-operated.default.svc:10901",
        ]
    );
    let (_, router, _) = quickstart();
    let rings: Vec<serde_json::Value> = serde_json::from_str(&config_map_data(
        &router,
        "thanosreceive-router-hashrings",
        "hashrings.json",
    ))
    .unwrap();
    assert_eq!(rings[0]["endpoints"], serde_json::json!(own));
    let computed = receive::hashrings(
        receive("quickstart_router").router.as_ref().unwrap(),
        &discovered("test", &ing),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&computed).unwrap(),
        serde_json::json!(rings)
    );
}

/// The envoy listeners are exactly the proxied targets of the store-sd file plus the
/// `--endpoint-strict` listeners, and every route's cluster exists.
#[test]
fn envoy_listener_ports_equal_proxied_targets() {
    for (fixture, name, sd, strict) in [
        ("usage_mode1_query", "sample", 2, 0),
        ("multicluster_envoy", "global", 1, 1),
    ] {
        let r = query::render(&query(fixture), &ctx()).unwrap();
        let store_sd: serde_json::Value = serde_json::from_str(&config_map_data(
            &r,
            &format!("thanosquery-{name}-store-sd"),
            "store-sd.yaml",
        ))
        .unwrap();
        let proxied: BTreeSet<String> = store_sd
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| {
                g["targets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
            })
            .filter(|t| t.starts_with("127.0.0.1:"))
            .collect();
        let strict_listeners: BTreeSet<String> =
            args(&r, "Deployment", &format!("thanosquery-{name}"))
                .iter()
                .filter_map(|a| a.strip_prefix("--endpoint-strict="))
                .filter(|t| t.starts_with("127.0.0.1:"))
                .map(str::to_owned)
                .collect();
        assert_eq!(
            (proxied.len(), strict_listeners.len()),
            (sd, strict),
            "{fixture}"
        );
        assert!(proxied.is_disjoint(&strict_listeners), "{fixture}");
        let lds: serde_json::Value = serde_json::from_str(&config_map_data(
            &r,
            &format!("thanosquery-{name}-envoy"),
            "lds.yaml",
        ))
        .unwrap();
        let listeners: BTreeSet<String> = lds["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                format!(
                    "{}:{}",
                    l["address"]["socket_address"]["address"].as_str().unwrap(),
                    l["address"]["socket_address"]["port_value"]
                )
            })
            .collect();
        assert_eq!(
            &proxied | &strict_listeners,
            listeners,
            "{fixture}: every listener is dialed, and only listeners"
        );
        let cds: serde_json::Value = serde_json::from_str(&config_map_data(
            &r,
            &format!("thanosquery-{name}-envoy"),
            "cds.yaml",
        ))
        .unwrap();
        let clusters: BTreeSet<&str> = cds["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        for l in lds["resources"].as_array().unwrap() {
            let route = &l["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"]
                [0]["routes"][0]["route"]["cluster"];
            assert!(clusters.contains(route.as_str().unwrap()));
        }
    }
}

/// Native mode: every file the endpoint config names is a key of a Secret mounted into the
/// query container (the only container), and every Secret volume is mounted there.
#[test]
fn native_endpoint_config_names_mounted_files() {
    let r = query::render(&query("multicluster_native"), &ctx()).unwrap();
    let pod = pod_spec(&r, "Deployment", "thanosquery-global");
    assert_eq!(pod.containers.len(), 1);
    let mounts = pod.containers[0].volume_mounts.clone().unwrap();
    let secret_of = |volume: &str| {
        pod.volumes
            .iter()
            .flatten()
            .find(|v| v.name == volume)
            .and_then(|v| v.secret.as_ref())
            .and_then(|s| s.secret_name.clone())
    };
    let endpoints: serde_json::Value = serde_json::from_str(&config_map_data(
        &r,
        "thanosquery-global-store-sd",
        "endpoints.yaml",
    ))
    .unwrap();
    let mut files = 0;
    for e in endpoints["endpoints"].as_array().unwrap() {
        for key in ["ca_file", "cert_file", "key_file"] {
            let Some(path) = e["client_config"]["tls_config"][key].as_str() else {
                continue;
            };
            let (dir, file) = path.rsplit_once('/').unwrap();
            let m = mounts
                .iter()
                .find(|m| m.mount_path == dir)
                .unwrap_or_else(|| panic!("{path} is on no mount of the query container"));
            let secret = secret_of(&m.name).expect("a Secret volume");
            assert_eq!(dir, format!("{}/{secret}", query::NATIVE_SECRETS_DIR));
            assert!(["ca.pem", "ca.crt", "tls.crt", "tls.key"].contains(&file));
            files += 1;
        }
    }
    assert_eq!(files, 4);
    for v in pod.volumes.iter().flatten().filter(|v| v.secret.is_some()) {
        assert!(
            mounts.iter().any(|m| m.name == v.name),
            "{} is not mounted",
            v.name
        );
    }
}

/// Objects come in apply order: ConfigMaps, Services, workloads, PDBs, Ingresses.
#[test]
fn objects_are_in_apply_order() {
    let rank = |k: &str| {
        [
            "ConfigMap",
            "Service",
            "Deployment|StatefulSet",
            "PodDisruptionBudget",
            "Ingress",
        ]
        .iter()
        .position(|x| x.split('|').any(|y| y == k))
        .unwrap()
    };
    for r in all_rendered() {
        let ranks: Vec<usize> = r.objects.iter().map(|o| rank(o.kind())).collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{:?}", r.keys());
    }
}

/// The same input renders byte-identical output 100 times (no map-order drift), and content
/// hashes are stable.
#[test]
fn quickstart_renders_byte_identical_100_times() {
    let first = quickstart_bytes();
    for _ in 0..100 {
        assert_eq!(quickstart_bytes(), first);
    }
    let (a, _, _) = quickstart();
    let (b, _, _) = quickstart();
    let ha: Vec<String> = a.objects.iter().map(Object::content_hash).collect();
    let hb: Vec<String> = b.objects.iter().map(Object::content_hash).collect();
    assert_eq!(ha, hb);
    assert!(ha.iter().all(|h| h.len() == 64));
}

#[test]
fn object_accessors() {
    let (a, _, _) = quickstart();
    let sts = a.get("StatefulSet", "thanosreceive-ingestor").unwrap();
    assert_eq!(sts.api_version(), "apps/v1");
    assert_eq!(sts.namespace(), "default");
    let j = sts.to_json();
    assert_eq!(j["kind"], "StatefulSet");
    assert_eq!(j["apiVersion"], "apps/v1");
}

#[test]
fn computed_attributes() {
    assert_eq!(
        query::grpc_endpoint("sample", "default"),
        "thanosquery-sample-operated.default.svc:10901"
    );
    assert_eq!(
        query::http_url("sample", "default", false),
        "http://thanosquery-sample-operated.default.svc:10902"
    );
    // With a frontend, the HTTP API is the frontend's.
    assert_eq!(
        query::http_url("sample", "default", true),
        "http://thanosquery-sample-frontend-operated.default.svc:10902"
    );
    let i = receive("quickstart_ingestor");
    assert_eq!(
        receive::store_endpoint(&i.common.name, &i.common.namespace, i.mode()).unwrap(),
        "dnssrv+_grpc._tcp.thanosreceive-ingestor-operated.default.svc"
    );
    assert_eq!(
        receive::remote_write_url(&i.common.name, &i.common.namespace),
        "http://thanosreceive-ingestor-operated.default.svc:19291/api/v1/receive"
    );
    let r = receive("quickstart_router");
    assert_eq!(
        receive::store_endpoint(&r.common.name, &r.common.namespace, r.mode()),
        None
    );
    assert_eq!(endpoints(&r), Vec::<String>::new());
    let s = storage("storage");
    assert_eq!(
        storage::store_endpoint(&s.common.name, &s.common.namespace, s.gateway.is_some()).unwrap(),
        "dnssrv+_grpc._tcp.thanosstorage-s3-gateway-operated.monitoring.svc"
    );
}

#[test]
fn label_selector_semantics() {
    let labels = BTreeMap::from([
        ("app".to_owned(), "thanos".to_owned()),
        ("tier".to_owned(), "ingest".to_owned()),
    ]);
    let req = |k: &str, op: &str, v: &[&str]| LabelSelectorRequirement {
        key: k.into(),
        operator: op.into(),
        values: v.iter().map(|s| (*s).to_owned()).collect(),
    };
    let sel = |ml: &[(&str, &str)], ex: Vec<LabelSelectorRequirement>| LabelSelector {
        match_labels: ml
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        match_expressions: ex,
    };
    assert!(selector_matches(&LabelSelector::default(), &labels));
    assert!(selector_matches(
        &sel(&[("app", "thanos")], vec![]),
        &labels
    ));
    assert!(!selector_matches(
        &sel(&[("app", "other")], vec![]),
        &labels
    ));
    assert!(selector_matches(
        &sel(&[], vec![req("tier", "In", &["ingest", "x"])]),
        &labels
    ));
    assert!(!selector_matches(
        &sel(&[], vec![req("tier", "NotIn", &["ingest"])]),
        &labels
    ));
    assert!(selector_matches(
        &sel(&[], vec![req("zone", "NotIn", &["a"])]),
        &labels
    ));
    assert!(selector_matches(
        &sel(&[], vec![req("app", "Exists", &[])]),
        &labels
    ));
    assert!(!selector_matches(
        &sel(&[], vec![req("app", "DoesNotExist", &[])]),
        &labels
    ));
    assert!(selector_matches(
        &sel(&[], vec![req("zone", "DoesNotExist", &[])]),
        &labels
    ));
}

/// Volume claim templates are immutable: user `labels`/`annotations` must never reach them, or
/// a label change would force a StatefulSet replacement.
#[test]
fn claim_templates_ignore_user_labels_and_annotations() {
    let mut spec = receive("quickstart_ingestor");
    let plain = receive::render(&spec, &ctx(), &BTreeMap::new()).unwrap();
    spec.common.labels = BTreeMap::from([("team".to_owned(), "x".to_owned())]);
    spec.common.annotations = BTreeMap::from([("note".to_owned(), "y".to_owned())]);
    let decorated = receive::render(&spec, &ctx(), &BTreeMap::new()).unwrap();
    let vct = |r: &Rendered| match r.get("StatefulSet", "thanosreceive-ingestor") {
        Some(Object::StatefulSet(s)) => s.spec.clone().unwrap().volume_claim_templates,
        _ => panic!(),
    };
    assert_eq!(vct(&plain), vct(&decorated));
    let selector = |r: &Rendered| workloads(r)[0].0.clone();
    assert_eq!(selector(&plain), selector(&decorated));
}
