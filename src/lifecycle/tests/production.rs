//! The production fields through the lifecycle: a created ServiceAccount and ServiceMonitors
//! are owned objects (applied in order, pruned when their block goes), a query frontend comes
//! and goes with its block, and a cluster without prometheus-operator's CRDs is told about at
//! plan and stops the apply before it writes anything.

use super::*;

fn production_query() -> serde_json::Value {
    json!({
        "name": "q",
        "namespace": "mon",
        "service_account": {"create": true, "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/thanos"}},
        "service_monitor": {"interval": "30s", "labels": {"release": "prom"}},
        "frontend": {"split_interval": "12h"},
        "http_ingress": {"host": "q.example.com"},
    })
}

fn applied_kinds(c: &FakeCluster) -> Vec<String> {
    c.calls()
        .iter()
        .filter_map(|l| l.strip_prefix("apply "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn service_account_first_service_monitors_after_their_services() {
    let c = cluster();
    let r = resource::<Query>(Some(c.clone()));
    let (state, d) = apply(&r, production_query(), None).await;
    assert!(d.is_empty(), "{d:?}");
    let state = state.unwrap();
    assert_eq!(
        state.get_attr("http_url"),
        Some(&Value::from(
            "http://thanosquery-q-frontend-operated.mon.svc:10902"
        ))
    );
    assert_eq!(
        applied_kinds(&c),
        [
            "ServiceAccount mon/thanosquery-q",
            "ConfigMap mon/thanosquery-q-store-sd",
            "Service mon/thanosquery-q-operated",
            "Service mon/thanosquery-q-frontend-operated",
            "Deployment mon/thanosquery-q",
            "Deployment mon/thanosquery-q-frontend",
            "Ingress mon/thanosquery-q-http",
            "ServiceMonitor mon/thanosquery-q",
            "ServiceMonitor mon/thanosquery-q-frontend",
            "ConfigMap mon/thanosquery-q-terraform",
        ]
    );
    let ingress = c
        .objects
        .lock()
        .unwrap()
        .get(&ObjectKey::new("Ingress", "mon", "thanosquery-q-http"))
        .cloned()
        .unwrap();
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "thanosquery-q-frontend-operated",
        "the HTTP Ingress serves the frontend"
    );

    // Without the blocks: the frontend, the ServiceMonitors and the ServiceAccount are pruned,
    // and http_url and the Ingress are the querier's again.
    let plain = json!({"name": "q", "namespace": "mon", "http_ingress": {"host": "q.example.com"}});
    let (state, d) = apply(&r, plain, Some(state)).await;
    assert!(d.is_empty(), "{d:?}");
    let left: Vec<String> = c.keys().iter().map(ToString::to_string).collect();
    for gone in ["ServiceAccount", "ServiceMonitor", "thanosquery-q-frontend"] {
        assert!(!left.iter().any(|k| k.contains(gone)), "{gone}: {left:?}");
    }
    assert_eq!(
        state.unwrap().get_attr("http_url"),
        Some(&Value::from("http://thanosquery-q-operated.mon.svc:10902"))
    );
}

#[tokio::test]
async fn a_cluster_without_the_service_monitor_crd_warns_at_plan_and_stops_the_apply() {
    let c = cluster();
    c.unserved.lock().unwrap().push("ServiceMonitor".into());
    let r = resource::<Query>(Some(c.clone()));
    let (planned, config, d) = plan(&r, production_query(), None).await;
    let warning = d
        .iter()
        .find(|d| d.summary.contains("does not serve ServiceMonitor"))
        .unwrap_or_else(|| panic!("{d:?}"));
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(
        warning.path,
        Some(AttributePath::root().attr("service_monitor"))
    );
    assert!(
        warning.detail.contains("prometheus-operator-crds"),
        "{}",
        warning.detail
    );
    let response = create_as_planned(&r, planned, config).await;
    let e = errors(&response.diagnostics);
    assert!(
        e.len() == 1 && e[0].contains("Nothing was applied"),
        "{e:?}"
    );
    assert!(response.state.is_none());
    assert!(applied_kinds(&c).is_empty(), "{:?}", c.calls());
    // Offline, the plan cannot know: it says nothing; the apply does.
    let (_, _, d) = plan(&resource::<Query>(None), production_query(), None).await;
    assert!(d.is_empty(), "{d:?}");
}

#[tokio::test]
async fn an_existing_service_account_is_named_not_created() {
    let c = cluster();
    let r = resource::<Storage>(Some(c.clone()));
    let config = json!({
        "name": "s",
        "namespace": "mon",
        "object_storage_config": {"name": "objstore", "key": "objstore.yaml"},
        "service_account": {"name": "thanos", "automount_token": true},
        "gateway": {},
    });
    let (_, d) = apply(&r, config, None).await;
    assert!(d.is_empty(), "{d:?}");
    assert!(!c.keys().iter().any(|k| k.kind == "ServiceAccount"));
    let sts = c
        .objects
        .lock()
        .unwrap()
        .get(&ObjectKey::new(
            "StatefulSet",
            "mon",
            "thanosstorage-s-gateway",
        ))
        .cloned()
        .unwrap();
    let pod = &sts["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "thanos");
    assert_eq!(pod["automountServiceAccountToken"], true);
}
