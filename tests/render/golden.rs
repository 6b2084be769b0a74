//! Golden tests: complete rendered objects for the seed's documented scenarios. A snapshot
//! change means users' clusters change on the next apply: review every line.

use std::collections::BTreeMap;

use crate::support::*;
use terraform_provider_thanos::resources::receive::Receive;
use thanos_render::receive::{self, ReceiveSpec};
use thanos_render::{query, storage};

fn snap(r: &thanos_render::Rendered) -> serde_json::Value {
    r.to_json()
}

/// Seed README step 1: the ingestor (2 replicas, 5Gi PVC each). If this changes, the ingestor
/// StatefulSet (and maybe its immutable volume claim templates) changes.
#[test]
fn quickstart_ingestor() {
    let (ingestor, _, _) = quickstart();
    insta::assert_yaml_snapshot!(snap(&ingestor));
}

/// Seed README step 2: the router with soft ring `test` selecting the ingestor; the ring must
/// list exactly the ingestor's per-pod endpoints or remote-write is silently misrouted.
#[test]
fn quickstart_router() {
    let (_, router, _) = quickstart();
    insta::assert_yaml_snapshot!(snap(&router));
}

/// Seed README step 3: query with the one dnssrvnoa+ store, as a new query renders it
/// (`tls_mode` native: the endpoint config, no sidecar).
#[test]
fn quickstart_query() {
    let (_, _, q) = quickstart();
    insta::assert_yaml_snapshot!(snap(&q));
}

/// Usage doc mode 1: a direct store plus two TLS-proxied stores (one with mTLS and a server
/// name override): the envoy sidecar, its ConfigMap and the store-sd file must agree. This is
/// also what every query applied before `tls_mode` existed keeps rendering: a change here is a
/// change to their clusters.
#[test]
fn usage_mode1_query_with_direct_and_tls_stores() {
    let r = query::render(&query("usage_mode1_query"), &ctx()).unwrap();
    insta::assert_yaml_snapshot!(snap(&r));
}

/// Usage doc mode 2: the router in kubesphere-monitoring-system with soft ring `soft`, finding
/// the ingestor in `default` through endpoints_namespace_selector (the doc's version found
/// nothing and rendered `"endpoints": null`).
#[test]
fn usage_mode2_router() {
    let ingestor = receive("quickstart_ingestor");
    let r = receive::render(
        &receive("usage_mode2_router"),
        &ctx(),
        &discovered("soft", &ingestor),
    )
    .unwrap();
    insta::assert_yaml_snapshot!(snap(&r));
}

/// Native TLS: direct stores (one strict) and TLS stores (one strict, one mTLS with a server
/// name override) in one endpoint config; the Secrets mounted into the query container; no
/// sidecar.
#[test]
fn multicluster_query_native() {
    let r = query::render(&query("multicluster_native"), &ctx()).unwrap();
    insta::assert_yaml_snapshot!(snap(&r));
}

/// The same stores through the sidecar: strict ones as `--endpoint-strict` flags (a strict TLS
/// store as its listener) and left out of the store-sd file.
#[test]
fn multicluster_query_envoy_strict() {
    let r = query::render(&query("multicluster_envoy"), &ctx()).unwrap();
    insta::assert_yaml_snapshot!(snap(&r));
}

/// What a `tls_mode` switch changes: the objects that come and go (the envoy ConfigMap), and
/// the query pod's containers and mounts.
#[test]
fn tls_mode_switch() {
    let render = |fixture| query::render(&query(fixture), &ctx()).unwrap();
    let (native, envoy) = (render("multicluster_native"), render("multicluster_envoy"));
    let keys = |r: &thanos_render::Rendered| {
        r.keys()
            .into_iter()
            .map(|(k, n)| format!("{k}/{n}"))
            .collect::<Vec<_>>()
    };
    let pod = |r: &thanos_render::Rendered| {
        pod_spec(r, "Deployment", "thanosquery-global")
            .containers
            .iter()
            .map(|c| {
                serde_json::json!({
                    "container": c.name,
                    "mounts": c.volume_mounts.iter().flatten().map(|m| format!("{} at {}", m.name, m.mount_path)).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>()
    };
    let (n, e) = (keys(&native), keys(&envoy));
    insta::assert_yaml_snapshot!(serde_json::json!({
        "native -> envoy": {
            "appear": e.iter().filter(|k| !n.contains(k)).collect::<Vec<_>>(),
            "disappear": n.iter().filter(|k| !e.contains(k)).collect::<Vec<_>>(),
        },
        "native pod": pod(&native),
        "envoy pod": pod(&envoy),
    }));
}

/// Storage with gateway (2 replicas, PDB), compactor (singleton, own volume, retention).
#[test]
fn storage_gateway_compactor_retention() {
    let r = storage::render(&storage("storage"), &ctx());
    insta::assert_yaml_snapshot!(snap(&r));
}

fn mode_spec(router: bool, ingestor: bool) -> ReceiveSpec {
    let mut config = serde_json::json!({
        "name": "mode",
        "namespace": "monitoring",
        "replicas": 3,
        "tenant_header": "THANOS-TENANT",
        "default_tenant_id": "anonymous",
        "tenant_label_name": "tenant_id",
    });
    if router {
        config["router"] = serde_json::json!({
            "replication_factor": 3,
            "hashrings_refresh_interval": "1m",
            "hard_tenant_hashrings": [{
                "name": "team-a",
                "tenants": ["team-a", "team-a-staging"],
                "endpoints": [
                    "thanosreceive-a-2.thanosreceive-a-operated.monitoring.svc:10901",
                    "thanosreceive-a-0.thanosreceive-a-operated.monitoring.svc:10901",
                    "thanosreceive-a-1.thanosreceive-a-operated.monitoring.svc:10901"
                ]
            }],
            "soft_tenant_hashring": {
                "name": "default",
                "endpoints_selector": {"match_labels": {"app.kubernetes.io/instance": "mode"}}
            }
        });
    }
    if ingestor {
        config["ingestor"] = serde_json::json!({
            "local_tsdb_retention": "1d",
            "object_storage_config": {"name": "thanos-objstore", "key": "objstore.yaml"},
            "data_volume": {"pvc": {"size": "20Gi"}},
            "pvc_retention_on_scale_down": "Delete"
        });
    }
    spec::<Receive>(config)
}

fn render_mode(router: bool, ingestor: bool) -> thanos_render::Rendered {
    let spec = mode_spec(router, ingestor);
    // The soft ring selects this resource's own pods (router + ingestor) or other ingestors.
    let own = endpoints(&mode_spec(true, true));
    let discovered = BTreeMap::from([("default".to_owned(), own)]);
    receive::render(&spec, &ctx(), &discovered).unwrap()
}

#[test]
fn receive_mode_router_only() {
    insta::assert_yaml_snapshot!(snap(&render_mode(true, false)));
}

#[test]
fn receive_mode_ingestor_only() {
    insta::assert_yaml_snapshot!(snap(&render_mode(false, true)));
}

#[test]
fn receive_mode_router_ingestor() {
    insta::assert_yaml_snapshot!(snap(&render_mode(true, true)));
}

/// Neither block: the seed's default mode, an ingestor with an emptyDir.
#[test]
fn receive_mode_neither_is_ingestor() {
    insta::assert_yaml_snapshot!(snap(&render_mode(false, false)));
}

/// Which objects appear and disappear on each mode switch (the cluster layer prunes the ones
/// that disappear, e.g. the router Deployment when the StatefulSet of the same name replaces
/// it).
#[test]
fn receive_mode_switch_objects() {
    let keys = |router, ingestor| {
        render_mode(router, ingestor)
            .keys()
            .into_iter()
            .map(|(k, n)| format!("{k}/{n}"))
            .collect::<Vec<_>>()
    };
    let mut out = BTreeMap::new();
    for (from, to) in [
        ((true, false), (true, true)),
        ((true, true), (false, true)),
        ((false, true), (true, false)),
        ((false, false), (true, false)),
    ] {
        let before = keys(from.0, from.1);
        let after = keys(to.0, to.1);
        let label = |(r, i): (bool, bool)| match (r, i) {
            (true, true) => "router+ingestor",
            (true, false) => "router",
            (false, true) => "ingestor",
            (false, false) => "neither",
        };
        out.insert(
            format!("{} -> {}", label(from), label(to)),
            serde_json::json!({
                "appear": after.iter().filter(|k| !before.contains(k)).collect::<Vec<_>>(),
                "disappear": before.iter().filter(|k| !after.contains(k)).collect::<Vec<_>>(),
                "kept": after.iter().filter(|k| before.contains(k)).collect::<Vec<_>>(),
            }),
        );
    }
    insta::assert_yaml_snapshot!(out);
}

/// The generated config files as text (the ConfigMap snapshots above show them escaped):
/// what Thanos and Envoy actually read.
#[test]
fn config_files() {
    let (_, router, q) = quickstart();
    insta::assert_snapshot!(
        "quickstart_hashrings_json",
        config_map_data(&router, "thanosreceive-router-hashrings", "hashrings.json")
    );
    insta::assert_snapshot!(
        "quickstart_endpoints",
        config_map_data(&q, "thanosquery-sample-store-sd", "endpoints.yaml")
    );
    for mode in ["native", "envoy"] {
        let r = query::render(&query(&format!("multicluster_{mode}")), &ctx()).unwrap();
        let key = if mode == "native" {
            "endpoints.yaml"
        } else {
            "store-sd.yaml"
        };
        insta::assert_snapshot!(
            format!("multicluster_{mode}_{key}"),
            config_map_data(&r, "thanosquery-global-store-sd", key)
        );
    }
    let m1 = query::render(&query("usage_mode1_query"), &ctx()).unwrap();
    for key in ["store-sd.yaml"] {
        insta::assert_snapshot!(
            format!("mode1_{key}"),
            config_map_data(&m1, "thanosquery-sample-store-sd", key)
        );
    }
    for key in ["envoy.yaml", "lds.yaml", "cds.yaml"] {
        insta::assert_snapshot!(
            format!("mode1_envoy_{key}"),
            config_map_data(&m1, "thanosquery-sample-envoy", key)
        );
    }
    let rings = render_mode(true, true);
    insta::assert_snapshot!(
        "router_ingestor_hashrings_json",
        config_map_data(&rings, "thanosreceive-mode-hashrings", "hashrings.json")
    );
}

/// Every field of Thanos's `HashringConfig` the provider renders, as `hashrings.json` text: a
/// ketama ring with zones, external labels and shuffle sharding with overrides (exact and
/// glob), a glob ring, and a hashmod soft ring, which leaves `algorithm` out (the router's
/// default). With one hashmod ring the router keeps Thanos's default algorithm flag.
#[test]
fn whole_ring_hashrings_json() {
    let eps = |prefix: &str, n: usize| -> Vec<String> {
        (0..n)
            .map(|i| format!("{prefix}-{i}.ns.svc:10901"))
            .collect()
    };
    let config = serde_json::json!({
        "name": "whole", "namespace": "ns", "ingestor": {},
        "router": {
            "replication_factor": 2,
            "hard_tenant_hashrings": [
                {
                    "name": "zoned", "tenants": ["team-b", "team-a"], "algorithm": "ketama",
                    "endpoints": eps("z", 4),
                    "endpoint_zones": {
                        "z-0.ns.svc:10901": "eu-1a", "z-1.ns.svc:10901": "eu-1b",
                        "z-2.ns.svc:10901": "eu-1a", "z-3.ns.svc:10901": "eu-1b"
                    },
                    "external_labels": {"region": "eu", "tier": "gold"},
                    "shuffle_sharding": {
                        "shard_size": 2, "cache_size": 50, "zone_awareness_disabled": true,
                        "overrides": [
                            {"shard_size": 4, "tenants": ["team-a"]},
                            {"shard_size": 4, "tenants": ["big-*"], "tenant_matcher": "glob"}
                        ]
                    }
                },
                {
                    "name": "globbed", "tenants": ["dev-*", "test-?"], "tenant_matcher": "glob",
                    "endpoints": eps("g", 2)
                }
            ],
            "soft_tenant_hashring": {"name": "rest", "algorithm": "hashmod", "endpoints": eps("s", 2)}
        }
    });
    let spec = spec::<Receive>(config);
    let r = receive::render(&spec, &ctx(), &BTreeMap::new()).unwrap();
    insta::assert_snapshot!(config_map_data(
        &r,
        "thanosreceive-whole-hashrings",
        "hashrings.json"
    ));
    let args = args(&r, "StatefulSet", "thanosreceive-whole");
    assert!(
        !args
            .iter()
            .any(|a| a.starts_with("--receive.hashrings-algorithm")),
        "{args:?}"
    );
}

/// What a receive applied by a provider version before `algorithm`,
/// `termination_grace_period_seconds` and `hashrings_reload` existed renders after an upgrade (its state settles to
/// hashmod and no grace period): exactly what that version rendered, so the upgrade changes no
/// object. These snapshots are byte for byte the earlier `quickstart_router` and
/// `quickstart_ingestor` ones.
#[test]
fn quickstart_applied_before_the_whole_ring() {
    let mut router = receive("quickstart_router");
    router.termination_grace_period_seconds = None;
    let r = router.router.as_mut().unwrap();
    r.soft_tenant_hashring.as_mut().unwrap().algorithm =
        thanos_render::placement::Algorithm::Hashmod;
    r.reload = receive::Reload::Restart;
    let ingestor = receive("quickstart_ingestor");
    let discovered = discovered("test", &ingestor);
    let mut ingestor = ingestor;
    ingestor.termination_grace_period_seconds = None;
    insta::assert_yaml_snapshot!(
        "quickstart_router_applied_before",
        snap(&receive::render(&router, &ctx(), &discovered).unwrap())
    );
    insta::assert_yaml_snapshot!(
        "quickstart_ingestor_applied_before",
        snap(&receive::render(&ingestor, &ctx(), &BTreeMap::new()).unwrap())
    );
}

/// A scale-down of the quickstart ingestor (2 -> 1) held back because a ring of another
/// resource still lists the leaving pod: the StatefulSet keeps 2 pods (and its PDB), and the
/// Service carries the label that stops discovery publishing pod 1.
#[test]
fn quickstart_ingestor_scale_down_held() {
    let mut spec = receive("quickstart_ingestor");
    spec.replicas = 1;
    spec.held_replicas = Some(2);
    let held = receive::render(&spec, &ctx(), &BTreeMap::new()).unwrap();
    insta::assert_yaml_snapshot!(snap(&held));
}
