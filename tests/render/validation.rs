//! Plan-time validation: every rule reports the Terraform attribute path of the offending
//! value, and values not known yet are skipped.

use std::collections::BTreeMap;

use terraform_provider_thanos::resources::{query::Query, receive::Receive, storage::Storage};
use terraform_provider_thanos::testing::{Absent, findings};
use thanos_render::placement::Algorithm;
use thanos_render::validate::display_path;
use thanos_render::{Error, Invalid};
use thanos_render::{query, receive};

use crate::support::*;

// Configurations whose left-out attributes are not known yet: only what is written is judged.
fn q(v: serde_json::Value) -> Vec<Invalid> {
    findings::<Query>(&v, Absent::Unknown)
}
fn r(v: serde_json::Value) -> Vec<Invalid> {
    findings::<Receive>(&v, Absent::Unknown)
}
fn s(v: serde_json::Value) -> Vec<Invalid> {
    findings::<Storage>(&v, Absent::Unknown)
}

// Configurations as written: what is left out is unset.
fn q_as_written(v: serde_json::Value) -> Vec<Invalid> {
    findings::<Query>(&v, Absent::Null)
}
fn r_as_written(v: serde_json::Value) -> Vec<Invalid> {
    findings::<Receive>(&v, Absent::Null)
}
fn s_as_written(v: serde_json::Value) -> Vec<Invalid> {
    findings::<Storage>(&v, Absent::Null)
}

/// The paths (as Terraform prints them) of the failures.
fn paths(v: &[Invalid]) -> Vec<String> {
    v.iter().map(|i| display_path(&i.path)).collect()
}

#[track_caller]
fn assert_flags(v: &[Invalid], expected: &[&str]) {
    let got = paths(v);
    for e in expected {
        assert!(
            got.iter().any(|g| g == e),
            "expected an error at {e}, got {v:#?}"
        );
    }
}

#[test]
fn unknown_values_are_skipped() {
    assert_eq!(q(serde_json::json!({})), []);
    assert_eq!(r(serde_json::json!({})), []);
    // A ring whose fields are all still unknown.
    let v = r(serde_json::json!({"router": {"soft_tenant_hashring": {}}}));
    assert_eq!(v, []);
}

#[test]
fn common_attributes() {
    let v = q(serde_json::json!({
        "name": "Bad_Name",
        "namespace": "-ns",
        "image": "",
        "image_pull_policy": "Sometimes",
        "log_level": "trace",
        "log_format": "text",
        "labels": {"app.kubernetes.io/part-of": "x", "ok": "bad value"},
        "annotations": {"bad key!": "v"},
        "node_selector": {"pool": "-x-"},
        "tolerations": [
            {"key": "k", "operator": "Exists", "value": "v"},
            {"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule", "toleration_seconds": 5},
            {"operator": "Maybe", "effect": "Never"}
        ],
        "topology_spread_constraints": [
            {"max_skew": 0, "topology_key": "zone", "when_unsatisfiable": "ScheduleAnyway", "min_domains": 2},
            {"when_unsatisfiable": "Sometimes"}
        ],
        "resources": {"requests": {"cpu": "lots"}, "limits": {"memory": "1GB"}},
        "replicas": -1
    }));
    assert_flags(
        &v,
        &[
            "name",
            "namespace",
            "image",
            "image_pull_policy",
            "log_level",
            "log_format",
            "labels[\"app.kubernetes.io/part-of\"]",
            "labels[\"ok\"]",
            "annotations[\"bad key!\"]",
            "node_selector[\"pool\"]",
            "tolerations[0].value",
            "tolerations[1].toleration_seconds",
            "tolerations[2].operator",
            "tolerations[2].effect",
            "topology_spread_constraints[0].max_skew",
            "topology_spread_constraints[0].min_domains",
            "topology_spread_constraints[1].when_unsatisfiable",
            "resources.requests[\"cpu\"]",
            "resources.limits[\"memory\"]",
            "replicas",
        ],
    );
}

#[test]
fn affinity_is_a_kubernetes_affinity_without_unknown_fields() {
    let ok = q(
        serde_json::json!({"affinity": "{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"pool\",\"operator\":\"In\",\"values\":[\"m\"]}]}]}}}"}),
    );
    assert_eq!(ok, []);
    let typo = q(serde_json::json!({"affinity": "{\"podAntiAfinity\":{}}"}));
    assert_flags(&typo, &["affinity"]);
    assert!(
        typo[0].detail.contains("podAntiAfinity"),
        "{}",
        typo[0].detail
    );
    let nested = q(serde_json::json!({"affinity": "{\"nodeAffinity\":{\"required\":{}}}"}));
    assert!(
        nested[0].detail.contains("nodeAffinity.required"),
        "{}",
        nested[0].detail
    );
    assert_flags(
        &q(serde_json::json!({"affinity": "not json"})),
        &["affinity"],
    );
    assert_flags(&q(serde_json::json!({"affinity": "[]"})), &["affinity"]);
}

#[test]
fn derived_names_fit_kubernetes_limits() {
    let long = "a".repeat(50);
    assert_flags(&q(serde_json::json!({"name": long})), &["name"]);
    assert_flags(&r(serde_json::json!({"name": "a".repeat(39)})), &["name"]);
    assert_eq!(r(serde_json::json!({"name": "a".repeat(38)})), []);
    // A router has no StatefulSet, so the revision-label limit does not apply.
    assert_eq!(
        r(
            serde_json::json!({"name": "a".repeat(40), "router": {"soft_tenant_hashring": {"name": "s", "endpoints": ["x.y:1"]}}})
        ),
        []
    );
    let st = |n: usize| s(serde_json::json!({"name": "a".repeat(n), "compact": {}}));
    assert_flags(&st(31), &["name"]);
    assert_eq!(st(30), []);
}

#[test]
fn query_stores() {
    let v = q_as_written(serde_json::json!({"stores": [
        {"address": "ok.example.com:10901", "ca_key": "ca.crt", "server_name": "x", "client_secret_name": "c"},
        {"address": "no-port.example.com", "secret_name": "ca"},
        {"address": "dnssrv+_grpc._tcp.store.ns.svc", "secret_name": "ca"},
        {"address": "http://x:1"},
        {"address": "s.example.com:443", "secret_name": "Bad_Secret", "ca_key": "a/b", "server_name": "bad name", "client_secret_name": "ok"},
        {"address": "dnssrvnoa+_grpc._tcp.other.ns.svc"},
        {"address": "dns+store.ns.svc:10901"},
        {"address": "[::1]:10901", "secret_name": "ca"}
    ]}));
    assert_flags(
        &v,
        &[
            "stores[0].ca_key",
            "stores[0].server_name",
            "stores[0].client_secret_name",
            "stores[1].address",
            "stores[2].address",
            "stores[3].address",
            "stores[4].secret_name",
            "stores[4].ca_key",
            "stores[4].server_name",
        ],
    );
    for ok in ["stores[5]", "stores[6]", "stores[7]"] {
        assert!(!paths(&v).iter().any(|p| p.starts_with(ok)), "{ok}: {v:#?}");
    }
}

#[test]
fn query_tls_mode_and_strict_stores() {
    let v = q(serde_json::json!({"tls_mode": "sidecar"}));
    assert_flags(&v, &["tls_mode"]);
    // The sidecar's settings without the sidecar; unknown or envoy mode: nothing to say.
    let envoy_block = serde_json::json!({"image": "envoyproxy/envoy:v1.40.0"});
    let v =
        q_as_written(serde_json::json!({"name": "q", "tls_mode": "native", "envoy": envoy_block}));
    assert_eq!(paths(&v), ["envoy"]);
    assert!(v[0].detail.contains("tls_mode = \"envoy\""), "{v:#?}");
    let v = q_as_written(serde_json::json!({"name": "q", "envoy": envoy_block}));
    assert_eq!(paths(&v), ["envoy"], "a new query is native unless told");
    assert_eq!(q(serde_json::json!({"envoy": envoy_block})), []);
    assert_eq!(
        q_as_written(serde_json::json!({"name": "q", "tls_mode": "envoy", "envoy": envoy_block})),
        []
    );
    // Strict stores need static addresses (Thanos refuses to start otherwise).
    let v = q_as_written(serde_json::json!({"name": "q", "stores": [
        {"address": "dns+store.ns.svc:10901", "strict": true},
        {"address": "dnssrvnoa+_grpc._tcp.store.ns.svc", "strict": true},
        {"address": "store.ns.svc:10901", "strict": true},
        {"address": "member.example.com:443", "secret_name": "ca", "strict": true},
        {"address": "dns+other.ns.svc:10901", "strict": false}
    ]}));
    assert_eq!(paths(&v), ["stores[0].strict", "stores[1].strict"]);
    // Native mode owns the endpoint config file; envoy mode leaves it to the user.
    let args = serde_json::json!(["--endpoint.sd-config-file=/x", "--endpoint.sd-config={}"]);
    let v =
        q_as_written(serde_json::json!({"name": "q", "tls_mode": "native", "extra_args": args}));
    assert_eq!(paths(&v), ["extra_args[0]", "extra_args[1]"]);
    assert_eq!(
        q_as_written(serde_json::json!({"name": "q", "tls_mode": "envoy", "extra_args": args})),
        []
    );
}

#[test]
fn query_labels_ingresses_and_envoy() {
    let v = q(serde_json::json!({
        "selector_labels": {"bad-name": "x", "cluster": "any \"value\" works"},
        "replica_labels": ["receive_replica", "receive_replica", "1x"],
        "http_ingress": {"host": "10.0.0.1", "path": "api"},
        "grpc_ingress": {"host": "*.example.com", "secret_name": "ok", "class_name": "Nginx"},
        "envoy": {"image_pull_policy": "Sometimes", "resources": {"limits": {"cpu": "x"}}}
    }));
    assert_flags(
        &v,
        &[
            "selector_labels[\"bad-name\"]",
            "replica_labels[1]",
            "replica_labels[2]",
            "http_ingress.host",
            "http_ingress.path",
            "grpc_ingress.class_name",
            "envoy.image_pull_policy",
            "envoy.resources.limits[\"cpu\"]",
        ],
    );
    assert!(
        !paths(&v)
            .iter()
            .any(|p| p.contains("cluster") || p == "grpc_ingress.host")
    );
}

#[test]
fn extra_args_rules() {
    let v = q(
        serde_json::json!({"extra_args": ["--grpc-address=0.0.0.0:1", "positional", "--http-address", "--store.sd-files=/x", "--query.timeout=5m"]}),
    );
    assert_eq!(
        paths(&v),
        [
            "extra_args[0]",
            "extra_args[1]",
            "extra_args[2]",
            "extra_args[3]"
        ]
    );
    assert!(v[0].detail.contains("--grpc-address"));
    let v = r(
        serde_json::json!({"ingestor": {}, "extra_args": ["--receive.hashrings-file=/x", "--receive.hashrings={}", "--tsdb.path=/x", "--receive.local-endpoint=x", "--objstore.config-file=x", "--remote-write.address=x", "--tsdb.max-block-duration=2h"]}),
    );
    assert_eq!(v.len(), 6, "{v:#?}");
    let v = s(
        serde_json::json!({"compact": {}, "extra_args": ["--data-dir=/x", "--objstore.config=x", "--objstore.config-file=x", "--compact.concurrency=2"]}),
    );
    assert_eq!(
        paths(&v),
        ["extra_args[0]", "extra_args[1]", "extra_args[2]"]
    );
}

#[test]
fn extra_args_replace_and_append() {
    let spec = crate::support::spec::<Query>(serde_json::json!({
        "name": "q",
        "log_level": "info",
        "extra_args": ["--log.level=debug", "--query.replica-label=cluster", "--query.auto-downsampling"]
    }));
    let rendered = query::render(&spec, &ctx()).unwrap();
    let a = args(&rendered, "Deployment", "thanosquery-q");
    assert_eq!(
        a.iter()
            .filter(|x| x.starts_with("--log.level"))
            .collect::<Vec<_>>(),
        ["--log.level=debug"]
    );
    assert_eq!(
        a.iter()
            .filter(|x| x.starts_with("--query.replica-label"))
            .count(),
        3
    );
    assert_eq!(a.last().unwrap(), "--query.auto-downsampling");
    assert_eq!(a[0], "query");
}

#[test]
fn receive_rings() {
    let v = r_as_written(serde_json::json!({"router": {
        "replication_factor": 0,
        "remote_write_ingress": {"host": "bad host"},
        "hard_tenant_hashrings": [
            {"name": "a", "tenants": ["t"], "endpoints": ["x.y:1"], "endpoints_selector": {}},
            {"name": "", "tenants": ["u", ""], "endpoints": ["nope", "x.y:1", "x.y:1"]},
            {"name": "c", "tenants": ["t"], "endpoints_namespace_selector": {}},
            {"name": "d", "tenants": ["v"], "endpoints": []},
            {"name": "e", "tenants": ["w"], "endpoints_selector": {"match_expressions": [
                {"key": "k", "operator": "In", "values": []},
                {"key": "k", "operator": "Exists", "values": ["x"]},
                {"key": "k", "operator": "Like"}
            ]}}
        ]
    }}));
    assert_flags(
        &v,
        &[
            "router.replication_factor",
            "router.remote_write_ingress.host",
            "router.hard_tenant_hashrings[0].endpoints_selector",
            "router.hard_tenant_hashrings[1].name",
            "router.hard_tenant_hashrings[1].tenants[1]",
            "router.hard_tenant_hashrings[1].endpoints[0]",
            "router.hard_tenant_hashrings[1].endpoints[2]",
            "router.hard_tenant_hashrings[2].tenants[0]",
            "router.hard_tenant_hashrings[2].endpoints_namespace_selector",
            "router.hard_tenant_hashrings[3].endpoints",
            "router.hard_tenant_hashrings[4].endpoints_selector.match_expressions[0].values",
            "router.hard_tenant_hashrings[4].endpoints_selector.match_expressions[1].values",
            "router.hard_tenant_hashrings[4].endpoints_selector.match_expressions[2].operator",
        ],
    );
}

#[test]
fn receive_ingestor_and_tenancy() {
    let v = r(serde_json::json!({
        "tenant_header": "Bad Header",
        "default_tenant_id": "",
        "ingestor": {
            "object_storage_config": {"name": "Bad", "key": "a/b"},
            "data_volume": {"empty_dir": {"medium": "Disk", "size_limit": "x"}, "pvc": {"size": "5 Gi", "access_modes": ["ReadWriteSometimes"], "storage_class": "Fast"}},
            "pvc_retention_on_delete": "Keep",
            "pvc_retention_on_scale_down": "Delete"
        }
    }));
    assert_flags(
        &v,
        &[
            "tenant_header",
            "default_tenant_id",
            "ingestor.object_storage_config.name",
            "ingestor.object_storage_config.key",
            "ingestor.data_volume",
            "ingestor.data_volume.empty_dir.medium",
            "ingestor.data_volume.empty_dir.size_limit",
            "ingestor.data_volume.pvc.size",
            "ingestor.data_volume.pvc.access_modes[0]",
            "ingestor.data_volume.pvc.storage_class",
            "ingestor.pvc_retention_on_delete",
        ],
    );
    assert!(!paths(&v).contains(&"ingestor.pvc_retention_on_scale_down".to_owned()));
}

#[test]
fn storage_rules() {
    assert_flags(&s_as_written(serde_json::json!({"name": "s"})), &[""]);
    let v = s(serde_json::json!({
        "gateway": {"replicas": -2, "min_time": "yesterday", "max_time": "-1h", "data_volume": {"pvc": {"size": "x"}}},
        "compact": {"retention": {"raw": "30 days", "five_minutes": "90d", "one_hour": "1.5y"}, "resources": {"requests": {"memory": "1 Gi"}}}
    }));
    assert_flags(
        &v,
        &[
            "gateway.replicas",
            "gateway.min_time",
            "gateway.data_volume.pvc.size",
            "compact.retention.raw",
            "compact.retention.one_hour",
            "compact.resources.requests[\"memory\"]",
        ],
    );
    assert!(
        !paths(&v)
            .iter()
            .any(|p| p == "gateway.max_time" || p == "compact.retention.five_minutes")
    );
}

/// A gateway window whose start is later than its end serves nothing, and Thanos refuses to
/// start with it: an error at plan, in relative, absolute and mixed forms.
#[test]
fn storage_time_window_must_not_be_empty() {
    let gateway = |min: &str, max: &str| {
        s_as_written(serde_json::json!({
            "name": "s",
            "object_storage_config": {"name": "b", "key": "k"},
            "gateway": {"min_time": min, "max_time": max},
        }))
    };
    for (min, max) in [
        ("-1w", "-2w"),
        ("1h", "-1h"),
        ("2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
        ("2026-01-01T01:00:00+02:00", "2025-12-31T22:00:00Z"),
        ("9000-01-01T00:00:00Z", "-1h"),
        ("-1h", "1970-01-01T00:00:00Z"),
    ] {
        let v = gateway(min, max);
        assert_eq!(paths(&v), ["gateway.min_time"], "{min} {max}: {v:#?}");
        assert!(v[0].detail.contains("later than max_time"), "{v:#?}");
    }
    for (min, max) in [
        ("-2w", "-1w"),
        ("-1w", "-1w"),
        ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("1970-01-01T00:00:00Z", "-1h"),
        ("-1h", "9000-01-01T00:00:00Z"),
    ] {
        assert_eq!(gateway(min, max), [], "{min} {max}");
    }
    // One side unset is Thanos's default: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    let only = |attr: &str, t: &str| {
        s_as_written(serde_json::json!({
            "name": "s",
            "object_storage_config": {"name": "b", "key": "k"},
            "gateway": {attr: t},
        }))
    };
    assert_eq!(
        paths(&only("min_time", "9999-12-31T23:59:59-01:00")),
        ["gateway.min_time"]
    );
    assert_eq!(only("min_time", "9999-12-31T23:59:59Z"), []);
    assert_eq!(only("max_time", "0000-01-01T00:00:00Z"), []);
    assert_eq!(
        paths(&only("max_time", "0000-01-01T00:00:00+01:00")),
        ["gateway.max_time"]
    );
    // Values Go's RFC 3339 parser (and so Thanos) refuses.
    for bad in ["2026-02-30T00:00:00Z", "2026-01-01t00:00:00z", "-300y"] {
        assert_eq!(paths(&gateway(bad, "-1h")), ["gateway.min_time"], "{bad}");
    }
}

/// Thanos's compactor refuses retentions shorter than the downsampling ranges while it
/// downsamples; `0d` (forever) and a disabled downsampling are fine.
#[test]
fn storage_retention_must_outlast_downsampling() {
    let compact = |retention: serde_json::Value, disable: bool| {
        s_as_written(serde_json::json!({
            "name": "s",
            "object_storage_config": {"name": "b", "key": "k"},
            "compact": {"retention": retention, "downsampling_disable": disable},
        }))
    };
    let v = compact(
        serde_json::json!({"raw": "39h59m", "five_minutes": "9d23h", "one_hour": "1d"}),
        false,
    );
    assert_eq!(
        paths(&v),
        ["compact.retention.raw", "compact.retention.five_minutes"]
    );
    assert!(v[0].detail.contains("downsampling_disable"), "{v:#?}");
    for ok in [
        serde_json::json!({"raw": "40h", "five_minutes": "10d", "one_hour": "1d"}),
        serde_json::json!({"raw": "0d", "five_minutes": "0s", "one_hour": "1h"}),
    ] {
        assert_eq!(compact(ok.clone(), false), [], "{ok}");
    }
    assert_eq!(
        compact(serde_json::json!({"raw": "1d", "five_minutes": "1d"}), true),
        []
    );
}

/// Rendering needs every selector ring discovered; required values are required at plan.
#[test]
fn render_reports_undiscovered_and_validation_missing_values() {
    let router = receive("quickstart_router");
    let err = receive::render(&router, &ctx(), &BTreeMap::new()).unwrap_err();
    assert!(
        matches!(&err, Error::Undiscovered { ring } if ring == "test"),
        "{err}"
    );
    let mut nameless = fixture_json("quickstart_router");
    nameless.as_object_mut().unwrap().remove("name");
    assert_flags(&r_as_written(nameless), &["name"]);
    assert_flags(
        &r_as_written(serde_json::json!({"name": "i", "ingestor": {"data_volume": {"pvc": {}}}})),
        &["ingestor.data_volume.pvc.size"],
    );
    assert_flags(
        &q_as_written(serde_json::json!({"stores": [{}]})),
        &["stores[0].address"],
    );
}

#[test]
fn discovered_ring_smaller_than_replication_factor_warns() {
    let mut router = receive("quickstart_router");
    router.router.as_mut().unwrap().replication_factor = 3;
    let d = discovered("test", &receive("quickstart_ingestor"));
    // New rings are ketama: a router refuses a ketama ring smaller than the replication
    // factor and exits, so rendering refuses it, at the selector.
    match receive::render(&router, &ctx(), &d) {
        Err(Error::Invalid(findings)) => assert_eq!(
            paths(&findings),
            ["router.soft_tenant_hashring.endpoints_selector"]
        ),
        other => panic!("{:?}", other.map(|_| "rendered")),
    }
    // A hashmod ring loads (and fails its writes): a warning, and it still renders.
    let r = router.router.as_mut().unwrap();
    r.soft_tenant_hashring.as_mut().unwrap().algorithm = Algorithm::Hashmod;
    let w = receive::discovery_warnings(router.router.as_ref().unwrap(), &d);
    assert_eq!(
        paths(&w),
        ["router.soft_tenant_hashring.endpoints_selector"]
    );
    assert!(receive::render(&router, &ctx(), &d).is_ok());
}

#[test]
fn receive_pdb_keeps_write_quorum() {
    let config = serde_json::json!({"name": "i", "replicas": 5, "ingestor": {}});
    assert_eq!(
        receive::pdb_max_unavailable(&crate::support::spec::<Receive>(config.clone())),
        1
    );
    let mut with_router = config;
    with_router["router"] = serde_json::json!({"replication_factor": 5, "soft_tenant_hashring": {"name": "s", "endpoints": ["a:1", "b:1", "c:1", "d:1", "e:1"]}});
    let mut spec = crate::support::spec::<Receive>(with_router);
    assert_eq!(receive::pdb_max_unavailable(&spec), 2);
    let r = receive::render(&spec, &ctx(), &BTreeMap::new()).unwrap();
    assert!(r.get("PodDisruptionBudget", "thanosreceive-i").is_some());
    spec.replicas = 1;
    let r = receive::render(&spec, &ctx(), &BTreeMap::new()).unwrap();
    assert!(r.get("PodDisruptionBudget", "thanosreceive-i").is_none());
}

#[test]
fn images_come_from_the_context_unless_set() {
    let ctx = thanos_render::RenderContext {
        thanos_image: "registry.local/thanos:v1".into(),
        envoy_image: "registry.local/envoy:v1".into(),
    };
    let r = query::render(&query("usage_mode1_query"), &ctx).unwrap();
    let pod = pod_spec(&r, "Deployment", "thanosquery-sample");
    assert_eq!(
        pod.containers[0].image.as_deref(),
        Some("registry.local/thanos:v1")
    );
    assert_eq!(
        pod.containers[1].image.as_deref(),
        Some("registry.local/envoy:v1")
    );
    assert_eq!(
        thanos_render::RenderContext::default().envoy_image,
        thanos_render::envoy::DEFAULT_ENVOY_IMAGE
    );
}

/// Every rule of the whole ring (`algorithm`, `endpoint_zones`, `tenant_matcher`,
/// `external_labels`, `shuffle_sharding`), each reported exactly at its attribute.
#[test]
fn receive_whole_ring_rules() {
    let eps = |n: usize| -> Vec<String> { (0..n).map(|i| format!("i-{i}.ns.svc:10901")).collect() };
    let soft = |rf: i64, ring: serde_json::Value| {
        let mut ring = ring;
        ring["name"] = "s".into();
        paths(&r_as_written(serde_json::json!({"name": "r", "router": {
            "replication_factor": rf, "soft_tenant_hashring": ring}})))
    };
    let at = |p: &str| vec![format!("router.soft_tenant_hashring.{p}")];
    // An az on a hashmod ring: Thanos refuses the ring.
    assert_eq!(
        soft(
            1,
            serde_json::json!({"algorithm": "hashmod", "endpoints": eps(2),
            "endpoint_zones": {"i-0.ns.svc:10901": "z1"}})
        ),
        at("endpoint_zones")
    );
    // The same on a ketama ring is fine.
    assert_eq!(
        soft(
            1,
            serde_json::json!({"algorithm": "ketama", "endpoints": eps(2),
            "endpoint_zones": {"i-0.ns.svc:10901": "z1"}})
        ),
        Vec::<String>::new()
    );
    // A zone for an endpoint the ring does not list, and an empty zone.
    assert_eq!(
        soft(
            1,
            serde_json::json!({"endpoints": eps(2),
            "endpoint_zones": {"other:1": "z1", "i-1.ns.svc:10901": ""}})
        )
        .len(),
        2
    );
    // Zones that cannot hold the replicas: 3 + 1 endpoints hold at most 3 of 4 (Thanos never
    // finishes loading such a ring).
    let mut zones = serde_json::Map::new();
    for (i, e) in eps(4).into_iter().enumerate() {
        zones.insert(e, (if i < 3 { "a" } else { "b" }).into());
    }
    assert_eq!(
        soft(
            4,
            serde_json::json!({"endpoints": eps(4), "endpoint_zones": zones})
        ),
        at("endpoint_zones")
    );
    // A shard size larger than the ring.
    assert_eq!(
        soft(
            1,
            serde_json::json!({"endpoints": eps(2), "shuffle_sharding": {"shard_size": 3}})
        ),
        at("shuffle_sharding.shard_size")
    );
    // A shard smaller than the replication factor, an override larger than the ring's zones
    // allow (2 zones of 1: a shard of 3 takes 2 from each).
    assert_eq!(
        soft(
            2,
            serde_json::json!({"endpoints": eps(3), "shuffle_sharding": {"shard_size": 1}})
        ),
        at("shuffle_sharding.shard_size")
    );
    let two_zones = serde_json::json!({"i-0.ns.svc:10901": "a", "i-1.ns.svc:10901": "b"});
    assert_eq!(
        soft(
            1,
            serde_json::json!({"endpoints": eps(2), "endpoint_zones": two_zones,
            "shuffle_sharding": {"shard_size": 2, "overrides": [
                {"shard_size": 3, "tenants": ["big"]}]}})
        ),
        // larger than the ring, too: Thanos checks only shard_size against it
        at("shuffle_sharding.overrides[0].shard_size")
    );
    // Zone-aware, a shard of 3 takes 2 from each of zones a (2) and b (1): refused. Without
    // zone awareness it takes 3 of the 3 endpoints, which Thanos does.
    let uneven = serde_json::json!({
        "i-0.ns.svc:10901": "a", "i-1.ns.svc:10901": "a", "i-2.ns.svc:10901": "b"});
    assert_eq!(
        soft(
            1,
            serde_json::json!({"endpoints": eps(3), "endpoint_zones": uneven,
            "shuffle_sharding": {"shard_size": 3}})
        ),
        at("shuffle_sharding.shard_size")
    );
    assert_eq!(
        soft(
            1,
            serde_json::json!({"endpoints": eps(3), "endpoint_zones": uneven,
            "shuffle_sharding": {"shard_size": 3, "zone_awareness_disabled": true}})
        ),
        Vec::<String>::new()
    );
    // Shuffle sharding on a hashmod ring.
    assert_eq!(
        soft(
            1,
            serde_json::json!({"algorithm": "hashmod", "endpoints": eps(3),
            "shuffle_sharding": {"shard_size": 2}})
        ),
        at("shuffle_sharding")
    );
    // Unknown names.
    assert_eq!(
        soft(
            1,
            serde_json::json!({"algorithm": "rendezvous", "endpoints": eps(1)})
        ),
        at("algorithm")
    );
    assert_eq!(
        soft(
            1,
            serde_json::json!({"tenant_matcher": "regex", "endpoints": eps(1)})
        ),
        at("tenant_matcher")
    );
    // External labels on the soft ring are never applied (it lists no tenant).
    assert_eq!(
        soft(
            1,
            serde_json::json!({"endpoints": eps(1), "external_labels": {"region": "eu"}})
        ),
        at("external_labels")
    );

    let hard = |rings: serde_json::Value, ingestor: bool| {
        let mut config =
            serde_json::json!({"name": "r", "router": {"hard_tenant_hashrings": rings}});
        if ingestor {
            config["ingestor"] = serde_json::json!({});
        }
        paths(&r_as_written(config))
    };
    // A glob that shadows a later ring's tenant: that ring would never get it.
    assert_eq!(
        hard(
            serde_json::json!([
                {"name": "teams", "tenants": ["team-*"], "tenant_matcher": "glob", "endpoints": eps(1)},
                {"name": "a", "tenants": ["team-a", "other"], "endpoints": eps(1)}
            ]),
            false
        ),
        ["router.hard_tenant_hashrings[1].tenants[0]"]
    );
    // The other order is how a glob and an exception are written.
    assert_eq!(
        hard(
            serde_json::json!([
                {"name": "a", "tenants": ["team-a"], "endpoints": eps(1)},
                {"name": "teams", "tenants": ["team-*"], "tenant_matcher": "glob", "endpoints": eps(1)}
            ]),
            false
        ),
        Vec::<String>::new()
    );
    // A malformed glob.
    assert_eq!(
        hard(
            serde_json::json!([{"name": "g", "tenants": ["team-[a"], "tenant_matcher": "glob", "endpoints": eps(1)}]),
            false
        ),
        ["router.hard_tenant_hashrings[0].tenants[0]"]
    );
    // External labels: applied only by a router + ingestor, only to exact tenants, never
    // replacing the replica or tenant label.
    let labelled = |labels: serde_json::Value, matcher: &str| {
        serde_json::json!([{"name": "a", "tenants": ["t"], "tenant_matcher": matcher,
            "endpoints": eps(1), "external_labels": labels}])
    };
    assert_eq!(
        hard(labelled(serde_json::json!({"region": "eu"}), "exact"), true),
        Vec::<String>::new()
    );
    assert_eq!(
        hard(
            labelled(serde_json::json!({"region": "eu"}), "exact"),
            false
        ),
        ["router.hard_tenant_hashrings[0].external_labels"]
    );
    assert_eq!(
        hard(labelled(serde_json::json!({"region": "eu"}), "glob"), true),
        ["router.hard_tenant_hashrings[0].external_labels"]
    );
    assert_eq!(
        hard(
            labelled(serde_json::json!({"receive_replica": "x"}), "exact"),
            true
        )
        .len(),
        1
    );
}

/// A router + ingestor whose soft ring selects its own pods, as the operator's README writes
/// selectors: the ring is its own ingestors for `replicas`, before any pod exists (the first
/// apply failed with "Empty hashring" before), and whatever part of them is Ready; members of
/// other resources the selector also finds are kept.
#[test]
fn a_ring_of_its_own_pods_follows_replicas() {
    let config = serde_json::json!({
        "name": "self", "namespace": "mon", "replicas": 3, "ingestor": {},
        "router": {"soft_tenant_hashring": {"name": "default", "endpoints_selector": {
            "match_labels": {"app.kubernetes.io/instance": "self", "thanos.receive/ingestor": "true"}}}}
    });
    let spec = crate::support::spec::<Receive>(config.clone());
    let own: Vec<String> = (0..3)
        .map(|i| format!("thanosreceive-self-{i}.thanosreceive-self-operated.mon.svc:10901"))
        .collect();
    let ring = |discovered: BTreeMap<String, Vec<String>>| {
        let r = receive::render(&spec, &ctx(), &discovered).unwrap();
        let text = config_map_data(&r, "thanosreceive-self-hashrings", "hashrings.json");
        let rings: Vec<thanos_render::hashring::HashringEntry> =
            serde_json::from_str(&text).unwrap();
        rings[0].addresses()
    };
    // Nothing exists yet (offline, or before the first apply).
    assert_eq!(ring(BTreeMap::new()), own);
    // One pod Ready, a stale ordinal, and another resource's ingestor with the same labels.
    let other = "thanosreceive-x-0.thanosreceive-x-operated.mon.svc:10901".to_owned();
    let found = vec![
        own[0].clone(),
        "thanosreceive-self-7.thanosreceive-self-operated.mon.svc:10901".to_owned(),
        other.clone(),
    ];
    let mut want = own.clone();
    want.push(other);
    want.sort();
    assert_eq!(ring(BTreeMap::from([("default".to_owned(), found)])), want);

    // A selector that does not match its own Service's labels is discovered as before.
    let mut elsewhere = config;
    elsewhere["router"]["soft_tenant_hashring"]["endpoints_selector"]["match_labels"] =
        serde_json::json!({"app.kubernetes.io/instance": "other"});
    let spec = crate::support::spec::<Receive>(elsewhere);
    assert!(matches!(
        receive::render(&spec, &ctx(), &BTreeMap::new()),
        Err(Error::Undiscovered { .. })
    ));
}

/// The first step of an ordered resize of a router + ingestor's own ring: the StatefulSet at
/// the larger size, rings listing only the pods that exist before and after (other members
/// kept); nothing to order when replicas do not change, on a create from zero, or when no
/// ring lists its pods.
#[test]
fn own_ring_resize_steps() {
    let own =
        |i: usize| format!("thanosreceive-self-{i}.thanosreceive-self-operated.mon.svc:10901");
    let other = "x-0.x.mon.svc:10901".to_owned();
    let config = |replicas: i64, endpoints: Vec<String>| {
        crate::support::spec::<Receive>(serde_json::json!({
            "name": "self", "namespace": "mon", "replicas": replicas, "ingestor": {},
            "router": {"soft_tenant_hashring": {"name": "default", "endpoints": endpoints}}
        }))
    };
    let members = |s: &receive::ReceiveSpec| match &s
        .router
        .as_ref()
        .unwrap()
        .soft_tenant_hashring
        .as_ref()
        .unwrap()
        .members
    {
        receive::Members::Static(e) => e.clone(),
        other => panic!("{other:?}"),
    };
    // Growing 2 -> 3: three pods, the ring of before.
    let grown = config(3, vec![own(0), own(1), own(2), other.clone()]);
    let (step, resize) = receive::interim(&grown, 2, &BTreeMap::new()).unwrap();
    assert_eq!(resize, receive::Resize::Up);
    assert_eq!(step.replicas, 3);
    assert_eq!(members(&step), [own(0), own(1), other.clone()]);
    // Shrinking 3 -> 1: three pods, the ring of after.
    let shrunk = config(1, vec![own(0), other.clone()]);
    let (step, resize) = receive::interim(&shrunk, 3, &BTreeMap::new()).unwrap();
    assert_eq!(resize, receive::Resize::Down);
    assert_eq!(step.replicas, 3);
    assert_eq!(members(&step), [own(0), other.clone()]);
    // Nothing to order.
    assert!(receive::interim(&grown, 3, &BTreeMap::new()).is_none());
    assert!(receive::interim(&grown, 0, &BTreeMap::new()).is_none());
    assert!(receive::interim(&config(3, vec![other]), 2, &BTreeMap::new()).is_none());
}

/// Found by the `render_config` fuzz target: `replicas = 2147483647` on an ingesting receive
/// made the plan list two billion ingestor endpoints (minutes and gigabytes, then out of
/// memory). More ingestors than a router's hashrings.json (one ConfigMap) holds are refused
/// at `replicas`, saying how many fit; a router alone lists no pods.
#[test]
fn receive_ingestors_must_fit_a_hashrings_file() {
    let receive = |replicas: i64, router_only: bool| {
        let mut config = serde_json::json!({"name": "r", "namespace": "mon", "replicas": replicas});
        if router_only {
            config["router"] =
                serde_json::json!({"soft_tenant_hashring": {"name": "all", "endpoints": ["i:1"]}});
        }
        r_as_written(config)
    };
    for replicas in [i64::from(i32::MAX), 1_000_000, 20_000] {
        let v = receive(replicas, false);
        assert_eq!(paths(&v), ["replicas"], "{replicas}: {v:#?}");
        assert!(v[0].detail.contains("at most"), "{v:#?}");
    }
    assert_eq!(receive(5_000, false), []);
    assert_eq!(receive(i64::from(i32::MAX), true), []);
}

/// Found by `tests/properties.rs` (a generated configuration the API server refused in a
/// dry run): `resources.limits` keyed `THANOS-TENANT` was a qualified name, so the plan took
/// it, and the StatefulSet was refused ("must be a standard resource for containers"). Keys
/// are now checked as the API server checks a container's resource names.
#[test]
fn resource_names_are_the_ones_a_container_can_request() {
    let v = r_as_written(serde_json::json!({"name": "r",
        "resources": {"limits": {"THANOS-TENANT": "1", "nvidia.com/gpu": "1"},
                      "requests": {"cpu": "100m", "hugepages-2Mi": "2Mi", "storage": "1Gi"}}}));
    assert_eq!(
        paths(&v),
        [
            "resources.requests[\"storage\"]",
            "resources.limits[\"THANOS-TENANT\"]"
        ],
        "{v:#?}"
    );
    assert!(
        v.iter().all(|i| i.summary == "Invalid resource name"),
        "{v:#?}"
    );
}

/// `router.hashrings_reload`: one of its values, and `in_place` only where pods can reload
/// (a router without ingestor), each reported at the attribute.
#[test]
fn receive_hashrings_reload() {
    let router = |reload: &str, ingestor: bool| {
        let mut v = serde_json::json!({"name": "r", "router": {
            "hashrings_reload": reload,
            "soft_tenant_hashring": {"name": "s", "endpoints": ["a:1"]}}});
        if ingestor {
            v["ingestor"] = serde_json::json!({});
        }
        paths(&r_as_written(v))
    };
    let at = vec!["router.hashrings_reload".to_owned()];
    assert_eq!(router("in_place", false), Vec::<String>::new());
    assert_eq!(router("restart", false), Vec::<String>::new());
    assert_eq!(router("restart", true), Vec::<String>::new());
    assert_eq!(router("in_place", true), at);
    assert_eq!(router("rolling", false), at);
}
