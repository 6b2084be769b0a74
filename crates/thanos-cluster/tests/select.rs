//! Selecting objects of other tools against the real cluster (prometheus-operator's
//! PrometheusRule CRD, installed by `scripts/cluster.sh up`): by labels and set-based
//! requirements, in the own namespace or in the namespaces a namespace selector picks; a kind
//! the cluster does not serve is `None`.

mod common;

use std::collections::BTreeMap;

use common::*;
use thanos_cluster::{ForeignKind, Selection};
use thanos_render::common::{LabelSelector, LabelSelectorRequirement};

const PROMETHEUS_RULE: ForeignKind = ForeignKind {
    group: "monitoring.coreos.com",
    version: "v1",
    kind: "PrometheusRule",
    plural: "prometheusrules",
};

fn rule(ns: &str, name: &str, team: &str) -> String {
    format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    federate: \"true\"\n    team: {team}\nspec:\n  groups:\n    - name: {name}\n      rules:\n        - record: a:b\n          expr: sum(up)\n"
    )
}

fn names(found: &[thanos_cluster::LiveObject]) -> Vec<String> {
    found
        .iter()
        .map(|o| format!("{}/{}", o.key.namespace, o.key.name))
        .collect()
}

#[tokio::test]
async fn selects_prometheus_rules_by_labels_and_namespaces() {
    let Some(path) = kubeconfig("selects_prometheus_rules_by_labels_and_namespaces") else {
        return;
    };
    let marker = format!("m{}", std::process::id());
    let marked = BTreeMap::from([("thanos-cluster-test/select".to_owned(), marker.clone())]);
    let a = TestNs::with_labels(&path, "select-a", marked.clone()).await;
    let b = TestNs::with_labels(&path, "select-b", marked).await;
    let unmarked = TestNs::new(&path, "select-c").await;
    for (ns, name, team) in [
        (&a, "node", "infra"),
        (&a, "api", "web"),
        (&b, "disk", "infra"),
        (&unmarked, "other", "infra"),
    ] {
        let (ok, out) = ns.kubectl(&["apply", "-f", "-"], Some(&rule(&ns.name, name, team)));
        assert!(ok, "{out}");
    }
    let c = &a.cluster;
    let federate = LabelSelector {
        match_labels: BTreeMap::from([("federate".to_owned(), "true".to_owned())]),
        match_expressions: vec![LabelSelectorRequirement {
            key: "team".into(),
            operator: "In".into(),
            values: vec!["infra".into()],
        }],
    };
    // The own namespace: the expression is checked too.
    let own = Selection {
        kind: PROMETHEUS_RULE,
        selector: federate.clone(),
        namespace_selector: None,
    };
    let found = c.select(&a.name, &own, &a.cancel).await.unwrap().unwrap();
    assert_eq!(names(&found), [format!("{}/node", a.name)]);
    assert_eq!(found[0].json["kind"], "PrometheusRule");
    assert_eq!(found[0].json["spec"]["groups"][0]["name"], "node");

    // The marked namespaces, from any namespace, sorted by namespace and name.
    let marked = Selection {
        kind: PROMETHEUS_RULE,
        selector: federate,
        namespace_selector: Some(LabelSelector {
            match_labels: BTreeMap::from([("thanos-cluster-test/select".to_owned(), marker)]),
            match_expressions: Vec::new(),
        }),
    };
    let found = c
        .select("default", &marked, &a.cancel)
        .await
        .unwrap()
        .unwrap();
    let mut want = vec![format!("{}/node", a.name), format!("{}/disk", b.name)];
    want.sort();
    assert_eq!(names(&found), want);

    // A kind the cluster does not serve.
    let unserved = Selection {
        kind: ForeignKind {
            group: "example.invalid",
            version: "v1",
            kind: "Nothing",
            plural: "nothings",
        },
        ..own
    };
    assert!(
        c.select(&a.name, &unserved, &a.cancel)
            .await
            .unwrap()
            .is_none()
    );
}
