//! Drift detection against the real cluster: no false drift from defaulting, quantity
//! normalisation or other managers' fields; real drift on fields we render; Missing.

mod common;

use common::*;
use thanos_cluster::{ApplyOptions, Drift, LiveObject, ObjectKey};
use thanos_render::Object;

fn query_with_quantities(ns: &str) -> thanos_render::Rendered {
    // Quantities the server rewrites (1000m -> 1, 1024Mi -> 1Gi) must not look like drift.
    let mut spec = query_spec(ns, "q", 2);
    spec.resources = thanos_render::common::Resources {
        requests: [("cpu", "1000m"), ("memory", "1024Mi")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into(),
        limits: [("cpu", "2000m"), ("memory", "2048Mi")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into(),
    };
    thanos_render::query::render(&spec, &ctx()).unwrap()
}

async fn drift_of(ns: &TestNs, o: &Object) -> Drift {
    ns.cluster.drift_one(o, &ns.cancel).await.unwrap()
}

#[tokio::test]
async fn drift_is_truthful() {
    let Some(path) = kubeconfig("drift_is_truthful") else {
        return;
    };
    let ns = TestNs::new(&path, "drift").await;
    let n = ns.name.as_str();
    let q = query_with_quantities(n);
    let ing = ingestor(n, "ing", 1, "1Gi");
    let all: Vec<Object> = [q.objects.clone(), ing.objects.clone()].concat();

    // Not applied yet: Missing.
    let dep = q.get("Deployment", "thanosquery-q").unwrap().clone();
    assert_eq!(drift_of(&ns, &dep).await, Drift::Missing);

    apply_all(&ns.cluster, &all, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    // Freshly applied (server defaults everywhere, normalised quantities, a Service with an
    // allocated clusterIP, a StatefulSet with claim templates): all in sync.
    for (key, d) in ns.cluster.drift(&all, &ns.cancel).await.unwrap() {
        assert_eq!(d, Drift::InSync, "{key}");
    }

    // Someone else adds an annotation and a label we do not render: not drift. Also when the
    // annotation lands between our read and our dry run (as the deployment controller's
    // revision annotation does right after a create): the read is stale, not the object.
    let stale = ns
        .cluster
        .get(&ObjectKey::of(&dep), &ns.cancel)
        .await
        .unwrap()
        .unwrap();
    let stale = LiveObject {
        key: ObjectKey::of(&dep),
        json: serde_json::to_value(&stale).unwrap(),
    };
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            n,
            "annotate",
            "deployment",
            "thanosquery-q",
            "example.com/owner=team-a",
        ],
        None,
    );
    assert!(ok, "{out}");
    let judged = ns
        .cluster
        .drift_known(std::slice::from_ref(&dep), &[stale], &ns.cancel)
        .await
        .unwrap();
    assert_eq!(judged[0].1, Drift::InSync, "judged from a stale read");
    let svc = q
        .objects
        .iter()
        .find(|o| o.kind() == "Service")
        .unwrap()
        .clone();
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            n,
            "label",
            "service",
            svc.name(),
            "example.com/extra=yes",
        ],
        None,
    );
    assert!(ok, "{out}");
    assert_eq!(drift_of(&ns, &dep).await, Drift::InSync);
    assert_eq!(drift_of(&ns, &svc).await, Drift::InSync);

    // kubectl scale: a field we own changed.
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            n,
            "scale",
            "deployment",
            "thanosquery-q",
            "--replicas=5",
        ],
        None,
    );
    assert!(ok, "{out}");
    match drift_of(&ns, &dep).await {
        Drift::Drifted { paths } => {
            assert!(paths.contains(&"/spec/replicas".to_owned()), "{paths:?}")
        }
        other => panic!("{other:?}"),
    }

    // Container args edited (as kubectl edit would, through an update).
    let sts = ing
        .objects
        .iter()
        .find(|o| o.kind() == "StatefulSet")
        .unwrap()
        .clone();
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            n,
            "patch",
            "statefulset",
            sts.name(),
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--log.level=debug"}]"#,
        ],
        None,
    );
    assert!(ok, "{out}");
    match drift_of(&ns, &sts).await {
        Drift::Drifted { paths } => assert!(
            paths
                .iter()
                .any(|p| p.starts_with("/spec/template/spec/containers/0/args")),
            "{paths:?}"
        ),
        other => panic!("{other:?}"),
    }

    // A ConfigMap data key changed.
    let cm = all
        .iter()
        .find(|o| o.kind() == "ConfigMap")
        .expect("a ConfigMap")
        .clone();
    let key = match &cm {
        Object::ConfigMap(c) => c.data.as_ref().unwrap().keys().next().unwrap().clone(),
        _ => unreachable!(),
    };
    let patch = serde_json::json!({ "data": { key.clone(): "tampered" } }).to_string();
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            n,
            "patch",
            "configmap",
            cm.name(),
            "--type=merge",
            "-p",
            &patch,
        ],
        None,
    );
    assert!(ok, "{out}");
    match drift_of(&ns, &cm).await {
        Drift::Drifted { paths } => assert_eq!(paths, vec![format!("/data/{key}")]),
        other => panic!("{other:?}"),
    }

    // Deleted out of band: Missing.
    let (ok, out) = ns.kubectl(
        &["-n", n, "delete", "service", svc.name(), "--wait=true"],
        None,
    );
    assert!(ok, "{out}");
    assert_eq!(drift_of(&ns, &svc).await, Drift::Missing);

    // Re-applying (force, as after a plan that shows the drift) heals everything.
    apply_all(
        &ns.cluster,
        &all,
        ApplyOptions {
            force_conflicts: true,
            ..Default::default()
        },
        &ns.cancel,
    )
    .await
    .unwrap();
    for (key, d) in ns.cluster.drift(&all, &ns.cancel).await.unwrap() {
        assert_eq!(d, Drift::InSync, "{key}");
    }
    // The foreign annotation survived our apply.
    let live = ns
        .cluster
        .get(&ObjectKey::of(&dep), &ns.cancel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        live.metadata.annotations.unwrap()["example.com/owner"],
        "team-a"
    );
}
