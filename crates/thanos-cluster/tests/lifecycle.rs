//! Inventory, prune and delete against the real cluster.

mod common;

use std::time::{Duration, Instant};

use common::*;
use thanos_cluster::{ApplyOptions, ObjectKey, PvcPolicy, WaitOptions};
use thanos_render::meta::Kind;

/// Bystanders: an unlabelled ConfigMap, one of another resource, one with only managed-by.
const BYSTANDERS: [(&str, &str); 3] = [
    ("bystander", ""),
    (
        "other-resource",
        "app.kubernetes.io/managed-by=terraform-provider-thanos,app.kubernetes.io/part-of=thanos-query-other",
    ),
    (
        "half-labelled",
        "app.kubernetes.io/managed-by=terraform-provider-thanos",
    ),
];

/// A query `q` with an ingress applied in `ns`, beside the [`BYSTANDERS`]; what it rendered.
async fn query_among_bystanders(ns: &TestNs) -> thanos_render::Rendered {
    let n = ns.name.as_str();
    let with_ingress = query(n, "q", 1, true);
    apply_all(
        &ns.cluster,
        &with_ingress.objects,
        ApplyOptions::default(),
        &ns.cancel,
    )
    .await
    .unwrap();
    for (name, labels) in BYSTANDERS {
        let (ok, out) = ns.kubectl(&["-n", n, "create", "configmap", name], None);
        assert!(ok, "{out}");
        if !labels.is_empty() {
            let mut args = vec!["-n", n, "label", "configmap", name];
            args.extend(labels.split(','));
            let (ok, out) = ns.kubectl(&args, None);
            assert!(ok, "{out}");
        }
    }
    with_ingress
}

fn bystanders_survive(ns: &TestNs) {
    for (name, _) in BYSTANDERS {
        let (ok, out) = ns.kubectl(&["-n", &ns.name, "get", "configmap", name], None);
        assert!(ok, "{name} must survive: {out}");
    }
}

#[tokio::test]
async fn prune_removes_only_unrendered_owned_objects() {
    let Some(path) = kubeconfig("prune_removes_only_unrendered_owned_objects") else {
        return;
    };
    let ns = TestNs::new(&path, "prune").await;
    let n = ns.name.as_str();
    let c = &ns.cluster;
    let with_ingress = query_among_bystanders(&ns).await;
    let owner = owner(Kind::Query, "q", n);
    let inv = c.inventory(&owner, &ns.cancel).await.unwrap();
    let mut inv_keys: Vec<ObjectKey> = inv.iter().map(|o| o.key.clone()).collect();
    let mut rendered: Vec<ObjectKey> = with_ingress.objects.iter().map(ObjectKey::of).collect();
    inv_keys.sort();
    rendered.sort();
    assert_eq!(inv_keys, rendered, "inventory is exactly what we rendered");

    // The ingress is no longer rendered.
    let without = query(n, "q", 1, false);
    assert_eq!(without.objects.len() + 1, with_ingress.objects.len());
    apply_all(c, &without.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    let keep: Vec<ObjectKey> = without.objects.iter().map(ObjectKey::of).collect();
    let deleted = c
        .prune(&owner, &keep, PvcPolicy::Delete, SHORT, &ns.cancel)
        .await
        .unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].kind, "Ingress");
    let mut left: Vec<ObjectKey> = c
        .inventory(&owner, &ns.cancel)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    left.sort();
    let mut keep_sorted = keep.clone();
    keep_sorted.sort();
    assert_eq!(left, keep_sorted);
    bystanders_survive(&ns);
    // Nothing left to prune: a no-op.
    let again = c
        .prune(&owner, &keep, PvcPolicy::Delete, SHORT, &ns.cancel)
        .await
        .unwrap();
    assert!(again.is_empty());
}

/// An apply learns what its resource owns from the listing its writes make anyway (every
/// object of the kinds it writes) and lists only the other kinds by the owner's labels: the
/// keys are exactly those `owned_keys` finds with its own LISTs, bystanders of a written kind
/// (unlabelled, another resource's, half labelled) are not among them, and the prune of those
/// keys removes what is no longer rendered and nothing else.
#[tokio::test]
async fn an_apply_lists_what_its_resource_owns_with_its_writes() {
    let Some(path) = kubeconfig("an_apply_lists_what_its_resource_owns_with_its_writes") else {
        return;
    };
    let ns = TestNs::new(&path, "prune-listed").await;
    let n = ns.name.as_str();
    let c = &ns.cluster;
    let with_ingress = query_among_bystanders(&ns).await;
    let owner = owner(Kind::Query, "q", n);
    let listed_alone = c.owned_keys(&owner, &ns.cancel).await.unwrap();

    // The ingress is no longer rendered, so its kind is listed by the labels; the ConfigMaps
    // come from the apply's own listing.
    let without = query(n, "q", 1, false);
    assert!(without.objects.iter().any(|o| o.kind() == "ConfigMap"));
    let writes: Vec<_> = without
        .objects
        .iter()
        .map(|o| (o, ApplyOptions::default()))
        .collect();
    let (applied, owned) = c
        .apply_objects_listing_owned(&writes, &owner, &ns.cancel)
        .await
        .unwrap();
    assert_eq!(applied.len(), without.objects.len());
    let owned = owned.unwrap();
    assert_eq!(owned, listed_alone);
    let mut rendered_before: Vec<ObjectKey> =
        with_ingress.objects.iter().map(ObjectKey::of).collect();
    let mut owned_sorted = owned.clone();
    rendered_before.sort();
    owned_sorted.sort();
    assert_eq!(owned_sorted, rendered_before);

    let keep: Vec<ObjectKey> = without.objects.iter().map(ObjectKey::of).collect();
    let deleted = c
        .prune_listed(&owned, &keep, PvcPolicy::Delete, SHORT, &ns.cancel)
        .await
        .unwrap();
    assert_eq!(
        deleted.iter().map(|k| k.kind.as_str()).collect::<Vec<_>>(),
        ["Ingress"]
    );
    bystanders_survive(&ns);
}

#[tokio::test]
async fn delete_waits_until_gone_and_respects_pvc_retention() {
    let Some(path) = kubeconfig("delete_waits_until_gone_and_respects_pvc_retention") else {
        return;
    };
    let ns = TestNs::new(&path, "delete").await;
    let n = ns.name.as_str();
    let c = &ns.cluster;
    let ing = ingestor(n, "ing", 2, "1Gi");
    let applied = apply_all(c, &ing.objects, ApplyOptions::default(), &ns.cancel)
        .await
        .unwrap();
    c.wait_for_rollout(
        &rollout_targets(&applied),
        WaitOptions::with_timeout(SHORT),
        &ns.cancel,
    )
    .await
    .unwrap();
    let owner = owner(Kind::Receive, "ing", n);
    let inv = c.inventory(&owner, &ns.cancel).await.unwrap();
    let pvcs = inv
        .iter()
        .filter(|o| o.key.kind == "PersistentVolumeClaim")
        .count();
    assert_eq!(pvcs, 2, "the claim templates' labels make the PVCs ours");

    // Scaling down with prune never touches PVCs of a StatefulSet we keep.
    let keep: Vec<ObjectKey> = ing.objects.iter().map(ObjectKey::of).collect();
    let deleted = c
        .prune(&owner, &keep, PvcPolicy::Delete, SHORT, &ns.cancel)
        .await
        .unwrap();
    assert!(deleted.is_empty(), "{deleted:?}");

    // Retain: everything but the PVCs goes, and is gone when delete_all returns.
    let deleted = c
        .delete_all(&owner, PvcPolicy::Retain, SHORT, &ns.cancel)
        .await
        .unwrap();
    assert_eq!(deleted.len(), ing.objects.len());
    let left = c.inventory(&owner, &ns.cancel).await.unwrap();
    assert!(
        left.iter().all(|o| o.key.kind == "PersistentVolumeClaim"),
        "{left:?}"
    );
    assert_eq!(left.len(), 2);
    // No pod is left either (foreground deletion).
    let (ok, out) = ns.kubectl(&["-n", n, "get", "pods", "-o", "name"], None);
    assert!(ok && out.trim().is_empty(), "pods left: {out}");

    // Delete: the PVCs go too.
    let start = Instant::now();
    let deleted = c
        .delete_all(&owner, PvcPolicy::Delete, SHORT, &ns.cancel)
        .await
        .unwrap();
    assert_eq!(deleted.len(), 2);
    assert!(c.inventory(&owner, &ns.cancel).await.unwrap().is_empty());
    assert!(start.elapsed() < SHORT);
    // Deleting what is already gone is fine.
    assert!(
        c.delete_all(
            &owner,
            PvcPolicy::Delete,
            Duration::from_secs(5),
            &ns.cancel
        )
        .await
        .unwrap()
        .is_empty()
    );
}

#[tokio::test]
async fn apply_waits_for_a_terminating_object_then_recreates_it() {
    let Some(path) = kubeconfig("apply_waits_for_a_terminating_object_then_recreates_it") else {
        return;
    };
    let ns = TestNs::new(&path, "terminating").await;
    let n = ns.name.as_str();
    let q = query(n, "q", 1, false);
    let cm = q
        .objects
        .iter()
        .find(|o| o.kind() == "ConfigMap")
        .unwrap()
        .clone();
    apply_all(
        &ns.cluster,
        std::slice::from_ref(&cm),
        ApplyOptions::default(),
        &ns.cancel,
    )
    .await
    .unwrap();
    // A finalizer holds the ConfigMap in Terminating after its deletion.
    let (ok, out) = ns.kubectl(
        &[
            "-n",
            n,
            "patch",
            "configmap",
            cm.name(),
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
        ],
        None,
    );
    assert!(ok, "{out}");
    let (ok, out) = ns.kubectl(
        &["-n", n, "delete", "configmap", cm.name(), "--wait=false"],
        None,
    );
    assert!(ok, "{out}");
    let release = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let (ok, out) = ns.kubectl(
            &[
                "-n",
                n,
                "patch",
                "configmap",
                cm.name(),
                "--type=merge",
                "-p",
                r#"{"metadata":{"finalizers":null}}"#,
            ],
            None,
        );
        assert!(ok, "{out}");
    };
    let start = Instant::now();
    let (_, applied) = tokio::join!(
        release,
        apply_all(
            &ns.cluster,
            std::slice::from_ref(&cm),
            ApplyOptions::default(),
            &ns.cancel
        )
    );
    let applied = applied.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(1400));
    assert!(applied[0].created, "re-created after the old one was gone");
    assert!(applied[0].json["metadata"]["deletionTimestamp"].is_null());
}
