//! `thanos_rule`: the rendered ruler (golden), its rule files as Thanos will read them, and
//! validation at the attribute paths of the rule files, Alertmanagers and selectors.

use std::collections::BTreeMap;

use serde_json::json;
use terraform_provider_thanos::resources::rule::{self, Rule};
use terraform_provider_thanos::testing::{Absent, findings};
use thanos_cluster::{LiveObject, ObjectKey};
use thanos_render::rule as render;
use thanos_render::rules::check_rule_file;
use thanos_render::validate::display_path;
use thanos_render::{Invalid, Object};

use crate::support::*;

const SLO: &str = r#"# Service level objectives, evaluated on the global view.
groups:
  - name: slo
    interval: 1m
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job, cluster) (rate(http_requests_total[5m]))
      - alert: HighErrorRate
        expr: job:http_requests:rate5m > 100
        for: 10m
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.job }} in {{ $labels.cluster }} serves {{ $value }} req/s"
"#;

/// A PrometheusRule as read from the cluster.
fn prometheus_rule(namespace: &str, name: &str, spec: serde_json::Value) -> LiveObject {
    LiveObject {
        key: ObjectKey::new("PrometheusRule", namespace, name),
        json: json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"namespace": namespace, "name": name},
            "spec": spec,
        }),
    }
}

fn team_rules() -> Vec<LiveObject> {
    vec![prometheus_rule(
        "team-a",
        "node",
        json!({"groups": [{"name": "node", "partial_response_strategy": "warn", "rules": [
            {"alert": "NodeDown", "expr": "up{job=\"node\"} == 0", "for": "5m",
             "labels": {"severity": "page"}},
        ]}]}),
    )]
}

/// The global ruler of the multi-cluster example: two replicas, HA Alertmanagers found by
/// SRV, one more behind TLS with basic auth, inline SLO rules and one federated
/// PrometheusRule.
fn global() -> serde_json::Value {
    let (selected, warnings) = rule::prometheus_rules(&team_rules());
    assert!(warnings.is_empty(), "{warnings:?}");
    json!({
        "name": "global",
        "namespace": "monitoring",
        "replicas": 2,
        "query_endpoints": ["http://thanosquery-global-operated.monitoring.svc:10902"],
        "alertmanagers": [
            {"url": "dnssrv+http://_web._tcp.alertmanager-operated.monitoring.svc"},
            {
                "url": "https://alertmanager.example.com:9093/am",
                "timeout": "5s",
                "secret_name": "am-ca",
                "client_secret_name": "am-client",
                "server_name": "alertmanager.example.com",
                "basic_auth": {"username": "thanos", "secret_name": "am-auth"},
            },
        ],
        "alert_query_url": "https://thanos.example.com",
        "external_labels": {"ruler": "global"},
        "evaluation_interval": "30s",
        "local_tsdb_retention": "2d",
        "object_storage_config": {"name": "thanos-objstore", "key": "objstore.yaml"},
        "data_volume": {"pvc": {"size": "10Gi"}},
        "rule_groups": {"slo": SLO},
        "prometheus_rule_selector": {"match_labels": {"thanos.paodin.io/federate": "true"}},
        "prometheus_rule_namespace_selector": {},
        "prometheus_rules": selected,
    })
}

fn rendered() -> thanos_render::Rendered {
    render::render(&spec::<Rule>(global()), &ctx())
}

/// Every object of the global ruler. A change here changes users' rulers on the next apply.
#[test]
fn rule_global_ruler() {
    insta::assert_yaml_snapshot!(rendered().to_json());
}

/// What Thanos reads: the canonical form of each rule file, which reads back as the same
/// rules, so the ruler evaluates exactly what the plan checked.
#[test]
fn rule_files_are_canonical_and_read_back_equal() {
    let r = rendered();
    let inline = config_map_data(&r, "thanosrule-global-rules", "slo.yaml");
    assert_eq!(
        check_rule_file(&inline).unwrap(),
        check_rule_file(SLO).unwrap()
    );
    assert!(!inline.contains("# Service"), "comments are not rendered");
    let federated = config_map_data(
        &r,
        "thanosrule-global-prometheus-rules-0",
        "team-a.node.yaml",
    );
    let file = check_rule_file(&federated).unwrap();
    assert_eq!(file.groups[0].rules[0].kind.name(), "NodeDown");
    assert_eq!(
        file.groups[0].partial_response_strategy,
        Some(thanos_render::rules::PartialResponseStrategy::Warn)
    );
    let args = args(&r, "StatefulSet", "thanosrule-global");
    for want in [
        "--rule-file=/etc/thanos/rules/*.yaml",
        "--rule-file=/etc/thanos/prometheus-rules/0/*.yaml",
        "--label=thanos_ruler_replica=\"$(NAME)\"",
        "--label=ruler=\"global\"",
        "--alert.label-drop=thanos_ruler_replica",
        "--query=http://thanosquery-global-operated.monitoring.svc:10902",
        "--alertmanagers.config-file=/etc/thanos/alertmanagers/alertmanagers.yaml",
    ] {
        assert!(args.iter().any(|a| a == want), "{want} not in {args:?}");
    }
}

/// A changed rule rolls the pods (Thanos reads rule files only when it starts); a rule that
/// did not change does not.
#[test]
fn a_changed_rule_changes_the_pod_template() {
    let hash = |config: serde_json::Value| {
        pod_template(
            &render::render(&spec::<Rule>(config), &ctx()),
            "StatefulSet",
            "thanosrule-global",
        )
        .metadata
        .unwrap()
        .annotations
        .unwrap()[thanos_render::meta::CONFIG_HASH]
            .clone()
    };
    let before = hash(global());
    let mut reformatted = global();
    reformatted["rule_groups"]["slo"] =
        json!(SLO.replace("{severity: page}", "\n          severity: page"));
    assert_eq!(hash(reformatted), before, "same rules, other spelling");
    let mut federated = global();
    federated["prometheus_rules"]["team-a/node"] = json!(
        federated["prometheus_rules"]["team-a/node"]
            .as_str()
            .unwrap()
            .replace("5m", "10m")
    );
    assert_ne!(hash(federated), before);
}

/// The selected rules spread over ConfigMaps that each stay within half of Kubernetes' limit,
/// each mounted in its own directory with its own `--rule-file`.
#[test]
fn many_federated_rules_are_sharded() {
    let objects: Vec<LiveObject> = (0..60)
        .map(|i| {
            let rules: Vec<serde_json::Value> = (0..100)
                .map(|j| json!({"record": format!("r_{i}_{j}:sum"), "expr": format!("sum(metric_{j}) by (job, instance, cluster, namespace, pod, container)")}))
                .collect();
            prometheus_rule("team", &format!("rules-{i:02}"), json!({"groups": [{"name": "g", "rules": rules}]}))
        })
        .collect();
    let (selected, warnings) = rule::prometheus_rules(&objects);
    assert!(warnings.is_empty());
    let mut config = global();
    config["prometheus_rules"] = json!(selected);
    let r = render::render(&spec::<Rule>(config), &ctx());
    let shards: Vec<&Object> = r
        .objects
        .iter()
        .filter(|o| o.name().starts_with("thanosrule-global-prometheus-rules-"))
        .collect();
    assert!(shards.len() > 1, "{} shards", shards.len());
    let mut files = 0;
    for (i, o) in shards.iter().enumerate() {
        assert_eq!(o.name(), format!("thanosrule-global-prometheus-rules-{i}"));
        let Object::ConfigMap(cm) = o else { panic!() };
        let data = cm.data.clone().unwrap();
        let size: usize = data.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(size <= render::SHARD_BYTES, "shard {i}: {size} bytes");
        files += data.len();
    }
    assert_eq!(files, 60);
    let args = args(&r, "StatefulSet", "thanosrule-global");
    for i in 0..shards.len() {
        let flag = format!("--rule-file=/etc/thanos/prometheus-rules/{i}/*.yaml");
        assert!(args.contains(&flag), "{flag}");
    }
}

#[test]
fn alertmanagers_config_is_what_thanos_expects() {
    let r = rendered();
    let text = config_map_data(&r, "thanosrule-global-alertmanagers", "alertmanagers.yaml");
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        config,
        json!({"alertmanagers": [
            {"scheme": "http", "static_configs": ["dnssrv+_web._tcp.alertmanager-operated.monitoring.svc"]},
            {
                "scheme": "https",
                "static_configs": ["alertmanager.example.com:9093"],
                "path_prefix": "/am",
                "timeout": "5s",
                "http_config": {
                    "tls_config": {
                        "ca_file": "/etc/thanos/alertmanager-secrets/1/ca/ca.crt",
                        "cert_file": "/etc/thanos/alertmanager-secrets/1/client/tls.crt",
                        "key_file": "/etc/thanos/alertmanager-secrets/1/client/tls.key",
                        "server_name": "alertmanager.example.com",
                    },
                    "basic_auth": {
                        "username": "thanos",
                        "password_file": "/etc/thanos/alertmanager-secrets/1/basic-auth/password",
                    },
                },
            },
        ]})
    );
}

// ---------------------------------------------------------------------------------------------
// Validation.

fn v(config: serde_json::Value) -> Vec<Invalid> {
    findings::<Rule>(&config, Absent::Null)
}

fn at<'a>(found: &'a [Invalid], path: &str) -> &'a Invalid {
    found
        .iter()
        .find(|i| display_path(&i.path) == path)
        .unwrap_or_else(|| panic!("no finding at {path}: {found:#?}"))
}

fn minimal() -> serde_json::Value {
    json!({
        "name": "r",
        "query_endpoints": ["http://q:10902"],
        "rule_groups": {"a": "groups: []\n"},
    })
}

#[test]
fn rule_file_errors_name_the_file_group_rule_and_field() {
    let mut config = minimal();
    config["rule_groups"]["slo"] = json!(SLO.replace("> 100", "> "));
    config["rule_groups"]["durations"] =
        json!("groups:\n- name: d\n  interval: 1 minute\n  rules: []\n");
    let found = v(config);
    let e = at(&found, "rule_groups[\"slo\"]");
    assert!(
        e.detail
            .starts_with("group 0 \"slo\", rule 1 (alert \"HighErrorRate\"), expr (line 9"),
        "{e}"
    );
    let e = at(&found, "rule_groups[\"durations\"]");
    assert!(e.detail.contains("group 0 \"d\", interval"), "{e}");
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn rule_file_names_become_file_names() {
    let mut config = minimal();
    config["rule_groups"][".hidden"] = json!("groups: []\n");
    config["rule_groups"]["a/b"] = json!("groups: []\n");
    let found = v(config);
    at(&found, "rule_groups[\".hidden\"]");
    at(&found, "rule_groups[\"a/b\"]");
}

#[test]
fn a_ruler_needs_rules_and_a_query() {
    let found = v(json!({"name": "r", "query_endpoints": []}));
    at(&found, "query_endpoints");
    assert!(
        found
            .iter()
            .any(|i| i.path.is_empty() && i.summary == "No rules to evaluate"),
        "{found:#?}"
    );
    let found = v(json!({"name": "r", "rule_groups": {"a": "groups: []\n"}}));
    at(&found, "query_endpoints");
    let mut config = minimal();
    config["query_endpoints"] = json!(["http://q:10902", "grpc://q:10901", "http://q:10902"]);
    let found = v(config);
    at(&found, "query_endpoints[1]");
    at(&found, "query_endpoints[2]");
}

#[test]
fn alertmanager_settings_are_checked_where_they_are_written() {
    let mut config = minimal();
    config["alertmanagers"] = json!([
        {"url": "http://am:9093", "secret_name": "ca", "server_name": "am"},
        {"url": "http://am:9093"},
        {"url": "https://user:pw@am:9093"},
        {"url": "https://am:9093", "ca_key": "ca.pem", "timeout": "10 seconds",
         "basic_auth": {"username": "a:b", "secret_name": "auth"}},
    ]);
    let found = v(config);
    for path in [
        "alertmanagers[0].secret_name",
        "alertmanagers[0].server_name",
        "alertmanagers[1].url",
        "alertmanagers[2].url",
        "alertmanagers[3].ca_key",
        "alertmanagers[3].timeout",
        "alertmanagers[3].basic_auth.username",
    ] {
        at(&found, path);
    }
    assert!(
        at(&found, "alertmanagers[2].url")
            .detail
            .contains("basic_auth")
    );
    assert!(
        at(&found, "alertmanagers[1].url")
            .detail
            .contains("alertmanagers[0]")
    );
}

#[test]
fn labels_selectors_and_managed_flags() {
    let mut config = minimal();
    config["external_labels"] = json!({"thanos_ruler_replica": "x", "__x": "y", "ok": "z"});
    config["prometheus_rule_namespace_selector"] = json!({});
    config["extra_args"] = json!([
        "--rule-file=/x.yaml",
        "--label=a=\"b\"",
        "--eval-interval=1m"
    ]);
    let found = v(config);
    at(&found, "external_labels[\"thanos_ruler_replica\"]");
    at(&found, "external_labels[\"__x\"]");
    at(&found, "prometheus_rule_namespace_selector");
    at(&found, "extra_args[0]");
    at(&found, "extra_args[1]");
    assert_eq!(
        found.len(),
        5,
        "--eval-interval may be overridden: {found:#?}"
    );
}

/// The selection is known only once read: until then there is no spec (the plan renders the
/// objects as known after apply), and no error either.
#[test]
fn a_selection_not_read_yet_is_no_error_and_no_spec() {
    let mut config = minimal();
    config["prometheus_rule_selector"] = json!({"match_labels": {"a": "b"}});
    assert_eq!(v(config.clone()), []);
    assert!(terraform_provider_thanos::testing::spec::<Rule>(&config).is_err());
    config["prometheus_rules"] = json!({});
    let spec = spec::<Rule>(config);
    assert_eq!(spec.prometheus_rules, Some(BTreeMap::new()));
}

/// What the example's federated PrometheusRule becomes, and why others are left out.
#[test]
fn prometheus_rules_are_left_out_with_the_reason() {
    let objects = vec![
        prometheus_rule(
            "a",
            "ok",
            json!({"groups": [{"name": "g", "rules": [{"record": "x:y", "expr": "sum(up)"}]}]}),
        ),
        prometheus_rule(
            "a",
            "bad-duration",
            json!({"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up", "for": "5 minutes"}]}]}),
        ),
        prometheus_rule("a", "empty", json!({})),
    ];
    let (selected, warnings) = rule::prometheus_rules(&objects);
    assert_eq!(selected.keys().collect::<Vec<_>>(), ["a/empty", "a/ok"]);
    assert_eq!(selected["a/empty"], "groups: []\n");
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].detail.contains("a/bad-duration")
            && warnings[0].detail.contains("rule 0 (alert \"A\"), for:"),
        "{}",
        warnings[0].detail
    );
    assert_eq!(display_path(&warnings[0].path), "prometheus_rule_selector");
}
