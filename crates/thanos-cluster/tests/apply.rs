//! Server-side apply against the real cluster: the quickstart stack, idempotence, refusing and
//! adopting foreign objects, conflicts with another field manager, and the StatefulSet replace
//! path for immutable fields.

mod common;

use std::collections::BTreeMap;

use common::*;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::{Api, ListParams};
use thanos_cluster::{ApplyOptions, Error, FIELD_MANAGER, WaitOptions};
use thanos_render::Object;

#[tokio::test]
async fn quickstart_applies_and_second_apply_is_a_no_op() {
    let Some(path) = kubeconfig("quickstart_applies_and_second_apply_is_a_no_op") else {
        return;
    };
    let ns = TestNs::new(&path, "quickstart").await;
    let c = &ns.cluster;
    let ing_spec = ingestor_spec(&ns.name, "ingestor", 2, "1Gi");
    let ing = thanos_render::receive::render(&ing_spec, &ctx(), &BTreeMap::new()).unwrap();
    let router_spec = {
        use thanos_render::common::{Common, LabelSelector};
        use thanos_render::receive::{Hashring, Members, ReceiveSpec, RingSelector, Router};
        ReceiveSpec {
            router: Some(Router {
                hashrings_refresh_interval: None,
                reload: Default::default(),
                replication_factor: 1,
                remote_write_ingress: None,
                hard_tenant_hashrings: Vec::new(),
                soft_tenant_hashring: Some(Hashring::new(
                    "test",
                    Vec::new(),
                    Members::Selected(RingSelector {
                        endpoints_selector: LabelSelector {
                            match_labels: BTreeMap::from([(
                                "app.kubernetes.io/instance".to_owned(),
                                "ingestor".to_owned(),
                            )]),
                            match_expressions: Vec::new(),
                        },
                        namespace_selector: None,
                    }),
                )),
            }),
            ..ReceiveSpec::new(Common::new("router", &ns.name))
        }
    };
    let discovered = BTreeMap::from([("test".to_owned(), ingestor_endpoints(&ing_spec))]);
    let router = thanos_render::receive::render(&router_spec, &ctx(), &discovered).unwrap();
    let q = query(&ns.name, "sample", 1, true);
    let all: Vec<Object> = [ing.objects, router.objects, q.objects].concat();

    let first = apply_all(c, &all, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    assert_eq!(first.len(), all.len());
    assert!(first.iter().all(|a| a.created && !a.adopted && !a.replaced));
    for (a, o) in first.iter().zip(&all) {
        assert_eq!(a.json["kind"], o.kind());
        assert_eq!(a.json["metadata"]["name"], o.name());
        assert!(!a.resource_version().is_empty());
        let managers: Vec<&str> = a.json["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["manager"].as_str())
            .collect();
        assert!(managers.contains(&FIELD_MANAGER), "{managers:?}");
    }

    // The workloads roll out (kwok makes pods Ready; PVCs bind).
    let targets = rollout_targets(&first);
    assert!(targets.len() >= 3, "{targets:?}");
    c.wait_for_rollout(&targets, WaitOptions::with_timeout(SHORT), &ns.cancel)
        .await
        .unwrap();

    // Re-applying the same objects changes nothing: the resourceVersions (which status
    // updates during the rollout moved on) stay what they are now. A controller may still
    // write a status between our read and our apply, so a mismatch is re-checked a few times;
    // an apply that really wrote would mismatch every time.
    let mut changed = Vec::new();
    for _ in 0..4 {
        let mut before = Vec::new();
        for o in &all {
            let key = thanos_cluster::ObjectKey::of(o);
            let live = c.get(&key, &ns.cancel).await.unwrap().expect("exists");
            before.push(live.metadata.resource_version.unwrap());
        }
        let second = apply_all(c, &all, ApplyOptions::default(), &ns.cancel)
            .await
            .unwrap();
        assert!(second.iter().all(|b| !b.created));
        changed = before
            .iter()
            .zip(&second)
            .filter(|(rv, b)| rv.as_str() != b.resource_version())
            .map(|(_, b)| b.key.to_string())
            .collect();
        if changed.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(changed.is_empty(), "a no-op apply changed {changed:?}");
    // And every object is in sync.
    for (key, d) in c.drift(&all, &ns.cancel).await.unwrap() {
        assert!(d.is_in_sync(), "{key}: {d}");
    }
}

#[tokio::test]
async fn refuses_foreign_objects_unless_adopting() {
    let Some(path) = kubeconfig("refuses_foreign_objects_unless_adopting") else {
        return;
    };
    let ns = TestNs::new(&path, "adopt").await;
    let q = query(&ns.name, "q", 1, false);
    let cm = q
        .objects
        .iter()
        .find(|o| o.kind() == "ConfigMap")
        .expect("query renders a ConfigMap")
        .clone();
    // Someone else created an object with our name, with kubectl and without our labels.
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            &ns.name,
            "create",
            "configmap",
            cm.name(),
            "--from-literal=foo=bar",
        ],
        None,
    );
    assert!(ok, "{out}");
    let e = apply_all(
        &ns.cluster,
        std::slice::from_ref(&cm),
        ApplyOptions::default(),
        &ns.cancel,
    )
    .await
    .unwrap_err();
    match &e {
        Error::NotOurs {
            kind,
            namespace,
            name,
            ..
        } => {
            assert_eq!(
                (kind.as_str(), namespace.as_str(), name.as_str()),
                ("ConfigMap", ns.name.as_str(), cm.name())
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("adopt_existing = true"), "{e}");
    // One object at a time (a read before the write) judges it the same way.
    let e = ns
        .cluster
        .apply_one(&cm, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotOurs { .. }), "{e:?}");
    // With the whole stack: the step of the ConfigMap fails, so no workload is created that
    // would mount someone else's ConfigMap.
    let e = apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotOurs { .. }), "{e:?}");
    for o in q.objects.iter().filter(|o| o.kind() == "Deployment") {
        let key = thanos_cluster::ObjectKey::of(o);
        assert!(
            ns.cluster.get(&key, &ns.cancel).await.unwrap().is_none(),
            "{key} was created although a ConfigMap before it could not be applied"
        );
    }

    // Labelled as another resource's: still not ours.
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            &ns.name,
            "label",
            "configmap",
            cm.name(),
            "app.kubernetes.io/managed-by=terraform-provider-thanos",
            "app.kubernetes.io/part-of=thanos-query-someone-else",
        ],
        None,
    );
    assert!(ok, "{out}");
    let e = apply_all(
        &ns.cluster,
        std::slice::from_ref(&cm),
        ApplyOptions::default(),
        &ns.cancel,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::NotOurs { .. }), "{e:?}");
    assert!(e.to_string().contains("thanos-query-someone-else"), "{e}");

    // Adopting takes it over: our labels and data, the stray key is kept (not ours to remove).
    let adopt = ApplyOptions {
        adopt_existing: true,
        ..Default::default()
    };
    let applied = apply_all(&ns.cluster, std::slice::from_ref(&cm), adopt, &ns.cancel)
        .await
        .unwrap();
    assert!(applied[0].adopted && !applied[0].created);
    let labels = &applied[0].json["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/part-of"], "thanos-query-q");
    // From now on it is ours: a plain apply works.
    apply_all(
        &ns.cluster,
        std::slice::from_ref(&cm),
        ApplyOptions::default(),
        &ns.cancel,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn conflict_with_another_field_manager() {
    let Some(path) = kubeconfig("conflict_with_another_field_manager") else {
        return;
    };
    let ns = TestNs::new(&path, "conflict").await;
    let q = query(&ns.name, "q", 1, false);
    apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let dep = q.get("Deployment", "thanosquery-q").unwrap().clone();
    // Another manager takes .spec.replicas with a different value (forced).
    let manifest = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: thanosquery-q\n  namespace: {}\nspec:\n  replicas: 3\n",
        ns.name
    );
    let (ok, out) = ns.kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            "-",
        ],
        Some(&manifest),
    );
    assert!(ok, "{out}");

    let e = apply_all(
        &ns.cluster,
        std::slice::from_ref(&dep),
        ApplyOptions::default(),
        &ns.cancel,
    )
    .await
    .unwrap_err();
    let Error::Conflict { object, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(object.name, "thanosquery-q");
    assert!(message.contains(".spec.replicas"), "{message}");
    assert!(message.contains("\"other\""), "{message}");
    assert!(e.to_string().contains("force_conflicts = true"), "{e}");

    let force = ApplyOptions {
        force_conflicts: true,
        ..Default::default()
    };
    let applied = apply_all(&ns.cluster, std::slice::from_ref(&dep), force, &ns.cancel)
        .await
        .unwrap();
    assert_eq!(applied[0].json["spec"]["replicas"], 1);
}

#[tokio::test]
async fn statefulset_claim_template_change_replaces_and_keeps_pvcs() {
    let Some(path) = kubeconfig("statefulset_claim_template_change_replaces_and_keeps_pvcs") else {
        return;
    };
    let ns = TestNs::new(&path, "replace").await;
    let c = &ns.cluster;
    let v1 = ingestor(&ns.name, "ing", 2, "1Gi");
    let applied = apply_all(c, &v1.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    c.wait_for_rollout(
        &rollout_targets(&applied),
        WaitOptions::with_timeout(SHORT),
        &ns.cancel,
    )
    .await
    .unwrap();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(c.client().clone(), &ns.name);
    let before = pvcs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(before.len(), 2, "one PVC per replica");
    let before_uids: Vec<_> = before.iter().map(|p| p.metadata.uid.clone()).collect();
    let sts_before = applied
        .iter()
        .find(|a| a.key.kind == "StatefulSet")
        .unwrap()
        .json["metadata"]["uid"]
        .clone();

    // A bigger claim template: immutable on a StatefulSet.
    let v2 = ingestor(&ns.name, "ing", 2, "2Gi");
    // Before applying, drift (the dry run) already says the claim templates differ.
    let sts2 = v2
        .objects
        .iter()
        .find(|o| o.kind() == "StatefulSet")
        .unwrap();
    match c.drift_one(sts2, &ns.cancel).await.unwrap() {
        thanos_cluster::Drift::Drifted { paths } => {
            assert!(
                paths[0].starts_with("/spec/volumeClaimTemplates (immutable"),
                "{paths:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    let applied = apply_all(c, &v2.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let sts = applied
        .iter()
        .find(|a| a.key.kind == "StatefulSet")
        .unwrap();
    assert!(sts.replaced, "the replace path ran");
    assert_ne!(sts.json["metadata"]["uid"], sts_before, "a new StatefulSet");
    assert_eq!(
        sts.json["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "2Gi"
    );
    c.wait_for_rollout(
        &rollout_targets(&applied),
        WaitOptions::with_timeout(SHORT),
        &ns.cancel,
    )
    .await
    .unwrap();
    // The same PVCs (same uids) are still there: data kept.
    let after = pvcs.list(&ListParams::default()).await.unwrap().items;
    let after_uids: Vec<_> = after.iter().map(|p| p.metadata.uid.clone()).collect();
    assert_eq!(before_uids, after_uids);
    // A second apply of v2 is a plain no-op apply.
    let again = apply_all(c, &v2.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    assert!(again.iter().all(|a| !a.replaced));
}

#[tokio::test]
async fn missing_namespace_is_explained() {
    let Some(path) = kubeconfig("missing_namespace_is_explained") else {
        return;
    };
    let cluster = thanos_cluster::Cluster::connect(&config(&path))
        .await
        .unwrap();
    let q = query("tc-no-such-namespace", "q", 1, false);
    let e = apply_all(
        &cluster,
        &q.objects,
        ApplyOptions::default(),
        &thanos_cluster::CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::NamespaceNotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("tc-no-such-namespace"), "{e}");
}

/// Issue 19: an apply into a namespace that is being deleted fails with advice that fits (wait
/// or move), not the RBAC advice of other 403s. A ConfigMap with a finalizer nobody removes
/// holds the namespace in Terminating for as long as the test needs.
#[tokio::test]
async fn an_apply_into_a_namespace_being_deleted_says_so() {
    let Some(path) = kubeconfig("an_apply_into_a_namespace_being_deleted_says_so") else {
        return;
    };
    let ns = TestNs::new(&path, "terminating").await;
    let hold = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hold\n  namespace: {}\n  finalizers: [\"thanos.paodin.io/test-hold\"]\n",
        ns.name
    );
    let (ok, out) = ns.kubectl(&["apply", "-f", "-"], Some(&hold));
    assert!(ok, "{out}");
    let (ok, out) = ns.kubectl(&["delete", "namespace", &ns.name, "--wait=false"], None);
    assert!(ok, "{out}");
    let q = query(&ns.name, "q", 1, false);
    // The admission plugin reads namespaces from its informer: it may take a moment to see
    // the deletion.
    let mut outcome = Ok(Vec::new());
    for _ in 0..40 {
        outcome = apply_all(&ns.cluster, &q.objects, ApplyOptions::default(), &ns.cancel).await;
        if outcome.is_err() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            &ns.name,
            "patch",
            "configmap",
            "hold",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
        None,
    );
    assert!(ok, "{out}");
    let err = outcome.expect_err("an apply into a terminating namespace fails");
    assert!(matches!(err, Error::NamespaceTerminating { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("is being deleted"), "{message}");
    assert!(!message.contains("RBAC"), "{message}");
}
