//! Every rule between fields that the docs (`docs/resources/*.md`, made from the schema
//! descriptions) and the product contract state, checked at plan: each breaking configuration
//! gets exactly one error, at the attribute that breaks the rule, and the same configuration
//! without the offending value gets none. docs/reliability.md lists the rules.

use serde_json::{Value as Json, json};
use terraform_provider_thanos::resources::{
    query::Query, receive::Receive, rule::Rule, storage::Storage,
};
use terraform_provider_thanos::testing::{Absent, findings};
use thanos_render::Invalid;
use thanos_render::validate::display_path;

#[derive(Clone, Copy, Debug)]
enum Type {
    Query,
    Receive,
    Rule,
    Storage,
}

/// The smallest valid configuration of each type.
fn base(t: Type) -> Json {
    match t {
        Type::Query => json!({"name": "q"}),
        Type::Receive => json!({"name": "r"}),
        Type::Rule => json!({
            "name": "ru",
            "query_endpoints": ["http://q:10902"],
            "rule_groups": {"g": "groups: []\n"},
        }),
        Type::Storage => json!({
            "name": "s",
            "object_storage_config": {"name": "b", "key": "k"},
            "gateway": {},
        }),
    }
}

/// `patch` merged into `base` (objects key by key; anything else replaced).
fn merge(base: &mut Json, patch: &Json) {
    match (base, patch) {
        (Json::Object(b), Json::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k.clone()).or_insert(Json::Null), v);
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn findings_of(t: Type, config: &Json) -> Vec<Invalid> {
    match t {
        Type::Query => findings::<Query>(config, Absent::Null),
        Type::Receive => findings::<Receive>(config, Absent::Null),
        Type::Rule => findings::<Rule>(config, Absent::Null),
        Type::Storage => findings::<Storage>(config, Absent::Null),
    }
}

/// One rule: where it is stated, the type, a configuration that keeps it and one that breaks
/// it (each merged into the type's base), and the path of the one error.
struct Case {
    stated: &'static str,
    t: Type,
    keeps: Json,
    breaks: Json,
    at: &'static str,
}

fn cases() -> Vec<Case> {
    use Type::*;
    let ring = |extra: Json| {
        let mut r = json!({"name": "hot", "tenants": ["a"], "endpoints": ["i-0:10901"]});
        merge(&mut r, &extra);
        r
    };
    let s3 = |extra: Json| {
        let mut s = json!({"s3": {"bucket": "metrics", "endpoint": "s3.eu-west-1.amazonaws.com"}});
        merge(&mut s, &json!({"s3": extra}));
        json!({"object_storage": s, "object_storage_config": null})
    };
    vec![
        // thanos_query
        Case {
            stated: "query stores.address: a store with secret_name must be host:port",
            t: Query,
            keeps: json!({"stores": [{"address": "h:10901", "secret_name": "ca"}]}),
            breaks: json!({"stores": [{"address": "dns+h:10901", "secret_name": "ca"}]}),
            at: "stores[0].address",
        },
        Case {
            stated: "query stores: client_secret_name (mutual TLS) needs secret_name",
            t: Query,
            keeps: json!({"stores": [{"address": "h:1", "secret_name": "ca", "client_secret_name": "c"}]}),
            breaks: json!({"stores": [{"address": "h:1", "client_secret_name": "c"}]}),
            at: "stores[0].client_secret_name",
        },
        Case {
            stated: "query stores: server_name checks the certificate of secret_name",
            t: Query,
            keeps: json!({"stores": [{"address": "h:1", "secret_name": "ca", "server_name": "x"}]}),
            breaks: json!({"stores": [{"address": "h:1", "server_name": "x"}]}),
            at: "stores[0].server_name",
        },
        Case {
            stated: "query stores: ca_key is a key of secret_name",
            t: Query,
            keeps: json!({"stores": [{"address": "h:1", "secret_name": "ca", "ca_key": "a.crt"}]}),
            breaks: json!({"stores": [{"address": "h:1", "ca_key": "a.crt"}]}),
            at: "stores[0].ca_key",
        },
        Case {
            stated: "query stores.strict: Thanos's strict endpoints are static addresses",
            t: Query,
            keeps: json!({"stores": [{"address": "h:10901", "strict": true}]}),
            breaks: json!({"stores": [{"address": "dns+h:10901", "strict": true}]}),
            at: "stores[0].strict",
        },
        Case {
            stated: "query envoy: the sidecar of tls_mode = \"envoy\"",
            t: Query,
            keeps: json!({"tls_mode": "envoy", "envoy": {"image_pull_policy": "Always"}}),
            breaks: json!({"tls_mode": "native", "envoy": {"image_pull_policy": "Always"}}),
            at: "envoy",
        },
        // thanos_receive
        Case {
            stated: "receive tenants: a hard ring must list at least one",
            t: Receive,
            keeps: json!({"router": {"hard_tenant_hashrings": [ring(json!({}))]}}),
            breaks: json!({"router": {"hard_tenant_hashrings": [ring(json!({"tenants": []}))]}}),
            at: "router.hard_tenant_hashrings[0].tenants",
        },
        Case {
            stated: "receive tenants: the soft ring lists none",
            t: Receive,
            keeps: json!({"router": {"soft_tenant_hashring": ring(json!({"tenants": []}))}}),
            breaks: json!({"router": {"soft_tenant_hashring": ring(json!({"tenants": ["a"]}))}}),
            at: "router.soft_tenant_hashring.tenants",
        },
        Case {
            stated: "receive tenants: a tenant may appear in only one ring",
            t: Receive,
            keeps: json!({"router": {"hard_tenant_hashrings": [
                ring(json!({})),
                ring(json!({"name": "cold", "tenants": ["b"]})),
            ]}}),
            breaks: json!({"router": {"hard_tenant_hashrings": [
                ring(json!({})),
                ring(json!({"name": "cold", "tenants": ["a"]})),
            ]}}),
            at: "router.hard_tenant_hashrings[1].tenants[0]",
        },
        Case {
            stated: "receive replication_factor: every static ring needs at least this many endpoints",
            t: Receive,
            keeps: json!({"router": {"replication_factor": 2, "hard_tenant_hashrings": [
                ring(json!({"endpoints": ["i-0:10901", "i-1:10901"]})),
            ]}}),
            breaks: json!({"router": {"replication_factor": 3, "hard_tenant_hashrings": [
                ring(json!({"endpoints": ["i-0:10901", "i-1:10901"]})),
            ]}}),
            at: "router.hard_tenant_hashrings[0].endpoints",
        },
        Case {
            stated: "receive endpoints: set this or endpoints_selector, not both",
            t: Receive,
            keeps: json!({"router": {"soft_tenant_hashring": ring(json!({"tenants": []}))}}),
            breaks: json!({"router": {"soft_tenant_hashring": ring(json!({
                "tenants": [], "endpoints_selector": {"match_labels": {"app": "i"}},
            }))}}),
            at: "router.soft_tenant_hashring.endpoints_selector",
        },
        Case {
            stated: "receive endpoints_namespace_selector: the namespaces endpoints_selector searches",
            t: Receive,
            keeps: json!({"router": {"soft_tenant_hashring": {
                "name": "all",
                "endpoints_selector": {"match_labels": {"app": "i"}},
                "endpoints_namespace_selector": {"match_labels": {"team": "a"}},
            }}}),
            // Static members: the namespace selector would be ignored.
            breaks: json!({"router": {"soft_tenant_hashring": {
                "name": "all",
                "endpoints_selector": null,
                "endpoints": ["i-0:10901"],
                "endpoints_namespace_selector": {"match_labels": {"team": "a"}},
            }}}),
            at: "router.soft_tenant_hashring.endpoints_namespace_selector",
        },
        Case {
            stated: "receive match_expressions.values: must be empty for Exists and DoesNotExist",
            t: Receive,
            keeps: json!({"router": {"soft_tenant_hashring": {"name": "all", "endpoints_selector": {
                "match_expressions": [{"key": "app", "operator": "Exists", "values": []}],
            }}}}),
            breaks: json!({"router": {"soft_tenant_hashring": {"name": "all", "endpoints_selector": {
                "match_expressions": [{"key": "app", "operator": "Exists", "values": ["x"]}],
            }}}}),
            at: "router.soft_tenant_hashring.endpoints_selector.match_expressions[0].values",
        },
        Case {
            stated: "receive match_expressions.values: needed for In and NotIn",
            t: Receive,
            keeps: json!({"router": {"soft_tenant_hashring": {"name": "all", "endpoints_selector": {
                "match_expressions": [{"key": "app", "operator": "In", "values": ["x"]}],
            }}}}),
            breaks: json!({"router": {"soft_tenant_hashring": {"name": "all", "endpoints_selector": {
                "match_expressions": [{"key": "app", "operator": "In", "values": []}],
            }}}}),
            at: "router.soft_tenant_hashring.endpoints_selector.match_expressions[0].values",
        },
        Case {
            stated: "receive ingestor.object_storage: set this or object_storage_config",
            t: Receive,
            keeps: json!({"ingestor": {"object_storage_config": {"name": "b", "key": "k"}}}),
            breaks: json!({"ingestor": {
                "object_storage_config": {"name": "b", "key": "k"},
                "object_storage": {"filesystem": {"directory": "/data/bucket"}},
            }}),
            at: "ingestor.object_storage",
        },
        Case {
            stated: "ingestor.data_volume: set empty_dir or pvc",
            t: Receive,
            keeps: json!({"ingestor": {"data_volume": {"pvc": {"size": "5Gi"}}}}),
            breaks: json!({"ingestor": {"data_volume": {"pvc": {"size": "5Gi"}, "empty_dir": {}}}}),
            at: "ingestor.data_volume",
        },
        // object_storage (thanos_storage; the same block as receive's)
        Case {
            stated: "s3.access_key_wo: set it with secret_key_wo and credentials_wo_version",
            t: Storage,
            keeps: s3(
                json!({"access_key_wo": "AKIA", "secret_key_wo": "s", "credentials_wo_version": 1}),
            ),
            breaks: s3(json!({"access_key_wo": "AKIA", "credentials_wo_version": 1})),
            at: "object_storage.s3.secret_key_wo",
        },
        Case {
            stated: "s3.credentials_wo_version: the version of the keys, changed with them",
            t: Storage,
            keeps: s3(
                json!({"access_key_wo": "AKIA", "secret_key_wo": "s", "credentials_wo_version": 1}),
            ),
            breaks: s3(json!({"access_key_wo": "AKIA", "secret_key_wo": "s"})),
            at: "object_storage.s3.credentials_wo_version",
        },
        Case {
            stated: "s3.aws_sdk_auth: credentials from the SDK's chain, without keys",
            t: Storage,
            keeps: s3(json!({"aws_sdk_auth": true})),
            breaks: s3(
                json!({"aws_sdk_auth": true, "access_key_wo": "AKIA", "secret_key_wo": "s", "credentials_wo_version": 1}),
            ),
            at: "object_storage.s3.aws_sdk_auth",
        },
        Case {
            stated: "s3.sse.kms_key_id: SSE-KMS only, required there",
            t: Storage,
            keeps: s3(json!({"sse": {"type": "SSE-KMS", "kms_key_id": "alias/k"}})),
            breaks: s3(json!({"sse": {"type": "SSE-KMS"}})),
            at: "object_storage.s3.sse.kms_key_id",
        },
        Case {
            stated: "s3.sse.kms_key_id: SSE-KMS only",
            t: Storage,
            keeps: s3(json!({"sse": {"type": "SSE-S3"}})),
            breaks: s3(json!({"sse": {"type": "SSE-S3", "kms_key_id": "alias/k"}})),
            at: "object_storage.s3.sse.kms_key_id",
        },
        Case {
            stated: "s3.sse.kms_encryption_context: SSE-KMS only",
            t: Storage,
            keeps: s3(
                json!({"sse": {"type": "SSE-KMS", "kms_key_id": "k", "kms_encryption_context": {"a": "b"}}}),
            ),
            breaks: s3(json!({"sse": {"type": "SSE-S3", "kms_encryption_context": {"a": "b"}}})),
            at: "object_storage.s3.sse.kms_encryption_context",
        },
        Case {
            stated: "s3.sse.encryption_key_file: SSE-C only, required there",
            t: Storage,
            keeps: s3(json!({"sse": {"type": "SSE-C", "encryption_key_file": "/k/key"}})),
            breaks: s3(json!({"sse": {"type": "SSE-C"}})),
            at: "object_storage.s3.sse.encryption_key_file",
        },
        Case {
            stated: "s3.sse.encryption_key_file: needs HTTPS",
            t: Storage,
            keeps: s3(
                json!({"insecure": false, "sse": {"type": "SSE-C", "encryption_key_file": "/k/key"}}),
            ),
            breaks: s3(
                json!({"insecure": true, "sse": {"type": "SSE-C", "encryption_key_file": "/k/key"}}),
            ),
            at: "object_storage.s3.sse.type",
        },
        Case {
            stated: "gcs.service_account_wo: set it with credentials_wo_version",
            t: Storage,
            keeps: json!({"object_storage_config": null, "object_storage": {"gcs": {"bucket": "metrics"}}}),
            breaks: json!({"object_storage_config": null, "object_storage": {"gcs": {"bucket": "metrics", "credentials_wo_version": 1}}}),
            at: "object_storage.gcs.credentials_wo_version",
        },
        Case {
            stated: "azure: a user-assigned identity or the account key, not both",
            t: Storage,
            keeps: json!({"object_storage_config": null, "object_storage": {"azure": {
                "storage_account": "acct", "container": "metrics",
                "user_assigned_id": "00000000-0000-0000-0000-000000000000",
            }}}),
            breaks: json!({"object_storage_config": null, "object_storage": {"azure": {
                "storage_account": "acct", "container": "metrics",
                "user_assigned_id": "00000000-0000-0000-0000-000000000000",
                "storage_account_key_wo": "YWJjZA==", "credentials_wo_version": 1,
            }}}),
            at: "object_storage.azure.user_assigned_id",
        },
        // thanos_storage
        Case {
            stated: "storage gateway.min_time: not later than max_time (relative)",
            t: Storage,
            keeps: json!({"gateway": {"min_time": "-2w", "max_time": "-1w"}}),
            breaks: json!({"gateway": {"min_time": "-1w", "max_time": "-2w"}}),
            at: "gateway.min_time",
        },
        Case {
            stated: "storage gateway.min_time: not later than max_time (absolute)",
            t: Storage,
            keeps: json!({"gateway": {"min_time": "2025-01-01T00:00:00Z", "max_time": "2026-01-01T00:00:00Z"}}),
            breaks: json!({"gateway": {"min_time": "2026-01-01T00:00:00Z", "max_time": "2025-01-01T00:00:00Z"}}),
            at: "gateway.min_time",
        },
        Case {
            stated: "storage gateway.min_time: not later than max_time (mixed)",
            t: Storage,
            keeps: json!({"gateway": {"min_time": "2020-01-01T00:00:00Z", "max_time": "-1h"}}),
            breaks: json!({"gateway": {"min_time": "9000-01-01T00:00:00Z", "max_time": "-1h"}}),
            at: "gateway.min_time",
        },
        Case {
            stated: "storage retention.raw: at least 40h while the compactor downsamples",
            t: Storage,
            keeps: json!({"compact": {"retention": {"raw": "40h"}}}),
            breaks: json!({"compact": {"retention": {"raw": "39h"}}}),
            at: "compact.retention.raw",
        },
        Case {
            stated: "storage retention.five_minutes: at least 10d while the compactor downsamples",
            t: Storage,
            keeps: json!({"compact": {"downsampling_disable": true, "retention": {"five_minutes": "1d"}}}),
            breaks: json!({"compact": {"downsampling_disable": false, "retention": {"five_minutes": "1d"}}}),
            at: "compact.retention.five_minutes",
        },
        // thanos_rule
        Case {
            stated: "rule query_endpoints: at least one",
            t: Rule,
            keeps: json!({"query_endpoints": ["http://q:10902"]}),
            breaks: json!({"query_endpoints": []}),
            at: "query_endpoints",
        },
        Case {
            stated: "rule: rule_groups, prometheus_rule_selector, or both",
            t: Rule,
            keeps: json!({"rule_groups": null, "prometheus_rule_selector": {}}),
            breaks: json!({"rule_groups": null}),
            at: "",
        },
        Case {
            stated: "rule prometheus_rule_namespace_selector: where prometheus_rule_selector searches",
            t: Rule,
            keeps: json!({"prometheus_rule_selector": {}, "prometheus_rule_namespace_selector": {}}),
            breaks: json!({"prometheus_rule_namespace_selector": {}}),
            at: "prometheus_rule_namespace_selector",
        },
        Case {
            stated: "rule alertmanagers.secret_name: needs an https URL",
            t: Rule,
            keeps: json!({"alertmanagers": [{"url": "https://am:9093", "secret_name": "ca"}]}),
            breaks: json!({"alertmanagers": [{"url": "http://am:9093", "secret_name": "ca"}]}),
            at: "alertmanagers[0].secret_name",
        },
        Case {
            stated: "rule alertmanagers.client_secret_name: mutual TLS, https only",
            t: Rule,
            keeps: json!({"alertmanagers": [{"url": "https://am:9093", "client_secret_name": "c"}]}),
            breaks: json!({"alertmanagers": [{"url": "http://am:9093", "client_secret_name": "c"}]}),
            at: "alertmanagers[0].client_secret_name",
        },
        Case {
            stated: "rule alertmanagers.server_name: https only",
            t: Rule,
            keeps: json!({"alertmanagers": [{"url": "https://am:9093", "server_name": "am"}]}),
            breaks: json!({"alertmanagers": [{"url": "http://am:9093", "server_name": "am"}]}),
            at: "alertmanagers[0].server_name",
        },
        Case {
            stated: "rule alertmanagers.ca_key: the CA's key in secret_name",
            t: Rule,
            keeps: json!({"alertmanagers": [{"url": "https://am:9093", "secret_name": "ca", "ca_key": "a"}]}),
            breaks: json!({"alertmanagers": [{"url": "https://am:9093", "ca_key": "a"}]}),
            at: "alertmanagers[0].ca_key",
        },
        Case {
            stated: "rule alertmanagers.url: dnssrv+ is an SRV name, no port",
            t: Rule,
            keeps: json!({"alertmanagers": [{"url": "dnssrv+http://_web._tcp.am.mon.svc"}]}),
            breaks: json!({"alertmanagers": [{"url": "dnssrv+http://_web._tcp.am.mon.svc:9093"}]}),
            at: "alertmanagers[0].url",
        },
        Case {
            stated: "rule external_labels: replica_label is the ruler's own",
            t: Rule,
            keeps: json!({"external_labels": {"ruler": "global"}}),
            breaks: json!({"external_labels": {"thanos_ruler_replica": "x"}}),
            at: "external_labels[\"thanos_ruler_replica\"]",
        },
        // Every resource: placement
        Case {
            stated: "tolerations.value: matched with operator Equal (Exists takes none)",
            t: Query,
            keeps: json!({"tolerations": [{"key": "k", "operator": "Exists"}]}),
            breaks: json!({"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]}),
            at: "tolerations[0].value",
        },
        Case {
            stated: "tolerations.key: empty with operator Exists tolerates every taint",
            t: Query,
            keeps: json!({"tolerations": [{"key": "", "operator": "Exists"}]}),
            breaks: json!({"tolerations": [{"key": "", "operator": "Equal"}]}),
            at: "tolerations[0].operator",
        },
        Case {
            stated: "tolerations.toleration_seconds: for NoExecute",
            t: Receive,
            keeps: json!({"tolerations": [{"key": "k", "effect": "NoExecute", "toleration_seconds": 60}]}),
            breaks: json!({"tolerations": [{"key": "k", "effect": "NoSchedule", "toleration_seconds": 60}]}),
            at: "tolerations[0].toleration_seconds",
        },
        Case {
            stated: "topology_spread_constraints.min_domains: with DoNotSchedule",
            t: Storage,
            keeps: json!({"topology_spread_constraints": [{"max_skew": 1, "topology_key": "zone", "min_domains": 2}]}),
            breaks: json!({"topology_spread_constraints": [{"max_skew": 1, "topology_key": "zone", "min_domains": 2, "when_unsatisfiable": "ScheduleAnyway"}]}),
            at: "topology_spread_constraints[0].min_domains",
        },
        Case {
            stated: "name: derived object names within Kubernetes limits",
            t: Storage,
            keeps: json!({"name": "s".repeat(30), "gateway": {}}),
            breaks: json!({"name": "s".repeat(60), "gateway": {}}),
            at: "name",
        },
        Case {
            stated: "extra_args: flags the provider must control are rejected",
            t: Rule,
            keeps: json!({"extra_args": ["--query.http-method=GET"]}),
            breaks: json!({"extra_args": ["--http-address=0.0.0.0:1"]}),
            at: "extra_args[0]",
        },
    ]
}

#[test]
fn every_stated_cross_field_rule_is_one_pathed_error_at_plan() {
    let mut failures = Vec::new();
    for case in cases() {
        let mut keeps = base(case.t);
        merge(&mut keeps, &case.keeps);
        let mut breaks = base(case.t);
        merge(&mut breaks, &case.breaks);
        let kept = findings_of(case.t, &keeps);
        if !kept.is_empty() {
            failures.push(format!("{}: the valid form fails: {kept:#?}", case.stated));
        }
        let broken = findings_of(case.t, &breaks);
        let paths: Vec<String> = broken.iter().map(|i| display_path(&i.path)).collect();
        if paths != [case.at] {
            failures.push(format!(
                "{} ({:?}): expected one error at {:?}, got {broken:#?}",
                case.stated, case.t, case.at
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
