//! Strings worth trying in a configuration, for harnesses that generate configurations (the
//! fuzz targets, the property tests): the forms the rules care about, valid and nearly so
//! (names, durations, times, addresses, quantities, enum words, JSON, rule files, flags), so
//! that generated configurations reach the rules instead of failing at the first syntax check.

pub const NAMES: &[&str] = &[
    "q",
    "thanos-1",
    "a.b",
    "",
    "Router",
    "-x",
    "x-",
    "a_b",
    "averyveryveryveryveryveryveryveryveryveryveryverylongnamethatislong",
    "mon",
    "default",
    "kube-system",
];
pub const DURATIONS: &[&str] = &[
    "0", "0d", "0s", "1ms", "30s", "1m", "5m", "1h", "2h", "6h", "40h", "39h59m", "1d", "9d23h",
    "10d", "15d", "30d", "1w2d", "1y", "292y", "293y", "1.5h", "1h30m", "-1h", "h", "1x",
];
pub const TIMES: &[&str] = &[
    "-1w",
    "-2w",
    "-1h",
    "1h",
    "0d",
    "-300y",
    "2026-01-01T00:00:00Z",
    "2025-01-01T00:00:00Z",
    "2026-01-01T01:00:00+02:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00",
    "0000-01-01T00:00:00Z",
    "0000-01-01T00:00:00+01:00",
    "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:00,5Z",
    "2026-01-01T00:00:00+24:00",
    "2026-01-01t00:00:00z",
];
pub const ADDRESSES: &[&str] = &[
    "host:10901",
    "q.mon.svc:10901",
    "dns+host:10901",
    "dnssrv+_grpc._tcp.h.mon.svc",
    "dnssrvnoa+_grpc._tcp.h",
    "1.2.3.4:5",
    "[::1]:10901",
    "::1",
    "host",
    ":1",
    "host:0",
    "host:99999",
    "http://q:10902",
    "https://am:9093",
    "http://am:9093/prefix",
    "dns+http://am:9093",
    "dnssrv+http://_web._tcp.am.mon.svc",
    "dnssrv+https://_web._tcp.am:9093",
    "ftp://x",
    "s3.amazonaws.com",
    "minio.minio.svc:9000",
    "b.s3.amazonaws.com",
    "storage.googleapis.com",
    "blob.core.windows.net",
    "*.example.com",
    "q.example.com",
];
pub const QUANTITIES: &[&str] = &[
    "1Gi", "100m", "1e3", "0", "-1", "1.5Gi", "5Gi", "1", "Gi", "1Ki",
];
pub const WORDS: &[&str] = &[
    "Exists",
    "Equal",
    "In",
    "NotIn",
    "DoesNotExist",
    "NoSchedule",
    "PreferNoSchedule",
    "NoExecute",
    "DoNotSchedule",
    "ScheduleAnyway",
    "Memory",
    "ReadWriteOnce",
    "ReadWriteMany",
    "Always",
    "IfNotPresent",
    "Never",
    "debug",
    "info",
    "warn",
    "json",
    "logfmt",
    "native",
    "envoy",
    "Retain",
    "Delete",
    "SSE-S3",
    "SSE-KMS",
    "SSE-C",
    "auto",
    "path",
    "virtual-hosted",
    "eu-west-1",
];
pub const LABELS: &[&str] = &[
    "app",
    "app.kubernetes.io/name",
    "topology.kubernetes.io/zone",
    "receive_replica",
    "prometheus_replica",
    "thanos_ruler_replica",
    "tenant",
    "__name__",
    "9bad",
    "a/b/c",
    "",
];
pub const JSON: &[&str] = &[
    "{}",
    "null",
    "[]",
    r#"{"nodeAffinity":{}}"#,
    r#"{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topologyKey":"kubernetes.io/hostname","labelSelector":{"matchLabels":{"a":"b"}}}]}}"#,
    r#"{"unknownField":1}"#,
    r#"{"type":"service_account","project_id":"p","private_key_id":"k","private_key":"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n","client_email":"a@p.iam.gserviceaccount.com","client_id":"1"}"#,
    r#"{"type":"external_account"}"#,
];
pub const RULE_FILES: &[&str] = &[
    "groups: []\n",
    "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n",
    "groups:\n- name: g\n  interval: 1m\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 5m\n    labels: {severity: page}\n    annotations: {summary: '{{ $labels.job }} is down'}\n",
    "groups: [{name: g, rules: [{record: 'a:b', expr: 'sum(rate(x[5m]))'}]}]",
    "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up{\n",
    "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations: {a: '{{ .Bad'}\n",
    "not: yaml: [",
    "groups:\n- name: g\n  rules:\n  - record: r\n    alert: a\n    expr: up\n",
];
pub const ARGS: &[&str] = &[
    "--log.level=debug",
    "--grpc-address=0.0.0.0:1",
    "--query.timeout=1m",
    "--tsdb.path=/x",
    "--x",
    "-x",
    "x",
    "--label=a=\"b\"",
];
pub const OTHER: &[&str] = &[
    "/data",
    "/",
    "relative",
    "/a/../b",
    "bucket",
    "my-bucket",
    "Bucket_",
    "objstore.yaml",
    "ca.crt",
    "tls.key",
    "a/b",
    "YWJjZA==",
    "not base64!",
    "00000000-0000-0000-0000-000000000000",
    "AKIAEXAMPLE",
    "secret",
    "cluster-a/metrics",
    "/prefix/",
    "quay.io/thanos/thanos:v0.42.5",
    "envoyproxy/envoy:v1.36.2",
    "image with spaces",
    "THANOS-TENANT",
    "tenant-a",
    "é",
    "\u{0}",
    " ",
    "a\nb",
];

/// The pools that suit an attribute, by its name: durations for `retention`, addresses for
/// `endpoint`, and so on; names and enum words when nothing else fits.
pub fn for_attribute(attribute: &str) -> &'static [&'static [&'static str]] {
    let has = |words: &[&str]| words.iter().any(|w| attribute.contains(w));
    if attribute == "name" || has(&["namespace", "secret_name", "class", "account_name"]) {
        &[NAMES]
    } else if has(&["time"]) {
        &[TIMES]
    } else if has(&[
        "retention",
        "interval",
        "timeout",
        "raw",
        "minutes",
        "hour",
        "create",
        "update",
        "delete",
    ]) {
        &[DURATIONS]
    } else if has(&["address", "endpoint", "url", "host", "server_name"]) {
        &[ADDRESSES]
    } else if has(&["size", "limit", "request", "cpu", "memory"]) {
        &[QUANTITIES]
    } else if has(&["affinity", "service_account_wo"]) {
        &[JSON]
    } else if has(&["rule"]) {
        &[RULE_FILES]
    } else if has(&["args"]) {
        &[ARGS]
    } else if has(&["label", "key", "selector", "tenant"]) {
        &[LABELS, OTHER]
    } else {
        &[WORDS, OTHER]
    }
}

/// Every pool.
pub const ALL: &[&[&str]] = &[
    NAMES, DURATIONS, TIMES, ADDRESSES, QUANTITIES, WORDS, LABELS, JSON, RULE_FILES, ARGS, OTHER,
];

/// A valid configuration of each resource type (as JSON written like HCL), with a bit of
/// everything: harnesses start from it and change some attributes, so that most of what they
/// generate reaches the rules and rendering.
pub fn valid_configuration(type_name: &str) -> Option<serde_json::Value> {
    use crate::resources::{query, receive, rule, storage};
    use serde_json::json;
    Some(match type_name {
        query::TYPE_NAME => json!({
            "name": "q",
            "stores": [{"address": "s:10901"}, {"address": "t:10901", "secret_name": "ca"}],
            "http_ingress": {"host": "q.example.com"},
        }),
        receive::TYPE_NAME => json!({
            "name": "r",
            "router": {"soft_tenant_hashring": {"name": "all", "endpoints": ["i-0:10901"]}},
            "ingestor": {"object_storage_config": {"name": "b", "key": "k"}},
        }),
        rule::TYPE_NAME => json!({
            "name": "ru",
            "query_endpoints": ["http://q:10902"],
            "rule_groups": {"g": RULE_FILES[1]},
            "alertmanagers": [{"url": "http://am:9093"}],
        }),
        storage::TYPE_NAME => json!({
            "name": "s",
            "object_storage_config": {"name": "b", "key": "k"},
            "gateway": {"min_time": "-2w"},
            "compact": {"retention": {"raw": "30d"}},
        }),
        _ => return None,
    })
}
